//! Errors: [`OpsError`] for starting the server (bad settings, a port in
//! use), [`ApiError`] for answers, as JSON with a message, a hint and, for a
//! refused control action, its kind.

use crate::refusal::RefusalKind;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why the ops server cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsError {
    /// What went wrong, e.g. a `listen` that is not an address, or a token
    /// whose `token_env` variable is unset.
    pub message: String,
    /// What to change, naming the `[ops]` setting or the variable to export.
    pub hint: Option<String>,
    /// The listen address is taken (another `runtime live`?).
    pub in_use: bool,
}

impl OpsError {
    pub(crate) fn new(message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            message: message.into(),
            hint,
            in_use: false,
        }
    }
}

impl std::fmt::Display for OpsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ops API: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OpsError {}

/// An error answer: `{"error": ..., "hint": ..., "status": 404, ...}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub hint: Option<String>,
    /// Extra fields merged into the body (a rejected reload's event).
    pub detail: Option<serde_json::Value>,
    /// What kind of refusal this answer is, for callers to match on.
    pub kind: Option<RefusalKind>,
    /// Seconds for the `Retry-After` header (a rate-limited action, a full server).
    pub retry_after_s: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<RefusalKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: Some(hint.into()).filter(|h: &String| !h.is_empty()),
            detail: None,
            kind: None,
            retry_after_s: None,
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: &self.message,
            hint: self.hint.as_deref(),
            status: self.status.as_u16(),
            kind: self.kind,
            detail: self.detail.as_ref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sandbar\""),
            );
        }
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
