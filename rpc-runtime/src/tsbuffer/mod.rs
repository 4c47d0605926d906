//! TSBuffer, TSRPC's binary encoding (tsbuffer 2.2.23), driven by the service proto at run
//! time.
//!
//! A [`Proto`] is the service proto (`TSRPC_PROTO`, the JSON `tsrpc-cli proto` writes) read and
//! resolved once: references followed, `T['k']` and `keyof T` replaced by what they denote, and
//! each interface, `Pick`, `Omit`, `Partial` and `Overwrite` compiled into a plan of id-blocks.
//! [`Proto::encode`] then writes a Rust value straight from its `Serialize` impl and
//! [`Proto::decode`] reads one straight into its `Deserialize` impl: no `serde_json::Value`
//! or other tree in between. The bytes are tsbuffer's, byte for byte (proven on the
//! kitchen-sink corpus in `tests/kitchen-sink`); what is read is what a TSRPC server reads,
//! with the deliberate differences listed in `decode`.
//!
//! The Rust types are the ones the `service` attribute generates (or imports): struct fields
//! are matched to properties by their serialized names, so the field order does not matter.
//! The runtime's value types ([`crate::types`]) tell the binary form apart through serde's
//! `is_human_readable` (`false` here): a `Date` is written as a varint of milliseconds, bytes
//! and typed arrays as raw bytes, an `ObjectId` as its 12 bytes.
//!
//! [`transport`] holds TSRPC's frame wrappers, `ServerInputData` and `ServerOutputData`.
//!
//! Bad input never panics; every error says what and where ([`Error::detail`]) for logs,
//! while a TSRPC server answers the peer only [`INVALID_BUFFER`].

mod build;
mod decode;
mod encode;
mod error;
mod schema;
pub mod transport;
mod wire;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use self::error::{Error, ErrorKind, INVALID_BUFFER};
pub use self::schema::{Proto, SchemaId, ServiceSchemas};

use self::encode::{Encoder, Outcome};
use self::schema::NullMode;

impl Proto {
    /// Encodes `value` as a `schema` value.
    ///
    /// ```
    /// use rpc_runtime::__tsbuffer::Proto;
    /// let proto = Proto::parse(r#"{"types": {"a/P": {"type": "Interface", "properties": [
    ///     {"id": 0, "name": "x", "type": {"type": "Number", "scalarType": "uint"}}]}}}"#)?;
    /// #[derive(serde::Serialize)]
    /// struct P { x: u64 }
    /// let p = proto.schema("a/P").unwrap();
    /// assert_eq!(proto.encode(p, &P { x: 300 })?, [0x01, 0x29, 0xac, 0x02]);
    /// # Ok::<(), rpc_runtime::__tsbuffer::Error>(())
    /// ```
    pub fn encode<T: ?Sized + Serialize>(
        &self,
        schema: SchemaId,
        value: &T,
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(schema, value, &mut out)?;
        Ok(out)
    }

    /// Appends the encoding of `value` to `out` (which is left as it was on error).
    pub fn encode_into<T: ?Sized + Serialize>(
        &self,
        schema: SchemaId,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        let mut enc = Encoder::new(self, std::mem::take(out));
        let r = enc.write_value(value, schema.0, NullMode::Null, None);
        *out = enc.finish();
        match r {
            Ok(Outcome::Absent) => {
                out.truncate(start);
                Err(Error::encode("the value is undefined"))
            }
            Ok(_) => Ok(()),
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Decodes a `schema` value from `bytes` (bytes after the value are ignored, as
    /// tsbuffer ignores them).
    ///
    /// ```
    /// use rpc_runtime::__tsbuffer::Proto;
    /// let proto = Proto::parse(r#"{"types": {"a/P": {"type": "Interface", "properties": [
    ///     {"id": 0, "name": "x", "type": {"type": "Number", "scalarType": "uint"}}]}}}"#)?;
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct P { x: u64 }
    /// let p = proto.schema("a/P").unwrap();
    /// assert_eq!(proto.decode::<P>(p, &[0x01, 0x29, 0xac, 0x02])?, P { x: 300 });
    /// assert!(proto.decode::<P>(p, &[0x01, 0x29]).is_err());
    /// # Ok::<(), rpc_runtime::__tsbuffer::Error>(())
    /// ```
    pub fn decode<'de, T: Deserialize<'de>>(
        &self,
        schema: SchemaId,
        bytes: &'de [u8],
    ) -> Result<T, Error> {
        decode::decode(self, schema.0, bytes)
    }
}

/// A service's proto, read and resolved the first time binary mode needs it, then shared: a
/// `static` beside the service's `TSRPC_PROTO`.
///
/// ```
/// use rpc_runtime::__tsbuffer::LazyProto;
/// static PROTO: LazyProto = LazyProto::new(r#"{"services": [], "types": {}}"#);
/// let first = PROTO.get().unwrap();
/// assert!(std::ptr::eq(first, PROTO.get().unwrap()));
/// ```
#[derive(Debug)]
pub struct LazyProto {
    json: &'static str,
    cell: OnceLock<Result<Proto, Error>>,
}

impl LazyProto {
    /// The proto in `json` (read on first use).
    pub const fn new(json: &'static str) -> Self {
        LazyProto {
            json,
            cell: OnceLock::new(),
        }
    }

    /// The proto, or why it cannot be read (the same answer every time).
    pub fn get(&self) -> Result<&Proto, &Error> {
        self.cell.get_or_init(|| Proto::parse(self.json)).as_ref()
    }
}
