//! Config edits while running: a params change makes a new generation
//! without recompiling, a removed strategy is retired (the only way one
//! stops), an added one starts, and a bad edit is rejected as a whole.

use crate::support::{Sandbox, SandboxConfig, audit_reports};
use sandbar_runtime::Stage;
use sandbar_runtime::live::{Outcome, Trigger};

const SECOND_STRATEGY: &str = r#"
[[strategy]]
id = "sma"
wasm = "sma_cross.wasm"
[strategy.params]
fast = 3
slow = 8
"#;

#[test]
fn params_change_rebuilds_without_compiling() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(120);
    let sha_before = sandbox.live_sha();
    sandbox.write_config(&SandboxConfig {
        params: "report_every = 50\nlabel = \"b\"",
        ..SandboxConfig::default()
    });
    let event = sandbox.wait_reload("params change", |e| e.outcome == Outcome::Swapped);
    assert_eq!(event.trigger, Trigger::Config);
    assert!(event.cache_hit);
    assert!(
        !event.duration_us.contains_key(&Stage::Compile),
        "no compile: {event:?}"
    );
    assert!(
        event.duration_us.contains_key(&Stage::SmokeTest),
        "still smoke-tested: {event:?}"
    );
    assert_eq!(sandbox.live_sha(), sha_before);
    sandbox.feed(80);
    let (counts, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(
        counts,
        [100, 150, 200],
        "new params apply, state carried over"
    );
    assert_eq!(anomalies, 0);
}

#[test]
fn a_limits_change_applies_without_compiling() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(10);
    sandbox.write_config(&SandboxConfig {
        limits: "fuel_per_bar = 1_000_000\nmemory_mb = 16",
        ..SandboxConfig::default()
    });
    let event = sandbox.wait_reload("limits change", |e| e.outcome == Outcome::Swapped);
    assert!(
        event.cache_hit && !event.duration_us.contains_key(&Stage::Compile),
        "{event:?}"
    );
    let generation = sandbox.runtime().generation("audit").unwrap();
    assert_eq!(generation.recipe.limits.fuel_per_call, 1_000_000);
    assert_eq!(generation.recipe.limits.memory_bytes, 16 << 20);
    sandbox.feed(10);
    sandbox.stop();
}

#[test]
fn strategies_are_added_and_retired_by_config_edits_only() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(
        crate::support::component("sma-cross"),
        sandbox.path("dist/sma_cross.wasm"),
    )
    .unwrap();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(20);

    sandbox.write_config(&SandboxConfig {
        extra_strategies: SECOND_STRATEGY,
        ..SandboxConfig::default()
    });
    let added = sandbox.wait_reload("sma added", |e| e.strategy == "sma");
    assert_eq!(added.outcome, Outcome::Swapped);
    sandbox.feed(50);
    let ids: Vec<String> = sandbox
        .runtime()
        .status()
        .strategies
        .iter()
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(ids, ["audit", "sma"]);

    // Deleting the file does not stop it...
    std::fs::remove_file(sandbox.path("dist/sma_cross.wasm")).unwrap();
    sandbox.feed(5);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(sandbox.runtime().status().strategies.len(), 2);
    // ...removing it from the config does.
    sandbox.write_config(&SandboxConfig::default());
    let retired = sandbox.wait_reload("sma retired", |e| e.strategy == "sma");
    assert_eq!(retired.outcome, Outcome::Retired);
    sandbox.feed(5);
    let status = sandbox.runtime().status();
    assert_eq!(status.strategies.len(), 1);
    assert_eq!(status.strategies[0].bars, sandbox.fed);
    sandbox.stop();
}

#[test]
fn a_bad_config_edit_is_rejected_whole_with_line_and_hint() {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(10);
    let good = std::fs::read_to_string(sandbox.config_path()).unwrap();
    let typo = good
        .replace("debounce_ms = 50", "debounce_msec = 50")
        .replace("report_every = 100", "report_every = 7");
    crate::support::deploy(&sandbox.config_path(), typo.as_bytes());
    let event = sandbox.wait_reload("bad edit", |e| e.strategy == "config");
    assert_eq!(event.outcome, Outcome::Rejected);
    let error = event.error.unwrap();
    assert!(
        error.contains("sandbar.toml:6:1: unknown key `debounce_msec` in [hot_reload]"),
        "{error}"
    );
    assert_eq!(event.hint.as_deref(), Some("did you mean `debounce_ms`?"));
    sandbox.feed(100);
    let (counts, _) = audit_reports(&sandbox.stop());
    assert_eq!(
        counts,
        [100],
        "the running params stayed (report_every = 100)"
    );
}
