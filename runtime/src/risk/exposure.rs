//! The rules on what an order would add to the account: shorting, the
//! position per symbol, and gross exposure against equity (leverage) or an
//! absolute cap. Each counts working orders (the context's `exposure`), so
//! resting orders cannot stack past a limit; an order that reduces what it
//! is measured against always passes, even over a cap that was tightened.

use super::{OrderContext, Refusal, RiskRule, RiskRules, SLACK, order_price, sign, verb};
use sandbar_guest::Side;
use sandbar_guest::paper::Ticket;

/// `risk.allow_short = false`: a sell may not take the position, counting
/// working orders, below 0 (a buy never shorts).
pub(super) fn check_short(
    rules: &RiskRules,
    ticket: &Ticket,
    ctx: &OrderContext<'_>,
) -> Result<(), Refusal> {
    if rules.allow_short || ticket.side == Side::Buy {
        return Ok(());
    }
    let after = ctx.exposure - ticket.quantity;
    // The slack lets a sell of exactly the position (as summed in floats) close it.
    let tolerance = SLACK * ticket.quantity.max(1.0);
    if after < -tolerance {
        return Err(Refusal {
            rule: RiskRule::AllowShort,
            reason: format!(
                "selling {} {} would take the position to {after} (counting unfilled orders), and risk.allow_short is false for this strategy; sell at most {} or set allow_short = true",
                ticket.quantity,
                ctx.symbol,
                ctx.exposure.max(0.0)
            ),
        });
    }
    Ok(())
}

/// `risk.max_position`: the absolute position per symbol after the order and
/// every working order fill.
pub(super) fn check_position(
    rules: &RiskRules,
    ticket: &Ticket,
    ctx: &OrderContext<'_>,
) -> Result<(), Refusal> {
    let Some(max) = rules.max_position else {
        return Ok(());
    };
    let quantity = ticket.quantity;
    let after = ctx.exposure + sign(ticket.side) * quantity;
    // A little slack so that 0.1 + 0.2 against a cap of 0.3 passes.
    if after.abs() > max * (1.0 + SLACK) && after.abs() > ctx.exposure.abs() {
        return Err(Refusal {
            rule: RiskRule::MaxPosition,
            reason: format!(
                "{} {quantity} {} would take the position to {after} (counting unfilled orders), over risk.max_position {max}; lower the size or raise max_position",
                verb(ticket.side),
                ctx.symbol
            ),
        });
    }
    Ok(())
}

/// The gross exposure before and after one order: Σ |position once working
/// orders fill| × last close over the strategy's symbols, the order's own
/// quantity valued at its limit or stop ([`order_price`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Gross {
    pub before: f64,
    pub after: f64,
    /// The price the order was valued at.
    pub price: f64,
}

pub(super) fn gross(ticket: &Ticket, ctx: &OrderContext<'_>) -> Gross {
    let price = order_price(ticket.kind, ctx.reference_price);
    let held = ctx.exposure * ctx.reference_price;
    let others = ctx.gross_exposure - held.abs();
    let after = others + (held + sign(ticket.side) * ticket.quantity * price).abs();
    Gross {
        before: ctx.gross_exposure,
        after,
        price,
    }
}

/// `risk.max_leverage` and `risk.max_gross_exposure`: checked only for an
/// order that raises the gross exposure.
pub(super) fn check_gross(
    rules: &RiskRules,
    ticket: &Ticket,
    ctx: &OrderContext<'_>,
) -> Result<(), Refusal> {
    if rules.max_leverage.is_none() && rules.max_gross_exposure.is_none() {
        return Ok(());
    }
    let g = gross(ticket, ctx);
    let what = format!(
        "{} {} {} at {}",
        verb(ticket.side),
        ticket.quantity,
        ctx.symbol,
        g.price
    );
    if !(g.price.is_finite() && g.price > 0.0) {
        // No price yet (no bar of the symbol): the order cannot be valued;
        // only one that shrinks the position in units is known to be safe.
        let after = ctx.exposure + sign(ticket.side) * ticket.quantity;
        if after.abs() <= ctx.exposure.abs() {
            return Ok(());
        }
        return Err(Refusal {
            rule: if rules.max_leverage.is_some() {
                RiskRule::MaxLeverage
            } else {
                RiskRule::MaxGrossExposure
            },
            reason: format!(
                "{what}: {} has no price yet, so the order's exposure cannot be valued against risk.max_leverage / risk.max_gross_exposure; send a limit order or wait for a bar of it",
                ctx.symbol
            ),
        });
    }
    let raises = g.after > g.before * (1.0 + SLACK);
    if !raises {
        return Ok(());
    }
    if let Some(max) = rules.max_leverage {
        let equity = ctx.equity;
        if !(equity.is_finite() && equity > 0.0) {
            return Err(Refusal {
                rule: RiskRule::MaxLeverage,
                reason: format!(
                    "{what}: equity is {equity:.2}, so no order may add exposure under risk.max_leverage {max}; only orders that reduce positions pass"
                ),
            });
        }
        let cap = max * equity;
        if g.after > cap * (1.0 + SLACK) {
            let room = ((cap - g.before) / g.price).max(0.0);
            return Err(Refusal {
                rule: RiskRule::MaxLeverage,
                reason: format!(
                    "{what} would take gross exposure (positions and working orders at their prices) to {:.2}, {:.2}x equity {equity:.2}, over risk.max_leverage {max} (at most {cap:.2}); room for about {room:.4} more units: lower the size or raise max_leverage",
                    g.after,
                    g.after / equity
                ),
            });
        }
    }
    if let Some(max) = rules.max_gross_exposure
        && g.after > max * (1.0 + SLACK)
    {
        let room = ((max - g.before) / g.price).max(0.0);
        return Err(Refusal {
            rule: RiskRule::MaxGrossExposure,
            reason: format!(
                "{what} would take gross exposure (positions and working orders at their prices) to {:.2}, over risk.max_gross_exposure {max}; room for about {room:.4} more units: lower the size or raise max_gross_exposure",
                g.after
            ),
        });
    }
    Ok(())
}

/// The `exposure` to check `ticket` against: `held` plus the working orders
/// of its symbol that may add to the position — bracket exits (orders with a
/// parent) left out, each OCO group counted once by its first order, as the
/// SDK's `PaperAccount::exposure` counts — and, when `ticket` joins an OCO
/// group, without that group: its members are alternatives to `ticket`, so
/// counting them too would refuse the second leg of every OCO entry.
///
/// Contract 0.1.0 orders have no groups, where this equals the account's
/// exposure; the contract 0.2.0 path builds its [`OrderContext`] with it.
pub fn exposure_for<'a>(
    held: f64,
    working: impl IntoIterator<Item = &'a Ticket>,
    ticket: &Ticket,
) -> f64 {
    held + sandbar_guest::paper::working_exposure(working, ticket.symbol, ticket.oco_group)
}
