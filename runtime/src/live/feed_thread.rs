//! The feed runs on its own thread and hands bars to the loop over a bounded
//! channel, so pacing, parsing and sockets stay off the loop. One function
//! per `feed.kind`.

use crate::config::{BadRowPolicy, Config, FeedKind};
use crate::contract::Bar;
use crate::feed::csv::CsvBars;
use crate::feed::{MarketStyle, Sequencer, SyntheticFeed, parse_line};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SendError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bars the feed may run ahead of the loop before it waits.
pub const FEED_QUEUE: usize = 4096;

/// How often waiting feed threads look at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

/// A bar as the loop receives it: stamped when the feed delivered it, so the
/// loop can tell how long it waited in the queue (the contract's `Bar`
/// record stays what the guest sees).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FedBar {
    pub bar: Bar,
    /// When the feed handed it over (before any wait for room in the queue:
    /// a full queue is part of the lag).
    pub arrived: Instant,
}

/// The sending end of the bar queue: stamps each bar and counts what it
/// delivered, so the loop's backlog is `delivered - processed`.
#[derive(Clone)]
pub(crate) struct BarSender {
    tx: SyncSender<FedBar>,
    delivered: Arc<AtomicU64>,
}

impl BarSender {
    pub(crate) fn new(tx: SyncSender<FedBar>, delivered: Arc<AtomicU64>) -> Self {
        Self { tx, delivered }
    }

    /// Stamps and queues one bar; blocks while the queue is full. Fails only
    /// when the loop has stopped.
    pub(crate) fn send(&self, bar: Bar) -> Result<(), SendError<FedBar>> {
        let fed = FedBar {
            bar,
            arrived: Instant::now(),
        };
        self.tx.send(fed)?;
        self.delivered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// What the feed threads share with the `Runtime` handle.
#[derive(Clone)]
pub struct FeedControl {
    pub stop: Arc<AtomicBool>,
    /// Why the feed stopped early (a bad CSV row with `on_bad_row = "stop"`).
    pub error: Arc<Mutex<Option<String>>>,
}

impl FeedControl {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn fail(&self, message: String) {
        tracing::error!("feed stopped: {message}");
        *super::shared::lock(&self.error) = Some(message);
    }
}

/// A started feed: its thread and, for TCP, the bound address.
pub struct StartedFeed {
    pub thread: JoinHandle<()>,
    pub listening: Option<SocketAddr>,
}

/// Starts the feed `config.feed` describes; `max_bars` bounds any of them.
pub fn start(
    config: &Config,
    max_bars: Option<u64>,
    bars: BarSender,
    control: FeedControl,
) -> anyhow::Result<StartedFeed> {
    let feed = config.feed.clone();
    let skip = feed.on_bad_row == BadRowPolicy::Skip;
    let mut listening = None;
    let body: Box<dyn FnOnce() + Send> = match feed.kind {
        FeedKind::Synthetic => Box::new(move || {
            synthetic(
                &feed.symbols,
                feed.seed,
                feed.interval_ms,
                max_bars,
                &bars,
                &control,
            )
        }),
        FeedKind::Csv => {
            let path = config
                .feed_path()
                .ok_or_else(|| anyhow::anyhow!("[feed] kind = \"csv\" needs `path`"))?;
            // Opened here so a missing file or a bad header refuses the start.
            let rows = CsvBars::open(&path, &feed.symbols).map_err(|e| anyhow::anyhow!("{e}"))?;
            Box::new(move || csv(rows, feed.speed, skip, max_bars, &bars, &control))
        }
        FeedKind::Tcp => {
            let listener = TcpListener::bind(&feed.listen).map_err(|e| {
                anyhow::anyhow!(
                    "the line feed cannot listen on {}: {e}; pick a free port in [feed] listen",
                    feed.listen
                )
            })?;
            let addr = listener.local_addr()?;
            listener.set_nonblocking(true)?;
            tracing::info!(%addr, "line feed listening: send one JSON bar per line");
            listening = Some(addr);
            let lines = Arc::new(LineSink::new(feed.symbols.clone(), bars, max_bars));
            Box::new(move || tcp(listener, lines, skip, &control))
        }
        FeedKind::Stdin => {
            let lines = LineSink::new(feed.symbols.clone(), bars, max_bars);
            Box::new(move || stdin(lines, skip, &control))
        }
    };
    let thread = std::thread::Builder::new()
        .name("sandbar-feed".into())
        .spawn(move || {
            super::bar_loop::priority::raise_this_thread();
            body()
        })
        .map_err(|e| anyhow::anyhow!("cannot start the feed thread: {e}"))?;
    Ok(StartedFeed { thread, listening })
}

/// Sleeps until `due`, waking to check the stop flag; false if stopped.
fn wait_until(due: Instant, control: &FeedControl) -> bool {
    while let Some(wait) = due.checked_duration_since(Instant::now()) {
        if control.stopped() {
            return false;
        }
        std::thread::sleep(wait.min(STOP_POLL));
    }
    true
}

/// One bar per symbol every `interval_ms` (0 = as fast as the loop takes them).
fn synthetic(
    symbols: &[String],
    seed: u64,
    interval_ms: u64,
    max_bars: Option<u64>,
    bars: &BarSender,
    control: &FeedControl,
) {
    let interval = Duration::from_millis(interval_ms);
    let count = symbols.len().max(1) as u64;
    let feed = SyntheticFeed::new(
        symbols.len(),
        seed,
        MarketStyle::Regimes,
        interval_ms.max(1) as i64,
    );
    let started = Instant::now();
    for (n, bar) in feed.enumerate() {
        let n = n as u64;
        if control.stopped() || max_bars.is_some_and(|max| n >= max) {
            break;
        }
        if !interval.is_zero()
            && n.is_multiple_of(count)
            && !wait_until(started + interval * (n / count) as u32, control)
        {
            return;
        }
        if bars.send(bar).is_err() {
            break;
        }
    }
}

/// Replays a CSV file; `speed` > 0 paces it at that multiple of real time.
fn csv(
    rows: CsvBars,
    speed: f64,
    skip_bad_rows: bool,
    max_bars: Option<u64>,
    bars: &BarSender,
    control: &FeedControl,
) {
    let started = Instant::now();
    let mut first_ts = None;
    let mut sent = 0u64;
    for row in rows {
        if control.stopped() || max_bars.is_some_and(|max| sent >= max) {
            return;
        }
        let bar = match row {
            Ok(bar) => bar,
            Err(bad) if skip_bad_rows => {
                tracing::warn!("{bad}; row skipped (feed.on_bad_row = \"skip\")");
                continue;
            }
            Err(bad) => {
                control.fail(format!(
                    "{bad}; fix the row, or set [feed] on_bad_row = \"skip\" to skip bad rows"
                ));
                return;
            }
        };
        if speed > 0.0 {
            let first = *first_ts.get_or_insert(bar.ts_ms);
            let offset_ms = (bar.ts_ms - first) as f64 / speed;
            let due = started + Duration::from_secs_f64(offset_ms.max(0.0) / 1000.0);
            if !wait_until(due, control) {
                return;
            }
        }
        if bars.send(bar).is_err() {
            return;
        }
        sent += 1;
    }
    tracing::info!(bars = sent, "CSV feed finished");
}

/// Numbers line-feed bars from any number of connections in one order.
struct LineSink {
    symbols: Vec<String>,
    state: Mutex<(Sequencer, BarSender)>,
    max_bars: Option<u64>,
}

impl LineSink {
    fn new(symbols: Vec<String>, bars: BarSender, max_bars: Option<u64>) -> Self {
        let sequencer = Sequencer::new(symbols.len());
        Self {
            symbols,
            state: Mutex::new((sequencer, bars)),
            max_bars,
        }
    }

    /// Parses, checks, numbers and sends one line; the bar's seq or why not.
    fn take(&self, line: &str) -> Result<u64, String> {
        let raw = parse_line(line, &self.symbols)?;
        let mut state = super::shared::lock(&self.state);
        let (sequencer, bars) = &mut *state;
        let bar = sequencer.admit(raw, &self.symbols)?;
        if self.max_bars.is_some_and(|max| bar.seq >= max) {
            return Err("the feed has taken all the bars it was asked for".into());
        }
        bars.send(bar)
            .map_err(|_| "the runtime is shutting down".to_owned())?;
        Ok(bar.seq)
    }
}

fn tcp(listener: TcpListener, lines: Arc<LineSink>, skip_bad_lines: bool, control: &FeedControl) {
    let mut clients = Vec::new();
    while !control.stopped() {
        match listener.accept() {
            Ok((stream, peer)) => {
                tracing::info!(%peer, "line feed client connected");
                let lines = Arc::clone(&lines);
                let control = control.clone();
                let spawned = std::thread::Builder::new()
                    .name("sandbar-feed-client".into())
                    .spawn(move || {
                        super::bar_loop::priority::raise_this_thread();
                        serve_client(stream, peer, &lines, skip_bad_lines, &control)
                    });
                match spawned {
                    Ok(handle) => clients.push(handle),
                    Err(e) => tracing::error!(%peer, "cannot serve the client: {e}"),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(STOP_POLL),
            Err(e) => {
                tracing::warn!("line feed accept failed: {e}");
                std::thread::sleep(STOP_POLL);
            }
        }
        clients.retain(|c| !c.is_finished());
    }
    for client in clients {
        let _ = client.join();
    }
}

/// Answers every line with `ok <seq>` or `error: <why>`.
fn serve_client(
    stream: TcpStream,
    peer: SocketAddr,
    lines: &LineSink,
    skip_bad_lines: bool,
    control: &FeedControl,
) {
    // Accepted sockets may inherit non-blocking mode; reads time out instead
    // so the thread still notices a stop.
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(STOP_POLL * 4)));
    let (Ok(()), Ok(mut writer)) = (setup, stream.try_clone()) else {
        tracing::warn!(%peer, "cannot set up the client socket");
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut number = 0u64;
    while !control.stopped() {
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue; // a partial line stays in `line`
            }
            Err(e) => {
                tracing::warn!(%peer, "line feed read failed: {e}");
                break;
            }
        }
        number += 1;
        let text = line.trim();
        let reply = if text.is_empty() {
            None
        } else {
            Some(lines.take(text))
        };
        line.clear();
        let (answer, bad) = match reply {
            None => continue,
            Some(Ok(seq)) => (format!("ok {seq}\n"), false),
            Some(Err(why)) => {
                tracing::warn!(%peer, line = number, "line feed: {why}");
                (format!("error: line {number}: {why}\n"), true)
            }
        };
        if writer.write_all(answer.as_bytes()).is_err() || (bad && !skip_bad_lines) {
            break;
        }
    }
    tracing::info!(%peer, "line feed client gone");
}

fn stdin(lines: LineSink, skip_bad_lines: bool, control: &FeedControl) {
    let input = std::io::stdin().lock();
    for (number, line) in input.lines().enumerate() {
        if control.stopped() {
            return;
        }
        let Ok(line) = line else {
            control.fail("standard input is not readable text".into());
            return;
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Err(why) = lines.take(line.trim()) {
            let message = format!("<stdin>:{}: {why}", number + 1);
            if skip_bad_lines {
                tracing::warn!("{message}; line skipped");
            } else {
                control.fail(format!(
                    "{message}; fix the producer, or set [feed] on_bad_row = \"skip\""
                ));
                return;
            }
        }
    }
    tracing::info!("standard input closed; the feed is finished");
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The nice value of this process's thread named `name`, from
    /// `/proc/self/task/*/stat` (field 19).
    fn nice_of(name: &str) -> Option<i32> {
        crate::threads::tasks_named(name)
            .into_iter()
            .find_map(|task| {
                let stat = std::fs::read_to_string(task.join("stat")).ok()?;
                let (_, rest) = stat.rsplit_once(") ")?;
                rest.split_whitespace().nth(19 - 3)?.parse().ok()
            })
    }

    #[test]
    fn issue_16_the_feed_thread_runs_at_the_bar_loops_priority() {
        let allowed = std::thread::spawn(super::super::bar_loop::priority::raise_this_thread)
            .join()
            .unwrap();
        let config = Config::parse(
            "[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 60000\n",
            std::path::Path::new("feed.toml"),
        )
        .unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let control = FeedControl {
            stop: Arc::new(AtomicBool::new(false)),
            error: Arc::new(Mutex::new(None)),
        };
        let sender = BarSender::new(tx, Arc::new(AtomicU64::new(0)));
        let started = start(&config, None, sender, control.clone()).unwrap();
        // The first bar is out: the thread has started and set its priority.
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        let nice = nice_of("sandbar-feed");
        control.stop.store(true, Ordering::Relaxed);
        drop(rx);
        started.thread.join().unwrap();
        let expected = if allowed {
            super::super::bar_loop::priority::LOOP_NICE
        } else {
            0
        };
        assert_eq!(nice, Some(expected), "the feed thread's nice value");
    }
}
