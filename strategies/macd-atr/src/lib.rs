//! # macd-atr — MACD crossover with a resting, trailing ATR stop
//!
//! Buys `size` when the MACD line crosses above its signal line, in a
//! bracket whose stop-loss rests with the broker `atr_mult` ATRs below the
//! entry bar's close; the strategy raises the stop (a replace) as
//! `close − atr_mult × ATR` rises. The broker fills the stop inside the bar
//! its low reaches it (at the open on a gap); a cross of the MACD line below
//! its signal cancels the stop and sells at the next open. Contract 0.2.0;
//! the close-emulated 0.1.0 build is `tests/fixtures/contract-0.1.0/`.
//! See README.md.
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
use sandbar_guest::{
    Bar, Bracket, Carried, Orders, ParamError, Position, Side, StopLoss, Strategy, TicketKind,
    checks, params,
};

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
        /// Distance of the resting stop below the close, in ATRs; it only rises (greater than 0).
        atr_mult: f64 = 3.0,
        /// Quantity held while long (greater than 0).
        size: f64 = 1.0,
    }
}

/// One symbol's MACD, ATR and the level of its resting stop (`Some` while
/// long). The layout of the close-emulated 0.1.0 build: snapshots carry
/// over between the two in both directions.
pub type SymbolState = (Macd, Atr, Option<f64>);

/// Position changes smaller than this are no position (as `Orders::target`).
const QUANTITY_EPSILON: f64 = 1e-9;

/// The order ids of one symbol: fixed, so any instance (a new version
/// after a hot swap too) can name the stop its predecessor placed. An id
/// is reused only once its order ended: the entry is a market order that
/// fills on the next bar, the stop is filled or cancelled before the next
/// entry.
struct Ids {
    /// The bracket's market entry (and its OCO group).
    entry: u64,
    /// The resting stop: the bracket's stop-loss (`entry + 2`), or one
    /// placed alone for a position the instance found unprotected.
    stop: u64,
}

impl Ids {
    fn of(symbol: u32) -> Self {
        let entry = u64::from(symbol) * 4;
        Self {
            entry,
            stop: entry + 2,
        }
    }
}

/// The strategy; see the crate docs.
pub struct MacdAtr {
    params: MacdAtrParams,
    state: Carried<SymbolState>,
}

impl Strategy for MacdAtr {
    const NAME: &'static str = "macd-atr";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str =
        "MACD crossover, long only, with a trailing ATR stop resting with the broker.";
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
        let (sym, q) = (bar.symbol, position.quantity);
        let trail = bar.close - self.params.atr_mult * r;
        let cross = macd.cross();
        let ids = Ids::of(sym);
        // Known to be working (or sent and not answered yet); after a hot
        // swap or a replay the instance knows none, whatever the book holds.
        let working = orders.open().contains(ids.stop);
        if q > QUANTITY_EPSILON {
            if cross == Some(Cross::Below) {
                // Always cancel: the stop may be a predecessor's the instance never saw.
                orders.cancel(ids.stop);
                orders.target(sym, q, 0.0);
                *stop = None;
                return;
            }
            let level = stop.map_or(trail, |s| s.max(trail));
            if level <= 0.0 {
                // A stop needs a price above 0 (the runtime refuses the
                // bar's orders otherwise); try again on the next bar.
                *stop = None;
                return;
            }
            if !working {
                // Long without a stop it knows of (a hot swap, a replay, a
                // pause that cancelled it): end whatever holds the id, then
                // protect the position it holds.
                orders.cancel(ids.stop);
                orders.stop(ids.stop, sym, Side::Sell, q, level);
            } else if stop.is_none_or(|s| level > s) {
                orders.replace(ids.stop, None, Some(TicketKind::Stop(level)));
            }
            *stop = Some(level);
            return;
        }
        // Flat (the stop filled, or an entry was refused) or, against the
        // rule, short: no stop may be left working, no short kept.
        *stop = None;
        if working {
            orders.cancel(ids.stop);
        }
        if q < -QUANTITY_EPSILON {
            orders.target(sym, q, 0.0);
        } else if cross == Some(Cross::Above) && trail > 0.0 {
            orders.bracket(Bracket {
                id: ids.entry,
                symbol: sym,
                side: Side::Buy,
                quantity: self.params.size,
                entry: TicketKind::Market,
                take_profit: None,
                stop_loss: Some(StopLoss::At(trail)),
            });
            *stop = Some(trail);
        }
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
