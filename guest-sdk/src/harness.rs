//! A native harness: drive a strategy with plain `cargo test`, no Wasm needed.
//! It goes through the same glue as the component (parameter parsing,
//! snapshot codec), and keeps a position per symbol that [`Harness::fill`]
//! updates with the same accounting the runtime uses.

use crate::accounting::Holding;
use crate::{
    Bar, Fill, LogLevel, Order, Param, ParamType, Position, Side, Strategy, StrategyInfo,
    slot::Slot,
};

/// Cash the harness's book starts with.
pub const STARTING_CASH: f64 = 100_000.0;

/// Drives one strategy instance natively.
pub struct Harness<S: Strategy> {
    slot: Slot<S>,
    symbols: Vec<String>,
    holdings: Vec<Holding>,
    last_close: Vec<f64>,
    cash: f64,
    next_seq: u64,
}

impl<S: Strategy> Harness<S> {
    /// A harness for these symbols, with default parameters until [`Harness::init`].
    pub fn new(symbols: &[&str]) -> Self {
        Self {
            slot: Slot::new(),
            symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
            holdings: vec![Holding::default(); symbols.len()],
            last_close: vec![0.0; symbols.len()],
            cash: STARTING_CASH,
            next_seq: 0,
        }
    }

    pub fn describe(&self) -> StrategyInfo {
        Slot::<S>::describe()
    }

    /// Calls `init` with these parameters, exactly as the host would.
    pub fn init(&mut self, params: &[(&str, crate::ParamValue)]) -> Result<(), String> {
        let params = params
            .iter()
            .map(|(name, value)| Param {
                name: (*name).to_owned(),
                value: value.clone(),
            })
            .collect();
        self.slot.init(self.symbols.clone(), params)
    }

    /// `init` with default parameters; panics with the strategy's message if refused.
    pub fn with_defaults(symbols: &[&str]) -> Self {
        let mut harness = Self::new(symbols);
        if let Err(e) = harness.init(&[]) {
            panic!("{} refused its default parameters: {e}", S::NAME);
        }
        harness
    }

    /// Feeds one bar (with the harness's position for its symbol) and returns the orders.
    pub fn on_bar(&mut self, bar: Bar) -> Vec<Order> {
        if let Some(close) = self.last_close.get_mut(bar.symbol as usize) {
            *close = bar.close;
        }
        let position = self.position(bar.symbol);
        self.on_bar_at(bar, position)
    }

    /// Feeds one bar with a position chosen by the caller (for example one
    /// kept by the runtime's broker), bypassing the harness's own book.
    pub fn on_bar_at(&mut self, bar: Bar, position: Position) -> Vec<Order> {
        self.next_seq = bar.seq + 1;
        self.slot.on_bar(bar, position)
    }

    /// Passes a fill to the strategy without touching the harness's book.
    pub fn on_fill(&mut self, fill: Fill) {
        self.slot.on_fill(fill);
    }

    /// Feeds a bar built from a close price (open = high = low = close).
    pub fn on_close(&mut self, symbol: u32, close: f64) -> Vec<Order> {
        let seq = self.next_seq;
        self.on_bar(Bar {
            seq,
            ts_ms: seq as i64 * 60_000,
            symbol,
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        })
    }

    /// Fills `order` at `price`, updates the position and calls `on_fill`.
    pub fn fill(&mut self, order: &Order, price: f64) {
        let index = order.symbol as usize;
        let signed = match order.side {
            Side::Buy => order.quantity,
            Side::Sell => -order.quantity,
        };
        if let Some(holding) = self.holdings.get_mut(index) {
            self.cash += holding.apply_fill(signed, price, 0.0).cash_delta;
        }
        self.slot.on_fill(Fill {
            seq: self.next_seq.saturating_sub(1),
            ts_ms: 0,
            symbol: order.symbol,
            side: order.side,
            quantity: order.quantity,
            price,
            commission: 0.0,
        });
    }

    /// The position the harness will pass with the next bar of `symbol`.
    pub fn position(&self, symbol: u32) -> Position {
        let holding = self
            .holdings
            .get(symbol as usize)
            .copied()
            .unwrap_or_default();
        let marked: f64 = self
            .holdings
            .iter()
            .zip(&self.last_close)
            .map(|(h, close)| h.quantity * close)
            .sum();
        Position {
            quantity: holding.quantity,
            avg_price: holding.avg_price,
            cash: self.cash,
            equity: self.cash + marked,
        }
    }

    pub fn snapshot(&self) -> Vec<u8> {
        self.slot.snapshot()
    }

    pub fn restore(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.slot.restore(bytes)
    }

    /// Log lines the strategy wrote since the last call (this thread only).
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        crate::log::native::take()
    }
}

/// Shorthand for building a parameter value in harness calls.
pub fn value<T: ParamType>(v: T) -> crate::ParamValue {
    v.to_value()
}
