//! The config's shape: one struct per TOML section, each with documented
//! defaults (from `defaults.rs`) and no unknown keys. The whole file and
//! `[runtime]`/`[hot_reload]` here; the other sections one file per concern.

mod limits;
mod market;
mod ops;
mod strategy;

pub use limits::{LimitsOverride, LimitsSection};
pub use market::{
    BadRowPolicy, BracketTie, BrokerKind, BrokerSection, FeedKind, FeedSection, RiskSection,
    SymbolSection,
};
pub use ops::{FleetSection, OpsSection, OpsToken};
pub use strategy::StrategyConfig;

use super::defaults as d;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The runtime's whole configuration, as read from TOML.
///
/// Every section and key may be left out and then takes its default; an
/// empty file is a valid dev config with no strategies.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `dev` allows `skip_hash_verification`; `prod` never does. Default `dev`.
    pub profile: Profile,
    /// `[runtime]`: the strategies directory, history and journal.
    pub runtime: RuntimeSection,
    /// `[hot_reload]`: watching, debounce, hash checks and rollback.
    pub hot_reload: HotReloadSection,
    /// `[limits]`: every strategy's fuel, deadline, memory and size caps,
    /// unless its `[strategy.limits]` overrides them.
    pub limits: LimitsSection,
    /// `[feed]`: the bar source and its symbols.
    pub feed: FeedSection,
    /// `[broker]`: the paper broker's cash, commission and slippage.
    pub broker: BrokerSection,
    /// `[risk]`: the rules every strategy trades under, unless its
    /// `[strategy.risk]` overrides them. Empty by default (nothing enforced).
    pub risk: RiskSection,
    /// `[symbols.NAME]`: per-symbol tick and lot sizes, for symbols of
    /// `feed.symbols`. Empty by default (no constraint).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub symbols: BTreeMap<String, SymbolSection>,
    /// `[ops]`: the HTTP API of `runtime live`.
    pub ops: OpsSection,
    /// `[fleet]`: join a fleet on NATS JetStream (desired deployments,
    /// artefacts, heartbeats, events). Left out: no fleet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetSection>,
    /// The `[[strategy]]` tables, in file order.
    #[serde(rename = "strategy", skip_serializing_if = "Vec::is_empty")]
    pub strategies: Vec<StrategyConfig>,
    /// The file this config came from; `None` for the embedded default and
    /// for configs built in code (relative paths then resolve against the
    /// current directory).
    #[serde(skip)]
    pub(crate) origin: Option<PathBuf>,
    /// Where each `[strategy.params]` value is written, for
    /// [`Config::param_error`]; equal for any two configs.
    #[serde(skip)]
    pub(crate) param_locations: super::param_location::ParamLocations,
}

/// `profile`: how strict the runtime is about what it loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Development: hash verification may be skipped.
    #[default]
    Dev,
    /// Production: every enabled strategy is pinned by `sha256` and verified.
    Prod,
}

impl Profile {
    /// The value as written in TOML: `"dev"` or `"prod"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Dev => "dev",
            Profile::Prod => "prod",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[runtime]`: where strategies come from and how much history is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeSection {
    /// Directory of loadable components, relative to the config file.
    /// Default `"strategies/dist"`. Only files inside it are loadable.
    pub strategies_dir: PathBuf,
    /// Bars kept per symbol for warm-up and smoke tests. Default 512, 1..=1_000_000.
    pub history_bars: usize,
    /// How long the bar loop polls for the next bar before it sleeps, in
    /// microseconds: a bar arriving within it skips the thread wake-up.
    /// Default 50, 0..=10_000; 0 sleeps at once (no CPU spent waiting).
    pub loop_spin_us: u64,
    /// Directory for the run journal, relative to the config file. Default: none (no journal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_dir: Option<PathBuf>,
    /// Directory of the artefact cache (compiled components kept across
    /// restarts), relative to the config file. Default:
    /// `$XDG_CACHE_HOME/sandbar`, else `~/.cache/sandbar`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    /// Size cap of the artefact cache, in MiB; least recently used entries
    /// are evicted first. 0 turns the cache off. Default 1024, at most 1_048_576.
    pub cache_max_mb: u64,
}

impl Default for RuntimeSection {
    fn default() -> Self {
        Self {
            strategies_dir: PathBuf::from(d::STRATEGIES_DIR),
            history_bars: d::HISTORY_BARS,
            loop_spin_us: d::LOOP_SPIN_US,
            journal_dir: None,
            cache_dir: None,
            cache_max_mb: d::CACHE_MAX_MB,
        }
    }
}

/// `[hot_reload]`: watching `strategies_dir` and swapping versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotReloadSection {
    /// Watch `strategies_dir` and reload changed components. Default true.
    pub enabled: bool,
    /// Quiet time after the last file event before reloading, in ms. Default 200, at most 60_000.
    pub debounce_ms: u64,
    /// Load components without checking `sha256` (dev profile only). Default false.
    pub skip_hash_verification: bool,
    /// Versions kept per strategy for rollback, the running one included. Default 5, at least 1.
    pub keep_versions: usize,
    /// Traps of a freshly swapped-in version before it is rolled back. Default 3, at least 1.
    pub rollback_after_traps: u32,
    /// The window, in feed bars, over which traps of one build are counted:
    /// `rollback_after_traps` traps within it roll the build back even with
    /// good bars between them. Default 1000, at least 1.
    pub trap_window_bars: u64,
    /// How a new build goes live: `auto` (Winch's baseline code first, then
    /// Cranelift's optimised code at a bar boundary) or `optimized`
    /// (Cranelift only). Left out: the profile's default
    /// ([`Config::tiering`](super::Config::tiering)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiering: Option<crate::load::Tiering>,
}

impl Default for HotReloadSection {
    fn default() -> Self {
        Self {
            enabled: d::HOT_RELOAD_ENABLED,
            debounce_ms: d::DEBOUNCE_MS,
            skip_hash_verification: d::SKIP_HASH_VERIFICATION,
            keep_versions: d::KEEP_VERSIONS,
            rollback_after_traps: d::ROLLBACK_AFTER_TRAPS,
            trap_window_bars: d::TRAP_WINDOW_BARS,
            tiering: None,
        }
    }
}
