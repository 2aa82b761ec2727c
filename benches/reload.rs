//! Reload latency, for a small strategy (the example SMA crossover, ~95 KB)
//! and a large one (`tests/guests/big-code`, 1.4 MB of code):
//!
//! - `reload_stages`: each pipeline stage alone, next to its wasmtime floor
//!   where there is one (bare `Component::new`, bare `instantiate`);
//! - `reload_pipeline`: the whole `Loader` pipeline on bytes in memory, new
//!   hash (cold compile) and known hash (cache hit);
//! - `reload_e2e`: a running `Runtime` on a manual feed, from the completed
//!   rename of a `.wasm` file into its strategies directory to the first bar
//!   processed by the new generation. `api_*` triggers the reload with
//!   `Runtime::reload` right after the rename; `watcher_*` lets the file
//!   watcher notice it (debounce 5 ms, subtracted from every figure). The
//!   bar is pushed as soon as the new generation is published, so the
//!   figures do not include waiting for the next bar of a real feed.
//!   `config_*` is a parameter change through `Runtime::apply_config`.
//! - `reload_restart`: a restart of a config with the five examples (prod
//!   runs two), from `Runtime::start` to every strategy live, on a fresh
//!   loader each time (a new process as far as compiled code goes): `cold`
//!   with an empty artefact cache (every strategy compiles and is stored),
//!   `warm` with the cache the previous start filled (nothing compiles).
//!
//! `cargo bench --bench reload`.

mod support;
#[path = "reload/tiers.rs"]
mod tiers;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use sandbar_runtime::contract::HostState;
use sandbar_runtime::live::{Event, Outcome};
use sandbar_runtime::{Artifact, Limits, LoadSpec, Loader, Stage, StrategyInstance};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use support::{BenchStrategy, Live, Reloads};
use wasmtime::Store;

/// (label, package): the example SMA crossover and the 1.4 MB guest.
const SIZES: [(&str, &str); 2] = [("small", "sma-cross"), ("large", "big-code")];

/// A new marker for every variant of a component made in this process.
static MARKER: AtomicU32 = AtomicU32::new(1);

fn fresh(bytes: &[u8]) -> Vec<u8> {
    support::with_marker(bytes, MARKER.fetch_add(1, Ordering::Relaxed))
}

/// A parameter of each strategy that can change without changing behaviour much.
fn params(package: &str, n: u32) -> String {
    match package {
        "sma-cross" => format!("size = {}", 1.0 + f64::from(n % 1000) / 1000.0),
        _ => format!("label = \"v{n}\""),
    }
}

/// Total time of `iters` calls of `f`, leaving out dropping what it returns.
fn timed_each<T>(iters: u64, mut f: impl FnMut() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let out = black_box(f());
        total += start.elapsed();
        drop(out);
    }
    total
}

fn heavy(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, large: bool) {
    // Flat sampling: a second per iteration must not become 55 iterations.
    group.sampling_mode(if large {
        SamplingMode::Flat
    } else {
        SamplingMode::Auto
    });
}

fn stages(c: &mut Criterion) {
    let built = support::components();
    let loader = Loader::new().unwrap();
    let symbols = vec!["BTCUSD".to_owned()];
    let limits = Limits::default();
    let mut group = c.benchmark_group("reload_stages");
    for (label, package) in SIZES {
        let path = support::component(&built, package);
        let bytes = std::fs::read(&path).unwrap();
        let sha = sandbar_runtime::sha256_hex(&bytes);
        let spec = LoadSpec {
            strategy_id: package,
            expected_sha256: None,
            symbols: &symbols,
            params: &[],
            limits: &limits,
            recent_bars: &[],
            smoke: sandbar_runtime::SmokeSetup::default(),
        };
        heavy(&mut group, false);
        group.bench_function(format!("read/{label}"), |b| {
            b.iter(|| {
                black_box(
                    sandbar_runtime::read_artifact(&path, limits.max_component_bytes).unwrap(),
                )
            })
        });
        group.bench_function(format!("sha256/{label}"), |b| {
            b.iter(|| black_box(sandbar_runtime::sha256_hex(&bytes)))
        });
        heavy(&mut group, label == "large");
        group.bench_function(format!("compile_cold/{label}"), |b| {
            b.iter(|| black_box(loader.compile_stage(&bytes).unwrap()))
        });
        // Winch's baseline code, on the calling thread at its priority (what
        // a new build costs under `tiering = "auto"` before its first bar).
        group.bench_function(format!("compile_baseline/{label}"), |b| {
            b.iter(|| {
                black_box(
                    loader
                        .compile_tier(sandbar_runtime::Tier::Baseline, &bytes)
                        .unwrap(),
                )
            })
        });
        group.bench_function(format!("floor_bare_component_new/{label}"), |b| {
            b.iter(|| {
                black_box(wasmtime::component::Component::new(loader.engine(), &bytes).unwrap())
            })
        });
        heavy(&mut group, false);
        let component = loader.compile_stage(&bytes).unwrap();
        group.bench_function(format!("type_check/{label}"), |b| {
            b.iter(|| black_box(loader.type_check_stage(&component).unwrap()))
        });
        let known = Artifact::from_bytes("known.wasm", bytes.clone());
        loader.load_artifact(&known, spec).result.unwrap();
        group.bench_function(format!("compile_cache_hit/{label}"), |b| {
            b.iter(|| black_box(loader.cached(&sha).unwrap()))
        });
        let pre = loader.cached(&sha).unwrap();
        // Dropping a store is the reaper's job, so drops are not timed.
        group.bench_function(format!("instantiate/{label}"), |b| {
            b.iter_custom(|iters| {
                timed_each(iters, || {
                    StrategyInstance::instantiate(&pre, package, &limits).unwrap()
                })
            })
        });
        group.bench_function(format!("floor_bare_instantiate/{label}"), |b| {
            b.iter_custom(|iters| {
                timed_each(iters, || {
                    let mut store = Store::new(
                        loader.engine(),
                        HostState::new(package, wasmtime::StoreLimits::default()),
                    );
                    store.set_fuel(u64::MAX).unwrap();
                    store.set_epoch_deadline(u64::MAX / 2);
                    let bindings = pre.instantiate(&mut store).unwrap();
                    (store, bindings)
                })
            })
        });
        for stage in [Stage::Describe, Stage::SmokeTest] {
            group.bench_function(format!("{}/{label}", stage.as_str()), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            let outcome = loader.load_pre(&sha, pre.clone(), spec, &path);
                            outcome.result.unwrap();
                            outcome.timings.get(stage).unwrap()
                        })
                        .sum()
                })
            });
        }
    }
    group.finish();
}

/// State handoff and publish happen on a running runtime's control plane.
fn live_stages(c: &mut Criterion) {
    let built = support::components();
    let mut group = c.benchmark_group("reload_stages");
    for (label, package) in SIZES {
        let bytes = std::fs::read(support::component(&built, package)).unwrap();
        let live = Live::start(
            &[BenchStrategy {
                id: "s",
                bytes: &bytes,
                params: "",
            }],
            Reloads::Api,
        );
        // A fresh instance, `init`, the warm-up replay of recent bars.
        group.bench_function(format!("state_handoff/{label}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let event = live.runtime.reload("s").unwrap();
                        Duration::from_micros(event.duration_us[&Stage::StateHandoff])
                    })
                    .sum()
            })
        });
        // Everything `Runtime::reload` costs beyond the timed stages: the
        // command round trip, copying recent bars, building the generation,
        // the `ArcSwap` store, the event.
        group.bench_function(format!("publish/{label}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let start = Instant::now();
                        let event = live.runtime.reload("s").unwrap();
                        let wall = start.elapsed();
                        let staged: u64 = event.duration_us.values().sum();
                        wall.saturating_sub(Duration::from_micros(staged))
                    })
                    .sum()
            })
        });
        live.runtime.stop();
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let built = support::components();
    let loader = Loader::new().unwrap();
    let symbols = vec!["BTCUSD".to_owned()];
    let limits = Limits::default();
    let mut group = c.benchmark_group("reload_pipeline");
    for (label, package) in SIZES {
        let bytes = std::fs::read(support::component(&built, package)).unwrap();
        let spec = LoadSpec {
            strategy_id: package,
            expected_sha256: None,
            symbols: &symbols,
            params: &[],
            limits: &limits,
            recent_bars: &[],
            smoke: sandbar_runtime::SmokeSetup::default(),
        };
        heavy(&mut group, label == "large");
        group.bench_function(format!("cold/{label}"), |b| {
            b.iter_batched(
                || Artifact::from_bytes("s.wasm", fresh(&bytes)),
                |artifact| black_box(loader.load_artifact(&artifact, spec).result.unwrap().sha256),
                criterion::BatchSize::PerIteration,
            )
        });
        heavy(&mut group, false);
        let known = Artifact::from_bytes("s.wasm", bytes.clone());
        loader.load_artifact(&known, spec).result.unwrap();
        group.bench_function(format!("cache_hit/{label}"), |b| {
            b.iter(|| black_box(loader.load_artifact(&known, spec).result.unwrap().cache_hit))
        });
    }
    group.finish();
}

/// Waits for the swap of the generation built from `sha`, skipping other events.
fn wait_for_swap(events: &std::sync::mpsc::Receiver<Event>, sha: &str) -> u64 {
    loop {
        let event = events
            .recv_timeout(Duration::from_secs(60))
            .expect("no reload event within a minute");
        if let Event::Reload(r) = event
            && r.sha256.as_deref() == Some(sha)
        {
            assert_eq!(r.outcome, Outcome::Swapped, "{r:?}");
            return r.version.unwrap();
        }
    }
}

const DEBOUNCE_MS: u64 = 5;

/// Reloads through the API alternating two known builds of `bytes`: every
/// reload changes the hash and hits the compile cache. Timed from the
/// completed rename to the first bar the new generation serves.
fn cache_hit_reloads(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: String,
    live: &mut Live,
    bytes: &[u8],
) {
    let path = live.wasm_path("s");
    let known = [fresh(bytes), fresh(bytes)];
    for variant in &known {
        support::place(&path, variant);
        live.runtime.reload("s").unwrap();
    }
    // known[1] is live: the first reload places known[0].
    let mut turn = 1;
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    turn += 1;
                    support::place(&path, &known[turn % 2]);
                    let start = Instant::now();
                    let event = live.runtime.reload("s").unwrap();
                    assert!(event.cache_hit, "{event:?}");
                    let generation = live.generation("s", event.version.unwrap());
                    live.first_bar_of(&generation);
                    start.elapsed()
                })
                .sum()
        })
    });
}

fn end_to_end(c: &mut Criterion) {
    let built = support::components();
    let mut group = c.benchmark_group("reload_e2e");
    for (label, package) in SIZES {
        let bytes = std::fs::read(support::component(&built, package)).unwrap();
        let strategy = BenchStrategy {
            id: "s",
            bytes: &bytes,
            params: "",
        };

        // Triggered through the API right after the rename.
        let mut live = Live::start(&[strategy], Reloads::Api);
        let path = live.wasm_path("s");
        heavy(&mut group, label == "large");
        group.bench_function(format!("api_cold/{label}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let variant = fresh(&bytes);
                        support::place(&path, &variant);
                        let start = Instant::now();
                        let version = live.runtime.reload("s").unwrap().version.unwrap();
                        let generation = live.generation("s", version);
                        live.first_bar_of(&generation);
                        start.elapsed()
                    })
                    .sum()
            })
        });
        heavy(&mut group, false);
        cache_hit_reloads(
            &mut group,
            format!("api_cache_hit/{label}"),
            &mut live,
            &bytes,
        );
        // A parameter change: no read, no compile, a new instance.
        let dir = live.dir.path().to_owned();
        let mut n = 0;
        group.bench_function(format!("config_param/{label}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        n += 1;
                        let changed = BenchStrategy {
                            params: &params(package, n),
                            ..strategy
                        };
                        let config = support::parse_config(
                            &dir,
                            &support::config_text(&dir, &[changed], Reloads::Api),
                        );
                        let start = Instant::now();
                        let events = live.runtime.apply_config(config).unwrap();
                        let version = events[0].version.unwrap();
                        let generation = live.generation("s", version);
                        live.first_bar_of(&generation);
                        start.elapsed()
                    })
                    .sum()
            })
        });
        live.runtime.stop();

        // The file watcher notices the rename; the debounce is subtracted.
        let mut live = Live::start(
            &[strategy],
            Reloads::Watcher {
                debounce_ms: DEBOUNCE_MS,
            },
        );
        let path = live.wasm_path("s");
        let events = live.runtime.subscribe();
        let watched = |live: &mut Live, variant: &[u8]| {
            let sha = sandbar_runtime::sha256_hex(variant);
            // The control plane skips a file whose (mtime, length) it has
            // seen, and mtime advances by the kernel's coarse clock tick:
            // two same-length builds within one tick would look like one.
            std::thread::sleep(Duration::from_millis(10));
            support::place(&path, variant);
            let start = Instant::now();
            let version = wait_for_swap(&events, &sha);
            let generation = live.generation("s", version);
            live.first_bar_of(&generation);
            start
                .elapsed()
                .saturating_sub(Duration::from_millis(DEBOUNCE_MS))
        };
        heavy(&mut group, label == "large");
        group.bench_function(format!("watcher_cold/{label}"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| watched(&mut live, &fresh(&bytes))).sum())
        });
        heavy(&mut group, false);
        let known = [fresh(&bytes), fresh(&bytes)];
        for variant in &known {
            watched(&mut live, variant);
        }
        // known[1] is live: the first reload places known[0].
        let mut turn = 1;
        group.bench_function(format!("watcher_cache_hit/{label}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        turn += 1;
                        watched(&mut live, &known[turn % 2])
                    })
                    .sum()
            })
        });
        live.runtime.stop();
    }
    group.finish();
}

/// The engine choices side by side, each flipped alone against the
/// defaults: instance allocation (instantiate, and the drop the reaper
/// pays), where and how compiles run (both guests), and a cache-hit
/// reload end to end.
fn engine_options(c: &mut Criterion) {
    let built = support::components();
    let small = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let large = std::fs::read(support::component(&built, "big-code")).unwrap();
    let limits = Limits::default();
    let mut group = c.benchmark_group("engine_options");
    for (name, options) in support::engine_variants() {
        let loader = Loader::with_options(4, options).unwrap();
        let component = loader.compile_stage(&small).unwrap();
        let pre = loader.type_check_stage(&component).unwrap();
        heavy(&mut group, false);
        group.bench_function(format!("instantiate/small/{name}"), |b| {
            b.iter_custom(|iters| {
                timed_each(iters, || {
                    StrategyInstance::instantiate(&pre, "s", &limits).unwrap()
                })
            })
        });
        group.bench_function(format!("drop_store/small/{name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut instance = StrategyInstance::instantiate(&pre, "s", &limits).unwrap();
                    // Touch the memory as a running strategy does.
                    instance.init(&["BTCUSD".to_owned()], &[]).unwrap().unwrap();
                    let start = Instant::now();
                    drop(black_box(instance));
                    total += start.elapsed();
                }
                total
            })
        });
        let mut live = Live::start_with(
            &[BenchStrategy {
                id: "s",
                bytes: &small,
                params: "",
            }],
            Reloads::Api,
            options,
        );
        cache_hit_reloads(
            &mut group,
            format!("api_cache_hit/small/{name}"),
            &mut live,
            &small,
        );
        live.runtime.stop();
        for (label, bytes) in [("small", &small), ("large", &large)] {
            heavy(&mut group, true);
            group.bench_function(format!("compile_cold/{label}/{name}"), |b| {
                b.iter(|| black_box(loader.compile_stage(bytes).unwrap()))
            });
        }
    }
    group.finish();
}

/// The five examples, as a restart loads them.
const RESTART_STRATEGIES: [&str; 5] = [
    "sma-cross",
    "rsi-reversion",
    "channel-breakout",
    "bollinger-reversion",
    "macd-atr",
];

/// Restarts under `tiering = "optimized"`: a cold start compiles with
/// Cranelift (what every restart cost before the cache), a warm one loads
/// the optimised code a running system's cache holds. (Under `auto` each
/// cold start would leave tier-up compiles running, each holding its
/// loader's engines and their pooling reservations, past the start.)
fn restart(c: &mut Criterion) {
    use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime};
    use sandbar_runtime::{ArtifactCache, config::Config};
    let built = support::components();
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from(
        "profile = \"dev\"\n[runtime]\nstrategies_dir = \"dist\"\ncache_dir = \"cache\"\n[hot_reload]\nskip_hash_verification = true\ntiering = \"optimized\"\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n",
    );
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    for package in RESTART_STRATEGIES {
        let file = format!("{}.wasm", package.replace('-', "_"));
        std::fs::copy(
            support::component(&built, package),
            dir.path().join("dist").join(&file),
        )
        .unwrap();
        toml.push_str(&format!(
            "[[strategy]]\nid = \"{package}\"\nwasm = \"{file}\"\n"
        ));
    }
    let path = dir.path().join("restart.toml");
    std::fs::write(&path, &toml).unwrap();
    let config = Config::from_file(&path).unwrap();
    // One start, timed from `Runtime::start` to every strategy live; the
    // pipeline's own share (the sum of the start-up events' stages) beside it.
    let start = |config: &Config| -> (Duration, Duration) {
        let cache = ArtifactCache::for_config(config).unwrap().expect("a cache");
        let loader = std::sync::Arc::new(Loader::new().unwrap().with_artifact_cache(cache));
        let began = Instant::now();
        let runtime = Runtime::start_with_loader(
            config.clone(),
            LiveOptions {
                feed: FeedMode::Manual,
                watch: false,
                ..LiveOptions::default()
            },
            loader,
        )
        .unwrap();
        let took = began.elapsed();
        let stages: u64 = runtime
            .handle()
            .recent_events()
            .iter()
            .filter_map(|e| match e {
                Event::Reload(r) => Some(r.duration_us.values().sum::<u64>()),
                _ => None,
            })
            .sum();
        assert_eq!(runtime.status().strategies.len(), RESTART_STRATEGIES.len());
        runtime.stop();
        (took, Duration::from_micros(stages))
    };
    let clear = || {
        let cache = ArtifactCache::for_config(&config).unwrap().unwrap();
        cache.clear(None).unwrap();
    };
    let mut group = c.benchmark_group("reload_restart");
    heavy(&mut group, true);
    group.bench_function("cold/5_strategies", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    clear();
                    start(&config).0
                })
                .sum()
        })
    });
    group.bench_function("warm/5_strategies", |b| {
        clear();
        start(&config);
        b.iter_custom(|iters| (0..iters).map(|_| start(&config).0).sum())
    });
    group.finish();
    clear();
    let (cold, cold_stages) = start(&config);
    let (warm, warm_stages) = start(&config);
    eprintln!(
        "restart of {} strategies: cold {cold:?} (pipeline stages {cold_stages:?}), warm {warm:?} (pipeline stages {warm_stages:?})",
        RESTART_STRATEGIES.len()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = stages, live_stages, pipeline, end_to_end, engine_options, restart, tiers::tiers
}
criterion_main!(benches);
