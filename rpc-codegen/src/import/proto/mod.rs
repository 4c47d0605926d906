//! TSRPC's service proto as typed data: what `tsrpc-cli proto` writes into `serviceProto.ts`
//! (or a `.json` file), read with every id kept and written back byte for byte.
//!
//! ```text
//! { "version": 3,                                  optional: absent on a first generation
//!   "services": [ { "id": 0, "name": "room/Join", "type": "api", "conf": {..} }, .. ],
//!   "types": { "room/PtlJoin/ReqJoin": { "type": "Interface", "properties": [..] }, .. } }
//! ```
//!
//! The model keeps what a binary codec and a proto lock need: service ids, property ids,
//! `extends` ids, union / intersection member ids and enum member ids, types in their original
//! order, each schema kind of tsbuffer-schema 2.2 with its fields, `conf` as ordered JSON and
//! the `comment`s that `tsrpc-cli doc` keeps. The writers reproduce tsrpc-cli's output exactly:
//! [`ServiceProto::to_ts`] is the whole `serviceProto.ts` (imports, `ServiceType`, then the
//! object as `JSON.stringify(proto, null, 4)`), [`ServiceProto::to_json_text`] the `.json` forms.
//! Keys come out in the order tsrpc-cli writes them (a `Pick` ends with `"type"`, for one),
//! whatever order the input had.
//!
//! ```
//! use rpc_codegen::import::proto::{Layout, ServiceProto};
//! let text = r#"{"services":[{"id":0,"name":"Hi","type":"msg"}],
//!   "types":{"MsgHi/MsgHi":{"type":"Interface","properties":[{"id":0,"name":"text","type":{"type":"String"}}]}}}"#;
//! let proto = ServiceProto::parse(text, "serviceProto.json")?;
//! assert_eq!(proto.services[0].name, "Hi");
//! assert_eq!(
//!     proto.to_json_text(Layout::Compact),
//!     r#"{"services":[{"id":0,"name":"Hi","type":"msg"}],"types":{"MsgHi/MsgHi":{"type":"Interface","properties":[{"id":0,"name":"text","type":{"type":"String"}}]}}}"#
//! );
//! # Ok::<(), rpc_codegen::import::proto::ProtoError>(())
//! ```

mod read;
mod write;

use std::fmt;

pub use super::json::{Json, Layout, Pos};

/// A whole service proto.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceProto {
    /// `version`: absent on a first generation, then bumped by tsrpc-cli on every change.
    pub version: Option<u64>,
    /// Every API and message, in the proto's order, with its id.
    pub services: Vec<ServiceDef>,
    /// Every schema, keyed by its id (`room/PtlJoin/ReqJoin`, `base/User`, `Ns.Inner` ids
    /// such as `room/Types/Leaderboard.Entry`), in the proto's order.
    pub types: Vec<(String, Schema)>,
}

/// One API or message of the proto.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDef {
    /// Its id (what binary mode sends; gaps are normal in a regenerated proto).
    pub id: u32,
    /// Its name: the path of its file without `Ptl`/`Msg` (`room/Join`).
    pub name: String,
    /// API or message.
    pub kind: ServiceKind,
    /// The `export const conf` of its file, as ordered JSON (an object, as a rule).
    pub conf: Option<Json>,
}

/// Whether a service is an API or a message (`"type": "api" | "msg"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// `api`: `Ptl<Name>.ts` with `Req<Name>` and `Res<Name>`.
    Api,
    /// `msg`: `Msg<Name>.ts` with `Msg<Name>`.
    Msg,
}

impl ServiceKind {
    /// `api` or `msg`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Api => "api",
            ServiceKind::Msg => "msg",
        }
    }
}

impl ServiceDef {
    /// The folder part of the name (`room/sub`) and the last part (`Join`).
    pub fn split_name(&self) -> (&str, &str) {
        match self.name.rsplit_once('/') {
            Some((dir, last)) => (dir, last),
            None => ("", &self.name),
        }
    }

    /// The ids of the schemas it uses: `[req, res]` for an API (`room/PtlJoin/ReqJoin`,
    /// `room/PtlJoin/ResJoin`), `[msg]` for a message (`room/MsgJoin/MsgJoin`), as TSRPC's
    /// `ServiceMapUtil` derives them.
    pub fn type_ids(&self) -> Vec<String> {
        let (dir, last) = self.split_name();
        let dir = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        match self.kind {
            ServiceKind::Api => vec![
                format!("{dir}Ptl{last}/Req{last}"),
                format!("{dir}Ptl{last}/Res{last}"),
            ],
            ServiceKind::Msg => vec![format!("{dir}Msg{last}/Msg{last}")],
        }
    }
}

/// A schema (tsbuffer-schema's `TSBufferSchema`) with its optional comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// What kind of type it is.
    pub kind: SchemaKind,
    /// `comment`: the JSDoc that `tsrpc-cli doc` keeps (`tsrpc-cli proto` keeps none).
    pub comment: Option<String>,
}

impl From<SchemaKind> for Schema {
    fn from(kind: SchemaKind) -> Self {
        Schema {
            kind,
            comment: None,
        }
    }
}

/// Every schema kind, with the proto's field names in snake case.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaKind {
    /// `boolean`.
    Boolean,
    /// `number` (no scalar type: a double), or `uint`, `int`, `double`, `bigint`, ...
    Number {
        /// `scalarType`.
        scalar_type: Option<ScalarType>,
    },
    /// `string`.
    String,
    /// `T[]`.
    Array {
        /// `elementType`.
        element_type: Box<Schema>,
    },
    /// `[A, B, C?]`.
    Tuple {
        /// `elementTypes`.
        element_types: Vec<Schema>,
        /// `optionalStartIndex`: elements from this index on are optional.
        optional_start_index: Option<u32>,
    },
    /// `enum`.
    Enum {
        /// `members`, in declaration order.
        members: Vec<EnumMember>,
    },
    /// `any` / `unknown`.
    Any,
    /// A literal type: `'a'`, `1`, `true`, `null`, or `undefined` (no `literal` key).
    Literal {
        /// `literal`; `None` is `undefined`.
        literal: Option<LiteralValue>,
    },
    /// `object`.
    Object,
    /// An interface or a type literal.
    Interface(InterfaceSchema),
    /// `ArrayBuffer` (no array type) or a typed array.
    Buffer {
        /// `arrayType`.
        array_type: Option<ArrayType>,
    },
    /// `T['key']`.
    IndexedAccess {
        /// `objectType`.
        object_type: Box<Schema>,
        /// `index`.
        index: String,
    },
    /// A reference to another schema by id (`base/User`), or to a custom type (`?bson/ObjectId`).
    Reference {
        /// `target`.
        target: String,
    },
    /// `keyof T`.
    Keyof {
        /// `target`.
        target: Box<Schema>,
    },
    /// `A | B`.
    Union {
        /// `members`, each with its id.
        members: Vec<Member>,
    },
    /// `A & B`.
    Intersection {
        /// `members`, each with its id.
        members: Vec<Member>,
    },
    /// `Pick<T, 'a' | 'b'>`.
    Pick {
        /// `target`.
        target: Box<Schema>,
        /// `keys`, resolved to names.
        keys: Vec<String>,
    },
    /// `Partial<T>`.
    Partial {
        /// `target`.
        target: Box<Schema>,
    },
    /// `Omit<T, 'a'>`.
    Omit {
        /// `target`.
        target: Box<Schema>,
        /// `keys`, resolved to names.
        keys: Vec<String>,
    },
    /// `Overwrite<T, {..}>` from tsrpc-proto.
    Overwrite {
        /// `target`.
        target: Box<Schema>,
        /// `overwrite`.
        overwrite: Box<Schema>,
    },
    /// `NonNullable<T>`.
    NonNullable {
        /// `target`.
        target: Box<Schema>,
    },
    /// `Date`.
    Date,
    /// A custom type: only built at run time (its functions are not JSON), listed for
    /// completeness.
    Custom,
}

/// `scalarType` of a `Number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `int`: an integer (zigzag varint in binary).
    Int,
    /// `uint`: a non-negative integer.
    Uint,
    /// `double`.
    Double,
    /// `bigint`.
    Bigint,
    /// `bigint64`.
    Bigint64,
    /// `biguint64`.
    Biguint64,
}

impl ScalarType {
    /// The name in the proto.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::Int => "int",
            ScalarType::Uint => "uint",
            ScalarType::Double => "double",
            ScalarType::Bigint => "bigint",
            ScalarType::Bigint64 => "bigint64",
            ScalarType::Biguint64 => "biguint64",
        }
    }

    const ALL: [ScalarType; 6] = [
        ScalarType::Int,
        ScalarType::Uint,
        ScalarType::Double,
        ScalarType::Bigint,
        ScalarType::Bigint64,
        ScalarType::Biguint64,
    ];
}

/// `arrayType` of a `Buffer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ArrayType {
    Int8Array,
    Int16Array,
    Int32Array,
    BigInt64Array,
    Uint8Array,
    Uint16Array,
    Uint32Array,
    BigUint64Array,
    Float32Array,
    Float64Array,
}

impl ArrayType {
    /// The name in the proto.
    pub fn as_str(self) -> &'static str {
        match self {
            ArrayType::Int8Array => "Int8Array",
            ArrayType::Int16Array => "Int16Array",
            ArrayType::Int32Array => "Int32Array",
            ArrayType::BigInt64Array => "BigInt64Array",
            ArrayType::Uint8Array => "Uint8Array",
            ArrayType::Uint16Array => "Uint16Array",
            ArrayType::Uint32Array => "Uint32Array",
            ArrayType::BigUint64Array => "BigUint64Array",
            ArrayType::Float32Array => "Float32Array",
            ArrayType::Float64Array => "Float64Array",
        }
    }

    /// The array type named `name` in the proto; `None` for another name (`ArrayBuffer`).
    pub fn from_name(name: &str) -> Option<ArrayType> {
        ArrayType::ALL.into_iter().find(|a| a.as_str() == name)
    }

    const ALL: [ArrayType; 10] = [
        ArrayType::Int8Array,
        ArrayType::Int16Array,
        ArrayType::Int32Array,
        ArrayType::BigInt64Array,
        ArrayType::Uint8Array,
        ArrayType::Uint16Array,
        ArrayType::Uint32Array,
        ArrayType::BigUint64Array,
        ArrayType::Float32Array,
        ArrayType::Float64Array,
    ];
}

/// An enum member: its id (binary) and its value (JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct EnumMember {
    /// `id`.
    pub id: u32,
    /// `value`.
    pub value: EnumValue,
}

/// The value of an enum member.
#[derive(Debug, Clone, PartialEq)]
pub enum EnumValue {
    /// A string enum member.
    String(String),
    /// A numeric enum member.
    Number(f64),
}

/// The value of a `Literal` (other than `undefined`).
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralValue {
    /// `'text'`.
    String(String),
    /// `2`.
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// An interface: `extends`, `properties`, `indexSignature`. Absent lists stay absent
/// (tsrpc-cli writes `{"type":"Interface"}` for an empty one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InterfaceSchema {
    /// `extends`: each parent with its id.
    pub extends: Option<Vec<Member>>,
    /// `properties`.
    pub properties: Option<Vec<Property>>,
    /// `indexSignature`.
    pub index_signature: Option<IndexSignature>,
}

/// A property of an interface.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// `id`.
    pub id: u32,
    /// `name`, as in TypeScript.
    pub name: String,
    /// `type`.
    pub ty: Schema,
    /// `optional`: written only when true.
    pub optional: bool,
    /// `comment`.
    pub comment: Option<String>,
}

/// `{ [key: string]: T }` or `{ [key: number]: T }`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSignature {
    /// `keyType`.
    pub key_type: IndexKey,
    /// `type`.
    pub ty: Box<Schema>,
}

/// `keyType` of an index signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKey {
    /// `String`.
    String,
    /// `Number`.
    Number,
}

/// A union / intersection member or an `extends` entry: an id and a type.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// `id`.
    pub id: u32,
    /// `type`.
    pub ty: Schema,
}

impl ServiceProto {
    /// The schema with this id.
    pub fn get(&self, id: &str) -> Option<&Schema> {
        self.types.iter().find(|(k, _)| k == id).map(|(_, s)| s)
    }
}

/// A mistake in a proto file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoError {
    /// The file as shown in messages.
    pub file: String,
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.pos, self.message)
    }
}

impl std::error::Error for ProtoError {}
