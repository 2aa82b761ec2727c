//! The live dashboard that `runtime live` serves at `GET /` to a browser
//! (a client that does not ask for HTML still gets the JSON index), its
//! embedded assets under `/dashboard/`, and `GET /ws`, the WebSocket it
//! reads everything from (ws.rs).
//!
//! The page and its assets hold no data, so they are served to anyone who
//! can reach the port; the data and the actions behind them keep the API's
//! rules: `/ws` checks reads like `/events`, and the buttons call the
//! control routes with the token typed into the page (kept in the tab's
//! `sessionStorage`, sent as an `Authorization` header or a `/ws` message,
//! never in a URL).

mod assets;
pub(crate) mod curves;
mod delta;
mod queue;
pub(crate) mod ws;

use super::server::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The dashboard's routes, merged into the ops router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/dashboard/{name}", get(asset))
}

/// Whether a `GET /` is a browser's (it asks for HTML first).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The page itself.
pub fn page() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        assets::PAGE,
    )
        .into_response();
    protect(response.headers_mut());
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = assets::find(&name) else {
        return (StatusCode::NOT_FOUND, format!("no dashboard file {name}")).into_response();
    };
    let mut response = ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response();
    protect(response.headers_mut());
    response
}

/// No caching across versions of the binary, no framing by other sites,
/// and nothing loaded from anywhere but the runtime.
fn protect(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        ),
    );
}
