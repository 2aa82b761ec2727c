//! `runtime backtest` against an independent reference implementation
//! (tests/reference/sma_cross.py, plain Python written from the documented
//! rules) on real public data: GOOG daily 2004-2013 and EURUSD hourly
//! 2017-2018, fetched from PyPI by scripts/fetch-reference-data.sh. Both
//! must make the same trades and end with the same equity.

use crate::backtest::Backtest;
use crate::support::workspace;
use std::path::PathBuf;
use std::process::Command;

pub fn reference_data(name: &str) -> PathBuf {
    let dir = workspace().join("target/reference-data");
    let path = dir.join(format!("{name}.csv"));
    if !path.exists() {
        let status = Command::new("bash")
            .arg(workspace().join("scripts/fetch-reference-data.sh"))
            .status()
            .expect("running scripts/fetch-reference-data.sh");
        assert!(
            status.success(),
            "fetching the reference data failed (needs PyPI)"
        );
    }
    path
}

struct Case {
    data: &'static str,
    fast: u32,
    slow: u32,
    size: f64,
    allow_short: bool,
    commission: f64,
    slippage_bps: f64,
}

fn compare(case: &Case) {
    let data = reference_data(case.data);
    let csv = std::fs::read_to_string(&data).unwrap();
    let params = format!(
        "fast = {}\nslow = {}\nsize = {:?}\nallow_short = {}",
        case.fast, case.slow, case.size, case.allow_short
    );
    let bt = Backtest::new(&csv, &params, "");
    let config_path = bt.dir.path().join("bt.toml");
    let text = std::fs::read_to_string(&config_path)
        .unwrap()
        .replace(
            "commission = 0.01",
            &format!("commission = {:?}", case.commission),
        )
        .replace(
            "slippage_bps = 0.0",
            &format!("slippage_bps = {:?}", case.slippage_bps),
        )
        .replace("starting_cash = 1000.0", "starting_cash = 100000.0");
    std::fs::write(&config_path, text).unwrap();
    let result = bt.run().unwrap();
    let run = &result.strategies[0];

    let output = Command::new("python3")
        .arg(workspace().join("tests/reference/sma_cross.py"))
        .arg(bt.dir.path().join("bars.csv"))
        .args([
            case.fast.to_string(),
            case.slow.to_string(),
            case.size.to_string(),
            case.allow_short.to_string(),
            case.commission.to_string(),
            case.slippage_bps.to_string(),
            "100000".into(),
        ])
        .output()
        .expect("python3 runs the reference");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected = reference["trades"].as_array().unwrap();
    let closed = &run.trades[..run.trades.len() - run.open_trades];
    let label = format!(
        "{} fast={} slow={} short={}",
        case.data, case.fast, case.slow, case.allow_short
    );
    assert!(closed.len() > 10, "{label}: the strategy should trade");
    assert_eq!(closed.len(), expected.len(), "{label}: number of trades");
    for (i, (ours, theirs)) in closed.iter().zip(expected).enumerate() {
        let f = |key: &str| theirs[key].as_f64().unwrap();
        assert_eq!(ours.side, theirs["side"], "{label}: trade {i} side");
        assert_eq!(
            ours.entry_bar,
            theirs["entry_bar"].as_u64().unwrap(),
            "{label}: trade {i} entry bar"
        );
        assert_eq!(
            ours.exit_bar,
            theirs["exit_bar"].as_u64().unwrap(),
            "{label}: trade {i} exit bar"
        );
        for (name, a, b) in [
            ("size", ours.size, f("size")),
            ("entry price", ours.entry_price, f("entry_price")),
            ("exit price", ours.exit_price, f("exit_price")),
            ("fees", ours.fees, f("fees")),
            ("pnl", ours.pnl, f("pnl")),
        ] {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{label}: trade {i} {name}: {a} vs {b}"
            );
        }
    }
    let theirs = reference["final_equity"].as_f64().unwrap();
    let ours = run.stats.final_equity;
    assert!(
        (ours - theirs).abs() <= 1e-9 * theirs.abs(),
        "{label}: final equity {ours} vs {theirs}"
    );
    assert_eq!(result.bars, reference["bars"].as_u64().unwrap());
}

#[test]
fn goog_daily_matches_the_reference() {
    for case in [
        Case {
            data: "GOOG",
            fast: 10,
            slow: 30,
            size: 100.0,
            allow_short: false,
            commission: 0.001,
            slippage_bps: 0.0,
        },
        Case {
            data: "GOOG",
            fast: 5,
            slow: 20,
            size: 50.0,
            allow_short: true,
            commission: 0.002,
            slippage_bps: 5.0,
        },
    ] {
        compare(&case);
    }
}

#[test]
fn eurusd_hourly_matches_the_reference() {
    for case in [
        Case {
            data: "EURUSD",
            fast: 12,
            slow: 48,
            size: 10_000.0,
            allow_short: true,
            commission: 0.0,
            slippage_bps: 0.5,
        },
        Case {
            data: "EURUSD",
            fast: 20,
            slow: 100,
            size: 25_000.0,
            allow_short: false,
            commission: 0.0002,
            slippage_bps: 0.0,
        },
    ] {
        compare(&case);
    }
}
