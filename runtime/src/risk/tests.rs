//! The gate's rules, one test (or more) per rule.

use super::*;

fn ctx(exposure: f64, now_ms: i64) -> OrderContext<'static> {
    OrderContext {
        symbol: "BTCUSD",
        exposure,
        reference_price: 100.0,
        now_ms,
        ..OrderContext::flat("BTCUSD")
    }
}

#[test]
fn no_rules_accept_everything() {
    let mut gate = RiskGate::new();
    let rules = RiskRules::default();
    for i in 0..1000 {
        assert!(gate.check(&rules, 1.0, 1e9, None, ctx(1e12, i)).is_ok());
    }
    assert_eq!(gate.mark(&rules, 1.0), None);
    assert_eq!(gate.mark(&rules, 0.0001), None);
}

#[test]
fn max_position_counts_exposure_and_allows_reducing() {
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        max_position: Some(10.0),
        ..Default::default()
    };
    assert!(gate.check(&rules, 1.0, 10.0, None, ctx(0.0, 0)).is_ok());
    let refused = gate
        .check(&rules, 1.0, 1.0, None, ctx(10.0, 0))
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxPosition);
    assert!(refused.reason.contains("to 11"), "{}", refused.reason);
    assert!(refused.reason.contains("max_position 10"));
    // Shorts count by absolute size; selling out of a long is fine.
    assert!(gate.check(&rules, -1.0, 11.0, None, ctx(0.0, 0)).is_err());
    assert!(gate.check(&rules, -1.0, 20.0, None, ctx(10.0, 0)).is_ok());
    // Over the cap already (rules tightened): reducing is still allowed.
    assert!(gate.check(&rules, -1.0, 5.0, None, ctx(30.0, 0)).is_ok());
    assert!(gate.check(&rules, 1.0, 0.1, None, ctx(30.0, 0)).is_err());
    // Floating-point sums at the cap are not refused.
    assert!(gate.check(&rules, 1.0, 0.3, None, ctx(9.7, 0)).is_ok());
}

#[test]
fn max_notional_uses_the_limit_price_or_the_last_close() {
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        max_notional_per_order: Some(1000.0),
        ..Default::default()
    };
    assert!(gate.check(&rules, 1.0, 10.0, None, ctx(0.0, 0)).is_ok());
    let refused = gate
        .check(&rules, 1.0, 11.0, None, ctx(0.0, 0))
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxNotionalPerOrder);
    assert!(refused.reason.contains("1100.00"), "{}", refused.reason);
    assert!(
        gate.check(&rules, 1.0, 11.0, Some(90.0), ctx(0.0, 0))
            .is_ok()
    );
    assert!(
        gate.check(&rules, -1.0, 5.0, Some(201.0), ctx(0.0, 0))
            .is_err()
    );
}

#[test]
fn max_orders_per_sec_is_a_sliding_window() {
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        max_orders_per_sec: Some(3),
        ..Default::default()
    };
    for t in [0, 100, 200] {
        assert!(gate.check(&rules, 1.0, 1.0, None, ctx(0.0, t)).is_ok());
    }
    let refused = gate
        .check(&rules, 1.0, 1.0, None, ctx(0.0, 999))
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::MaxOrdersPerSec);
    // Refused orders do not count: at 1000 the first one left the window.
    assert!(gate.check(&rules, 1.0, 1.0, None, ctx(0.0, 1000)).is_ok());
    assert!(gate.check(&rules, 1.0, 1.0, None, ctx(0.0, 1001)).is_err());
    assert!(gate.check(&rules, 1.0, 1.0, None, ctx(0.0, 1200)).is_ok());
}

#[test]
fn drawdown_halts_once_and_halted_refuses_until_unhalted() {
    let mut gate = RiskGate::new();
    let rules = RiskRules {
        max_drawdown_pct: Some(10.0),
        ..Default::default()
    };
    assert_eq!(gate.mark(&rules, 100.0), None);
    assert_eq!(gate.mark(&rules, 120.0), None);
    assert_eq!(gate.mark(&rules, 108.0), None, "exactly 10 % is allowed");
    let reason = gate.mark(&rules, 107.9).expect("halted");
    assert!(reason.contains("drawdown 10.08%"), "{reason}");
    assert!(reason.contains("peak 120.00"), "{reason}");
    assert_eq!(gate.mark(&rules, 50.0), None, "reported once");
    let refused = gate
        .check(&rules, -1.0, 1.0, None, ctx(1.0, 0))
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::Halted);
    assert!(refused.reason.contains("drawdown"));
    gate.unhalt(50.0);
    assert!(gate.check(&rules, -1.0, 1.0, None, ctx(1.0, 0)).is_ok());
    assert_eq!(gate.mark(&rules, 46.0), None, "the peak restarts at 50");
    assert!(gate.mark(&rules, 44.0).is_some());
}

#[test]
fn rule_indices_follow_all() {
    assert!(
        RiskRule::ALL
            .iter()
            .enumerate()
            .all(|(i, r)| r.index() == i)
    );
}

#[test]
fn an_operator_halt_refuses_every_order() {
    let mut gate = RiskGate::new();
    gate.halt("halted by the operator".into());
    let refused = gate
        .check(&RiskRules::default(), 1.0, 1.0, None, ctx(0.0, 0))
        .unwrap_err();
    assert_eq!(refused.rule, RiskRule::Halted);
    assert!(refused.reason.contains("by the operator"));
    assert_eq!(gate.halted(), Some("halted by the operator"));
}

// ---- issue 15 item 5: the rules of the new order world ----

use sandbar_guest::paper::{PaperAccount, Request, TimeInForce};

fn ticket(side: Side, quantity: f64, kind: Kind) -> Ticket {
    Ticket::one_bar(0, 0, side, quantity, kind)
}

/// A context for an account with `equity`, `exposure` units of the symbol
/// at `price`, and `others` of gross exposure in other symbols.
fn account_ctx(equity: f64, exposure: f64, price: f64, others: f64) -> OrderContext<'static> {
    OrderContext {
        exposure,
        reference_price: price,
        gross_exposure: others + (exposure * price).abs(),
        equity,
        ..OrderContext::flat("EURUSD")
    }
}

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

#[test]
fn regression_15_5_every_rule_has_a_distinct_label_and_risk_rules_name_their_key() {
    let labels: std::collections::HashSet<_> = RiskRule::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(labels.len(), RiskRule::ALL.len());
    let keys = crate::config::introspect::fields_of::<crate::config::RiskSection>();
    for rule in [
        RiskRule::MaxPosition,
        RiskRule::MaxNotionalPerOrder,
        RiskRule::MaxOrdersPerSec,
        RiskRule::MaxLeverage,
        RiskRule::MaxGrossExposure,
        RiskRule::AllowShort,
    ] {
        assert!(
            keys.contains(&rule.as_str()),
            "{} is not a [risk] key",
            rule.as_str()
        );
    }
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
