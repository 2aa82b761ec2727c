//! The control plane's division of labour: what the bar loop reports (traps)
//! and what operators ask of run states reach subscribers while the control
//! plane is busy with a long reload, and a failed handoff is reported with
//! the trigger that published the generation.

use crate::support::{Sandbox, SandboxConfig, component};
use sandbar_runtime::live::{Event, Outcome, RunState, StateAction};
use std::time::{Duration, Instant};

/// A second strategy that panics from bar 300 on (after the smoke test's bars), and a third one (added
/// later by a config edit) whose `init` loops until its deadline: the
/// control plane spends `STALL` in its smoke test's `init`.
const PANICS_AT: u64 = 300;
const STALL: Duration = Duration::from_millis(1500);

/// A `[[strategy]]` of the hostile guest in `mode`, with more param lines.
fn hostile(id: &str, mode: &str, more: &str) -> String {
    format!(
        "[[strategy]]\nid = \"{id}\"\nwasm = \"hostile.wasm\"\n[strategy.params]\nmode = \"{mode}\"\n{more}\n"
    )
}

fn with_panicker(extra: &str) -> String {
    hostile(
        "panicker",
        "panic",
        &format!("from_seq = {PANICS_AT}\n{extra}"),
    )
}

fn stall_strategy() -> String {
    let limits = format!(
        "[strategy.limits]\nfuel_per_bar = 1000000000000000\ndeadline_us = {}",
        STALL.as_micros()
    );
    hostile("stall", "loop-init", &limits)
}

#[test]
fn loop_events_and_state_changes_never_wait_for_a_reload_in_progress() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &with_panicker(""),
        ..SandboxConfig::default()
    });
    sandbox.start_watching(false).unwrap();
    sandbox.feed(PANICS_AT - 5);

    // The config edit that adds `stall` keeps the control plane busy.
    let stalled_text = crate::support::config_text(&SandboxConfig {
        extra_strategies: &with_panicker(&stall_strategy()),
        ..SandboxConfig::default()
    });
    let stalled_config =
        sandbar_runtime::config::Config::parse(&stalled_text, &sandbox.config_path()).unwrap();
    let runtime = sandbox.runtime.take().unwrap();
    let events = sandbox.events.take().unwrap();
    let bars: Vec<_> = (0..10).map(|_| sandbox.next_bar()).collect();
    let mut order: Vec<(&str, Duration)> = Vec::new();
    std::thread::scope(|scope| {
        let applying = scope.spawn(|| runtime.apply_config(stalled_config));
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        // The loop reports a trap while the control plane is in the stall.
        for bar in bars {
            runtime.push_bar(bar).unwrap();
        }
        // An operator halts a strategy meanwhile: answered at once.
        let state = runtime
            .set_state("audit", StateAction::Halt, "test")
            .unwrap();
        order.push(("set_state answered", started.elapsed()));
        assert_eq!(state, RunState::Halted);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !order.iter().any(|(what, _)| *what == "stall rejected") {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("the stalled reload ends with an event");
            match events.recv_timeout(left).unwrap() {
                Event::Trap(t)
                    if t.strategy == "panicker" && !order.iter().any(|(w, _)| *w == "trap") =>
                {
                    order.push(("trap", started.elapsed()));
                }
                Event::State(s) if s.strategy == "audit" => order.push(("halt", started.elapsed())),
                Event::Reload(r) if r.strategy == "stall" => {
                    assert_eq!(r.outcome, Outcome::Rejected, "{r:?}");
                    order.push(("stall rejected", started.elapsed()));
                }
                _ => {}
            }
        }
        let applied = applying.join().unwrap().unwrap();
        assert!(
            applied
                .iter()
                .any(|e| e.strategy == "stall" && e.outcome == Outcome::Rejected),
            "the stalled strategy is refused at its smoke test: {applied:?}"
        );
    });
    eprintln!(
        "while the control plane spent {STALL:?} in a smoke test, from the trapping bar: {order:?}"
    );
    let position = |what: &str| order.iter().position(|(n, _)| *n == what);
    let rejected = position("stall rejected");
    for what in ["trap", "halt"] {
        assert!(
            position(what).is_some() && position(what) < rejected,
            "the {what} event went out before the stalled reload ended: {order:?}"
        );
    }
    runtime.stop();
}

fn hostile_in_mode(mode: &str) -> String {
    hostile("handover", mode, "")
}

/// Regression: a failed handoff was always reported with `trigger = file`,
/// whatever published the generation (here a config edit of its params).
#[test]
fn regression_handoff_failure_reports_the_trigger_that_published_the_generation() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let extra = hostile_in_mode("big-snapshot");
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &extra,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(20);
    let live_version = sandbox.status_of("handover").version;

    // Same build, new params: a rebuild whose restore of the running
    // version's (big) snapshot panics at the swap bar.
    let extra = hostile_in_mode("panic-on-big-restore");
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &extra,
        ..SandboxConfig::default()
    });
    let published = sandbox.wait_reload("the params rebuild", |e| {
        e.strategy == "handover" && e.outcome == Outcome::Swapped
    });
    assert_eq!(published.trigger, sandbar_runtime::live::Trigger::Config);
    let failed = sandbox.feed_until(50, "the failed handoff", |e| {
        e.strategy == "handover" && e.outcome == Outcome::Rejected
    });
    assert_eq!(
        failed.stage,
        Some(sandbar_runtime::Stage::StateHandoff),
        "{failed:?}"
    );
    assert_eq!(
        failed.trigger,
        sandbar_runtime::live::Trigger::Config,
        "the rejection names what published the generation: {failed:?}"
    );
    assert_eq!(failed.version, published.version);
    sandbox.feed(5);
    let status = sandbox.status_of("handover");
    assert_eq!(
        status.version, live_version,
        "the old generation was put back"
    );
    assert_eq!(
        status.versions.last().map(|v| v.version),
        Some(live_version),
        "the history's newest entry describes the running generation again"
    );
    sandbox.stop();
}

/// A file or API load runs its pipeline on the pipeline worker: another
/// strategy's reload is answered while a smoke test stalls.
#[test]
fn a_stalled_pipeline_never_blocks_another_strategys_reload() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let extra = stall_strategy();
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &extra,
        ..SandboxConfig::default()
    });
    // Dev starts without the strategy that fails its smoke test.
    sandbox.start_watching(false).unwrap();
    sandbox.feed(10);
    let runtime = sandbox.runtime.take().unwrap();
    let events = sandbox.events.take().unwrap();
    while events.try_recv().is_ok() {}
    let mut order: Vec<(&str, Duration)> = Vec::new();
    std::thread::scope(|scope| {
        let stalled = scope.spawn(|| runtime.reload("stall"));
        std::thread::sleep(Duration::from_millis(200));
        let asked = Instant::now();
        let audit = runtime.reload("audit").unwrap();
        order.push(("audit reload answered", asked.elapsed()));
        assert_eq!(audit.outcome, Outcome::Swapped, "{audit:?}");
        assert!(audit.cache_hit, "a known build: {audit:?}");
        let stall = stalled.join().unwrap().unwrap();
        order.push(("stall answered", asked.elapsed()));
        assert_eq!(stall.outcome, Outcome::Rejected, "{stall:?}");
        assert_eq!(stall.stage, Some(sandbar_runtime::Stage::Init), "{stall:?}");
    });
    let reloads: Vec<String> = events
        .try_iter()
        .filter_map(|e| match e {
            Event::Reload(r) => Some(format!("{}:{:?}", r.strategy, r.outcome)),
            _ => None,
        })
        .collect();
    eprintln!("while `stall` spent {STALL:?} in its smoke test: {order:?}; events {reloads:?}");
    assert_eq!(
        reloads,
        ["audit:Swapped", "stall:Rejected"],
        "the audit reload was concluded while the stalled one ran"
    );
    runtime.stop();
}

/// Regression (hardening issue, item 1): a build that runs out of memory
/// every few hundred bars (good bars between, every rebuild passing its smoke
/// test) was rebuilt after every trap and never rolled back, because the
/// streak reset after each good call. Traps of one build
/// within `hot_reload.trap_window_bars` now count together.
#[test]
fn regression_traps_separated_by_good_bars_roll_back_within_the_window() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let good = hostile("flaky", "none", "");
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &good,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(50);
    let flaky = hostile("flaky", "leak", "from_seq = 300");
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &flaky,
        ..SandboxConfig::default()
    });
    sandbox.wait_reload("the flaky version", |e| {
        e.strategy == "flaky" && e.outcome == Outcome::Swapped
    });
    sandbox.feed(250);
    let rolled = sandbox.feed_until(2000, "a rollback of the leaking build", |e| {
        e.strategy == "flaky" && e.outcome == Outcome::RolledBack
    });
    assert_eq!(rolled.trigger, sandbar_runtime::live::Trigger::Trap);
    let traps: Vec<(u64, u32)> = sandbox
        .runtime()
        .recent_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Trap(t) if t.strategy == "flaky" => Some((t.seq, t.consecutive)),
            _ => None,
        })
        .collect();
    let reloads: Vec<String> = sandbox
        .runtime()
        .recent_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Reload(r) if r.strategy == "flaky" => Some(format!(
                "{:?}/{:?} v{:?} {:?} {}",
                r.outcome,
                r.trigger,
                r.version,
                r.stage,
                r.error.unwrap_or_default()
            )),
            _ => None,
        })
        .collect();
    eprintln!("traps (seq, consecutive) of the leaking build: {traps:?}");
    assert_eq!(
        traps.len(),
        3,
        "two rebuilds, then the rollback: {traps:?} {reloads:#?}"
    );
    assert!(
        traps
            .iter()
            .all(|(seq, consecutive)| *seq >= 300 && *consecutive == 1),
        "good bars between every two traps: {traps:?}"
    );
    assert!(
        traps.last().unwrap().0 - traps[0].0 < 1000,
        "within the default window: {traps:?}"
    );
    sandbox.feed(1000);
    let status = sandbox.status_of("flaky");
    assert_eq!(status.traps, 3, "no trap after the rollback");
    assert_eq!(status.reload.rolled_back, 1);
    sandbox.stop();
}

/// Regression (hardening issue, item 7): the final summary said `running`
/// for a strategy that events and `/status` called quarantined.
#[test]
fn regression_the_final_summary_names_a_quarantined_strategy_so() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let block = hostile("panicker", "panic", &format!("from_seq = {PANICS_AT}"));
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &block,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(PANICS_AT);
    sandbox.feed_until(100, "the quarantine", |e| {
        e.strategy == "panicker" && e.outcome == Outcome::Quarantined
    });
    assert_eq!(sandbox.status_of("panicker").state, "quarantined");
    let summaries = sandbox.runtime.take().unwrap().stop();
    let of = |id: &str| summaries.iter().find(|s| s.strategy == id).unwrap();
    assert_eq!(of("panicker").state_name(), "quarantined");
    assert!(
        of("panicker")
            .quarantined
            .as_deref()
            .unwrap()
            .contains("trapped")
    );
    assert_eq!(of("audit").state_name(), "running");
}

/// Regression (hardening issue, item 6): a guest that stalls the loop made
/// its healthy neighbour's decisions late while the neighbour's call time —
/// the only figure reported — stayed at microseconds. The feed-to-decision
/// latency (bar delivered → orders routed) and the loop's lag now show it,
/// in status and in the final summary. Ratios within one run only.
#[test]
fn regression_13_6_a_stalled_loop_shows_in_the_neighbours_feed_to_decision_latency() {
    const BARS: u64 = 300;
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    let limits = "[strategy.limits]\nfuel_per_bar = 1000000000000000\ndeadline_us = 5000000";
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &hostile("busy", "busy", limits),
        ..SandboxConfig::default()
    });
    sandbox.start_watching(false).unwrap();
    let started = Instant::now();
    // All at once, as a feed does when the loop falls behind.
    for _ in 0..BARS {
        let bar = sandbox.next_bar();
        sandbox.runtime().push_bar(bar).unwrap();
    }
    let runtime = sandbox.runtime();
    assert!(runtime.wait_for_bars(BARS, Duration::from_secs(300)));
    let took = started.elapsed();
    // The figures are published about once a second, on a bar.
    std::thread::sleep(Duration::from_millis(1100));
    let bar = sandbox.next_bar();
    sandbox.runtime().push_bar(bar).unwrap();
    assert!(
        sandbox
            .runtime()
            .wait_for_bars(BARS + 1, Duration::from_secs(30))
    );

    let status = sandbox.runtime().status();
    let audit = status.strategies.iter().find(|s| s.id == "audit").unwrap();
    eprintln!(
        "{BARS} bars in {took:?}; status: audit call p99 {:.1} us, feed-to-decision p50 {:.1} us p99 {:.1} us max {:.1} us; loop lag {:?}",
        audit.latency_us.p99,
        audit.feed_to_decision_us.p50,
        audit.feed_to_decision_us.p99,
        audit.feed_to_decision_us.max,
        status.loop_lag
    );
    assert_eq!(audit.feed_to_decision_us.samples, BARS + 1);
    assert!(
        audit.feed_to_decision_us.p99 >= 10.0 * audit.latency_us.p99,
        "queueing shows in status: {audit:?}"
    );
    assert_eq!(status.loop_lag.age_us.samples, BARS + 1);
    assert!(status.loop_lag.age_us.max >= 10.0 * audit.latency_us.p99);
    assert_eq!(status.loop_lag.bars_queued, 0, "all processed");

    let report = sandbox.runtime.take().unwrap().stop_with_report();
    let summary = |id: &str| report.strategies.iter().find(|s| s.strategy == id).unwrap();
    let (audit, busy) = (summary("audit"), summary("busy"));
    eprintln!(
        "summary: audit call p99 {:.1} us, decision p99 {:.1} us; busy call p99 {:.1} us; loop lag p99 {:.1} us max {:.1} us",
        audit.call_us.p99,
        audit.decision_us.p99,
        busy.call_us.p99,
        report.loop_lag.age_us.p99,
        report.loop_lag.age_us.max
    );
    assert_eq!((audit.bars, busy.bars), (BARS + 1, BARS + 1), "no bar lost");
    assert_eq!(audit.call_us.samples, BARS + 1);
    assert!(
        audit.decision_us.p99 >= 10.0 * audit.call_us.p99,
        "the healthy neighbour's decisions waited behind the busy one: {audit:?}"
    );
    assert_eq!(report.loop_lag.age_us.samples, BARS + 1);
}
