//! The paper broker's brackets against backtesting.py's own stop-loss and
//! take-profit semantics, on backtesting.py's GOOG data: the same signal
//! (tests/reference/brackets.py: an SMA crossover entering long with a
//! stop-loss and a take-profit around the signal bar's close) is run by the
//! backtesting package itself and here through `sandbar_guest::paper`, and
//! both must make the same trades (entry and exit bars and prices) and end
//! with the same equity. The data and the Python environment come from
//! scripts/fetch-reference-data.sh and scripts/reference-env.sh (PyPI).

use sandbar_guest::data::read_all;
use sandbar_guest::paper::{FillModel, Kind, PaperAccount, Request, Ticket, TimeInForce};
use sandbar_guest::{Bar, Side};
use std::path::{Path, PathBuf};
use std::process::Command;

const FAST: usize = 10;
const SLOW: usize = 30;
const SIZE: f64 = 10.0;
const SL_PCT: f64 = 4.0;
const TP_PCT: f64 = 8.0;
const COMMISSION: f64 = 0.001;
const CASH: f64 = 100_000.0;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_script(script: &str) {
    let status = Command::new("bash")
        .arg(workspace().join(script))
        .status()
        .unwrap_or_else(|e| panic!("running {script}: {e}"));
    assert!(status.success(), "{script} failed (it needs PyPI)");
}

#[derive(Debug)]
struct Trade {
    entry_bar: u64,
    exit_bar: u64,
    entry_price: f64,
    exit_price: f64,
}

fn sma(closes: &[f64], end: usize, n: usize) -> Option<f64> {
    (end + 1 >= n).then(|| closes[end + 1 - n..=end].iter().sum::<f64>() / n as f64)
}

/// The signal of brackets.py, through the paper broker.
fn sandbar_trades(bars: &[Bar]) -> (Vec<Trade>, f64) {
    let model = FillModel::new(COMMISSION, 0.0);
    let mut account = PaperAccount::new(1, CASH, model);
    let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let mut trades = Vec::new();
    let mut open: Option<(u64, f64)> = None;
    let mut next_id = 1;
    for (i, bar) in bars.iter().enumerate() {
        for fill in account.on_bar(bar) {
            match (fill.side, open.take()) {
                (Side::Buy, None) => open = Some((fill.seq, fill.price)),
                (Side::Sell, Some((entry_bar, entry_price))) => trades.push(Trade {
                    entry_bar,
                    exit_bar: fill.seq,
                    entry_price,
                    exit_price: fill.price,
                }),
                other => panic!("unexpected fill {fill:?} with {other:?}"),
            }
        }
        account.take_updates();
        let flat = account.position(0).quantity == 0.0 && account.working().next().is_none();
        let crossed = i > 0
            && matches!(
                (sma(&closes, i - 1, FAST), sma(&closes, i - 1, SLOW), sma(&closes, i, FAST), sma(&closes, i, SLOW)),
                (Some(f0), Some(s0), Some(f1), Some(s1)) if f0 < s0 && f1 > s1
            );
        if flat && crossed {
            let entry = next_id;
            next_id += 1;
            let leg = |id, kind| Ticket {
                id,
                symbol: 0,
                side: Side::Sell,
                quantity: SIZE,
                kind,
                tif: TimeInForce::Gtc,
                oco_group: Some(entry),
                parent: Some(entry),
            };
            account.request([
                Request::Place(Ticket {
                    side: Side::Buy,
                    oco_group: None,
                    parent: None,
                    ..leg(entry, Kind::Market)
                }),
                Request::Place(leg(
                    entry + 1_000_000,
                    Kind::Limit(bar.close * (1.0 + TP_PCT / 100.0)),
                )),
                Request::Place(leg(
                    entry + 2_000_000,
                    Kind::Stop(bar.close * (1.0 - SL_PCT / 100.0)),
                )),
            ]);
        }
    }
    (trades, account.equity())
}

fn close_to(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn brackets_trade_like_backtesting_py_on_goog() {
    run_script("scripts/fetch-reference-data.sh");
    run_script("scripts/reference-env.sh");
    let data = workspace().join("target/reference-data/GOOG.csv");
    let output = Command::new(workspace().join("target/reference-venv/bin/python"))
        .arg(workspace().join("tests/reference/brackets.py"))
        .arg(&data)
        .args([FAST, SLOW, SIZE as usize].map(|v| v.to_string()))
        .args([SL_PCT, TP_PCT, COMMISSION, CASH].map(|v| v.to_string()))
        .output()
        .expect("running tests/reference/brackets.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let bars = read_all(&data, &["GOOG".to_owned()], false, |_| {}).unwrap();
    assert_eq!(bars.len() as u64, reference["bars"].as_u64().unwrap());
    let (ours, equity) = sandbar_trades(&bars);
    let theirs = reference["trades"].as_array().unwrap();
    assert!(
        theirs.len() >= 20,
        "the reference should trade: {}",
        theirs.len()
    );
    let stopped = ours.iter().filter(|t| t.exit_price < t.entry_price).count();
    assert!(stopped >= 5, "some exits must be stops: {stopped}");
    assert_eq!(ours.len(), theirs.len(), "closed trades: ours {ours:?}");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let f = |key: &str| b[key].as_f64().unwrap();
        assert_eq!(
            a.entry_bar,
            b["entry_bar"].as_u64().unwrap(),
            "trade {i} entry bar"
        );
        assert_eq!(
            a.exit_bar,
            b["exit_bar"].as_u64().unwrap(),
            "trade {i} exit bar"
        );
        assert!(
            close_to(a.entry_price, f("entry_price")),
            "trade {i} entry: {a:?} vs {b}"
        );
        assert!(
            close_to(a.exit_price, f("exit_price")),
            "trade {i} exit: {a:?} vs {b}"
        );
    }
    let final_equity = reference["final_equity"].as_f64().unwrap();
    assert!(
        close_to(equity, final_equity),
        "final equity {equity} vs {final_equity}"
    );
    eprintln!(
        "{} bracket trades ({stopped} stopped out) identical to backtesting.py; final equity {equity:.2}",
        ours.len()
    );
}
