//! The ops server under abuse (hardening issue, items 14 and 16): idle
//! connections beyond `ops.max_connections`, a slowloris client, more event
//! streams than `ops.max_event_streams`, a flood of control actions against
//! the rate limit, no-op transitions, and what anonymous reads may see.
//! Limits are set low and timeouts short; the tests assert what happens,
//! never how long it took (times are printed).

use super::{ALICE, WAIT, settings};
use crate::support::*;
use sandbar_runtime::RefusalKind;
use sandbar_runtime::ops::{OpsClient, OpsServer, OpsSettings, TokenSecret};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn started() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox
}

fn serve(
    sandbox: &Sandbox,
    tokens: Vec<TokenSecret>,
    tweak: impl FnOnce(&mut OpsSettings),
) -> (OpsServer, OpsClient) {
    let mut settings = settings(sandbox, tokens);
    tweak(&mut settings);
    let server = OpsServer::start(sandbox.runtime().handle(), settings).unwrap();
    let client = OpsClient::new(&server.local_addr().to_string(), None);
    (server, client)
}

fn alice() -> TokenSecret {
    TokenSecret {
        name: "alice".into(),
        secret: ALICE.into(),
    }
}

/// How the server ended a connection the client keeps silent on.
#[derive(Debug, PartialEq)]
enum Ended {
    /// It answered `503` (over the maximum) and closed.
    Busy,
    /// It closed without a word (a timeout).
    Closed,
}

/// Reads until the server closes `stream`; panics if it stays open for WAIT.
fn ended(mut stream: TcpStream) -> Ended {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server kept a silent connection open for {WAIT:?}")
            }
            // A reset also ends it.
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&answer);
    if text.starts_with("HTTP/1.1 503") {
        assert!(text.contains("ops.max_connections"), "{text}");
        Ended::Busy
    } else {
        assert!(answer.is_empty(), "a silent client got an answer: {text}");
        Ended::Closed
    }
}

/// Regression: 10,000 idle connections were all kept (fds 17 → 11,017) and
/// starved the runtime of descriptors. Beyond the cap a connection is
/// answered 503 at once; those within it are closed when no request head
/// comes; a fresh connection is then served.
#[test]
fn regression_13_14_idle_connections_beyond_the_cap_are_refused_and_the_rest_time_out() {
    let mut sandbox = started();
    const CAP: usize = 4;
    const IDLE: usize = 12;
    let (server, client) = serve(&sandbox, Vec::new(), |s| {
        s.max_connections = CAP;
        s.max_event_streams = 1;
        s.header_timeout = Duration::from_secs(2);
    });
    let addr = server.local_addr();
    let opened = Instant::now();
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let endings: Vec<Ended> = idle.into_iter().map(ended).collect();
    eprintln!(
        "{IDLE} idle connections ended {:?} after opening",
        opened.elapsed()
    );
    let busy = endings.iter().filter(|e| **e == Ended::Busy).count();
    assert!(
        busy >= IDLE - CAP,
        "at most {CAP} held at once: {endings:?}"
    );
    assert!(
        busy < IDLE,
        "some were held until their header timeout: {endings:?}"
    );

    let status = client.get("/status").expect("a fresh connection is served");
    let connections = &status["ops"]["connections"];
    assert_eq!(connections["max"], CAP, "{connections}");
    assert_eq!(connections["refused"], busy, "{connections}");
    assert!(
        connections["timed_out"].as_u64().unwrap() >= (IDLE - busy) as u64,
        "{connections}"
    );
    assert_eq!(connections["open"], 1, "only this request's: {connections}");
    server.stop();
    sandbox.stop();
}

/// Regression: a client that sends half a request head and then trickles
/// bytes kept its connection forever. The header timeout counts from when
/// the server started waiting, so trickling does not extend it.
#[test]
fn regression_13_14_a_slowloris_client_is_dropped_after_the_header_timeout() {
    let mut sandbox = started();
    let (server, client) = serve(&sandbox, Vec::new(), |s| {
        s.header_timeout = Duration::from_millis(500);
    });
    let mut slow = TcpStream::connect(server.local_addr()).unwrap();
    slow.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    let mut sent = 0;
    let mut buf = [0u8; 1024];
    let dropped = loop {
        if sent == 300 {
            break false; // 30 s of trickling and still open
        }
        if slow.write_all(b"a").is_err() {
            break true;
        }
        sent += 1;
        match slow.read(&mut buf) {
            Ok(0) => break true,
            // A `408 Request Timeout` on the way out is a drop too.
            Ok(n) if buf[..n].starts_with(b"HTTP/1.1 408") => break true,
            Ok(n) => panic!(
                "an answer to half a head: {}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
    };
    eprintln!(
        "slowloris dropped after {:?} and {sent} trickled bytes",
        started.elapsed()
    );
    assert!(dropped, "the server kept a half-sent head open");
    let status = client.get("/status").unwrap();
    assert!(status["ops"]["connections"]["timed_out"].as_u64().unwrap() >= 1);
    server.stop();
    sandbox.stop();
}

/// Event streams are long-lived by design, so they have their own cap
/// below the connection cap; a closed stream gives its place back.
#[test]
fn regression_13_14_event_streams_are_capped_and_give_their_place_back() {
    let mut sandbox = started();
    let (server, client) = serve(&sandbox, Vec::new(), |s| {
        s.max_event_streams = 1;
    });
    let first = client.events(None).expect("the first stream");
    let error = client
        .events(None)
        .err()
        .expect("a second stream is refused");
    assert_eq!(error.status(), Some(503), "{error}");
    assert!(
        error.to_string().contains("ops.max_event_streams"),
        "{error}"
    );
    // Status and control still get through while the stream holds its place.
    assert_eq!(
        client.get("/status").unwrap()["ops"]["connections"]["event_streams"],
        1
    );
    drop(first);
    // The server notices the close at its next keep-alive (200 ms here).
    let deadline = Instant::now() + WAIT;
    let second = loop {
        match client.events(None) {
            Ok(stream) => break stream,
            Err(e) if e.status() == Some(503) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("the place was not given back: {e}"),
        }
    };
    drop(second);
    server.stop();
    sandbox.stop();
}

/// Regression: 1,500 halt/unhalt a second grew events and audit by 59 MB in
/// 2 minutes. Beyond the burst, actions are answered 429 with Retry-After,
/// carry the `rate_limited` kind and a hint naming the setting, and write
/// neither an audit record nor an event.
#[test]
fn regression_13_16_a_flood_of_control_actions_gets_429_and_no_audit_record_each() {
    let mut sandbox = started();
    let (server, client) = serve(&sandbox, Vec::new(), |s| {
        s.actions_per_second = 1;
        s.action_burst = 3;
    });
    let flood = 60;
    let started = Instant::now();
    let (mut done, mut limited) = (0, 0);
    for i in 0..flood {
        let action = if i % 2 == 0 { "halt" } else { "unhalt" };
        match client.post(&format!("/strategies/audit/{action}")) {
            Ok(_) => done += 1,
            Err(e) if e.status() == Some(429) => {
                assert_eq!(e.refusal(), Some(RefusalKind::RateLimited), "{e}");
                assert!(e.to_string().contains("ops.actions_per_second"), "{e}");
                limited += 1;
            }
            // A halt or unhalt that found the state already there.
            Err(e) => assert_eq!(e.status(), Some(409), "{e}"),
        }
    }
    let took = started.elapsed();
    eprintln!("{flood} actions in {took:?}: {done} carried out, {limited} rate-limited");
    // The burst, plus one a second for however long the flood took.
    let allowed = 3 + took.as_secs() as usize + 1;
    assert!(flood - limited <= allowed, "{} passed", flood - limited);
    assert!(limited >= 1);

    // Retry-After is on the wire.
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(b"POST /strategies/audit/halt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    if answer.starts_with("HTTP/1.1 429") {
        limited += 1;
        assert!(
            answer.to_ascii_lowercase().contains("\r\nretry-after: "),
            "{answer}"
        );
        assert!(answer.contains("\"kind\":\"rate_limited\""), "{answer}");
    }

    server.stop();
    sandbox.stop();
    let audit = std::fs::read_to_string(sandbox.path("journal/audit.jsonl")).unwrap();
    let records = audit.lines().count();
    eprintln!(
        "audit trail after the flood: {records} records, {} bytes",
        audit.len()
    );
    assert_eq!(
        records,
        flood + 1 - limited,
        "one record per action not refused by the rate limit"
    );
}

/// Regression: `resume` of a running strategy answered 200 while `unhalt`
/// of a running one answered 409. Every action that would change nothing
/// is now a 409 of kind `unchanged`, audited as rejected, with no event.
#[test]
fn regression_13_16_resume_of_a_running_strategy_answers_409_like_every_no_op() {
    let mut sandbox = started();
    let (server, client) = serve(&sandbox, Vec::new(), |_| {});
    let refused = |action: &str| {
        let error = client
            .post(&format!("/strategies/audit/{action}"))
            .unwrap_err();
        (error.refusal(), error.status(), error.to_string())
    };
    let (kind, status, text) = refused("resume");
    assert_eq!(
        (kind, status),
        (Some(RefusalKind::Unchanged), Some(409)),
        "{text}"
    );
    assert!(text.contains("already running"), "{text}");
    client.post("/strategies/audit/pause").unwrap();
    assert_eq!(refused("pause").0, Some(RefusalKind::Unchanged));
    client.post("/strategies/audit/halt").unwrap();
    assert_eq!(refused("halt").0, Some(RefusalKind::Unchanged));
    client.post("/strategies/audit/unhalt").unwrap();
    assert_eq!(refused("unhalt").0, Some(RefusalKind::NotHalted));
    server.stop();
    sandbox.stop();
    let states = read_jsonl(&sandbox.path("journal/events.jsonl"))
        .into_iter()
        .filter(|e| e["event"] == "state")
        .count();
    assert_eq!(
        states, 3,
        "pause, halt, unhalt: the refused ones wrote no event"
    );
}

/// With a token configured, loopback reads stay open by default but see no
/// pid and no absolute path; `loopback_reads_need_token` closes them.
#[test]
fn regression_13_16_anonymous_loopback_reads_see_no_pid_and_no_absolute_paths() {
    let mut sandbox = started();
    let (server, anonymous) = serve(&sandbox, vec![alice()], |_| {});
    let addr = server.local_addr().to_string();
    let open = anonymous.get("/status").unwrap();
    assert!(open.get("pid").is_none(), "{open}");
    let config = open["config_path"].as_str().unwrap();
    assert!(!config.contains('/'), "only the file name: {config}");
    assert!(
        open["watching"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !p.as_str().unwrap().contains('/')),
        "{}",
        open["watching"]
    );
    let full = OpsClient::new(&addr, Some(ALICE.into()))
        .get("/status")
        .unwrap();
    assert_eq!(full["pid"], std::process::id());
    assert!(
        full["config_path"].as_str().unwrap().starts_with('/'),
        "{full}"
    );
    server.stop();

    let (server, anonymous) = serve(&sandbox, vec![alice()], |s| {
        s.loopback_reads_need_token = true;
    });
    let addr = server.local_addr().to_string();
    let error = anonymous.get("/status").unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    let with_token = OpsClient::new(&addr, Some(ALICE.into()));
    assert_eq!(
        with_token.get("/status").unwrap()["pid"],
        std::process::id()
    );
    server.stop();
    sandbox.stop();
}
