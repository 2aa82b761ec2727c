//! `POST /strategies/{id}/{action}`: reload, rollback, pause, resume, halt,
//! unhalt. Each checks the token, carries the action out on a blocking
//! thread (the control plane answers through a channel), writes an audit
//! record and a log line, and answers with the strategy's state afterwards.

use super::auth::{Access, Denied};
use super::error::ApiError;
use super::server::AppState;
use crate::live::{AuditRecord, Outcome, ReloadEvent, StateAction, StrategyStatus};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The actions, as they appear in paths and in the audit trail.
pub const ACTIONS: [&str; 6] = ["reload", "rollback", "pause", "resume", "halt", "unhalt"];

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
    pub strategy: String,
    pub action: String,
    pub actor: String,
    /// `running`, `paused`, `halted` or `quarantined`.
    pub state: String,
    pub version: u64,
    pub sha256: String,
    /// The reload event, for `reload` and `rollback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reload: Option<ReloadEvent>,
    pub status: StrategyStatus,
}

pub struct Request {
    pub id: String,
    pub action: String,
    pub query: ControlQuery,
    pub authorization: Option<String>,
    pub remote: SocketAddr,
}

enum Done {
    Reload(ReloadEvent),
    State(&'static str),
}

pub async fn handle(state: AppState, request: Request) -> Result<ControlResponse, ApiError> {
    let Request {
        id,
        action,
        query,
        authorization,
        remote,
    } = request;
    let audit = Audit {
        state: &state,
        action: &action,
        strategy: &id,
        remote,
    };
    if !ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no action `{action}`"),
            format!(
                "POST /strategies/{id}/<action> with one of: {}",
                ACTIONS.join(", ")
            ),
        ));
    }
    let actor = match state.auth.check(authorization.as_deref(), Access::Control) {
        Ok(actor) => actor,
        Err(denied) => {
            let error = denied_error(denied);
            audit.write(
                "api:unauthenticated",
                "denied",
                None,
                None,
                Some(&error.message),
            );
            return Err(error);
        }
    };
    let Some(before) = strategy_status(&state, &id) else {
        let error = unknown_strategy(&state, &id);
        audit.write(&actor, "rejected", None, None, Some(&error.message));
        return Err(error);
    };
    let args = rollback_steps(&before, &action, &query);
    let steps = match args {
        Ok(steps) => steps,
        Err(error) => {
            audit.write(
                &actor,
                "rejected",
                Some(&before),
                None,
                Some(&error.message),
            );
            return Err(error);
        }
    };
    let args = (action == "rollback").then(|| match query.to_version {
        Some(v) => format!("to_version={v}"),
        None => format!("steps={steps}"),
    });

    let result = {
        let (handle, id, action, actor) = (
            state.handle.clone(),
            id.clone(),
            action.clone(),
            actor.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<Done, String> {
            let set = |a: StateAction| {
                handle
                    .set_state(&id, a, &actor)
                    .map(|s| Done::State(s.as_str()))
            };
            match action.as_str() {
                "reload" => handle.reload(&id).map(Done::Reload),
                "rollback" => handle.rollback(&id, steps).map(Done::Reload),
                "pause" => set(StateAction::Pause),
                "resume" => set(StateAction::Resume),
                "halt" => set(StateAction::Halt),
                _ => set(StateAction::Unhalt),
            }
        })
        .await
        .map_err(|e| format!("the control task failed: {e}"))
        .and_then(|r| r)
    };

    let after = strategy_status(&state, &id).unwrap_or(before);
    let (done, error) = match result {
        Ok(Done::Reload(event)) if event.outcome == Outcome::Rejected => {
            let message = format!(
                "reload of `{id}` rejected at {}; the running version keeps running: {}",
                event.stage.map_or("an unknown stage", |s| s.as_str()),
                event.error.as_deref().unwrap_or("no reason given")
            );
            let hint = event.hint.clone().unwrap_or_else(|| {
                "fix the file and reload again; `runtime events` shows every attempt".into()
            });
            let detail = serde_json::to_value(&event).unwrap_or_default();
            (
                None,
                Some(
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message, hint)
                        .with_detail(detail),
                ),
            )
        }
        Ok(done) => (Some(done), None),
        Err(message) => {
            let hint = match action.as_str() {
                "rollback" => "`runtime status <id>` lists the versions kept for rollback",
                "resume" | "pause" => "`runtime status` shows each strategy's state",
                "unhalt" => "only a halted strategy can be un-halted",
                _ => "",
            };
            (
                None,
                Some(ApiError::new(StatusCode::CONFLICT, message, hint)),
            )
        }
    };
    let (state_now, reload) = match done {
        Some(Done::State(s)) => (s.to_owned(), None),
        Some(Done::Reload(event)) => (after.state.to_owned(), Some(event)),
        None => (after.state.to_owned(), None),
    };
    match error {
        Some(error) => {
            audit.write(
                &actor,
                "rejected",
                Some(&after),
                args.as_deref(),
                Some(&error.message),
            );
            Err(error)
        }
        None => {
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
            })
        }
    }
}

/// How many steps a rollback request means; 1 for other actions.
fn rollback_steps(
    status: &StrategyStatus,
    action: &str,
    query: &ControlQuery,
) -> Result<usize, ApiError> {
    if action != "rollback" {
        return Ok(1);
    }
    let listed = || {
        status
            .versions
            .iter()
            .map(|v| v.version.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (query.steps, query.to_version) {
        (Some(_), Some(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "give either `steps` or `to_version`, not both",
            "for example: ?steps=1, or ?to_version=2",
        )),
        (Some(0), None) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "`steps` must be at least 1",
            "?steps=1 goes back to the previous version",
        )),
        (steps, None) => Ok(steps.unwrap_or(1)),
        (None, Some(version)) => {
            let position = status.versions.iter().position(|v| v.version == version);
            let live = status.versions.len().saturating_sub(1);
            match position {
                Some(i) if i == live => Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("version {version} of `{}` is already live", status.id),
                    format!("versions kept: {}", listed()),
                )),
                Some(i) => Ok(live - i),
                None => Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!(
                        "`{}` has no version {version} in its rollback history",
                        status.id
                    ),
                    format!(
                        "versions kept: {} (`hot_reload.keep_versions` sets how many)",
                        listed()
                    ),
                )),
            }
        }
    }
}

pub fn strategy_status(state: &AppState, id: &str) -> Option<StrategyStatus> {
    state
        .handle
        .status()
        .strategies
        .into_iter()
        .find(|s| s.id == id)
}

pub fn unknown_strategy(state: &AppState, id: &str) -> ApiError {
    let ids = state.handle.strategy_ids();
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    let hint = match crate::config::suggest_closest(id, &names) {
        Some(close) => format!("did you mean `{close}`? running: {}", ids.join(", ")),
        None if ids.is_empty() => "no strategy is running".into(),
        None => format!("running: {}", ids.join(", ")),
    };
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no running strategy `{id}`"),
        hint,
    )
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

struct Audit<'a> {
    state: &'a AppState,
    action: &'a str,
    strategy: &'a str,
    remote: SocketAddr,
}

impl Audit<'_> {
    /// One `audit.jsonl` record and one log line.
    fn write(
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
            action: self.action.to_owned(),
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
                target: "sandbar::audit", actor, action = self.action, strategy = self.strategy,
                args = args.unwrap_or(""), state = record.state.as_deref().unwrap_or(""),
                version = record.version.unwrap_or(0), "control action"
            );
        } else {
            tracing::warn!(
                target: "sandbar::audit", actor, action = self.action, strategy = self.strategy,
                result, error = error.unwrap_or(""), remote = %self.remote, "control action not carried out"
            );
        }
        self.state.handle.audit(record);
    }
}
