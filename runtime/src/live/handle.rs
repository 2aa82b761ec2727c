//! [`RuntimeHandle`]: what the ops API (or any other thread) needs of a
//! running [`super::Runtime`] — status, events and control — as a cheap
//! clone. It holds no thread and no journal sender, so it never keeps the
//! runtime alive or blocks its shutdown; once the runtime has stopped,
//! control calls answer "the runtime is shutting down".

use super::command::{self, CandidateAction, ControlCommand, DeployRequest, ask};
use super::control;
use super::event_sink::EventSink;
use super::events::{DeployEvent, Event, ReloadEvent};
use super::generation::{Roster, RunState};
use super::journal::AuditRecord;
use super::metrics::ReloadMetrics;
use super::shared::{Shared, lock};
use super::subscribers::EventSubscription;
use super::{LatencySummary, LoopStats, RuntimeStatus, StrategyStatus};
use crate::action::StateAction;
use crate::refusal::Refusal;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// A cheap, thread-safe view of a running [`super::Runtime`]: status, events and control.
#[derive(Clone)]
pub struct RuntimeHandle {
    pub(super) commands: Sender<ControlCommand>,
    pub(super) roster: Arc<ArcSwap<Roster>>,
    pub(super) shared: Arc<Shared>,
    /// Weak: a handle must not keep the journal (which the sink feeds) open.
    pub(super) sink: Weak<EventSink>,
    pub(super) loop_stats: Arc<LoopStats>,
    pub(super) profile: String,
    pub(super) run_id: String,
    pub(super) hot_reload: bool,
    pub(super) started: Instant,
}

impl RuntimeHandle {
    /// Runs the pipeline for `id` now, from its file.
    pub fn reload(&self, id: &str) -> Result<ReloadEvent, Refusal> {
        ask(&self.commands, |reply| {
            ControlCommand::Reload(id.to_owned(), reply)
        })
    }

    /// Goes back `steps` versions in `id`'s history (1 = the previous one).
    pub fn rollback(&self, id: &str, steps: usize) -> Result<ReloadEvent, Refusal> {
        ask(&self.commands, |reply| {
            ControlCommand::Rollback(id.to_owned(), steps, reply)
        })
    }

    /// Loads a build sent with the request through the whole pipeline: as
    /// `id`'s shadow candidate, or live by its swap policy. The event says
    /// how it ended (`candidate`, `pending`, `swapped`, `rejected`).
    pub fn deploy(&self, id: &str, request: DeployRequest) -> Result<ReloadEvent, Refusal> {
        ask(&self.commands, |reply| {
            ControlCommand::Deploy(id.to_owned(), Box::new(request), reply)
        })
    }

    /// Promotes or discards `id`'s candidate, or forces or cancels its
    /// waiting swap; `actor` names who asked, for the event.
    pub fn candidate(
        &self,
        id: &str,
        action: CandidateAction,
        actor: &str,
    ) -> Result<DeployEvent, Refusal> {
        ask(&self.commands, |reply| {
            ControlCommand::Candidate(id.to_owned(), action, actor.to_owned(), reply)
        })
    }

    /// Replaces the fleet's `[[strategy]]` entries for this node and applies
    /// the config file's strategies with them as one diff, exactly like a
    /// config edit (`crate::fleet` calls this). A clash of ids with the
    /// config's own entries is refused and changes nothing.
    pub fn apply_fleet(
        &self,
        strategies: Vec<crate::config::StrategyConfig>,
    ) -> Result<Vec<ReloadEvent>, Refusal> {
        ask(&self.commands, |reply| {
            ControlCommand::ApplyFleet(strategies, reply)
        })
    }

    /// Publishes a `rejected` reload event for a fleet deployment that never
    /// reached the pipeline (its artefact missing from the store, or not
    /// the bytes its SHA-256 names); the running version stays.
    pub fn fleet_rejected(
        &self,
        strategy: &str,
        sha256: Option<&str>,
        error: String,
        hint: String,
    ) -> Option<ReloadEvent> {
        let sink = self.sink.upgrade()?;
        let mut event = ReloadEvent::base(
            strategy,
            super::events::Outcome::Rejected,
            super::events::Trigger::Fleet,
        );
        event.stage = Some(crate::error::Stage::Read);
        event.sha256 = sha256.map(str::to_owned);
        event.error = Some(error);
        event.hint = Some(hint);
        Some(sink.reload(event))
    }

    /// Pauses, resumes, halts or un-halts a strategy; see
    /// [`super::Runtime::set_state`]. Applied on the calling thread: it never
    /// waits for a reload in progress.
    pub fn set_state(
        &self,
        id: &str,
        action: StateAction,
        actor: &str,
    ) -> Result<RunState, Refusal> {
        let request = command::StateRequest {
            strategy: id.to_owned(),
            action,
            actor: actor.to_owned(),
        };
        let sink = self.sink.upgrade().ok_or(Refusal::ShuttingDown)?;
        control::set_state(&self.roster, &sink, request)
    }

    /// Writes a control action to the journal's `audit.jsonl`. Lost only
    /// when the runtime is already stopping.
    pub fn audit(&self, record: AuditRecord) {
        if let Some(sink) = self.sink.upgrade() {
            sink.audit(record);
        }
    }

    /// Waits until every event and audit record written before this call is
    /// in the journal's files (handed to the OS), at most one second
    /// ([`super::journal::BARRIER_WAIT`]). False only when that wait ran out;
    /// true also once the runtime has stopped (nothing can then be written,
    /// and the journal flushes on its way out). Blocks: not for the bar loop.
    pub fn journal_barrier(&self) -> bool {
        self.sink
            .upgrade()
            .is_none_or(|sink| sink.journal_barrier(super::journal::BARRIER_WAIT))
    }

    /// Event subscribers attached: SSE and `/ws` clients, a fleet agent's
    /// bridge, [`subscribe`](Self::subscribe) callers: each
    /// [`EventSubscription`] not dropped yet.
    pub fn event_subscribers(&self) -> usize {
        lock(&self.shared.subscribers).len()
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> EventSubscription {
        EventSubscription::attach(&self.shared)
    }

    /// The recent events (up to 1000, oldest first) and every event after
    /// them, with none missed or repeated between the two: the control
    /// sink adds an event to `recent` and then sends it to subscribers, each
    /// under its own lock, so holding `recent` while subscribing draws a
    /// clean line.
    pub fn subscribe_with_backlog(&self) -> (Vec<Event>, EventSubscription) {
        let recent = lock(&self.shared.recent);
        let backlog = recent.iter().cloned().collect();
        let rx = self.subscribe();
        drop(recent);
        (backlog, rx)
    }

    /// The last events (up to 1000), oldest first.
    pub fn recent_events(&self) -> Vec<Event> {
        lock(&self.shared.recent).iter().cloned().collect()
    }

    /// Reload metrics of every strategy that had a reload attempt.
    pub fn reload_metrics(&self) -> BTreeMap<String, ReloadMetrics> {
        lock(&self.shared.metrics).clone()
    }

    /// The slots of the strategies on the bar loop now (counters, latency).
    pub fn slots(&self) -> Vec<Arc<super::StrategySlot>> {
        self.roster.load().iter().cloned().collect()
    }

    /// Ids of the strategies on the bar loop now.
    pub fn strategy_ids(&self) -> Vec<String> {
        self.roster
            .load()
            .iter()
            .map(|s| s.id.to_string())
            .collect()
    }

    /// The runtime's status now (see [`super::RuntimeStatus`]).
    pub fn status(&self) -> RuntimeStatus {
        let metrics = self.reload_metrics();
        let versions: BTreeMap<String, Vec<control::VersionEntry>> = lock(&self.shared.versions)
            .iter()
            .map(|(id, history)| (id.clone(), history.entries()))
            .collect();
        let disk = lock(&self.shared.disk).clone();
        let strategies = self.each_strategy(|slot, generation, (state, state_reason)| {
            let counters = &slot.counters;
            let (disk, disk_differs) = disk
                .get(&*slot.id)
                .map(|file| file.status(generation.sha256()))
                .unwrap_or_default();
            StrategyStatus {
                id: slot.id.to_string(),
                state,
                state_reason,
                version: generation.version,
                sha256: generation.sha256().to_owned(),
                params_hash: generation.recipe.params_hash.clone(),
                loaded_at: humantime::format_rfc3339_seconds(generation.loaded_at).to_string(),
                symbols: slot.symbols.iter().map(|s| s.to_string()).collect(),
                bars: counters.bars.load(Ordering::Relaxed),
                orders: counters.orders.load(Ordering::Relaxed),
                fills: counters.fills.load(Ordering::Relaxed),
                traps: counters.traps.load(Ordering::Relaxed),
                skipped_bars: counters.skipped.load(Ordering::Relaxed),
                paused_bars: counters.paused_bars.load(Ordering::Relaxed),
                trades: counters.trades.load(Ordering::Relaxed),
                equity: counters.equity(),
                realised_pnl: counters.realised_pnl(),
                unrealised_pnl: counters.unrealised_pnl(),
                refused: crate::risk::RiskRule::ALL
                    .iter()
                    .map(|rule| (rule.as_str(), counters.refused(*rule)))
                    .collect(),
                risk: crate::risk::RiskRules::clone(&slot.risk.load()),
                latency_us: LatencySummary::of(&slot.latency_ns()),
                feed_to_decision_us: LatencySummary::of(&slot.decision_ns()),
                disk,
                disk_differs,
                versions: live_versions(
                    versions.get(&*slot.id).cloned().unwrap_or_default(),
                    slot.shadow.pending().map(|p| p.generation.version),
                ),
                reload: metrics.get(&*slot.id).cloned().unwrap_or_default(),
                candidate: slot
                    .shadow
                    .candidate()
                    .map(|c| super::CandidateStatus::of(&c)),
                pending_swap: slot.shadow.pending().map(|p| p.status()),
                tier: generation.recipe.tier,
                fuel_per_bar: super::FuelSummary::of(
                    &slot.fuel.load(),
                    generation.recipe.limits.fuel_per_call,
                ),
                activity: super::Activity::clone(&slot.activity.load()),
            }
        });
        RuntimeStatus {
            run_id: self.run_id.clone(),
            profile: self.profile.clone(),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            hot_reload: self.hot_reload,
            bars: self.loop_stats.bars.load(Ordering::Acquire),
            last_seq: self.loop_stats.last_seq.load(Ordering::Relaxed),
            loop_lag: self.loop_stats.lag(),
            strategies,
            reload_total: ReloadMetrics::total(metrics.values()),
        }
    }

    /// The bars the loop has processed and a few facts of each strategy,
    /// read without the copies [`RuntimeHandle::status`] makes (latency
    /// histograms, activity, version history: 91 µs for one strategy):
    /// what a fleet heartbeat sends several times a second.
    pub fn briefs(&self) -> (u64, Vec<StrategyBrief>) {
        let strategies = self.each_strategy(|slot, generation, (state, _)| StrategyBrief {
            id: slot.id.to_string(),
            state,
            version: generation.version,
            sha256: generation.sha256().to_owned(),
            loaded_at: generation.loaded_at,
            bars: slot.counters.bars.load(Ordering::Relaxed),
        });
        (self.loop_stats.bars.load(Ordering::Acquire), strategies)
    }

    /// `describe` of every strategy in roster order, given its slot, its
    /// current generation and its state (with the reason, if it has one).
    fn each_strategy<T>(
        &self,
        mut describe: impl FnMut(
            &super::StrategySlot,
            Arc<super::Generation>,
            (&'static str, Option<String>),
        ) -> T,
    ) -> Vec<T> {
        let quarantined = lock(&self.shared.quarantined).clone();
        let halt_reasons = lock(&self.shared.halt_reasons).clone();
        self.roster
            .load()
            .iter()
            .map(|slot| {
                let state = state_of(slot, &quarantined, &halt_reasons);
                describe(slot, slot.current.load_full(), state)
            })
            .collect()
    }
}

/// One strategy in a few facts ([`RuntimeHandle::briefs`]); the fields
/// mean what [`StrategyStatus`]'s of the same names mean.
#[derive(Debug, Clone)]
pub struct StrategyBrief {
    /// The strategy's `id`.
    pub id: String,
    /// `running`, `paused`, `halted` or `quarantined`.
    pub state: &'static str,
    /// The live generation's version.
    pub version: u64,
    /// SHA-256 of the live component.
    pub sha256: String,
    /// When the live generation was published.
    pub loaded_at: std::time::SystemTime,
    /// Bars it has processed.
    pub bars: u64,
}

/// A strategy's state as status shows it, and why when it is halted or
/// quarantined.
fn state_of(
    slot: &super::StrategySlot,
    quarantined: &BTreeMap<String, String>,
    halt_reasons: &BTreeMap<String, String>,
) -> (&'static str, Option<String>) {
    let run_state = slot.run_state();
    match quarantined.get(&*slot.id) {
        Some(reason) => ("quarantined", Some(reason.clone())),
        None if run_state == RunState::Halted => ("halted", halt_reasons.get(&*slot.id).cloned()),
        None => (run_state.as_str(), None),
    }
}

/// The versions kept for rollback as status lists them, the last one live:
/// a version waiting for its swap policy is in `pending_swap`, not here.
fn live_versions(
    mut history: Vec<control::VersionEntry>,
    waiting: Option<u64>,
) -> Vec<control::VersionEntry> {
    if let Some(waiting) = waiting {
        history.retain(|entry| entry.version != waiting);
    }
    history
}
