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

use crate::guest_language::{self, GuestLanguage, Probe, flat, probe_bar};
use sandbar_runtime::Language;
use sandbar_test_support::python_component;
use std::sync::OnceLock;

/// The probe, compiled once for every mode.
fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        Probe::new(
            python_component("tests/guests-py/py-probe"),
            Language::Python,
        )
    })
}

fn seen(mode: &str) -> Result<f64, String> {
    probe().seen(mode)
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
    let mut instance = probe().instance("raise");
    let error = instance.on_bar(probe_bar(), flat()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("ValueError: the probe was told to raise (mode=raise)"),
        "{text}"
    );
    assert!(text.contains("probe.py:"), "the file and line: {text}");
    assert!(text.contains("in seen"), "the function: {text}");
    eprintln!("on-bar trap: {text}");

    // In init, the exception is the error result (not a trap).
    let refused = probe().load("initfail", 0).err().expect("init fails");
    let text = refused.to_string();
    assert!(text.contains("KeyError"), "{text}");
    assert!(text.contains("probe.py:"), "{text}");
    eprintln!("init error: {text}");
}

fn python() -> GuestLanguage {
    GuestLanguage {
        name: "Python",
        language: "python",
        id: "py",
        detected: Language::Python,
        example: "strategies/sma-cross-py",
        files: ["strategy.py", "pyproject.toml"],
        edits: [
            ("version = \"0.1.0\"", "version = \"0.2.0\""),
            ("Long while", "Edited: long while"),
        ],
        build: |dir| python_component(dir),
    }
}

#[test]
fn issue_18_python_sma_cross_makes_the_rust_trades_on_goog_and_two_runs_agree() {
    guest_language::matches_rust_on_goog(&python());
}

#[test]
fn issue_18_an_edited_python_strategy_hot_swaps_with_its_state_and_rolls_back() {
    guest_language::hot_swaps_with_state_and_rolls_back(&python());
}
