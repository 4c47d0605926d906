//! The wire rules: what cannot go on the wire the way TSRPC sends it is an error at its
//! `file:line:column`, with the fix, before rustc sees the glue.
//!
//! A protocol type (the `Req`/`Res` of a `ptl_` file, the `Msg` of a `msg_` file) must be a
//! struct with named fields or an enum, declared as itself and unconditionally, without
//! parameters, owning its data:
//!
//! | mistake | why | error says |
//! | --- | --- | --- |
//! | `pub type ReqLogin = LoginRequest;` | the glue implements the protocol traits on the name; TSRPC knows the type by it | rename the type (or declare a struct) |
//! | `#[cfg(..)]`, `#[cfg_attr(..)]` | the service (or its wire form) would differ from one build to another | declare it unconditionally |
//! | `MsgChat<T>`, `<const N: usize>` | one wire shape per type; the glue names it without parameters | write the concrete types |
//! | `MsgChat<'a>` | the runtime decodes into owned values (`DeserializeOwned`) | own the data |
//! | `pub struct ResKick;` | serde writes `null`, TSRPC's empty interface is `{}` | `pub struct ResKick {}` |
//! | `pub struct MsgMove(u8, u8);` | serde writes an array (one field: its value), not an object | name the fields |
//!
//! Such a type is left out of the glue (with the whole API when it is a request or a
//! response), so the one error is the only one: rustc never sees an `impl` it would reject.
//!
//! Every type of the folder, protocol type or helper, is written to the wire, so the field
//! rules apply to all of them:
//!
//! - a field that borrows (`&'a str`, `&[u8]`) cannot be decoded: write what owns the data
//!   (`String`, `Vec<u8>`). A protocol type with such a field is left out of the glue, whose
//!   `DeserializeOwned` bound it cannot meet;
//! - a map keyed by anything serde_json cannot write as an object key (a struct, a tuple, a
//!   sequence, an enum with data) or TSRPC cannot type as one (`bool`): keys are `String`s or
//!   integers (TSRPC's `{ [key: string]: T }` and `{ [key: number]: T }`);
//! - an `Option` behind a type alias of the folder (`type Nickname = Option<String>;`) without
//!   `skip_serializing_if`, which `crate::check` cannot see (it reads the field's type as
//!   written) and `#[skip_serializing_none]` does not see either.
//!
//! These leave the glue alone (it compiles; the fault is in what is sent), as the literal
//! `Option` rule does, so code that uses the type keeps compiling while the error is fixed.
//! The derives (`#[derive(Api)]`, `#[derive(Message)]`) check their own fields' map keys the
//! same way ([`derive_field_rules`]), spanned on the field, without the folder to resolve
//! names: a key type they cannot see into is accepted.

use std::collections::HashSet;

use proc_macro2::Span;

use crate::diagnostic::Ctxt;
use crate::model::{
    ApiDef, FieldDef, FieldsStyle, FileDef, FileKind, ItemDef, ModuleDef, MsgDef, Shape, Source,
    TypeRef,
};
use crate::parse::shape;

/// How deep type aliases and newtypes are followed (an alias cycle is rustc's to report).
const MAX_DEPTH: usize = 8;

/// Applies the wire rules to every type of the folder and returns the APIs and messages whose
/// types passed: `apis` and `msgs` without those that name a rejected type.
pub(crate) fn check_module(
    cx: &Ctxt,
    span: Span,
    module: &ModuleDef,
    mut apis: Vec<ApiDef>,
    mut msgs: Vec<MsgDef>,
) -> (Vec<ApiDef>, Vec<MsgDef>) {
    let folder = Folder::new(module);
    let mut rejected: HashSet<(&str, &str)> = HashSet::new();
    for (fi, entry) in folder.entries.iter().enumerate() {
        let roles = roles(&entry.file.kind);
        for item in entry.items {
            let role = roles
                .iter()
                .find(|(ident, _)| *ident == item.ident)
                .map(|(_, role)| *role);
            if let Some(role) = role {
                if !type_rules(cx, span, &folder, fi, item, role) {
                    rejected.insert((&entry.file.display, &item.ident));
                }
            }
            borrowed_rule(cx, span, item);
            let rules = FieldRules {
                cx,
                span,
                folder: &folder,
                fi,
                item,
            };
            rules.check();
        }
    }
    let passes = |source: &Source, idents: &[&str]| match source {
        Source::Folder { origin, .. } => idents
            .iter()
            .all(|i| !rejected.contains(&(origin.file.as_str(), *i))),
        Source::Extra { .. } => true,
    };
    apis.retain(|a| passes(&a.source, &[a.req.as_str(), a.res.as_str()]));
    msgs.retain(|m| passes(&m.source, &[m.ty.as_str()]));
    (apis, msgs)
}

/// The protocol types a file's name calls for, with what each is.
fn roles(kind: &FileKind) -> Vec<(String, &'static str)> {
    match kind {
        FileKind::Ptl { base } => vec![
            (format!("Req{base}"), "request"),
            (format!("Res{base}"), "response"),
        ],
        FileKind::Msg { base } => vec![(format!("Msg{base}"), "message")],
        FileKind::Other => Vec::new(),
    }
}

/// The rules for a protocol type itself; `false` when it must stay out of the glue.
fn type_rules(
    cx: &Ctxt,
    span: Span,
    folder: &Folder<'_>,
    fi: usize,
    item: &ItemDef,
    role: &str,
) -> bool {
    let ident = &item.ident;
    let error = |at: &dyn std::fmt::Display, msg: String| cx.error_at(span, format!("{at}: {msg}"));
    if let Shape::Alias { ty } = &item.shape {
        let fix = match ty {
            TypeRef::Path { segments, args }
                if args.is_empty() && folder.resolve(fi, segments).is_some() =>
            {
                format!("rename `{ty}` to `{ident}` and remove the alias")
            }
            _ => format!(
                "declare `pub struct {ident} {{ .. }}` (a field `#[serde(flatten)] pub inner: {ty}` keeps its fields)"
            ),
        };
        error(
            &item.origin,
            format!(
                "`{ident}` is a type alias of `{ty}`: a {role} is declared as itself (the glue \
                 implements the protocol traits on it, TSRPC knows it by its name); {fix}"
            ),
        );
        return false;
    }
    let mut ok = true;
    for cfg in &item.wire.cfgs {
        let what = if cfg.text.starts_with("#[cfg_attr") {
            "its wire form would differ from one build to another; write the attribute \
             unconditionally, or not at all"
        } else {
            "the service would differ from one build to another (a peer built without it would \
             not know it); declare it unconditionally"
        };
        error(
            &cfg.origin,
            format!("`{}` on the {role} `{ident}`: {what}", cfg.text),
        );
        ok = false;
    }
    let params: Vec<&str> = item
        .wire
        .lifetimes
        .iter()
        .chain(&item.generics)
        .chain(&item.wire.consts)
        .map(String::as_str)
        .collect();
    let written = format!("{ident}<{}>", params.join(", "));
    if !item.generics.is_empty() || !item.wire.consts.is_empty() {
        let names: Vec<String> = item
            .generics
            .iter()
            .chain(&item.wire.consts)
            .map(|p| format!("`{p}`"))
            .collect();
        error(
            &item.origin,
            format!(
                "`{written}` is generic: a {role} has one wire shape, and the generated glue \
                 names it without parameters; write the concrete types in place of {} (a \
                 generic helper type is fine in a field: `pub page: Page<String>`)",
                names.join(", ")
            ),
        );
        ok = false;
    } else if !item.wire.lifetimes.is_empty() {
        // With borrowed fields, their errors say what to write (and to drop the lifetime).
        if item.wire.borrowed.is_empty() {
            error(
                &item.origin,
                format!(
                    "`{written}` has a lifetime parameter: the runtime decodes every {role} into \
                     owned values (`DeserializeOwned`), which borrow nothing; remove `<{}>` and \
                     own the data (`String` for `Cow<'a, str>`, or `Cow<'static, str>`)",
                    item.wire.lifetimes.join(", ")
                ),
            );
        }
        ok = false;
    }
    if let Shape::Struct { style, fields } = &item.shape {
        match style {
            FieldsStyle::Unit => {
                error(
                    &item.origin,
                    format!(
                        "`{ident}` is a unit struct: serde writes it as `null`, but an empty \
                         TSRPC {role} is the object `{{}}`; write `pub struct {ident} {{}}`"
                    ),
                );
                ok = false;
            }
            FieldsStyle::Tuple => {
                let (how, fix) = match fields.len() {
                    0 => ("as `[]`", format!("write `pub struct {ident} {{}}`")),
                    1 => (
                        "as its field's value",
                        format!(
                            "name the field: `pub struct {ident} {{ pub <name>: {} }}`",
                            fields[0].ty
                        ),
                    ),
                    _ => (
                        "as an array",
                        format!(
                            "name the fields: `pub struct {ident} {{ {} }}`",
                            fields
                                .iter()
                                .map(|f| format!("pub <name>: {}", f.ty))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                };
                error(
                    &item.origin,
                    format!(
                        "`{ident}` is a tuple struct: serde writes it {how}, but a TSRPC {role} \
                         is an object with named fields; {fix}"
                    ),
                );
                ok = false;
            }
            FieldsStyle::Named => {}
        }
    }
    // A borrowed field fails the glue's `DeserializeOwned` bound; `borrowed_rule` reports it.
    ok && item.wire.borrowed.is_empty()
}

/// Every field (or aliased type) of `item` that borrows: one error each.
fn borrowed_rule(cx: &Ctxt, span: Span, item: &ItemDef) {
    let ident = &item.ident;
    let drop_lifetimes = match item.wire.lifetimes.as_slice() {
        [] => String::new(),
        l => format!(" (and remove `<{}>` from `{ident}`)", l.join(", ")),
    };
    for b in &item.wire.borrowed {
        let (what, fix) = match &b.field {
            Some(f) if f.contains('.') || f.starts_with(|c: char| c.is_ascii_digit()) => (
                format!("field `{f}` of `{ident}`"),
                format!("`{}`", b.owned),
            ),
            Some(f) => (
                format!("field `{f}` of `{ident}`"),
                format!("`pub {f}: {}`", b.owned),
            ),
            None => (format!("type alias `{ident}`"), format!("`{}`", b.owned)),
        };
        cx.error_at(
            span,
            format!(
                "{}: {what} borrows (`{}`): the runtime decodes into owned values \
                 (`DeserializeOwned`), which borrow nothing from the input; write {fix}{drop_lifetimes}",
                b.origin, b.written
            ),
        );
    }
}

/// The rules on the fields of one type of the folder.
struct FieldRules<'a> {
    cx: &'a Ctxt,
    span: Span,
    folder: &'a Folder<'a>,
    fi: usize,
    item: &'a ItemDef,
}

impl FieldRules<'_> {
    fn check(&self) {
        match &self.item.shape {
            Shape::Struct { fields, .. } => {
                for (i, f) in fields.iter().enumerate() {
                    self.field(field_name(None, i, f), f);
                }
            }
            Shape::Enum { variants } => {
                for v in variants {
                    for (i, f) in v.fields.iter().enumerate() {
                        self.field(field_name(Some(&v.ident), i, f), f);
                    }
                }
            }
            Shape::Alias { ty } => {
                let what = format!("type alias `{}`", self.item.ident);
                self.map_keys(&what, ty, &self.item.origin);
            }
        }
    }

    fn field(&self, name: String, f: &FieldDef) {
        // Not written, or written by the user's own function: nothing to judge.
        if f.serde.skip || f.serde.with.is_some() {
            return;
        }
        let what = format!("field `{name}` of `{}`", self.item.ident);
        self.map_keys(&what, &f.ty, &f.origin);
        if !f.serde.skip_serializing_if {
            self.option_alias(&what, f);
        }
    }

    fn map_keys(&self, what: &str, ty: &TypeRef, at: &crate::model::Origin) {
        let mut found = Vec::new();
        maps(ty, &mut found);
        for (key, value) in found {
            if let Key::Refused(why) = self.folder.key(Some(self.fi), key, 0) {
                self.cx.error_at(
                    self.span,
                    format!("{at}: {}", map_key_message(what, key, value, why)),
                );
            }
        }
    }

    /// `Nickname` where `type Nickname = Option<String>;` is declared in the folder.
    fn option_alias(&self, what: &str, f: &FieldDef) {
        let Some(alias) = self.folder.option_alias(self.fi, &f.ty) else {
            return;
        };
        let missed = if self.item.wire.skip_serializing_none {
            " (`#[skip_serializing_none]` sees only a literal `Option`, not an alias)"
        } else {
            ""
        };
        self.cx.error_at(
            self.span,
            format!(
                "{}: {what} is an `Option` (through the alias `{}`, {}) without \
                 `#[serde(skip_serializing_if = \"Option::is_none\")]`{missed}: TSRPC omits an \
                 absent field, serde would write `null`",
                f.origin, alias.ident, alias.origin
            ),
        );
    }
}

/// `field`, `0` or `Variant.field`, as the literal `Option` rule names fields.
fn field_name(variant: Option<&str>, i: usize, f: &FieldDef) -> String {
    let name = f.ident.clone().unwrap_or_else(|| i.to_string());
    match variant {
        Some(v) => format!("{v}.{name}"),
        None => name,
    }
}

fn map_key_message(what: &str, key: &TypeRef, value: &TypeRef, why: &str) -> String {
    format!(
        "{what} holds a map keyed by `{key}`, {why}: JSON object keys are text, and TSRPC's \
         index signatures take `string` or `number` keys; key it by `String` or an integer, or \
         send the entries as a list: `Vec<({key}, {value})>`"
    )
}

/// The `(key, value)` of every map in `ty`, outermost first.
fn maps<'t>(ty: &'t TypeRef, out: &mut Vec<(&'t TypeRef, &'t TypeRef)>) {
    match ty {
        TypeRef::Path { segments, args } => {
            let last = segments.last().map(String::as_str);
            if matches!(last, Some("HashMap" | "BTreeMap" | "IndexMap")) && args.len() >= 2 {
                out.push((&args[0], &args[1]));
            }
            args.iter().for_each(|a| maps(a, out));
        }
        TypeRef::Tuple(items) => items.iter().for_each(|a| maps(a, out)),
        TypeRef::Array(elem) => maps(elem, out),
        TypeRef::Other(_) => {}
    }
}

/// What a type is worth as a JSON object key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// serde_json writes it as text TSRPC can type: a string or an integer.
    Text,
    /// It cannot be a key; the reason, for the message.
    Refused(&'static str),
    /// A type declared elsewhere: rustc and serde_json judge it.
    Unknown,
}

const NOT_TEXT: &str = "which serde_json cannot write as an object key";
const NO_BOOL_KEYS: &str = "which TSRPC cannot type as a key (no `boolean` keys)";

/// A key type judged without the folder: scalars, strings, the std containers.
fn std_key(last: &str, args: &[TypeRef]) -> Option<Key> {
    Some(match (last, args.len()) {
        (
            "String" | "str" | "char" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8"
            | "i16" | "i32" | "i64" | "i128" | "isize",
            0,
        ) => Key::Text,
        ("bool", 0) => Key::Refused(NO_BOOL_KEYS),
        (
            "Option" | "Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "IndexSet"
            | "BinaryHeap" | "HashMap" | "BTreeMap" | "IndexMap",
            _,
        )
        | ("Value", 0) => Key::Refused(NOT_TEXT),
        _ => return None,
    })
}

/// The map-key rule for the fields of a type with `#[derive(Api)]` or `#[derive(Message)]`:
/// one error per refused key, spanned on the field. Names are not resolved (the derive sees
/// only its own type), so a key type declared elsewhere is accepted.
pub(crate) fn derive_field_rules(cx: &Ctxt, field: &syn::Field) {
    let ty = shape::type_ref(&field.ty);
    let mut found = Vec::new();
    maps(&ty, &mut found);
    let folder = Folder {
        entries: Vec::new(),
    };
    for (key, value) in found {
        if let Key::Refused(why) = folder.key(None, key, 0) {
            let what = match &field.ident {
                Some(i) => format!("field `{i}`"),
                None => "this field".to_owned(),
            };
            cx.error_spanned_by(&field.ty, map_key_message(&what, key, value, why));
        }
    }
}

/// One protocol file with its place in the folder.
struct Entry<'a> {
    file: &'a FileDef,
    /// Sub-folders from the root.
    folder: Vec<String>,
    /// Its items (none when it could not be parsed).
    items: &'a [ItemDef],
}

/// Every file of the folder, to resolve the type names fields use.
struct Folder<'a> {
    entries: Vec<Entry<'a>>,
}

impl<'a> Folder<'a> {
    fn new(module: &'a ModuleDef) -> Self {
        let mut folder = Folder {
            entries: Vec::new(),
        };
        folder.add(module, &mut Vec::new());
        folder
    }

    fn add(&mut self, module: &'a ModuleDef, path: &mut Vec<String>) {
        for file in &module.files {
            self.entries.push(Entry {
                file,
                folder: path.clone(),
                items: file.items.as_deref().unwrap_or_default(),
            });
        }
        for child in &module.children {
            path.push(child.name.clone());
            self.add(child, path);
            path.pop();
        }
    }

    /// The folder's declaration that `segments`, written in file `fi`, names: the file's own
    /// type first, else the one type of that name (narrowed by a qualifier such as
    /// `shared::User`, then by the sub-folder). `None` when there is none or it is ambiguous
    /// (the exports report that).
    fn resolve(&self, fi: usize, segments: &[String]) -> Option<(usize, &'a ItemDef)> {
        let name = segments.last()?;
        let qualifier = segments
            .len()
            .checked_sub(2)
            .map(|i| segments[i].as_str())
            .filter(|q| !matches!(*q, "super" | "crate" | "self"));
        let here = &self.entries[fi];
        if qualifier.is_none() {
            if let Some(item) = here.items.iter().find(|i| &i.ident == name) {
                return Some((fi, item));
            }
        }
        let found: Vec<(usize, &'a ItemDef)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                qualifier
                    .is_none_or(|q| e.file.stem == q || e.folder.last().is_some_and(|f| f == q))
            })
            .flat_map(|(fj, e)| {
                e.items
                    .iter()
                    .filter(|i| &i.ident == name)
                    .map(move |i| (fj, i))
            })
            .collect();
        match found.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let near: Vec<_> = many
                    .iter()
                    .filter(|(fj, _)| self.entries[*fj].folder == here.folder)
                    .collect();
                match near.as_slice() {
                    [one] => Some(**one),
                    _ => None,
                }
            }
        }
    }

    /// What `ty` (written in file `fi`, if in the folder) is worth as a map key.
    fn key(&self, fi: Option<usize>, ty: &TypeRef, depth: usize) -> Key {
        if depth > MAX_DEPTH {
            return Key::Unknown;
        }
        let TypeRef::Path { segments, args } = ty else {
            return match ty {
                TypeRef::Other(_) => Key::Unknown,
                _ => Key::Refused(NOT_TEXT),
            };
        };
        if let Some((fj, item)) = fi.and_then(|fi| self.resolve(fi, segments)) {
            return self.item_key(fj, item, depth + 1);
        }
        let last = segments.last().map(String::as_str).unwrap_or_default();
        match (last, args.as_slice()) {
            ("Box" | "Rc" | "Arc" | "Cow", [inner]) => self.key(fi, inner, depth + 1),
            _ => std_key(last, args).unwrap_or(Key::Unknown),
        }
    }

    /// A folder type as a key: what serde_json does with it as one.
    fn item_key(&self, fj: usize, item: &ItemDef, depth: usize) -> Key {
        let newtype = |fields: &[FieldDef]| match fields {
            [only] => self.key(Some(fj), &only.ty, depth + 1),
            _ => Key::Refused(NOT_TEXT),
        };
        match &item.shape {
            Shape::Alias { ty } => self.key(Some(fj), ty, depth + 1),
            // Unit variants are written as their names, unless a tag makes them objects.
            Shape::Enum { variants }
                if item.serde.tag.is_none()
                    && !item.serde.untagged
                    && variants.iter().all(|v| v.style == FieldsStyle::Unit) =>
            {
                Key::Text
            }
            Shape::Struct {
                style: FieldsStyle::Tuple,
                fields,
            } => newtype(fields),
            Shape::Struct {
                style: FieldsStyle::Named,
                fields,
            } if item.serde.transparent => {
                let written: Vec<FieldDef> =
                    fields.iter().filter(|f| !f.serde.skip).cloned().collect();
                newtype(&written)
            }
            _ => Key::Refused(NOT_TEXT),
        }
    }

    /// The alias of the folder through which `ty` (in file `fi`) is an `Option`, if it is one.
    fn option_alias(&self, fi: usize, ty: &TypeRef) -> Option<&'a ItemDef> {
        let mut first = None;
        let (mut fi, mut ty) = (fi, ty);
        for _ in 0..MAX_DEPTH {
            let TypeRef::Path { segments, args } = ty else {
                return None;
            };
            if first.is_some() && segments.last().is_some_and(|s| s == "Option") && args.len() == 1
            {
                return first;
            }
            let (fj, item) = self.resolve(fi, segments)?;
            let Shape::Alias { ty: target } = &item.shape else {
                return None;
            };
            first.get_or_insert(item);
            (fi, ty) = (fj, target);
        }
        None
    }
}
