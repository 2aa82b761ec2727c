//! `GET /ws`: the event stream over WebSocket (the same JSON as `/events`,
//! `?strategy=` to filter), plus a status push at most once a second (a
//! delta after the first, see delta.rs; `?status=false` turns it off), and
//! ping/pong keep-alive. The dashboard's only data source.
//!
//! Every message is a text frame `{"event": KIND, "id": N?, "data": ...}`:
//! `hello` (what the connection may do), `access` (after a token message),
//! `denied`, `status`, `history` (the equity and PnL curves the server kept,
//! curves.rs), `lagged`, and each runtime event by its kind (`reload`,
//! `trap`, ...; `"backlog": true` on the recent ones replayed at the start).
//! In that order: `hello`, the first (full) status, `history`, the recent
//! events, then events as they happen and a status delta each second.
//!
//! Auth follows the other routes: a token in the `Authorization` header, or
//! (browsers cannot set headers on a WebSocket, and a token never goes in a
//! URL) a first message `{"token": "..."}`. Where reads need a token the
//! server sends nothing but `hello` until one arrives, and closes after
//! `ops.idle_timeout_ms` without one. A socket holds one of
//! `ops.max_connections` and one of `ops.max_event_streams` for its life.

use super::delta::StatusDiff;
use super::queue::{DropReason, Outgoing, SEND_QUEUE, write_all};
use crate::live::Event;
use crate::ops::auth::{Access, Denied};
use crate::ops::control;
use crate::ops::error::ApiError;
use crate::ops::event_metrics::event_kind;
use crate::ops::listener::ConnectionHold;
use crate::ops::server::{AppState, View, ops_status};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::error::RecvError;

/// The largest message a client may send (a token, a ping): anything
/// bigger is refused by the protocol layer before it is buffered whole.
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// How much a socket's write buffer may hold before a send waits (a status
/// push of a large roster fits several times).
const MAX_WRITE_BUFFER: usize = 4 * 1024 * 1024;

/// How often status is pushed: the dashboard's refresh, and the "at most
/// once a second" of issue 17.
pub const STATUS_EVERY: Duration = Duration::from_secs(1);

/// Recent events replayed when a connection opens (the dashboard's
/// timeline and log start filled); well under [`SEND_QUEUE`], which they
/// enter at once with `hello` and the first status.
const BACKLOG: usize = 100;
const _: () = assert!(
    BACKLOG + 3 < SEND_QUEUE,
    "the opening burst must fit the queue"
);

/// Time the close frame gets to go out before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, Deserialize, Default)]
pub struct WsQuery {
    /// Only this strategy's events (status still lists every strategy).
    pub strategy: Option<String>,
    /// Status pushes (default true).
    pub status: Option<bool>,
}

/// The connection's slot (listener.rs), kept for as long as the socket is.
pub struct Held {
    _slot: Option<Arc<ConnectionHold>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Held {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Held {
            _slot: parts.extensions.get::<Arc<ConnectionHold>>().cloned(),
        })
    }
}

/// What a connection may do, from the token it showed (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    read: bool,
    control: bool,
    actor: Option<String>,
}

impl Grant {
    fn of(state: &AppState, authorization: Option<&str>) -> Result<Grant, Denied> {
        let read = match state.auth.check(authorization, Access::Read) {
            Ok(_) => true,
            Err(Denied::Missing) => false,
            Err(Denied::Invalid) => return Err(Denied::Invalid),
        };
        let control = state.auth.check(authorization, Access::Control);
        if authorization.is_some() && control == Err(Denied::Invalid) {
            return Err(Denied::Invalid);
        }
        Ok(Grant {
            read,
            control: control.is_ok(),
            actor: control.ok(),
        })
    }

    fn view(&self, state: &AppState) -> View {
        if !state.auth.enabled() || self.actor.is_some() {
            View::Full
        } else {
            View::Anonymous
        }
    }

    fn json(&self, state: &AppState) -> Value {
        json!({
            "read": self.read,
            "control": self.control,
            "actor": self.actor,
            "auth": if state.auth.enabled() { "token" } else { "none" },
        })
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    query: Result<Query<WsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    held: Held,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("bad query: {}", e.body_text()),
            "/ws takes ?strategy=ID and ?status=true|false",
        )
    })?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // A wrong token in the header is refused before the upgrade; a missing
    // one may still come as the first message.
    let grant = Grant::of(&state, authorization).map_err(control::denied_error)?;
    let note = crate::ops::sse::filter_note(&state, query.strategy.as_deref())?;
    let Ok(permit) = Arc::clone(&state.event_streams).try_acquire_owned() else {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} event streams are open, the most allowed",
                state.settings.max_event_streams
            ),
            "close one (a dashboard tab, an /events reader), or raise `ops.max_event_streams`",
        );
        error.retry_after_s = Some(5);
        return Err(error);
    };
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| session(socket, state, (query, note), grant, (held, permit))))
}

fn message(event: &str, id: Option<u64>, data: Value) -> Message {
    let mut m = json!({ "event": event, "data": data });
    if let Some(id) = id {
        m["id"] = id.into();
    }
    Message::Text(m.to_string().into())
}

fn event_message(id: Option<u64>, event: &Event, backlog: bool) -> Message {
    let data = serde_json::to_value(event)
        .unwrap_or_else(|e| json!({ "error": format!("cannot encode event: {e}") }));
    if !backlog {
        return message(event_kind(event), id, data);
    }
    let m = json!({ "event": event_kind(event), "data": data, "backlog": true });
    Message::Text(m.to_string().into())
}

/// One connection: `query` and the note on its `?strategy=` filter
/// ([`crate::ops::sse::filter_note`]), sent in `hello`.
async fn session(
    socket: WebSocket,
    state: AppState,
    (query, note): (WsQuery, Option<String>),
    grant: Grant,
    held: (Held, OwnedSemaphorePermit),
) {
    let started = Instant::now();
    let (sink, mut incoming) = socket.split();
    let (out, queue) = Outgoing::bounded(SEND_QUEUE);
    let mut writer = tokio::spawn(write_all(queue, sink, state.settings.idle_timeout));
    let mut session = Session {
        state: &state,
        query: &query,
        note,
        grant,
        out: &out,
        last_heard: Instant::now(),
    };
    let reason = session.run(&mut incoming, &mut writer).await;
    // The reason goes in the close frame when the queue still takes one (a
    // client that does not read would not read it anyway).
    let close = Message::Close(Some(CloseFrame {
        code: reason.close_code(),
        reason: reason.to_string().into(),
    }));
    if out.push(close).is_ok() {
        let _ = tokio::time::timeout(CLOSE_GRACE, &mut writer).await;
        // The closing handshake: read up to the client's close (or its end),
        // so nothing it sent (a pong) is left unread when the socket closes:
        // the kernel answers unread data with a reset, which can destroy
        // the close frame before the client reads it.
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(message)) = incoming.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    writer.abort();
    drop(held);
    match reason {
        DropReason::Closed | DropReason::Shutdown => {
            tracing::debug!(%reason, open_for = ?started.elapsed(), "ops API: WebSocket closed");
        }
        _ => {
            tracing::warn!(%reason, open_for = ?started.elapsed(), "ops API: WebSocket client dropped")
        }
    }
}

struct Session<'a> {
    state: &'a AppState,
    query: &'a WsQuery,
    /// Said in `hello`: the filter names no strategy that runs now.
    note: Option<String>,
    grant: Grant,
    out: &'a Outgoing,
    last_heard: Instant,
}

impl Session<'_> {
    async fn run(
        &mut self,
        incoming: &mut SplitStream<WebSocket>,
        writer: &mut tokio::task::JoinHandle<DropReason>,
    ) -> DropReason {
        let state = self.state;
        // Subscribed before anything is sent: nothing published from here on is missed.
        let mut events = state.events.subscribe();
        let mut shutdown = state.shutdown.clone();
        if *shutdown.borrow() {
            return DropReason::Shutdown;
        }
        let mut hello = self.grant.json(state);
        hello["strategy"] = json!(self.query.strategy);
        if let Some(note) = self.note.take() {
            hello["note"] = json!(note);
        }
        hello["status_every_ms"] = json!(STATUS_EVERY.as_millis() as u64);
        hello["version"] = json!(env!("CARGO_PKG_VERSION"));
        if let Err(reason) = self.out.push(message("hello", None, hello)) {
            return reason;
        }
        let idle = state.settings.idle_timeout;
        // Reads that need a token wait for one, at most the idle timeout.
        while !self.grant.read {
            let frame = tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return DropReason::Shutdown,
                frame = tokio::time::timeout(idle, incoming.next()) => frame,
            };
            let Ok(frame) = frame else {
                return DropReason::Denied;
            };
            if let Err(reason) = self.client_frame(frame) {
                return reason;
            }
        }
        let mut diff = StatusDiff::default();
        let want_status = self.query.status.unwrap_or(true);
        // The status first, so a page paints its table before it goes
        // through the recent events.
        if want_status && let Err(reason) = self.push_status(&mut diff) {
            return reason;
        }
        // Then the curves so far, so the charts start with the last minutes.
        if want_status && let Err(reason) = self.push_curves() {
            return reason;
        }
        if let Err(reason) = self.backlog() {
            return reason;
        }
        let mut status_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + STATUS_EVERY, STATUS_EVERY);
        status_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Pings often enough that a live client's pongs keep it under the idle timeout.
        let ping_every = state
            .keep_alive
            .min(idle / 3)
            .max(Duration::from_millis(10));
        let mut ping_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        loop {
            let pushed = tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return DropReason::Shutdown,
                done = &mut *writer => return done.unwrap_or(DropReason::Closed),
                frame = incoming.next() => self.client_frame(frame),
                event = events.recv() => match event {
                    Ok(item) => {
                        let (number, event) = &*item;
                        if self.query.strategy.as_deref().is_some_and(|id| id != event.strategy()) {
                            continue;
                        }
                        self.out.push(event_message(Some(*number), event, false))
                    }
                    Err(RecvError::Lagged(missed)) => {
                        self.out.push(message("lagged", None, json!({ "missed": missed })))
                    }
                    Err(RecvError::Closed) => return DropReason::Shutdown,
                },
                _ = status_tick.tick(), if want_status => self.push_status(&mut diff),
                _ = ping_tick.tick() => {
                    if self.last_heard.elapsed() >= idle {
                        return DropReason::Idle;
                    }
                    self.out.push(Message::Ping(Vec::new().into()))
                }
            };
            if let Err(reason) = pushed {
                return reason;
            }
        }
    }

    /// `/status` as this connection may see it, as a delta to the last push.
    fn push_status(&self, diff: &mut StatusDiff) -> Result<(), DropReason> {
        let view = self.grant.view(self.state);
        let status = serde_json::to_value(ops_status(self.state, view)).unwrap_or(Value::Null);
        match diff.next(status) {
            Some(delta) => self.out.push(message("status", None, delta)),
            None => Ok(()),
        }
    }

    /// The `history` message: the equity and PnL curves the server kept.
    fn push_curves(&self) -> Result<(), DropReason> {
        let data = match self.state.curves.lock() {
            Ok(curves) => curves.json(super::curves::CURVE_SENT),
            Err(_) => return Ok(()),
        };
        self.out.push(message("history", None, data))
    }

    /// The recent events, oldest first, as the connection's first events.
    fn backlog(&self) -> Result<(), DropReason> {
        let recent = self.state.handle.recent_events();
        let wanted: Vec<&Event> = recent
            .iter()
            .filter(|e| {
                self.query
                    .strategy
                    .as_deref()
                    .is_none_or(|id| id == e.strategy())
            })
            .collect();
        let skip = wanted.len().saturating_sub(BACKLOG);
        for event in wanted.into_iter().skip(skip) {
            self.out.push(event_message(None, event, true))?;
        }
        Ok(())
    }

    /// Something came from the client: anything counts as being alive; a
    /// text message may carry a token.
    fn client_frame(
        &mut self,
        frame: Option<Result<Message, axum::Error>>,
    ) -> Result<(), DropReason> {
        let message = match frame {
            None => return Err(DropReason::Closed),
            Some(Err(e)) => {
                tracing::debug!(error = %e, "ops API: bad WebSocket frame");
                return Err(DropReason::BadFrame);
            }
            Some(Ok(message)) => message,
        };
        self.last_heard = Instant::now();
        match message {
            Message::Close(_) => Err(DropReason::Closed),
            Message::Text(text) => self.token_message(text.as_str()),
            _ => Ok(()),
        }
    }

    /// `{"token": "..."}`: checked like an `Authorization: Bearer` header.
    fn token_message(&mut self, text: &str) -> Result<(), DropReason> {
        let token = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("token")?.as_str().map(str::to_owned));
        let Some(token) = token else {
            let hint = json!({
                "error": "unknown message",
                "hint": "the only message /ws takes is {\"token\": \"...\"} ([[ops.tokens]])",
            });
            return self.out.push(message("denied", None, hint));
        };
        match Grant::of(self.state, Some(&format!("Bearer {token}"))) {
            Ok(grant) => {
                self.grant = grant;
                self.out
                    .push(message("access", None, self.grant.json(self.state)))
            }
            Err(denied) => {
                // A wrong token draws from the bucket denied control requests
                // draw from, so a socket cannot guess faster than HTTP can
                // (it answered 2,000 guesses in 0.28 s); past it, the
                // connection ends.
                let limited = self.state.denied_limit.take("ws token").err();
                let over_limit = limited.is_some();
                let error = match limited {
                    Some(refusal) => crate::ops::error::ApiError::from(refusal),
                    None => control::denied_error(denied),
                };
                let body = json!({ "error": error.message, "hint": error.hint });
                self.out.push(message("denied", None, body))?;
                if self.grant.read && !over_limit {
                    // Still a reader: only the new token was wrong.
                    Ok(())
                } else {
                    Err(DropReason::Denied)
                }
            }
        }
    }
}
