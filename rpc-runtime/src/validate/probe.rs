//! The field-order probe: learns the declared field order of the structs inside a type.
//!
//! tsbuffer checks an interface's properties in declaration order and reports the first error,
//! but without serde_json's `preserve_order` feature schemars' `properties` are sorted by name.
//! serde's derived `Deserialize` impls hand every `deserialize_struct` call the field names in
//! declaration order (after renames), so [`probe_field_orders`] drives `T`'s impl once per enum
//! variant index with a deserializer that makes up values and records those names in a
//! [`FieldOrders`]. It cannot see structs reached only through `#[serde(flatten)]`, internally
//! tagged or untagged enums (serde buffers those through `deserialize_any`), or custom impls:
//! [`super::order`] falls back for those.
//!
//! Why not schemars' `preserve_order` instead (tried): with it the schema lists properties in
//! declaration order, through `#[serde(flatten)]`, renames and internally tagged enums too, and
//! the build takes no longer (within noise). But the feature only turns on serde_json's
//! `preserve_order`, which Cargo then turns on for every crate in a user's build: every
//! `serde_json::Value` they parse and serialize would keep insertion order instead of sorting
//! keys, and `explain`'s order would change (the test `explain_without_type_uses_fallback_order`
//! fails; all other workspace tests pass). A behaviour change for users, so the probe stays.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::order::FieldOrders;

/// Past this nesting the probe stops exploring (options become `None`,
/// sequences and maps empty).
const PROBE_EXPLORE_DEPTH: usize = 16;
/// Past this nesting the probe gives up.
const PROBE_MAX_DEPTH: usize = 48;
/// Work budget of one probe pass.
const PROBE_MAX_STEPS: usize = 50_000;
/// Most passes (one per enum variant index).
const PROBE_MAX_PASSES: usize = 16;

/// Learns the declared field order of the structs inside `T` by letting its
/// `Deserialize` impl drive a deserializer that makes up values. Pass `k`
/// picks variant `k` of every enum (clamped), so struct variants and structs
/// inside them are seen too. A pass that fails still keeps what it saw.
pub(super) fn probe_field_orders<T: DeserializeOwned>() -> FieldOrders {
    let recorder = RefCell::new(Recorder::default());
    let mut pass = 0;
    loop {
        {
            let mut rec = recorder.borrow_mut();
            rec.variant = pass;
            rec.steps = 0;
            rec.stack.clear();
        }
        let probe = Probe {
            rec: &recorder,
            depth: 0,
            minimal: false,
        };
        // Derived impls never panic; a hand-written one might, and must not
        // take the server down.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| T::deserialize(probe)));
        pass += 1;
        let max_variants = recorder.borrow().max_variants;
        if pass >= max_variants.min(PROBE_MAX_PASSES) {
            break;
        }
    }
    recorder.into_inner().orders
}

#[derive(Default)]
struct Recorder {
    orders: FieldOrders,
    /// Variant index enums pick in this pass.
    variant: usize,
    /// Most variants seen in one enum.
    max_variants: usize,
    /// Names of the structs and enums being probed (to spot recursion).
    stack: Vec<&'static str>,
    steps: usize,
}

#[derive(Debug)]
struct ProbeError;

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe")
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        ProbeError
    }
}

#[derive(Clone, Copy)]
struct Probe<'r> {
    rec: &'r RefCell<Recorder>,
    depth: usize,
    /// Make the smallest values (no `Some`, empty sequences and maps).
    minimal: bool,
}

impl<'r> Probe<'r> {
    /// Counts a step; the deserializer for values nested in this one.
    fn enter(self) -> Result<Probe<'r>, ProbeError> {
        let mut rec = self.rec.borrow_mut();
        rec.steps += 1;
        if rec.steps > PROBE_MAX_STEPS || self.depth >= PROBE_MAX_DEPTH {
            return Err(ProbeError);
        }
        Ok(Probe {
            rec: self.rec,
            depth: self.depth + 1,
            minimal: self.minimal || self.depth >= PROBE_EXPLORE_DEPTH,
        })
    }

    /// Enters a named struct or enum, spotting recursion.
    fn enter_named(self, name: &'static str) -> Result<Probe<'r>, ProbeError> {
        let child = self.enter()?;
        let mut rec = self.rec.borrow_mut();
        let recursive = rec.stack.contains(&name);
        rec.stack.push(name);
        Ok(Probe {
            minimal: child.minimal || recursive,
            ..child
        })
    }

    fn leave(self) {
        self.rec.borrow_mut().stack.pop();
    }

    fn count(self, explore: usize) -> usize {
        if self.minimal {
            0
        } else {
            explore
        }
    }
}

macro_rules! probe_scalars {
    ($($method:ident => $visit:ident($value:expr);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
                self.enter()?;
                visitor.$visit($value)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    probe_scalars! {
        deserialize_bool => visit_bool(false);
        deserialize_i8 => visit_i8(0);
        deserialize_i16 => visit_i16(0);
        deserialize_i32 => visit_i32(0);
        deserialize_i64 => visit_i64(0);
        deserialize_i128 => visit_i128(0);
        deserialize_u8 => visit_u8(0);
        deserialize_u16 => visit_u16(0);
        deserialize_u32 => visit_u32(0);
        deserialize_u64 => visit_u64(0);
        deserialize_u128 => visit_u128(0);
        deserialize_f32 => visit_f32(0.0);
        deserialize_f64 => visit_f64(0.0);
        deserialize_char => visit_char('a');
        deserialize_str => visit_str("");
        deserialize_string => visit_str("");
        deserialize_bytes => visit_bytes(&[]);
        deserialize_byte_buf => visit_byte_buf(Vec::new());
        deserialize_identifier => visit_str("");
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        if self.minimal {
            visitor.visit_none()
        } else {
            visitor.visit_some(child)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_newtype_struct(child)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_seq(ProbeSeq {
            remaining: self.count(1),
            child,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_seq(ProbeSeq {
            remaining: len,
            child,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let child = self.enter()?;
        visitor.visit_map(ProbeEntries {
            remaining: self.count(1),
            child,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter_named(name)?;
        self.rec.borrow_mut().orders.record(fields);
        let result = visitor.visit_map(ProbeFields {
            fields,
            next: 0,
            child,
        });
        self.leave();
        result
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let child = self.enter_named(name)?;
        let picked = {
            let mut rec = self.rec.borrow_mut();
            rec.max_variants = rec.max_variants.max(variants.len());
            let index = if child.minimal { 0 } else { rec.variant };
            variants
                .get(index.min(variants.len().saturating_sub(1)))
                .copied()
        };
        let result = match picked {
            Some(variant) => visitor.visit_enum(ProbeEnum { variant, child }),
            None => Err(ProbeError),
        };
        self.leave();
        result
    }
}

/// A struct's fields, each given a made-up value.
struct ProbeFields<'r> {
    fields: &'static [&'static str],
    next: usize,
    child: Probe<'r>,
}

impl<'de> MapAccess<'de> for ProbeFields<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        match self.fields.get(self.next) {
            Some(field) => seed
                .deserialize(BorrowedStrDeserializer::<ProbeError>::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        self.next += 1;
        seed.deserialize(self.child)
    }
}

/// Map entries with made-up keys and values.
struct ProbeEntries<'r> {
    remaining: usize,
    child: Probe<'r>,
}

impl<'de> MapAccess<'de> for ProbeEntries<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        seed.deserialize(self.child).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        self.remaining = self.remaining.saturating_sub(1);
        seed.deserialize(self.child)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

/// Sequence elements with made-up values.
struct ProbeSeq<'r> {
    remaining: usize,
    child: Probe<'r>,
}

impl<'de> SeqAccess<'de> for ProbeSeq<'_> {
    type Error = ProbeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        seed.deserialize(self.child).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

/// An externally tagged enum value of the picked variant.
struct ProbeEnum<'r> {
    variant: &'static str,
    child: Probe<'r>,
}

impl<'de, 'r> EnumAccess<'de> for ProbeEnum<'r> {
    type Error = ProbeError;
    type Variant = Probe<'r>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Probe<'r>), ProbeError> {
        let tag = seed.deserialize(BorrowedStrDeserializer::<ProbeError>::new(self.variant))?;
        Ok((tag, self.child))
    }
}

impl<'de> VariantAccess<'de> for Probe<'_> {
    type Error = ProbeError;

    fn unit_variant(self) -> Result<(), ProbeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_seq(ProbeSeq {
            remaining: len,
            child: self,
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.rec.borrow_mut().orders.record(fields);
        visitor.visit_map(ProbeFields {
            fields,
            next: 0,
            child: self,
        })
    }
}
