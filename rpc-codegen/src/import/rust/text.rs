//! Items -> Rust source text: one file of the imported folder, formatted as rustfmt would.

use std::fmt::Write as _;

use super::map::Gen;
use super::names::{serde_camel, serde_camel_variant};
use super::{Item, Mode, Ty};
use crate::import::json::write_number;

const DERIVE: &str = "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]";

/// The derive of a unit-only enum; `Default` for a literal (one variant).
fn derive_unit(default: bool) -> String {
    let default = if default { "Default, " } else { "" };
    format!("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, {default}Serialize, Deserialize, JsonSchema)]\n")
}

/// The text of file `file`, declaring `items`.
pub(crate) fn render_file(g: &Gen<'_>, file: usize, items: &[&Item]) -> String {
    let f = &g.files[file];
    let mut body = String::new();
    let cx = Cx { g, file };
    for item in items {
        body.push('\n');
        cx.item(&mut body, item);
    }
    let mut out = format!(
        "//! `{}.ts` of the TSRPC service proto, imported by rpc-codegen.\n",
        f.ts
    );
    let derives = items.iter().any(|i| !matches!(i, Item::Alias { .. }));
    if derives {
        out.push_str("\nuse schemars::JsonSchema;\nuse serde::{Deserialize, Serialize};\n");
    }
    if body.contains("rt::") {
        if !derives {
            out.push('\n');
        }
        let _ = writeln!(out, "use {}::types as rt;", g.runtime());
    }
    out.push_str(&body);
    if let Some(conf) = &f.conf {
        out.push_str(&conf_const(conf));
    }
    // Laid out as rustfmt would (prettyplease keeps doc comments, the only comments here).
    match syn::parse_file(&out) {
        Ok(parsed) => prettyplease::unparse(&parsed),
        Err(_) => out,
    }
}

/// `const CONF`: the service's TSRPC `conf` as JSON text, which the service macro reads from
/// the file (a literal, so the folder check sees it without compiling) and puts in the
/// service proto. Private: the macro reads the text, not the constant.
fn conf_const(conf: &crate::import::json::Json) -> String {
    let text = conf.to_text(crate::import::json::Layout::Compact);
    // A raw string needs more `#` than any `"#..` run in the text.
    let mut hashes = "#".to_owned();
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!(
        "\n/// TSRPC's `conf` of this service (`export const conf` in TypeScript), as JSON:\n\
         /// the service macro puts it in the service proto, where flows read it\n\
         /// (`ApiCallEvent::conf`, `ServiceDef::conf`).\n\
         #[allow(dead_code)]\nconst CONF: &str = r{hashes}\"{text}\"{hashes};\n"
    )
}

struct Cx<'a, 'p> {
    g: &'a Gen<'p>,
    file: usize,
}

fn docs(out: &mut String, lines: &[String], indent: &str) {
    for l in lines {
        let _ = writeln!(out, "{indent}///{l}");
    }
}

fn quote(s: &str) -> String {
    let mut q = String::new();
    crate::import::json::write_string(&mut q, s);
    q
}

fn number(n: f64) -> String {
    let mut s = String::new();
    write_number(&mut s, n);
    s
}

impl Cx<'_, '_> {
    fn ty(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::F64 => "f64".into(),
            Ty::I64 => "i64".into(),
            Ty::U64 => "u64".into(),
            Ty::Str => "String".into(),
            Ty::Json => "rt::JsonValue".into(),
            Ty::Unit => "()".into(),
            Ty::Vec(t) => format!("Vec<{}>", self.ty(t)),
            Ty::Tuple(ts) => {
                let inner: Vec<String> = ts.iter().map(|t| self.ty(t)).collect();
                if inner.len() == 1 {
                    format!("({},)", inner[0])
                } else {
                    format!("({})", inner.join(", "))
                }
            }
            Ty::Opt(t) => format!("Option<{}>", self.ty(t)),
            Ty::Nullable(t) => format!("rt::Nullable<{}>", self.ty(t)),
            Ty::Boxed(t) => format!("Box<{}>", self.ty(t)),
            Ty::Named { file, name } => self.g.path_to(self.file, *file, name),
            Ty::Rt(name) => format!("rt::{name}"),
            Ty::Map(t) => format!("rt::JsMap<{}>", self.ty(t)),
            Ty::LitInt(n) if *n < 0 => format!("rt::LitInt<{{ {n} }}>"),
            Ty::LitInt(n) => format!("rt::LitInt<{n}>"),
            Ty::LitBool(b) => format!("rt::LitBool<{b}>"),
        }
    }

    fn item(&self, out: &mut String, item: &Item) {
        match item {
            Item::Struct {
                name,
                doc,
                fields,
                rest,
            } => {
                docs(out, doc, "");
                out.push_str(DERIVE);
                out.push('\n');
                let unraw = |r: &str| r.strip_prefix("r#").unwrap_or(r).to_owned();
                let camel = fields.iter().any(|f| unraw(&f.rust) != f.json);
                if camel {
                    out.push_str("#[serde(rename_all = \"camelCase\")]\n");
                }
                if fields.is_empty() && rest.is_none() {
                    let _ = writeln!(out, "pub struct {name} {{}}");
                    return;
                }
                let _ = writeln!(out, "pub struct {name} {{");
                for f in fields {
                    docs(out, &f.doc, "    ");
                    let mut attrs: Vec<String> = Vec::new();
                    let json_name = if camel {
                        serde_camel(&f.rust)
                    } else {
                        unraw(&f.rust)
                    };
                    if json_name != f.json {
                        attrs.push(format!("rename = {}", quote(&f.json)));
                    }
                    let inner = self.ty(&f.ty);
                    let ty = match f.mode {
                        Mode::Required => inner,
                        Mode::Default => {
                            attrs.push("default".into());
                            inner
                        }
                        Mode::Optional => {
                            attrs.push("default, skip_serializing_if = \"Option::is_none\"".into());
                            format!("Option<{inner}>")
                        }
                        Mode::Nullable => {
                            attrs.push("default".into());
                            format!("rt::Nullable<{inner}>")
                        }
                        Mode::OptionalNullable => {
                            attrs.push(
                                "default, skip_serializing_if = \"Option::is_none\", deserialize_with = \"rt::nullable\""
                                    .into(),
                            );
                            format!("Option<Option<{inner}>>")
                        }
                    };
                    if !attrs.is_empty() {
                        let _ = writeln!(out, "    #[serde({})]", attrs.join(", "));
                    }
                    let _ = writeln!(out, "    pub {}: {ty},", f.rust);
                }
                if let Some(rest) = rest {
                    let taken = |n: &str| fields.iter().any(|f| f.rust == n);
                    let extra = ["extra", "extra_fields", "index_signature"]
                        .into_iter()
                        .find(|n| !taken(n))
                        .unwrap_or("rest_");
                    out.push_str("    /// The index signature: every other key.\n");
                    out.push_str("    #[serde(flatten)]\n");
                    let _ = writeln!(out, "    pub {extra}: rt::JsMap<{}>,", self.ty(rest));
                }
                out.push_str("}\n");
            }
            Item::TupleStruct {
                name,
                doc,
                elems,
                optional_from,
            } => {
                docs(out, doc, "");
                let optional = elems.len().saturating_sub(*optional_from);
                let transparent = *optional_from == usize::MAX;
                if optional > 1 {
                    out.push_str("#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]\n");
                } else {
                    out.push_str(DERIVE);
                    out.push('\n');
                }
                if transparent {
                    out.push_str("#[serde(transparent)]\n");
                }
                let parts: Vec<String> = elems
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if i >= *optional_from && !transparent {
                            format!(
                                "#[serde(default, skip_serializing_if = \"Option::is_none\")] pub Option<{}>",
                                self.ty(t)
                            )
                        } else {
                            format!("pub {}", self.ty(t))
                        }
                    })
                    .collect();
                let _ = writeln!(out, "pub struct {name}({});", parts.join(", "));
                if optional > 1 {
                    self.tuple_serialize(out, name, elems.len(), *optional_from);
                }
            }
            Item::StrEnum {
                name,
                doc,
                variants,
                ..
            } => {
                docs(out, doc, "");
                out.push_str(&derive_unit(variants.len() == 1));
                let camel = variants
                    .iter()
                    .filter(|(v, value)| serde_camel_variant(v) == *value)
                    .count()
                    > variants.len() / 2;
                if camel {
                    out.push_str("#[serde(rename_all = \"camelCase\")]\n");
                }
                let _ = writeln!(out, "pub enum {name} {{");
                for (v, value) in variants {
                    if variants.len() == 1 {
                        out.push_str("    #[default]\n");
                    }
                    let written = if camel {
                        serde_camel_variant(v)
                    } else {
                        v.strip_prefix("r#").unwrap_or(v).to_owned()
                    };
                    if written != *value {
                        let _ = writeln!(out, "    #[serde(rename = {})]", quote(value));
                    }
                    let _ = writeln!(out, "    {v},");
                }
                out.push_str("}\n");
            }
            Item::NumEnum {
                name,
                doc,
                variants,
                ..
            } => self.num_enum(out, name, doc, variants),
            Item::Untagged {
                name,
                doc,
                variants,
                ..
            } => {
                docs(out, doc, "");
                out.push_str(DERIVE);
                out.push_str("\n#[serde(untagged)]\n");
                let _ = writeln!(out, "pub enum {name} {{");
                for (v, t) in variants {
                    let _ = writeln!(out, "    {v}({}),", self.ty(t));
                }
                out.push_str("}\n");
            }
            Item::Alias { name, doc, ty } => {
                docs(out, doc, "");
                let _ = writeln!(out, "pub type {name} = {};", self.ty(ty));
            }
        }
    }

    /// A numeric enum: written and read as its number through `into` / `try_from`.
    fn num_enum(&self, out: &mut String, name: &str, doc: &[String], variants: &[(String, f64)]) {
        let integral = variants
            .iter()
            .all(|(_, v)| v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_991.0);
        let repr = if integral { "i64" } else { "f64" };
        docs(out, doc, "");
        out.push_str(&derive_unit(variants.len() == 1));
        let values: Vec<String> = variants.iter().map(|(_, v)| number(*v)).collect();
        let _ = writeln!(
            out,
            "#[serde(into = \"{repr}\", try_from = \"{repr}\")]\n#[schemars(extend(\"enum\" = [{}]))]",
            values.join(", ")
        );
        let _ = writeln!(out, "pub enum {name} {{");
        for (v, value) in variants {
            let _ = writeln!(out, "    /// `{}`.", number(*value));
            if variants.len() == 1 {
                out.push_str("    #[default]\n");
            }
            let _ = writeln!(out, "    {v},");
        }
        out.push_str("}\n");
        let lit = |v: f64| {
            let n = number(v);
            if integral || n.contains(['.', 'e']) {
                n
            } else {
                format!("{n}.0")
            }
        };
        let _ = writeln!(out, "\nimpl From<{name}> for {repr} {{");
        let _ = writeln!(out, "    fn from(value: {name}) -> {repr} {{");
        out.push_str("        match value {\n");
        for (v, value) in variants {
            let _ = writeln!(out, "            {name}::{v} => {},", lit(*value));
        }
        out.push_str("        }\n    }\n}\n");
        let _ = writeln!(out, "\nimpl TryFrom<{repr}> for {name} {{");
        out.push_str("    type Error = String;\n");
        let _ = writeln!(
            out,
            "    fn try_from(value: {repr}) -> Result<Self, String> {{"
        );
        if integral {
            out.push_str("        match value {\n");
            for (v, value) in variants {
                let _ = writeln!(out, "            {} => Ok({name}::{v}),", lit(*value));
            }
            out.push_str(
                "            _ => Err(format!(\"`{value}` is not a valid enum member.\")),\n        }\n",
            );
        } else {
            for (v, value) in variants {
                let _ = writeln!(
                    out,
                    "        if value == {} {{\n            return Ok({name}::{v});\n        }}",
                    lit(*value)
                );
            }
            out.push_str("        Err(format!(\"`{value}` is not a valid enum member.\"))\n");
        }
        out.push_str("    }\n}\n");
    }

    /// `Serialize` for a tuple with several optional elements: trailing `None`s are left
    /// out (JavaScript's shorter array), one before a `Some` is written `null`.
    fn tuple_serialize(&self, out: &mut String, name: &str, len: usize, optional_from: usize) {
        let _ = writeln!(out, "\nimpl Serialize for {name} {{");
        out.push_str(
            "    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {\n",
        );
        out.push_str("        use serde::ser::SerializeSeq;\n");
        let mut cond = String::from("        let len = ");
        for i in (optional_from..len).rev() {
            let _ = write!(cond, "if self.{i}.is_some() {{ {} }} else ", i + 1);
        }
        let _ = writeln!(cond, "{{ {optional_from} }};");
        out.push_str(&cond);
        out.push_str("        let mut seq = serializer.serialize_seq(Some(len))?;\n");
        for i in 0..len {
            if i < optional_from {
                let _ = writeln!(out, "        seq.serialize_element(&self.{i})?;");
            } else {
                let _ = writeln!(
                    out,
                    "        if len > {i} {{\n            seq.serialize_element(&self.{i})?;\n        }}"
                );
            }
        }
        out.push_str("        seq.end()\n    }\n}\n");
    }
}
