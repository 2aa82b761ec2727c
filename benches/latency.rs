//! Per-bar latency under reload: p50/p99/p99.9 of the round trip of one bar
//! through a running `Runtime` (push on the manual feed, spin until the loop
//! has processed it), quiet and during a reload storm of ten reloads per
//! second. Two storms: known hashes (every reload is a compile-cache hit:
//! instantiate, smoke test, warm-up, publish, swap, reap) and new hashes
//! (every reload compiles on the control plane while the loop runs).
//!
//! Then the bar loop with the live dashboard open against closed: 20
//! strategies, the ops server on, and a `/ws` client (what the dashboard's
//! page holds: a status push a second and every event) reading on a thread
//! or not connected at all; p99.9 open / closed is the issue 17 figure.
//! Then the cost of a shadow candidate (issue 19): the same round trip with
//! no candidate and with one (the same build as the live version, trading on
//! its own paper account after it), in interleaved slices; the p99.9 ratio is
//! what a shadow adds to every bar.
//!
//! A custom main (not criterion): the figures are percentiles from
//! hdrhistogram. `LATENCY_VARIANTS=a,b` keeps only those engine variants
//! (and skips the shadow and dashboard parts). `cargo bench --bench latency`; without `--bench` (as
//! `cargo test --benches` runs it) it does a short smoke run.

mod support;

use hdrhistogram::Histogram;
use sandbar_runtime::live::Runtime;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
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
    storm: Storm,
    histogram: Histogram<u64>,
    reloads: u64,
}

fn main() {
    let quick = support::quick();
    // This thread pushes the bars: it stands in for the runtime's feed
    // thread, so it runs at that thread's priority.
    sandbar_runtime::live::raise_feed_priority();
    // Phases (and engine variants) are interleaved in short slices, so load
    // from elsewhere on the machine falls on all of them alike and their
    // ratios stay honest.
    let (rounds, slice) = if quick {
        (1, Duration::from_millis(100))
    } else {
        (8, Duration::from_millis(500))
    };
    let built = support::components();
    let bytes = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let known = [
        support::with_marker(&bytes, 1),
        support::with_marker(&bytes, 2),
    ];
    // Each engine variant on Cranelift's code, then the defaults with
    // `hot_reload.tiering = "auto"`: every cold reload of the storm goes live
    // on Winch's code and tiers up on the compile pool (issue 16). Last, the
    // defaults with `runtime.loop_spin_us = 0`: the loop sleeps in the
    // channel as soon as its queue is empty (what it did before the poll).
    let default_spin = sandbar_runtime::config::RuntimeSection::default().loop_spin_us;
    let tiered = support::engine_variants()
        .into_iter()
        .map(|(name, options)| (name, options, "optimized", default_spin))
        .chain([
            (
                "tiering_auto".to_owned(),
                sandbar_runtime::EngineOptions::default(),
                "auto",
                default_spin,
            ),
            (
                "loop_spin_off".to_owned(),
                sandbar_runtime::EngineOptions::default(),
                "optimized",
                0,
            ),
        ]);
    // `LATENCY_VARIANTS=tiering_auto,default` runs only those (to profile one).
    let only: Option<Vec<String>> = std::env::var("LATENCY_VARIANTS")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let mut variants: Vec<Variant> = tiered
        .filter(|(name, ..)| only.as_ref().is_none_or(|only| only.contains(name)))
        .map(|(name, options, tiering, spin_us)| {
            let loader = std::sync::Arc::new(
                sandbar_runtime::Loader::with_options(support::DEFAULT_CACHE_ENTRIES, options)
                    .unwrap(),
            );
            let mut live = Live::start_edited(
                &[BenchStrategy {
                    id: "sma",
                    bytes: &bytes,
                    params: "",
                }],
                Reloads::Api,
                loader,
                tiering,
                |config| config.runtime.loop_spin_us = spin_us,
            );
            // Warm the loop and the caches first.
            let mut warm = new_histogram();
            measure(&mut live, Duration::from_millis(200), &mut warm);
            let phases = [
                ("quiet", Storm::Quiet),
                ("storm_cache_hit", Storm::CacheHit),
                ("storm_cold", Storm::Cold),
            ]
            .into_iter()
            .map(|(name, storm)| Phase {
                name,
                storm,
                histogram: new_histogram(),
                reloads: 0,
            })
            .collect();
            Variant { name, live, phases }
        })
        .collect();
    let marker = AtomicU32::new(1000);
    let load_before = loadavg();
    for _ in 0..rounds {
        for variant in &mut variants {
            let path = variant.live.wasm_path("sma");
            for phase in &mut variant.phases {
                let storm = phase.storm;
                let reloads = AtomicU64::new(0);
                let done = AtomicBool::new(false);
                let Live { runtime, feed, .. } = &mut variant.live;
                let runtime: &Runtime = runtime;
                std::thread::scope(|scope| {
                    if storm != Storm::Quiet {
                        scope.spawn(|| {
                            storm_until(
                                runtime, &path, storm, &bytes, &known, &marker, &reloads, &done,
                            )
                        });
                    }
                    measure_shared(runtime, feed, slice, &mut phase.histogram);
                    done.store(true, Ordering::Relaxed);
                });
                phase.reloads += reloads.load(Ordering::Relaxed);
            }
        }
    }
    report(&variants, rounds, slice, &load_before);
    for variant in variants {
        variant.live.runtime.stop();
    }
    if only.is_none() {
        shadow_cost(&bytes, rounds.max(2), slice);
        dashboard_open_vs_closed(&bytes, quick);
    }
}

/// The dashboard's connection: a `/ws` client that reads everything until
/// `stop`; counts what it got.
fn dashboard_client(addr: std::net::SocketAddr, stop: &AtomicBool, messages: &AtomicU64) {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let (mut socket, _) = tungstenite::client(format!("ws://{addr}/ws"), stream).unwrap();
    while !stop.load(Ordering::Relaxed) {
        match socket.read() {
            Ok(tungstenite::Message::Text(_)) => {
                messages.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("the dashboard's socket failed: {e}"),
        }
    }
    let _ = socket.close(None);
}

fn dashboard_open_vs_closed(bytes: &[u8], quick: bool) {
    // Slices over a second, so each open one sees status pushes.
    let (rounds, slice) = if quick {
        (1, Duration::from_millis(1200))
    } else {
        (8, Duration::from_millis(2500))
    };
    let ids: Vec<String> = (1..=20).map(|i| format!("s{i:02}")).collect();
    let strategies: Vec<BenchStrategy> = ids
        .iter()
        .map(|id| BenchStrategy {
            id,
            bytes,
            params: "",
        })
        .collect();
    let mut live = Live::start(&strategies, Reloads::Api);
    let server = sandbar_runtime::ops::OpsServer::start(
        live.runtime.handle(),
        sandbar_runtime::ops::OpsSettings::local("127.0.0.1:0".parse().unwrap()),
    )
    .unwrap();
    let addr = server.local_addr();
    let mut warm = new_histogram();
    measure(&mut live, Duration::from_millis(200), &mut warm);
    let (mut closed, mut open) = (new_histogram(), new_histogram());
    let messages = AtomicU64::new(0);
    for _ in 0..rounds {
        let Live { runtime, feed, .. } = &mut live;
        let runtime: &Runtime = runtime;
        measure_shared(runtime, feed, slice, &mut closed);
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let before = messages.load(Ordering::Relaxed);
            scope.spawn(|| dashboard_client(addr, &stop, &messages));
            // Open once its first messages (hello, the status) arrived.
            while messages.load(Ordering::Relaxed) < before + 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
            measure_shared(runtime, feed, slice, &mut open);
            stop.store(true, Ordering::Relaxed);
        });
    }
    let row = |name: &str, h: &Histogram<u64>| {
        println!(
            "{:<18} {:>9} {:>10} {:>10} {:>10} {:>11}",
            name,
            h.len(),
            micros(h.value_at_quantile(0.5)),
            micros(h.value_at_quantile(0.99)),
            micros(h.value_at_quantile(0.999)),
            micros(h.max()),
        )
    };
    println!(
        "latency with the dashboard: 20 strategies, {rounds} rounds of {} ms closed then open, {} messages to the dashboard",
        slice.as_millis(),
        messages.load(Ordering::Relaxed)
    );
    println!(
        "{:<18} {:>9} {:>10} {:>10} {:>10} {:>11}",
        "dashboard", "bars", "p50", "p99", "p99.9", "max"
    );
    row("closed", &closed);
    row("open", &open);
    println!(
        "p99.9 open / closed: {:.2}x",
        open.value_at_quantile(0.999) as f64 / closed.value_at_quantile(0.999) as f64
    );
    server.stop();
    live.runtime.stop();
}

struct Variant {
    name: String,
    live: Live,
    phases: Vec<Phase>,
}

/// Reloads ten times a second until `done`: known builds alternately
/// (cache hits) or a new build each time (cold compiles).
#[allow(clippy::too_many_arguments)]
fn storm_until(
    runtime: &Runtime,
    path: &std::path::Path,
    storm: Storm,
    bytes: &[u8],
    known: &[Vec<u8>; 2],
    marker: &AtomicU32,
    reloads: &AtomicU64,
    done: &AtomicBool,
) {
    let mut next = Instant::now();
    while !done.load(Ordering::Relaxed) {
        let variant = match storm {
            Storm::Cold => support::with_marker(bytes, marker.fetch_add(1, Ordering::Relaxed)),
            _ => known[reloads.load(Ordering::Relaxed) as usize % 2].clone(),
        };
        support::place(path, &variant);
        let event = runtime.reload("sma").unwrap();
        assert!(event.version.is_some(), "{event:?}");
        reloads.fetch_add(1, Ordering::Relaxed);
        next += STORM_PERIOD;
        // Sleep in small steps so a slice ends on time.
        while Instant::now() < next && !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The 1, 5 and 15 minute load averages: how busy the machine was.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
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

fn report(variants: &[Variant], rounds: u32, slice: Duration, load_before: &str) {
    println!(
        "latency: per-bar round trip (push → processed), SMA crossover, one symbol; {rounds} rounds of {} ms per phase and engine variant, interleaved; load average before {load_before}, after {}",
        slice.as_millis(),
        loadavg()
    );
    println!(
        "{:<22} {:<16} {:>9} {:>10} {:>10} {:>10} {:>11} {:>8}  p99.9 vs quiet",
        "engine", "phase", "bars", "p50", "p99", "p99.9", "max", "reloads"
    );
    for variant in variants {
        let quiet = &variant.phases[0].histogram;
        for phase in &variant.phases {
            let h = &phase.histogram;
            println!(
                "{:<22} {:<16} {:>9} {:>10} {:>10} {:>10} {:>11} {:>8}  {:.2}x",
                variant.name,
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
}

/// Round-trip percentiles quiet and with a shadow candidate, interleaved:
/// each round discards the candidate for a quiet slice, then deploys it
/// again (a compile-cache hit) for a shadow slice.
fn shadow_cost(bytes: &[u8], rounds: u32, slice: Duration) {
    use sandbar_runtime::live::{CandidateAction, DeployRequest, DeploySource, Outcome};
    let mut live = Live::start(
        &[BenchStrategy {
            id: "sma",
            bytes,
            params: "",
        }],
        Reloads::Api,
    );
    let candidate = support::with_marker(bytes, 77);
    let mut warm = new_histogram();
    measure(&mut live, Duration::from_millis(200), &mut warm);
    let (mut quiet, mut shadow) = (new_histogram(), new_histogram());
    let mut shadow_bars = 0;
    for _ in 0..rounds {
        measure(&mut live, slice, &mut quiet);
        let event = live
            .runtime
            .deploy(
                "sma",
                DeployRequest {
                    source: DeploySource::Bytes(candidate.clone()),
                    sha256: None,
                    shadow: true,
                    params: Default::default(),
                    actor: "bench".into(),
                },
            )
            .unwrap();
        assert_eq!(event.outcome, Outcome::Candidate, "{event:?}");
        measure(&mut live, slice, &mut shadow);
        live.feed.settle(&live.runtime);
        if let Some(c) = live.runtime.slot("sma").and_then(|s| s.shadow.candidate()) {
            shadow_bars += c.shadow.bars();
        }
        live.runtime
            .candidate("sma", CandidateAction::Discard, "bench")
            .unwrap();
    }
    println!(
        "\nshadow: per-bar round trip, SMA crossover, the live version alone and with a shadow candidate of the same build; {rounds} rounds of {} ms each, interleaved ({shadow_bars} bars ran in the shadow)",
        slice.as_millis()
    );
    println!(
        "{:<16} {:>9} {:>10} {:>10} {:>10} {:>11}  p99.9 vs quiet",
        "phase", "bars", "p50", "p99", "p99.9", "max"
    );
    for (name, h) in [("quiet", &quiet), ("shadow", &shadow)] {
        println!(
            "{:<16} {:>9} {:>10} {:>10} {:>10} {:>11}  {:.2}x",
            name,
            h.len(),
            micros(h.value_at_quantile(0.5)),
            micros(h.value_at_quantile(0.99)),
            micros(h.value_at_quantile(0.999)),
            micros(h.max()),
            h.value_at_quantile(0.999) as f64 / quiet.value_at_quantile(0.999) as f64,
        );
    }
    println!(
        "shadow cost per bar (p50): {:.2} µs",
        (shadow.value_at_quantile(0.5) as f64 - quiet.value_at_quantile(0.5) as f64) / 1000.0
    );
    live.runtime.stop();
}
