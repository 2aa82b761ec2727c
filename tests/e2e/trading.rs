//! Trading in `runtime live`: the CSV and TCP line feeds, live results equal
//! to a backtest of the same file, the drawdown kill switch, operator
//! pause/resume/halt/unhalt, and positions that survive a hot swap.

use crate::backtest::{Backtest, sandbar_runtime_csv};
use crate::support::{Sandbox, SandboxConfig, audit_reports, deploy, rebuilt, sha};
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::Bar;
use sandbar_runtime::live::{
    Event, FeedMode, LiveOptions, RunState, Runtime, StateAction, StrategySummary,
};
use sandbar_runtime::risk::RiskRule;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

fn start(bt: &Backtest, feed: FeedMode) -> Runtime {
    let config = Config::from_file(&bt.dir.path().join("bt.toml")).unwrap();
    Runtime::start(
        config,
        LiveOptions {
            config_path: None,
            journal_dir: Some(bt.dir.path().join("journal")),
            feed,
            watch: false,
            rescan: true,
        },
    )
    .unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn summary_of<'a>(summaries: &'a [StrategySummary], id: &str) -> &'a StrategySummary {
    summaries
        .iter()
        .find(|s| s.strategy == id)
        .expect("summary")
}

#[test]
fn live_on_a_csv_feed_trades_exactly_like_the_backtest() {
    let csv = sandbar_runtime_csv(1500);
    let bt = Backtest::new(
        &csv,
        "fast = 5\nslow = 20\nsize = 2.0\nallow_short = true",
        "",
    );
    let expected = bt.run().unwrap();
    let runtime = start(&bt, FeedMode::Config { max_bars: None });
    wait_for("the CSV feed to finish", || runtime.feed_finished());
    assert!(runtime.wait_for_bars(1500, Duration::from_secs(30)));
    assert_eq!(runtime.feed_error(), None);
    let summaries = runtime.stop();
    let live = summary_of(&summaries, "sma");
    let run = &expected.strategies[0];
    assert_eq!(live.bars, 1500);
    assert_eq!(live.fills, run.fills);
    assert_eq!(live.trades, run.stats.trades);
    assert!(live.trades > 20, "the strategy trades");
    assert_eq!(
        live.equity, run.stats.final_equity,
        "same fills, same equity, bit for bit"
    );
    let fills = crate::support::read_jsonl(&bt.dir.path().join("journal/fills.jsonl"));
    assert_eq!(fills.len() as u64, run.fills);
    assert_eq!(fills[0]["sha256"], run.sha256.as_str());
}

#[test]
fn a_bad_csv_row_stops_the_live_feed_naming_file_and_line() {
    let mut csv = sandbar_runtime_csv(50);
    csv.push_str("1800000000000,1,2,3,x,5\n");
    csv.push_str("1800003600000,1,2,0.5,1,5\n");
    let bt = Backtest::new(&csv, "fast = 5\nslow = 20", "");
    let runtime = start(&bt, FeedMode::Config { max_bars: None });
    wait_for("the CSV feed to stop", || runtime.feed_finished());
    let error = runtime
        .feed_error()
        .expect("the feed reports why it stopped");
    assert!(
        error.contains("bars.csv:52: close `x` is not a number"),
        "{error}"
    );
    assert!(error.contains("on_bad_row = \"skip\""), "{error}");
    let summaries = runtime.stop();
    assert_eq!(
        summary_of(&summaries, "sma").bars,
        50,
        "the good rows before it were traded"
    );
}

#[test]
fn the_tcp_line_feed_takes_json_bars_and_answers_each_line() {
    let bt = Backtest::new(
        "date,open,high,low,close\n",
        "fast = 2\nslow = 3",
        "listen = \"127.0.0.1:0\"",
    );
    let toml = bt.dir.path().join("bt.toml");
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("kind = \"csv\"", "kind = \"tcp\"");
    std::fs::write(&toml, text).unwrap();
    let runtime = start(&bt, FeedMode::Config { max_bars: None });
    let addr = runtime.feed_addr().expect("listening");
    assert!(addr.ip().is_loopback());
    let stream = std::net::TcpStream::connect(addr).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut replies = BufReader::new(stream);
    let mut ask = |line: &str| {
        writeln!(writer, "{line}").unwrap();
        let mut reply = String::new();
        replies.read_line(&mut reply).unwrap();
        reply.trim().to_owned()
    };
    for (i, close) in [10.0, 11.0, 12.0, 13.0].iter().enumerate() {
        let line = format!(
            r#"{{"symbol":"X","ts":"2024-01-0{}T00:00:00Z","open":{close},"high":{close},"low":{close},"close":{close},"volume":1}}"#,
            i + 1
        );
        assert_eq!(ask(&line), format!("ok {i}"));
    }
    let reply =
        ask(r#"{"symbol":"X","ts":"2024-01-02T00:00:00Z","open":1,"high":1,"low":1,"close":1}"#);
    assert!(
        reply.starts_with("error: line 5: the time 2024-01-02T00:00:00Z of X is not after"),
        "{reply}"
    );
    assert!(runtime.wait_for_bars(4, Duration::from_secs(30)));
    let summaries = runtime.stop();
    let sma = summary_of(&summaries, "sma");
    assert_eq!(
        (sma.bars, sma.orders),
        (4, 1),
        "the rise from bar 3 on is a buy"
    );
}

/// The bars of the hand-computed backtest (see `backtest::PATH_CSV`).
fn path_bars() -> Vec<Bar> {
    let closes = [
        (10.0, 10.0),
        (10.0, 10.0),
        (10.0, 10.0),
        (10.0, 13.0),
        (14.0, 14.0),
        (12.0, 9.0),
        (8.0, 8.0),
    ];
    closes
        .iter()
        .enumerate()
        .map(|(i, &(open, close))| Bar {
            seq: i as u64,
            ts_ms: 1_704_067_200_000 + i as i64 * 86_400_000,
            symbol: 0,
            open,
            high: f64::max(open, close),
            low: f64::min(open, close),
            close,
            volume: 100.0,
        })
        .collect()
}

#[test]
fn the_drawdown_kill_switch_halts_a_live_strategy_until_unhalted() {
    let bt = Backtest::new(
        "date,open,high,low,close\n",
        "fast = 2\nslow = 3\nsize = 1.0",
        "[risk]\nmax_drawdown_pct = 0.5",
    );
    let runtime = start(&bt, FeedMode::Manual);
    let events = runtime.subscribe();
    for bar in path_bars() {
        runtime.push_bar(bar).unwrap();
    }
    assert!(runtime.wait_for_bars(7, Duration::from_secs(30)));
    let mut halted = None;
    let mut refusals = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while (halted.is_none() || refusals.len() < 2) && Instant::now() < deadline {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(Event::State(e)) => halted = Some(e),
            Ok(Event::Refusal(e)) => refusals.push(e),
            _ => {}
        }
    }
    let halted = halted.expect("a state event");
    assert_eq!(
        (halted.state, halted.actor.as_str()),
        (RunState::Halted, "risk")
    );
    assert!(
        halted
            .reason
            .as_deref()
            .unwrap()
            .contains("max_drawdown_pct 0.5")
    );
    assert_eq!(
        refusals.len(),
        2,
        "the exits of bars 5 and 6: {refusals:#?}"
    );
    assert!(
        refusals
            .iter()
            .all(|r| r.rule == RiskRule::Halted && r.reason.contains("halted"))
    );
    let status = runtime.status();
    let sma = &status.strategies[0];
    assert_eq!(sma.state, "halted");
    assert!(sma.state_reason.as_deref().unwrap().contains("drawdown"));
    assert_eq!(sma.refused["halted"], 2);
    assert_eq!(sma.equity, 1000.0 - 14.14 + 8.0);

    let error = runtime
        .set_state("sma", StateAction::Resume, "test")
        .unwrap_err();
    assert!(error.to_string().contains("use unhalt"), "{error}");
    assert_eq!(
        runtime.set_state("sma", StateAction::Unhalt, "test"),
        Ok(RunState::Running)
    );
    // Bar 7 (down trend, long 1): the exit goes out now.
    runtime
        .push_bar(Bar {
            seq: 7,
            ts_ms: 1_704_067_200_000 + 7 * 86_400_000,
            open: 8.0,
            high: 8.0,
            low: 8.0,
            close: 8.0,
            ..path_bars()[0]
        })
        .unwrap();
    assert!(runtime.wait_for_bars(8, Duration::from_secs(30)));
    wait_for("the exit order", || {
        runtime.status().strategies[0].orders == 2
    });
    let summaries = runtime.stop();
    assert_eq!(summary_of(&summaries, "sma").state, RunState::Running);
}

fn audit_sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox
}

#[test]
fn a_paused_strategy_skips_bars_and_catches_up_on_resume() {
    let mut sandbox = audit_sandbox();
    let runtime_pause = |s: &Sandbox, action| s.runtime().set_state("audit", action, "test");
    sandbox.feed(20);
    assert_eq!(
        runtime_pause(&sandbox, StateAction::Pause),
        Ok(RunState::Paused)
    );
    sandbox.feed(30);
    let status = sandbox.status_of("audit");
    assert_eq!(
        (status.state, status.bars, status.paused_bars),
        ("paused", 20, 30)
    );
    assert_eq!(
        runtime_pause(&sandbox, StateAction::Resume),
        Ok(RunState::Running)
    );
    sandbox.feed(150);
    let status = sandbox.status_of("audit");
    assert_eq!((status.state, status.paused_bars), ("running", 30));
    let orders = sandbox.stop();
    // The guest saw every bar once and in order: the 30 missed ones were replayed.
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!((counts, anomalies), (vec![100, 200], 0));
}

#[test]
fn a_halted_strategy_still_gets_bars_but_its_orders_are_refused() {
    let mut sandbox = audit_sandbox();
    assert_eq!(
        sandbox
            .runtime()
            .set_state("audit", StateAction::Halt, "api:ops"),
        Ok(RunState::Halted)
    );
    sandbox.feed(100);
    let status = sandbox.status_of("audit");
    assert_eq!((status.state, status.bars), ("halted", 100));
    assert_eq!(status.state_reason.as_deref(), Some("halted by api:ops"));
    wait_for("the refusal", || {
        sandbox.status_of("audit").refused["halted"] == 1
    });
    let events = sandbox.runtime().recent_events();
    assert!(events.iter().any(
        |e| matches!(e, Event::State(s) if s.state == RunState::Halted && s.actor == "api:ops")
    ));
    assert!(
        sandbox
            .runtime()
            .set_state("audit", StateAction::Pause, "t")
            .is_err(),
        "halted wins over pause"
    );
    assert_eq!(
        sandbox
            .runtime()
            .set_state("audit", StateAction::Unhalt, "t"),
        Ok(RunState::Running)
    );
    sandbox.feed(100);
    let (counts, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(
        (counts, anomalies),
        (vec![200], 0),
        "the report at 100 was refused, 200 went out"
    );
}

#[test]
fn positions_and_cash_belong_to_the_host_across_a_hot_swap() {
    let csv = sandbar_runtime_csv(400);
    let bt = Backtest::new(
        &csv,
        "fast = 5\nslow = 20\nsize = 2.0\nallow_short = true",
        "",
    );
    let expected = bt.run().unwrap();
    let runtime = start(&bt, FeedMode::Manual);
    let bars = sandbar_runtime::feed::csv::read_all(
        &bt.dir.path().join("bars.csv"),
        &["X".to_owned()],
        false,
        |_| {},
    )
    .unwrap();
    let wasm = bt.dir.path().join("dist/sma_cross.wasm");
    let original = std::fs::read(&wasm).unwrap();
    for (i, bar) in bars.iter().enumerate() {
        runtime.push_bar(*bar).unwrap();
        if i % 100 == 50 {
            // A new build mid-run: the account must not notice.
            assert!(runtime.wait_for_bars(i as u64 + 1, Duration::from_secs(30)));
            let next = rebuilt(&original, i as u32);
            deploy(&wasm, &next);
            let event = runtime.reload("sma").unwrap();
            assert_eq!(event.sha256.as_deref(), Some(sha(&next).as_str()));
        }
    }
    assert!(runtime.wait_for_bars(400, Duration::from_secs(30)));
    let summaries = runtime.stop();
    let live = summary_of(&summaries, "sma");
    assert!(live.version >= 4, "swapped several times");
    let run = &expected.strategies[0];
    assert_eq!((live.fills, live.trades), (run.fills, run.stats.trades));
    assert_eq!(live.equity, run.stats.final_equity);
}

/// Regression (issue 15 item 5): live, an order beyond buying power is a
/// `refusal` event naming `max_leverage` with the numbers, counted in
/// status under that rule, and the strategy keeps running.
#[test]
fn regression_15_5_live_refusals_name_max_leverage_and_the_strategy_runs_on() {
    let bt = Backtest::new(
        "date,open,high,low,close\n",
        "fast = 2\nslow = 3\nsize = 100.0",
        "[risk]\nmax_leverage = 1.0",
    );
    let runtime = start(&bt, FeedMode::Manual);
    let events = runtime.subscribe();
    for bar in path_bars() {
        runtime.push_bar(bar).unwrap();
    }
    assert!(runtime.wait_for_bars(7, Duration::from_secs(30)));
    let mut refusals = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while refusals.len() < 2 && Instant::now() < deadline {
        if let Ok(Event::Refusal(e)) = events.recv_timeout(Duration::from_millis(200)) {
            refusals.push(e);
        }
    }
    assert_eq!(refusals.len(), 2, "bars 3 and 4: {refusals:#?}");
    assert!(
        refusals.iter().all(|r| r.rule == RiskRule::MaxLeverage),
        "{refusals:#?}"
    );
    assert!(
        refusals[0].reason.contains("buying 100 X at 13")
            && refusals[0].reason.contains("over risk.max_leverage 1"),
        "{}",
        refusals[0].reason
    );
    let status = runtime.status();
    let sma = &status.strategies[0];
    assert_eq!(sma.state, "running");
    assert_eq!(sma.refused["max_leverage"], 2);
    assert_eq!(sma.risk.max_leverage, Some(1.0));
    assert_eq!(sma.equity, 1000.0);
    runtime.stop();
}
