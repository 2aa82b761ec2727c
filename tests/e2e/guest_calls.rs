//! Guest calls bounded (hardening issue, items 3–5): `snapshot`/`restore`
//! on the bar loop under `limits.state_deadline_us`, the snapshot cap
//! applied before the bytes are copied, and log calls charged to fuel and
//! capped per call and per second — each beside a healthy strategy that
//! must process every bar, and on a bare instance where numbers are read.
//! Times are printed (eprintln), never asserted.

use crate::hostile::{assert_healthy_kept_trading, hostile_block, start_with_limits, wait_for};
use crate::support::{Sandbox, SandboxConfig, component, symbols};
use sandbar_runtime::contract::{Bar, Param, ParamValue, Position};
use sandbar_runtime::live::Event;
use sandbar_runtime::{CallError, Limits, LoadSpec, Loader, StrategyInstance, TrapKind};
use std::time::{Duration, Instant};

/// A hostile instance in `mode` (misbehaving from bar 300), initialised,
/// outside any runtime: its calls can be timed and its fuel read.
fn instance(mode: &str, extra: &[(&str, ParamValue)], limits: &Limits) -> StrategyInstance {
    let syms = symbols(&["BTCUSD"]);
    let mut params = vec![
        Param {
            name: "mode".into(),
            value: ParamValue::Text(mode.into()),
        },
        Param {
            name: "from_seq".into(),
            value: ParamValue::Int(300),
        },
    ];
    params.extend(extra.iter().map(|(name, value)| Param {
        name: (*name).into(),
        value: value.clone(),
    }));
    let candidate = Loader::new()
        .unwrap()
        .load_file(
            &component("hostile"),
            LoadSpec {
                strategy_id: "hostile",
                expected_sha256: None,
                symbols: &syms,
                params: &params,
                limits,
                recent_bars: &[],
                smoke: sandbar_runtime::SmokeSetup::default(),
            },
        )
        .result
        .unwrap_or_else(|e| panic!("{mode}: {e}"));
    let mut instance = StrategyInstance::instantiate(&candidate.pre, "hostile", limits).unwrap();
    instance.init(&syms, &params).unwrap().unwrap();
    instance
}

fn bar(seq: u64) -> Bar {
    Bar {
        seq,
        ts_ms: 1_700_000_000_000 + seq as i64 * 60_000,
        symbol: 0,
        open: 100.0,
        high: 101.0,
        low: 99.0,
        close: 100.5,
        volume: 10.0,
    }
}

fn flat() -> Position {
    Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Regression (item 3): `snapshot` on the bar loop ran under the 1 s
/// lifecycle floor (1.01 s stalls against a 50 ms setting), and its
/// rejection cited `limits.deadline_us`. Now it is cut at
/// `limits.state_deadline_us`, the message says so with the real elapsed
/// time, and the healthy neighbour processes every bar.
#[test]
fn regression_13_3_a_slow_snapshot_is_cut_at_the_state_deadline_and_the_loop_keeps_going() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(component("hostile"), sandbox.path("dist/hostile.wasm")).unwrap();
    // Fuel enough for hours: only a wall-clock bound can stop the spin.
    let block = format!(
        "{}[strategy.limits]\nfuel_per_bar = 1_000_000_000_000\n",
        hostile_block("slow-snapshot", 300)
    );
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &block,
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox.feed(290);
    let fed_before = sandbox.fed;
    let started = Instant::now();
    let mut trap = None;
    for _ in 0..200 {
        sandbox.feed(1);
        trap = sandbox
            .runtime()
            .recent_events()
            .into_iter()
            .find_map(|e| match e {
                Event::Trap(t) if t.strategy == "hostile" && t.export == "snapshot" => Some(t),
                _ => None,
            });
        if trap.is_some() {
            break;
        }
    }
    let trap = trap.expect("the slow snapshot trapped within 200 bars");
    eprintln!(
        "slow snapshot: {} ({} bars in {:.1} ms of feeding, trap at seq {})",
        trap.message,
        sandbox.fed - fed_before,
        ms(started.elapsed()),
        trap.seq
    );
    assert_eq!(trap.kind, TrapKind::Deadline, "{trap:?}");
    assert!(
        trap.message
            .contains("`limits.state_deadline_us` = 20000 µs"),
        "{trap:?}"
    );
    assert!(
        trap.message.contains(" ms, against "),
        "the elapsed time: {trap:?}"
    );
    let hint = CallError::hint_for(&trap.export, &trap.kind, &trap.message);
    assert!(hint.contains("limits.state_deadline_us"), "{hint}");
    sandbox.feed(100);
    assert_healthy_kept_trading(&mut sandbox);
}

/// Regression (item 4): a periodic snapshot over `limits.max_snapshot_kb`
/// was copied into the host and dropped with no event. Now an event names
/// the key, nothing traps, and the neighbour is untouched.
#[test]
fn regression_13_4_an_oversized_snapshot_on_the_loop_is_an_event_naming_the_key() {
    // 100 KiB of state from bar 300 on, against a 64 KiB cap: the smoke
    // test (before bar 300) passes.
    let mut sandbox = start_with_limits("grow-snapshot", "max_snapshot_kb = 64");
    sandbox.feed(450);
    let event = wait_for(|| {
        sandbox
            .runtime()
            .recent_events()
            .into_iter()
            .find_map(|e| match e {
                Event::Snapshot(s) if s.strategy == "hostile" => Some(s),
                _ => None,
            })
    });
    assert_eq!(event.limit_bytes, 64 << 10);
    assert!(
        event.message.contains("`limits.max_snapshot_kb`"),
        "{event:?}"
    );
    let reported = sandbox
        .runtime()
        .recent_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Snapshot(_)))
        .count();
    assert_eq!(reported, 1, "reported once, not every 64 bars");
    let hostile = sandbox.status_of("hostile");
    assert_eq!((hostile.bars, hostile.traps), (450, 0));
    assert_healthy_kept_trading(&mut sandbox);
}

/// Regression (item 4): the cap is checked against the guest's own length
/// before the copy. Prints the cost of a 16 MiB snapshot copied (what every
/// oversized one cost before) and refused (now).
#[test]
fn regression_13_4_the_snapshot_cap_applies_before_the_copy() {
    let limits = Limits {
        fuel_per_call: 100_000_000_000,
        memory_bytes: 256 << 20,
        max_snapshot_bytes: 64 << 20,
        state_deadline: Duration::from_secs(30),
        ..Limits::default()
    };
    let mut wasm = instance(
        "grow-snapshot",
        &[("snapshot_kb", ParamValue::Int(16 << 10))],
        &limits,
    );
    wasm.on_bar(bar(300), flat()).unwrap();
    let started = Instant::now();
    let refused = wasm.snapshot_on_loop(4 << 20).unwrap();
    let refused_in = started.elapsed();
    assert_eq!(refused, Err(()), "over the cap");
    // The instance is still good: it trades on and snapshots when it fits.
    wasm.on_bar(bar(301), flat()).unwrap();
    let started = Instant::now();
    let copied = wasm.snapshot_on_loop(usize::MAX).unwrap().unwrap();
    let copied_in = started.elapsed();
    let len = copied.len();
    assert!(len > 16 << 20, "{len}");
    assert!(
        copied.starts_with(b"SBS1"),
        "a real snapshot, not freed memory"
    );
    assert_eq!(wasm.restore_on_loop(&copied).unwrap(), Ok(()));
    eprintln!(
        "snapshot of {len} bytes: refused before the copy in {:.2} ms (0 bytes copied), copied in {:.2} ms ({len} bytes)",
        ms(refused_in),
        ms(copied_in)
    );
    // Off the loop (the smoke test) the same cap is an error naming the key.
    let mut capped = instance(
        "grow-snapshot",
        &[("snapshot_kb", ParamValue::Int(16 << 10))],
        &Limits {
            max_snapshot_bytes: 4 << 20,
            ..limits.clone()
        },
    );
    capped.on_bar(bar(300), flat()).unwrap();
    let error = capped.snapshot().unwrap_err();
    assert_eq!(error.kind, TrapKind::Oversized);
    assert!(error.message.contains("limits.max_snapshot_kb"), "{error}");
    assert!(
        error.hint().contains("limits.max_snapshot_kb"),
        "{}",
        error.hint()
    );
}

/// Regression (item 5): log calls were free. Now each costs fuel: the same
/// 1,000 lines formatted and logged cost at least 1,000 × `LOG_CALL_FUEL`
/// more than formatted only, and a guest logging in a loop runs out of fuel.
#[test]
fn regression_13_5_log_bytes_are_charged_to_fuel() {
    let limits = Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    };
    let fuel_of = |mode: &str| {
        let mut wasm = instance(mode, &[], &limits);
        wasm.on_bar(bar(300), flat()).unwrap();
        wasm.fuel_used_last_call()
    };
    let logged = fuel_of("log-spam");
    let formatted = fuel_of("format-spam");
    eprintln!("1,000 log lines: {logged} fuel logged, {formatted} fuel formatted only");
    assert!(
        logged >= formatted + 1_000 * sandbar_runtime::contract::LOG_CALL_FUEL,
        "logged {logged}, formatted {formatted}"
    );
    let mut looping = instance("log-loop", &[], &limits);
    let error = looping.on_bar(bar(300), flat()).unwrap_err();
    assert_eq!(error.kind, TrapKind::OutOfFuel, "{error}");
}

/// Regression (item 5): "make the deadline the real wall-clock bound" — a
/// guest with fuel for hours that logs in a loop is stopped by
/// `limits.deadline_us`, host time included.
#[test]
fn regression_13_5_log_calls_do_not_escape_the_deadline() {
    let limits = Limits {
        fuel_per_call: 1_000_000_000_000,
        deadline: Duration::from_millis(50),
        ..Limits::default()
    };
    let mut wasm = instance("log-loop", &[], &limits);
    let started = Instant::now();
    let error = wasm.on_bar(bar(300), flat()).unwrap_err();
    eprintln!(
        "log loop stopped after {:.1} ms: {error}",
        ms(started.elapsed())
    );
    assert_eq!(error.kind, TrapKind::Deadline, "{error}");
    assert!(
        error.message.contains("`limits.deadline_us` = 50000 µs"),
        "{error}"
    );
}

/// Regression (item 5): 32 lines of 1 KiB per call gave 374 MB of log in
/// 10 s; a line over 1 MiB was copied whole. Under a flood, bytes written
/// stay within `limits.log_bytes_per_call` per call and
/// `limits.log_bytes_per_sec` per second, and a 2 MiB line is refused
/// before it is copied.
#[test]
fn regression_13_5_log_floods_stay_under_the_caps() {
    // A deadline no stall of a shared machine reaches: caps are under test.
    let limits = Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    };
    for mode in ["nul-lines", "big-lines", "log-spam"] {
        let mut wasm = instance(mode, &[], &limits);
        let started = Instant::now();
        let mut seq = 300;
        let mut max_per_call = 0;
        while started.elapsed() < Duration::from_millis(1500) {
            let before = wasm.log_bytes_written();
            wasm.on_bar(bar(seq), flat())
                .unwrap_or_else(|e| panic!("{mode}: {e}"));
            max_per_call = max_per_call.max(wasm.log_bytes_written() - before);
            seq += 1;
        }
        let elapsed = started.elapsed();
        let total = wasm.log_bytes_written();
        let windows = elapsed.as_secs() + 1;
        eprintln!(
            "{mode}: {} bars in {:.0} ms, {total} log bytes written ({:.0} bytes/s), at most {max_per_call} per call",
            seq - 300,
            ms(elapsed),
            total as f64 / elapsed.as_secs_f64()
        );
        assert!(max_per_call > 0, "{mode}: something is logged");
        assert!(
            max_per_call <= limits.log_bytes_per_call as u64,
            "{mode}: {max_per_call} bytes in one call"
        );
        assert!(
            total <= limits.log_bytes_per_sec * windows,
            "{mode}: {total} bytes in {windows} window(s)"
        );
    }
    let mut huge = instance("huge-line", &[], &limits);
    let error = huge.on_bar(bar(300), flat()).unwrap_err();
    assert_eq!(error.kind, TrapKind::Oversized, "{error}");
    assert!(!error.hint().contains("[limits]"), "{}", error.hint());
    assert_eq!(huge.log_bytes_written(), 0);
}

/// Item 5 on the loop: log floods beside a healthy strategy — nothing
/// traps, every bar is processed by both.
#[test]
fn regression_13_5_log_floods_beside_a_healthy_strategy() {
    for mode in ["nul-lines", "big-lines"] {
        // Deadlines no stall of a shared machine reaches: caps are under test.
        let mut sandbox = start_with_limits(mode, "deadline_us = 10_000_000");
        sandbox.feed(400);
        let hostile = sandbox.status_of("hostile");
        assert_eq!((hostile.bars, hostile.traps), (400, 0), "{mode}");
        assert_healthy_kept_trading(&mut sandbox);
    }
}
