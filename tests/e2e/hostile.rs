//! Hostile guests next to a healthy one in the same process: whatever the
//! hostile one does, it is rejected, rebuilt or quarantined with a precise
//! reason, and the healthy strategy processes every bar.

use crate::support::{Sandbox, SandboxConfig, audit_reports, component};
use sandbar_runtime::Stage;
use sandbar_runtime::TrapKind;
use sandbar_runtime::live::{Event, Outcome, Trigger};

pub(crate) fn hostile_block(mode: &str, from_seq: u64) -> String {
    format!(
        "[[strategy]]\nid = \"hostile\"\nwasm = \"hostile.wasm\"\n[strategy.params]\nmode = \"{mode}\"\nfrom_seq = {from_seq}\n"
    )
}

/// Starts `audit` (healthy) and `hostile` in `mode`, misbehaving from bar 300.
fn start(mode: &str) -> Sandbox {
    start_with_limits(mode, "")
}

pub(crate) fn start_with_limits(mode: &str, limits: &str) -> Sandbox {
    start_tiered(mode, limits, SandboxConfig::default().tiering)
}

/// [`start_with_limits`] under `hot_reload.tiering = tiering`.
fn start_tiered(mode: &str, limits: &str, tiering: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let block = hostile_block(mode, 300);
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &block,
        limits,
        tiering,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox
}

fn startup_rejection(sandbox: &Sandbox) -> sandbar_runtime::live::ReloadEvent {
    sandbox
        .runtime()
        .recent_events()
        .into_iter()
        .find_map(|e| match e {
            Event::Reload(r) if r.strategy == "hostile" => Some(r),
            _ => None,
        })
        .expect("a startup event for the hostile strategy")
}

/// Polls `probe` until it yields, for up to ten seconds.
pub(crate) fn wait_for<T>(probe: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for events"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The healthy strategy saw every bar, in order, with its state intact.
pub(crate) fn assert_healthy_kept_trading(sandbox: &mut Sandbox) {
    let fed = sandbox.fed;
    let audit = sandbox.status_of("audit");
    assert_eq!(audit.bars, fed, "the healthy strategy processed every bar");
    assert_eq!(audit.traps, 0);
    let (counts, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(anomalies, 0);
    assert_eq!(counts, (1..=fed / 100).map(|k| k * 100).collect::<Vec<_>>());
}

/// Feeds until the hostile strategy is quarantined; returns its trap events.
fn run_until_quarantined(sandbox: &mut Sandbox) -> Vec<sandbar_runtime::live::TrapEvent> {
    sandbox.feed(290);
    for _ in 0..200 {
        sandbox.feed(1);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let status = sandbox.runtime().status();
        if status
            .strategies
            .iter()
            .any(|s| s.id == "hostile" && s.state == "quarantined")
        {
            sandbox.feed(100);
            return sandbox
                .runtime()
                .recent_events()
                .into_iter()
                .filter_map(|e| match e {
                    Event::Trap(t) => Some(t),
                    _ => None,
                })
                .collect();
        }
    }
    panic!("the hostile strategy was never quarantined");
}

/// The quarantine is an event that says why and what to do.
fn assert_quarantine_reported(sandbox: &Sandbox, hint_needle: &str) {
    let event = sandbox
        .runtime()
        .recent_events()
        .into_iter()
        .find_map(|e| match e {
            Event::Reload(r) if r.outcome == Outcome::Quarantined => Some(r),
            _ => None,
        })
        .expect("a quarantine event");
    assert_eq!(event.strategy, "hostile");
    assert!(
        event
            .error
            .as_deref()
            .unwrap()
            .contains("trapped 3 time(s) in a row"),
        "{event:?}"
    );
    assert!(
        event.hint.as_deref().unwrap().contains(hint_needle),
        "{event:?}"
    );
}

fn assert_trapped_three_times(
    traps: &[sandbar_runtime::live::TrapEvent],
    kind: sandbar_runtime::TrapKind,
    needle: &str,
) {
    assert_eq!(traps.len(), 3, "{traps:#?}");
    assert_eq!(traps[0].seq, 300);
    for t in traps {
        assert_eq!(t.strategy, "hostile");
        assert_eq!(t.export, "on-bar");
        assert_eq!(t.kind, kind);
        assert!(t.message.contains(needle), "{t:?}");
    }
}

#[test]
fn an_endless_loop_in_init_is_rejected_at_init() {
    let mut sandbox = start("loop-init");
    let event = startup_rejection(&sandbox);
    assert_eq!(event.outcome, Outcome::Rejected);
    assert_eq!(event.stage, Some(Stage::Init));
    assert!(
        event
            .error
            .as_deref()
            .unwrap()
            .contains("`init` ran out of fuel"),
        "{event:?}"
    );
    assert!(
        event
            .hint
            .as_deref()
            .unwrap()
            .contains("limits.fuel_per_bar"),
        "{event:?}"
    );
    sandbox.feed(200);
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn an_endless_loop_in_on_bar_runs_out_of_fuel_and_is_quarantined() {
    let mut sandbox = start("loop");
    let traps = run_until_quarantined(&mut sandbox);
    assert_trapped_three_times(&traps, TrapKind::OutOfFuel, "all fuel consumed");
    assert_quarantine_reported(&sandbox, "limits.fuel_per_bar");
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn a_loop_that_fuel_does_not_stop_overruns_its_deadline() {
    // Its own [strategy.limits]: fuel enough for hours, so the wall-clock
    // deadline is what stops it. The healthy strategy keeps the defaults.
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let block = format!(
        "{}[strategy.limits]\nfuel_per_bar = 1_000_000_000_000\ndeadline_us = 100_000\n",
        hostile_block("loop", 300)
    );
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &block,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    let hostile = sandbox.runtime().generation("hostile").unwrap();
    let audit = sandbox.runtime().generation("audit").unwrap();
    assert_eq!(hostile.recipe.limits.fuel_per_call, 1_000_000_000_000);
    assert_eq!(
        audit.recipe.limits.fuel_per_call, 5_000_000,
        "overrides stay with their strategy"
    );
    let traps = run_until_quarantined(&mut sandbox);
    assert_trapped_three_times(&traps, TrapKind::Deadline, "interrupt");
    assert_quarantine_reported(&sandbox, "limits.deadline_us");
    assert_healthy_kept_trading(&mut sandbox);
}

/// An attack that traps on every bar from 300: three traps, quarantine, and
/// the healthy strategy never notices.
fn quarantined_after_three(mode: &str, limits: &str, kind: TrapKind, needle: &str) {
    let mut sandbox = start_with_limits(mode, limits);
    let traps = run_until_quarantined(&mut sandbox);
    assert_trapped_three_times(&traps, kind, needle);
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn growing_memory_until_the_cap_traps_and_is_quarantined() {
    // A small cap and a large fuel budget: the cap is what stops it.
    let limits = "memory_mb = 4\nfuel_per_bar = 200_000_000";
    quarantined_after_three("grow", limits, TrapKind::Trap, "unreachable");
}

#[test]
fn deep_recursion_overflows_the_stack_and_is_quarantined() {
    quarantined_after_three("recurse", "", TrapKind::Trap, "call stack exhausted");
}

#[test]
fn a_panic_traps_and_is_quarantined() {
    quarantined_after_three("panic", "", TrapKind::Trap, "unreachable");
}

#[test]
fn huge_order_lists_and_nan_orders_are_refused_and_never_reach_the_broker() {
    for mode in ["huge-orders", "nan", "inf-price"] {
        let mut sandbox = start(mode);
        sandbox.feed(400);
        let hostile = sandbox.status_of("hostile");
        assert_eq!(hostile.bars, 400, "{mode}: still runs");
        assert_eq!(
            (hostile.orders, hostile.fills),
            (0, 0),
            "{mode}: nothing routed"
        );
        // The refusals are events (the first ten, then sampled); they reach
        // the control plane asynchronously, so wait for them.
        let refusals = wait_for(|| {
            let found: Vec<_> = sandbox
                .runtime()
                .recent_events()
                .into_iter()
                .filter_map(|e| match e {
                    Event::Refusal(r) => Some(r),
                    _ => None,
                })
                .collect();
            (found.len() >= 10).then_some(found)
        });
        assert_eq!(refusals.len(), 10, "{mode}");
        assert_eq!(
            (refusals[0].seq, refusals[9].refused_total),
            (300, 10),
            "{mode}"
        );
        let expected = match mode {
            "nan" => "quantity NaN",
            "inf-price" => "limit price inf",
            _ => "10000 orders for one bar, over the limit of 64",
        };
        assert!(
            refusals[0].reason.contains(expected),
            "{mode}: {:?}",
            refusals[0]
        );
        assert_healthy_kept_trading(&mut sandbox);
    }
}

#[test]
fn log_spam_is_capped_and_the_loop_keeps_going() {
    let mut sandbox = start("log-spam");
    sandbox.feed(320);
    let hostile = sandbox.status_of("hostile");
    assert_eq!((hostile.bars, hostile.traps), (320, 0));
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn a_snapshot_over_the_limit_is_rejected_at_the_smoke_test() {
    let mut sandbox = start_with_limits("big-snapshot", "max_snapshot_kb = 64");
    let event = startup_rejection(&sandbox);
    assert_eq!(event.stage, Some(Stage::SmokeTest));
    assert!(
        event
            .error
            .as_deref()
            .unwrap()
            .contains("over the 65536-byte limit"),
        "{event:?}"
    );
    sandbox.feed(150);
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn fifty_megabytes_of_random_bytes_are_refused_at_read() {
    let mut sandbox = Sandbox::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..50 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(sandbox.path("dist/hostile.wasm"), noise).unwrap();
    let block = hostile_block("none", 0);
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &block,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    let event = startup_rejection(&sandbox);
    assert_eq!(event.stage, Some(Stage::Read));
    assert!(
        event
            .error
            .as_deref()
            .unwrap()
            .contains("larger than the 33554432-byte cap"),
        "{event:?}"
    );
    sandbox.feed(100);
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn components_outside_the_contract_are_rejected_at_type_check_while_trading_goes_on() {
    let mut sandbox = start("none");
    sandbox.feed(20);
    let hostile_path = sandbox.path("dist/hostile.wasm");
    let fixtures = crate::support::workspace().join("tests/fixtures");
    let cases = [
        (
            "wasi_import.wat",
            "unexpected imports: wasi:cli/environment@0.2.0",
        ),
        ("other_world.wat", "missing exports: describe, init, on-bar"),
        (
            "other_contract_version.wat",
            "built against contract sandbar:strategy@0.9.0",
        ),
        (
            "wrong_signature.wat",
            "exports do not match the contract's signatures",
        ),
        ("empty_component.wat", "the component exports nothing"),
    ];
    for (fixture, needle) in cases {
        let bytes = wat::parse_file(fixtures.join(fixture)).unwrap();
        crate::support::deploy(&hostile_path, &bytes);
        let event = sandbox.wait_reload(fixture, |e| {
            e.strategy == "hostile" && e.outcome == Outcome::Rejected
        });
        assert_eq!(event.stage, Some(Stage::TypeCheck), "{fixture}");
        assert!(
            event.error.as_deref().unwrap().contains(needle),
            "{fixture}: {event:?}"
        );
        sandbox.feed(20);
    }
    let hostile = sandbox.runtime().generation("hostile").unwrap();
    assert_eq!(hostile.version, 1, "the well-behaved version kept running");
    assert_healthy_kept_trading(&mut sandbox);
}

#[test]
fn a_quarantined_strategy_comes_back_with_a_fixed_config() {
    let mut sandbox = start("panic");
    run_until_quarantined(&mut sandbox);
    // The fix: same component, parameters that behave.
    let block = hostile_block("none", 0);
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &block,
        ..SandboxConfig::default()
    });
    sandbox.wait_reload("the fix", |e| {
        e.strategy == "hostile" && e.outcome == Outcome::Swapped && e.trigger == Trigger::Config
    });
    let skipped = sandbox.status_of("hostile").skipped_bars;
    sandbox.feed(50);
    let hostile = sandbox.status_of("hostile");
    assert_eq!(hostile.state, "running");
    assert_eq!(hostile.skipped_bars, skipped, "it receives bars again");
    assert_healthy_kept_trading(&mut sandbox);
}

/// The corpus again on Winch's baseline code (`tiering = "baseline"`, no
/// tier-up): fuel, the epoch deadline, the memory cap, the stack limit, the
/// snapshot cap and output validation stop each attack exactly as they do
/// on Cranelift's code (issue 16: the sandbox does not depend on the tier).
/// One sandbox per attack, the cheap ones only; each asserts what its
/// optimised twin above asserts.
mod under_the_baseline_tier {
    use super::*;
    use sandbar_runtime::Tier;

    fn start(mode: &str, limits: &str) -> Sandbox {
        let sandbox = start_tiered(mode, limits, "baseline");
        let tiers: Vec<Tier> = sandbox
            .runtime()
            .status()
            .strategies
            .iter()
            .map(|s| s.tier)
            .collect();
        assert!(
            tiers.iter().all(|t| *t == Tier::Baseline),
            "{mode}: {tiers:?}"
        );
        sandbox
    }

    #[test]
    fn issue_16_trapping_attacks_are_stopped_and_quarantined_under_the_baseline_tier() {
        let cases = [
            ("loop", "", TrapKind::OutOfFuel, "all fuel consumed"),
            (
                "grow",
                "memory_mb = 4\nfuel_per_bar = 200_000_000",
                TrapKind::Trap,
                "unreachable",
            ),
            ("recurse", "", TrapKind::Trap, "call stack exhausted"),
            ("panic", "", TrapKind::Trap, "unreachable"),
        ];
        for (mode, limits, kind, needle) in cases {
            let mut sandbox = start(mode, limits);
            let traps = run_until_quarantined(&mut sandbox);
            assert_trapped_three_times(&traps, kind, needle);
            assert_healthy_kept_trading(&mut sandbox);
        }
    }

    #[test]
    fn issue_16_the_deadline_stops_a_loop_under_the_baseline_tier() {
        let limits = "";
        let mut sandbox = Sandbox::new();
        std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
        let block = format!(
            "{}[strategy.limits]\nfuel_per_bar = 1_000_000_000_000\ndeadline_us = 100_000\n",
            hostile_block("loop", 300)
        );
        sandbox.write_config(&SandboxConfig {
            extra_strategies: &block,
            limits,
            tiering: "baseline",
            ..SandboxConfig::default()
        });
        sandbox.start().unwrap();
        assert_eq!(sandbox.status_of("hostile").tier, Tier::Baseline);
        let traps = run_until_quarantined(&mut sandbox);
        assert_trapped_three_times(&traps, TrapKind::Deadline, "interrupt");
        assert_quarantine_reported(&sandbox, "limits.deadline_us");
        assert_healthy_kept_trading(&mut sandbox);
    }

    #[test]
    fn issue_16_init_loops_big_snapshots_and_bad_orders_are_refused_under_the_baseline_tier() {
        let sandbox = start_tiered("loop-init", "", "baseline");
        let event = startup_rejection(&sandbox);
        assert_eq!(event.stage, Some(Stage::Init));
        assert!(
            event
                .error
                .as_deref()
                .unwrap()
                .contains("`init` ran out of fuel"),
            "{event:?}"
        );
        drop(sandbox);

        let sandbox = start_tiered("big-snapshot", "max_snapshot_kb = 64", "baseline");
        let event = startup_rejection(&sandbox);
        assert_eq!(event.stage, Some(Stage::SmokeTest));
        assert!(
            event
                .error
                .as_deref()
                .unwrap()
                .contains("over the 65536-byte limit"),
            "{event:?}"
        );
        drop(sandbox);

        let mut sandbox = start("nan", "");
        sandbox.feed(400);
        let hostile = sandbox.status_of("hostile");
        assert_eq!((hostile.bars, hostile.orders, hostile.fills), (400, 0, 0));
        assert!(
            hostile.refused.values().sum::<u64>() >= 100,
            "{:?}",
            hostile.refused
        );
        assert_healthy_kept_trading(&mut sandbox);
    }
}
