//! Writing a proto back as tsrpc-cli writes it: the whole `serviceProto.ts`, the JSON layouts
//! of `JSON.stringify`, and a one-line-per-entry form.

use super::read::TS_DECLARATION;
use super::{
    EnumValue, IndexKey, Json, Layout, LiteralValue, Member, Property, Schema, SchemaKind,
    ServiceDef, ServiceKind, ServiceProto,
};
use crate::import::json as js;

impl ServiceProto {
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
