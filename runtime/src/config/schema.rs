//! The config's shape: one struct per TOML section, each with documented
//! defaults (from `defaults.rs`) and no unknown keys.

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

/// `[limits]`: what one strategy instance may use. Maps onto [`crate::Limits`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Fuel (about one per Wasm instruction) per call, refilled before every call. Default 5_000_000.
    pub fuel_per_bar: u64,
    /// Wall-clock deadline per call, in microseconds (epoch interruption). Default 50_000.
    pub deadline_us: u64,
    /// Linear memory cap per instance, in MiB. Default 64, 1..=4096.
    pub memory_mb: u64,
    /// Orders one `on-bar` may return. Default 64.
    pub max_orders_per_bar: usize,
    /// Largest snapshot carried across a swap, in KiB. Default 4096.
    pub max_snapshot_kb: u64,
    /// Largest component file the runtime reads, in MiB. Default 32.
    pub max_component_mb: u64,
    /// Wall-clock deadline of `snapshot` and `restore` on the bar loop, in
    /// microseconds. Default 20_000.
    pub state_deadline_us: u64,
    /// Log bytes one guest call may write (after escaping). Default 8192.
    pub log_bytes_per_call: u64,
    /// Log bytes one strategy instance may write per second. Default 65_536.
    pub log_bytes_per_sec: u64,
    /// Core instances one store may hold. Default 8 (a Rust strategy needs 1 or 2).
    pub instances: usize,
    /// Tables one store may hold. Default 8.
    pub tables: usize,
    /// Linear memories one store may hold. Default 4.
    pub memories: usize,
    /// `[limits.python]`: what a `language = "python"` strategy runs under
    /// instead of the keys above; keys left out take the built-in Python
    /// defaults (`defaults::PYTHON_LIMITS`), then the keys above.
    #[serde(skip_serializing_if = "LimitsOverride::is_empty")]
    pub python: LimitsOverride,
    /// `[limits.js]`: the same for `language = "js"` (`defaults::JS_LIMITS`).
    #[serde(skip_serializing_if = "LimitsOverride::is_empty")]
    pub js: LimitsOverride,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            fuel_per_bar: d::FUEL_PER_BAR,
            deadline_us: d::DEADLINE_US,
            memory_mb: d::MEMORY_MB,
            max_orders_per_bar: d::MAX_ORDERS_PER_BAR,
            max_snapshot_kb: d::MAX_SNAPSHOT_KB,
            max_component_mb: d::MAX_COMPONENT_MB,
            state_deadline_us: d::STATE_DEADLINE_US,
            log_bytes_per_call: d::LOG_BYTES_PER_CALL,
            log_bytes_per_sec: d::LOG_BYTES_PER_SEC,
            instances: d::INSTANCES,
            tables: d::TABLES,
            memories: d::MEMORIES,
            python: LimitsOverride::default(),
            js: LimitsOverride::default(),
        }
    }
}

impl LimitsSection {
    /// The limits in the runtime's units (bytes). Sizes saturate rather than
    /// overflow; validation keeps them in range anyway.
    pub fn to_limits(&self) -> crate::Limits {
        crate::Limits {
            fuel_per_call: self.fuel_per_bar,
            deadline: std::time::Duration::from_micros(self.deadline_us),
            memory_bytes: usize::try_from(self.memory_mb.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX),
            max_orders_per_bar: self.max_orders_per_bar,
            max_snapshot_bytes: usize::try_from(self.max_snapshot_kb.saturating_mul(1 << 10))
                .unwrap_or(usize::MAX),
            max_component_bytes: self.max_component_mb.saturating_mul(1 << 20),
            state_deadline: std::time::Duration::from_micros(self.state_deadline_us),
            log_bytes_per_call: usize::try_from(self.log_bytes_per_call).unwrap_or(usize::MAX),
            log_bytes_per_sec: self.log_bytes_per_sec,
            instances: self.instances,
            tables: self.tables,
            memories: self.memories,
        }
    }

    /// What a strategy in `language` runs under before its own
    /// `[strategy.limits]`: `[limits.python]` (or `[limits.js]`) over the
    /// built-in defaults of that language, over these keys.
    pub fn for_language(&self, language: crate::Language) -> LimitsSection {
        let (user, builtin) = match language {
            crate::Language::Rust => return self.clone(),
            crate::Language::Python => (&self.python, d::PYTHON_LIMITS),
            crate::Language::Js => (&self.js, d::JS_LIMITS),
        };
        user.or(&builtin).over(self)
    }
}

/// `[feed]`: where bars come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedSection {
    /// The feed implementation. Default `"synthetic"`.
    pub kind: FeedKind,
    /// Symbols the feed produces; strategies trade a subset. Default `["BTCUSD", "ETHUSD"]`.
    pub symbols: Vec<String>,
    /// Synthetic feed: time between bars, in ms. Default 1000.
    pub interval_ms: u64,
    /// Synthetic feed: seed of the price paths; the same seed gives the same bars. Default 42.
    pub seed: u64,
    /// CSV feed: the file to replay, relative to the config file. Required for `kind = "csv"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// CSV feed: what a malformed row does: `"stop"` the feed (default) or `"skip"` it with a warning.
    pub on_bad_row: BadRowPolicy,
    /// CSV feed: pacing as a multiple of real time (60 = a minute of bars per
    /// second); 0 replays as fast as the loop takes them. Default 0.
    pub speed: f64,
    /// TCP feed: the loopback address to listen on for JSON lines. Default `"127.0.0.1:9100"`.
    pub listen: String,
}

impl Default for FeedSection {
    fn default() -> Self {
        Self {
            kind: FeedKind::default(),
            symbols: d::FEED_SYMBOLS.iter().map(|s| s.to_string()).collect(),
            interval_ms: d::FEED_INTERVAL_MS,
            seed: d::FEED_SEED,
            path: None,
            on_bad_row: BadRowPolicy::default(),
            speed: d::FEED_SPEED,
            listen: d::FEED_LISTEN.to_owned(),
        }
    }
}

/// `feed.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Seeded random-walk bars (`crate::feed::SyntheticFeed`).
    #[default]
    Synthetic,
    /// Replays an OHLCV CSV file (`crate::feed::csv`).
    Csv,
    /// JSON bars, one per line, from TCP clients on loopback (`crate::feed::lines`).
    Tcp,
    /// JSON bars, one per line, on standard input (`crate::feed::lines`).
    Stdin,
}

/// `feed.on_bad_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadRowPolicy {
    /// Stop at the first malformed row, naming file and line.
    #[default]
    Stop,
    /// Warn (file and line) and go on with the next row.
    Skip,
}

/// `[broker]`: where orders go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerSection {
    /// The broker implementation. Default `"paper"` (the only one so far).
    pub kind: BrokerKind,
    /// Cash at start, in quote currency. Default 100_000.0, greater than 0.
    pub starting_cash: f64,
    /// Commission as a fraction of notional (0.001 = 0.1 %). Default 0.001, at least 0.
    pub commission: f64,
    /// Slippage against the fill price, in basis points. Default 0.0, at least 0.
    pub slippage_bps: f64,
    /// Which fills first when one bar touches a stop and a limit of the
    /// same symbol (a bracket's stop-loss and take-profit). Default
    /// `"stop_first"` (the conservative assumption).
    pub bracket_tie: BracketTie,
}

/// `broker.bracket_tie`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BracketTie {
    /// The stop fills first: a bar that reaches both exits at the stop.
    #[default]
    StopFirst,
    /// The limit (target) fills first: the optimistic assumption.
    TargetFirst,
}

impl BracketTie {
    /// The paper broker's rule for it.
    pub fn rule(self) -> sandbar_guest::paper::TieRule {
        match self {
            BracketTie::StopFirst => sandbar_guest::paper::TieRule::StopFirst,
            BracketTie::TargetFirst => sandbar_guest::paper::TieRule::TargetFirst,
        }
    }
}

impl Default for BrokerSection {
    fn default() -> Self {
        Self {
            kind: BrokerKind::default(),
            starting_cash: d::STARTING_CASH,
            commission: d::COMMISSION,
            slippage_bps: d::SLIPPAGE_BPS,
            bracket_tie: BracketTie::default(),
        }
    }
}

/// `broker.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerKind {
    /// Simulated fills (`crate::broker`).
    #[default]
    Paper,
}

/// `[risk]`: checks between a strategy's orders and the broker. Every key is
/// optional; a key left out is a rule not enforced. `[strategy.risk]` takes
/// the same keys and overrides them for one strategy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskSection {
    /// Largest absolute position per symbol, counting orders not yet filled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_position: Option<f64>,
    /// Largest notional of one order (quantity × limit price, or × the last close for market orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_notional_per_order: Option<f64>,
    /// Most orders a strategy may send in any one-second window (bar time in
    /// backtests, wall-clock time live).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_orders_per_sec: Option<u32>,
    /// Kill switch: halt the strategy when its equity falls this many percent below its peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_drawdown_pct: Option<f64>,
    /// Largest gross exposure (every position once working orders fill, at
    /// its last close) over equity; 1.0 is a cash account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_leverage: Option<f64>,
    /// Largest gross exposure in account currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gross_exposure: Option<f64>,
    /// Whether sells may open or add to a short position; default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_short: Option<bool>,
}

impl RiskSection {
    /// No key set (no rule enforced); such a `[strategy.risk]` is left out
    /// when the config is written back.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These rules over `global`: a key set here wins.
    pub fn over(&self, global: &RiskSection) -> RiskSection {
        RiskSection {
            max_position: self.max_position.or(global.max_position),
            max_notional_per_order: self
                .max_notional_per_order
                .or(global.max_notional_per_order),
            max_orders_per_sec: self.max_orders_per_sec.or(global.max_orders_per_sec),
            max_drawdown_pct: self.max_drawdown_pct.or(global.max_drawdown_pct),
            max_leverage: self.max_leverage.or(global.max_leverage),
            max_gross_exposure: self.max_gross_exposure.or(global.max_gross_exposure),
            allow_short: self.allow_short.or(global.allow_short),
        }
    }

    /// The rules in the risk module's terms, without per-symbol ones
    /// ([`super::Config::risk_of`] adds those).
    pub fn to_rules(&self) -> crate::risk::RiskRules {
        crate::risk::RiskRules {
            max_position: self.max_position,
            max_notional_per_order: self.max_notional_per_order,
            max_orders_per_sec: self.max_orders_per_sec,
            max_drawdown_pct: self.max_drawdown_pct,
            max_leverage: self.max_leverage,
            max_gross_exposure: self.max_gross_exposure,
            allow_short: self.allow_short.unwrap_or(d::ALLOW_SHORT),
            symbols: Vec::new(),
        }
    }
}

/// `[symbols.NAME]`: one feed symbol's increments. Both keys optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SymbolSection {
    /// Price increment: limit and stop prices off it are rounded to it,
    /// away from a fill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick: Option<f64>,
    /// Quantity increment: quantities not a whole number of lots are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<f64>,
}

impl SymbolSection {
    /// In the risk module's terms.
    pub fn to_rules(self) -> crate::risk::SymbolRules {
        crate::risk::SymbolRules {
            tick: self.tick,
            lot: self.lot,
        }
    }
}

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
        skip_serializing_if = "super::deploy::DeploySection::is_default"
    )]
    pub deploy: super::deploy::DeploySection,
    /// What the strategy is written in: `"rust"` (default), `"python"` or
    /// `"js"`. Picks the limits' defaults (`[limits.python]`, `[limits.js]`).
    #[serde(default, skip_serializing_if = "is_rust")]
    pub language: crate::Language,
}

fn is_rust(language: &crate::Language) -> bool {
    *language == crate::Language::Rust
}

/// `[strategy.limits]`: per-strategy overrides of `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsOverride {
    /// This strategy's `limits.fuel_per_bar` (fuel per call); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_per_bar: Option<u64>,
    /// This strategy's `limits.deadline_us` (µs per call); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_us: Option<u64>,
    /// This strategy's `limits.memory_mb` (MiB); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// This strategy's `limits.max_orders_per_bar`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_orders_per_bar: Option<usize>,
    /// This strategy's `limits.max_snapshot_kb` (KiB); `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_snapshot_kb: Option<u64>,
    /// This strategy's `limits.instances`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<usize>,
    /// This strategy's `limits.tables`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<usize>,
    /// This strategy's `limits.memories`; `None` takes `[limits]`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memories: Option<usize>,
}

impl LimitsOverride {
    /// No key set: the strategy runs under `[limits]` as it is; such a
    /// `[strategy.limits]` is left out when the config is written back.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These overrides applied over `global`.
    pub fn over(&self, global: &LimitsSection) -> LimitsSection {
        LimitsSection {
            fuel_per_bar: self.fuel_per_bar.unwrap_or(global.fuel_per_bar),
            deadline_us: self.deadline_us.unwrap_or(global.deadline_us),
            memory_mb: self.memory_mb.unwrap_or(global.memory_mb),
            max_orders_per_bar: self.max_orders_per_bar.unwrap_or(global.max_orders_per_bar),
            max_snapshot_kb: self.max_snapshot_kb.unwrap_or(global.max_snapshot_kb),
            max_component_mb: global.max_component_mb,
            state_deadline_us: global.state_deadline_us,
            log_bytes_per_call: global.log_bytes_per_call,
            log_bytes_per_sec: global.log_bytes_per_sec,
            instances: self.instances.unwrap_or(global.instances),
            tables: self.tables.unwrap_or(global.tables),
            memories: self.memories.unwrap_or(global.memories),
            python: global.python.clone(),
            js: global.js.clone(),
        }
    }

    /// Each key of these overrides, else that of `fallback`.
    pub const fn or(&self, fallback: &LimitsOverride) -> LimitsOverride {
        const fn pick<T: Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
            match a {
                Some(v) => Some(v),
                None => b,
            }
        }
        LimitsOverride {
            fuel_per_bar: pick(self.fuel_per_bar, fallback.fuel_per_bar),
            deadline_us: pick(self.deadline_us, fallback.deadline_us),
            memory_mb: pick(self.memory_mb, fallback.memory_mb),
            max_orders_per_bar: pick(self.max_orders_per_bar, fallback.max_orders_per_bar),
            max_snapshot_kb: pick(self.max_snapshot_kb, fallback.max_snapshot_kb),
            instances: pick(self.instances, fallback.instances),
            tables: pick(self.tables, fallback.tables),
            memories: pick(self.memories, fallback.memories),
        }
    }
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
            deploy: super::deploy::DeploySection::default(),
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

/// `[ops]`: the HTTP API inside `runtime live` (status, metrics, events,
/// control). See config/README.md, section `[ops]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsSection {
    /// Serve the ops API. Default: on in `dev`, off in `prod` (where turning
    /// it on requires a token). Use [`Config::ops_enabled`] for the effective value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `host:port` to listen on. Default `"127.0.0.1:9190"`; a non-loopback
    /// address requires at least one token.
    pub listen: String,
    /// `[[ops.tokens]]`: who may call the API. With none, control is open to
    /// local callers (dev only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<OpsToken>,
    /// Connections served at once; one more is answered `503` and closed
    /// at once. Never more than the open-file limit leaves after a reserve
    /// for the runtime's own files (the log says the effective number).
    pub max_connections: usize,
    /// `/events` streams open at once (each holds a connection); fewer than
    /// `max_connections`, so control and status always find a connection.
    pub max_event_streams: usize,
    /// A connection must send a whole request head within this many ms of
    /// the server waiting for one (a new connection, or a kept-alive one
    /// after its last answer); slow or silent clients are closed.
    pub header_timeout_ms: u64,
    /// A connection on which no byte moves either way for this many ms is
    /// closed, even in the middle of an answer (a client that stopped
    /// reading). Above the event streams' 15 s keep-alive.
    pub idle_timeout_ms: u64,
    /// Control actions carried out per second, over every caller; more are
    /// answered `429` with `Retry-After` and not audited one by one.
    pub actions_per_second: u32,
    /// Control actions allowed in one burst above `actions_per_second`.
    pub action_burst: u32,
    /// With tokens configured, reads (`/status`, `/metrics`, `/events`) on a
    /// loopback `listen` need a token too. Off: anonymous loopback reads
    /// see no pid and no absolute paths.
    pub loopback_reads_need_token: bool,
}

impl Default for OpsSection {
    fn default() -> Self {
        Self {
            enabled: None,
            listen: d::OPS_LISTEN.to_owned(),
            tokens: Vec::new(),
            max_connections: d::OPS_MAX_CONNECTIONS,
            max_event_streams: d::OPS_MAX_EVENT_STREAMS,
            header_timeout_ms: d::OPS_HEADER_TIMEOUT_MS,
            idle_timeout_ms: d::OPS_IDLE_TIMEOUT_MS,
            actions_per_second: d::OPS_ACTIONS_PER_SECOND,
            action_burst: d::OPS_ACTION_BURST,
            loopback_reads_need_token: false,
        }
    }
}

/// One `[[ops.tokens]]` entry: a bearer token and the name the audit trail
/// records for it. The secret comes from the file (`token`) or, better, from
/// an environment variable (`token_env`).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsToken {
    /// Who holds it, for the audit trail (`api:<name>`).
    pub name: String,
    /// The secret itself (at least 16 characters). Never serialized or printed.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "redact")]
    pub token: Option<String>,
    /// The environment variable holding the secret, read at start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
}

fn redact<S: serde::Serializer>(_: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<redacted>")
}

// Secrets stay out of logs and panics.
impl std::fmt::Debug for OpsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsToken")
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_env", &self.token_env)
            .finish()
    }
}

impl OpsToken {
    /// The secret: the literal `token`, or the value of `token_env` now.
    pub fn secret(&self) -> Result<String, String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let Some(var) = &self.token_env else {
            return Err(format!(
                "ops token `{}` has neither `token` nor `token_env`",
                self.name
            ));
        };
        match std::env::var(var) {
            Ok(value) if value.len() >= d::OPS_MIN_TOKEN_LEN => Ok(value),
            Ok(value) if value.is_empty() => Err(format!(
                "ops token `{}`: the environment variable {var} is empty",
                self.name
            )),
            Ok(_) => Err(format!(
                "ops token `{}`: the environment variable {var} holds fewer than {} characters",
                self.name,
                d::OPS_MIN_TOKEN_LEN
            )),
            Err(_) => Err(format!(
                "ops token `{}`: the environment variable {var} is not set",
                self.name
            )),
        }
    }
}

/// `[fleet]`: this node's place in a fleet on NATS JetStream (a 2.9 server
/// or newer). See config/README.md, section `[fleet]`. Credentials come
/// from environment variables named here, read at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetSection {
    /// The NATS server, e.g. `"nats://127.0.0.1:4222"`. Default that.
    pub url: String,
    /// This node's name: lowercase letters, digits, `-` and `_`. Required.
    pub node: String,
    /// The fleet's namespace (the first part of every key and subject). Default `"default"`.
    pub fleet: String,
    /// Labels a deployment can select nodes by (`--nodes label:KEY=VALUE`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The environment variable holding the NATS user name (with `password_env`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_env: Option<String>,
    /// The environment variable holding the NATS password (with `user_env`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The environment variable holding an nkey seed (`SU...`), instead of a user and password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nkey_seed_env: Option<String>,
    /// How often the node writes its heartbeat to `sandbar-nodes`, in ms.
    /// Default 2000, 50..=60_000; a node silent for three intervals (at
    /// least 10 s) drops out of `sandbar-nodes`.
    pub heartbeat_ms: u64,
    /// Where the node keeps its last applied deployments and revision, so it
    /// starts from them when NATS is unreachable; relative to the config
    /// file. Default `"fleet-state.json"`.
    pub state_file: PathBuf,
}

impl Default for FleetSection {
    fn default() -> Self {
        Self {
            url: d::FLEET_URL.to_owned(),
            node: String::new(),
            fleet: d::FLEET_NAMESPACE.to_owned(),
            labels: BTreeMap::new(),
            user_env: None,
            password_env: None,
            nkey_seed_env: None,
            heartbeat_ms: d::FLEET_HEARTBEAT_MS,
            state_file: PathBuf::from(d::FLEET_STATE_FILE),
        }
    }
}

impl FleetSection {
    /// Whether the section names credentials (a user and password, or an nkey seed).
    pub fn has_credentials(&self) -> bool {
        self.nkey_seed_env.is_some() || (self.user_env.is_some() && self.password_env.is_some())
    }
}
