//! End-to-end tests and benches of Sandbar live in tests/ and benches/.
