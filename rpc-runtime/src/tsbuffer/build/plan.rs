//! From resolved schemas to the [`Node`]s and [`Plan`]s the codec walks.
//!
//! A plan follows tsbuffer's `Encoder._writeInterface` / `_writePureMappedType` and
//! `Decoder._readInterface` / `_readPureMappedType`: `Pick` keeps only its keys (and meets an
//! outer `Pick`), `Omit` drops its keys, `Partial` makes every field optional, `Overwrite`
//! writes its overwrite part, then its target without the overwritten fields. A mapped type
//! over a union (`Pick<A | B, 'k'>`) is the union of the mapped members, as
//! `parseMappedType` makes it.
//!
//! Where we differ on purpose (neither changes what a TSRPC peer decodes):
//! - index-signature entries are written in the root block of the interface whose flattened
//!   form has the signature; tsbuffer writes an inherited signature's entries in the parent's
//!   `extends` block, together with the child's own properties that come later (a bug);
//! - a field inherited through `extends` of a mapped type (`interface A extends Omit<B, 'x'>`)
//!   is refused when present: tsbuffer's encoder writes no block for such a parent and loses
//!   the field, so the peer could not decode the message.

use rustc_hash::FxHashMap;

use super::{Builder, Interface, Mapped, Raw};
use crate::tsbuffer::error::Error;
use crate::tsbuffer::schema::{
    Block, Field, Fill, IndexRead, Ix, KeyFilter, Lit, Member, Node, NullMode, OpenIndex, Plan,
    PropRead, Proto, Service, TupleElem, NO_BLOCK,
};

/// The options tsbuffer threads through one interface's write: shared and mutated, as there.
#[derive(Debug, Default)]
struct Cx {
    pick: Option<Vec<String>>,
    skip: Vec<String>,
    partial: bool,
    /// Names an `Overwrite`'s overwrite part owns: the target part does not yield them.
    hidden: Vec<String>,
}

impl Cx {
    fn visible(&self, name: &str) -> bool {
        self.pick
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|k| k == name))
            && !self.skip.iter().any(|k| k == name)
    }
}

#[derive(Debug, Default)]
struct Build {
    fields: Vec<Field>,
    blocks: Vec<Block>,
    roots: Vec<u16>,
    by_name: FxHashMap<Box<str>, u16>,
    open_index: Option<OpenIndex>,
}

/// What `parseMappedType` gives.
enum Parsed {
    Interface,
    Members {
        intersection: bool,
        members: Vec<(u64, Ix)>,
    },
}

/// A field's facts, before it gets its place.
struct FieldSpec<'a> {
    name: &'a str,
    /// As written.
    ty: Ix,
    header: u64,
    optional: bool,
    index_entry: bool,
}

impl Builder<'_> {
    /// Resolves every schema reachable from `names` and the services, and builds the proto.
    pub(super) fn finish(
        mut self,
        names: Vec<(String, Ix)>,
        mut services: Vec<Service>,
    ) -> Result<Proto, Error> {
        let mut work = Vec::new();
        let mut by_name = FxHashMap::default();
        let mut what = FxHashMap::default();
        for (id, ix) in names {
            let c = self.canon(ix)?;
            work.push(c);
            what.entry(c).or_insert_with(|| id.clone());
            by_name.insert(id.into_boxed_str(), c);
        }
        for s in &mut services {
            for slot in [&mut s.req, &mut s.res] {
                if let Some(ix) = *slot {
                    *slot = Some(self.canon(ix)?);
                }
            }
        }
        let mut nodes: Vec<Option<Node>> = Vec::new();
        let mut plans = Vec::new();
        while let Some(c) = work.pop() {
            if nodes.get(c as usize).is_some_and(Option::is_some) {
                continue;
            }
            let node = self.node_of(c, &mut work, &mut plans).unwrap_or_else(|e| {
                let name = what.get(&c).map_or("an inline schema", String::as_str);
                Node::Unsupported(format!("`{name}`: {}", e.detail()).into())
            });
            if nodes.len() < self.raw.len() {
                nodes.resize(self.raw.len(), None);
            }
            nodes[c as usize] = Some(node);
        }
        nodes.resize(self.raw.len(), None);
        let nodes = nodes
            .into_iter()
            .map(|n| n.unwrap_or_else(|| Node::Unsupported("an unused schema".into())))
            .collect();
        Ok(Proto {
            nodes,
            plans,
            names: by_name,
            services,
        })
    }

    fn node_of(&mut self, c: Ix, work: &mut Vec<Ix>, plans: &mut Vec<Plan>) -> Result<Node, Error> {
        Ok(match self.raw[c as usize].clone() {
            Raw::Boolean => Node::Boolean,
            Raw::Number(s) => Node::Number(s),
            Raw::String => Node::String,
            Raw::Any => Node::Any,
            Raw::Object => Node::Object,
            Raw::Date => Node::Date,
            Raw::ObjectId => Node::ObjectId,
            Raw::Buffer => Node::Buffer,
            Raw::Enum(m) => Node::Enum(m.into()),
            Raw::Literal(l) => Node::Literal(l),
            Raw::Unsupported(why) => Node::Unsupported(why.into()),
            Raw::Array(e) => {
                let e = self.canon(e)?;
                work.push(e);
                Node::Array(e)
            }
            Raw::NonNullable(t) => {
                let t = self.canon(t)?;
                work.push(t);
                Node::NonNullable(t)
            }
            Raw::Tuple {
                elems,
                optional_start,
            } => {
                if elems.len() > 64 {
                    return Ok(Node::Unsupported(
                        format!(
                            "Elements oversized, maximum supported tuple elements is 64, now get {}",
                            elems.len()
                        )
                        .into(),
                    ));
                }
                let mut out = Vec::with_capacity(elems.len());
                for (i, &e) in elems.iter().enumerate() {
                    let ty = self.canon(e)?;
                    work.push(ty);
                    let optional = optional_start.is_some_and(|s| i as u64 >= s);
                    out.push(TupleElem {
                        ty,
                        null: self.null_mode(e),
                        required: !(optional
                            || self.can_be(e, &Lit::Undefined, false)
                            || self.can_be(e, &Lit::Null, false)),
                    });
                }
                Node::Tuple(out.into())
            }
            Raw::Union(ms) => Node::Union {
                members: self.members(&ms, work)?,
                null_ok: self.can_be(c, &Lit::Null, true),
            },
            Raw::Intersection(ms) => Node::Intersection(self.members(&ms, work)?),
            Raw::Interface(_) => self.record(c, work, plans)?,
            Raw::Mapped { .. } => match self.parse_mapped(c)? {
                Parsed::Interface => self.record(c, work, plans)?,
                Parsed::Members {
                    intersection,
                    members,
                } => {
                    let members = self.members(&members, work)?;
                    if intersection {
                        Node::Intersection(members)
                    } else {
                        Node::Union {
                            members,
                            null_ok: false,
                        }
                    }
                }
            },
            Raw::Ref(_) | Raw::IndexedAccess { .. } | Raw::Keyof(_) | Raw::Pending => {
                return Err(self.err("internal: an unresolved schema"))
            }
        })
    }

    fn members(&mut self, ms: &[(u64, Ix)], work: &mut Vec<Ix>) -> Result<Box<[Member]>, Error> {
        let mut out = Vec::with_capacity(ms.len());
        for &(id, t) in ms {
            let ty = self.canon(t)?;
            let w = self.wire(t)?;
            work.push(ty);
            out.push(Member {
                id,
                ty,
                header: id << 2 | u64::from(w.lt),
                prefix: w.prefix,
            });
        }
        Ok(out.into())
    }

    /// `parseMappedType`: follow the mapped types down to an interface, or wrap each member of
    /// the union / intersection found there in them (innermost first).
    fn parse_mapped(&mut self, c: Ix) -> Result<Parsed, Error> {
        let mut parents = Vec::new();
        let mut cur = c;
        for _ in 0..=self.raw.len() {
            match self.raw[cur as usize].clone() {
                Raw::Mapped { kind, target } => {
                    parents.push(kind);
                    cur = self.canon(target)?;
                }
                Raw::Interface(_) => return Ok(Parsed::Interface),
                Raw::Union(ms) | Raw::Intersection(ms) => {
                    let intersection = matches!(self.raw[cur as usize], Raw::Intersection(_));
                    let mut members = Vec::with_capacity(ms.len());
                    for (id, mut ty) in ms {
                        for kind in parents.iter().rev() {
                            ty = self.push(Raw::Mapped {
                                kind: kind.clone(),
                                target: ty,
                            });
                        }
                        members.push((id, ty));
                    }
                    return Ok(Parsed::Members {
                        intersection,
                        members,
                    });
                }
                _ => return Err(self.err("Unsupported pattern: a mapped type of a non-interface")),
            }
        }
        Err(self.err("a circular mapped type"))
    }

    fn null_mode(&self, ty: Ix) -> NullMode {
        if self.can_be(ty, &Lit::Null, true) {
            NullMode::Null
        } else {
            NullMode::Absent
        }
    }

    fn record(&mut self, c: Ix, work: &mut Vec<Ix>, plans: &mut Vec<Plan>) -> Result<Node, Error> {
        let mut b = Build::default();
        let mut cx = Cx::default();
        self.emit(&mut b, c, &mut cx)?;
        for f in &mut b.fields {
            if f.index_entry {
                f.key = b.blocks[f.block as usize].index_key;
            }
            work.push(f.ty);
        }
        for block in &b.blocks {
            work.extend(block.props.iter().map(|p| p.ty));
            work.extend(block.index.iter().map(|i| i.ty));
        }
        let required = (0..b.fields.len() as u16)
            .filter(|&i| b.fields[i as usize].required)
            .collect();
        let fills = (0..b.fields.len() as u16)
            .filter(|&i| {
                let f = &b.fields[i as usize];
                f.fill != Fill::None && f.block != NO_BLOCK
            })
            .collect();
        let flat = b.roots.len() == 1 && b.blocks.len() == 1;
        plans.push(Plan {
            fields: b.fields.into(),
            blocks: b.blocks.into(),
            roots: b.roots.into(),
            open_index: b.open_index,
            required,
            fills,
            flat,
            by_name: b.by_name,
        });
        Ok(Node::Record((plans.len() - 1) as u32))
    }

    /// Writes the root blocks of the interface-like schema `ix` (canonical) into the plan.
    fn emit(&mut self, b: &mut Build, ix: Ix, cx: &mut Cx) -> Result<(), Error> {
        match self.raw[ix as usize].clone() {
            Raw::Interface(i) => {
                let block = self.block(b, ix, &i, cx, None, 0)?;
                b.roots.push(block);
                if b.open_index.is_none() && cx.pick.is_none() {
                    if let Some((number_keys, ty)) = self.flat(ix)?.index {
                        let w = self.wire(ty)?;
                        b.open_index = Some(OpenIndex {
                            block,
                            ty: self.canon(ty)?,
                            header: u64::from(w.lt),
                            prefix: w.prefix,
                            null: self.null_mode(ty),
                            number_keys,
                            except: cx.skip.iter().map(|k| k.as_str().into()).collect(),
                        });
                    }
                }
                Ok(())
            }
            Raw::Mapped { kind, target } => {
                let target = self.canon(target)?;
                match kind {
                    Mapped::Pick(keys) => {
                        cx.pick = Some(match cx.pick.take() {
                            Some(outer) => outer.into_iter().filter(|k| keys.contains(k)).collect(),
                            None => keys,
                        });
                    }
                    Mapped::Omit(keys) => cx.skip.extend(keys),
                    Mapped::Partial => cx.partial = true,
                    Mapped::Overwrite(overwrite) => {
                        let overwrite = self.canon(overwrite)?;
                        let before = b.fields.len();
                        self.emit(b, overwrite, cx)?;
                        let owned: Vec<String> =
                            b.fields[before..].iter().map(|f| f.name.to_string()).collect();
                        cx.hidden.extend(owned);
                    }
                }
                self.emit(b, target, cx)
            }
            _ => Err(self.err(
                "a Pick, Omit, Partial or Overwrite whose target or overwrite part is not an interface",
            )),
        }
    }

    /// One id-block: the interface's `extends` blocks, then its own properties.
    fn block(
        &mut self,
        b: &mut Build,
        ix: Ix,
        i: &Interface,
        cx: &Cx,
        parent: Option<u16>,
        header: u64,
    ) -> Result<u16, Error> {
        let id = b.blocks.len() as u16;
        b.blocks.push(Block {
            parent,
            header,
            first_field: b.fields.len() as u16,
            end_field: 0,
            index_key: 0,
            props: Box::new([]),
            extends: Box::new([]),
            index: None,
        });
        let mut extends = Vec::new();
        for &(eid, ety) in &i.extends {
            let ec = self.canon(ety)?;
            match self.raw[ec as usize].clone() {
                Raw::Interface(parent_iface) if eid < 9 => {
                    let child =
                        self.block(b, ec, &parent_iface, cx, Some(id), (eid + 1) << 2 | 3)?;
                    extends.push((eid, child));
                }
                _ => {
                    // No block: see the module doc.
                    let flat = self.flat(ec)?;
                    for p in &flat.props {
                        if cx.visible(&p.name) && !b.by_name.contains_key(p.name.as_str()) {
                            self.place(
                                b,
                                NO_BLOCK,
                                cx,
                                FieldSpec {
                                    name: &p.name,
                                    ty: p.ty,
                                    header: 0,
                                    optional: p.optional,
                                    index_entry: false,
                                },
                            )?;
                        }
                    }
                }
            }
        }
        let mut props = Vec::with_capacity(i.props.len());
        for p in &i.props {
            let ty = self.canon(p.ty)?;
            let w = self.wire(p.ty)?;
            let field = if !cx.visible(&p.name) || cx.hidden.contains(&p.name) {
                None
            } else if let Some(&fi) = b.by_name.get(p.name.as_str()) {
                Some(fi)
            } else {
                Some(self.place(
                    b,
                    id,
                    cx,
                    FieldSpec {
                        name: &p.name,
                        ty: p.ty,
                        header: (p.id + 10) << 2 | u64::from(w.lt),
                        optional: p.optional,
                        index_entry: false,
                    },
                )?)
            };
            props.push(PropRead {
                id: p.id,
                field,
                ty,
                prefix: w.prefix,
            });
        }
        let flat = self.flat(ix)?;
        if parent.is_none() {
            // `Pick<T, 'k'>` where `k` is a key of `T`'s index signature: an index entry.
            if let (Some(keys), Some((_, ity))) = (&cx.pick, flat.index) {
                for key in keys {
                    let known = flat.props.iter().any(|p| &p.name == key)
                        || b.by_name.contains_key(key.as_str())
                        || cx.skip.contains(key);
                    if !known {
                        let w = self.wire(ity)?;
                        self.place(
                            b,
                            id,
                            cx,
                            FieldSpec {
                                name: key,
                                ty: ity,
                                header: u64::from(w.lt),
                                optional: false,
                                index_entry: true,
                            },
                        )?;
                    }
                }
            }
        }
        let index = match flat.index {
            Some((number_keys, ity)) => Some(IndexRead {
                ty: self.canon(ity)?,
                prefix: self.wire(ity)?.prefix,
                number_keys,
                filter: match &cx.pick {
                    Some(keys) => KeyFilter::Only(keys.iter().map(|k| k.as_str().into()).collect()),
                    None if cx.skip.is_empty() && cx.hidden.is_empty() => KeyFilter::All,
                    None => KeyFilter::Except(
                        cx.skip
                            .iter()
                            .chain(&cx.hidden)
                            .map(|k| k.as_str().into())
                            .collect(),
                    ),
                },
            }),
            None => None,
        };
        let end = b.fields.len() as u16;
        let block = &mut b.blocks[id as usize];
        block.end_field = end;
        block.index_key = 2 * u32::from(end) + 1;
        block.props = props.into();
        block.extends = extends.into();
        block.index = index;
        Ok(id)
    }

    fn place(
        &mut self,
        b: &mut Build,
        block: u16,
        cx: &Cx,
        f: FieldSpec<'_>,
    ) -> Result<u16, Error> {
        let fi = b.fields.len() as u16;
        let ty = self.canon(f.ty)?;
        let w = self.wire(f.ty)?;
        let literal = matches!(self.raw[ty as usize], Raw::Literal(_));
        let null = self.null_mode(f.ty);
        let fill = if literal {
            Fill::Literal
        } else if !f.optional
            && !self.can_be(ty, &Lit::Undefined, true)
            && self.can_be(ty, &Lit::Null, true)
        {
            Fill::Null
        } else {
            Fill::None
        };
        b.fields.push(Field {
            name: f.name.into(),
            ty,
            block,
            header: f.header,
            index_entry: f.index_entry,
            prefix: w.prefix,
            literal,
            null,
            required: !(cx.partial
                || f.optional
                || self.can_be(f.ty, &Lit::Undefined, false)
                || self.can_be(f.ty, &Lit::Null, false)),
            fill,
            key: 2 * u32::from(fi) + 2,
        });
        b.by_name.insert(f.name.into(), fi);
        Ok(fi)
    }
}
