//! The batched backtest path: `runtime backtest`'s loop (one thread calling
//! the guest per bar through the same `Book` as live: fills, risk gate, trade
//! ledger, equity curve) in bars per second, next to its floor — the bare
//! guest calls over the same bars with nothing else — and the same strategy
//! compiled natively.
//!
//! `cargo bench --bench backtest`.

mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::{Bar, Position};
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::{Limits, LoadSpec, Loader, StrategyInstance};
use std::hint::black_box;
use std::time::Duration;

const BARS: usize = 200_000;

fn series() -> Vec<Bar> {
    SyntheticFeed::new(1, 3, MarketStyle::Regimes, 60_000)
        .take(BARS)
        .collect()
}

/// A directory with the sma-cross component, the bars as CSV and a config.
fn setup(bars: &[Bar], component: &std::path::Path) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("dist")).expect("dist");
    std::fs::copy(component, dir.path().join("dist/sma_cross.wasm")).expect("component");
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for b in bars {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            b.ts_ms + 1_700_000_000_000,
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    std::fs::write(dir.path().join("bars.csv"), csv).expect("csv");
    let toml = r#"
[runtime]
strategies_dir = "dist"
[hot_reload]
skip_hash_verification = true
[feed]
kind = "csv"
symbols = ["BTCUSD"]
path = "bars.csv"
[risk]
max_position = 1000.0
max_drawdown_pct = 99.0
[[strategy]]
id = "sma"
wasm = "sma_cross.wasm"
"#;
    std::fs::write(dir.path().join("bt.toml"), toml).expect("config");
    let config = Config::from_file(&dir.path().join("bt.toml")).expect("config parses");
    (dir, config)
}

fn batched(c: &mut Criterion) {
    let bars = series();
    let path = support::component(&support::components(), "sma-cross");
    let (_dir, config) = setup(&bars, &path);
    let mut group = c.benchmark_group("backtest");
    group.throughput(Throughput::Elements(BARS as u64));
    group.sample_size(10);

    // The loop only: `BacktestResult::elapsed` excludes reading the CSV and
    // loading the component.
    let mut trades = 0;
    group.bench_function(
        BenchmarkId::new("runtime_backtest_loop", "sma_cross"),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let result =
                        backtest::run(&config, &BacktestOptions::default()).expect("backtest runs");
                    trades = result.strategies[0].stats.trades;
                    total += result.elapsed;
                }
                total
            })
        },
    );
    assert!(
        trades > 100,
        "the strategy trades in the bench ({trades} trades)"
    );

    // Floor: the same guest, the same bars, bare calls (flat position, no
    // broker, no risk, no bookkeeping).
    let loader = Loader::new().expect("loader");
    let limits = Limits {
        deadline: backtest::BACKTEST_DEADLINE,
        ..Limits::default()
    };
    let symbols = vec!["BTCUSD".to_owned()];
    let candidate = loader
        .load_file(
            &path,
            LoadSpec {
                strategy_id: "sma",
                expected_sha256: None,
                symbols: &symbols,
                params: &[],
                limits: &limits,
                recent_bars: &[],
                smoke: sandbar_runtime::SmokeSetup::default(),
            },
        )
        .result
        .expect("loads");
    let flat = Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    };
    group.bench_function(BenchmarkId::new("guest_calls_only", "sma_cross"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut instance = StrategyInstance::instantiate(&candidate.pre, "sma", &limits)
                    .expect("instance");
                instance.init(&symbols, &[]).expect("init").expect("params");
                let started = std::time::Instant::now();
                for bar in &bars {
                    black_box(instance.on_bar(*bar, flat).expect("on-bar"));
                }
                total += started.elapsed();
            }
            total
        })
    });

    // Scale: the strategy compiled natively, same bars.
    group.bench_function(BenchmarkId::new("native", "sma_cross"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut native = sandbar_guest::Harness::<sma_cross::SmaCross>::new(&["BTCUSD"]);
                native.init(&[]).expect("init");
                let started = std::time::Instant::now();
                for bar in &bars {
                    black_box(native.on_close(0, bar.close));
                }
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = batched
}
criterion_main!(benches);
