use super::*;
use sandbar_guest::testing::{
    Lcg, assert_readme_params, described_params, flatten, random_walk, triangle,
};
use sandbar_guest::{Harness, LogLevel, OrderKind, ParamKind, ParamValue, Side, value};

fn harness(params: &[(&str, ParamValue)]) -> Harness<RsiReversion> {
    Harness::with_params(&["BTCUSD"], params)
}

/// period=3: the RSI is ready on the 4th close.
fn small(extra: &[(&str, ParamValue)]) -> Harness<RsiReversion> {
    let mut params = vec![("period", value(3u32))];
    params.extend_from_slice(extra);
    harness(&params)
}

fn init_err(params: &[(&str, ParamValue)]) -> String {
    Harness::<RsiReversion>::init_error(&["BTCUSD"], params)
}

/// A market that swings around 100: 30-bar legs of 0.3 per bar, plus noise.
fn swinging(seed: u64, bars: usize) -> Vec<f64> {
    let mut lcg = Lcg::new(seed);
    let mut trend = 100.0;
    let mut step = 0.3;
    (0..bars)
        .map(|i| {
            if i > 0 && i % 30 == 0 {
                step = -step;
            }
            trend += step;
            trend + (lcg.unit() - 0.5)
        })
        .collect()
}

// --- signal logic ---------------------------------------------------------
// With period=3 and closes 10, 9, 8, 7 the RSI is 0; a following 8 gives
// 33.3, a 9 after that 55.6, then a 10 gives 70.4 (Wilder's smoothing).

#[test]
fn oversold_buys_size_and_recovery_past_exit_sells_back_to_flat() {
    let mut h = small(&[("size", value(2.5))]);
    let down = h.run_filled(0, &[10.0, 9.0, 8.0, 7.0]);
    assert!(
        down[..3].iter().all(Vec::is_empty),
        "no order while warming up"
    );
    assert_eq!(flatten(&down), [(Side::Buy, 2.5)]);
    assert_eq!(h.position(0).quantity, 2.5);

    // RSI 33.3: above oversold but below exit, so the long is kept.
    assert!(h.run_filled(0, &[8.0])[0].is_empty());
    // RSI 55.6 > 50: back to flat.
    assert_eq!(flatten(&h.run_filled(0, &[9.0])), [(Side::Sell, 2.5)]);
    assert_eq!(h.position(0).quantity, 0.0);
}

#[test]
fn a_higher_exit_holds_the_long_longer() {
    let mut h = small(&[("exit", value(60.0))]);
    let orders = h.run_filled(0, &[10.0, 9.0, 8.0, 7.0, 8.0, 9.0, 10.0]);
    // Bought at RSI 0; kept at 33.3 and 55.6; sold at 70.4 > 60.
    assert_eq!(flatten(&orders), [(Side::Buy, 1.0), (Side::Sell, 1.0)]);
    assert_eq!(orders[3].len(), 1);
    assert_eq!(orders[6].len(), 1);
}

#[test]
fn a_lower_oversold_waits_for_a_deeper_dip() {
    // Two losses of 1 and a gain of 0.5: average gain 1/6, loss 2/3, RSI 20.
    let closes = [10.0, 9.0, 8.0, 8.5];
    assert_eq!(flatten(&small(&[]).run_filled(0, &closes)).len(), 1);
    let strict = &mut small(&[("oversold", value(15.0))]);
    assert!(flatten(&strict.run_filled(0, &closes)).is_empty());
}

#[test]
fn allow_short_sells_overbought_and_covers_below_exit() {
    let mut h = small(&[("allow_short", value(true))]);
    // Three gains: RSI 100 > 70.
    let up = h.run_filled(0, &[10.0, 11.0, 12.0, 13.0]);
    assert_eq!(flatten(&up), [(Side::Sell, 1.0)]);
    assert_eq!(h.position(0).quantity, -1.0);
    // RSI 66.7: still above exit, the short is kept; then 44.4 < 50: covered.
    let down = h.run_filled(0, &[12.0, 11.0]);
    assert!(down[0].is_empty());
    assert_eq!(flatten(&down), [(Side::Buy, 1.0)]);
    assert_eq!(h.position(0).quantity, 0.0);
}

#[test]
fn long_only_ignores_overbought() {
    let rising: Vec<f64> = (0..50).map(|i| 100.0 + i as f64).collect();
    assert!(flatten(&small(&[]).run_filled(0, &rising)).is_empty());
}

#[test]
fn a_jump_from_oversold_to_overbought_flips_long_to_short_in_one_order() {
    let closes = [10.0, 9.0, 8.0, 7.0, 20.0]; // RSI 0, then 86.7
    let mut short = small(&[("allow_short", value(true)), ("size", value(1.5))]);
    assert_eq!(
        flatten(&short.run_filled(0, &closes)),
        [(Side::Buy, 1.5), (Side::Sell, 3.0)]
    );
    assert_eq!(short.position(0).quantity, -1.5);

    let mut long_only = small(&[]);
    assert_eq!(
        flatten(&long_only.run_filled(0, &closes)),
        [(Side::Buy, 1.0), (Side::Sell, 1.0)]
    );
}

#[test]
fn first_order_comes_exactly_after_the_reported_warmup() {
    let mut h = Harness::<RsiReversion>::with_defaults(&["BTCUSD"]);
    let warmup = h.describe().warmup_bars as usize;
    assert_eq!(warmup, 15);
    let falling: Vec<f64> = (0..30).map(|i| 100.0 - i as f64).collect();
    let orders = h.run_filled(0, &falling);
    assert!(orders[..warmup - 1].iter().all(Vec::is_empty));
    assert_eq!(orders[warmup - 1].len(), 1);
    assert_eq!(flatten(&orders).len(), 1, "held while the RSI stays low");
}

#[test]
fn targeting_reorders_until_filled_then_stops() {
    let mut h = small(&[]);
    for close in [10.0, 9.0, 8.0] {
        assert!(h.on_close(0, close).is_empty());
    }
    assert_eq!(h.on_close(0, 7.0).len(), 1);
    // Not filled yet: the host still reports flat, so the order is repeated.
    let again = h.on_close(0, 6.0);
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].side, again[0].quantity), (Side::Buy, 1.0));
    assert_eq!(again[0].kind, OrderKind::Market);
    h.fill(&again[0], 6.0);
    assert_eq!(h.position(0).quantity, 1.0);
    assert!(h.on_close(0, 5.0).is_empty());
    assert!(h.on_close(0, 4.0).is_empty());
}

// --- symbols --------------------------------------------------------------

#[test]
fn symbols_keep_separate_rsis() {
    let mut both = Harness::<RsiReversion>::new(&["A", "B"]);
    both.init(&[("period", value(3u32))]).unwrap();
    let falling = [10.0, 9.0, 8.0, 7.0];
    let rising = [10.0, 11.0, 12.0, 13.0];
    let mut got = Vec::new();
    for (&a, &b) in falling.iter().zip(&rising) {
        got.extend(both.on_close(0, a));
        got.extend(both.on_close(1, b));
    }
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].symbol, got[0].side), (0, Side::Buy));
}

#[test]
fn bars_of_unknown_symbols_are_ignored() {
    let closes = swinging(7, 300);
    let mut clean = harness(&[]);
    let expected = clean.run_filled(0, &closes);
    assert!(!flatten(&expected).is_empty());

    let mut noisy = harness(&[]);
    let mut got = Vec::new();
    for (i, &close) in closes.iter().enumerate() {
        assert!(noisy.on_close(3, 1000.0 - i as f64).is_empty());
        got.extend(noisy.run_filled(0, &[close]));
    }
    assert_eq!(got, expected);
}

#[test]
fn non_finite_closes_are_skipped_without_poisoning_the_rsi() {
    let closes = swinging(11, 300);
    let expected = harness(&[]).run_filled(0, &closes);

    let mut h = harness(&[]);
    let mut got = h.run_filled(0, &closes[..100]);
    assert!(h.on_close(0, f64::NAN).is_empty());
    assert!(h.on_close(0, f64::NEG_INFINITY).is_empty());
    assert_eq!(h.logs_at(LogLevel::Warn).len(), 2);
    got.extend(h.run_filled(0, &closes[100..]));
    assert_eq!(flatten(&got), flatten(&expected));
}

// --- activity on synthetic markets ----------------------------------------

#[test]
fn trades_a_random_walk_but_stays_silent_on_most_bars() {
    for allow_short in [false, true] {
        let closes = random_walk(42, 10_000);
        let activity = harness(&[("allow_short", value(allow_short))]).activity(0, &closes);
        let (entries, busy) = (activity.entries, activity.busy_bars);
        assert!(
            entries >= 10,
            "allow_short={allow_short}: only {entries} entries"
        );
        assert!(
            busy * 10 < closes.len(),
            "allow_short={allow_short}: {busy} busy bars"
        );
    }
}

#[test]
fn trades_a_mean_reverting_market_often_but_not_on_most_bars() {
    let closes = swinging(5, 10_000);
    for allow_short in [false, true] {
        let activity = harness(&[("allow_short", value(allow_short))]).activity(0, &closes);
        let (entries, busy) = (activity.entries, activity.busy_bars);
        assert!(
            entries >= 100,
            "allow_short={allow_short}: only {entries} entries"
        );
        assert!(
            busy * 10 < closes.len(),
            "allow_short={allow_short}: {busy} busy bars"
        );
    }
}

#[test]
fn buys_every_dip_and_sells_every_recovery_of_a_swinging_market() {
    let mut closes = triangle(10, 20);
    closes.extend((1..=20).map(|i| 100.0 + i as f64)); // a last recovery
    let orders = flatten(&harness(&[]).run_filled(0, &closes));
    let expected: Vec<_> = (0..10)
        .flat_map(|_| [(Side::Buy, 1.0), (Side::Sell, 1.0)])
        .collect();
    assert_eq!(orders, expected);
}

// --- parameters -----------------------------------------------------------

#[test]
fn readme_parameter_table_matches_the_code() {
    assert_readme_params::<RsiReversionParams>(include_str!("../README.md"));
}

#[test]
fn defaults_are_accepted_and_documented() {
    let p = RsiReversionParams::default();
    assert_eq!(
        (
            p.period,
            p.oversold,
            p.overbought,
            p.exit,
            p.size,
            p.allow_short
        ),
        (14, 30.0, 70.0, 50.0, 1.0, false)
    );
    Harness::<RsiReversion>::with_defaults(&["BTCUSD"]);
}

#[test]
fn describe_reports_name_params_defaults_and_warmup() {
    let info = Harness::<RsiReversion>::new(&[]).describe();
    assert_eq!(info.name, "rsi-reversion");
    assert_eq!(info.version, "0.1.0");
    assert!(info.description.contains("RSI"), "{}", info.description);
    assert_eq!(info.warmup_bars, 15);
    assert_eq!(
        described_params(&info),
        [
            ("period", ParamKind::Int, ParamValue::Int(14)),
            ("oversold", ParamKind::Float, ParamValue::Float(30.0)),
            ("overbought", ParamKind::Float, ParamValue::Float(70.0)),
            ("exit", ParamKind::Float, ParamValue::Float(50.0)),
            ("size", ParamKind::Float, ParamValue::Float(1.0)),
            (
                "allow_short",
                ParamKind::Boolean,
                ParamValue::Boolean(false)
            ),
        ]
    );
}

#[test]
fn warmup_is_one_bar_more_than_the_period() {
    let p = RsiReversionParams {
        period: 2,
        ..RsiReversionParams::default()
    };
    assert_eq!(RsiReversion::warmup_bars(&p), 3);
}

#[test]
fn thresholds_out_of_order_are_refused_with_the_rule() {
    let rule = "the thresholds must satisfy 0 < oversold < exit < overbought < 100";
    assert_eq!(
        init_err(&[("oversold", value(0.0))]),
        format!("parameter `oversold`: must be above 0 (got 0); {rule}")
    );
    assert_eq!(
        init_err(&[("oversold", value(55.0))]),
        format!("parameter `oversold`: must be below exit (got oversold=55, exit=50); {rule}")
    );
    assert_eq!(
        init_err(&[("exit", value(30.0))]),
        format!("parameter `oversold`: must be below exit (got oversold=30, exit=30); {rule}")
    );
    assert_eq!(
        init_err(&[("overbought", value(45.5))]),
        format!(
            "parameter `exit`: must be below overbought (got exit=50, overbought=45.5); {rule}"
        )
    );
    assert_eq!(
        init_err(&[("overbought", value(100))]),
        format!("parameter `overbought`: must be below 100 (got 100); {rule}")
    );
    // A consistent custom set is fine.
    let mut h = Harness::<RsiReversion>::new(&["BTCUSD"]);
    let custom = [
        ("oversold", value(20)),
        ("exit", value(45.0)),
        ("overbought", value(80.0)),
    ];
    assert_eq!(h.init(&custom), Ok(()));
}

#[test]
fn too_short_or_too_long_period_is_refused() {
    assert_eq!(
        init_err(&[("period", value(1u32))]),
        "parameter `period`: must be at least 2 (got 1); a 1-bar RSI only says up or down. \
         The default is 14"
    );
    assert_eq!(
        init_err(&[("period", value(MAX_PERIOD + 1))]),
        "parameter `period`: must be at most 100000 bars (got 100001)"
    );
}

#[test]
fn non_positive_size_is_refused() {
    assert_eq!(
        init_err(&[("size", value(-2.0))]),
        "parameter `size`: must be a number greater than 0 (got -2); \
         to sell short, set allow_short = true"
    );
}

#[test]
fn misspelled_and_mistyped_params_are_refused_by_the_sdk() {
    assert_eq!(
        init_err(&[("oversld", value(25.0))]),
        "unknown parameter `oversld`; did you mean `oversold`?"
    );
    assert_eq!(
        init_err(&[("allow_short", value(1))]),
        "parameter `allow_short` must be true or false, got the integer 1"
    );
}

// --- hot swap -------------------------------------------------------------

#[test]
fn snapshot_restored_into_a_fresh_instance_continues_identically() {
    let params = [("period", value(10u32)), ("allow_short", value(true))];
    let closes = swinging(3, 1_000);
    let mut a = harness(&params);
    let mut b = harness(&params);
    let mut cold = harness(&params);
    // Swap after at least 400 bars, in the middle of a trade: a position has
    // been open for more bars than the RSI needs to warm up.
    let (mut split, mut held) = (0, 0);
    while split < 400 || held <= 12 {
        let before = a.position(0).quantity;
        a.run_filled_mirrored(0, &closes[split..=split], &mut [&mut b, &mut cold]);
        let after = a.position(0).quantity;
        held = if after != 0.0 && after == before {
            held + 1
        } else {
            0
        };
        split += 1;
    }
    let after = &closes[split..];
    assert!(after.len() >= 500, "swapped too late: bar {split}");

    b.restore(a.snapshot()).expect("restore");
    assert_eq!(
        b.snapshot(),
        a.snapshot(),
        "the snapshot carries all the state"
    );

    let next_a = a.run_filled(0, after);
    let next_b = b.run_filled(0, after);
    assert!(!flatten(&next_a).is_empty());
    assert_eq!(next_a, next_b);

    // Without the snapshot the RSI starts cold, misses the open trade and
    // closes it early.
    assert_ne!(cold.run_filled(0, after), next_a);
}

#[test]
fn restore_with_shorting_switched_off_covers_the_short() {
    let closes = [10.0, 11.0, 12.0, 13.0];
    let mut a = small(&[("allow_short", value(true))]);
    let orders = a.run_filled(0, &closes);
    assert_eq!(a.position(0).quantity, -1.0);

    let mut b = small(&[]);
    b.fill(&orders[3][0], 13.0);
    b.restore(a.snapshot()).unwrap();
    // RSI still 100: the new parameters no longer allow the short.
    assert_eq!(flatten(&b.run_filled(0, &[14.0])), [(Side::Buy, 1.0)]);
    // And it is then really flat: an oversold dip buys again.
    let dip = b.run_filled(0, &[5.0, 4.0]);
    assert_eq!(flatten(&dip), [(Side::Buy, 1.0)]);
}

#[test]
fn restore_refuses_another_period_and_other_symbols() {
    let mut a = small(&[]);
    a.run_filled(0, &[1.0, 2.0, 3.0]);
    let snapshot = a.snapshot();

    assert_eq!(
        harness(&[("period", value(4u32))])
            .restore(snapshot.clone())
            .unwrap_err(),
        "snapshot was taken with period=3, this instance runs period=4; \
         its RSI does not carry over, warm up from history instead"
    );

    let mut other_symbols = Harness::<RsiReversion>::new(&["BTCUSD", "ETHUSD"]);
    other_symbols.init(&[("period", value(3u32))]).unwrap();
    assert_eq!(
        other_symbols.restore(snapshot).unwrap_err(),
        "snapshot was taken for symbols [\"BTCUSD\"], this instance trades [\"BTCUSD\", \"ETHUSD\"]; \
         warm up from history instead"
    );
}
