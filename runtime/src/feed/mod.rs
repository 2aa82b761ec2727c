//! Where bars come from.

mod synthetic;

pub use synthetic::{MarketStyle, SyntheticFeed};
