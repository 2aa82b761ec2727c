//! The one wasmtime `Engine` configuration for running strategies.

use wasmtime::{Config, Engine};

/// An engine for strategy components: component model on, async machinery
/// off (cheaper sync calls), fuel metering on so every call has a
/// deterministic CPU budget.
pub fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .consume_fuel(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    Engine::new(&config).map_err(|e| anyhow::anyhow!("cannot configure wasmtime: {e}"))
}
