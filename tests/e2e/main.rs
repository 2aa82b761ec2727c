//! End-to-end tests of Sandbar against real built strategy components.
//! Each module says what it covers.

mod backtest;
mod cache;
mod config_reload;
mod control_plane;
mod dashboard;
mod deploys;
mod equivalence;
mod fleet;
mod guest_calls;
mod guest_language;
mod harness_parity;
mod hostile;
mod hot_reload;
mod js;
mod loader;
mod ops;
mod orders;
mod python;
mod reference;
mod shadow;
mod support;
mod swaps;
mod sweep;
mod tiering;
mod trading;
