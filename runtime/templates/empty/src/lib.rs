//! # {{name}} — a Sandbar strategy
//!
//! Started with `runtime new --template empty`: it describes itself, takes
//! one parameter and places no orders. Write the signal in `on_bar`, keep
//! everything that must survive a hot swap in the state, and run
//! `cargo test` here before `runtime build`.

use sandbar_guest::{Bar, Orders, ParamError, PerSymbol, Position, Strategy, checks, params};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

params! {
    /// Parameters of [`{{type}}`], set in the `[strategy.params]` table.
    pub struct {{type}}Params {
        /// Lookback, in bars (at least 1).
        period: u32 = 20,
    }
}

/// Everything that changes while the strategy runs; it is carried across a
/// hot swap (serialized by the host with `snapshot`/`restore`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct {{type}}State {
    symbols: Vec<String>,
    /// Bars seen per symbol.
    bars: PerSymbol<u64>,
}

/// The strategy; see the crate docs.
pub struct {{type}} {
    state: {{type}}State,
}

impl Strategy for {{type}} {
    const NAME: &'static str = "{{name}}";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "A new Sandbar strategy (no orders yet).";
    type Params = {{type}}Params;
    type State = {{type}}State;

    fn warmup_bars(p: &{{type}}Params) -> u32 {
        p.period
    }

    fn new(params: {{type}}Params, symbols: &[String]) -> Result<Self, ParamError> {
        checks::min_period("period", params.period, 1, "the default is 20")?;
        let state = {{type}}State {
            symbols: symbols.to_vec(),
            bars: PerSymbol::new(symbols.len(), || 0),
        };
        Ok(Self { state })
    }

    fn on_bar(&mut self, bar: &Bar, _position: &Position, _orders: &mut Orders) {
        if let Some(seen) = self.state.bars.get_mut(bar.symbol) {
            *seen += 1;
        }
        // Place orders here, e.g. `orders.target(bar.symbol, position.quantity, 1.0)`.
    }

    fn state(&self) -> &{{type}}State {
        &self.state
    }

    fn restore_state(&mut self, state: {{type}}State) -> Result<(), String> {
        checks::snapshot_symbols(&state.symbols, &self.state.symbols)?;
        checks::snapshot_per_symbol(&state.bars, &state.symbols)?;
        self.state = state;
        Ok(())
    }
}

sandbar_guest::export_strategy!({{type}});
