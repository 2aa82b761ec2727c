//! # sandbar-guest — write Sandbar strategies
//!
//! A strategy is a Rust crate (`crate-type = ["cdylib", "rlib"]`) that
//! implements [`Strategy`] and exports it with [`export_strategy!`].
//! `runtime build` turns it into a Wasm component of the contract in
//! `wit/strategy.wit` (`sandbar:strategy@0.1.0`); the same crate builds natively
//! so its logic is unit-tested with plain `cargo test` through [`Harness`].
//!
//! ```
//! use sandbar_guest::{indicators::Sma, params, Bar, Orders, ParamError, PerSymbol, Position, Strategy};
//! use serde::{Deserialize, Serialize};
//!
//! params! {
//!     pub struct MomentumParams {
//!         /// Lookback of the moving average, in bars.
//!         period: u32 = 20,
//!         /// Position held while the close is above the average.
//!         size: f64 = 1.0,
//!     }
//! }
//!
//! pub struct Momentum {
//!     params: MomentumParams,
//!     state: PerSymbol<Sma>,
//! }
//!
//! impl Strategy for Momentum {
//!     const NAME: &'static str = "momentum";
//!     const VERSION: &'static str = "0.1.0";
//!     const DESCRIPTION: &'static str = "Long while the close is above its SMA.";
//!     type Params = MomentumParams;
//!     type State = PerSymbol<Sma>;
//!
//!     fn warmup_bars(p: &MomentumParams) -> u32 { p.period }
//!
//!     fn new(params: MomentumParams, symbols: &[String]) -> Result<Self, ParamError> {
//!         if params.period == 0 {
//!             return Err(ParamError::invalid("period", "must be at least 1"));
//!         }
//!         let period = params.period as usize;
//!         Ok(Self { params, state: PerSymbol::new(symbols.len(), || Sma::new(period)) })
//!     }
//!
//!     fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
//!         let Some(sma) = self.state.get_mut(bar.symbol) else { return };
//!         if let Some(avg) = sma.update(bar.close) {
//!             let target = if bar.close > avg { self.params.size } else { 0.0 };
//!             orders.target(bar.symbol, position.quantity, target);
//!         }
//!     }
//!
//!     fn state(&self) -> &PerSymbol<Sma> { &self.state }
//!     fn restore_state(&mut self, state: PerSymbol<Sma>) -> Result<(), String> {
//!         self.state = state;
//!         Ok(())
//!     }
//! }
//!
//! sandbar_guest::export_strategy!(Momentum);
//!
//! // Natively, through the same glue the component uses:
//! let mut h = sandbar_guest::Harness::<Momentum>::new(&["BTCUSD"]);
//! h.init(&[("period", sandbar_guest::value(2u32))]).unwrap();
//! assert!(h.on_close(0, 10.0).is_empty());
//! assert!(h.on_close(0, 10.0).is_empty());
//! let orders = h.on_close(0, 11.0);
//! assert_eq!(orders.len(), 1);
//! ```

#![warn(missing_docs)]

#[doc(hidden)]
pub mod bindings;
mod carried;
#[cfg(not(target_arch = "wasm32"))]
mod harness;
mod params;
mod per_symbol;
mod slot;
mod snapshot;
mod strategy;

pub mod accounting;
pub mod checks;
pub mod indicators;
pub mod log;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use bindings::sandbar::strategy::types::{
    Bar, Fill, LogLevel, Order, OrderKind, Param, ParamKind, ParamSpec, ParamValue, Position, Side,
    StrategyInfo,
};
pub use carried::{Carried, Restore};
#[cfg(not(target_arch = "wasm32"))]
pub use harness::{Harness, value};
pub use params::{ParamError, ParamType, Params};
pub use per_symbol::PerSymbol;
pub use strategy::{Orders, Strategy};

/// Used by the macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::bindings::Guest;
    pub use crate::params::{describe, reject_unknown, take};
    pub use crate::slot::Slot;
}
