//! JavaScript strategies (issue 18): componentize-js components built by
//! `runtime build`'s JavaScript path, under the same sandbox and the same
//! broker as Rust ones.
//!
//! - the example `strategies/sma-cross-js` makes exactly the trades of the
//!   Rust `sma-cross` in `runtime backtest` on GOOG daily, and two instances
//!   of it make byte-identical orders;
//! - `tests/guests-js/js-probe` reaches for the clock, entropy, the
//!   environment and files: the clock and entropy throw (the SDK's guards,
//!   with what to use instead, carried to the trap), there is no
//!   environment, no way to a file and no Intl (the engine's own clock);
//! - an exception in an export reaches the trap (on-bar) or the error
//!   result (init) with the strategy's file:line and message;
//! - an edited strategy hot-swaps with its state carried, and rolls back.
//!
//! The components are built once per content (`js_component`, kept in
//! target/), and each test compiles at most one of them (one `Loader`).

use crate::reference::reference_data;
use sandbar_runtime::backtest::{self, BacktestOptions};
use sandbar_runtime::config::LimitsSection;
use sandbar_runtime::contract::{Bar, Param, ParamValue, Position};
use sandbar_runtime::{Config, Language, Limits, LoadSpec, Loader, StrategyInstance};
use sandbar_test_support::js_component;
use std::sync::OnceLock;

fn js_limits() -> Limits {
    LimitsSection::default()
        .for_language(Language::Js)
        .to_limits()
}

/// The probe, loaded once (the compile is paid once for every mode).
fn probe_loader() -> &'static (Loader, std::path::PathBuf) {
    static LOADED: OnceLock<(Loader, std::path::PathBuf)> = OnceLock::new();
    LOADED.get_or_init(|| {
        (
            Loader::new().unwrap(),
            js_component("tests/guests-js/js-probe"),
        )
    })
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

/// A probe instance in `mode`, probing from bar 1_000_000 on (so its smoke
/// test passes), initialised.
fn probe(mode: &str) -> StrategyInstance {
    let (loader, path) = probe_loader();
    let symbols = vec!["GOOG".to_owned()];
    let params = probe_params(mode, 1_000_000);
    let limits = js_limits();
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
fn issue_18_a_js_strategy_cannot_read_the_time_entropy_the_environment_or_a_file() {
    // The SDK's guards answer first (guest-sdk/js/sandbox.js): the trap
    // carries why, what to use instead, and the probe's own file:line.
    for (mode, words) in [
        (
            "time",
            "Date.now() is not available in the Sandbar sandbox; time comes from bars",
        ),
        (
            "newdate",
            "new Date() is not available in the Sandbar sandbox",
        ),
        (
            "performance",
            "performance.now() is not available in the Sandbar sandbox",
        ),
        (
            "random",
            "Math.random() is not available in the Sandbar sandbox; two runs must make the same orders",
        ),
        (
            "crypto",
            "crypto.getRandomValues() is not available in the Sandbar sandbox",
        ),
    ] {
        let got = seen(mode);
        eprintln!("{mode}: {got:?}");
        let trap = got.expect_err(mode);
        assert!(trap.contains(words), "{mode}: {trap}");
        assert!(trap.contains("SandboxError"), "{mode}: {trap}");
        assert!(trap.contains("probe.js:"), "{mode}: {trap}");
    }
    for (mode, meaning) in [
        ("env", "no process.env (nor Deno's or Bun's): no variables"),
        ("file", "no require, and fetch(\"file://...\") is refused"),
        // The engine's own way to "now" past the guards would be Intl's
        // date formatting; StarlingMonkey has no Intl.
        ("intl", "no Intl"),
    ] {
        let got = seen(mode);
        eprintln!("{mode}: {got:?}");
        assert_eq!(got, Ok(1.0), "{mode}: expected {meaning}");
    }
}

#[test]
fn issue_18_a_js_exception_reaches_the_trap_with_file_and_line() {
    let mut instance = probe("raise");
    let error = instance.on_bar(bar(1_000_000), flat()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("onBar raised RangeError: the probe was told to raise (mode=raise)"),
        "{text}"
    );
    assert!(text.contains("probe.js:"), "the file and line: {text}");
    assert!(text.contains("in seen"), "the function: {text}");
    eprintln!("on-bar trap: {text}");

    // In init, the exception is the error result (not a trap).
    let (loader, path) = probe_loader();
    let symbols = vec!["GOOG".to_owned()];
    let params = probe_params("initfail", 0);
    let limits = js_limits();
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
    assert!(text.contains("init raised TypeError"), "{text}");
    assert!(text.contains("probe.js:"), "{text}");
    assert!(text.contains("in setup"), "{text}");
    eprintln!("init error: {text}");
}

/// One backtest on GOOG daily: the Rust sma-cross and two instances of the
/// JavaScript one (one compile: the loader caches by hash).
#[test]
fn issue_18_js_sma_cross_makes_the_rust_trades_on_goog_and_two_runs_agree() {
    let data = reference_data("GOOG");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    let built = js_component("strategies/sma-cross-js");
    // `runtime check` and `runtime build` pick `[limits.js]` by this.
    assert_eq!(
        Language::detect(&std::fs::read(&built).unwrap()),
        Language::Js
    );
    std::fs::copy(&built, dir.path().join("dist/js.wasm")).unwrap();
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
         [[strategy]]\nid = \"js-a\"\nwasm = \"js.wasm\"\nlanguage = \"js\"\n{params}\
         [[strategy]]\nid = \"js-b\"\nwasm = \"js.wasm\"\nlanguage = \"js\"\n{params}"
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
    let (rs, a, b) = (by_id("rs"), by_id("js-a"), by_id("js-b"));
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
        "the JavaScript trades are the Rust ones"
    );
    assert_eq!(
        format!("{:?}", a.trades),
        format!("{:?}", b.trades),
        "two instances, byte-identical trades"
    );
    eprintln!(
        "GOOG: {} bars, {} fills, {} trades, identical in Rust and JavaScript; load {:.1} s, run {:.2} s",
        result.bars,
        a.fills,
        a.trades.len(),
        result.load_time.as_secs_f64(),
        result.elapsed.as_secs_f64()
    );
}

/// Hot reload of a JavaScript strategy, end to end: the `.js` is edited and
/// built, the new component dropped into the strategies directory swaps in
/// with the old version's state restored from its snapshot (no replay),
/// and a rollback brings the first version back without a compile.
#[test]
fn issue_18_an_edited_js_strategy_hot_swaps_with_its_state_and_rolls_back() {
    use crate::support::{Sandbox, SandboxConfig, deploy};
    use sandbar_runtime::live::{Event, HandoffMethod, Outcome};
    use std::time::{Duration, Instant};

    // v1 is the example; v2 is the same file edited (another version and
    // description, the same state layout), built from a copy.
    let v1 = js_component("strategies/sma-cross-js");
    let edited = tempfile::tempdir().unwrap();
    let example = crate::support::workspace().join("strategies/sma-cross-js");
    for file in ["package.json", "strategy.js"] {
        std::fs::copy(example.join(file), edited.path().join(file)).unwrap();
    }
    let source = std::fs::read_to_string(edited.path().join("strategy.js")).unwrap();
    let changed = source
        .replace("static version = \"0.1.0\";", "static version = \"0.2.0\";")
        .replace("\"Long while", "\"Edited: long while");
    assert_ne!(source, changed, "the edit applies");
    std::fs::write(edited.path().join("strategy.js"), changed).unwrap();
    let v2 = js_component(edited.path());

    let mut sandbox = Sandbox::new();
    std::fs::copy(&v1, sandbox.path("dist/js.wasm")).unwrap();
    sandbox.write_config(&SandboxConfig {
        extra_strategies: "[[strategy]]\nid = \"js\"\nwasm = \"js.wasm\"\nlanguage = \"js\"\n\
                           [strategy.params]\nfast = 3\nslow = 8\n",
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    sandbox.start().unwrap();
    eprintln!(
        "start with the JavaScript strategy: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    sandbox.feed(40);
    assert_eq!(sandbox.status_of("js").version, 1);

    let v2_bytes = std::fs::read(&v2).unwrap();
    let v2_sha = sandbar_runtime::sha256_hex(&v2_bytes);
    let deployed = Instant::now();
    deploy(&sandbox.path("dist/js.wasm"), &v2_bytes);
    // The compile runs off the bar loop: bars keep flowing meanwhile.
    let (mut swapped, mut handoff) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(900);
    while handoff.is_none() {
        assert!(Instant::now() < deadline, "no swap to v2 within 900 s");
        sandbox.feed(1);
        std::thread::sleep(Duration::from_millis(20));
        while let Ok(event) = sandbox.events.as_ref().unwrap().try_recv() {
            match event {
                Event::Reload(e) if e.strategy == "js" => {
                    assert_ne!(e.outcome, Outcome::Rejected, "v2 was rejected: {e:?}");
                    if e.outcome == Outcome::Swapped {
                        swapped = Some(e);
                    }
                }
                Event::Handoff(h) if h.strategy == "js" => handoff = Some(h),
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
    let status = sandbox.status_of("js");
    assert_eq!((status.version, status.traps), (2, 0));

    // Rollback: the first version comes back from its cached compile.
    let rolled = sandbox.runtime().rollback("js", 1).unwrap();
    assert_eq!(rolled.outcome, Outcome::RolledBack, "{rolled:?}");
    assert_eq!(
        rolled.sha256.as_deref(),
        Some(sandbar_runtime::sha256_hex(&std::fs::read(&v1).unwrap()).as_str())
    );
    sandbox.feed(10);
    assert_eq!(sandbox.status_of("js").traps, 0);
    sandbox.stop();
}
