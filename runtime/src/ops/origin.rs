//! Requests from web pages that are not the dashboard: refused.
//!
//! A browser lets any page send a POST to `http://127.0.0.1:PORT` (a
//! "simple" request needs no preflight) and open a WebSocket to it, with the
//! user's own network position; without tokens (the dev config) that was
//! enough to halt a strategy from any site, and to read the live stream.
//! Browsers name the page in `Origin`, so a control request or a WebSocket
//! upgrade whose `Origin` is not this server is refused. Clients that are
//! not browsers (the CLI, curl, scripts) send no `Origin` and are unaffected.
//!
//! A page can also make its own host name resolve to 127.0.0.1 (DNS
//! rebinding), and then it *is* same-origin. So on a loopback listener
//! without tokens (where whoever reaches it may act) every request must
//! name a loopback host in `Host` (`localhost`, a loopback IP), which a
//! rebound name does not. With tokens, the token is the guard, and a
//! reverse proxy in front of a loopback listener may pass its own name.
//!
//! `Origin` is compared with `Host` by authority (host and port), not
//! scheme: behind a proxy that ends TLS the page is `https://` and the
//! request reaches this server as plain HTTP.

use super::error::ApiError;
use super::server::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// The middleware: [`check`] on every request before it is routed.
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let open = !state.auth.enabled();
    match check(state.listen, open, request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            tracing::warn!(
                method = %request.method(),
                path = request.uri().path(),
                "ops API refused a request: {}",
                error.message
            );
            error.into_response()
        }
    }
}

/// Refuses a request that a foreign web page made: an `Origin` that is not
/// this server on anything but a plain read, or, on a loopback listener
/// `open` to all (no tokens), a `Host` that is not a loopback name.
pub(crate) fn check(
    listen: SocketAddr,
    open: bool,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST);
    if open
        && listen.ip().is_loopback()
        && let Some(host) = host
        && !is_loopback_host(host)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Host `{host}` is not a name of this server, which listens on loopback only"),
            format!(
                "connect to http://{listen}/ or http://localhost:{}/ (a page whose own name resolves to 127.0.0.1 is refused)",
                listen.port()
            ),
        ));
    }
    let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let upgrades = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(origin) = text(header::ORIGIN).filter(|_| writes || upgrades) else {
        return Ok(());
    };
    let same = origin
        .split_once("://")
        .zip(host)
        .is_some_and(|((_, page), host)| page.eq_ignore_ascii_case(host));
    if same {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "cross-origin request refused: the page at `{origin}` is not this server (Host `{}`)",
            host.unwrap_or_default()
        ),
        format!(
            "control the runtime from its own dashboard (http://{listen}/), the runtime CLI, or a client that sends no Origin header; a reverse proxy must pass the Host header through"
        ),
    ))
}

/// `localhost` (any case, with or without a trailing dot), a loopback IPv4
/// address or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // `[v6]` or `[v6]:port`
        Some(rest) => rest.split_once(']').map_or(rest, |(ip, _)| ip),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const LOOPBACK: &str = "127.0.0.1:19371";

    fn loopback() -> SocketAddr {
        LOOPBACK.parse().unwrap()
    }

    /// Regression: on a token-less loopback server, a POST with
    /// `Origin: http://evil.example` halted a strategy (200, audited as
    /// `api:anonymous`), and a WebSocket from that origin was upgraded.
    #[test]
    fn regression_33_a_foreign_page_can_neither_control_nor_open_the_stream() {
        let host = (header::HOST, LOOPBACK);
        let evil = (header::ORIGIN, "http://evil.example");
        let error = check(
            loopback(),
            true,
            &Method::POST,
            &headers(&[host.clone(), evil.clone()]),
        )
        .unwrap_err();
        assert_eq!(error.status, StatusCode::FORBIDDEN);
        assert!(
            error.message.contains("`http://evil.example`"),
            "{}",
            error.message
        );
        assert!(error.hint.unwrap().contains("http://127.0.0.1:19371/"));
        let upgrade = (header::UPGRADE, "websocket");
        assert!(
            check(
                loopback(),
                true,
                &Method::GET,
                &headers(&[host.clone(), evil.clone(), upgrade.clone()])
            )
            .is_err()
        );
        // `null` (a sandboxed frame, a file:// page) is no origin of ours either.
        let null = (header::ORIGIN, "null");
        assert!(
            check(
                loopback(),
                true,
                &Method::POST,
                &headers(&[host.clone(), null])
            )
            .is_err()
        );

        // The dashboard itself (same origin), and clients without Origin.
        let own = (header::ORIGIN, "http://127.0.0.1:19371");
        assert!(
            check(
                loopback(),
                true,
                &Method::POST,
                &headers(&[host.clone(), own.clone()])
            )
            .is_ok()
        );
        assert!(
            check(
                loopback(),
                true,
                &Method::GET,
                &headers(&[host.clone(), own, upgrade])
            )
            .is_ok()
        );
        assert!(
            check(
                loopback(),
                true,
                &Method::POST,
                &headers(std::slice::from_ref(&host))
            )
            .is_ok()
        );
        // Behind a proxy that ends TLS: same authority, another scheme.
        let proxied = [
            (header::HOST, "ops.example.com"),
            (header::ORIGIN, "https://ops.example.com"),
        ];
        assert!(check(loopback(), false, &Method::POST, &headers(&proxied)).is_ok());
        let foreign = [
            (header::HOST, "ops.example.com"),
            (header::ORIGIN, "https://evil.example"),
        ];
        assert!(
            check(loopback(), false, &Method::POST, &headers(&foreign)).is_err(),
            "with tokens too"
        );
        // A plain read from elsewhere is the browser's to withhold (no CORS
        // headers are sent), not a change of anything.
        assert!(check(loopback(), true, &Method::GET, &headers(&[host, evil])).is_ok());
    }

    #[test]
    fn regression_33_a_rebound_host_name_is_refused_on_loopback() {
        let rebound = headers(&[(header::HOST, "evil.example:19371")]);
        let error = check(loopback(), true, &Method::GET, &rebound).unwrap_err();
        assert!(
            error.message.contains("Host `evil.example:19371`"),
            "{}",
            error.message
        );
        for host in [
            "127.0.0.1:19371",
            "localhost:19371",
            "LOCALHOST",
            "localhost.:1",
            "[::1]:19371",
            "127.1.2.3",
        ] {
            assert!(
                check(
                    loopback(),
                    true,
                    &Method::GET,
                    &headers(&[(header::HOST, host)])
                )
                .is_ok(),
                "{host}"
            );
        }
        // With tokens the token guards, and a proxy may pass its own name.
        assert!(check(loopback(), false, &Method::GET, &rebound).is_ok());
        // No Host (HTTP/1.0): nothing to check.
        assert!(check(loopback(), true, &Method::GET, &HeaderMap::new()).is_ok());
        // A server on a network address is reached by names of its own.
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(check(public, true, &Method::GET, &rebound).is_ok());
    }
}
