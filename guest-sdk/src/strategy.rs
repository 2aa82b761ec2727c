//! The trait a strategy implements, and the order buffer it writes into.

use crate::{Bar, Fill, Order, OrderKind, Params, Position, Side};
use serde::{Serialize, de::DeserializeOwned};

/// A trading strategy. Export it to Wasm with [`crate::export_strategy!`];
/// test it natively with [`crate::Harness`].
pub trait Strategy: Sized + 'static {
    /// Short machine-friendly name, also stamped into snapshots.
    const NAME: &'static str;
    /// The strategy's own version (semver recommended).
    const VERSION: &'static str;
    /// One line on what it does.
    const DESCRIPTION: &'static str;

    /// Typed parameters, declared with [`crate::params!`].
    type Params: Params;
    /// Everything that must survive a hot swap. Serialised with a compact
    /// codec; a new version whose `State` no longer decodes the old bytes is
    /// simply warmed up from recent history instead.
    type State: Serialize + DeserializeOwned;

    /// Bars needed before the strategy can trade with these parameters.
    fn warmup_bars(params: &Self::Params) -> u32;

    /// Builds the strategy; an `Err` explains which parameter is wrong and why.
    fn new(params: Self::Params, symbols: &[String]) -> Result<Self, crate::ParamError>;

    /// Called once per bar of every subscribed symbol, in sequence order.
    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders);

    /// Called when one of the strategy's orders filled.
    fn on_fill(&mut self, _fill: &Fill) {}

    /// The state to carry across a hot swap.
    fn state(&self) -> &Self::State;

    /// Takes over state produced by [`Strategy::state`] (possibly of an
    /// earlier version of this strategy).
    fn restore_state(&mut self, state: Self::State) -> Result<(), String>;
}

/// Orders emitted for one bar. Empty for most bars, which costs nothing.
#[derive(Debug, Default)]
pub struct Orders {
    orders: Vec<Order>,
}

/// Position changes smaller than this are treated as no change.
const QUANTITY_EPSILON: f64 = 1e-9;

impl Orders {
    pub fn new() -> Self {
        Self::default()
    }

    /// A market order: fills at the next bar's open.
    pub fn market(&mut self, symbol: u32, side: Side, quantity: f64) {
        self.push(symbol, side, quantity, OrderKind::Market);
    }

    /// A limit order: fills when a later bar trades through `price`.
    pub fn limit(&mut self, symbol: u32, side: Side, quantity: f64, price: f64) {
        self.push(symbol, side, quantity, OrderKind::Limit(price));
    }

    /// A market order that moves `current` quantity to `target` (signed).
    /// Emits nothing when already there.
    pub fn target(&mut self, symbol: u32, current: f64, target: f64) {
        let delta = target - current;
        if delta > QUANTITY_EPSILON {
            self.market(symbol, Side::Buy, delta);
        } else if delta < -QUANTITY_EPSILON {
            self.market(symbol, Side::Sell, -delta);
        }
    }

    fn push(&mut self, symbol: u32, side: Side, quantity: f64, kind: OrderKind) {
        self.orders.push(Order {
            symbol,
            side,
            quantity,
            kind,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    pub fn as_slice(&self) -> &[Order] {
        &self.orders
    }

    pub fn into_vec(self) -> Vec<Order> {
        self.orders
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_emits_the_difference_with_the_right_side() {
        let mut o = Orders::new();
        o.target(0, 1.0, -2.0);
        o.target(1, -1.0, 0.5);
        o.target(2, 3.0, 3.0);
        let got = o.into_vec();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].side, got[0].quantity), (Side::Sell, 3.0));
        assert_eq!(
            (got[1].symbol, got[1].side, got[1].quantity),
            (1, Side::Buy, 1.5)
        );
    }
}
