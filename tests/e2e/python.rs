//! Python strategies (issue 18): componentize-py components built by
//! `runtime build`'s Python path, under the same sandbox and the same
//! broker as Rust ones.
//!
//! - the example `strategies/sma-cross-py` makes exactly the trades of the
//!   Rust `sma-cross` in `runtime backtest` on GOOG daily, and two instances
//!   of it make byte-identical orders;
//! - `tests/guests-py/py-probe` reaches for the clock, the environment,
//!   files and randomness: each stubbed call traps or gives nothing (an
//!   empty environment), and `random` gives the same numbers in every
//!   instance;
//! - an exception in an export reaches the trap (on-bar) or the error
//!   result (init) with the strategy's file:line and message.
//!
//! The components are built once per content (`python_component`, kept in
//! target/), and each test compiles at most one of them (one `Loader`), since
//! an 18 MB component takes tens of seconds to compile in a debug build.

use crate::reference::reference_data;
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::LimitsSection;
use sandbar_runtime::contract::{Bar, Param, ParamValue, Position};
use sandbar_runtime::{Config, Language, Limits, LoadSpec, Loader, StrategyInstance};
use sandbar_test_support::python_component;
use std::sync::OnceLock;

fn python_limits() -> Limits {
    LimitsSection::default()
        .for_language(Language::Python)
        .to_limits()
}

/// The probe, loaded once (the compile is paid once for every mode).
fn probe_loader() -> &'static (Loader, std::path::PathBuf) {
    static LOADED: OnceLock<(Loader, std::path::PathBuf)> = OnceLock::new();
    LOADED.get_or_init(|| {
        (
            Loader::new().unwrap(),
            python_component("tests/guests-py/py-probe"),
        )
    })
}

/// A probe instance in `mode`, probing from bar 1_000_000 on (so its smoke
/// test passes), initialised.
fn probe(mode: &str) -> StrategyInstance {
    let (loader, path) = probe_loader();
    let symbols = vec!["GOOG".to_owned()];
    let params = vec![
        Param {
            name: "mode".into(),
            value: ParamValue::Text(mode.into()),
        },
        Param {
            name: "from_bar".into(),
            value: ParamValue::Int(1_000_000),
        },
    ];
    let limits = python_limits();
    let candidate = loader
        .load_file(
            path,
            LoadSpec {
                strategy_id: "probe",
                expected_sha256: None,
                symbols: &symbols,
                params: &params,
                limits: &limits,
                recent_bars: &[],
                smoke: sandbar_runtime::SmokeSetup::default(),
            },
        )
        .result
        .unwrap_or_else(|e| panic!("{mode}: {e}"));
    let mut instance = StrategyInstance::instantiate(&candidate.pre, "probe", &limits).unwrap();
    instance
        .init(&symbols, &params)
        .unwrap()
        .unwrap_or_else(|e| panic!("{mode}: init refused: {e}"));
    instance
}

fn bar(seq: u64) -> Bar {
    Bar {
        seq,
        ts_ms: 1_700_000_000_000,
        symbol: 0,
        open: 100.0,
        high: 101.0,
        low: 99.0,
        close: 100.5,
        volume: 10.0,
    }
}

fn flat() -> Position {
    Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    }
}

/// What the probe saw in `mode`: the quantity of its order, or the trap.
fn seen(mode: &str) -> Result<f64, String> {
    let mut instance = probe(mode);
    match instance.on_bar(bar(1_000_000), flat()) {
        Ok(requests) => requests
            .first()
            .and_then(|request| request.order())
            .map(|order| order.quantity)
            .ok_or_else(|| format!("the probe sent no one-bar order: {requests:?}")),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn issue_18_a_python_strategy_cannot_read_the_time_the_environment_or_a_file() {
    // The SDK's guards answer first (sandbar/sandbox.py): the clocks and
    // entropy raise, and the trap carries why and what to use instead;
    // files are refused like a missing file (the probe catches OSError).
    for (mode, words) in [
        (
            "time",
            "time.time() is not available in the Sandbar sandbox; time comes from bars",
        ),
        (
            "urandom",
            "os.urandom() is not available in the Sandbar sandbox",
        ),
    ] {
        let got = seen(mode);
        eprintln!("{mode}: {got:?}");
        let trap = got.expect_err(mode);
        assert!(trap.contains(words), "{mode}: {trap}");
        assert!(trap.contains("probe.py:"), "{mode}: {trap}");
    }
    for (mode, meaning) in [
        ("env", "os.environ is empty"),
        ("file", "open(\"/etc/hostname\") fails"),
        ("listdir", "os.listdir(\"/\") fails"),
    ] {
        let got = seen(mode);
        eprintln!("{mode}: {got:?}");
        assert_eq!(got, Ok(1.0), "{mode}: expected {meaning}");
    }
    // Randomness is whatever was frozen into the component at build time:
    // two fresh instances draw the same numbers.
    let (a, b) = (seen("random"), seen("random"));
    eprintln!("random: {a:?} {b:?}");
    assert_eq!(a, b, "random.random() is deterministic");
}

#[test]
fn issue_18_a_python_exception_reaches_the_trap_with_file_and_line() {
    let mut instance = probe("raise");
    let error = instance.on_bar(bar(1_000_000), flat()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("ValueError: the probe was told to raise (mode=raise)"),
        "{text}"
    );
    assert!(text.contains("probe.py:"), "the file and line: {text}");
    assert!(text.contains("in seen"), "the function: {text}");
    eprintln!("on-bar trap: {text}");

    // In init, the exception is the error result (not a trap).
    let (loader, path) = probe_loader();
    let symbols = vec!["GOOG".to_owned()];
    let params = vec![Param {
        name: "mode".into(),
        value: ParamValue::Text("initfail".into()),
    }];
    let limits = python_limits();
    let refused = loader
        .load_file(
            path,
            LoadSpec {
                strategy_id: "probe",
                expected_sha256: None,
                symbols: &symbols,
                params: &params,
                limits: &limits,
                recent_bars: &[],
                smoke: sandbar_runtime::SmokeSetup::default(),
            },
        )
        .result
        .err()
        .expect("init fails");
    let text = refused.to_string();
    assert!(text.contains("KeyError"), "{text}");
    assert!(text.contains("probe.py:"), "{text}");
    eprintln!("init error: {text}");
}

/// One backtest on GOOG daily: the Rust sma-cross and two instances of the
/// Python one (one compile: the loader caches by hash).
#[test]
fn issue_18_python_sma_cross_makes_the_rust_trades_on_goog_and_two_runs_agree() {
    let data = reference_data("GOOG");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::copy(
        python_component("strategies/sma-cross-py"),
        dir.path().join("dist/py.wasm"),
    )
    .unwrap();
    std::fs::copy(
        crate::support::component("sma-cross"),
        dir.path().join("dist/rs.wasm"),
    )
    .unwrap();
    let params = "[strategy.params]\nfast = 10\nslow = 30\nsize = 10.0\nallow_short = true\n";
    let text = format!(
        "[runtime]\nstrategies_dir = \"dist\"\n[hot_reload]\nskip_hash_verification = true\n\
         [feed]\nkind = \"csv\"\nsymbols = [\"GOOG\"]\npath = {data:?}\n\
         [broker]\nstarting_cash = 100000.0\ncommission = 0.0015\nslippage_bps = 3.0\n\
         [[strategy]]\nid = \"rs\"\nwasm = \"rs.wasm\"\n{params}\
         [[strategy]]\nid = \"py-a\"\nwasm = \"py.wasm\"\nlanguage = \"python\"\n{params}\
         [[strategy]]\nid = \"py-b\"\nwasm = \"py.wasm\"\nlanguage = \"python\"\n{params}"
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
    let (rs, a, b) = (by_id("rs"), by_id("py-a"), by_id("py-b"));
    for run in [rs, a, b] {
        assert_eq!(run.error, None, "{}: the backtest trapped", run.id);
    }
    assert!(
        rs.fills >= 10,
        "sma-cross trades on GOOG: {} fills",
        rs.fills
    );
    assert_eq!(a.fills, rs.fills, "fills");
    assert_eq!(a.trades, rs.trades, "the Python trades are the Rust ones");
    assert_eq!(
        format!("{:?}", a.trades),
        format!("{:?}", b.trades),
        "two instances, byte-identical trades"
    );
    eprintln!(
        "GOOG: {} bars, {} fills, {} trades, identical in Rust and Python; load {:.1} s, run {:.2} s",
        result.bars,
        a.fills,
        a.trades.len(),
        result.load_time.as_secs_f64(),
        result.elapsed.as_secs_f64()
    );
}

/// Hot reload of a Python strategy, end to end: the `.py` is edited and
/// built, the new component dropped into the strategies directory swaps in
/// with the old version's state restored from its snapshot (no replay),
/// and a rollback brings the first version back without a compile.
#[test]
fn issue_18_an_edited_python_strategy_hot_swaps_with_its_state_and_rolls_back() {
    use crate::support::{Sandbox, SandboxConfig, deploy};
    use sandbar_runtime::live::{Event, HandoffMethod, Outcome};
    use std::time::{Duration, Instant};

    // v1 is the example; v2 is the same file edited (another version and
    // description, the same state layout), built from a copy.
    let v1 = python_component("strategies/sma-cross-py");
    let edited = tempfile::tempdir().unwrap();
    let example = crate::support::workspace().join("strategies/sma-cross-py");
    for file in ["pyproject.toml", "strategy.py"] {
        std::fs::copy(example.join(file), edited.path().join(file)).unwrap();
    }
    let source = std::fs::read_to_string(edited.path().join("strategy.py")).unwrap();
    let changed = source
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"")
        .replace("Long while", "Edited: long while");
    assert_ne!(source, changed, "the edit applies");
    std::fs::write(edited.path().join("strategy.py"), changed).unwrap();
    let v2 = python_component(edited.path());

    let mut sandbox = Sandbox::new();
    std::fs::copy(&v1, sandbox.path("dist/py.wasm")).unwrap();
    sandbox.write_config(&SandboxConfig {
        extra_strategies: "[[strategy]]\nid = \"py\"\nwasm = \"py.wasm\"\nlanguage = \"python\"\n\
                           [strategy.params]\nfast = 3\nslow = 8\n",
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    sandbox.start().unwrap();
    eprintln!(
        "start with the Python strategy: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    sandbox.feed(40);
    assert_eq!(sandbox.status_of("py").version, 1);

    let v2_bytes = std::fs::read(&v2).unwrap();
    let v2_sha = sandbar_runtime::sha256_hex(&v2_bytes);
    let deployed = Instant::now();
    deploy(&sandbox.path("dist/py.wasm"), &v2_bytes);
    // The compile runs off the bar loop: bars keep flowing meanwhile.
    let (mut swapped, mut handoff) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(900);
    while handoff.is_none() {
        assert!(Instant::now() < deadline, "no swap to v2 within 900 s");
        sandbox.feed(1);
        std::thread::sleep(Duration::from_millis(20));
        while let Ok(event) = sandbox.events.as_ref().unwrap().try_recv() {
            match event {
                Event::Reload(e) if e.strategy == "py" => {
                    assert_ne!(e.outcome, Outcome::Rejected, "v2 was rejected: {e:?}");
                    if e.outcome == Outcome::Swapped {
                        swapped = Some(e);
                    }
                }
                Event::Handoff(h) if h.strategy == "py" => handoff = Some(h),
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
    let status = sandbox.status_of("py");
    assert_eq!((status.version, status.traps), (2, 0));

    // Rollback: the first version comes back from its cached compile.
    let rolled = sandbox.runtime().rollback("py", 1).unwrap();
    assert_eq!(rolled.outcome, Outcome::RolledBack, "{rolled:?}");
    assert_eq!(
        rolled.sha256.as_deref(),
        Some(sandbar_runtime::sha256_hex(&std::fs::read(&v1).unwrap()).as_str())
    );
    sandbox.feed(10);
    assert_eq!(sandbox.status_of("py").traps, 0);
    sandbox.stop();
}
