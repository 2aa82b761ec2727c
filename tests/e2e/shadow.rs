//! Shadow deployments and swap policies (issue 19): a candidate sees every
//! bar the live generation sees, exactly once, on its own paper account;
//! its orders never reach the live journal or account; promotion happens at
//! an exact bar boundary with nothing lost or repeated; a trapping candidate
//! is discarded without touching the live one; `when_flat` swaps on the
//! first flat bar and not before; the auto-promotion rule promotes.

use crate::support::{Sandbox, SandboxConfig, audit_reports, component, read_jsonl, rebuilt, sha};
use sandbar_runtime::live::{
    CandidateAction, DeployRequest, DeploySource, Event, HandoffEvent, Outcome,
};
use std::time::{Duration, Instant};

pub fn candidate_request(bytes: Vec<u8>, params: &[(&str, toml::Value)]) -> DeployRequest {
    DeployRequest {
        source: DeploySource::Bytes(bytes),
        sha256: None,
        shadow: true,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        actor: "test".into(),
    }
}

pub fn audit_bytes(marker: u32) -> Vec<u8> {
    rebuilt(&std::fs::read(component("seq-audit")).unwrap(), marker)
}

/// Waits until an event matches, skipping others.
fn wait_event(sandbox: &Sandbox, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
    let events = sandbox.events.as_ref().expect("started");
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(e) if pred(&e) => return e,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no event for {what}");
}

/// Waits for the handoff to `version` (the event thread publishes it a
/// moment after the loop's swap).
fn wait_handoff(sandbox: &Sandbox, version: u64) -> HandoffEvent {
    match wait_event(
        sandbox,
        &format!("the handoff to version {version}"),
        |e| matches!(e, Event::Handoff(h) if h.version == version),
    ) {
        Event::Handoff(h) => h,
        _ => unreachable!(),
    }
}

#[test]
fn issue_19_every_bar_once_by_the_live_generation_and_once_by_the_candidate() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(50);
    let bytes = audit_bytes(1);
    let candidate_sha = sha(&bytes);
    let event = sandbox
        .runtime()
        .deploy("audit", candidate_request(bytes, &[]))
        .unwrap();
    assert_eq!(event.outcome, Outcome::Candidate, "{event:?}");
    sandbox.feed(350);
    let status = sandbox.status_of("audit");
    let candidate = status.candidate.expect("a candidate runs");
    assert_eq!(candidate.sha256, candidate_sha);
    let c = &candidate.comparison;
    assert_eq!(c.bars, 350, "{c:?}");
    assert_eq!(
        c.seq_range,
        Some((50, 399)),
        "from the bar after the deploy on"
    );
    // Same build, same params: the same orders on every bar.
    assert_eq!(c.bars_differing, 0, "{c:?}");
    assert_eq!(c.agreement_pct, 100.0);
    assert_eq!(c.shadow.traps, 0);
    assert!(c.shadow.latency_us.samples > 0 || c.bars > 0);
    let live = sandbox.runtime().generation("audit").unwrap();
    assert_eq!(
        live.stats.seq_range(),
        Some((0, 399)),
        "the live one saw every bar"
    );
    assert_ne!(live.sha256(), candidate_sha);
    sandbox.stop();

    // The candidate's own audit: every report, no gap or repeat.
    let shadow_orders = read_jsonl(&sandbox.path("journal/shadow_orders.jsonl"));
    assert!(
        shadow_orders
            .iter()
            .all(|o| o["sha256"] == candidate_sha.as_str()),
        "shadow orders carry the candidate's SHA-256"
    );
    let (counts, anomalies) = audit_reports(&shadow_orders);
    assert_eq!(anomalies, 0, "the candidate saw no gap or repeat");
    assert_eq!(counts, vec![100, 200, 300, 400]);
    let live_orders = read_jsonl(&sandbox.path("journal/orders.jsonl"));
    assert!(
        live_orders
            .iter()
            .all(|o| o["sha256"] != candidate_sha.as_str()),
        "no candidate order in the live journal"
    );
    let (live_counts, live_anomalies) = audit_reports(&live_orders);
    assert_eq!((live_counts, live_anomalies), (vec![100, 200, 300, 400], 0));
}

/// A trading strategy (sma-cross, long or flat) as `audit`.
fn trading_sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    std::fs::copy(component("sma-cross"), sandbox.audit_path()).unwrap();
    sandbox
}

fn trading_config(deploy: &str) -> String {
    format!("fast = 3\nslow = 8\n{deploy}")
}

/// The live account's records with the run id left out.
fn live_records(sandbox: &Sandbox, file: &str) -> Vec<String> {
    read_jsonl(&sandbox.path(&format!("journal/{file}")))
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("run");
            r.to_string()
        })
        .collect()
}

#[test]
fn issue_19_shadow_orders_never_reach_the_live_account() {
    let params = trading_config("");
    let run = |with_shadow: bool| {
        let mut sandbox = trading_sandbox();
        sandbox.write_config(&SandboxConfig {
            params: &params,
            ..SandboxConfig::default()
        });
        sandbox.start().unwrap();
        sandbox.feed(40);
        let mut shadow_sha = None;
        if with_shadow {
            // The same strategy trading twice as big: its own fills.
            let bytes = rebuilt(&std::fs::read(component("sma-cross")).unwrap(), 7);
            shadow_sha = Some(sha(&bytes));
            let event = sandbox
                .runtime()
                .deploy(
                    "audit",
                    candidate_request(bytes, &[("size", toml::Value::Float(2.0))]),
                )
                .unwrap();
            assert_eq!(event.outcome, Outcome::Candidate, "{event:?}");
        }
        sandbox.feed(400);
        let summary = sandbox.runtime.take().unwrap().stop();
        (sandbox, summary, shadow_sha)
    };
    let (quiet, quiet_summary, _) = run(false);
    let (shadowed, shadow_summary, shadow_sha) = run(true);
    let shadow_sha = shadow_sha.unwrap();

    let shadow_fills = read_jsonl(&shadowed.path("journal/shadow_fills.jsonl"));
    assert!(
        !shadow_fills.is_empty(),
        "the candidate traded on its own account"
    );
    assert!(
        shadow_fills
            .iter()
            .all(|f| f["sha256"] == shadow_sha.as_str())
    );
    for file in ["fills.jsonl", "orders.jsonl"] {
        let (a, b) = (live_records(&quiet, file), live_records(&shadowed, file));
        assert!(!a.is_empty(), "the live strategy traded ({file})");
        assert_eq!(
            a, b,
            "{file}: the live journal is the same with a shadow running"
        );
        assert!(b.iter().all(|r| !r.contains(&shadow_sha)), "{file}");
    }
    let account = |s: &[sandbar_runtime::live::StrategySummary]| {
        let s = &s[0];
        (
            s.equity.to_bits(),
            s.realised_pnl.to_bits(),
            s.unrealised_pnl.to_bits(),
            s.fills,
            s.orders,
            s.trades,
        )
    };
    assert_eq!(
        account(&quiet_summary),
        account(&shadow_summary),
        "the live account is bit for bit the same"
    );
}

#[test]
fn issue_19_promotion_happens_at_an_exact_bar_boundary() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(100);
    let bytes = audit_bytes(2);
    let candidate_sha = sha(&bytes);
    let deployed = sandbox
        .runtime()
        .deploy("audit", candidate_request(bytes, &[]))
        .unwrap();
    let candidate_version = deployed.version.unwrap();
    sandbox.feed(120);
    let old_live = sandbox.runtime().generation("audit").unwrap();
    let promoted = sandbox
        .runtime()
        .candidate("audit", CandidateAction::Promote, "test")
        .unwrap();
    assert_eq!(promoted.version, candidate_version);
    sandbox.feed(180);
    let live = sandbox.runtime().generation("audit").unwrap();
    assert_eq!(live.sha256(), candidate_sha, "the candidate is live");
    let handoff = wait_handoff(&sandbox, candidate_version);
    assert_eq!(
        serde_json::to_value(handoff.method).unwrap(),
        "shadow",
        "it kept its own state"
    );
    let boundary = handoff.first_seq;
    assert_eq!(boundary, 220, "the bar after the promotion");
    assert_eq!(old_live.stats.seq_range(), Some((0, boundary - 1)));
    assert_eq!(live.stats.seq_range(), Some((boundary, 399)));
    assert_eq!(live.shadow.seq_range(), Some((100, boundary - 1)));
    assert!(sandbox.status_of("audit").candidate.is_none());
    let versions: Vec<u64> = sandbox
        .status_of("audit")
        .versions
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions.last(), Some(&candidate_version));
    let orders = sandbox.stop();
    // No gap or repeat on either side of the boundary: every report of the
    // candidate, in the shadow and then live, sits at the same distance
    // between its bar count and the bar's seq (it counted each bar once).
    assert_eq!(audit_reports(&orders).1, 0);
    let shadow_orders = read_jsonl(&sandbox.path("journal/shadow_orders.jsonl"));
    assert_eq!(audit_reports(&shadow_orders).1, 0);
    let offsets = |records: &[serde_json::Value]| -> Vec<(u64, i64)> {
        records
            .iter()
            .filter(|o| o["sha256"] == candidate_sha.as_str() && o["side"] == "buy")
            .map(|o| {
                let count = o["quantity"].as_f64().unwrap() as u64;
                (count, o["seq"].as_i64().unwrap() - count as i64)
            })
            .collect()
    };
    let mut reports = offsets(&shadow_orders);
    let in_shadow = reports.len();
    reports.extend(offsets(&orders));
    eprintln!("candidate reports (count, seq - count): {reports:?}");
    assert!(in_shadow >= 1 && reports.len() > in_shadow, "{reports:?}");
    assert!(
        reports.iter().all(|(_, d)| *d == reports[0].1),
        "{reports:?}"
    );
    let counts: Vec<u64> = reports.iter().map(|(c, _)| *c).collect();
    let expected: Vec<u64> = (1..=counts.len() as u64).map(|k| k * 100).collect();
    assert_eq!(counts, expected, "consecutive reports across the promotion");
    // The old version's reports end before the boundary.
    assert!(
        orders
            .iter()
            .filter(|o| o["sha256"] != candidate_sha.as_str())
            .all(|o| o["seq"].as_u64().unwrap() < boundary)
    );
    let audit = read_jsonl(&sandbox.path("journal/events.jsonl"));
    assert!(
        audit
            .iter()
            .any(|e| e["event"] == "deploy" && e["what"] == "promoted"),
        "a deploy event says so"
    );
}

#[test]
fn issue_19_a_trapping_candidate_is_discarded_and_the_live_one_untouched() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(50);
    let live_before = sandbox.runtime().generation("audit").unwrap();
    // Passes its smoke test (synthetic bars have seq < 200), traps at 300.
    let request = candidate_request(
        audit_bytes(3),
        &[("trap_from_seq", toml::Value::Integer(300))],
    );
    let deployed = sandbox.runtime().deploy("audit", request).unwrap();
    assert_eq!(deployed.outcome, Outcome::Candidate, "{deployed:?}");
    sandbox.feed(300);
    let discarded = wait_event(
        &sandbox,
        "the candidate discarded",
        |e| matches!(e, Event::Deploy(d) if d.actor == "trap"),
    );
    let Event::Deploy(discarded) = discarded else {
        unreachable!()
    };
    assert_eq!(discarded.version, deployed.version.unwrap());
    assert!(
        discarded.reason.as_deref().unwrap().contains("seq 300"),
        "{discarded:?}"
    );
    let status = sandbox.status_of("audit");
    assert!(status.candidate.is_none());
    assert_eq!(status.traps, 0, "the live generation never trapped");
    let live = sandbox.runtime().generation("audit").unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&live, &live_before),
        "the live generation is the same"
    );
    assert_eq!(live.stats.seq_range(), Some((0, 349)));
    let refused = sandbox
        .runtime()
        .candidate("audit", CandidateAction::Promote, "test")
        .unwrap_err();
    assert_eq!(refused.kind().as_str(), "no_candidate");
}

/// The position at the boundary of every bar, from the fills journal
/// (fills of bar `s` happen after its boundary).
fn position_before(fills: &[serde_json::Value], seq: u64) -> f64 {
    fills
        .iter()
        .filter(|f| f["strategy"] == "audit" && f["seq"].as_u64().unwrap() < seq)
        .map(|f| {
            let q = f["quantity"].as_f64().unwrap();
            if f["side"] == "buy" { q } else { -q }
        })
        .sum()
}

#[test]
fn issue_19_when_flat_swaps_on_the_first_flat_bar_and_not_before() {
    let mut sandbox = trading_sandbox();
    let params = trading_config("[strategy.deploy]\nswap = \"when_flat\"");
    sandbox.write_config(&SandboxConfig {
        params: &params,
        ..SandboxConfig::default()
    });
    sandbox.start_watching(false).unwrap();
    sandbox.feed(20);
    // Feed until the strategy holds a position at a bar boundary.
    let fills_path = sandbox.path("journal/fills.jsonl");
    let mut asked_at = None;
    for _ in 0..500 {
        sandbox.feed(1);
        assert!(sandbox.runtime().handle().journal_barrier());
        let fills = read_jsonl(&fills_path);
        if position_before(&fills, sandbox.fed) != 0.0 {
            asked_at = Some(sandbox.fed);
            break;
        }
    }
    let asked_at = asked_at.expect("sma-cross took a position");
    let bytes = rebuilt(&std::fs::read(component("sma-cross")).unwrap(), 9);
    let new_sha = sha(&bytes);
    let mut request = candidate_request(bytes, &[]);
    request.shadow = false;
    let event = sandbox.runtime().deploy("audit", request).unwrap();
    assert_eq!(event.outcome, Outcome::Pending, "{event:?}");
    let waiting = sandbox
        .status_of("audit")
        .pending_swap
        .expect("visible in status");
    assert_eq!(waiting.policy, "when_flat");
    assert_eq!(waiting.sha256, new_sha);
    let mut swapped = None;
    for _ in 0..2000 {
        sandbox.feed(1);
        if sandbox.live_sha() == new_sha {
            swapped = Some(());
            break;
        }
    }
    swapped.expect("the strategy went flat and the swap happened");
    sandbox.feed(2);
    let handoff = wait_handoff(&sandbox, event.version.unwrap());
    assert!(sandbox.status_of("audit").pending_swap.is_none());
    sandbox.stop();
    let fills = read_jsonl(&fills_path);
    let boundary = handoff.first_seq;
    assert!(
        boundary > asked_at,
        "it waited: asked at {asked_at}, swapped at {boundary}"
    );
    assert_eq!(position_before(&fills, boundary), 0.0, "flat at the swap");
    // ...and no order of the running version still working (sma-cross's
    // market orders fill on the bar after the one that sent them).
    let orders = read_jsonl(&sandbox.path("journal/orders.jsonl"));
    let in_flight = orders
        .iter()
        .filter(|o| o["strategy"] == "audit" && o["seq"].as_u64() == Some(boundary - 1))
        .count();
    assert_eq!(in_flight, 0, "an order in flight at the swap: {orders:?}");
    for seq in asked_at..boundary {
        let entering = orders
            .iter()
            .any(|o| o["strategy"] == "audit" && o["seq"].as_u64() == Some(seq - 1));
        assert!(
            position_before(&fills, seq) != 0.0 || entering,
            "flat with nothing working at {seq}, before the swap at {boundary}"
        );
    }
}

#[test]
fn issue_19_a_waiting_swap_is_forced_cancelled_and_replaced() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig {
        params: "report_every = 100\n[strategy.deploy]\nswap_window = \"12:00-12:01\"",
        ..SandboxConfig::default()
    });
    sandbox.start_watching(false).unwrap();
    sandbox.feed(10);
    let live = sandbox.live_sha();
    let mut request = candidate_request(audit_bytes(4), &[]);
    request.shadow = false;
    let first = sandbox.runtime().deploy("audit", request.clone()).unwrap();
    assert_eq!(first.outcome, Outcome::Pending, "{first:?}");
    sandbox.feed(5);
    assert_eq!(
        sandbox.live_sha(),
        live,
        "outside its window: still waiting"
    );
    // A newer build replaces the waiting one.
    request.source = DeploySource::Bytes(audit_bytes(5));
    let second = sandbox.runtime().deploy("audit", request).unwrap();
    assert_eq!(second.outcome, Outcome::Pending);
    let pending = sandbox.status_of("audit").pending_swap.unwrap();
    assert_eq!(Some(pending.version), second.version);
    assert_eq!(pending.policy, "window 12:00-12:01");
    // Synthetic bars start at midnight, one a minute: far from 12:00.
    // Cancelled: the running version stays, the history forgets the build.
    sandbox
        .runtime()
        .candidate("audit", CandidateAction::SwapCancel, "test")
        .unwrap();
    assert!(sandbox.status_of("audit").pending_swap.is_none());
    let versions = sandbox.status_of("audit").versions;
    assert_eq!(versions.last().unwrap().sha256, live, "{versions:?}");
    let refused = sandbox
        .runtime()
        .candidate("audit", CandidateAction::SwapNow, "test")
        .unwrap_err();
    assert_eq!(refused.kind().as_str(), "no_pending_swap");
    // Waiting again, then forced: it swaps at the next bar.
    let mut again = candidate_request(audit_bytes(6), &[]);
    again.shadow = false;
    let third = sandbox.runtime().deploy("audit", again).unwrap();
    sandbox
        .runtime()
        .candidate("audit", CandidateAction::SwapNow, "test")
        .unwrap();
    sandbox.feed(1);
    let now = sandbox.runtime().generation("audit").unwrap();
    assert_eq!(Some(now.version), third.version);
    assert_eq!(now.stats.seq_range(), Some((15, 15)), "at the next bar");
}

/// Regression (issue 19): a version waiting for its swap policy was the
/// history's newest entry, so `versions` did not end with the live version
/// and a rollback counted its steps from the waiting one.
#[test]
fn regression_19_a_waiting_version_is_not_listed_and_rollback_counts_from_the_live_one() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig {
        params: "report_every = 100\n[strategy.deploy]\nswap_window = \"12:00-12:01\"",
        ..SandboxConfig::default()
    });
    sandbox.start_watching(false).unwrap();
    sandbox.feed(10);
    let first = sandbox.live_sha();
    let live_deploy = |marker: u32| {
        let mut request = candidate_request(audit_bytes(marker), &[]);
        request.shadow = false;
        request
    };
    // v2 live (forced through its window), v3 waiting.
    let second = sandbox.runtime().deploy("audit", live_deploy(21)).unwrap();
    sandbox
        .runtime()
        .candidate("audit", CandidateAction::SwapNow, "test")
        .unwrap();
    sandbox.feed(1);
    assert_eq!(
        Some(sandbox.runtime().generation("audit").unwrap().version),
        second.version
    );
    let second_sha = sandbox.live_sha();
    let third = sandbox.runtime().deploy("audit", live_deploy(22)).unwrap();
    assert_eq!(third.outcome, Outcome::Pending, "{third:?}");
    let status = sandbox.status_of("audit");
    let listed: Vec<&str> = status.versions.iter().map(|v| v.sha256.as_str()).collect();
    assert_eq!(
        listed,
        [first.as_str(), second_sha.as_str()],
        "the last is live"
    );
    assert_eq!(status.pending_swap.unwrap().version, third.version.unwrap());
    // Two steps back from v2 is past the history: refused, v3 still waits.
    let refused = sandbox.runtime().rollback("audit", 2).unwrap_err();
    assert_eq!(refused.kind().as_str(), "no_earlier_version", "{refused}");
    assert!(sandbox.status_of("audit").pending_swap.is_some());
    // One step back from v2 is v1: v3 is dropped, the rollback waits in its place.
    let rolled = sandbox.runtime().rollback("audit", 1).unwrap();
    assert_eq!(rolled.sha256.as_deref(), Some(first.as_str()), "{rolled:?}");
    let waiting = sandbox.status_of("audit").pending_swap.unwrap();
    assert_eq!(waiting.sha256, first);
    sandbox
        .runtime()
        .candidate("audit", CandidateAction::SwapNow, "test")
        .unwrap();
    sandbox.feed(1);
    assert_eq!(sandbox.live_sha(), first);
    assert!(sandbox.runtime().handle().journal_barrier());
    let events = read_jsonl(&sandbox.path("journal/events.jsonl"));
    assert!(
        events.iter().any(|e| e["event"] == "deploy"
            && e["what"] == "swap_cancelled"
            && e["version"] == third.version.unwrap()),
        "the waiting v3 was cancelled by the rollback: {events:#?}"
    );
}

#[test]
fn issue_19_auto_promotion_promotes_an_agreeing_candidate() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig {
        params: "report_every = 100\n[strategy.deploy]\nmode = \"shadow\"\nauto_promote = true\npromote_after_bars = 50\ndiscard_after_bars = 100",
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(20);
    // A new file of a strategy in `mode = "shadow"` becomes its candidate.
    let bytes = audit_bytes(8);
    let new_sha = sha(&bytes);
    crate::support::deploy(&sandbox.audit_path(), &bytes);
    sandbox.wait_reload("the file as candidate", |e| e.outcome == Outcome::Candidate);
    assert_ne!(sandbox.live_sha(), new_sha, "the file did not go live");
    let promoted = {
        let mut found = None;
        for _ in 0..400 {
            sandbox.feed(1);
            std::thread::sleep(Duration::from_millis(5));
            if sandbox.live_sha() == new_sha {
                found = Some(sandbox.fed);
                break;
            }
        }
        found.expect("auto-promoted")
    };
    assert!(promoted >= 70, "not before promote_after_bars: {promoted}");
    let Event::Deploy(event) = wait_event(
        &sandbox,
        "a deploy event by the rule",
        |e| matches!(e, Event::Deploy(d) if d.actor == "auto"),
    ) else {
        unreachable!()
    };
    assert!(event.reason.unwrap().contains("auto-promoted"));
    let orders = sandbox.stop();
    assert_eq!(audit_reports(&orders).1, 0);
}

#[test]
fn issue_19_the_ops_api_deploys_compares_promotes_and_audits() {
    use sandbar_runtime::ops::{OpsClient, OpsServer, OpsSettings};
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start_watching(false).unwrap();
    let mut settings = OpsSettings::local("127.0.0.1:0".parse().unwrap());
    settings.config_path = Some(sandbox.config_path());
    let server = OpsServer::start(sandbox.runtime().handle(), settings).unwrap();
    let client = OpsClient::new(&server.local_addr().to_string(), None);
    sandbox.feed(30);

    let bytes = audit_bytes(11);
    let candidate_sha = sha(&bytes);
    let answer = client
        .post_bytes("/strategies/audit/candidate", &bytes)
        .unwrap();
    assert_eq!(answer["reload"]["outcome"], "candidate", "{answer}");
    assert_eq!(answer["action"], "deploy");
    sandbox.feed(50);
    let status = client.get("/strategies/audit").unwrap();
    let candidate = &status["candidate"];
    assert_eq!(candidate["sha256"], candidate_sha.as_str());
    assert_eq!(candidate["comparison"]["bars"], 50, "{status}");
    let metrics = client.request("GET", "/metrics").unwrap().1;
    assert!(
        metrics.contains("sandbar_candidate_agreement_ratio{strategy=\"audit\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("sandbar_candidate_bars{strategy=\"audit\"} 50"));
    let table = sandbar_runtime::ops::render_diff(&status);
    assert!(table.contains("signal agreement 100.00%"), "{table}");

    // A path must name a file inside runtime.strategies_dir.
    let outside = sandbox
        .runtime()
        .deploy(
            "audit",
            DeployRequest {
                source: DeploySource::Path("../sandbar.toml".into()),
                ..candidate_request(Vec::new(), &[])
            },
        )
        .unwrap_err();
    assert_eq!(outside.kind().as_str(), "bad_arguments", "{outside}");
    let empty = client
        .post_bytes("/strategies/audit/candidate", &[])
        .unwrap_err();
    assert_eq!(empty.refusal().map(|k| k.as_str()), Some("bad_arguments"));

    let promoted = client.post("/strategies/audit/promote").unwrap();
    assert_eq!(promoted["deploy"]["what"], "promoted", "{promoted}");
    sandbox.feed(2);
    assert_eq!(sandbox.live_sha(), candidate_sha);
    let none = client.post("/strategies/audit/discard").unwrap_err();
    assert_eq!(none.refusal().map(|k| k.as_str()), Some("no_candidate"));
    assert_eq!(none.status(), Some(409));
    server.stop();
    sandbox.stop();
    let audit = read_jsonl(&sandbox.path("journal/audit.jsonl"));
    let actions: Vec<(String, String)> = audit
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("deploy".into(), "ok".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("deploy".into(), "rejected".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("promote".into(), "ok".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("discard".into(), "rejected".into())),
        "{actions:?}"
    );
    let deploy = audit
        .iter()
        .find(|r| r["action"] == "deploy" && r["result"] == "ok")
        .unwrap();
    assert_eq!(deploy["args"], format!("shadow=true&bytes={}", bytes.len()));
}
