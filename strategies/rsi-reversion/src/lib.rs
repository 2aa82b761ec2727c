//! # rsi-reversion — an RSI mean-reversion strategy for Sandbar
//!
//! Buys `size` when the RSI of the close drops below `oversold` and sells back
//! to flat once it climbs above `exit`. With `allow_short`, it also sells
//! `size` short when the RSI rises above `overbought` and buys back once it
//! falls below `exit`. Between the thresholds it keeps what it holds. Each
//! symbol has its own RSI; orders come only when the wanted position differs
//! from the one the host reports, so most bars return nothing.
//!
//! ```
//! use rsi_reversion::RsiReversion;
//! use sandbar_guest::{Harness, Side, value};
//!
//! let mut h = Harness::<RsiReversion>::new(&["BTCUSD"]);
//! h.init(&[("period", value(3u32))]).unwrap();
//! for close in [10.0, 9.0, 8.0] {
//!     assert!(h.on_close(0, close).is_empty());
//! }
//! let orders = h.on_close(0, 7.0); // three losses in a row: RSI 0
//! assert_eq!((orders[0].side, orders[0].quantity), (Side::Buy, 1.0));
//! ```

use sandbar_guest::indicators::{Rsi, WarmUp};
use sandbar_guest::{Bar, Carried, Orders, ParamError, Position, Strategy, checks, log, params};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// Longest accepted RSI period, in bars.
pub const MAX_PERIOD: u32 = 100_000;

/// The ordering the three thresholds must keep, quoted in error messages.
const THRESHOLD_RULE: &str = "the thresholds must satisfy 0 < oversold < exit < overbought < 100";

params! {
    /// Parameters of [`RsiReversion`], set in the `[strategy.params]` table.
    pub struct RsiReversionParams {
        /// RSI lookback (Wilder's smoothing), in bars (at least 2).
        period: u32 = 14,
        /// Buy when the RSI falls below this level.
        oversold: f64 = 30.0,
        /// Sell short when the RSI rises above this level (only with allow_short).
        overbought: f64 = 70.0,
        /// Close a long when the RSI rises above this level, a short when it falls below it.
        exit: f64 = 50.0,
        /// Quantity held while in a position (greater than 0).
        size: f64 = 1.0,
        /// Also sell short when overbought.
        allow_short: bool = false,
    }
}

/// What the strategy wants to hold in one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Regime {
    Flat,
    Long,
    Short,
}

/// The state of one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolState {
    rsi: Rsi,
    regime: Regime,
}

/// `period` price changes need one more close.
impl WarmUp for SymbolState {
    fn warmup_bars(&self) -> u32 {
        self.rsi.warmup_bars()
    }
}

/// Everything that changes while the strategy runs, carried across a hot
/// swap. It records the symbols and period it was built for, so the SDK only
/// restores it into an instance that would have built the same RSI.
pub type RsiReversionState = Carried<SymbolState>;

/// The strategy; see the crate docs.
pub struct RsiReversion {
    params: RsiReversionParams,
    state: RsiReversionState,
}

impl RsiReversion {
    fn validate(p: &RsiReversionParams) -> Result<(), ParamError> {
        checks::min_period(
            "period",
            p.period,
            2,
            "a 1-bar RSI only says up or down. The default is 14",
        )?;
        checks::max_period("period", p.period, MAX_PERIOD, "")?;
        if p.oversold <= 0.0 {
            return Err(ParamError::invalid(
                "oversold",
                format!("must be above 0 (got {}); {THRESHOLD_RULE}", p.oversold),
            ));
        }
        if p.oversold >= p.exit {
            return Err(ParamError::invalid(
                "oversold",
                format!(
                    "must be below exit (got oversold={}, exit={}); {THRESHOLD_RULE}",
                    p.oversold, p.exit
                ),
            ));
        }
        if p.exit >= p.overbought {
            return Err(ParamError::invalid(
                "exit",
                format!(
                    "must be below overbought (got exit={}, overbought={}); {THRESHOLD_RULE}",
                    p.exit, p.overbought
                ),
            ));
        }
        if p.overbought >= 100.0 {
            return Err(ParamError::invalid(
                "overbought",
                format!("must be below 100 (got {}); {THRESHOLD_RULE}", p.overbought),
            ));
        }
        checks::positive("size", p.size, "to sell short, set allow_short = true")
    }

    /// The regime after a bar whose RSI is `rsi`: exits first, then entries,
    /// so a long can turn short on one bar that jumps from oversold to
    /// overbought.
    fn next_regime(p: &RsiReversionParams, regime: Regime, rsi: f64) -> Regime {
        let regime = match regime {
            Regime::Long if rsi > p.exit => Regime::Flat,
            Regime::Short if rsi < p.exit => Regime::Flat,
            held => held,
        };
        match regime {
            Regime::Flat if rsi < p.oversold => Regime::Long,
            Regime::Flat if p.allow_short && rsi > p.overbought => Regime::Short,
            held => held,
        }
    }

    fn target(p: &RsiReversionParams, regime: Regime) -> f64 {
        match regime {
            Regime::Long => p.size,
            Regime::Short if p.allow_short => -p.size,
            // A short restored into an instance that no longer allows
            // shorting is closed; it turns flat once the RSI falls below exit.
            Regime::Short | Regime::Flat => 0.0,
        }
    }
}

impl Strategy for RsiReversion {
    const NAME: &'static str = "rsi-reversion";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Buys when the RSI is oversold and sells once it recovers past the exit level (optionally the mirror for shorts).";
    type Params = RsiReversionParams;
    type State = RsiReversionState;

    fn new(params: RsiReversionParams, symbols: &[String]) -> Result<Self, ParamError> {
        Self::validate(&params)?;
        let period = params.period as usize;
        let state = Carried::new(
            symbols,
            &[("period", &params.period)],
            "its RSI does not carry over",
            || SymbolState {
                rsi: Rsi::new(period),
                regime: Regime::Flat,
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
        let Some(rsi) = st.rsi.update(bar.close) else {
            return; // warming up
        };
        let old = st.regime;
        let new = Self::next_regime(&self.params, old, rsi);
        if new != old {
            st.regime = new;
            log::debug(&format!(
                "{name}: {old:?} -> {new:?} at bar {} (RSI {rsi})",
                bar.seq
            ));
        }
        orders.target(
            bar.symbol,
            position.quantity,
            Self::target(&self.params, new),
        );
    }

    sandbar_guest::keep_state!(state, warmup);
}

sandbar_guest::export_strategy!(RsiReversion);
