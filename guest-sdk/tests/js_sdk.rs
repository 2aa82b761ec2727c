//! Issue 18: the JavaScript SDK (`guest-sdk/js`) against the Rust one.
//!
//! The same random walk goes through the Rust indicators and, in a `node`
//! process, through the JavaScript ones; every value must be the same double
//! (compared by bits). Then the JavaScript SDK's own tests run
//! (`guest-sdk/js/tests`, node's test runner: no package to install), and
//! the example's (`strategies/sma-cross-js/tests`).

mod indicator_walk;

use std::path::Path;
use std::process::Command;

fn js_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/js"))
}

const SCRIPT: &str = r#"
import { readFileSync } from "node:fs";
import { ABOVE, BELOW, CrossDetector, Ema, Rsi, Sma } from "./index.js";
const bits = (v) => {
  if (v === null) return "none";
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v, true);
  return view.getBigUint64(0, true).toString(16).padStart(16, "0");
};
const closes = readFileSync(0, "utf8").split("\n").filter((l) => l.trim()).map((line) => {
  const view = new DataView(new ArrayBuffer(8));
  const hex = line.trim();
  for (let i = 0; i < 8; i++) view.setUint8(i, parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return view.getFloat64(0, true);
});
const out = [];
for (const period of [1, 2, 5, 14, 30]) {
  const sma = new Sma(period), ema = new Ema(period), rsi = new Rsi(period);
  for (const c of closes) {
    out.push(`sma ${period} ${bits(sma.update(c))}`);
    out.push(`ema ${period} ${bits(ema.update(c))}`);
    out.push(`rsi ${period} ${bits(rsi.update(c))}`);
  }
}
const fast = new Sma(3), slow = new Sma(8), cross = new CrossDetector();
for (const c of closes) {
  const f = fast.update(c), s = slow.update(c);
  if (f !== null && s !== null) {
    const x = cross.update(f, s);
    out.push(`cross ${x === ABOVE ? "above" : x === BELOW ? "below" : "none"}`);
  }
}
process.stdout.write(out.join("\n") + "\n");
"#;

#[test]
fn issue_18_js_indicators_give_the_rust_values_bit_for_bit() {
    let mut node = Command::new("node");
    node.args(["--input-type=module", "-e", SCRIPT])
        .current_dir(js_dir());
    indicator_walk::assert_same_as_rust(node, "JavaScript");
}

/// `node --test` in `dir` with the SDK's resolve hook; its TAP output.
fn node_tests(dir: &Path) -> String {
    let register = js_dir().join("register.mjs");
    let out = Command::new("node")
        .arg("--import")
        .arg(&register)
        .arg("--test")
        .current_dir(dir)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "tests in {} failed", dir.display());
    assert!(text.contains("# fail 0"), "{text}");
    text
}

#[test]
fn issue_18_the_js_sdk_and_example_tests_pass() {
    let passed = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("# pass "))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    let sdk = node_tests(js_dir());
    assert!(passed(&sdk) >= 10, "the SDK's tests ran: {sdk}");
    let example = node_tests(&js_dir().join("../../strategies/sma-cross-js"));
    assert!(passed(&example) >= 2, "the example's tests ran: {example}");
}
