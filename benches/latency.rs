//! Per-bar latency under reload: p50/p99/p99.9 of the round trip of one bar
//! through a running `Runtime` (push on the manual feed, spin until the loop
//! has processed it), quiet and during a reload storm of ten reloads per
//! second. Two storms: known hashes (every reload is a compile-cache hit:
//! instantiate, smoke test, warm-up, publish, swap, reap) and new hashes
//! (every reload compiles on the control plane while the loop runs).
//!
//! A custom main (not criterion): the figures are percentiles from
//! hdrhistogram. `cargo bench --bench latency`; without `--bench` (as
//! `cargo test --benches` runs it) it does a short smoke run.

mod support;

use hdrhistogram::Histogram;
use sandbar_runtime::live::Runtime;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{BenchStrategy, Live, Reloads};

/// Ten reloads per second.
const STORM_PERIOD: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, PartialEq)]
enum Storm {
    Quiet,
    CacheHit,
    Cold,
}

struct Phase {
    name: &'static str,
    histogram: Histogram<u64>,
    reloads: u64,
}

fn main() {
    let quick = support::quick();
    let phase_time = if quick {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(10)
    };
    let built = support::components();
    let bytes = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let mut live = Live::start(
        &[BenchStrategy {
            id: "sma",
            bytes: &bytes,
            params: "",
        }],
        Reloads::Api,
    );
    let path = live.wasm_path("sma");
    // Warm the loop and the caches first.
    let mut warm = new_histogram();
    measure(&mut live, Duration::from_millis(500), &mut warm);

    let mut phases = Vec::new();
    for (name, storm) in [
        ("quiet", Storm::Quiet),
        ("storm_cache_hit", Storm::CacheHit),
        ("storm_cold", Storm::Cold),
        ("quiet_again", Storm::Quiet),
    ] {
        let mut histogram = new_histogram();
        let reloads = AtomicU64::new(0);
        let done = AtomicBool::new(false);
        let Live { runtime, feed, .. } = &mut live;
        let runtime: &Runtime = runtime;
        std::thread::scope(|scope| {
            if storm != Storm::Quiet {
                scope.spawn(|| {
                    let known = [
                        support::with_marker(&bytes, 1),
                        support::with_marker(&bytes, 2),
                    ];
                    let mut marker = 1000;
                    let mut next = Instant::now();
                    while !done.load(Ordering::Relaxed) {
                        let variant = match storm {
                            Storm::Cold => {
                                marker += 1;
                                support::with_marker(&bytes, marker)
                            }
                            _ => known[reloads.load(Ordering::Relaxed) as usize % 2].clone(),
                        };
                        support::place(&path, &variant);
                        let event = runtime.reload("sma").unwrap();
                        assert!(event.version.is_some(), "{event:?}");
                        reloads.fetch_add(1, Ordering::Relaxed);
                        next += STORM_PERIOD;
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    }
                });
            }
            measure_shared(runtime, feed, phase_time, &mut histogram);
            done.store(true, Ordering::Relaxed);
        });
        phases.push(Phase {
            name,
            histogram,
            reloads: reloads.load(Ordering::Relaxed),
        });
    }
    report(&phases);
    live.runtime.stop();
}

fn new_histogram() -> Histogram<u64> {
    // 1 ns to 10 s, three significant figures.
    Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap()
}

fn measure(live: &mut Live, time: Duration, histogram: &mut Histogram<u64>) {
    let end = Instant::now() + time;
    while Instant::now() < end {
        histogram
            .record(live.round_trip().as_nanos() as u64)
            .unwrap();
    }
}

fn measure_shared(
    runtime: &Runtime,
    feed: &mut support::Feed,
    time: Duration,
    histogram: &mut Histogram<u64>,
) {
    let end = Instant::now() + time;
    while Instant::now() < end {
        histogram
            .record(feed.round_trip(runtime).as_nanos() as u64)
            .unwrap();
    }
}

fn micros(ns: u64) -> String {
    format!("{:.2} µs", ns as f64 / 1000.0)
}

fn report(phases: &[Phase]) {
    let quiet = &phases[0].histogram;
    println!("latency: per-bar round trip (push → processed), SMA crossover, one symbol");
    println!(
        "{:<17} {:>10} {:>10} {:>10} {:>10} {:>11} {:>8}  p99.9 vs quiet",
        "phase", "bars", "p50", "p99", "p99.9", "max", "reloads"
    );
    for phase in phases {
        let h = &phase.histogram;
        println!(
            "{:<17} {:>10} {:>10} {:>10} {:>10} {:>11} {:>8}  {:.2}x",
            phase.name,
            h.len(),
            micros(h.value_at_quantile(0.5)),
            micros(h.value_at_quantile(0.99)),
            micros(h.value_at_quantile(0.999)),
            micros(h.max()),
            phase.reloads,
            h.value_at_quantile(0.999) as f64 / quiet.value_at_quantile(0.999) as f64,
        );
    }
}
