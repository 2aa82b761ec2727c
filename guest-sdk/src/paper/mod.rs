//! The paper broker, natively: the one implementation behind the runtime's
//! paper broker (live and `runtime backtest`) and the native
//! [`crate::Harness`], so a strategy's unit tests see the fills the runtime
//! makes.
//!
//! # Fill rules
//!
//! An order is first considered on the next bar of its symbol after the bar
//! it answered. On each bar of a symbol, in this order:
//!
//! 1. Day orders ([`TimeInForce::Day`]) sent on an earlier UTC day expire.
//! 2. Fills at the open, in the order sent: market orders at the open plus
//!    slippage (`broker.slippage_bps` of the open: paid on buys and sells);
//!    a limit the bar opens through (a buy limit at or above the open) at
//!    the open; a stop the bar gaps through (a buy stop at or below the
//!    open) at the open plus slippage.
//! 3. Fills inside the bar's range: a buy limit at its limit when the low
//!    reaches it (a sell limit: the high); a buy stop at its stop plus
//!    slippage when the high reaches it (a sell stop: the low); a trailing
//!    stop likewise at its current level — a sell stop trails the highest
//!    high since it was placed (starting from the last close when it was
//!    sent) by an amount or a percent, a buy stop the lowest low, and the
//!    level used on a bar is the one before that bar moved it. Which of
//!    several orders came first inside a bar is unknown; when two of them
//!    touch on one bar, stops fill before limits under [`TieRule::StopFirst`]
//!    (the default, the conservative choice: a bracket whose stop-loss and
//!    take-profit are both inside one bar's range exits at the stop), limits
//!    first under [`TieRule::TargetFirst`].
//! 4. A stop-limit is released when its stop trades (at the open on a gap,
//!    else at the stop); if that price is within its limit it fills there,
//!    otherwise it is `triggered` and works as a limit order from the next
//!    bar (the path inside the bar is unknown, so no fill is assumed). No
//!    slippage on limit fills.
//! 5. A fill cancels the other orders of its OCO group and releases its
//!    bracket children (take-profit and stop-loss, usually one OCO group).
//!    Children released by a fill at the open work on the rest of the same
//!    bar (a market entry can be stopped out on its first bar, as in
//!    backtesting.py); children released by a fill inside the bar work from
//!    the next bar. A bracket entry that ends unfilled cancels its children.
//! 6. Orders with [`TimeInForce::Bars`] that have worked their bars expire.
//!
//! Every fill pays `broker.commission` × notional. The paper broker fills
//! whole orders only (no partial fills, no volume limit). Contract 0.1.0's
//! `market` and `limit` orders are one-bar orders without ids
//! ([`Ticket::one_bar`]).

mod account;
mod book;
mod order;
mod rules;
mod wire;

pub use account::PaperAccount;
pub use book::working_exposure;
pub use order::{HOST_IDS, Kind, OrderId, OrderStatus, OrderUpdate, Request, Ticket, TimeInForce};
pub use wire::request as from_contract;

/// Which fill comes first when one bar touches a stop and a limit of the
/// same symbol (typically both legs of a bracket): the path inside a bar is
/// unknown, so it is a stated assumption (`broker.bracket_tie`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TieRule {
    /// Stops first: the conservative assumption (and backtesting.py's).
    #[default]
    StopFirst,
    /// Limits (targets) first: the optimistic one.
    TargetFirst,
}

/// How orders become fills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillModel {
    /// Commission as a fraction of notional (0.001 = 10 bp).
    pub commission: f64,
    /// Slippage on market orders and stops, in basis points of the price
    /// they fill at (paid, never earned).
    pub slippage_bps: f64,
    /// Which fill comes first when a bar touches a stop and a limit.
    pub tie: TieRule,
}

impl Default for FillModel {
    /// The runtime's defaults: `broker.commission = 0.001`,
    /// `broker.slippage_bps = 0`, stops first.
    fn default() -> Self {
        Self {
            commission: 0.001,
            slippage_bps: 0.0,
            tie: TieRule::StopFirst,
        }
    }
}

impl FillModel {
    /// No commission and no slippage: fills at exactly the open, the limit
    /// or the stop.
    pub const FREE: Self = Self {
        commission: 0.0,
        slippage_bps: 0.0,
        tie: TieRule::StopFirst,
    };

    /// This model with `commission` and `slippage_bps` (stops first).
    pub const fn new(commission: f64, slippage_bps: f64) -> Self {
        Self {
            commission,
            slippage_bps,
            tie: TieRule::StopFirst,
        }
    }
}

#[cfg(test)]
mod tests;
