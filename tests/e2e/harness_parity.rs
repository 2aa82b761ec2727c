//! The native harness trades like the runtime: every example strategy,
//! replayed natively on the GOOG daily data by `Harness::replay_csv` with the
//! config's broker settings, makes exactly the trades `runtime backtest`
//! makes with its Wasm component on the same file (same bars, fills, prices
//! and fees, to the bit), because both fill through the SDK's one paper
//! broker (`sandbar_guest::paper`) and read the file with its one reader.

use crate::reference::reference_data;
use crate::support::csv_backtest;
use sandbar_guest::paper::FillModel;
use sandbar_guest::{Harness, Strategy};
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::broker::{Trade, TradeLedger};

const STARTING_CASH: f64 = 100_000.0;
const MODEL: FillModel = FillModel::new(0.0015, 3.0);

/// `runtime backtest` of `package`'s component on `data`, with `params`
/// (TOML lines of `[strategy.params]`).
fn backtest_trades(package: &str, data: &std::path::Path, params: &str) -> (u64, Vec<Trade>) {
    let broker = format!(
        "starting_cash = {STARTING_CASH:?}\ncommission = {:?}\nslippage_bps = {:?}",
        MODEL.commission, MODEL.slippage_bps
    );
    let (_dir, config) = csv_backtest(package, "s", data, "GOOG", &broker, params);
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let run = &result.strategies[0];
    assert_eq!(run.error, None, "{package}: the backtest trapped");
    assert_eq!(run.halted, None, "{package}: the kill switch fired");
    assert!(
        run.refused.values().all(|&n| n == 0),
        "{package}: risk refusals make the comparison moot: {:?}",
        run.refused
    );
    (run.fills, run.trades.clone())
}

/// The harness's replay of `data`, as round trips by the runtime's ledger.
fn native_trades<S: Strategy>(
    data: &std::path::Path,
    params: &[(&str, sandbar_guest::ParamValue)],
) -> (u64, Vec<Trade>) {
    let mut harness =
        Harness::<S>::with_params(&["GOOG"], params).with_broker(STARTING_CASH, MODEL);
    let replay = harness.replay_csv(data).unwrap();
    let mut ledger = TradeLedger::new(1);
    for fill in &replay.fills {
        ledger.record(&(*fill).into());
    }
    let bars = sandbar_guest::data::read_all(data, &["GOOG".to_owned()], false, |_| {}).unwrap();
    let mut trades = ledger.closed().to_vec();
    if let Some(last) = bars.last() {
        trades.extend(ledger.open_marked(harness.account().last_prices(), last.ts_ms, last.seq));
    }
    assert_eq!(replay.bars, bars.len() as u64);
    (replay.fills.len() as u64, trades)
}

fn assert_same(package: &str, wasm: (u64, Vec<Trade>), native: (u64, Vec<Trade>)) {
    assert!(
        wasm.0 >= 10,
        "{package} must trade on GOOG: {} fills",
        wasm.0
    );
    assert_eq!(wasm.0, native.0, "{package}: fills");
    assert_eq!(wasm.1.len(), native.1.len(), "{package}: trades");
    for (i, (a, b)) in wasm.1.iter().zip(&native.1).enumerate() {
        assert_eq!(a, b, "{package}: trade {i}");
    }
    eprintln!(
        "{package}: {} fills, {} trades, identical",
        wasm.0,
        wasm.1.len()
    );
}

#[test]
fn every_example_strategy_trades_the_same_in_the_harness_and_in_runtime_backtest() {
    use sandbar_guest::value;
    let data = reference_data("GOOG");
    assert_same(
        "sma-cross",
        backtest_trades(
            "sma-cross",
            &data,
            "fast = 10\nslow = 30\nsize = 50.0\nallow_short = true",
        ),
        native_trades::<sma_cross::SmaCross>(
            &data,
            &[
                ("fast", value(10u32)),
                ("slow", value(30u32)),
                ("size", value(50.0)),
                ("allow_short", value(true)),
            ],
        ),
    );
    assert_same(
        "rsi-reversion",
        backtest_trades("rsi-reversion", &data, ""),
        native_trades::<rsi_reversion::RsiReversion>(&data, &[]),
    );
    assert_same(
        "channel-breakout",
        backtest_trades("channel-breakout", &data, ""),
        native_trades::<channel_breakout::ChannelBreakout>(&data, &[]),
    );
    assert_same(
        "bollinger-reversion",
        backtest_trades("bollinger-reversion", &data, ""),
        native_trades::<bollinger_reversion::BollingerReversion>(&data, &[]),
    );
    assert_same(
        "macd-atr",
        backtest_trades("macd-atr", &data, ""),
        native_trades::<macd_atr::MacdAtr>(&data, &[]),
    );
}
