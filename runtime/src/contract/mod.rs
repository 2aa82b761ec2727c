//! The contract's host side: the bindings of every version it links
//! (`v1.rs`: `sandbar:strategy@0.1.0`, `v2.rs`: `sandbar:strategy@0.2.0`),
//! the one linker with the imports of both, and [`StrategyBindingsPre`] /
//! [`StrategyBindings`]: an enum over the versions that the rest of the host
//! calls without caring which one a component speaks. The host's types are
//! 0.1.0's records; 0.2.0's requests arrive as [`Request`]s.

use wasmtime::component::{HasSelf, Linker};

pub mod v1;
pub mod v2;
mod version;

pub use v1::{
    Bar, Fill, LogLevel, Order, OrderKind, Param, ParamKind, ParamSpec, ParamValue, Position, Side,
    StrategyInfo,
};
pub use version::{ContractVersion, Request, StrategyBindings, StrategyBindingsPre};

/// The contract's package, as it appears in import names.
pub const PACKAGE: &str = "sandbar:strategy";
/// The newest contract version this runtime speaks (the one the SDK builds).
pub const VERSION: &str = v2::VERSION;
/// Every version this runtime links, oldest first.
pub const VERSIONS: [&str; 2] = [v1::VERSION, v2::VERSION];
/// Every function a strategy component must export (in every version).
pub const REQUIRED_EXPORTS: [&str; 6] = [
    "describe", "init", "on-bar", "on-fill", "snapshot", "restore",
];

/// Interfaces a strategy may import: the contract's own (of one version),
/// nothing else. The newest version's first, then the older ones'.
pub fn allowed_imports() -> [String; 4] {
    [
        format!("{PACKAGE}/host@{}", v2::VERSION),
        format!("{PACKAGE}/types@{}", v2::VERSION),
        format!("{PACKAGE}/host@{}", v1::VERSION),
        format!("{PACKAGE}/types@{}", v1::VERSION),
    ]
}

mod host_log;

pub use host_log::{
    LOG_CALL_FUEL, LOG_FUEL_PER_READ_BYTE, LOG_FUEL_PER_WRITTEN_BYTE, LOG_LINE_OVERHEAD_BYTES,
    LogBudget,
};

/// Per-store data: who the guest is, what it may still log, and when the
/// running call must end.
pub struct HostState {
    pub(crate) strategy_id: String,
    pub(crate) limits: wasmtime::StoreLimits,
    pub(crate) log: LogBudget,
    /// When the running call started and its wall-clock deadline, so host
    /// calls cannot outlast it (`None` outside a call).
    pub(crate) call: Option<(std::time::Instant, std::time::Duration)>,
    /// Why the host is calling: smoke and warm-up lines go to debug.
    pub(crate) log_phase: crate::guest_log::LogPhase,
    /// The last error-level line the guest logged in the running call: a
    /// Python or JS guest has no stderr, so its SDK logs the exception
    /// (file:line and message) before it traps, and the trap carries it.
    pub(crate) last_error_line: Option<String>,
}

impl HostState {
    /// The data of a new store for strategy `strategy_id`: `limits` caps its
    /// memory and instance counts, and the log budget is the default
    /// `[limits]` one (32 lines, 8 KiB per call, 64 KiB per second).
    pub fn new(strategy_id: impl Into<String>, limits: wasmtime::StoreLimits) -> Self {
        let defaults = crate::Limits::default();
        let strategy_id = strategy_id.into();
        Self {
            log: LogBudget::new(
                &strategy_id,
                defaults.log_bytes_per_call,
                defaults.log_bytes_per_sec,
            ),
            strategy_id,
            limits,
            call: None,
            // A trial until its owner says it trades (guest_log.rs).
            log_phase: crate::guest_log::LogPhase::Smoke,
            last_error_line: None,
        }
    }

    /// A guest call starts at `started` and must end within `deadline`.
    pub(crate) fn start_call(
        &mut self,
        started: std::time::Instant,
        deadline: std::time::Duration,
    ) {
        self.log.start_call();
        self.call = Some((started, deadline));
        self.last_error_line = None;
    }
}

/// A linker with the contract's imports of every version, and nothing else
/// (no WASI): a component of either version instantiates through it.
/// `host.log` is defined by hand rather than by bindgen: it takes the
/// message as a view into guest memory (`WasmStr`, nothing copied before
/// the caps apply) and needs the store to charge the guest's fuel.
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    v1::sandbar::strategy::types::add_to_linker::<HostState, HasSelf<HostState>>(
        &mut linker,
        |state| state,
    )?;
    v2::sandbar::strategy::types::add_to_linker::<HostState, HasSelf<HostState>>(
        &mut linker,
        |state| state,
    )?;
    // The two versions' `log-level` enums have the same cases, so one host
    // function serves both imports (component types are structural).
    for version in VERSIONS {
        linker
            .instance(&format!("{PACKAGE}/host@{version}"))?
            .func_wrap("log", host_log::log)?;
    }
    Ok(linker)
}

// The guest SDK generates the same records from the same WIT. These
// conversions let a strategy compiled natively be driven with exactly the
// host's values (the sandbox-versus-native tests and benches), and let the
// runtime trade through the SDK's paper broker (`sandbar_guest::paper`):
// orders and bars go to it, fills and positions come back.

/// `From` both ways between this module's binding of one record of scalars
/// and `$other`'s (field for field; `side` fields convert as [`Side`]
/// does): the host's 0.1.0 records and the SDK's here, 0.2.0's and 0.1.0's
/// in `v2.rs`.
macro_rules! same_record {
    ($other:ident; $name:ident { $($field:ident),* $(; $side:ident)? }) => {
        impl From<$name> for $other::$name {
            fn from(r: $name) -> Self {
                Self { $($field: r.$field,)* $($side: r.$side.into(),)? }
            }
        }

        impl From<$other::$name> for $name {
            fn from(r: $other::$name) -> Self {
                Self { $($field: r.$field,)* $($side: r.$side.into(),)? }
            }
        }
    };
}
pub(crate) use same_record;

/// The records of scalars every contract version has, converted to and
/// from `$other`'s.
macro_rules! same_records {
    ($other:ident) => {
        $crate::contract::same_record!($other; Bar {
            seq, ts_ms, symbol, open, high, low, close, volume
        });
        $crate::contract::same_record!($other; Position { quantity, avg_price, cash, equity });
        $crate::contract::same_record!($other; Fill {
            seq, ts_ms, symbol, quantity, price, commission; side
        });
    };
}
pub(crate) use same_records;

same_records!(sandbar_guest);

impl From<Side> for sandbar_guest::Side {
    fn from(side: Side) -> Self {
        match side {
            Side::Buy => sandbar_guest::Side::Buy,
            Side::Sell => sandbar_guest::Side::Sell,
        }
    }
}

impl From<sandbar_guest::Side> for Side {
    fn from(side: sandbar_guest::Side) -> Self {
        match side {
            sandbar_guest::Side::Buy => Side::Buy,
            sandbar_guest::Side::Sell => Side::Sell,
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

impl From<Order> for sandbar_guest::Order {
    fn from(o: Order) -> Self {
        Self {
            symbol: o.symbol,
            side: o.side.into(),
            quantity: o.quantity,
            kind: match o.kind {
                OrderKind::Market => sandbar_guest::OrderKind::Market,
                OrderKind::Limit(price) => sandbar_guest::OrderKind::Limit(price),
            },
        }
    }
}
