//! Issue 15 through the contract: contract 0.1.0 builds (pinned fixtures in
//! `tests/fixtures/contract-0.1.0/`) load, backtest, trade live and hot-swap
//! to a 0.2.0 build exactly as before; contract 0.2.0's orders (stop,
//! stop-limit, trailing, OCO, bracket, cancel, replace) fill through the
//! runtime as the SDK's paper model says, live equal to the backtest, with
//! every update delivered to the guest (the `order-script` guest echoes
//! each one) and written to `order_updates.jsonl`.

use crate::backtest::{Backtest, sandbar_runtime_csv};
use crate::support::{
    Sandbox, SandboxConfig, audit_reports, component, csv_backtest, deploy, read_jsonl, sha,
    workspace,
};
use sandbar_runtime::Loader;
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::ContractVersion;
use sandbar_runtime::live::{Event, FeedMode, HandoffMethod, LiveOptions, Runtime};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The fixtures and the SHA-256 each is pinned at (also in their README).
const FIXTURES: [(&str, &str); 3] = [
    (
        "sma_cross.wasm",
        "6e5345a2568e10a2148dab49a423491d741aef0c5bd9dcb2a824eb8072bb79ec",
    ),
    (
        "seq_audit.wasm",
        "76f6e2bbdc9152e412c26ad787839920d6260ef8dfd9580d522cb8681c720d36",
    ),
    (
        "macd_atr.wasm",
        "d52c6f4d63825af6cd7dc37168be78c5df15d3255c1318745d04df23a0cb97c8",
    ),
];

fn fixture(name: &str) -> PathBuf {
    workspace().join("tests/fixtures/contract-0.1.0").join(name)
}

fn start_live(dir: &Path, config: &str) -> Runtime {
    let config = Config::from_file(&dir.join(config)).unwrap_or_else(|e| panic!("{e}"));
    Runtime::start(
        config,
        LiveOptions {
            config_path: None,
            journal_dir: Some(dir.join("journal")),
            feed: FeedMode::Config { max_bars: None },
            watch: false,
            rescan: true,
        },
    )
    .unwrap()
}

fn wait_finished(runtime: &Runtime, bars: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !runtime.feed_finished() {
        assert!(Instant::now() < deadline, "the CSV feed did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(runtime.wait_for_bars(bars, Duration::from_secs(30)));
    assert_eq!(runtime.feed_error(), None);
}

fn version_of(path: &Path) -> ContractVersion {
    let loader = Loader::new().unwrap();
    let symbols = crate::support::symbols(&["BTCUSD"]);
    let (candidate, _) = sandbar_runtime::check_file(
        &loader,
        path,
        &symbols,
        &[],
        &sandbar_runtime::Limits::default(),
    );
    candidate
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .pre
        .version()
}

#[test]
fn issue_15_3_the_0_1_0_fixtures_keep_their_pinned_hashes_and_load_as_0_1_0() {
    let readme = std::fs::read_to_string(fixture("README.md")).expect("the fixtures' README");
    for (name, pinned) in FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(
            sha(&bytes),
            pinned,
            "{name} changed; it must stay byte for byte"
        );
        assert!(readme.contains(pinned), "the README lists {name}'s hash");
        assert_eq!(version_of(&fixture(name)), ContractVersion::V0_1, "{name}");
    }
    // Today's SDK builds 0.2.0.
    assert_eq!(version_of(&component("sma-cross")), ContractVersion::V0_2);
    assert_eq!(
        version_of(&component("order-script")),
        ContractVersion::V0_2
    );
}

#[test]
fn issue_15_3_runtime_check_says_which_contract_a_component_implements() {
    let loader = Loader::new().unwrap();
    let symbols = crate::support::symbols(&["BTCUSD"]);
    let limits = sandbar_runtime::Limits::default();
    for (path, contract) in [
        (fixture("sma_cross.wasm"), "sandbar:strategy@0.1.0"),
        (component("sma-cross"), "sandbar:strategy@0.2.0"),
    ] {
        let (candidate, timings) =
            sandbar_runtime::check_file(&loader, &path, &symbols, &[], &limits);
        let candidate = candidate.unwrap_or_else(|e| panic!("{e}"));
        let report = sandbar_runtime::render_report(&path, &candidate, &timings, &symbols, &limits);
        assert!(
            report.contains(&format!("  contract     {contract}\n")),
            "{}: {report}",
            path.display()
        );
    }
}

/// The 0.1.0 build of sma-cross backtests and trades live exactly like
/// today's 0.2.0 build of the same code: same fills, same equity.
#[test]
fn issue_15_3_a_0_1_0_build_backtests_and_trades_live_exactly_as_the_0_2_0_build() {
    let csv = sandbar_runtime_csv(1200);
    let params = "fast = 5\nslow = 20\nsize = 2.0\nallow_short = true";
    let new_build = Backtest::new(&csv, params, "").run().unwrap();
    let bt = Backtest::new(&csv, params, "");
    std::fs::copy(
        fixture("sma_cross.wasm"),
        bt.dir.path().join("dist/sma_cross.wasm"),
    )
    .unwrap();
    let old_build = bt.run().unwrap();
    let (old, new) = (&old_build.strategies[0], &new_build.strategies[0]);
    assert_eq!(old.sha256, FIXTURES[0].1);
    assert_ne!(old.sha256, new.sha256);
    assert!(old.fills > 20, "it trades");
    assert_eq!((old.fills, old.orders), (new.fills, new.orders));
    assert_eq!(old.stats.final_equity, new.stats.final_equity);

    let runtime = start_live(bt.dir.path(), "bt.toml");
    wait_finished(&runtime, 1200);
    let summaries = runtime.stop();
    let live = summaries.iter().find(|s| s.strategy == "sma").unwrap();
    assert_eq!((live.fills, live.trades), (old.fills, old.stats.trades));
    assert_eq!(live.equity, old.stats.final_equity, "bit for bit");
    let fills = read_jsonl(&bt.dir.path().join("journal/fills.jsonl"));
    assert_eq!(fills[0]["sha256"], FIXTURES[0].1);
    let updates = read_jsonl(&bt.dir.path().join("journal/order_updates.jsonl"));
    assert!(updates.is_empty(), "0.1.0 orders have no ids: no updates");
}

/// A running 0.1.0 seq-audit is replaced by its 0.2.0 build: the swap
/// restores the old snapshot (no replay) and the bar count goes on.
#[test]
fn issue_15_3_a_0_1_0_build_hot_swaps_to_its_0_2_0_build_with_state_carried() {
    let mut sandbox = Sandbox::new();
    std::fs::copy(fixture("seq_audit.wasm"), sandbox.audit_path()).unwrap();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start().unwrap();
    sandbox.feed(150);
    assert_eq!(sandbox.live_sha(), FIXTURES[1].1);
    let new = std::fs::read(component("seq-audit")).unwrap();
    deploy(&sandbox.audit_path(), &new);
    sandbox.wait_swapped_to(&sha(&new));
    sandbox.feed(250);
    let events = sandbox.events.take().unwrap();
    let orders = sandbox.stop();
    let handoff = events
        .try_iter()
        .find_map(|e| match e {
            Event::Handoff(h) => Some(h),
            _ => None,
        })
        .expect("a handoff event");
    assert_eq!(handoff.method, HandoffMethod::Snapshot, "{handoff:?}");
    assert_eq!(handoff.replayed_bars, 0);
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!(
        counts,
        [100, 200, 300, 400],
        "the count went on across versions"
    );
    assert_eq!(anomalies, 0);
    let shas: Vec<&str> = orders.iter().filter_map(|o| o["sha256"].as_str()).collect();
    assert_eq!(shas[0], FIXTURES[1].1);
    assert_eq!(*shas.last().unwrap(), sha(&new));
}

/// The order-script guest's bars (its `SCRIPT_BARS`).
const SCRIPT_CSV: &str = "date,open,high,low,close,volume
2024-01-02T10:00:00Z,100,101,99,100,1000
2024-01-02T10:01:00Z,100,100.5,96,97,1000
2024-01-02T10:02:00Z,98,99,97.5,98.5,1000
2024-01-02T10:03:00Z,94,95,93,94.5,1000
2024-01-02T10:04:00Z,91,91.8,90.5,91.2,1000
2024-01-02T10:05:00Z,90.5,91.3,90,91,1000
2024-01-02T10:06:00Z,91,93.5,88.5,92,1000
2024-01-02T10:07:00Z,92,92,92,92,1000
";

/// (seq, side, quantity, price) of every fill, as the paper model makes
/// them (the guest's native test asserts the same list; the CSV feed
/// numbers bars from 0, the native test from 1).
const SCRIPT_FILLS: [(u64, &str, f64, f64); 6] = [
    (1, "buy", 1.0, 98.0),  // limit 1
    (1, "buy", 1.0, 97.0),  // OCO leg 2 (leg 3 cancelled on the same bar)
    (3, "sell", 2.0, 94.0), // trailing stop at 97 jumped by the open at 94
    (5, "sell", 1.0, 91.0), // stop-limit triggered on a gap, replaced, filled as its limit
    (6, "buy", 1.0, 91.0),  // bracket entry at the open
    (6, "sell", 1.0, 89.0), // its stop-loss: the bar touched both exits, stop first
];

/// (id, status) of every update, in order.
const SCRIPT_UPDATES: [(u64, &str); 20] = [
    (42, "rejected"),
    (1, "accepted"),
    (2, "accepted"),
    (3, "accepted"),
    (1, "filled"),
    (2, "filled"),
    (3, "cancelled"),
    (1, "rejected"),
    (4, "accepted"),
    (4, "filled"),
    (5, "accepted"),
    (5, "triggered"),
    (5, "replaced"),
    (5, "filled"),
    (10, "accepted"),
    (11, "accepted"),
    (12, "accepted"),
    (10, "filled"),
    (12, "filled"),
    (11, "cancelled"),
];

fn status_code(status: &str) -> u64 {
    [
        "accepted",
        "triggered",
        "partially_filled",
        "filled",
        "cancelled",
        "expired",
        "rejected",
        "replaced",
    ]
    .iter()
    .position(|s| *s == status)
    .unwrap() as u64
        + 1
}

/// A backtest directory of the order-script guest on [`SCRIPT_CSV`] (the
/// data in a directory of its own, kept alive beside it).
fn script_backtest() -> (tempfile::TempDir, Config, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().unwrap();
    let data = data_dir.path().join("script.csv");
    std::fs::write(&data, SCRIPT_CSV).unwrap();
    let (bt, config) = csv_backtest(
        "order-script",
        "script",
        &data,
        "X",
        "starting_cash = 10_000.0\ncommission = 0.0\nslippage_bps = 0.0",
        "",
    );
    (bt, config, data_dir)
}

/// Issue 15 item 6, through the contract: fill and cancel on one bar (an
/// OCO leg), cancel of an unknown and of a filled id, a trailing stop on a
/// gap, replace of a triggered stop-limit, a bracket whose bar touches both
/// exits — the same fills live and in the backtest, every update in
/// `order_updates.jsonl` and echoed by the guest (so it received each).
#[test]
fn issue_15_6_every_order_kind_fills_alike_live_and_in_the_backtest_with_updates_delivered() {
    let (dir, config, _data) = script_backtest();
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let run = &result.strategies[0];
    assert_eq!(run.error, None);
    assert_eq!(run.fills, SCRIPT_FILLS.len() as u64);
    // 10 000 − 98 − 97 + 2 × 94 + 91 − 91 + 89, short 1 at the end marked at 92.
    assert!(
        (run.stats.final_equity - 9_990.0).abs() < 1e-9,
        "{}",
        run.stats.final_equity
    );

    let runtime = start_live(dir.path(), "bt.toml");
    wait_finished(&runtime, SCRIPT_FILLS.len() as u64 + 2);
    let summaries = runtime.stop();
    let live = summaries.iter().find(|s| s.strategy == "script").unwrap();
    assert_eq!(live.fills, run.fills);
    assert_eq!(live.equity, run.stats.final_equity, "bit for bit");

    let journal = dir.path().join("journal");
    let fills: Vec<(u64, String, f64, f64)> = read_jsonl(&journal.join("fills.jsonl"))
        .iter()
        .map(|f| {
            (
                f["seq"].as_u64().unwrap(),
                f["side"].as_str().unwrap().to_owned(),
                f["quantity"].as_f64().unwrap(),
                f["price"].as_f64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(u64, String, f64, f64)> = SCRIPT_FILLS
        .iter()
        .map(|(seq, side, q, p)| (*seq, (*side).to_owned(), *q, *p))
        .collect();
    assert_eq!(fills, expected);

    let updates = read_jsonl(&journal.join("order_updates.jsonl"));
    let got: Vec<(u64, &str)> = updates
        .iter()
        .map(|u| (u["id"].as_u64().unwrap(), u["status"].as_str().unwrap()))
        .collect();
    assert_eq!(got, SCRIPT_UPDATES);
    let unknown = &updates[0];
    assert_eq!(unknown["symbol"], "?");
    assert!(
        unknown["reason"]
            .as_str()
            .unwrap()
            .contains("no such working order"),
        "{unknown}"
    );
    assert!(
        updates[6]["reason"]
            .as_str()
            .unwrap()
            .contains("OCO group 7")
    );

    // Orders with ids are journalled with their id, kind and links.
    let orders = read_jsonl(&journal.join("orders.jsonl"));
    let trailing = orders.iter().find(|o| o["id"] == 4).expect("order 4");
    assert_eq!(trailing["kind"], "trailing_amount");
    assert_eq!(trailing["trail_amount"], 2.0);
    assert_eq!(trailing["tif"], "gtc");
    let stop_loss = orders.iter().find(|o| o["id"] == 12).expect("order 12");
    assert_eq!(
        (stop_loss["kind"].as_str(), stop_loss["parent"].as_u64()),
        (Some("stop"), Some(10))
    );
    assert_eq!(stop_loss["oco_group"], 10);
    // The guest echoed every update it was told of, in order (the last
    // bar's updates arrive after its last on-bar: none are left there).
    let echoes: Vec<u64> = orders
        .iter()
        .filter(|o| o["limit_price"] == 0.0001)
        .map(|o| o["quantity"].as_f64().unwrap() as u64)
        .collect();
    let expected: Vec<u64> = SCRIPT_UPDATES
        .iter()
        .map(|(id, status)| id * 10 + status_code(status))
        .collect();
    assert_eq!(echoes, expected);
}

/// `broker.bracket_tie = "target_first"`: the bar that touches both exits
/// of the bracket fills its take-profit instead.
#[test]
fn issue_15_4_bracket_tie_target_first_takes_the_target() {
    let (dir, _, _data) = script_backtest();
    let path = dir.path().join("bt.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[broker]\n", "[broker]\nbracket_tie = \"target_first\"\n");
    std::fs::write(&path, text).unwrap();
    let config = Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let run = &result.strategies[0];
    // The bracket exits at 93 instead of 89: 4 more.
    assert!(
        (run.stats.final_equity - 9_994.0).abs() < 1e-9,
        "{}",
        run.stats.final_equity
    );
}

/// Issue 15 done-when: live on a CSV feed equals the backtest for the
/// atr-trailing example (brackets, trailing stops, take-profits).
#[test]
fn issue_15_6_atr_trailing_live_on_a_csv_feed_fills_exactly_like_the_backtest() {
    let data_dir = tempfile::tempdir().unwrap();
    let data = data_dir.path().join("bars.csv");
    std::fs::write(&data, sandbar_runtime_csv(1500)).unwrap();
    let (dir, config) = csv_backtest(
        "atr-trailing",
        "atr",
        &data,
        "X",
        "commission = 0.001\nslippage_bps = 2.0",
        "trend = 10\natr_period = 10\ntrail_atr = 2.0\ntarget_atr = 4.0\nsize = 2.0",
    );
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let run = &result.strategies[0];
    assert_eq!(run.error, None);
    assert!(run.fills > 20, "it trades: {} fills", run.fills);

    let runtime = start_live(dir.path(), "bt.toml");
    wait_finished(&runtime, 1500);
    let summaries = runtime.stop();
    let live = summaries.iter().find(|s| s.strategy == "atr").unwrap();
    assert_eq!((live.fills, live.trades), (run.fills, run.stats.trades));
    assert_eq!(live.equity, run.stats.final_equity, "bit for bit");
    let updates = read_jsonl(&dir.path().join("journal/order_updates.jsonl"));
    let filled = |rem: u64| {
        updates
            .iter()
            .filter(|u| u["status"] == "filled" && u["id"].as_u64().unwrap() % 3 == rem)
            .count()
    };
    assert!(
        filled(2) > 0 && filled(1) > 0,
        "trailing stops and targets both fill"
    );
    assert_eq!(
        filled(0) as u64 * 2,
        run.fills - (run.fills % 2),
        "an exit per entry"
    );
}

/// Issue 15 item 1: what the 0.2.0 contract costs on `on-bar`. The same
/// strategy (sma-cross) built for 0.1.0 (the fixture) and for 0.2.0 is
/// called on the same 20,000 bars through `StrategyInstance::on_bar`; both
/// must send the same orders bar for bar. Times are printed, never
/// asserted (the machine is shared); run with `--nocapture` to see them.
#[test]
fn issue_15_1_on_bar_sends_the_same_orders_in_both_contracts_and_its_cost_is_printed() {
    use sandbar_runtime::contract::{Param, ParamValue, Position};
    use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
    use sandbar_runtime::{LoadSpec, SmokeSetup, StrategyInstance};
    let loader = Loader::new().unwrap();
    let symbols = crate::support::symbols(&["BTCUSD"]);
    let limits = sandbar_runtime::Limits::default();
    let params = [
        Param {
            name: "fast".into(),
            value: ParamValue::Int(5),
        },
        Param {
            name: "slow".into(),
            value: ParamValue::Int(20),
        },
    ];
    let bars: Vec<_> = SyntheticFeed::new(1, 3, MarketStyle::Regimes, 60_000)
        .take(20_000)
        .collect();
    let flat = Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    };
    let mut runs = Vec::new();
    for path in [fixture("sma_cross.wasm"), component("sma-cross")] {
        let outcome = loader.load_file(
            &path,
            LoadSpec {
                strategy_id: "sma",
                expected_sha256: None,
                symbols: &symbols,
                params: &params,
                limits: &limits,
                recent_bars: &[],
                smoke: SmokeSetup::default(),
            },
        );
        let candidate = outcome.result.unwrap_or_else(|e| panic!("{e}"));
        let mut instance = StrategyInstance::instantiate(&candidate.pre, "sma", &limits).unwrap();
        instance.init(&symbols, &params).unwrap().unwrap();
        let started = Instant::now();
        let mut orders = Vec::new();
        let mut empty = 0u64;
        for bar in &bars {
            let out = instance.on_bar(*bar, flat).unwrap();
            if out.is_empty() {
                empty += 1;
            }
            orders.push(out);
        }
        let ns = started.elapsed().as_nanos() as f64 / bars.len() as f64;
        eprintln!(
            "on-bar {}: {ns:.0} ns per call over {} bars ({empty} empty)",
            candidate.pre.version(),
            bars.len()
        );
        runs.push(orders);
    }
    assert_eq!(runs[0], runs[1], "the same orders from both contracts");
    assert!(runs[0].iter().any(|o| !o.is_empty()), "it trades");
}

/// A replayed bar's orders are discarded (warm-up, catch-up); a 0.2.0
/// guest is told its orders with ids were not sent, so its open orders do
/// not keep them: the order-script guest echoes the three rejections of
/// its first bar's orders on its next bar.
#[test]
fn issue_15_4_orders_of_a_replayed_bar_are_answered_rejected() {
    use sandbar_runtime::contract::{Bar, Position, Request};
    use sandbar_runtime::{LoadSpec, SmokeSetup, StrategyInstance};
    let loader = Loader::new().unwrap();
    let symbols = crate::support::symbols(&["X"]);
    let limits = sandbar_runtime::Limits::default();
    let outcome = loader.load_file(
        &component("order-script"),
        LoadSpec {
            strategy_id: "script",
            expected_sha256: None,
            symbols: &symbols,
            params: &[],
            limits: &limits,
            recent_bars: &[],
            smoke: SmokeSetup::default(),
        },
    );
    let candidate = outcome.result.unwrap_or_else(|e| panic!("{e}"));
    let mut instance = StrategyInstance::instantiate(&candidate.pre, "script", &limits).unwrap();
    instance.init(&symbols, &[]).unwrap().unwrap();
    let bar = |seq: u64| Bar {
        seq,
        ts_ms: seq as i64 * 60_000,
        symbol: 0,
        open: 100.0,
        high: 101.0,
        low: 99.0,
        close: 100.0,
        volume: 1.0,
    };
    let flat = Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 0.0,
        equity: 0.0,
    };
    instance.replay_bar(bar(0), flat).unwrap();
    let echoes: Vec<u64> = instance
        .on_bar(bar(1), flat)
        .unwrap()
        .iter()
        .filter_map(Request::order)
        .map(|o| o.quantity as u64)
        .collect();
    assert_eq!(echoes, [17, 27, 37], "ids 1, 2, 3 rejected (code 7)");
}
