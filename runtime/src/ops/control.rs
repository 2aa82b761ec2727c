//! `POST /strategies/{id}/{action}`: reload, rollback, pause, resume, halt,
//! unhalt. Each takes a token from the rate limit (`ops.actions_per_second`;
//! refused ones get `429` and no audit record), checks the bearer token,
//! carries the action out on a blocking thread (the control plane answers
//! through a channel), writes an audit record and a log line, waits until the
//! journal has handed what the action wrote to the OS (the promise in
//! live/journal.rs), and answers with the strategy's state afterwards.

use super::auth::{Access, Denied};
use super::error::ApiError;
use super::server::AppState;
use crate::action::{Action, Rollback, StateAction};
use crate::live::{
    AuditRecord, CandidateAction, DeployEvent, Outcome, ReloadEvent, StrategyStatus,
};
use crate::refusal::Refusal;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Deserialize, Default)]
pub struct ControlQuery {
    /// Rollback: versions to go back (default 1).
    pub steps: Option<usize>,
    /// Rollback: the version number to go back to (from `versions` in `/status`).
    pub to_version: Option<u64>,
}

/// The answer to a control action: who did what, and the strategy now.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResponse {
    /// The strategy's `id` in the config, as named in the path.
    pub strategy: String,
    /// The action's name (`reload`, `rollback`, ...).
    pub action: Action,
    /// Who did it, as the audit trail records it: `api:<token name>`, or
    /// `api:anonymous` when no `[[ops.tokens]]` are configured.
    pub actor: String,
    /// `running`, `paused`, `halted` or `quarantined`.
    pub state: String,
    /// The live generation's version after the action (the run-state
    /// actions leave it unchanged; a reload or rollback that publishes
    /// raises it by one).
    pub version: u64,
    /// SHA-256 (hex) of the live component after the action.
    pub sha256: String,
    /// The reload event, for `reload` and `rollback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reload: Option<ReloadEvent>,
    /// The strategy's whole status after the action, as `/strategies/{id}`
    /// would show it.
    pub status: StrategyStatus,
    /// The `deploy` event, for promote, discard, swap_now and swap_cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployEvent>,
}

pub struct Request {
    pub id: String,
    /// The action's name, as it came in the path.
    pub action: String,
    pub query: ControlQuery,
    pub authorization: Option<String>,
    pub remote: SocketAddr,
}

enum Done {
    Reload(ReloadEvent),
    State(&'static str),
    Deploy(DeployEvent),
}

pub async fn handle(state: AppState, request: Request) -> Result<ControlResponse, ApiError> {
    let Request {
        id,
        action,
        query,
        authorization,
        remote,
    } = request;
    // An unknown action is answered before anything else, and not audited:
    // there is no action to record.
    let action: Action = action.parse().map_err(Refusal::from)?;
    let checked = admit_token(&state, action, authorization.as_deref())?;
    let answer = carry_out(&state, action, checked, id, query, remote).await;
    journal_flushed(&state, action).await;
    answer
}

/// The token's verdict for a control action, once the action's rate limit
/// let it through. Denied requests draw from a bucket of their own: a flood
/// without a token can neither grow the audit trail nor lock out the token
/// holders.
pub(super) fn admit_token(
    state: &AppState,
    action: Action,
    authorization: Option<&str>,
) -> Result<Result<String, Denied>, ApiError> {
    let checked = state.auth.check(authorization, Access::Control);
    let limit = if checked.is_ok() {
        &state.action_limit
    } else {
        &state.denied_limit
    };
    limit.take(action.name()).map_err(ApiError::from)?;
    Ok(checked)
}

/// Waits for the journal to write what `action` did: events on disk before
/// the answer that reports them (a warning after 1 s, then it answers).
pub(super) async fn journal_flushed(state: &AppState, action: Action) {
    let handle = state.handle.clone();
    let flushed = tokio::task::spawn_blocking(move || handle.journal_barrier())
        .await
        .unwrap_or(false);
    if !flushed {
        tracing::warn!(
            action = action.name(),
            "the journal did not confirm this action's records within 1 s; answering anyway"
        );
    }
}

async fn carry_out(
    state: &AppState,
    action: Action,
    checked: Result<String, Denied>,
    id: String,
    query: ControlQuery,
    remote: SocketAddr,
) -> Result<ControlResponse, ApiError> {
    let mut audit = Audit {
        state,
        action,
        strategy: &id,
        remote,
    };
    let (actor, before) = audit.admit(checked)?;
    let (action, steps) = with_rollback_target(action, &before, &query)
        .map_err(|refusal| audit.refuse(&actor, &before, refusal))?;
    audit.action = action;
    let args = action.args();

    let result = {
        let (handle, id, actor) = (state.handle.clone(), id.clone(), actor.clone());
        tokio::task::spawn_blocking(move || -> Result<Done, Refusal> {
            let set = |a: StateAction| {
                handle
                    .set_state(&id, a, &actor)
                    .map(|s| Done::State(s.as_str()))
            };
            match action {
                Action::Reload => handle.reload(&id).map(Done::Reload),
                Action::Rollback(_) => handle.rollback(&id, steps).map(Done::Reload),
                Action::Pause => set(StateAction::Pause),
                Action::Resume => set(StateAction::Resume),
                Action::Halt => set(StateAction::Halt),
                Action::Unhalt => set(StateAction::Unhalt),
                Action::Promote => handle
                    .candidate(&id, CandidateAction::Promote, &actor)
                    .map(Done::Deploy),
                Action::Discard => handle
                    .candidate(&id, CandidateAction::Discard, &actor)
                    .map(Done::Deploy),
                Action::SwapNow => handle
                    .candidate(&id, CandidateAction::SwapNow, &actor)
                    .map(Done::Deploy),
                Action::SwapCancel => handle
                    .candidate(&id, CandidateAction::SwapCancel, &actor)
                    .map(Done::Deploy),
                // Its build comes in the body: `ops/candidate.rs`.
                Action::Deploy { .. } => Err(Refusal::BadArguments {
                    message: "a deploy sends its build in the request body".into(),
                    hint: "POST the component (or {\"path\": ...}) to /strategies/{id}/candidate or /strategies/{id}/deploy; `runtime deploy ID FILE [--shadow]` does",
                }),
            }
        })
        .await
        .map_err(|e| Refusal::Internal(format!("the control task failed: {e}")))
        .and_then(|r| r)
        .and_then(|done| match done {
            // The pipeline ran and said no: a refusal for the caller, with the event.
            Done::Reload(event) if event.outcome == Outcome::Rejected => {
                Err(Refusal::ReloadRejected {
                    action,
                    event: Box::new(event),
                })
            }
            done => Ok(done),
        })
    };

    let after = strategy_status(state, &id).unwrap_or(before);
    match result {
        Err(refusal) => {
            let error = ApiError::from(refusal);
            audit.write(
                &actor,
                "rejected",
                Some(&after),
                args.as_deref(),
                Some(&error.message),
            );
            Err(error)
        }
        Ok(done) => {
            let (state_now, reload, deploy) = match done {
                Done::State(s) => (s.to_owned(), None, None),
                Done::Reload(event) => (after.state.to_owned(), Some(event), None),
                Done::Deploy(event) => (after.state.to_owned(), None, Some(event)),
            };
            audit.write(&actor, "ok", Some(&after), args.as_deref(), None);
            Ok(ControlResponse {
                strategy: id,
                action,
                actor,
                state: state_now,
                version: after.version,
                sha256: after.sha256.clone(),
                reload,
                status: after,
                deploy,
            })
        }
    }
}

/// The action with its rollback target from the query, and how many steps
/// back that is (1 for other actions, which ignore the query).
fn with_rollback_target(
    action: Action,
    status: &StrategyStatus,
    query: &ControlQuery,
) -> Result<(Action, usize), Refusal> {
    let Action::Rollback(_) = action else {
        return Ok((action, 1));
    };
    let kept = || {
        status
            .versions
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>()
    };
    let target = match (query.steps, query.to_version) {
        (Some(_), Some(_)) => {
            return Err(Refusal::BadArguments {
                message: "give either `steps` or `to_version`, not both".into(),
                hint: "for example: ?steps=1, or ?to_version=2",
            });
        }
        (Some(0), None) => {
            return Err(Refusal::BadArguments {
                message: "`steps` must be at least 1".into(),
                hint: "?steps=1 goes back to the previous version",
            });
        }
        (steps, None) => Rollback::Steps(steps.unwrap_or(1)),
        (None, Some(version)) => Rollback::ToVersion(version),
    };
    let steps = match target {
        Rollback::Steps(steps) => steps,
        Rollback::ToVersion(version) => {
            let position = status.versions.iter().position(|v| v.version == version);
            let live = status.versions.len().saturating_sub(1);
            match position {
                Some(i) if i == live => {
                    return Err(Refusal::AlreadyLive {
                        strategy: status.id.clone(),
                        version,
                        kept: kept(),
                    });
                }
                Some(i) => live - i,
                None => {
                    return Err(Refusal::UnknownVersion {
                        strategy: status.id.clone(),
                        version,
                        kept: kept(),
                    });
                }
            }
        }
    };
    Ok((Action::Rollback(target), steps))
}

pub fn strategy_status(state: &AppState, id: &str) -> Option<StrategyStatus> {
    state
        .handle
        .status()
        .strategies
        .into_iter()
        .find(|s| s.id == id)
}

/// The refusal for a strategy that is not running, naming those that are.
pub fn unknown_strategy(state: &AppState, id: &str) -> Refusal {
    Refusal::UnknownStrategy {
        strategy: id.to_owned(),
        running: state.handle.strategy_ids(),
    }
}

pub fn denied_error(denied: Denied) -> ApiError {
    match denied {
        Denied::Missing => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this action needs a bearer token",
            "pass --token (or set SANDBAR_OPS_TOKEN) with the CLI, or send `Authorization: Bearer <token>`; tokens are [[ops.tokens]] in the config",
        ),
        Denied::Invalid => ApiError::new(
            StatusCode::FORBIDDEN,
            "the bearer token matches none configured",
            "check the token against [[ops.tokens]] (or the environment variable its token_env names)",
        ),
    }
}

/// Writes the audit record of one action (also `candidate.rs`'s).
pub(super) struct Audit<'a> {
    pub state: &'a AppState,
    pub action: Action,
    pub strategy: &'a str,
    pub remote: SocketAddr,
}

impl Audit<'_> {
    /// The actor and the strategy's status before the action, or the error
    /// answered — audited: a denied token as `api:unauthenticated`, an
    /// unknown strategy as rejected.
    pub(super) fn admit(
        &self,
        checked: Result<String, Denied>,
    ) -> Result<(String, StrategyStatus), ApiError> {
        let actor = match checked {
            Ok(actor) => actor,
            Err(denied) => {
                let error = denied_error(denied);
                self.write(
                    "api:unauthenticated",
                    "denied",
                    None,
                    None,
                    Some(&error.message),
                );
                return Err(error);
            }
        };
        let Some(before) = strategy_status(self.state, self.strategy) else {
            let error = ApiError::from(unknown_strategy(self.state, self.strategy));
            self.write(&actor, "rejected", None, None, Some(&error.message));
            return Err(error);
        };
        Ok((actor, before))
    }

    /// The error answered for `refusal` of an admitted request, audited as
    /// rejected.
    pub(super) fn refuse(
        &self,
        actor: &str,
        before: &StrategyStatus,
        refusal: Refusal,
    ) -> ApiError {
        let error = ApiError::from(refusal);
        self.write(actor, "rejected", Some(before), None, Some(&error.message));
        error
    }

    /// One `audit.jsonl` record and one log line.
    pub(super) fn write(
        &self,
        actor: &str,
        result: &str,
        after: Option<&StrategyStatus>,
        args: Option<&str>,
        error: Option<&str>,
    ) {
        let record = AuditRecord {
            ts: humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
            actor: actor.to_owned(),
            action: self.action,
            strategy: self.strategy.to_owned(),
            args: args.map(str::to_owned),
            result: result.to_owned(),
            state: after.map(|s| s.state.to_owned()),
            version: after.map(|s| s.version),
            error: error.map(str::to_owned),
            remote: Some(self.remote.to_string()),
        };
        if result == "ok" {
            tracing::info!(
                target: "sandbar::audit", actor, action = self.action.name(), strategy = self.strategy,
                args = args.unwrap_or(""), state = record.state.as_deref().unwrap_or(""),
                version = record.version.unwrap_or(0), "control action"
            );
        } else {
            tracing::warn!(
                target: "sandbar::audit", actor, action = self.action.name(), strategy = self.strategy,
                result, error = error.unwrap_or(""), remote = %self.remote, "control action not carried out"
            );
        }
        self.state.handle.audit(record);
    }
}
