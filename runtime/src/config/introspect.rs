//! The key names and enum values the serde derives accept, read from the
//! derives themselves so the "did you mean" lists never drift from the structs.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// What a type asks the deserializer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A struct with these (serialized) field names.
    Struct(&'static [&'static str]),
    /// An enum with these (serialized) variant names.
    Enum(&'static [&'static str]),
    /// Anything else.
    Other,
}

/// The shape `T`'s `Deserialize` impl asks for.
pub(crate) fn shape_of<T: for<'de> Deserialize<'de>>() -> Shape {
    let mut shape = Shape::Other;
    let _ = T::deserialize(Probe(&mut shape));
    shape
}

/// Field names of a struct type (empty for anything else).
pub(crate) fn fields_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    match shape_of::<T>() {
        Shape::Struct(fields) => fields,
        _ => &[],
    }
}

/// Variant names of an enum type (empty for anything else).
pub(crate) fn variants_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    match shape_of::<T>() {
        Shape::Enum(variants) => variants,
        _ => &[],
    }
}

/// A deserializer that records what it is asked for and then fails.
struct Probe<'a>(&'a mut Shape);

fn stop() -> de::value::Error {
    de::Error::custom("introspection probe")
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(stop())
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Shape::Struct(fields);
        Err(stop())
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Shape::Enum(variants);
        Err(stop())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, HotReloadSection, Profile};

    #[test]
    fn reads_fields_and_variants_from_the_derives() {
        assert_eq!(
            fields_of::<HotReloadSection>(),
            [
                "enabled",
                "debounce_ms",
                "skip_hash_verification",
                "keep_versions",
                "rollback_after_traps",
                "trap_window_bars"
            ]
        );
        assert!(fields_of::<Config>().contains(&"strategy"));
        assert!(!fields_of::<Config>().contains(&"origin"));
        assert_eq!(variants_of::<Profile>(), ["dev", "prod"]);
        assert_eq!(shape_of::<u64>(), Shape::Other);
    }
}
