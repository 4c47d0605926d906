//! A TSRPC service proto as a Rust protocol folder, in memory: `(relative path, Rust source)`
//! pairs such as `("room/ptl_join_room.rs", "..")`, the very text `rpc-codegen import` writes
//! to disk. The service macro runs its usual pipeline (parse -> model -> check -> render) on
//! them, so an imported service gets the same client, server, `Msg` enum and service trait as a
//! folder written by hand.
//!
//! Layout: each TypeScript file of the proto becomes one Rust file in the matching folder
//! (`PtlLogin.ts` -> `ptl_login.rs`, `room/RoomTypes.ts` -> `room/room_types.rs`; types from
//! outside the protocol folder, `../models/User`, go under `parent/models/user.rs`). Names are
//! Rust's (`ReqLogin`, `expires_in`) with serde renames to TypeScript's.
//!
//! | TypeScript (proto schema) | Rust |
//! | --- | --- |
//! | `boolean`, `string` | `bool`, `String` |
//! | `number`, `double` / `int` / `uint` | `f64` / `i64` / `u64` |
//! | `T[]`, `[A, B]` | `Vec<T>`, `(A, B)`; with optional elements or more than 12: a tuple struct |
//! | interface, type literal, `extends`, `A & B`, `Pick` / `Omit` / `Partial` / `Overwrite` | a struct with the flattened fields, in TSRPC's JSON order |
//! | `x?: T` | `Option<T>` (left out when `None`) |
//! | `x: T \| null` / `x?: T \| null` | `Nullable<T>` (written `null`) / `Option<Option<T>>` |
//! | index signature | `JsMap<T>`; next to properties: a `#[serde(flatten)] extra` map |
//! | string enum, `'a' \| 'b'`, `keyof T` | a unit enum with renames |
//! | numeric enum, `2 \| 4 \| 8` | a unit enum written as its number (`into`/`try_from` `i64`) |
//! | other unions | `#[serde(untagged)]` enums, members in proto order |
//! | literal `'x'` / `2` / `true` / `null` | a one-variant enum / `LitInt<2>` / `LitBool<true>` / `()` |
//! | `Date`, `Uint8Array` / `ArrayBuffer`, `Float32Array`.. | `Date`, `Bytes`, `Float32Array`.. (`rpc_runtime::types`) |
//! | `ObjectId` (`?mongodb/..`, `?bson/..`) | `ObjectId` |
//! | `any`, `unknown`, `object` | `JsonValue` |
//! | type alias | `pub type` (or the enum / struct it names) |
//! | recursive types | `Box` where a cycle has no `Vec` or map |
//!
//! Refused, with the type path: `bigint` kinds, `BigInt64Array` / `BigUint64Array`, an
//! interface extending a mapped type (`extends Omit<..>`), custom types other than `ObjectId`,
//! intersections of non-objects. [`ImportOptions::skip_unsupported_optional_fields`] leaves out
//! the optional fields of those types instead (listed in [`ImportedFolder::skipped`]).

mod map;
mod names;
mod text;

use super::json::Json;
use super::proto::{ServiceKind, ServiceProto};
pub use super::resolve::ImportError;
use super::resolve::Step;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The runtime crate's path, as the generated files name it (`::rpc_runtime`).
    pub runtime: String,
    /// Leave out optional fields whose type cannot be imported (bigint, ...) instead of
    /// refusing the proto.
    pub skip_unsupported_optional_fields: bool,
    /// Type names the root folder must not use (the service module's own items: `Client`,
    /// `Server`, `Msg`, ..).
    pub reserved: Vec<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            runtime: "::rpc_runtime".to_owned(),
            skip_unsupported_optional_fields: false,
            reserved: ["Client", "Server", "Msg", "RunningServer", "ConnectionExt"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// The imported protocol folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFolder {
    /// `(relative path, Rust source)`, sorted by path.
    pub files: Vec<(String, String)>,
    /// The proto's services, each with the Rust folder's name for it.
    pub services: Vec<ImportedService>,
    /// The optional fields left out (`type.field: why`), with
    /// [`ImportOptions::skip_unsupported_optional_fields`].
    pub skipped: Vec<String>,
}

/// A service of the proto and where the imported folder declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedService {
    /// Its id in the proto.
    pub id: u32,
    /// Its TSRPC name (`room/Join`).
    pub name: String,
    /// API or message.
    pub kind: ServiceKind,
    /// The name the Rust folder gives it (sub-folders and the file name: the same as `name`
    /// unless TypeScript's names are not Rust names, such as `my-room/GetHTTPData`, which
    /// the folder spells `my_room/GetHttpData`).
    pub rust_name: String,
    /// Its `conf`.
    pub conf: Option<Json>,
}

/// Imports `proto`: the Rust protocol folder, or every type that cannot be imported.
pub fn import(
    proto: &ServiceProto,
    opts: &ImportOptions,
) -> Result<ImportedFolder, Vec<ImportError>> {
    map::Gen::new(proto, opts).run()
}

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Bool,
    F64,
    I64,
    U64,
    Str,
    /// `JsonValue`.
    Json,
    /// `()`: the literal `null`.
    Unit,
    Vec(Box<Ty>),
    Tuple(Vec<Ty>),
    Opt(Box<Ty>),
    /// `Nullable<T>` (an `Option` written `null`): a named `T | null`.
    Nullable(Box<Ty>),
    Boxed(Box<Ty>),
    /// A generated type: its file and name.
    Named {
        file: usize,
        name: String,
    },
    /// A runtime type by name (`Date`, `Bytes`, `ObjectId`, `Float32Array`, ..).
    Rt(&'static str),
    /// `JsMap<T>`.
    Map(Box<Ty>),
    LitInt(i64),
    LitBool(bool),
}

/// How a struct field may be absent or `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Always present, never `null`.
    Required,
    /// Always written; read as `null` when absent (`()`, the literal `null`, or a named
    /// `T | null`), as TSRPC's validator reads an absent field that may be `null`.
    Default,
    /// `x?: T`: `Option<T>`, left out when `None`.
    Optional,
    /// `x: T | null`: `Nullable<T>`, written `null` when `None`.
    Nullable,
    /// `x?: T | null`: `Option<Option<T>>`.
    OptionalNullable,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub(crate) rust: String,
    pub(crate) json: String,
    pub(crate) ty: Ty,
    pub(crate) mode: Mode,
    pub(crate) doc: Vec<String>,
    /// Where the proto declares it: the declaring type, its property id there, and the
    /// `extends` / member steps from this struct to it (what a binary codec needs).
    pub(crate) ids: FieldIds,
}

/// The proto ids behind a struct field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldIds {
    /// The declaring type (an id, or a key under one for a type literal).
    pub(crate) owner: String,
    /// The property id there (`None` for a `Pick` of an index-signature key).
    pub(crate) id: Option<u32>,
    /// The steps from the struct to the declaring type.
    pub(crate) via: Vec<Step>,
}

/// A generated item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Struct {
        name: String,
        doc: Vec<String>,
        fields: Vec<Field>,
        /// An index signature next to properties: the value type of the flattened map.
        rest: Option<Ty>,
    },
    TupleStruct {
        name: String,
        doc: Vec<String>,
        elems: Vec<Ty>,
        /// Elements from here on are optional.
        optional_from: usize,
    },
    /// Unit variants written as strings: `(variant, value)`, in the order of `ids`.
    StrEnum {
        name: String,
        doc: Vec<String>,
        variants: Vec<(String, String)>,
        /// Each variant's proto id: enum member id, union member id or `keyof` key index.
        ids: Vec<u32>,
    },
    /// Unit variants written as numbers: `(variant, value)`.
    NumEnum {
        name: String,
        doc: Vec<String>,
        variants: Vec<(String, f64)>,
        /// Each variant's proto id (enum or union member id).
        ids: Vec<u32>,
    },
    /// `#[serde(untagged)]`: `(variant, type)`.
    Untagged {
        name: String,
        doc: Vec<String>,
        variants: Vec<(String, Ty)>,
        /// Each variant's union member id.
        ids: Vec<u32>,
    },
    Alias {
        name: String,
        doc: Vec<String>,
        ty: Ty,
    },
}

impl Item {
    pub(crate) fn name(&self) -> &str {
        match self {
            Item::Struct { name, .. }
            | Item::TupleStruct { name, .. }
            | Item::StrEnum { name, .. }
            | Item::NumEnum { name, .. }
            | Item::Untagged { name, .. }
            | Item::Alias { name, .. } => name,
        }
    }

    pub(crate) fn set_name(&mut self, new: String) {
        match self {
            Item::Struct { name, .. }
            | Item::TupleStruct { name, .. }
            | Item::StrEnum { name, .. }
            | Item::NumEnum { name, .. }
            | Item::Untagged { name, .. }
            | Item::Alias { name, .. } => *name = new,
        }
    }

    /// Every type it holds by value or inside a container, mutable (for `Box`ing).
    pub(crate) fn types_mut(&mut self) -> Vec<&mut Ty> {
        match self {
            Item::Struct { fields, rest, .. } => fields
                .iter_mut()
                .map(|f| &mut f.ty)
                .chain(rest.iter_mut())
                .collect(),
            Item::TupleStruct { elems, .. } => elems.iter_mut().collect(),
            Item::Untagged { variants, .. } => variants.iter_mut().map(|(_, t)| t).collect(),
            Item::Alias { ty, .. } => vec![ty],
            Item::StrEnum { .. } | Item::NumEnum { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
