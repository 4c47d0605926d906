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

use std::fmt;

use super::json::{self as js, Node, NodeKind};
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

/// The declaration in `serviceProto.ts` that holds the proto.
const TS_DECLARATION: &str = "export const serviceProto";

impl ServiceProto {
    /// Reads a proto from the text of `serviceProto.ts` (the object literal after
    /// `export const serviceProto ... =`, which tsrpc-cli writes as JSON) or of a `.json` file
    /// (a text that starts with `{`). `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ServiceProto, ProtoError> {
        let err = |pos: Pos, message: String| ProtoError {
            file: file.to_owned(),
            pos,
            message,
        };
        let node = if text.trim_start().starts_with('{') {
            js::parse(text).map_err(|e| err(e.pos, e.message))?
        } else {
            let Some(decl) = text.find(TS_DECLARATION) else {
                return Err(err(
                    Pos { line: 1, column: 1 },
                    format!("no `{TS_DECLARATION}: ServiceProto<ServiceType> = {{..}}` here: is this the serviceProto.ts that `tsrpc-cli proto` writes?"),
                ));
            };
            let Some(eq) = text[decl..].find('=').map(|i| decl + i + 1) else {
                return Err(err(
                    js::pos_of(text, decl),
                    format!("`{TS_DECLARATION}` has no `=`"),
                ));
            };
            js::parse_value_at(text, eq)
                .map_err(|e| {
                    err(
                        e.pos,
                        format!("the proto object is not JSON: {}", e.message),
                    )
                })?
                .0
        };
        Reader { file }.proto(&node)
    }

    /// The proto as ordered JSON, keys in tsrpc-cli's order.
    pub fn to_json(&self) -> Json {
        let mut obj = Vec::new();
        if let Some(v) = self.version {
            obj.push(("version".to_owned(), Json::Number(v as f64)));
        }
        obj.push((
            "services".to_owned(),
            Json::Array(self.services.iter().map(ServiceDef::to_json).collect()),
        ));
        obj.push((
            "types".to_owned(),
            Json::Object(
                self.types
                    .iter()
                    .map(|(k, s)| (k.clone(), s.to_json()))
                    .collect(),
            ),
        ));
        Json::Object(obj)
    }

    /// The proto as `JSON.stringify` writes it: [`Layout::Indent`]`(4)` is the object in
    /// `serviceProto.ts`, `Indent(2)` what `tsrpc-cli proto -o x.json` writes, `Compact` its
    /// `--ugly` form. No newline at the end, as tsrpc-cli writes it.
    pub fn to_json_text(&self, layout: Layout) -> String {
        self.to_json().to_text(layout)
    }

    /// The proto with one service and one type per line (two-space indent, then compact JSON),
    /// ending with a newline: a diff-friendly form (the kitchen-sink corpus's
    /// `serviceProto.json`).
    pub fn to_json_lines(&self) -> String {
        let Json::Object(top) = self.to_json() else {
            unreachable!("to_json builds an object")
        };
        let mut out = String::from("{\n");
        let last = top.len().saturating_sub(1);
        for (i, (key, value)) in top.iter().enumerate() {
            let sep = if i == last { "" } else { "," };
            out.push_str("  ");
            js::write_string(&mut out, key);
            match value {
                Json::Array(items) => {
                    out.push_str(": [\n");
                    for (j, item) in items.iter().enumerate() {
                        out.push_str("    ");
                        item.write(&mut out, Layout::Compact, 0);
                        out.push_str(if j + 1 == items.len() { "\n" } else { ",\n" });
                    }
                    out.push_str("  ]");
                }
                Json::Object(entries) => {
                    out.push_str(": {\n");
                    for (j, (k, v)) in entries.iter().enumerate() {
                        out.push_str("    ");
                        js::write_string(&mut out, k);
                        out.push_str(": ");
                        v.write(&mut out, Layout::Compact, 0);
                        out.push_str(if j + 1 == entries.len() { "\n" } else { ",\n" });
                    }
                    out.push_str("  }");
                }
                other => {
                    out.push_str(": ");
                    other.write(&mut out, Layout::Compact, 0);
                }
            }
            out.push_str(sep);
            out.push('\n');
        }
        out.push_str("}\n");
        out
    }

    /// The whole `serviceProto.ts` as `tsrpc-cli proto` writes it: the imports of every
    /// `Req`/`Res`/`Msg` type (repeated names get `_1`, `_2`, .. as tsrpc-cli renames them),
    /// `export interface ServiceType`, and the proto object with a 4-space indent.
    /// `protocols_dir` is the protocol folder relative to the folder of the written file (`""`
    /// when the proto lives in the protocol folder, as usual).
    pub fn to_ts(&self, protocols_dir: &str) -> String {
        let mut used: Vec<String> = Vec::new();
        let mut as_name = |name: String| -> String {
            let mut name = name;
            while used.contains(&name) {
                name = match name.rsplit_once('_') {
                    Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                        let next = n.parse::<u64>().map_or(1, |n| n + 1);
                        format!("{base}_{next}")
                    }
                    _ => format!("{name}_1"),
                };
            }
            used.push(name.clone());
            name
        };
        let mut imports = String::new();
        let (mut apis, mut msgs) = (Vec::new(), Vec::new());
        for svc in &self.services {
            let (dir, last) = svc.split_name();
            let prefix = match svc.kind {
                ServiceKind::Api => "Ptl",
                ServiceKind::Msg => "Msg",
            };
            let rel = if dir.is_empty() {
                format!("{prefix}{last}")
            } else {
                format!("{dir}/{prefix}{last}")
            };
            let mut path = normalize_path(&if protocols_dir.is_empty() {
                rel
            } else {
                format!("{}/{rel}", protocols_dir.trim_end_matches('/'))
            });
            if !path.starts_with('.') {
                path = format!("./{path}");
            }
            let names: Vec<String> = match svc.kind {
                ServiceKind::Api => vec![format!("Req{last}"), format!("Res{last}")],
                ServiceKind::Msg => vec![format!("Msg{last}")],
            };
            let aliases: Vec<String> = names.iter().map(|n| as_name(n.clone())).collect();
            let list: Vec<String> = names
                .iter()
                .zip(&aliases)
                .map(|(n, a)| {
                    if n == a {
                        n.clone()
                    } else {
                        format!("{n} as {a}")
                    }
                })
                .collect();
            if !imports.is_empty() {
                imports.push('\n');
            }
            imports.push_str(&format!("import {{ {} }} from '{path}';", list.join(", ")));
            let mut quoted = String::new();
            js::write_string(&mut quoted, &svc.name);
            match svc.kind {
                ServiceKind::Api => apis.push(format!(
                    "        {quoted}: {{\n            req: {},\n            res: {}\n        }}",
                    aliases[0], aliases[1]
                )),
                ServiceKind::Msg => msgs.push(format!("        {quoted}: {}", aliases[0])),
            }
        }
        let text = format!(
            "\nimport {{ ServiceProto }} from 'tsrpc-proto';\n{imports}\n\nexport interface ServiceType {{\n    api: {{\n{}\n    }},\n    msg: {{\n{}\n    }}\n}}\n\n{TS_DECLARATION}: ServiceProto<ServiceType> = {};\n",
            apis.join(",\n"),
            msgs.join(",\n"),
            self.to_json_text(Layout::Indent(4)),
        );
        text.trim().to_owned()
    }
}

/// `a/./b/../c` -> `a/c` (what Node's `path.join` does to the import path).
fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

impl ServiceDef {
    fn to_json(&self) -> Json {
        let mut obj = vec![
            ("id".to_owned(), Json::Number(f64::from(self.id))),
            ("name".to_owned(), Json::String(self.name.clone())),
            (
                "type".to_owned(),
                Json::String(self.kind.as_str().to_owned()),
            ),
        ];
        if let Some(conf) = &self.conf {
            obj.push(("conf".to_owned(), conf.clone()));
        }
        Json::Object(obj)
    }
}

fn boxed(s: &Schema) -> Json {
    s.to_json()
}

fn id_json(id: u32) -> Json {
    Json::Number(f64::from(id))
}

fn members_json(members: &[Member]) -> Json {
    Json::Array(
        members
            .iter()
            .map(|m| {
                Json::Object(vec![
                    ("id".to_owned(), id_json(m.id)),
                    ("type".to_owned(), m.ty.to_json()),
                ])
            })
            .collect(),
    )
}

fn keys_json(keys: &[String]) -> Json {
    Json::Array(keys.iter().map(|k| Json::String(k.clone())).collect())
}

impl LiteralValue {
    /// The value as JSON.
    pub fn to_json(&self) -> Json {
        match self {
            LiteralValue::String(s) => Json::String(s.clone()),
            LiteralValue::Number(n) => Json::Number(*n),
            LiteralValue::Bool(b) => Json::Bool(*b),
            LiteralValue::Null => Json::Null,
        }
    }
}

impl Schema {
    /// The schema as ordered JSON, keys in tsrpc-cli's order (`comment` last).
    pub fn to_json(&self) -> Json {
        let ty = |name: &str| ("type".to_owned(), Json::String(name.to_owned()));
        let key = |k: &str, v: Json| (k.to_owned(), v);
        let mut obj = match &self.kind {
            SchemaKind::Boolean => vec![ty("Boolean")],
            SchemaKind::Number { scalar_type } => {
                let mut o = vec![ty("Number")];
                if let Some(s) = scalar_type {
                    o.push(key("scalarType", Json::String(s.as_str().to_owned())));
                }
                o
            }
            SchemaKind::String => vec![ty("String")],
            SchemaKind::Array { element_type } => {
                vec![ty("Array"), key("elementType", boxed(element_type))]
            }
            SchemaKind::Tuple {
                element_types,
                optional_start_index,
            } => {
                let mut o = vec![
                    ty("Tuple"),
                    key(
                        "elementTypes",
                        Json::Array(element_types.iter().map(Schema::to_json).collect()),
                    ),
                ];
                if let Some(i) = optional_start_index {
                    o.push(key("optionalStartIndex", id_json(*i)));
                }
                o
            }
            SchemaKind::Enum { members } => vec![
                ty("Enum"),
                key(
                    "members",
                    Json::Array(
                        members
                            .iter()
                            .map(|m| {
                                Json::Object(vec![
                                    key("id", id_json(m.id)),
                                    key(
                                        "value",
                                        match &m.value {
                                            EnumValue::String(s) => Json::String(s.clone()),
                                            EnumValue::Number(n) => Json::Number(*n),
                                        },
                                    ),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ],
            SchemaKind::Any => vec![ty("Any")],
            SchemaKind::Literal { literal } => {
                let mut o = vec![ty("Literal")];
                if let Some(l) = literal {
                    o.push(key("literal", l.to_json()));
                }
                o
            }
            SchemaKind::Object => vec![ty("Object")],
            SchemaKind::Interface(i) => {
                let mut o = vec![ty("Interface")];
                if let Some(ext) = &i.extends {
                    o.push(key("extends", members_json(ext)));
                }
                if let Some(props) = &i.properties {
                    o.push(key(
                        "properties",
                        Json::Array(props.iter().map(Property::to_json).collect()),
                    ));
                }
                if let Some(sig) = &i.index_signature {
                    o.push(key(
                        "indexSignature",
                        Json::Object(vec![
                            key(
                                "keyType",
                                Json::String(
                                    match sig.key_type {
                                        IndexKey::String => "String",
                                        IndexKey::Number => "Number",
                                    }
                                    .to_owned(),
                                ),
                            ),
                            key("type", sig.ty.to_json()),
                        ]),
                    ));
                }
                o
            }
            SchemaKind::Buffer { array_type } => {
                let mut o = vec![ty("Buffer")];
                if let Some(a) = array_type {
                    o.push(key("arrayType", Json::String(a.as_str().to_owned())));
                }
                o
            }
            SchemaKind::IndexedAccess { object_type, index } => vec![
                ty("IndexedAccess"),
                key("index", Json::String(index.clone())),
                key("objectType", boxed(object_type)),
            ],
            SchemaKind::Reference { target } => {
                vec![ty("Reference"), key("target", Json::String(target.clone()))]
            }
            SchemaKind::Keyof { target } => vec![ty("Keyof"), key("target", boxed(target))],
            SchemaKind::Union { members } => {
                vec![ty("Union"), key("members", members_json(members))]
            }
            SchemaKind::Intersection { members } => {
                vec![ty("Intersection"), key("members", members_json(members))]
            }
            // tsbuffer-proto-generator spreads the target first, then sets `type`.
            SchemaKind::Pick { target, keys } => vec![
                key("target", boxed(target)),
                key("keys", keys_json(keys)),
                ty("Pick"),
            ],
            SchemaKind::Partial { target } => vec![ty("Partial"), key("target", boxed(target))],
            SchemaKind::Omit { target, keys } => vec![
                key("target", boxed(target)),
                key("keys", keys_json(keys)),
                ty("Omit"),
            ],
            SchemaKind::Overwrite { target, overwrite } => vec![
                ty("Overwrite"),
                key("target", boxed(target)),
                key("overwrite", boxed(overwrite)),
            ],
            SchemaKind::NonNullable { target } => {
                vec![ty("NonNullable"), key("target", boxed(target))]
            }
            SchemaKind::Date => vec![ty("Date")],
            SchemaKind::Custom => vec![ty("Custom")],
        };
        if let Some(c) = &self.comment {
            obj.push(key("comment", Json::String(c.clone())));
        }
        Json::Object(obj)
    }
}

impl Property {
    fn to_json(&self) -> Json {
        let mut o = vec![
            ("id".to_owned(), id_json(self.id)),
            ("name".to_owned(), Json::String(self.name.clone())),
            ("type".to_owned(), self.ty.to_json()),
        ];
        if self.optional {
            o.push(("optional".to_owned(), Json::Bool(true)));
        }
        if let Some(c) = &self.comment {
            o.push(("comment".to_owned(), Json::String(c.clone())));
        }
        Json::Object(o)
    }
}

/// Turns parsed JSON into the model; every error names the file, line and column.
struct Reader<'a> {
    file: &'a str,
}

type Res<T> = Result<T, ProtoError>;

/// The keys of one object, taken one by one; [`Obj::finish`] refuses the rest.
struct Obj<'n> {
    node: &'n Node,
    entries: &'n [(String, Pos, Node)],
    used: Vec<bool>,
}

impl<'n> Obj<'n> {
    fn take(&mut self, key: &str) -> Option<&'n Node> {
        let i = self.entries.iter().position(|(k, _, _)| k == key)?;
        self.used[i] = true;
        Some(&self.entries[i].2)
    }
}

impl Reader<'_> {
    fn err(&self, pos: Pos, message: impl Into<String>) -> ProtoError {
        ProtoError {
            file: self.file.to_owned(),
            pos,
            message: message.into(),
        }
    }

    fn obj<'n>(&self, node: &'n Node, what: &str) -> Res<Obj<'n>> {
        match &node.kind {
            NodeKind::Object(entries) => Ok(Obj {
                node,
                entries,
                used: vec![false; entries.len()],
            }),
            _ => Err(self.err(
                node.pos,
                format!("{what} should be an object, not {}", node.describe()),
            )),
        }
    }

    fn required<'n>(&self, obj: &mut Obj<'n>, key: &str, what: &str) -> Res<&'n Node> {
        obj.take(key)
            .ok_or_else(|| self.err(obj.node.pos, format!("{what} has no `{key}`")))
    }

    fn finish(&self, obj: Obj<'_>, what: &str) -> Res<()> {
        match obj.used.iter().position(|u| !u) {
            Some(i) => {
                let (key, pos, _) = &obj.entries[i];
                Err(self.err(
                    *pos,
                    format!("{what} has an unknown key `{key}` (not a key of TSRPC 3.4's service proto)"),
                ))
            }
            None => Ok(()),
        }
    }

    fn string(&self, node: &Node, what: &str) -> Res<String> {
        match &node.kind {
            NodeKind::String(s) => Ok(s.clone()),
            _ => Err(self.err(
                node.pos,
                format!("{what} should be a string, not {}", node.describe()),
            )),
        }
    }

    fn id(&self, node: &Node, what: &str) -> Res<u32> {
        match node.kind {
            NodeKind::Number(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                Ok(n as u32)
            }
            _ => Err(self.err(
                node.pos,
                format!("{what} should be a whole number from 0 to {}", u32::MAX),
            )),
        }
    }

    fn array<'n>(&self, node: &'n Node, what: &str) -> Res<&'n [Node]> {
        match &node.kind {
            NodeKind::Array(items) => Ok(items),
            _ => Err(self.err(
                node.pos,
                format!("{what} should be an array, not {}", node.describe()),
            )),
        }
    }

    fn proto(&self, node: &Node) -> Res<ServiceProto> {
        let mut obj = self.obj(node, "the proto")?;
        let version = match obj.take("version") {
            None => None,
            Some(v) => match v.kind {
                NodeKind::Number(n)
                    if n >= 0.0 && n.fract() == 0.0 && n < 9.007_199_254_740_992e15 =>
                {
                    Some(n as u64)
                }
                _ => return Err(self.err(v.pos, "`version` should be a whole number")),
            },
        };
        let services_node = self.required(&mut obj, "services", "the proto")?;
        let types_node = self.required(&mut obj, "types", "the proto")?;
        self.finish(obj, "the proto")?;
        let mut services = Vec::new();
        for (i, s) in self.array(services_node, "`services`")?.iter().enumerate() {
            services.push(self.service(s, &format!("services[{i}]"))?);
        }
        let mut types = Vec::new();
        let entries = match &types_node.kind {
            NodeKind::Object(entries) => entries,
            _ => {
                return Err(self.err(
                    types_node.pos,
                    format!("`types` should be an object, not {}", types_node.describe()),
                ))
            }
        };
        for (id, _, schema) in entries {
            types.push((id.clone(), self.schema(schema, &format!("type `{id}`"))?));
        }
        Ok(ServiceProto {
            version,
            services,
            types,
        })
    }

    fn service(&self, node: &Node, what: &str) -> Res<ServiceDef> {
        let mut obj = self.obj(node, what)?;
        let id = self.id(self.required(&mut obj, "id", what)?, &format!("{what}.id"))?;
        let name = self.string(
            self.required(&mut obj, "name", what)?,
            &format!("{what}.name"),
        )?;
        let kind_node = self.required(&mut obj, "type", what)?;
        let kind = match self.string(kind_node, &format!("{what}.type"))?.as_str() {
            "api" => ServiceKind::Api,
            "msg" => ServiceKind::Msg,
            other => {
                return Err(self.err(
                    kind_node.pos,
                    format!("{what}.type is `{other}`: expected `api` or `msg`"),
                ))
            }
        };
        let conf = obj.take("conf").map(Node::to_json);
        self.finish(obj, what)?;
        Ok(ServiceDef {
            id,
            name,
            kind,
            conf,
        })
    }

    fn boxed(&self, obj: &mut Obj<'_>, key: &str, what: &str) -> Res<Box<Schema>> {
        let node = self.required(obj, key, what)?;
        Ok(Box::new(self.schema(node, &format!("{what}.{key}"))?))
    }

    fn keys(&self, obj: &mut Obj<'_>, what: &str) -> Res<Vec<String>> {
        let node = self.required(obj, "keys", what)?;
        self.array(node, &format!("{what}.keys"))?
            .iter()
            .map(|k| self.string(k, &format!("a key of {what}")))
            .collect()
    }

    fn members(&self, node: &Node, what: &str) -> Res<Vec<Member>> {
        let mut out = Vec::new();
        for (i, m) in self.array(node, what)?.iter().enumerate() {
            let what = format!("{what}[{i}]");
            let mut obj = self.obj(m, &what)?;
            let id = self.id(self.required(&mut obj, "id", &what)?, &format!("{what}.id"))?;
            let ty_node = self.required(&mut obj, "type", &what)?;
            let ty = self.schema(ty_node, &format!("{what}.type"))?;
            self.finish(obj, &what)?;
            out.push(Member { id, ty });
        }
        Ok(out)
    }

    fn schema(&self, node: &Node, what: &str) -> Res<Schema> {
        let mut obj = self.obj(node, what)?;
        let ty_node = self.required(&mut obj, "type", what)?;
        let ty = self.string(ty_node, &format!("{what}.type"))?;
        let kind = match ty.as_str() {
            "Boolean" => SchemaKind::Boolean,
            "Number" => {
                let scalar_type = match obj.take("scalarType") {
                    None => None,
                    Some(n) => {
                        let s = self.string(n, &format!("{what}.scalarType"))?;
                        Some(
                            ScalarType::ALL
                                .into_iter()
                                .find(|t| t.as_str() == s)
                                .ok_or_else(|| {
                                    self.err(n.pos, format!("{what}: unknown scalarType `{s}`"))
                                })?,
                        )
                    }
                };
                SchemaKind::Number { scalar_type }
            }
            "String" => SchemaKind::String,
            "Array" => SchemaKind::Array {
                element_type: self.boxed(&mut obj, "elementType", what)?,
            },
            "Tuple" => {
                let list = self.required(&mut obj, "elementTypes", what)?;
                let element_types = self
                    .array(list, &format!("{what}.elementTypes"))?
                    .iter()
                    .enumerate()
                    .map(|(i, e)| self.schema(e, &format!("{what}.elementTypes[{i}]")))
                    .collect::<Res<Vec<_>>>()?;
                let optional_start_index = obj
                    .take("optionalStartIndex")
                    .map(|n| self.id(n, &format!("{what}.optionalStartIndex")))
                    .transpose()?;
                SchemaKind::Tuple {
                    element_types,
                    optional_start_index,
                }
            }
            "Enum" => {
                let list = self.required(&mut obj, "members", what)?;
                let mut members = Vec::new();
                for (i, m) in self.array(list, &format!("{what}.members"))?.iter().enumerate() {
                    let what = format!("{what}.members[{i}]");
                    let mut mo = self.obj(m, &what)?;
                    let id = self.id(self.required(&mut mo, "id", &what)?, &format!("{what}.id"))?;
                    let v = self.required(&mut mo, "value", &what)?;
                    let value = match &v.kind {
                        NodeKind::String(s) => EnumValue::String(s.clone()),
                        NodeKind::Number(n) => EnumValue::Number(*n),
                        _ => {
                            return Err(self.err(
                                v.pos,
                                format!("{what}.value should be a string or a number"),
                            ))
                        }
                    };
                    self.finish(mo, &what)?;
                    members.push(EnumMember { id, value });
                }
                SchemaKind::Enum { members }
            }
            "Any" => SchemaKind::Any,
            "Literal" => {
                let literal = match obj.take("literal") {
                    None => None,
                    Some(l) => Some(match &l.kind {
                        NodeKind::String(s) => LiteralValue::String(s.clone()),
                        NodeKind::Number(n) => LiteralValue::Number(*n),
                        NodeKind::Bool(b) => LiteralValue::Bool(*b),
                        NodeKind::Null => LiteralValue::Null,
                        _ => {
                            return Err(self.err(
                                l.pos,
                                format!("{what}.literal should be a string, number, boolean or null"),
                            ))
                        }
                    }),
                };
                SchemaKind::Literal { literal }
            }
            "Object" => SchemaKind::Object,
            "Interface" => {
                let extends = obj
                    .take("extends")
                    .map(|n| self.members(n, &format!("{what}.extends")))
                    .transpose()?;
                let properties = match obj.take("properties") {
                    None => None,
                    Some(list) => {
                        let mut props = Vec::new();
                        for (i, p) in self
                            .array(list, &format!("{what}.properties"))?
                            .iter()
                            .enumerate()
                        {
                            props.push(self.property(p, &format!("{what}.properties[{i}]"))?);
                        }
                        Some(props)
                    }
                };
                let index_signature = match obj.take("indexSignature") {
                    None => None,
                    Some(sig) => {
                        let what = format!("{what}.indexSignature");
                        let mut so = self.obj(sig, &what)?;
                        let kt = self.required(&mut so, "keyType", &what)?;
                        let key_type = match self.string(kt, &format!("{what}.keyType"))?.as_str() {
                            "String" => IndexKey::String,
                            "Number" => IndexKey::Number,
                            other => {
                                return Err(self.err(
                                    kt.pos,
                                    format!("{what}.keyType is `{other}`: expected `String` or `Number`"),
                                ))
                            }
                        };
                        let ty = self.boxed(&mut so, "type", &what)?;
                        self.finish(so, &what)?;
                        Some(IndexSignature { key_type, ty })
                    }
                };
                SchemaKind::Interface(InterfaceSchema {
                    extends,
                    properties,
                    index_signature,
                })
            }
            "Buffer" => {
                let array_type = match obj.take("arrayType") {
                    None => None,
                    Some(n) => {
                        let s = self.string(n, &format!("{what}.arrayType"))?;
                        Some(ArrayType::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(
                            || self.err(n.pos, format!("{what}: unknown arrayType `{s}`")),
                        )?)
                    }
                };
                SchemaKind::Buffer { array_type }
            }
            "IndexedAccess" => {
                let index_node = self.required(&mut obj, "index", what)?;
                let index = self.string(index_node, &format!("{what}.index"))?;
                SchemaKind::IndexedAccess {
                    object_type: self.boxed(&mut obj, "objectType", what)?,
                    index,
                }
            }
            "Reference" => {
                let t = self.required(&mut obj, "target", what)?;
                SchemaKind::Reference {
                    target: self.string(t, &format!("{what}.target"))?,
                }
            }
            "Keyof" => SchemaKind::Keyof {
                target: self.boxed(&mut obj, "target", what)?,
            },
            "Union" | "Intersection" => {
                let list = self.required(&mut obj, "members", what)?;
                let members = self.members(list, &format!("{what}.members"))?;
                if ty == "Union" {
                    SchemaKind::Union { members }
                } else {
                    SchemaKind::Intersection { members }
                }
            }
            "Pick" | "Omit" => {
                let target = self.boxed(&mut obj, "target", what)?;
                let keys = self.keys(&mut obj, what)?;
                if ty == "Pick" {
                    SchemaKind::Pick { target, keys }
                } else {
                    SchemaKind::Omit { target, keys }
                }
            }
            "Partial" => SchemaKind::Partial {
                target: self.boxed(&mut obj, "target", what)?,
            },
            "Overwrite" => SchemaKind::Overwrite {
                target: self.boxed(&mut obj, "target", what)?,
                overwrite: self.boxed(&mut obj, "overwrite", what)?,
            },
            "NonNullable" => SchemaKind::NonNullable {
                target: self.boxed(&mut obj, "target", what)?,
            },
            "Date" => SchemaKind::Date,
            "Custom" => SchemaKind::Custom,
            other => {
                return Err(self.err(
                    ty_node.pos,
                    format!("{what}: unknown schema type `{other}` (tsbuffer-schema 2.2 has Boolean, Number, String, Array, Tuple, Enum, Any, Literal, Object, Interface, Buffer, IndexedAccess, Reference, Keyof, Union, Intersection, Pick, Partial, Omit, Overwrite, NonNullable, Date, Custom)"),
                ))
            }
        };
        let comment = obj
            .take("comment")
            .map(|c| self.string(c, &format!("{what}.comment")))
            .transpose()?;
        self.finish(obj, what)?;
        Ok(Schema { kind, comment })
    }

    fn property(&self, node: &Node, what: &str) -> Res<Property> {
        let mut obj = self.obj(node, what)?;
        let id = self.id(self.required(&mut obj, "id", what)?, &format!("{what}.id"))?;
        let name = self.string(
            self.required(&mut obj, "name", what)?,
            &format!("{what}.name"),
        )?;
        let what = format!("{what} (`{name}`)");
        let ty_node = self.required(&mut obj, "type", &what)?;
        let ty = self.schema(ty_node, &format!("{what}.type"))?;
        let optional = match obj.take("optional") {
            None => false,
            Some(Node {
                kind: NodeKind::Bool(b),
                ..
            }) => *b,
            Some(n) => return Err(self.err(n.pos, format!("{what}.optional should be a boolean"))),
        };
        let comment = obj
            .take("comment")
            .map(|c| self.string(c, &format!("{what}.comment")))
            .transpose()?;
        self.finish(obj, &what)?;
        Ok(Property {
            id,
            name,
            ty,
            optional,
            comment,
        })
    }
}
