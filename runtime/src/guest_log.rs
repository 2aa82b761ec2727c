//! Where a guest's `log` lines go. Lines written while the host runs a
//! strategy for its own purposes — the smoke test on synthetic bars, the
//! warm-up replay of recent bars — are not signals: they are tagged with
//! their phase and logged at debug, so the default (info) log shows only
//! what the live generation says.

use crate::contract::LogLevel;

/// Why the host is calling the guest.
///
/// A new store starts in [`LogPhase::Smoke`]: until its owner declares it
/// live, it is a trial run (the load pipeline's smoke test, `runtime check`).
/// The two owners of live stores — the warm-up of a new generation and the
/// backtest — set [`LogPhase::Warmup`] / [`LogPhase::Live`] themselves, so a
/// store nobody declared live never logs at the guest's own level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogPhase {
    /// Trading (or a backtest's own bars): lines keep the guest's level.
    Live,
    /// The load pipeline's smoke test, on synthetic bars (and any store not
    /// yet declared live).
    #[default]
    Smoke,
    /// Replaying recent bars into a new generation before it goes live.
    Warmup,
}

impl LogPhase {
    /// The `phase=` value in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            LogPhase::Live => "live",
            LogPhase::Smoke => "smoke",
            LogPhase::Warmup => "warm-up",
        }
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

/// Emits one guest line. The smoke test runs inside the loader's `load`
/// span, which already carries `strategy=`: the line does not repeat it.
pub(crate) fn emit(strategy: &str, phase: LogPhase, level: LogLevel, message: &str) {
    match (phase, level) {
        (LogPhase::Live, LogLevel::Trace) => tracing::trace!(strategy, "{message}"),
        (LogPhase::Live, LogLevel::Debug) => tracing::debug!(strategy, "{message}"),
        (LogPhase::Live, LogLevel::Info) => tracing::info!(strategy, "{message}"),
        (LogPhase::Live, LogLevel::Warn) => tracing::warn!(strategy, "{message}"),
        (LogPhase::Live, LogLevel::Error) => tracing::error!(strategy, "{message}"),
        (_, LogLevel::Trace) => {
            tracing::trace!(phase = phase.as_str(), "{message}")
        }
        (LogPhase::Smoke, level) => tracing::debug!(
            phase = phase.as_str(),
            guest_level = level_name(level),
            "{message}"
        ),
        (LogPhase::Warmup, level) => tracing::debug!(
            strategy,
            phase = phase.as_str(),
            guest_level = level_name(level),
            "{message}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The lines logged by `f` at `max` and above, as the pretty format shows them.
    fn logged(max: tracing::Level, f: impl FnOnce()) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(max)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn smoke_line() {
        let _span = tracing::info_span!("load", strategy = "sma-1").entered();
        emit("sma-1", LogPhase::Smoke, LogLevel::Info, "entry signal");
    }

    #[test]
    fn regression_14_7_smoke_and_warm_up_logs_are_tagged_and_at_debug() {
        let at_info = logged(tracing::Level::INFO, || {
            smoke_line();
            emit("sma-1", LogPhase::Warmup, LogLevel::Warn, "entry signal");
        });
        assert_eq!(at_info, "", "kept out of the default level");
        let at_debug = logged(tracing::Level::DEBUG, || {
            smoke_line();
            emit("sma-1", LogPhase::Warmup, LogLevel::Warn, "entry signal");
        });
        let lines: Vec<&str> = at_debug.lines().collect();
        assert_eq!(lines.len(), 2, "{at_debug}");
        assert!(
            lines[0].contains("DEBUG") && lines[0].contains("phase=\"smoke\""),
            "{at_debug}"
        );
        assert!(
            lines[1].contains("DEBUG") && lines[1].contains("phase=\"warm-up\""),
            "{at_debug}"
        );
        assert!(lines[1].contains("guest_level=\"warn\""), "{at_debug}");
        let live = logged(tracing::Level::INFO, || {
            emit("sma-1", LogPhase::Live, LogLevel::Info, "entry signal");
        });
        assert!(live.contains("INFO") && !live.contains("phase="), "{live}");
    }

    #[test]
    fn a_new_store_is_a_trial_until_its_owner_declares_it_live() {
        let state = crate::contract::HostState::new("s", wasmtime::StoreLimits::default());
        assert_eq!(state.log_phase, LogPhase::Smoke);
    }

    #[test]
    fn regression_14_7_strategy_is_named_once_per_line() {
        let at_debug = logged(tracing::Level::DEBUG, smoke_line);
        assert_eq!(at_debug.matches("strategy=").count(), 1, "{at_debug}");
    }
}
