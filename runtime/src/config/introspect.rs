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
                "trap_window_bars",
                "tiering"
            ]
        );
        assert!(fields_of::<Config>().contains(&"strategy"));
        assert!(!fields_of::<Config>().contains(&"origin"));
        assert_eq!(variants_of::<Profile>(), ["dev", "prod"]);
        assert_eq!(shape_of::<u64>(), Shape::Other);
    }

    /// Regression (hardening issue, item 4): a hint named
    /// limits.max_snapshot_mb, a key that does not exist. Every setting
    /// quoted as section.key anywhere in the runtime's source (hints,
    /// errors, docs) and in the READMEs must be a real key of that section.
    #[test]
    fn regression_every_setting_named_in_the_source_exists() {
        use crate::config::schema::*;
        let sections: [(&str, &[&str]); 8] = [
            ("runtime", fields_of::<RuntimeSection>()),
            ("hot_reload", fields_of::<HotReloadSection>()),
            ("limits", fields_of::<LimitsSection>()),
            ("feed", fields_of::<FeedSection>()),
            ("broker", fields_of::<BrokerSection>()),
            ("risk", fields_of::<RiskSection>()),
            ("ops", fields_of::<OpsSection>()),
            ("fleet", fields_of::<FleetSection>()),
        ];
        let mut bad = Vec::new();
        let mut checked = 0;
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs" && e != "md") {
                continue;
            }
            // Code fences would throw the pairing of backticks off.
            let text = std::fs::read_to_string(&path).unwrap().replace("```", "");
            for quoted in text.split('`').skip(1).step_by(2) {
                let Some((section, key)) = quoted.split_once('.') else {
                    continue;
                };
                let Some((_, keys)) = sections.iter().find(|(name, _)| *name == section) else {
                    continue;
                };
                if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') || key.is_empty() {
                    continue;
                }
                checked += 1;
                if !keys.contains(&key) {
                    bad.push(format!("{}: `{quoted}`", path.display()));
                }
            }
        }
        assert!(
            checked > 50,
            "the scan found the settings named ({checked})"
        );
        assert!(bad.is_empty(), "settings that do not exist: {bad:#?}");
    }
}
