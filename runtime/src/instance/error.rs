//! How a call into the guest failed: [`TrapKind`], [`CallError`], and the
//! one place that turns a wasmtime error into them, with a hint that names
//! the setting that really bounds the call.

use std::fmt;
use std::time::Duration;
use wasmtime::Trap;

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
    /// The guest handed the host more data than allowed: a snapshot over
    /// `limits.max_snapshot_kb`, or one transfer (a log line, an order list)
    /// over what one call may copy out of the guest.
    Oversized,
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
    /// wasmtime's one-line description of the trap or error; for a deadline,
    /// with the time the call really took and the setting it ran against.
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
            TrapKind::Deadline => "overran its deadline",
            TrapKind::Trap => "trapped",
            TrapKind::Oversized => "handed the host too much data",
            TrapKind::Other => "failed",
        };
        write!(f, "`{}` {what}: {}", self.export, self.message)
    }
}

impl std::error::Error for CallError {}

/// What wasmtime says when one guest-to-host transfer is over the store's
/// hostcall fuel (its type is private, so the text is what there is).
pub(crate) const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

impl CallError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        Self::hint_for(self.export, &self.kind, &self.message)
    }

    /// The hint for a failure of `export` of `kind` with `message` (also for
    /// trap events, which carry the same three).
    pub fn hint_for(export: &str, kind: &TrapKind, message: &str) -> &'static str {
        match kind {
            TrapKind::OutOfFuel => {
                "an endless loop, or too much work per call (log lines are charged too): fix the strategy or raise `limits.fuel_per_bar`"
            }
            TrapKind::Deadline => match export {
                "snapshot" | "restore" if message.contains("limits.state_deadline_us") => {
                    "snapshot/restore on the bar loop took too long: keep less state, or raise `limits.state_deadline_us`"
                }
                "on-bar" | "on-fill" | "on-order-updates" => {
                    "the call took too long in wall-clock time: fix the strategy or raise `limits.deadline_us`"
                }
                _ => {
                    "calls off the bar loop (describe, init, the smoke test) get `limits.deadline_us` or 1 s, whichever is longer: fix the strategy"
                }
            },
            TrapKind::Trap => {
                "the strategy panicked or trapped: run its native tests (`cargo test -p <crate>`) to find out where"
            }
            TrapKind::Oversized
                if export == "snapshot" && !message.contains(HOSTCALL_FUEL_EXHAUSTED) =>
            {
                "keep less state (bounded windows), or raise `limits.max_snapshot_kb`"
            }
            TrapKind::Oversized if matches!(export, "describe" | "init" | "instantiate") => {
                "the strategy handed the host over 128 MiB in one transfer (wasmtime's hostcall limit): keep its name, description and parameters small"
            }
            TrapKind::Oversized => {
                "one log line or order list was too large to copy out of the guest: log less per line (lines are cut at 1 KiB anyway) or return fewer orders (`limits.max_orders_per_bar`)"
            }
            // wasmtime's `StoreLimits` says "instance count too high at N"
            // (and the same for tables and memories) when a component has
            // more of them than the store allows.
            TrapKind::Other if message.contains("instance count too high") => {
                "the component has more core instances than one store may hold (an interpreter such as componentize-py has about 40): raise `limits.instances`, or set the strategy's `language`"
            }
            TrapKind::Other if message.contains("table count too high") => {
                "the component has more tables than one store may hold: raise `limits.tables`, or set the strategy's `language`"
            }
            TrapKind::Other if message.contains("memory count too high") => {
                "the component has more linear memories than one store may hold: raise `limits.memories`, or set the strategy's `language`"
            }
            TrapKind::Other if is_memory_limit(message) => {
                "the instance needs more linear memory than allowed: raise `limits.memory_mb` or use less"
            }
            TrapKind::Other => {
                "wasmtime refused the call for a reason of its own (see the message); it is not a setting of this runtime"
            }
        }
    }
}

fn is_memory_limit(message: &str) -> bool {
    message.contains("memory") && (message.contains("limit") || message.contains("exceeds"))
}

/// The wall-clock bound a call ran under, for the message of a deadline trap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bound {
    /// The setting, as a quoted `section.key`.
    pub key: &'static str,
    /// What the deadline actually was (the lifecycle floor included).
    pub deadline: Duration,
}

pub(crate) fn classify(
    export: &'static str,
    error: wasmtime::Error,
    bound: Bound,
    elapsed: Duration,
) -> CallError {
    let trap = error.downcast_ref::<Trap>().copied();
    let text = format!("{error:#}");
    let kind = match trap {
        Some(Trap::OutOfFuel) => TrapKind::OutOfFuel,
        Some(Trap::Interrupt) => TrapKind::Deadline,
        Some(_) => TrapKind::Trap,
        None if text.contains(HOSTCALL_FUEL_EXHAUSTED) => TrapKind::Oversized,
        None => TrapKind::Other,
    };
    let backtrace = error
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string());
    // The trap itself is the message; the backtrace context is kept apart so
    // the message stays one line.
    let message = match trap {
        // The time it really took against the setting it ran under: the
        // deadline is a wall-clock bound, so say which one and by how much.
        Some(Trap::Interrupt) => format!(
            "{} after {:.1} ms, against `{}` = {} µs",
            Trap::Interrupt,
            elapsed.as_secs_f64() * 1e3,
            bound.key,
            bound.deadline.as_micros()
        ),
        Some(trap) => trap.to_string(),
        None => text,
    };
    CallError {
        export,
        kind,
        message,
        backtrace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (hardening issue, item 4): `other` said "check
    /// `[limits]`" whatever the cause, and wasmtime's own 128 MiB copy limit
    /// was classed `other`. Every hint names a key that exists (the settings
    /// scan checks the names) and fits the cause.
    #[test]
    fn regression_13_4_every_hint_names_the_setting_of_its_cause() {
        let bound = Bound {
            key: "limits.state_deadline_us",
            deadline: Duration::from_millis(20),
        };
        let copied = wasmtime::Error::msg(
            "too much data is being copied between the host and the guest: fuel allocated for hostcalls has been exhausted",
        );
        let e = classify("snapshot", copied, bound, Duration::ZERO);
        assert_eq!(e.kind, TrapKind::Oversized);
        assert!(
            e.hint().contains("limits.max_orders_per_bar"),
            "{}",
            e.hint()
        );
        let e = classify(
            "instantiate",
            wasmtime::Error::msg("memory minimum size of 2000 pages exceeds memory limits"),
            bound,
            Duration::ZERO,
        );
        assert_eq!(e.kind, TrapKind::Other);
        assert!(e.hint().contains("limits.memory_mb"), "{}", e.hint());
        let e = classify(
            "snapshot",
            wasmtime::Error::from(Trap::Interrupt),
            bound,
            Duration::from_micros(21_300),
        );
        assert_eq!(e.kind, TrapKind::Deadline);
        assert_eq!(
            e.to_string(),
            "`snapshot` overran its deadline: wasm trap: interrupt after 21.3 ms, against `limits.state_deadline_us` = 20000 µs"
        );
        assert!(e.hint().contains("limits.state_deadline_us"));
        assert!(
            CallError::hint_for("on-bar", &TrapKind::Deadline, "").contains("limits.deadline_us")
        );
        let oversized_snapshot = CallError::hint_for(
            "snapshot",
            &TrapKind::Oversized,
            "snapshot of 9 bytes is over the 8-byte limit",
        );
        assert!(oversized_snapshot.contains("limits.max_snapshot_kb"));
        assert!(CallError::hint_for("describe", &TrapKind::Oversized, "").contains("128 MiB"));
        for kind in [TrapKind::Other, TrapKind::Trap] {
            assert!(!CallError::hint_for("on-bar", &kind, "x").contains("[limits]"));
        }
    }
}
