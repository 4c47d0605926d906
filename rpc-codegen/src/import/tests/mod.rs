//! Tests of the proto model (reader and writers) and of the resolver.

mod json;
mod proto;
mod resolve;
