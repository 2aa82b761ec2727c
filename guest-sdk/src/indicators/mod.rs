//! Streaming indicators: feed one value (or bar) at a time, read the current
//! value.
//!
//! Every indicator here:
//! - is `serde`-serialisable, so it survives a hot swap inside a snapshot;
//! - has a warm-up length ([`WarmUp`]) and returns `None` until it has
//!   seen that many inputs, then `Some` on every update;
//! - has accessors: its period(s), `value()` (the last value, without
//!   adding one) and `is_ready()`;
//! - uses only `+ − × ÷`, `abs` and `sqrt`, which IEEE 754 rounds exactly
//!   the same everywhere, so results are bit-identical in Wasm and natively
//!   (no `exp`, `ln` or `powf`, whose last bit depends on the math library).
//!
//! Values are checked against TA-Lib (its Python package, with the C
//! library 0.6) on the GOOG daily and EURUSD hourly data to 1e-9 relative,
//! by `guest-sdk/tests/indicators_reference.rs`. The conventions are
//! TA-Lib's unless a type's docs say otherwise: EMAs seeded with a simple
//! average, Wilder smoothing (`alpha = 1 / period`) for RSI, ATR and ADX,
//! population σ, MACD with both EMAs seeded on the same bar. Where TA-Lib
//! rounds small values to 0 (a variance below 1e-8, a smoothed true range
//! below 1e-8) these types keep the value; where TA-Lib's RSI of a window
//! without any move is 0, [`Rsi`] reads 50.
//!
//! A NaN or infinite input poisons most of them for good: skip such bars
//! first (see [`crate::checks::finite_prices`]).

/// `value()` and `is_ready()` of an indicator whose current reading is
/// the `Option<f64>` field named: one definition for every indicator.
macro_rules! reading {
    ($field:ident) => {
        /// The current value without adding an input; `None` during warm-up.
        pub fn value(&self) -> Option<f64> {
            self.$field
        }

        /// `true` once it gives values.
        pub fn is_ready(&self) -> bool {
            self.$field.is_some()
        }
    };
}

mod adx;
mod atr;
mod cci;
mod channel;
mod cross;
mod dema;
mod ema;
mod keltner;
mod macd;
mod roc;
mod rolling;
mod rsi;
mod sma;
mod stddev;
mod stoch;
mod volume;
mod warmup;
mod wma;

pub use adx::{Adx, AdxValue};
pub use atr::{Atr, TrueRange};
pub use cci::Cci;
pub use channel::{Highest, Lowest};
pub use cross::{Cross, CrossDetector};
pub use dema::{Dema, Tema};
pub use ema::Ema;
pub use keltner::Keltner;
pub use macd::{Macd, MacdValue};
pub use roc::{Momentum, Roc};
pub use rsi::Rsi;
pub use sma::Sma;
pub use stddev::{Bands, Bollinger, StdDev, ZScore};
pub use stoch::{StochValue, Stochastic, WilliamsR};
pub use volume::{DAY_MS, Obv, SessionVwap};
pub use warmup::{WarmUp, longest};
pub use wma::Wma;
