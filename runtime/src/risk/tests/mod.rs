//! The gate's rules, one test (or more) per rule; the rules of issue 15
//! item 5 in the submodules.

mod exposure;
mod resting;
mod ticks;

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
