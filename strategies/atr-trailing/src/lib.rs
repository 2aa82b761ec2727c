//! # atr-trailing — trend entries in brackets, exits on an ATR trailing stop
//!
//! When the close crosses above its EMA and the strategy is flat with
//! nothing working, it sends a bracket: a market entry of `size`, a
//! take-profit `target_atr` ATRs above the close and a stop-loss that
//! trails the highest high by `trail_atr` ATRs (both fixed at entry). The
//! broker works the exits bar by bar (contract 0.2.0's resting orders): a
//! bar whose low reaches the trailing level exits there (at the open on a
//! gap), whichever exit fills first cancels the other. See README.md.
//!
//! ```
//! use atr_trailing::AtrTrailing;
//! use sandbar_guest::Harness;
//!
//! let h = Harness::<AtrTrailing>::with_defaults(&["BTCUSD"]);
//! // EMA 20 is ready on bar 20, ATR 14 on bar 15; a cross needs one more.
//! assert_eq!(h.describe().warmup_bars, 21);
//! ```

use sandbar_guest::indicators::{Atr, Ema, longest};
use sandbar_guest::{
    Bar, Bracket, Carried, Orders, ParamError, Position, Side, StopLoss, Strategy, TicketKind,
    Trail, checks, params,
};

#[cfg(test)]
mod tests;

params! {
    /// Parameters of [`AtrTrailing`], set in the `[strategy.params]` table.
    pub struct AtrTrailingParams {
        /// Period of the trend EMA of the close, in bars (at least 1).
        trend: u32 = 20,
        /// Period of the ATR (Wilder's smoothing), in bars (at least 1).
        atr_period: u32 = 14,
        /// Distance of the trailing stop below the highest high, in ATRs (greater than 0).
        trail_atr: f64 = 3.0,
        /// Distance of the take-profit above the entry bar's close, in ATRs (0: none).
        target_atr: f64 = 6.0,
        /// Quantity of each entry (greater than 0).
        size: f64 = 1.0,
    }
}

/// One symbol's EMA, ATR, whether the last close was above the EMA, and
/// the id of its next bracket.
pub type SymbolState = (Ema, Atr, Option<bool>, u64);

/// Ids of symbol `s` start at `s << 40`: unique across symbols.
const IDS_PER_SYMBOL: u64 = 1 << 40;

/// The strategy; see the crate docs.
pub struct AtrTrailing {
    params: AtrTrailingParams,
    state: Carried<SymbolState>,
}

impl Strategy for AtrTrailing {
    const NAME: &'static str = "atr-trailing";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "EMA-cross entries in brackets: ATR trailing stop and ATR take-profit, worked by the broker.";
    type Params = AtrTrailingParams;
    type State = Carried<SymbolState>;

    fn new(p: AtrTrailingParams, symbols: &[String]) -> Result<Self, ParamError> {
        checks::min_period("trend", p.trend, 1, "the default is 20")?;
        checks::min_period("atr_period", p.atr_period, 1, "the default is 14")?;
        checks::positive("trail_atr", p.trail_atr, "the default is 3.0")?;
        if !(p.target_atr.is_finite() && p.target_atr >= 0.0) {
            return Err(ParamError::invalid(
                "target_atr",
                "must be a finite number of at least 0 (0: no take-profit); the default is 6.0",
            ));
        }
        checks::positive("size", p.size, "this strategy only goes long")?;
        let shape = [("trend", p.trend), ("atr_period", p.atr_period)];
        let (trend, period) = (p.trend as usize, p.atr_period as usize);
        let mut index = 0;
        let make = || {
            index += 1;
            (
                Ema::new(trend),
                Atr::new(period),
                None,
                (index - 1) * IDS_PER_SYMBOL,
            )
        };
        let state = Carried::new(symbols, &shape, "its EMA and ATR do not carry over", make);
        Ok(Self { params: p, state })
    }

    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
        let Some((ema, atr, above, next_id)) = self.state.get_mut(bar.symbol) else {
            return;
        };
        let (e, r) = (
            ema.update(bar.close),
            atr.update(bar.high, bar.low, bar.close),
        );
        let (Some(e), Some(r)) = (e, r) else { return };
        let now_above = bar.close > e;
        let crossed_up = *above == Some(false) && now_above;
        *above = Some(now_above);
        let busy = orders.open().iter().any(|o| o.ticket.symbol == bar.symbol);
        if !crossed_up || busy || position.quantity != 0.0 || r <= 0.0 {
            return;
        }
        let p = &self.params;
        let id = *next_id;
        *next_id += 3;
        orders.bracket(Bracket {
            id,
            symbol: bar.symbol,
            side: Side::Buy,
            quantity: p.size,
            entry: TicketKind::Market,
            take_profit: (p.target_atr > 0.0).then_some(bar.close + p.target_atr * r),
            stop_loss: Some(StopLoss::Trailing(Trail::Amount(p.trail_atr * r))),
        });
    }

    sandbar_guest::keep_state!(state);

    /// Every symbol is built alike; a cross needs one reading more.
    fn warmup(&self) -> u32 {
        self.state
            .get(0)
            .map_or(0, |(ema, atr, _, _)| longest(&[ema, atr]) + 1)
    }
}

sandbar_guest::export_strategy!(AtrTrailing);
