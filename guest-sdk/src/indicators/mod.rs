//! Streaming indicators: feed one value per bar, read the current value.
//! Each is `serde`-serialisable so it survives a hot swap inside a snapshot,
//! and uses only `+ - * /` so results are bit-identical in Wasm and natively.

mod channel;
mod cross;
mod ema;
mod rsi;
mod sma;

pub use channel::{Highest, Lowest};
pub use cross::{Cross, CrossDetector};
pub use ema::Ema;
pub use rsi::Rsi;
pub use sma::Sma;
