//! Reading a proto: the object literal of `serviceProto.ts` or a `.json` file, into the model,
//! every mistake with its `file:line:column`.

use super::{
    ArrayType, EnumMember, EnumValue, IndexKey, IndexSignature, InterfaceSchema, LiteralValue,
    Member, Pos, Property, ProtoError, ScalarType, Schema, SchemaKind, ServiceDef, ServiceKind,
    ServiceProto,
};
use crate::import::json::{self as js, Node, NodeKind};

/// The declaration in `serviceProto.ts` that holds the proto.
pub(super) const TS_DECLARATION: &str = "export const serviceProto";

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
        // A byte-order mark is not JSON; editors on Windows like to add one.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
