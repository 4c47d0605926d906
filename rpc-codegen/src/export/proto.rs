//! [`Ir`] -> a service proto document shaped like TSRPC's `ServiceProto` (TSRPC-WIRE.md c.6):
//! `services` (id, name, type) and `types` (TSBuffer schemas keyed `<file>/<Type>`).

use super::lower::{Body, Decl, Ir, Prop, Service, Ty};

/// A JSON value, written by hand (the crate has no serde_json).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Num(u64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Json {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn s(s: &str) -> Json {
        Json::Str(s.to_owned())
    }

    /// Indented with 4 spaces, like tsrpc-cli's `.json` output.
    pub(crate) fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = |n: usize| "    ".repeat(n);
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(&n.to_string()),
            Json::Str(s) => write_str(out, s),
            Json::Arr(v) if v.is_empty() => out.push_str("[]"),
            Json::Obj(v) if v.is_empty() => out.push_str("{}"),
            Json::Arr(v) => {
                out.push_str("[\n");
                for (i, e) in v.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    e.write(out, depth + 1);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push(']');
            }
            Json::Obj(v) => {
                out.push_str("{\n");
                for (i, (k, e)) in v.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    write_str(out, k);
                    out.push_str(": ");
                    e.write(out, depth + 1);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The whole document.
pub(crate) fn document(name: &str, ir: &Ir) -> Json {
    let services = ir
        .services
        .iter()
        .enumerate()
        .map(|(id, s)| {
            let (name, kind) = match s {
                Service::Api { name, .. } => (name, "api"),
                Service::Msg { name, .. } => (name, "msg"),
            };
            Json::obj([
                ("id", Json::Num(id as u64)),
                ("name", Json::s(name)),
                ("type", Json::s(kind)),
            ])
        })
        .collect();
    let mut types = Vec::new();
    for file in &ir.files {
        for d in &file.decls {
            types.push((format!("{}/{}", file.path, d.name), decl(d)));
        }
    }
    Json::obj([
        ("name", Json::s(name)),
        ("services", Json::Arr(services)),
        ("types", Json::Obj(types)),
    ])
}

fn decl(d: &Decl) -> Json {
    match &d.body {
        Body::Interface { extends, props } => interface(extends, props),
        Body::Alias(t) => schema(t),
    }
}

fn interface(extends: &[Ty], props: &[Prop]) -> Json {
    let mut out = vec![("type".to_owned(), Json::s("Interface"))];
    if !extends.is_empty() {
        out.push((
            "extends".to_owned(),
            Json::Arr(
                extends
                    .iter()
                    .enumerate()
                    .map(|(id, t)| Json::obj([("id", Json::Num(id as u64)), ("type", schema(t))]))
                    .collect(),
            ),
        ));
    }
    if !props.is_empty() {
        out.push((
            "properties".to_owned(),
            Json::Arr(
                props
                    .iter()
                    .enumerate()
                    .map(|(id, p)| {
                        let mut o = vec![
                            ("id".to_owned(), Json::Num(id as u64)),
                            ("name".to_owned(), Json::s(&p.name)),
                            ("type".to_owned(), schema(&p.ty)),
                        ];
                        if p.optional {
                            o.push(("optional".to_owned(), Json::Bool(true)));
                        }
                        Json::Obj(o)
                    })
                    .collect(),
            ),
        ));
    }
    Json::Obj(out)
}

fn members(v: &[Ty]) -> Json {
    Json::Arr(
        v.iter()
            .enumerate()
            .map(|(id, t)| Json::obj([("id", Json::Num(id as u64)), ("type", schema(t))]))
            .collect(),
    )
}

/// The TSBuffer schema of a type, as tsrpc-cli writes it.
fn schema(t: &Ty) -> Json {
    let ty = |s: &str| ("type", Json::s(s));
    match t {
        Ty::Number => Json::obj([ty("Number")]),
        Ty::Uint => Json::obj([ty("Number"), ("scalarType", Json::s("uint"))]),
        Ty::Int => Json::obj([ty("Number"), ("scalarType", Json::s("int"))]),
        Ty::String => Json::obj([ty("String")]),
        Ty::Boolean => Json::obj([ty("Boolean")]),
        Ty::Any => Json::obj([ty("Any")]),
        Ty::Null => Json::obj([ty("Literal"), ("literal", Json::Null)]),
        Ty::Date => Json::obj([ty("Date")]),
        Ty::Bytes => Json::obj([ty("Buffer"), ("arrayType", Json::s("Uint8Array"))]),
        Ty::Literal(s) => Json::obj([ty("Literal"), ("literal", Json::s(s))]),
        Ty::Array(e) => Json::obj([ty("Array"), ("elementType", schema(e))]),
        Ty::Tuple(v) => Json::obj([
            ty("Tuple"),
            ("elementTypes", Json::Arr(v.iter().map(schema).collect())),
        ]),
        Ty::Ref { file, name } => Json::obj([
            ty("Reference"),
            ("target", Json::Str(format!("{file}/{name}"))),
        ]),
        Ty::Object(props) => interface(&[], props),
        Ty::Index { numeric, value } => Json::obj([
            ty("Interface"),
            (
                "indexSignature",
                Json::obj([
                    (
                        "keyType",
                        Json::s(if *numeric { "Number" } else { "String" }),
                    ),
                    ("type", schema(value)),
                ]),
            ),
        ]),
        Ty::Union(v) => Json::obj([ty("Union"), ("members", members(v))]),
        Ty::Intersection(v) => Json::obj([ty("Intersection"), ("members", members(v))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text() {
        let j = Json::obj([
            ("a", Json::Arr(vec![Json::Num(1), Json::Null])),
            ("b\"", Json::Obj(vec![])),
            ("c", Json::s("x\ny\u{1}")),
        ]);
        assert_eq!(
            j.pretty(),
            "{\n    \"a\": [\n        1,\n        null\n    ],\n    \"b\\\"\": {},\n    \"c\": \"x\\ny\\u0001\"\n}\n"
        );
    }
}
