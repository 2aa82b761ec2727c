//! # sma-cross — a moving-average crossover strategy for Sandbar
//!
//! Holds `size` while the fast simple moving average of the close is above
//! the slow one, and goes flat (or short `size`, with `allow_short`) when it
//! crosses below. Each symbol has its own averages; orders come only when the
//! wanted position differs from the one the host reports, so most bars return
//! nothing.
//!
//! ```
//! use sandbar_guest::{Harness, Side, value};
//! use sma_cross::SmaCross;
//!
//! let mut h = Harness::<SmaCross>::new(&["BTCUSD"]);
//! h.init(&[("fast", value(2u32)), ("slow", value(3u32))]).unwrap();
//! assert!(h.on_close(0, 10.0).is_empty());
//! assert!(h.on_close(0, 10.0).is_empty());
//! let orders = h.on_close(0, 11.0); // fast 10.5 > slow 10.33
//! assert_eq!((orders[0].side, orders[0].quantity), (Side::Buy, 1.0));
//! ```

use sandbar_guest::indicators::{Cross, CrossDetector, Sma, WarmUp, longest};
use sandbar_guest::{Bar, Carried, Orders, ParamError, Position, Strategy, checks, log, params};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// Longest accepted lookback, in bars. An average keeps its whole window in
/// memory, and a guest's memory is capped by the host.
pub const MAX_PERIOD: u32 = 100_000;

params! {
    /// Parameters of [`SmaCross`], set in the `[strategy.params]` table.
    pub struct SmaCrossParams {
        /// Lookback of the fast moving average, in bars (at least 1).
        fast: u32 = 10,
        /// Lookback of the slow moving average, in bars (greater than fast).
        slow: u32 = 30,
        /// Quantity held while in a position (greater than 0).
        size: f64 = 1.0,
        /// Hold -size instead of going flat while the fast average is below the slow one.
        allow_short: bool = false,
    }
}

/// Which average is on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trend {
    /// The fast average is above the slow one: hold `size`.
    Up,
    /// The fast average is below the slow one: flat, or `-size` with `allow_short`.
    Down,
}

/// The state of one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolState {
    fast: Sma,
    slow: Sma,
    cross: CrossDetector,
    /// `None` until both averages are warmed up. A tie keeps the last trend
    /// (a tie on the very first warmed-up bar counts as `Down`).
    trend: Option<Trend>,
}

/// Both averages are ready on the slow-th bar, which can already trade.
impl WarmUp for SymbolState {
    fn warmup_bars(&self) -> u32 {
        longest(&[&self.fast, &self.slow])
    }
}

/// Everything that changes while the strategy runs, carried across a hot
/// swap. It records the symbols and lookbacks it was built for, so the SDK
/// only restores it into an instance that would have built the same averages.
pub type SmaCrossState = Carried<SymbolState>;

/// The strategy; see the crate docs.
pub struct SmaCross {
    params: SmaCrossParams,
    state: SmaCrossState,
}

impl SmaCross {
    fn validate(p: &SmaCrossParams) -> Result<(), ParamError> {
        checks::min_period("fast", p.fast, 1, "the default is 10")?;
        if p.fast >= p.slow {
            return Err(ParamError::invalid(
                "fast",
                format!(
                    "must be smaller than slow (got fast={}, slow={}); the defaults are fast=10, slow=30",
                    p.fast, p.slow
                ),
            ));
        }
        checks::max_period(
            "slow",
            p.slow,
            MAX_PERIOD,
            "use a coarser bar size for longer lookbacks",
        )?;
        checks::positive("size", p.size, "to sell short, set allow_short = true")
    }

    fn target(p: &SmaCrossParams, trend: Trend) -> f64 {
        match trend {
            Trend::Up => p.size,
            Trend::Down if p.allow_short => -p.size,
            Trend::Down => 0.0,
        }
    }
}

impl Strategy for SmaCross {
    const NAME: &'static str = "sma-cross";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str =
        "Long while the fast SMA of the close is above the slow SMA; flat (or short) below it.";
    type Params = SmaCrossParams;
    type State = SmaCrossState;

    fn new(params: SmaCrossParams, symbols: &[String]) -> Result<Self, ParamError> {
        Self::validate(&params)?;
        let (fast, slow) = (params.fast as usize, params.slow as usize);
        let state = Carried::new(
            symbols,
            &[("fast", &params.fast), ("slow", &params.slow)],
            "its averages do not carry over",
            || SymbolState {
                fast: Sma::new(fast),
                slow: Sma::new(slow),
                cross: CrossDetector::new(),
                trend: None,
            },
        );
        Ok(Self { params, state })
    }

    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
        let Some((name, st)) = self.state.entry(bar.symbol) else {
            return; // not one of our symbols
        };
        if !checks::finite_prices(bar, "close", &[bar.close]) {
            return;
        }
        let fast = st.fast.update(bar.close);
        let slow = st.slow.update(bar.close);
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return; // warming up
        };
        let trend = match (st.cross.update(fast, slow), st.trend) {
            (Some(Cross::Above), _) => Trend::Up,
            (Some(Cross::Below), _) => Trend::Down,
            (None, Some(trend)) => trend,
            (None, None) if fast > slow => Trend::Up,
            (None, None) => Trend::Down,
        };
        if st.trend != Some(trend) {
            st.trend = Some(trend);
            log::debug(&format!(
                "{name}: trend {trend:?} at bar {} (fast {fast}, slow {slow})",
                bar.seq
            ));
        }
        let target = Self::target(&self.params, trend);
        orders.target(bar.symbol, position.quantity, target);
    }

    sandbar_guest::keep_state!(state, warmup);
}

sandbar_guest::export_strategy!(SmaCross);
