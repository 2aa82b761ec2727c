use super::*;
use sandbar_guest::indicators::{Atr, Cross, Macd};
use sandbar_guest::testing::{assert_readme_params, described_params, flatten, random_walk};
use sandbar_guest::{Harness, ParamKind, ParamValue, Side, value};

fn harness(params: &[(&str, ParamValue)]) -> Harness<MacdAtr> {
    Harness::with_params(&["BTCUSD"], params)
}

fn init_err(params: &[(&str, ParamValue)]) -> String {
    Harness::<MacdAtr>::init_error(&["BTCUSD"], params)
}

fn small(extra: &[(&'static str, ParamValue)]) -> Vec<(&'static str, ParamValue)> {
    let mut p = vec![
        ("fast", value(2u32)),
        ("slow", value(4u32)),
        ("signal", value(2u32)),
        ("atr_period", value(2u32)),
    ];
    p.extend(extra.iter().map(|(n, v)| (*n, v.clone())));
    p
}

/// The README's rule, written again from the SDK's indicators: the target
/// of every bar (`Harness::on_close` bars: high = low = close).
fn expected_targets(closes: &[f64], mult: f64, size: f64) -> Vec<f64> {
    let (mut macd, mut atr, mut stop) = (Macd::new(2, 4, 2), Atr::new(2), None::<f64>);
    let mut out = Vec::new();
    for &c in closes {
        let m = macd.update(c);
        let r = atr.update(c, c, c);
        if let (Some(_), Some(r)) = (m, r) {
            let trail = c - mult * r;
            let cross = macd.cross();
            stop = match stop {
                Some(s) if c >= s && cross != Some(Cross::Below) => Some(s.max(trail)),
                _ if cross == Some(Cross::Above) => Some(trail),
                _ => None,
            };
        }
        out.push(if stop.is_some() { size } else { 0.0 });
    }
    out
}

#[test]
fn follows_the_documented_rule_on_a_random_walk() {
    let closes = random_walk(21, 3000);
    let mut h = harness(&small(&[("atr_mult", value(1.5))]));
    let mut got = Vec::new();
    for &c in &closes {
        h.run_filled(0, &[c]);
        got.push(h.position(0).quantity);
    }
    assert_eq!(got, expected_targets(&closes, 1.5, 1.0));
    let entries = got.windows(2).filter(|w| w[0] == 0.0 && w[1] > 0.0).count();
    assert!(entries > 20, "{entries} entries");
}

#[test]
fn a_cross_above_buys_and_the_trailing_stop_sells_before_the_macd_turns() {
    let mut h = harness(&[
        ("fast", value(5u32)),
        ("slow", value(12u32)),
        ("signal", value(9u32)),
        ("atr_period", value(2u32)),
        ("atr_mult", value(0.05)),
        ("size", value(2.0)),
    ]);
    // Flat, then an accelerating rise: the MACD line crosses above its signal.
    let rise: Vec<f64> = (0..40)
        .map(|i: i32| 100.0 + (i - 20).max(0).pow(2) as f64)
        .collect();
    let orders = h.run_filled(0, &rise);
    assert_eq!(flatten(&orders), [(Side::Buy, 2.0)]);
    // A dip of 3: below the stop (close − 0.05 ATR, raised every bar) while
    // the MACD line is still above its signal.
    let dip = rise.last().unwrap() - 3.0;
    let mut macd = Macd::new(5, 12, 9);
    for &c in &rise {
        macd.update(c);
    }
    macd.update(dip);
    assert_eq!(macd.cross(), None);
    assert!(macd.value().unwrap().histogram > 0.0);
    assert_eq!(flatten(&h.run_filled(0, &[dip])), [(Side::Sell, 2.0)]);
}

#[test]
fn bad_params_are_refused_with_the_parameter_and_a_fix() {
    assert_eq!(
        init_err(&[("fast", value(26u32))]),
        "parameter `fast`: must be at most 25 bars (got 26); fast must be below slow"
    );
    assert_eq!(
        init_err(&[("slow", value(1u32))]),
        "parameter `slow`: must be at least 2 (got 1); the default is 26"
    );
    assert_eq!(
        init_err(&[("signal", value(0u32))]),
        "parameter `signal`: must be at least 1 (got 0); the default is 9"
    );
    assert!(init_err(&[("atr_period", value(0u32))]).starts_with("parameter `atr_period`"));
    assert!(init_err(&[("atr_mult", value(0.0))]).starts_with("parameter `atr_mult`"));
    assert!(init_err(&[("size", value(f64::NAN))]).starts_with("parameter `size`"));
}

#[test]
fn readme_parameter_table_matches_the_code() {
    assert_readme_params::<MacdAtrParams>(include_str!("../README.md"));
}

#[test]
fn regression_14_6_describe_derives_the_warmup_from_the_indicators() {
    let info = Harness::<MacdAtr>::new(&[]).describe();
    assert_eq!((info.name.as_str(), info.warmup_bars), ("macd-atr", 35));
    assert_eq!(
        described_params(&info)[0],
        ("fast", ParamKind::Int, ParamValue::Int(12))
    );
    assert_eq!(described_params(&info).len(), 6);
    // The ATR can be the slower: 40 bars then the cross one bar later.
    let p = MacdAtrParams {
        atr_period: 40,
        ..MacdAtrParams::default()
    };
    assert_eq!(MacdAtr::warmup_bars(&p), 42);
    // The first order can come on exactly that bar: none before it.
    let mut h = Harness::<MacdAtr>::with_defaults(&["BTCUSD"]);
    let first = (0..2000)
        .map(|i| 100.0 + i as f64 * 0.01 + if i > 40 { (i - 40) as f64 } else { 0.0 })
        .position(|c| !h.run_filled(0, &[c])[0].is_empty());
    assert!(first.is_some_and(|i| i + 1 >= 35), "{first:?}");
}

#[test]
fn snapshot_restored_into_a_fresh_instance_continues_identically() {
    let closes = random_walk(8, 1200);
    let (before, after) = closes.split_at(600);
    let params = small(&[]);
    let (mut a, mut b, mut cold) = (harness(&params), harness(&params), harness(&params));
    a.run_filled_mirrored(0, before, &mut [&mut b, &mut cold]);
    b.restore(a.snapshot()).expect("restore");
    assert_eq!(
        b.snapshot(),
        a.snapshot(),
        "the snapshot carries all the state"
    );
    let next_a = a.run_filled(0, after);
    assert!(!flatten(&next_a).is_empty());
    assert_eq!(b.run_filled(0, after), next_a);
    assert_ne!(cold.run_filled(0, after), next_a);
}

#[test]
fn restore_refuses_other_periods_but_takes_a_new_multiplier() {
    let mut a = Harness::<MacdAtr>::with_defaults(&["BTCUSD"]);
    a.run_filled(0, &random_walk(2, 80));
    let snapshot = a.snapshot();
    let mut other = harness(&[("signal", value(5u32))]);
    assert_eq!(
        other.restore(snapshot.clone()).unwrap_err(),
        "snapshot was taken with fast=12, slow=26, signal=9, atr_period=14, this instance runs \
         fast=12, slow=26, signal=5, atr_period=14; its MACD and ATR do not carry over, \
         warm up from history instead"
    );
    let mut wider = harness(&[("atr_mult", value(4.0))]);
    assert_eq!(wider.restore(snapshot), Ok(()));
}
