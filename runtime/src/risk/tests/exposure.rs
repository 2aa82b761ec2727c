//! Issue 15 item 5: leverage, gross exposure and shorting.

use super::*;

fn leverage(max: f64) -> RiskRules {
    RiskRules {
        max_leverage: Some(max),
        ..Default::default()
    }
}

/// Regression (issue 15): a sizing bug bought 224,074 units at about 1.09
/// (about $244k on $100k of equity) and only the drawdown kill switch
/// stopped it. With `max_leverage = 1` (a cash account) it is refused, with
/// the numbers and the room left.
#[test]
fn regression_15_5_the_224074_unit_buy_is_refused_by_max_leverage() {
    let mut gate = RiskGate::new();
    let refused = gate
        .check_ticket(
            &leverage(1.0),
            &ticket(Side::Buy, 224_074.0, Kind::Market),
            account_ctx(100_000.0, 0.0, 1.09, 0.0),
        )
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxLeverage);
    assert_eq!(refused.rule.as_str(), "max_leverage");
    for part in [
        "buying 224074 EURUSD at 1.09",
        "244240.66",
        "2.44x equity 100000.00",
        "risk.max_leverage 1",
        "room for about 91743.1193 more units",
    ] {
        assert!(refused.reason.contains(part), "{part}: {}", refused.reason);
    }
    // What the room says fits does fit.
    assert!(
        gate.check_ticket(
            &leverage(1.0),
            &ticket(Side::Buy, 91_743.0, Kind::Market),
            account_ctx(100_000.0, 0.0, 1.09, 0.0),
        )
        .is_ok()
    );
}

#[test]
fn regression_15_5_max_leverage_allows_exactly_the_limit_and_counts_every_symbol() {
    let mut gate = RiskGate::new();
    let rules = leverage(2.0);
    // 1000 equity, 2x: 2000 of gross exposure; exactly at it passes.
    assert!(
        gate.check_ticket(
            &rules,
            &ticket(Side::Buy, 20.0, Kind::Market),
            account_ctx(1000.0, 0.0, 100.0, 0.0)
        )
        .is_ok()
    );
    // Other symbols (and working orders, which `exposure` includes) count.
    let refused = gate
        .check_ticket(
            &rules,
            &ticket(Side::Buy, 10.0, Kind::Market),
            account_ctx(1000.0, 5.0, 100.0, 600.0),
        )
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxLeverage);
    assert!(refused.reason.contains("to 2100.00"), "{}", refused.reason);
    // A limit order is valued at its limit, not the last close.
    assert!(
        gate.check_ticket(
            &rules,
            &ticket(Side::Buy, 10.0, Kind::Limit(50.0)),
            account_ctx(1000.0, 5.0, 100.0, 600.0)
        )
        .is_ok()
    );
    // A stop at its stop.
    assert!(
        gate.check_ticket(
            &rules,
            &ticket(Side::Buy, 10.0, Kind::Stop(150.0)),
            account_ctx(1000.0, 0.0, 100.0, 600.0)
        )
        .is_err()
    );
}

#[test]
fn regression_15_5_shorts_count_by_size_and_reducing_always_passes() {
    let mut gate = RiskGate::new();
    let rules = leverage(1.0);
    // Opening a short adds gross exposure like a long.
    assert_eq!(
        gate.check_ticket(
            &rules,
            &ticket(Side::Sell, 11.0, Kind::Market),
            account_ctx(1000.0, 0.0, 100.0, 0.0)
        )
        .unwrap_err()
        .rule,
        RiskRule::MaxLeverage
    );
    // Over the cap already (prices moved): selling out of a long passes,
    // buying back a short passes, adding does not.
    let over_long = account_ctx(1000.0, 30.0, 100.0, 0.0);
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Sell, 10.0, Kind::Market), over_long)
            .is_ok()
    );
    let over_short = account_ctx(1000.0, -30.0, 100.0, 0.0);
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Buy, 30.0, Kind::Market), over_short)
            .is_ok()
    );
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Sell, 1.0, Kind::Market), over_short)
            .is_err()
    );
    // Flipping a long of 5 to a short of 15 raises the gross exposure to 1500.
    assert!(
        gate.check_ticket(
            &rules,
            &ticket(Side::Sell, 20.0, Kind::Market),
            account_ctx(1000.0, 5.0, 100.0, 0.0)
        )
        .is_err()
    );
}

#[test]
fn regression_15_5_zero_or_nan_equity_refuses_only_orders_that_add_exposure() {
    let mut gate = RiskGate::new();
    let rules = leverage(3.0);
    for equity in [0.0, -50.0, f64::NAN] {
        let refused = gate
            .check_ticket(
                &rules,
                &ticket(Side::Buy, 1.0, Kind::Market),
                account_ctx(equity, 0.0, 100.0, 0.0),
            )
            .unwrap_err();
        assert_eq!(refused.rule, RiskRule::MaxLeverage);
        assert!(refused.reason.contains("equity is"), "{}", refused.reason);
        assert!(
            gate.check_ticket(
                &rules,
                &ticket(Side::Sell, 1.0, Kind::Market),
                account_ctx(equity, 4.0, 100.0, 0.0)
            )
            .is_ok(),
            "reducing passes at equity {equity}"
        );
    }
    // A market order on a symbol without a price yet cannot be valued.
    let refused = gate
        .check_ticket(
            &rules,
            &ticket(Side::Buy, 1.0, Kind::Market),
            account_ctx(1000.0, 0.0, 0.0, 0.0),
        )
        .unwrap_err();
    assert!(
        refused.reason.contains("no price yet"),
        "{}",
        refused.reason
    );
}

#[test]
fn regression_15_5_max_gross_exposure_is_an_absolute_cap() {
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        max_gross_exposure: Some(5000.0),
        ..Default::default()
    };
    // Equity plays no part: huge equity, still capped.
    let ctx = account_ctx(1e9, 10.0, 100.0, 3000.0);
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Buy, 10.0, Kind::Market), ctx)
            .is_ok(),
        "exactly 5000"
    );
    let refused = gate
        .check_ticket(&rules, &ticket(Side::Buy, 10.5, Kind::Market), ctx)
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxGrossExposure);
    assert!(refused.reason.contains("to 5050.00"), "{}", refused.reason);
    assert!(refused.reason.contains("risk.max_gross_exposure 5000"));
    assert!(refused.reason.contains("room for about 10.0000"));
}

#[test]
fn regression_15_5_allow_short_false_refuses_sells_below_zero() {
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        allow_short: false,
        ..Default::default()
    };
    let at = |exposure| account_ctx(1000.0, exposure, 100.0, 0.0);
    // Selling exactly the position (as summed in floats) closes it.
    assert!(
        gate.check_ticket(
            &rules,
            &ticket(Side::Sell, 0.3, Kind::Market),
            at(0.1 + 0.2)
        )
        .is_ok()
    );
    let refused = gate
        .check_ticket(&rules, &ticket(Side::Sell, 5.0, Kind::Limit(99.0)), at(3.0))
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::AllowShort);
    assert!(refused.reason.contains("to -2"), "{}", refused.reason);
    assert!(
        refused.reason.contains("sell at most 3"),
        "{}",
        refused.reason
    );
    // Flat: any sell is a short; buys never are, even from a short.
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Sell, 1.0, Kind::Market), at(0.0))
            .is_err()
    );
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Buy, 1.0, Kind::Market), at(-4.0))
            .is_ok()
    );
    // Already short (rules tightened): adding is refused.
    assert!(
        gate.check_ticket(&rules, &ticket(Side::Sell, 1.0, Kind::Market), at(-4.0))
            .is_err()
    );
    // The default allows shorting, as before the rule existed.
    assert!(RiskRules::default().allow_short);
    assert!(
        gate.check_ticket(
            &RiskRules::default(),
            &ticket(Side::Sell, 1.0, Kind::Market),
            at(0.0)
        )
        .is_ok()
    );
}
