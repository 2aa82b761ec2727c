//! Round-trip trades from fills: each fill that adds exposure opens a lot,
//! each that reduces it closes the oldest lots first (FIFO). A closed lot is
//! one trade with its entry, exit, fees and net PnL.

use crate::contract::Fill;
use serde::Serialize;
use std::collections::VecDeque;

/// One closed (or, at the end of a run, still open) trade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trade {
    /// The strategy's own symbol index (into its `symbols`).
    pub symbol: u32,
    /// `long` or `short`.
    pub side: &'static str,
    /// The quantity closed, always positive (a lot closed by several fills
    /// makes several trades).
    pub size: f64,
    /// The opening fill's bar time, ms since the Unix epoch (UTC).
    pub entry_ts_ms: i64,
    /// The opening fill's bar sequence number.
    pub entry_bar: u64,
    /// The opening fill's price (slippage included).
    pub entry_price: f64,
    /// The closing fill's bar time in ms; for an open trade, the time it was
    /// marked at.
    pub exit_ts_ms: i64,
    /// The closing fill's bar sequence number, or the marking bar's.
    pub exit_bar: u64,
    /// The closing fill's price, or for an open trade the last close.
    pub exit_price: f64,
    /// Entry and exit commission of this quantity.
    pub fees: f64,
    /// (exit - entry) x size for longs, the reverse for shorts, minus fees.
    pub pnl: f64,
}

#[derive(Debug, Clone)]
struct Lot {
    /// Signed: positive long.
    quantity: f64,
    price: f64,
    ts_ms: i64,
    bar: u64,
    /// Entry commission still attributable to `quantity`.
    fee: f64,
}

/// Open lots per symbol and the trades closed so far.
#[derive(Debug, Clone, Default)]
pub struct TradeLedger {
    open: Vec<VecDeque<Lot>>,
    closed: Vec<Trade>,
}

/// Quantities below this are rounding left-overs, not lots.
const EPSILON: f64 = 1e-12;

impl TradeLedger {
    /// An empty ledger for symbols `0..symbols`; fills of any other index
    /// are ignored.
    pub fn new(symbols: usize) -> Self {
        Self {
            open: vec![VecDeque::new(); symbols],
            closed: Vec::new(),
        }
    }

    /// Records a fill (its `seq` is the bar index).
    pub fn record(&mut self, fill: &Fill) {
        let Some(lots) = self.open.get_mut(fill.symbol as usize) else {
            return;
        };
        let sign = match fill.side {
            crate::contract::Side::Buy => 1.0,
            crate::contract::Side::Sell => -1.0,
        };
        let mut left = fill.quantity;
        while left > EPSILON {
            let Some(lot) = lots.front_mut().filter(|l| l.quantity * sign < 0.0) else {
                break;
            };
            let closed = left.min(lot.quantity.abs());
            let entry_fee = lot.fee * closed / lot.quantity.abs();
            let exit_fee = fill.commission * closed / fill.quantity;
            let direction = lot.quantity.signum();
            let fees = entry_fee + exit_fee;
            self.closed.push(Trade {
                symbol: fill.symbol,
                side: if direction > 0.0 { "long" } else { "short" },
                size: closed,
                entry_ts_ms: lot.ts_ms,
                entry_bar: lot.bar,
                entry_price: lot.price,
                exit_ts_ms: fill.ts_ms,
                exit_bar: fill.seq,
                exit_price: fill.price,
                fees,
                pnl: (fill.price - lot.price) * closed * direction - fees,
            });
            lot.fee -= entry_fee;
            lot.quantity -= closed * direction;
            left -= closed;
            if lot.quantity.abs() <= EPSILON {
                lots.pop_front();
            }
        }
        if left > EPSILON {
            lots.push_back(Lot {
                quantity: left * sign,
                price: fill.price,
                ts_ms: fill.ts_ms,
                bar: fill.seq,
                fee: fill.commission * left / fill.quantity,
            });
        }
    }

    /// The trades closed so far, in the order they closed.
    pub fn closed(&self) -> &[Trade] {
        &self.closed
    }

    /// The open lots as trades marked at `prices[symbol]` (exit fee not
    /// included), stamped with the given time and bar.
    pub fn open_marked(&self, prices: &[f64], ts_ms: i64, bar: u64) -> Vec<Trade> {
        let mut out = Vec::new();
        for (symbol, lots) in self.open.iter().enumerate() {
            let price = prices.get(symbol).copied().unwrap_or(0.0);
            for lot in lots {
                let direction = lot.quantity.signum();
                let size = lot.quantity.abs();
                out.push(Trade {
                    symbol: symbol as u32,
                    side: if direction > 0.0 { "long" } else { "short" },
                    size,
                    entry_ts_ms: lot.ts_ms,
                    entry_bar: lot.bar,
                    entry_price: lot.price,
                    exit_ts_ms: ts_ms,
                    exit_bar: bar,
                    exit_price: price,
                    fees: lot.fee,
                    pnl: (price - lot.price) * size * direction - lot.fee,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Side;

    fn fill(seq: u64, side: Side, quantity: f64, price: f64, commission: f64) -> Fill {
        Fill {
            seq,
            ts_ms: seq as i64 * 1000,
            symbol: 0,
            side,
            quantity,
            price,
            commission,
        }
    }

    #[test]
    fn a_long_round_trip_is_one_trade_with_both_fees() {
        let mut ledger = TradeLedger::new(1);
        ledger.record(&fill(1, Side::Buy, 2.0, 100.0, 0.2));
        ledger.record(&fill(5, Side::Sell, 2.0, 110.0, 0.22));
        let t = &ledger.closed()[0];
        assert_eq!(
            (t.side, t.size, t.entry_bar, t.exit_bar),
            ("long", 2.0, 1, 5)
        );
        assert!((t.fees - 0.42).abs() < 1e-12);
        assert!((t.pnl - (20.0 - 0.42)).abs() < 1e-12);
    }

    #[test]
    fn partial_closes_are_fifo_and_prorate_fees() {
        let mut ledger = TradeLedger::new(1);
        ledger.record(&fill(1, Side::Buy, 1.0, 100.0, 1.0));
        ledger.record(&fill(2, Side::Buy, 1.0, 120.0, 1.0));
        ledger.record(&fill(3, Side::Sell, 1.5, 130.0, 3.0));
        let closed = ledger.closed();
        assert_eq!(closed.len(), 2);
        assert_eq!((closed[0].entry_price, closed[0].size), (100.0, 1.0));
        assert!((closed[0].pnl - (30.0 - 1.0 - 2.0)).abs() < 1e-12);
        assert_eq!((closed[1].entry_price, closed[1].size), (120.0, 0.5));
        assert!((closed[1].pnl - (5.0 - 0.5 - 1.0)).abs() < 1e-12);
        let open = ledger.open_marked(&[140.0], 9000, 9);
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].size, open[0].fees), (0.5, 0.5));
        assert!((open[0].pnl - (10.0 - 0.5)).abs() < 1e-12);
    }

    #[test]
    fn a_flip_closes_the_long_and_opens_a_short() {
        let mut ledger = TradeLedger::new(1);
        ledger.record(&fill(1, Side::Buy, 1.0, 100.0, 0.0));
        ledger.record(&fill(2, Side::Sell, 3.0, 90.0, 0.0));
        assert_eq!(ledger.closed()[0].pnl, -10.0);
        ledger.record(&fill(3, Side::Buy, 2.0, 80.0, 0.0));
        let short = &ledger.closed()[1];
        assert_eq!((short.side, short.size, short.pnl), ("short", 2.0, 20.0));
        assert!(ledger.open_marked(&[0.0], 0, 0).is_empty());
    }
}
