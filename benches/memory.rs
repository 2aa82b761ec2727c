//! Resident memory over many reloads: `VmRSS` of this process after 10
//! reloads and after 1,000 of a running `Runtime`. Each reload places the
//! other of two builds of the SMA crossover (so the hash changes and the
//! compile cache is hit), reloads it, and feeds a few bars so the loop swaps
//! to the new generation and hands the old one to the reaper.
//!
//! A custom main: `cargo bench --bench memory`; without `--bench` (as
//! `cargo test --benches` runs it) it does a short smoke run.

mod support;

use std::time::{Duration, Instant};
use support::{BenchStrategy, Live, Reloads};

/// Bars fed after each reload.
const BARS_PER_RELOAD: usize = 10;

fn main() {
    let checkpoints: &[u64] = if support::quick() {
        &[10, 20]
    } else {
        &[10, 100, 1_000]
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
    let builds = [
        support::with_marker(&bytes, 1),
        support::with_marker(&bytes, 2),
    ];
    let start_rss = support::rss_bytes();
    let started = Instant::now();
    let mut reloads = 0u64;
    let mut figures = Vec::new();
    for &checkpoint in checkpoints {
        while reloads < checkpoint {
            support::place(&path, &builds[reloads as usize % 2]);
            let event = live.runtime.reload("sma").unwrap();
            assert!(event.version.is_some(), "{event:?}");
            for _ in 0..BARS_PER_RELOAD {
                live.push();
            }
            live.feed.settle(&live.runtime);
            reloads += 1;
        }
        // Let the reaper drop what the loop handed it.
        std::thread::sleep(Duration::from_millis(50));
        figures.push((checkpoint, support::rss_bytes()));
    }
    let elapsed = started.elapsed();
    live.runtime.stop();

    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "memory: resident memory (VmRSS) of the bench process, SMA crossover reloaded with cache hits"
    );
    println!("before any reload        {:>9.1} MiB", mib(start_rss));
    let (_, first) = figures[0];
    for (reloads, rss) in &figures {
        println!(
            "after {reloads:>5} reloads     {:>9.1} MiB  {:.3}x of after {}",
            mib(*rss),
            *rss as f64 / first as f64,
            figures[0].0
        );
    }
    println!(
        "{reloads} reloads in {:.1} s ({:.0} µs each, with {BARS_PER_RELOAD} bars)",
        elapsed.as_secs_f64(),
        elapsed.as_micros() as f64 / reloads as f64
    );
}
