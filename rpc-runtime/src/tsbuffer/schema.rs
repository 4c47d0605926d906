//! The schemas of a service proto at run time, resolved once (by `build`) into the form the
//! encoder and decoder walk: references followed, `T['k']` and `keyof T` replaced by what they
//! denote, and every interface-like schema (interface, `Pick`, `Omit`, `Partial`, `Overwrite`)
//! compiled into a [`Plan`]: which field goes in which id-block with which header.

use rustc_hash::FxHashMap;

/// A node's index in [`Proto::nodes`].
pub(crate) type Ix = u32;

/// A TypeScript literal (a `Literal` schema, an enum member's value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(Box<str>),
    Num(f64),
    Bool(bool),
    Null,
    Undefined,
}

/// The `scalarType` of a `Number` schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// No scalar type, or `double`: 8 bytes big-endian.
    Double,
    /// Zigzag varint.
    Int,
    /// Varint.
    Uint,
    /// `bigint`, `bigint64`, `biguint64`: TSBuffer has no binary encoding for them.
    Big(&'static str),
}

/// A member of a union or an intersection.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) id: u64,
    pub(crate) ty: Ix,
    /// `(id << 2) | lengthType`.
    pub(crate) header: u64,
    /// Whether the payload carries a length prefix (arrays, tuples, `Overwrite`).
    pub(crate) prefix: bool,
}

/// A member of an enum: its id on the wire and its value.
#[derive(Debug, Clone)]
pub(crate) struct EnumMember {
    pub(crate) id: u64,
    pub(crate) value: Lit,
}

/// What a `null` value means where a value of some schema is expected (tsbuffer's
/// `strictNullChecks: false`, as TSRPC servers run it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullMode {
    /// A real `null`: only a `null` literal (or `any`) takes it.
    Null,
    /// `null` where the schema cannot hold it is written as `undefined`: left out.
    Absent,
    /// `undefined` (a union that cannot hold `null` turns `null` into `undefined`).
    Undefined,
}

/// An element of a tuple.
#[derive(Debug, Clone)]
pub(crate) struct TupleElem {
    pub(crate) ty: Ix,
    pub(crate) null: NullMode,
    pub(crate) required: bool,
}

/// A resolved schema.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Boolean,
    Number(Scalar),
    String,
    Array(Ix),
    Tuple(Box<[TupleElem]>),
    Enum(Box<[EnumMember]>),
    /// `any` / `unknown`: the value's JSON text.
    Any,
    /// `object`: the value's JSON text (an object or an array).
    Object,
    Literal(Lit),
    /// An interface-like schema: the plan's index in [`Proto::plans`].
    Record(u32),
    /// `Uint8Array`, `ArrayBuffer`, the other typed arrays: length-prefixed raw bytes.
    Buffer,
    Union {
        members: Box<[Member]>,
        /// Whether the union can hold `null` (a `null` member, or `any`), as tsbuffer's
        /// `canBeLiteral` says.
        null_ok: bool,
    },
    Intersection(Box<[Member]>),
    /// Epoch milliseconds as a varint.
    Date,
    /// MongoDB's `ObjectId` (the custom `?mongodb/ObjectId` / `?bson/ObjectId` types): its 12
    /// bytes, length-prefixed.
    ObjectId,
    NonNullable(Ix),
    /// Something TSBuffer cannot encode, and why.
    Unsupported(Box<str>),
}

/// How a node sits in an id-block: its header's length type and whether a length prefix
/// follows the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wire {
    pub(crate) lt: u8,
    pub(crate) prefix: bool,
}

/// No block: a field inherited through `extends` of a mapped type, which tsbuffer's encoder
/// never writes.
pub(crate) const NO_BLOCK: u16 = u16::MAX;

/// What the decoder puts back for a field that is not in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    None,
    /// A literal-typed field (never written).
    Literal,
    /// A field that can be `null` but not `undefined` reads as `null` when absent.
    Null,
}

/// A field of a [`Plan`]: one name of the object, in the order the encoder writes them.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: Box<str>,
    pub(crate) ty: Ix,
    /// The block it is written in, or [`NO_BLOCK`].
    pub(crate) block: u16,
    /// `((id + 10) << 2) | lengthType`; for an index entry, `lengthType` alone.
    pub(crate) header: u64,
    /// Written as an index-signature entry (a `Pick` of an index signature's key).
    pub(crate) index_entry: bool,
    pub(crate) prefix: bool,
    /// A literal: checked, never written.
    pub(crate) literal: bool,
    pub(crate) null: NullMode,
    pub(crate) required: bool,
    pub(crate) fill: Fill,
    /// The order of its bytes among the object's: fields sort by this.
    pub(crate) key: u32,
}

/// How the decoder reads a property id of a block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PropRead {
    pub(crate) id: u64,
    /// The field it yields, or `None`: read and dropped (left out by `Pick`/`Omit`).
    pub(crate) field: Option<u16>,
    pub(crate) ty: Ix,
    pub(crate) prefix: bool,
}

/// Which index-signature keys a block yields.
#[derive(Debug, Clone)]
pub(crate) enum KeyFilter {
    All,
    Only(Box<[Box<str>]>),
    Except(Box<[Box<str>]>),
}

impl KeyFilter {
    pub(crate) fn allows(&self, key: &str) -> bool {
        match self {
            KeyFilter::All => true,
            KeyFilter::Only(keys) => keys.iter().any(|k| &**k == key),
            KeyFilter::Except(keys) => !keys.iter().any(|k| &**k == key),
        }
    }
}

/// The index signature of a block as the decoder reads it.
#[derive(Debug, Clone)]
pub(crate) struct IndexRead {
    pub(crate) ty: Ix,
    pub(crate) prefix: bool,
    /// `{ [key: number]: T }`: a key that is not an integer as JavaScript writes it is refused
    /// (tsbuffer's validation after decoding refuses it).
    pub(crate) number_keys: bool,
    pub(crate) filter: KeyFilter,
}

/// One id-block of a plan: the root block of an interface, or an `extends` block in it.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) parent: Option<u16>,
    /// `((extend.id + 1) << 2) | 3` for an `extends` block.
    pub(crate) header: u64,
    /// The fields of this block and of the blocks in it: `first_field..end_field`.
    pub(crate) first_field: u16,
    pub(crate) end_field: u16,
    /// The sort key of index entries written in this block (after its fields).
    pub(crate) index_key: u32,
    pub(crate) props: Box<[PropRead]>,
    /// `extends` id -> block.
    pub(crate) extends: Box<[(u64, u16)]>,
    pub(crate) index: Option<IndexRead>,
}

/// Where the encoder writes keys that are not fields (an open index signature).
#[derive(Debug, Clone)]
pub(crate) struct OpenIndex {
    pub(crate) block: u16,
    pub(crate) ty: Ix,
    /// The entry header: `(0 << 2) | lengthType`.
    pub(crate) header: u64,
    pub(crate) prefix: bool,
    pub(crate) null: NullMode,
    /// `{ [key: number]: T }`: keys must be integers written as JavaScript writes them.
    pub(crate) number_keys: bool,
    /// Keys `Omit` left out.
    pub(crate) except: Box<[Box<str>]>,
}

/// tsbuffer-validator's `_isNumberKey`: `String(parseInt(key)) === key`.
pub(crate) fn is_number_key(key: &str) -> bool {
    match key.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 1e21 && !key.starts_with('+') => {
            format!("{f}") == key && key != "-0"
        }
        _ => false,
    }
}

/// An interface-like schema compiled for the encoder and the decoder.
///
/// Fields are numbered in the order tsbuffer writes them: an interface's `extends` blocks
/// first (each parent's own `extends` before its properties), then its own properties, then
/// index-signature entries; an `Overwrite` writes its overwrite part as a whole id-block, then
/// its target's. A name appears once: the first block that writes it owns it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) fields: Box<[Field]>,
    pub(crate) blocks: Box<[Block]>,
    /// Blocks written back to back at the top (two for an `Overwrite`).
    pub(crate) roots: Box<[u16]>,
    pub(crate) open_index: Option<OpenIndex>,
    /// Required fields (for a value that lacks one, tsbuffer's validator refuses it).
    pub(crate) required: Box<[u16]>,
    /// Fields the decoder may put back (see [`Fill`]).
    pub(crate) fills: Box<[u16]>,
    /// One root block and no `extends` blocks: fields that arrive in order are written
    /// where they land.
    pub(crate) flat: bool,
    pub(crate) by_name: FxHashMap<Box<str>, u16>,
}

impl Plan {
    /// The field called `name`; `guess` is tried first (the field after the last one found:
    /// values usually arrive in the same order every time).
    #[inline]
    pub(crate) fn find(&self, name: &str, guess: usize) -> Option<u16> {
        if let Some(f) = self.fields.get(guess) {
            if same(&f.name, name) {
                return Some(guess as u16);
            }
        }
        if self.fields.len() <= 8 {
            return self
                .fields
                .iter()
                .position(|f| same(&f.name, name))
                .map(|i| i as u16);
        }
        self.by_name.get(name).copied()
    }

    /// The direct child of `block` that holds `inner` (or is it).
    pub(crate) fn child_toward(&self, block: u16, mut inner: u16) -> u16 {
        loop {
            match self.blocks[inner as usize].parent {
                Some(p) if p == block => return inner,
                Some(p) => inner = p,
                None => return inner,
            }
        }
    }
}

/// A set of field indices (the fields an object has written or read).
#[derive(Debug, Default)]
pub(crate) struct FieldSet {
    small: u64,
    big: Vec<u64>,
}

impl FieldSet {
    #[inline]
    pub(crate) fn get(&self, i: u16) -> bool {
        let i = usize::from(i);
        if i < 64 {
            self.small & 1 << i != 0
        } else {
            self.big
                .get(i / 64 - 1)
                .is_some_and(|w| w & 1 << (i % 64) != 0)
        }
    }

    #[inline]
    pub(crate) fn set(&mut self, i: u16) {
        let i = usize::from(i);
        if i < 64 {
            self.small |= 1 << i;
        } else {
            let w = i / 64 - 1;
            if self.big.len() <= w {
                self.big.resize(w + 1, 0);
            }
            self.big[w] |= 1 << (i % 64);
        }
    }
}

/// String equality for the short names of fields, without a call to `memcmp`.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// A service of the proto.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) id: u64,
    pub(crate) name: Box<str>,
    pub(crate) api: bool,
    /// The request (API) or message schema.
    pub(crate) req: Option<Ix>,
    /// The response schema (API).
    pub(crate) res: Option<Ix>,
}

/// A service proto's schemas, resolved: built once per service (the first time binary mode
/// needs it) and shared.
#[derive(Debug, Clone)]
pub struct Proto {
    pub(crate) nodes: Vec<Node>,
    pub(crate) plans: Vec<Plan>,
    pub(crate) names: FxHashMap<Box<str>, Ix>,
    pub(crate) services: Vec<Service>,
}

/// A schema of a [`Proto`], found by its id (`PtlLogin/ReqLogin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaId(pub(crate) Ix);

/// What a service is made of, on the binary wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSchemas {
    /// The service id frames carry.
    pub id: u64,
    /// `true` for an API, `false` for a message.
    pub api: bool,
    /// The request (API) or the message schema.
    pub req: SchemaId,
    /// The response schema (`None` for a message).
    pub res: Option<SchemaId>,
}

impl Proto {
    /// The schema with this id (`PtlLogin/ReqLogin`, `room/MsgJoin/MsgJoin`).
    pub fn schema(&self, id: &str) -> Option<SchemaId> {
        self.names.get(id).map(|&ix| SchemaId(ix))
    }

    /// The service called `name` (`Login`, `room/Join`).
    pub fn service(&self, name: &str) -> Option<ServiceSchemas> {
        self.services
            .iter()
            .find(|s| &*s.name == name)
            .and_then(Self::schemas)
    }

    /// The service with this id, and its name.
    pub fn service_by_id(&self, id: u64) -> Option<(&str, ServiceSchemas)> {
        let s = self.services.iter().find(|s| s.id == id)?;
        Some((&s.name, Self::schemas(s)?))
    }

    fn schemas(s: &Service) -> Option<ServiceSchemas> {
        Some(ServiceSchemas {
            id: s.id,
            api: s.api,
            req: SchemaId(s.req?),
            res: if s.api { Some(SchemaId(s.res?)) } else { None },
        })
    }

    #[inline]
    pub(crate) fn node(&self, ix: Ix) -> &Node {
        &self.nodes[ix as usize]
    }

    #[inline]
    pub(crate) fn plan(&self, p: u32) -> &Plan {
        &self.plans[p as usize]
    }
}
