//! Object types: a struct from the flattened properties, each field typed once per
//! declaration, optional and nullable fields told apart, unsupported optional fields left out
//! on request.

use super::*;

impl Gen<'_> {
    /// The Rust type of a property, once per declaration (a property reached again through
    /// `T['k']`, `Pick` or an `extends` gives the same type).
    pub(super) fn field(&mut self, prop: &Prop, path: &str) -> Res<Val> {
        let key = format!("{}.{}", prop.owner.key, prop.name);
        if let Some((_, v)) = self.memo.get(&key) {
            return Ok(v.clone());
        }
        let loc = Loc {
            owner: prop.owner.inline(&format!(".{}", prop.name)),
            base: format!("{}{}", self.base_of(&prop.owner), camel_part(&prop.name)),
            path: path.to_owned(),
        };
        self.bases.insert(loc.owner.key.clone(), loc.base.clone());
        let v = self.value(&prop.ty, &loc)?;
        self.memo.insert(key, (prop.owner.root.clone(), v.clone()));
        Ok(v)
    }

    /// A struct from a flattened object type (a bare index signature is a map).
    pub(super) fn object(
        &mut self,
        flat: Flat,
        loc: &Loc,
        name: String,
        doc: Vec<String>,
    ) -> Res<Made> {
        self.bases.insert(loc.owner.key.clone(), loc.base.clone());
        if flat.props.is_empty() {
            if let Some(sig) = &flat.index {
                let v = self.value(&sig.ty, &loc.child("{}", "Value", "[key]"))?;
                return Ok(Made::Val(Val::plain(Ty::Map(Box::new(v.nested())))));
            }
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        let mut failed: Vec<ImportError> = Vec::new();
        for prop in &flat.props {
            let path = format!("{}.{}", loc.path, prop.name);
            let v = match self.field(prop, &path) {
                Ok(v) => v,
                Err(e)
                    if e.unsupported
                        && prop.optional
                        && self.opts.skip_unsupported_optional_fields =>
                {
                    self.skipped.push(format!("{path}: {}", e.message));
                    continue;
                }
                Err(mut e) => {
                    // The innermost field that holds it says whether the option helps.
                    if e.unsupported && e.hint.is_none() {
                        e.hint = Some(if prop.optional {
                            format!("`{path}` is optional: `skip_unsupported_optional_fields = true` leaves it out")
                        } else {
                            String::new()
                        });
                    }
                    failed.push(e);
                    continue;
                }
            };
            let absent = prop.optional || v.undef;
            let mode = match (absent, v.null) {
                _ if !absent && !v.null && self.null_when_absent(&v.ty) => Mode::Default,
                (false, false) => Mode::Required,
                (true, false) => Mode::Optional,
                (false, true) => Mode::Nullable,
                (true, true) => Mode::OptionalNullable,
            };
            let rust = unique(&field_name(&prop.name), |n| taken.contains(n), "_");
            taken.insert(rust.clone());
            fields.push(Field {
                ids: FieldIds {
                    owner: prop.owner.key.clone(),
                    id: prop.id,
                    via: prop.via.clone(),
                },
                rust,
                json: prop.name.clone(),
                ty: v.ty,
                mode,
                doc: prop
                    .comment
                    .iter()
                    .flat_map(|c| c.lines().map(|l| format!(" {}", l.trim())))
                    .collect(),
            });
        }
        if let Some(first) = failed.first().cloned() {
            // Every failing field is reported; the type fails with the first.
            self.failed_fields.extend(failed.into_iter().skip(1));
            return Err(first);
        }
        let rest = match &flat.index {
            Some(sig) => Some(
                self.value(&sig.ty, &loc.child("{}", "Value", "[key]"))?
                    .nested(),
            ),
            None => None,
        };
        Ok(Made::Item(
            Item::Struct {
                name,
                doc,
                fields,
                rest,
            },
            false,
            false,
        ))
    }

    /// `()` (the literal `null`) or a named `T | null` alias: read as `null` when absent.
    fn null_when_absent(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Unit => true,
            Ty::Named { file, name } => self
                .named
                .values()
                .any(|n| n.file == *file && n.rust == *name && n.null_alias),
            _ => false,
        }
    }
}
