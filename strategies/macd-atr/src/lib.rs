//! # macd-atr — MACD crossover with a trailing ATR stop
//!
//! Buys `size` when the MACD line crosses above its signal line, with a stop
//! `atr_mult` ATRs below the close that trails the close upwards; sells back
//! to flat when the close falls below the stop or the MACD line crosses
//! below its signal. See README.md.
//!
//! ```
//! use macd_atr::MacdAtr;
//! use sandbar_guest::Harness;
//!
//! let h = Harness::<MacdAtr>::with_defaults(&["BTCUSD"]);
//! // MACD 12/26/9 gives its first reading on bar 34, its first cross on bar 35.
//! assert_eq!(h.describe().warmup_bars, 35);
//! ```

use sandbar_guest::indicators::{Atr, Cross, Macd, longest};
use sandbar_guest::{Bar, Carried, Orders, ParamError, Position, Strategy, checks, params};

#[cfg(test)]
mod tests;

params! {
    /// Parameters of [`MacdAtr`], set in the `[strategy.params]` table.
    pub struct MacdAtrParams {
        /// Period of the fast EMA, in bars (at least 1, below slow).
        fast: u32 = 12,
        /// Period of the slow EMA, in bars (at least 2).
        slow: u32 = 26,
        /// Period of the signal line's EMA, in bars (at least 1).
        signal: u32 = 9,
        /// Period of the ATR (Wilder's smoothing), in bars (at least 1).
        atr_period: u32 = 14,
        /// Distance of the stop below the close, in ATRs (greater than 0).
        atr_mult: f64 = 3.0,
        /// Quantity held while long (greater than 0).
        size: f64 = 1.0,
    }
}

/// One symbol's MACD, ATR and trailing stop (`Some` while long).
pub type SymbolState = (Macd, Atr, Option<f64>);

/// The strategy; see the crate docs.
pub struct MacdAtr {
    params: MacdAtrParams,
    state: Carried<SymbolState>,
}

impl Strategy for MacdAtr {
    const NAME: &'static str = "macd-atr";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "MACD crossover, long only, with a trailing ATR stop.";
    type Params = MacdAtrParams;
    type State = Carried<SymbolState>;

    fn new(p: MacdAtrParams, symbols: &[String]) -> Result<Self, ParamError> {
        let (f, s, g, a) = (p.fast, p.slow, p.signal, p.atr_period);
        checks::min_period("slow", s, 2, "the default is 26")?;
        checks::period_between("fast", f, 1, s - 1, "fast must be below slow")?;
        checks::min_period("signal", g, 1, "the default is 9")?;
        checks::min_period("atr_period", a, 1, "the default is 14")?;
        checks::positive("atr_mult", p.atr_mult, "the default is 3.0")?;
        checks::positive("size", p.size, "this strategy only goes long")?;
        let shape = [("fast", f), ("slow", s), ("signal", g), ("atr_period", a)];
        let macd = Macd::new(f as usize, s as usize, g as usize);
        let make = || (macd.clone(), Atr::new(a as usize), None);
        let state = Carried::new(symbols, &shape, "its MACD and ATR do not carry over", make);
        Ok(Self { params: p, state })
    }

    // The runtime's feeds never send a non-finite price, so none reaches the indicators.
    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
        let st = self.state.get_mut(bar.symbol);
        let Some((macd, atr, stop)) = st else { return };
        let m = macd.update(bar.close);
        let r = atr.update(bar.high, bar.low, bar.close);
        let (Some(_), Some(r)) = (m, r) else { return };
        let trail = bar.close - self.params.atr_mult * r;
        let (hit, cross) = (stop.is_some_and(|s| bar.close < s), macd.cross());
        *stop = match *stop {
            Some(s) if !hit && cross != Some(Cross::Below) => Some(s.max(trail)),
            _ => (cross == Some(Cross::Above)).then_some(trail),
        };
        let target = stop.map_or(0.0, |_| self.params.size);
        orders.target(bar.symbol, position.quantity, target);
    }

    sandbar_guest::keep_state!(state);

    /// Every symbol is built alike; a cross needs one MACD reading more than the MACD.
    fn warmup(&self) -> u32 {
        self.state
            .get(0)
            .map_or(0, |(macd, atr, _)| longest(&[macd, atr]) + 1)
    }
}

sandbar_guest::export_strategy!(MacdAtr);
