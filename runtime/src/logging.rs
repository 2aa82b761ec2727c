//! `--log-format pretty|json` for every command, via `tracing`. Lines are
//! handed to a writer thread, so a log call on the bar loop (a guest's `log`
//! import, a refused order) never waits on stderr.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// How log lines are written to stderr (`--log-format`, default `pretty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One compact, human-readable line per event, coloured on a terminal.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Logs go to stderr; the level comes from `RUST_LOG` (default `info`, and
/// `warn` for the NATS client, which logs every connection at `info`: the
/// fleet agent says itself when it joins, loses or regains NATS).
/// Keep the guard alive until exit: dropping it flushes what is buffered.
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        // Past this many buffered lines, new ones are dropped rather than
        // blocking the caller.
        .buffered_lines_limit(64 * 1024)
        .lossy(true)
        .finish(std::io::stderr());
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,async_nats=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Pretty => builder.compact().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    guard
}
