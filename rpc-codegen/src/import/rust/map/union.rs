//! Unions and enums: unit enums for literals, one type with `null` / `undefined` allowed, or
//! an untagged enum with the members in proto order (TSBuffer picks the first that matches).

use super::*;

impl Gen<'_> {
    /// A union: a unit enum (literals), one type (with `null` / `undefined` allowed), or an
    /// untagged enum.
    pub(super) fn union(
        &mut self,
        members: &[Member],
        loc: &Loc,
        name: String,
        doc: Vec<String>,
    ) -> Res<Made> {
        let (mut null, mut undef) = (false, false);
        let mut others: Vec<(usize, &Member, Schema)> = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let (d, _) = self.res.deref(&m.ty, &loc.path)?;
            if is_null_or_undefined(&d) {
                if matches!(d.kind, SchemaKind::Literal { literal: None }) {
                    undef = true;
                } else {
                    null = true;
                }
            } else {
                others.push((i, m, d));
            }
        }
        let literal = |d: &Schema| match &d.kind {
            SchemaKind::Literal { literal: Some(l) } => Some(l.clone()),
            _ => None,
        };
        let lits: Vec<Option<LiteralValue>> = others.iter().map(|(_, _, d)| literal(d)).collect();
        if others.is_empty() {
            return Ok(Made::Val(Val {
                ty: Ty::Unit,
                null: false,
                undef,
            }));
        }
        let ids: Vec<u32> = others.iter().map(|(_, m, _)| m.id).collect();
        if others.len() > 1
            && lits
                .iter()
                .all(|l| matches!(l, Some(LiteralValue::String(_))))
        {
            let mut values: Vec<(u32, String)> = Vec::new();
            for (id, l) in ids.iter().zip(&lits) {
                if let Some(LiteralValue::String(s)) = l {
                    if !values.iter().any(|(_, v)| v == s) {
                        values.push((*id, s.clone()));
                    }
                }
            }
            return Ok(Made::Item(str_enum(name, doc, &values), null, undef));
        }
        if others.len() > 1
            && lits
                .iter()
                .all(|l| matches!(l, Some(LiteralValue::Number(_))))
        {
            let mut values: Vec<(u32, f64)> = Vec::new();
            for (id, l) in ids.iter().zip(&lits) {
                if let Some(LiteralValue::Number(n)) = l {
                    if !values.iter().any(|(_, v)| v == n) {
                        values.push((*id, *n));
                    }
                }
            }
            return Ok(Made::Item(num_enum(name, doc, &values), null, undef));
        }
        if others.len() > 1
            && lits
                .iter()
                .all(|l| matches!(l, Some(LiteralValue::Bool(_))))
        {
            let both = lits.contains(&Some(LiteralValue::Bool(true)))
                && lits.contains(&Some(LiteralValue::Bool(false)));
            let ty = if both {
                Ty::Bool
            } else {
                Ty::LitBool(lits[0] == Some(LiteralValue::Bool(true)))
            };
            return Ok(Made::Val(Val { ty, null, undef }));
        }
        if others.len() == 1 {
            let (i, m, _) = &others[0];
            let v = self.value(&m.ty, &loc.child(&format!("|{i}"), "", &format!("|{i}")))?;
            return Ok(Made::Val(Val {
                ty: v.ty,
                null: null || v.null,
                undef: undef || v.undef,
            }));
        }
        let mut variants: Vec<(String, Ty)> = Vec::new();
        for (i, m, d) in &others {
            let wanted = self.variant_name(&m.ty, d);
            let variant = unique(&wanted, |n| variants.iter().any(|(v, _)| v == n), "");
            let v = self.value(
                &m.ty,
                &loc.child(&format!("|{i}"), &variant, &format!("|{i}")),
            )?;
            variants.push((variant, v.nested()));
        }
        Ok(Made::Item(
            Item::Untagged {
                name,
                doc,
                variants,
                ids,
            },
            null,
            undef,
        ))
    }

    /// The variant of an untagged enum for a union member.
    pub(super) fn variant_name(&self, member: &Schema, resolved: &Schema) -> String {
        let mut member = member;
        while let SchemaKind::Pick { target, .. }
        | SchemaKind::Omit { target, .. }
        | SchemaKind::Partial { target }
        | SchemaKind::Overwrite { target, .. } = &member.kind
        {
            member = target;
        }
        if let SchemaKind::Reference { target } = &member.kind {
            if let Some(n) = self.named.get(target) {
                return n.rust.clone();
            }
            if OBJECT_IDS.contains(&target.as_str()) {
                return "ObjectId".to_owned();
            }
        }
        match &resolved.kind {
            SchemaKind::Literal {
                literal: Some(LiteralValue::String(s)),
            } => variant_for_str(s),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Number(n)),
            } => variant_for_num(*n),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Bool(b)),
            } => if *b { "True" } else { "False" }.to_owned(),
            SchemaKind::String => "String".to_owned(),
            SchemaKind::Number { scalar_type } => match scalar_type {
                Some(ScalarType::Int) => "Int",
                Some(ScalarType::Uint) => "Uint",
                _ => "Number",
            }
            .to_owned(),
            SchemaKind::Boolean => "Bool".to_owned(),
            SchemaKind::Array { .. } => "Array".to_owned(),
            SchemaKind::Tuple { .. } => "Tuple".to_owned(),
            SchemaKind::Date => "Date".to_owned(),
            SchemaKind::Buffer { .. } => "Bytes".to_owned(),
            SchemaKind::Any | SchemaKind::Object => "Json".to_owned(),
            SchemaKind::Enum { .. } => "Enum".to_owned(),
            _ => {
                let d = describe(resolved);
                if d.contains("interface") || d.starts_with('`') {
                    "Object".to_owned()
                } else {
                    "Variant".to_owned()
                }
            }
        }
    }
}

pub(super) fn str_enum(name: String, doc: Vec<String>, values: &[(u32, String)]) -> Item {
    let mut variants: Vec<(String, String)> = Vec::new();
    for (_, v) in values {
        let variant = unique(
            &variant_for_str(v),
            |n| variants.iter().any(|(x, _)| x == n),
            "",
        );
        variants.push((variant, v.clone()));
    }
    Item::StrEnum {
        name,
        doc,
        variants,
        ids: values.iter().map(|(id, _)| *id).collect(),
    }
}

pub(super) fn num_enum(name: String, doc: Vec<String>, values: &[(u32, f64)]) -> Item {
    let mut variants: Vec<(String, f64)> = Vec::new();
    for (_, v) in values {
        let variant = unique(
            &variant_for_num(*v),
            |n| variants.iter().any(|(x, _)| x == n),
            "",
        );
        variants.push((variant, *v));
    }
    Item::NumEnum {
        name,
        doc,
        variants,
        ids: values.iter().map(|(id, _)| *id).collect(),
    }
}
