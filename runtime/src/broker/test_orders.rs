//! Bars and orders for the broker's tests and their neighbours'.

use crate::contract::{Bar, Request};
use sandbar_guest::paper::{self, Kind, Ticket, TimeInForce};

/// A bar of symbol 0 at `seq` (a minute apart) closing at `close`, one
/// either side of it as high and low.
pub fn bar_at(seq: u64, close: f64) -> Bar {
    Bar {
        seq,
        ts_ms: seq as i64 * 60_000,
        symbol: 0,
        open: close,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 1.0,
    }
}

/// A good-till-cancelled buy of `quantity` of symbol 0 with id `id`.
pub fn place_buy(id: u64, quantity: f64, kind: Kind) -> Request {
    Request::Broker(paper::Request::Place(Ticket {
        tif: TimeInForce::Gtc,
        ..Ticket::one_bar(id, 0, sandbar_guest::Side::Buy, quantity, kind)
    }))
}
