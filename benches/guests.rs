//! Python and JavaScript strategies (issue 18): the sma-cross example in each
//! language (`strategies/sma-cross-py`, `strategies/sma-cross-js`) next to
//! the Rust one, under each language's `[limits.*]` defaults:
//!
//! - `per_bar`: one `on-bar` through the runtime's call path (fuel refilled,
//!   traps classified), median ns and mean fuel per call, and the ratio to
//!   Rust; the three run in alternating blocks so load that comes and goes
//!   falls on all alike;
//! - `backtest`: `runtime backtest`'s loop (the same `Book` as live) over
//!   synthetic bars, bars per second of loop time;
//! - `compile`: the cold Cranelift compile and the Winch baseline compile of
//!   each component, and the load of a build the artefact cache on disk
//!   already holds (a restart with a warm cache: read, cache hit,
//!   type-check, instantiate, describe, smoke test);
//! - `memory`: resident memory (`VmRSS`) of a live runtime after 10 and after
//!   100 reloads of the strategy (two builds alternating, cache hits), the
//!   issue's target being ≤ 1.05x.
//!
//! A custom main: `cargo bench --bench guests`. Without `--bench` (as
//! `cargo test --benches` runs it) every part runs briefly, and the large
//! components' compiles are read from an artefact cache kept in
//! `target/bench-artifacts/guests`, so only the first run after a change of
//! the components pays them (the cold and baseline compiles time the Rust
//! component only). Needs `scripts/install-python-guest.sh all`.

mod support;

use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::{Config, LimitsSection};
use sandbar_runtime::contract::{Bar, Param, ParamValue, Position};
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime};
use sandbar_runtime::{
    ArtifactCache, Language, Limits, LoadSpec, Loader, Stage, StrategyInstance, Tier,
};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FLAT: Position = Position {
    quantity: 0.0,
    avg_price: 0.0,
    cash: 100_000.0,
    equity: 100_000.0,
};

/// One strategy of the comparison.
struct Guest {
    label: &'static str,
    language: Language,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Guest {
    fn limits(&self) -> Limits {
        LimitsSection::default()
            .for_language(self.language)
            .to_limits()
    }
}

fn guests() -> Vec<Guest> {
    let built = support::components();
    let rust = support::component(&built, "sma-cross");
    let python = sandbar_test_support::python_component("strategies/sma-cross-py");
    let js = sandbar_test_support::js_component("strategies/sma-cross-js");
    [
        ("rust", Language::Rust, rust),
        ("python", Language::Python, python),
        ("js", Language::Js, js),
    ]
    .into_iter()
    .map(|(label, language, path)| Guest {
        label,
        language,
        bytes: std::fs::read(&path).unwrap(),
        path,
    })
    .collect()
}

/// The same parameters for all three (the e2e tests' GOOG comparison).
fn params() -> Vec<Param> {
    vec![
        Param {
            name: "fast".into(),
            value: ParamValue::Int(10),
        },
        Param {
            name: "slow".into(),
            value: ParamValue::Int(30),
        },
    ]
}

fn symbols() -> Vec<String> {
    vec!["BTCUSD".to_owned()]
}

/// The artefact cache the quick runs keep between runs (compiled code of
/// the components, keyed by their hashes and the engine).
fn kept_cache() -> ArtifactCache {
    let dir = support::workspace().join("target/bench-artifacts/guests");
    ArtifactCache::open(&dir, 2048).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn load(loader: &Loader, guest: &Guest) -> sandbar_runtime::LoadOutcome {
    let (symbols, params, limits) = (symbols(), params(), guest.limits());
    loader.load_file(
        &guest.path,
        LoadSpec {
            strategy_id: guest.label,
            expected_sha256: None,
            symbols: &symbols,
            params: &params,
            limits: &limits,
            recent_bars: &[],
            smoke: sandbar_runtime::SmokeSetup::default(),
        },
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn per_bar(loader: &Loader, guests: &[Guest], quick: bool) {
    let (rounds, calls) = if quick { (2, 20) } else { (21, 2_000) };
    let series: Vec<Bar> = SyntheticFeed::new(1, 7, MarketStyle::Regimes, 60_000)
        .take(4096)
        .collect();
    let mut instances: Vec<(StrategyInstance, usize, u64, u64)> = guests
        .iter()
        .map(|g| {
            let candidate = load(loader, g).result.unwrap_or_else(|e| panic!("{e}"));
            let mut instance =
                StrategyInstance::instantiate(&candidate.pre, g.label, &g.limits()).unwrap();
            instance.init(&symbols(), &params()).unwrap().unwrap();
            // Past the warm-up, so every call computes the averages.
            for bar in &series[..64] {
                instance.on_bar(*bar, FLAT).unwrap();
            }
            (instance, 64, 0, 0)
        })
        .collect();
    let mut blocks: Vec<Vec<Duration>> = vec![Vec::new(); guests.len()];
    for _ in 0..rounds {
        for (k, (instance, next, fuel, n)) in instances.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..calls {
                *next = (*next + 1) % series.len();
                black_box(instance.on_bar(series[*next], FLAT).unwrap());
                *fuel += instance.fuel_used_last_call();
                *n += 1;
            }
            blocks[k].push(start.elapsed());
        }
    }
    println!(
        "per_bar: one on-bar through the runtime (medians of {rounds} alternating blocks of {calls} calls)"
    );
    let mut rust = None;
    for (k, g) in guests.iter().enumerate() {
        let ns = support::median(&mut blocks[k]).as_secs_f64() * 1e9 / calls as f64;
        let (_, _, fuel, n) = &instances[k];
        let fuel = *fuel as f64 / *n as f64;
        let (rust_ns, rust_fuel) = *rust.get_or_insert((ns, fuel));
        println!(
            "  {:<7} {:>12.0} ns  {:>7.1}x   fuel {:>10.0}  {:>7.1}x",
            g.label,
            ns,
            ns / rust_ns,
            fuel,
            fuel / rust_fuel
        );
    }
}

/// A directory with `guest`'s component, `bars` as CSV and a config.
fn backtest_setup(guest: &Guest, bars: &[Bar]) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::copy(&guest.path, dir.path().join("dist/s.wasm")).unwrap();
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
    std::fs::write(dir.path().join("bars.csv"), csv).unwrap();
    let toml = format!(
        "[runtime]\nstrategies_dir = \"dist\"\n[hot_reload]\nskip_hash_verification = true\n\
         [feed]\nkind = \"csv\"\nsymbols = [\"BTCUSD\"]\npath = \"bars.csv\"\n\
         [[strategy]]\nid = \"s\"\nwasm = \"s.wasm\"\nlanguage = \"{}\"\n\
         [strategy.params]\nfast = 10\nslow = 30\n",
        guest.language
    );
    let path = dir.path().join("bt.toml");
    std::fs::write(&path, toml).unwrap();
    let config = Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, config)
}

fn backtest(loader: &Loader, guests: &[Guest], quick: bool) {
    let n = if quick { 300 } else { 20_000 };
    let bars: Vec<Bar> = SyntheticFeed::new(1, 3, MarketStyle::Regimes, 60_000)
        .take(n)
        .collect();
    println!("backtest: {n} synthetic bars, runtime backtest's loop (load excluded)");
    let mut rust = None;
    for g in guests {
        let (_dir, config) = backtest_setup(g, &bars);
        let result = backtest::run_with_loader(&config, &BacktestOptions::default(), loader)
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(result.strategies[0].error, None, "{}", g.label);
        let rate = result.bars_per_second();
        let rust_rate = *rust.get_or_insert(rate);
        println!(
            "  {:<7} {:>12.0} bars/s  {:>7.3}x of Rust   ({} fills, load {:.1} ms)",
            g.label,
            rate,
            rate / rust_rate,
            result.strategies[0].fills,
            ms(result.load_time)
        );
    }
}

fn compile(guests: &[Guest], quick: bool) {
    println!("compile: each component's code, and a load from the artefact cache on disk");
    for g in guests {
        // The large components' cold compiles take tens of seconds: the
        // quick run times the Rust one only.
        if !quick || g.language == Language::Rust {
            let fresh = Loader::new().unwrap();
            let start = Instant::now();
            fresh.compile_stage(&g.bytes).unwrap();
            let cold = start.elapsed();
            let start = Instant::now();
            fresh.compile_tier(Tier::Baseline, &g.bytes).unwrap();
            let baseline = start.elapsed();
            println!(
                "  {:<7} {:>9} bytes  cold (Cranelift) {:>9.1} ms  baseline (Winch) {:>9.1} ms",
                g.label,
                g.bytes.len(),
                ms(cold),
                ms(baseline)
            );
        }
        // A warm restart: a fresh loader over a cache that holds the build.
        let cache = if quick {
            kept_cache()
        } else {
            let dir = tempfile::tempdir().unwrap().keep();
            ArtifactCache::open(&dir, 2048).unwrap()
        };
        let first = load(
            &Loader::new().unwrap().with_artifact_cache(cache.clone()),
            g,
        );
        first.result.unwrap_or_else(|e| panic!("{e}"));
        let mut totals = Vec::new();
        let mut last = None;
        for _ in 0..if quick { 1 } else { 5 } {
            let loader = Loader::new().unwrap().with_artifact_cache(cache.clone());
            let start = Instant::now();
            let outcome = load(&loader, g);
            totals.push(start.elapsed());
            outcome.result.unwrap_or_else(|e| panic!("{e}"));
            assert!(
                outcome.timings.get(Stage::Compile).is_none(),
                "{}: a cache hit compiles nothing",
                g.label
            );
            last = Some(outcome.timings);
        }
        let timings = last.unwrap();
        let stage = |s: Stage| timings.get(s).map_or(0.0, ms);
        println!(
            "  {:<7} cache-hit load {:>7.1} ms (median of {}): read {:.1}, verify {:.1}, cache {:.1}, type check {:.1}, instantiate {:.1}, describe {:.1}, smoke test {:.1} ms",
            g.label,
            ms(support::median(&mut totals)),
            totals.len(),
            stage(Stage::Read),
            stage(Stage::Verify),
            stage(Stage::Cache),
            stage(Stage::TypeCheck),
            stage(Stage::Instantiate),
            stage(Stage::Describe),
            stage(Stage::SmokeTest)
        );
        if !quick {
            let _ = std::fs::remove_dir_all(cache.dir());
        }
    }
}

/// A live runtime with `guest` as strategy `s`, on a manual feed.
fn live(guest: &Guest, loader: Arc<Loader>) -> (Runtime, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let wasm = dist.join("s.wasm");
    support::place(&wasm, &guest.bytes);
    let text = format!(
        "[runtime]\nstrategies_dir = \"{}\"\n[hot_reload]\nenabled = false\nskip_hash_verification = true\n\
         tiering = \"optimized\"\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n\
         [[strategy]]\nid = \"s\"\nwasm = \"s.wasm\"\nlanguage = \"{}\"\n[strategy.params]\nfast = 3\nslow = 8\n",
        dist.display(),
        guest.language
    );
    let config = support::parse_config(dir.path(), &text);
    let runtime = Runtime::start_with_loader(
        config,
        LiveOptions {
            feed: FeedMode::Manual,
            watch: false,
            ..LiveOptions::default()
        },
        loader,
    )
    .unwrap();
    (runtime, dir, wasm)
}

fn memory(guests: &[Guest], quick: bool) {
    let checkpoints: &[u64] = if quick { &[2, 4] } else { &[10, 100] };
    println!(
        "memory: VmRSS of the bench process, the strategy reloaded (two builds alternating, cache hits)"
    );
    for g in guests.iter().filter(|g| g.language != Language::Rust) {
        // The quick run keeps compiled code between runs; either way each of
        // the two builds is compiled at most once here.
        let loader = Arc::new(Loader::new().unwrap().with_artifact_cache(kept_cache()));
        let (runtime, _dir, wasm) = live(g, loader);
        let mut feed = SyntheticFeed::new(1, 9, MarketStyle::Regimes, 60_000);
        let mut pushed = 0u64;
        let mut push = |runtime: &Runtime, n: u64| {
            for _ in 0..n {
                runtime.push_bar(feed.next_bar()).unwrap();
            }
            pushed += n;
            assert!(runtime.wait_for_bars(pushed, Duration::from_secs(300)));
        };
        push(&runtime, 50);
        let builds = [
            support::with_marker(&g.bytes, 1),
            support::with_marker(&g.bytes, 2),
        ];
        let start_rss = support::rss_bytes();
        let started = Instant::now();
        let mut reloads = 0u64;
        let mut figures = Vec::new();
        for &checkpoint in checkpoints {
            while reloads < checkpoint {
                support::place(&wasm, &builds[reloads as usize % 2]);
                let event = runtime.reload("s").unwrap();
                assert!(event.version.is_some(), "{event:?}");
                push(&runtime, 5);
                reloads += 1;
            }
            std::thread::sleep(Duration::from_millis(100));
            figures.push((checkpoint, support::rss_bytes()));
        }
        let elapsed = started.elapsed();
        runtime.stop();
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let (first_n, first) = figures[0];
        let (last_n, last) = *figures.last().unwrap();
        println!(
            "  {:<7} before {:.1} MiB, after {first_n} reloads {:.1} MiB, after {last_n} {:.1} MiB: {:.3}x ({} reloads in {:.1} s)",
            g.label,
            mib(start_rss),
            mib(first),
            mib(last),
            last as f64 / first as f64,
            reloads,
            elapsed.as_secs_f64()
        );
    }
}

fn main() {
    let quick = support::quick();
    let only = |name: &str| {
        let filters: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
    };
    let guests = guests();
    let loader = Loader::new().unwrap().with_artifact_cache(kept_cache());
    if only("per_bar") {
        per_bar(&loader, &guests, quick);
    }
    if only("backtest") {
        backtest(&loader, &guests, quick);
    }
    if only("compile") {
        compile(&guests, quick);
    }
    if only("memory") {
        memory(&guests, quick);
    }
}
