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
}

/// What started a reload attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Startup,
    File,
    Config,
    Api,
    Trap,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReloadEvent {
    pub ts: String,
    pub strategy: String,
    pub outcome: Outcome,
    pub trigger: Trigger,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    pub sha256: Option<String>,
    pub previous_sha256: Option<String>,
    pub version: Option<u64>,
    pub duration_us: BTreeMap<Stage, u64>,
    pub cache_hit: bool,
    pub error: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrapEvent {
    pub ts: String,
    pub strategy: String,
    pub version: u64,
    pub sha256: String,
    pub export: String,
    pub seq: u64,
    pub kind: crate::instance::TrapKind,
    pub message: String,
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
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffEvent {
    pub ts: String,
    pub strategy: String,
    pub version: u64,
    pub previous_version: u64,
    /// First bar processed by the new generation.
    pub first_seq: u64,
    pub method: HandoffMethod,
    pub replayed_bars: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_error: Option<String>,
}

/// Orders a strategy returned that failed validation or a risk rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusalEvent {
    pub ts: String,
    pub strategy: String,
    pub version: u64,
    pub seq: u64,
    /// `validation` or the `[risk]` rule that refused.
    pub rule: crate::risk::RiskRule,
    pub reason: String,
    /// Refusals of this strategy so far (events are sampled past ten).
    pub refused_total: u64,
}

/// A strategy was paused, resumed, halted or un-halted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateEvent {
    pub ts: String,
    pub strategy: String,
    pub state: super::RunState,
    pub previous: super::RunState,
    /// Who: `risk` for the kill switch, `api`, or `api:<token name>`.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Reload(ReloadEvent),
    Trap(TrapEvent),
    Handoff(HandoffEvent),
    Refusal(RefusalEvent),
    State(StateEvent),
}

impl Event {
    pub fn strategy(&self) -> &str {
        match self {
            Event::Reload(e) => &e.strategy,
            Event::Trap(e) => &e.strategy,
            Event::Handoff(e) => &e.strategy,
            Event::Refusal(e) => &e.strategy,
            Event::State(e) => &e.strategy,
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
