//! The ops surface end to end: a real `Runtime` with the HTTP API on
//! 127.0.0.1 (port 0), driven through files and through the API with the
//! same client the CLI uses. Covers `/status`, `/metrics` (parsed with a
//! Prometheus text parser), the `/events` stream (reloads good and bad,
//! rollbacks, state changes, keep-alives, end on stop), control with and
//! without tokens, the audit trail, and the `kind` every refusal carries
//! (one test per case the runtime refuses, through the client the CLI uses).
//! Its submodule `limits` covers the server under abuse.

mod limits;

use crate::support::*;
use prometheus_parse::{Scrape, Value as Prom};
use sandbar_runtime::RefusalKind;
use sandbar_runtime::ops::{OpsClient, OpsServer, OpsSettings, SseMessage, TokenSecret};
use serde_json::Value;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const ALICE: &str = "alice-token-0123456789";

/// `/events` read on a thread of its own, messages passed on in order.
struct EventStream {
    messages: Receiver<Option<SseMessage>>,
    seen: Vec<SseMessage>,
}

impl EventStream {
    fn open(client: &OpsClient) -> EventStream {
        let stream = client.events(None).expect("GET /events");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for message in stream {
                let Ok(message) = message else { break };
                if tx.send(Some(message)).is_err() {
                    return;
                }
            }
            let _ = tx.send(None); // the stream ended
        });
        let mut events = EventStream {
            messages: rx,
            seen: Vec::new(),
        };
        let hello = events.next_event("hello", |_| true);
        assert_eq!(hello["subscribed"], true);
        events
    }

    /// The next event of `kind` whose JSON matches `pred`.
    fn next_event(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.messages.recv_timeout(left) {
                Ok(Some(m)) => {
                    self.seen.push(m.clone());
                    if m.event == kind {
                        let data: Value = serde_json::from_str(&m.data).unwrap();
                        if pred(&data) {
                            return data;
                        }
                    }
                }
                Ok(None) => panic!("the event stream ended while waiting for {kind}"),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => panic!("the reader stopped"),
            }
        }
        panic!("no {kind} event; saw {:#?}", self.seen);
    }

    /// Waits until the server ends the stream.
    fn wait_end(&mut self) {
        let deadline = Instant::now() + WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.messages.recv_timeout(left) {
                Ok(Some(m)) => self.seen.push(m),
                Ok(None) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        panic!("the event stream did not end");
    }
}

fn settings(sandbox: &Sandbox, tokens: Vec<TokenSecret>) -> OpsSettings {
    let mut settings = OpsSettings::local("127.0.0.1:0".parse().unwrap());
    settings.tokens = tokens;
    settings.config_path = Some(sandbox.config_path());
    settings.watching = vec![sandbox.path("dist"), sandbox.config_path()];
    settings.keep_alive = Duration::from_millis(200);
    settings
}

fn start_ops(sandbox: &Sandbox, tokens: Vec<TokenSecret>) -> (OpsServer, OpsClient) {
    let server = OpsServer::start(sandbox.runtime().handle(), settings(sandbox, tokens)).unwrap();
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    (server, OpsClient::new(&addr.to_string(), None))
}

fn audit_strategy(status: &Value) -> &Value {
    status["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "audit")
        .expect("audit in /status")
}

fn scrape(client: &OpsClient) -> Scrape {
    let (code, text) = client.request("GET", "/metrics").unwrap();
    assert_eq!(code, 200);
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("/metrics parses")
}

/// The value of a counter or gauge sample with these labels.
fn sample(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)));
    match found.map(|s| &s.value) {
        Some(Prom::Counter(v) | Prom::Gauge(v) | Prom::Untyped(v)) => *v,
        other => panic!("no sample {name}{labels:?}: {other:?}"),
    }
}

/// `(le, count)` of a histogram with these labels.
fn histogram(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
    let found = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)));
    match found.map(|s| &s.value) {
        Some(Prom::Histogram(buckets)) => {
            let mut b: Vec<(f64, f64)> = buckets.iter().map(|h| (h.less_than, h.count)).collect();
            b.sort_by(|x, y| x.0.total_cmp(&y.0));
            b
        }
        other => panic!("no histogram {name}{labels:?}: {other:?}"),
    }
}

#[test]
fn status_metrics_and_events_follow_reloads_rollbacks_and_state_changes() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    let (server, client) = start_ops(&sandbox, Vec::new());
    let mut events = EventStream::open(&client);
    sandbox.feed(10);

    let status = client.get("/status").unwrap();
    assert_eq!(status["profile"], "dev");
    assert_eq!(status["hot_reload"], true);
    assert_eq!(status["bars"], 10);
    assert_eq!(status["ops"]["auth"], "none");
    assert_eq!(status["watching"].as_array().unwrap().len(), 2);
    let audit = audit_strategy(&status);
    assert_eq!(audit["state"], "running");
    assert_eq!(audit["version"], 1);
    assert_eq!(audit["bars"], 10);
    // Published by the loop once a second, so only its presence is certain.
    assert!(audit["latency_us"]["p99"].is_number());

    // A good reload through the file system.
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    let v2 = rebuilt(&original, 2);
    deploy(&sandbox.audit_path(), &v2);
    let swapped = events.next_event("reload", |e| e["outcome"] == "swapped");
    assert_eq!(swapped["sha256"], sha(&v2));
    assert_eq!(swapped["trigger"], "file");
    sandbox.feed(10);

    // A bad one: the running version stays, the stream and status say why.
    deploy(&sandbox.audit_path(), b"this is not wasm");
    let rejected = events.next_event("reload", |e| e["outcome"] == "rejected");
    assert!(
        rejected["error"].as_str().unwrap().contains("WebAssembly"),
        "{rejected}"
    );
    assert!(rejected["hint"].is_string(), "{rejected}");
    let audit = client.get("/strategies/audit").unwrap();
    assert_eq!(audit["sha256"], sha(&v2));
    assert_eq!(audit["reload"]["rejected"], 1);
    assert!(audit["reload"]["last_error"].is_string());
    // Reloading it through the API now is refused the same way: 422 with the stage.
    let error = client.post("/strategies/audit/reload").unwrap_err();
    assert_eq!(error.status(), Some(422), "{error}");
    assert!(
        error
            .to_string()
            .contains("the running version keeps running"),
        "{error}"
    );
    let sandbar_runtime::ops::ClientError::Http { body, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(body["detail"]["outcome"], "rejected");
    events.next_event("reload", |e| {
        e["outcome"] == "rejected" && e["trigger"] == "api"
    });

    // Another good build, then roll back through the API: one step, then to a version.
    let v3 = rebuilt(&original, 3);
    deploy(&sandbox.audit_path(), &v3);
    events.next_event("reload", |e| {
        e["outcome"] == "swapped" && e["sha256"] == sha(&v3)
    });
    sandbox.feed(10);
    let versions: Vec<u64> = client.get("/strategies/audit").unwrap()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions.len(), 3, "{versions:?}");
    let answer = client.post("/strategies/audit/rollback?steps=1").unwrap();
    assert_eq!(answer["action"], "rollback");
    assert_eq!(answer["actor"], "api:anonymous");
    assert_eq!(answer["reload"]["outcome"], "rolled_back");
    assert_eq!(answer["sha256"], sha(&v2));
    assert_eq!(answer["state"], "running");
    let rolled = events.next_event("reload", |e| e["outcome"] == "rolled_back");
    assert_eq!(
        (rolled["sha256"].clone(), rolled["trigger"].clone()),
        (sha(&v2).into(), "api".into())
    );
    let answer = client
        .post(&format!(
            "/strategies/audit/rollback?to_version={}",
            versions[0]
        ))
        .unwrap();
    assert_eq!(answer["sha256"], sha(&original));
    events.next_event("reload", |e| {
        e["outcome"] == "rolled_back" && e["sha256"] == sha(&original)
    });
    let error = client
        .post("/strategies/audit/rollback?to_version=999")
        .unwrap_err();
    assert_eq!(error.status(), Some(404), "{error}");
    assert!(error.to_string().contains("versions kept"), "{error}");
    sandbox.feed(10);

    // A "rollback through files": redeploying an earlier build is a cache hit.
    deploy(&sandbox.audit_path(), &v3);
    let redeployed = events.next_event("reload", |e| {
        e["outcome"] == "swapped" && e["sha256"] == sha(&v3)
    });
    assert_eq!(redeployed["cache_hit"], true);
    sandbox.feed(10);

    // Pause, resume, halt, unhalt: each answer is the state now, each one an event.
    for (action, state) in [
        ("pause", "paused"),
        ("resume", "running"),
        ("halt", "halted"),
    ] {
        let answer = client.post(&format!("/strategies/audit/{action}")).unwrap();
        assert_eq!(answer["state"], state, "{answer}");
        let event = events.next_event("state", |e| e["state"] == state);
        assert_eq!(event["actor"], "api:anonymous");
    }
    let error = client.post("/strategies/audit/resume").unwrap_err();
    assert_eq!(error.status(), Some(409), "resume is not unhalt: {error}");
    let halted = client.get("/strategies/audit").unwrap();
    assert_eq!(halted["state"], "halted");
    assert!(
        halted["state_reason"]
            .as_str()
            .unwrap()
            .contains("api:anonymous")
    );
    assert_eq!(
        client.post("/strategies/audit/unhalt").unwrap()["state"],
        "running"
    );
    sandbox.feed(10);

    // Errors are JSON with a hint.
    let error = client.post("/strategies/audti/pause").unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert!(
        error.to_string().contains("did you mean `audit`"),
        "{error}"
    );
    let error = client
        .post("/strategies/audit/rollback?steps=many")
        .unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(error.to_string().contains("?steps=N"), "{error}");
    let error = client.get("/nowhere").unwrap_err();
    assert!(error.to_string().contains("endpoints:"), "{error}");

    // Metrics agree with what happened.
    let metrics = scrape(&client);
    let reloads = |outcome: &str| {
        sample(
            &metrics,
            "sandbar_reloads_total",
            &[("strategy", "audit"), ("outcome", outcome)],
        )
    };
    assert_eq!(reloads("swapped"), 4.0, "start, v2, v3, v3 again");
    assert_eq!(reloads("rejected"), 2.0);
    assert_eq!(reloads("rolled_back"), 2.0);
    assert_eq!(
        sample(&metrics, "sandbar_bars_total", &[]),
        sandbox.fed as f64
    );
    assert_eq!(
        sample(
            &metrics,
            "sandbar_strategy_bars_total",
            &[("strategy", "audit")]
        ),
        sandbox.fed as f64,
    );
    assert_eq!(
        sample(
            &metrics,
            "sandbar_strategy_state",
            &[("strategy", "audit"), ("state", "running")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &metrics,
            "sandbar_strategy_state",
            &[("strategy", "audit"), ("state", "halted")]
        ),
        0.0
    );
    assert!(sample(&metrics, "sandbar_equity", &[("strategy", "audit")]) > 0.0);
    assert!(
        sample(
            &metrics,
            "sandbar_risk_refusals_total",
            &[("strategy", "audit"), ("rule", "validation")]
        ) >= 0.0
    );
    let compile = histogram(
        &metrics,
        "sandbar_reload_stage_duration_seconds",
        &[("stage", "compile")],
    );
    assert!(compile.last().unwrap().1 >= 3.0, "{compile:?}");
    assert!(
        compile.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative: {compile:?}"
    );
    let latency = histogram(
        &metrics,
        "sandbar_bar_latency_seconds",
        &[("strategy", "audit")],
    );
    assert_eq!(latency.last().unwrap().0, f64::INFINITY);
    assert!(
        latency.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative: {latency:?}"
    );

    // Keep-alives while idle, and the stream ends when the server stops.
    std::thread::sleep(Duration::from_millis(500));
    server.stop();
    events.wait_end();
    assert!(
        events
            .seen
            .iter()
            .any(|m| m.is_comment && m.data == "keep-alive"),
        "keep-alive comments"
    );

    sandbox.stop();
    let audit_trail = read_jsonl(&sandbox.path("journal/audit.jsonl"));
    let actions: Vec<(&str, &str)> = audit_trail
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("reload", "rejected"),
            ("rollback", "ok"),
            ("rollback", "ok"),
            ("rollback", "rejected"),
            ("pause", "ok"),
            ("resume", "ok"),
            ("halt", "ok"),
            ("resume", "rejected"),
            ("unhalt", "ok"),
            ("pause", "rejected"),
        ]
    );
    assert!(audit_trail.iter().all(|r| r["actor"] == "api:anonymous"));
    assert_eq!(audit_trail[1]["args"], "steps=1");
    assert_eq!(audit_trail[4]["state"], "paused");
}

#[test]
fn control_needs_the_token_and_the_audit_trail_names_its_holder() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    let alice = TokenSecret {
        name: "alice".into(),
        secret: ALICE.into(),
    };
    let (server, anonymous) = start_ops(&sandbox, vec![alice]);
    let addr = server.local_addr().to_string();
    let mut events = EventStream::open(&anonymous);
    sandbox.feed(5);

    // Reads stay open on loopback.
    assert_eq!(anonymous.get("/status").unwrap()["ops"]["auth"], "token");
    let error = anonymous.post("/strategies/audit/pause").unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert!(error.to_string().contains("bearer token"), "{error}");
    let wrong = OpsClient::new(&addr, Some("not-the-token-at-all".into()));
    assert_eq!(
        wrong.post("/strategies/audit/halt").unwrap_err().status(),
        Some(403)
    );
    assert_eq!(
        anonymous.get("/strategies/audit").unwrap()["state"],
        "running",
        "nothing changed"
    );

    let client = OpsClient::new(&addr, Some(ALICE.into()));
    let answer = client.post("/strategies/audit/halt").unwrap();
    assert_eq!(
        (answer["state"].as_str(), answer["actor"].as_str()),
        (Some("halted"), Some("api:alice"))
    );
    let event = events.next_event("state", |e| e["state"] == "halted");
    assert_eq!(event["actor"], "api:alice");
    assert!(
        client.get("/strategies/audit").unwrap()["state_reason"]
            .as_str()
            .unwrap()
            .contains("api:alice")
    );
    assert_eq!(
        client.post("/strategies/audit/unhalt").unwrap()["state"],
        "running"
    );
    sandbox.feed(5);

    server.stop();
    sandbox.stop();
    let trail = read_jsonl(&sandbox.path("journal/audit.jsonl"));
    let summary: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
                r["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("api:unauthenticated", "pause", "denied"),
            ("api:unauthenticated", "halt", "denied"),
            ("api:alice", "halt", "ok"),
            ("api:alice", "unhalt", "ok"),
        ]
    );
    assert!(
        trail
            .iter()
            .all(|r| r["remote"].as_str().unwrap().starts_with("127.0.0.1:"))
    );
    let text = std::fs::read_to_string(sandbox.path("journal/audit.jsonl")).unwrap();
    assert!(
        !text.contains(ALICE),
        "the secret never reaches the journal"
    );
}

#[test]
fn reload_through_the_api_when_nothing_watches_the_files() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start_watching(false).unwrap();
    let (server, client) = start_ops(&sandbox, Vec::new());
    assert_eq!(client.get("/status").unwrap()["hot_reload"], false);
    sandbox.feed(5);

    let original = std::fs::read(sandbox.audit_path()).unwrap();
    let v2 = rebuilt(&original, 2);
    deploy(&sandbox.audit_path(), &v2);
    let answer = client.post("/strategies/audit/reload").unwrap();
    assert_eq!(answer["reload"]["outcome"], "swapped");
    assert_eq!(answer["reload"]["trigger"], "api");
    assert_eq!(answer["sha256"], sha(&v2));
    assert_eq!(answer["version"], 2);

    deploy(&sandbox.audit_path(), &original[..original.len() / 2]);
    let error = client.post("/strategies/audit/reload").unwrap_err();
    assert_eq!(error.status(), Some(422), "{error}");
    assert_eq!(
        client.get("/strategies/audit").unwrap()["sha256"],
        sha(&v2),
        "v2 keeps running"
    );
    sandbox.feed(5);
    server.stop();
    let (_, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(anomalies, 0);
}

#[test]
fn every_refusal_answers_with_its_kind_and_status() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start_watching(false).unwrap();
    let (server, client) = start_ops(&sandbox, Vec::new());
    sandbox.feed(5);

    let refused = |path: &str| {
        let error = client.post(path).unwrap_err();
        let sandbar_runtime::ops::ClientError::Http { body, .. } = &error else {
            panic!("{path}: {error:?}")
        };
        // The body names the kind; the client hands back the same one, parsed.
        let kind = error
            .refusal()
            .unwrap_or_else(|| panic!("{path}: no kind in {body}"));
        assert_eq!(body["kind"], kind.as_str(), "{path}");
        assert!(body["hint"].is_string(), "{path} has a hint: {body}");
        (kind, error.status().unwrap(), error.to_string())
    };

    use RefusalKind::*;
    // (path, kind, status, a part of the message or hint)
    let cases = [
        ("audti/halt", UnknownStrategy, 404, "did you mean `audit`"),
        ("audit/hault", UnknownAction, 404, "did you mean `halt`"),
        ("audit/unhalt", NotHalted, 409, "is running, not halted"),
        (
            "audit/rollback?steps=3",
            NoEarlierVersion,
            409,
            "hot_reload.keep_versions",
        ),
        ("audit/rollback?steps=0", BadArguments, 400, "at least 1"),
        ("audit/rollback?steps=many", BadArguments, 400, "?steps=N"),
        (
            "audit/rollback?to_version=1",
            AlreadyLive,
            409,
            "already live",
        ),
        (
            "audit/rollback?to_version=9",
            UnknownVersion,
            404,
            "versions kept: 1",
        ),
    ];
    for (path, want, code, needle) in cases {
        let (kind, status, text) = refused(&format!("/strategies/{path}"));
        assert_eq!((kind, status), (want, code), "{path}: {text}");
        assert!(text.contains(needle), "{path}: {text}");
    }

    client.post("/strategies/audit/halt").unwrap();
    for action in ["pause", "resume"] {
        let (kind, status, text) = refused(&format!("/strategies/audit/{action}"));
        assert_eq!(
            (kind, status),
            (RefusalKind::Halted, 409),
            "{action}: {text}"
        );
    }
    client.post("/strategies/audit/unhalt").unwrap();

    let original = std::fs::read(sandbox.audit_path()).unwrap();
    deploy(&sandbox.audit_path(), &original[..original.len() / 2]);
    let (kind, status, text) = refused("/strategies/audit/reload");
    assert_eq!((kind, status), (RefusalKind::ReloadRejected, 422), "{text}");
    sandbox.feed(5);

    // The runtime stops under a server that still runs: control is refused
    // as shutting down, not as an unknown strategy or a failure.
    sandbox.stop();
    let (kind, status, text) = refused("/strategies/audit/halt");
    assert_eq!((kind, status), (RefusalKind::ShuttingDown, 503), "{text}");
    server.stop();
}
