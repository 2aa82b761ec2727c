//! Compiler tiers (issue 16), group `tiers`:
//!
//! - `first_bar/{small,large}/{auto,optimized}`: a new build placed and
//!   reloaded through the API → first bar on the new generation, with
//!   `hot_reload.tiering = "auto"` (Winch's baseline code) and
//!   `"optimized"` (Cranelift only, as before) side by side;
//! - `tier_up/{small,large}`: from the baseline generation's first bar to the
//!   first bar on the optimised generation of the same build;
//! - `busy/first_bar/small/{auto,optimized}`: the same as `first_bar` with two
//!   CPU-bound processes (`sh -c 'while :; do :; done'`) beside the runtime;
//!   `optimized` is timed once with a 120 s cap (it waits for idle CPU);
//! - `on_bar/{small,large}/{baseline,optimized}`: one `on-bar` call.

use super::support::{self, BenchStrategy, Live, Reloads};
use super::{fresh, heavy};
use criterion::Criterion;
use sandbar_runtime::contract::{Bar, Position};
use sandbar_runtime::live::{Event, Outcome, ReloadEvent};
use sandbar_runtime::{EngineOptions, Limits, Loader, StrategyInstance, Tier};
use std::hint::black_box;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const SIZES: [(&str, &str); 2] = [("small", "sma-cross"), ("large", "big-code")];

/// Places a new build and reloads it through the API; returns the time to
/// the first bar its generation served.
fn new_build_to_first_bar(live: &mut Live, bytes: &[u8]) -> (Duration, String) {
    let (took, event) = new_build_event(live, bytes);
    (took, event.sha256.unwrap_or_default())
}

/// [`new_build_to_first_bar`] with the reload's event (its stage times).
fn new_build_event(live: &mut Live, bytes: &[u8]) -> (Duration, ReloadEvent) {
    let path = live.wasm_path("s");
    let variant = fresh(bytes);
    let sha = sandbar_runtime::sha256_hex(&variant);
    support::place(&path, &variant);
    let start = Instant::now();
    let event = live.runtime.reload("s").unwrap();
    assert_eq!(event.outcome, Outcome::Swapped, "{event:?}");
    assert_eq!(event.sha256.as_deref(), Some(sha.as_str()));
    let generation = live.generation("s", event.version.unwrap());
    live.first_bar_of(&generation);
    (start.elapsed(), event)
}

/// The median time of each pipeline stage over `events`, one line: where a
/// first bar's time goes.
fn print_stage_medians(name: &str, events: &[ReloadEvent]) {
    let mut stages: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for event in events {
        for (stage, us) in &event.duration_us {
            stages.entry(format!("{stage:?}")).or_default().push(*us);
        }
    }
    let medians: Vec<String> = stages
        .into_iter()
        .map(|(stage, mut us)| {
            us.sort_unstable();
            format!("{stage} {:.2} ms", us[us.len() / 2] as f64 / 1000.0)
        })
        .collect();
    println!(
        "{name}: stage medians over {} reloads: {}",
        events.len(),
        medians.join(", ")
    );
}

/// Waits for the tier-up of `sha`, then for the optimised generation's first bar.
fn until_tiered_up(live: &mut Live, events: &std::sync::mpsc::Receiver<Event>, sha: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Reload(r))
                if r.outcome == Outcome::TieredUp && r.sha256.as_deref() == Some(sha) =>
            {
                let generation = live.generation("s", r.version.unwrap());
                live.first_bar_of(&generation);
                return;
            }
            Ok(_) => {}
            Err(_) => panic!("no tier-up of {sha} within 120 s"),
        }
    }
}

/// Two CPU-bound processes, ended on drop.
struct Busy(Vec<Child>);

impl Busy {
    fn start() -> Self {
        Busy(
            (0..2)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .expect("sh runs")
                })
                .collect(),
        )
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(bytes: &[u8], tiering: &str) -> Live {
    Live::start_tiered(
        &[BenchStrategy {
            id: "s",
            bytes,
            params: "",
        }],
        Reloads::Api,
        EngineOptions::default(),
        tiering,
    )
}

pub fn tiers(c: &mut Criterion) {
    let built = support::components();
    let mut group = c.benchmark_group("tiers");
    for (label, package) in SIZES {
        // Quick mode (`cargo test --benches`) proves the functions work on
        // the small guest; the large one's compiles would add a minute.
        if support::quick() && label == "large" {
            continue;
        }
        let bytes = std::fs::read(support::component(&built, package)).unwrap();
        for tiering in ["auto", "optimized"] {
            let mut live = start(&bytes, tiering);
            heavy(&mut group, label == "large");
            let mut events = Vec::new();
            group.bench_function(format!("first_bar/{label}/{tiering}"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            let (took, event) = new_build_event(&mut live, &bytes);
                            events.push(event);
                            // The next build must not race this one's tier-up.
                            std::thread::sleep(Duration::from_millis(if label == "large" {
                                1500
                            } else {
                                300
                            }));
                            took
                        })
                        .sum()
                })
            });
            print_stage_medians(&format!("tiers/first_bar/{label}/{tiering}"), &events);
            live.runtime.stop();
        }
        let mut live = start(&bytes, "auto");
        let events = live.runtime.subscribe();
        group.bench_function(format!("tier_up/{label}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (_, sha) = new_build_to_first_bar(&mut live, &bytes);
                        let start = Instant::now();
                        until_tiered_up(&mut live, &events, &sha);
                        start.elapsed()
                    })
                    .sum()
            })
        });
        live.runtime.stop();

        let loader = Loader::new().unwrap();
        let limits = Limits::default();
        let symbols = ["BTCUSD".to_owned()];
        for tier in Tier::ALL {
            let component = loader.compile_tier(tier, &bytes).unwrap();
            let pre = loader.type_check_tier(tier, &component).unwrap();
            let mut instance = StrategyInstance::instantiate(&pre, package, &limits).unwrap();
            instance.init(&symbols, &[]).unwrap().unwrap();
            let mut feed = sandbar_runtime::feed::SyntheticFeed::new(
                1,
                5,
                sandbar_runtime::feed::MarketStyle::Regimes,
                60_000,
            );
            let flat = Position {
                quantity: 0.0,
                avg_price: 0.0,
                cash: 100_000.0,
                equity: 100_000.0,
            };
            heavy(&mut group, false);
            group.bench_function(format!("on_bar/{label}/{tier}"), |b| {
                b.iter(|| {
                    let bar: Bar = feed.next_bar();
                    black_box(instance.on_bar(bar, flat).unwrap())
                })
            });
        }
    }

    // Two busy processes beside the runtime: the small example, auto.
    let bytes = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let mut live = start(&bytes, "auto");
    let busy = Busy::start();
    group.bench_function("busy/first_bar/small/auto", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (took, _) = new_build_to_first_bar(&mut live, &bytes);
                    std::thread::sleep(Duration::from_millis(100));
                    took
                })
                .sum()
        })
    });
    drop(busy);
    live.runtime.stop();
    // Cranelift only, busy: one reload, timed once (it waits for idle CPU).
    if support::quick() {
        group.finish();
        return;
    }
    let mut live = start(&bytes, "optimized");
    let busy = Busy::start();
    let (took, _) = new_build_to_first_bar(&mut live, &bytes);
    drop(busy);
    eprintln!(
        "tiers/busy/first_bar/small/optimized: {:.1} ms (one reload, two busy processes)",
        took.as_secs_f64() * 1e3
    );
    live.runtime.stop();
    group.finish();
}
