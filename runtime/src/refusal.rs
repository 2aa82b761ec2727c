//! [`Refusal`]: why a control action was not carried out. The runtime's
//! control calls return it, the ops API maps it to a status code (in one
//! place, `ops/refusal.rs`) and sends its [`RefusalKind`] in the error body,
//! and the ops client hands that kind back so callers can match on it.

use crate::action::{Action, StateAction, UnknownAction};
use crate::live::{ReloadEvent, RunState};
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why a control action was not carried out. The message (`Display`) is
/// one line; [`Refusal::hint`] says what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// No strategy with this id is on the bar loop.
    #[error("no running strategy `{strategy}`")]
    UnknownStrategy {
        /// The id asked for.
        strategy: String,
        /// The ids that are running, for the hint.
        running: Vec<String>,
    },
    /// A reload of a strategy the config does not enable.
    #[error("no enabled strategy `{strategy}` in the config")]
    NotEnabled {
        /// The id asked for.
        strategy: String,
    },
    /// Pause or resume of a halted strategy: only unhalt lifts the kill switch.
    #[error("{}", halted_message(strategy, *action))]
    Halted {
        /// The halted strategy.
        strategy: String,
        /// What was asked of it.
        action: StateAction,
    },
    /// Unhalt of a strategy that is not halted.
    #[error("`{strategy}` is {}, not halted", state.as_str())]
    NotHalted {
        /// The strategy.
        strategy: String,
        /// Its state now.
        state: RunState,
    },
    /// A run-state action that would change nothing (pause a paused
    /// strategy, resume a running one, halt a halted one): refused like
    /// unhalt of a running one, so no action is reported as done that did nothing.
    #[error("`{strategy}` is already {}; {action} changes nothing", state.as_str())]
    Unchanged {
        /// The strategy.
        strategy: String,
        /// What was asked of it.
        action: StateAction,
        /// Its state now (the one asked for).
        state: RunState,
    },
    /// A rollback further back than the history kept.
    #[error(
        "cannot roll `{strategy}` back {steps} step(s): {kept} earlier version(s) kept (`hot_reload.keep_versions` = {keep_versions})"
    )]
    NoEarlierVersion {
        /// The strategy.
        strategy: String,
        /// How far back it was asked to go.
        steps: usize,
        /// Earlier versions in its history.
        kept: usize,
        /// The setting that bounds the history.
        keep_versions: usize,
    },
    /// A rollback to a version that is not in the history.
    #[error("`{strategy}` has no version {version} in its rollback history")]
    UnknownVersion {
        /// The strategy.
        strategy: String,
        /// The version asked for.
        version: u64,
        /// The versions kept, oldest first.
        kept: Vec<u64>,
    },
    /// A rollback to the version that is live now.
    #[error("version {version} of `{strategy}` is already live")]
    AlreadyLive {
        /// The strategy.
        strategy: String,
        /// The version asked for.
        version: u64,
        /// The versions kept, oldest first.
        kept: Vec<u64>,
    },
    /// The reload (or rollback) pipeline rejected the new version; the
    /// running one keeps running. The event says at which stage and why.
    #[error(
        "{action} of `{}` rejected at {}; the running version keeps running: {}",
        event.strategy,
        event.stage.map_or("an unknown stage", |s| s.as_str()),
        event.error.as_deref().unwrap_or("no reason given")
    )]
    ReloadRejected {
        /// `reload` or `rollback`.
        action: Action,
        /// The rejected attempt, as `/events` and the journal saw it.
        event: Box<ReloadEvent>,
    },
    /// The path names no action.
    #[error(transparent)]
    UnknownAction(#[from] UnknownAction),
    /// The action's arguments make no sense.
    #[error("{message}")]
    BadArguments {
        /// What is wrong with them.
        message: String,
        /// How to write them.
        hint: &'static str,
    },
    /// More control actions than `ops.actions_per_second` (with bursts of
    /// `ops.action_burst`) allow; nothing was done.
    #[error(
        "too many control actions: {per_second} a second are allowed (bursts of {burst}); try again in {retry_after_s} s"
    )]
    RateLimited {
        /// The steady rate allowed.
        per_second: u32,
        /// The burst allowed.
        burst: u32,
        /// Whole seconds until an action is allowed again (`Retry-After`).
        retry_after_s: u64,
    },
    /// The runtime is stopping (or has stopped) and takes no more actions.
    #[error("the runtime is shutting down")]
    ShuttingDown,
    /// The action failed for a reason outside the runtime's rules (a
    /// control task that died).
    #[error("{0}")]
    Internal(String),
    /// Promote or discard of a strategy that has no shadow candidate.
    #[error("`{strategy}` has no shadow candidate")]
    NoCandidate {
        /// The strategy.
        strategy: String,
    },
    /// Force or cancel of a swap when none is waiting.
    #[error("`{strategy}` has no swap waiting")]
    NoPendingSwap {
        /// The strategy.
        strategy: String,
    },
}

fn halted_message(strategy: &str, action: StateAction) -> String {
    match action {
        StateAction::Resume => {
            format!("`{strategy}` is halted, not paused; use unhalt to lift the kill switch")
        }
        _ => format!(
            "`{strategy}` is halted; un-halt it first (a halted strategy already sends no orders)"
        ),
    }
}

impl Refusal {
    /// What kind of refusal this is, for matching across the API.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Refusal::UnknownStrategy { .. } => RefusalKind::UnknownStrategy,
            Refusal::NotEnabled { .. } => RefusalKind::NotEnabled,
            Refusal::Halted { .. } => RefusalKind::Halted,
            Refusal::NotHalted { .. } => RefusalKind::NotHalted,
            Refusal::Unchanged { .. } => RefusalKind::Unchanged,
            Refusal::NoEarlierVersion { .. } => RefusalKind::NoEarlierVersion,
            Refusal::UnknownVersion { .. } => RefusalKind::UnknownVersion,
            Refusal::AlreadyLive { .. } => RefusalKind::AlreadyLive,
            Refusal::ReloadRejected { .. } => RefusalKind::ReloadRejected,
            Refusal::UnknownAction(_) => RefusalKind::UnknownAction,
            Refusal::BadArguments { .. } => RefusalKind::BadArguments,
            Refusal::RateLimited { .. } => RefusalKind::RateLimited,
            Refusal::ShuttingDown => RefusalKind::ShuttingDown,
            Refusal::Internal(_) => RefusalKind::Internal,
            Refusal::NoCandidate { .. } => RefusalKind::NoCandidate,
            Refusal::NoPendingSwap { .. } => RefusalKind::NoPendingSwap,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            Refusal::UnknownStrategy { strategy, running } => {
                let names: Vec<&str> = running.iter().map(String::as_str).collect();
                match crate::config::suggest_closest(strategy, &names) {
                    Some(close) => {
                        format!("did you mean `{close}`? running: {}", running.join(", "))
                    }
                    None if running.is_empty() => "no strategy is running".into(),
                    None => format!("running: {}", running.join(", ")),
                }
            }
            Refusal::NotEnabled { strategy } => format!(
                "add a [[strategy]] with id = \"{strategy}\" and enabled = true to the config; `runtime status` lists the running ones"
            ),
            Refusal::Halted { strategy, .. } => {
                format!(
                    "`runtime unhalt {strategy}` lifts the kill switch; `runtime status` shows each strategy's state"
                )
            }
            Refusal::NotHalted { .. } => "only a halted strategy can be un-halted".into(),
            Refusal::Unchanged { strategy, .. } => format!(
                "nothing to do; `runtime status {strategy}` shows its state"
            ),
            Refusal::NoEarlierVersion { strategy, .. } => format!(
                "`runtime status {strategy}` lists the versions kept for rollback; `hot_reload.keep_versions` sets how many"
            ),
            Refusal::UnknownVersion { kept, .. } => format!(
                "versions kept: {} (`hot_reload.keep_versions` sets how many)",
                list(kept)
            ),
            Refusal::AlreadyLive { kept, .. } => format!("versions kept: {}", list(kept)),
            Refusal::ReloadRejected { event, .. } => event.hint.clone().unwrap_or_else(|| {
                "fix the file and reload again; `runtime events` shows every attempt".into()
            }),
            Refusal::UnknownAction(unknown) => unknown.hint(),
            Refusal::BadArguments { hint, .. } => (*hint).to_owned(),
            Refusal::RateLimited { .. } => "wait as long as `Retry-After` says; the limit is `ops.actions_per_second` with bursts of `ops.action_burst`".into(),
            Refusal::ShuttingDown => {
                "the instance is stopping; start `runtime live` again to control it".into()
            }
            Refusal::Internal(_) => "the runtime's log (stderr) says more".into(),
            Refusal::NoCandidate { strategy } => format!(
                "`runtime deploy {strategy} FILE --shadow` starts one; `runtime status {strategy}` shows it"
            ),
            Refusal::NoPendingSwap { strategy } => format!(
                "a swap waits only under `[strategy.deploy] swap = \"when_flat\"` or a `swap_window`; `runtime status {strategy}` shows it"
            ),
        }
    }
}

fn list(versions: &[u64]) -> String {
    let all: Vec<String> = versions.iter().map(u64::to_string).collect();
    all.join(", ")
}

/// The kinds of [`Refusal`], as the ops API names them in the `kind` field
/// of an error body (`"kind": "not_halted"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// [`Refusal::UnknownStrategy`]
    UnknownStrategy,
    /// [`Refusal::NotEnabled`]
    NotEnabled,
    /// [`Refusal::Halted`]
    Halted,
    /// [`Refusal::NotHalted`]
    NotHalted,
    /// [`Refusal::Unchanged`]
    Unchanged,
    /// [`Refusal::NoEarlierVersion`]
    NoEarlierVersion,
    /// [`Refusal::UnknownVersion`]
    UnknownVersion,
    /// [`Refusal::AlreadyLive`]
    AlreadyLive,
    /// [`Refusal::ReloadRejected`]
    ReloadRejected,
    /// [`Refusal::UnknownAction`]
    UnknownAction,
    /// [`Refusal::BadArguments`]
    BadArguments,
    /// [`Refusal::RateLimited`]
    RateLimited,
    /// [`Refusal::ShuttingDown`]
    ShuttingDown,
    /// [`Refusal::Internal`]
    Internal,
    /// [`Refusal::NoCandidate`]
    NoCandidate,
    /// [`Refusal::NoPendingSwap`]
    NoPendingSwap,
}

impl RefusalKind {
    /// Every kind.
    pub const ALL: [RefusalKind; 16] = [
        RefusalKind::UnknownStrategy,
        RefusalKind::NotEnabled,
        RefusalKind::Halted,
        RefusalKind::NotHalted,
        RefusalKind::NoEarlierVersion,
        RefusalKind::UnknownVersion,
        RefusalKind::AlreadyLive,
        RefusalKind::ReloadRejected,
        RefusalKind::UnknownAction,
        RefusalKind::BadArguments,
        RefusalKind::ShuttingDown,
        RefusalKind::Internal,
        RefusalKind::Unchanged,
        RefusalKind::RateLimited,
        RefusalKind::NoCandidate,
        RefusalKind::NoPendingSwap,
    ];

    /// The name in error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::UnknownStrategy => "unknown_strategy",
            RefusalKind::NotEnabled => "not_enabled",
            RefusalKind::Halted => "halted",
            RefusalKind::NotHalted => "not_halted",
            RefusalKind::Unchanged => "unchanged",
            RefusalKind::NoEarlierVersion => "no_earlier_version",
            RefusalKind::UnknownVersion => "unknown_version",
            RefusalKind::AlreadyLive => "already_live",
            RefusalKind::ReloadRejected => "reload_rejected",
            RefusalKind::UnknownAction => "unknown_action",
            RefusalKind::BadArguments => "bad_arguments",
            RefusalKind::RateLimited => "rate_limited",
            RefusalKind::ShuttingDown => "shutting_down",
            RefusalKind::Internal => "internal",
            RefusalKind::NoCandidate => "no_candidate",
            RefusalKind::NoPendingSwap => "no_pending_swap",
        }
    }
}

impl fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RefusalKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        RefusalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| format!("no refusal kind `{name}`"))
    }
}

impl Serialize for RefusalKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Outcome, Trigger};

    /// One refusal of every kind, in the order of [`RefusalKind::ALL`].
    fn one_of_each() -> Vec<Refusal> {
        let strategy = || "sma".to_owned();
        let mut event = ReloadEvent::base("sma", Outcome::Rejected, Trigger::Api);
        event.error = Some("not wasm".into());
        vec![
            Refusal::UnknownStrategy {
                strategy: "smaa".into(),
                running: vec![strategy()],
            },
            Refusal::NotEnabled {
                strategy: strategy(),
            },
            Refusal::Halted {
                strategy: strategy(),
                action: StateAction::Resume,
            },
            Refusal::NotHalted {
                strategy: strategy(),
                state: RunState::Paused,
            },
            Refusal::NoEarlierVersion {
                strategy: strategy(),
                steps: 2,
                kept: 0,
                keep_versions: 5,
            },
            Refusal::UnknownVersion {
                strategy: strategy(),
                version: 9,
                kept: vec![1, 2],
            },
            Refusal::AlreadyLive {
                strategy: strategy(),
                version: 2,
                kept: vec![1, 2],
            },
            Refusal::ReloadRejected {
                action: Action::Reload,
                event: Box::new(event),
            },
            Refusal::UnknownAction("hault".parse::<Action>().unwrap_err()),
            Refusal::BadArguments {
                message: "`steps` must be at least 1".into(),
                hint: "?steps=1 goes back to the previous version",
            },
            Refusal::ShuttingDown,
            Refusal::Internal("the control task failed".into()),
            Refusal::Unchanged {
                strategy: strategy(),
                action: StateAction::Resume,
                state: RunState::Running,
            },
            Refusal::RateLimited {
                per_second: 10,
                burst: 30,
                retry_after_s: 1,
            },
            Refusal::NoCandidate {
                strategy: strategy(),
            },
            Refusal::NoPendingSwap {
                strategy: strategy(),
            },
        ]
    }

    #[test]
    fn every_kind_has_a_refusal_a_name_and_a_hint() {
        let refusals = one_of_each();
        let kinds: Vec<RefusalKind> = refusals.iter().map(Refusal::kind).collect();
        assert_eq!(kinds, RefusalKind::ALL);
        for refusal in &refusals {
            let kind = refusal.kind();
            assert_eq!(kind.as_str().parse::<RefusalKind>(), Ok(kind));
            assert!(!refusal.to_string().is_empty(), "{kind}");
            assert!(!refusal.hint().is_empty(), "{kind} has a hint");
        }
        assert!("nonsense".parse::<RefusalKind>().is_err());
    }

    #[test]
    fn messages_are_the_ones_callers_match_on() {
        let refusals = one_of_each();
        let text = |i: usize| refusals[i].to_string();
        assert_eq!(text(0), "no running strategy `smaa`");
        assert_eq!(refusals[0].hint(), "did you mean `sma`? running: sma");
        assert_eq!(text(1), "no enabled strategy `sma` in the config");
        assert!(text(2).contains("use unhalt"), "{}", text(2));
        assert_eq!(text(3), "`sma` is paused, not halted");
        assert!(text(4).contains("0 earlier version(s) kept"), "{}", text(4));
        assert!(text(4).contains("`hot_reload.keep_versions` = 5"));
        assert!(refusals[5].hint().starts_with("versions kept: 1, 2"));
        assert_eq!(
            text(7),
            "reload of `sma` rejected at an unknown stage; the running version keeps running: not wasm"
        );
        assert_eq!(text(8), "no action `hault`");
        assert_eq!(text(10), "the runtime is shutting down");
        assert_eq!(text(12), "`sma` is already running; resume changes nothing");
        assert!(text(13).contains("10 a second"), "{}", text(13));
        assert!(refusals[13].hint().contains("`ops.actions_per_second`"));
        let pause = Refusal::Halted {
            strategy: "sma".into(),
            action: StateAction::Pause,
        };
        assert!(pause.to_string().contains("un-halt it first"));
    }
}
