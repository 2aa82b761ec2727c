//! Where one working order fills on one bar, if it does: the fill rules of
//! [`crate::paper`], one function per order kind, no state changed here.

use super::FillModel;
use super::order::Kind;
use crate::{Bar, Side};

/// When in the bar an order fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    /// At the open: first, whatever else the bar does.
    Open,
    /// Somewhere inside the bar's range; which came first is unknown.
    Intrabar,
}

/// What a bar does to one order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Touch {
    /// It fills at this price.
    Fill(Phase, f64),
    /// A stop-limit's stop traded but its limit did not fill on this bar: it
    /// works as a limit from the next bar.
    Trigger,
    /// Nothing.
    Miss,
}

/// How `kind` (with `triggered` for a stop-limit whose stop already traded,
/// and `trail_stop` the current level of a trailing stop) fares on `bar`.
pub(super) fn touch(
    model: &FillModel,
    side: Side,
    kind: Kind,
    triggered: bool,
    trail_stop: f64,
    bar: &Bar,
) -> Touch {
    match kind {
        Kind::Market => Touch::Fill(Phase::Open, slipped(model, side, bar.open)),
        Kind::Limit(limit) => limit_touch(side, limit, bar),
        Kind::StopLimit { limit, .. } if triggered => limit_touch(side, limit, bar),
        Kind::Stop(stop) => stop_touch(model, side, stop, bar),
        Kind::TrailingAmount(_) | Kind::TrailingPercent(_) => {
            stop_touch(model, side, trail_stop, bar)
        }
        Kind::StopLimit { stop, limit } => match stop_reached(side, stop, bar) {
            None => Touch::Miss,
            // The market reached the stop at a price within the limit: the
            // released limit order fills there. Past the limit (a gap, or a
            // limit on the far side of the stop) the path inside the bar is
            // unknown, so it only works as a limit from the next bar.
            Some((phase, price)) if within_limit(side, price, limit) => Touch::Fill(phase, price),
            Some(_) => Touch::Trigger,
        },
    }
}

/// The level of a trailing stop whose best price so far is `extreme`.
pub(super) fn trail_level(side: Side, kind: Kind, extreme: f64) -> f64 {
    match (kind, side) {
        (Kind::TrailingAmount(amount), Side::Sell) => extreme - amount,
        (Kind::TrailingAmount(amount), Side::Buy) => extreme + amount,
        (Kind::TrailingPercent(percent), Side::Sell) => extreme * (1.0 - percent / 100.0),
        (Kind::TrailingPercent(percent), Side::Buy) => extreme * (1.0 + percent / 100.0),
        _ => f64::NAN,
    }
}

/// The best price a trailing stop follows, after `bar`: the highest high
/// for a sell stop, the lowest low for a buy stop.
pub(super) fn trail_extreme(side: Side, extreme: f64, bar: &Bar) -> f64 {
    match side {
        Side::Sell => extreme.max(bar.high),
        Side::Buy => extreme.min(bar.low),
    }
}

fn slipped(model: &FillModel, side: Side, price: f64) -> f64 {
    let slip = model.slippage_bps / 10_000.0;
    match side {
        Side::Buy => price * (1.0 + slip),
        Side::Sell => price * (1.0 - slip),
    }
}

fn within_limit(side: Side, price: f64, limit: f64) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

fn limit_touch(side: Side, limit: f64, bar: &Bar) -> Touch {
    let (gapped, reached) = match side {
        Side::Buy => (bar.open <= limit, bar.low <= limit),
        Side::Sell => (bar.open >= limit, bar.high >= limit),
    };
    if gapped {
        Touch::Fill(Phase::Open, bar.open)
    } else if reached {
        Touch::Fill(Phase::Intrabar, limit)
    } else {
        Touch::Miss
    }
}

/// Where the price first trades through `stop` on this bar: at the open
/// when it gaps through, else at the stop itself.
fn stop_reached(side: Side, stop: f64, bar: &Bar) -> Option<(Phase, f64)> {
    let (gapped, reached) = match side {
        Side::Buy => (bar.open >= stop, bar.high >= stop),
        Side::Sell => (bar.open <= stop, bar.low <= stop),
    };
    if gapped {
        Some((Phase::Open, bar.open))
    } else if reached {
        Some((Phase::Intrabar, stop))
    } else {
        None
    }
}

/// A stop becomes a market order where it is reached, and pays slippage.
fn stop_touch(model: &FillModel, side: Side, stop: f64, bar: &Bar) -> Touch {
    match stop_reached(side, stop, bar) {
        Some((phase, price)) => Touch::Fill(phase, slipped(model, side, price)),
        None => Touch::Miss,
    }
}
