//! The load pipeline on real components: every stage runs and is timed, a
//! pinned hash is enforced with a message that says how to fix it, and
//! parameters reach `init`.

use crate::support::{component, symbols};
use sandbar_runtime::contract::{Param, ParamValue};
use sandbar_runtime::{Limits, LoadSpec, Loader, Stage};

fn spec<'a>(
    symbols: &'a [String],
    params: &'a [Param],
    limits: &'a Limits,
    sha: Option<&'a str>,
) -> LoadSpec<'a> {
    LoadSpec {
        strategy_id: "sma-fast",
        expected_sha256: sha,
        symbols,
        params,
        limits,
        recent_bars: &[],
        smoke: sandbar_runtime::SmokeSetup::default(),
    }
}

#[test]
fn a_good_component_passes_every_stage_and_each_is_timed() {
    let loader = Loader::new().unwrap();
    let syms = symbols(&["BTCUSD"]);
    let limits = Limits::default();
    let path = component("sma-cross");
    let sha = sandbar_runtime::sha256_hex(&std::fs::read(&path).unwrap());
    let outcome = loader.load_file(&path, spec(&syms, &[], &limits, Some(&sha)));
    let candidate = outcome.result.expect("sma-cross loads");
    assert_eq!(candidate.sha256, sha);
    assert_eq!(candidate.info.name, "sma-cross");
    assert_eq!(candidate.smoke.bars, sandbar_runtime::SMOKE_BARS_PER_SYMBOL);
    assert!(
        candidate.smoke.orders > 0,
        "the smoke burst makes sma-cross trade"
    );
    let stages: Vec<Stage> = outcome.timings.stages.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        stages,
        [
            Stage::Read,
            Stage::Verify,
            Stage::Compile,
            Stage::TypeCheck,
            Stage::Instantiate,
            Stage::Describe,
            Stage::SmokeTest
        ]
    );
}

#[test]
fn a_wrong_hash_names_expected_got_and_the_fix() {
    let loader = Loader::new().unwrap();
    let syms = symbols(&["BTCUSD"]);
    let limits = Limits::default();
    let path = component("sma-cross");
    let wrong = "0".repeat(64);
    let error = loader
        .load_file(&path, spec(&syms, &[], &limits, Some(&wrong)))
        .result
        .err()
        .expect("a wrong hash is refused");
    let actual = sandbar_runtime::sha256_hex(&std::fs::read(&path).unwrap());
    assert_eq!(error.stage, Stage::Verify);
    assert_eq!(error.strategy, "sma-fast");
    assert_eq!(
        error.message,
        format!("SHA-256 mismatch: expected {wrong}, got {actual}")
    );
    let hint = error.hint.unwrap();
    assert!(
        hint.contains(&format!("runtime hash {}", path.display())),
        "{hint}"
    );
    assert!(hint.contains("id = \"sma-fast\""), "{hint}");
}

#[test]
fn params_reach_init_and_bad_ones_are_refused_with_the_strategys_reason() {
    let loader = Loader::new().unwrap();
    let syms = symbols(&["BTCUSD"]);
    let limits = Limits::default();
    let path = component("sma-cross");
    let bad = [
        Param {
            name: "fast".into(),
            value: ParamValue::Int(30),
        },
        Param {
            name: "slow".into(),
            value: ParamValue::Int(10),
        },
    ];
    let error = loader
        .load_file(&path, spec(&syms, &bad, &limits, None))
        .result
        .err()
        .unwrap();
    assert_eq!(error.stage, Stage::Init);
    assert!(error.message.contains("fast"), "{}", error.message);
    assert!(error.hint.unwrap().contains("[strategy.params]"));
}

#[test]
fn a_tiny_fuel_budget_is_reported_as_out_of_fuel() {
    let loader = Loader::new().unwrap();
    let syms = symbols(&["BTCUSD"]);
    let limits = Limits {
        fuel_per_call: 50,
        ..Limits::default()
    };
    let error = loader
        .load_file(&component("sma-cross"), spec(&syms, &[], &limits, None))
        .result
        .err()
        .unwrap();
    assert!(error.message.contains("ran out of fuel"), "{error}");
    assert!(
        error.hint.as_ref().unwrap().contains("limits.fuel_per_bar"),
        "{error}"
    );
}

/// Regression (fleet issue's bench): three loads of one new build at once
/// (three fleet nodes in a process, or `[[strategy]]` entries sharing a
/// `.wasm`) compiled it three times side by side. One compiles; the others
/// wait for it and take its code from the compile cache.
#[test]
fn regression_20_loads_of_one_new_build_at_once_compile_it_once() {
    let loader = Loader::new().unwrap();
    let syms = symbols(&["BTCUSD"]);
    let limits = Limits::default();
    let path = component("sma-cross");
    let gate = std::sync::Barrier::new(3);
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let loads: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    gate.wait();
                    loader.load_file(&path, spec(&syms, &[], &limits, None))
                })
            })
            .collect();
        loads.into_iter().map(|l| l.join().unwrap()).collect()
    });
    let compiled = outcomes
        .iter()
        .filter(|o| o.timings.get(Stage::Compile).is_some())
        .count();
    assert_eq!(compiled, 1, "one compile of the build");
    for outcome in &outcomes {
        let candidate = outcome.result.as_ref().expect("every load succeeds");
        assert_eq!(
            candidate.cache_hit,
            outcome.timings.get(Stage::Compile).is_none(),
            "the loads that did not compile say they hit the cache"
        );
    }
}
