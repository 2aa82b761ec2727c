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

use crate::guest_language::{self, GuestLanguage, Probe, flat, probe_bar};
use sandbar_runtime::Language;
use sandbar_test_support::js_component;
use std::sync::OnceLock;

/// The probe, compiled once for every mode.
fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| Probe::new(js_component("tests/guests-js/js-probe"), Language::Js))
}

fn seen(mode: &str) -> Result<f64, String> {
    probe().seen(mode)
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
    let mut instance = probe().instance("raise");
    let error = instance.on_bar(probe_bar(), flat()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("onBar raised RangeError: the probe was told to raise (mode=raise)"),
        "{text}"
    );
    assert!(text.contains("probe.js:"), "the file and line: {text}");
    assert!(text.contains("in seen"), "the function: {text}");
    eprintln!("on-bar trap: {text}");

    // In init, the exception is the error result (not a trap).
    let refused = probe().load("initfail", 0).err().expect("init fails");
    let text = refused.to_string();
    assert!(text.contains("init raised TypeError"), "{text}");
    assert!(text.contains("probe.js:"), "{text}");
    assert!(text.contains("in setup"), "{text}");
    eprintln!("init error: {text}");
}

fn javascript() -> GuestLanguage {
    GuestLanguage {
        name: "JavaScript",
        language: "js",
        id: "js",
        detected: Language::Js,
        example: "strategies/sma-cross-js",
        files: ["strategy.js", "package.json"],
        edits: [
            ("static version = \"0.1.0\";", "static version = \"0.2.0\";"),
            ("\"Long while", "\"Edited: long while"),
        ],
        build: |dir| js_component(dir),
    }
}

#[test]
fn issue_18_js_sma_cross_makes_the_rust_trades_on_goog_and_two_runs_agree() {
    guest_language::matches_rust_on_goog(&javascript());
}

#[test]
fn issue_18_an_edited_js_strategy_hot_swaps_with_its_state_and_rolls_back() {
    guest_language::hot_swaps_with_state_and_rolls_back(&javascript());
}
