//! # bollinger-reversion — buy below the lower Bollinger band, sell at the middle
//!
//! Long `size` once the close falls below the lower band (the `period`-bar
//! SMA minus `k` population standard deviations), flat again once the close
//! is back at or above the middle band. See README.md.
//!
//! ```
//! use bollinger_reversion::BollingerReversion;
//! use sandbar_guest::{Harness, Side, value};
//!
//! let mut h = Harness::<BollingerReversion>::new(&["BTCUSD"]);
//! h.init(&[("period", value(3u32)), ("k", value(1.0))]).unwrap();
//! assert!(h.on_close(0, 10.0).is_empty());
//! assert!(h.on_close(0, 10.0).is_empty());
//! let orders = h.on_close(0, 7.0); // lower band 9 − 1.41 = 7.59
//! assert_eq!((orders[0].side, orders[0].quantity), (Side::Buy, 1.0));
//! ```

use sandbar_guest::indicators::Bollinger;
use sandbar_guest::{Bar, Carried, Orders, ParamError, Position, Strategy, checks, params};

#[cfg(test)]
mod tests;

params! {
    /// Parameters of [`BollingerReversion`], set in the `[strategy.params]` table.
    pub struct BollingerParams {
        /// Lookback of the bands, in bars (2 to 100000).
        period: u32 = 20,
        /// Width of each band, in population standard deviations (greater than 0).
        k: f64 = 2.0,
        /// Quantity held while long (greater than 0).
        size: f64 = 1.0,
    }
}

/// The strategy; see the crate docs. Its state is one [`Bollinger`] per
/// symbol; whether it is long is read from the position the host reports.
pub struct BollingerReversion {
    params: BollingerParams,
    state: Carried<Bollinger>,
}

impl Strategy for BollingerReversion {
    const NAME: &'static str = "bollinger-reversion";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Buys below the lower Bollinger band, sells at the middle.";
    type Params = BollingerParams;
    type State = Carried<Bollinger>;

    fn new(p: BollingerParams, symbols: &[String]) -> Result<Self, ParamError> {
        checks::period_between("period", p.period, 2, 100_000, "the default is 20")?;
        checks::positive("k", p.k, "the default is 2.0")?;
        checks::positive("size", p.size, "this strategy only goes long")?;
        let shape: [(&str, &dyn std::fmt::Display); 2] = [("period", &p.period), ("k", &p.k)];
        let make = || Bollinger::new(p.period as usize, p.k);
        let state = Carried::new(symbols, &shape, "its bands do not carry over", make);
        Ok(Self { params: p, state })
    }

    // The runtime's feeds never send a non-finite close, so none reaches the bands.
    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
        let bands = self.state.get_mut(bar.symbol);
        if let Some(b) = bands.and_then(|bands| bands.update(bar.close)) {
            let long = bar.close < b.lower || (position.quantity > 0.0 && bar.close < b.middle);
            let target = if long { self.params.size } else { 0.0 };
            orders.target(bar.symbol, position.quantity, target);
        }
    }

    sandbar_guest::keep_state!(state, warmup);
}

sandbar_guest::export_strategy!(BollingerReversion);
