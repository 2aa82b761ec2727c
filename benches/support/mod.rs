//! Shared by the benches: built components, a live runtime over a temporary
//! strategies directory, atomic file placement, resident memory, quick mode.

#![allow(dead_code)] // each bench uses its own part of this module

/// The allocator `runtime` runs with (runtime/src/main.rs), so the benches
/// measure what the command does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use sandbar_runtime::build::Built;
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::Bar;
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime};
use sandbar_runtime::{EngineOptions, Loader};
use sandbar_test_support::Components;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The compile cache size the runtime uses by default.
pub const DEFAULT_CACHE_ENTRIES: usize = 64;

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// True unless cargo passed `--bench`: `cargo test --benches` runs every
/// bench binary this way, and the custom-harness benches then do a tiny run
/// that only proves they work (criterion has its own test mode).
pub fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// The example strategies, the `hostile` guest (mode "none" is a no-op) and
/// `big-code` (1.4 MB of code), built once per bench binary.
static COMPONENTS: Components = Components::new("bench-components", &["hostile", "big-code"]);

/// An owned copy of the cached set (the benches hold it by value).
pub fn components() -> Vec<Built> {
    COMPONENTS.all().to_vec()
}

pub fn component(built: &[Built], package: &str) -> PathBuf {
    sandbar_test_support::find(built, package)
}

/// The same component with a custom section added: a new hash, the same
/// code. Sealed again, since sections after a build's seal are refused.
pub fn with_marker(bytes: &[u8], marker: u32) -> Vec<u8> {
    let name = b"sandbar-bench-marker";
    let payload = marker.to_le_bytes();
    let mut out = bytes.to_vec();
    out.push(0);
    out.push((1 + name.len() + payload.len()) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    sandbar_runtime::seal::seal(&out)
        .expect("a built component seals again")
        .into_owned()
}

/// Writes `bytes` to `path` the way a build does: a temporary file the
/// watcher ignores, then a rename. Returns when the rename is complete.
pub fn place(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("wasm.tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// One strategy of a bench runtime.
#[derive(Clone, Copy)]
pub struct BenchStrategy<'a> {
    pub id: &'a str,
    pub bytes: &'a [u8],
    /// `[strategy.params]` body, TOML.
    pub params: &'a str,
}

/// A runtime on a manual feed over a temporary strategies directory.
pub struct Live {
    pub runtime: Runtime,
    pub dir: tempfile::TempDir,
    pub feed: Feed,
}

/// Bars for a manual feed, and how many were pushed.
pub struct Feed {
    bars: SyntheticFeed,
    pushed: u64,
}

impl Feed {
    pub fn push(&mut self, runtime: &Runtime) {
        let bar: Bar = self.bars.next_bar();
        runtime.push_bar(bar).unwrap();
        self.pushed += 1;
    }

    /// Pushes one bar and spins until the loop has processed it; returns the
    /// round trip (the per-bar latency a caller of the runtime sees).
    pub fn round_trip(&mut self, runtime: &Runtime) -> Duration {
        let start = Instant::now();
        self.push(runtime);
        while runtime.bars_processed() < self.pushed {
            std::hint::spin_loop();
        }
        start.elapsed()
    }

    /// Waits until the loop has processed every bar pushed.
    pub fn settle(&self, runtime: &Runtime) {
        assert!(
            runtime.wait_for_bars(self.pushed, Duration::from_secs(60)),
            "the bar loop stalled"
        );
    }
}

/// How the runtime notices new files.
#[derive(Debug, Clone, Copy)]
pub enum Reloads {
    /// Only `Runtime::reload` / `apply_config`.
    Api,
    /// The file watcher with this debounce.
    Watcher { debounce_ms: u64 },
}

/// The config of a bench runtime, `hot_reload.tiering = "optimized"`:
/// the benches that existed before tiering keep measuring Cranelift's code.
pub fn config_text(dir: &Path, strategies: &[BenchStrategy<'_>], reloads: Reloads) -> String {
    config_text_tiered(dir, strategies, reloads, "optimized")
}

/// [`config_text`] with another `hot_reload.tiering`.
pub fn config_text_tiered(
    dir: &Path,
    strategies: &[BenchStrategy<'_>],
    reloads: Reloads,
    tiering: &str,
) -> String {
    let (enabled, debounce) = match reloads {
        Reloads::Api => (false, 200),
        Reloads::Watcher { debounce_ms } => (true, debounce_ms),
    };
    let mut text = format!(
        "[runtime]\nstrategies_dir = \"{}\"\n[hot_reload]\nenabled = {enabled}\ndebounce_ms = {debounce}\nskip_hash_verification = true\ntiering = \"{tiering}\"\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n",
        dir.join("dist").display()
    );
    for s in strategies {
        text.push_str(&format!(
            "[[strategy]]\nid = \"{}\"\nwasm = \"{}.wasm\"\n[strategy.params]\n{}\n",
            s.id, s.id, s.params
        ));
    }
    text
}

pub fn parse_config(dir: &Path, text: &str) -> Config {
    Config::parse(text, &dir.join("bench.toml")).unwrap_or_else(|e| panic!("{e}"))
}

impl Live {
    pub fn start(strategies: &[BenchStrategy<'_>], reloads: Reloads) -> Live {
        Self::start_with(strategies, reloads, EngineOptions::default())
    }

    /// On an engine with other options (to compare them in one run).
    pub fn start_with(
        strategies: &[BenchStrategy<'_>],
        reloads: Reloads,
        options: EngineOptions,
    ) -> Live {
        Self::start_tiered(strategies, reloads, options, "optimized")
    }

    /// Under `hot_reload.tiering = tiering` (`auto`, `optimized`, `baseline`).
    pub fn start_tiered(
        strategies: &[BenchStrategy<'_>],
        reloads: Reloads,
        options: EngineOptions,
        tiering: &str,
    ) -> Live {
        let loader = Arc::new(Loader::with_options(DEFAULT_CACHE_ENTRIES, options).unwrap());
        Self::start_on(strategies, reloads, loader, tiering)
    }

    /// On `loader` (one with an artefact cache, say), under `tiering`.
    pub fn start_on(
        strategies: &[BenchStrategy<'_>],
        reloads: Reloads,
        loader: Arc<Loader>,
        tiering: &str,
    ) -> Live {
        Self::start_edited(strategies, reloads, loader, tiering, |_| {})
    }

    /// [`Live::start_on`] with `edit` applied to the parsed config (a
    /// setting one variant of a bench flips).
    pub fn start_edited(
        strategies: &[BenchStrategy<'_>],
        reloads: Reloads,
        loader: Arc<Loader>,
        tiering: &str,
        edit: impl FnOnce(&mut Config),
    ) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        std::fs::create_dir(&dist).unwrap();
        for s in strategies {
            place(&dist.join(format!("{}.wasm", s.id)), s.bytes);
        }
        let mut config = parse_config(
            dir.path(),
            &config_text_tiered(dir.path(), strategies, reloads, tiering),
        );
        edit(&mut config);
        let runtime = Runtime::start_with_loader(
            config,
            LiveOptions {
                feed: FeedMode::Manual,
                watch: matches!(reloads, Reloads::Watcher { .. }),
                ..LiveOptions::default()
            },
            loader,
        )
        .unwrap();
        let mut live = Live {
            runtime,
            dir,
            feed: Feed {
                bars: SyntheticFeed::new(1, 9, MarketStyle::Regimes, 60_000),
                pushed: 0,
            },
        };
        // History for the smoke tests and warm-ups, as a running system has.
        for _ in 0..500 {
            live.push();
        }
        live.feed.settle(&live.runtime);
        live
    }

    pub fn wasm_path(&self, id: &str) -> PathBuf {
        self.dir.path().join("dist").join(format!("{id}.wasm"))
    }

    pub fn push(&mut self) {
        self.feed.push(&self.runtime);
    }

    pub fn round_trip(&mut self) -> Duration {
        self.feed.round_trip(&self.runtime)
    }

    /// Pushes one bar and spins until `generation` has processed a bar.
    pub fn first_bar_of(&mut self, generation: &Arc<sandbar_runtime::live::Generation>) {
        self.push();
        let deadline = Instant::now() + Duration::from_secs(60);
        while generation.stats.bars() == 0 {
            assert!(Instant::now() < deadline, "the new generation got no bar");
            std::hint::spin_loop();
        }
    }

    /// The published generation of `id` once it has version `version`.
    pub fn generation(&self, id: &str, version: u64) -> Arc<sandbar_runtime::live::Generation> {
        let g = self.runtime.generation(id).expect("strategy is running");
        assert_eq!(g.version, version, "another generation was published");
        g
    }
}

/// Resident memory of this process, in bytes (`VmRSS`).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS in /proc/self/status")
        * 1024
}

/// Median of a sample (sorted in place).
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The engine choices compared by the benches: the runtime's defaults, then
/// each choice flipped alone.
pub fn engine_variants() -> Vec<(String, EngineOptions)> {
    let d = EngineOptions::default();
    let on_off = |on: bool| if on { "on" } else { "off" };
    vec![
        ("default".to_owned(), d),
        (
            format!("pooling_{}", on_off(!d.pooling)),
            EngineOptions {
                pooling: !d.pooling,
                ..d
            },
        ),
        (
            format!("parallel_compile_{}", on_off(!d.parallel_compilation)),
            EngineOptions {
                parallel_compilation: !d.parallel_compilation,
                ..d
            },
        ),
        (
            format!("background_compile_{}", on_off(!d.background_compile)),
            EngineOptions {
                background_compile: !d.background_compile,
                ..d
            },
        ),
    ]
}
