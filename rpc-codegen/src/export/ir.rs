//! The exports' intermediate form: TypeScript-shaped declarations, made by `lower.rs` from
//! the model and written by the renderers (`ts.rs`, `proto.rs`), which never fail.

/// A TypeScript type, as both renderers need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    /// `number`.
    Number,
    /// `uint` (tsrpc-proto).
    Uint,
    /// `int` (tsrpc-proto).
    Int,
    /// `string`.
    String,
    /// `boolean`.
    Boolean,
    /// `any` (`serde_json::Value`).
    Any,
    /// `null`.
    Null,
    /// `Date` (an ISO-8601 string in JSON).
    Date,
    /// `Uint8Array` (a base64 string in JSON).
    Bytes,
    /// Another binary type of the import's runtime types (`rt::Float32Array`, `rt::ArrayBuffer`):
    /// its TypeScript name, which is also the proto's `arrayType` (`ArrayBuffer`: none).
    Buffer(&'static str),
    /// MongoDB's `ObjectId` (`rt::ObjectId`; `?mongodb/ObjectId` in the proto).
    ObjectId,
    /// A number literal (`rt::LitInt<2>`), as written.
    NumLiteral(String),
    /// A boolean literal (`rt::LitBool<true>`).
    BoolLiteral(bool),
    /// A string literal.
    Literal(String),
    /// `T[]`.
    Array(Box<Ty>),
    /// `[A, B]`.
    Tuple(Vec<Ty>),
    /// A declared type: its file (`room/MsgUserJoin`) and name.
    Ref { file: String, name: String },
    /// A type literal `{ a: T; b?: U }`.
    Object(Vec<Prop>),
    /// `{ [key: string]: T }` (or `number` keys).
    Index { numeric: bool, value: Box<Ty> },
    /// `A | B`.
    Union(Vec<Ty>),
    /// `A & B`.
    Intersection(Vec<Ty>),
}

/// A property of an interface or type literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prop {
    pub(crate) name: String,
    pub(crate) optional: bool,
    pub(crate) ty: Ty,
    pub(crate) docs: Vec<String>,
}

/// A declaration: `export interface X extends Y { .. }` or `export type X = ..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decl {
    pub(crate) name: String,
    pub(crate) docs: Vec<String>,
    pub(crate) body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// `index`: the value type of a string index signature next to the properties (a
    /// `#[serde(flatten)]` map).
    Interface {
        extends: Vec<Ty>,
        props: Vec<Prop>,
        index: Option<Ty>,
    },
    Alias(Ty),
    /// `export enum X { A = 0, B = 2 }`: a unit enum written as numbers (`(name, value)`).
    NumberEnum(Vec<(String, String)>),
}

/// One TypeScript file: its path without `.ts` (`room/MsgUserJoin`) and its declarations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IrFile {
    pub(crate) path: String,
    pub(crate) decls: Vec<Decl>,
}

/// A service of the proto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Service {
    Api {
        name: String,
        file: String,
        /// TSRPC's `conf` (JSON text), from the file's `const CONF`.
        conf: Option<String>,
    },
    Msg {
        name: String,
        file: String,
        conf: Option<String>,
    },
}

/// Everything the renderers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ir {
    pub(crate) files: Vec<IrFile>,
    pub(crate) services: Vec<Service>,
}

/// Every `(file, name)` a declaration refers to.
pub(crate) fn decl_refs<'a>(d: &'a Decl, out: &mut Vec<(&'a str, &'a str)>) {
    match &d.body {
        Body::Interface {
            extends,
            props,
            index,
        } => {
            for t in extends.iter().chain(index) {
                ty_refs(t, out);
            }
            for p in props {
                ty_refs(&p.ty, out);
            }
        }
        Body::Alias(t) => ty_refs(t, out),
        Body::NumberEnum(_) => {}
    }
}

fn ty_refs<'a>(t: &'a Ty, out: &mut Vec<(&'a str, &'a str)>) {
    match t {
        Ty::Ref { file, name } => out.push((file, name)),
        Ty::Array(e) => ty_refs(e, out),
        Ty::Index { value, .. } => ty_refs(value, out),
        Ty::Tuple(v) | Ty::Union(v) | Ty::Intersection(v) => {
            for t in v {
                ty_refs(t, out);
            }
        }
        Ty::Object(props) => {
            for p in props {
                ty_refs(&p.ty, out);
            }
        }
        _ => {}
    }
}
