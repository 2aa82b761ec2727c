//! [`EventSink`]: the one way an event leaves the runtime — the log line,
//! reload metrics, `events.jsonl`, the in-memory backlog and every
//! subscriber. The control plane and the event thread both emit through it,
//! so a loop event never waits for a compile.

use super::events::{Event, HandoffEvent, Outcome, ReloadEvent};
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

/// Keeps `reload` (version n swapped) before `handoff` (to version n) for
/// every subscriber, as when both went through one thread.
#[derive(Default)]
struct HandoffOrder {
    /// The newest version announced by a reload event, per strategy.
    announced: HashMap<String, u64>,
    held: Vec<(Instant, HandoffEvent)>,
}

impl EventSink {
    pub(crate) fn new(journal: JournalSender, shared: Arc<Shared>) -> Self {
        Self {
            journal,
            shared,
            order: Mutex::new(HandoffOrder::default()),
        }
    }

    /// Journals, keeps and broadcasts one event.
    pub(crate) fn emit(&self, event: Event) {
        self.journal.send(Record::Event(event.clone()));
        {
            let mut recent = lock(&self.shared.recent);
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        lock(&self.shared.subscribers).retain(|s| s.send(event.clone()).is_ok());
    }

    /// Logs, counts and emits a reload attempt's event; then releases the
    /// handoffs that were waiting for it.
    pub(crate) fn reload(&self, event: ReloadEvent) -> ReloadEvent {
        log_reload(&event);
        lock(&self.shared.metrics)
            .entry(event.strategy.clone())
            .or_default()
            .record(&event);
        let mut order = lock(&self.order);
        if let Some(version) = event.version
            && matches!(event.outcome, Outcome::Swapped | Outcome::RolledBack)
        {
            let announced = order.announced.entry(event.strategy.clone()).or_default();
            *announced = (*announced).max(version);
        }
        if event.outcome == Outcome::Retired {
            order.announced.remove(&event.strategy);
        }
        self.emit(Event::Reload(event.clone()));
        let ready = order.take_ready(|_| false);
        drop(order);
        for handoff in ready {
            self.emit(Event::Handoff(handoff));
        }
        event
    }

    /// Emits a handoff once the reload event of its version is out.
    pub(crate) fn handoff(&self, event: HandoffEvent) {
        let mut order = lock(&self.order);
        let announced = order.announced.get(&event.strategy).copied();
        if announced.is_some_and(|v| v >= event.version) {
            drop(order);
            self.emit(Event::Handoff(event));
        } else {
            order.held.push((Instant::now(), event));
        }
    }

    /// Emits held handoffs whose announcement never came (a generation
    /// published without a reload event would otherwise hide its handoff).
    pub(crate) fn release_stale_handoffs(&self) -> bool {
        let mut order = lock(&self.order);
        let stale = order.take_ready(|since| since.elapsed() >= HANDOFF_HOLD);
        let still_held = !order.held.is_empty();
        drop(order);
        for handoff in stale {
            self.emit(Event::Handoff(handoff));
        }
        still_held
    }

    /// Writes a control action to `audit.jsonl`.
    pub(crate) fn audit(&self, record: AuditRecord) {
        self.journal.send(Record::Audit(record));
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}

impl HandoffOrder {
    /// Removes and returns the held handoffs that are announced now, or that
    /// `expired` says have waited long enough; oldest first.
    fn take_ready(&mut self, expired: impl Fn(Instant) -> bool) -> Vec<HandoffEvent> {
        let announced = &self.announced;
        let (ready, held): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.held)
                .into_iter()
                .partition(|(since, event)| {
                    announced
                        .get(&event.strategy)
                        .is_some_and(|v| *v >= event.version)
                        || expired(*since)
                });
        self.held = held;
        ready.into_iter().map(|(_, event)| event).collect()
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
