//! The service model: plain owned data built by the parser (`crate::parse`), judged by the
//! checks (`crate::check`) and turned into tokens by the renderers (`crate::render`) or into
//! TypeScript by [`crate::export`]. Nothing here borrows from syn's trees, so the model can be built,
//! inspected and compared in ordinary unit tests.

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
    /// Every name the file gives its folder's module (see [`DeclaredName`]); empty when it
    /// could not be parsed.
    pub names: Vec<DeclaredName>,
    /// The file's text when it is not on disk (a folder imported from a TSRPC proto): it is
    /// rendered as an inline `mod` instead of a `#[path]` one.
    pub inline: Option<String>,
    /// The file's `const CONF: &str = "..";`: the TSRPC `conf` of its API or message (JSON),
    /// with where it is declared.
    pub conf: Option<(String, Origin)>,
}

/// A name a protocol file puts in its folder's module: a top-level item that is not private
/// (the generated `pub use file::*` re-exports it), without `#[cfg]` (which may remove it).
/// The checks compare these with each other and with the names the macro generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredName {
    /// The item's name.
    pub ident: String,
    /// `struct`, `enum`, `fn`, `trait`, ... as written.
    pub kind: &'static str,
    /// Which of Rust's namespaces the name takes.
    pub namespace: Namespace,
    /// Where it is declared.
    pub origin: Origin,
}

/// The namespaces of Rust a module-level name lives in: two items clash only when they share
/// one (`struct Client {}` and `fn Client()` may coexist; a tuple struct takes both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Types, traits, modules.
    Type,
    /// Functions, constants, statics.
    Value,
    /// A tuple or unit struct: the type and its constructor.
    Both,
}

impl Namespace {
    /// Whether two names in these namespaces can clash.
    pub fn overlaps(self, other: Namespace) -> bool {
        self == Namespace::Both || other == Namespace::Both || self == other
    }
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
    /// Names of its generic type parameters (none for a protocol type the exports accept).
    pub generics: Vec<String>,
    /// Its `#[serde(..)]` container attributes.
    pub serde: SerdeAttrs,
    /// What it declares: fields, variants or an aliased type (for the exports).
    pub shape: Shape,
    /// The runtime's derives it asks for (`#[derive(rpc_macros::Api)]`, or `Message`).
    pub rpc_derives: Vec<RpcDerive>,
    /// What the wire rules need that the shape leaves out.
    pub wire: WireFacts,
}

/// `#[derive(rpc_macros::Api)]` or `#[derive(rpc_macros::Message)]` on a type of the folder:
/// an error on the types the folder already makes APIs and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcDerive {
    /// The path as written (`rpc_macros::Api`, `Message`).
    pub path: String,
    /// `Api` or `Message`: the trait it implements.
    pub trait_name: &'static str,
    /// Where the path is written.
    pub origin: Origin,
}

/// Facts about a declaration that decide whether it can go on the wire, read from syn's tree
/// (the [`Shape`] leaves them out: it reads `&T` as `T`, keeps no attributes but serde's) and
/// judged by the wire rules (`crate::check_wire`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireFacts {
    /// Its lifetime parameters (`'a`).
    pub lifetimes: Vec<String>,
    /// Its const parameters (`N`).
    pub consts: Vec<String>,
    /// Its `#[cfg(..)]` and `#[cfg_attr(..)]` attributes.
    pub cfgs: Vec<Written>,
    /// The fields (or, for a type alias, the aliased type) whose type holds a reference.
    pub borrowed: Vec<Borrowed>,
    /// `#[skip_serializing_none]`: it sees only a literal `Option`, not one behind an alias.
    pub skip_serializing_none: bool,
}

/// Source text with its place: an attribute as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The text (`#[cfg(feature = "admin")]`).
    pub text: String,
    /// Where it is.
    pub origin: Origin,
}

/// A type that borrows (`&'a str`, `Vec<&[u8]>`): the runtime decodes into owned values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Borrowed {
    /// `field`, `0` or `Variant.field`; `None` for the aliased type of a `type` item.
    pub field: Option<String>,
    /// The type as written (`&'a str`).
    pub written: String,
    /// The same type with every reference replaced by what owns it (`String`).
    pub owned: String,
    /// Where the field (or the alias) is declared.
    pub origin: Origin,
}

/// The JSON-relevant declaration of a type: what the exports ([`crate::export`]) turn into
/// TypeScript and TSBuffer schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `struct`: named (`{ .. }`), tuple (`( .. )`) or unit fields.
    Struct {
        /// How the fields are written.
        style: FieldsStyle,
        /// The fields, in declaration order.
        fields: Vec<FieldDef>,
    },
    /// `enum`.
    Enum {
        /// The variants, in declaration order.
        variants: Vec<VariantDef>,
    },
    /// `type X = ..;`.
    Alias {
        /// The aliased type.
        ty: TypeRef,
    },
}

/// How the fields of a struct or variant are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsStyle {
    /// `{ a: T }`.
    Named,
    /// `(T, U)`.
    Tuple,
    /// No fields.
    Unit,
}

/// A field of a struct or variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The field's name as written (raw identifiers without `r#`); `None` in a tuple.
    pub ident: Option<String>,
    /// Its type.
    pub ty: TypeRef,
    /// Its doc comment, one entry per line.
    pub docs: Vec<String>,
    /// Its `#[serde(..)]` attributes.
    pub serde: SerdeAttrs,
    /// Where it is declared.
    pub origin: Origin,
}

/// A variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantDef {
    /// The variant's name.
    pub ident: String,
    /// How its fields are written.
    pub style: FieldsStyle,
    /// Its fields.
    pub fields: Vec<FieldDef>,
    /// Its doc comment.
    pub docs: Vec<String>,
    /// Its `#[serde(..)]` attributes.
    pub serde: SerdeAttrs,
    /// Where it is declared.
    pub origin: Origin,
}

/// The `#[serde(..)]` keys the exports understand, on a container, a variant or a field.
/// Other keys are ignored (`deny_unknown_fields`, `alias`, `bound`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerdeAttrs {
    /// `rename = ".."` (or the `serialize` name of `rename(..)`).
    pub rename: Option<String>,
    /// `rename_all = ".."` (or its `serialize` rule).
    pub rename_all: Option<String>,
    /// `rename_all_fields = ".."` (enums: the fields of every struct variant).
    pub rename_all_fields: Option<String>,
    /// `tag = ".."`.
    pub tag: Option<String>,
    /// `content = ".."`.
    pub content: Option<String>,
    /// `untagged`.
    pub untagged: bool,
    /// `transparent`.
    pub transparent: bool,
    /// `skip` or `skip_serializing`: never written.
    pub skip: bool,
    /// `skip_serializing_if = ".."`: sometimes omitted.
    pub skip_serializing_if: bool,
    /// `default` or `default = ".."`.
    pub default: bool,
    /// `flatten`.
    pub flatten: bool,
    /// `with = ".."` or `serialize_with = ".."`, as written.
    pub with: Option<String>,
    /// `into = ".."` (a container written as another type), as written.
    pub into: Option<String>,
}

/// A Rust type as written, reduced to what decides its JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// A path (`String`, `Option<T>`, `super::base::User`, `HashMap<String, u8>`); references
    /// (`&T`) are read as `T`.
    Path {
        /// Its segments (`["super", "base", "User"]`).
        segments: Vec<String>,
        /// The type arguments of the last segment (lifetimes and consts left out).
        args: Vec<TypeRef>,
    },
    /// `(A, B)`; `()` is the empty tuple.
    Tuple(Vec<TypeRef>),
    /// `[T; N]` or `[T]`.
    Array(Box<TypeRef>),
    /// Anything else (`fn()`, `impl Trait`, a qualified path, a macro), as written.
    Other(String),
}

impl TypeRef {
    /// The last path segment (`User` for `super::base::User`), if a path.
    pub fn last_segment(&self) -> Option<&str> {
        match self {
            TypeRef::Path { segments, .. } => segments.last().map(String::as_str),
            _ => None,
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Path { segments, args } => {
                f.write_str(&segments.join("::"))?;
                if !args.is_empty() {
                    f.write_str("<")?;
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{a}")?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
            TypeRef::Tuple(items) => {
                f.write_str("(")?;
                for (i, a) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                if items.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
            TypeRef::Array(elem) => write!(f, "[{elem}]"),
            TypeRef::Other(s) => f.write_str(s),
        }
    }
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
    /// The request type also derives `Api` itself (an error): the glue then leaves the impl
    /// to the derive, so that the mistake is reported once, not again as conflicting impls.
    pub derived: bool,
    /// TSRPC's `conf` of the API (a JSON object's text), from its file's `const CONF`.
    pub conf: Option<String>,
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
    /// The type also derives `Message` itself (an error): the glue leaves the impl to the
    /// derive (see [`ApiDef::derived`]).
    pub derived: bool,
    /// TSRPC's `conf` of the message (a JSON object's text), from its file's `const CONF`.
    pub conf: Option<String>,
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
