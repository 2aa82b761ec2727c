//! The sandbox never changes results: each example strategy runs over
//! 12,000 bars as a Wasm component and compiled natively, fed the same bars,
//! positions and fills by the same paper broker, and must emit bit-identical
//! orders — while actually trading.

use crate::support::{component, symbols};
use sandbar_guest::{Harness, Strategy};
use sandbar_runtime::broker::{FillModel, PaperAccount};
use sandbar_runtime::contract::{self as host, Param, ParamValue};
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::{Limits, LoadSpec, Loader, StrategyInstance};

/// Bars each example runs over (here and under both tiers, `tiering.rs`).
pub const BARS: usize = 12_000;

/// An order reduced to comparable bits.
pub type OrderKey = (u32, bool, u64, Option<u64>);

pub fn host_key(o: &host::Order) -> OrderKey {
    let limit = match o.kind {
        host::OrderKind::Market => None,
        host::OrderKind::Limit(p) => Some(p.to_bits()),
    };
    (
        o.symbol,
        o.side == host::Side::Buy,
        o.quantity.to_bits(),
        limit,
    )
}

fn guest_key(o: &sandbar_guest::Order) -> OrderKey {
    let limit = match o.kind {
        sandbar_guest::OrderKind::Market => None,
        sandbar_guest::OrderKind::Limit(p) => Some(p.to_bits()),
    };
    (
        o.symbol,
        o.side == sandbar_guest::Side::Buy,
        o.quantity.to_bits(),
        limit,
    )
}

struct Run {
    bars_with_orders: usize,
    orders: usize,
    fills: u64,
    /// Requests with ids (place, cancel, replace) compared and sent.
    requests_with_ids: usize,
}

/// Runs `S` natively and as `package`'s component side by side and asserts
/// identical orders on every bar.
fn run_both<S: Strategy>(
    package: &str,
    params: &[(&str, ParamValue)],
    style: MarketStyle,
    seed: u64,
) -> Run {
    let syms = symbols(&["BTCUSD", "ETHUSD"]);
    let host_params: Vec<Param> = params
        .iter()
        .map(|(n, v)| Param {
            name: (*n).to_owned(),
            value: v.clone(),
        })
        .collect();
    // This test is about results, not time: a loaded machine must not trip
    // the wall-clock deadline (regression: it did at load 15 on 2 cores).
    let limits = Limits {
        deadline: sandbar_runtime::backtest::BACKTEST_DEADLINE,
        ..Limits::default()
    };
    let loader = Loader::new().unwrap();
    let candidate = loader
        .load_file(
            &component(package),
            LoadSpec {
                strategy_id: package,
                expected_sha256: None,
                symbols: &syms,
                params: &host_params,
                limits: &limits,
                recent_bars: &[],
                smoke: sandbar_runtime::SmokeSetup::default(),
            },
        )
        .result
        .unwrap_or_else(|e| panic!("{e}"));
    let mut wasm = StrategyInstance::instantiate(&candidate.pre, package, &limits).unwrap();
    wasm.init(&syms, &host_params).unwrap().unwrap();

    let names: Vec<&str> = syms.iter().map(String::as_str).collect();
    let mut native = Harness::<S>::new(&names);
    let guest_params: Vec<(&str, sandbar_guest::ParamValue)> =
        params.iter().map(|(n, v)| (*n, v.into())).collect();
    native.init(&guest_params).unwrap();

    let model = FillModel {
        commission: 0.0005,
        slippage_bps: 2.0,
        ..FillModel::default()
    };
    let mut account = PaperAccount::new(syms.len(), 100_000.0, model);
    let mut run = Run {
        bars_with_orders: 0,
        orders: 0,
        fills: 0,
        requests_with_ids: 0,
    };
    for bar in SyntheticFeed::new(syms.len(), seed, style, 3_600_000).take(BARS) {
        for fill in account.on_bar(&bar) {
            wasm.on_fill(fill).unwrap();
            native.on_fill(fill.into());
        }
        // Orders with ids (macd-atr's resting stop): their updates reach
        // both, as the runtime passes them, before the bar's on-bar.
        let updates = account.take_updates();
        wasm.on_order_updates(&updates).unwrap();
        native.on_order_updates(updates.iter().map(Into::into).collect());
        let position = account.position(bar.symbol);
        let requests = wasm.on_bar(bar, position).unwrap();
        let from_wasm: Vec<host::Order> = requests.iter().filter_map(|r| r.order()).collect();
        let wasm_ids: Vec<sandbar_guest::paper::Request> = requests
            .iter()
            .filter_map(|r| match r {
                host::Request::Broker(b) => Some(*b),
                host::Request::Order(_) => None,
            })
            .collect();
        let native_requests = native.requests_at(bar.into(), position.into());
        let from_native: Vec<sandbar_guest::Order> = native_requests
            .iter()
            .filter_map(|r| match r {
                sandbar_guest::Request::Order(o) => Some(*o),
                _ => None,
            })
            .collect();
        let native_ids: Vec<sandbar_guest::paper::Request> = native_requests
            .into_iter()
            .filter_map(|r| sandbar_guest::paper::from_contract(r).ok())
            .collect();
        assert_eq!(
            wasm_ids, native_ids,
            "{package}: orders with ids differ at bar {}",
            bar.seq
        );
        let wasm_keys: Vec<OrderKey> = from_wasm.iter().map(host_key).collect();
        let native_keys: Vec<OrderKey> = from_native.iter().map(guest_key).collect();
        assert_eq!(
            wasm_keys, native_keys,
            "{package}: orders differ at bar {}",
            bar.seq
        );
        run.requests_with_ids += wasm_ids.len();
        account.request(wasm_ids);
        sandbar_runtime::validate_orders(&from_wasm, syms.len(), limits.max_orders_per_bar)
            .unwrap();
        if !from_wasm.is_empty() {
            run.bars_with_orders += 1;
            run.orders += from_wasm.len();
        }
        account.submit(from_wasm);
    }
    assert_eq!(
        wasm.snapshot().unwrap(),
        native.snapshot(),
        "{package}: final state differs"
    );
    run.fills = account.fill_count();
    run
}

fn assert_trades(package: &str, run: &Run) {
    assert!(
        run.fills >= 20,
        "{package} must trade: only {} fills in {BARS} bars",
        run.fills
    );
    assert!(
        run.bars_with_orders < BARS / 4,
        "{package}: most bars return nothing, but {} of {BARS} had orders",
        run.bars_with_orders
    );
}

#[test]
fn sma_cross_is_identical_in_wasm_and_native() {
    let run = run_both::<sma_cross::SmaCross>("sma-cross", &[], MarketStyle::Regimes, 1);
    assert_trades("sma-cross", &run);
    let params = [
        ("fast", ParamValue::Int(5)),
        ("slow", ParamValue::Int(20)),
        ("allow_short", ParamValue::Boolean(true)),
    ];
    let run = run_both::<sma_cross::SmaCross>("sma-cross", &params, MarketStyle::RandomWalk, 2);
    assert_trades("sma-cross (short, random walk)", &run);
}

#[test]
fn rsi_reversion_is_identical_in_wasm_and_native() {
    let run =
        run_both::<rsi_reversion::RsiReversion>("rsi-reversion", &[], MarketStyle::Regimes, 3);
    assert_trades("rsi-reversion", &run);
    let params = [
        ("period", ParamValue::Int(7)),
        ("allow_short", ParamValue::Boolean(true)),
    ];
    let run = run_both::<rsi_reversion::RsiReversion>(
        "rsi-reversion",
        &params,
        MarketStyle::RandomWalk,
        4,
    );
    assert_trades("rsi-reversion (short, random walk)", &run);
}

#[test]
fn channel_breakout_is_identical_in_wasm_and_native() {
    let run = run_both::<channel_breakout::ChannelBreakout>(
        "channel-breakout",
        &[],
        MarketStyle::Regimes,
        5,
    );
    assert_trades("channel-breakout", &run);
    let params = [
        ("entry_period", ParamValue::Int(10)),
        ("exit_period", ParamValue::Int(5)),
    ];
    let run = run_both::<channel_breakout::ChannelBreakout>(
        "channel-breakout",
        &params,
        MarketStyle::RandomWalk,
        6,
    );
    assert_trades("channel-breakout (random walk)", &run);
}

#[test]
fn bollinger_reversion_is_identical_in_wasm_and_native() {
    let run = run_both::<bollinger_reversion::BollingerReversion>(
        "bollinger-reversion",
        &[],
        MarketStyle::Regimes,
        7,
    );
    assert_trades("bollinger-reversion", &run);
}

#[test]
fn macd_atr_is_identical_in_wasm_and_native() {
    let run = run_both::<macd_atr::MacdAtr>("macd-atr", &[], MarketStyle::Regimes, 8);
    assert_trades("macd-atr", &run);
    // Its entries are brackets with a resting stop (contract 0.2.0).
    assert!(run.requests_with_ids > 20, "{}", run.requests_with_ids);
}
