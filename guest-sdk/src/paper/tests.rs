//! The fill rules of `crate::paper`, case by case.

use super::*;
use crate::{Bar, Order, OrderKind, Side};

fn bar(symbol: u32, open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        seq: 1,
        ts_ms: 0,
        symbol,
        open,
        high,
        low,
        close,
        volume: 1.0,
    }
}

fn order(side: Side, quantity: f64, kind: OrderKind) -> Order {
    Order {
        symbol: 0,
        side,
        quantity,
        kind,
    }
}

#[test]
fn market_orders_fill_at_the_next_open_with_commission_and_slippage() {
    let model = FillModel {
        commission: 0.01,
        slippage_bps: 100.0,
        ..FillModel::default()
    };
    let mut account = PaperAccount::new(1, 1000.0, model);
    account.submit([order(Side::Buy, 2.0, OrderKind::Market)]);
    let fills = account.on_bar(&bar(0, 100.0, 110.0, 90.0, 105.0));
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].price, 101.0);
    assert_eq!(fills[0].commission, 2.02);
    assert_eq!(account.cash(), 1000.0 - 202.0 - 2.02);
    assert_eq!(account.position(0).quantity, 2.0);
    assert_eq!(account.equity(), account.cash() + 2.0 * 105.0);
}

#[test]
fn sells_pay_slippage_too() {
    let model = FillModel {
        commission: 0.0,
        slippage_bps: 50.0,
        ..FillModel::default()
    };
    let mut account = PaperAccount::new(1, 0.0, model);
    account.submit([order(Side::Sell, 1.0, OrderKind::Market)]);
    let fills = account.on_bar(&bar(0, 200.0, 210.0, 190.0, 200.0));
    assert_eq!(fills[0].price, 199.0);
    assert_eq!(account.cash(), 199.0);
    assert_eq!(account.position(0).quantity, -1.0);
}

#[test]
fn limit_orders_fill_at_the_limit_or_the_gap_open_or_expire() {
    let mut account = PaperAccount::new(1, 0.0, FillModel::FREE);
    account.submit([order(Side::Buy, 1.0, OrderKind::Limit(95.0))]);
    assert_eq!(
        account.on_bar(&bar(0, 100.0, 101.0, 94.0, 96.0))[0].price,
        95.0
    );
    account.submit([order(Side::Sell, 1.0, OrderKind::Limit(98.0))]);
    assert_eq!(
        account.on_bar(&bar(0, 99.0, 99.5, 97.0, 98.0))[0].price,
        99.0
    );
    account.submit([order(Side::Buy, 1.0, OrderKind::Limit(50.0))]);
    assert!(account.on_bar(&bar(0, 99.0, 99.5, 97.0, 98.0)).is_empty());
    assert!(
        account.on_bar(&bar(0, 40.0, 41.0, 39.0, 40.0)).is_empty(),
        "expired after one bar"
    );
}

#[test]
fn pnl_of_a_long_a_partial_close_and_a_flip_to_short() {
    let mut account = PaperAccount::new(1, 1000.0, FillModel::FREE);
    account.submit([order(Side::Buy, 2.0, OrderKind::Market)]);
    account.on_bar(&bar(0, 100.0, 100.0, 100.0, 110.0));
    assert_eq!(account.unrealised_pnl(), 20.0);
    assert_eq!(account.equity(), 1020.0);
    // Partial close: realises 1 x (120 - 100).
    account.submit([order(Side::Sell, 1.0, OrderKind::Market)]);
    account.on_bar(&bar(0, 120.0, 120.0, 120.0, 120.0));
    assert_eq!(account.realised_pnl(), 20.0);
    assert_eq!(account.unrealised_pnl(), 20.0);
    // Flip: sells 3 at 130, closing 1 (+30) and opening a short of 2 at 130.
    account.submit([order(Side::Sell, 3.0, OrderKind::Market)]);
    account.on_bar(&bar(0, 130.0, 130.0, 125.0, 125.0));
    assert_eq!(account.realised_pnl(), 50.0);
    let position = account.position(0);
    assert_eq!((position.quantity, position.avg_price), (-2.0, 130.0));
    assert_eq!(account.unrealised_pnl(), 10.0);
    assert_eq!(account.equity(), 1000.0 + 50.0 + 10.0);
    assert_eq!(account.cash(), 1000.0 - 200.0 + 120.0 + 390.0);
}

#[test]
fn exposure_counts_waiting_orders() {
    let mut account = PaperAccount::new(2, 0.0, FillModel::default());
    account.submit([order(Side::Buy, 2.0, OrderKind::Market)]);
    account.on_bar(&bar(0, 10.0, 10.0, 10.0, 10.0));
    account.submit([
        order(Side::Sell, 0.5, OrderKind::Limit(11.0)),
        order(Side::Buy, 3.0, OrderKind::Market),
    ]);
    assert_eq!(account.exposure(0), 4.5);
    assert_eq!(account.exposure(1), 0.0);
    account.cancel_pending();
    assert_eq!(account.exposure(0), 2.0);
}

#[test]
fn orders_wait_for_their_own_symbol() {
    let mut account = PaperAccount::new(2, 0.0, FillModel::default());
    account.submit([Order {
        symbol: 1,
        side: Side::Sell,
        quantity: 1.0,
        kind: OrderKind::Market,
    }]);
    assert!(account.on_bar(&bar(0, 10.0, 10.0, 10.0, 10.0)).is_empty());
    let fills = account.on_bar(&bar(1, 20.0, 20.0, 20.0, 20.0));
    assert_eq!((fills.len(), account.position(1).quantity), (1, -1.0));
}

// ---- Orders with ids, kinds, time in force, OCO and brackets ----

fn at(seq: u64, open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        seq,
        ts_ms: seq as i64 * 3_600_000,
        ..bar(0, open, high, low, close)
    }
}

fn ticket(id: OrderId, side: Side, kind: Kind) -> Ticket {
    Ticket {
        id,
        symbol: 0,
        side,
        quantity: 1.0,
        kind,
        tif: TimeInForce::Gtc,
        oco_group: None,
        parent: None,
    }
}

/// An account that has seen one bar closing at `close` (the reference of
/// trailing stops), with `requests` sent in answer to it.
fn account_with(model: FillModel, close: f64, requests: &[Request]) -> PaperAccount {
    let mut account = PaperAccount::new(1, 10_000.0, model);
    account.on_bar(&at(0, close, close, close, close));
    account.request(requests.iter().copied());
    account
}

fn statuses(account: &mut PaperAccount) -> Vec<(OrderId, OrderStatus)> {
    account
        .take_updates()
        .into_iter()
        .map(|u| (u.id, u.status))
        .collect()
}

#[test]
fn a_stop_fills_at_its_level_plus_slippage_or_at_the_open_on_a_gap() {
    let model = FillModel::new(0.0, 100.0);
    let mut account = account_with(
        model,
        100.0,
        &[
            Request::Place(ticket(1, Side::Buy, Kind::Stop(105.0))),
            Request::Place(ticket(2, Side::Sell, Kind::Stop(95.0))),
        ],
    );
    // Neither is reached: both keep working (GTC).
    assert!(account.on_bar(&at(1, 100.0, 104.0, 96.0, 101.0)).is_empty());
    // The high reaches the buy stop: filled at the stop plus 1 %.
    let fills = account.on_bar(&at(2, 101.0, 106.0, 99.0, 104.0));
    assert_eq!(fills.len(), 1);
    assert_eq!((fills[0].side, fills[0].price), (Side::Buy, 105.0 * 1.01));
    // A gap down through the sell stop fills at the open minus 1 %, not at 95.
    let fills = account.on_bar(&at(3, 90.0, 92.0, 88.0, 91.0));
    assert_eq!((fills[0].side, fills[0].price), (Side::Sell, 90.0 * 0.99));
    assert_eq!(account.working().count(), 0);
}

#[test]
fn a_stop_limit_fills_within_its_limit_or_works_as_a_limit_after_its_trigger() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[
            // Within the limit: fills at the stop.
            Request::Place(ticket(
                1,
                Side::Buy,
                Kind::StopLimit {
                    stop: 102.0,
                    limit: 103.0,
                },
            )),
            // A gap above the limit: triggered, no fill on that bar.
            Request::Place(Ticket {
                symbol: 0,
                ..ticket(
                    2,
                    Side::Buy,
                    Kind::StopLimit {
                        stop: 104.0,
                        limit: 104.5,
                    },
                )
            }),
        ],
    );
    account.take_updates();
    let fills = account.on_bar(&at(1, 101.0, 102.5, 100.5, 102.0));
    assert_eq!((fills.len(), fills[0].price), (1, 102.0));
    assert!(
        account
            .on_bar(&at(2, 106.0, 107.0, 105.0, 106.0))
            .is_empty()
    );
    assert!(statuses(&mut account).contains(&(2, OrderStatus::Triggered)));
    // From now on it is a limit at 104.5: the next bar's low reaches it.
    let fills = account.on_bar(&at(3, 105.5, 106.0, 104.0, 105.0));
    assert_eq!((fills.len(), fills[0].price), (1, 104.5));
}

#[test]
fn a_sell_stop_limit_with_its_limit_below_the_stop_waits_for_the_next_bar() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[Request::Place(ticket(
            1,
            Side::Sell,
            Kind::StopLimit {
                stop: 98.0,
                limit: 97.0,
            },
        ))],
    );
    // The stop trades at 98 (within the limit: a sell at 98 >= 97): filled.
    let fills = account.on_bar(&at(1, 99.0, 99.0, 96.0, 97.0));
    assert_eq!(fills[0].price, 98.0);
    // A sell stop-limit whose stop gaps below its limit: triggered only.
    account.request([Request::Place(ticket(
        2,
        Side::Sell,
        Kind::StopLimit {
            stop: 96.0,
            limit: 95.5,
        },
    ))]);
    assert!(account.on_bar(&at(2, 94.0, 95.0, 93.0, 94.5)).is_empty());
    let fills = account.on_bar(&at(3, 95.0, 96.0, 94.0, 95.0));
    assert_eq!(fills[0].price, 95.5);
}

#[test]
fn a_trailing_sell_stop_follows_the_highs_with_the_level_of_the_bar_before() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[Request::Place(ticket(
            1,
            Side::Sell,
            Kind::TrailingAmount(5.0),
        ))],
    );
    // Level 95 (100 - 5): not reached; the high of 110 moves it to 105.
    assert!(account.on_bar(&at(1, 101.0, 110.0, 96.0, 108.0)).is_empty());
    // The low of 106 stays above 105; the level stays (high 109 < 110).
    assert!(
        account
            .on_bar(&at(2, 108.0, 109.0, 106.0, 107.0))
            .is_empty()
    );
    // This bar's low reaches 105: filled at 105 although its high is 111
    // (the level of the bar before is the one that counts).
    let fills = account.on_bar(&at(3, 107.0, 111.0, 104.0, 105.0));
    assert_eq!(fills[0].price, 105.0);
}

#[test]
fn a_trailing_buy_stop_by_percent_follows_the_lows_and_fills_at_the_open_on_a_gap() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[Request::Place(ticket(
            1,
            Side::Buy,
            Kind::TrailingPercent(10.0),
        ))],
    );
    // Level 110; the low of 80 moves it to 88.
    assert!(account.on_bar(&at(1, 99.0, 100.0, 80.0, 85.0)).is_empty());
    // Gaps up through 88: filled at the open.
    let fills = account.on_bar(&at(2, 90.0, 91.0, 89.0, 90.0));
    assert_eq!(fills[0].price, 90.0);
}

#[test]
fn time_in_force_gtc_bars_and_day() {
    let mut gtc = ticket(1, Side::Buy, Kind::Limit(50.0));
    gtc.tif = TimeInForce::Gtc;
    let mut three = ticket(2, Side::Buy, Kind::Limit(50.0));
    three.tif = TimeInForce::Bars(3);
    let mut day = ticket(3, Side::Buy, Kind::Limit(50.0));
    day.tif = TimeInForce::Day;
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[
            Request::Place(gtc),
            Request::Place(three),
            Request::Place(day),
        ],
    );
    account.take_updates();
    // Bars are an hour apart from ts 0: bars 1-23 are on day 0.
    for seq in 1..=3 {
        assert!(
            account
                .on_bar(&at(seq, 100.0, 100.0, 99.0, 100.0))
                .is_empty()
        );
    }
    assert_eq!(
        statuses(&mut account),
        [(2, OrderStatus::Expired)],
        "bars(3) expires after its third bar"
    );
    // The first bar of the next UTC day expires the day order.
    assert!(
        account
            .on_bar(&at(24, 100.0, 100.0, 99.0, 100.0))
            .is_empty()
    );
    assert_eq!(statuses(&mut account), [(3, OrderStatus::Expired)]);
    // The GTC order still works, and fills when the price comes.
    let fills = account.on_bar(&at(40, 60.0, 60.0, 45.0, 48.0));
    assert_eq!((fills.len(), fills[0].price), (1, 50.0));
}

#[test]
fn an_oco_fill_cancels_the_rest_of_its_group() {
    let mut up = ticket(1, Side::Buy, Kind::Stop(110.0));
    up.oco_group = Some(7);
    let mut down = ticket(2, Side::Sell, Kind::Stop(90.0));
    down.oco_group = Some(7);
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[Request::Place(up), Request::Place(down)],
    );
    account.take_updates();
    let fills = account.on_bar(&at(1, 100.0, 111.0, 99.0, 109.0));
    assert_eq!(fills.len(), 1);
    assert_eq!(
        statuses(&mut account),
        [(1, OrderStatus::Filled), (2, OrderStatus::Cancelled)]
    );
    assert_eq!(account.working().count(), 0);
}

fn bracket(entry: Kind, take_profit: f64, stop_loss: f64) -> [Request; 3] {
    let parent = ticket(1, Side::Buy, entry);
    let mut tp = ticket(2, Side::Sell, Kind::Limit(take_profit));
    let mut sl = ticket(3, Side::Sell, Kind::Stop(stop_loss));
    for child in [&mut tp, &mut sl] {
        child.parent = Some(1);
        child.oco_group = Some(1);
    }
    [
        Request::Place(parent),
        Request::Place(tp),
        Request::Place(sl),
    ]
}

#[test]
fn a_market_bracket_entry_can_be_stopped_out_on_its_first_bar() {
    let mut account = account_with(FillModel::FREE, 100.0, &bracket(Kind::Market, 110.0, 95.0));
    assert_eq!(account.exposure(0), 1.0, "bracket exits are not exposure");
    account.take_updates();
    let fills = account.on_bar(&at(1, 100.0, 101.0, 94.0, 96.0));
    assert_eq!(
        fills.len(),
        2,
        "entry at the open, stop-loss later in the bar"
    );
    assert_eq!((fills[0].side, fills[0].price), (Side::Buy, 100.0));
    assert_eq!((fills[1].side, fills[1].price), (Side::Sell, 95.0));
    assert_eq!(
        statuses(&mut account),
        [
            (1, OrderStatus::Filled),
            (3, OrderStatus::Filled),
            (2, OrderStatus::Cancelled)
        ]
    );
    assert_eq!(account.position(0).quantity, 0.0);
}

#[test]
fn a_bar_touching_both_legs_of_a_bracket_exits_at_the_stop_unless_configured() {
    let wide = at(2, 100.0, 111.0, 94.0, 100.0);
    for (tie, exit) in [(TieRule::StopFirst, 95.0), (TieRule::TargetFirst, 110.0)] {
        let model = FillModel {
            tie,
            ..FillModel::FREE
        };
        let mut account = account_with(model, 100.0, &bracket(Kind::Market, 110.0, 95.0));
        account.on_bar(&at(1, 100.0, 101.0, 99.0, 100.0));
        let fills = account.on_bar(&wide);
        assert_eq!(
            fills.len(),
            1,
            "{tie:?}: one leg fills, the other is cancelled"
        );
        assert_eq!(fills[0].price, exit, "{tie:?}");
    }
}

#[test]
fn children_of_an_entry_filled_inside_the_bar_work_from_the_next_bar() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &bracket(Kind::Limit(98.0), 110.0, 95.0),
    );
    // The limit entry fills at 98 inside this bar; its low of 94 may have
    // come before the entry, so the stop-loss does not fill on this bar.
    let fills = account.on_bar(&at(1, 100.0, 101.0, 94.0, 96.0));
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].price, 98.0);
    let fills = account.on_bar(&at(2, 96.0, 97.0, 94.0, 95.0));
    assert_eq!((fills[0].side, fills[0].price), (Side::Sell, 95.0));
}

#[test]
fn a_bracket_entry_ending_unfilled_cancels_its_children() {
    let [entry, tp, sl] = bracket(Kind::Limit(50.0), 110.0, 95.0);
    let Request::Place(mut entry) = entry else {
        unreachable!()
    };
    entry.tif = TimeInForce::Bars(1);
    let mut account = account_with(FillModel::FREE, 100.0, &[Request::Place(entry), tp, sl]);
    account.take_updates();
    assert!(account.on_bar(&at(1, 100.0, 101.0, 94.0, 96.0)).is_empty());
    assert_eq!(
        statuses(&mut account),
        [
            (1, OrderStatus::Expired),
            (2, OrderStatus::Cancelled),
            (3, OrderStatus::Cancelled)
        ]
    );
    assert_eq!(account.working().count(), 0);
}

#[test]
fn cancel_and_replace_by_id_and_their_refusals() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[Request::Place(ticket(1, Side::Sell, Kind::Stop(90.0)))],
    );
    account.take_updates();
    // Raise the stop; an invalid replace leaves it as it was.
    account.request([
        Request::Replace {
            id: 1,
            quantity: Some(2.0),
            kind: Some(Kind::Stop(97.0)),
        },
        Request::Replace {
            id: 1,
            quantity: None,
            kind: Some(Kind::Stop(f64::NAN)),
        },
        Request::Cancel(42),
    ]);
    let updates = account.take_updates();
    assert_eq!(updates[0].status, OrderStatus::Replaced);
    assert_eq!(updates[1].status, OrderStatus::Rejected);
    assert!(
        updates[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("works unchanged"),
        "{updates:?}"
    );
    assert_eq!(
        (updates[2].id, updates[2].status),
        (42, OrderStatus::Rejected)
    );
    let fills = account.on_bar(&at(1, 99.0, 99.0, 96.0, 96.5));
    assert_eq!((fills[0].quantity, fills[0].price), (2.0, 97.0));
    // Cancelling it after it filled on that bar is refused, not an error.
    account.request([Request::Cancel(1)]);
    let updates = account.take_updates();
    assert_eq!(updates.last().unwrap().status, OrderStatus::Rejected);
    assert!(
        updates
            .last()
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("no such working order")
    );
}

#[test]
fn a_cancel_sent_before_the_bar_stops_the_fill() {
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[Request::Place(ticket(1, Side::Buy, Kind::Limit(99.0)))],
    );
    account.request([Request::Cancel(1)]);
    assert!(account.on_bar(&at(1, 98.0, 99.0, 97.0, 98.0)).is_empty());
}

#[test]
fn bad_tickets_are_rejected_with_a_reason() {
    let mut zero_bars = ticket(3, Side::Buy, Kind::Limit(90.0));
    zero_bars.tif = TimeInForce::Bars(0);
    let mut orphan = ticket(4, Side::Sell, Kind::Limit(120.0));
    orphan.parent = Some(99);
    let mut account = account_with(
        FillModel::FREE,
        100.0,
        &[
            Request::Place(ticket(1, Side::Buy, Kind::Limit(90.0))),
            Request::Place(ticket(1, Side::Buy, Kind::Limit(91.0))),
            Request::Place(ticket(2, Side::Sell, Kind::TrailingPercent(100.0))),
            Request::Place(zero_bars),
            Request::Place(orphan),
            Request::Place(Ticket {
                quantity: f64::INFINITY,
                ..ticket(5, Side::Buy, Kind::Market)
            }),
        ],
    );
    let updates = account.take_updates();
    let reasons: Vec<&str> = updates
        .iter()
        .filter(|u| u.status == OrderStatus::Rejected)
        .map(|u| u.reason.as_deref().unwrap())
        .collect();
    assert_eq!(reasons.len(), 5, "{updates:?}");
    assert!(reasons[0].contains("already working"));
    assert!(reasons[1].contains("below 100"));
    assert!(reasons[2].contains("0 bars"));
    assert!(reasons[3].contains("bracket entry 99"));
    assert!(reasons[4].contains("quantity inf"));
    assert_eq!(account.working().count(), 1);
}
