//! Resolution as tsbuffer-validator's `ProtoHelper` does it: a reference is what it targets,
//! `T['k']` is the type of `k` in `T`'s flattened form (or `that | undefined` for an optional
//! `k`), `keyof T` is the union of `T`'s flattened property names (member ids by position),
//! and an interface's flattened form is its own properties, then those it inherits that it
//! does not redefine.

use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Builder, Interface, Mapped, Raw};
use crate::tsbuffer::error::Error;
use crate::tsbuffer::schema::{Ix, Lit, Scalar, Wire};
use crate::tsbuffer::wire::length_type;

/// An interface-like schema flattened (`getFlatInterfaceSchema`).
#[derive(Debug, Clone, Default)]
pub(super) struct Flat {
    pub(super) props: Vec<FlatProp>,
    /// `(number keys, value type)`.
    pub(super) index: Option<(bool, Ix)>,
}

#[derive(Debug, Clone)]
pub(super) struct FlatProp {
    pub(super) name: String,
    /// The property's type as written (not resolved).
    pub(super) ty: Ix,
    pub(super) optional: bool,
}

#[derive(Debug, Default)]
pub(super) struct FlatCache {
    done: FxHashMap<Ix, Rc<Flat>>,
    busy: FxHashSet<Ix>,
}

impl Builder<'_> {
    /// What `ix` denotes once references, `T['k']` and `keyof T` are followed.
    pub(super) fn canon(&mut self, ix: Ix) -> Result<Ix, Error> {
        let mut cur = ix;
        for _ in 0..=self.raw.len() + 1 {
            match &self.raw[cur as usize] {
                Raw::Ref(t) => cur = *t,
                Raw::IndexedAccess { .. } => {
                    let Raw::IndexedAccess { object, index } =
                        std::mem::replace(&mut self.raw[cur as usize], Raw::Pending)
                    else {
                        unreachable!()
                    };
                    let resolved = self.indexed(object, &index)?;
                    self.raw[cur as usize] = Raw::Ref(resolved);
                    cur = resolved;
                }
                Raw::Keyof(target) => {
                    let target = *target;
                    self.raw[cur as usize] = Raw::Pending;
                    let flat = self.flat(target)?;
                    let mut members = Vec::with_capacity(flat.props.len());
                    for (i, p) in flat.props.iter().enumerate() {
                        let lit = self.push(Raw::Literal(Lit::Str(p.name.as_str().into())));
                        members.push((i as u64, lit));
                    }
                    self.raw[cur as usize] = Raw::Union(members);
                    return Ok(cur);
                }
                Raw::Pending => return Err(self.err("a type that refers to itself")),
                _ => return Ok(cur),
            }
        }
        Err(self.err("a circular type reference"))
    }

    /// `object[index]`.
    fn indexed(&mut self, object: Ix, index: &str) -> Result<Ix, Error> {
        let flat = self.flat(object)?;
        let (ty, optional) = match flat.props.iter().find(|p| p.name == index) {
            Some(p) => (p.ty, p.optional),
            None => match flat.index {
                Some((_, ty)) => (ty, false),
                None => return Err(self.err(format!("Error index: {index}"))),
            },
        };
        // An optional property is `T | undefined`, unless it is already a union with an
        // `undefined` member.
        let has_undefined = matches!(&self.raw[ty as usize], Raw::Union(ms)
            if ms.iter().any(|&(_, m)| matches!(self.raw[m as usize], Raw::Literal(Lit::Undefined))));
        if optional && !has_undefined {
            let undefined = self.push(Raw::Literal(Lit::Undefined));
            return Ok(self.push(Raw::Union(vec![(0, ty), (1, undefined)])));
        }
        Ok(ty)
    }

    /// The flattened form of an interface-like schema.
    pub(super) fn flat(&mut self, ix: Ix) -> Result<Rc<Flat>, Error> {
        let c = self.canon(ix)?;
        if let Some(f) = self.flat.done.get(&c) {
            return Ok(f.clone());
        }
        if !self.flat.busy.insert(c) {
            return Err(self.err("an interface that extends itself"));
        }
        let flat = match self.raw[c as usize].clone() {
            Raw::Interface(i) => self.flatten_interface(&i),
            Raw::Mapped { kind, target } => self.flatten_mapped(&kind, target),
            _ => Err(self.err("Cannot flatten non interface type")),
        };
        self.flat.busy.remove(&c);
        let flat = Rc::new(flat?);
        self.flat.done.insert(c, flat.clone());
        Ok(flat)
    }

    fn flatten_interface(&mut self, i: &Interface) -> Result<Flat, Error> {
        let mut out = Flat {
            props: i
                .props
                .iter()
                .map(|p| FlatProp {
                    name: p.name.clone(),
                    ty: p.ty,
                    optional: p.optional,
                })
                .collect(),
            index: i.index,
        };
        for &(_, parent) in &i.extends {
            let parent = self.flat(parent)?;
            for p in &parent.props {
                if !out.props.iter().any(|q| q.name == p.name) {
                    out.props.push(p.clone());
                }
            }
            if out.index.is_none() {
                out.index = parent.index;
            }
        }
        Ok(out)
    }

    fn flatten_mapped(&mut self, kind: &Mapped, target: Ix) -> Result<Flat, Error> {
        let mut t = (*self.flat(target)?).clone();
        match kind {
            Mapped::Pick(keys) => {
                let mut props = Vec::with_capacity(keys.len());
                for key in keys {
                    if let Some(p) = t.props.iter().find(|p| &p.name == key) {
                        props.push(p.clone());
                    } else if let Some((_, ty)) = t.index {
                        props.push(FlatProp {
                            name: key.clone(),
                            ty,
                            optional: false,
                        });
                    }
                }
                Ok(Flat { props, index: None })
            }
            Mapped::Partial => {
                for p in &mut t.props {
                    p.optional = true;
                }
                Ok(t)
            }
            Mapped::Omit(keys) => {
                t.props.retain(|p| !keys.contains(&p.name));
                Ok(t)
            }
            Mapped::Overwrite(overwrite) => {
                let o = self.flat(*overwrite)?;
                if o.index.is_some() {
                    t.index = o.index;
                }
                for p in &o.props {
                    t.props.retain(|q| q.name != p.name);
                    t.props.push(p.clone());
                }
                Ok(t)
            }
        }
    }

    /// tsbuffer's `canBeLiteral` (`any_counts`) and the validator's `_canBeNull` /
    /// `_canBeUndefined` (not `any_counts`), on the schema as written: a union's members are
    /// looked into, references are not followed.
    pub(super) fn can_be(&self, ix: Ix, lit: &Lit, any_counts: bool) -> bool {
        match &self.raw[ix as usize] {
            Raw::Union(members) => members
                .iter()
                .any(|&(_, m)| self.can_be(m, lit, any_counts)),
            Raw::Literal(l) => l == lit,
            Raw::Any => any_counts,
            _ => false,
        }
    }

    /// How a value of `ix` sits in an id-block (`IdBlockUtil.getPayloadLengthInfo` of the
    /// resolved schema).
    pub(super) fn wire(&mut self, ix: Ix) -> Result<Wire, Error> {
        let mut c = self.canon(ix)?;
        // `NonNullable<T>` sits as `T` does.
        for _ in 0..=self.raw.len() {
            match &self.raw[c as usize] {
                Raw::NonNullable(t) => c = self.canon(*t)?,
                _ => break,
            }
        }
        let plain = |lt| Wire { lt, prefix: false };
        Ok(match &self.raw[c as usize] {
            Raw::Boolean | Raw::Enum(_) | Raw::Date => plain(length_type::VARINT),
            Raw::Number(Scalar::Int | Scalar::Uint) => plain(length_type::VARINT),
            Raw::Number(Scalar::Double) => plain(length_type::BIT64),
            Raw::Number(Scalar::Big(name)) if name.contains("64") => plain(length_type::BIT64),
            Raw::Interface(_)
            | Raw::Union(_)
            | Raw::Intersection(_)
            | Raw::Mapped {
                kind: Mapped::Pick(_) | Mapped::Omit(_) | Mapped::Partial,
                ..
            } => plain(length_type::ID_BLOCK),
            Raw::Array(_)
            | Raw::Tuple { .. }
            | Raw::Mapped {
                kind: Mapped::Overwrite(_),
                ..
            } => Wire {
                lt: length_type::DELIMITED,
                prefix: true,
            },
            _ => plain(length_type::DELIMITED),
        })
    }
}
