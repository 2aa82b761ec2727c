//! `GET /ws` with a plain WebSocket client: `hello`, a full status, the
//! recent events, then status deltas each runtime event with the JSON `/events`
//! sends, the `?strategy=` filter; the token rules (header, or a first
//! message; a wrong one refused); and misbehaving clients (a frame over the
//! size limit, a client that never reads or answers, more sockets than
//! `ops.max_connections`), each dropped while the server keeps serving.

use super::*;
use sandbar_runtime::ops::{OpsClient, OpsServer};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Instant;
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

const WAIT: Duration = Duration::from_secs(30);

type Socket = WebSocket<TcpStream>;

fn connect(
    server: &OpsServer,
    query: &str,
    authorization: Option<&str>,
) -> Result<Socket, tungstenite::Error> {
    let addr = server.local_addr();
    let mut request = format!("ws://{addr}/ws{query}").into_client_request()?;
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert("authorization", value.parse().unwrap());
    }
    let stream = TcpStream::connect(addr).unwrap();
    let socket = tungstenite::client(request, stream)
        .map(|(socket, _)| socket)
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e,
            tungstenite::HandshakeError::Interrupted(_) => unreachable!("a blocking socket"),
        })?;
    // Short reads from here on, so waiting for a message can time out.
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    Ok(socket)
}

/// What came next: a JSON message, or the close (code, reason).
#[derive(Debug)]
enum Next {
    Json(Value),
    Closed(Option<(u16, String)>),
}

fn next(socket: &mut Socket) -> Next {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match socket.read() {
            Ok(Message::Text(text)) => {
                return Next::Json(serde_json::from_str(text.as_str()).unwrap());
            }
            Ok(Message::Close(frame)) => {
                return Next::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
            }
            Ok(_) => {} // pings (answered by the client), pongs
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Next::Closed(None),
        }
    }
    panic!("nothing from /ws within {WAIT:?}");
}

/// The next message named `event` whose data matches `pred`; the others seen on the way.
fn next_event(
    socket: &mut Socket,
    event: &str,
    pred: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let mut seen = Vec::new();
    loop {
        match next(socket) {
            Next::Json(m) if m["event"] == event && pred(&m) => return (m, seen),
            Next::Json(m) => seen.push(m),
            Next::Closed(why) => {
                panic!("closed ({why:?}) while waiting for {event}; saw {seen:#?}")
            }
        }
    }
}

fn started() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(5);
    sandbox
}

#[test]
fn issue_17_ws_sends_hello_recent_events_status_deltas_and_events_as_sse_does() {
    let mut sandbox = started();
    let server = start_ops(&sandbox, settings(&sandbox, Vec::new()));
    let mut socket = connect(&server, "", None).unwrap();
    let mut filtered = connect(&server, "?strategy=other", None).unwrap();

    let (hello, _) = next_event(&mut socket, "hello", |_| true);
    assert_eq!(hello["data"]["read"], true);
    assert_eq!(hello["data"]["control"], true, "no tokens: control is open");
    assert_eq!(hello["data"]["auth"], "none");
    let (full, _) = next_event(&mut socket, "status", |_| true);
    assert_eq!(full["data"]["full"], true);
    let listed = full["data"]["strategies"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], "audit");
    assert_eq!(listed[0]["bars"], 5);
    assert!(
        full["data"]["status"].get("strategies").is_none(),
        "strategies only once"
    );
    // Then the curves the server kept (the sampler may not have run yet),
    // each strategy's aligned with the instants.
    let (history, skipped) = next_event(&mut socket, "history", |_| true);
    assert!(
        skipped.is_empty(),
        "history right after the status: {skipped:?}"
    );
    let instants = history["data"]["t"].as_array().unwrap().len();
    if let Some(equity) = history["data"]["equity"]["audit"].as_array() {
        assert_eq!(equity.len(), instants);
    }
    // Then the start-up reload, replayed from the recent events.
    let (startup, _) = next_event(&mut socket, "reload", |m| m["backlog"] == true);
    assert_eq!(startup["data"]["strategy"], "audit");
    assert_eq!(startup["data"]["trigger"], "startup");

    // A reload by file arrives as the same JSON the SSE stream carries, numbered.
    let new_build = rebuilt(&std::fs::read(sandbox.audit_path()).unwrap(), 1);
    deploy(&sandbox.audit_path(), &new_build);
    let (reload, _) = next_event(&mut socket, "reload", |m| m["data"]["outcome"] == "swapped");
    assert_eq!(reload["data"]["event"], "reload");
    assert_eq!(reload["data"]["sha256"], sha(&new_build).as_str());
    assert!(reload["id"].as_u64().is_some(), "{reload}");
    assert!(reload.get("backlog").is_none());

    // Later status pushes carry only what changed.
    sandbox.feed(3);
    let (delta, _) = next_event(&mut socket, "status", |m| {
        m["data"]["strategies"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["bars"] == 8))
    });
    assert_eq!(delta["data"]["full"], false);

    // The filtered socket gets status but no event of another strategy.
    let (_, skipped) = next_event(&mut filtered, "status", |m| {
        m["data"]["strategies"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["bars"] == 8))
    });
    assert!(
        skipped.iter().all(|m| m["event"] != "reload"),
        "an event of `audit` reached the ?strategy=other socket: {skipped:#?}"
    );

    // Stopping the server closes the socket with a reason.
    server.stop();
    let why = loop {
        if let Next::Closed(why) = next(&mut socket) {
            break why;
        }
    };
    assert_eq!(why.map(|(code, _)| code), Some(1001), "going away");
    sandbox.stop();
}

#[test]
fn issue_17_ws_reads_that_need_a_token_wait_for_it_as_a_message_and_a_wrong_one_is_refused() {
    let mut sandbox = started();
    let mut settings = settings(&sandbox, alice());
    settings.loopback_reads_need_token = true;
    let server = start_ops(&sandbox, settings);

    // A wrong token in the header is refused before the upgrade.
    match connect(&server, "", Some("Bearer wrong-token")) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }

    // No token: `hello` says so and nothing else comes; a wrong one ends it.
    let mut socket = connect(&server, "", None).unwrap();
    let (hello, _) = next_event(&mut socket, "hello", |_| true);
    assert_eq!(
        (
            hello["data"]["read"].as_bool(),
            hello["data"]["auth"].as_str()
        ),
        (Some(false), Some("token"))
    );
    socket
        .send(Message::Text(r#"{"token": "nope"}"#.into()))
        .unwrap();
    let (denied, before) = next_event(&mut socket, "denied", |_| true);
    assert!(before.is_empty(), "data before the token: {before:#?}");
    assert!(
        denied["data"]["hint"]
            .as_str()
            .unwrap()
            .contains("[[ops.tokens]]")
    );
    match next(&mut socket) {
        Next::Closed(Some((code, _))) => assert_eq!(code, 1008),
        other => panic!("expected a close, got {other:?}"),
    }

    // The right token as the first message: full access, then data.
    let mut socket = connect(&server, "", None).unwrap();
    socket
        .send(Message::Text(format!(r#"{{"token": "{ALICE}"}}"#).into()))
        .unwrap();
    let (access, _) = next_event(&mut socket, "access", |_| true);
    assert_eq!(access["data"]["control"], true);
    assert_eq!(access["data"]["actor"], "api:alice");
    let (status, _) = next_event(&mut socket, "status", |_| true);
    assert!(
        status["data"]["status"]["pid"].as_u64().is_some(),
        "a token holder sees the pid"
    );

    // The token in the header works as well.
    let mut socket = connect(&server, "", Some(&format!("Bearer {ALICE}"))).unwrap();
    let (hello, _) = next_event(&mut socket, "hello", |_| true);
    assert_eq!(hello["data"]["actor"], "api:alice");
    next_event(&mut socket, "status", |_| true);
    server.stop();
    sandbox.stop();
}

/// Regression: a reader's socket could send wrong tokens without end (2,000
/// answered in 0.28 s, none limited), where HTTP limits denied requests.
#[test]
fn regression_33_wrong_tokens_over_ws_draw_from_the_denied_rate_limit() {
    let mut sandbox = started();
    let mut settings = settings(&sandbox, alice());
    (settings.actions_per_second, settings.action_burst) = (1, 3);
    let server = start_ops(&sandbox, settings);
    let mut socket = connect(&server, "", None).unwrap();
    next_event(&mut socket, "hello", |_| true);
    let mut answers = Vec::new();
    let closed = loop {
        socket
            .send(Message::Text(r#"{"token": "wrong"}"#.into()))
            .unwrap();
        match next(&mut socket) {
            Next::Json(json) if json["event"] == "denied" => answers.push(json),
            Next::Json(_) => {}
            Next::Closed(why) => break why,
        }
        assert!(answers.len() <= 20, "still guessing after {answers:#?}");
    };
    assert_eq!(closed.map(|(code, _)| code), Some(1008));
    let last = answers.last().unwrap();
    assert!(
        last["data"]["error"].as_str().unwrap().contains("too many"),
        "{last:#}"
    );
    server.stop();
    sandbox.stop();
}

/// Regression: `?strategy=nope`, `?strategy=` and ids in any case were all
/// accepted with `subscribed: true`, and then nothing came, with no word.
#[test]
fn regression_33_a_filter_that_names_no_running_strategy_says_so() {
    let mut sandbox = started();
    let server = start_ops(&sandbox, settings(&sandbox, alice()));
    let client = OpsClient::new(&server.local_addr().to_string(), None);

    // SSE: an empty filter is refused; an unknown id is followed, with a note.
    let error = client
        .events(Some(""))
        .err()
        .expect("an empty filter is refused");
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(error.to_string().contains("?strategy= is empty"), "{error}");
    let hello = client
        .events(Some("AUDIT"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(hello.event, "hello");
    let hello: Value = serde_json::from_str(&hello.data).unwrap();
    let note = hello["note"].as_str().unwrap();
    assert!(
        note.contains("no running strategy `AUDIT`") && note.contains("did you mean `audit`"),
        "{note}"
    );
    let hello = client
        .events(Some("audit"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let hello: Value = serde_json::from_str(&hello.data).unwrap();
    assert!(hello.get("note").is_none(), "{hello}");

    // WS: the same.
    match connect(&server, "?strategy=", None) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        other => panic!("expected 400, got {other:?}"),
    }
    let mut socket = connect(&server, "?strategy=AUDIT", None).unwrap();
    let (hello, _) = next_event(&mut socket, "hello", |_| true);
    assert!(
        hello["data"]["note"]
            .as_str()
            .unwrap()
            .contains("did you mean `audit`"),
        "{hello:#}"
    );
    server.stop();
    sandbox.stop();
}

/// `GET /status` on a connection of its own (a fresh client: no pooled
/// connection left holding a slot).
fn get_status(server: &OpsServer) -> (u16, String) {
    OpsClient::new(&server.local_addr().to_string(), None)
        .request("GET", "/status")
        .unwrap()
}

fn open_connections(server: &OpsServer) -> u64 {
    let (code, body) = get_status(server);
    assert_eq!(code, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    status["ops"]["connections"]["open"].as_u64().unwrap()
}

/// Waits until `/status` (one connection itself) counts `want` others.
fn wait_open(server: &OpsServer, want: u64) {
    let deadline = Instant::now() + WAIT;
    let mut open = open_connections(server);
    while open != want + 1 {
        assert!(
            Instant::now() < deadline,
            "{open} connections open, not {}",
            want + 1
        );
        std::thread::sleep(Duration::from_millis(50));
        open = open_connections(server);
    }
}

/// A socket, retried while the slot of a connection just closed comes back.
fn connect_when_free(server: &OpsServer, query: &str) -> Socket {
    let deadline = Instant::now() + WAIT;
    loop {
        match connect(server, query, None) {
            Ok(socket) => return socket,
            Err(tungstenite::Error::Http(r)) if r.status() == 503 && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open /ws: {e}"),
        }
    }
}

#[test]
fn issue_17_ws_clients_that_misbehave_are_dropped_and_the_server_keeps_serving() {
    let mut sandbox = started();
    let mut settings = settings(&sandbox, Vec::new());
    settings.idle_timeout = Duration::from_millis(600);
    settings.keep_alive = Duration::from_millis(100);
    settings.max_connections = 4;
    let server = start_ops(&sandbox, settings);

    // A frame over the limit is refused by the protocol layer, not buffered.
    let mut socket = connect(&server, "", None).unwrap();
    next_event(&mut socket, "hello", |_| true);
    let huge = "x".repeat(1024 * 1024);
    let _ = socket.send(Message::Text(huge.into()));
    let started = Instant::now();
    let why = loop {
        match next(&mut socket) {
            Next::Closed(why) => break why,
            Next::Json(_) => {}
        }
    };
    eprintln!(
        "a 1 MiB frame: closed after {:?} ({why:?})",
        started.elapsed()
    );
    if let Some((code, _)) = why {
        assert_eq!(code, u16::from(CloseCode::Size), "message too big");
    }
    drop(socket);
    wait_open(&server, 0);

    // A client that upgrades and then never reads nor answers a ping is
    // dropped after `ops.idle_timeout_ms`, and its slot comes back.
    let addr = server.local_addr();
    let mut silent = TcpStream::connect(addr).unwrap();
    write!(
        silent,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    wait_open(&server, 1);
    let started = Instant::now();
    wait_open(&server, 0);
    eprintln!(
        "a silent WebSocket client: dropped after {:?}",
        started.elapsed()
    );
    // What it was sent before the drop: the upgrade, then frames, then EOF.
    silent.set_read_timeout(Some(WAIT)).unwrap();
    let mut received = Vec::new();
    let _ = silent.read_to_end(&mut received);
    assert!(
        received.starts_with(b"HTTP/1.1 101"),
        "{:?}",
        String::from_utf8_lossy(&received[..received.len().min(200)])
    );

    // Sockets hold connection slots: with the maximum open as WebSockets,
    // one more connection is refused, and closing them gives the slots back.
    let mut sockets: Vec<Socket> = (0..4)
        .map(|_| connect_when_free(&server, "?status=false"))
        .collect();
    for socket in &mut sockets {
        next_event(socket, "hello", |_| true);
    }
    let (code, body) = get_status(&server);
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("ops.max_connections"), "{body}");
    for mut socket in sockets {
        socket.close(None).unwrap();
        // The closing handshake: what was still queued, then the server's close.
        while let Next::Json(_) = next(&mut socket) {}
    }
    wait_open(&server, 0);
    server.stop();
    sandbox.stop();
}
