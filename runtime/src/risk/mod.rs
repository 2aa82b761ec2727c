//! Risk checks between a strategy's orders and the broker: position, notional,
//! leverage and gross-exposure caps, shorting, per-symbol tick and lot sizes,
//! an order-rate cap, and a drawdown kill switch. The same gate runs live and
//! in backtests; only the clock it is given differs.
//!
//! The rules are written over the broker's [`Ticket`] (symbol, side,
//! quantity, kind with its price levels), so they apply to contract 0.1.0's
//! market and limit orders and to every order kind of later contracts.

mod exposure;
mod ticks;

use sandbar_guest::Side;
use sandbar_guest::paper::{Kind, Ticket};
use serde::Serialize;
use std::collections::VecDeque;

pub use exposure::exposure_for;
pub use ticks::SymbolRules;

/// The rules one strategy trades under (`[risk]` with `[strategy.risk]` over
/// it, and `[symbols.NAME]` for its symbols). `None` is a rule not enforced.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// `risk.max_leverage`: the largest gross exposure (every symbol's
    /// position once its working orders fill, at its last close) over
    /// equity; 1.0 is a cash account. An order that lowers the gross
    /// exposure always passes.
    pub max_leverage: Option<f64>,
    /// `risk.max_gross_exposure`: the same gross exposure, capped in account
    /// currency.
    pub max_gross_exposure: Option<f64>,
    /// `risk.allow_short`: whether a sell may take a position (counting
    /// working orders) below 0. Default true.
    pub allow_short: bool,
    /// `[symbols.NAME]` per strategy symbol index (empty: none set).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub symbols: Vec<SymbolRules>,
}

impl Default for RiskRules {
    /// Nothing enforced; shorting allowed.
    fn default() -> Self {
        Self {
            max_position: None,
            max_notional_per_order: None,
            max_orders_per_sec: None,
            max_drawdown_pct: None,
            max_leverage: None,
            max_gross_exposure: None,
            allow_short: true,
            symbols: Vec::new(),
        }
    }
}

impl RiskRules {
    /// The tick and lot of the strategy's symbol `index` (none set when the
    /// index has no `[symbols.NAME]`).
    pub fn symbol(&self, index: u32) -> SymbolRules {
        self.symbols
            .get(index as usize)
            .copied()
            .unwrap_or_default()
    }
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
    /// Over [`RiskRules::max_leverage`].
    MaxLeverage,
    /// Over [`RiskRules::max_gross_exposure`].
    MaxGrossExposure,
    /// A short while [`RiskRules::allow_short`] is false.
    AllowShort,
    /// A quantity that is not a whole number of the symbol's lot.
    LotSize,
    /// A price the symbol's tick cannot represent above 0.
    TickSize,
}

impl RiskRule {
    /// Every rule in declaration order, so that [`RiskRule::index`] can index
    /// a fixed array of refusal counters.
    pub const ALL: [RiskRule; 10] = [
        RiskRule::Validation,
        RiskRule::MaxPosition,
        RiskRule::MaxNotionalPerOrder,
        RiskRule::MaxOrdersPerSec,
        RiskRule::Halted,
        RiskRule::MaxLeverage,
        RiskRule::MaxGrossExposure,
        RiskRule::AllowShort,
        RiskRule::LotSize,
        RiskRule::TickSize,
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
            RiskRule::MaxLeverage => "max_leverage",
            RiskRule::MaxGrossExposure => "max_gross_exposure",
            RiskRule::AllowShort => "allow_short",
            RiskRule::LotSize => "lot_size",
            RiskRule::TickSize => "tick_size",
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
    /// The position after every accepted, unfilled order of this symbol that
    /// may add to it fills (bracket exits excluded, an OCO group once).
    pub exposure: f64,
    /// The symbol's last close: what a market order (or a trailing stop) is
    /// priced at, and what the position is marked at.
    pub reference_price: f64,
    /// Milliseconds on the gate's clock (bar time in backtests, wall time live).
    pub now_ms: i64,
    /// Σ over the strategy's symbols of |exposure| × last close, this symbol
    /// included, before the order.
    pub gross_exposure: f64,
    /// The account's equity (cash plus positions at their last close); read
    /// only by `risk.max_leverage`, so a caller may leave it NaN without it.
    pub equity: f64,
}

impl OrderContext<'_> {
    /// A context for `symbol` with nothing held or working, a price of 0
    /// and an equity of 0: the base for building one field by field.
    pub fn flat(symbol: &str) -> OrderContext<'_> {
        OrderContext {
            symbol,
            exposure: 0.0,
            reference_price: 0.0,
            now_ms: 0,
            gross_exposure: 0.0,
            equity: 0.0,
        }
    }
}

/// The price an order is valued at: its limit (the most a buy can pay), else
/// its stop, else the last close (market orders and trailing stops, whose
/// level follows the market).
pub fn order_price(kind: Kind, reference_price: f64) -> f64 {
    match kind {
        Kind::Limit(limit) | Kind::StopLimit { limit, .. } => limit,
        Kind::Stop(stop) => stop,
        Kind::Market | Kind::TrailingAmount(_) | Kind::TrailingPercent(_) => reference_price,
    }
}

/// +1 for a buy, -1 for a sell.
fn sign(side: Side) -> f64 {
    match side {
        Side::Buy => 1.0,
        Side::Sell => -1.0,
    }
}

/// "buying" or "selling", for reasons.
fn verb(side: Side) -> &'static str {
    match side {
        Side::Buy => "buying",
        Side::Sell => "selling",
    }
}

/// Slack for sums of floats at a cap: 0.1 + 0.2 against 0.3 passes.
const SLACK: f64 = 1e-9;

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

    /// Checks one order of contract 0.1.0's shape: `side_sign` is +1.0 for a
    /// buy and -1.0 for a sell, `quantity` the (positive) size and
    /// `limit_price` the limit, `None` for a market order. See
    /// [`RiskGate::check_ticket`].
    pub fn check(
        &mut self,
        rules: &RiskRules,
        side_sign: f64,
        quantity: f64,
        limit_price: Option<f64>,
        ctx: OrderContext<'_>,
    ) -> Result<(), Refusal> {
        let side = if side_sign > 0.0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let kind = limit_price.map_or(Kind::Market, Kind::Limit);
        let ticket = Ticket::one_bar(0, 0, side, quantity, kind);
        self.check_ticket(rules, &ticket, ctx).map(|_| ())
    }

    /// Checks one order; an accepted order counts toward the rate limit.
    /// Returns the order as the broker should take it: its prices rounded to
    /// the symbol's tick (`[symbols.NAME] tick`, in the direction that never
    /// makes the order more aggressive).
    ///
    /// Rules are checked in the order halted, lot size, tick size, shorting,
    /// position, notional per order, leverage, gross exposure, rate; the
    /// first that fails is the refusal. Sizes are valued at the order's
    /// limit or stop, else at the last close ([`order_price`]).
    pub fn check_ticket(
        &mut self,
        rules: &RiskRules,
        ticket: &Ticket,
        ctx: OrderContext<'_>,
    ) -> Result<Ticket, Refusal> {
        if let Some(reason) = &self.halted {
            return Err(Refusal {
                rule: RiskRule::Halted,
                reason: format!(
                    "the strategy is halted ({reason}); it still gets bars but sends no orders until un-halted (`runtime unhalt <id>` or POST /strategies/<id>/unhalt)"
                ),
            });
        }
        let symbol_rules = rules.symbol(ticket.symbol);
        ticks::check_lot(symbol_rules, ticket, ctx.symbol)?;
        let ticket = ticks::round_to_tick(symbol_rules, ticket, ctx.symbol)?;
        exposure::check_short(rules, &ticket, &ctx)?;
        exposure::check_position(rules, &ticket, &ctx)?;
        if let Some(max) = rules.max_notional_per_order {
            let price = order_price(ticket.kind, ctx.reference_price);
            let quantity = ticket.quantity;
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
        exposure::check_gross(rules, &ticket, &ctx)?;
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
        Ok(ticket)
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
mod tests;
