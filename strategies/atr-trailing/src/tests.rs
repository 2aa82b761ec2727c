use super::*;
use sandbar_guest::paper::{FillModel, HOST_IDS, OrderStatus};
use sandbar_guest::testing::{Lcg, assert_readme_params};
use sandbar_guest::{Harness, ParamValue, value};

fn small() -> Vec<(&'static str, ParamValue)> {
    vec![
        ("trend", value(5u32)),
        ("atr_period", value(3u32)),
        ("trail_atr", value(1.5)),
        ("target_atr", value(4.0)),
    ]
}

/// OHLC bars of a random walk: opens gap from the last close now and then.
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
            Bar {
                seq: i as u64,
                ts_ms: i as i64 * 3_600_000,
                symbol: 0,
                open,
                high,
                low,
                close,
                volume: 1.0,
            }
        })
        .collect()
}

#[test]
fn the_readme_lists_every_parameter() {
    assert_readme_params::<AtrTrailingParams>(include_str!("../README.md"));
}

#[test]
fn bad_parameters_are_refused_with_the_fix() {
    let err = |p: &[(&str, ParamValue)]| Harness::<AtrTrailing>::init_error(&["X"], p);
    assert!(err(&[("trend", value(0u32))]).contains("trend"));
    assert!(err(&[("trail_atr", value(0.0))]).contains("trail_atr"));
    assert!(err(&[("target_atr", value(-1.0))]).contains("target_atr"));
    assert!(err(&[("size", value(-1.0))]).contains("size"));
}

/// Issue 15 item 6 natively: entries are brackets, and every exit is the
/// broker's: a trailing-stop fill at its level (or the open on a gap) or a
/// take-profit at its limit; the other leg is cancelled, nothing is left
/// open, the position is never more than `size`.
#[test]
fn issue_15_6_every_exit_is_a_resting_stop_or_target_filled_by_the_broker() {
    let mut h = Harness::<AtrTrailing>::with_params(&["X"], &small())
        .with_broker(100_000.0, FillModel::FREE);
    let bars = walk(7, 3000);
    let replay = h.replay(&bars);
    let mine: Vec<_> = replay.updates.iter().filter(|u| u.id < HOST_IDS).collect();
    let entries = mine
        .iter()
        .filter(|u| u.status == OrderStatus::Filled && u.id % 3 == 0)
        .count();
    let stops = mine
        .iter()
        .filter(|u| u.status == OrderStatus::Filled && u.id % 3 == 2)
        .count();
    let targets = mine
        .iter()
        .filter(|u| u.status == OrderStatus::Filled && u.id % 3 == 1)
        .count();
    assert!(entries > 30, "{entries} entries");
    assert!(
        stops > 10 && targets > 3,
        "{stops} stops, {targets} targets"
    );
    assert!(
        entries - (stops + targets) <= 1,
        "every entry but the last is closed: {entries} vs {stops} + {targets}"
    );
    assert!(replay.orders.is_empty(), "no one-bar orders: brackets only");
    for (i, fill) in replay.fills.iter().enumerate() {
        let bar = &bars[fill.seq as usize];
        assert!(
            fill.price <= bar.high + 1e-9 && fill.price >= bar.low - 1e-9,
            "fill {i} at {} outside its bar {bar:?}",
            fill.price
        );
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
        assert!(h.open_orders().is_empty());
    }
}

/// The stop really trails: after a run-up, the exit is above the entry
/// even though the first stop level was below it.
#[test]
fn the_trailing_stop_locks_in_a_run_up() {
    let mut bars = Vec::new();
    let mut push = |o: f64, h: f64, l: f64, c: f64| {
        let seq = bars.len() as u64;
        bars.push(Bar {
            seq,
            ts_ms: seq as i64 * 60_000,
            symbol: 0,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: 1.0,
        });
    };
    for _ in 0..8 {
        push(100.0, 100.5, 99.5, 100.0); // flat: ATR 1, close on the EMA
    }
    push(99.0, 99.5, 98.5, 99.0); // below the EMA
    push(100.0, 101.5, 99.8, 101.0); // crosses above: bracket sent
    for i in 0..6 {
        let c = 102.0 + 2.0 * i as f64; // entry at the next open, then up
        push(c - 1.0, c + 0.5, c - 1.2, c);
    }
    push(106.0, 106.5, 100.0, 101.0); // falls through the trailed stop
    let params = [
        ("trend", value(5u32)),
        ("atr_period", value(3u32)),
        ("trail_atr", value(2.0)),
        ("target_atr", value(0.0)),
    ];
    let mut h = Harness::<AtrTrailing>::with_params(&["X"], &params)
        .with_broker(100_000.0, FillModel::FREE);
    let replay = h.replay(&bars);
    assert_eq!(replay.fills.len(), 2, "{:?}", replay.fills);
    let (entry, exit) = (replay.fills[0], replay.fills[1]);
    assert_eq!((entry.side, entry.price), (Side::Buy, 101.0));
    assert_eq!(exit.side, Side::Sell);
    // The first level was 101 − 2 ATR (below the entry); the trailed one is
    // far above it, and the gap down fills at the open.
    assert!(
        exit.price > entry.price + 4.0,
        "exit {} locks in the run-up",
        exit.price
    );
    assert_eq!(exit.seq, bars.len() as u64 - 1);
}
