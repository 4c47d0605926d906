//! Importing a TSRPC service proto (`serviceProto.ts` as `tsrpc-cli proto` writes it) as a
//! typed Rust service.
//!
//! - [`proto`]: the proto as typed data, read and written back byte for byte (also the format
//!   of a proto lock);
//! - [`json`]: the ordered JSON under it, with JavaScript's number and string formatting.

pub mod json;
pub mod proto;

#[cfg(test)]
mod tests;
