//! Issue 15 item 5: resting GTC orders, bracket exits and OCO legs in the
//! limits, against the SDK's own account.

use super::*;
use sandbar_guest::paper::{PaperAccount, Request, TimeInForce};

fn gtc(id: u64, side: Side, quantity: f64, kind: Kind) -> Ticket {
    Ticket {
        tif: TimeInForce::Gtc,
        ..Ticket::one_bar(id, 0, side, quantity, kind)
    }
}

fn sdk_bar(seq: u64, price: f64) -> sandbar_guest::Bar {
    sandbar_guest::Bar {
        seq,
        ts_ms: seq as i64 * 60_000,
        symbol: 0,
        open: price,
        high: price + 1.0,
        low: price - 1.0,
        close: price,
        volume: 1.0,
    }
}

fn ctx_of(account: &PaperAccount) -> OrderContext<'static> {
    let price = account.last_prices()[0];
    account_ctx(account.equity(), account.exposure(0), price, 0.0)
}

/// Resting GTC orders keep counting in `max_position` and `max_leverage`
/// bar after bar, so a strategy cannot stack orders that have not filled
/// yet past the caps.
#[test]
fn regression_15_5_resting_gtc_orders_count_in_position_limits_over_many_bars() {
    let mut account = PaperAccount::new(1, 10_000.0, sandbar_guest::paper::FillModel::FREE);
    account.on_bar(&sdk_bar(0, 100.0));
    let rules = RiskRules {
        max_position: Some(10.0),
        max_leverage: Some(1.0),
        ..Default::default()
    };
    let mut gate = RiskGate::new();
    // A buy limit far below the market rests for ever.
    let resting = gtc(1, Side::Buy, 8.0, Kind::Limit(50.0));
    let checked = gate
        .check_ticket(&rules, &resting, ctx_of(&account))
        .unwrap();
    account.request([Request::Place(checked)]);
    for seq in 1..=50 {
        account.on_bar(&sdk_bar(seq, 100.0 + (seq % 5) as f64));
        assert_eq!(account.working().count(), 1, "still resting at bar {seq}");
        let refused = gate
            .check_ticket(
                &rules,
                &gtc(seq + 1, Side::Buy, 3.0, Kind::Limit(60.0)),
                ctx_of(&account),
            )
            .unwrap_err();
        assert_eq!(refused.rule, RiskRule::MaxPosition, "bar {seq}");
        assert!(refused.reason.contains("to 11"), "{}", refused.reason);
    }
    // Leverage counts the resting order at the last close: 8 × 100 = 800 of
    // 10 000; another 93 units at 100 would take it past 1x.
    account.on_bar(&sdk_bar(51, 100.0));
    let loose = RiskRules {
        max_leverage: Some(1.0),
        ..Default::default()
    };
    let refused = gate
        .check_ticket(
            &loose,
            &gtc(99, Side::Buy, 93.0, Kind::Market),
            ctx_of(&account),
        )
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxLeverage);
    assert!(refused.reason.contains("to 10100.00"), "{}", refused.reason);
    // Once cancelled it no longer counts.
    account.request([Request::Cancel(1)]);
    assert!(
        gate.check_ticket(
            &rules,
            &gtc(100, Side::Buy, 10.0, Kind::Market),
            ctx_of(&account)
        )
        .is_ok()
    );
}

/// A bracket's take-profit and stop-loss are exits: they do not count as
/// adding exposure, and each passes `allow_short = false` and
/// `max_position` against the position its entry makes.
#[test]
fn regression_15_5_bracket_exits_are_not_counted_as_adding_exposure() {
    let mut account = PaperAccount::new(1, 10_000.0, sandbar_guest::paper::FillModel::FREE);
    account.on_bar(&sdk_bar(0, 100.0));
    let rules = RiskRules {
        max_position: Some(5.0),
        allow_short: false,
        max_leverage: Some(1.0),
        ..Default::default()
    };
    let mut gate = RiskGate::new();
    let entry = gtc(1, Side::Buy, 5.0, Kind::Limit(99.5));
    let mut take_profit = gtc(2, Side::Sell, 5.0, Kind::Limit(110.0));
    let mut stop_loss = gtc(3, Side::Sell, 5.0, Kind::Stop(95.0));
    for child in [&mut take_profit, &mut stop_loss] {
        child.parent = Some(1);
        child.oco_group = Some(1);
    }
    for t in [entry, take_profit, stop_loss] {
        let checked = gate
            .check_ticket(&rules, &t, ctx_of(&account))
            .unwrap_or_else(|r| panic!("order {} refused: {}", t.id, r.reason));
        account.request([Request::Place(checked)]);
    }
    assert_eq!(account.working().count(), 3);
    assert_eq!(account.exposure(0), 5.0, "only the entry adds exposure");
    // The entry fills; the exits work and still count as nothing.
    account.on_bar(&sdk_bar(1, 99.0));
    assert_eq!(account.position(0).quantity, 5.0);
    assert_eq!(account.exposure(0), 5.0);
    let refused = gate
        .check_ticket(
            &rules,
            &gtc(4, Side::Buy, 1.0, Kind::Market),
            ctx_of(&account),
        )
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxPosition);
    // Selling the position passes allow_short; one more unit would not.
    assert!(
        gate.check_ticket(
            &rules,
            &gtc(5, Side::Sell, 5.0, Kind::Market),
            ctx_of(&account)
        )
        .is_ok()
    );
    assert_eq!(
        gate.check_ticket(
            &rules,
            &gtc(6, Side::Sell, 6.0, Kind::Market),
            ctx_of(&account)
        )
        .unwrap_err()
        .rule,
        RiskRule::AllowShort
    );
}

/// The second leg of an OCO entry (a buy limit below and a buy stop above
/// the market, one of which can fill) is checked without its group, so
/// `max_position` sees one leg, not two; `exposure_for` agrees with the
/// SDK's account for orders without a group.
#[test]
fn regression_15_5_oco_legs_are_alternatives_in_position_limits() {
    let mut account = PaperAccount::new(1, 10_000.0, sandbar_guest::paper::FillModel::FREE);
    account.on_bar(&sdk_bar(0, 100.0));
    let rules = RiskRules {
        max_position: Some(5.0),
        ..Default::default()
    };
    let mut gate = RiskGate::new();
    let mut below = gtc(1, Side::Buy, 5.0, Kind::Limit(95.0));
    let mut above = gtc(2, Side::Buy, 5.0, Kind::Stop(105.0));
    below.oco_group = Some(7);
    above.oco_group = Some(7);
    let held = account.position(0).quantity;
    for t in [below, above] {
        let ctx = OrderContext {
            exposure: exposure_for(held, account.working(), &t),
            ..ctx_of(&account)
        };
        let checked = gate
            .check_ticket(&rules, &t, ctx)
            .unwrap_or_else(|r| panic!("leg {} refused: {}", t.id, r.reason));
        account.request([Request::Place(checked)]);
    }
    assert_eq!(account.exposure(0), 5.0, "the group counts once");
    // A further order outside the group sees the group's 5.
    let more = gtc(3, Side::Buy, 1.0, Kind::Market);
    let exposure = exposure_for(held, account.working(), &more);
    assert_eq!(exposure, account.exposure(0));
    let refused = gate
        .check_ticket(
            &rules,
            &more,
            OrderContext {
                exposure,
                ..ctx_of(&account)
            },
        )
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxPosition);
    // Bracket children never count.
    let mut child = gtc(4, Side::Buy, 50.0, Kind::Limit(90.0));
    child.parent = Some(1);
    assert_eq!(exposure_for(held, [&child], &more), held);
}
