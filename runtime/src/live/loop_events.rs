//! The event thread: publishes what the bar loop reports the moment it
//! arrives (a halt, a refusal, a trap, a handoff), so no loop event waits
//! behind a compile on the control plane, and forwards what needs the
//! control plane (rebuild after a trap, a failed handoff) to it.

use super::command::ControlCommand;
use super::event_sink::EventSink;
use super::events::{Event, StateEvent, now_rfc3339};
use super::generation::RunState;
use super::loop_event::LoopEvent;
use super::shared::lock;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often held handoffs are re-checked while any is held.
const HELD_RECHECK: Duration = Duration::from_millis(50);

/// Starts the thread; it ends when the bar loop drops its sender.
pub(crate) fn start(
    events: Receiver<LoopEvent>,
    sink: Arc<EventSink>,
    control: Sender<ControlCommand>,
) -> anyhow::Result<JoinHandle<()>> {
    crate::threads::spawn("sandbar-events", move || run(events, &sink, &control))
        .map_err(|e| anyhow::anyhow!("cannot start the event thread: {e}"))
}

fn run(events: Receiver<LoopEvent>, sink: &EventSink, control: &Sender<ControlCommand>) {
    let mut holding = false;
    loop {
        let next = if holding {
            events.recv_timeout(HELD_RECHECK)
        } else {
            events.recv().map_err(|_| RecvTimeoutError::Disconnected)
        };
        match next {
            Ok(event) => publish(event, sink, control),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        holding = sink.release_stale_held();
    }
    while sink.release_stale_held() {
        std::thread::sleep(HELD_RECHECK);
    }
}

fn publish(event: LoopEvent, sink: &EventSink, control: &Sender<ControlCommand>) {
    match event {
        LoopEvent::Trapped(trap, last_good) => {
            tracing::warn!(
                strategy = %trap.strategy, version = trap.version, seq = trap.seq,
                export = %trap.export, kind = ?trap.kind,
                "strategy trapped: {}", trap.message
            );
            sink.loop_event(Event::Trap(trap.clone()));
            let _ = control.send(ControlCommand::Trapped(trap, last_good));
        }
        LoopEvent::HandedOver(handoff) => sink.loop_event(Event::Handoff(handoff)),
        LoopEvent::Stopped(stop) => sink.loop_event(Event::Stop(stop)),
        LoopEvent::Halted { strategy, reason } => {
            tracing::error!(strategy = %strategy, "kill switch: strategy halted: {reason}");
            // As an operator's change: one transition after the other.
            let _one_at_a_time = lock(&sink.shared().run_state_changes);
            lock(&sink.shared().halt_reasons).insert(strategy.clone(), reason.clone());
            sink.loop_event(Event::State(StateEvent {
                ts: now_rfc3339(),
                strategy,
                state: RunState::Halted,
                previous: RunState::Running,
                actor: "risk".into(),
                reason: Some(reason),
            }));
        }
        LoopEvent::Refused(refusal) => {
            tracing::warn!(
                strategy = %refusal.strategy, seq = refusal.seq, total = refusal.refused_total,
                "orders refused, not sent to the broker: {}", refusal.reason
            );
            sink.loop_event(Event::Refusal(refusal));
        }
        LoopEvent::SnapshotOversized(snapshot) => {
            tracing::warn!(strategy = %snapshot.strategy, seq = snapshot.seq, "{}", snapshot.message);
            sink.loop_event(Event::Snapshot(snapshot));
        }
        LoopEvent::Deploy(deploy) => sink.loop_event(Event::Deploy(*deploy)),
        LoopEvent::HandoffFailed(failure) => {
            let _ = control.send(ControlCommand::HandoffFailed(failure));
        }
    }
}
