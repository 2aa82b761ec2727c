//! The one place where host bindings for the contract are generated, and the
//! host side of its imports.

use wasmtime::component::{HasSelf, Linker};

/// The `bindgen!` output, re-exported below unchanged (the module exists only
/// to scope the lint: an attribute on the macro call itself is ignored).
mod generated {
    // The generated records and enums carry the WIT's own doc comments where
    // it has them; the rest (bindgen's plumbing: `*Pre`, `*Indices`,
    // `call_*`, `add_to_linker`, the per-interface `Host` traits) cannot be
    // documented without editing generated code, so `missing_docs` is off for
    // this macro's output only.
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit",
        world: "strategy",
        imports: { default: tracing },
        additional_derives: [PartialEq],
    });
}
pub use generated::*;

// `Bar`, `Fill`, `Order`, `Param`, `Position` and `StrategyInfo` are used by
// the world and so already aliased here by bindgen.
pub use sandbar::strategy::types::{LogLevel, OrderKind, ParamKind, ParamSpec, ParamValue, Side};
pub use {Strategy as StrategyBindings, StrategyPre as StrategyBindingsPre};

/// The contract's package, as it appears in import names.
pub const PACKAGE: &str = "sandbar:strategy";
/// The contract's version this runtime speaks.
pub const VERSION: &str = "0.1.0";
/// Every function a strategy component must export.
pub const REQUIRED_EXPORTS: [&str; 6] = [
    "describe", "init", "on-bar", "on-fill", "snapshot", "restore",
];

/// Interfaces a strategy may import: the contract's own, nothing else.
pub fn allowed_imports() -> [String; 2] {
    [
        format!("{PACKAGE}/host@{VERSION}"),
        format!("{PACKAGE}/types@{VERSION}"),
    ]
}

/// Per-store data: who the guest is, and what it may still log.
pub struct HostState {
    pub(crate) strategy_id: String,
    pub(crate) limits: wasmtime::StoreLimits,
    pub(crate) log_budget: u32,
    /// Why the host is calling: smoke and warm-up lines go to debug.
    pub(crate) log_phase: crate::guest_log::LogPhase,
}

impl HostState {
    /// The data of a new store for strategy `strategy_id`: `limits` caps its
    /// memory and instance counts, and the log budget starts full
    /// (32 lines per call).
    pub fn new(strategy_id: impl Into<String>, limits: wasmtime::StoreLimits) -> Self {
        Self {
            strategy_id: strategy_id.into(),
            limits,
            log_budget: LOG_LINES_PER_CALL,
            // A trial until its owner says it trades (guest_log.rs).
            log_phase: crate::guest_log::LogPhase::Smoke,
        }
    }
}

/// Log lines a guest may write per call; the rest are dropped with one notice.
pub(crate) const LOG_LINES_PER_CALL: u32 = 32;
/// Longer log messages are cut, so a guest cannot flood the host's logs.
const MAX_LOG_MESSAGE_BYTES: usize = 1024;

impl sandbar::strategy::types::Host for HostState {}

impl sandbar::strategy::host::Host for HostState {
    fn log(&mut self, level: LogLevel, message: String) {
        if self.log_budget == 0 {
            return;
        }
        self.log_budget -= 1;
        let mut message = message;
        if message.len() > MAX_LOG_MESSAGE_BYTES {
            let mut cut = MAX_LOG_MESSAGE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str("… (truncated)");
        }
        if self.log_budget == 0 {
            message.push_str(" (log limit reached for this call; further lines dropped)");
        }
        crate::guest_log::emit(&self.strategy_id, self.log_phase, level, &message);
    }
}

/// A linker with the contract's imports, and nothing else (no WASI).
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    StrategyBindings::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    Ok(linker)
}

// The guest SDK generates the same records from the same WIT; these let a
// strategy compiled natively be driven with exactly the host's values (the
// sandbox-versus-native tests and benches).

impl From<Bar> for sandbar_guest::Bar {
    fn from(b: Bar) -> Self {
        Self {
            seq: b.seq,
            ts_ms: b.ts_ms,
            symbol: b.symbol,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
        }
    }
}

impl From<Position> for sandbar_guest::Position {
    fn from(p: Position) -> Self {
        Self {
            quantity: p.quantity,
            avg_price: p.avg_price,
            cash: p.cash,
            equity: p.equity,
        }
    }
}

impl From<Side> for sandbar_guest::Side {
    fn from(side: Side) -> Self {
        match side {
            Side::Buy => sandbar_guest::Side::Buy,
            Side::Sell => sandbar_guest::Side::Sell,
        }
    }
}

impl From<Fill> for sandbar_guest::Fill {
    fn from(f: Fill) -> Self {
        Self {
            seq: f.seq,
            ts_ms: f.ts_ms,
            symbol: f.symbol,
            side: f.side.into(),
            quantity: f.quantity,
            price: f.price,
            commission: f.commission,
        }
    }
}

impl From<&ParamValue> for sandbar_guest::ParamValue {
    fn from(v: &ParamValue) -> Self {
        match v {
            ParamValue::Int(x) => Self::Int(*x),
            ParamValue::Float(x) => Self::Float(*x),
            ParamValue::Boolean(x) => Self::Boolean(*x),
            ParamValue::Text(x) => Self::Text(x.clone()),
        }
    }
}
