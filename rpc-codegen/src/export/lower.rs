//! The exports' check pass: the model's Rust types become TypeScript-shaped declarations
//! ([`Ir`]), following serde's JSON form (renames, skipped and optional fields, enum tagging).
//! Only the types reachable from an API or a message are lowered, so a helper type the
//! protocols do not use cannot fail an export. Every problem is a [`Diagnostic`] with its
//! `file:line:column`; the renderers (`ts.rs`, `proto.rs`) never fail.

use std::collections::{BTreeMap, HashMap};

use super::ir::{decl_refs, Body, Decl, Ir, IrFile, Prop, Service, Ty};
use crate::diagnostic::Diagnostic;
use crate::model::{
    FieldDef, FieldsStyle, FileDef, FileKind, ItemDef, ModuleDef, Origin, ServiceModel, Shape,
    TypeRef,
};
use crate::serde_rename::{rename_field, rename_variant};

/// A protocol file with where it sits.
struct Entry<'a> {
    folder: Vec<String>,
    file: &'a FileDef,
    items: &'a [ItemDef],
    /// The TypeScript path without `.ts`: `room/MsgUserJoin`, `base`.
    ts: String,
}

/// The TypeScript file name of a protocol file: `PtlLogin`, `MsgUserJoin`, or the stem.
pub(crate) fn ts_stem(file: &FileDef) -> String {
    match &file.kind {
        FileKind::Ptl { base } => format!("Ptl{base}"),
        FileKind::Msg { base } => format!("Msg{base}"),
        FileKind::Other => file.stem.clone(),
    }
}

fn entries<'a>(module: &'a ModuleDef, folder: &mut Vec<String>, out: &mut Vec<Entry<'a>>) {
    for file in &module.files {
        let mut ts: Vec<String> = folder.clone();
        ts.push(ts_stem(file));
        out.push(Entry {
            folder: folder.clone(),
            file,
            items: file.items.as_deref().unwrap_or_default(),
            ts: ts.join("/"),
        });
    }
    for child in &module.children {
        folder.push(child.name.clone());
        entries(child, folder, out);
        folder.pop();
    }
}

struct Lower<'a> {
    entries: Vec<Entry<'a>>,
    diags: Vec<Diagnostic>,
    /// Lowered (or failed) items by (file, item) index.
    done: BTreeMap<(usize, usize), Option<Decl>>,
    queue: Vec<(usize, usize)>,
}

enum Resolved {
    Found(usize, usize),
    NotFound,
    Failed,
}

/// Lowers the model; `Err` lists every problem.
pub(crate) fn lower(model: &ServiceModel) -> Result<Ir, Vec<Diagnostic>> {
    let mut list = Vec::new();
    entries(&model.module, &mut Vec::new(), &mut list);
    let mut cx = Lower {
        entries: list,
        diags: Vec::new(),
        done: BTreeMap::new(),
        queue: Vec::new(),
    };
    let mut services = Vec::new();
    for fi in 0..cx.entries.len() {
        let display = cx.entries[fi].file.display.clone();
        let ts = cx.entries[fi].ts.clone();
        let in_file = |o: Option<&Origin>| o.is_some_and(|o| o.file == display);
        for api in model.apis.iter().filter(|a| in_file(a.origin())) {
            services.push(Service::Api {
                name: api.name.clone(),
                file: ts.clone(),
                conf: api.conf.clone(),
            });
            for ty in [&api.req, &api.res] {
                cx.enqueue_named(fi, ty);
            }
        }
        for msg in model.msgs.iter().filter(|m| in_file(m.origin())) {
            services.push(Service::Msg {
                name: msg.name.clone(),
                file: ts.clone(),
                conf: msg.conf.clone(),
            });
            cx.enqueue_named(fi, &msg.ty);
        }
    }
    // Extras (`Source::Extra`) have no origin in a file, so no file matched them above: they
    // are declared outside the folder and there is nothing to read.
    while let Some((fi, ii)) = cx.queue.pop() {
        if cx.done.contains_key(&(fi, ii)) {
            continue;
        }
        cx.done.insert((fi, ii), None);
        let decl = cx.item(fi, ii);
        cx.done.insert((fi, ii), decl);
    }
    let mut files: Vec<IrFile> = Vec::new();
    for (fi, entry) in cx.entries.iter().enumerate() {
        let decls: Vec<Decl> = cx
            .done
            .range((fi, 0)..(fi, usize::MAX))
            .filter_map(|(_, d)| d.clone())
            .collect();
        if !decls.is_empty() {
            files.push(IrFile {
                path: entry.ts.clone(),
                decls,
            });
        }
    }
    let import_diags = import_conflicts(&cx, &files);
    cx.diags.extend(import_diags);
    if cx.diags.is_empty() {
        Ok(Ir { files, services })
    } else {
        cx.diags.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                d.origin
                    .as_ref()
                    .map(|o| (o.file.clone(), o.line, o.column))
            };
            key(a).cmp(&key(b))
        });
        cx.diags.dedup();
        Err(cx.diags)
    }
}

/// Two imported types with one name, or an import named like a local declaration.
fn import_conflicts(cx: &Lower<'_>, files: &[IrFile]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for file in files {
        let mut names: HashMap<&str, &str> = file
            .decls
            .iter()
            .map(|d| (d.name.as_str(), file.path.as_str()))
            .collect();
        let mut refs = Vec::new();
        for d in &file.decls {
            decl_refs(d, &mut refs);
        }
        for (from, name) in refs {
            match names.get(name) {
                Some(other) if *other != from => {
                    let display = cx
                        .entries
                        .iter()
                        .find(|e| e.ts == file.path)
                        .map(|e| e.file.display.clone());
                    diags.push(Diagnostic {
                        origin: display.map(|file| Origin {
                            file,
                            line: 1,
                            column: 1,
                        }),
                        message: format!(
                            "`{name}` of `{from}.ts` and `{name}` of `{other}.ts` would be named alike in `{}.ts`: rename one",
                            file.path
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    names.insert(name, from);
                }
            }
        }
    }
    diags
}

/// `Option<T>` -> `T`.
fn option_inner(t: &TypeRef) -> Option<&TypeRef> {
    match t {
        TypeRef::Path { segments, args }
            if segments.last().is_some_and(|s| s == "Option") && args.len() == 1 =>
        {
            args.first()
        }
        _ => None,
    }
}

/// `Vec<u8>`, `[u8]`, `[u8; N]`, `Box<[u8]>`.
fn is_bytes(t: &TypeRef) -> bool {
    let is_u8 = |t: &TypeRef| t.last_segment() == Some("u8");
    match t {
        TypeRef::Array(e) => is_u8(e),
        TypeRef::Path { segments, args } if args.len() == 1 => {
            match segments.last().map(String::as_str) {
                Some("Vec") => is_u8(&args[0]),
                Some("Box") => is_bytes(&args[0]),
                _ => false,
            }
        }
        _ => false,
    }
}

impl<'a> Lower<'a> {
    fn error(&mut self, origin: &Origin, message: String) {
        self.diags.push(Diagnostic {
            origin: Some(origin.clone()),
            message,
        });
    }

    fn enqueue_named(&mut self, fi: usize, ident: &str) {
        if let Some(ii) = self.entries[fi].items.iter().position(|i| i.ident == ident) {
            self.queue.push((fi, ii));
        }
    }

    /// Finds the protocol-folder type a path names: in the same file, else by file or folder
    /// (`super::base::User`), else the only one of that name (preferring the same folder).
    fn resolve(&mut self, fi: usize, segments: &[String], at: &Origin) -> Resolved {
        let Some(name) = segments.last() else {
            return Resolved::NotFound;
        };
        let qualifier = segments
            .len()
            .checked_sub(2)
            .map(|i| segments[i].as_str())
            .filter(|q| !matches!(*q, "super" | "crate" | "self"));
        if qualifier.is_none() {
            if let Some(ii) = self.entries[fi].items.iter().position(|i| &i.ident == name) {
                return Resolved::Found(fi, ii);
            }
        }
        let mut found = Vec::new();
        for (fj, e) in self.entries.iter().enumerate() {
            let file_ok = qualifier
                .is_none_or(|q| e.file.stem == q || e.folder.last().is_some_and(|f| f == q));
            if !file_ok {
                continue;
            }
            for (ij, item) in e.items.iter().enumerate() {
                if &item.ident == name {
                    found.push((fj, ij));
                }
            }
        }
        if found.len() > 1 {
            let folder = &self.entries[fi].folder;
            let near: Vec<_> = found
                .iter()
                .copied()
                .filter(|(fj, _)| &self.entries[*fj].folder == folder)
                .collect();
            if near.len() == 1 {
                found = near;
            }
        }
        match found.as_slice() {
            [] => Resolved::NotFound,
            [(fj, ij)] => Resolved::Found(*fj, *ij),
            many => {
                let places = many
                    .iter()
                    .map(|(fj, ij)| self.entries[*fj].items[*ij].origin.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    at,
                    format!(
                        "`{}` could be any of the types declared at {places}: write its path \
                         (`super::<file>::{name}`) to say which",
                        segments.join("::")
                    ),
                );
                Resolved::Failed
            }
        }
    }

    fn item(&mut self, fi: usize, ii: usize) -> Option<Decl> {
        let item: &'a ItemDef = &self.entries[fi].items[ii];
        if !item.generics.is_empty() {
            self.error(
                &item.origin,
                format!(
                    "`{}<{}>` is generic: a TypeScript protocol type is concrete; declare a \
                     concrete type for the export",
                    item.ident,
                    item.generics.join(", ")
                ),
            );
            return None;
        }
        let docs = item.docs.clone();
        let name = item.ident.clone();
        let body = match &item.shape {
            Shape::Alias { ty } => Body::Alias(self.ty(fi, ty, &item.origin)?),
            Shape::Struct { style, fields } => self.strukt(fi, item, *style, fields)?,
            Shape::Enum { variants } if item.serde.into.is_some() => {
                self.number_enum(item, variants)?
            }
            Shape::Enum { variants } => {
                let ser = &item.serde;
                let mut members = Vec::new();
                let all_unit = variants.iter().all(|v| v.style == FieldsStyle::Unit);
                let mut ok = true;
                if !all_unit && ser.tag.is_none() && !ser.untagged {
                    self.error(
                        &item.origin,
                        format!(
                            "enum `{}` has variants with data but no `#[serde(tag = \"..\")]` \
                             (or `untagged`): TSRPC's discriminated unions need a tag field; \
                             add `#[serde(tag = \"type\")]`",
                            item.ident
                        ),
                    );
                    return None;
                }
                for v in variants.iter().filter(|v| !v.serde.skip) {
                    let vname = match &v.serde.rename {
                        Some(n) => n.clone(),
                        None => self.rename(&ser.rename_all, &v.ident, true, &v.origin)?,
                    };
                    let field_rule = v.serde.rename_all.clone().or(ser.rename_all_fields.clone());
                    let tag_prop = |tag: &str| Prop {
                        name: tag.to_owned(),
                        optional: false,
                        ty: Ty::Literal(vname.clone()),
                        docs: Vec::new(),
                    };
                    let member = match (&ser.tag, &ser.content, ser.untagged, v.style) {
                        (_, _, true, FieldsStyle::Unit) => Some(Ty::Null),
                        (_, _, true, _) => self.variant_body(fi, v, &field_rule),
                        (None, _, false, _) => Some(Ty::Literal(vname.clone())),
                        (Some(tag), Some(content), false, FieldsStyle::Unit) => {
                            let _ = content;
                            Some(Ty::Object(vec![tag_prop(tag)]))
                        }
                        (Some(tag), Some(content), false, _) => {
                            self.variant_body(fi, v, &field_rule).map(|body| {
                                Ty::Object(vec![
                                    tag_prop(tag),
                                    Prop {
                                        name: content.clone(),
                                        optional: false,
                                        ty: body,
                                        docs: Vec::new(),
                                    },
                                ])
                            })
                        }
                        (Some(tag), None, false, FieldsStyle::Unit) => {
                            Some(Ty::Object(vec![tag_prop(tag)]))
                        }
                        (Some(tag), None, false, FieldsStyle::Named) => {
                            let mut props = vec![tag_prop(tag)];
                            let (extends, fields) =
                                self.props(fi, &v.ident, &v.fields, &field_rule)?;
                            if !extends.is_empty() {
                                self.error(
                                    &v.origin,
                                    format!("`#[serde(flatten)]` in variant `{}` is not exported: move the fields into a struct", v.ident),
                                );
                                None
                            } else {
                                props.extend(fields);
                                Some(Ty::Object(props))
                            }
                        }
                        (Some(tag), None, false, FieldsStyle::Tuple) if v.fields.len() == 1 => {
                            let inner = self.ty(fi, &v.fields[0].ty, &v.fields[0].origin)?;
                            if self.is_struct_ref(fi, &v.fields[0].ty) {
                                Some(Ty::Intersection(vec![
                                    Ty::Object(vec![tag_prop(tag)]),
                                    inner,
                                ]))
                            } else {
                                self.error(
                                    &v.origin,
                                    format!(
                                        "variant `{}` of the internally tagged enum `{}` wraps a type that is not a struct with named fields: serde cannot add the tag `{tag}` to it",
                                        v.ident, item.ident
                                    ),
                                );
                                None
                            }
                        }
                        (Some(tag), None, false, FieldsStyle::Tuple) => {
                            self.error(
                                &v.origin,
                                format!(
                                    "tuple variant `{}` cannot be internally tagged (`tag = \"{tag}\"`): serde rejects it; use named fields or add `content = \"..\"`",
                                    v.ident
                                ),
                            );
                            None
                        }
                    };
                    match member {
                        Some(m) => members.push(m),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                if members.is_empty() {
                    self.error(
                        &item.origin,
                        format!(
                            "enum `{}` has no variant to export: serde cannot write it",
                            item.ident
                        ),
                    );
                    return None;
                }
                Body::Alias(match members.len() {
                    1 => members.pop().unwrap_or(Ty::Null),
                    _ => Ty::Union(members),
                })
            }
        };
        Some(Decl { name, docs, body })
    }

    /// A variant's content as its own value (untagged, adjacently tagged).
    fn variant_body(
        &mut self,
        fi: usize,
        v: &crate::model::VariantDef,
        field_rule: &Option<String>,
    ) -> Option<Ty> {
        match v.style {
            FieldsStyle::Unit => Some(Ty::Null),
            FieldsStyle::Tuple if v.fields.len() == 1 => {
                self.ty(fi, &v.fields[0].ty, &v.fields[0].origin)
            }
            FieldsStyle::Tuple => {
                let mut items = Vec::new();
                for f in &v.fields {
                    items.push(self.ty(fi, &f.ty, &f.origin)?);
                }
                Some(Ty::Tuple(items))
            }
            FieldsStyle::Named => {
                let (extends, props) = self.props(fi, &v.ident, &v.fields, field_rule)?;
                if extends.is_empty() {
                    Some(Ty::Object(props))
                } else {
                    let mut all = vec![Ty::Object(props)];
                    all.extend(extends);
                    Some(Ty::Intersection(all))
                }
            }
        }
    }

    /// An enum written as a number (`#[serde(into = "i64")]`, as `rpc-codegen import` writes a
    /// numeric enum), exported as a TypeScript numeric `enum` (as it was imported; a union with
    /// a negative literal would not go through tsrpc-cli): each variant's number is in its doc
    /// comment (`` /// `2`. ``), since the
    /// `From` impl that writes it is code the export does not run.
    fn number_enum(
        &mut self,
        item: &ItemDef,
        variants: &[crate::model::VariantDef],
    ) -> Option<Body> {
        let into = item.serde.into.as_deref().unwrap_or_default();
        let mut members = Vec::new();
        for v in variants.iter().filter(|v| !v.serde.skip) {
            let doc = v.docs.first().map(|d| d.trim()).unwrap_or_default();
            let number = doc
                .strip_prefix('`')
                .and_then(|d| d.strip_suffix("`."))
                .filter(|n| n.parse::<f64>().is_ok());
            match (v.style, number) {
                (FieldsStyle::Unit, Some(n)) if into == "i64" || into == "f64" => {
                    members.push((v.ident.clone(), n.to_owned()));
                }
                _ => {
                    self.error(
                        &v.origin,
                        format!(
                            "variant `{}` of `{}`: `#[serde(into = \"{into}\")]` chooses its own \
                             JSON form, which the export cannot see (known: a unit enum `into = \
                             \"i64\"` whose variants' docs start with their number, `` /// `2`. \
                             ``, as `rpc-codegen import` writes them)",
                            v.ident, item.ident
                        ),
                    );
                    return None;
                }
            }
        }
        Some(Body::NumberEnum(members))
    }

    /// Whether a type names a struct with named fields of the folder (serde can flatten it
    /// or add a tag to it; TypeScript can extend it).
    fn is_struct_ref(&mut self, fi: usize, t: &TypeRef) -> bool {
        let TypeRef::Path { segments, .. } = t else {
            return false;
        };
        let at = Origin {
            file: String::new(),
            line: 0,
            column: 0,
        };
        let before = self.diags.len();
        let r = self.resolve(fi, segments, &at);
        self.diags.truncate(before);
        match r {
            Resolved::Found(fj, ij) => {
                let item = &self.entries[fj].items[ij];
                matches!(
                    item.shape,
                    Shape::Struct {
                        style: FieldsStyle::Named,
                        ..
                    }
                ) && !item.serde.transparent
            }
            _ => false,
        }
    }

    fn strukt(
        &mut self,
        fi: usize,
        item: &ItemDef,
        style: FieldsStyle,
        fields: &[FieldDef],
    ) -> Option<Body> {
        let ser = &item.serde;
        if ser.transparent {
            let Some(f) = fields.iter().find(|f| !f.serde.skip) else {
                self.error(
                    &item.origin,
                    format!("transparent struct `{}` has no field", item.ident),
                );
                return None;
            };
            return Some(Body::Alias(self.ty(fi, &f.ty, &f.origin)?));
        }
        match style {
            FieldsStyle::Unit => Some(Body::Alias(Ty::Null)),
            FieldsStyle::Tuple if fields.len() == 1 => Some(Body::Alias(self.ty(
                fi,
                &fields[0].ty,
                &fields[0].origin,
            )?)),
            FieldsStyle::Tuple => {
                let mut items = Vec::new();
                let mut ok = true;
                for f in fields.iter().filter(|f| !f.serde.skip) {
                    match self.ty(fi, &f.ty, &f.origin) {
                        Some(t) => items.push(t),
                        None => ok = false,
                    }
                }
                ok.then_some(Body::Alias(Ty::Tuple(items)))
            }
            FieldsStyle::Named => {
                let (mut extends, mut props) =
                    self.props(fi, &item.ident, fields, &ser.rename_all)?;
                // A flattened map is the interface's index signature.
                let mut index = None;
                extends.retain(|t| match t {
                    Ty::Index {
                        numeric: false,
                        value,
                    } if index.is_none() => {
                        index = Some((**value).clone());
                        false
                    }
                    _ => true,
                });
                if let Some(tag) = &ser.tag {
                    let value = ser.rename.clone().unwrap_or_else(|| item.ident.clone());
                    props.insert(
                        0,
                        Prop {
                            name: tag.clone(),
                            optional: false,
                            ty: Ty::Literal(value),
                            docs: Vec::new(),
                        },
                    );
                }
                Some(Body::Interface {
                    extends,
                    props,
                    index,
                })
            }
        }
    }

    /// Named fields: the flattened types (to extend) and the properties.
    fn props(
        &mut self,
        fi: usize,
        owner: &str,
        fields: &[FieldDef],
        rule: &Option<String>,
    ) -> Option<(Vec<Ty>, Vec<Prop>)> {
        let mut extends = Vec::new();
        let mut props = Vec::new();
        let mut ok = true;
        for f in fields.iter().filter(|f| !f.serde.skip) {
            let ident = f.ident.clone().unwrap_or_default();
            if f.serde.flatten {
                if is_string_map(&f.ty) {
                    // Its entries sit next to the fields: an index signature (the caller
                    // moves it out of `extends`; in a variant it stays an intersection).
                    match self.ty(fi, &f.ty, &f.origin) {
                        Some(t) => extends.push(t),
                        None => ok = false,
                    }
                } else if self.is_struct_ref(fi, &f.ty) {
                    match self.ty(fi, &f.ty, &f.origin) {
                        Some(t) => extends.push(t),
                        None => ok = false,
                    }
                } else {
                    self.error(
                        &f.origin,
                        format!(
                            "field `{ident}` of `{owner}`: only a struct with named fields of \
                             the protocol folder (it becomes `extends`) or a map with string \
                             keys (an index signature) can be `#[serde(flatten)]`ed in an \
                             export, not `{}`",
                            f.ty
                        ),
                    );
                    ok = false;
                }
                continue;
            }
            let name = match &f.serde.rename {
                Some(n) => Some(n.clone()),
                None => self.rename(rule, &ident, false, &f.origin),
            };
            match (name, self.field_ty(fi, owner, &ident, f)) {
                (Some(name), Some((optional, ty))) => props.push(Prop {
                    name,
                    optional,
                    ty,
                    docs: f.docs.clone(),
                }),
                _ => ok = false,
            }
        }
        ok.then_some((extends, props))
    }

    /// A field's type and whether it may be absent: `Option<T>` with `skip_serializing_if`
    /// is `field?: T`; without, serde writes `null`, so `field?: T | null`; any other field
    /// with `skip_serializing_if` is optional too.
    fn field_ty(
        &mut self,
        fi: usize,
        owner: &str,
        ident: &str,
        f: &FieldDef,
    ) -> Option<(bool, Ty)> {
        let (inner, is_option) = match option_inner(&f.ty) {
            Some(t) => (t, true),
            None => (&f.ty, false),
        };
        let ty = match &f.serde.with {
            Some(with) if with.contains("base64") && is_bytes(inner) => Ty::Bytes,
            Some(with) if with.contains("serde_bytes") => self.ty(fi, inner, &f.origin)?,
            Some(with) => {
                self.error(
                    &f.origin,
                    format!(
                        "field `{ident}` of `{owner}`: `with = \"{with}\"` chooses its own JSON \
                         form, which the export cannot see (known: a module with `base64` in its \
                         path on `Vec<u8>` -> `Uint8Array`, `serde_bytes`)"
                    ),
                );
                return None;
            }
            None => self.ty(fi, inner, &f.origin)?,
        };
        Some(match (is_option, f.serde.skip_serializing_if) {
            (true, true) => (true, ty),
            (true, false) => (true, Ty::Union(vec![ty, Ty::Null])),
            (false, skip_if) => (skip_if, ty),
        })
    }

    /// Applies a `rename_all` rule the way serde does (`variant`: a PascalCase variant name,
    /// else a snake_case field name).
    fn rename(
        &mut self,
        rule: &Option<String>,
        name: &str,
        variant: bool,
        at: &Origin,
    ) -> Option<String> {
        let Some(rule) = rule else {
            return Some(name.to_owned());
        };
        let out = if variant {
            rename_variant(rule, name)
        } else {
            rename_field(rule, name)
        };
        if out.is_none() {
            self.error(
                at,
                format!("unknown serde rename rule `{rule}` (serde knows lowercase, UPPERCASE, PascalCase, camelCase, snake_case, SCREAMING_SNAKE_CASE, kebab-case, SCREAMING-KEBAB-CASE)"),
            );
        }
        out
    }

    /// A Rust type as TypeScript.
    fn ty(&mut self, fi: usize, t: &TypeRef, at: &Origin) -> Option<Ty> {
        let unsupported = |this: &mut Self, why: &str| {
            this.error(at, format!("type `{t}` has no TypeScript form: {why}"));
            None
        };
        match t {
            TypeRef::Tuple(v) if v.is_empty() => Some(Ty::Null),
            TypeRef::Tuple(v) => {
                let mut items = Vec::new();
                for e in v {
                    items.push(self.ty(fi, e, at)?);
                }
                Some(Ty::Tuple(items))
            }
            TypeRef::Array(e) => Some(Ty::Array(Box::new(self.ty(fi, e, at)?))),
            TypeRef::Other(_) => unsupported(
                self,
                "only paths, tuples and arrays of serializable types are exported",
            ),
            TypeRef::Path { segments, args } => {
                match self.resolve(fi, segments, at) {
                    Resolved::Found(fj, ij) => {
                        if !args.is_empty() {
                            return unsupported(
                                self,
                                "generic types are not exported; declare a concrete type",
                            );
                        }
                        self.queue.push((fj, ij));
                        return Some(Ty::Ref {
                            file: self.entries[fj].ts.clone(),
                            name: self.entries[fj].items[ij].ident.clone(),
                        });
                    }
                    Resolved::Failed => return None,
                    Resolved::NotFound => {}
                }
                let last = segments.last().map(String::as_str).unwrap_or_default();
                let arg = |this: &mut Self, i: usize| this.ty(fi, &args[i], at);
                match (last, args.len()) {
                    ("f64" | "f32", 0) => Some(Ty::Number),
                    ("u8" | "u16" | "u32" | "u64" | "usize", 0) => Some(Ty::Uint),
                    ("i8" | "i16" | "i32" | "i64" | "isize", 0) => Some(Ty::Int),
                    ("u128" | "i128", 0) => unsupported(
                        self,
                        "128-bit integers do not fit a JavaScript number; use a string",
                    ),
                    ("String" | "str" | "char", 0) => Some(Ty::String),
                    ("bool", 0) => Some(Ty::Boolean),
                    ("Value", 0) => Some(Ty::Any),
                    ("DateTime", _) => Some(Ty::Date),
                    // The value types `rpc-codegen import` writes (`rpc_runtime::types`).
                    ("JsonValue", 0) => Some(Ty::Any),
                    ("Date", 0) => Some(Ty::Date),
                    ("Bytes", 0) => Some(Ty::Bytes),
                    ("ObjectId", 0) => Some(Ty::ObjectId),
                    (name, 0) if typed_array(name).is_some() => typed_array(name).map(Ty::Buffer),
                    ("Nullable", 1) => Some(Ty::Union(vec![arg(self, 0)?, Ty::Null])),
                    ("JsMap", 1) => Some(Ty::Index {
                        numeric: false,
                        value: Box::new(arg(self, 0)?),
                    }),
                    ("LitInt", 1) | ("LitBool", 1) => match &args[0] {
                        TypeRef::Other(v) if last == "LitBool" && (v == "true" || v == "false") => {
                            Some(Ty::BoolLiteral(v == "true"))
                        }
                        TypeRef::Other(v) if last == "LitInt" => {
                            Some(Ty::NumLiteral(v.replace(' ', "")))
                        }
                        _ => unsupported(self, "its literal is not a number or a boolean"),
                    },
                    ("Box" | "Rc" | "Arc" | "Cow", 1) => arg(self, 0),
                    ("Option", 1) => Some(Ty::Union(vec![arg(self, 0)?, Ty::Null])),
                    (
                        "Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "IndexSet"
                        | "BinaryHeap",
                        1,
                    ) => Some(Ty::Array(Box::new(arg(self, 0)?))),
                    ("HashMap" | "BTreeMap" | "IndexMap", 2) => {
                        let numeric = match args[0].last_segment() {
                            Some("String" | "str" | "char") => false,
                            Some(
                                "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32"
                                | "i64" | "isize",
                            ) => true,
                            _ => {
                                return unsupported(
                                    self,
                                    "a map exports with `String` or integer keys only",
                                )
                            }
                        };
                        Some(Ty::Index {
                            numeric,
                            value: Box::new(arg(self, 1)?),
                        })
                    }
                    _ => unsupported(
                        self,
                        "it is neither declared in the protocol folder nor a known type \
                         (numbers, `String`, `bool`, `Vec`, `Option`, maps, `Box`, tuples, \
                         `serde_json::Value`, chrono `DateTime`, `rpc_runtime::types`)",
                    ),
                }
            }
        }
    }
}

/// Whether `t` is a map with string keys (`JsMap<T>`, `HashMap<String, T>`, ..).
fn is_string_map(t: &TypeRef) -> bool {
    let TypeRef::Path { args, .. } = t else {
        return false;
    };
    match (t.last_segment(), args.as_slice()) {
        (Some("JsMap"), [_]) => true,
        (Some("HashMap" | "BTreeMap" | "IndexMap"), [k, _]) => {
            matches!(k.last_segment(), Some("String" | "str"))
        }
        _ => false,
    }
}

/// The TypeScript name of a binary runtime type other than `Bytes` (`Float32Array`, ..).
fn typed_array(name: &str) -> Option<&'static str> {
    [
        "Int8Array",
        "Int16Array",
        "Int32Array",
        "Uint16Array",
        "Uint32Array",
        "Float32Array",
        "Float64Array",
        "ArrayBuffer",
    ]
    .into_iter()
    .find(|n| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_options() {
        let parse = |s: &str| crate::parse::shape::type_ref(&syn::parse_str(s).unwrap());
        assert!(is_bytes(&parse("Vec<u8>")));
        assert!(is_bytes(&parse("Box<[u8]>")));
        assert!(is_bytes(&parse("[u8; 32]")));
        assert!(!is_bytes(&parse("Vec<u16>")));
        assert_eq!(
            option_inner(&parse("std::option::Option<String>")),
            Some(&parse("String"))
        );
        assert_eq!(option_inner(&parse("Vec<String>")), None);
    }
}
