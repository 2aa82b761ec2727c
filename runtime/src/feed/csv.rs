//! CSV replay in the host's bars. The reader itself (layouts, bad rows as
//! `file:line: problem`, the row checks) is the guest SDK's
//! ([`sandbar_guest::data`]), so a strategy's native tests replay a file
//! exactly as `runtime backtest` and the CSV feed read it.

use crate::contract::Bar;
use sandbar_guest::data;
use std::path::Path;

pub use sandbar_guest::data::BadRow;

/// Bars from a CSV file, in file order.
pub struct CsvBars(data::CsvBars);

impl CsvBars {
    /// Opens the file and reads its header. `symbols` are the feed's; rows
    /// without a symbol column belong to the first one.
    pub fn open(path: &Path, symbols: &[String]) -> Result<Self, BadRow> {
        data::CsvBars::open(path, symbols).map(Self)
    }
}

impl Iterator for CsvBars {
    type Item = Result<Bar, BadRow>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|row| row.map(Bar::from))
    }
}

/// Reads a whole file, applying the bad-row policy: `skip` reports each bad
/// row through `on_skip` and goes on; `stop` returns the first.
pub fn read_all(
    path: &Path,
    symbols: &[String],
    skip_bad_rows: bool,
    on_skip: impl FnMut(&BadRow),
) -> Result<Vec<Bar>, BadRow> {
    let bars = data::read_all(path, symbols, skip_bad_rows, on_skip)?;
    Ok(bars.into_iter().map(Bar::from).collect())
}
