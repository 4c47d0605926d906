//! Schema -> Rust type: the primitives and runtime types directly, a declaration (struct, enum,
//! tuple struct) for what needs one.

use super::union::{num_enum, str_enum};
use super::*;

impl Gen<'_> {
    /// A request, response or message type: always a struct or an enum of its own (the glue
    /// implements the protocol traits on it; an alias such as `type ReqX = Other` is refused
    /// by the folder's wire rules), with the JSON of what it stands for.
    pub(super) fn make_service_type(
        &mut self,
        s: &Schema,
        loc: &Loc,
        name: &str,
        doc: Vec<String>,
    ) -> Res<Made> {
        let (resolved, _) = self.res.deref(s, &loc.path)?;
        let made = match &resolved.kind {
            // Through the reference, so that the properties keep their declaring type.
            SchemaKind::Interface(_) | SchemaKind::Intersection { .. } => {
                let flat = self.res.flatten(s, &loc.owner, &loc.path, 0)?;
                self.object(flat, loc, name.to_owned(), doc.clone())?
            }
            _ => self.make(&resolved, loc, name, doc.clone())?,
        };
        match made {
            Made::Item(..) => Ok(made),
            // A bare index signature: a struct of the flattened map alone.
            Made::Val(Val {
                ty: Ty::Map(value), ..
            }) => Ok(Made::Item(
                Item::Struct {
                    name: name.to_owned(),
                    doc,
                    fields: Vec::new(),
                    rest: Some(*value),
                },
                false,
                false,
            )),
            Made::Val(_) => Err(unsupported(
                &loc.path,
                format!(
                    "a TSRPC request, response or message that is {}: the service needs an object type (an interface) or a union",
                    describe(&resolved)
                ),
            )),
        }
    }

    /// A schema that may need a declaration, named `name`.
    pub(super) fn make(
        &mut self,
        s: &Schema,
        loc: &Loc,
        name: &str,
        doc: Vec<String>,
    ) -> Res<Made> {
        let name = name.to_owned();
        match &s.kind {
            SchemaKind::Interface(_) | SchemaKind::Intersection { .. } => {
                let flat = self.res.flatten(s, &loc.owner, &loc.path, 0)?;
                self.object(flat, loc, name, doc)
            }
            SchemaKind::Pick { .. }
            | SchemaKind::Omit { .. }
            | SchemaKind::Partial { .. }
            | SchemaKind::Overwrite { .. } => match self.res.mapped(s, &loc.owner, &loc.path)? {
                Mapped::Object(flat) => self.object(flat, loc, name, doc),
                Mapped::Union(members) => self.union(&members, loc, name, doc),
            },
            SchemaKind::Union { members } => self.union(members, loc, name, doc),
            SchemaKind::Enum { members } => {
                let strings: Vec<(u32, String)> = members
                    .iter()
                    .filter_map(|m| match &m.value {
                        EnumValue::String(s) => Some((m.id, s.clone())),
                        EnumValue::Number(_) => None,
                    })
                    .collect();
                let numbers: Vec<(u32, f64)> = members
                    .iter()
                    .filter_map(|m| match m.value {
                        EnumValue::Number(n) => Some((m.id, n)),
                        EnumValue::String(_) => None,
                    })
                    .collect();
                if !strings.is_empty() && !numbers.is_empty() {
                    return Err(unsupported(
                        &loc.path,
                        "an enum that mixes string and number values cannot be represented",
                    ));
                }
                let item = if strings.is_empty() {
                    num_enum(name, doc, &numbers)
                } else {
                    str_enum(name, doc, &strings)
                };
                Ok(Made::Item(item, false, false))
            }
            SchemaKind::Keyof { target } => {
                let keys = self.res.keyof(target, &loc.path)?;
                if keys.open {
                    Ok(Made::Val(Val::plain(Ty::Str)))
                } else {
                    let keys: Vec<(u32, String)> = (0..).zip(keys.names.iter().cloned()).collect();
                    Ok(Made::Item(str_enum(name, doc, &keys), false, false))
                }
            }
            SchemaKind::Literal {
                literal: Some(LiteralValue::String(v)),
            } => Ok(Made::Item(
                str_enum(name, doc, &[(0, v.clone())]),
                false,
                false,
            )),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Number(n)),
            } if !is_int_literal(*n) => {
                Ok(Made::Item(num_enum(name, doc, &[(0, *n)]), false, false))
            }
            SchemaKind::Tuple {
                element_types,
                optional_start_index,
            } => {
                let mut elems = Vec::new();
                for (i, e) in element_types.iter().enumerate() {
                    let v = self.value(
                        e,
                        &loc.child(&format!("[{i}]"), &format!("{i}"), &format!("[{i}]")),
                    )?;
                    elems.push(v.nested());
                }
                let optional_from = optional_start_index.map_or(elems.len(), |i| i as usize);
                if optional_from >= elems.len() && !elems.is_empty() && elems.len() <= 12 {
                    return Ok(Made::Val(Val::plain(Ty::Tuple(elems))));
                }
                Ok(Made::Item(
                    Item::TupleStruct {
                        name,
                        doc,
                        elems,
                        optional_from: optional_from.min(element_types.len()),
                    },
                    false,
                    false,
                ))
            }
            _ => Ok(Made::Val(self.value(s, loc)?)),
        }
    }

    /// The Rust type of a schema at `loc`.
    pub(super) fn value(&mut self, s: &Schema, loc: &Loc) -> Res<Val> {
        let plain = |ty| Ok(Val::plain(ty));
        match &s.kind {
            SchemaKind::Boolean => plain(Ty::Bool),
            SchemaKind::Number { scalar_type } => match scalar_type {
                None | Some(ScalarType::Double) => plain(Ty::F64),
                Some(ScalarType::Int) => plain(Ty::I64),
                Some(ScalarType::Uint) => plain(Ty::U64),
                Some(big) => Err(unsupported(
                    &loc.path,
                    format!(
                        "`{}` cannot be imported: TSRPC cannot send it (JSON mode: `JSON.stringify` throws on a BigInt; binary mode: `Scalar type not support : {}`)",
                        big.as_str(),
                        big.as_str()
                    ),
                )),
            },
            SchemaKind::String => plain(Ty::Str),
            SchemaKind::Any | SchemaKind::Object => plain(Ty::Json),
            SchemaKind::Date => plain(Ty::Rt("Date")),
            SchemaKind::Array { element_type } => {
                let v = self.value(element_type, &loc.child("[]", "Item", "[]"))?;
                plain(Ty::Vec(Box::new(v.nested())))
            }
            SchemaKind::Literal { literal: None } => Ok(Val {
                ty: Ty::Unit,
                null: false,
                undef: true,
            }),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Null),
            } => plain(Ty::Unit),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Bool(b)),
            } => plain(Ty::LitBool(*b)),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Number(n)),
            } if is_int_literal(*n) => plain(Ty::LitInt(*n as i64)),
            SchemaKind::Buffer { array_type } => match array_type {
                None | Some(ArrayType::Uint8Array) => plain(Ty::Rt("Bytes")),
                Some(ArrayType::Int8Array) => plain(Ty::Rt("Int8Array")),
                Some(ArrayType::Int16Array) => plain(Ty::Rt("Int16Array")),
                Some(ArrayType::Int32Array) => plain(Ty::Rt("Int32Array")),
                Some(ArrayType::Uint16Array) => plain(Ty::Rt("Uint16Array")),
                Some(ArrayType::Uint32Array) => plain(Ty::Rt("Uint32Array")),
                Some(ArrayType::Float32Array) => plain(Ty::Rt("Float32Array")),
                Some(ArrayType::Float64Array) => plain(Ty::Rt("Float64Array")),
                Some(big) => Err(unsupported(
                    &loc.path,
                    format!(
                        "`{}` cannot be imported: TSBuffer cannot encode it (binary mode fails on it)",
                        big.as_str()
                    ),
                )),
            },
            SchemaKind::Reference { target } if OBJECT_IDS.contains(&target.as_str()) => {
                plain(Ty::Rt("ObjectId"))
            }
            SchemaKind::Reference { target } if target.starts_with('?') => Err(unsupported(
                &loc.path,
                format!("the custom type `{target}` cannot be imported (only MongoDB's `ObjectId` is known)"),
            )),
            SchemaKind::Reference { target } => self.reference(target, &loc.path),
            SchemaKind::IndexedAccess {
                object_type,
                index,
            } => {
                let prop = self.res.indexed_access(object_type, index, &loc.path)?;
                let mut v = self.field(&prop, &loc.path)?;
                if prop.optional {
                    v.undef = true;
                }
                Ok(v)
            }
            SchemaKind::NonNullable { target } => {
                let inner = self.res.non_nullable(target, &loc.path)?;
                let v = self.value(&inner, loc)?;
                Ok(Val::plain(v.ty))
            }
            SchemaKind::Custom => Err(unsupported(
                &loc.path,
                "a custom type cannot be imported (its functions are not in the proto)",
            )),
            _ => self.inline(s, loc),
        }
    }
}
