//! Python strategies (issue 18): componentize-py components built by
//! `runtime build`'s Python path, under the same sandbox and the same
//! broker as Rust ones.
//!
//! - the example `strategies/sma-cross-py` makes exactly the trades of the
//!   Rust `sma-cross` in `runtime backtest` on GOOG daily, and two instances
//!   of it make byte-identical orders;
//! - `tests/guests-py/py-probe` reaches for the clock, the environment,
//!   files and randomness: what it gets is nothing, or a constant;
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
        Ok(orders) => Ok(orders[0].quantity),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn issue_18_a_python_strategy_cannot_read_the_time_the_environment_or_a_file() {
    // The stubbed clocks say 0: 1 + time.time() + monotonic_ns() is 1.
    for (mode, meaning) in [
        ("time", "time.time() and time.monotonic_ns() are 0"),
        ("env", "os.environ is empty"),
        ("file", "open(\"/etc/hostname\") fails"),
        ("listdir", "os.listdir(\"/\") fails"),
    ] {
        let got = seen(mode);
        eprintln!("{mode}: {got:?}");
        match got {
            // A stubbed import that traps is as good as a constant.
            Err(trap) => assert!(!trap.is_empty(), "{mode}"),
            Ok(quantity) => assert_eq!(quantity, 1.0, "{mode}: expected {meaning}"),
        }
    }
    // Randomness is whatever was frozen into the component at build time:
    // two fresh instances draw the same numbers.
    let (a, b) = (seen("random"), seen("random"));
    eprintln!("random: {a:?} {b:?}");
    assert_eq!(a, b, "random.random() and os.urandom are deterministic");
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
    assert!(rs.fills >= 10, "sma-cross trades on GOOG: {} fills", rs.fills);
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
