//! The runtime's TOML config: what to load, how to run it, and how strict to
//! be about it. `config/README.md` documents every key.
//!
//! ```
//! use sandbar_runtime::config::{self, Config, Profile};
//! use std::path::Path;
//!
//! let text = r#"
//! [hot_reload]
//! skip_hash_verification = true
//!
//! [[strategy]]
//! id = "sma-fast"
//! wasm = "sma_cross.wasm"
//! symbols = ["BTCUSD"]
//! [strategy.params]
//! fast = 10
//! "#;
//! let config = Config::parse(text, Path::new("deploy/sandbar.toml"))?;
//! assert_eq!(config.profile, Profile::Dev);
//! let sma = config.strategy("sma-fast").unwrap();
//! assert_eq!(config.wasm_path(sma), Path::new("deploy/strategies/dist/sma_cross.wasm"));
//! assert!(!config.verify_hashes());
//!
//! // Errors say where, what and how to fix it.
//! let error = Config::parse("[hot_reload]\ndebounce_msec = 50\n", Path::new("sandbar.toml"))
//!     .unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "sandbar.toml:2:1: unknown key `debounce_msec` in [hot_reload]\n  hint: did you mean `debounce_ms`?"
//! );
//!
//! // What a reload would change.
//! let before = Config::embedded_default();
//! let changes = config::diff(&before, &config);
//! assert_eq!(changes.added, ["sma-fast"]);
//! # Ok::<(), config::ConfigError>(())
//! ```

// `ConfigError` is 128 bytes (its fields are the public API); config errors
// are rare and on a cold path, so they are not boxed.
#![allow(clippy::result_large_err)]

mod defaults;
mod deploy;
mod diff;
mod error;
pub(crate) mod introspect;
mod param_location;
mod parse;
mod schema;
mod source;
mod suggest;
mod validate;

pub use defaults::EMBEDDED_DEFAULT_TOML;
pub use deploy::{DeployMode, DeploySection, SwapWhen, SwapWindow};
pub use diff::{ConfigDiff, StrategyChange, diff};
pub use error::ConfigError;
pub use schema::{
    BadRowPolicy, BrokerKind, BrokerSection, Config, FeedKind, FeedSection, FleetSection,
    HotReloadSection, LimitsOverride, LimitsSection, OpsSection, OpsToken, Profile, RiskSection,
    RuntimeSection, StrategyConfig, SymbolSection,
};

use source::SourceMap;
use std::path::{Path, PathBuf};
pub(crate) use suggest::closest as suggest_closest;

impl Config {
    /// Reads, parses and validates a config file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let error = ConfigError::new(path, format!("cannot read the config file: {e}"));
            match e.kind() {
                std::io::ErrorKind::NotFound => error
                    .hint("check the path; a relative path is relative to the current directory"),
                std::io::ErrorKind::InvalidData => {
                    error.hint("the config must be UTF-8 text (TOML)")
                }
                _ => error,
            }
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text. `origin` is where it came from:
    /// messages name it, and relative directories resolve against its
    /// directory. Strategies without `symbols` get every feed symbol.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let (mut config, map) = parse::parse(text, origin)?;
        config.origin = Some(origin.to_owned());
        config.param_locations = param_location::ParamLocations::new(&config, &map);
        validate::validate(&config, &map)?;
        for i in 0..config.strategies.len() {
            if config.strategies[i].symbols.is_empty() {
                config.strategies[i].symbols = config.feed.symbols.clone();
            }
        }
        Ok(config)
    }

    /// The demo config ([`EMBEDDED_DEFAULT_TOML`]): dev profile, hash
    /// verification skipped, the three example strategies on both default
    /// symbols. Its relative paths resolve against the current directory.
    pub fn embedded_default() -> Config {
        let mut config = Self::parse(EMBEDDED_DEFAULT_TOML, Path::new(defaults::EMBEDDED_ORIGIN))
            .expect("the embedded default config is valid (a unit test checks it)");
        config.origin = None;
        config
    }

    /// Checks the rules of config/README.md again, for a config changed in
    /// code; errors then carry no line numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self, &SourceMap::default())
    }

    /// The file this config was read from; `None` for the embedded default
    /// and for configs built in code.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.as_deref()
    }

    /// `runtime.strategies_dir`, resolved against the config file's directory.
    pub fn strategies_dir(&self) -> PathBuf {
        self.resolve(&self.runtime.strategies_dir)
    }

    /// `runtime.journal_dir`, resolved like [`Config::strategies_dir`].
    pub fn journal_dir(&self) -> Option<PathBuf> {
        self.runtime.journal_dir.as_deref().map(|d| self.resolve(d))
    }

    /// `runtime.cache_dir`, resolved like [`Config::strategies_dir`]; left
    /// out, `$XDG_CACHE_HOME/sandbar` or `~/.cache/sandbar` (`None` when
    /// neither variable is set).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        match &self.runtime.cache_dir {
            Some(dir) => Some(self.resolve(dir)),
            None => crate::load::cache::default_dir(),
        }
    }

    /// Whether `runtime live` serves the ops API: `[ops] enabled`, or by
    /// default on in `dev` and off in `prod`.
    pub fn ops_enabled(&self) -> bool {
        self.ops.enabled.unwrap_or(self.profile == Profile::Dev)
    }

    /// `fleet.state_file`, resolved against the config's directory (`None` without `[fleet]`).
    pub fn fleet_state_file(&self) -> Option<PathBuf> {
        self.fleet.as_ref().map(|f| self.resolve(&f.state_file))
    }

    /// The CSV file `feed.path` names, resolved against the config's directory.
    pub fn feed_path(&self) -> Option<PathBuf> {
        self.feed.path.as_deref().map(|p| self.resolve(p))
    }

    /// Where a strategy's component is: `strategies_dir().join(wasm)`.
    pub fn wasm_path(&self, strategy: &StrategyConfig) -> PathBuf {
        self.strategies_dir().join(&strategy.wasm)
    }

    /// Whether loads check `sha256` (`!hot_reload.skip_hash_verification`;
    /// always true in prod, which validation enforces).
    /// The limits `strategy` runs under: its `[strategy.limits]` over the
    /// limits of its `language` (`LimitsSection::for_language`) over `[limits]`.
    pub fn limits_of(&self, strategy: &StrategyConfig) -> crate::Limits {
        strategy
            .limits
            .over(&self.limits.for_language(strategy.language))
            .to_limits()
    }

    /// The risk rules `strategy` trades under: its `[strategy.risk]` over
    /// `[risk]`, with the `[symbols.NAME]` of its symbols by index.
    pub fn risk_of(&self, strategy: &StrategyConfig) -> crate::risk::RiskRules {
        let mut rules = strategy.risk.over(&self.risk).to_rules();
        if !self.symbols.is_empty() {
            rules.symbols = self
                .symbols_of(strategy)
                .iter()
                .map(|name| {
                    self.symbols
                        .get(name)
                        .copied()
                        .unwrap_or_default()
                        .to_rules()
                })
                .collect();
        }
        rules
    }

    /// Whether loads check each component's `sha256` pin: true unless
    /// `hot_reload.skip_hash_verification` is set (which validation allows
    /// only in the `dev` profile).
    pub fn verify_hashes(&self) -> bool {
        !self.hot_reload.skip_hash_verification
    }

    /// `hot_reload.tiering`, or the profile's default when it is left out.
    pub fn tiering(&self) -> crate::load::Tiering {
        self.hot_reload.tiering.unwrap_or(match self.profile {
            Profile::Dev => defaults::TIERING_DEV,
            Profile::Prod => defaults::TIERING_PROD,
        })
    }

    /// The `[[strategy]]` with this id, enabled or not.
    pub fn strategy(&self, id: &str) -> Option<&StrategyConfig> {
        self.strategies.iter().find(|s| s.id == id)
    }

    /// The strategies to run.
    pub fn enabled_strategies(&self) -> impl Iterator<Item = &StrategyConfig> {
        self.strategies.iter().filter(|s| s.enabled)
    }

    /// The symbols a strategy trades: its own list, or every feed symbol
    /// when the list is empty (only possible for configs built in code).
    pub fn symbols_of<'a>(&'a self, strategy: &'a StrategyConfig) -> &'a [String] {
        if strategy.symbols.is_empty() {
            &self.feed.symbols
        } else {
            &strategy.symbols
        }
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        match self.origin.as_deref().and_then(Path::parent) {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_owned(),
        }
    }

    /// How messages name this config's file.
    pub(crate) fn message_path(&self) -> PathBuf {
        self.origin
            .clone()
            .unwrap_or_else(|| PathBuf::from("<config>"))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_language;
