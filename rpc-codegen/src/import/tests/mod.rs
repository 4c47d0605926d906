//! Tests of the proto model (reader and writers) and of the resolver.

mod proto;
mod resolve;
