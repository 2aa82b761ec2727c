//! The swap itself: 1,000 consecutive swaps lose and repeat no bar (proved by
//! the generations' own sequence ranges and by the guest's audit), traps
//! rebuild and then roll back, rollback works by API, and prod refuses a
//! wrong hash.

use crate::support::{Sandbox, SandboxConfig, audit_reports, deploy, rebuilt, sha};
use sandbar_runtime::config::Config;
use sandbar_runtime::live::{Event, Generation, Outcome, Trigger};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_thousand_swaps_lose_and_repeat_no_bar() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    let mut generations: Vec<Arc<Generation>> =
        vec![sandbox.runtime().generation("audit").unwrap()];
    let base = Config::from_file(&sandbox.config_path()).unwrap();
    sandbox.feed(3);
    for i in 0..1000 {
        let mut config = base.clone();
        config.strategies[0]
            .params
            .insert("label".into(), toml::Value::String(format!("swap-{i}")));
        let events = sandbox.runtime().apply_config(config).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].outcome,
            Outcome::Swapped,
            "swap {i}: {:?}",
            events[0]
        );
        generations.push(sandbox.runtime().generation("audit").unwrap());
        sandbox.feed(3);
    }
    let total = sandbox.fed;
    let orders = sandbox.stop();

    // Host side: each bar went to exactly one generation, in order.
    let mut next_seq = 0;
    let mut bars = 0;
    for generation in &generations {
        let (first, last) = generation
            .stats
            .seq_range()
            .expect("every generation served bars");
        assert_eq!(
            first, next_seq,
            "generation {} starts where the previous ended",
            generation.version
        );
        next_seq = last + 1;
        bars += generation.stats.bars();
    }
    assert_eq!((next_seq, bars), (total, total));
    assert_eq!(generations.len(), 1001);

    // Guest side: its state crossed every swap, and it saw no gap or repeat.
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!(anomalies, 0);
    let expected: Vec<u64> = (1..=total / 100).map(|k| k * 100).collect();
    assert_eq!(counts, expected);
}

#[test]
fn traps_rebuild_then_roll_back_to_the_last_good_version() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(50);
    // Passes its smoke test (synthetic bars have seq < 200, recent ones < 50),
    // then traps on every live bar from seq 300 on.
    sandbox.write_config(&SandboxConfig {
        params: "trap_from_seq = 300",
        ..SandboxConfig::default()
    });
    sandbox.wait_reload("trapping version", |e| e.outcome == Outcome::Swapped);
    sandbox.feed(250);
    let rolled = sandbox.feed_until(200, "rollback", |e| e.outcome == Outcome::RolledBack);
    assert_eq!(rolled.trigger, Trigger::Trap);
    let traps: Vec<_> = sandbox
        .runtime()
        .recent_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Trap(t) => Some(t),
            _ => None,
        })
        .collect();
    assert!(traps.len() >= 3, "{traps:?}");
    assert_eq!(traps[0].seq, 300);
    assert_eq!(traps[0].export, "on-bar");
    let consecutive: Vec<u32> = traps.iter().map(|t| t.consecutive).collect();
    assert_eq!(consecutive, [1, 2, 3], "rebuilt twice, then rolled back");
    sandbox.feed(100);
    let status = sandbox.runtime().status();
    let audit = &status.strategies[0];
    assert_eq!(audit.traps, 3);
    assert_eq!(
        audit.bars + audit.skipped_bars,
        sandbox.fed,
        "every bar was processed or, while poisoned, skipped"
    );
    let generation = sandbox.runtime().generation("audit").unwrap();
    assert!(
        generation
            .recipe
            .params
            .iter()
            .all(|p| p.name != "trap_from_seq"),
        "the good params are back"
    );
    assert_eq!(status.strategies[0].reload.rolled_back, 1);
    sandbox.stop();
}

#[test]
fn a_single_trap_rebuilds_from_the_last_good_snapshot() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig {
        params: "trap_at_seq = 250",
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(251); // seq 0..=250: the last one traps
    let rebuilt = sandbox.wait_reload("rebuild after the trap", |e| {
        e.trigger == Trigger::Trap && e.outcome == Outcome::Swapped
    });
    assert!(
        rebuilt.cache_hit,
        "rebuilt from the cached component: {rebuilt:?}"
    );
    sandbox.feed(150);
    let status = sandbox.runtime().status();
    assert_eq!(
        (status.strategies[0].traps, status.strategies[0].state),
        (1, "running")
    );
    let (counts, anomalies) = audit_reports(&sandbox.stop());
    // The state came back from the snapshot taken at bar 191 plus a replay of
    // 192..=249, so the count carries on; only the trapped bar 250 is missing.
    assert_eq!(counts, [100, 200, 300, 400]);
    assert_eq!(anomalies, 1, "exactly one gap: the bar that trapped");
}

#[test]
fn rollback_by_api_restores_an_earlier_build_instantly() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    sandbox.feed(10);
    let v2 = rebuilt(&original, 2);
    deploy(&sandbox.audit_path(), &v2);
    sandbox.wait_swapped_to(&sha(&v2));
    sandbox.feed(10);
    let v3 = rebuilt(&original, 3);
    deploy(&sandbox.audit_path(), &v3);
    sandbox.wait_swapped_to(&sha(&v3));
    sandbox.feed(10);

    let event = sandbox.runtime().rollback("audit", 2).unwrap();
    assert_eq!(event.outcome, Outcome::RolledBack);
    assert_eq!(event.sha256.as_deref(), Some(sha(&original).as_str()));
    assert_eq!(event.previous_sha256.as_deref(), Some(sha(&v3).as_str()));
    assert!(event.cache_hit);
    sandbox.feed(10);
    assert_eq!(sandbox.live_sha(), sha(&original));
    let versions = &sandbox.runtime().status().strategies[0].versions;
    assert_eq!(
        versions.len(),
        1,
        "the history now ends at the restored version"
    );
    let error = sandbox.runtime().rollback("audit", 1).unwrap_err();
    assert!(
        error.to_string().contains("0 earlier version(s) kept"),
        "{error}"
    );
    assert!(
        sandbox
            .runtime()
            .rollback("nope", 1)
            .unwrap_err()
            .to_string()
            .contains("no running strategy `nope`")
    );
    let (_, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(anomalies, 0);
}

#[test]
fn prod_refuses_to_start_on_a_wrong_pin_and_rejects_unpinned_builds() {
    let mut sandbox = Sandbox::new();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    let wrong = "ab".repeat(32);
    sandbox.write_config(&SandboxConfig {
        profile: "prod",
        pin: Some(wrong.clone()),
        ..SandboxConfig::default()
    });
    let error = sandbox
        .start()
        .expect_err("prod refuses a wrong pin")
        .to_string();
    assert!(error.contains("refusing to start in prod"), "{error}");
    assert!(
        error.contains(&format!("expected {wrong}, got {}", sha(&original))),
        "{error}"
    );
    assert!(error.contains("runtime hash"), "{error}");

    sandbox.write_config(&SandboxConfig {
        profile: "prod",
        pin: Some(sha(&original)),
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(10);
    let v2 = rebuilt(&original, 2);
    deploy(&sandbox.audit_path(), &v2);
    let rejected = sandbox.wait_reload("unpinned build", |e| e.outcome == Outcome::Rejected);
    assert_eq!(rejected.stage, Some(sandbar_runtime::Stage::Verify));
    assert!(rejected.hint.as_deref().unwrap().contains("id = \"audit\""));
    sandbox.feed(10);
    assert_eq!(sandbox.live_sha(), sha(&original));
    // Re-pinning in the config deploys it.
    sandbox.write_config(&SandboxConfig {
        profile: "prod",
        pin: Some(sha(&v2)),
        ..SandboxConfig::default()
    });
    sandbox.wait_swapped_to(&sha(&v2));
    sandbox.feed(10);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(sandbox.live_sha(), sha(&v2));
    sandbox.stop();
}

/// Regression (hardening issue, item 13): the journal alone proves
/// continuity. Each `handoff` carries the replaced generation's bar range
/// and the `stop` event at shutdown the last generation's, so together they
/// tile [first seq, last seq] with no gap or overlap.
#[test]
fn regression_13_13_handoff_and_stop_ranges_in_the_journal_tile_the_bars() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    let base = Config::from_file(&sandbox.config_path()).unwrap();
    sandbox.feed(7);
    for i in 0..4 {
        let mut config = base.clone();
        config.strategies[0]
            .params
            .insert("label".into(), toml::Value::String(format!("swap-{i}")));
        let events = sandbox.runtime().apply_config(config).unwrap();
        assert_eq!(events[0].outcome, Outcome::Swapped, "{:?}", events[0]);
        sandbox.feed(7);
    }
    let rollback = sandbox.runtime().rollback("audit", 1).unwrap();
    assert_eq!(rollback.outcome, Outcome::RolledBack, "{rollback:?}");
    sandbox.feed(7);
    let total = sandbox.fed;
    sandbox.stop();

    let events = crate::support::read_jsonl(&sandbox.path("journal/events.jsonl"));
    let audit = |kind: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|e| e["event"] == kind && e["strategy"] == "audit")
            .collect()
    };
    let range = |v: &serde_json::Value| (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
    let handoffs = audit("handoff");
    assert_eq!(handoffs.len(), 5, "four swaps and a rollback");
    let stops = audit("stop");
    assert_eq!(stops.len(), 1, "one stop event: {stops:?}");
    assert_eq!(stops[0]["reason"], "shutdown");
    let mut ranges: Vec<(u64, u64)> = handoffs
        .iter()
        .map(|h| range(&h["previous_seq_range"]))
        .collect();
    ranges.push(range(&stops[0]["seq_range"]));
    eprintln!("generation ranges from the journal: {ranges:?}");
    // In journal order, each range starts right after the previous one, and
    // each handoff's first bar is the one after the range it closes.
    let mut next = 0;
    for (i, (first, last)) in ranges.iter().enumerate() {
        assert_eq!(
            *first, next,
            "range {i} starts where the previous ended: {ranges:?}"
        );
        assert!(last >= first, "{ranges:?}");
        if let Some(h) = handoffs.get(i) {
            assert_eq!(h["first_seq"].as_u64(), Some(last + 1), "{h}");
        }
        next = last + 1;
    }
    assert_eq!(next, total, "the ranges end at the last bar fed");
    assert_eq!(
        stops[0]["version"].as_u64(),
        handoffs.last().unwrap()["version"].as_u64(),
        "the stop names the generation the last handoff started"
    );
    assert!(
        stops[0]["run"].is_string(),
        "it carries the run id: {}",
        stops[0]
    );
}
