//! What names a cache entry: the `.wasm` SHA-256, the compiler tier and the
//! engine's compatibility hash. Code compiled by another wasmtime, or by an
//! engine with other settings (fuel, epochs, features, target), has another
//! compatibility hash and therefore another name: it is never even looked at.

use crate::load::Tier;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};

/// An entry's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryKey {
    /// SHA-256 of the component's bytes (lowercase hex, 64 digits).
    pub sha256: String,
    /// The compiler tier that produced the code.
    pub tier: Tier,
    /// [`compatibility`] of the engine that produced it (hex, 64 digits).
    pub compat: String,
}

/// Entries end in this; anything else in the directory is not an entry.
pub const ENTRY_SUFFIX: &str = ".artefact";

impl EntryKey {
    /// The key of `sha256` at `tier` for `engine`.
    pub fn new(engine: &wasmtime::Engine, sha256: &str, tier: Tier) -> Self {
        Self {
            sha256: sha256.to_ascii_lowercase(),
            tier,
            compat: compatibility(engine),
        }
    }

    /// `<sha256>-<tier>-<first 16 digits of compat>.artefact`: the prefix up
    /// to the tier finds the entries of the same component and tier made by
    /// other engines (stale ones), the rest tells them apart.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}{ENTRY_SUFFIX}",
            self.sha256,
            self.tier.as_str(),
            &self.compat[..16]
        )
    }

    /// The name prefix shared by every engine's entry of this component and tier.
    pub fn stem(&self) -> String {
        format!("{}-{}-", self.sha256, self.tier.as_str())
    }
}

/// Feeds `Hash` output into SHA-256, so the compatibility hash is the same
/// in every process (std's `DefaultHasher` gives no such promise).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Never called: the digest is taken with `finalize`.
        0
    }
}

/// `Engine::precompile_compatibility_hash` as 64 hex digits: it covers the
/// target, compiler flags, tunables, enabled features and wasmtime's own
/// version, everything that decides whether compiled code fits this engine.
pub fn compatibility(engine: &wasmtime::Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(hasher.0.finalize())
}

/// Parses an entry's file name back into (sha256, tier, compat prefix).
pub fn parse_file_name(name: &str) -> Option<(String, Tier, String)> {
    let stem = name.strip_suffix(ENTRY_SUFFIX)?;
    let mut parts = stem.splitn(3, '-');
    let sha = parts.next()?;
    let tier = parts.next()?;
    let compat = parts.next()?;
    let tier = Tier::ALL.into_iter().find(|t| t.as_str() == tier)?;
    let hex64 = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
    (hex64 && compat.len() == 16).then(|| (sha.to_owned(), tier, compat.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_16_the_compatibility_hash_is_stable_and_follows_engine_settings() {
        let a = crate::engine::new_engine().unwrap();
        let b = crate::engine::new_engine().unwrap();
        assert_eq!(compatibility(&a), compatibility(&b), "same settings");
        let mut other = wasmtime::Config::new();
        other.wasm_component_model(true).consume_fuel(false);
        let other = wasmtime::Engine::new(&other).unwrap();
        assert_ne!(compatibility(&a), compatibility(&other), "other settings");
    }

    #[test]
    fn issue_16_entry_names_parse_back() {
        let key = EntryKey {
            sha256: "ab".repeat(32),
            tier: Tier::Baseline,
            compat: "cd".repeat(32),
        };
        let (sha, tier, compat) = parse_file_name(&key.file_name()).unwrap();
        assert_eq!((sha.as_str(), tier), (key.sha256.as_str(), Tier::Baseline));
        assert_eq!(compat, &key.compat[..16]);
        assert!(key.file_name().starts_with(&key.stem()));
        assert_eq!(parse_file_name("key"), None);
        assert_eq!(parse_file_name(".tmp-1-2.artefact"), None);
    }
}
