//! Risk checks between a strategy's orders and the broker: position and
//! notional caps, an order-rate cap, and a drawdown kill switch. The same
//! gate runs live and in backtests; only the clock it is given differs.

use serde::Serialize;
use std::collections::VecDeque;

/// The rules one strategy trades under (`[risk]` with `[strategy.risk]` over
/// it). `None` is a rule not enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RiskRules {
    /// `risk.max_position`: the largest absolute position per symbol, in
    /// units of the symbol, counting accepted orders not yet filled. An order
    /// that reduces the absolute position always passes, even over the cap.
    pub max_position: Option<f64>,
    /// `risk.max_notional_per_order`: the largest quantity × price of one
    /// order, in account currency (the limit price, or the last close for a
    /// market order).
    pub max_notional_per_order: Option<f64>,
    /// `risk.max_orders_per_sec`: the most accepted orders in any sliding
    /// 1000 ms window of the gate's clock; refused orders do not count.
    pub max_orders_per_sec: Option<u32>,
    /// `risk.max_drawdown_pct`: the kill switch, in percent (10.0 = 10 %) of
    /// the equity peak; falling strictly further below the peak halts the
    /// strategy.
    pub max_drawdown_pct: Option<f64>,
}

/// Which rule refused an order; also the label of the refusal counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    /// The order failed the contract's validation (not a `[risk]` rule).
    Validation,
    /// Over [`RiskRules::max_position`].
    MaxPosition,
    /// Over [`RiskRules::max_notional_per_order`].
    MaxNotionalPerOrder,
    /// Over [`RiskRules::max_orders_per_sec`].
    MaxOrdersPerSec,
    /// The strategy is halted (kill switch or operator).
    Halted,
}

impl RiskRule {
    /// Every rule in declaration order, so that [`RiskRule::index`] can index
    /// a fixed array of refusal counters.
    pub const ALL: [RiskRule; 5] = [
        RiskRule::Validation,
        RiskRule::MaxPosition,
        RiskRule::MaxNotionalPerOrder,
        RiskRule::MaxOrdersPerSec,
        RiskRule::Halted,
    ];

    /// Position in [`RiskRule::ALL`] (declaration order).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The snake_case name used as the refusal counter's label and in JSON;
    /// for the `[risk]` rules it is the config key's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskRule::Validation => "validation",
            RiskRule::MaxPosition => "max_position",
            RiskRule::MaxNotionalPerOrder => "max_notional_per_order",
            RiskRule::MaxOrdersPerSec => "max_orders_per_sec",
            RiskRule::Halted => "halted",
        }
    }
}

/// One refused order: the rule and a sentence saying why and what to change.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The rule that refused the order.
    pub rule: RiskRule,
    /// Why, with the numbers involved, and which setting or command would let
    /// the order through.
    pub reason: String,
}

/// What the gate needs to know about an order besides the order itself.
#[derive(Debug, Clone, Copy)]
pub struct OrderContext<'a> {
    /// The order's symbol, for the refusal message only.
    pub symbol: &'a str,
    /// The position after every accepted, unfilled order of this symbol fills.
    pub exposure: f64,
    /// The price a market order's notional is estimated at (the last close).
    pub reference_price: f64,
    /// Milliseconds on the gate's clock (bar time in backtests, wall time live).
    pub now_ms: i64,
}

/// The per-strategy state the rules need: recent order times, the equity
/// peak, and whether the strategy is halted.
#[derive(Debug, Clone, Default)]
pub struct RiskGate {
    /// Times of accepted orders within the last second, oldest first.
    recent_orders: VecDeque<i64>,
    peak_equity: Option<f64>,
    halted: Option<String>,
}

impl RiskGate {
    /// A gate with no order history, no equity peak yet (the first
    /// [`RiskGate::mark`] sets it) and not halted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks one order; an accepted order counts toward the rate limit.
    ///
    /// `side_sign` is +1.0 for a buy and -1.0 for a sell; `quantity` is the
    /// order's (positive) size and `limit_price` its limit, `None` for a
    /// market order. Rules are checked in the order halted, position,
    /// notional, rate; the first that fails is the refusal.
    pub fn check(
        &mut self,
        rules: &RiskRules,
        side_sign: f64,
        quantity: f64,
        limit_price: Option<f64>,
        ctx: OrderContext<'_>,
    ) -> Result<(), Refusal> {
        if let Some(reason) = &self.halted {
            return Err(Refusal {
                rule: RiskRule::Halted,
                reason: format!(
                    "the strategy is halted ({reason}); it still gets bars but sends no orders until un-halted (`runtime unhalt <id>` or POST /strategies/<id>/unhalt)"
                ),
            });
        }
        if let Some(max) = rules.max_position {
            let after = ctx.exposure + side_sign * quantity;
            // A little slack so that 0.1 + 0.2 against a cap of 0.3 passes.
            if after.abs() > max * (1.0 + 1e-9) && after.abs() > ctx.exposure.abs() {
                return Err(Refusal {
                    rule: RiskRule::MaxPosition,
                    reason: format!(
                        "{} {quantity} {} would take the position to {after} (counting unfilled orders), over risk.max_position {max}; lower the size or raise max_position",
                        if side_sign > 0.0 { "buying" } else { "selling" },
                        ctx.symbol
                    ),
                });
            }
        }
        if let Some(max) = rules.max_notional_per_order {
            let price = limit_price.unwrap_or(ctx.reference_price);
            let notional = quantity * price;
            if notional > max {
                return Err(Refusal {
                    rule: RiskRule::MaxNotionalPerOrder,
                    reason: format!(
                        "order notional {notional:.2} ({quantity} {} at {price}) is over risk.max_notional_per_order {max}; lower the size or raise the cap",
                        ctx.symbol
                    ),
                });
            }
        }
        if let Some(max) = rules.max_orders_per_sec {
            while self
                .recent_orders
                .front()
                .is_some_and(|&t| ctx.now_ms - t >= 1000)
            {
                self.recent_orders.pop_front();
            }
            if self.recent_orders.len() >= max as usize {
                return Err(Refusal {
                    rule: RiskRule::MaxOrdersPerSec,
                    reason: format!(
                        "{} orders were already sent in the last second, the most risk.max_orders_per_sec ({max}) allows; the strategy should trade less often or the cap be raised",
                        self.recent_orders.len()
                    ),
                });
            }
            self.recent_orders.push_back(ctx.now_ms);
        }
        Ok(())
    }

    /// Marks the equity; returns the halt reason the moment the drawdown
    /// from the peak exceeds `max_drawdown_pct`.
    pub fn mark(&mut self, rules: &RiskRules, equity: f64) -> Option<String> {
        let peak = self.peak_equity.get_or_insert(equity);
        if equity > *peak {
            *peak = equity;
        }
        let peak = *peak;
        let max = rules.max_drawdown_pct?;
        if self.halted.is_some() || peak <= 0.0 {
            return None;
        }
        let drawdown_pct = (peak - equity) / peak * 100.0;
        if drawdown_pct > max {
            let reason = format!(
                "drawdown {drawdown_pct:.2}% from the equity peak {peak:.2} (now {equity:.2}) is over risk.max_drawdown_pct {max}"
            );
            self.halted = Some(reason.clone());
            return Some(reason);
        }
        None
    }

    /// Halts by hand (operator kill switch).
    pub fn halt(&mut self, reason: String) {
        self.halted = Some(reason);
    }

    /// Lifts a halt; the drawdown is measured from `equity` from now on, or
    /// the kill switch would fire again at once.
    pub fn unhalt(&mut self, equity: f64) {
        self.halted = None;
        self.peak_equity = Some(equity);
    }

    /// The halt reason (the kill switch's message or the operator's), or
    /// `None` while the strategy may trade.
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(exposure: f64, now_ms: i64) -> OrderContext<'static> {
        OrderContext {
            symbol: "BTCUSD",
            exposure,
            reference_price: 100.0,
            now_ms,
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
}
