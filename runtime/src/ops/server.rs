//! The HTTP server: routes, shared state, and the thread that runs a
//! single-threaded tokio runtime for it (the bar loop's core stays free;
//! blocking control calls go to tokio's blocking pool). Connections and
//! their limits are listener.rs's.

use super::auth::{Access, Auth};
use super::bridge::{Bridge, Numbered, lock};
use super::control::{self, ControlQuery, ControlResponse};
use super::error::{ApiError, OpsError};
use super::exposition::CONTENT_TYPE;
use super::fd_limit;
use super::listener::{self, ConnectionCounters, ConnectionLimits};
use super::metrics::{MetricsInput, OpsCounts, render};
use super::rate_limit::RateLimit;
use super::settings::OpsSettings;
use super::sse::{self, EventsQuery};
use super::status::{ConnectionsInfo, OpsInfo, OpsStatus};
use crate::live::{RuntimeHandle, StrategyStatus};
use crate::refusal::Refusal;
use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{Semaphore, broadcast, watch};

#[derive(Clone)]
pub struct AppState {
    pub handle: RuntimeHandle,
    pub auth: Arc<Auth>,
    pub settings: Arc<OpsSettings>,
    pub listen: SocketAddr,
    pub events: broadcast::Sender<Numbered>,
    pub event_metrics: Arc<std::sync::Mutex<super::event_metrics::EventMetrics>>,
    pub shutdown: watch::Receiver<bool>,
    pub keep_alive: Duration,
    /// Control actions of callers that passed the token check.
    pub action_limit: Arc<RateLimit>,
    /// Control actions denied for their token (audited, so limited too).
    pub denied_limit: Arc<RateLimit>,
    /// One permit per `/events` stream open.
    pub event_streams: Arc<Semaphore>,
    pub counters: Arc<ConnectionCounters>,
    /// The effective connection maximum.
    pub max_connections: usize,
    /// Equity and PnL curves for dashboards that open later.
    pub curves: super::dashboard::curves::SharedCurves,
}

/// The running ops server. Stop it before the runtime (dropping does too).
pub struct OpsServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    bridge: Bridge,
}

impl OpsServer {
    /// Binds `settings.listen` now (so a port in use is an error here, not
    /// later) and serves on a thread of its own.
    pub fn start(handle: RuntimeHandle, settings: OpsSettings) -> Result<OpsServer, OpsError> {
        let listener = std::net::TcpListener::bind(settings.listen).map_err(|e| {
            let in_use = e.kind() == std::io::ErrorKind::AddrInUse;
            let hint = if in_use {
                "another process (another `runtime live`?) listens there: set [ops] listen to another port, \"127.0.0.1:0\" for any free one, or enabled = false"
            } else {
                "check [ops] listen: an address of this machine and a port you may use"
            };
            OpsError {
                in_use,
                ..OpsError::new(format!("cannot listen on {}: {e}", settings.listen), Some(hint.into()))
            }
        })?;
        let io = |what: &str, e: std::io::Error| OpsError::new(format!("{what}: {e}"), None);
        listener
            .set_nonblocking(true)
            .map_err(|e| io("cannot set up the listener", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| io("cannot read the bound address", e))?;
        let bridge = Bridge::start(&handle).map_err(|e| io("cannot start the event thread", e))?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let reads_need_token = !addr.ip().is_loopback() || settings.loopback_reads_need_token;
        let limits = connection_limits(&settings);
        let counters = Arc::new(ConnectionCounters::default());
        let state = AppState {
            auth: Arc::new(Auth::new(&settings.tokens, reads_need_token)),
            keep_alive: settings.keep_alive,
            action_limit: Arc::new(RateLimit::new(
                settings.actions_per_second,
                settings.action_burst,
            )),
            denied_limit: Arc::new(RateLimit::new(
                settings.actions_per_second,
                settings.action_burst,
            )),
            event_streams: Arc::new(Semaphore::new(settings.max_event_streams)),
            counters: Arc::clone(&counters),
            max_connections: limits.max_connections,
            settings: Arc::new(settings),
            handle,
            listen: addr,
            events: bridge.sender.clone(),
            event_metrics: Arc::clone(&bridge.metrics),
            shutdown: shutdown_rx.clone(),
            curves: Default::default(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("sandbar-ops")
            .build()
            .map_err(|e| io("cannot start the async runtime", e))?;
        let thread = crate::threads::spawn("sandbar-ops", move || {
            runtime.block_on(serve(listener, state, limits, counters, shutdown_rx))
        })
        .map_err(|e| io("cannot start the server thread", e))?;
        tracing::info!(addr = %addr, "ops API listening: http://{addr}/status, /metrics, /events");
        Ok(OpsServer {
            addr,
            shutdown: shutdown_tx,
            thread: Some(thread),
            bridge,
        })
    }

    /// The address actually bound (the port, when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Ends event streams, lets requests in flight finish (at most a few
    /// seconds), and joins the server and event threads.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.bridge.stop();
    }
}

impl Drop for OpsServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// The connection limits from the settings, the maximum held under what the
/// open-file limit leaves the runtime (raised to the hard limit first).
fn connection_limits(settings: &OpsSettings) -> ConnectionLimits {
    let wanted = settings.max_connections.max(1);
    let max_connections = match fd_limit::budget() {
        Some(budget) => {
            let cap = budget.connection_cap(wanted);
            let level = if cap < wanted {
                tracing::Level::WARN
            } else {
                tracing::Level::INFO
            };
            let message = format!(
                "ops API: at most {cap} connections (`ops.max_connections` = {wanted}); open-file limit {} (was {}, hard {}), {} open, {} kept for the runtime",
                budget.soft,
                budget.soft_before,
                budget.hard,
                budget.open,
                fd_limit::FD_RESERVE
            );
            if level == tracing::Level::WARN {
                tracing::warn!("{message}");
            } else {
                tracing::info!("{message}");
            }
            cap
        }
        None => wanted,
    };
    ConnectionLimits {
        max_connections,
        header_timeout: settings.header_timeout,
        idle_timeout: settings.idle_timeout,
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: AppState,
    limits: ConnectionLimits,
    counters: Arc<ConnectionCounters>,
    shutdown: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "ops API cannot use its listener; it is not serving");
            return;
        }
    };
    tokio::spawn(super::dashboard::curves::keep(state.clone()));
    listener::serve(listener, router(state), limits, counters, shutdown).await;
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/status", get(status))
        .route("/strategies/{id}", get(strategy))
        .route("/metrics", get(metrics))
        .route("/events", get(events))
        .route("/strategies/{id}/{action}", post(control_action))
        .merge(super::dashboard::routes())
        .merge(super::candidate::routes())
        .fallback(not_found)
        // Before any route: a foreign page's request never reaches one.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::origin::guard,
        ))
        .with_state(state)
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether the caller may read, and whether it sees everything: with
/// tokens configured, a read that shows no valid token (allowed on loopback
/// unless `ops.loopback_reads_need_token`) sees no pid and no absolute paths.
fn read_access(state: &AppState, headers: &HeaderMap) -> Result<View, ApiError> {
    let presented = authorization(headers);
    state
        .auth
        .check(presented.as_deref(), Access::Read)
        .map_err(control::denied_error)?;
    let identified = !state.auth.enabled()
        || state
            .auth
            .check(presented.as_deref(), Access::Control)
            .is_ok();
    Ok(if identified {
        View::Full
    } else {
        View::Anonymous
    })
}

/// What a read may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Everything (no tokens configured, or the caller showed one).
    Full,
    /// No pid, only file names of paths.
    Anonymous,
}

const ENDPOINTS: &str = "GET / (the dashboard, in a browser), GET /ws, GET /status, GET /strategies/{id}, GET /metrics, GET /events, POST /strategies/{id}/{reload|rollback|pause|resume|halt|unhalt}";

async fn index(headers: HeaderMap) -> Response {
    if super::dashboard::wants_html(&headers) {
        return super::dashboard::page();
    }
    Json(serde_json::json!({
        "service": "sandbar ops API",
        "endpoints": ENDPOINTS,
    }))
    .into_response()
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no endpoint {}", uri.path()),
        format!("endpoints: {ENDPOINTS}"),
    )
}

pub fn ops_status(state: &AppState, view: View) -> OpsStatus {
    let runtime = state.handle.status();
    let show = |p: &std::path::Path| match view {
        View::Full => p.display().to_string(),
        View::Anonymous => p
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
    };
    OpsStatus {
        uptime_seconds: runtime.uptime_ms as f64 / 1000.0,
        runtime,
        version: env!("CARGO_PKG_VERSION"),
        pid: (view == View::Full).then(std::process::id),
        config_path: state.settings.config_path.as_deref().map(show),
        watching: state.settings.watching.iter().map(|p| show(p)).collect(),
        ops: OpsInfo {
            listen: state.listen.to_string(),
            auth: if state.auth.enabled() {
                "token"
            } else {
                "none"
            },
            connections: connections_info(state),
        },
    }
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<OpsStatus>, ApiError> {
    let view = read_access(&state, &headers)?;
    Ok(Json(ops_status(&state, view)))
}

async fn strategy(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<StrategyStatus>, ApiError> {
    read_access(&state, &headers)?;
    control::strategy_status(&state, &id)
        .map(Json)
        .ok_or_else(|| control::unknown_strategy(&state, &id).into())
}

/// The server's connections now, for `/status` and `/metrics`.
fn connections_info(state: &AppState) -> ConnectionsInfo {
    let counters = &state.counters;
    ConnectionsInfo {
        open: counters.open.load(Ordering::Relaxed),
        max: state.max_connections,
        refused: counters.refused.load(Ordering::Relaxed),
        timed_out: counters.timed_out.load(Ordering::Relaxed),
        event_streams: state
            .settings
            .max_event_streams
            .saturating_sub(state.event_streams.available_permits()),
        max_event_streams: state.settings.max_event_streams,
    }
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    read_access(&state, &headers)?;
    let status = state.handle.status();
    let latency = state
        .handle
        .slots()
        .iter()
        .map(|slot| (slot.id.to_string(), slot.latency_ns()))
        .collect();
    let text = {
        let events = lock(&state.event_metrics);
        render(&MetricsInput {
            status: &status,
            latency: &latency,
            events: &events,
            ops: Some(OpsCounts {
                connections: &connections_info(&state),
                rate_limited: state.action_limit.refused_total(),
                denied_rate_limited: state.denied_limit.refused_total(),
            }),
        })
    };
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

async fn events(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_access(&state, &headers)?;
    let note = sse::filter_note(&state, query.strategy.as_deref())?;
    // Each stream holds a connection for as long as it is open: bounded,
    // so they can never take every connection from status and control.
    let Ok(permit) = Arc::clone(&state.event_streams).try_acquire_owned() else {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} event streams are open, the most allowed",
                state.settings.max_event_streams
            ),
            "close one, or raise `ops.max_event_streams`",
        );
        error.retry_after_s = Some(5);
        return Err(error);
    };
    Ok(sse::stream(&state, query, note, permit).into_response())
}

async fn control_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    query: Result<Query<ControlQuery>, QueryRejection>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<ControlResponse>, ApiError> {
    let Query(query) = query.map_err(|e| Refusal::BadArguments {
        message: format!("bad query: {}", e.body_text()),
        hint: "rollback takes ?steps=N (a positive integer) or ?to_version=V",
    })?;
    let request = control::Request {
        id,
        action,
        query,
        authorization: authorization(&headers),
        remote,
    };
    control::handle(state, request).await.map(Json)
}
