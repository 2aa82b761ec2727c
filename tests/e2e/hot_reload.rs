//! File-driven hot reload against a real running runtime: every editor and
//! deploy pattern swaps in the new build exactly once, state carries across
//! the swap, and bad files never replace the running version.

use crate::support::{Sandbox, SandboxConfig, audit_reports, deploy, read_jsonl, rebuilt, sha};
use sandbar_runtime::Stage;
use sandbar_runtime::live::{Event, HandoffMethod, Outcome, Trigger};
use std::time::Duration;

fn started() -> (Sandbox, Vec<u8>) {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    sandbox.feed(150);
    (sandbox, original)
}

#[test]
fn a_new_build_swaps_in_and_carries_state_across() {
    let (mut sandbox, original) = started();
    let old_sha = sha(&original);
    let new = rebuilt(&original, 1);
    deploy(&sandbox.audit_path(), &new);
    let event = sandbox.wait_swapped_to(&sha(&new));
    assert_eq!(event.trigger, Trigger::File);
    assert_eq!(event.previous_sha256.as_deref(), Some(old_sha.as_str()));
    assert_eq!(event.version, Some(2));
    assert!(!event.cache_hit);
    for stage in [
        Stage::Read,
        Stage::Verify,
        Stage::Compile,
        Stage::TypeCheck,
        Stage::SmokeTest,
        Stage::StateHandoff,
    ] {
        assert!(
            event.duration_us.contains_key(&stage),
            "{stage} timed: {event:?}"
        );
    }
    sandbox.feed(250);
    std::thread::sleep(Duration::from_millis(300));
    let metrics = &sandbox.runtime().status().strategies[0].reload;
    assert_eq!(
        (metrics.attempts, metrics.swapped, metrics.rejected),
        (2, 2, 0),
        "start + one swap; the journal's own writes never trigger a reload"
    );
    let orders = sandbox.stop();
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!(
        counts,
        [100, 200, 300, 400],
        "the bar count continued across the swap"
    );
    assert_eq!(anomalies, 0);
    let by_sha: Vec<&str> = orders
        .iter()
        .map(|o| o["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_sha,
        [
            old_sha.as_str(),
            sha(&new).as_str(),
            sha(&new).as_str(),
            sha(&new).as_str()
        ]
    );

    let events = read_jsonl(&sandbox.path("journal/events.jsonl"));
    let reload = events
        .iter()
        .find(|e| e["event"] == "reload" && e["trigger"] == "file")
        .expect("the swap is journalled");
    for key in [
        "ts",
        "strategy",
        "outcome",
        "sha256",
        "previous_sha256",
        "version",
        "duration_us",
        "error",
        "hint",
    ] {
        assert!(
            reload.get(key).is_some(),
            "events.jsonl has `{key}`: {reload}"
        );
    }
    assert_eq!(reload["outcome"], "swapped");
    let handoff = events
        .iter()
        .find(|e| e["event"] == "handoff")
        .expect("the handoff is journalled");
    assert_eq!(handoff["method"], "snapshot");
}

#[test]
fn every_editor_and_deploy_pattern_reloads() {
    let (mut sandbox, original) = started();
    let target = sandbox.audit_path();
    let elsewhere = sandbox.path("staging.wasm");

    // 1. write a temp file, rename over the target
    let v1 = rebuilt(&original, 11);
    deploy(&target, &v1);
    sandbox.wait_swapped_to(&sha(&v1));
    sandbox.feed(5);

    // 2. `mv` a finished file into place
    let v2 = rebuilt(&original, 12);
    std::fs::write(&elsewhere, &v2).unwrap();
    std::fs::rename(&elsewhere, &target).unwrap();
    sandbox.wait_swapped_to(&sha(&v2));
    sandbox.feed(5);

    // 3. an in-place write that arrives in pieces, like a large `cp`
    let v3 = rebuilt(&original, 13);
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&target)
            .unwrap();
        let (head, tail) = v3.split_at(v3.len() / 2);
        file.write_all(head).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(120));
        sandbox.feed(5);
        assert_eq!(
            sandbox.live_sha(),
            sha(&v2),
            "a half-written file never goes live"
        );
        file.write_all(tail).unwrap();
    }
    sandbox.wait_swapped_to(&sha(&v3));
    sandbox.feed(5);

    // 4. delete, then recreate
    std::fs::remove_file(&target).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    sandbox.feed(5);
    assert_eq!(
        sandbox.live_sha(),
        sha(&v3),
        "a deleted file leaves the running version"
    );
    let v4 = rebuilt(&original, 14);
    std::fs::write(&target, &v4).unwrap();
    sandbox.wait_swapped_to(&sha(&v4));
    sandbox.feed(5);

    // 5. `cp` over the target
    let v5 = rebuilt(&original, 15);
    std::fs::write(&elsewhere, &v5).unwrap();
    std::fs::copy(&elsewhere, &target).unwrap();
    sandbox.wait_swapped_to(&sha(&v5));
    sandbox.feed(5);

    // 6. the whole directory removed and recreated
    std::fs::remove_dir_all(sandbox.path("dist")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sandbox.feed(5);
    assert_eq!(sandbox.live_sha(), sha(&v5));
    std::fs::create_dir(sandbox.path("dist")).unwrap();
    let v6 = rebuilt(&original, 16);
    std::fs::write(&target, &v6).unwrap();
    sandbox.wait_swapped_to(&sha(&v6));
    sandbox.feed(100);

    let status = sandbox.runtime().status();
    let audit = &status.strategies[0];
    assert_eq!(audit.bars, sandbox.fed, "every bar was processed");
    let orders = sandbox.stop();
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!(anomalies, 0, "no bar lost or repeated across six swaps");
    assert_eq!(counts, [100, 200]);
}

#[test]
fn bad_files_are_rejected_and_the_running_version_keeps_trading() {
    let (mut sandbox, original) = started();
    let good_sha = sha(&original);
    let target = sandbox.audit_path();
    let cases: [(&str, Vec<u8>, Stage, &str); 4] = [
        (
            "truncated",
            original[..original.len() / 3].to_vec(),
            Stage::Compile,
            "invalid component",
        ),
        ("empty", Vec::new(), Stage::Compile, "the file is empty"),
        (
            "garbage",
            b"#!/bin/sh\necho not wasm\n".to_vec(),
            Stage::Compile,
            "not a WebAssembly file",
        ),
        (
            "core module",
            wat::parse_str("(module)").unwrap(),
            Stage::Compile,
            "not a component",
        ),
    ];
    for (what, bytes, stage, needle) in cases {
        deploy(&target, &bytes);
        let event = sandbox.wait_reload(what, |e| e.outcome == Outcome::Rejected);
        assert_eq!(event.stage, Some(stage), "{what}");
        assert!(
            event.error.as_deref().unwrap().contains(needle),
            "{what}: {event:?}"
        );
        assert!(event.hint.is_some(), "{what} has a hint");
        sandbox.feed(10);
        assert_eq!(
            sandbox.live_sha(),
            good_sha,
            "{what}: the old version keeps running"
        );
    }
    let status = sandbox.runtime().status();
    assert_eq!(status.strategies[0].bars, sandbox.fed);
    assert_eq!(
        status.strategies[0]
            .reload
            .rejected_by_stage
            .get(&Stage::Compile),
        Some(&4)
    );
    // The good file back: the same hash is running already, so nothing reloads.
    deploy(&target, &original);
    sandbox.feed(10);
    assert_eq!(sandbox.live_sha(), good_sha);
}

#[test]
fn a_version_that_fails_its_smoke_test_never_goes_live() {
    let (mut sandbox, _) = started();
    let good = sandbox.live_sha();
    sandbox.write_config(&SandboxConfig {
        params: "trap_from_seq = 0",
        ..SandboxConfig::default()
    });
    let event = sandbox.wait_reload("smoke failure", |e| e.outcome == Outcome::Rejected);
    assert_eq!(event.stage, Some(Stage::SmokeTest));
    assert!(
        event.error.as_deref().unwrap().contains("trapped"),
        "{event:?}"
    );
    sandbox.feed(20);
    assert_eq!(sandbox.live_sha(), good);
    assert_eq!(sandbox.runtime().status().strategies[0].version, 1);
    let (_, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(anomalies, 0);
}

#[test]
fn a_version_that_refuses_the_snapshot_is_warmed_up_by_replay() {
    let (mut sandbox, _) = started();
    sandbox.write_config(&SandboxConfig {
        params: "reject_foreign_state = true\nlabel = \"b\"",
        ..SandboxConfig::default()
    });
    let swapped = sandbox.wait_reload("params change", |e| e.outcome == Outcome::Swapped);
    assert_eq!(swapped.trigger, Trigger::Config);
    sandbox.feed(1);
    let handoff = loop {
        match sandbox
            .events
            .as_ref()
            .unwrap()
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
        {
            Event::Handoff(h) => break h,
            _ => continue,
        }
    };
    assert_eq!(handoff.method, HandoffMethod::Replay);
    assert_eq!(
        handoff.restore_error.as_deref(),
        Some("state of label \"a\" refused")
    );
    assert_eq!(handoff.first_seq, 150);
    sandbox.stop();
}
