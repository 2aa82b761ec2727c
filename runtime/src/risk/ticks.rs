//! Per-symbol tick and lot sizes (`[symbols.NAME] tick`, `lot`).
//!
//! The choice, as config/README.md states it: a quantity that is not a whole
//! number of lots is refused (`lot_size`) — rounding it would silently change
//! the risk the strategy asked for; a price off the tick is rounded to the
//! tick in the direction that never makes the order more aggressive (a buy
//! limit down, a sell limit up; a buy stop up, a sell stop down, i.e. away
//! from the market), and refused (`tick_size`) only when that leaves no price
//! above 0. Trailing distances are not rounded: their level moves with the
//! market and fills at it.

use super::{Refusal, RiskRule};
use sandbar_guest::Side;
use sandbar_guest::paper::{Kind, Ticket};
use serde::Serialize;

/// One symbol's increments; `None` is no constraint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SymbolRules {
    /// The price increment.
    pub tick: Option<f64>,
    /// The quantity increment (and the smallest order).
    pub lot: Option<f64>,
}

/// How close (relative) a ratio must be to a whole number to count as one:
/// 0.3 / 0.1 is 2.9999999999999996 in floats.
const WHOLE: f64 = 1e-9;

/// `value / step` when it is a whole number (within float noise).
fn whole_steps(value: f64, step: f64) -> Option<f64> {
    let n = value / step;
    let r = n.round();
    ((n - r).abs() <= WHOLE * r.abs().max(1.0)).then_some(r)
}

/// Refuses a quantity that is not a whole number (at least one) of lots.
pub(super) fn check_lot(rules: SymbolRules, ticket: &Ticket, symbol: &str) -> Result<(), Refusal> {
    let Some(lot) = rules.lot else {
        return Ok(());
    };
    let quantity = ticket.quantity;
    match whole_steps(quantity, lot) {
        Some(n) if n >= 1.0 => Ok(()),
        _ => {
            let below = (quantity / lot).floor() * lot;
            let above = below + lot;
            Err(Refusal {
                rule: RiskRule::LotSize,
                reason: format!(
                    "quantity {quantity} of {symbol} is not a whole number of its lot {lot} ([symbols.{symbol}] lot); orders off the lot are refused, not rounded (the nearest sizes are {below} and {above}): size in whole lots"
                ),
            })
        }
    }
}

/// Which way a price moves onto the tick.
#[derive(Clone, Copy)]
enum Toward {
    Down,
    Up,
}

fn round(price: f64, tick: f64, toward: Toward) -> f64 {
    if whole_steps(price, tick).is_some() {
        // On the tick already: keep the strategy's exact number.
        return price;
    }
    let n = price / tick;
    match toward {
        Toward::Down => n.floor() * tick,
        Toward::Up => n.ceil() * tick,
    }
}

/// The ticket with its limit and stop levels on the tick, rounded so the
/// order is never more aggressive than sent; refused when a level would
/// round to 0.
pub(super) fn round_to_tick(
    rules: SymbolRules,
    ticket: &Ticket,
    symbol: &str,
) -> Result<Ticket, Refusal> {
    let Some(tick) = rules.tick else {
        return Ok(*ticket);
    };
    // A buy limit pays at most its limit: down is safer; a sell limit up.
    let limit_way = match ticket.side {
        Side::Buy => Toward::Down,
        Side::Sell => Toward::Up,
    };
    // A buy stop sits above the market: up is away from it; a sell stop down.
    let stop_way = match ticket.side {
        Side::Buy => Toward::Up,
        Side::Sell => Toward::Down,
    };
    let kind = match ticket.kind {
        Kind::Limit(limit) => Kind::Limit(round(limit, tick, limit_way)),
        Kind::Stop(stop) => Kind::Stop(round(stop, tick, stop_way)),
        Kind::StopLimit { stop, limit } => Kind::StopLimit {
            stop: round(stop, tick, stop_way),
            limit: round(limit, tick, limit_way),
        },
        other => other,
    };
    let levels = match kind {
        Kind::Limit(p) | Kind::Stop(p) => [p, p],
        Kind::StopLimit { stop, limit } => [stop, limit],
        _ => [tick, tick],
    };
    if let Some(bad) = levels.into_iter().find(|p| *p <= 0.0) {
        let sent = super::order_price(ticket.kind, 0.0);
        return Err(Refusal {
            rule: RiskRule::TickSize,
            reason: format!(
                "price {sent} of {symbol} rounds to {bad} on its tick {tick} ([symbols.{symbol}] tick; prices off the tick are rounded away from a fill, never refused unless they reach 0); send a price of at least {tick}"
            ),
        });
    }
    Ok(Ticket { kind, ..*ticket })
}
