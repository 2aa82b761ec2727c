//! Native tests: `cargo test` runs the strategy without Wasm.

use super::*;
use sandbar_guest::testing::assert_readme_params;
use sandbar_guest::{Harness, value};

#[test]
fn places_no_orders() {
    let mut h = Harness::<{{type}}>::with_params(&["BTCUSD"], &[("period", value(3u32))]);
    for close in [10.0, 11.0, 12.0, 11.0, 10.0] {
        assert!(h.on_close(0, close).is_empty());
    }
}

#[test]
fn rejects_a_zero_period() {
    let err = Harness::<{{type}}>::init_error(&["BTCUSD"], &[("period", value(0u32))]);
    assert!(err.contains("period"), "{err}");
}

#[test]
fn describes_itself() {
    let info = Harness::<{{type}}>::new(&["BTCUSD"]).describe();
    assert_eq!(info.name, "{{name}}");
    assert_eq!(info.warmup_bars, 20);
}

#[test]
fn readme_lists_the_parameters() {
    assert_readme_params::<{{type}}Params>(include_str!("../README.md"));
}
