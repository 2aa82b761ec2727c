//! What the bar loop reports. Its own module so the loop and the threads that
//! consume its reports do not import each other.

use super::events::{HandoffEvent, RefusalEvent, SnapshotEvent, TrapEvent, Trigger};
use std::sync::Arc;

use super::events::StopEvent;

/// The last snapshot a healthy instance produced, kept so a rebuild after a
/// trap can restore it instead of starting cold.
#[derive(Debug, Clone)]
pub struct GoodSnapshot {
    /// The last bar the state includes.
    pub seq: u64,
    pub bytes: Arc<[u8]>,
}

/// What the bar loop tells the rest of the runtime. The event thread
/// (`loop_events.rs`) publishes each at once and forwards what needs the
/// control plane (traps, failed handoffs) to it.
#[derive(Debug, Clone)]
pub enum LoopEvent {
    Trapped(TrapEvent, Option<GoodSnapshot>),
    HandedOver(HandoffEvent),
    /// A strategy's last generation stopped (its bar range, for the journal).
    Stopped(StopEvent),
    /// Orders that failed validation and never reached the broker.
    Refused(RefusalEvent),
    /// The drawdown kill switch halted a strategy.
    Halted {
        strategy: String,
        reason: String,
    },
    /// The new generation trapped while taking over; the old one was put back.
    HandoffFailed(HandoffFailure),
    /// A periodic snapshot was over its limit and not kept.
    SnapshotOversized(SnapshotEvent),
    /// A candidate trapped and was discarded, or a waiting swap happened.
    Deploy(Box<super::events::DeployEvent>),
}

/// A new generation that trapped while taking over at the swap bar.
#[derive(Debug, Clone)]
pub struct HandoffFailure {
    pub strategy: String,
    pub version: u64,
    /// What published the generation that failed.
    pub trigger: Trigger,
    pub error: String,
}
