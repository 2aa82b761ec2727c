//! One live instance of a strategy component: its own store, fuel refilled
//! before every call, a wall-clock bound per kind of call, and every failure
//! classified (`error.rs`).

pub(crate) mod error;
mod replay;

pub use error::{CallError, TrapKind};
pub use replay::DISCARDED;

use crate::contract::{
    Bar, ContractVersion, Fill, HostState, Order, Param, Position, Request, StrategyBindings,
    StrategyBindingsPre, StrategyInfo,
};
use crate::limits::Limits;
use error::{Bound, classify};
use std::time::{Duration, Instant};
use wasmtime::{Store, StoreLimitsBuilder};

/// A strategy instance in its own store.
pub struct StrategyInstance {
    store: Store<HostState>,
    bindings: StrategyBindings,
    fuel_per_call: u64,
    max_snapshot_bytes: usize,
    /// For `on-bar` and `on-fill`, the calls on the bar loop.
    call_bound: Bound,
    /// For `snapshot` and `restore` on the bar loop (`limits.state_deadline_us`).
    state_bound: Bound,
    /// For `describe`, `init`, and `snapshot`/`restore` off the loop (the
    /// smoke test): never tighter than [`LIFECYCLE_DEADLINE`], since a first
    /// call into a fresh instance also pays for its memory being touched.
    lifecycle_bound: Bound,
    /// Bytes one guest-to-host transfer may carry during `on-bar`/`on-fill`
    /// (wasmtime's hostcall fuel): bounds a log line or an order list before
    /// wasmtime copies or even validates it.
    call_transfer_bytes: usize,
    /// wasmtime's default hostcall fuel, kept for `describe` and `init`.
    default_transfer_bytes: usize,
    fuel_used_last_call: u64,
}

/// The smallest bound on one guest-to-host transfer during `on-bar` and
/// `on-fill` (1 MiB): far over a 1 KiB log line or a legitimate order list,
/// far under wasmtime's default of 128 MiB.
pub const CALL_TRANSFER_BYTES: usize = 1 << 20;

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
            .instances(limits.instances)
            .tables(limits.tables)
            .memories(limits.memories)
            .build();
        let mut state = HostState::new(strategy_id, store_limits);
        state.log = crate::contract::LogBudget::new(
            strategy_id,
            limits.log_bytes_per_call,
            limits.log_bytes_per_sec,
        );
        let mut store = Store::new(pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        let call_bound = Bound {
            key: "limits.deadline_us",
            deadline: limits.deadline,
        };
        let state_bound = Bound {
            key: "limits.state_deadline_us",
            deadline: limits.state_deadline,
        };
        let lifecycle_bound = Bound {
            key: "limits.deadline_us",
            deadline: limits.deadline.max(LIFECYCLE_DEADLINE),
        };
        let started = Instant::now();
        let failed = |e| classify("instantiate", e, lifecycle_bound, started.elapsed());
        // An epoch tick only says "look at the clock": the call ends when its
        // real elapsed time reaches its deadline, never a tick early (a
        // ticker that catches up after a late wake-up can deliver several
        // ticks at once) and at most a tick or a scheduling delay late.
        store.epoch_deadline_callback(|ctx| match ctx.data().call {
            Some((started, deadline)) => match deadline.checked_sub(started.elapsed()) {
                Some(left) if !left.is_zero() => Ok(wasmtime::UpdateDeadline::Continue(
                    crate::engine::ticks_within(left),
                )),
                _ => Ok(wasmtime::UpdateDeadline::Interrupt),
            },
            None => Ok(wasmtime::UpdateDeadline::Interrupt),
        });
        store.set_epoch_deadline(crate::engine::deadline_ticks(lifecycle_bound.deadline));
        store
            .data_mut()
            .start_call(started, lifecycle_bound.deadline);
        store.set_fuel(limits.fuel_per_call).map_err(failed)?;
        let instance = pre.instance_pre().instantiate(&mut store).map_err(failed)?;
        let bindings = StrategyBindings::new(pre, &mut store, &instance).map_err(failed)?;
        // An order is 32 bytes on the host in 0.1.0 (a 0.2.0 request more);
        // twice that per allowed order. The 1 MiB floor is in 0.1.0 orders:
        // a 0.2.0 list may hold as many.
        let order_bytes = pre.order_bytes();
        let orders_bytes = limits.max_orders_per_bar.saturating_mul(2 * order_bytes);
        let floor = CALL_TRANSFER_BYTES / std::mem::size_of::<Order>() * order_bytes;
        Ok(Self {
            default_transfer_bytes: store.hostcall_fuel(),
            store,
            bindings,
            fuel_per_call: limits.fuel_per_call,
            max_snapshot_bytes: limits.max_snapshot_bytes,
            call_bound,
            state_bound,
            lifecycle_bound,
            call_transfer_bytes: floor.max(orders_bytes),
            fuel_used_last_call: 0,
        })
    }

    /// Refills fuel and the per-call log budget, and arms the call's
    /// wall-clock bound: every call starts with the same budget.
    fn prepare(&mut self, export: &'static str, bound: Bound) -> Result<Instant, CallError> {
        let transfer = match export {
            "on-bar" | "on-fill" | "on-order-updates" => self.call_transfer_bytes,
            // Set to the snapshot cap by the call itself.
            "snapshot" => self.max_snapshot_bytes,
            _ => self.default_transfer_bytes,
        };
        self.store.set_hostcall_fuel(transfer);
        self.store
            .set_epoch_deadline(crate::engine::deadline_ticks(bound.deadline));
        let started = Instant::now();
        self.store.data_mut().start_call(started, bound.deadline);
        self.store
            .set_fuel(self.fuel_per_call)
            .map_err(|e| classify(export, e, bound, Duration::ZERO))?;
        Ok(started)
    }

    fn finish(&mut self) {
        let left = self.store.get_fuel().unwrap_or(0);
        self.fuel_used_last_call = self.fuel_per_call.saturating_sub(left);
    }

    /// Runs `call` as `export` under `bound`, classifying its failure.
    fn run<R>(
        &mut self,
        export: &'static str,
        bound: Bound,
        call: impl FnOnce(&mut Self) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let started = self.prepare(export, bound)?;
        let out = call(self).map_err(|e| {
            let mut error = classify(export, e, bound, started.elapsed());
            // What the guest said last before it failed (a Python or JS
            // exception, logged by its SDK) goes with the trap.
            if let Some(line) = self.store.data_mut().last_error_line.take() {
                error.message = format!("{}; the guest logged: {line}", error.message);
            }
            error
        });
        self.finish();
        out
    }

    /// Calls `describe`: the strategy's name, version, description,
    /// parameter specs and warm-up bars.
    /// Runs under the lifecycle deadline.
    pub fn describe(&mut self) -> Result<StrategyInfo, CallError> {
        let bound = self.lifecycle_bound;
        self.run("describe", bound, |me| {
            me.bindings.call_describe(&mut me.store)
        })
    }

    /// The outer `Err` is a trap; the inner one is the strategy refusing its parameters.
    pub fn init(
        &mut self,
        symbols: &[String],
        params: &[Param],
    ) -> Result<Result<(), String>, CallError> {
        let bound = self.lifecycle_bound;
        self.run("init", bound, |me| {
            me.bindings.call_init(&mut me.store, symbols, params)
        })
    }

    /// The contract version the component implements.
    pub fn version(&self) -> ContractVersion {
        self.bindings.version()
    }

    /// Calls `on-bar` with one bar and the strategy's position in that
    /// symbol (after any fills the bar made); returns the requests it sends
    /// (a 0.1.0 component's orders as [`Request::Order`]), not yet
    /// validated. Runs under `limits.deadline_us`, with a fresh fuel budget
    /// (`limits.fuel_per_bar`).
    pub fn on_bar(&mut self, bar: Bar, position: Position) -> Result<Vec<Request>, CallError> {
        let bound = self.call_bound;
        self.run("on-bar", bound, |me| {
            me.bindings.call_on_bar(&mut me.store, bar, position)
        })
    }

    /// Calls `on-fill` to tell the strategy one of its orders filled. Same
    /// deadline and fuel as `on-bar`.
    pub fn on_fill(&mut self, fill: Fill) -> Result<(), CallError> {
        let bound = self.call_bound;
        self.run("on-fill", bound, |me| {
            me.bindings.call_on_fill(&mut me.store, fill)
        })
    }

    /// Calls `on-order-updates` with what happened to the strategy's orders
    /// with ids (contract 0.2.0; nothing is called for an empty list or a
    /// 0.1.0 component). Same deadline and fuel as `on-bar`.
    pub fn on_order_updates(
        &mut self,
        updates: &[sandbar_guest::paper::OrderUpdate],
    ) -> Result<(), CallError> {
        if updates.is_empty() || self.version() == ContractVersion::V0_1 {
            return Ok(());
        }
        let bound = self.call_bound;
        self.run("on-order-updates", bound, |me| {
            me.bindings.call_on_order_updates(&mut me.store, updates)
        })
    }

    /// Calls `snapshot` off the bar loop (the smoke test): the strategy's
    /// state as opaque bytes, under the lifecycle deadline. A snapshot over
    /// `limits.max_snapshot_kb` is an [`TrapKind::Oversized`] error, found
    /// before anything is copied.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, CallError> {
        let bound = self.lifecycle_bound;
        let max = self.max_snapshot_bytes;
        self.snapshot_within(bound, max)?
            .map_err(|()| Self::oversized(max))
    }

    /// Calls `snapshot` on the bar loop, under `limits.state_deadline_us`.
    /// The inner `Err` is a snapshot over `max_bytes`: refused before it
    /// was copied, and the instance stays usable (the guest's buffer is not
    /// freed, since its post-return does not run: callers do not retry).
    pub fn snapshot_on_loop(&mut self, max_bytes: usize) -> Result<Result<Vec<u8>, ()>, CallError> {
        let bound = self.state_bound;
        self.snapshot_within(bound, max_bytes)
    }

    /// The cap is wasmtime's hostcall fuel for the call: lifting the list
    /// charges its length to it before a byte is copied, so an oversized
    /// snapshot fails there. (A `WasmList<u8>` view is no help in wasmtime
    /// 48: the export's post-return, which frees the list, runs inside
    /// `call`, before the host could read it.)
    fn snapshot_within(
        &mut self,
        bound: Bound,
        max_bytes: usize,
    ) -> Result<Result<Vec<u8>, ()>, CallError> {
        let out = self.run("snapshot", bound, |me| {
            me.store.set_hostcall_fuel(max_bytes);
            me.bindings.call_snapshot(&mut me.store)
        });
        match out {
            Ok(bytes) => Ok(Ok(bytes)),
            Err(error) if error.kind == TrapKind::Oversized => Ok(Err(())),
            Err(error) => Err(error),
        }
    }

    fn oversized(max: usize) -> CallError {
        CallError {
            export: "snapshot",
            kind: TrapKind::Oversized,
            message: format!(
                "snapshot is over the {max}-byte limit (`limits.max_snapshot_kb`); it was refused before it was copied"
            ),
            backtrace: None,
        }
    }

    /// Calls `restore` off the bar loop (the smoke test), under the lifecycle
    /// deadline. The outer `Err` is a trap; the inner one is the strategy
    /// refusing the state.
    pub fn restore(&mut self, state: &[u8]) -> Result<Result<(), String>, CallError> {
        let bound = self.lifecycle_bound;
        self.run("restore", bound, |me| {
            me.bindings.call_restore(&mut me.store, state)
        })
    }

    /// [`Self::restore`] on the bar loop, under `limits.state_deadline_us`.
    pub fn restore_on_loop(&mut self, state: &[u8]) -> Result<Result<(), String>, CallError> {
        let bound = self.state_bound;
        self.run("restore", bound, |me| {
            me.bindings.call_restore(&mut me.store, state)
        })
    }

    /// Bytes of log lines this instance has written (after escaping, within
    /// `limits.log_bytes_per_call` and `limits.log_bytes_per_sec`).
    pub fn log_bytes_written(&self) -> u64 {
        self.store.data().log.written()
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
