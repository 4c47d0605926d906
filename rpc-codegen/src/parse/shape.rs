//! The JSON-relevant shape of a type: fields with their types, variants, and the
//! `#[serde(..)]` attributes that change names and presence. Plain data for the exports
//! ([`crate::export`]); the macros do not need it.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;

use crate::model::{FieldDef, FieldsStyle, Origin, SerdeAttrs, Shape, TypeRef, VariantDef};

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
}
