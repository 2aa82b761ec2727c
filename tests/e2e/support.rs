//! Shared fixtures: the example strategies and the test guests built once per
//! test run, and a sandbox that runs a real `Runtime` on a temp directory.

use sandbar_runtime::config::Config;
use sandbar_runtime::contract::Bar;
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::live::{
    Event, EventSubscription, FeedMode, LiveOptions, Outcome, ReloadEvent, Runtime,
};
use sandbar_test_support::Components;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every example strategy and test guest, built into components once.
static COMPONENTS: Components = Components::new(
    "test-components/e2e",
    &["seq-audit", "hostile", "order-script"],
);

pub fn component(package: &str) -> PathBuf {
    COMPONENTS.path(package)
}

pub fn symbols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// The same component with a custom section added: identical behaviour,
/// a different SHA-256 — a "new build" for reload tests. Sealed again (as
/// `runtime seal` does), since sections after a build's seal are refused.
pub fn rebuilt(bytes: &[u8], marker: u32) -> Vec<u8> {
    let name = b"sandbar-test-marker";
    let payload = marker.to_le_bytes();
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    out.push((1 + name.len() + payload.len()) as u8); // section size (LEB128, < 128)
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    sandbar_runtime::seal::seal(&out)
        .expect("a built component seals again")
        .into_owned()
}

pub fn sha(bytes: &[u8]) -> String {
    sandbar_runtime::sha256_hex(bytes)
}

/// Writes `bytes` to `path` the way deploy tools do: a temp file, then rename.
pub fn deploy(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(format!(
        ".{}.deploy",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A temp directory with `dist/` and `sandbar.toml`, and a runtime on it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub runtime: Option<Runtime>,
    pub events: Option<EventSubscription>,
    feed: SyntheticFeed,
    pub fed: u64,
}

pub struct SandboxConfig<'a> {
    pub profile: &'a str,
    pub pin: Option<String>,
    pub params: &'a str,
    pub extra_strategies: &'a str,
    /// Lines for a `[limits]` table.
    pub limits: &'a str,
    /// `hot_reload.tiering`: `optimized` unless a test of tiers says
    /// otherwise, so a test's events are those of one compile per build.
    pub tiering: &'a str,
}

impl Default for SandboxConfig<'_> {
    fn default() -> Self {
        Self {
            profile: "dev",
            pin: None,
            params: "report_every = 100",
            extra_strategies: "",
            limits: "",
            tiering: "optimized",
        }
    }
}

pub fn config_text(c: &SandboxConfig<'_>) -> String {
    let skip = c.pin.is_none();
    let sha_line = c
        .pin
        .as_ref()
        .map(|s| format!("sha256 = \"{s}\""))
        .unwrap_or_default();
    format!(
        r#"profile = "{profile}"
[runtime]
strategies_dir = "dist"
history_bars = 64
[hot_reload]
debounce_ms = 50
skip_hash_verification = {skip}
keep_versions = 5
rollback_after_traps = 3
tiering = "{tiering}"
[limits]
{limits}
[feed]
symbols = ["TEST"]
interval_ms = 0
[[strategy]]
id = "audit"
wasm = "audit.wasm"
{sha_line}
[strategy.params]
{params}
{extra}
"#,
        profile = c.profile,
        params = c.params,
        extra = c.extra_strategies,
        limits = c.limits,
        tiering = c.tiering,
    )
}

impl Sandbox {
    /// A sandbox whose `dist/audit.wasm` is the seq-audit guest.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::copy(component("seq-audit"), dir.path().join("dist/audit.wasm")).unwrap();
        Self {
            dir,
            runtime: None,
            events: None,
            feed: SyntheticFeed::new(1, 11, MarketStyle::Regimes, 60_000),
            fed: 0,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("sandbar.toml")
    }

    pub fn audit_path(&self) -> PathBuf {
        self.path("dist/audit.wasm")
    }

    pub fn write_config(&self, c: &SandboxConfig<'_>) {
        deploy(&self.config_path(), config_text(c).as_bytes());
    }

    /// Starts the runtime on the written config, journal in `journal/`.
    pub fn start(&mut self) -> anyhow::Result<()> {
        self.start_watching(true)
    }

    /// [`Sandbox::start`], with the file watcher on or off.
    pub fn start_watching(&mut self, watch: bool) -> anyhow::Result<()> {
        self.start_with(watch, true)
    }

    /// [`Sandbox::start`] with file events only: no 1 s rescan behind them,
    /// so whatever reloads was seen by an event.
    pub fn start_events_only(&mut self) -> anyhow::Result<()> {
        self.start_with(true, false)
    }

    fn start_with(&mut self, watch: bool, rescan: bool) -> anyhow::Result<()> {
        self.start_at(&self.config_path(), watch, rescan)
    }

    /// Starts on the config at `config_path` (a symlink, say), journal in
    /// `journal/`.
    pub fn start_at(
        &mut self,
        config_path: &Path,
        watch: bool,
        rescan: bool,
    ) -> anyhow::Result<()> {
        let config = Config::from_file(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let runtime = Runtime::start(
            config,
            LiveOptions {
                config_path: Some(config_path.to_owned()),
                journal_dir: Some(self.path("journal")),
                feed: FeedMode::Manual,
                watch,
                rescan,
            },
        )?;
        self.events = Some(runtime.subscribe());
        self.runtime = Some(runtime);
        Ok(())
    }

    pub fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("started")
    }

    /// The next bar of the sandbox's synthetic feed, not pushed.
    pub fn next_bar(&mut self) -> Bar {
        self.fed += 1;
        self.feed.next_bar()
    }

    /// Pushes `n` bars and waits until the loop has processed them.
    pub fn feed(&mut self, n: u64) {
        for _ in 0..n {
            let bar: Bar = self.feed.next_bar();
            self.runtime().push_bar(bar).unwrap();
        }
        self.fed += n;
        assert!(
            self.runtime()
                .wait_for_bars(self.fed, Duration::from_secs(30)),
            "the loop did not process {} bars",
            self.fed
        );
    }

    /// Waits for the next reload event matching `pred`, skipping others.
    pub fn wait_reload(&self, what: &str, pred: impl Fn(&ReloadEvent) -> bool) -> ReloadEvent {
        let events = self.events.as_ref().expect("started");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(Event::Reload(e)) if pred(&e) => return e,
                Ok(other) => seen.push(other),
                Err(_) => break,
            }
        }
        panic!("no reload event for {what}; saw {seen:#?}");
    }

    /// Feeds one bar at a time (giving the control plane time to react)
    /// until a reload event matches `pred`; at most `max_bars` bars.
    pub fn feed_until(
        &mut self,
        max_bars: u64,
        what: &str,
        pred: impl Fn(&ReloadEvent) -> bool,
    ) -> ReloadEvent {
        let mut seen = Vec::new();
        for _ in 0..max_bars {
            self.feed(1);
            std::thread::sleep(Duration::from_millis(5));
            while let Ok(event) = self.events.as_ref().expect("started").try_recv() {
                match event {
                    Event::Reload(e) if pred(&e) => return e,
                    other => seen.push(other),
                }
            }
        }
        panic!("no reload event for {what} within {max_bars} bars; saw {seen:#?}");
    }

    pub fn wait_swapped_to(&self, sha256: &str) -> ReloadEvent {
        self.wait_reload(&format!("swap to {sha256}"), |e| {
            e.outcome == Outcome::Swapped && e.sha256.as_deref() == Some(sha256)
        })
    }

    /// The status of one running strategy.
    pub fn status_of(&self, id: &str) -> sandbar_runtime::live::StrategyStatus {
        self.runtime()
            .status()
            .strategies
            .into_iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("`{id}` is not running"))
    }

    /// The SHA-256 of the generation the loop will use for `audit`.
    pub fn live_sha(&self) -> String {
        self.runtime()
            .generation("audit")
            .expect("audit is running")
            .sha256()
            .to_owned()
    }

    /// Stops the runtime and returns the journal's orders of `strategy`.
    pub fn stop(&mut self) -> Vec<serde_json::Value> {
        if let Some(runtime) = self.runtime.take() {
            runtime.stop();
        }
        read_jsonl(&self.path("journal/orders.jsonl"))
    }
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The seq-audit guest's reports: limit buys carry its bar count; any sell
/// reports an anomaly (a bar lost, repeated or out of order).
pub fn audit_reports(orders: &[serde_json::Value]) -> (Vec<u64>, usize) {
    let audit = orders.iter().filter(|o| o["strategy"] == "audit");
    let (mut counts, mut anomalies) = (Vec::new(), 0);
    for o in audit {
        match o["side"].as_str() {
            Some("buy") => counts.push(o["quantity"].as_f64().unwrap() as u64),
            _ => anomalies += 1,
        }
    }
    (counts, anomalies)
}

/// A backtest of one strategy on a CSV file: a temp dir holding
/// `dist/s.wasm` (the `package`'s component) and the config `bt.toml`
/// (a CSV feed of `symbol` from `data`, `[broker]` lines `broker`, the
/// strategy `id` with `params` as its `[strategy.params]`), parsed.
pub fn csv_backtest(
    package: &str,
    id: &str,
    data: &Path,
    symbol: &str,
    broker: &str,
    params: &str,
) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::copy(component(package), dir.path().join("dist/s.wasm")).unwrap();
    let text = format!(
        "[runtime]\nstrategies_dir = \"dist\"\n[hot_reload]\nskip_hash_verification = true\n\
         [feed]\nkind = \"csv\"\nsymbols = [\"{symbol}\"]\npath = {data:?}\n[broker]\n{broker}\n\
         [[strategy]]\nid = \"{id}\"\nwasm = \"s.wasm\"\n[strategy.params]\n{params}\n"
    );
    let path = dir.path().join("bt.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, config)
}
