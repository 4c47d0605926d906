//! Schema -> Rust items: lays the proto's files out as Rust files, names every type, maps each
//! schema onto a Rust type (making structs and enums for the ones that need a declaration) and
//! boxes recursive fields.

use std::collections::{HashMap, HashSet};

use super::names::{
    camel_part, field_name, has_role_prefix, module_name, strip_role, type_name, variant_for_num,
    variant_for_str,
};
use super::text::render_file;
use super::{Field, FieldIds, ImportOptions, ImportedFolder, ImportedService, Item, Mode, Ty};
use crate::import::proto::{
    ArrayType, EnumValue, LiteralValue, Member, ScalarType, Schema, SchemaKind, ServiceKind,
    ServiceProto,
};
use crate::import::resolve::{
    describe, invalid, is_null_or_undefined, unsupported, Flat, ImportError, Mapped, Owner, Prop,
    Res, Resolver,
};

/// The custom references that are MongoDB's `ObjectId` (tsrpc-cli and tsrpc-base-client's
/// `getCustomObjectIdTypes`).
const OBJECT_IDS: [&str; 4] = [
    "?mongodb/ObjectId",
    "?mongodb/ObjectID",
    "?bson/ObjectId",
    "?bson/ObjectID",
];

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A Rust file of the imported folder.
#[derive(Debug)]
pub(crate) struct RsFile {
    /// The TypeScript file (`room/RoomTypes`).
    pub(crate) ts: String,
    /// Folder module names from the root.
    pub(crate) folder: Vec<String>,
    /// The file stem (`room_types`).
    pub(crate) stem: String,
    /// The named types it declares, in proto order.
    roots: Vec<String>,
}

impl RsFile {
    /// `room/room_types.rs`.
    pub(crate) fn rel_path(&self) -> String {
        let mut parts = self.folder.clone();
        parts.push(format!("{}.rs", self.stem));
        parts.join("/")
    }
}

#[derive(Debug, Clone)]
enum State {
    Todo,
    Busy,
    Done,
    Failed(ImportError),
}

/// A type of the proto's `types`.
#[derive(Debug)]
struct NamedType {
    rust: String,
    file: usize,
    state: State,
    /// It is a union with `null` / `undefined` members, which its item leaves out: every use
    /// adds them back (`Nullable<..>`, `Option<..>`).
    null: bool,
    undef: bool,
}

/// A mapped value: its Rust type and whether `null` / `undefined` are also allowed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Val {
    pub(crate) ty: Ty,
    null: bool,
    undef: bool,
}

impl Val {
    fn plain(ty: Ty) -> Self {
        Val {
            ty,
            null: false,
            undef: false,
        }
    }

    /// The type where `null` and `undefined` can only be `None`.
    fn nested(self) -> Ty {
        if self.null || self.undef {
            Ty::Opt(Box::new(self.ty))
        } else {
            self.ty
        }
    }
}

/// Where a schema is being mapped: who owns inline types made here, their name, and the proto
/// path for messages.
#[derive(Debug, Clone)]
struct Loc {
    owner: Owner,
    base: String,
    path: String,
}

impl Loc {
    fn child(&self, key: &str, name: &str, path: &str) -> Loc {
        Loc {
            owner: self.owner.inline(key),
            base: format!("{}{name}", self.base),
            path: format!("{}{path}", self.path),
        }
    }
}

/// What mapping a schema that may need a declaration gives.
enum Made {
    /// An item (to declare), with whether `null` / `undefined` are also allowed.
    Item(Item, bool, bool),
    /// A type that needs no declaration of its own.
    Val(Val),
}

/// The generator's state.
pub(crate) struct Gen<'p> {
    proto: &'p ServiceProto,
    res: Resolver<'p>,
    opts: &'p ImportOptions,
    pub(crate) files: Vec<RsFile>,
    file_by_ts: HashMap<String, usize>,
    /// Module names taken per folder (files and sub-folders), and the TypeScript folder name
    /// behind each sub-folder.
    modules: HashMap<Vec<String>, HashMap<String, String>>,
    named: HashMap<String, NamedType>,
    /// Type names taken per folder (a folder re-exports every file's items).
    used: HashMap<Vec<String>, HashSet<String>>,
    /// Items per named type (its own first, then the inline types made for it).
    slots: HashMap<String, Vec<Item>>,
    /// Mapped fields by `<owner key>.<name>`, so one property maps to one Rust type.
    memo: HashMap<String, (String, Val)>,
    /// Base names for inline types, by owner key.
    bases: HashMap<String, String>,
    skipped: Vec<String>,
    services: Vec<ImportedService>,
}

impl std::fmt::Debug for Gen<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gen").field("files", &self.files).finish()
    }
}

impl<'p> Gen<'p> {
    pub(crate) fn new(proto: &'p ServiceProto, opts: &'p ImportOptions) -> Self {
        Gen {
            proto,
            res: Resolver::new(proto),
            opts,
            files: Vec::new(),
            file_by_ts: HashMap::new(),
            modules: HashMap::new(),
            named: HashMap::new(),
            used: HashMap::new(),
            slots: HashMap::new(),
            memo: HashMap::new(),
            bases: HashMap::new(),
            skipped: Vec::new(),
            services: Vec::new(),
        }
    }

    pub(crate) fn run(mut self) -> Result<ImportedFolder, Vec<ImportError>> {
        let mut errors: Vec<ImportError> = Vec::new();
        self.layout(&mut errors);
        let ids: Vec<String> = self.proto.types.iter().map(|(k, _)| k.clone()).collect();
        for id in &ids {
            if let Err(e) = self.define(id) {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.box_recursion();
        let mut files: Vec<(String, String)> = (0..self.files.len())
            .map(|i| {
                let items: Vec<&Item> = self.files[i]
                    .roots
                    .iter()
                    .flat_map(|r| self.slots.get(r).into_iter().flatten())
                    .collect();
                (self.files[i].rel_path(), render_file(&self, i, &items))
            })
            .collect();
        files.sort();
        Ok(ImportedFolder {
            files,
            services: self.services,
            skipped: self.skipped,
        })
    }

    /// Every item made, for tests of the mapping (names, ids).
    #[cfg(test)]
    pub(crate) fn items(mut self) -> Result<Vec<Item>, Vec<ImportError>> {
        let mut errors = Vec::new();
        self.layout(&mut errors);
        let ids: Vec<String> = self.proto.types.iter().map(|(k, _)| k.clone()).collect();
        for id in &ids {
            if let Err(e) = self.define(id) {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(self.slots.into_values().flatten().collect())
    }

    pub(crate) fn runtime(&self) -> &str {
        &self.opts.runtime
    }

    // ------------------------------------------------------------------ layout and names

    /// The Rust file for the TypeScript file `ts` (`room/PtlJoin`), made on first use;
    /// `service` gives a service file's stem.
    fn file_for(&mut self, ts: &str, service: Option<String>) -> usize {
        if let Some(&i) = self.file_by_ts.get(ts) {
            return i;
        }
        let (dirs, last) = match ts.rsplit_once('/') {
            Some((d, l)) => (
                d.split('/')
                    .filter(|p| !p.is_empty() && *p != ".")
                    .collect(),
                l,
            ),
            None => (Vec::new(), ts),
        };
        let mut folder: Vec<String> = Vec::new();
        for dir in dirs {
            let wanted = if dir == ".." {
                "parent".to_owned()
            } else {
                module_name(dir, "folder")
            };
            let taken = self.modules.entry(folder.clone()).or_default();
            let name = match taken.iter().find(|(_, ts)| *ts == &format!("{dir}/")) {
                Some((name, _)) => name.clone(),
                None => {
                    let name = unique(&wanted, |n| taken.contains_key(n), "_");
                    taken.insert(name.clone(), format!("{dir}/"));
                    name
                }
            };
            folder.push(name);
        }
        let wanted = match service {
            Some(stem) => stem,
            None => {
                let stem = module_name(last, "types");
                if stem.starts_with("ptl_")
                    || stem.starts_with("msg_")
                    || ["mod", "lib", "main"].contains(&stem.as_str())
                {
                    format!("{stem}_types")
                } else {
                    stem
                }
            }
        };
        let taken = self.modules.entry(folder.clone()).or_default();
        let stem = unique(&wanted, |n| taken.contains_key(n), "_");
        taken.insert(stem.clone(), ts.to_owned());
        self.files.push(RsFile {
            ts: ts.to_owned(),
            folder,
            stem,
            roots: Vec::new(),
        });
        self.file_by_ts.insert(ts.to_owned(), self.files.len() - 1);
        self.files.len() - 1
    }

    /// Takes a type name in the file's folder: `wanted`, or `wanted2`, `wanted3`, .. when taken.
    fn take_name(&mut self, file: usize, wanted: &str) -> String {
        let folder = self.files[file].folder.clone();
        let root = folder.is_empty();
        let reserved = &self.opts.reserved;
        let used = self.used.entry(folder).or_default();
        let name = unique(
            wanted,
            |n| used.contains(n) || (root && reserved.iter().any(|r| r == n)),
            "",
        );
        used.insert(name.clone());
        name
    }

    fn register(&mut self, id: &str, rust: String, file: usize) {
        self.files[file].roots.push(id.to_owned());
        self.named.insert(
            id.to_owned(),
            NamedType {
                rust,
                file,
                state: State::Todo,
                null: false,
                undef: false,
            },
        );
    }

    /// Files and names: the services' types first (they need their exact names), then every
    /// other type in proto order.
    fn layout(&mut self, errors: &mut Vec<ImportError>) {
        let mut order: Vec<(String, usize, String)> = Vec::new();
        for svc in &self.proto.services {
            let (dir, last) = svc.split_name();
            let (prefix, stem_prefix) = match svc.kind {
                ServiceKind::Api => ("Ptl", "ptl_"),
                ServiceKind::Msg => ("Msg", "msg_"),
            };
            let ts = if dir.is_empty() {
                format!("{prefix}{last}")
            } else {
                format!("{dir}/{prefix}{last}")
            };
            let stem = format!("{stem_prefix}{}", module_name(last, "service"));
            let file = self.file_for(&ts, Some(stem));
            // The folder check reads the service back from the file name: `ptl_get_http_data`
            // is `GetHttpData`, whose types are `ReqGetHttpData` and `ResGetHttpData`.
            let base = heck::ToUpperCamelCase::to_upper_camel_case(
                &self.files[file].stem[stem_prefix.len()..],
            );
            let mut rust_name: Vec<String> = self.files[file].folder.clone();
            rust_name.push(base.clone());
            self.services.push(ImportedService {
                id: svc.id,
                name: svc.name.clone(),
                kind: svc.kind,
                rust_name: rust_name.join("/"),
                conf: svc.conf.clone(),
            });
            let roles: &[&str] = match svc.kind {
                ServiceKind::Api => &["Req", "Res"],
                ServiceKind::Msg => &["Msg"],
            };
            for (id, role) in svc.type_ids().into_iter().zip(roles) {
                if self.proto.get(&id).is_none() {
                    errors.push(invalid(
                        &id,
                        format!(
                            "service `{}` needs this type, which is not in the proto's types",
                            svc.name
                        ),
                    ));
                    continue;
                }
                order.push((id, file, format!("{role}{base}")));
            }
        }
        for (id, file, name) in order {
            if self.named.contains_key(&id) {
                continue;
            }
            let name = self.take_name(file, &name);
            self.register(&id, name, file);
        }
        let ids: Vec<String> = self.proto.types.iter().map(|(k, _)| k.clone()).collect();
        for id in ids {
            if self.named.contains_key(&id) {
                continue;
            }
            let (ts, ts_name) = id.rsplit_once('/').unwrap_or(("", id.as_str()));
            let file = self.file_for(ts, None);
            let mut wanted = type_name(ts_name);
            let stem = &self.files[file].stem;
            if (stem.starts_with("ptl_") || stem.starts_with("msg_")) && has_role_prefix(&wanted) {
                // The folder check takes `ReqX` in a `ptl_` file for a misnamed request.
                wanted = format!("{}{}", strip_role(&wanted), &wanted[..3]);
            }
            let name = self.take_name(file, &wanted);
            self.register(&id, name, file);
        }
    }

    /// Base name for the inline types of an owner's properties.
    fn base_of(&self, owner: &Owner) -> String {
        if let Some(b) = self.bases.get(&owner.key) {
            return b.clone();
        }
        match self.named.get(&owner.root) {
            Some(n) => strip_role(&n.rust).to_owned(),
            None => "Inline".to_owned(),
        }
    }

    // ------------------------------------------------------------------ named types

    /// Declares the named type `id` (once), with every inline type it needs.
    fn define(&mut self, id: &str) -> Res<()> {
        let Some(n) = self.named.get(id) else {
            return Err(invalid(id, "not in the proto's types"));
        };
        match &n.state {
            State::Done | State::Busy => return Ok(()),
            State::Failed(e) => return Err(e.clone()),
            State::Todo => {}
        }
        let (rust, file) = (n.rust.clone(), n.file);
        let schema = self.res.get(id, id)?.clone();
        let (null, undef) = self.union_flags(&schema, id)?;
        if let Some(n) = self.named.get_mut(id) {
            n.state = State::Busy;
            n.null = null;
            n.undef = undef;
        }
        let loc = Loc {
            owner: Owner::named(id),
            base: strip_role(&rust).to_owned(),
            path: id.to_owned(),
        };
        self.bases.insert(id.to_owned(), loc.base.clone());
        let mut doc: Vec<String> = schema
            .comment
            .iter()
            .flat_map(|c| c.lines().map(|l| format!(" {}", l.trim())))
            .collect();
        if !doc.is_empty() {
            doc.push(String::new());
        }
        doc.push(format!(" `{id}` in the TSRPC proto."));
        let made = self.make(&schema, &loc, &rust, doc.clone());
        let state = match made {
            Ok(Made::Item(item, _, _)) => {
                self.slots.entry(id.to_owned()).or_default().insert(0, item);
                State::Done
            }
            Ok(Made::Val(val)) => {
                // A union that collapses to one type keeps its `null` in the alias.
                let item = Item::Alias {
                    name: rust,
                    doc,
                    ty: val.nested(),
                };
                if let Some(n) = self.named.get_mut(id) {
                    n.null = false;
                    n.undef = false;
                }
                self.slots.entry(id.to_owned()).or_default().insert(0, item);
                State::Done
            }
            Err(e) => {
                self.slots.remove(id);
                self.memo.retain(|_, (root, _)| root != id);
                State::Failed(e)
            }
        };
        let result = match &state {
            State::Failed(e) => Err(e.clone()),
            _ => Ok(()),
        };
        let _ = file;
        if let Some(n) = self.named.get_mut(id) {
            n.state = state;
        }
        result
    }

    /// For a union: whether it has `null` / `undefined` members.
    fn union_flags(&self, s: &Schema, at: &str) -> Res<(bool, bool)> {
        let SchemaKind::Union { members } = &s.kind else {
            return Ok((false, false));
        };
        let (mut null, mut undef) = (false, false);
        for m in members {
            let (d, _) = self.res.deref(&m.ty, at)?;
            match d.kind {
                SchemaKind::Literal { literal: None } => undef = true,
                SchemaKind::Literal {
                    literal: Some(LiteralValue::Null),
                } => null = true,
                _ => {}
            }
        }
        Ok((null, undef))
    }

    /// A use of the named type `id`.
    fn reference(&mut self, id: &str, at: &str) -> Res<Val> {
        if !self.named.contains_key(id) {
            return Err(invalid(
                at,
                format!("refers to `{id}`, which is not in the proto's types"),
            ));
        }
        self.define(id)?;
        let n = &self.named[id];
        Ok(Val {
            ty: Ty::Named {
                file: n.file,
                name: n.rust.clone(),
            },
            null: n.null,
            undef: n.undef,
        })
    }

    /// Declares an inline item at `loc` and gives its use.
    fn declare(&mut self, loc: &Loc, item: Item) -> Ty {
        let file = self.named[&loc.owner.root].file;
        let name = item.name().to_owned();
        self.slots
            .entry(loc.owner.root.clone())
            .or_default()
            .push(item);
        Ty::Named { file, name }
    }

    /// The Rust type at `loc` for a schema that may need a declaration of its own; the
    /// declaration is named when it turns out to be needed.
    fn inline(&mut self, s: &Schema, loc: &Loc) -> Res<Val> {
        match self.make(s, loc, "", Vec::new())? {
            Made::Item(mut item, null, undef) => {
                let file = self.named[&loc.owner.root].file;
                let wanted = self.inline_name(s, loc);
                let name = self.take_name(file, &wanted);
                item.set_name(name);
                let ty = self.declare(loc, item);
                Ok(Val { ty, null, undef })
            }
            Made::Val(v) => Ok(v),
        }
    }

    /// The name of an inline declaration: from where it is (`LoginDailyReward` for
    /// `ResLogin.dailyReward`), or from what it is for a mapped type of a named one
    /// (`PartialItemStats`).
    fn inline_name(&self, s: &Schema, loc: &Loc) -> String {
        let (op, target) = match &s.kind {
            SchemaKind::Partial { target } => ("Partial", target),
            SchemaKind::Pick { target, .. } => ("Pick", target),
            SchemaKind::Omit { target, .. } => ("Omit", target),
            SchemaKind::Overwrite { target, .. } => ("Overwrite", target),
            _ => return loc.base.clone(),
        };
        match &target.kind {
            SchemaKind::Reference { target } => match self.named.get(target) {
                Some(n) if op == "Partial" => format!("Partial{}", strip_role(&n.rust)),
                _ => loc.base.clone(),
            },
            _ => loc.base.clone(),
        }
    }

    // ------------------------------------------------------------------ mapping

    /// A schema that may need a declaration, named `name`.
    fn make(&mut self, s: &Schema, loc: &Loc, name: &str, doc: Vec<String>) -> Res<Made> {
        let name = name.to_owned();
        match &s.kind {
            SchemaKind::Interface(_) | SchemaKind::Intersection { .. } => {
                let flat = self.res.flatten(s, &loc.owner, &loc.path, 0)?;
                self.object(flat, loc, name, doc)
            }
            SchemaKind::Pick { .. }
            | SchemaKind::Omit { .. }
            | SchemaKind::Partial { .. }
            | SchemaKind::Overwrite { .. } => match self.res.mapped(s, &loc.owner, &loc.path)? {
                Mapped::Object(flat) => self.object(flat, loc, name, doc),
                Mapped::Union(members) => self.union(&members, loc, name, doc),
            },
            SchemaKind::Union { members } => self.union(members, loc, name, doc),
            SchemaKind::Enum { members } => {
                let strings: Vec<(u32, String)> = members
                    .iter()
                    .filter_map(|m| match &m.value {
                        EnumValue::String(s) => Some((m.id, s.clone())),
                        EnumValue::Number(_) => None,
                    })
                    .collect();
                let numbers: Vec<(u32, f64)> = members
                    .iter()
                    .filter_map(|m| match m.value {
                        EnumValue::Number(n) => Some((m.id, n)),
                        EnumValue::String(_) => None,
                    })
                    .collect();
                if !strings.is_empty() && !numbers.is_empty() {
                    return Err(unsupported(
                        &loc.path,
                        "an enum that mixes string and number values cannot be represented",
                    ));
                }
                let item = if strings.is_empty() {
                    num_enum(name, doc, &numbers)
                } else {
                    str_enum(name, doc, &strings)
                };
                Ok(Made::Item(item, false, false))
            }
            SchemaKind::Keyof { target } => {
                let keys = self.res.keyof(target, &loc.path)?;
                if keys.open {
                    Ok(Made::Val(Val::plain(Ty::Str)))
                } else {
                    let keys: Vec<(u32, String)> = (0..).zip(keys.names.iter().cloned()).collect();
                    Ok(Made::Item(str_enum(name, doc, &keys), false, false))
                }
            }
            SchemaKind::Literal {
                literal: Some(LiteralValue::String(v)),
            } => Ok(Made::Item(
                str_enum(name, doc, &[(0, v.clone())]),
                false,
                false,
            )),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Number(n)),
            } if !is_int_literal(*n) => {
                Ok(Made::Item(num_enum(name, doc, &[(0, *n)]), false, false))
            }
            SchemaKind::Tuple {
                element_types,
                optional_start_index,
            } => {
                let mut elems = Vec::new();
                for (i, e) in element_types.iter().enumerate() {
                    let v = self.value(
                        e,
                        &loc.child(&format!("[{i}]"), &format!("{i}"), &format!("[{i}]")),
                    )?;
                    elems.push(v.nested());
                }
                let optional_from = optional_start_index.map_or(elems.len(), |i| i as usize);
                if optional_from >= elems.len() && !elems.is_empty() && elems.len() <= 12 {
                    return Ok(Made::Val(Val::plain(Ty::Tuple(elems))));
                }
                Ok(Made::Item(
                    Item::TupleStruct {
                        name,
                        doc,
                        elems,
                        optional_from: optional_from.min(element_types.len()),
                    },
                    false,
                    false,
                ))
            }
            _ => Ok(Made::Val(self.value(s, loc)?)),
        }
    }

    /// The Rust type of a schema at `loc`.
    fn value(&mut self, s: &Schema, loc: &Loc) -> Res<Val> {
        let plain = |ty| Ok(Val::plain(ty));
        match &s.kind {
            SchemaKind::Boolean => plain(Ty::Bool),
            SchemaKind::Number { scalar_type } => match scalar_type {
                None | Some(ScalarType::Double) => plain(Ty::F64),
                Some(ScalarType::Int) => plain(Ty::I64),
                Some(ScalarType::Uint) => plain(Ty::U64),
                Some(big) => Err(unsupported(
                    &loc.path,
                    format!(
                        "`{}` cannot be imported: TSRPC cannot send it (JSON mode: `JSON.stringify` throws on a BigInt; binary mode: `Scalar type not support : {}`)",
                        big.as_str(),
                        big.as_str()
                    ),
                )),
            },
            SchemaKind::String => plain(Ty::Str),
            SchemaKind::Any | SchemaKind::Object => plain(Ty::Json),
            SchemaKind::Date => plain(Ty::Rt("Date")),
            SchemaKind::Array { element_type } => {
                let v = self.value(element_type, &loc.child("[]", "Item", "[]"))?;
                plain(Ty::Vec(Box::new(v.nested())))
            }
            SchemaKind::Literal { literal: None } => Ok(Val {
                ty: Ty::Unit,
                null: false,
                undef: true,
            }),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Null),
            } => plain(Ty::Unit),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Bool(b)),
            } => plain(Ty::LitBool(*b)),
            SchemaKind::Literal {
                literal: Some(LiteralValue::Number(n)),
            } if is_int_literal(*n) => plain(Ty::LitInt(*n as i64)),
            SchemaKind::Buffer { array_type } => match array_type {
                None | Some(ArrayType::Uint8Array) => plain(Ty::Rt("Bytes")),
                Some(ArrayType::Int8Array) => plain(Ty::Rt("Int8Array")),
                Some(ArrayType::Int16Array) => plain(Ty::Rt("Int16Array")),
                Some(ArrayType::Int32Array) => plain(Ty::Rt("Int32Array")),
                Some(ArrayType::Uint16Array) => plain(Ty::Rt("Uint16Array")),
                Some(ArrayType::Uint32Array) => plain(Ty::Rt("Uint32Array")),
                Some(ArrayType::Float32Array) => plain(Ty::Rt("Float32Array")),
                Some(ArrayType::Float64Array) => plain(Ty::Rt("Float64Array")),
                Some(big) => Err(unsupported(
                    &loc.path,
                    format!(
                        "`{}` cannot be imported: TSBuffer cannot encode it (binary mode fails on it)",
                        big.as_str()
                    ),
                )),
            },
            SchemaKind::Reference { target } if OBJECT_IDS.contains(&target.as_str()) => {
                plain(Ty::Rt("ObjectId"))
            }
            SchemaKind::Reference { target } if target.starts_with('?') => Err(unsupported(
                &loc.path,
                format!("the custom type `{target}` cannot be imported (only MongoDB's `ObjectId` is known)"),
            )),
            SchemaKind::Reference { target } => self.reference(target, &loc.path),
            SchemaKind::IndexedAccess {
                object_type,
                index,
            } => {
                let prop = self.res.indexed_access(object_type, index, &loc.path)?;
                let mut v = self.field(&prop, &loc.path)?;
                if prop.optional {
                    v.undef = true;
                }
                Ok(v)
            }
            SchemaKind::NonNullable { target } => {
                let inner = self.res.non_nullable(target, &loc.path)?;
                let v = self.value(&inner, loc)?;
                Ok(Val::plain(v.ty))
            }
            SchemaKind::Custom => Err(unsupported(
                &loc.path,
                "a custom type cannot be imported (its functions are not in the proto)",
            )),
            _ => self.inline(s, loc),
        }
    }

    /// The Rust type of a property, once per declaration (a property reached again through
    /// `T['k']`, `Pick` or an `extends` gives the same type).
    fn field(&mut self, prop: &Prop, path: &str) -> Res<Val> {
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
    fn object(&mut self, flat: Flat, loc: &Loc, name: String, doc: Vec<String>) -> Res<Made> {
        self.bases.insert(loc.owner.key.clone(), loc.base.clone());
        if flat.props.is_empty() {
            if let Some(sig) = &flat.index {
                let v = self.value(&sig.ty, &loc.child("{}", "Value", "[key]"))?;
                return Ok(Made::Val(Val::plain(Ty::Map(Box::new(v.nested())))));
            }
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
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
                Err(e) => return Err(e),
            };
            let absent = prop.optional || v.undef;
            let mode = match (absent, v.null) {
                _ if v.ty == Ty::Unit && !absent && !v.null => Mode::NullLiteral,
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

    /// A union: a unit enum (literals), one type (with `null` / `undefined` allowed), or an
    /// untagged enum.
    fn union(
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
    fn variant_name(&self, member: &Schema, resolved: &Schema) -> String {
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

    // ------------------------------------------------------------------ recursion

    /// `Box`es every by-value use of a type that leads back to the type using it, and turns a
    /// type alias on a cycle (Rust refuses recursive aliases) into a transparent newtype.
    fn box_recursion(&mut self) {
        // Edges between items, by value and through containers.
        let key = |file: usize, name: &str| format!("{file}:{name}");
        let mut by_value: HashMap<String, Vec<String>> = HashMap::new();
        let mut any: HashMap<String, Vec<String>> = HashMap::new();
        let mut aliases: HashSet<String> = HashSet::new();
        for (root, items) in &self.slots {
            let file = self.named[root].file;
            for item in items {
                let k = key(file, item.name());
                if matches!(item, Item::Alias { .. }) {
                    aliases.insert(k.clone());
                }
                let mut item = item.clone();
                for ty in item.types_mut() {
                    let (mut v, mut a) = (Vec::new(), Vec::new());
                    named_uses(ty, true, &mut v, &mut a);
                    by_value.entry(k.clone()).or_default().extend(v);
                    any.entry(k.clone()).or_default().extend(a);
                }
            }
        }
        let reaches = |graph: &HashMap<String, Vec<String>>, from: &str, to: &str| {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut stack = vec![from];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n) {
                    if let Some(next) = graph.get(n) {
                        stack.extend(next.iter().map(String::as_str));
                    }
                }
            }
            false
        };
        let named: HashMap<String, usize> = self
            .named
            .iter()
            .map(|(id, n)| (id.clone(), n.file))
            .collect();
        for (root, items) in self.slots.iter_mut() {
            let file = named[root];
            for item in items.iter_mut() {
                let k = key(file, item.name());
                let on_cycle = any
                    .get(&k)
                    .is_some_and(|next| next.iter().any(|n| reaches(&any, n, &k)));
                if aliases.contains(&k) && on_cycle {
                    if let Item::Alias { name, doc, ty } = item.clone() {
                        *item = Item::TupleStruct {
                            name,
                            doc,
                            elems: vec![ty],
                            optional_from: usize::MAX,
                        };
                    }
                }
                for ty in item.types_mut() {
                    box_cycles(ty, &|target: &str| reaches(&by_value, target, &k), &key);
                }
            }
        }
    }
}

/// Collects the items a type uses: by value (`by_value`, when `direct`) and at all (`any`).
fn named_uses(ty: &Ty, direct: bool, by_value: &mut Vec<String>, any: &mut Vec<String>) {
    match ty {
        Ty::Named { file, name } => {
            let k = format!("{file}:{name}");
            if direct {
                by_value.push(k.clone());
            }
            any.push(k);
        }
        Ty::Opt(t) => named_uses(t, direct, by_value, any),
        Ty::Tuple(ts) => ts.iter().for_each(|t| named_uses(t, direct, by_value, any)),
        Ty::Vec(t) | Ty::Map(t) | Ty::Boxed(t) => named_uses(t, false, by_value, any),
        _ => {}
    }
}

/// Wraps in `Box` each by-value use of a type for which `cycles` is true.
fn box_cycles(ty: &mut Ty, cycles: &dyn Fn(&str) -> bool, key: &dyn Fn(usize, &str) -> String) {
    match ty {
        Ty::Named { file, name } if cycles(&key(*file, name)) => {
            *ty = Ty::Boxed(Box::new(ty.clone()));
        }
        Ty::Opt(t) => box_cycles(t, cycles, key),
        Ty::Tuple(ts) => ts.iter_mut().for_each(|t| box_cycles(t, cycles, key)),
        _ => {}
    }
}

/// `wanted`, or `wanted{sep}2`, `wanted{sep}3`, .. until `taken` says no.
fn unique(wanted: &str, taken: impl Fn(&str) -> bool, sep: &str) -> String {
    if !taken(wanted) {
        return wanted.to_owned();
    }
    (2..)
        .map(|n| format!("{wanted}{sep}{n}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| wanted.to_owned())
}

fn is_int_literal(n: f64) -> bool {
    n.fract() == 0.0 && n.abs() <= MAX_SAFE
}

fn str_enum(name: String, doc: Vec<String>, values: &[(u32, String)]) -> Item {
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

fn num_enum(name: String, doc: Vec<String>, values: &[(u32, f64)]) -> Item {
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

impl Gen<'_> {
    /// How a file names a type declared in file `to`, from file `from`.
    pub(crate) fn path_to(&self, from: usize, to: usize, name: &str) -> String {
        if from == to {
            return name.to_owned();
        }
        let (fa, fb) = (&self.files[from].folder, &self.files[to].folder);
        if fa == fb {
            return format!("super::{name}");
        }
        let mut parts: Vec<String> = vec!["super".to_owned(); fa.len() + 1];
        parts.extend(fb.iter().map(|m| crate::parse::naming::spell(m)));
        parts.push(name.to_owned());
        parts.join("::")
    }
}
