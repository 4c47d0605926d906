//! Arrays (a count, then the elements) and tuples (a mask of the elements present, then
//! those), as serde sequences.

use serde::de::{DeserializeSeed, SeqAccess};

use super::{Cx, LitDe, ValDe};
use crate::tsbuffer::error::Error;
use crate::tsbuffer::schema::{Ix, Lit, TupleElem};
use crate::tsbuffer::wire::Reader;

pub(super) struct ArrAccess<'a, 'de, 'p> {
    pub(super) r: &'a mut Reader<'de>,
    pub(super) cx: Cx<'p>,
    pub(super) elem: Ix,
    pub(super) left: u64,
    /// Elements read so far (the index of the next one).
    pub(super) seen: u64,
}

impl<'de> SeqAccess<'de> for ArrAccess<'_, 'de, '_> {
    type Error = Error;
    #[inline]
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let at = self.seen;
        self.seen += 1;
        seed.deserialize(ValDe {
            r: &mut *self.r,
            cx: self.cx,
            ty: self.elem,
        })
        .map(Some)
        .map_err(|e| e.within(&at.to_string()))
    }
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.left).ok()
    }
}

pub(super) struct TupleAccess<'a, 'de, 'p> {
    pub(super) r: &'a mut Reader<'de>,
    pub(super) cx: Cx<'p>,
    pub(super) elems: &'p [TupleElem],
    pub(super) mask: u64,
    pub(super) i: usize,
    /// Elements handed out: up to the last present one, or the Rust tuple's length.
    pub(super) upto: usize,
}

impl<'de> SeqAccess<'de> for TupleAccess<'_, 'de, '_> {
    type Error = Error;
    #[inline]
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        if self.i >= self.upto {
            return Ok(None);
        }
        let at = self.i;
        self.i += 1;
        if self.mask & 1 << at == 0 {
            // Absent (a hole reads as `undefined`, written `null` in JSON).
            return seed.deserialize(LitDe(&Lit::Null)).map(Some);
        }
        seed.deserialize(ValDe {
            r: &mut *self.r,
            cx: self.cx,
            ty: self.elems[at].ty,
        })
        .map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.upto - self.i)
    }
}
