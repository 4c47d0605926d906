//! tsrpc-cli's rules for keeping ids when a proto is generated again with an old one
//! (`tsrpc-cli proto` with its output file or `-c/--compatible` as the old proto).
//!
//! The rules, from tsbuffer-proto-generator 1.7's `EncodeIdUtil` and `_regenSchemaEncodeIds`
//! and tsrpc-cli 2.4's `generateServiceProto`:
//!
//! - Each list of ids has a key per entry: `type + name` for services (`apiLogin`), the name
//!   for an interface property, `'' + value` for an enum member, and the JSON text of the
//!   type for a union / intersection member (tsrpc-cli keys those by the md5 of that text:
//!   two texts have equal md5s exactly when they are equal, so the text itself is the key) and
//!   for an `extends` entry.
//! - A key the old list has keeps its id. A new key gets `max(old ids) + 1`, then the next
//!   number; so an id removed in this step is not given to a new entry (an id above every
//!   kept one can come back in a later step, as with tsrpc-cli). Without an old list, ids
//!   are 0, 1, 2, .. in order. Equal keys share an id.
//! - The old schema of a type is the one with the same type id, if it is of the same kind.
//!   The walk is top-down: a union's member keys are taken from the members as they are
//!   before their own ids are kept, which are the fresh ids (position in the TypeScript
//!   source); properties recurse into the old property of the same name, union members into
//!   the old member with the id just given, arrays, tuples (by position), index signatures and
//!   indexed-access objects into their old counterpart. Nothing else is renumbered.
//! - `version`: with an old proto, `old.version + 1` (an absent version counts as 0) when
//!   `services` or `types` differ from the old ones, else the old version; without one, none.

use std::collections::HashMap;
use std::fmt;
use std::mem::discriminant;

use crate::import::proto::{EnumValue, Json, Layout, Member, Schema, SchemaKind, ServiceProto};

/// An id that would not fit TSRPC's ids (the old proto already uses `u32::MAX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdOverflow {
    /// Where: `services`, or the type id and the path inside it.
    pub at: String,
}

impl fmt::Display for IdOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: no id is left for a new entry (the old proto uses {})",
            self.at,
            u32::MAX
        )
    }
}

impl std::error::Error for IdOverflow {}

type Res<T> = Result<T, IdOverflow>;

/// `EncodeIdUtil.genEncodeIds`: the id of each key, keeping the ids of `old`'s keys.
pub(crate) fn gen_ids(keys: &[String], old: Option<&[(String, u32)]>, at: &str) -> Res<Vec<u32>> {
    let mut next: u64 = 0;
    let mut known: HashMap<&str, u32> = HashMap::new();
    for (key, id) in old.unwrap_or_default() {
        known.insert(key, *id);
        next = next.max(u64::from(*id) + 1);
    }
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let id = match known.get(key.as_str()) {
            Some(id) => *id,
            None => {
                let id = u32::try_from(next).map_err(|_| IdOverflow { at: at.to_owned() })?;
                next += 1;
                known.insert(key, id);
                id
            }
        };
        out.push(id);
    }
    Ok(out)
}

/// The proto `fresh` (as generated from the protocol files, fresh ids) with the ids `old`
/// gave the same entries, and its `version`.
pub(crate) fn keep_ids(fresh: &ServiceProto, old: Option<&ServiceProto>) -> Res<ServiceProto> {
    let mut proto = fresh.clone();
    let service_key = |kind: &str, name: &str| format!("{kind}{name}");
    let keys: Vec<String> = proto
        .services
        .iter()
        .map(|s| service_key(s.kind.as_str(), &s.name))
        .collect();
    let old_keys: Option<Vec<(String, u32)>> = old.map(|o| {
        o.services
            .iter()
            .map(|s| (service_key(s.kind.as_str(), &s.name), s.id))
            .collect()
    });
    let ids = gen_ids(&keys, old_keys.as_deref(), "services")?;
    for (s, id) in proto.services.iter_mut().zip(ids) {
        s.id = id;
    }
    for (id, schema) in &mut proto.types {
        regen(schema, old.and_then(|o| o.get(id)), id)?;
    }
    proto.version = match old {
        None => None,
        Some(o) if o.services == proto.services && o.types == proto.types => o.version,
        Some(o) => Some(o.version.unwrap_or(0) + 1),
    };
    Ok(proto)
}

/// The key of a union / intersection member or an `extends` entry: its type's JSON text.
fn type_key(m: &Member) -> String {
    m.ty.to_json().to_text(Layout::Compact)
}

/// The key of an enum member: JavaScript's `'' + value`.
fn enum_key(value: &EnumValue) -> String {
    match value {
        EnumValue::String(s) => s.clone(),
        EnumValue::Number(n) => Json::Number(*n).to_text(Layout::Compact),
    }
}

/// `_regenSchemaEncodeIds`: keeps the ids of `schema` that `old` (its previous version) gave.
fn regen(schema: &mut Schema, old: Option<&Schema>, at: &str) -> Res<()> {
    let old = old.filter(|o| discriminant(&o.kind) == discriminant(&schema.kind));
    match &mut schema.kind {
        SchemaKind::Enum { members } => {
            let keys: Vec<String> = members.iter().map(|m| enum_key(&m.value)).collect();
            let old_keys = old.and_then(|o| match &o.kind {
                SchemaKind::Enum { members } => Some(
                    members
                        .iter()
                        .map(|m| (enum_key(&m.value), m.id))
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            });
            let ids = gen_ids(&keys, old_keys.as_deref(), at)?;
            for (m, id) in members.iter_mut().zip(ids) {
                m.id = id;
            }
        }
        SchemaKind::Interface(i) => {
            let old_i = old.and_then(|o| match &o.kind {
                SchemaKind::Interface(i) => Some(i),
                _ => None,
            });
            if let Some(extends) = &mut i.extends {
                let keys: Vec<String> = extends.iter().map(type_key).collect();
                let old_keys = old_i
                    .and_then(|o| o.extends.as_ref())
                    .map(|ext| ext.iter().map(|m| (type_key(m), m.id)).collect::<Vec<_>>());
                let ids = gen_ids(&keys, old_keys.as_deref(), &format!("{at} extends"))?;
                for (m, id) in extends.iter_mut().zip(ids) {
                    m.id = id;
                }
            }
            if let Some(props) = &mut i.properties {
                let old_props = old_i.and_then(|o| o.properties.as_deref());
                let keys: Vec<String> = props.iter().map(|p| p.name.clone()).collect();
                let old_keys: Option<Vec<(String, u32)>> =
                    old_props.map(|v| v.iter().map(|p| (p.name.clone(), p.id)).collect());
                let ids = gen_ids(&keys, old_keys.as_deref(), at)?;
                for (p, id) in props.iter_mut().zip(ids) {
                    p.id = id;
                    let old_ty = old_props
                        .and_then(|v| v.iter().find(|o| o.name == p.name))
                        .map(|o| &o.ty);
                    regen(&mut p.ty, old_ty, &format!("{at}.{}", p.name))?;
                }
            }
            if let Some(sig) = &mut i.index_signature {
                let old_ty = old_i
                    .and_then(|o| o.index_signature.as_ref())
                    .map(|s| &*s.ty);
                regen(&mut sig.ty, old_ty, &format!("{at}[key]"))?;
            }
        }
        SchemaKind::Union { members } | SchemaKind::Intersection { members } => {
            let old_members = old.and_then(|o| match &o.kind {
                SchemaKind::Union { members } | SchemaKind::Intersection { members } => {
                    Some(members)
                }
                _ => None,
            });
            // Every key before any member's own ids are kept: the fresh ones.
            let keys: Vec<String> = members.iter().map(type_key).collect();
            let old_keys: Option<Vec<(String, u32)>> =
                old_members.map(|v| v.iter().map(|m| (type_key(m), m.id)).collect());
            let ids = gen_ids(&keys, old_keys.as_deref(), at)?;
            for (i, (m, id)) in members.iter_mut().zip(ids).enumerate() {
                m.id = id;
                let old_ty = old_members
                    .and_then(|v| v.iter().find(|o| o.id == id))
                    .map(|o| &o.ty);
                regen(&mut m.ty, old_ty, &format!("{at}|{i}"))?;
            }
        }
        SchemaKind::Array { element_type } => {
            let old_ty = old.and_then(|o| match &o.kind {
                SchemaKind::Array { element_type } => Some(&**element_type),
                _ => None,
            });
            regen(element_type, old_ty, &format!("{at}[]"))?;
        }
        SchemaKind::IndexedAccess { object_type, .. } => {
            let old_ty = old.and_then(|o| match &o.kind {
                SchemaKind::IndexedAccess { object_type, .. } => Some(&**object_type),
                _ => None,
            });
            regen(object_type, old_ty, at)?;
        }
        SchemaKind::Tuple { element_types, .. } => {
            let old_elems = old.and_then(|o| match &o.kind {
                SchemaKind::Tuple { element_types, .. } => Some(element_types),
                _ => None,
            });
            for (i, e) in element_types.iter_mut().enumerate() {
                let old_ty = old_elems.and_then(|v| v.get(i));
                regen(e, old_ty, &format!("{at}[{i}]"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
