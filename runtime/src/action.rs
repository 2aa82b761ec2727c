//! [`Action`]: the control actions an operator can take on a running
//! strategy — the one vocabulary of the CLI (`runtime halt <ID>`), the ops
//! API (`POST /strategies/{id}/halt`), the runtime ([`crate::live::Runtime`])
//! and the audit trail (`audit.jsonl`).
//!
//! An action displays and parses as its name (`reload`, `rollback`, ...);
//! a rollback's target travels beside the name, as the query arguments
//! [`Action::args`] gives (`steps=2`, `to_version=3`).

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A control action on one running strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Run the reload pipeline for the strategy now, from its file.
    Reload,
    /// Go back to an earlier version kept in the strategy's rollback history.
    Rollback(Rollback),
    /// Stop calling the strategy; it catches up on the missed bars when resumed.
    Pause,
    /// Resume a paused strategy.
    Resume,
    /// Kill switch: cancel the strategy's waiting orders and refuse new ones.
    Halt,
    /// Lift the kill switch of a halted strategy.
    Unhalt,
    /// Load a build sent with the request: as the shadow candidate
    /// (`shadow`, `POST /strategies/{id}/candidate`) or live by the swap
    /// policy (`POST /strategies/{id}/deploy`).
    Deploy {
        /// As the candidate, beside the live version.
        shadow: bool,
    },
    /// The candidate becomes the live version (by the swap policy).
    Promote,
    /// The candidate is dropped; the live version keeps running.
    Discard,
    /// A waiting swap happens at the next bar, whatever its policy.
    SwapNow,
    /// A waiting swap is cancelled; the running version keeps running.
    SwapCancel,
}

/// Which earlier version a rollback goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rollback {
    /// This many versions back (1 = the previous one).
    Steps(usize),
    /// The version with this number (`runtime status` lists those kept).
    ToVersion(u64),
}

impl Default for Rollback {
    fn default() -> Self {
        Rollback::Steps(1)
    }
}

/// The actions that change a strategy's run state: the part of [`Action`]
/// that [`crate::live::Runtime::set_state`] carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateAction {
    /// See [`Action::Pause`].
    Pause,
    /// See [`Action::Resume`].
    Resume,
    /// See [`Action::Halt`].
    Halt,
    /// See [`Action::Unhalt`].
    Unhalt,
}

/// A name that is no [`Action`], with the closest one if it looks like a typo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no action `{name}`")]
pub struct UnknownAction {
    /// What was asked for.
    pub name: String,
    /// The action it is probably a typo of.
    pub suggestion: Option<&'static str>,
}

impl UnknownAction {
    /// "did you mean `halt`?", then every action.
    pub fn hint(&self) -> String {
        let all = Action::NAMES
            .iter()
            .chain(&Action::DEPLOY_NAMES)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        match self.suggestion {
            Some(close) => format!("did you mean `{close}`? actions: {all}"),
            None => format!("actions: {all}"),
        }
    }
}

impl Action {
    /// Every action's name, in the order the CLI lists them.
    pub const NAMES: [&'static str; 6] =
        ["reload", "rollback", "pause", "resume", "halt", "unhalt"];

    /// The actions of shadow deployments and swap policies (issue 19), in
    /// the order the CLI lists them; kept apart from [`Action::NAMES`], the
    /// actions on a strategy's run, which the CLI groups on their own.
    pub const DEPLOY_NAMES: [&'static str; 5] =
        ["deploy", "promote", "discard", "swap_now", "swap_cancel"];

    /// The name in paths, in the CLI and in the audit trail.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Reload => "reload",
            Action::Rollback(_) => "rollback",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Halt => "halt",
            Action::Unhalt => "unhalt",
            Action::Deploy { .. } => "deploy",
            Action::Promote => "promote",
            Action::Discard => "discard",
            Action::SwapNow => "swap_now",
            Action::SwapCancel => "swap_cancel",
        }
    }

    /// The arguments beside the name, as a query string without the `?`:
    /// `steps=N` or `to_version=V` for a rollback, `None` for the others.
    pub fn args(&self) -> Option<String> {
        match self {
            Action::Rollback(Rollback::Steps(steps)) => Some(format!("steps={steps}")),
            Action::Rollback(Rollback::ToVersion(version)) => Some(format!("to_version={version}")),
            Action::Deploy { shadow } => Some(format!("shadow={shadow}")),
            _ => None,
        }
    }

    /// The ops API path that carries this action out on `strategy`.
    pub fn path(&self, strategy: &str) -> String {
        let strategy = crate::ops::path_segment(strategy);
        match self {
            Action::Deploy { shadow: true } => return format!("/strategies/{strategy}/candidate"),
            Action::Deploy { shadow: false } => return format!("/strategies/{strategy}/deploy"),
            _ => {}
        }
        let path = format!("/strategies/{strategy}/{}", self.name());
        match self.args() {
            Some(args) => format!("{path}?{args}"),
            None => path,
        }
    }

    /// The run-state change this action asks for, if it is one.
    pub fn state_action(&self) -> Option<StateAction> {
        match self {
            Action::Pause => Some(StateAction::Pause),
            Action::Resume => Some(StateAction::Resume),
            Action::Halt => Some(StateAction::Halt),
            Action::Unhalt => Some(StateAction::Unhalt),
            Action::Reload
            | Action::Rollback(_)
            | Action::Deploy { .. }
            | Action::Promote
            | Action::Discard
            | Action::SwapNow
            | Action::SwapCancel => None,
        }
    }
}

impl StateAction {
    /// The name in paths, in the CLI and in the audit trail.
    pub fn name(&self) -> &'static str {
        Action::from(*self).name()
    }
}

impl From<StateAction> for Action {
    fn from(action: StateAction) -> Self {
        match action {
            StateAction::Pause => Action::Pause,
            StateAction::Resume => Action::Resume,
            StateAction::Halt => Action::Halt,
            StateAction::Unhalt => Action::Unhalt,
        }
    }
}

impl FromStr for Action {
    type Err = UnknownAction;

    /// An action from its name; `rollback` means one step back (the target
    /// comes from the arguments, see [`Action::args`]).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "reload" => Ok(Action::Reload),
            "rollback" => Ok(Action::Rollback(Rollback::default())),
            "pause" => Ok(Action::Pause),
            "resume" => Ok(Action::Resume),
            "halt" => Ok(Action::Halt),
            "unhalt" => Ok(Action::Unhalt),
            "deploy" => Ok(Action::Deploy { shadow: false }),
            "candidate" => Ok(Action::Deploy { shadow: true }),
            "promote" => Ok(Action::Promote),
            "discard" => Ok(Action::Discard),
            "swap_now" => Ok(Action::SwapNow),
            "swap_cancel" => Ok(Action::SwapCancel),
            _ => {
                let all: Vec<&str> = Action::NAMES
                    .iter()
                    .chain(&Action::DEPLOY_NAMES)
                    .copied()
                    .collect();
                Err(UnknownAction {
                    name: name.to_owned(),
                    suggestion: crate::config::suggest_closest(name, &all),
                })
            }
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for StateAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// As its name: the audit trail and the API answers say `"action": "halt"`.
impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 6] = [
        Action::Reload,
        Action::Rollback(Rollback::Steps(1)),
        Action::Pause,
        Action::Resume,
        Action::Halt,
        Action::Unhalt,
    ];

    #[test]
    fn every_action_parses_back_from_its_display() {
        for action in ALL {
            assert_eq!(action.to_string().parse::<Action>(), Ok(action));
        }
        let names: Vec<String> = ALL.iter().map(Action::to_string).collect();
        assert_eq!(names, Action::NAMES);
        let target = Action::Rollback(Rollback::ToVersion(3));
        assert_eq!(target.to_string(), "rollback");
        assert_eq!(target.args().as_deref(), Some("to_version=3"));
        assert_eq!(
            serde_json::to_value(Action::Halt).unwrap(),
            serde_json::json!("halt")
        );
    }

    #[test]
    fn a_typo_gets_a_did_you_mean() {
        let error = "hault".parse::<Action>().unwrap_err();
        assert_eq!(error.suggestion, Some("halt"));
        assert_eq!(error.to_string(), "no action `hault`");
        assert!(
            error.hint().starts_with("did you mean `halt`?"),
            "{}",
            error.hint()
        );
        assert_eq!(
            "rolback".parse::<Action>().unwrap_err().suggestion,
            Some("rollback")
        );
        let far = "launch".parse::<Action>().unwrap_err();
        assert_eq!(far.suggestion, None);
        assert!(
            far.hint().contains("reload, rollback, pause"),
            "{}",
            far.hint()
        );
    }

    /// Regression: the id went into the path as typed, so `runtime resume
    /// 'x/pause?'` posted `/strategies/x/pause?/resume`: it paused `x` and
    /// exited 0, and `runtime halt 'x/pause#'` paused instead of halting.
    #[test]
    fn regression_33_an_id_cannot_change_the_action_its_path_names() {
        assert_eq!(
            Action::Resume.path("x/pause?"),
            "/strategies/x%2Fpause%3F/resume"
        );
        assert_eq!(
            Action::Halt.path("x/pause#"),
            "/strategies/x%2Fpause%23/halt"
        );
        assert_eq!(
            Action::Halt.path("../../etc"),
            "/strategies/%2E%2E%2F%2E%2E%2Fetc/halt"
        );
        assert_eq!(
            Action::Deploy { shadow: true }.path("a b"),
            "/strategies/a%20b/candidate"
        );
        assert_eq!(
            Action::Halt.path("sma-cross_2"),
            "/strategies/sma-cross_2/halt"
        );
    }

    #[test]
    fn paths_carry_the_rollback_target() {
        assert_eq!(Action::Halt.path("sma"), "/strategies/sma/halt");
        assert_eq!(
            Action::Rollback(Rollback::Steps(2)).path("sma"),
            "/strategies/sma/rollback?steps=2"
        );
        assert_eq!(
            Action::Rollback(Rollback::ToVersion(7)).path("sma"),
            "/strategies/sma/rollback?to_version=7"
        );
    }

    #[test]
    fn issue_19_deploy_actions_parse_back_and_name_their_paths() {
        for action in [
            Action::Deploy { shadow: false },
            Action::Promote,
            Action::Discard,
            Action::SwapNow,
            Action::SwapCancel,
        ] {
            assert_eq!(action.to_string().parse::<Action>(), Ok(action));
            assert_eq!(action.state_action(), None);
        }
        assert_eq!(
            "candidate".parse::<Action>(),
            Ok(Action::Deploy { shadow: true })
        );
        assert_eq!(
            Action::Deploy { shadow: true }.path("sma"),
            "/strategies/sma/candidate"
        );
        assert_eq!(Action::Promote.path("sma"), "/strategies/sma/promote");
        assert_eq!(
            "promte".parse::<Action>().unwrap_err().suggestion,
            Some("promote")
        );
    }

    #[test]
    fn state_actions_are_the_run_state_part() {
        for action in ALL {
            match action.state_action() {
                Some(state) => assert_eq!(Action::from(state), action),
                None => assert!(matches!(action, Action::Reload | Action::Rollback(_))),
            }
        }
    }
}
