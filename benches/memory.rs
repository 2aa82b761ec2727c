//! Resident memory over many reloads: `VmRSS` of this process after 10
//! reloads and after 1,000 of a running `Runtime`. Each reload places the
//! other of two builds of the SMA crossover (so the hash changes and the
//! compile cache is hit), reloads it, and feeds a few bars so the loop swaps
//! to the new generation and hands the old one to the reaper.
//!
//! A second phase (issue 16) does the same with `hot_reload.tiering =
//! "auto"` and the artefact cache on disk under a small `cache_max_mb`:
//! every reload is a new build, so it goes live on Winch's baseline code,
//! tiers up to Cranelift's, and both tiers' artefacts are written to the
//! cache, which must evict to stay under its cap.
//!
//! A custom main: `cargo bench --bench memory`; without `--bench` (as
//! `cargo test --benches` runs it) it does a short smoke run.

mod support;

use sandbar_runtime::live::{Event, Outcome};
use sandbar_runtime::{ArtifactCache, EngineOptions, Loader};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{BenchStrategy, Live, Reloads};

/// The artefact cache's cap in the tier-up phase, in MiB: small, so the
/// thousand builds' artefacts must be evicted.
const TIER_CACHE_MAX_MB: u64 = 16;

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
    cache_hits(checkpoints, &bytes);
    let checkpoints: &[u64] = if support::quick() {
        &[3, 6]
    } else {
        &[10, 100, 1_000]
    };
    // With the runtime's compile cache (64 components), then with one of 8
    // entries, full after four builds: past that point any growth is a leak.
    tier_ups(checkpoints, &bytes, support::DEFAULT_CACHE_ENTRIES);
    tier_ups(checkpoints, &bytes, 8);
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

fn print_figures(figures: &[(u64, u64)], start_rss: u64) {
    println!("before any reload        {:>9.1} MiB", mib(start_rss));
    let (first_reloads, first) = figures[0];
    for (reloads, rss) in figures {
        println!(
            "after {reloads:>5} reloads     {:>9.1} MiB  {:.3}x of after {first_reloads}",
            mib(*rss),
            *rss as f64 / first as f64,
        );
    }
}

/// Runs `reload` (one reload and its bars) until each checkpoint, taking
/// `VmRSS` at each once the reaper has dropped what the loop handed it;
/// stops the runtime. Returns the RSS before, the figures and the time.
fn measure(
    mut live: Live,
    checkpoints: &[u64],
    mut reload: impl FnMut(&mut Live, u64),
) -> (u64, Vec<(u64, u64)>, Duration) {
    let start_rss = support::rss_bytes();
    let started = Instant::now();
    let mut reloads = 0u64;
    let mut figures = Vec::new();
    for &checkpoint in checkpoints {
        while reloads < checkpoint {
            reload(&mut live, reloads);
            reloads += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
        figures.push((checkpoint, support::rss_bytes()));
    }
    let elapsed = started.elapsed();
    live.runtime.stop();
    (start_rss, figures, elapsed)
}

fn feed_bars(live: &mut Live) {
    for _ in 0..BARS_PER_RELOAD {
        live.push();
    }
    live.feed.settle(&live.runtime);
}

fn sma(bytes: &[u8]) -> [BenchStrategy<'_>; 1] {
    [BenchStrategy {
        id: "sma",
        bytes,
        params: "",
    }]
}

/// Reloads that alternate two known builds (compile-cache hits).
fn cache_hits(checkpoints: &[u64], bytes: &[u8]) {
    let live = Live::start(&sma(bytes), Reloads::Api);
    let path = live.wasm_path("sma");
    let builds = [
        support::with_marker(bytes, 1),
        support::with_marker(bytes, 2),
    ];
    let (start_rss, figures, elapsed) = measure(live, checkpoints, |live, n| {
        support::place(&path, &builds[n as usize % 2]);
        let event = live.runtime.reload("sma").unwrap();
        assert!(event.version.is_some(), "{event:?}");
        feed_bars(live);
    });
    println!(
        "memory: resident memory (VmRSS) of the bench process, SMA crossover reloaded with cache hits"
    );
    print_figures(&figures, start_rss);
    let reloads = figures.last().map_or(0, |f| f.0);
    println!(
        "{reloads} reloads in {:.1} s ({:.0} µs each, with {BARS_PER_RELOAD} bars)",
        elapsed.as_secs_f64(),
        elapsed.as_micros() as f64 / reloads as f64
    );
}

/// Reloads of new builds under `tiering = "auto"` with the artefact cache:
/// each goes live on baseline code and tiers up before the next.
fn tier_ups(checkpoints: &[u64], bytes: &[u8], compile_cache_entries: usize) {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = ArtifactCache::open(cache_dir.path(), TIER_CACHE_MAX_MB).unwrap();
    let loader = Arc::new(
        Loader::with_options(compile_cache_entries, EngineOptions::default())
            .unwrap()
            .with_artifact_cache(cache),
    );
    let live = Live::start_on(&sma(bytes), Reloads::Api, loader, "auto");
    let events = live.runtime.subscribe();
    let path = live.wasm_path("sma");
    let mut cache_peak = 0u64;
    let (start_rss, figures, elapsed) = measure(live, checkpoints, |live, n| {
        let build = support::with_marker(bytes, 1_000_000 + n as u32);
        let sha = sandbar_runtime::sha256_hex(&build);
        support::place(&path, &build);
        let event = live.runtime.reload("sma").unwrap();
        assert_eq!(event.outcome, Outcome::Swapped, "{event:?}");
        // Bars until the optimised generation of this build is live.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            feed_bars(live);
            let tiered = events.try_iter().any(|event| {
                matches!(event, Event::Reload(r)
                    if r.outcome == Outcome::TieredUp && r.sha256.as_deref() == Some(sha.as_str()))
            });
            if tiered {
                break;
            }
            assert!(Instant::now() < deadline, "no tier-up of {sha} in 120 s");
            std::thread::sleep(Duration::from_millis(2));
        }
        cache_peak = cache_peak.max(dir_bytes(cache_dir.path()));
    });
    println!(
        "\nmemory, tier-ups: VmRSS with `tiering = \"auto\"`, every reload a new build (baseline, then optimised), compile cache of {compile_cache_entries} entries, artefact cache on disk capped at {TIER_CACHE_MAX_MB} MiB"
    );
    print_figures(&figures, start_rss);
    let reloads = figures.last().map_or(0, |f| f.0);
    println!(
        "{reloads} reloads with tier-ups in {:.1} s ({:.1} ms each); cache dir at most {:.1} MiB of its {TIER_CACHE_MAX_MB} MiB cap",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / reloads as f64,
        mib(cache_peak)
    );
    let cap = TIER_CACHE_MAX_MB << 20;
    assert!(
        cache_peak <= cap,
        "the cache dir grew to {cache_peak} bytes, over its {cap}-byte cap"
    );
}

/// Bytes of the files in `dir` (the cache keeps its entries flat).
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
