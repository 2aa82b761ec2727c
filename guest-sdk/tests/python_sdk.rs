//! Issue 18: the Python SDK (`guest-sdk/python`) against the Rust one.
//!
//! The same random walk goes through the Rust indicators and, in a `python3`
//! process, through the Python ones; every value must be the same double
//! (compared by bits). Then the Python SDK's own unit tests run
//! (`guest-sdk/python/tests`, unittest: no package to install).

mod indicator_walk;

use std::path::Path;
use std::process::Command;

fn python_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
}

const PYTHON: &str = r#"
import struct, sys
from sandbar import ABOVE, BELOW, CrossDetector, Ema, Rsi, Sma
def bits(v):
    return "none" if v is None else "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]
closes = [struct.unpack("<d", bytes.fromhex(line.strip()))[0] for line in sys.stdin if line.strip()]
for period in (1, 2, 5, 14, 30):
    sma, ema, rsi = Sma(period), Ema(period), Rsi(period)
    for c in closes:
        print("sma", period, bits(sma.update(c)))
        print("ema", period, bits(ema.update(c)))
        print("rsi", period, bits(rsi.update(c)))
fast, slow, cross = Sma(3), Sma(8), CrossDetector()
for c in closes:
    f, s = fast.update(c), slow.update(c)
    if f is not None and s is not None:
        print("cross", {ABOVE: "above", BELOW: "below", None: "none"}[cross.update(f, s)])
"#;

#[test]
fn issue_18_python_indicators_give_the_rust_values_bit_for_bit() {
    let mut python = Command::new("python3");
    python.arg("-c").arg(PYTHON).env("PYTHONPATH", python_dir());
    indicator_walk::assert_same_as_rust(python, "Python");
}

#[test]
fn issue_18_the_python_sdk_unit_tests_pass() {
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
        .current_dir(python_dir())
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(out.status.success(), "python SDK tests failed:\n{text}");
    assert!(text.contains("OK"), "{text}");
}
