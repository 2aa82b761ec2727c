//! Per-strategy resource limits. The config's `[limits]` section maps onto
//! this; every field has a default that suits a typical bar strategy.

/// What one strategy instance may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (roughly: Wasm instructions) per call, refilled before every call,
    /// so CPU use is deterministic and the same in backtest and live.
    pub fuel_per_call: u64,
    /// Wall-clock time one call may take (a watchdog for what fuel does not
    /// count); enforced by epoch interruption.
    pub deadline: std::time::Duration,
    /// Linear memory cap of the instance, in bytes.
    pub memory_bytes: usize,
    /// Orders one `on-bar` may return; more is a misbehaving guest.
    pub max_orders_per_bar: usize,
    /// Largest snapshot carried across a swap, in bytes.
    pub max_snapshot_bytes: usize,
    /// Largest component file the runtime will read, in bytes.
    pub max_component_bytes: u64,
    /// Wall-clock time `snapshot` and `restore` may take on the bar loop
    /// (off the loop, in the smoke test, they get the lifecycle deadline).
    pub state_deadline: std::time::Duration,
    /// Log bytes (after escaping) one guest call may write.
    pub log_bytes_per_call: usize,
    /// Log bytes one instance may write per second.
    pub log_bytes_per_sec: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel_per_call: 5_000_000,
            deadline: std::time::Duration::from_millis(50),
            memory_bytes: 64 << 20,
            max_orders_per_bar: 64,
            max_snapshot_bytes: 4 << 20,
            max_component_bytes: 32 << 20,
            state_deadline: std::time::Duration::from_millis(20),
            log_bytes_per_call: 8 << 10,
            log_bytes_per_sec: 64 << 10,
        }
    }
}
