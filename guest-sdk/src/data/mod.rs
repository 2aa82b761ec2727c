//! Market data from files, natively (not inside Wasm): the CSV layouts
//! `runtime backtest` and the CSV feed read, the checks every external row
//! passes ([`Sequencer`]: finite positive prices, a high and low that contain
//! the open and close, time moving forward per symbol) and timestamps. The
//! runtime reads files through this module too, so a strategy's native tests
//! ([`crate::Harness::replay`]) see exactly the bars a backtest sees.

pub mod csv;
mod sequence;
mod time;

pub use csv::{BadRow, CsvBars, read_all};
pub use sequence::{RawBar, Sequencer};
pub use time::{format_timestamp, parse_timestamp};
