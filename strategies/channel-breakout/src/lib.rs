//! # channel-breakout — a Donchian channel breakout strategy for Sandbar
//!
//! Buys `size` when the close breaks above the highest high of the previous
//! `entry_period` bars, and sells back to flat when the close falls below the
//! lowest low of the previous `exit_period` bars. The channels never include
//! the current bar, so a breakout is a close beyond every earlier extreme.
//! Each symbol has its own channels; orders come only when the wanted position
//! differs from the one the host reports, so most bars return nothing.
//!
//! ```
//! use channel_breakout::ChannelBreakout;
//! use sandbar_guest::{Harness, Side, value};
//!
//! let mut h = Harness::<ChannelBreakout>::new(&["BTCUSD"]);
//! h.init(&[("entry_period", value(2u32)), ("exit_period", value(2u32))]).unwrap();
//! for close in [10.0, 11.0, 10.5] {
//!     assert!(h.on_close(0, close).is_empty());
//! }
//! let orders = h.on_close(0, 11.5); // above 11, the high of the two bars before
//! assert_eq!((orders[0].side, orders[0].quantity), (Side::Buy, 1.0));
//! ```

use sandbar_guest::indicators::{Highest, Lowest, WarmUp, longest};
use sandbar_guest::{Bar, Carried, Orders, ParamError, Position, Strategy, checks, log, params};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// Longest accepted channel, in bars.
pub const MAX_PERIOD: u32 = 100_000;

params! {
    /// Parameters of [`ChannelBreakout`], set in the `[strategy.params]` table.
    pub struct ChannelBreakoutParams {
        /// Buy when the close exceeds the highest high of this many previous bars (at least 1).
        entry_period: u32 = 20,
        /// Sell when the close falls below the lowest low of this many previous bars (at least 1).
        exit_period: u32 = 10,
        /// Quantity held while long (greater than 0).
        size: f64 = 1.0,
    }
}

/// The state of one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolState {
    highest: Highest,
    lowest: Lowest,
    /// Highest high of the `entry_period` bars up to the previous one
    /// (`None` until that many bars were seen).
    upper: Option<f64>,
    /// Lowest low of the `exit_period` bars up to the previous one.
    lower: Option<f64>,
    long: bool,
}

/// Both channels hold their previous bars, and the bar after them can trade.
impl WarmUp for SymbolState {
    fn warmup_bars(&self) -> u32 {
        longest(&[&self.highest, &self.lowest]).saturating_add(1)
    }
}

/// Everything that changes while the strategy runs, carried across a hot
/// swap. It records the symbols and periods it was built for, so the SDK
/// only restores it into an instance that would have built the same channels.
pub type ChannelBreakoutState = Carried<SymbolState>;

/// The strategy; see the crate docs.
pub struct ChannelBreakout {
    params: ChannelBreakoutParams,
    state: ChannelBreakoutState,
}

impl ChannelBreakout {
    fn validate(p: &ChannelBreakoutParams) -> Result<(), ParamError> {
        for (name, period, default) in [
            ("entry_period", p.entry_period, 20),
            ("exit_period", p.exit_period, 10),
        ] {
            checks::min_period(name, period, 1, &format!("the default is {default}"))?;
            checks::max_period(
                name,
                period,
                MAX_PERIOD,
                "use a coarser bar size for longer channels",
            )?;
        }
        checks::positive("size", p.size, "this strategy only goes long")
    }
}

impl Strategy for ChannelBreakout {
    const NAME: &'static str = "channel-breakout";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Donchian breakout: long when the close beats the highest high of the previous entry_period bars, flat when it falls below the lowest low of the previous exit_period bars.";
    type Params = ChannelBreakoutParams;
    type State = ChannelBreakoutState;

    fn new(params: ChannelBreakoutParams, symbols: &[String]) -> Result<Self, ParamError> {
        Self::validate(&params)?;
        let (entry, exit) = (params.entry_period as usize, params.exit_period as usize);
        let state = Carried::new(
            symbols,
            &[
                ("entry_period", &params.entry_period),
                ("exit_period", &params.exit_period),
            ],
            "its channels do not carry over",
            || SymbolState {
                highest: Highest::new(entry),
                lowest: Lowest::new(exit),
                upper: None,
                lower: None,
                long: false,
            },
        );
        Ok(Self { params, state })
    }

    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
        let Some((name, st)) = self.state.entry(bar.symbol) else {
            return; // not one of our symbols
        };
        if !checks::finite_prices(bar, "price", &[bar.high, bar.low, bar.close]) {
            return;
        }
        // Decide against the channels of the previous bars, then add this one.
        let (upper, lower) = (st.upper, st.lower);
        st.upper = st.highest.update(bar.high);
        st.lower = st.lowest.update(bar.low);
        let Some(upper) = upper else {
            return; // warming up
        };
        let was_long = st.long;
        if was_long {
            // Until the exit channel is full (exit_period > entry_period), hold.
            st.long = !lower.is_some_and(|lower| bar.close < lower);
        } else {
            st.long = bar.close > upper;
        }
        if st.long != was_long {
            let (side, level) = if st.long {
                ("above the high", upper)
            } else {
                ("below the low", lower.unwrap_or(f64::NAN))
            };
            log::debug(&format!(
                "{name}: close {} broke {side} {level} at bar {}",
                bar.close, bar.seq
            ));
        }
        let target = if st.long { self.params.size } else { 0.0 };
        orders.target(bar.symbol, position.quantity, target);
    }

    sandbar_guest::keep_state!(state, warmup);
}

sandbar_guest::export_strategy!(ChannelBreakout);
