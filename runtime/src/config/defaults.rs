//! Every default value of the config, in one place. `config/README.md`
//! documents each of them; the section `Default` impls and the embedded demo
//! config use them.

mod embedded;

pub use embedded::EMBEDDED_DEFAULT_TOML;

/// Where `[[strategy]] wasm` files live, relative to the config file.
pub const STRATEGIES_DIR: &str = "strategies/dist";
/// Bars kept per symbol for warm-up and smoke tests.
pub const HISTORY_BARS: usize = 512;
/// The most `runtime.history_bars` may be.
pub const MAX_HISTORY_BARS: usize = 1_000_000;
/// `runtime.loop_spin_us`: how long the bar loop polls for the next bar
/// before it sleeps, in microseconds. Waking a sleeping thread costs 4–30 µs
/// on a virtual machine (a futex wake and often an idle vCPU's wake-up), ten
/// times the loop's own work on a bar; a bar that arrives within the spin is
/// taken in under a microsecond (BENCHMARKS.md, "Latency under reload").
pub const LOOP_SPIN_US: u64 = 50;
/// The most `runtime.loop_spin_us` may be (10 ms: past it a sleeping loop
/// costs less than the CPU the spin burns).
pub const MAX_LOOP_SPIN_US: u64 = 10_000;
/// `runtime.cache_max_mb`: the artefact cache's size cap, in MiB. A compiled
/// example strategy is about 1 MiB, the 1.4 MB test component about 6 MiB.
pub const CACHE_MAX_MB: u64 = 1024;
/// The most `runtime.cache_max_mb` may be (1 TiB).
pub const MAX_CACHE_MAX_MB: u64 = 1 << 20;

/// `hot_reload.enabled`: watch `strategies_dir` and reload changed components.
pub const HOT_RELOAD_ENABLED: bool = true;
/// `hot_reload.debounce_ms`: quiet time after the last file event before
/// reloading, in ms (an editor's save is several events).
pub const DEBOUNCE_MS: u64 = 200;
/// The most `hot_reload.debounce_ms` may be (one minute).
pub const MAX_DEBOUNCE_MS: u64 = 60_000;
/// `hot_reload.skip_hash_verification`: off, so `sha256` pins are checked.
pub const SKIP_HASH_VERIFICATION: bool = false;
/// `hot_reload.keep_versions`: versions kept per strategy for rollback, the
/// running one included.
pub const KEEP_VERSIONS: usize = 5;
/// `hot_reload.rollback_after_traps`: traps of a freshly swapped-in version
/// before it is rolled back to the previous one.
pub const ROLLBACK_AFTER_TRAPS: u32 = 3;
/// Traps are counted over this many feed bars (see `hot_reload.trap_window_bars`).
pub const TRAP_WINDOW_BARS: u64 = 1000;
/// `hot_reload.tiering` in the dev profile: baseline code first, so an
/// edit is live in milliseconds on any machine (BENCHMARKS.md, "Tiers").
pub const TIERING_DEV: crate::load::Tiering = crate::load::Tiering::Auto;
/// `hot_reload.tiering` in the prod profile (BENCHMARKS.md, "Tiers").
pub const TIERING_PROD: crate::load::Tiering = crate::load::Tiering::Auto;

/// `limits.fuel_per_bar`: fuel (about one per Wasm instruction) per call,
/// refilled before every call.
pub const FUEL_PER_BAR: u64 = 5_000_000;
/// Generous on purpose: fuel is the deterministic CPU bound; the deadline
/// is a watchdog, and a busy machine can pause any thread for milliseconds.
pub const DEADLINE_US: u64 = 50_000;
/// The most `limits.deadline_us` may be (one minute).
pub const MAX_DEADLINE_US: u64 = 60_000_000;
/// `limits.memory_mb`: linear memory cap per instance, in MiB.
pub const MEMORY_MB: u64 = 64;
/// wasm32 linear memory cannot grow past 4 GiB.
pub const MAX_MEMORY_MB: u64 = 4096;
/// `limits.max_orders_per_bar`: orders one `on-bar` may return; more refuse
/// the whole result.
pub const MAX_ORDERS_PER_BAR: usize = 64;
/// `limits.max_snapshot_kb`: the largest snapshot carried across a swap, in
/// KiB (4 MiB).
pub const MAX_SNAPSHOT_KB: u64 = 4096;
/// `limits.max_component_mb`: the largest component file read, in MiB.
pub const MAX_COMPONENT_MB: u64 = 32;
/// `limits.state_deadline_us`: wall-clock bound of `snapshot` and `restore`
/// on the bar loop. 20 ms: a snapshot at the default 4 MiB cap serializes in
/// a few ms, leaving headroom for a loaded machine, while a slow one stalls
/// the loop for at most 2/5 of one default `on-bar` deadline (it was 1 s).
pub const STATE_DEADLINE_US: u64 = 20_000;
/// The most `limits.state_deadline_us` may be (one second, the old bound).
pub const MAX_STATE_DEADLINE_US: u64 = 1_000_000;
/// `limits.log_bytes_per_call`: log bytes (after escaping) one guest call may
/// write; eight full 1 KiB lines.
pub const LOG_BYTES_PER_CALL: u64 = 8 << 10;
/// The most `limits.log_bytes_per_call` may be (1 MiB).
pub const MAX_LOG_BYTES_PER_CALL: u64 = 1 << 20;
/// `limits.log_bytes_per_sec`: log bytes one strategy instance may write per
/// second (64 KiB: 5.5 GB a day at most, even from a flood).
pub const LOG_BYTES_PER_SEC: u64 = 64 << 10;

/// `limits.instances`: core instances per store. A Rust strategy is one
/// core instance (two with a shim); 8 leaves room without letting a
/// component multiply itself.
pub const INSTANCES: usize = 8;
/// `limits.tables`: tables per store.
pub const TABLES: usize = 8;
/// `limits.memories`: linear memories per store.
pub const MEMORIES: usize = 4;
/// The most `limits.instances`, `limits.tables` and `limits.memories` may
/// be: the engine's pool holds 512 of each for every store at once.
pub const MAX_STORE_ITEMS: usize = 256;

/// The defaults of `[limits.python]`, over `[limits]`, for a
/// `language = "python"` strategy (componentize-py 0.25.1, CPython 3.14).
/// Measured (BENCHMARKS.md, "Python and JavaScript strategies"): 38 core
/// instances; an sma-cross `on_bar` costs up to 200,396 fuel (the Rust one
/// 6,666) and its costliest lifecycle call 1.6 M, so 500 M leaves room for
/// real work in Python while the deadline still bounds the wall time.
pub const PYTHON_LIMITS: crate::config::LimitsOverride = crate::config::LimitsOverride {
    fuel_per_bar: Some(500_000_000),
    deadline_us: None,
    memory_mb: Some(256),
    max_orders_per_bar: None,
    max_snapshot_kb: None,
    instances: Some(64),
    tables: Some(32),
    memories: Some(16),
};

/// The defaults of `[limits.js]`, over `[limits]`, for a `language = "js"`
/// strategy (componentize-js 0.23.0, StarlingMonkey). Measured
/// (BENCHMARKS.md, "Python and JavaScript strategies"): 5 core instances;
/// sma-cross-js's `onBar` costs up to 564,553 fuel in `runtime check` (the
/// Rust one 6,666) and its costliest call 43 M (the first calls run
/// SpiderMonkey's lazy parse of the modules' functions), so 200 M leaves
/// room while the deadline still bounds the wall time.
pub const JS_LIMITS: crate::config::LimitsOverride = crate::config::LimitsOverride {
    fuel_per_bar: Some(200_000_000),
    deadline_us: None,
    memory_mb: Some(256),
    max_orders_per_bar: None,
    max_snapshot_kb: None,
    instances: Some(32),
    tables: Some(32),
    memories: Some(16),
};

/// `feed.symbols`: what the demo's synthetic feed produces.
pub const FEED_SYMBOLS: [&str; 2] = ["BTCUSD", "ETHUSD"];
/// `feed.interval_ms`: synthetic feed, time between bars in ms (one bar a
/// second per symbol).
pub const FEED_INTERVAL_MS: u64 = 1000;
/// `feed.seed`: synthetic feed, seed of the price paths.
pub const FEED_SEED: u64 = 42;
/// CSV replay pacing: 0 = as fast as the loop takes bars.
pub const FEED_SPEED: f64 = 0.0;
/// `feed.listen`: TCP feed address (validation accepts loopback addresses only).
pub const FEED_LISTEN: &str = "127.0.0.1:9100";

/// Where the ops API listens: loopback, a port of its own.
pub const OPS_LISTEN: &str = "127.0.0.1:9190";
/// Shortest accepted ops token, so a guessable word is refused.
pub const OPS_MIN_TOKEN_LEN: usize = 16;
/// `ops.max_connections`: plenty for people, scripts and a scraper, few
/// enough that the descriptors they hold never starve the runtime.
pub const OPS_MAX_CONNECTIONS: usize = 256;
/// `ops.max_event_streams`: `/events` subscribers at once.
pub const OPS_MAX_EVENT_STREAMS: usize = 32;
/// `ops.header_timeout_ms`: time to send a request head (slowloris bound).
pub const OPS_HEADER_TIMEOUT_MS: u64 = 10_000;
/// `ops.idle_timeout_ms`: a connection with no traffic either way is closed.
pub const OPS_IDLE_TIMEOUT_MS: u64 = 60_000;
/// The event streams' keep-alive interval, which `ops.idle_timeout_ms` must exceed.
pub const OPS_EVENTS_KEEP_ALIVE_MS: u64 = 15_000;
/// `ops.actions_per_second`: far above what a person does, far below a
/// flood (1,500 a second grew the journal by 59 MB in 2 minutes).
pub const OPS_ACTIONS_PER_SECOND: u32 = 10;
/// `ops.action_burst`: actions allowed at once above the steady rate.
pub const OPS_ACTION_BURST: u32 = 30;

/// `fleet.url`: a NATS server on this machine.
pub const FLEET_URL: &str = "nats://127.0.0.1:4222";
/// `fleet.fleet`: the namespace when there is only one fleet.
pub const FLEET_NAMESPACE: &str = "default";
/// `fleet.heartbeat_ms`: often enough that `runtime fleet status` is a few
/// seconds fresh, rarely enough to cost nothing.
pub const FLEET_HEARTBEAT_MS: u64 = 2_000;
/// Bounds of `fleet.heartbeat_ms`.
pub const FLEET_MIN_HEARTBEAT_MS: u64 = 50;
/// Upper bound of `fleet.heartbeat_ms`.
pub const FLEET_MAX_HEARTBEAT_MS: u64 = 60_000;
/// `fleet.state_file`: beside the config.
pub const FLEET_STATE_FILE: &str = "fleet-state.json";

/// `broker.starting_cash`: paper cash at start, in quote currency.
pub const STARTING_CASH: f64 = 100_000.0;
/// `broker.commission`: a fraction of notional (0.001 = 0.1 %, 10 bp).
pub const COMMISSION: f64 = 0.001;
/// `broker.slippage_bps`: none, so fills are at the open or the limit.
pub const SLIPPAGE_BPS: f64 = 0.0;

/// `risk.allow_short`: shorting allowed, as before the rule existed, so
/// configs written then keep trading the same way.
pub const ALLOW_SHORT: bool = true;

/// `[strategy.deploy] swap_timeout_s`: a waiting swap is cancelled after an hour.
pub const SWAP_TIMEOUT_S: u64 = 3600;
/// `[strategy.deploy] promote_after_bars`: shadow bars before a candidate is judged.
pub const PROMOTE_AFTER_BARS: u64 = 500;
/// `[strategy.deploy] min_agreement_pct`: bars whose orders must agree, in percent.
pub const MIN_AGREEMENT_PCT: f64 = 95.0;
/// `[strategy.deploy] pnl_tolerance_pct`: shadow PnL within this percent of
/// `broker.starting_cash` of the live PnL also qualifies.
pub const PNL_TOLERANCE_PCT: f64 = 1.0;
/// `[strategy.deploy] discard_after_bars`: a candidate not qualified by then is discarded.
pub const DISCARD_AFTER_BARS: u64 = 2000;

/// Shown in messages about the embedded default, which has no file.
pub const EMBEDDED_ORIGIN: &str = "<embedded default config>";
