//! `GET /events`: Server-Sent Events. Each runtime event is one SSE event
//! named after its kind (`reload`, `trap`, `handoff`, `refusal`, `state`),
//! with the event's JSON as data and its number as id. The stream opens
//! with a `hello` event (so a client knows it is subscribed), sends a
//! `: keep-alive` comment when idle, a `lagged` event if the client fell
//! too far behind, and ends when the server stops.

use super::bridge::Numbered;
use super::event_metrics::event_kind;
use super::server::AppState;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::{Receiver, error::RecvError};

#[derive(Debug, Deserialize, Default)]
pub struct EventsQuery {
    /// Only this strategy's events.
    pub strategy: Option<String>,
}

/// What a `?strategy=` filter says before the stream opens: an empty one
/// is refused (it matched nothing, silently); an id that runs nothing now
/// is followed all the same (a deploy or a config edit may start it), with
/// a note for the client to show, "did you mean" included.
pub(crate) fn filter_note(
    state: &AppState,
    strategy: Option<&str>,
) -> Result<Option<String>, super::error::ApiError> {
    let Some(id) = strategy else {
        return Ok(None);
    };
    if id.trim().is_empty() {
        return Err(super::error::ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "?strategy= is empty",
            "give a strategy id (`runtime status` lists them), or leave ?strategy out for every strategy's events",
        ));
    }
    if state
        .handle
        .strategy_ids()
        .iter()
        .any(|running| running == id)
    {
        return Ok(None);
    }
    let refusal = super::control::unknown_strategy(state, id);
    Ok(Some(format!(
        "{refusal} ({}); following it: its events start if it is deployed",
        refusal.hint()
    )))
}

/// The stream for one subscriber; `permit` (one of `ops.max_event_streams`)
/// is given back when the stream is dropped.
pub fn stream(
    state: &AppState,
    query: EventsQuery,
    note: Option<String>,
    permit: OwnedSemaphorePermit,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
    // Subscribe before answering, so nothing published after the response
    // headers reach the client is missed.
    let receiver = state.events.subscribe();
    let mut hello = serde_json::json!({ "subscribed": true, "strategy": query.strategy });
    if let Some(note) = note {
        hello["note"] = serde_json::json!(note);
    }
    let hello = SseEvent::default().event("hello").data(hello.to_string());
    let mut shutdown = state.shutdown.clone();
    let events = stream::unfold((receiver, query.strategy), next).take_until(async move {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
    });
    let stream = stream::once(async move { hello })
        .chain(events)
        .map(move |event| {
            let _held = &permit;
            Ok(event)
        });
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(state.keep_alive)
            .text("keep-alive"),
    )
}

async fn next(
    (mut receiver, filter): (Receiver<Numbered>, Option<String>),
) -> Option<(SseEvent, (Receiver<Numbered>, Option<String>))> {
    loop {
        match receiver.recv().await {
            Ok(item) => {
                let (number, event) = &*item;
                if filter.as_deref().is_some_and(|id| id != event.strategy()) {
                    continue;
                }
                let data = serde_json::to_string(event).unwrap_or_else(|e| {
                    serde_json::json!({ "error": format!("cannot encode event: {e}") }).to_string()
                });
                let sse = SseEvent::default()
                    .event(event_kind(event))
                    .id(number.to_string())
                    .data(data);
                return Some((sse, (receiver, filter)));
            }
            Err(RecvError::Lagged(missed)) => {
                let sse = SseEvent::default()
                    .event("lagged")
                    .data(serde_json::json!({ "missed": missed }).to_string());
                return Some((sse, (receiver, filter)));
            }
            Err(RecvError::Closed) => return None,
        }
    }
}
