//! The journal: orders, fills and events as JSON lines, written by its own
//! thread so the bar loop never touches a file.
//!
//! Durability: every record is handed to the operating system (so it
//! survives the runtime being killed, `kill -9` included) as soon as the
//! journal thread has caught up with what was sent to it, and at most
//! [`FLUSH_EVERY`] after it was written while records keep coming; an audit
//! record is flushed on its own. Nothing is `fsync`ed: a power loss can lose
//! the last moments.
//!
//! Control actions add one promise: their HTTP answer is sent only after
//! the records they produced (`state` and `reload` events, the audit record)
//! were handed to the OS. The ops API sends a [`Record::Barrier`] after
//! them; the journal thread flushes when it reaches it and acknowledges, and
//! the answer waits for that (at most [`BARRIER_WAIT`], then it is sent
//! anyway with a warning). The bar loop never waits on a barrier.
//!
//! Every record carries the run's id (`run`), so records of
//! different runs (which all number bars and versions from the start) never
//! look alike.

use super::events::Event;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Written records reach the operating system at most this long after they
/// were written, even while records keep coming.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// How long a control action's answer waits for the journal to flush what
/// the action wrote (the journal thread is behind a disk that stalls, say)
/// before it is sent anyway.
pub const BARRIER_WAIT: Duration = Duration::from_secs(1);

/// What every order and fill record starts with: when, which bar, whose
/// (strategy, version, build), and the trade's symbol, side and size.
#[derive(Debug, Clone, Serialize)]
pub struct TradeHead {
    /// The bar's timestamp, in ms since the epoch.
    pub ts_ms: i64,
    /// The bar's sequence number.
    pub seq: u64,
    /// The strategy's id.
    pub strategy: Arc<str>,
    /// Version of the generation that sent the order.
    pub version: u64,
    /// SHA-256 of that generation's component.
    pub sha256: Arc<str>,
    /// The symbol's name.
    pub symbol: Arc<str>,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// Units ordered or filled.
    pub quantity: f64,
}

/// An order accepted by validation and risk (`orders.jsonl`).
#[derive(Debug, Clone, Serialize)]
pub struct OrderRecord {
    /// When, whose, what.
    #[serde(flatten)]
    pub head: TradeHead,
    /// Its kind and levels.
    #[serde(flatten)]
    pub terms: OrderTerms,
}

/// An order's kind and levels: what `orders.jsonl` records and the status's
/// working orders show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderTerms {
    /// `market`, `limit`, `stop`, `stop_limit`, `trailing_amount`,
    /// `trailing_percent` (0.1.0 orders: `market` or `limit`).
    pub kind: &'static str,
    /// The limit price (limit and stop-limit orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_price: Option<f64>,
    /// Contract 0.2.0 orders only: the strategy's id, the other levels and
    /// links (absent for 0.1.0 orders, whose records are unchanged).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketFields>,
}

/// What an order with an id adds to its `orders.jsonl` record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketFields {
    /// The strategy's id of the order.
    pub id: u64,
    /// The stop (stop and stop-limit orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<f64>,
    /// A trailing stop's distance in price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trail_amount: Option<f64>,
    /// A trailing stop's distance in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trail_percent: Option<f64>,
    /// `gtc`, `bars:N` or `day`.
    pub tif: String,
    /// Its OCO group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oco_group: Option<u64>,
    /// Its bracket entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
}

/// What happened to an order with an id (`order_updates.jsonl`, contract
/// 0.2.0): accepted, triggered, filled, cancelled, expired, rejected (with
/// the reason), replaced.
#[derive(Debug, Clone, Serialize)]
pub struct OrderUpdateRecord {
    /// Sequence number of the bar it happened on.
    pub seq: u64,
    /// The strategy's id.
    pub strategy: Arc<str>,
    /// The generation's version.
    pub version: u64,
    /// The order's id.
    pub id: u64,
    /// Its symbol's name (`?` when the id named no order).
    pub symbol: Arc<str>,
    /// What happened.
    pub status: &'static str,
    /// Why (rejections, cancellations, expiries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A fill by the paper broker (`fills.jsonl`).
#[derive(Debug, Clone, Serialize)]
pub struct FillRecord {
    /// When, whose, what.
    #[serde(flatten)]
    pub head: TradeHead,
    /// The fill price, slippage included.
    pub price: f64,
    /// Commission charged for the fill.
    pub commission: f64,
}

/// One control action taken through the ops API (`audit.jsonl`): who, what,
/// and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When (RFC 3339).
    pub ts: String,
    /// `api:<token name>`, or `api:anonymous` when no token is configured.
    pub actor: String,
    /// `reload`, `rollback`, `pause`, `resume`, `halt` or `unhalt`.
    pub action: crate::action::Action,
    /// The strategy it was about.
    pub strategy: String,
    /// Arguments, such as `steps=2` or `to_version=3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
    /// `ok`, `rejected` (the runtime refused it) or `denied` (auth).
    pub result: String,
    /// The strategy's state afterwards (`running`, `paused`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The live version afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Why it was rejected or denied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where the request came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

pub enum Record {
    Order(OrderRecord),
    Fill(FillRecord),
    OrderUpdate(OrderUpdateRecord),
    Event(Event),
    Audit(AuditRecord),
    /// An order of a shadow candidate, on its own paper account
    /// (`shadow_orders.jsonl`; `sha256` is the candidate's).
    ShadowOrder(OrderRecord),
    /// A fill of a shadow candidate's order (`shadow_fills.jsonl`).
    ShadowFill(FillRecord),
    /// Flush everything sent before this, then acknowledge on the channel.
    Barrier(SyncSender<()>),
}

/// Files in the journal directory.
pub const ORDERS_FILE: &str = "orders.jsonl";
/// Fills, one JSON object a line.
pub const FILLS_FILE: &str = "fills.jsonl";
/// Updates of orders with ids (contract 0.2.0), one JSON object a line.
pub const ORDER_UPDATES_FILE: &str = "order_updates.jsonl";
/// Events (reload, trap, handoff, refusal, state), one JSON object a line.
pub const EVENTS_FILE: &str = "events.jsonl";
/// Control actions, one JSON object a line, each flushed when written.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// Orders of shadow candidates: never sent to the live account.
pub const SHADOW_ORDERS_FILE: &str = "shadow_orders.jsonl";
/// Fills of shadow candidates on their shadow accounts.
pub const SHADOW_FILLS_FILE: &str = "shadow_fills.jsonl";

struct Files {
    orders: BufWriter<File>,
    fills: BufWriter<File>,
    order_updates: BufWriter<File>,
    events: BufWriter<File>,
    audit: BufWriter<File>,
    /// Opened at the first shadow record: a run without a candidate leaves
    /// no empty shadow files behind.
    shadow_orders: Option<BufWriter<File>>,
    shadow_fills: Option<BufWriter<File>>,
    dir: PathBuf,
}

fn open_append(dir: &Path, name: &str) -> anyhow::Result<BufWriter<File>> {
    let path = dir.join(name);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open journal file {}: {e}", path.display()))?;
    Ok(BufWriter::new(file))
}

/// A new run id: the start time (ms since the epoch) and the process id, in
/// hex — unique per run on one machine, and sorting by start time.
pub fn new_run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:011x}-{:x}", std::process::id())
}

/// Starts the journal thread. Without a directory records are dropped.
pub fn start(
    dir: Option<PathBuf>,
    run_id: String,
    records: Receiver<Record>,
) -> anyhow::Result<JoinHandle<()>> {
    let files = match &dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create journal directory {}: {e}", dir.display())
            })?;
            Some(Files {
                orders: open_append(dir, ORDERS_FILE)?,
                fills: open_append(dir, FILLS_FILE)?,
                order_updates: open_append(dir, ORDER_UPDATES_FILE)?,
                events: open_append(dir, EVENTS_FILE)?,
                audit: open_append(dir, AUDIT_FILE)?,
                shadow_orders: None,
                shadow_fills: None,
                dir: dir.clone(),
            })
        }
        None => None,
    };
    crate::threads::spawn("sandbar-journal", move || run(files, &run_id, records))
        .map_err(|e| anyhow::anyhow!("cannot start the journal thread: {e}"))
}

fn run(mut files: Option<Files>, run_id: &str, records: Receiver<Record>) {
    // `"run":"<id>",` goes first in every line.
    let run_field = format!("\"run\":{},", serde_json::Value::from(run_id));
    // When the oldest record not yet flushed was written.
    let mut unflushed_since: Option<Instant> = None;
    loop {
        let next = match unflushed_since {
            // Caught up: hand what was written to the OS now.
            Some(_) => match records.try_recv() {
                Ok(record) => Ok(record),
                Err(TryRecvError::Empty) => {
                    flush(&mut files);
                    unflushed_since = None;
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
            },
            None => records.recv().map_err(|_| ()),
        };
        match next {
            Ok(Record::Barrier(ack)) => {
                flush(&mut files);
                unflushed_since = None;
                // The asker may have given up waiting: nothing to do then.
                let _ = ack.try_send(());
            }
            Ok(record) => {
                if let Some(files) = files.as_mut() {
                    write(files, &run_field, &record);
                }
                let since = *unflushed_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= FLUSH_EVERY {
                    flush(&mut files);
                    unflushed_since = None;
                }
            }
            Err(_) => break,
        }
    }
    flush(&mut files);
}

fn write(files: &mut Files, run_field: &str, record: &Record) {
    let shadow = |slot: &mut Option<BufWriter<File>>, dir: &Path, name: &str| {
        if slot.is_none() {
            match open_append(dir, name) {
                Ok(file) => *slot = Some(file),
                Err(e) => tracing::error!(error = %e, "cannot open a shadow journal file"),
            }
        }
    };
    match record {
        Record::ShadowOrder(_) => shadow(&mut files.shadow_orders, &files.dir, SHADOW_ORDERS_FILE),
        Record::ShadowFill(_) => shadow(&mut files.shadow_fills, &files.dir, SHADOW_FILLS_FILE),
        _ => {}
    }
    let (writer, line) = match record {
        Record::ShadowOrder(r) => match files.shadow_orders.as_mut() {
            Some(w) => (w, serde_json::to_string(r)),
            None => return,
        },
        Record::ShadowFill(r) => match files.shadow_fills.as_mut() {
            Some(w) => (w, serde_json::to_string(r)),
            None => return,
        },
        Record::Order(r) => (&mut files.orders, serde_json::to_string(r)),
        Record::Fill(r) => (&mut files.fills, serde_json::to_string(r)),
        Record::OrderUpdate(r) => (&mut files.order_updates, serde_json::to_string(r)),
        Record::Event(r) => (&mut files.events, serde_json::to_string(r)),
        Record::Audit(r) => (&mut files.audit, serde_json::to_string(r)),
        Record::Barrier(_) => return,
    };
    let audit = matches!(record, Record::Audit(_));
    let result = line
        .map_err(std::io::Error::other)
        .and_then(|line| {
            // Every record is a JSON object: put the run id first.
            let body = line.strip_prefix('{').unwrap_or(&line);
            writeln!(writer, "{{{run_field}{body}")
        })
        // An audit line is on disk before the next action, not 200 ms later.
        .and_then(|()| if audit { writer.flush() } else { Ok(()) });
    if let Err(e) = result {
        tracing::error!(error = %e, "cannot write to the journal");
    }
}

fn flush(files: &mut Option<Files>) {
    if let Some(files) = files.as_mut() {
        for writer in [
            &mut files.orders,
            &mut files.fills,
            &mut files.order_updates,
            &mut files.events,
            &mut files.audit,
        ]
        .into_iter()
        .chain(files.shadow_orders.as_mut())
        .chain(files.shadow_fills.as_mut())
        {
            if let Err(e) = writer.flush() {
                tracing::error!(error = %e, "cannot flush the journal");
            }
        }
    }
}

/// A sender that never fails the caller: a closed journal only loses records.
#[derive(Clone)]
pub struct JournalSender(pub(crate) Sender<Record>);

impl JournalSender {
    pub fn send(&self, record: Record) {
        let _ = self.0.send(record);
    }

    /// Waits (at most `wait`) until every record sent before this call was
    /// handed to the OS. False when it took longer or the journal is closed.
    /// Never call it from the bar loop.
    pub fn barrier(&self, wait: Duration) -> bool {
        let (ack, acked) = std::sync::mpsc::sync_channel(1);
        if self.0.send(Record::Barrier(ack)).is_err() {
            return false;
        }
        acked.recv_timeout(wait).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(n: u32) -> Record {
        Record::Audit(AuditRecord {
            ts: String::new(),
            actor: "test".into(),
            action: crate::action::Action::Pause,
            strategy: format!("s{n}"),
            args: None,
            result: "ok".into(),
            state: None,
            version: None,
            error: None,
            remote: None,
        })
    }

    /// Regression (hardening issue, item 12): a control action's records
    /// must be on disk before its answer. After a barrier returns, every
    /// record sent before it is in the file, whatever the flush timer says.
    #[test]
    fn regression_13_12_a_barrier_returns_once_earlier_records_reached_the_os() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = start(Some(dir.path().to_owned()), "run".into(), rx).unwrap();
        let sender = JournalSender(tx);
        for round in 0..20u32 {
            let event = Event::State(crate::live::events::StateEvent {
                ts: String::new(),
                strategy: format!("s{round}"),
                state: crate::live::RunState::Paused,
                previous: crate::live::RunState::Running,
                actor: "test".into(),
                reason: None,
            });
            sender.send(Record::Event(event));
            sender.send(audit(round));
            assert!(sender.barrier(BARRIER_WAIT), "round {round}: acknowledged");
            let events = std::fs::read_to_string(dir.path().join(EVENTS_FILE)).unwrap();
            assert_eq!(events.lines().count(), round as usize + 1, "round {round}");
            assert!(events.contains(&format!("\"s{round}\"")), "{events}");
        }
        drop(sender);
        thread.join().unwrap();
    }

    #[test]
    fn a_barrier_on_a_closed_journal_says_so_at_once() {
        let (tx, rx) = std::sync::mpsc::channel();
        drop(rx);
        assert!(!JournalSender(tx).barrier(BARRIER_WAIT));
    }
}
