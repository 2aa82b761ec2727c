//! The row checks and numbering of externally supplied bars, in the host's
//! bars: the guest SDK's [`sandbar_guest::data::Sequencer`], shared with
//! the CSV reader and the native harness.

use crate::contract::Bar;
use sandbar_guest::data;

pub use sandbar_guest::data::RawBar;

/// Numbers bars and keeps each symbol's last time.
#[derive(Debug, Clone)]
pub struct Sequencer(data::Sequencer);

impl Sequencer {
    /// A sequencer for symbol indices `0..symbols` that numbers from 0 and
    /// has seen no bar of any symbol yet.
    pub fn new(symbols: usize) -> Self {
        Self(data::Sequencer::new(symbols))
    }

    /// The bar, numbered, or why it is refused (nothing is consumed then).
    pub fn admit(&mut self, raw: RawBar, symbols: &[String]) -> Result<Bar, String> {
        self.0.admit(raw, symbols).map(Bar::from)
    }
}
