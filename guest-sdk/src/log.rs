//! Logging from a strategy. Inside Wasm it calls the host's `log` import; in a
//! native build (unit tests, the harness) it records into a thread-local sink
//! that [`crate::Harness::logs`] reads.

use crate::LogLevel;

/// Sends `message` to the host's log at `level`.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::sandbar::strategy::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    native::record(level, message);
}

pub fn debug(message: &str) {
    log(LogLevel::Debug, message);
}

pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

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
