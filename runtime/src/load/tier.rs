//! Which compiler produced a component's machine code.
//!
//! A new build can go live first on Winch's baseline code (fast to compile,
//! slower to run) and be replaced by Cranelift's optimised code once the
//! compile pool has it. The tier is part of everything that names compiled
//! code: the in-memory compile cache, the on-disk artefact cache key, events,
//! status and metrics.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The compiler tier of a compiled component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Winch: a single-pass baseline compiler.
    Baseline,
    /// Cranelift: the optimising compiler.
    Optimized,
}

impl Tier {
    /// Both tiers, baseline first.
    pub const ALL: [Tier; 2] = [Tier::Baseline, Tier::Optimized];

    /// The name used in config, events, status, metrics labels and cache keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Baseline => "baseline",
            Tier::Optimized => "optimized",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_names_round_trip_through_serde() {
        for tier in Tier::ALL {
            let json = serde_json::to_string(&tier).unwrap();
            assert_eq!(json, format!("\"{}\"", tier.as_str()));
            let back: Tier = serde_json::from_str(&json).unwrap();
            assert_eq!(back, tier);
        }
    }
}
