//! The indicator walk both other-language SDK tests run (issue 18): one
//! random walk through the Rust indicators and, in a child process, through
//! another SDK's; every value must be the same double, compared by bits.
//!
//! The child reads the closes from stdin, one little-endian f64 in hex per
//! line, and prints, for periods 1, 2, 5, 14 and 30, `sma P BITS`, `ema P
//! BITS` and `rsi P BITS` per close (`none` before an indicator is ready),
//! then `cross above|below|none` per close once SMA(3) and SMA(8) are both
//! ready.

use sandbar_guest::indicators::{Cross, CrossDetector, Ema, Rsi, Sma};
use std::io::Write;
use std::process::{Command, Stdio};

fn bits(value: Option<f64>) -> String {
    value.map_or("none".to_owned(), |v| format!("{:016x}", v.to_bits()))
}

/// What the Rust SDK gives for `closes`, line by line.
fn rust_lines(closes: &[f64]) -> Vec<String> {
    let mut want = Vec::new();
    for period in [1usize, 2, 5, 14, 30] {
        let (mut sma, mut ema, mut rsi) = (Sma::new(period), Ema::new(period), Rsi::new(period));
        for &c in closes {
            want.push(format!("sma {period} {}", bits(sma.update(c))));
            want.push(format!("ema {period} {}", bits(ema.update(c))));
            want.push(format!("rsi {period} {}", bits(rsi.update(c))));
        }
    }
    let (mut fast, mut slow, mut cross) = (Sma::new(3), Sma::new(8), CrossDetector::new());
    for &c in closes {
        if let (Some(f), Some(s)) = (fast.update(c), slow.update(c)) {
            let name = match cross.update(f, s) {
                Some(Cross::Above) => "above",
                Some(Cross::Below) => "below",
                None => "none",
            };
            want.push(format!("cross {name}"));
        }
    }
    want
}

/// Runs the walk through `child` (the other SDK's script, not yet spawned)
/// and asserts every line equals the Rust SDK's; `language` names it in
/// failures.
pub fn assert_same_as_rust(mut child: Command, language: &str) {
    let closes = sandbar_guest::testing::random_walk(18, 600);
    let want = rust_lines(&closes);
    let mut child = child
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{language} runs (its SDK needs it for its tests): {e}"));
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
    assert!(out.status.success(), "{language} failed");
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got.len(), want.len(), "as many values from both SDKs");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g, w,
            "value {i} differs between the {language} and the Rust SDK"
        );
    }
    assert!(
        want.iter().any(|l| l.starts_with("cross above")),
        "the series crosses"
    );
}
