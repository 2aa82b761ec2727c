//! Issue 18: the Python SDK (`guest-sdk/python`) against the Rust one.
//!
//! The same random walk goes through the Rust indicators and, in a `python3`
//! process, through the Python ones; every value must be the same double
//! (compared by bits). Then the Python SDK's own unit tests run
//! (`guest-sdk/python/tests`, unittest: no package to install).

use sandbar_guest::indicators::{Cross, CrossDetector, Ema, Rsi, Sma};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn python_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
}

fn bits(value: Option<f64>) -> String {
    value.map_or("none".to_owned(), |v| format!("{:016x}", v.to_bits()))
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
    let closes = sandbar_guest::testing::random_walk(18, 600);
    let mut want = Vec::new();
    for period in [1usize, 2, 5, 14, 30] {
        let (mut sma, mut ema, mut rsi) = (Sma::new(period), Ema::new(period), Rsi::new(period));
        for &c in &closes {
            want.push(format!("sma {period} {}", bits(sma.update(c))));
            want.push(format!("ema {period} {}", bits(ema.update(c))));
            want.push(format!("rsi {period} {}", bits(rsi.update(c))));
        }
    }
    let (mut fast, mut slow, mut cross) = (Sma::new(3), Sma::new(8), CrossDetector::new());
    for &c in &closes {
        if let (Some(f), Some(s)) = (fast.update(c), slow.update(c)) {
            let name = match cross.update(f, s) {
                Some(Cross::Above) => "above",
                Some(Cross::Below) => "below",
                None => "none",
            };
            want.push(format!("cross {name}"));
        }
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PYTHON)
        .env("PYTHONPATH", python_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (the Python SDK needs it for its tests)");
    let input: String = closes
        .iter()
        .map(|c| {
            c.to_le_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                + "\n"
        })
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got.len(), want.len(), "as many values from both SDKs");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g, w,
            "value {i} differs between the Python and the Rust SDK"
        );
    }
    assert!(
        want.iter().any(|l| l.starts_with("cross above")),
        "the series crosses"
    );
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
