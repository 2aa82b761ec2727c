//! The host side of `host.log`: what a guest's log line costs it, how much it
//! may write, and what reaches the host's logs.
//!
//! A log call is the one thing a guest can make the host do on its behalf,
//! so it is bounded on every axis: the message is read in place (wasmtime's
//! hostcall fuel caps one transfer, see `instance.rs`), charged to the
//! guest's fuel, capped per line, per call and per second, checked against
//! the call's wall-clock deadline, and control characters are collapsed so a
//! NUL-filled line cannot grow in a JSON log.

use super::{HostState, LogLevel};
use std::time::{Duration, Instant};
use wasmtime::component::WasmStr;
use wasmtime::{StoreContextMut, Trap};

/// Log lines a guest may write per call; the rest are dropped with one notice.
pub(crate) const LOG_LINES_PER_CALL: u32 = 32;
/// Longer log messages are cut (measured after escaping), so a guest cannot
/// flood the host's logs.
pub(crate) const MAX_LOG_MESSAGE_BYTES: usize = 1024;
/// Fuel every log call costs, written or dropped: a guest that logs in a
/// loop runs out of fuel like one that computes in a loop.
pub const LOG_CALL_FUEL: u64 = 1_000;
/// Fuel per byte read from the guest's message (it is validated as UTF-8).
pub const LOG_FUEL_PER_READ_BYTE: u64 = 1;
/// Fuel per byte written to the host's log: formatting and writing a byte
/// costs the host far more than a Wasm instruction.
pub const LOG_FUEL_PER_WRITTEN_BYTE: u64 = 64;
/// What one line costs the log besides its message (timestamp, level,
/// target, the `strategy` field; about this much in the JSON format), counted
/// against the byte budgets so many tiny lines cannot flood it either.
pub const LOG_LINE_OVERHEAD_BYTES: usize = 128;
/// The window of `limits.log_bytes_per_sec`.
const WINDOW: Duration = Duration::from_secs(1);

/// What an instance may still log: per call (lines and bytes) and per second.
#[derive(Debug, Clone)]
pub struct LogBudget {
    /// Whose lines (for the host's own notices).
    strategy: String,
    per_call: usize,
    per_sec: u64,
    lines_left: u32,
    call_bytes_left: usize,
    call_notice_sent: bool,
    window_start: Option<Instant>,
    window_bytes: u64,
    /// Lines dropped in this window because of `limits.log_bytes_per_sec`.
    window_dropped: u64,
    /// Bytes of guest lines written over the instance's life.
    written: u64,
}

/// What to do with one line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Write it; `notice` is appended when it is the last line allowed.
    Write { notice: Option<&'static str> },
    /// Drop it silently (its notice was already written).
    Drop,
    /// Drop it and write this notice instead (once per call or window).
    DropWithNotice(String),
}

impl LogBudget {
    /// `per_call` bytes per guest call (`limits.log_bytes_per_call`) and
    /// `per_sec` bytes per second (`limits.log_bytes_per_sec`).
    pub fn new(strategy: &str, per_call: usize, per_sec: u64) -> Self {
        Self {
            strategy: strategy.to_owned(),
            per_call,
            per_sec,
            lines_left: LOG_LINES_PER_CALL,
            call_bytes_left: per_call,
            call_notice_sent: false,
            window_start: None,
            window_bytes: 0,
            window_dropped: 0,
            written: 0,
        }
    }

    /// Bytes of guest lines written so far (after escaping, each with
    /// [`LOG_LINE_OVERHEAD_BYTES`]; the host's own notices not counted).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether any line could still be written now: when not, a log call
    /// costs its fixed fuel and its message is not even read.
    pub(crate) fn open(&mut self, now: Instant) -> bool {
        self.roll(now);
        if self.window_dropped > 0 {
            self.window_dropped += 1;
            return false;
        }
        self.lines_left > 0 && !self.call_notice_sent
    }

    /// Starts a new window when the last one is over, reporting what it
    /// dropped (with the first log call after it: the host runs nothing of
    /// its own for a quiet guest).
    fn roll(&mut self, now: Instant) {
        if let Some(start) = self.window_start
            && now.duration_since(start) < WINDOW
        {
            return;
        }
        if self.window_dropped > 0 {
            tracing::warn!(
                strategy = %self.strategy,
                dropped = self.window_dropped,
                "log lines dropped in the last second: over `limits.log_bytes_per_sec`"
            );
        }
        self.window_start = Some(now);
        self.window_bytes = 0;
        self.window_dropped = 0;
    }

    /// A new guest call: the per-call budget is full again.
    pub(crate) fn start_call(&mut self) {
        self.lines_left = LOG_LINES_PER_CALL;
        self.call_bytes_left = self.per_call;
        self.call_notice_sent = false;
    }

    /// Whether a line of `message` bytes (after escaping) may be written at
    /// `now`; what is written is counted, with [`LOG_LINE_OVERHEAD_BYTES`].
    pub(crate) fn admit(&mut self, now: Instant, message: usize) -> Admit {
        self.roll(now);
        let bytes = message.saturating_add(LOG_LINE_OVERHEAD_BYTES);
        if self.lines_left == 0 || bytes > self.call_bytes_left {
            if std::mem::replace(&mut self.call_notice_sent, true) || self.lines_left == 0 {
                // Over the line count, the last line already said so.
                return Admit::Drop;
            }
            return Admit::DropWithNotice(format!(
                "log line of {bytes} bytes dropped: over `limits.log_bytes_per_call` ({} bytes per call); further lines of this call dropped",
                self.per_call
            ));
        }
        if self.window_bytes.saturating_add(bytes as u64) > self.per_sec {
            self.window_dropped += 1;
            if self.window_dropped == 1 {
                return Admit::DropWithNotice(format!(
                    "log lines dropped: over `limits.log_bytes_per_sec` ({} bytes per second); the count follows when the second is over",
                    self.per_sec
                ));
            }
            return Admit::Drop;
        }
        self.lines_left -= 1;
        self.call_bytes_left -= bytes;
        self.window_bytes += bytes as u64;
        self.written += bytes as u64;
        let notice = (self.lines_left == 0)
            .then_some(" (log limit reached for this call; further lines dropped)");
        Admit::Write { notice }
    }
}

/// `message` with every run of control characters (NUL, ESC, newlines...)
/// collapsed to `�` or `�×N`, cut to `max` bytes of output: what is written
/// is what is counted, and it does not grow when a JSON log escapes it.
pub(crate) fn sanitize(message: &str, max: usize) -> String {
    const CUT: &str = "… (truncated)";
    let mut out = String::with_capacity(message.len().min(max) + CUT.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        let mut piece = [0u8; 4];
        let text: std::borrow::Cow<'_, str> = if c.is_control() {
            let mut run = 1usize;
            while chars.next_if(|c| c.is_control()).is_some() {
                run += 1;
            }
            if run == 1 {
                "\u{fffd}".into()
            } else {
                format!("\u{fffd}×{run}").into()
            }
        } else {
            (&*c.encode_utf8(&mut piece)).into()
        };
        if out.len() + text.len() > max {
            out.push_str(CUT);
            return out;
        }
        out.push_str(&text);
    }
    out
}

/// The `host.log` import: charged to fuel, bounded, and never past the
/// call's deadline.
pub(crate) fn log(
    mut store: StoreContextMut<'_, HostState>,
    (level, message): (LogLevel, WasmStr),
) -> wasmtime::Result<()> {
    let _span = tracing::trace_span!("host.log").entered();
    let now = Instant::now();
    let state = store.data();
    if let Some((started, deadline)) = state.call
        && now.duration_since(started) > deadline
    {
        // Host time counts against the deadline too: a guest that spends
        // its call in log calls is stopped like one that spins.
        return Err(Trap::Interrupt.into());
    }
    charge(&mut store, LOG_CALL_FUEL)?;
    // Over a budget, nothing of the message is even read.
    if !store.data_mut().log.open(now) {
        return Ok(());
    }
    let text = message.to_str(&store)?;
    // One message is one guest-to-host transfer: bounded like the 0.1.0
    // call's (1 MiB) whatever the contract version, whose order lists may
    // be allowed more.
    if text.len() > crate::instance::CALL_TRANSFER_BYTES {
        return Err(wasmtime::format_err!(
            "host.log: a message of {} bytes is over the {} byte bound of one transfer: {}",
            text.len(),
            crate::instance::CALL_TRANSFER_BYTES,
            crate::instance::error::HOSTCALL_FUEL_EXHAUSTED
        ));
    }
    let read = text.len() as u64;
    let line = sanitize(&text, MAX_LOG_MESSAGE_BYTES);
    charge(
        &mut store,
        read.saturating_mul(LOG_FUEL_PER_READ_BYTE)
            .saturating_add((line.len() as u64).saturating_mul(LOG_FUEL_PER_WRITTEN_BYTE)),
    )?;
    let state = store.data_mut();
    if level == LogLevel::Error {
        state.last_error_line = Some(line.clone());
    }
    let id = state.strategy_id.as_str();
    let phase = state.log_phase;
    match state.log.admit(now, line.len()) {
        Admit::Write { notice } => {
            let notice = notice.unwrap_or("");
            crate::guest_log::emit(id, phase, level, &format!("{line}{notice}"));
        }
        Admit::DropWithNotice(notice) => tracing::warn!(strategy = id, "{notice}"),
        Admit::Drop => {}
    }
    Ok(())
}

/// Takes `fuel` from the running call; what it cannot pay traps it as out of
/// fuel, exactly as if the guest had spent it.
fn charge(store: &mut StoreContextMut<'_, HostState>, fuel: u64) -> wasmtime::Result<()> {
    let left = store.get_fuel()?;
    if left < fuel {
        store.set_fuel(0)?;
        return Err(Trap::OutOfFuel.into());
    }
    store.set_fuel(left - fuel)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (hardening issue, item 5): a NUL-filled 1 KiB line became
    /// 6,300 bytes of JSON. Control runs collapse, so what is counted is
    /// what is written, and JSON escaping adds nothing.
    #[test]
    fn regression_13_5_control_characters_do_not_expand() {
        let nuls = "\0".repeat(1024);
        let line = sanitize(&nuls, MAX_LOG_MESSAGE_BYTES);
        assert_eq!(line, "\u{fffd}×1024");
        let json = serde_json::to_string(&line).unwrap();
        assert!(json.len() <= line.len() + 2, "{json}");
        assert_eq!(
            sanitize("a\x1b[31mred\nb", 100),
            "a\u{fffd}[31mred\u{fffd}b"
        );
        let long = "é".repeat(2000);
        let cut = sanitize(&long, MAX_LOG_MESSAGE_BYTES);
        assert!(cut.len() <= MAX_LOG_MESSAGE_BYTES + "… (truncated)".len());
        assert!(cut.ends_with("… (truncated)"));
    }

    /// Regression (hardening issue, item 5): 32 lines of 1 KiB per call gave
    /// 374 MB of log in 10 s. Bytes per call and per second are capped, with
    /// one notice per call or window.
    #[test]
    fn regression_13_5_log_bytes_are_capped_per_call_and_per_second() {
        // Lines that cost 1000 bytes with their overhead.
        let line = 1000 - LOG_LINE_OVERHEAD_BYTES;
        let mut budget = LogBudget::new("t", 2048, 4096);
        let t0 = Instant::now();
        let mut written = 0;
        let mut notices = 0;
        for call in 0..10 {
            budget.start_call();
            for _ in 0..32 {
                match budget.admit(t0 + Duration::from_millis(call), line) {
                    Admit::Write { .. } => written += 1000,
                    Admit::DropWithNotice(_) => notices += 1,
                    Admit::Drop => {}
                }
            }
        }
        assert_eq!(written, 4000, "4096 bytes per second, in lines of 1000");
        assert_eq!(budget.written(), 4000);
        // Two per-call notices (the calls that wrote), then one for the window.
        assert_eq!(notices, 3);
        budget.start_call();
        assert_eq!(
            budget.admit(t0 + WINDOW + Duration::from_millis(1), line),
            Admit::Write { notice: None },
            "a new second, a new budget"
        );
    }

    #[test]
    fn the_line_count_still_ends_a_call_with_a_notice() {
        let mut budget = LogBudget::new("t", 1 << 20, 1 << 30);
        let now = Instant::now();
        for _ in 0..LOG_LINES_PER_CALL - 1 {
            assert_eq!(budget.admit(now, 10), Admit::Write { notice: None });
        }
        assert!(matches!(
            budget.admit(now, 10),
            Admit::Write { notice: Some(_) }
        ));
        assert_eq!(budget.admit(now, 10), Admit::Drop);
    }
}
