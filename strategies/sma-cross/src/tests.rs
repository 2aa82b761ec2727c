use super::*;
use sandbar_guest::testing::{
    assert_readme_params, described_params, flatten, random_walk, triangle,
};
use sandbar_guest::{Harness, LogLevel, ParamKind, ParamValue, Side, value};

fn harness(params: &[(&str, ParamValue)]) -> Harness<SmaCross> {
    Harness::with_params(&["BTCUSD"], params)
}

/// fast=2, slow=4: warmed up on the 4th bar.
fn small(extra: &[(&str, ParamValue)]) -> Harness<SmaCross> {
    let mut params = vec![("fast", value(2u32)), ("slow", value(4u32))];
    params.extend_from_slice(extra);
    harness(&params)
}

fn init_err(params: &[(&str, ParamValue)]) -> String {
    Harness::<SmaCross>::init_error(&["BTCUSD"], params)
}

// --- signal logic ---------------------------------------------------------

#[test]
fn rising_prices_buy_size_then_falling_prices_sell_back_to_flat() {
    let mut h = small(&[("size", value(2.5))]);
    let up = h.run_filled(0, &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0]);
    assert!(
        up[..3].iter().all(Vec::is_empty),
        "no order while warming up"
    );
    assert_eq!(flatten(&up), [(Side::Buy, 2.5)]);
    assert_eq!(up[3].len(), 1, "the buy comes on the 4th bar");
    assert_eq!(h.position(0).quantity, 2.5);

    let down = h.run_filled(0, &[14.0, 13.0, 12.0, 11.0, 10.0, 9.0]);
    assert_eq!(flatten(&down), [(Side::Sell, 2.5)]);
    assert_eq!(h.position(0).quantity, 0.0);
}

#[test]
fn allow_short_flips_between_long_and_short() {
    let mut h = small(&[("allow_short", value(true)), ("size", value(2.0))]);
    let up = h.run_filled(0, &[10.0, 11.0, 12.0, 13.0]);
    assert_eq!(flatten(&up), [(Side::Buy, 2.0)]);
    let down = h.run_filled(0, &[12.0, 11.0, 10.0, 9.0]);
    assert_eq!(flatten(&down), [(Side::Sell, 4.0)]);
    assert_eq!(h.position(0).quantity, -2.0);
    let up = h.run_filled(0, &[10.0, 11.0, 12.0, 13.0]);
    assert_eq!(flatten(&up), [(Side::Buy, 4.0)]);
    assert_eq!(h.position(0).quantity, 2.0);
}

#[test]
fn long_only_stays_flat_in_a_downtrend_but_short_sells_it() {
    let falling: Vec<f64> = (0..40).map(|i| 100.0 - i as f64).collect();
    let mut long_only = Harness::<SmaCross>::with_defaults(&["BTCUSD"]);
    assert!(flatten(&long_only.run_filled(0, &falling)).is_empty());

    let mut short = harness(&[("allow_short", value(true))]);
    let orders = short.run_filled(0, &falling);
    assert_eq!(flatten(&orders), [(Side::Sell, 1.0)]);
    assert_eq!(orders[29].len(), 1, "sells on the 30th bar, once warmed up");
}

#[test]
fn first_order_comes_exactly_after_the_reported_warmup() {
    let mut h = Harness::<SmaCross>::with_defaults(&["BTCUSD"]);
    let warmup = h.describe().warmup_bars as usize;
    assert_eq!(warmup, 30);
    let rising: Vec<f64> = (0..40).map(|i| 100.0 + i as f64).collect();
    let orders = h.run_filled(0, &rising);
    assert!(orders[..warmup - 1].iter().all(Vec::is_empty));
    assert_eq!(orders[warmup - 1].len(), 1);
}

#[test]
fn a_tie_between_the_averages_keeps_the_position() {
    let mut h = small(&[]);
    assert_eq!(
        flatten(&h.run_filled(0, &[10.0, 11.0, 12.0, 13.0])).len(),
        1
    );
    // Flat prices: the averages converge to a tie, which is not a cross.
    let flat = h.run_filled(0, &[13.0; 10]);
    assert!(flatten(&flat).is_empty(), "{flat:?}");
    assert_eq!(h.position(0).quantity, 1.0);
    let down = h.run_filled(0, &[12.0]);
    assert_eq!(flatten(&down), [(Side::Sell, 1.0)]);
}

#[test]
fn a_tie_on_the_first_warmed_up_bar_counts_as_down() {
    let flat = [10.0; 6];
    let mut short = small(&[("allow_short", value(true))]);
    let orders = short.run_filled(0, &flat);
    assert_eq!(flatten(&orders), [(Side::Sell, 1.0)]);
    assert_eq!(orders[3].len(), 1);
    assert!(flatten(&small(&[]).run_filled(0, &flat)).is_empty());
}

#[test]
fn targeting_reorders_until_filled_then_stops() {
    let mut h = small(&[]);
    for close in [10.0, 11.0, 12.0] {
        assert!(h.on_close(0, close).is_empty());
    }
    let first = h.on_close(0, 13.0);
    assert_eq!(first.len(), 1);
    // Not filled yet: the host still reports flat, so the order is repeated.
    let again = h.on_close(0, 14.0);
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].side, again[0].quantity), (Side::Buy, 1.0));
    h.fill(&again[0], 14.0);
    assert_eq!(h.position(0).quantity, 1.0);
    assert!(h.on_close(0, 15.0).is_empty());
    assert!(h.on_close(0, 16.0).is_empty());
}

#[test]
fn orders_are_market_orders_for_the_bars_symbol() {
    let mut h = Harness::<SmaCross>::new(&["BTCUSD", "ETHUSD"]);
    h.init(&[("fast", value(2u32)), ("slow", value(4u32))])
        .unwrap();
    let orders = h.run_filled(1, &[10.0, 11.0, 12.0, 13.0]);
    let order = &orders[3][0];
    assert_eq!(order.symbol, 1);
    assert_eq!(order.kind, sandbar_guest::OrderKind::Market);
}

// --- symbols --------------------------------------------------------------

#[test]
fn symbols_keep_separate_averages() {
    let mut both = Harness::<SmaCross>::new(&["A", "B"]);
    both.init(&[("fast", value(2u32)), ("slow", value(4u32))])
        .unwrap();
    let rising = [10.0, 11.0, 12.0, 13.0, 14.0];
    let falling = [20.0, 19.0, 18.0, 17.0, 16.0];
    let mut got = Vec::new();
    for (&a, &b) in rising.iter().zip(&falling) {
        got.extend(both.on_close(0, a));
        got.extend(both.on_close(1, b));
    }
    // A (rising) buys on its 4th bar and repeats while unfilled; B never trades.
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|o| o.symbol == 0 && o.side == Side::Buy));
}

#[test]
fn bars_of_unknown_symbols_are_ignored() {
    let closes = random_walk(7, 300);
    let mut clean = small(&[]);
    let expected = clean.run_filled(0, &closes);
    assert!(!flatten(&expected).is_empty());

    let mut noisy = small(&[]);
    let mut got = Vec::new();
    for (i, &close) in closes.iter().enumerate() {
        // A symbol index the strategy was not given, with wild prices.
        assert!(noisy.on_close(5, 1000.0 - i as f64).is_empty());
        got.extend(noisy.run_filled(0, &[close]));
    }
    assert_eq!(got, expected);
}

#[test]
fn non_finite_closes_are_skipped_without_poisoning_the_averages() {
    let closes = random_walk(11, 200);
    let mut clean = small(&[]);
    let expected = clean.run_filled(0, &closes);

    let mut h = small(&[]);
    let mut got = h.run_filled(0, &closes[..50]);
    assert!(h.on_close(0, f64::NAN).is_empty());
    assert!(h.on_close(0, f64::INFINITY).is_empty());
    assert_eq!(h.logs_at(LogLevel::Warn).len(), 2);
    got.extend(h.run_filled(0, &closes[50..]));
    assert_eq!(flatten(&got), flatten(&expected));
}

// --- activity on synthetic markets ----------------------------------------

#[test]
fn trades_a_random_walk_but_stays_silent_on_most_bars() {
    for allow_short in [false, true] {
        let closes = random_walk(42, 10_000);
        let mut h = harness(&[("allow_short", value(allow_short))]);
        let activity = h.activity(0, &closes);
        let (entries, busy) = (activity.entries, activity.busy_bars);
        assert!(
            entries >= 10,
            "allow_short={allow_short}: only {entries} entries"
        );
        assert!(
            busy * 10 < closes.len(),
            "allow_short={allow_short}: {busy} busy bars"
        );
        // Every order is a move between -size, 0 and size.
        for o in &activity.orders {
            assert!(
                o.quantity == 1.0 || (allow_short && o.quantity == 2.0),
                "{o:?}"
            );
        }
    }
}

#[test]
fn follows_each_swing_of_a_trending_market_once() {
    let closes = triangle(10, 60);
    let mut h = Harness::<SmaCross>::with_defaults(&["BTCUSD"]);
    let orders = flatten(&h.run_filled(0, &closes));
    let buys = orders.iter().filter(|(s, _)| *s == Side::Buy).count();
    let sells = orders.iter().filter(|(s, _)| *s == Side::Sell).count();
    assert_eq!((buys, sells), (10, 10), "{orders:?}");
}

// --- parameters -----------------------------------------------------------

#[test]
fn readme_parameter_table_matches_the_code() {
    assert_readme_params::<SmaCrossParams>(include_str!("../README.md"));
}

#[test]
fn defaults_are_accepted_and_documented() {
    let p = SmaCrossParams::default();
    assert_eq!(
        (p.fast, p.slow, p.size, p.allow_short),
        (10, 30, 1.0, false)
    );
    Harness::<SmaCross>::with_defaults(&["BTCUSD"]);
}

#[test]
fn describe_reports_name_params_defaults_and_warmup() {
    let info = Harness::<SmaCross>::new(&[]).describe();
    assert_eq!(info.name, "sma-cross");
    assert_eq!(info.version, "0.1.0");
    assert!(info.description.contains("SMA"), "{}", info.description);
    assert_eq!(info.warmup_bars, 30);
    assert_eq!(
        described_params(&info),
        [
            ("fast", ParamKind::Int, ParamValue::Int(10)),
            ("slow", ParamKind::Int, ParamValue::Int(30)),
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
fn warmup_follows_the_slow_lookback() {
    let p = SmaCrossParams {
        slow: 50,
        ..SmaCrossParams::default()
    };
    assert_eq!(SmaCross::warmup_bars(&p), 50);
}

#[test]
fn fast_not_below_slow_is_refused_with_both_values() {
    assert_eq!(
        init_err(&[("fast", value(30u32)), ("slow", value(10u32))]),
        "parameter `fast`: must be smaller than slow (got fast=30, slow=10); \
         the defaults are fast=10, slow=30"
    );
    assert_eq!(
        init_err(&[("fast", value(20u32)), ("slow", value(20u32))]),
        "parameter `fast`: must be smaller than slow (got fast=20, slow=20); \
         the defaults are fast=10, slow=30"
    );
    // Only fast given: checked against the default slow.
    assert!(init_err(&[("fast", value(40u32))]).contains("got fast=40, slow=30"));
}

#[test]
fn zero_fast_is_refused() {
    assert_eq!(
        init_err(&[("fast", value(0u32))]),
        "parameter `fast`: must be at least 1 (got 0); the default is 10"
    );
}

#[test]
fn huge_slow_is_refused() {
    assert_eq!(
        init_err(&[("slow", value(MAX_PERIOD + 1))]),
        "parameter `slow`: must be at most 100000 bars (got 100001); \
         use a coarser bar size for longer lookbacks"
    );
    let mut h = Harness::<SmaCross>::new(&["BTCUSD"]);
    assert_eq!(h.init(&[("slow", value(MAX_PERIOD))]), Ok(()));
}

#[test]
fn non_positive_size_is_refused() {
    assert_eq!(
        init_err(&[("size", value(0.0))]),
        "parameter `size`: must be a number greater than 0 (got 0); \
         to sell short, set allow_short = true"
    );
    assert!(init_err(&[("size", value(-1.5))]).contains("(got -1.5)"));
}

#[test]
fn misspelled_and_mistyped_params_are_refused_by_the_sdk() {
    assert_eq!(
        init_err(&[("slwo", value(20u32))]),
        "unknown parameter `slwo`; did you mean `slow`?"
    );
    assert_eq!(
        init_err(&[("fast", value(2.5))]),
        "parameter `fast` must be an integer, got the number 2.5"
    );
}

// --- hot swap -------------------------------------------------------------

fn swap_params() -> Vec<(&'static str, ParamValue)> {
    vec![
        ("fast", value(5u32)),
        ("slow", value(20u32)),
        ("allow_short", value(true)),
    ]
}

#[test]
fn snapshot_restored_into_a_fresh_instance_continues_identically() {
    let closes = random_walk(3, 800);
    let (before, after) = closes.split_at(400);

    let mut a = harness(&swap_params());
    let mut b = harness(&swap_params());
    let mut cold = harness(&swap_params());
    a.run_filled_mirrored(0, before, &mut [&mut b, &mut cold]);
    assert_ne!(
        a.position(0).quantity,
        0.0,
        "pick a seed that swaps mid-position"
    );

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

    // Without the snapshot the averages start cold and the orders differ.
    let next_cold = cold.run_filled(0, after);
    assert_ne!(next_cold, next_a);
}

#[test]
fn restore_applies_the_new_size_but_keeps_the_trend() {
    let mut a = small(&[]);
    let closes = [10.0, 11.0, 12.0, 13.0];
    assert_eq!(flatten(&a.run_filled(0, &closes)).len(), 1);

    let mut b = small(&[("size", value(3.0))]);
    b.fill(&small(&[]).run_filled(0, &closes)[3][0], 13.0);
    b.restore(a.snapshot()).unwrap();
    let orders = b.on_close(0, 14.0);
    assert_eq!(orders.len(), 1);
    assert_eq!((orders[0].side, orders[0].quantity), (Side::Buy, 2.0));
}

#[test]
fn restore_refuses_other_lookbacks_and_other_symbols() {
    let mut a = small(&[]);
    a.run_filled(0, &[1.0, 2.0, 3.0]);
    let snapshot = a.snapshot();

    let mut other_periods = harness(&[("fast", value(2u32)), ("slow", value(5u32))]);
    assert_eq!(
        other_periods.restore(snapshot.clone()).unwrap_err(),
        "snapshot was taken with fast=2, slow=4, this instance runs fast=2, slow=5; \
         its averages do not carry over, warm up from history instead"
    );

    let mut other_symbols = Harness::<SmaCross>::new(&["ETHUSD"]);
    other_symbols
        .init(&[("fast", value(2u32)), ("slow", value(4u32))])
        .unwrap();
    assert_eq!(
        other_symbols.restore(snapshot).unwrap_err(),
        "snapshot was taken for symbols [\"BTCUSD\"], this instance trades [\"ETHUSD\"]; \
         warm up from history instead"
    );
}
