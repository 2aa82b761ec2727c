//! [`EventSink`]: the one way an event leaves the runtime — the log line,
//! reload metrics, `events.jsonl`, the in-memory backlog and every
//! subscriber. The control plane and the event thread both emit through it,
//! so a loop event never waits for a compile.

use super::events::{Event, Outcome, ReloadEvent};
use super::journal::{AuditRecord, JournalSender, Record};
use super::shared::{Shared, lock};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events kept in memory for `recent_events` and new subscribers.
pub(crate) const RECENT_EVENTS: usize = 1000;

/// A handoff is held back at most this long for the reload event that
/// announces its version (the control plane publishes, then announces; the
/// loop may take the new generation in between).
const HANDOFF_HOLD: Duration = Duration::from_secs(1);

pub(crate) struct EventSink {
    journal: JournalSender,
    shared: Arc<Shared>,
    order: Mutex<HandoffOrder>,
}

/// Keeps `reload` (version n swapped) before `handoff` (to version n), and
/// both before what the loop reports of version n afterwards, for every
/// subscriber, as when they all went through one thread.
#[derive(Default)]
struct HandoffOrder {
    /// The newest version announced by a reload event, per strategy.
    announced: HashMap<String, u64>,
    /// Events held back, oldest first: a handoff whose version is not
    /// announced yet, and every later loop event of the same strategy.
    held: Vec<(Instant, Event)>,
}

impl EventSink {
    pub(crate) fn new(journal: JournalSender, shared: Arc<Shared>) -> Self {
        Self {
            journal,
            shared,
            order: Mutex::new(HandoffOrder::default()),
        }
    }

    /// Journals, keeps and broadcasts one event. `recent` is held throughout,
    /// so the journal, the backlog and subscribers see one order.
    pub(crate) fn emit(&self, event: Event) {
        let mut recent = lock(&self.shared.recent);
        if recent.len() == RECENT_EVENTS {
            recent.pop_front();
        }
        recent.push_back(event.clone());
        self.journal.send(Record::Event(event.clone()));
        lock(&self.shared.subscribers).send(&event);
        drop(recent);
    }

    /// Logs, counts and emits a reload attempt's event; then releases the
    /// events that were waiting for it.
    pub(crate) fn reload(&self, event: ReloadEvent) -> ReloadEvent {
        log_reload(&event);
        lock(&self.shared.metrics)
            .entry(event.strategy.clone())
            .or_default()
            .record(&event);
        let mut order = lock(&self.order);
        if let Some(version) = event.version
            && matches!(
                event.outcome,
                Outcome::Swapped | Outcome::RolledBack | Outcome::Pending
            )
        {
            let announced = order.announced.entry(event.strategy.clone()).or_default();
            *announced = (*announced).max(version);
        }
        if event.outcome == Outcome::Retired {
            order.announced.remove(&event.strategy);
        }
        self.emit(Event::Reload(event.clone()));
        for ready in order.take_ready(|_| false) {
            self.emit(ready);
        }
        event
    }

    /// Emits an event the bar loop reported: at once, unless an earlier
    /// event of the same strategy is held (then after it). A handoff is held
    /// until the reload event of its version is out.
    pub(crate) fn loop_event(&self, event: Event) {
        let mut order = lock(&self.order);
        let strategy = event.strategy();
        let behind_held = order.held.iter().any(|(_, e)| e.strategy() == strategy);
        let unannounced = match &event {
            Event::Handoff(h) => order
                .announced
                .get(&h.strategy)
                .is_none_or(|v| *v < h.version),
            _ => false,
        };
        if behind_held || unannounced {
            order.held.push((Instant::now(), event));
        } else {
            self.emit(event);
        }
    }

    /// Emits held events whose announcement never came (a generation
    /// published without a reload event would otherwise hide them); true
    /// while any is still held.
    pub(crate) fn release_stale_held(&self) -> bool {
        let mut order = lock(&self.order);
        for stale in order.take_ready(|since| since.elapsed() >= HANDOFF_HOLD) {
            self.emit(stale);
        }
        !order.held.is_empty()
    }

    /// Writes a control action to `audit.jsonl`.
    pub(crate) fn audit(&self, record: AuditRecord) {
        self.journal.send(Record::Audit(record));
    }

    /// Waits (at most `wait`) until the journal handed every record emitted
    /// before this call to the OS; see [`super::journal`]. False on timeout.
    pub(crate) fn journal_barrier(&self, wait: Duration) -> bool {
        self.journal.barrier(wait)
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}

impl HandoffOrder {
    /// Removes and returns, oldest first, the held events that may go now:
    /// per strategy, everything up to its first handoff that is neither
    /// announced nor `expired`.
    fn take_ready(&mut self, expired: impl Fn(Instant) -> bool) -> Vec<Event> {
        let mut blocked: Vec<String> = Vec::new();
        let mut ready = Vec::new();
        for (since, event) in std::mem::take(&mut self.held) {
            let strategy = event.strategy().to_owned();
            let waits = blocked.contains(&strategy)
                || match &event {
                    Event::Handoff(h) => {
                        self.announced
                            .get(&h.strategy)
                            .is_none_or(|v| *v < h.version)
                            && !expired(since)
                    }
                    _ => false,
                };
            if waits {
                if !blocked.contains(&strategy) {
                    blocked.push(strategy);
                }
                self.held.push((since, event));
            } else {
                ready.push(event);
            }
        }
        ready
    }
}

fn log_reload(event: &ReloadEvent) {
    match event.outcome {
        Outcome::Quarantined => tracing::error!(
            strategy = %event.strategy, version = event.version.unwrap_or(0),
            "quarantined: {} (hint: {})",
            event.error.as_deref().unwrap_or(""),
            event.hint.as_deref().unwrap_or("")
        ),
        Outcome::Rejected => tracing::error!(
            strategy = %event.strategy, stage = ?event.stage, trigger = ?event.trigger,
            "reload rejected; the running version keeps running: {}{}",
            event.error.as_deref().unwrap_or(""),
            event.hint.as_deref().map(|h| format!(" (hint: {h})")).unwrap_or_default()
        ),
        outcome => tracing::info!(
            strategy = %event.strategy, ?outcome, version = event.version.unwrap_or(0), trigger = ?event.trigger,
            sha256 = event.sha256.as_deref().unwrap_or(""), cache_hit = event.cache_hit,
            total_us = event.duration_us.values().sum::<u64>(),
            "reload"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::events::{HandoffEvent, HandoffMethod, TrapEvent};

    fn handoff(strategy: &str, version: u64) -> Event {
        Event::Handoff(HandoffEvent {
            ts: String::new(),
            strategy: strategy.into(),
            version,
            previous_version: version - 1,
            previous_seq_range: None,
            first_seq: 0,
            method: HandoffMethod::Replay,
            replayed_bars: 0,
            restore_error: None,
        })
    }

    fn trap(strategy: &str, version: u64) -> Event {
        Event::Trap(TrapEvent {
            ts: String::new(),
            strategy: strategy.into(),
            version,
            sha256: String::new(),
            export: "on-bar".into(),
            seq: 0,
            kind: crate::instance::TrapKind::Trap,
            message: String::new(),
            consecutive: 1,
        })
    }

    fn names(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Handoff(h) => format!("handoff {} v{}", h.strategy, h.version),
                Event::Trap(t) => format!("trap {} v{}", t.strategy, t.version),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn held_events_go_out_in_order_once_their_version_is_announced() {
        let since = Instant::now();
        let mut order = HandoffOrder {
            held: vec![
                (since, handoff("a", 2)),
                (since, trap("a", 2)),
                (since, trap("b", 1)),
            ],
            ..HandoffOrder::default()
        };
        // Nothing of `a` may pass its unannounced handoff; `b` is free.
        assert_eq!(names(&order.take_ready(|_| false)), ["trap b v1"]);
        assert_eq!(order.held.len(), 2);
        order.announced.insert("a".into(), 2);
        assert_eq!(
            names(&order.take_ready(|_| false)),
            ["handoff a v2", "trap a v2"]
        );
        assert!(order.held.is_empty());
    }

    #[test]
    fn a_handoff_never_announced_is_released_when_it_expires() {
        let mut order = HandoffOrder {
            held: vec![
                (Instant::now(), handoff("a", 7)),
                (Instant::now(), trap("a", 7)),
            ],
            ..HandoffOrder::default()
        };
        assert!(order.take_ready(|_| false).is_empty());
        assert_eq!(
            names(&order.take_ready(|_| true)),
            ["handoff a v7", "trap a v7"]
        );
    }
}
