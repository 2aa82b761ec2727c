//! End-to-end tests of Sandbar against real built strategy components.
//! Each module says what it covers.

mod equivalence;
mod loader;
mod support;
