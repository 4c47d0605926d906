//! [`Ir`] -> TypeScript protocol files, written the way TSRPC's own are: 4-space indent,
//! `export interface`, `/** */` docs, `import { int, uint } from 'tsrpc-proto'`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::ir::{decl_refs, Body, Decl, IrFile, Prop, Ty};

const INDENT: &str = "    ";

/// The text of one file; `conf`: the `conf` of the service it declares, as JSON.
pub(crate) fn render_file(file: &IrFile, conf: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str(super::GENERATED_MARKER);
    out.push('\n');
    let mut scalars = BTreeSet::new();
    for d in &file.decls {
        decl_scalars(d, &mut scalars);
    }
    if scalars.remove("ObjectId") {
        out.push_str("import { ObjectId } from 'mongodb';\n");
    }
    if !scalars.is_empty() {
        let list: Vec<&str> = scalars.into_iter().collect();
        let _ = writeln!(out, "import {{ {} }} from 'tsrpc-proto';", list.join(", "));
    }
    let mut imports: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in &file.decls {
        let mut refs = Vec::new();
        decl_refs(d, &mut refs);
        for (from, name) in refs {
            if from != file.path {
                imports.entry(from).or_default().insert(name);
            }
        }
    }
    for (from, names) in &imports {
        let names: Vec<&str> = names.iter().copied().collect();
        let _ = writeln!(
            out,
            "import {{ {} }} from '{}';",
            names.join(", "),
            relative(&file.path, from)
        );
    }
    for d in &file.decls {
        if !out.is_empty() {
            out.push('\n');
        }
        render_decl(&mut out, d);
    }
    // TSRPC's `conf` (a JSON object, which is a TypeScript object literal): tsrpc-cli reads it
    // from here into the service proto.
    if let Some(conf) = conf {
        let _ = write!(out, "\nexport const conf = {conf};\n");
    }
    out
}

/// `'./base'`, `'../PtlLogin'`, `'./room/MsgUserJoin'` from file `from` to file `to` (both
/// relative to the protocol folder, without `.ts`).
fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from.split('/').collect();
    let from_dir = &from_dir[..from_dir.len() - 1];
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count()
        .min(to_parts.len() - 1);
    let ups = from_dir.len() - common;
    let mut s = if ups == 0 {
        "./".to_owned()
    } else {
        "../".repeat(ups)
    };
    s.push_str(&to_parts[common..].join("/"));
    s
}

fn decl_scalars(d: &Decl, out: &mut BTreeSet<&'static str>) {
    match &d.body {
        Body::Interface { props, index, .. } => {
            props.iter().for_each(|p| ty_scalars(&p.ty, out));
            if let Some(t) = index {
                ty_scalars(t, out);
            }
        }
        Body::Alias(t) => ty_scalars(t, out),
        Body::NumberEnum(_) => {}
    }
}

fn ty_scalars(t: &Ty, out: &mut BTreeSet<&'static str>) {
    match t {
        Ty::Uint => {
            out.insert("uint");
        }
        Ty::Int => {
            out.insert("int");
        }
        // Not a scalar: imported from `mongodb` (see `render_file`).
        Ty::ObjectId => {
            out.insert("ObjectId");
        }
        Ty::Array(e) => ty_scalars(e, out),
        Ty::Index { value, .. } => ty_scalars(value, out),
        Ty::Tuple(v) | Ty::Union(v) | Ty::Intersection(v) => {
            v.iter().for_each(|t| ty_scalars(t, out));
        }
        Ty::Object(props) => props.iter().for_each(|p| ty_scalars(&p.ty, out)),
        _ => {}
    }
}

fn render_docs(out: &mut String, docs: &[String], indent: &str) {
    let lines: Vec<String> = docs
        .iter()
        .map(|l| {
            let l = l.strip_prefix(' ').unwrap_or(l);
            l.trim_end().replace("*/", "*\\/")
        })
        .collect();
    let start = lines.iter().position(|l| !l.is_empty());
    let end = lines.iter().rposition(|l| !l.is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    let lines = &lines[start..=end];
    if let [one] = lines {
        let _ = writeln!(out, "{indent}/** {one} */");
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for l in lines {
        if l.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {l}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

fn render_decl(out: &mut String, d: &Decl) {
    render_docs(out, &d.docs, "");
    match &d.body {
        Body::Interface {
            extends,
            props,
            index,
        } => {
            let _ = write!(out, "export interface {}", d.name);
            if !extends.is_empty() {
                let list: Vec<String> = extends.iter().map(|t| ty(t, 0)).collect();
                let _ = write!(out, " extends {}", list.join(", "));
            }
            out.push_str(" {\n");
            render_props(out, props, 1);
            if let Some(t) = index {
                let _ = writeln!(out, "{INDENT}[key: string]: {};", ty(t, 1));
            }
            out.push_str("}\n");
        }
        Body::NumberEnum(members) => {
            let _ = writeln!(out, "export enum {} {{", d.name);
            for (name, value) in members {
                let _ = writeln!(out, "{INDENT}{name} = {value},");
            }
            out.push_str("}\n");
        }
        Body::Alias(t) => {
            let _ = writeln!(out, "export type {} = {};", d.name, ty(t, 0));
        }
    }
}

fn render_props(out: &mut String, props: &[Prop], depth: usize) {
    let indent = INDENT.repeat(depth);
    for p in props {
        render_docs(out, &p.docs, &indent);
        let q = if p.optional { "?" } else { "" };
        let _ = writeln!(
            out,
            "{indent}{}{q}: {};",
            prop_name(&p.name),
            ty(&p.ty, depth)
        );
    }
}

/// A property name, quoted unless it is an identifier.
fn prop_name(name: &str) -> String {
    let mut chars = name.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c == '_' || c == '$' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '$' || c.is_ascii_alphanumeric());
    if ident {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

fn string_literal(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A type's text; `depth` is the indentation level of the line it starts on (for type
/// literals spanning lines).
fn ty(t: &Ty, depth: usize) -> String {
    match t {
        Ty::Number => "number".into(),
        Ty::Uint => "uint".into(),
        Ty::Int => "int".into(),
        Ty::String => "string".into(),
        Ty::Boolean => "boolean".into(),
        Ty::Any => "any".into(),
        Ty::Null => "null".into(),
        Ty::Date => "Date".into(),
        Ty::Bytes => "Uint8Array".into(),
        Ty::Buffer(name) => (*name).into(),
        Ty::ObjectId => "ObjectId".into(),
        Ty::NumLiteral(n) => n.clone(),
        Ty::BoolLiteral(b) => b.to_string(),
        Ty::Literal(s) => string_literal(s),
        Ty::Array(e) => match **e {
            Ty::Union(_) | Ty::Intersection(_) => format!("({})[]", ty(e, depth)),
            _ => format!("{}[]", ty(e, depth)),
        },
        Ty::Tuple(v) => {
            let items: Vec<String> = v.iter().map(|t| ty(t, depth)).collect();
            format!("[{}]", items.join(", "))
        }
        Ty::Ref { name, .. } => name.clone(),
        Ty::Object(props) if props.is_empty() => "{}".into(),
        Ty::Object(props) => {
            let mut s = String::from("{\n");
            render_props(&mut s, props, depth + 1);
            s.push_str(&INDENT.repeat(depth));
            s.push('}');
            s
        }
        Ty::Index { numeric, value } => format!(
            "{{ [key: {}]: {} }}",
            if *numeric { "number" } else { "string" },
            ty(value, depth)
        ),
        Ty::Union(v) => {
            let items: Vec<String> = v
                .iter()
                .map(|t| match t {
                    Ty::Intersection(_) => format!("({})", ty(t, depth)),
                    _ => ty(t, depth),
                })
                .collect();
            items.join(" | ")
        }
        Ty::Intersection(v) => {
            let items: Vec<String> = v
                .iter()
                .map(|t| match t {
                    Ty::Union(_) => format!("({})", ty(t, depth)),
                    _ => ty(t, depth),
                })
                .collect();
            items.join(" & ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative("PtlLogin", "base"), "./base");
        assert_eq!(relative("room/MsgUserJoin", "base"), "../base");
        assert_eq!(relative("PtlLogin", "room/types"), "./room/types");
        assert_eq!(relative("room/MsgA", "room/types"), "./types");
        assert_eq!(relative("a/b/MsgA", "a/c/types"), "../c/types");
    }

    #[test]
    fn types() {
        let u = Ty::Union(vec![Ty::Literal("a'b".into()), Ty::Null]);
        assert_eq!(ty(&Ty::Array(Box::new(u.clone())), 0), "('a\\'b' | null)[]");
        let idx = Ty::Index {
            numeric: false,
            value: Box::new(Ty::Uint),
        };
        assert_eq!(ty(&idx, 0), "{ [key: string]: uint }");
        assert_eq!(
            ty(&Ty::Tuple(vec![Ty::Int, Ty::String, Ty::Bytes]), 0),
            "[int, string, Uint8Array]"
        );
        assert_eq!(prop_name("kebab-case"), "'kebab-case'");
        assert_eq!(prop_name("$ok_1"), "$ok_1");
    }
}
