//! The end-to-end flows every guest language other than Rust must pass
//! (issue 18), one function each, run by `python.rs` and `js.rs` with their
//! language's build:
//!
//! - [`matches_rust_on_goog`]: the language's `sma-cross` example makes
//!   exactly the Rust example's trades in `runtime backtest` on GOOG daily,
//!   and two instances of it make byte-identical trades;
//! - [`hot_swaps_with_state_and_rolls_back`]: an edited and rebuilt example
//!   hot-swaps with its state restored from the snapshot (no replay), and a
//!   rollback brings the first version back from its cached compile;
//! - [`Probe`]: the language's probe guest, which reaches for the clock,
//!   entropy, the environment and files, loaded once for every mode.

use crate::reference::reference_data;
use crate::support::{Sandbox, SandboxConfig, deploy, workspace};
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::LimitsSection;
use sandbar_runtime::contract::{Bar, Param, ParamValue, Position};
use sandbar_runtime::live::{Event, HandoffMethod, Outcome};
use sandbar_runtime::{
    Candidate, Config, Language, Limits, LoadError, LoadSpec, Loader, StrategyInstance,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A guest language as these flows need it.
pub struct GuestLanguage {
    /// Its name in messages ("Python").
    pub name: &'static str,
    /// `[[strategy]] language` and the strategy id prefix ("python", "py").
    pub language: &'static str,
    pub id: &'static str,
    pub detected: Language,
    /// The sma-cross example's project directory, from the workspace root.
    pub example: &'static str,
    /// The project's files (copied for the edited build), the source first.
    pub files: [&'static str; 2],
    /// The source edit that makes version 2: (from, to) pairs.
    pub edits: [(&'static str, &'static str); 2],
    /// Builds a project directory to a component (kept in target/).
    pub build: fn(&Path) -> PathBuf,
}

impl GuestLanguage {
    fn strategy(&self, id: &str, params: &str) -> String {
        format!(
            "[[strategy]]\nid = \"{id}\"\nwasm = \"{}.wasm\"\nlanguage = \"{}\"\n{params}",
            self.id, self.language
        )
    }
}

/// One backtest on GOOG daily: the Rust sma-cross and two instances of the
/// language's one (one compile: the loader caches by hash).
pub fn matches_rust_on_goog(lang: &GuestLanguage) {
    let data = reference_data("GOOG");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    let built = (lang.build)(&workspace().join(lang.example));
    // `runtime check` and `runtime build` pick `[limits.<language>]` by this.
    assert_eq!(
        Language::detect(&std::fs::read(&built).unwrap()),
        lang.detected
    );
    std::fs::copy(&built, dir.path().join(format!("dist/{}.wasm", lang.id))).unwrap();
    std::fs::copy(
        crate::support::component("sma-cross"),
        dir.path().join("dist/rs.wasm"),
    )
    .unwrap();
    let params = "[strategy.params]\nfast = 10\nslow = 30\nsize = 10.0\nallow_short = true\n";
    let (a_id, b_id) = (format!("{}-a", lang.id), format!("{}-b", lang.id));
    let text = format!(
        "[runtime]\nstrategies_dir = \"dist\"\n[hot_reload]\nskip_hash_verification = true\n\
         [feed]\nkind = \"csv\"\nsymbols = [\"GOOG\"]\npath = {data:?}\n\
         [broker]\nstarting_cash = 100000.0\ncommission = 0.0015\nslippage_bps = 3.0\n\
         [[strategy]]\nid = \"rs\"\nwasm = \"rs.wasm\"\n{params}{}{}",
        lang.strategy(&a_id, params),
        lang.strategy(&b_id, params),
    );
    let path = dir.path().join("bt.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let result = backtest::run(&config, &BacktestOptions::default()).unwrap();
    let by_id = |id: &str| {
        result
            .strategies
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("{id} ran"))
    };
    let (rs, a, b) = (by_id("rs"), by_id(&a_id), by_id(&b_id));
    for run in [rs, a, b] {
        assert_eq!(run.error, None, "{}: the backtest trapped", run.id);
    }
    assert!(
        rs.fills >= 10,
        "sma-cross trades on GOOG: {} fills",
        rs.fills
    );
    assert_eq!(a.fills, rs.fills, "fills");
    assert_eq!(
        a.trades, rs.trades,
        "the {} trades are the Rust ones",
        lang.name
    );
    assert_eq!(
        format!("{:?}", a.trades),
        format!("{:?}", b.trades),
        "two instances, byte-identical trades"
    );
    eprintln!(
        "GOOG: {} bars, {} fills, {} trades, identical in Rust and {}; load {:.1} s, run {:.2} s",
        result.bars,
        a.fills,
        a.trades.len(),
        lang.name,
        result.load_time.as_secs_f64(),
        result.elapsed.as_secs_f64()
    );
}

/// Hot reload end to end: the example's source is edited and built, the
/// new component dropped into the strategies directory swaps in with the
/// old version's state restored from its snapshot (no replay), and a
/// rollback brings the first version back without a compile.
pub fn hot_swaps_with_state_and_rolls_back(lang: &GuestLanguage) {
    // v1 is the example; v2 is the same source edited (another version and
    // description, the same state layout), built from a copy.
    let example = workspace().join(lang.example);
    let v1 = (lang.build)(&example);
    let edited = tempfile::tempdir().unwrap();
    for file in lang.files {
        std::fs::copy(example.join(file), edited.path().join(file)).unwrap();
    }
    let source_path = edited.path().join(lang.files[0]);
    let source = std::fs::read_to_string(&source_path).unwrap();
    let changed = lang
        .edits
        .iter()
        .fold(source.clone(), |text, (from, to)| text.replace(from, to));
    assert_ne!(source, changed, "the edit applies");
    std::fs::write(&source_path, changed).unwrap();
    let v2 = (lang.build)(edited.path());

    let id = lang.id;
    let mut sandbox = Sandbox::new();
    std::fs::copy(&v1, sandbox.path(&format!("dist/{id}.wasm"))).unwrap();
    let strategies = lang.strategy(id, "[strategy.params]\nfast = 3\nslow = 8\n");
    sandbox.write_config(&SandboxConfig {
        extra_strategies: &strategies,
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    sandbox.start().unwrap();
    eprintln!(
        "start with the {} strategy: {:.1} s",
        lang.name,
        started.elapsed().as_secs_f64()
    );
    sandbox.feed(40);
    assert_eq!(sandbox.status_of(id).version, 1);

    let v2_bytes = std::fs::read(&v2).unwrap();
    let v2_sha = sandbar_runtime::sha256_hex(&v2_bytes);
    let deployed = Instant::now();
    deploy(&sandbox.path(&format!("dist/{id}.wasm")), &v2_bytes);
    // The compile runs off the bar loop: bars keep flowing meanwhile.
    let (mut swapped, mut handoff) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(900);
    while handoff.is_none() {
        assert!(Instant::now() < deadline, "no swap to v2 within 900 s");
        sandbox.feed(1);
        std::thread::sleep(Duration::from_millis(20));
        while let Ok(event) = sandbox.events.as_ref().unwrap().try_recv() {
            match event {
                Event::Reload(e) if e.strategy == id => {
                    assert_ne!(e.outcome, Outcome::Rejected, "v2 was rejected: {e:?}");
                    if e.outcome == Outcome::Swapped {
                        swapped = Some(e);
                    }
                }
                Event::Handoff(h) if h.strategy == id => handoff = Some(h),
                _ => {}
            }
        }
    }
    let swapped = swapped.expect("a swapped event before the handoff");
    let handoff = handoff.unwrap();
    eprintln!(
        "v2 live {:.1} s after the deploy; bars fed meanwhile: {}",
        deployed.elapsed().as_secs_f64(),
        sandbox.fed
    );
    assert_eq!(swapped.sha256.as_deref(), Some(v2_sha.as_str()));
    assert_eq!(
        handoff.method,
        HandoffMethod::Snapshot,
        "the state was carried: {handoff:?}"
    );
    assert_eq!(handoff.replayed_bars, 0);
    sandbox.feed(10);
    let status = sandbox.status_of(id);
    assert_eq!((status.version, status.traps), (2, 0));

    // Rollback: the first version comes back from its cached compile.
    let rolled = sandbox.runtime().rollback(id, 1).unwrap();
    assert_eq!(rolled.outcome, Outcome::RolledBack, "{rolled:?}");
    assert_eq!(
        rolled.sha256.as_deref(),
        Some(sandbar_runtime::sha256_hex(&std::fs::read(&v1).unwrap()).as_str())
    );
    sandbox.feed(10);
    assert_eq!(sandbox.status_of(id).traps, 0);
    sandbox.stop();
}

/// A language's probe guest (`tests/guests-<lang>/<lang>-probe`), compiled
/// once for every mode: given `mode` and `from_bar` params, from that bar on
/// it reaches for what the mode names and sends a one-unit order if it got
/// nothing.
pub struct Probe {
    loader: Loader,
    path: PathBuf,
    limits: Limits,
}

impl Probe {
    pub fn new(path: PathBuf, language: Language) -> Self {
        Probe {
            loader: Loader::new().unwrap(),
            path,
            limits: LimitsSection::default().for_language(language).to_limits(),
        }
    }

    /// Loads the probe in `mode`, probing from bar `from_bar` on (from 0,
    /// its smoke test probes too).
    pub fn load(&self, mode: &str, from_bar: i64) -> Result<Candidate, LoadError> {
        let params = probe_params(mode, from_bar);
        self.loader
            .load_file(
                &self.path,
                LoadSpec {
                    strategy_id: "probe",
                    expected_sha256: None,
                    symbols: &probe_symbols(),
                    params: &params,
                    limits: &self.limits,
                    recent_bars: &[],
                    smoke: sandbar_runtime::SmokeSetup::default(),
                },
            )
            .result
    }

    /// A probe instance in `mode`, probing from bar 1_000_000 on (so its
    /// smoke test passes), initialised.
    pub fn instance(&self, mode: &str) -> StrategyInstance {
        let candidate = self
            .load(mode, 1_000_000)
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let mut instance =
            StrategyInstance::instantiate(&candidate.pre, "probe", &self.limits).unwrap();
        instance
            .init(&probe_symbols(), &probe_params(mode, 1_000_000))
            .unwrap()
            .unwrap_or_else(|e| panic!("{mode}: init refused: {e}"));
        instance
    }

    /// What the probe saw in `mode`: the quantity of its order, or the trap.
    pub fn seen(&self, mode: &str) -> Result<f64, String> {
        let mut instance = self.instance(mode);
        match instance.on_bar(probe_bar(), flat()) {
            Ok(requests) => requests
                .first()
                .and_then(|request| request.order())
                .map(|order| order.quantity)
                .ok_or_else(|| format!("the probe sent no one-bar order: {requests:?}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn probe_symbols() -> Vec<String> {
    vec!["GOOG".to_owned()]
}

fn probe_params(mode: &str, from_bar: i64) -> Vec<Param> {
    vec![
        Param {
            name: "mode".into(),
            value: ParamValue::Text(mode.into()),
        },
        Param {
            name: "from_bar".into(),
            value: ParamValue::Int(from_bar),
        },
    ]
}

/// The bar the probe probes on (seq 1_000_000).
pub fn probe_bar() -> Bar {
    Bar {
        seq: 1_000_000,
        ts_ms: 1_700_000_000_000,
        symbol: 0,
        open: 100.0,
        high: 101.0,
        low: 99.0,
        close: 100.5,
        volume: 10.0,
    }
}

pub fn flat() -> Position {
    Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    }
}
