//! Schema -> Rust items: lays the proto's files out as Rust files, names every type, maps each
//! schema onto a Rust type (making structs and enums for the ones that need a declaration) and
//! boxes recursive fields.

mod layout;
mod object;
mod recursion;
mod union;
mod value;

use std::collections::{HashMap, HashSet};

use super::names::{
    camel_part, field_name, module_name, strip_role, type_name, variant_for_num, variant_for_str,
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
    /// The `conf` of the service it declares (a `Ptl`/`Msg` file), written as `const CONF`.
    pub(crate) conf: Option<crate::import::json::Json>,
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
    /// It is an alias of `Nullable<T>` (a `T | null` that is one type besides `null`).
    null_alias: bool,
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
    /// Failing fields past the first of each type (the type's own error is the first).
    failed_fields: Vec<ImportError>,
    /// The ids of the services' `Req`/`Res`/`Msg` types.
    service_types: HashSet<String>,
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
            failed_fields: Vec::new(),
            service_types: HashSet::new(),
        }
    }

    pub(crate) fn run(mut self) -> Result<ImportedFolder, Vec<ImportError>> {
        let errors = self.define_all();
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

    /// Lays the files out and declares every type of the proto; every error, once.
    fn define_all(&mut self) -> Vec<ImportError> {
        let mut errors: Vec<ImportError> = Vec::new();
        self.layout(&mut errors);
        let ids: Vec<String> = self.proto.types.iter().map(|(k, _)| k.clone()).collect();
        let mut failed: Vec<ImportError> =
            ids.iter().filter_map(|id| self.define(id).err()).collect();
        failed.append(&mut self.failed_fields);
        for e in failed {
            if !errors
                .iter()
                .any(|x| x.path == e.path && x.message == e.message)
            {
                errors.push(e);
            }
        }
        errors
    }

    /// Every item made, for tests of the mapping (names, ids).
    #[cfg(test)]
    pub(crate) fn items(mut self) -> Result<Vec<Item>, Vec<ImportError>> {
        let errors = self.define_all();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(self.slots.into_values().flatten().collect())
    }

    pub(crate) fn runtime(&self) -> &str {
        &self.opts.runtime
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
        let rust = n.rust.clone();
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
        let made = if self.service_types.contains(id) {
            self.make_service_type(&schema, &loc, &rust, doc.clone())
        } else {
            self.make(&schema, &loc, &rust, doc.clone())
        };
        let state = match made {
            Ok(Made::Item(item, _, _)) => {
                self.slots.entry(id.to_owned()).or_default().insert(0, item);
                State::Done
            }
            Ok(Made::Val(val)) => {
                // A union that is one type besides `null` / `undefined`: an alias of that type
                // (`Nullable<T>` with `null`); a use adds `undefined` back as an optional field.
                let ty = if val.null {
                    Ty::Nullable(Box::new(val.ty))
                } else {
                    val.ty
                };
                if let Some(n) = self.named.get_mut(id) {
                    n.null = false;
                    n.undef = val.undef;
                    n.null_alias = val.null;
                }
                let item = Item::Alias {
                    name: rust,
                    doc,
                    ty,
                };
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
