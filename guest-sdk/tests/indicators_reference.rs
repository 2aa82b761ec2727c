//! Every indicator of `sandbar_guest::indicators` against TA-Lib on real
//! data: GOOG daily 2004-2013 and EURUSD hourly 2017-2018.
//!
//! The reference values come from tests/reference/indicators.py, run with
//! TA-Lib's Python package in the venv of scripts/reference-env.sh (both
//! through scripts/reference-indicators.sh, which also fetches the data, so
//! this works from a fresh clone with PyPI reachable). They land in
//! target/reference-data/indicators/, out of git; delete that folder to
//! regenerate them.
//!
//! Every value must agree to 1e-9 relative. A series that crosses zero
//! (MACD, momentum, CCI...) also accepts a difference of 1e-12 of the
//! series' largest magnitude, since relative error has no meaning at 0. The
//! first value of each must come on the bar TA-Lib gives its first on, which
//! checks each indicator's `WarmUp` too.

use sandbar_guest::indicators::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("guest-sdk sits in the workspace")
        .to_path_buf()
}

/// The reference CSV of `name`, made by the scripts when missing. Once per
/// test binary: the tests run in parallel and the script rebuilds the venv.
fn reference(name: &str) -> PathBuf {
    static MADE: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let path = workspace().join(format!("target/reference-data/indicators/{name}.csv"));
    if !path.exists() {
        let status = Command::new("bash")
            .arg(workspace().join("scripts/reference-indicators.sh"))
            .status()
            .expect("running scripts/reference-indicators.sh");
        assert!(
            status.success(),
            "making the indicator reference values failed (needs PyPI for TA-Lib and the data)"
        );
    }
    path
}

struct Table {
    columns: HashMap<String, Vec<Option<f64>>>,
    rows: usize,
}

impl Table {
    fn read(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect();
        let mut columns: HashMap<String, Vec<Option<f64>>> =
            header.iter().map(|h| (h.clone(), Vec::new())).collect();
        let mut rows = 0;
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(
                cells.len(),
                header.len(),
                "row {rows} of {}",
                path.display()
            );
            for (h, c) in header.iter().zip(cells) {
                let v = (!c.is_empty()).then(|| c.parse::<f64>().unwrap());
                columns.get_mut(h).unwrap().push(v);
            }
            rows += 1;
        }
        Self { columns, rows }
    }

    fn col(&self, name: &str) -> &[Option<f64>] {
        self.columns
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn input(&self, name: &str) -> Vec<f64> {
        self.col(name).iter().map(|v| v.unwrap()).collect()
    }
}

/// Compares `ours` with the reference column `name`, value by value.
fn compare(data: &str, t: &Table, name: &str, ours: &[Option<f64>]) {
    compare_where(data, t, name, ours, |_| true);
}

/// As [`compare`], skipping the bars where `check(i)` is false.
fn compare_where(
    data: &str,
    t: &Table,
    name: &str,
    ours: &[Option<f64>],
    check: impl Fn(usize) -> bool,
) {
    let theirs = t.col(name);
    assert_eq!(ours.len(), theirs.len());
    let first = theirs.iter().position(Option::is_some);
    assert_eq!(
        ours.iter().position(Option::is_some),
        first,
        "{data} {name}: first value on another bar than TA-Lib's"
    );
    let scale = theirs.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut checked = 0;
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        match (a, b) {
            (Some(a), Some(b)) => {
                if !check(i) {
                    continue;
                }
                let diff = (a - b).abs();
                assert!(
                    diff <= 1e-9 * b.abs() || diff <= 1e-12 * scale,
                    "{data} {name} bar {i}: ours {a}, TA-Lib {b}"
                );
                if *b != 0.0 {
                    worst = worst.max(diff / b.abs());
                }
                checked += 1;
            }
            (None, None) => {}
            _ => panic!("{data} {name} bar {i}: ours {a:?}, TA-Lib {b:?}"),
        }
    }
    assert!(
        checked > 1000,
        "{data} {name}: only {checked} values compared"
    );
    eprintln!("{data} {name}: {checked} values, worst relative difference {worst:e}");
}

fn run(data: &str) {
    let t = Table::read(&reference(data));
    let (ts, high, low, close, volume) = (
        t.input("ts_ms"),
        t.input("high"),
        t.input("low"),
        t.input("close"),
        t.input("volume"),
    );
    let n = t.rows;
    let bar = |i: usize| (high[i], low[i], close[i]);

    let mut sma = Sma::new(20);
    let mut ema = Ema::new(20);
    let mut rsi = Rsi::new(14);
    let mut sd = StdDev::new(20);
    let mut bb = Bollinger::new(20, 2.0);
    let mut macd = Macd::new(12, 26, 9);
    let mut tr = TrueRange::new();
    let mut atr = Atr::new(14);
    let mut wma = Wma::new(20);
    let mut dema = Dema::new(20);
    let mut tema = Tema::new(20);
    let mut roc = Roc::new(10);
    let mut mom = Momentum::new(10);
    let mut stoch = Stochastic::new(5, 3, 3);
    let mut willr = WilliamsR::new(14);
    let mut cci = Cci::new(20);
    let mut adx = Adx::new(14);
    let mut obv = Obv::new();
    let mut vwap = SessionVwap::daily();
    let mut kc = Keltner::new(20, 10, 2.0);
    let mut z = ZScore::new(20);
    let mut hi = Highest::new(20);
    let mut lo = Lowest::new(20);

    let mut out: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
    let mut put = |name: &'static str, v: Option<f64>| out.entry(name).or_default().push(v);
    for i in 0..n {
        let (h, l, c) = bar(i);
        put("sma20", sma.update(c));
        put("ema20", ema.update(c));
        put("rsi14", rsi.update(c));
        put("stddev20", sd.update(c));
        let b = bb.update(c);
        put("bb_upper", b.map(|b| b.upper));
        put("bb_middle", b.map(|b| b.middle));
        put("bb_lower", b.map(|b| b.lower));
        let m = macd.update(c);
        put("macd", m.map(|m| m.macd));
        put("macd_signal", m.map(|m| m.signal));
        put("macd_hist", m.map(|m| m.histogram));
        put("trange", tr.update(h, l, c));
        put("atr14", atr.update(h, l, c));
        put("wma20", wma.update(c));
        put("dema20", dema.update(c));
        put("tema20", tema.update(c));
        put("roc10", roc.update(c));
        put("mom10", mom.update(c));
        let s = stoch.update(h, l, c);
        put("stoch_k", s.map(|s| s.k));
        put("stoch_d", s.map(|s| s.d));
        put("willr14", willr.update(h, l, c));
        put("cci20", cci.update(h, l, c));
        let a = adx.update(h, l, c);
        put("adx14", a.map(|a| a.adx));
        put("plus_di14", adx.plus_di());
        put("minus_di14", adx.minus_di());
        put("obv", Some(obv.update(c, volume[i])));
        put("vwap", Some(vwap.update(ts[i] as i64, h, l, c, volume[i])));
        let k = kc.update(h, l, c);
        put("kc_upper", k.map(|k| k.upper));
        put("kc_middle", k.map(|k| k.middle));
        put("kc_lower", k.map(|k| k.lower));
        put("zscore20", z.update(c));
        put("highest20", hi.update(h));
        put("lowest20", lo.update(l));
    }

    // Where TA-Lib rounded a variance below 1e-8 to σ = 0, ours keeps the
    // real σ (below 1e-4): check that instead, and skip those bars below.
    let var = t.col("var20");
    let rounded = |i: usize| var[i].is_some_and(|v| v < 1e-8);
    for (i, v) in out["stddev20"].iter().enumerate() {
        if rounded(i) {
            assert!(
                v.is_some_and(|v| v < 1e-4),
                "{data} stddev20 bar {i}: {v:?}"
            );
        }
    }
    let kept = |i: usize| !rounded(i);
    for name in ["stddev20", "bb_upper", "bb_lower", "zscore20"] {
        compare_where(data, &t, name, &out[name], kept);
    }
    // TA-Lib's RSI of a window without any move is 0, ours 50 (documented).
    let moved = |i: usize| t.col("rsi14")[i] != Some(0.0) || out["rsi14"][i] != Some(50.0);
    compare_where(data, &t, "rsi14", &out["rsi14"], moved);
    for name in [
        "sma20",
        "ema20",
        "bb_middle",
        "macd",
        "macd_signal",
        "macd_hist",
        "trange",
        "atr14",
        "wma20",
        "dema20",
        "tema20",
        "roc10",
        "mom10",
        "stoch_k",
        "stoch_d",
        "willr14",
        "cci20",
        "adx14",
        "plus_di14",
        "minus_di14",
        "obv",
        "vwap",
        "kc_upper",
        "kc_middle",
        "kc_lower",
        "highest20",
        "lowest20",
    ] {
        compare(data, &t, name, &out[name]);
    }
}

#[test]
fn regression_14_4_indicators_match_ta_lib_on_goog() {
    run("GOOG");
}

#[test]
fn regression_14_4_indicators_match_ta_lib_on_eurusd() {
    run("EURUSD");
}

/// Each indicator's declared warm-up is the bar of its first value.
#[test]
fn regression_14_4_warmup_is_the_bar_of_the_first_value() {
    fn first(mut f: impl FnMut(f64) -> bool) -> u32 {
        (1..=500u32)
            .find(|&i| f(100.0 + (i as f64 * 0.7).sin() * 10.0 + i as f64))
            .unwrap()
    }
    macro_rules! check {
        ($ind:expr, |$s:ident, $x:ident| $update:expr) => {{
            let mut $s = $ind;
            let want = WarmUp::warmup_bars(&$s);
            assert_eq!(first(|$x| $update.is_some()), want, "{}", stringify!($ind));
        }};
    }
    check!(Sma::new(7), |s, x| s.update(x));
    check!(Ema::new(7), |s, x| s.update(x));
    check!(Rsi::new(7), |s, x| s.update(x));
    check!(StdDev::new(7), |s, x| s.update(x));
    check!(Bollinger::new(7, 2.0), |s, x| s.update(x));
    check!(ZScore::new(7), |s, x| s.update(x));
    check!(Macd::new(3, 7, 4), |s, x| s.update(x));
    check!(Wma::new(7), |s, x| s.update(x));
    check!(Dema::new(7), |s, x| s.update(x));
    check!(Tema::new(7), |s, x| s.update(x));
    check!(Roc::new(7), |s, x| s.update(x));
    check!(Momentum::new(7), |s, x| s.update(x));
    check!(Highest::new(7), |s, x| s.update(x));
    check!(Lowest::new(7), |s, x| s.update(x));
    check!(TrueRange::new(), |s, x| s.update(x + 1.0, x - 1.0, x));
    check!(Atr::new(7), |s, x| s.update(x + 1.0, x - 1.0, x));
    check!(Stochastic::new(5, 3, 4), |s, x| s.update(
        x + 1.0,
        x - 1.0,
        x
    ));
    check!(WilliamsR::new(7), |s, x| s.update(x + 1.0, x - 1.0, x));
    check!(Cci::new(7), |s, x| s.update(x + 1.0, x - 1.0, x));
    check!(Adx::new(7), |s, x| s.update(x + 1.0, x - 1.0, x));
    check!(Keltner::new(7, 9, 2.0), |s, x| s.update(
        x + 1.0,
        x - 1.0,
        x
    ));
    check!(Obv::new(), |s, x| Some(s.update(x, 1.0)));
    check!(SessionVwap::daily(), |s, x| Some(s.update(0, x, x, x, 1.0)));
}

/// Each indicator's state survives the snapshot codec mid-series: the
/// restored copy goes on exactly like the original (a hot swap).
#[test]
fn regression_14_4_every_indicator_survives_a_snapshot_mid_series() {
    fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(t: &T) -> T {
        postcard::from_bytes(&postcard::to_allocvec(t).unwrap()).unwrap()
    }
    fn check<T, O: PartialEq + std::fmt::Debug>(
        name: &str,
        mut ind: T,
        mut update: impl FnMut(&mut T, f64) -> O,
    ) where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let xs: Vec<f64> = (0..200)
            .map(|i| 50.0 + ((i * 37) % 23) as f64 * 0.5 + i as f64 * 0.1)
            .collect();
        for &x in &xs[..100] {
            update(&mut ind, x);
        }
        let mut copy = roundtrip(&ind);
        for &x in &xs[100..] {
            assert_eq!(update(&mut copy, x), update(&mut ind, x), "{name}");
        }
    }
    let hlc = |x: f64| (x + 1.5, x - 1.0, x);
    check("sma", Sma::new(20), |s, x| s.update(x));
    check("ema", Ema::new(20), |s, x| s.update(x));
    check("rsi", Rsi::new(14), |s, x| s.update(x));
    check("stddev", StdDev::new(20), |s, x| s.update(x));
    check("bollinger", Bollinger::new(20, 2.0), |s, x| s.update(x));
    check("zscore", ZScore::new(20), |s, x| s.update(x));
    check("macd", Macd::new(12, 26, 9), |s, x| s.update(x));
    check("wma", Wma::new(20), |s, x| s.update(x));
    check("dema", Dema::new(20), |s, x| s.update(x));
    check("tema", Tema::new(20), |s, x| s.update(x));
    check("roc", Roc::new(10), |s, x| s.update(x));
    check("momentum", Momentum::new(10), |s, x| s.update(x));
    check("highest", Highest::new(20), |s, x| s.update(x));
    check("lowest", Lowest::new(20), |s, x| s.update(x));
    check("cross", CrossDetector::new(), |s, x| s.update(x, 55.0));
    check("true range", TrueRange::new(), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("atr", Atr::new(14), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("stochastic", Stochastic::new(5, 3, 3), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("williams %r", WilliamsR::new(14), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("cci", Cci::new(20), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("adx", Adx::new(14), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("keltner", Keltner::new(20, 10, 2.0), |s, x| {
        let (h, l, c) = hlc(x);
        s.update(h, l, c)
    });
    check("obv", Obv::new(), |s, x| s.update(x, x * 10.0));
    // Timestamps from the value, so both copies see the same sessions.
    check("vwap", SessionVwap::new(3_600_000 * 7, 0), |s, x| {
        s.update((x * 10.0) as i64 * 3_600_000, x + 1.0, x - 1.0, x, 10.0)
    });
}

/// Only operations IEEE 754 rounds the same on every platform: a call to a
/// math-library function (whose last bit differs between Wasm and native
/// libm) in an indicator would break the bit-identical promise.
#[test]
fn regression_14_4_indicators_use_only_ieee_exact_operations() {
    let dir = workspace().join("guest-sdk/src/indicators");
    let mut scanned = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // Only the code, not the tests below it (which may use anything).
        let code = text.split("#[cfg(test)]").next().unwrap();
        for banned in [
            ".exp(",
            ".exp2(",
            ".exp_m1(",
            ".ln(",
            ".log(",
            ".log2(",
            ".log10(",
            ".ln_1p(",
            ".powf(",
            ".powi(",
            ".sin(",
            ".cos(",
            ".tan(",
            ".atan",
            ".cbrt(",
            ".hypot(",
            ".mul_add(",
            ".tanh(",
            ".sinh(",
            ".cosh(",
        ] {
            assert!(!code.contains(banned), "{}: uses {banned}", path.display());
        }
        scanned += 1;
    }
    assert!(scanned >= 15, "scanned {scanned} files");
}
