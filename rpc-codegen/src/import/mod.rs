//! Importing a TSRPC service proto (`serviceProto.ts` as `tsrpc-cli proto` writes it) as a
//! typed Rust service.
//!
//! - [`proto`]: the proto as typed data, read and written back byte for byte (also the format
//!   of a proto lock);
//! - [`json`]: the ordered JSON under it, with JavaScript's number and string formatting;
//! - `resolve`: TypeScript's type operators (`extends`, `Pick`, `keyof`, ..) worked out;
//! - [`rust`]: the proto as an in-memory Rust protocol folder;
//! - [`files`]: that folder written to disk with its lock (`rpc-codegen import`).

pub mod files;
pub mod json;
pub mod proto;
pub(crate) mod resolve;
pub mod rust;
pub(crate) mod service;

#[cfg(test)]
mod tests;
