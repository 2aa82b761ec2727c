//! Issue 15 item 5: per-symbol lot and tick sizes, and how each order kind is valued.

use super::*;

fn symbol_rules(tick: Option<f64>, lot: Option<f64>) -> RiskRules {
    RiskRules {
        symbols: vec![SymbolRules { tick, lot }],
        ..Default::default()
    }
}

#[test]
fn regression_15_5_quantities_off_the_lot_are_refused() {
    let mut gate = RiskGate::new();
    let rules = symbol_rules(None, Some(1.0));
    let ctx = account_ctx(1000.0, 0.0, 100.0, 0.0);
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Buy, 3.0, Kind::Market), ctx)
            .is_ok()
    );
    let refused = gate
        .check_ticket(&rules, &ticket(Side::Buy, 2.5, Kind::Market), ctx)
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::LotSize);
    assert_eq!(refused.rule.as_str(), "lot_size");
    assert!(refused.reason.contains("lot 1"), "{}", refused.reason);
    assert!(refused.reason.contains("2 and 3"), "{}", refused.reason);
    assert!(refused.reason.contains("refused, not rounded"));
    // Below one lot is refused too.
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Sell, 0.4, Kind::Market), ctx)
            .is_err()
    );
    // Float noise is not off the lot: 0.3 is three lots of 0.1.
    let fine = symbol_rules(None, Some(0.1));
    assert!(
        gate.check_ticket(&fine, &ticket(Side::Buy, 0.1 + 0.2, Kind::Market), ctx)
            .is_ok()
    );
    // Another symbol index without a [symbols.NAME] is unconstrained.
    let other = Ticket {
        symbol: 1,
        ..ticket(Side::Buy, 2.5, Kind::Market)
    };
    assert!(gate.check_ticket(&rules, &other, ctx).is_ok());
}

#[test]
fn regression_15_5_prices_off_the_tick_round_away_from_a_fill() {
    let mut gate = RiskGate::new();
    let rules = symbol_rules(Some(0.05), None);
    let ctx = account_ctx(1000.0, 0.0, 100.0, 0.0);
    let mut kind_of = |side, kind| {
        gate.check_ticket(&rules, &ticket(side, 1.0, kind), ctx)
            .map(|t| t.kind)
    };
    let near = |kind: Kind, want: f64| {
        let got = order_price(kind, 0.0);
        assert!((got - want).abs() < 1e-9, "{kind:?} is not at {want}");
    };
    // Buy limits down, sell limits up: never a better price than asked.
    near(kind_of(Side::Buy, Kind::Limit(100.07)).unwrap(), 100.05);
    near(kind_of(Side::Sell, Kind::Limit(100.07)).unwrap(), 100.10);
    // Buy stops up, sell stops down: away from the market.
    near(kind_of(Side::Buy, Kind::Stop(100.07)).unwrap(), 100.10);
    near(kind_of(Side::Sell, Kind::Stop(100.07)).unwrap(), 100.05);
    match kind_of(
        Side::Sell,
        Kind::StopLimit {
            stop: 95.02,
            limit: 94.92,
        },
    )
    .unwrap()
    {
        Kind::StopLimit { stop, limit } => {
            assert!((stop - 95.0).abs() < 1e-9 && (limit - 94.95).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
    // On the tick: the strategy's exact number is kept.
    assert_eq!(
        kind_of(Side::Buy, Kind::Limit(100.15)).unwrap(),
        Kind::Limit(100.15)
    );
    // Market orders and trailing distances are left alone.
    assert_eq!(kind_of(Side::Buy, Kind::Market).unwrap(), Kind::Market);
    assert_eq!(
        kind_of(Side::Sell, Kind::TrailingAmount(0.123)).unwrap(),
        Kind::TrailingAmount(0.123)
    );
    // A buy limit that rounds to 0 is refused.
    let refused = kind_of(Side::Buy, Kind::Limit(0.03)).unwrap_err();
    assert_eq!(refused.rule, RiskRule::TickSize);
    assert!(refused.reason.contains("tick 0.05"), "{}", refused.reason);
}

#[test]
fn regression_15_5_the_notional_cap_prices_every_kind_at_its_level() {
    assert_eq!(order_price(Kind::Market, 7.0), 7.0);
    assert_eq!(order_price(Kind::Limit(5.0), 7.0), 5.0);
    assert_eq!(order_price(Kind::Stop(9.0), 7.0), 9.0);
    assert_eq!(
        order_price(
            Kind::StopLimit {
                stop: 9.0,
                limit: 9.5
            },
            7.0
        ),
        9.5
    );
    assert_eq!(order_price(Kind::TrailingPercent(2.0), 7.0), 7.0);
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        max_notional_per_order: Some(1000.0),
        ..Default::default()
    };
    let ctx = account_ctx(1e6, 0.0, 100.0, 0.0);
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Buy, 10.0, Kind::Stop(101.0)), ctx)
            .is_err()
    );
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Buy, 10.0, Kind::Stop(99.0)), ctx)
            .is_ok()
    );
}
