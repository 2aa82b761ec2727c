//! The paper broker: per-strategy accounts that fill orders against the next
//! bar of their symbol. Live and tests use the same fill model.

mod account;

pub use account::{FillModel, PaperAccount};
