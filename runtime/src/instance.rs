//! One live instance of a strategy component: its own store, fuel refilled
//! before every call, and every failure classified.

use crate::contract::{
    Bar, Fill, HostState, Order, Param, Position, StrategyBindings, StrategyBindingsPre,
    StrategyInfo,
};
use crate::limits::Limits;
use std::fmt;
use wasmtime::{Store, StoreLimitsBuilder, Trap};

/// How a call into the guest failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrapKind {
    /// The call used up `fuel_per_call`.
    OutOfFuel,
    /// The call ran past its wall-clock deadline.
    Deadline,
    /// A Wasm trap (panic, unreachable, out-of-bounds access, stack overflow...).
    Trap,
    /// Anything else wasmtime reported (for example a store limit).
    Other,
}

/// A call into the guest trapped. The instance must not be used again.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    /// The contract export that was called (`"on-bar"`, `"init"`, ...), or
    /// `"instantiate"` when the store could not even be set up.
    pub export: &'static str,
    /// What kind of failure it was; [`CallError::hint`] follows from it.
    pub kind: TrapKind,
    /// wasmtime's one-line description of the trap or error.
    pub message: String,
    /// The guest's Wasm backtrace, when wasmtime captured one (for logs).
    pub backtrace: Option<String>,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TrapKind::OutOfFuel => {
                "ran out of fuel (its per-call CPU budget, `limits.fuel_per_bar`)"
            }
            TrapKind::Deadline => "overran its deadline (`limits.deadline_us`)",
            TrapKind::Trap => "trapped",
            TrapKind::Other => "failed",
        };
        write!(f, "`{}` {what}: {}", self.export, self.message)
    }
}

impl std::error::Error for CallError {}

impl CallError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self.kind {
            TrapKind::OutOfFuel => {
                "an endless loop, or too much work per call: fix the strategy or raise `limits.fuel_per_bar`"
            }
            TrapKind::Deadline => {
                "the call took too long in wall-clock time: fix the strategy or raise `limits.deadline_us`"
            }
            TrapKind::Trap => {
                "the strategy panicked or trapped: run its native tests (`cargo test -p <crate>`) to find out where"
            }
            TrapKind::Other => {
                "a resource limit was hit; check `[limits]` against what the strategy needs"
            }
        }
    }
}

fn classify(export: &'static str, error: wasmtime::Error) -> CallError {
    let trap = error.downcast_ref::<Trap>().copied();
    let kind = match trap {
        Some(Trap::OutOfFuel) => TrapKind::OutOfFuel,
        Some(Trap::Interrupt) => TrapKind::Deadline,
        Some(_) => TrapKind::Trap,
        None => TrapKind::Other,
    };
    let backtrace = error
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string());
    // The trap itself is the message; the backtrace context is kept apart so
    // the message stays one line.
    let message = match trap {
        Some(trap) => trap.to_string(),
        None => format!("{error:#}"),
    };
    CallError {
        export,
        kind,
        message,
        backtrace,
    }
}

/// A strategy instance in its own store.
pub struct StrategyInstance {
    store: Store<HostState>,
    bindings: StrategyBindings,
    fuel_per_call: u64,
    /// For `on-bar` and `on-fill`, the calls on the bar loop.
    deadline_ticks: u64,
    /// For `describe`, `init`, `snapshot` and `restore`: never tighter than
    /// [`LIFECYCLE_DEADLINE`], since a first call into a fresh instance also
    /// pays for its memory being touched.
    lifecycle_ticks: u64,
    fuel_used_last_call: u64,
}

/// The shortest wall-clock deadline of a lifecycle call.
pub const LIFECYCLE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

impl StrategyInstance {
    /// A fresh store and instance. Nothing of the guest runs yet except its
    /// start function, under the same fuel budget as a call.
    pub fn instantiate(
        pre: &StrategyBindingsPre<HostState>,
        strategy_id: &str,
        limits: &Limits,
    ) -> Result<Self, CallError> {
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .instances(8)
            .tables(8)
            .memories(4)
            .build();
        let mut store = Store::new(pre.engine(), HostState::new(strategy_id, store_limits));
        store.limiter(|state| &mut state.limits);
        let deadline_ticks = crate::engine::deadline_ticks(limits.deadline);
        let lifecycle_ticks =
            crate::engine::deadline_ticks(limits.deadline.max(LIFECYCLE_DEADLINE));
        store.epoch_deadline_trap();
        store.set_epoch_deadline(lifecycle_ticks);
        store
            .set_fuel(limits.fuel_per_call)
            .map_err(|e| classify("instantiate", e))?;
        let bindings = pre
            .instantiate(&mut store)
            .map_err(|e| classify("instantiate", e))?;
        Ok(Self {
            store,
            bindings,
            fuel_per_call: limits.fuel_per_call,
            deadline_ticks,
            lifecycle_ticks,
            fuel_used_last_call: 0,
        })
    }

    /// Refills fuel and the log budget: every call starts with the same budget.
    fn prepare(&mut self, export: &'static str) -> Result<(), CallError> {
        self.store.data_mut().log_budget = crate::contract::LOG_LINES_PER_CALL;
        let ticks = match export {
            "on-bar" | "on-fill" => self.deadline_ticks,
            _ => self.lifecycle_ticks,
        };
        self.store.set_epoch_deadline(ticks);
        self.store
            .set_fuel(self.fuel_per_call)
            .map_err(|e| classify(export, e))
    }

    fn finish(&mut self) {
        let left = self.store.get_fuel().unwrap_or(0);
        self.fuel_used_last_call = self.fuel_per_call.saturating_sub(left);
    }

    /// Calls `describe`: the strategy's name, version, description,
    /// parameter specs and warm-up bars.
    /// Runs under the lifecycle deadline.
    pub fn describe(&mut self) -> Result<StrategyInfo, CallError> {
        self.prepare("describe")?;
        let out = self
            .bindings
            .call_describe(&mut self.store)
            .map_err(|e| classify("describe", e));
        self.finish();
        out
    }

    /// The outer `Err` is a trap; the inner one is the strategy refusing its parameters.
    pub fn init(
        &mut self,
        symbols: &[String],
        params: &[Param],
    ) -> Result<Result<(), String>, CallError> {
        self.prepare("init")?;
        let out = self
            .bindings
            .call_init(&mut self.store, symbols, params)
            .map_err(|e| classify("init", e));
        self.finish();
        out
    }

    /// Calls `on-bar` with one bar and the strategy's position in that
    /// symbol (after any fills the bar made); returns the orders it sends,
    /// not yet validated. Runs under `limits.deadline_us`, with a fresh fuel
    /// budget (`limits.fuel_per_bar`).
    pub fn on_bar(&mut self, bar: Bar, position: Position) -> Result<Vec<Order>, CallError> {
        self.prepare("on-bar")?;
        let out = self
            .bindings
            .call_on_bar(&mut self.store, bar, position)
            .map_err(|e| classify("on-bar", e));
        self.finish();
        out
    }

    /// Calls `on-fill` to tell the strategy one of its orders filled. Same
    /// deadline and fuel as `on-bar`.
    pub fn on_fill(&mut self, fill: Fill) -> Result<(), CallError> {
        self.prepare("on-fill")?;
        let out = self
            .bindings
            .call_on_fill(&mut self.store, fill)
            .map_err(|e| classify("on-fill", e));
        self.finish();
        out
    }

    /// Calls `snapshot`: the strategy's state as opaque bytes, for a later
    /// `restore` in the next generation (callers cap its size with
    /// `limits.max_snapshot_kb`). Runs under the lifecycle deadline.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, CallError> {
        self.prepare("snapshot")?;
        let out = self
            .bindings
            .call_snapshot(&mut self.store)
            .map_err(|e| classify("snapshot", e));
        self.finish();
        out
    }

    /// The outer `Err` is a trap; the inner one is the strategy refusing the state.
    pub fn restore(&mut self, state: &[u8]) -> Result<Result<(), String>, CallError> {
        self.prepare("restore")?;
        let out = self
            .bindings
            .call_restore(&mut self.store, state)
            .map_err(|e| classify("restore", e));
        self.finish();
        out
    }

    /// Fuel the last call consumed.
    pub fn fuel_used_last_call(&self) -> u64 {
        self.fuel_used_last_call
    }

    /// Tags the guest's log lines from now on (smoke test, warm-up replay).
    pub fn set_log_phase(&mut self, phase: crate::guest_log::LogPhase) {
        self.store.data_mut().log_phase = phase;
    }
}
