//! One `[[strategy]]` table (its `[strategy.limits]` override lives with `[limits]` in the limits module).

use super::limits::LimitsOverride;
use super::market::RiskSection;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One `[[strategy]]` table: a component and how to run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Unique name: lowercase letters, digits, `-` and `_`. Required.
    pub id: String,
    /// Component file, relative to `runtime.strategies_dir`, ending in `.wasm`. Required.
    pub wasm: PathBuf,
    /// Expected SHA-256 of the file (64 hex digits); required for enabled strategies in prod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Symbols this strategy trades, each in `feed.symbols`. Left out: every
    /// feed symbol (filled in by [`Config::parse`], so it is never empty after parsing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symbols: Vec<String>,
    /// Run it. Default true; a disabled strategy is checked but not loaded.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// `[strategy.params]`: integers, floats, booleans and strings passed to `init`.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub params: toml::Table,
    /// `[strategy.limits]`: this strategy's own values for any `[limits]` key
    /// except the global-only ones (`max_component_mb`, `state_deadline_us`,
    /// `log_bytes_per_call`, `log_bytes_per_sec`); the rest come from `[limits]`.
    #[serde(default, skip_serializing_if = "LimitsOverride::is_empty")]
    pub limits: LimitsOverride,
    /// `[strategy.risk]`: this strategy's own values for any `[risk]` key.
    #[serde(default, skip_serializing_if = "RiskSection::is_empty")]
    pub risk: RiskSection,
    /// `[strategy.deploy]`: shadow deployments and the swap policy (see
    /// `config/deploy.rs`); the defaults swap at the next bar, as before.
    #[serde(
        default,
        skip_serializing_if = "crate::config::deploy::DeploySection::is_default"
    )]
    pub deploy: crate::config::deploy::DeploySection,
    /// What the strategy is written in: `"rust"` (default), `"python"` or
    /// `"js"`. Picks the limits' defaults (`[limits.python]`, `[limits.js]`).
    #[serde(default, skip_serializing_if = "is_rust")]
    pub language: crate::Language,
}

fn is_rust(language: &crate::Language) -> bool {
    *language == crate::Language::Rust
}

fn default_true() -> bool {
    true
}

impl StrategyConfig {
    /// A strategy with only the required keys set.
    pub fn new(id: impl Into<String>, wasm: impl Into<PathBuf>) -> Self {
        Self {
            id: id.into(),
            wasm: wasm.into(),
            sha256: None,
            symbols: Vec::new(),
            enabled: true,
            params: toml::Table::new(),
            limits: LimitsOverride::default(),
            risk: RiskSection::default(),
            deploy: crate::config::deploy::DeploySection::default(),
            language: crate::Language::Rust,
        }
    }

    /// The parameters as the contract's values, sorted by name.
    pub fn params(&self) -> Result<Vec<crate::contract::Param>, String> {
        let mut params = self
            .params
            .iter()
            .map(|(name, value)| crate::param_from_toml(name, value))
            .collect::<Result<Vec<_>, _>>()?;
        params.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(params)
    }
}
