//! Run states: pause, resume, halt and un-halt, checked and stored in the
//! slot (the loop applies them at the next bar). Called on the asking thread
//! (the ops API's, a test's), never queued behind a compile. An action that
//! would change nothing (pause a paused strategy, resume a running one, halt
//! a halted one, unhalt one that is not halted) is refused, 409 over HTTP,
//! and writes no event: an answer of "done" always means a state changed.

use super::super::command::StateRequest;
use super::super::event_sink::EventSink;
use super::super::events::{Event, StateEvent, now_rfc3339};
use super::super::generation::{Roster, RunState};
use super::super::shared::lock;
use crate::action::StateAction;
use crate::refusal::Refusal;
use arc_swap::ArcSwap;

/// Applies `request` and returns the state now wanted.
pub(crate) fn set_state(
    roster: &ArcSwap<Roster>,
    sink: &EventSink,
    request: StateRequest,
) -> Result<RunState, Refusal> {
    let shared = sink.shared();
    let _one_at_a_time = lock(&shared.run_state_changes);
    let roster = roster.load();
    let Some(slot) = roster.iter().find(|s| *s.id == *request.strategy).cloned() else {
        return Err(Refusal::UnknownStrategy {
            strategy: request.strategy,
            running: roster.iter().map(|s| s.id.to_string()).collect(),
        });
    };
    let previous = slot.run_state();
    let next = next_state(&request, previous)?;
    slot.set_run_state(next);
    let reason = match next {
        RunState::Halted => {
            let reason = format!("halted by {}", request.actor);
            lock(&shared.halt_reasons).insert(request.strategy.clone(), reason.clone());
            Some(reason)
        }
        _ => {
            lock(&shared.halt_reasons).remove(&request.strategy);
            None
        }
    };
    tracing::warn!(strategy = %request.strategy, actor = %request.actor, "{} -> {}", previous.as_str(), next.as_str());
    sink.emit(Event::State(StateEvent {
        ts: now_rfc3339(),
        strategy: request.strategy,
        state: next,
        previous,
        actor: request.actor,
        reason,
    }));
    Ok(next)
}

/// The transition `request` asks for from `previous`, or why it is refused
/// (a halted strategy, or a state it is already in).
fn next_state(request: &StateRequest, previous: RunState) -> Result<RunState, Refusal> {
    let next = match (request.action, previous) {
        (StateAction::Pause | StateAction::Resume, RunState::Halted) => Err(Refusal::Halted {
            strategy: request.strategy.clone(),
            action: request.action,
        }),
        (StateAction::Pause, _) => Ok(RunState::Paused),
        (StateAction::Unhalt, RunState::Halted) => Ok(RunState::Running),
        (StateAction::Unhalt, _) => Err(Refusal::NotHalted {
            strategy: request.strategy.clone(),
            state: previous,
        }),
        (StateAction::Resume, _) => Ok(RunState::Running),
        (StateAction::Halt, _) => Ok(RunState::Halted),
    }?;
    if next == previous {
        return Err(Refusal::Unchanged {
            strategy: request.strategy.clone(),
            action: request.action,
            state: previous,
        });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: StateAction) -> StateRequest {
        StateRequest {
            strategy: "s".into(),
            action,
            actor: "test".into(),
        }
    }

    /// Regression (hardening issue, item 16): `resume` of a running strategy
    /// answered 200 while `unhalt` of a running one answered 409. Every
    /// no-op transition is now the same kind of refusal.
    #[test]
    fn regression_13_16_every_no_op_transition_is_refused_as_unchanged() {
        use RunState::*;
        use StateAction::*;
        for (action, state) in [(Pause, Paused), (Resume, Running), (Halt, Halted)] {
            let refusal = next_state(&request(action), state).unwrap_err();
            assert_eq!(
                refusal.kind(),
                crate::refusal::RefusalKind::Unchanged,
                "{action:?} from {state:?}: {refusal}"
            );
        }
        // Unhalt of a strategy that is not halted keeps its own, older kind.
        let refusal = next_state(&request(Unhalt), Running).unwrap_err();
        assert_eq!(refusal.kind(), crate::refusal::RefusalKind::NotHalted);
    }

    #[test]
    fn transitions_follow_the_documented_table() {
        use RunState::*;
        use StateAction::*;
        let cases = [
            (Pause, Running, Ok(Paused)),
            (Pause, Paused, Err("already paused; pause changes nothing")),
            (Pause, Halted, Err("halted; un-halt it first")),
            (Resume, Paused, Ok(Running)),
            (
                Resume,
                Running,
                Err("already running; resume changes nothing"),
            ),
            (Resume, Halted, Err("halted, not paused")),
            (Halt, Running, Ok(Halted)),
            (Halt, Paused, Ok(Halted)),
            (Halt, Halted, Err("already halted; halt changes nothing")),
            (Unhalt, Halted, Ok(Running)),
            (Unhalt, Running, Err("is running, not halted")),
            (Unhalt, Paused, Err("is paused, not halted")),
        ];
        for (action, from, expected) in cases {
            let got = next_state(&request(action), from);
            match (expected, got) {
                (Ok(want), Ok(got)) => assert_eq!(want, got, "{action:?} from {from:?}"),
                (Err(want), Err(got)) => {
                    assert!(
                        got.to_string().contains(want),
                        "{action:?} from {from:?}: {got}"
                    )
                }
                (want, got) => panic!("{action:?} from {from:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }
}
