//! The one place a [`Refusal`] becomes an HTTP answer: its status code, and
//! a body with the message, the hint, the `kind` and (for a rejected
//! reload) the event as `detail`.

use super::error::ApiError;
use crate::refusal::{Refusal, RefusalKind};
use axum::http::StatusCode;

/// The status code of each kind of refusal.
pub fn status_of(kind: RefusalKind) -> StatusCode {
    match kind {
        RefusalKind::UnknownStrategy | RefusalKind::UnknownVersion | RefusalKind::UnknownAction => {
            StatusCode::NOT_FOUND
        }
        RefusalKind::NotEnabled
        | RefusalKind::Halted
        | RefusalKind::NotHalted
        | RefusalKind::Unchanged
        | RefusalKind::NoEarlierVersion
        | RefusalKind::AlreadyLive
        | RefusalKind::NoCandidate
        | RefusalKind::NoPendingSwap => StatusCode::CONFLICT,
        RefusalKind::ReloadRejected => StatusCode::UNPROCESSABLE_ENTITY,
        RefusalKind::BadArguments => StatusCode::BAD_REQUEST,
        RefusalKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        RefusalKind::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        RefusalKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let kind = refusal.kind();
        let mut error = ApiError::new(status_of(kind), refusal.to_string(), refusal.hint());
        error.kind = Some(kind);
        if let Refusal::ReloadRejected { event, .. } = &refusal {
            error = error.with_detail(serde_json::to_value(event).unwrap_or_default());
        }
        if let Refusal::RateLimited { retry_after_s, .. } = refusal {
            error.retry_after_s = Some(retry_after_s);
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_error_status() {
        for kind in RefusalKind::ALL {
            let status = status_of(kind);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{kind}: {status}"
            );
        }
    }

    #[test]
    fn the_codes_callers_rely_on() {
        let code = |kind| status_of(kind).as_u16();
        assert_eq!(code(RefusalKind::UnknownStrategy), 404);
        assert_eq!(code(RefusalKind::UnknownVersion), 404);
        assert_eq!(code(RefusalKind::UnknownAction), 404);
        assert_eq!(code(RefusalKind::Halted), 409);
        assert_eq!(code(RefusalKind::NotHalted), 409);
        assert_eq!(code(RefusalKind::NoEarlierVersion), 409);
        assert_eq!(code(RefusalKind::AlreadyLive), 409);
        assert_eq!(code(RefusalKind::ReloadRejected), 422);
        assert_eq!(code(RefusalKind::BadArguments), 400);
        assert_eq!(code(RefusalKind::ShuttingDown), 503);
        assert_eq!(code(RefusalKind::Unchanged), 409);
        assert_eq!(code(RefusalKind::RateLimited), 429);
    }

    #[test]
    fn a_refusal_answer_carries_its_kind_and_hint() {
        let error = ApiError::from(Refusal::NotHalted {
            strategy: "sma".into(),
            state: crate::live::RunState::Running,
        });
        assert_eq!(error.status, StatusCode::CONFLICT);
        assert_eq!(error.kind, Some(RefusalKind::NotHalted));
        assert_eq!(error.message, "`sma` is running, not halted");
        assert_eq!(
            error.hint.as_deref(),
            Some("only a halted strategy can be un-halted")
        );
        assert!(error.detail.is_none());
    }
}
