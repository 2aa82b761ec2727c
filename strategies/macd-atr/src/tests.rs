use super::*;
use sandbar_guest::paper::{FillModel, HOST_IDS, OrderStatus};
use sandbar_guest::testing::{Lcg, assert_readme_params, described_params, random_walk};
use sandbar_guest::{Harness, ParamKind, ParamValue, Request, Side, value};

fn flat() -> Position {
    Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    }
}

fn bar(seq: u64, open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        seq,
        ts_ms: seq as i64 * 3_600_000,
        symbol: 0,
        open,
        high,
        low,
        close,
        volume: 1.0,
    }
}

/// OHLC bars of a random walk whose opens gap from the last close now and then.
fn walk(seed: u64, n: usize) -> Vec<Bar> {
    let mut rng = Lcg::new(seed);
    let mut close = 100.0;
    (0..n)
        .map(|i| {
            let gap = if rng.unit() < 0.1 {
                (rng.unit() - 0.5) * 4.0
            } else {
                0.0
            };
            let open: f64 = close + gap;
            close = (open + (rng.unit() - 0.5) * 3.0).max(1.0);
            let high = open.max(close) + rng.unit() * 1.5;
            let low = (open.min(close) - rng.unit() * 1.5).max(0.5);
            bar(i as u64, open, high, low, close)
        })
        .collect()
}

/// The stop levels the strategy asked for, in order (placed or replaced).
fn stop_levels(requests: &[(u64, Request)]) -> Vec<(u64, f64)> {
    requests
        .iter()
        .filter_map(|(seq, r)| match r {
            Request::Place(t) => match t.kind {
                TicketKind::Stop(s) => Some((*seq, s)),
                _ => None,
            },
            Request::Replace(r) => match r.kind {
                Some(TicketKind::Stop(s)) => Some((*seq, s)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

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
    // (Contract 0.2.0: the entry is a bracket, a request with ids, which
    // `run_filled` does not list; `requests_at` lists every request.)
    let first = (0..2000u64)
        .map(|i| 100.0 + i as f64 * 0.01 + if i > 40 { (i - 40) as f64 } else { 0.0 })
        .enumerate()
        .position(|(i, c)| !h.requests_at(bar(i as u64, c, c, c, c), flat()).is_empty());
    assert!(first.is_some_and(|i| i + 1 >= 35), "{first:?}");
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

/// Issue 15 item 6: the stop rests with the broker. On a random walk of
/// OHLC bars every entry is a bracket whose stop-loss fills inside the bar
/// that reaches it (at the level, or the open on a gap) or is cancelled by
/// a MACD exit at the next open; the stop only rises; the position is 0 or
/// `size`; nothing is left working when flat.
#[test]
fn issue_15_6_macd_atr_exits_on_a_resting_stop_filled_inside_its_bar() {
    let mut h = Harness::<MacdAtr>::with_params(&["X"], &small(&[("atr_mult", value(1.5))]))
        .with_broker(100_000.0, FillModel::FREE);
    let bars = walk(7, 3000);
    let replay = h.replay(&bars);
    let mine: Vec<_> = replay.updates.iter().filter(|u| u.id < HOST_IDS).collect();
    let filled = |id: u64| {
        mine.iter()
            .filter(|u| u.status == OrderStatus::Filled && u.id == id)
            .count()
    };
    let (entries, stops) = (filled(0), filled(2));
    let signal_exits = replay.orders.len();
    assert!(entries > 30, "{entries} entries");
    assert!(
        stops > 10 && signal_exits > 10,
        "{stops} stops, {signal_exits} MACD exits"
    );
    assert!(
        entries - (stops + signal_exits) <= 1,
        "every entry but the last is closed: {entries} vs {stops} + {signal_exits}"
    );
    assert!(replay.orders.iter().all(|(_, o)| o.side == Side::Sell));
    // Each stop fill is at its level of the bar, or at the open below it.
    let levels = stop_levels(&replay.requests);
    for fill in replay.fills.iter().filter(|f| f.side == Side::Sell) {
        let b = &bars[fill.seq as usize];
        assert!(
            fill.price <= b.high + 1e-9 && fill.price >= b.low - 1e-9,
            "{fill:?} {b:?}"
        );
        let level = levels
            .iter()
            .rev()
            .find(|(seq, _)| *seq < fill.seq)
            .map(|l| l.1);
        let at_open = fill.price == b.open;
        assert!(
            at_open || level == Some(fill.price),
            "{fill:?} {level:?} {b:?}"
        );
    }
    // Between two entries the stop never falls.
    for w in levels.windows(2) {
        let replaced = replay
            .requests
            .iter()
            .any(|(seq, r)| *seq == w[1].0 && matches!(r, Request::Replace(_)));
        if replaced {
            assert!(w[1].1 > w[0].1, "{w:?}");
        }
    }
    let mut quantity: f64 = 0.0;
    for fill in &replay.fills {
        quantity += if fill.side == Side::Buy {
            fill.quantity
        } else {
            -fill.quantity
        };
        assert!((0.0..=1.0).contains(&quantity), "position {quantity}");
    }
    if quantity == 0.0 {
        assert!(h.open_orders().is_empty(), "{:?}", h.open_orders());
    }
}

/// Issue 15 item 6: a bar whose low goes through the stop while its close
/// stays above exits there, at the stop level, on that bar (the 0.1.0
/// build, checking the close, stayed long); a rise raises the stop by a
/// replace first.
#[test]
fn issue_15_6_macd_atr_a_low_through_the_stop_exits_at_the_stop_on_that_bar() {
    let mut h = harness(&[
        ("fast", value(5u32)),
        ("slow", value(12u32)),
        ("signal", value(9u32)),
        ("atr_period", value(2u32)),
        ("atr_mult", value(2.0)),
        ("size", value(2.0)),
    ])
    .with_broker(100_000.0, FillModel::FREE);
    // Flat, then an accelerating rise: the MACD line crosses above its signal.
    let bars: Vec<Bar> = (0..40u64)
        .map(|i| {
            let c = 100.0 + (i as f64 - 20.0).max(0.0).powi(2);
            bar(i, c, c + 0.5, c - 0.5, c)
        })
        .collect();
    let last = bars[39].close;
    let mut replay = h.replay(&bars);
    let levels = stop_levels(&replay.requests);
    assert!(levels.len() >= 2, "placed then raised: {levels:?}");
    let stop = levels.last().unwrap().1;
    // A wick 1 below the trailed stop; the close stays above it.
    let wick = bar(40, last + 1.0, last + 2.0, stop - 1.0, last + 1.5);
    replay.fills.extend(h.replay(&[wick]).fills);
    let fills = &replay.fills;
    assert_eq!(fills.len(), 2, "{fills:?}");
    assert_eq!((fills[0].side, fills[0].quantity), (Side::Buy, 2.0));
    assert_eq!(
        (fills[1].side, fills[1].seq, fills[1].price),
        (Side::Sell, 40, stop)
    );
    assert!(wick.close > stop, "the close alone would not have exited");
    assert!(h.open_orders().is_empty());
}

/// Issue 15 item 6: a MACD cross below while long cancels the stop and
/// sells at the next open.
#[test]
fn issue_15_6_macd_atr_a_cross_below_cancels_the_stop_and_sells() {
    let mut h =
        harness(&small(&[("atr_mult", value(50.0))])).with_broker(100_000.0, FillModel::FREE);
    let bars = walk(3, 2000);
    let replay = h.replay(&bars);
    let cancels: Vec<u64> = replay
        .requests
        .iter()
        .filter(|(_, r)| matches!(r, Request::Cancel(2)))
        .map(|(seq, _)| *seq)
        .collect();
    assert!(!replay.orders.is_empty());
    for (seq, order) in &replay.orders {
        assert_eq!(order.side, Side::Sell);
        assert!(
            cancels.contains(seq),
            "the stop is cancelled with the sell of bar {seq}"
        );
        let next = replay.fills.iter().find(|f| f.seq > *seq).unwrap();
        assert_eq!(
            (next.side, next.price),
            (Side::Sell, bars[*seq as usize + 1].open)
        );
    }
    assert!(replay.updates.iter().all(|u| {
        u.status != OrderStatus::Rejected
            || u.reason
                .as_deref()
                .is_some_and(|r| r.contains("no such working order"))
    }));
}

/// Issue 15 item 6, hot swap: the snapshot keeps the 0.1.0 layout, so a
/// snapshot taken while long (by that build or this one) restores, and the
/// new instance, which knows no working order, cancels whatever holds the
/// stop's id and places the stop again at the carried level for the
/// position it holds.
#[test]
fn issue_15_6_macd_atr_a_restored_instance_places_its_stop_again() {
    let mut a =
        harness(&small(&[("atr_mult", value(1.5))])).with_broker(100_000.0, FillModel::FREE);
    let bars = walk(7, 3000);
    // A bar after which it is long and the next bar neither exits nor is
    // stopped out: snapshot there, and the next bar is the first after a swap.
    let mut found = None;
    for (i, b) in bars.iter().enumerate().take(bars.len() - 1) {
        a.replay(std::slice::from_ref(b));
        if i > 100 && a.account().position(0).quantity > 0.0 {
            let snapshot = a.snapshot();
            let next = a.replay(std::slice::from_ref(&bars[i + 1]));
            if next.fills.is_empty() && next.orders.is_empty() {
                found = Some((snapshot, bars[i + 1]));
                break;
            }
        }
    }
    let (snapshot, next) = found.expect("it goes long");
    let mut b = harness(&small(&[("atr_mult", value(1.5))]));
    b.restore(snapshot).expect("restore");
    let long = Position {
        quantity: 1.0,
        ..flat()
    };
    let requests = b.requests_at(next, long);
    let kinds: Vec<_> = requests.iter().collect();
    assert!(matches!(kinds[0], Request::Cancel(2)), "{kinds:?}");
    match kinds.get(1) {
        Some(Request::Place(t)) => {
            assert_eq!((t.id, t.side, t.quantity), (2, Side::Sell, 1.0));
            assert!(matches!(t.kind, TicketKind::Stop(s) if s > 0.0 && s < next.close));
        }
        other => panic!("a stop is placed again: {other:?}"),
    }
}

/// The snapshot carries all the state: restored into a fresh instance at a
/// bar where it is flat with nothing working, the instance trades the rest
/// of the bars exactly as the original; a cold one does not.
#[test]
fn snapshot_restored_into_a_fresh_instance_continues_identically() {
    let bars = walk(8, 1500);
    let params = small(&[]);
    let free = |h: Harness<MacdAtr>| h.with_broker(100_000.0, FillModel::FREE);
    let mut a = free(harness(&params));
    let mut split = None;
    for (i, b) in bars.iter().enumerate() {
        a.replay(std::slice::from_ref(b));
        if i >= 600 && a.account().position(0).quantity == 0.0 && a.open_orders().is_empty() {
            split = Some(i + 1);
            break;
        }
    }
    let after = &bars[split.expect("flat at some bar")..];
    let (mut b, mut cold) = (free(harness(&params)), free(harness(&params)));
    b.restore(a.snapshot()).expect("restore");
    assert_eq!(
        b.snapshot(),
        a.snapshot(),
        "the snapshot carries all the state"
    );
    let next_a = a.replay(after);
    assert!(!next_a.fills.is_empty());
    assert_eq!(b.replay(after).fills, next_a.fills);
    assert_ne!(cold.replay(after).fills, next_a.fills);
}
