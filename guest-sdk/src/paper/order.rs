//! The broker's vocabulary of orders: what a strategy asks for
//! ([`Ticket`], [`Request`]) and what becomes of it ([`OrderUpdate`]).
//! Independent of the contract version: the runtime maps each contract's
//! orders onto these.

use crate::Side;

/// An order's id. Strategies choose their own (client ids); orders of a
/// contract without ids get one from the broker, from [`HOST_IDS`] up.
pub type OrderId = u64;

/// Ids at or above this are assigned by the broker to orders that came
/// without one; a strategy's own ids stay below it.
pub const HOST_IDS: OrderId = 1 << 63;

/// How an order's price is decided (the fill rules are in [`crate::paper`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// At the open of the symbol's next bar, plus slippage.
    Market,
    /// At this price or better.
    Limit(f64),
    /// A market order once the price trades through this level (a buy stop
    /// above the market, a sell stop below it).
    Stop(f64),
    /// A limit order at `limit` once the price trades through `stop`.
    StopLimit {
        /// The trigger level.
        stop: f64,
        /// The limit of the order the trigger releases.
        limit: f64,
    },
    /// A stop that follows the best price since it was placed at this
    /// distance (in price): a sell stop trails the highest high, a buy stop
    /// the lowest low.
    TrailingAmount(f64),
    /// A trailing stop at this distance in percent of the best price (2.0 = 2 %).
    TrailingPercent(f64),
}

impl Kind {
    /// Stops of every kind (what a bracket's stop-loss is): the orders a
    /// bar touching both legs of a bracket fills first under
    /// [`TieRule::StopFirst`](super::TieRule::StopFirst).
    pub fn is_stop(&self) -> bool {
        matches!(
            self,
            Kind::Stop(_) | Kind::TrailingAmount(_) | Kind::TrailingPercent(_)
        )
    }
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInForce {
    /// Until filled or cancelled.
    Gtc,
    /// For this many bars of its symbol (1: only the next bar).
    Bars(u32),
    /// Until the end of the UTC day of the bar it was sent on: the first
    /// bar of its symbol on a later day expires it before it can fill.
    Day,
}

/// One order as the strategy sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ticket {
    /// Unique among the strategy's working orders.
    pub id: OrderId,
    /// Index into the strategy's symbols.
    pub symbol: u32,
    /// Buy or sell.
    pub side: Side,
    /// Positive and finite, in units of the symbol.
    pub quantity: f64,
    /// Market, limit, stop, stop-limit or trailing stop.
    pub kind: Kind,
    /// How long it works.
    pub tif: TimeInForce,
    /// Orders sharing a group cancel each other: the first to fill cancels
    /// the rest (one-cancels-other).
    pub oco_group: Option<u64>,
    /// A bracket's child: it starts working only once this order fills, and
    /// is cancelled if that order ends unfilled.
    pub parent: Option<OrderId>,
}

impl Ticket {
    /// A day-less, group-less order working for one bar: what contract
    /// 0.1.0's `market` and `limit` orders are.
    pub fn one_bar(id: OrderId, symbol: u32, side: Side, quantity: f64, kind: Kind) -> Self {
        Self {
            id,
            symbol,
            side,
            quantity,
            kind,
            tif: TimeInForce::Bars(1),
            oco_group: None,
            parent: None,
        }
    }
}

/// What a strategy asks the broker on a bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Request {
    /// A new order.
    Place(Ticket),
    /// Cancel a working order (or a bracket child waiting for its entry).
    Cancel(OrderId),
    /// Change a working order's quantity and/or price levels, keeping its
    /// id, time in force, group and (for a trailing stop of the same kind)
    /// the best price so far.
    Replace {
        /// The order to change.
        id: OrderId,
        /// The new quantity, if it changes.
        quantity: Option<f64>,
        /// The new kind and levels, if they change.
        kind: Option<Kind>,
    },
}

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Taken: working (or, for a bracket child, waiting for its entry).
    Accepted,
    /// A stop-limit's stop traded: it now works as a limit order.
    Triggered,
    /// Part of it filled. The paper broker fills whole orders and never
    /// reports this; it is in the vocabulary (and the contract) for venues
    /// that fill in parts.
    PartiallyFilled,
    /// Filled in full (the paper broker never fills part of an order).
    Filled,
    /// Cancelled by the strategy, by its OCO group, or because its bracket's
    /// entry ended unfilled.
    Cancelled,
    /// Its time in force ran out.
    Expired,
    /// Refused: the reason says why (an unknown id, a bad price...).
    Rejected,
    /// Changed by a [`Request::Replace`].
    Replaced,
}

impl OrderStatus {
    /// The status's name as journals and events spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Accepted => "accepted",
            OrderStatus::Triggered => "triggered",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Replaced => "replaced",
        }
    }
}

/// Something that happened to one order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    /// The order's id.
    pub id: OrderId,
    /// Its symbol.
    pub symbol: u32,
    /// What happened.
    pub status: OrderStatus,
    /// The bar it happened on (for a request, the bar the strategy answered).
    pub seq: u64,
    /// Why, for rejections, cancellations and expiries.
    pub reason: Option<String>,
}
