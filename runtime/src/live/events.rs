//! Structured events: every reload attempt, trap and state handoff. They go
//! to the log, to subscribers and, with a journal, to `events.jsonl`.

use crate::error::{LoadError, Stage};
use crate::load::StageTimings;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// How a reload attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new generation went live.
    Swapped,
    /// Something failed; the running generation is untouched.
    Rejected,
    /// An earlier version went live again.
    RolledBack,
    /// The strategy was removed from the config and stopped.
    Retired,
    /// It keeps trapping and can be neither rebuilt nor rolled back: it gets
    /// no bars until a fixed file or config edit loads a new version.
    Quarantined,
    /// A new build passed the pipeline and runs as the strategy's shadow
    /// candidate; the live generation is untouched.
    Candidate,
    /// A new generation was published and waits for its swap policy
    /// (`[strategy.deploy] swap`, `swap_window`); the running one keeps trading.
    Pending,
    /// The build live on baseline (Winch) code went live again on its
    /// optimised (Cranelift) code, at a bar boundary with the usual handoff.
    TieredUp,
}

/// What started a reload attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The initial load when the runtime starts.
    Startup,
    /// A watched `.wasm` file changed.
    File,
    /// The config file changed (params, limits, symbols, strategies).
    Config,
    /// The ops API or the library API asked.
    Api,
    /// A trap: an automatic rebuild, rollback or quarantine.
    Trap,
    /// A candidate was promoted (by the operator or the auto-promotion rule).
    Promote,
    /// Cranelift finished the optimised code of a build live on baseline code.
    TierUp,
    /// A fleet deployment (the `sandbar-deployments` bucket on NATS).
    Fleet,
}

/// One reload attempt and how it ended (`events.jsonl`, `/events`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReloadEvent {
    /// When it ended (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id (`config` for a rejected config edit).
    pub strategy: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What started it.
    pub trigger: Trigger,
    /// The pipeline stage that failed, for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// SHA-256 of the component it was about.
    pub sha256: Option<String>,
    /// SHA-256 of the component that was live before.
    pub previous_sha256: Option<String>,
    /// The version it published (or the one it was about).
    pub version: Option<u64>,
    /// Time spent in each stage that ran, in microseconds.
    pub duration_us: BTreeMap<Stage, u64>,
    /// True when the component came from the compile cache (nothing compiled).
    pub cache_hit: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// How to fix it, naming the setting or command to use.
    pub hint: Option<String>,
    /// The compiler tier of the code it published (`baseline` / `optimized`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<crate::load::Tier>,
}

/// A guest call that trapped on the bar loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrapEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id.
    pub strategy: String,
    /// Version of the generation that trapped.
    pub version: u64,
    /// SHA-256 of its component.
    pub sha256: String,
    /// The export that trapped (`on-bar`, `on-fill`, `snapshot`, `restore`, ...).
    pub export: String,
    /// Sequence number of the bar it trapped on.
    pub seq: u64,
    /// Out of fuel, deadline, memory, or another trap.
    pub kind: crate::instance::TrapKind,
    /// wasmtime's message (with the guest's panic message when it has one).
    pub message: String,
    /// Traps of this strategy in a row, without a good call between them.
    pub consecutive: u32,
}

/// How a new generation took over the old one's state at the swap bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffMethod {
    /// The old generation's snapshot was restored.
    Snapshot,
    /// Recent bars were replayed (orders discarded).
    Replay,
    /// A promoted candidate: it keeps the state it built on the same live
    /// bars in the shadow; nothing restored or replayed.
    Shadow,
}

/// A new generation took over at a bar boundary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id.
    pub strategy: String,
    /// The version that took over.
    pub version: u64,
    /// The version it replaced.
    pub previous_version: u64,
    /// First and last bar the replaced version processed (`None` if none):
    /// with each handoff's `first_seq`, the journal alone shows that the
    /// generations tile the bar sequence.
    pub previous_seq_range: Option<(u64, u64)>,
    /// First bar processed by the new generation.
    pub first_seq: u64,
    /// How the state was carried over.
    pub method: HandoffMethod,
    /// Bars replayed into the new generation (0 after a snapshot restore).
    pub replayed_bars: u64,
    /// Why the old version's snapshot was not used, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_error: Option<String>,
}

/// Orders a strategy returned that failed validation or a risk rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusalEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id.
    pub strategy: String,
    /// Version of the generation whose orders were refused.
    pub version: u64,
    /// Sequence number of the bar whose orders were refused.
    pub seq: u64,
    /// `validation` or the `[risk]` rule that refused.
    pub rule: crate::risk::RiskRule,
    /// Why, naming the order and the limit.
    pub reason: String,
    /// Refusals of this strategy so far (events are sampled past ten).
    pub refused_total: u64,
}

/// A periodic snapshot (kept for trap rebuilds) was over
/// `limits.max_snapshot_kb`: refused before it was copied; that version is
/// not snapshotted again, so a rebuild after a trap replays bars instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id.
    pub strategy: String,
    /// Version of the generation whose snapshot it was.
    pub version: u64,
    /// Sequence number of the bar after which it was taken.
    pub seq: u64,
    /// The limit, in bytes.
    pub limit_bytes: u64,
    /// What happened, naming the setting.
    pub message: String,
}

/// A strategy was paused, resumed, halted or un-halted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id.
    pub strategy: String,
    /// The state now in force.
    pub state: super::RunState,
    /// The state before.
    pub previous: super::RunState,
    /// Who: `risk` for the kill switch, `api`, or `api:<token name>`.
    pub actor: String,
    /// Why (for a halt: who or which rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a strategy's last generation stopped getting bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The runtime stopped.
    Shutdown,
    /// A config edit removed it (or replaced its slot, for new symbols).
    Retired,
}

/// A strategy's last generation stopped: with every handoff's
/// `previous_seq_range`, the journal alone shows the generations tiling the
/// bar sequence, the last one included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StopEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy's id.
    pub strategy: String,
    /// Version of its last generation.
    pub version: u64,
    /// SHA-256 of that generation's component.
    pub sha256: String,
    /// First and last bar that generation processed (`None` if none).
    pub seq_range: Option<(u64, u64)>,
    /// Why it stopped.
    pub reason: StopReason,
}

/// The artefact cache on disk (`runtime.cache_dir`) did not help a load: an
/// entry was truncated, tampered with, foreign, stale or of another tier or
/// component (never loaded, removed, compiled instead and replaced), or a
/// fresh compile could not be stored (a full disk). A warning only: the
/// load went on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy whose load met it.
    pub strategy: String,
    /// SHA-256 of the component.
    pub sha256: String,
    /// The compiler tier of the entry.
    pub tier: crate::load::Tier,
    /// The entry's file name in the cache directory.
    pub entry: String,
    /// `truncated`, `tampered`, `foreign`, `stale`, `wrong_tier`,
    /// `wrong_component`, `unreadable`, `refused`, or `not_stored`.
    pub problem: &'static str,
    /// What was found and what the runtime did.
    pub message: String,
}

impl CacheEvent {
    pub(crate) fn new(strategy: &str, warning: &crate::load::CacheWarning) -> Self {
        Self {
            ts: now_rfc3339(),
            strategy: strategy.to_owned(),
            sha256: warning.sha256.clone(),
            tier: warning.tier,
            entry: warning.entry.clone(),
            problem: warning.kind(),
            message: warning.to_string(),
        }
    }
}

/// Every event the runtime emits; serialized with an `event` tag (`reload`, `trap`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A reload attempt.
    Reload(ReloadEvent),
    /// A trap on the bar loop.
    Trap(TrapEvent),
    /// A state handoff to a new generation.
    Handoff(HandoffEvent),
    /// A strategy's last generation stopped (runtime stop or retirement).
    Stop(StopEvent),
    /// Orders refused before the broker.
    Refusal(RefusalEvent),
    /// A run-state change.
    State(StateEvent),
    /// A periodic snapshot over its limit.
    Snapshot(SnapshotEvent),
    /// An artefact cache entry not loaded, or a compile not stored.
    Cache(CacheEvent),
    /// A shadow candidate or a waiting swap changed (`live/shadow.rs`).
    Deploy(DeployEvent),
}

/// What happened to a candidate or a waiting swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployWhat {
    /// A candidate passed the pipeline and runs in the shadow from the next bar.
    Candidate,
    /// The candidate was promoted: it goes live at the swap policy's next chance.
    Promoted,
    /// The candidate was discarded (by the operator, the auto-promotion
    /// rule, a newer candidate, or its own trap).
    Discarded,
    /// A published generation waits for its swap policy.
    SwapPending,
    /// A waiting swap was replaced by a newer build.
    SwapReplaced,
    /// A waiting swap was forced: it swaps at the next bar.
    SwapForced,
    /// A waiting swap was cancelled by the operator; the running version stays.
    SwapCancelled,
    /// A waiting swap ran out of `swap_timeout_s`; the running version stays.
    SwapTimedOut,
}

/// A candidate or a waiting swap changed (`event: "deploy"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployEvent {
    /// When (RFC 3339, microseconds).
    pub ts: String,
    /// The strategy.
    pub strategy: String,
    /// What happened.
    pub what: DeployWhat,
    /// The candidate's (or the waiting generation's) version.
    pub version: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// Who or what did it (`api:<token>`, `auto`, `trap`, `file`).
    pub actor: String,
    /// Why, in words (the auto-promotion figures, the trap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Live against candidate when it ended (promoted, discarded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<super::shadow::Comparison>,
}

impl Event {
    /// The strategy the event is about.
    pub fn strategy(&self) -> &str {
        match self {
            Event::Reload(e) => &e.strategy,
            Event::Trap(e) => &e.strategy,
            Event::Handoff(e) => &e.strategy,
            Event::Stop(e) => &e.strategy,
            Event::Refusal(e) => &e.strategy,
            Event::State(e) => &e.strategy,
            Event::Snapshot(e) => &e.strategy,
            Event::Cache(e) => &e.strategy,
            Event::Deploy(e) => &e.strategy,
        }
    }
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

pub(crate) fn durations(timings: &StageTimings) -> BTreeMap<Stage, u64> {
    timings
        .stages
        .iter()
        .map(|(stage, d)| (*stage, d.as_micros() as u64))
        .collect()
}

impl ReloadEvent {
    pub(crate) fn base(strategy: &str, outcome: Outcome, trigger: Trigger) -> Self {
        Self {
            ts: now_rfc3339(),
            strategy: strategy.to_owned(),
            outcome,
            trigger,
            stage: None,
            sha256: None,
            previous_sha256: None,
            version: None,
            duration_us: BTreeMap::new(),
            cache_hit: false,
            error: None,
            hint: None,
            tier: None,
        }
    }

    pub(crate) fn rejected(strategy: &str, trigger: Trigger, error: &LoadError) -> Self {
        let mut event = Self::base(strategy, Outcome::Rejected, trigger);
        event.stage = Some(error.stage);
        event.error = Some(error.message.clone());
        event.hint = error.hint.clone();
        event
    }
}
