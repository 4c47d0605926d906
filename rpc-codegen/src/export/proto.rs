//! [`Ir`] -> the service proto that `tsrpc-cli proto` writes for the TypeScript files of
//! `ts.rs` on a first generation (no old proto): the shared model
//! [`crate::import::proto::ServiceProto`], so the export, the lock and the importer read and
//! write one format.
//!
//! Three things must come out as tsrpc-cli makes them, because ids and order are compared
//! byte for byte by the lock and by TSRPC clients in binary mode:
//!
//! - **Service order and ids**: the files in glob's order ([`super::glob_order`]), ids 0, 1, ..
//!   in that order.
//! - **Type order**: for each file in that order, its `Req`/`Res`/`Msg` types in declaration
//!   order, each followed depth-first by the types it references (tsbuffer-proto-generator's
//!   `_addToOutput`: a type is added, then every `Reference` it holds, in the order of
//!   [`references`], each before the next).
//! - **Fresh ids**: properties, union / intersection members and `extends` entries numbered
//!   by position (tsbuffer-proto-generator's AST parser), before the lock renumbers them
//!   ([`crate::lock`]).

use std::collections::HashMap;

use super::glob_order;
use super::ir::{Body, Decl, Ir, Prop, Service, Ty};
use crate::import::proto::{
    ArrayType, EnumMember, EnumValue, IndexKey, IndexSignature, InterfaceSchema, LiteralValue,
    Member, Property, ScalarType, Schema, SchemaKind, ServiceDef, ServiceKind, ServiceProto,
};

/// The whole proto, with fresh ids and no `version` (a first generation).
pub(crate) fn service_proto(ir: &Ir) -> ServiceProto {
    // The declaring file and declarations of every type, by schema id.
    let mut decls: HashMap<String, &Decl> = HashMap::new();
    for file in &ir.files {
        for d in &file.decls {
            decls.insert(format!("{}/{}", file.path, d.name), d);
        }
    }
    let mut files: Vec<(&str, &Service)> = ir
        .services
        .iter()
        .map(|s| match s {
            Service::Api { file, .. } | Service::Msg { file, .. } => (file.as_str(), s),
        })
        .collect();
    files.sort_by(|(a, _), (b, _)| glob_order::compare(&format!("{a}.ts"), &format!("{b}.ts")));

    let mut services = Vec::new();
    let mut types: Vec<(String, Schema)> = Vec::new();
    for (id, (file, service)) in files.into_iter().enumerate() {
        let (name, kind, conf) = match service {
            Service::Api { name, conf, .. } => (name, ServiceKind::Api, conf),
            Service::Msg { name, conf, .. } => (name, ServiceKind::Msg, conf),
        };
        let def = ServiceDef {
            id: id as u32,
            name: name.clone(),
            kind,
            // Checked to be a JSON object when the folder was read.
            conf: conf
                .as_deref()
                .and_then(|c| crate::import::json::parse(c).ok())
                .map(|node| node.to_json()),
        };
        // tsrpc-cli walks the file's declarations in order and keeps the service's own.
        let own = def.type_ids();
        if let Some(ir_file) = ir.files.iter().find(|f| f.path == file) {
            for d in &ir_file.decls {
                let id = format!("{file}/{}", d.name);
                if own.contains(&id) {
                    add(&id, &decls, &mut types);
                }
            }
        }
        services.push(def);
    }
    ServiceProto {
        version: None,
        services,
        types,
    }
}

/// Adds the type `id` (unless it is there) and then, depth-first, every type it references.
fn add(id: &str, decls: &HashMap<String, &Decl>, types: &mut Vec<(String, Schema)>) {
    if types.iter().any(|(k, _)| k == id) {
        return;
    }
    // The lowering only refers to declarations it lowered, so every id is found.
    let Some(d) = decls.get(id) else { return };
    let schema = decl(d);
    let refs: Vec<String> = references(&schema).into_iter().map(str::to_owned).collect();
    types.push((id.to_owned(), schema));
    for target in refs {
        add(&target, decls, types);
    }
}

/// The `Reference` targets a schema holds, in tsbuffer-proto-generator's order
/// (`SchemaUtil.getUsedReferences`): array element, tuple elements, interface `extends` then
/// properties then index signature, indexed-access object, union / intersection members, and
/// the targets of `Pick`, `Omit`, `Partial`, `NonNullable`, `Keyof`, `Overwrite`.
pub(crate) fn references(schema: &Schema) -> Vec<&str> {
    fn walk<'a>(s: &'a Schema, out: &mut Vec<&'a str>) {
        match &s.kind {
            SchemaKind::Array { element_type } => walk(element_type, out),
            SchemaKind::Tuple { element_types, .. } => {
                element_types.iter().for_each(|e| walk(e, out));
            }
            SchemaKind::Interface(i) => {
                for m in i.extends.iter().flatten() {
                    walk(&m.ty, out);
                }
                for p in i.properties.iter().flatten() {
                    walk(&p.ty, out);
                }
                if let Some(sig) = &i.index_signature {
                    walk(&sig.ty, out);
                }
            }
            SchemaKind::IndexedAccess { object_type, .. } => walk(object_type, out),
            SchemaKind::Reference { target } => out.push(target),
            SchemaKind::Union { members } | SchemaKind::Intersection { members } => {
                members.iter().for_each(|m| walk(&m.ty, out));
            }
            SchemaKind::Pick { target, .. }
            | SchemaKind::Omit { target, .. }
            | SchemaKind::Partial { target }
            | SchemaKind::NonNullable { target }
            | SchemaKind::Keyof { target } => walk(target, out),
            SchemaKind::Overwrite { target, overwrite } => {
                walk(target, out);
                walk(overwrite, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, &mut out);
    out
}

fn decl(d: &Decl) -> Schema {
    match &d.body {
        Body::Interface {
            extends,
            props,
            index,
        } => interface(
            extends,
            props,
            index.as_ref().map(|value| IndexSignature {
                key_type: IndexKey::String,
                ty: Box::new(schema(value)),
            }),
        ),
        Body::Alias(t) => schema(t),
        Body::NumberEnum(members) => SchemaKind::Enum {
            members: members
                .iter()
                .enumerate()
                .map(|(id, (_, value))| EnumMember {
                    id: id as u32,
                    value: EnumValue::Number(value.parse().unwrap_or(0.0)),
                })
                .collect(),
        }
        .into(),
    }
}

/// Members numbered by position, as the AST parser numbers them.
fn members(v: &[Ty]) -> Vec<Member> {
    v.iter()
        .enumerate()
        .map(|(id, t)| Member {
            id: id as u32,
            ty: schema(t),
        })
        .collect()
}

/// An interface; absent lists stay absent (`{"type":"Interface"}` for an empty one).
fn interface(extends: &[Ty], props: &[Prop], index: Option<IndexSignature>) -> Schema {
    let properties: Vec<Property> = props
        .iter()
        .enumerate()
        .map(|(id, p)| Property {
            id: id as u32,
            name: p.name.clone(),
            ty: schema(&p.ty),
            optional: p.optional,
            comment: None,
        })
        .collect();
    SchemaKind::Interface(InterfaceSchema {
        extends: (!extends.is_empty()).then(|| members(extends)),
        properties: (!properties.is_empty()).then_some(properties),
        index_signature: index,
    })
    .into()
}

/// The TSBuffer schema of a type, as tsrpc-cli writes it.
fn schema(t: &Ty) -> Schema {
    let number = |scalar_type| SchemaKind::Number { scalar_type }.into();
    let literal = |l: LiteralValue| SchemaKind::Literal { literal: Some(l) }.into();
    match t {
        Ty::Number => number(None),
        Ty::Uint => number(Some(ScalarType::Uint)),
        Ty::Int => number(Some(ScalarType::Int)),
        Ty::String => SchemaKind::String.into(),
        Ty::Boolean => SchemaKind::Boolean.into(),
        Ty::Any => SchemaKind::Any.into(),
        Ty::Null => literal(LiteralValue::Null),
        Ty::Date => SchemaKind::Date.into(),
        Ty::Bytes => SchemaKind::Buffer {
            array_type: Some(ArrayType::Uint8Array),
        }
        .into(),
        Ty::Literal(s) => literal(LiteralValue::String(s.clone())),
        Ty::NumLiteral(n) => literal(LiteralValue::Number(n.parse().unwrap_or(0.0))),
        Ty::BoolLiteral(b) => literal(LiteralValue::Bool(*b)),
        Ty::Buffer(name) => SchemaKind::Buffer {
            array_type: ArrayType::from_name(name),
        }
        .into(),
        Ty::ObjectId => SchemaKind::Reference {
            target: "?mongodb/ObjectId".to_owned(),
        }
        .into(),
        Ty::Array(e) => SchemaKind::Array {
            element_type: Box::new(schema(e)),
        }
        .into(),
        Ty::Tuple(v) => SchemaKind::Tuple {
            element_types: v.iter().map(schema).collect(),
            optional_start_index: None,
        }
        .into(),
        Ty::Ref { file, name } => SchemaKind::Reference {
            target: format!("{file}/{name}"),
        }
        .into(),
        Ty::Object(props) => interface(&[], props, None),
        Ty::Index { numeric, value } => interface(
            &[],
            &[],
            Some(IndexSignature {
                key_type: if *numeric {
                    IndexKey::Number
                } else {
                    IndexKey::String
                },
                ty: Box::new(schema(value)),
            }),
        ),
        Ty::Union(v) => SchemaKind::Union {
            members: members(v),
        }
        .into(),
        Ty::Intersection(v) => SchemaKind::Intersection {
            members: members(v),
        }
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::ir::IrFile;
    use super::*;

    fn reference(file: &str, name: &str) -> Ty {
        Ty::Ref {
            file: file.to_owned(),
            name: name.to_owned(),
        }
    }

    fn prop(name: &str, ty: Ty) -> Prop {
        Prop {
            name: name.to_owned(),
            optional: false,
            ty,
            docs: Vec::new(),
        }
    }

    fn interface_decl(name: &str, props: Vec<Prop>) -> Decl {
        Decl {
            name: name.to_owned(),
            docs: Vec::new(),
            body: Body::Interface {
                extends: Vec::new(),
                props,
                index: None,
            },
        }
    }

    /// Two files listed in folder order (`MsgB` before `game/..`, `PtlA` after): the proto
    /// lists them as glob does, types depth-first from each service's own.
    #[test]
    fn services_and_types_in_tsrpc_cli_order() {
        let ir = Ir {
            files: vec![
                IrFile {
                    path: "PtlA".into(),
                    decls: vec![
                        // Res declared first: tsrpc-cli keeps the file's order.
                        interface_decl("ResA", vec![prop("u", reference("base", "User"))]),
                        interface_decl("ReqA", vec![]),
                    ],
                },
                IrFile {
                    path: "base".into(),
                    decls: vec![
                        interface_decl("User", vec![prop("r", reference("base", "Role"))]),
                        Decl {
                            name: "Role".into(),
                            docs: Vec::new(),
                            body: Body::Alias(Ty::Union(vec![
                                Ty::Literal("a".into()),
                                Ty::Literal("b".into()),
                            ])),
                        },
                    ],
                },
                IrFile {
                    path: "game/MsgB".into(),
                    decls: vec![interface_decl(
                        "MsgB",
                        vec![prop("x", Ty::Uint), prop("r", reference("base", "Role"))],
                    )],
                },
            ],
            services: vec![
                Service::Api {
                    name: "A".into(),
                    file: "PtlA".into(),
                    conf: None,
                },
                Service::Msg {
                    name: "game/B".into(),
                    file: "game/MsgB".into(),
                    conf: None,
                },
            ],
        };
        let proto = service_proto(&ir);
        let services: Vec<(u32, &str)> = proto
            .services
            .iter()
            .map(|s| (s.id, s.name.as_str()))
            .collect();
        assert_eq!(services, [(0, "game/B"), (1, "A")]);
        let ids: Vec<&str> = proto.types.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            ids,
            [
                "game/MsgB/MsgB",
                "base/Role",
                "PtlA/ResA",
                "base/User",
                "PtlA/ReqA"
            ]
        );
        assert_eq!(proto.version, None);
        // Fresh property ids are positions; an empty interface has no `properties`.
        let Some(SchemaKind::Interface(msg)) = proto.get("game/MsgB/MsgB").map(|s| &s.kind) else {
            panic!("MsgB is an interface")
        };
        let props = msg.properties.as_deref().unwrap_or_default();
        assert_eq!(
            props
                .iter()
                .map(|p| (p.id, p.name.as_str()))
                .collect::<Vec<_>>(),
            [(0, "x"), (1, "r")]
        );
        assert_eq!(
            proto
                .get("PtlA/ReqA")
                .map(|s| s.to_json().to_text(crate::import::proto::Layout::Compact)),
            Some(r#"{"type":"Interface"}"#.to_owned())
        );
    }
}
