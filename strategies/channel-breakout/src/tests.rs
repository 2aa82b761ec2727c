use super::*;
use sandbar_guest::testing::{
    Activity, Lcg, assert_readme_params, described_params, flatten, triangle,
};
use sandbar_guest::{Harness, LogLevel, Order, OrderKind, ParamKind, ParamValue, Side, value};

/// A harness plus the bar sequence number, for feeding full OHLC bars.
struct Driver {
    h: Harness<ChannelBreakout>,
    seq: u64,
}

impl Driver {
    fn new(symbols: &[&str], params: &[(&str, ParamValue)]) -> Self {
        Self {
            h: Harness::with_params(symbols, params),
            seq: 0,
        }
    }

    fn with(params: &[(&str, ParamValue)]) -> Self {
        Self::new(&["BTCUSD"], params)
    }

    /// entry_period=3, exit_period=2.
    fn small() -> Self {
        Self::with(&[("entry_period", value(3u32)), ("exit_period", value(2u32))])
    }

    /// Feeds one bar without filling its orders.
    fn bar(&mut self, symbol: u32, high: f64, low: f64, close: f64) -> Vec<Order> {
        let seq = self.seq;
        self.seq += 1;
        self.h.on_bar(Bar {
            seq,
            ts_ms: seq as i64 * 60_000,
            symbol,
            open: close,
            high,
            low,
            close,
            volume: 1.0,
        })
    }

    /// Feeds one bar of symbol 0 and fills its orders at the close.
    fn filled(&mut self, high: f64, low: f64, close: f64) -> Vec<Order> {
        let orders = self.bar(0, high, low, close);
        self.h.fill_all(&orders, close);
        orders
    }

    /// Feeds bars whose high, low and close are all `close`, filling orders.
    fn closes(&mut self, closes: &[f64]) -> Vec<Vec<Order>> {
        closes.iter().map(|&c| self.filled(c, c, c)).collect()
    }

    fn ohlc(&mut self, bars: &[(f64, f64, f64)]) -> Vec<Vec<Order>> {
        bars.iter().map(|&(h, l, c)| self.filled(h, l, c)).collect()
    }

    fn quantity(&self) -> f64 {
        self.h.position(0).quantity
    }
}

fn init_err(params: &[(&str, ParamValue)]) -> String {
    Harness::<ChannelBreakout>::init_error(&["BTCUSD"], params)
}

/// (high, low, close) bars of a random walk; each bar's range reaches a
/// little beyond its open and close.
fn random_walk(seed: u64, bars: usize) -> Vec<(f64, f64, f64)> {
    let mut lcg = Lcg::new(seed);
    let mut close = 100.0;
    (0..bars)
        .map(|_| {
            let open = close;
            close *= 1.0 + 0.01 * (lcg.unit() - 0.5);
            let high = open.max(close) * (1.0 + 0.002 * lcg.unit());
            let low = open.min(close) * (1.0 - 0.002 * lcg.unit());
            (high, low, close)
        })
        .collect()
}

// --- signal logic ---------------------------------------------------------

#[test]
fn breakout_is_measured_against_previous_highs_not_the_current_bar() {
    let mut d = Driver::with(&[
        ("entry_period", value(3u32)),
        ("exit_period", value(2u32)),
        ("size", value(2.5)),
    ]);
    let orders = d.ohlc(&[
        (12.0, 9.0, 10.0),
        (12.0, 9.0, 10.0),
        (12.0, 9.0, 10.0),
        // Closes at the channel top: not a break.
        (12.0, 10.0, 12.0),
        // Closes above 12 while its own high (13) is higher still.
        (13.0, 11.0, 12.5),
    ]);
    assert!(orders[..4].iter().all(Vec::is_empty), "{orders:?}");
    assert_eq!(flatten(&orders), [(Side::Buy, 2.5)]);
    assert_eq!(d.quantity(), 2.5);
}

#[test]
fn exit_when_the_close_falls_below_the_previous_lows() {
    let mut d = Driver::small();
    d.ohlc(&[(10.0, 9.0, 9.5); 3]);
    assert_eq!(flatten(&d.ohlc(&[(11.0, 10.0, 10.5)])), [(Side::Buy, 1.0)]);
    let orders = d.ohlc(&[
        (11.0, 9.8, 10.0), // lowest low of the 2 bars before: 9.0
        (10.5, 9.9, 9.8),  // previous lows 10.0, 9.8: not below 9.8
        (10.0, 9.0, 9.79), // below 9.8: out
    ]);
    assert!(orders[0].is_empty() && orders[1].is_empty(), "{orders:?}");
    assert_eq!(flatten(&orders), [(Side::Sell, 1.0)]);
    assert_eq!(d.quantity(), 0.0);
}

#[test]
fn holds_while_the_price_stays_inside_the_channel() {
    let mut d = Driver::with(&[("entry_period", value(3u32)), ("exit_period", value(3u32))]);
    let mut closes = vec![10.0, 10.0, 10.0, 11.0]; // buys on the 4th bar
    // Never below the lowest of the 3 closes before, never a new high.
    closes.extend([10.9, 11.0, 10.95].repeat(5));
    let orders = d.closes(&closes);
    assert_eq!(flatten(&orders), [(Side::Buy, 1.0)]);
    assert_eq!(orders[3].len(), 1);
}

#[test]
fn first_order_comes_exactly_after_the_reported_warmup() {
    let mut d = Driver::with(&[]);
    let warmup = d.h.describe().warmup_bars as usize;
    assert_eq!(warmup, 21);
    let rising: Vec<f64> = (0..40).map(|i| 100.0 + i as f64).collect();
    let orders = d.closes(&rising);
    assert!(orders[..warmup - 1].iter().all(Vec::is_empty));
    assert_eq!(orders[warmup - 1].len(), 1);
    assert_eq!(flatten(&orders), [(Side::Buy, 1.0)], "held along the trend");
}

#[test]
fn a_long_exit_channel_holds_the_position_until_it_is_full() {
    let mut d = Driver::with(&[("entry_period", value(2u32)), ("exit_period", value(5u32))]);
    assert_eq!(
        ChannelBreakout::warmup_bars(&ChannelBreakoutParams {
            entry_period: 2,
            exit_period: 5,
            size: 1.0
        }),
        6
    );
    let orders = d.closes(&[1.0, 2.0, 3.0, 0.5, 0.6, 0.4]);
    // Bought on bar 3; the crash on bars 4 and 5 comes before 5 lows are
    // known; bar 6 closes below the lowest of bars 1-5 (0.5).
    assert_eq!(orders[2].len(), 1);
    assert!(orders[3].is_empty() && orders[4].is_empty());
    assert_eq!(flatten(&orders), [(Side::Buy, 1.0), (Side::Sell, 1.0)]);
}

#[test]
fn targeting_reorders_until_filled_then_stops() {
    let mut d = Driver::small();
    for _ in 0..3 {
        assert!(d.bar(0, 10.0, 10.0, 10.0).is_empty());
    }
    assert_eq!(d.bar(0, 11.0, 11.0, 11.0).len(), 1);
    // Not filled yet: the host still reports flat, so the order is repeated.
    let again = d.bar(0, 11.5, 11.5, 11.5);
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].side, again[0].quantity), (Side::Buy, 1.0));
    assert_eq!(again[0].kind, OrderKind::Market);
    d.h.fill(&again[0], 11.5);
    assert_eq!(d.quantity(), 1.0);
    assert!(d.bar(0, 12.0, 12.0, 12.0).is_empty());
    assert!(d.bar(0, 12.5, 12.5, 12.5).is_empty());
}

// --- symbols --------------------------------------------------------------

#[test]
fn symbols_keep_separate_channels() {
    let mut d = Driver::new(
        &["A", "B"],
        &[("entry_period", value(3u32)), ("exit_period", value(2u32))],
    );
    let mut got = Vec::new();
    for (a, b) in [
        (10.0, 20.0),
        (10.0, 20.0),
        (10.0, 20.0),
        (11.0, 19.0),
        (12.0, 18.0),
    ] {
        got.extend(d.bar(0, a, a, a));
        got.extend(d.bar(1, b, b, b));
    }
    // A breaks out on its 4th bar and repeats while unfilled; B never trades.
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|o| o.symbol == 0 && o.side == Side::Buy));
}

#[test]
fn bars_of_unknown_symbols_are_ignored() {
    let bars = random_walk(7, 400);
    let mut clean = Driver::with(&[]);
    let expected = clean.ohlc(&bars);
    assert!(!flatten(&expected).is_empty());

    let mut noisy = Driver::with(&[]);
    let mut got = Vec::new();
    for (i, &(h, l, c)) in bars.iter().enumerate() {
        let wild = 1000.0 + i as f64;
        assert!(noisy.bar(4, wild, wild, wild).is_empty());
        got.push(noisy.filled(h, l, c));
    }
    assert_eq!(got, expected);
}

#[test]
fn non_finite_prices_are_skipped_without_poisoning_the_channels() {
    let bars = random_walk(11, 300);
    let expected = Driver::with(&[]).ohlc(&bars);

    let mut d = Driver::with(&[]);
    let mut got = d.ohlc(&bars[..100]);
    assert!(d.filled(f64::NAN, 1.0, 1.0).is_empty());
    assert!(d.filled(1.0, f64::NEG_INFINITY, 1.0).is_empty());
    assert!(d.filled(1.0, 1.0, f64::INFINITY).is_empty());
    assert_eq!(d.h.logs_at(LogLevel::Warn).len(), 3);
    got.extend(d.ohlc(&bars[100..]));
    assert_eq!(flatten(&got), flatten(&expected));
}

// --- activity on synthetic markets ----------------------------------------

#[test]
fn trades_a_random_walk_but_stays_silent_on_most_bars() {
    let bars = random_walk(42, 10_000);
    let mut d = Driver::with(&[]);
    let mut activity = Activity::default();
    for &(h, l, c) in &bars {
        let before = d.quantity();
        let orders = d.filled(h, l, c);
        activity.record(before, d.quantity(), &orders);
    }
    let (entries, busy) = (activity.entries, activity.busy_bars);
    assert!(entries >= 10, "only {entries} entries");
    assert!(busy * 10 < bars.len(), "{busy} busy bars");
    assert_eq!(activity.orders.iter().find(|o| o.quantity != 1.0), None);
}

#[test]
fn rides_each_leg_of_a_trending_market_once() {
    let closes = triangle(10, 60);
    let orders = flatten(&Driver::with(&[]).closes(&closes));
    let expected: Vec<_> = (0..10)
        .flat_map(|_| [(Side::Buy, 1.0), (Side::Sell, 1.0)])
        .collect();
    assert_eq!(orders, expected);
}

// --- parameters -----------------------------------------------------------

#[test]
fn readme_parameter_table_matches_the_code() {
    assert_readme_params::<ChannelBreakoutParams>(include_str!("../README.md"));
}

#[test]
fn defaults_are_accepted_and_documented() {
    let p = ChannelBreakoutParams::default();
    assert_eq!((p.entry_period, p.exit_period, p.size), (20, 10, 1.0));
    Harness::<ChannelBreakout>::with_defaults(&["BTCUSD"]);
}

#[test]
fn describe_reports_name_params_defaults_and_warmup() {
    let info = Harness::<ChannelBreakout>::new(&[]).describe();
    assert_eq!(info.name, "channel-breakout");
    assert_eq!(info.version, "0.1.0");
    assert!(
        info.description.contains("Donchian"),
        "{}",
        info.description
    );
    assert_eq!(info.warmup_bars, 21);
    assert_eq!(
        described_params(&info),
        [
            ("entry_period", ParamKind::Int, ParamValue::Int(20)),
            ("exit_period", ParamKind::Int, ParamValue::Int(10)),
            ("size", ParamKind::Float, ParamValue::Float(1.0)),
        ]
    );
}

#[test]
fn zero_periods_are_refused() {
    assert_eq!(
        init_err(&[("entry_period", value(0u32))]),
        "parameter `entry_period`: must be at least 1 (got 0); the default is 20"
    );
    assert_eq!(
        init_err(&[("exit_period", value(0u32))]),
        "parameter `exit_period`: must be at least 1 (got 0); the default is 10"
    );
}

#[test]
fn huge_periods_are_refused() {
    assert_eq!(
        init_err(&[("exit_period", value(MAX_PERIOD + 1))]),
        "parameter `exit_period`: must be at most 100000 bars (got 100001); \
         use a coarser bar size for longer channels"
    );
    assert!(init_err(&[("entry_period", value(u32::MAX))]).starts_with("parameter `entry_period`"));
}

#[test]
fn non_positive_size_is_refused() {
    assert_eq!(
        init_err(&[("size", value(-1))]),
        "parameter `size`: must be a number greater than 0 (got -1); this strategy only goes long"
    );
}

#[test]
fn misspelled_and_mistyped_params_are_refused_by_the_sdk() {
    assert_eq!(
        init_err(&[("entry_perod", value(20u32))]),
        "unknown parameter `entry_perod`; did you mean `entry_period`?"
    );
    assert_eq!(
        init_err(&[("allow_short", value(true))]),
        "unknown parameter `allow_short`; known parameters: entry_period, exit_period, size"
    );
    assert_eq!(
        init_err(&[("exit_period", value(-3))]),
        "parameter `exit_period` must be an integer, got the integer -3"
    );
}

// --- hot swap -------------------------------------------------------------

#[test]
fn snapshot_restored_into_a_fresh_instance_continues_identically() {
    let params = [
        ("entry_period", value(30u32)),
        ("exit_period", value(15u32)),
    ];
    let bars = random_walk(3, 1_200);
    let mut a = Driver::with(&params);
    let mut b = Driver::with(&params);
    let mut cold = Driver::with(&params);
    // Swap after at least 400 bars, while a position is open.
    let mut split = 0;
    while split < 400 || a.quantity() == 0.0 {
        let (h, l, c) = bars[split];
        let orders = a.filled(h, l, c);
        b.h.fill_all(&orders, c);
        cold.h.fill_all(&orders, c);
        split += 1;
    }
    let after = &bars[split..];
    assert!(after.len() >= 500, "swapped too late: bar {split}");
    b.seq = a.seq;
    cold.seq = a.seq;

    b.h.restore(a.h.snapshot()).expect("restore");
    assert_eq!(
        b.h.snapshot(),
        a.h.snapshot(),
        "the snapshot carries all the state"
    );

    let next_a = a.ohlc(after);
    let next_b = b.ohlc(after);
    assert!(!flatten(&next_a).is_empty());
    assert_eq!(next_a, next_b);

    // Without the snapshot the channels start empty, the open position is
    // not known to be a breakout trade, and the orders differ.
    assert_ne!(cold.ohlc(after), next_a);
}

#[test]
fn restore_refuses_other_periods_and_other_symbols() {
    let mut a = Driver::small();
    a.closes(&[1.0, 2.0, 3.0]);
    let snapshot = a.h.snapshot();

    let mut other = Driver::with(&[("entry_period", value(3u32)), ("exit_period", value(4u32))]);
    assert_eq!(
        other.h.restore(snapshot.clone()).unwrap_err(),
        "snapshot was taken with entry_period=3, exit_period=2, this instance runs \
         entry_period=3, exit_period=4; its channels do not carry over, warm up from history instead"
    );

    let mut renamed = Driver::new(
        &["ETHUSD"],
        &[("entry_period", value(3u32)), ("exit_period", value(2u32))],
    );
    assert_eq!(
        renamed.h.restore(snapshot).unwrap_err(),
        "snapshot was taken for symbols [\"BTCUSD\"], this instance trades [\"ETHUSD\"]; \
         warm up from history instead"
    );
}

#[test]
fn restore_applies_a_new_size_to_the_open_trade() {
    let mut a = Driver::small();
    let orders = a.closes(&[10.0, 10.0, 10.0, 11.0]);
    assert_eq!(a.quantity(), 1.0);

    let mut b = Driver::with(&[
        ("entry_period", value(3u32)),
        ("exit_period", value(2u32)),
        ("size", value(4.0)),
    ]);
    b.h.fill(&orders[3][0], 11.0);
    b.seq = a.seq;
    b.h.restore(a.h.snapshot()).unwrap();
    // Still inside the channel: the open trade is resized, not re-decided.
    assert_eq!(flatten(&b.closes(&[10.9])), [(Side::Buy, 3.0)]);
}
