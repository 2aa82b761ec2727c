//! Logging from a strategy. Inside Wasm it calls the host's `log` import; in a
//! native build (unit tests, the harness) it records into a thread-local sink
//! that [`crate::Harness::logs`] reads.

use crate::LogLevel;

/// Sends `message` to the host's log at `level`.
///
/// The runtime writes it as a `tracing` event of that level tagged with the
/// strategy's id, so its log filter decides what is shown. It keeps the first
/// 32 lines of each call into the strategy (one `on-bar`, one `init`, ...)
/// and drops the rest with one notice, and cuts a message longer than 1,024
/// bytes, so a loop that logs every iteration loses most of its lines.
/// Natively nothing is dropped or cut; the lines wait for
/// [`crate::Harness::logs`].
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::sandbar::strategy::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    native::record(level, message);
}

/// [`log`] at [`LogLevel::Debug`]: detail for whoever debugs the strategy.
pub fn debug(message: &str) {
    log(LogLevel::Debug, message);
}

/// [`log`] at [`LogLevel::Info`]: what the strategy decided and why.
pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

/// [`log`] at [`LogLevel::Warn`]: input the strategy ignored or worked
/// around (a non-finite price, a refused snapshot).
pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

/// [`log`] at [`LogLevel::Error`]: the strategy cannot do its job.
pub fn error(message: &str) {
    log(LogLevel::Error, message);
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod native {
    use crate::LogLevel;
    use std::cell::RefCell;

    thread_local! {
        static SINK: RefCell<Vec<(LogLevel, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn record(level: LogLevel, message: &str) {
        SINK.with(|sink| sink.borrow_mut().push((level, message.to_owned())));
    }

    pub(crate) fn take() -> Vec<(LogLevel, String)> {
        SINK.with(|sink| std::mem::take(&mut *sink.borrow_mut()))
    }
}
