//! # sandbar-guest — write Sandbar strategies
//!
//! A strategy is a Rust crate (`crate-type = ["cdylib", "rlib"]`) that
//! implements [`Strategy`] and exports it with [`export_strategy!`].
//! `runtime build` turns it into a Wasm component of the contract in
//! `wit/0.2.0/strategy.wit` (`sandbar:strategy@0.2.0`; the runtime also runs
//! components built for 0.1.0, `wit/strategy.wit`); the same crate builds natively
//! so its logic is unit-tested with plain `cargo test` through [`Harness`].
//!
//! ```
//! use sandbar_guest::{indicators::Sma, params, Bar, Carried, Orders, ParamError, Position, Strategy};
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
//!     state: Carried<Sma>,
//! }
//!
//! impl Strategy for Momentum {
//!     const NAME: &'static str = "momentum";
//!     const VERSION: &'static str = "0.1.0";
//!     const DESCRIPTION: &'static str = "Long while the close is above its SMA.";
//!     type Params = MomentumParams;
//!     type State = Carried<Sma>;
//!
//!     fn new(params: MomentumParams, symbols: &[String]) -> Result<Self, ParamError> {
//!         sandbar_guest::checks::min_period("period", params.period, 1, "the default is 20")?;
//!         let period = params.period as usize;
//!         // One Sma per symbol, carried across a hot swap; a snapshot taken
//!         // with another `period` is refused and the runtime warms up instead.
//!         let state = Carried::new(symbols, &[("period", params.period)],
//!             "its averages do not carry over", || Sma::new(period));
//!         Ok(Self { params, state })
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
//!     // `state`, `restore_state` (with the snapshot checks) and the warm-up,
//!     // derived from the indicators' own (`WarmUp`): `period` bars here.
//!     sandbar_guest::keep_state!(state, warmup);
//! }
//!
//! sandbar_guest::export_strategy!(Momentum);
//!
//! // Natively, through the same glue the component uses:
//! let mut h = sandbar_guest::Harness::<Momentum>::new(&["BTCUSD"]);
//! assert_eq!(h.describe().warmup_bars, 20);
//! h.init(&[("period", sandbar_guest::value(2u32))]).unwrap();
//! assert!(h.on_close(0, 10.0).is_empty());
//! assert!(h.on_close(0, 10.0).is_empty());
//! let orders = h.on_close(0, 11.0);
//! assert_eq!(orders.len(), 1);
//! ```
//!
//! Indicators ([`indicators`]) are checked against TA-Lib; each one's
//! conventions (seeding, population σ, Wilder smoothing) are in its docs.

#![warn(missing_docs)]

#[doc(hidden)]
pub mod bindings;
mod carried;
#[cfg(not(target_arch = "wasm32"))]
mod harness;
mod open_orders;
mod params;
mod per_symbol;
mod slot;
mod snapshot;
mod strategy;

pub mod accounting;
pub mod checks;
#[cfg(not(target_arch = "wasm32"))]
pub mod data;
pub mod indicators;
pub mod log;
#[cfg(not(target_arch = "wasm32"))]
pub mod paper;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use bindings::sandbar::strategy::types::{
    Bar, Fill, LogLevel, Order, OrderKind, OrderStatus, OrderUpdate, Param, ParamKind, ParamSpec,
    ParamValue, Position, ReplaceOrder, Request, Side, StopLimitLevels, StrategyInfo, Ticket,
    TicketKind, TimeInForce,
};
pub use carried::{Carried, Restore};
#[cfg(not(target_arch = "wasm32"))]
pub use harness::{Harness, Replay, value};
pub use open_orders::{OpenOrder, OpenOrders};
pub use params::{ParamError, ParamType, Params};
pub use per_symbol::PerSymbol;
pub use strategy::{Bracket, Orders, Placed, StopLoss, Strategy, Trail};

/// Used by the macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings;
    pub use crate::bindings::Guest;
    pub use crate::params::{describe, reject_unknown, take};
    pub use crate::slot::Slot;
}
