//! `POST /strategies/{id}/candidate` (a shadow candidate) and
//! `POST /strategies/{id}/deploy` (live, by the swap policy): a build sent
//! with the request runs the whole pipeline.
//!
//! The body is either the component's bytes (`Content-Type:
//! application/wasm` or `application/octet-stream`; what `runtime deploy`
//! sends) or JSON naming a file inside `runtime.strategies_dir`:
//! `{"path": "sma_v2.wasm", "sha256": "…", "params": {"fast": 5}}`. With
//! bytes, `?sha256=H` and `?params={"fast":5}` (a JSON object) carry the
//! same. In prod the SHA-256 is required and verified. Auth, the rate
//! limit, the audit record and the journal barrier are those of every
//! control action (`control.rs`).

use super::control::{Audit, ControlResponse, admit_token, journal_flushed, strategy_status};
use super::error::ApiError;
use super::server::AppState;
use crate::action::Action;
use crate::live::{DeployRequest, DeploySource, Outcome};
use crate::refusal::Refusal;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;

/// The largest body accepted: above any `limits.max_component_mb` a
/// component is likely to need; the pipeline's read stage applies the
/// configured cap to what arrives.
const MAX_BODY_BYTES: usize = 256 << 20;

/// The routes, merged into the server's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/strategies/{id}/candidate", post(candidate))
        .route("/strategies/{id}/deploy", post(live))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Query arguments of a deploy with the bytes as its body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployQuery {
    /// The SHA-256 the bytes must have (required in prod).
    pub sha256: Option<String>,
    /// Parameters over `[strategy.params]`, as a JSON object.
    pub params: Option<String>,
}

/// The JSON form of the body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathBody {
    path: std::path::PathBuf,
    sha256: Option<String>,
    #[serde(default)]
    params: toml::Table,
}

type QueryResult = Result<Query<DeployQuery>, QueryRejection>;

async fn candidate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryResult,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ControlResponse>, ApiError> {
    deploy(state, id, query, remote, headers, body, true).await
}

async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryResult,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ControlResponse>, ApiError> {
    deploy(state, id, query, remote, headers, body, false).await
}

async fn deploy(
    state: AppState,
    id: String,
    query: QueryResult,
    remote: SocketAddr,
    headers: HeaderMap,
    body: Bytes,
    shadow: bool,
) -> Result<Json<ControlResponse>, ApiError> {
    let Query(query) = query.map_err(|e| Refusal::BadArguments {
        message: format!("bad query: {}", e.body_text()),
        hint: "a deploy takes ?sha256=H (64 hex digits) and ?params={...} (a JSON object)",
    })?;
    let action = Action::Deploy { shadow };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let checked = admit_token(&state, action, authorization)?;
    let answer = carry_out(&state, action, checked, &id, query, &headers, body, remote).await;
    journal_flushed(&state, action).await;
    answer.map(Json)
}

#[allow(clippy::too_many_arguments)]
async fn carry_out(
    state: &AppState,
    action: Action,
    checked: Result<String, super::auth::Denied>,
    id: &str,
    query: DeployQuery,
    headers: &HeaderMap,
    body: Bytes,
    remote: SocketAddr,
) -> Result<ControlResponse, ApiError> {
    let audit = Audit {
        state,
        action,
        strategy: id,
        remote,
    };
    let (actor, before) = audit.admit(checked)?;
    let shadow = matches!(action, Action::Deploy { shadow: true });
    let request = request_of(query, headers, body, shadow, &actor)
        .map_err(|refusal| audit.refuse(&actor, &before, refusal))?;
    let args = match &request.source {
        DeploySource::Path(path) => format!("shadow={shadow}&path={}", path.display()),
        DeploySource::Bytes(bytes) => format!("shadow={shadow}&bytes={}", bytes.len()),
    };
    let result = {
        let (handle, id) = (state.handle.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || handle.deploy(&id, request))
            .await
            .map_err(|e| Refusal::Internal(format!("the deploy task failed: {e}")))
            .and_then(|r| r)
            .and_then(|event| match event.outcome {
                Outcome::Rejected => Err(Refusal::ReloadRejected {
                    action,
                    event: Box::new(event),
                }),
                _ => Ok(event),
            })
    };
    let after = strategy_status(state, id).unwrap_or(before);
    match result {
        Err(refusal) => {
            let error = ApiError::from(refusal);
            audit.write(
                &actor,
                "rejected",
                Some(&after),
                Some(&args),
                Some(&error.message),
            );
            Err(error)
        }
        Ok(event) => {
            audit.write(&actor, "ok", Some(&after), Some(&args), None);
            Ok(ControlResponse {
                strategy: id.to_owned(),
                action,
                actor,
                state: after.state.to_owned(),
                version: after.version,
                sha256: after.sha256.clone(),
                reload: Some(event),
                status: after,
                deploy: None,
            })
        }
    }
}

/// The request's build, hash and parameters, from the JSON or the bytes form.
fn request_of(
    query: DeployQuery,
    headers: &HeaderMap,
    body: Bytes,
    shadow: bool,
    actor: &str,
) -> Result<DeployRequest, Refusal> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let query_params = match query.params.as_deref() {
        Some(text) => {
            serde_json::from_str::<toml::Table>(text).map_err(|e| Refusal::BadArguments {
                message: format!("`params` is not a JSON object of parameter values: {e}"),
                hint: "for example ?params={\"fast\":5,\"label\":\"b\"}",
            })?
        }
        None => toml::Table::new(),
    };
    if json {
        let parsed: PathBody = serde_json::from_slice(&body).map_err(|e| Refusal::BadArguments {
            message: format!("the JSON body is not a deploy request: {e}"),
            hint: "send {\"path\": \"FILE.wasm\"} (a file inside runtime.strategies_dir; `sha256` and `params` optional), or the component's bytes as application/wasm",
        })?;
        let mut params = parsed.params;
        params.extend(query_params);
        return Ok(DeployRequest {
            source: DeploySource::Path(parsed.path),
            sha256: parsed.sha256.or(query.sha256),
            shadow,
            params,
            actor: actor.to_owned(),
        });
    }
    if body.is_empty() {
        return Err(Refusal::BadArguments {
            message: "the request has no body: nothing to deploy".into(),
            hint: "send the component's bytes (application/wasm), or {\"path\": \"FILE.wasm\"} as JSON; `runtime deploy ID FILE [--shadow]` does",
        });
    }
    Ok(DeployRequest {
        source: DeploySource::Bytes(body.to_vec()),
        sha256: query.sha256,
        shadow,
        params: query_params,
        actor: actor.to_owned(),
    })
}
