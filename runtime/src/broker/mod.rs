//! The paper broker: per-strategy accounts that fill orders against the next
//! bar of their symbol, behind the risk gate. Live and backtests use the
//! same fill model and the same rules.

mod account;
mod book;
#[cfg(test)]
pub(crate) mod test_orders;
mod trades;

pub use account::{FillModel, PaperAccount};
pub use book::{Book, Marked};
pub use trades::{Trade, TradeLedger};
