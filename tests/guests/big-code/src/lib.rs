//! A test guest with over a megabyte of code, for the reload benches: the
//! cold compile of a large strategy. `build.rs` generates thousands of
//! distinct kernels; every bar runs the one its sequence number selects, so
//! all of them are reachable and none is optimised away. It places no orders.

use sandbar_guest::{Bar, Orders, ParamError, Position, Strategy, params};
use serde::{Deserialize, Serialize};

// Random constants sometimes look like π or τ to clippy.
#[allow(clippy::approx_constant)]
mod kernels {
    include!(concat!(env!("OUT_DIR"), "/kernels.rs"));
}
use kernels::KERNELS;

params! {
    pub struct BigParams {
        /// Any text; changing it makes a new generation without recompiling.
        label: String = String::from("a"),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BigState {
    pub bars: u64,
    pub acc: f64,
}

pub struct BigCode {
    state: BigState,
}

impl Strategy for BigCode {
    const NAME: &'static str = "big-code";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Test guest: over a megabyte of code, no orders.";
    type Params = BigParams;
    type State = BigState;

    fn warmup_bars(_: &BigParams) -> u32 {
        0
    }

    fn new(_params: BigParams, _symbols: &[String]) -> Result<Self, ParamError> {
        Ok(Self {
            state: BigState::default(),
        })
    }

    fn on_bar(&mut self, bar: &Bar, _position: &Position, _orders: &mut Orders) {
        let kernel = KERNELS[(bar.seq % KERNELS.len() as u64) as usize];
        let value = kernel(bar.close, bar.seq);
        if value.is_finite() {
            self.state.acc = (self.state.acc + value) % 1e6;
        }
        self.state.bars += 1;
    }

    fn state(&self) -> &BigState {
        &self.state
    }

    fn restore_state(&mut self, state: BigState) -> Result<(), String> {
        self.state = state;
        Ok(())
    }
}

sandbar_guest::export_strategy!(BigCode);

#[cfg(test)]
mod tests {
    use super::*;
    use sandbar_guest::Harness;

    #[test]
    fn kernels_are_distinct_and_state_round_trips() {
        assert_ne!(KERNELS[0](1.0, 1), KERNELS[1](1.0, 1));
        let mut a = Harness::<BigCode>::with_defaults(&["X"]);
        (0..5).for_each(|_| assert!(a.on_close(0, 100.0).is_empty()));
        let mut b = Harness::<BigCode>::with_defaults(&["X"]);
        b.restore(a.snapshot()).unwrap();
        assert_eq!(b.snapshot(), a.snapshot());
    }
}
