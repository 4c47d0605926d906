//! Builds a [`Proto`] from a service proto's JSON (what `tsrpc-cli proto` writes, as the
//! `service` attribute exposes it): the schemas are first read as they are written
//! ([`Raw`]), then resolved as tsbuffer-validator's `ProtoHelper` resolves them (`resolve`),
//! then compiled into nodes and plans (`plan`).
//!
//! Custom types: the four spellings of MongoDB's ObjectId TSRPC registers
//! (`?mongodb/ObjectId`, `?mongodb/ObjectID`, `?bson/ObjectId`, `?bson/ObjectID`) are known;
//! any other `?..` reference has no encoding here and fails when a value of it is encoded or
//! decoded.

mod plan;
mod resolve;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::error::Error;
use super::schema::{EnumMember, Ix, Lit, Proto, Scalar, Service};

/// A schema as the proto writes it, with children as indices (`Ref` for a `Reference`).
#[derive(Debug, Clone)]
enum Raw {
    /// A named schema being read (a reference back to it is a cycle only through `Ref`).
    Pending,
    Boolean,
    Number(Scalar),
    String,
    Any,
    Object,
    Date,
    ObjectId,
    Buffer,
    Array(Ix),
    Tuple {
        elems: Vec<Ix>,
        optional_start: Option<u64>,
    },
    Enum(Vec<EnumMember>),
    Literal(Lit),
    Interface(Interface),
    Mapped {
        kind: Mapped,
        target: Ix,
    },
    Union(Vec<(u64, Ix)>),
    Intersection(Vec<(u64, Ix)>),
    NonNullable(Ix),
    Ref(Ix),
    IndexedAccess {
        object: Ix,
        index: String,
    },
    Keyof(Ix),
    Unsupported(String),
}

#[derive(Debug, Clone)]
enum Mapped {
    Pick(Vec<String>),
    Omit(Vec<String>),
    Partial,
    Overwrite(Ix),
}

#[derive(Debug, Clone)]
struct Interface {
    extends: Vec<(u64, Ix)>,
    props: Vec<Prop>,
    /// `(number keys, value type)`.
    index: Option<(bool, Ix)>,
}

#[derive(Debug, Clone)]
struct Prop {
    id: u64,
    name: String,
    ty: Ix,
    optional: bool,
}

/// The reference names TSRPC maps to its `ObjectId` custom type.
const OBJECT_ID_NAMES: [&str; 4] = [
    "?mongodb/ObjectId",
    "?mongodb/ObjectID",
    "?bson/ObjectId",
    "?bson/ObjectID",
];

/// The typed arrays tsbuffer encodes (as their raw memory).
const ARRAY_TYPES: [&str; 8] = [
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Uint8Array",
    "Uint16Array",
    "Uint32Array",
    "Float32Array",
    "Float64Array",
];

struct Builder<'j> {
    types: &'j Map<String, Value>,
    raw: Vec<Raw>,
    named: FxHashMap<String, Ix>,
    /// The schema being read, for errors.
    at: String,
    flat: resolve::FlatCache,
}

impl Proto {
    /// Reads a service proto (`{"services": [..], "types": {..}}`, what `tsrpc-cli proto`
    /// writes and `TSRPC_PROTO` holds) and resolves every schema in it.
    pub fn parse(json: &str) -> Result<Proto, Error> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::proto(format!("the proto is not JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// [`Proto::parse`] for an already parsed proto.
    pub fn from_value(proto: &Value) -> Result<Proto, Error> {
        let empty = Map::new();
        let types = match proto.get("types") {
            Some(Value::Object(t)) => t,
            None => &empty,
            Some(_) => return Err(Error::proto("`types` is not an object")),
        };
        let mut b = Builder {
            types,
            raw: Vec::new(),
            named: FxHashMap::default(),
            at: String::new(),
            flat: resolve::FlatCache::default(),
        };
        let mut names = Vec::with_capacity(types.len());
        for id in types.keys() {
            names.push((id.clone(), b.named(id)?));
        }
        let services = match proto.get("services") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|s| b.service(s))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
            Some(_) => return Err(Error::proto("`services` is not an array")),
        };
        b.finish(names, services)
    }
}

fn field<'v>(obj: &'v Map<String, Value>, key: &str) -> Result<&'v Value, String> {
    obj.get(key).ok_or_else(|| format!("no `{key}`"))
}

fn as_str<'v>(obj: &'v Map<String, Value>, key: &str) -> Result<&'v str, String> {
    field(obj, key)?
        .as_str()
        .ok_or_else(|| format!("`{key}` is not a string"))
}

/// An id (of a property, a member, a parent): headers shift it left by two, so it stays far
/// below `u64`'s range.
fn as_id(v: &Value, what: &str) -> Result<u64, String> {
    v.get("id")
        .and_then(Value::as_u64)
        .filter(|&id| id <= u64::from(u32::MAX))
        .ok_or_else(|| format!("{what} without an integer `id` (at most 2^32 - 1)"))
}

fn strings(v: &Value, key: &str) -> Result<Vec<String>, String> {
    v.as_array()
        .ok_or_else(|| format!("`{key}` is not an array"))?
        .iter()
        .map(|k| {
            k.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("`{key}` holds a non-string"))
        })
        .collect()
}

impl Builder<'_> {
    fn push(&mut self, raw: Raw) -> Ix {
        self.raw.push(raw);
        (self.raw.len() - 1) as Ix
    }

    fn err(&self, what: impl std::fmt::Display) -> Error {
        if self.at.is_empty() {
            Error::proto(what.to_string())
        } else {
            Error::proto(format!("`{}`: {what}", self.at))
        }
    }

    /// The named schema `id` (a key of `types`, or a custom `?..` type), read once.
    fn named(&mut self, id: &str) -> Result<Ix, Error> {
        if let Some(&ix) = self.named.get(id) {
            return Ok(ix);
        }
        let ix = self.push(Raw::Pending);
        self.named.insert(id.to_owned(), ix);
        let body = if OBJECT_ID_NAMES.contains(&id) {
            self.push(Raw::ObjectId)
        } else if id.starts_with('?') {
            self.push(Raw::Unsupported(format!(
                "the custom type `{id}` has no binary encoding here (only ObjectId does)"
            )))
        } else {
            let Some(schema) = self.types.get(id) else {
                return Err(self.err(format!("Cannot find reference target: {id}")));
            };
            let outer = std::mem::replace(&mut self.at, id.to_owned());
            let body = self.lower(schema);
            self.at = outer;
            body?
        };
        self.raw[ix as usize] = Raw::Ref(body);
        Ok(ix)
    }

    /// Reads one schema.
    fn lower(&mut self, v: &Value) -> Result<Ix, Error> {
        let raw = self.lower_raw(v).map_err(|e| self.err(e))?;
        match raw {
            Lowered::Done(raw) => Ok(self.push(raw)),
            Lowered::Named(target) => {
                let t = self.named(&target)?;
                Ok(self.push(Raw::Ref(t)))
            }
        }
    }

    fn lower_raw(&mut self, v: &Value) -> Result<Lowered, String> {
        let obj = v.as_object().ok_or("a schema that is not an object")?;
        let kind = as_str(obj, "type")?;
        let raw = match kind {
            "Boolean" => Raw::Boolean,
            "String" => Raw::String,
            "Any" => Raw::Any,
            "Object" => Raw::Object,
            "Date" => Raw::Date,
            "Number" => Raw::Number(match obj.get("scalarType").and_then(Value::as_str) {
                None | Some("double") => Scalar::Double,
                Some("int") => Scalar::Int,
                Some("uint") => Scalar::Uint,
                Some("bigint") => Scalar::Big("bigint"),
                Some("bigint64") => Scalar::Big("bigint64"),
                Some("biguint64") => Scalar::Big("biguint64"),
                Some(other) => return Err(format!("unknown scalarType `{other}`")),
            }),
            "Buffer" => match obj.get("arrayType").and_then(Value::as_str) {
                None => Raw::Buffer,
                Some(t) if ARRAY_TYPES.contains(&t) => Raw::Buffer,
                Some(t) => Raw::Unsupported(format!("Unsupported arrayType: {t}")),
            },
            "Array" => Raw::Array(self.child(field(obj, "elementType")?)?),
            "Tuple" => {
                let elems = field(obj, "elementTypes")?
                    .as_array()
                    .ok_or("`elementTypes` is not an array")?
                    .iter()
                    .map(|e| self.child(e))
                    .collect::<Result<Vec<_>, _>>()?;
                Raw::Tuple {
                    elems,
                    optional_start: obj.get("optionalStartIndex").and_then(Value::as_u64),
                }
            }
            "Enum" => Raw::Enum(
                field(obj, "members")?
                    .as_array()
                    .ok_or("`members` is not an array")?
                    .iter()
                    .map(|m| {
                        let value = match m.get("value") {
                            Some(Value::String(s)) => Lit::Str(s.as_str().into()),
                            Some(Value::Number(n)) => Lit::Num(n.as_f64().unwrap_or(f64::NAN)),
                            _ => return Err("an enum member's value is not a string or a number"),
                        };
                        Ok(EnumMember {
                            id: as_id(m, "an enum member")
                                .map_err(|_| "an enum member without an id")?,
                            value,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            "Literal" => Raw::Literal(match obj.get("literal") {
                None => Lit::Undefined,
                Some(Value::Null) => Lit::Null,
                Some(Value::Bool(b)) => Lit::Bool(*b),
                Some(Value::Number(n)) => Lit::Num(n.as_f64().unwrap_or(f64::NAN)),
                Some(Value::String(s)) => Lit::Str(s.as_str().into()),
                Some(_) => {
                    return Err("a literal that is not a string, number, boolean or null".into())
                }
            }),
            "Interface" => Raw::Interface(self.interface(obj)?),
            "Reference" => return Ok(Lowered::Named(as_str(obj, "target")?.to_owned())),
            "IndexedAccess" => Raw::IndexedAccess {
                object: self.child(field(obj, "objectType")?)?,
                index: as_str(obj, "index")?.to_owned(),
            },
            "Keyof" => Raw::Keyof(self.child(field(obj, "target")?)?),
            "Union" | "Intersection" => {
                let members = field(obj, "members")?
                    .as_array()
                    .ok_or("`members` is not an array")?
                    .iter()
                    .map(|m| Ok((as_id(m, "a member")?, self.child(field_of(m, "type")?)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if kind == "Union" {
                    Raw::Union(members)
                } else {
                    Raw::Intersection(members)
                }
            }
            "NonNullable" => Raw::NonNullable(self.child(field(obj, "target")?)?),
            "Pick" | "Omit" => {
                let keys = strings(field(obj, "keys")?, "keys")?;
                Raw::Mapped {
                    kind: if kind == "Pick" {
                        Mapped::Pick(keys)
                    } else {
                        Mapped::Omit(keys)
                    },
                    target: self.child(field(obj, "target")?)?,
                }
            }
            "Partial" => Raw::Mapped {
                kind: Mapped::Partial,
                target: self.child(field(obj, "target")?)?,
            },
            "Overwrite" => Raw::Mapped {
                kind: Mapped::Overwrite(self.child(field(obj, "overwrite")?)?),
                target: self.child(field(obj, "target")?)?,
            },
            "Custom" => Raw::Unsupported("a Custom schema has no binary encoding here".into()),
            other => return Err(format!("unknown schema type `{other}`")),
        };
        Ok(Lowered::Done(raw))
    }

    fn child(&mut self, v: &Value) -> Result<Ix, String> {
        self.lower(v).map_err(|e| e.reason().to_owned())
    }

    fn interface(&mut self, obj: &Map<String, Value>) -> Result<Interface, String> {
        let mut extends = Vec::new();
        if let Some(list) = obj.get("extends") {
            for e in list.as_array().ok_or("`extends` is not an array")? {
                extends.push((
                    as_id(e, "an extends entry")?,
                    self.child(field_of(e, "type")?)?,
                ));
            }
        }
        let mut props = Vec::new();
        if let Some(list) = obj.get("properties") {
            for p in list.as_array().ok_or("`properties` is not an array")? {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("a property without a name")?;
                props.push(Prop {
                    id: as_id(p, "a property")?,
                    name: name.to_owned(),
                    ty: self.child(field_of(p, "type")?)?,
                    optional: p.get("optional").and_then(Value::as_bool).unwrap_or(false),
                });
            }
        }
        let index = match obj.get("indexSignature") {
            None => None,
            Some(sig) => {
                let number = match sig.get("keyType").and_then(Value::as_str) {
                    Some("String") => false,
                    Some("Number") => true,
                    _ => {
                        return Err(
                            "an index signature whose keyType is not String or Number".into()
                        )
                    }
                };
                Some((number, self.child(field_of(sig, "type")?)?))
            }
        };
        Ok(Interface {
            extends,
            props,
            index,
        })
    }

    fn service(&mut self, s: &Value) -> Result<Service, Error> {
        let bad = || Error::proto(format!("a service that is not {{id, name, type}}: {s}"));
        let id = s.get("id").and_then(Value::as_u64).ok_or_else(bad)?;
        let name = s.get("name").and_then(Value::as_str).ok_or_else(bad)?;
        let api = match s.get("type").and_then(Value::as_str) {
            Some("api") => true,
            Some("msg") => false,
            _ => return Err(bad()),
        };
        // TSRPC's ServiceMapUtil: `dir/Name` -> `dir/PtlName/ReqName` (`ResName`), or
        // `dir/MsgName/MsgName`.
        let (dir, base) = match name.rfind('/') {
            Some(i) => (&name[..=i], &name[i + 1..]),
            None => ("", name),
        };
        let mut schema = |id: String| -> Result<Option<Ix>, Error> {
            if self.types.contains_key(&id) {
                self.named(&id).map(Some)
            } else {
                Ok(None)
            }
        };
        let (req, res) = if api {
            (
                schema(format!("{dir}Ptl{base}/Req{base}"))?,
                schema(format!("{dir}Ptl{base}/Res{base}"))?,
            )
        } else {
            (schema(format!("{dir}Msg{base}/Msg{base}"))?, None)
        };
        Ok(Service {
            id,
            name: name.into(),
            api,
            req,
            res,
        })
    }
}

fn field_of<'v>(v: &'v Value, key: &str) -> Result<&'v Value, String> {
    v.get(key).ok_or_else(|| format!("no `{key}`"))
}

/// What reading one schema gave: a schema, or a reference to read by name.
enum Lowered {
    Done(Raw),
    Named(String),
}
