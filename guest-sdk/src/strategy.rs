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

    /// Typed parameters, declared with [`crate::params!`] (which derives
    /// the `Clone` that the default [`Strategy::warmup_bars`] needs).
    type Params: Params + Clone;
    /// Everything that must survive a hot swap. Serialised with a compact
    /// codec; a new version whose `State` no longer decodes the old bytes is
    /// simply warmed up from recent history instead.
    type State: Serialize + DeserializeOwned;

    /// Bars needed before the strategy can trade with these parameters;
    /// `describe` reports it for the default parameters, and the runtime
    /// replays at least that many recent bars into a new instance.
    ///
    /// The default builds an instance for one symbol and asks it
    /// ([`Strategy::warmup`]), so a strategy whose indicators know their
    /// warm-up ([`crate::indicators::WarmUp`]) need not work it out by hand;
    /// parameters that [`Strategy::new`] refuses give 0.
    fn warmup_bars(params: &Self::Params) -> u32 {
        Self::new(params.clone(), &[String::from("warm-up")]).map_or(0, |s| s.warmup())
    }

    /// This instance's warm-up, in bars; used by the default
    /// [`Strategy::warmup_bars`]. The default is 0 (it can trade from the
    /// first bar): override it, typically as the [`crate::indicators::WarmUp`]
    /// of the state (which [`crate::keep_state!`]`(state, warmup)` writes), or
    /// override [`Strategy::warmup_bars`] instead.
    fn warmup(&self) -> u32 {
        0
    }

    /// Builds the strategy; an `Err` explains which parameter is wrong and why.
    fn new(params: Self::Params, symbols: &[String]) -> Result<Self, crate::ParamError>;

    /// Called once per bar of every subscribed symbol, in sequence order.
    ///
    /// A new instance (a new version, new parameters, a rebuild after a
    /// trap) is warmed up before it goes live: the runtime restores the last
    /// good snapshot if the strategy accepts it, then replays the recent bars
    /// after it (all of them without one) and discards the orders of those
    /// bars. During that replay `position` is flat, with cash and equity 0,
    /// whatever the live book holds.
    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders);

    /// Called when one of the strategy's orders filled.
    fn on_fill(&mut self, _fill: &Fill) {}

    /// The state to carry across a hot swap. [`crate::keep_state!`] writes
    /// it and [`Strategy::restore_state`] for a state kept in one field.
    fn state(&self) -> &Self::State;

    /// Takes over state produced by [`Strategy::state`] (possibly of an
    /// earlier version of this strategy), or says why not. With a
    /// [`crate::Carried`] state, [`crate::keep_state!`] writes it with the
    /// standard checks (same symbols, same lookbacks, one state per symbol).
    fn restore_state(&mut self, state: Self::State) -> Result<(), String>;
}

/// Orders emitted for one bar. Empty for most bars, which costs nothing.
///
/// `symbol` is an index into the symbols given at `init` (as in
/// [`Bar::symbol`]), quantities are in units of the symbol, prices in its
/// quote currency. The runtime checks the whole result before acting on it:
/// an unknown symbol index, a quantity that is not a finite number above 0,
/// a limit price that is not a finite number above 0, or more orders than
/// `limits.max_orders_per_bar` refuses every order of the bar, as one
/// refusal of rule `validation`. Orders that pass then meet the risk rules
/// one by one.
#[derive(Debug, Default)]
pub struct Orders {
    orders: Vec<Order>,
}

/// Position changes smaller than this are treated as no change.
const QUANTITY_EPSILON: f64 = 1e-9;

impl Orders {
    /// An empty buffer. The export glue and the harness make one per bar;
    /// a strategy needs one only to test a helper that writes orders.
    pub fn new() -> Self {
        Self::default()
    }

    /// A market order for `quantity` units (finite, above 0): fills at the
    /// open of the symbol's next bar.
    pub fn market(&mut self, symbol: u32, side: Side, quantity: f64) {
        self.push(symbol, side, quantity, OrderKind::Market);
    }

    /// A limit order for `quantity` units (finite, above 0): fills on the
    /// symbol's next bar if it trades at `price` or better (at its open when
    /// it gaps through), and expires otherwise.
    pub fn limit(&mut self, symbol: u32, side: Side, quantity: f64, price: f64) {
        self.push(symbol, side, quantity, OrderKind::Limit(price));
    }

    /// A market order that moves `current` quantity to `target` (both
    /// signed: positive long, negative short), buying or selling the
    /// difference. Emits nothing when already there (a difference below
    /// 1e-9 units) and nothing when either is NaN, so a target computed from
    /// a poisoned value keeps the position as it is.
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

    /// `true` when no order was written.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// The orders written so far, in the order they were written (the
    /// order the runtime checks and submits them in).
    pub fn as_slice(&self) -> &[Order] {
        &self.orders
    }

    /// The orders written, in order; what `on-bar` returns to the host.
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
