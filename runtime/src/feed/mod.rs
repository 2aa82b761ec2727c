//! Where bars come from: the synthetic market, CSV replay, and JSON lines
//! pushed by another process. Every external row passes the same checks
//! ([`Sequencer`]) before it becomes a numbered bar.

pub mod csv;
mod lines;
mod sequence;
mod synthetic;

pub use lines::{LineBar, parse_line};
pub use sandbar_guest::data::{format_timestamp, parse_timestamp};
pub use sequence::{RawBar, Sequencer};
pub use synthetic::{MarketStyle, SyntheticFeed};

/// For each feed symbol, its index among a strategy's `symbols`, or `None`
/// when the strategy does not trade it: how a feed bar finds its strategies.
pub fn subscription(feed_symbols: &[String], symbols: &[String]) -> Vec<Option<u32>> {
    feed_symbols
        .iter()
        .map(|feed| symbols.iter().position(|s| s == feed).map(|i| i as u32))
        .collect()
}
