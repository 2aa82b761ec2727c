//! The demo config the runtime uses when it is given no config file. Print it
//! (`EMBEDDED_DEFAULT_TOML`) to start a config of your own.

/// The embedded demo config: the three example strategies on the synthetic
/// feed, paper broker, dev profile with hash verification skipped so freshly
/// built components load without pinning. Every other value is the default.
pub const EMBEDDED_DEFAULT_TOML: &str = r#"# Sandbar demo config (the runtime's embedded default).
# Every key is documented in config/README.md; keys left out take their defaults.

# "dev" may skip hash verification; "prod" never does and needs a sha256 per strategy.
profile = "dev"

[runtime]
strategies_dir = "strategies/dist"   # relative to this file; only files inside are loadable
history_bars = 512                   # bars kept per symbol for warm-up and smoke tests

[hot_reload]
enabled = true
debounce_ms = 200
skip_hash_verification = true        # dev only: load whatever is built
keep_versions = 5                    # rollback history per strategy
rollback_after_traps = 3
trap_window_bars = 1000              # traps of one build counted over this many bars

[limits]                             # per strategy instance
fuel_per_bar = 5_000_000             # deterministic CPU budget per call
deadline_us = 50_000                 # wall-clock watchdog per call
memory_mb = 64
max_orders_per_bar = 64
max_snapshot_kb = 4096
max_component_mb = 32

[feed]
kind = "synthetic"
symbols = ["BTCUSD", "ETHUSD"]
interval_ms = 250                    # a bar per symbol every 250 ms: trades show within seconds
seed = 42

[ops]                                # HTTP API: `runtime status`, `runtime events`, `runtime rollback <id>`
enabled = true
listen = "127.0.0.1:9190"            # loopback; no token needed in dev

[broker]
kind = "paper"                       # fills market orders at the next bar's open
starting_cash = 100_000.0
commission = 0.001                   # fraction of notional: 0.001 = 0.1 %
slippage_bps = 0.0

# Each strategy trades every feed symbol unless it lists `symbols`.
[[strategy]]
id = "sma-cross"
wasm = "sma_cross.wasm"

[[strategy]]
id = "rsi-reversion"
wasm = "rsi_reversion.wasm"

[[strategy]]
id = "channel-breakout"
wasm = "channel_breakout.wasm"
"#;
