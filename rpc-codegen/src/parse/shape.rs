//! The JSON-relevant shape of a type: fields with their types, variants, and the
//! `#[serde(..)]` attributes that change names and presence. Plain data for the exports
//! ([`crate::export`]) and the wire rules (`crate::check_wire`), with the facts the shape
//! leaves out ([`wire_facts`]: parameters, `cfg`s, borrowed types).

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;

use crate::model::{
    Borrowed, FieldDef, FieldsStyle, Origin, SerdeAttrs, Shape, TypeRef, VariantDef, WireFacts,
    Written,
};

/// The shape of a struct, enum or type alias.
pub(crate) fn shape_of(item: &syn::Item, origin: &dyn Fn(Span) -> Origin) -> Option<Shape> {
    Some(match item {
        syn::Item::Struct(s) => {
            let (style, fields) = fields(&s.fields, origin);
            Shape::Struct { style, fields }
        }
        syn::Item::Enum(e) => Shape::Enum {
            variants: e
                .variants
                .iter()
                .map(|v| {
                    let (style, fields) = fields(&v.fields, origin);
                    VariantDef {
                        ident: v.ident.to_string(),
                        style,
                        fields,
                        docs: super::docs(&v.attrs),
                        serde: serde_attrs(&v.attrs),
                        origin: origin(v.ident.span()),
                    }
                })
                .collect(),
        },
        syn::Item::Type(t) => Shape::Alias {
            ty: type_ref(&t.ty),
        },
        _ => return None,
    })
}

/// `#[serde_with::skip_serializing_none]` adds `skip_serializing_if` to every `Option` field.
pub(crate) fn skip_serializing_none(shape: &mut Shape) {
    let fields: Vec<&mut FieldDef> = match shape {
        Shape::Struct { fields, .. } => fields.iter_mut().collect(),
        Shape::Enum { variants } => variants.iter_mut().flat_map(|v| &mut v.fields).collect(),
        Shape::Alias { .. } => Vec::new(),
    };
    for f in fields {
        if f.ty.last_segment() == Some("Option") {
            f.serde.skip_serializing_if = true;
        }
    }
}

/// The generic type parameters of an item (lifetimes and consts are not listed).
pub(crate) fn generics(g: &syn::Generics) -> Vec<String> {
    g.type_params().map(|p| p.ident.to_string()).collect()
}

/// What the wire rules need to know about a struct, enum or type alias beyond its [`Shape`].
pub(crate) fn wire_facts(item: &syn::Item, origin: &dyn Fn(Span) -> Origin) -> WireFacts {
    let (attrs, generics) = match item {
        syn::Item::Struct(s) => (&s.attrs, &s.generics),
        syn::Item::Enum(e) => (&e.attrs, &e.generics),
        syn::Item::Type(t) => (&t.attrs, &t.generics),
        _ => return WireFacts::default(),
    };
    let mut borrowed = Vec::new();
    let mut field = |name: Option<String>, ty: &syn::Type, at: Span| {
        if holds_reference(ty) {
            borrowed.push(Borrowed {
                field: name,
                written: written(ty),
                owned: type_text(&owned(ty)),
                origin: origin(at),
            });
        }
    };
    let mut fields_of = |prefix: Option<&syn::Ident>, fields: &syn::Fields| {
        for (i, f) in fields.iter().enumerate() {
            let name = f.ident.as_ref().map_or_else(|| i.to_string(), ident_name);
            let name = match prefix {
                Some(v) => format!("{v}.{name}"),
                None => name,
            };
            let at = f
                .ident
                .as_ref()
                .map_or_else(|| f.ty.span(), syn::Ident::span);
            field(Some(name), &f.ty, at);
        }
    };
    match item {
        syn::Item::Struct(s) => fields_of(None, &s.fields),
        syn::Item::Enum(e) => {
            for v in &e.variants {
                fields_of(Some(&v.ident), &v.fields);
            }
        }
        syn::Item::Type(t) => field(None, &t.ty, t.ident.span()),
        _ => {}
    }
    WireFacts {
        lifetimes: generics
            .lifetimes()
            .map(|l| l.lifetime.to_string())
            .collect(),
        consts: generics
            .const_params()
            .map(|c| c.ident.to_string())
            .collect(),
        cfgs: attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"))
            .map(|a| Written {
                text: written(a),
                origin: origin(a.span()),
            })
            .collect(),
        borrowed,
        skip_serializing_none: attrs.iter().any(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "skip_serializing_none")
        }),
    }
}

/// Whether a reference appears anywhere in `ty` (`&str`, `Option<&[u8]>`, `(u8, &T)`).
pub(crate) fn holds_reference(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(_) => true,
        syn::Type::Path(p) => {
            p.qself.as_ref().is_some_and(|q| holds_reference(&q.ty))
                || p.path.segments.iter().any(|s| match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.iter().any(|a| match a {
                        syn::GenericArgument::Type(t) => holds_reference(t),
                        _ => false,
                    }),
                    _ => false,
                })
        }
        syn::Type::Tuple(t) => t.elems.iter().any(holds_reference),
        syn::Type::Array(a) => holds_reference(&a.elem),
        syn::Type::Slice(s) => holds_reference(&s.elem),
        syn::Type::Paren(p) => holds_reference(&p.elem),
        syn::Type::Group(g) => holds_reference(&g.elem),
        _ => false,
    }
}

/// `ty` with each reference replaced by the type that owns its data: `&str` -> `String`,
/// `&[T]` -> `Vec<T>`, `&T` -> `T`, inside any path, tuple or array.
fn owned(ty: &syn::Type) -> syn::Type {
    let mut ty = ty.clone();
    make_owned(&mut ty);
    ty
}

fn make_owned(ty: &mut syn::Type) {
    match ty {
        syn::Type::Reference(r) => {
            let mut elem = (*r.elem).clone();
            *ty = match &mut elem {
                syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
                    syn::parse_quote!(String)
                }
                // The unsized borrowed forms of std whose owner has another name.
                syn::Type::Path(p) if unsized_owner(&p.path).is_some() => {
                    let owner = unsized_owner(&p.path).unwrap_or_default();
                    let mut p = p.clone();
                    if let Some(last) = p.path.segments.last_mut() {
                        last.ident = syn::Ident::new(owner, last.ident.span());
                    }
                    syn::Type::Path(p)
                }
                syn::Type::Slice(s) => {
                    make_owned(&mut s.elem);
                    let e = &s.elem;
                    syn::parse_quote!(Vec<#e>)
                }
                other => {
                    make_owned(other);
                    other.clone()
                }
            };
        }
        syn::Type::Path(p) => {
            for s in &mut p.path.segments {
                if let syn::PathArguments::AngleBracketed(a) = &mut s.arguments {
                    for arg in &mut a.args {
                        if let syn::GenericArgument::Type(t) = arg {
                            make_owned(t);
                        }
                    }
                }
            }
        }
        syn::Type::Tuple(t) => t.elems.iter_mut().for_each(make_owned),
        syn::Type::Array(a) => make_owned(&mut a.elem),
        syn::Type::Slice(s) => make_owned(&mut s.elem),
        syn::Type::Paren(p) => make_owned(&mut p.elem),
        syn::Type::Group(g) => make_owned(&mut g.elem),
        _ => {}
    }
}

/// `Path` -> `PathBuf`, `OsStr` -> `OsString`, `CStr` -> `CString`.
fn unsized_owner(path: &syn::Path) -> Option<&'static str> {
    let last = path.segments.last()?;
    if !last.arguments.is_empty() {
        return None;
    }
    Some(match last.ident.to_string().as_str() {
        "Path" => "PathBuf",
        "OsStr" => "OsString",
        "CStr" => "CString",
        _ => return None,
    })
}

/// A type as rustfmt would write it (`&'a str`, `Vec<String>`).
fn type_text(ty: &syn::Type) -> String {
    syn::parse2::<syn::File>(quote::quote!(type T = #ty;))
        .ok()
        .and_then(|file| {
            let text = prettyplease::unparse(&file);
            let text = text.trim().strip_prefix("type T = ")?.strip_suffix(';')?;
            Some(text.to_owned())
        })
        .unwrap_or_else(|| ty.to_token_stream().to_string())
}

/// Source text as the user wrote it when the tokens come from a parsed file (their spans
/// know it), else the tokens printed.
fn written<T: ToTokens + Spanned>(node: &T) -> String {
    node.span()
        .source_text()
        .unwrap_or_else(|| node.to_token_stream().to_string())
}

fn fields(f: &syn::Fields, origin: &dyn Fn(Span) -> Origin) -> (FieldsStyle, Vec<FieldDef>) {
    let style = match f {
        syn::Fields::Named(_) => FieldsStyle::Named,
        syn::Fields::Unnamed(_) => FieldsStyle::Tuple,
        syn::Fields::Unit => FieldsStyle::Unit,
    };
    let list = f
        .iter()
        .map(|field| FieldDef {
            ident: field.ident.as_ref().map(ident_name),
            ty: type_ref(&field.ty),
            docs: super::docs(&field.attrs),
            serde: serde_attrs(&field.attrs),
            origin: origin(
                field
                    .ident
                    .as_ref()
                    .map_or_else(|| field.ty.span(), syn::Ident::span),
            ),
        })
        .collect();
    (style, list)
}

/// An identifier without its `r#`.
fn ident_name(i: &syn::Ident) -> String {
    let s = i.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// A type as owned data.
pub(crate) fn type_ref(ty: &syn::Type) -> TypeRef {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => TypeRef::Path {
            segments: p
                .path
                .segments
                .iter()
                .map(|s| ident_name(&s.ident))
                .collect(),
            args: match p.path.segments.last().map(|s| &s.arguments) {
                Some(syn::PathArguments::AngleBracketed(a)) => a
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        syn::GenericArgument::Type(t) => Some(type_ref(t)),
                        // A const argument (`LitInt<2>`), as written.
                        syn::GenericArgument::Const(c) => {
                            Some(TypeRef::Other(c.to_token_stream().to_string()))
                        }
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
        },
        syn::Type::Reference(r) => type_ref(&r.elem),
        syn::Type::Group(g) => type_ref(&g.elem),
        syn::Type::Paren(p) => type_ref(&p.elem),
        syn::Type::Tuple(t) => TypeRef::Tuple(t.elems.iter().map(type_ref).collect()),
        syn::Type::Array(a) => TypeRef::Array(Box::new(type_ref(&a.elem))),
        syn::Type::Slice(s) => TypeRef::Array(Box::new(type_ref(&s.elem))),
        other => TypeRef::Other(other.to_token_stream().to_string()),
    }
}

/// The `#[serde(..)]` keys of [`SerdeAttrs`] found in `attrs`; anything else is skipped.
pub(crate) fn serde_attrs(attrs: &[syn::Attribute]) -> SerdeAttrs {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // A malformed attribute is serde's to report; keep what was read.
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "rename" => out.rename = serialize_name(&meta)?.or(out.rename.take()),
                "rename_all" => out.rename_all = serialize_name(&meta)?.or(out.rename_all.take()),
                "rename_all_fields" => {
                    out.rename_all_fields = serialize_name(&meta)?.or(out.rename_all_fields.take());
                }
                "tag" => out.tag = Some(lit_str(&meta)?),
                "content" => out.content = Some(lit_str(&meta)?),
                "untagged" => out.untagged = true,
                "transparent" => out.transparent = true,
                "flatten" => out.flatten = true,
                "skip" | "skip_serializing" => {
                    out.skip = true;
                    skip_value(&meta)?;
                }
                "skip_serializing_if" => {
                    out.skip_serializing_if = true;
                    skip_value(&meta)?;
                }
                "default" => {
                    out.default = true;
                    skip_value(&meta)?;
                }
                "with" | "serialize_with" => out.with = Some(lit_str(&meta)?),
                "into" => out.into = Some(lit_str(&meta)?),
                _ => skip_value(&meta)?,
            }
            Ok(())
        });
    }
    out
}

/// `key = "x"`.
fn lit_str(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<String> {
    Ok(meta.value()?.parse::<syn::LitStr>()?.value())
}

/// `key = "x"` or `key(serialize = "x", deserialize = "y")`: the name used when serializing.
fn serialize_name(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Option<String>> {
    if meta.input.peek(syn::Token![=]) {
        return lit_str(meta).map(Some);
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            name = Some(lit_str(&inner)?);
        } else {
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// Consumes `= value` or `(..)` after a key that is not read.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_keys() {
        let item: syn::ItemStruct = syn::parse_quote! {
            #[serde(rename_all = "camelCase", deny_unknown_fields, bound(serialize = "T: X"))]
            #[serde(tag = "kind")]
            struct S {
                #[serde(rename(serialize = "a", deserialize = "b"), default = "x", alias = "z")]
                #[serde(skip_serializing_if = "Option::is_none", with = "base64")]
                r#type: Option<&'static [u8]>,
            }
        };
        let attrs = serde_attrs(&item.attrs);
        assert_eq!(attrs.rename_all.as_deref(), Some("camelCase"));
        assert_eq!(attrs.tag.as_deref(), Some("kind"));
        let f = item.fields.iter().next().unwrap();
        let attrs = serde_attrs(&f.attrs);
        assert_eq!(attrs.rename.as_deref(), Some("a"));
        assert!(attrs.default && attrs.skip_serializing_if && !attrs.skip);
        assert_eq!(attrs.with.as_deref(), Some("base64"));
        assert_eq!(ident_name(f.ident.as_ref().unwrap()), "type");
        assert_eq!(type_ref(&f.ty).to_string(), "Option<[u8]>");
    }

    fn facts(src: &str) -> WireFacts {
        let file = syn::parse_file(src).unwrap();
        let origin = |span: Span| Origin {
            file: "f.rs".to_owned(),
            line: span.start().line,
            column: span.start().column + 1,
        };
        wire_facts(&file.items[0], &origin)
    }

    #[test]
    fn owned_types_replace_every_reference() {
        for (written, want) in [
            ("&'a str", "String"),
            ("&[u8]", "Vec<u8>"),
            ("&'static [&'static str]", "Vec<String>"),
            ("Option<&'a Vec<&'a str>>", "Option<Vec<String>>"),
            ("(u8, &'a std::path::Path)", "(u8, std::path::PathBuf)"),
            ("[&'a str; 2]", "[String; 2]"),
            (
                "std::collections::HashMap<&'a str, Cow<'a, str>>",
                "std::collections::HashMap<String, Cow<'a, str>>",
            ),
        ] {
            let ty: syn::Type = syn::parse_str(written).unwrap();
            assert!(holds_reference(&ty), "{written}");
            assert_eq!(type_text(&owned(&ty)), want, "{written}");
        }
        for plain in ["String", "Cow<'a, str>", "Vec<Box<str>>", "fn(&str)"] {
            let ty: syn::Type = syn::parse_str(plain).unwrap();
            assert!(!holds_reference(&ty), "{plain}");
        }
    }

    #[test]
    fn wire_facts_of_items() {
        let f = facts(
            "#[cfg(feature = \"x\")]\n#[cfg_attr(test, derive(Debug))]\n#[serde_with::skip_serializing_none]\npub struct S<'a, T, const N: usize> {\n    a: &'a str,\n    b: [T; N],\n}\n",
        );
        assert_eq!(f.lifetimes, ["'a"]);
        assert_eq!(f.consts, ["N"]);
        assert!(f.skip_serializing_none);
        let cfgs: Vec<String> = f
            .cfgs
            .iter()
            .map(|c| format!("{} {}", c.origin, c.text))
            .collect();
        assert_eq!(
            cfgs,
            [
                "f.rs:1:1 #[cfg(feature = \"x\")]",
                "f.rs:2:1 #[cfg_attr(test, derive(Debug))]"
            ]
        );
        assert_eq!(f.borrowed.len(), 1);
        let b = &f.borrowed[0];
        assert_eq!(
            (
                b.field.as_deref(),
                &*b.written,
                &*b.owned,
                b.origin.to_string()
            ),
            (Some("a"), "&'a str", "String", "f.rs:5:5".to_owned())
        );

        let f = facts("enum E { A(u8, &'static str), B { r#type: Option<&'static [u8]> } }");
        let names: Vec<_> = f
            .borrowed
            .iter()
            .map(|b| b.field.clone().unwrap())
            .collect();
        assert_eq!(names, ["A.1", "B.type"]);

        let f = facts("type T<'a> = &'a [u8];");
        assert_eq!(f.borrowed[0].field, None);
        assert_eq!(f.borrowed[0].owned, "Vec<u8>");
        assert!(f.cfgs.is_empty() && !f.skip_serializing_none);
    }
}
