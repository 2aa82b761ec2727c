//! Per-bar cost: the runtime's call path next to its floor (a bare wasmtime
//! call of the same export with the same arguments) and next to the same
//! strategy compiled natively; and the whole live loop per bar.
//!
//! `cargo bench --bench bar_loop`; ratios are printed by criterion per group.

mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sandbar_runtime::contract::{Bar, HostState, Param, ParamValue, Position, StrategyBindings};
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime};
use sandbar_runtime::{Candidate, Limits, LoadSpec, Loader, StrategyInstance};
use std::hint::black_box;
use std::time::{Duration, Instant};
use wasmtime::Store;

const FLAT: Position = Position {
    quantity: 0.0,
    avg_price: 0.0,
    cash: 100_000.0,
    equity: 100_000.0,
};

fn bars(n: usize) -> Vec<Bar> {
    SyntheticFeed::new(1, 7, MarketStyle::Regimes, 60_000)
        .take(n)
        .collect()
}

fn params_for(package: &str) -> Vec<Param> {
    match package {
        "hostile" => vec![Param {
            name: "mode".into(),
            value: ParamValue::Text("none".into()),
        }],
        _ => Vec::new(),
    }
}

fn load(
    loader: &Loader,
    built: &[sandbar_runtime::build::Built],
    package: &str,
    symbols: &[String],
    params: &[Param],
    limits: &Limits,
) -> Candidate {
    loader
        .load_file(
            &support::component(built, package),
            LoadSpec {
                strategy_id: package,
                expected_sha256: None,
                symbols,
                params,
                limits,
                recent_bars: &[],
                smoke: sandbar_runtime::SmokeSetup::default(),
            },
        )
        .result
        .unwrap_or_else(|e| panic!("{e}"))
}

fn per_bar(c: &mut Criterion) {
    let built = support::components();
    let loader = Loader::new().expect("loader");
    let symbols = vec!["BTCUSD".to_owned()];
    let limits = Limits::default();
    let series = bars(4096);
    let mut group = c.benchmark_group("per_bar");
    group.throughput(Throughput::Elements(1));
    for (label, package) in [("noop", "hostile"), ("sma_cross", "sma-cross")] {
        let params = params_for(package);
        let candidate = load(&loader, &built, package, &symbols, &params, &limits);

        // Floor: the generated binding called directly, fuel and deadline set once.
        let mut store = Store::new(
            loader.engine(),
            HostState::new(package, wasmtime::StoreLimits::default()),
        );
        store.set_fuel(u64::MAX).unwrap();
        store.set_epoch_deadline(u64::MAX / 2);
        let bindings: StrategyBindings = candidate.pre.instantiate(&mut store).unwrap();
        bindings
            .call_init(&mut store, &symbols, &params)
            .unwrap()
            .unwrap();
        let mut i = 0;
        group.bench_function(BenchmarkId::new("floor_bare_wasmtime_call", label), |b| {
            b.iter(|| {
                i = (i + 1) % series.len();
                black_box(bindings.call_on_bar(&mut store, series[i], FLAT).unwrap())
            })
        });

        // The runtime's call: fuel refilled, deadline and log budget reset, traps classified.
        let mut instance = StrategyInstance::instantiate(&candidate.pre, package, &limits).unwrap();
        instance.init(&symbols, &params).unwrap().unwrap();
        group.bench_function(BenchmarkId::new("runtime_instance_call", label), |b| {
            b.iter(|| {
                i = (i + 1) % series.len();
                black_box(instance.on_bar(series[i], FLAT).unwrap())
            })
        });
        let (mut f, mut r) = (0, 0);
        paired_ratio(
            label,
            || {
                f = (f + 1) % series.len();
                black_box(bindings.call_on_bar(&mut store, series[f], FLAT).unwrap());
            },
            || {
                r = (r + 1) % series.len();
                black_box(instance.on_bar(series[r], FLAT).unwrap());
            },
        );
    }

    // The same SMA crossover compiled natively.
    let mut native = sandbar_guest::Harness::<sma_cross::SmaCross>::new(&["BTCUSD"]);
    native.init(&[]).unwrap();
    let guest_series: Vec<sandbar_guest::Bar> = series.iter().map(|&b| b.into()).collect();
    let flat: sandbar_guest::Position = FLAT.into();
    let mut i = 0;
    group.bench_function(BenchmarkId::new("native", "sma_cross"), |b| {
        b.iter(|| {
            i = (i + 1) % guest_series.len();
            black_box(native.on_bar_at(guest_series[i], flat))
        })
    });
    group.finish();
}

/// The runtime call against its floor in alternating blocks, so load that
/// comes and goes on a shared machine falls on both alike (criterion times
/// them one after the other); prints the medians and their ratio.
fn paired_ratio(label: &str, mut floor: impl FnMut(), mut runtime: impl FnMut()) {
    let (rounds, calls) = if support::quick() {
        (2, 100)
    } else {
        (41, 20_000)
    };
    let block = |call: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..calls {
            call();
        }
        start.elapsed()
    };
    let (mut floor_blocks, mut runtime_blocks) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        floor_blocks.push(block(&mut floor));
        runtime_blocks.push(block(&mut runtime));
    }
    let per_call_ns =
        |blocks: &mut [Duration]| support::median(blocks).as_secs_f64() * 1e9 / calls as f64;
    let floor_ns = per_call_ns(&mut floor_blocks);
    let runtime_ns = per_call_ns(&mut runtime_blocks);
    println!(
        "per_bar/paired/{label}: bare wasmtime call {floor_ns:.1} ns, runtime call {runtime_ns:.1} ns, \
         runtime/floor {:.3}x (medians of {rounds} alternating blocks of {calls} calls)",
        runtime_ns / floor_ns
    );
}

/// The first call into Wasm on a new thread, with and without wasmtime's
/// per-thread state set up beforehand (the bar loop sets it up when its
/// thread starts, so the first bar does not pay for it).
fn first_call_on_new_thread(c: &mut Criterion) {
    let built = support::components();
    let loader = Loader::new().expect("loader");
    let symbols = vec!["BTCUSD".to_owned()];
    let limits = Limits::default();
    let series = bars(4096);
    let candidate = load(&loader, &built, "sma-cross", &symbols, &[], &limits);
    let mut instance = StrategyInstance::instantiate(&candidate.pre, "sma", &limits).unwrap();
    instance.init(&symbols, &[]).unwrap().unwrap();
    let mut group = c.benchmark_group("first_call_on_new_thread");
    for (label, eager) in [("lazy_tls_init", false), ("eager_tls_init", true)] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for k in 0..iters as usize {
                    let bar = series[k % series.len()];
                    let instance = &mut instance;
                    total += std::thread::scope(|scope| {
                        scope
                            .spawn(move || {
                                if eager {
                                    wasmtime::Engine::tls_eager_initialize();
                                }
                                let start = Instant::now();
                                black_box(instance.on_bar(bar, FLAT).unwrap());
                                start.elapsed()
                            })
                            .join()
                            .unwrap()
                    });
                }
                total
            })
        });
    }
    group.finish();
}

/// The whole live loop: feed channel, slot load, paper account, `on-bar`,
/// validation, routing; bars pushed as fast as the loop takes them.
fn live_loop(c: &mut Criterion) {
    let built = support::components();
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::copy(
        support::component(&built, "sma-cross"),
        dist.join("sma_cross.wasm"),
    )
    .unwrap();
    let text = format!(
        "[runtime]\nstrategies_dir = \"{}\"\n[hot_reload]\nenabled = false\nskip_hash_verification = true\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n[[strategy]]\nid = \"sma\"\nwasm = \"sma_cross.wasm\"\n",
        dist.display()
    );
    let config =
        sandbar_runtime::config::Config::parse(&text, &dir.path().join("bench.toml")).unwrap();
    let runtime = Runtime::start(
        config,
        LiveOptions {
            feed: FeedMode::Manual,
            watch: false,
            ..LiveOptions::default()
        },
    )
    .unwrap();
    let mut feed = SyntheticFeed::new(1, 9, MarketStyle::Regimes, 60_000);
    let mut pushed = 0u64;
    let mut group = c.benchmark_group("live_loop");
    const BATCH: u64 = 1000;
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("sma_cross_1000_bars", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                runtime.push_bar(feed.next_bar()).unwrap();
            }
            pushed += BATCH;
            assert!(runtime.wait_for_bars(pushed, Duration::from_secs(60)));
        })
    });
    group.finish();
    runtime.stop();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = per_bar, first_call_on_new_thread, live_loop
}
criterion_main!(benches);
