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

pub const HOT_RELOAD_ENABLED: bool = true;
pub const DEBOUNCE_MS: u64 = 200;
/// The most `hot_reload.debounce_ms` may be (one minute).
pub const MAX_DEBOUNCE_MS: u64 = 60_000;
pub const SKIP_HASH_VERIFICATION: bool = false;
pub const KEEP_VERSIONS: usize = 5;
pub const ROLLBACK_AFTER_TRAPS: u32 = 3;
/// Traps are counted over this many feed bars (see `hot_reload.trap_window_bars`).
pub const TRAP_WINDOW_BARS: u64 = 1000;

pub const FUEL_PER_BAR: u64 = 5_000_000;
/// Generous on purpose: fuel is the deterministic CPU bound; the deadline
/// is a watchdog, and a busy machine can pause any thread for milliseconds.
pub const DEADLINE_US: u64 = 50_000;
/// The most `limits.deadline_us` may be (one minute).
pub const MAX_DEADLINE_US: u64 = 60_000_000;
pub const MEMORY_MB: u64 = 64;
/// wasm32 linear memory cannot grow past 4 GiB.
pub const MAX_MEMORY_MB: u64 = 4096;
pub const MAX_ORDERS_PER_BAR: usize = 64;
pub const MAX_SNAPSHOT_KB: u64 = 4096;
pub const MAX_COMPONENT_MB: u64 = 32;

pub const FEED_SYMBOLS: [&str; 2] = ["BTCUSD", "ETHUSD"];
pub const FEED_INTERVAL_MS: u64 = 1000;
pub const FEED_SEED: u64 = 42;
/// CSV replay pacing: 0 = as fast as the loop takes bars.
pub const FEED_SPEED: f64 = 0.0;
pub const FEED_LISTEN: &str = "127.0.0.1:9100";

/// Where the ops API listens: loopback, a port of its own.
pub const OPS_LISTEN: &str = "127.0.0.1:9190";
/// Shortest accepted ops token, so a guessable word is refused.
pub const OPS_MIN_TOKEN_LEN: usize = 16;

pub const STARTING_CASH: f64 = 100_000.0;
pub const COMMISSION: f64 = 0.001;
pub const SLIPPAGE_BPS: f64 = 0.0;

/// Shown in messages about the embedded default, which has no file.
pub const EMBEDDED_ORIGIN: &str = "<embedded default config>";
