//! TypeScript's type operators, worked out on the proto's schemas: `extends` and intersections
//! flattened, `Partial` / `Pick` / `Omit` / `Overwrite` applied, `keyof`, `T['key']` and
//! `NonNullable` resolved, so that what is left maps onto Rust shapes.
//!
//! The rules are tsbuffer-validator's (`ProtoHelper`), because its flattened schema decides the
//! key order of the JSON that TSRPC sends:
//!
//! - an interface's own properties come first, then each parent's (flattened, in `extends`
//!   order), a name already present being skipped; the index signature is the interface's own,
//!   else the first parent's;
//! - `Pick` follows its key list (a key the target lacks takes the index signature's type);
//!   `Omit` removes keys; `Partial` makes every property optional; `Overwrite` removes the
//!   overwritten properties and appends the new ones (and replaces the index signature);
//! - `Pick` / `Omit` / `Partial` / `Overwrite` of a union apply to each member, giving a union
//!   with the same member ids;
//! - `T['k']` of an optional property is `T['k'] | undefined`;
//! - an intersection's members are flattened in order, the first declaration of a name wins
//!   (two members declaring one name with different types cannot be represented).
//!
//! Every property keeps where it was declared (its [`Owner`] and its id there), so the Rust
//! side names an inline type once and a binary codec finds the property's id.

use std::collections::HashMap;

use super::proto::{IndexKey, LiteralValue, Member, Schema, SchemaKind, ServiceProto};

/// Why a schema cannot be imported: where (a proto path such as
/// `shop/ShopTypes/OnChainBalance.raw`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The type id, then `.field` / `[member]` steps.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// A kind TSRPC cannot send (bigint, 64-bit typed arrays, `extends Omit<..>`, ..), as
    /// opposed to a malformed proto: an optional field of such a type may be left out.
    pub unsupported: bool,
    /// What to do about it, when the field that holds it is known (`` `X.f` is optional:
    /// `skip_unsupported_optional_fields = true` leaves it out ``).
    pub hint: Option<String>,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        match &self.hint {
            Some(h) if !h.is_empty() => write!(f, " ({h})"),
            _ => Ok(()),
        }
    }
}

pub(crate) type Res<T> = Result<T, ImportError>;

pub(crate) fn invalid(path: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        path: path.to_owned(),
        message: message.into(),
        unsupported: false,
        hint: None,
    }
}

pub(crate) fn unsupported(path: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        path: path.to_owned(),
        message: message.into(),
        unsupported: true,
        hint: None,
    }
}

/// Where a property was declared: a named interface (its type id) or an inline type literal
/// (a key under the named type that holds it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Owner {
    /// Unique key: the type id, or `<type id>.field`, `<type id>>overwrite`, `<key>&1`, ..
    pub(crate) key: String,
    /// The named type this belongs to (its file holds the inline types made here).
    pub(crate) root: String,
}

impl Owner {
    /// The owner of a named type's own properties.
    pub(crate) fn named(id: &str) -> Self {
        Owner {
            key: id.to_owned(),
            root: id.to_owned(),
        }
    }

    /// An inline type literal found under this owner, told apart by `suffix`.
    pub(crate) fn inline(&self, suffix: &str) -> Self {
        Owner {
            key: format!("{}{suffix}", self.key),
            root: self.root.clone(),
        }
    }
}

/// A property of a flattened object type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prop {
    /// Its TypeScript name (the JSON key).
    pub(crate) name: String,
    /// Its type, as declared.
    pub(crate) ty: Schema,
    /// `?`: may be absent.
    pub(crate) optional: bool,
    /// Where it is declared.
    pub(crate) owner: Owner,
    /// Its property id there (`None` for a property made from an index signature by `Pick`).
    pub(crate) id: Option<u32>,
    /// How the flattened type reaches it: the `extends` and intersection member ids on the way
    /// (binary mode nests a block per step).
    pub(crate) via: Vec<Step>,
    /// Its comment.
    pub(crate) comment: Option<String>,
}

/// A step from a flattened type to where one of its properties is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Into the parent with this `extends` id.
    Extends(u32),
    /// Into the intersection member with this id.
    Member(u32),
    /// Into the `overwrite` part of an `Overwrite`.
    Overwrite,
}

/// An index signature of a flattened object type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexSig {
    /// `String` or `Number` keys.
    pub(crate) key: IndexKey,
    /// The value type.
    pub(crate) ty: Schema,
    /// Where it is declared.
    pub(crate) owner: Owner,
}

/// An object type with every operator applied: its properties in JSON order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Flat {
    pub(crate) props: Vec<Prop>,
    pub(crate) index: Option<IndexSig>,
}

impl Flat {
    fn find(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }
}

/// A mapped type (`Pick`, `Omit`, `Partial`, `Overwrite`) worked out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mapped {
    /// Of an object type.
    Object(Flat),
    /// Of a union: the operator applied to each member (same ids).
    Union(Vec<Member>),
}

/// The keys of `keyof T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keys {
    /// The property names, in order.
    pub(crate) names: Vec<String>,
    /// `T` has an index signature: any string (or number) is a key.
    pub(crate) open: bool,
}

/// How deep references may chain (a circular `extends` would never end).
const MAX_DEPTH: usize = 64;

/// The proto's types by id, and the operators over them.
#[derive(Debug)]
pub(crate) struct Resolver<'p> {
    types: HashMap<&'p str, &'p Schema>,
}

impl<'p> Resolver<'p> {
    pub(crate) fn new(proto: &'p ServiceProto) -> Self {
        Resolver {
            types: proto.types.iter().map(|(k, s)| (k.as_str(), s)).collect(),
        }
    }

    /// The schema with this id.
    pub(crate) fn get(&self, id: &str, at: &str) -> Res<&'p Schema> {
        self.types.get(id).copied().ok_or_else(|| {
            invalid(
                at,
                format!("refers to `{id}`, which is not in the proto's types"),
            )
        })
    }

    /// The schema a reference chain ends at, with the id of the last named type on the way
    /// (`type A = B; interface B {..}` gives B's interface and `B`). Custom references
    /// (`?bson/ObjectId`) are returned as they are.
    pub(crate) fn deref(&self, s: &Schema, at: &str) -> Res<(Schema, Option<String>)> {
        let mut current = s.clone();
        let mut id = None;
        for _ in 0..MAX_DEPTH {
            match &current.kind {
                SchemaKind::Reference { target } if !target.starts_with('?') => {
                    let next = self.get(target, at)?.clone();
                    id = Some(target.clone());
                    current = next;
                }
                _ => return Ok((current, id)),
            }
        }
        Err(invalid(at, "references that go round in a circle"))
    }

    /// `object['index']`: the property's type, whether it is optional, where it is declared and
    /// its id there.
    pub(crate) fn indexed_access(&self, object: &Schema, index: &str, at: &str) -> Res<Prop> {
        let flat = self.flatten(object, &Owner::named(at), at, 0)?;
        if let Some(p) = flat.find(index) {
            return Ok(p.clone());
        }
        match flat.index {
            Some(sig) => Ok(Prop {
                name: index.to_owned(),
                ty: sig.ty,
                optional: false,
                owner: sig.owner,
                id: None,
                via: Vec::new(),
                comment: None,
            }),
            None => Err(invalid(
                at,
                format!("`['{index}']`: the type has no property `{index}`"),
            )),
        }
    }

    /// `keyof target`.
    pub(crate) fn keyof(&self, target: &Schema, at: &str) -> Res<Keys> {
        let flat = self.flatten(target, &Owner::named(at), at, 0)?;
        Ok(Keys {
            names: flat.props.iter().map(|p| p.name.clone()).collect(),
            open: flat.index.is_some(),
        })
    }

    /// `NonNullable<target>`: a union without its `null` and `undefined` members (one member
    /// left: that member); any other type as it is.
    pub(crate) fn non_nullable(&self, target: &Schema, at: &str) -> Res<Schema> {
        let (resolved, _) = self.deref(target, at)?;
        match resolved.kind {
            SchemaKind::Union { members } => {
                let kept: Vec<Member> = members
                    .into_iter()
                    .filter(|m| !is_null_or_undefined(&m.ty))
                    .collect();
                match kept.len() {
                    0 => Err(invalid(
                        at,
                        "`NonNullable` of `null | undefined` leaves no type",
                    )),
                    1 => Ok(kept
                        .into_iter()
                        .next()
                        .map(|m| m.ty)
                        .unwrap_or_else(|| target.clone())),
                    _ => Ok(SchemaKind::Union { members: kept }.into()),
                }
            }
            SchemaKind::Literal {
                literal: None | Some(LiteralValue::Null),
            } => Err(invalid(
                at,
                "`NonNullable` of `null` or `undefined` leaves no type",
            )),
            _ => Ok(target.clone()),
        }
    }

    /// A mapped type: of an object type, its flat form; of a union (directly or through other
    /// mapped types), the union of the operator applied to each member.
    pub(crate) fn mapped(&self, s: &Schema, owner: &Owner, at: &str) -> Res<Mapped> {
        let (ops, inner) = self.mapped_ops(s, at)?;
        if let SchemaKind::Union { members } = &inner.kind {
            // `Pick<A | B, k>` is `Pick<A, k> | Pick<B, k>`: rebuild each member inside the
            // chain of operators, innermost first (tsbuffer's `parseMappedType`).
            let members = members
                .iter()
                .map(|m| {
                    let mut ty = m.ty.clone();
                    for op in ops.iter().rev() {
                        ty = op.wrap(ty);
                    }
                    Member { id: m.id, ty }
                })
                .collect();
            return Ok(Mapped::Union(members));
        }
        Ok(Mapped::Object(self.flatten(s, owner, at, 0)?))
    }

    /// The operators of a chain of mapped types (outermost first) and the type they apply to.
    fn mapped_ops(&self, s: &Schema, at: &str) -> Res<(Vec<Op>, Schema)> {
        let mut ops = Vec::new();
        let mut current = s.clone();
        for _ in 0..MAX_DEPTH {
            let (op, target) = match current.kind {
                SchemaKind::Pick { target, keys } => (Op::Pick(keys), target),
                SchemaKind::Omit { target, keys } => (Op::Omit(keys), target),
                SchemaKind::Partial { target } => (Op::Partial, target),
                SchemaKind::Overwrite { target, overwrite } => (Op::Overwrite(overwrite), target),
                _ => return Ok((ops, current)),
            };
            ops.push(op);
            current = self.deref_indexed(&target, at)?.0;
        }
        Err(invalid(at, "mapped types nested too deeply"))
    }

    /// [`Resolver::deref`], also through `T['k']` (as tsbuffer's `parseReference`).
    fn deref_indexed(&self, s: &Schema, at: &str) -> Res<(Schema, Option<String>)> {
        let (mut current, mut id) = self.deref(s, at)?;
        for _ in 0..MAX_DEPTH {
            match &current.kind {
                SchemaKind::IndexedAccess { object_type, index } => {
                    let prop = self.indexed_access(object_type, index, at)?;
                    let (next, next_id) = self.deref(&prop.ty, at)?;
                    current = next;
                    id = next_id.or(id);
                }
                _ => return Ok((current, id)),
            }
        }
        Err(invalid(at, "indexed accesses that go round in a circle"))
    }

    /// The flat form of an object type: an interface (with its parents), a reference to one,
    /// a mapped type of one, an intersection of them, `T['k']` giving one.
    pub(crate) fn flatten(&self, s: &Schema, owner: &Owner, at: &str, depth: usize) -> Res<Flat> {
        if depth > MAX_DEPTH {
            return Err(invalid(
                at,
                "types nested too deeply (or extending themselves)",
            ));
        }
        let depth = depth + 1;
        match &s.kind {
            SchemaKind::Reference { target } if target.starts_with('?') => {
                Err(invalid(at, format!("`{target}` is not an object type")))
            }
            SchemaKind::Reference { target } => {
                let schema = self.get(target, at)?;
                self.flatten(schema, &Owner::named(target), at, depth)
            }
            SchemaKind::IndexedAccess { object_type, index } => {
                let prop = self.indexed_access(object_type, index, at)?;
                self.flatten(&prop.ty, &prop.owner.inline(&format!(".{index}")), at, depth)
            }
            SchemaKind::Interface(i) => {
                let mut flat = Flat::default();
                for p in i.properties.iter().flatten() {
                    flat.props.push(Prop {
                        name: p.name.clone(),
                        ty: p.ty.clone(),
                        optional: p.optional,
                        owner: owner.clone(),
                        id: Some(p.id),
                        via: Vec::new(),
                        comment: p.comment.clone(),
                    });
                }
                flat.index = i.index_signature.as_ref().map(|sig| IndexSig {
                    key: sig.key_type,
                    ty: (*sig.ty).clone(),
                    owner: owner.clone(),
                });
                for (n, parent) in i.extends.iter().flatten().enumerate() {
                    let (resolved, id) = self.deref(&parent.ty, at)?;
                    if !matches!(resolved.kind, SchemaKind::Interface(_)) {
                        return Err(unsupported(
                            at,
                            format!(
                                "extends {}: TSBuffer's binary encoder writes nothing for a parent that is not an interface, so the inherited fields would be lost; declare the fields, or use an intersection (`type X = Omit<..> & {{..}}`)",
                                describe(&parent.ty)
                            ),
                        ));
                    }
                    let parent_owner = match &id {
                        Some(id) => Owner::named(id),
                        None => owner.inline(&format!("^{n}")),
                    };
                    let inherited = self.flatten(&resolved, &parent_owner, at, depth)?;
                    for mut p in inherited.props {
                        if flat.find(&p.name).is_none() {
                            p.via.insert(0, Step::Extends(parent.id));
                            flat.props.push(p);
                        }
                    }
                    if flat.index.is_none() {
                        flat.index = inherited.index;
                    }
                }
                Ok(flat)
            }
            SchemaKind::Intersection { members } => {
                let mut flat = Flat::default();
                for (n, m) in members.iter().enumerate() {
                    let (resolved, _) = self.deref_indexed(&m.ty, at)?;
                    if !is_object_like(&resolved) {
                        return Err(unsupported(
                            at,
                            format!("an intersection with {}: only intersections of object types can be represented", describe(&m.ty)),
                        ));
                    }
                    let part = self.flatten(&m.ty, &owner.inline(&format!("&{n}")), at, depth)?;
                    for mut p in part.props {
                        p.via.insert(0, Step::Member(m.id));
                        match flat.find(&p.name) {
                            None => flat.props.push(p),
                            Some(first) if first.ty == p.ty => {}
                            Some(_) => {
                                return Err(unsupported(
                                    at,
                                    format!("the members of the intersection declare `{}` with different types: their intersection cannot be represented", p.name),
                                ))
                            }
                        }
                    }
                    if flat.index.is_none() {
                        flat.index = part.index;
                    }
                }
                Ok(flat)
            }
            SchemaKind::Pick { target, keys } => {
                let base = self.flatten(target, &owner.inline("<"), at, depth)?;
                let mut flat = Flat::default();
                for key in keys {
                    match base.find(key) {
                        Some(p) => flat.props.push(p.clone()),
                        None => match &base.index {
                            Some(sig) => flat.props.push(Prop {
                                name: key.clone(),
                                ty: sig.ty.clone(),
                                optional: false,
                                owner: sig.owner.clone(),
                                id: None,
                                via: Vec::new(),
                                comment: None,
                            }),
                            None => {
                                return Err(invalid(at, format!("`Pick` of `{key}`, which the type does not have")))
                            }
                        },
                    }
                }
                Ok(flat)
            }
            SchemaKind::Partial { target } => {
                let mut flat = self.flatten(target, &owner.inline("<"), at, depth)?;
                for p in &mut flat.props {
                    p.optional = true;
                }
                Ok(flat)
            }
            SchemaKind::Omit { target, keys } => {
                let mut flat = self.flatten(target, &owner.inline("<"), at, depth)?;
                flat.props.retain(|p| !keys.contains(&p.name));
                Ok(flat)
            }
            SchemaKind::Overwrite { target, overwrite } => {
                let mut flat = self.flatten(target, &owner.inline("<"), at, depth)?;
                let over = self.flatten(overwrite, &owner.inline(">"), at, depth)?;
                if over.index.is_some() {
                    flat.index = over.index;
                }
                for mut p in over.props {
                    flat.props.retain(|q| q.name != p.name);
                    p.via.insert(0, Step::Overwrite);
                    flat.props.push(p);
                }
                Ok(flat)
            }
            SchemaKind::NonNullable { target } => {
                let inner = self.non_nullable(target, at)?;
                self.flatten(&inner, owner, at, depth)
            }
            SchemaKind::Union { .. } => Err(invalid(
                at,
                "a union is not an object type here (only `Pick`, `Omit`, `Partial` and `Overwrite` apply to each member of a union)",
            )),
            _ => Err(invalid(at, format!("{} is not an object type", describe(s)))),
        }
    }
}

/// A mapped-type operator, to rebuild it around each member of a union.
#[derive(Debug, Clone)]
enum Op {
    Pick(Vec<String>),
    Omit(Vec<String>),
    Partial,
    Overwrite(Box<Schema>),
}

impl Op {
    fn wrap(&self, target: Schema) -> Schema {
        let target = Box::new(target);
        match self {
            Op::Pick(keys) => SchemaKind::Pick {
                target,
                keys: keys.clone(),
            },
            Op::Omit(keys) => SchemaKind::Omit {
                target,
                keys: keys.clone(),
            },
            Op::Partial => SchemaKind::Partial { target },
            Op::Overwrite(overwrite) => SchemaKind::Overwrite {
                target,
                overwrite: overwrite.clone(),
            },
        }
        .into()
    }
}

/// An interface, or an operator that gives one.
fn is_object_like(s: &Schema) -> bool {
    matches!(
        s.kind,
        SchemaKind::Interface(_)
            | SchemaKind::Pick { .. }
            | SchemaKind::Omit { .. }
            | SchemaKind::Partial { .. }
            | SchemaKind::Overwrite { .. }
            | SchemaKind::Intersection { .. }
            | SchemaKind::NonNullable { .. }
    )
}

/// `null` or `undefined`.
pub(crate) fn is_null_or_undefined(s: &Schema) -> bool {
    matches!(
        s.kind,
        SchemaKind::Literal {
            literal: None | Some(LiteralValue::Null)
        }
    )
}

/// A schema in a few words, for messages (`a union`, `` `Omit<..>` ``, `` `base/User` ``).
pub(crate) fn describe(s: &Schema) -> String {
    match &s.kind {
        SchemaKind::Reference { target } => format!("`{target}`"),
        SchemaKind::Pick { .. } => "`Pick<..>`".into(),
        SchemaKind::Omit { .. } => "`Omit<..>`".into(),
        SchemaKind::Partial { .. } => "`Partial<..>`".into(),
        SchemaKind::Overwrite { .. } => "`Overwrite<..>`".into(),
        SchemaKind::Union { .. } => "a union".into(),
        SchemaKind::Intersection { .. } => "an intersection".into(),
        SchemaKind::Interface(_) => "an interface".into(),
        SchemaKind::Array { .. } => "an array".into(),
        SchemaKind::Tuple { .. } => "a tuple".into(),
        SchemaKind::Enum { .. } => "an enum".into(),
        SchemaKind::Literal { .. } => "a literal".into(),
        SchemaKind::Keyof { .. } => "`keyof ..`".into(),
        SchemaKind::IndexedAccess { .. } => "an indexed access".into(),
        SchemaKind::NonNullable { .. } => "`NonNullable<..>`".into(),
        SchemaKind::Boolean => "`boolean`".into(),
        SchemaKind::Number { .. } => "a number".into(),
        SchemaKind::String => "`string`".into(),
        SchemaKind::Any => "`any`".into(),
        SchemaKind::Object => "`object`".into(),
        SchemaKind::Buffer { .. } => "a buffer".into(),
        SchemaKind::Date => "`Date`".into(),
        SchemaKind::Custom => "a custom type".into(),
    }
}
