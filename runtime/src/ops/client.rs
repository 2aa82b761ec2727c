//! The blocking HTTP client of the CLI (`runtime status`, `rollback`, ...)
//! and of the end-to-end tests: JSON in, JSON out, errors with the
//! server's message, hint and refusal kind, and an iterator over `/events`.

use crate::refusal::RefusalKind;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::time::Duration;

/// Requests other than `/events` give up after this long; a reload that
/// compiles takes well under a second.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Why an [`OpsClient`] call failed. `Display` gives the operator-facing
/// line, with the server's hint (or where to look) on a second line.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// Nothing answered at the address.
    Connect {
        /// The base URL tried (`http://host:port`).
        url: String,
        /// The transport's error (refused, timed out, DNS, ...).
        message: String,
    },
    /// The server answered with an error status.
    Http {
        /// The HTTP status: 401/403 for tokens, 404 for an unknown strategy,
        /// 409 for a refused control action, and so on.
        status: u16,
        /// The body's `error`, or `request failed` when it has none.
        message: String,
        /// The body's `hint`, naming what to change.
        hint: Option<String>,
        /// Why a control action was refused (the body's `kind`).
        kind: Option<RefusalKind>,
        /// The whole JSON body, for fields the other members do not carry.
        body: Value,
    },
    /// The answer was not what the API sends.
    Protocol(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Connect { url, message } => write!(
                f,
                "cannot reach the ops API at {url}: {message}\n  hint: is `runtime live` running with [ops] enabled? Pass --addr HOST:PORT or --config FILE to say where it listens"
            ),
            ClientError::Http {
                status,
                message,
                hint,
                ..
            } => {
                write!(f, "{message} (HTTP {status})")?;
                if let Some(hint) = hint {
                    write!(f, "\n  hint: {hint}")?;
                }
                Ok(())
            }
            ClientError::Protocol(message) => {
                write!(f, "unexpected answer from the ops API: {message}")
            }
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The kind of refusal, when the server refused a control action.
    pub fn refusal(&self) -> Option<RefusalKind> {
        match self {
            ClientError::Http { kind, .. } => *kind,
            _ => None,
        }
    }
}

/// One Server-Sent Events message: an event, or a comment (`: keep-alive`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseMessage {
    /// The `event:` field (`reload`, `trap`, ..., `hello`, `lagged`).
    pub event: String,
    /// The `data:` lines, joined with `\n` (here a JSON-encoded event).
    pub data: String,
    /// The `id:` field: the event's number in the runtime's event stream,
    /// counting up, so a gap shows what a lagging reader missed.
    pub id: Option<String>,
    /// A comment line; `data` holds its text.
    pub is_comment: bool,
}

/// A blocking client of one ops API server, with an optional bearer token
/// sent on every request. Requests give up after 60 s; `/events` streams
/// have no overall timeout.
pub struct OpsClient {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
    streaming: ureq::Agent,
}

impl OpsClient {
    /// `addr` is `host:port` or `http://host:port`; a wildcard host
    /// (`0.0.0.0`, `[::]`) is reached through loopback.
    pub fn new(addr: &str, token: Option<String>) -> Self {
        let addr = addr
            .trim()
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let addr = if let Some(port) = addr.strip_prefix("0.0.0.0:") {
            format!("127.0.0.1:{port}")
        } else if let Some(port) = addr.strip_prefix("[::]:") {
            format!("[::1]:{port}")
        } else {
            addr.to_owned()
        };
        let agent = |timeout: Option<Duration>| -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(timeout)
                .timeout_connect(Some(Duration::from_secs(5)))
                .build()
                .into()
        };
        Self {
            base: format!("http://{addr}"),
            token: token.filter(|t| !t.is_empty()),
            agent: agent(Some(TIMEOUT)),
            streaming: agent(None),
        }
    }

    /// `http://host:port`, after the wildcard-to-loopback rewrite.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET path` (e.g. `/status`), the JSON body on a 2xx status, else a
    /// [`ClientError::Http`] with the server's message.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        let (status, text) = self.request("GET", path)?;
        json(status, &text)
    }

    /// `POST path` with an empty body (a control action, e.g.
    /// `/strategies/{id}/reload`); answers as [`OpsClient::get`] does.
    pub fn post(&self, path: &str) -> Result<Value, ClientError> {
        let (status, text) = self.request("POST", path)?;
        json(status, &text)
    }

    /// `POST path` with `bytes` as an `application/wasm` body (a deploy:
    /// `/strategies/{id}/candidate`); answers as [`OpsClient::get`] does.
    pub fn post_bytes(&self, path: &str, bytes: &[u8]) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .with_token_post(self.agent.post(&url))
            .header("Content-Type", "application/wasm")
            .send(bytes)
            .map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| ClientError::Protocol(format!("cannot read the answer: {e}")))?;
        json(status, &text)
    }

    /// The status code and body as text, whatever the status.
    pub fn request(&self, method: &str, path: &str) -> Result<(u16, String), ClientError> {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "POST" => self.with_token_post(self.agent.post(&url)).send_empty(),
            _ => self.with_token_get(self.agent.get(&url)).call(),
        };
        let mut response = response.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| ClientError::Protocol(format!("cannot read the answer: {e}")))?;
        Ok((status, text))
    }

    /// Follows `/events` (optionally one strategy's); the iterator ends when
    /// the server stops.
    pub fn events(
        &self,
        strategy: Option<&str>,
    ) -> Result<impl Iterator<Item = std::io::Result<SseMessage>> + use<>, ClientError> {
        let path = match strategy {
            Some(id) => format!("/events?strategy={}", path_segment(id)),
            None => "/events".to_owned(),
        };
        let url = format!("{}{path}", self.base);
        let mut response = self
            .with_token_get(self.streaming.get(&url))
            .header("Accept", "text/event-stream")
            .call()
            .map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            return Err(json(status, &text)
                .err()
                .unwrap_or(ClientError::Protocol(format!("HTTP {status} from /events"))));
        }
        let reader = BufReader::new(response.into_body().into_reader());
        Ok(SseReader {
            lines: reader.lines(),
        })
    }

    fn with_token_get(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    fn with_token_post(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    fn transport(&self, error: ureq::Error) -> ClientError {
        ClientError::Connect {
            url: self.base.clone(),
            message: error.to_string(),
        }
    }
}

/// Bytes of a strategy id written as they are in a path or a query:
/// letters, digits, `-`, `_` and `~`. Everything else is percent-encoded,
/// `.` too, so an id of `..` is not a dot segment a URL parser would
/// resolve away.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// `id` as one path segment (or query value): an id with `/`, `?` or `#`
/// in it names that strategy, and the server answers that it has none,
/// instead of the path naming another action.
pub fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

fn json(status: u16, text: &str) -> Result<Value, ClientError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ClientError::Protocol(format!(
            "HTTP {status}, not JSON ({e}): {}",
            text.chars().take(200).collect::<String>()
        ))
    })?;
    if (200..300).contains(&status) {
        return Ok(value);
    }
    Err(ClientError::Http {
        status,
        message: value["error"]
            .as_str()
            .unwrap_or("request failed")
            .to_owned(),
        hint: value["hint"].as_str().map(str::to_owned),
        kind: value["kind"].as_str().and_then(|k| k.parse().ok()),
        body: value,
    })
}

/// Parses `text/event-stream`: fields until a blank line make one message.
struct SseReader<L> {
    lines: L,
}

impl<L: Iterator<Item = std::io::Result<String>>> Iterator for SseReader<L> {
    type Item = std::io::Result<SseMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut message = SseMessage::default();
        let mut any = false;
        loop {
            let line = match self.lines.next()? {
                Ok(line) => line,
                Err(e) => return Some(Err(e)),
            };
            if line.is_empty() {
                if any {
                    return Some(Ok(message));
                }
                continue;
            }
            if let Some(comment) = line.strip_prefix(':') {
                return Some(Ok(SseMessage {
                    data: comment.trim_start().to_owned(),
                    is_comment: true,
                    ..SseMessage::default()
                }));
            }
            any = true;
            let (field, value) = line.split_once(':').unwrap_or((&line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => message.event = value.to_owned(),
                "id" => message.id = Some(value.to_owned()),
                "data" => {
                    if !message.data.is_empty() {
                        message.data.push('\n');
                    }
                    message.data.push_str(value);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_and_comments() {
        let text = ": keep-alive\n\nevent: reload\nid: 7\ndata: {\"a\":1}\n\nevent: x\ndata: one\ndata: two\n\n";
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let messages: Vec<SseMessage> = SseReader { lines }.map(Result::unwrap).collect();
        assert_eq!(messages.len(), 3);
        assert!(messages[0].is_comment && messages[0].data == "keep-alive");
        assert_eq!(messages[1].event, "reload");
        assert_eq!(messages[1].id.as_deref(), Some("7"));
        assert_eq!(messages[1].data, "{\"a\":1}");
        assert_eq!(messages[2].data, "one\ntwo");
    }

    #[test]
    fn errors_carry_the_servers_message_and_hint() {
        let e = json(
            404,
            r#"{"error":"no running strategy `x`","hint":"running: a","status":404,"kind":"unknown_strategy"}"#,
        )
        .unwrap_err();
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.refusal(), Some(RefusalKind::UnknownStrategy));
        assert_eq!(
            e.to_string(),
            "no running strategy `x` (HTTP 404)\n  hint: running: a"
        );
        assert!(json(200, "not json").is_err());
    }

    #[test]
    fn wildcard_listen_addresses_are_reached_through_loopback() {
        assert_eq!(
            OpsClient::new("0.0.0.0:9190", None).base_url(),
            "http://127.0.0.1:9190"
        );
        assert_eq!(
            OpsClient::new("http://[::]:1/", None).base_url(),
            "http://[::1]:1"
        );
    }
}
