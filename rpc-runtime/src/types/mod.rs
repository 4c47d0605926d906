//! Value types for the TypeScript types that have no plain Rust twin, so that an imported TSRPC
//! service (`#[service(tsrpc_proto = "..")]`) sends exactly the JSON TSRPC sends:
//!
//! | TypeScript | Rust | JSON |
//! | --- | --- | --- |
//! | `ObjectId` (mongodb / bson) | [`ObjectId`] | 24 lower-case hex digits |
//! | `Date` | [`Date`] (epoch milliseconds) | `"2024-03-01T12:34:56.789Z"`, as `toISOString` |
//! | `Uint8Array`, `ArrayBuffer` | [`Bytes`] | base64 |
//! | `Float32Array`, `Int16Array`, .. | [`TypedArray`] (`Float32Array` = `TypedArray<f32>`, ..) | base64 of the little-endian bytes |
//! | `{ [key: string]: T }` | [`JsMap`] | an object, keys in JavaScript's order |
//! | a literal `2`, `true` | [`LitInt`]`<2>`, [`LitBool`]`<true>` | `2`, `true` (and nothing else is accepted) |
//! | `x: T \| null` | [`Nullable`]`<T>` (`Option<T>`, written `null` when `None`) | `null` or the value |
//! | `x?: T \| null` | `Option<Option<T>>` with [`nullable`] | absent, `null` or the value |
//! | `any`, `unknown`, `object` | [`JsonValue`] | any JSON, object keys in JavaScript's order |
//!
//! Each is `Serialize`, `Deserialize` and `JsonSchema`; decoding refuses what TSRPC's
//! validator refuses (a 23-digit ObjectId, base64 with a stray character, an impossible date).
//!
//! For a binary format (a serializer whose `is_human_readable` is `false`, as TSBuffer's is) a
//! `Date` serializes as its milliseconds, `Bytes` and the typed arrays as their raw
//! (little-endian) bytes and an `ObjectId` as its 12 bytes; each reads either form, told apart
//! by how it arrives (text or bytes), never by guessing from the content.

mod bytes;
mod date;
mod js_map;
mod json_value;
mod literal;
mod object_id;

pub use self::bytes::{
    Bytes, Float32Array, Float64Array, Int16Array, Int32Array, Int8Array, TypedArray, TypedElement,
    Uint16Array, Uint32Array,
};
pub use self::date::{Date, DateError};
pub use self::js_map::JsMap;
pub use self::json_value::JsonValue;
pub use self::literal::{nullable, LitBool, LitInt};
pub use self::object_id::{ObjectId, ObjectIdError};

/// A field of type `T | null` (not optional): `None` is written `null`, where an optional
/// field's `None` is left out. An alias, so that it reads as what it means (and so that the
/// protocol-folder check, which refuses an `Option` field that serde would write as `null`,
/// lets it through: here `null` is the point). Declare the field with `#[serde(default)]`: an
/// absent field reads as `null`, as TSRPC's validator takes it.
pub type Nullable<T> = Option<T>;
