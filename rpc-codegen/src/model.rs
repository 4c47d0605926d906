//! The service model: plain owned data built by [`crate::parse`], judged by [`crate::check`]
//! and turned into tokens by [`crate::render`]. Nothing here borrows from syn's trees, so the
//! model can be built, inspected and compared in ordinary unit tests.

use std::path::PathBuf;

/// Everything the generator knows about one service (one protocol folder plus listed extras).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceModel {
    /// The service module's name as written (`chat`): the service proto's name.
    pub name: String,
    /// The protocol folder as the user wrote it (`src/chat`), used in messages.
    pub display_root: String,
    /// The protocol folder, absolute.
    pub root: PathBuf,
    /// The module tree mirroring the folder.
    pub module: ModuleDef,
    /// Every API, in folder order (files sorted by path), then the extras.
    pub apis: Vec<ApiDef>,
    /// Every message, in folder order, then the extras.
    pub msgs: Vec<MsgDef>,
}

/// One folder of the protocol tree: its files and sub-folders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleDef {
    /// Folder name (`room`); empty for the root.
    pub name: String,
    /// The protocol files of this folder, sorted by name.
    pub files: Vec<FileDef>,
    /// Sub-folders, sorted by name.
    pub children: Vec<ModuleDef>,
}

/// One `.rs` file of the protocol folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDef {
    /// File stem, which becomes the module name (`ptl_login`).
    pub stem: String,
    /// Absolute path (for `#[path]` and `include_str!`).
    pub path: PathBuf,
    /// The path as shown in messages (`src/chat/ptl_login.rs`).
    pub display: String,
    /// What the file name says the file holds.
    pub kind: FileKind,
    /// The items of interest found in the file (`None` when it could not be parsed).
    pub items: Option<Vec<ItemDef>>,
}

/// What a protocol file holds, judging by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// `ptl_<name>.rs`: an API, `Req<Name>` and `Res<Name>`.
    Ptl {
        /// The CamelCase base name the stem implies (`Login`).
        base: String,
    },
    /// `msg_<name>.rs`: a message `Msg<Name>`.
    Msg {
        /// The CamelCase base name the stem implies (`UserJoin`).
        base: String,
    },
    /// Any other file: shared helper types, ordinary Rust.
    Other,
}

/// A type declared at the top level of a protocol file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDef {
    /// The type's name.
    pub ident: String,
    /// `struct`, `enum` or `type`.
    pub kind: &'static str,
    /// Whether it is declared `pub`.
    pub is_pub: bool,
    /// Its doc comment, one entry per line (leading space kept as written).
    pub docs: Vec<String>,
    /// Where it is declared.
    pub origin: Origin,
    /// `Option` fields that serde would write as `null` (no `skip_serializing_if`).
    pub option_fields_without_skip: Vec<FieldRef>,
}

/// A field found by a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// `field` or `Variant.field`.
    pub name: String,
    /// Where it is declared.
    pub origin: Origin,
}

/// A place in a protocol file, shown as `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file as shown in messages.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Where a service's types come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file of the protocol folder: the types are named relative to the service module.
    Folder {
        /// Sub-folders from the root (`["room"]`).
        folder: Vec<String>,
        /// Where the request (or message) type is declared.
        origin: Origin,
    },
    /// A type declared by hand and listed in the service attribute (`extra_apis = [..]`). Its
    /// service name is known only to rustc (`<T as Api>::NAME`, from its derive).
    Extra {
        /// The path as written in the attribute.
        path: syn::Path,
    },
}

/// An API: `Req<Base>` -> `Res<Base>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiDef {
    /// The service name (`room/Login`); for extras, the name their type suggests.
    pub name: String,
    /// snake_case of the whole name, the suffix of the generated methods (`room_login`).
    pub method: String,
    /// CamelCase of the whole name (`RoomLogin`).
    pub variant: String,
    /// Request type name (`ReqLogin`).
    pub req: String,
    /// Response type name (`ResLogin`).
    pub res: String,
    /// Doc comment of the request type, then of the response type.
    pub docs: Vec<String>,
    /// Where it comes from.
    pub source: Source,
}

/// A message: `Msg<Base>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgDef {
    /// The service name (`room/UserJoin`); for extras, the name their type suggests.
    pub name: String,
    /// snake_case of the whole name (`room_user_join`).
    pub method: String,
    /// CamelCase of the whole name: the `Msg` enum variant (`RoomUserJoin`).
    pub variant: String,
    /// The type name (`MsgUserJoin`).
    pub ty: String,
    /// Its doc comment.
    pub docs: Vec<String>,
    /// Where it comes from.
    pub source: Source,
}

impl ApiDef {
    /// Where it is declared, for messages.
    pub fn origin(&self) -> Option<&Origin> {
        match &self.source {
            Source::Folder { origin, .. } => Some(origin),
            Source::Extra { .. } => None,
        }
    }
}

impl MsgDef {
    /// Where it is declared, for messages.
    pub fn origin(&self) -> Option<&Origin> {
        match &self.source {
            Source::Folder { origin, .. } => Some(origin),
            Source::Extra { .. } => None,
        }
    }
}
