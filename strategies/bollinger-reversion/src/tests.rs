use super::*;
use sandbar_guest::indicators::Bollinger;
use sandbar_guest::testing::{assert_readme_params, described_params, flatten, random_walk};
use sandbar_guest::{Harness, ParamKind, ParamValue, Side, value};

fn harness(params: &[(&str, ParamValue)]) -> Harness<BollingerReversion> {
    Harness::with_params(&["BTCUSD"], params)
}

fn init_err(params: &[(&str, ParamValue)]) -> String {
    Harness::<BollingerReversion>::init_error(&["BTCUSD"], params)
}

/// period=3, k=1: bands from the 3rd bar.
fn small() -> Harness<BollingerReversion> {
    harness(&[("period", value(3u32)), ("k", value(1.0))])
}

#[test]
fn a_close_below_the_lower_band_buys_and_the_middle_band_sells() {
    let mut h = small();
    // Bar 3: window 10, 10, 7: mean 9, σ √2, lower 7.59: 7 is below it.
    let down = h.run_filled(0, &[10.0, 10.0, 7.0]);
    assert!(
        down[..2].iter().all(Vec::is_empty),
        "no order while warming up"
    );
    assert_eq!(flatten(&down), [(Side::Buy, 1.0)]);
    // Bar 4: window 10, 7, 8: mean 8.33; 8 is below the middle: hold.
    assert!(h.run_filled(0, &[8.0])[0].is_empty());
    // Bar 5: window 7, 8, 9: mean 8; 9 is at or above the middle: sell.
    assert_eq!(flatten(&h.run_filled(0, &[9.0])), [(Side::Sell, 1.0)]);
    assert_eq!(h.position(0).quantity, 0.0);
}

#[test]
fn bands_wider_than_the_window_allows_never_enter() {
    // In a window of n closes, the newest is at most √(n − 1) population σ
    // from the mean: with period 3, √2 < 1.5.
    let mut h = harness(&[("period", value(3u32)), ("k", value(1.5))]);
    assert!(flatten(&h.run_filled(0, &random_walk(4, 1000))).is_empty());
    let mut h = harness(&[("period", value(3u32)), ("k", value(1.4))]);
    assert!(!flatten(&h.run_filled(0, &random_walk(4, 1000))).is_empty());
}

#[test]
fn the_bands_are_the_sdk_bollinger_with_population_sigma() {
    // The strategy's rule read against the indicator it uses.
    let mut b = Bollinger::new(3, 1.0);
    for x in [10.0, 10.0] {
        b.update(x);
    }
    let bands = b.update(7.0).unwrap();
    assert_eq!(bands.middle, 9.0);
    assert!((bands.lower - (9.0 - 2.0f64.sqrt())).abs() < 1e-12);
}

#[test]
fn bad_params_are_refused_with_the_parameter_and_a_fix() {
    assert_eq!(
        init_err(&[("period", value(1u32))]),
        "parameter `period`: must be at least 2 (got 1); the default is 20"
    );
    assert_eq!(
        init_err(&[("period", value(100_001u32))]),
        "parameter `period`: must be at most 100000 bars (got 100001); the default is 20"
    );
    assert_eq!(
        init_err(&[("k", value(0.0))]),
        "parameter `k`: must be a number greater than 0 (got 0); the default is 2.0"
    );
    assert!(init_err(&[("size", value(-1.0))]).starts_with("parameter `size`"));
}

#[test]
fn readme_parameter_table_matches_the_code() {
    assert_readme_params::<BollingerParams>(include_str!("../README.md"));
}

#[test]
fn regression_14_6_describe_derives_the_warmup_from_the_bands() {
    let info = Harness::<BollingerReversion>::new(&[]).describe();
    assert_eq!(
        (info.name.as_str(), info.warmup_bars),
        ("bollinger-reversion", 20)
    );
    assert_eq!(
        described_params(&info),
        [
            ("period", ParamKind::Int, ParamValue::Int(20)),
            ("k", ParamKind::Float, ParamValue::Float(2.0)),
            ("size", ParamKind::Float, ParamValue::Float(1.0)),
        ]
    );
    let p = BollingerParams {
        period: 50,
        ..BollingerParams::default()
    };
    assert_eq!(BollingerReversion::warmup_bars(&p), 50);
}

#[test]
fn snapshot_restored_into_a_fresh_instance_continues_identically() {
    let closes = random_walk(11, 800);
    let (before, after) = closes.split_at(400);
    let mut a = harness(&[]);
    let mut b = harness(&[]);
    let mut cold = harness(&[]);
    a.run_filled_mirrored(0, before, &mut [&mut b, &mut cold]);
    b.restore(a.snapshot()).expect("restore");
    assert_eq!(
        b.snapshot(),
        a.snapshot(),
        "the snapshot carries all the state"
    );
    let next_a = a.run_filled(0, after);
    assert!(
        !flatten(&next_a).is_empty(),
        "pick a seed that trades after the swap"
    );
    assert_eq!(b.run_filled(0, after), next_a);
    // Without the snapshot the bands start cold and the first orders differ.
    assert_ne!(cold.run_filled(0, after), next_a);
}

#[test]
fn restore_refuses_another_period_or_width_and_other_symbols() {
    let mut a = harness(&[]);
    a.run_filled(0, &random_walk(2, 50));
    let snapshot = a.snapshot();
    let mut wider = harness(&[("k", value(2.5))]);
    assert_eq!(
        wider.restore(snapshot.clone()).unwrap_err(),
        "snapshot was taken with period=20, k=2, this instance runs period=20, k=2.5; \
         its bands do not carry over, warm up from history instead"
    );
    let mut other = Harness::<BollingerReversion>::with_defaults(&["ETHUSD"]);
    assert!(
        other
            .restore(snapshot.clone())
            .unwrap_err()
            .contains("ETHUSD")
    );
    // The size may change across a swap.
    let mut bigger = harness(&[("size", value(3.0))]);
    assert_eq!(bigger.restore(snapshot), Ok(()));
}

#[test]
fn trades_a_random_walk_and_keeps_symbols_apart() {
    let mut h = Harness::<BollingerReversion>::with_defaults(&["A", "B"]);
    let walk = random_walk(5, 2000);
    let orders = h.run_filled(0, &walk);
    let trades = flatten(&orders);
    assert!(trades.len() > 10, "{} orders", trades.len());
    assert!(orders.iter().filter(|o| o.is_empty()).count() > walk.len() * 9 / 10);
    assert_eq!(h.position(1).quantity, 0.0, "symbol B saw no bar");
    assert!(
        h.run_filled(7, &[1.0])[0].is_empty(),
        "unknown symbol ignored"
    );
}
