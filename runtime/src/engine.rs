//! The one wasmtime `Engine` configuration for running strategies, and the
//! epoch ticker that gives every call a wall-clock deadline.

use std::time::Duration;
use wasmtime::{Config, Engine};

/// How often the epoch advances: the resolution of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Largest Wasm stack a guest may use, in bytes. Deep recursion past it is a
/// clean "call stack exhausted" trap.
pub const MAX_WASM_STACK_BYTES: usize = 512 << 10;

/// An engine for strategy components: component model on, async machinery
/// off (cheaper sync calls), fuel metering (a deterministic CPU budget per
/// call) and epoch interruption (a wall-clock deadline per call). A ticker
/// thread advances the epoch every [`EPOCH_TICK`] for as long as the engine
/// lives.
pub fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK_BYTES)
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    let engine =
        Engine::new(&config).map_err(|e| anyhow::anyhow!("cannot configure wasmtime: {e}"))?;
    start_ticker(&engine)?;
    Ok(engine)
}

fn start_ticker(engine: &Engine) -> anyhow::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("sandbar-epoch".into())
        .spawn(move || {
            // Holding only a weak reference: the thread ends with the engine.
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(|e| anyhow::anyhow!("cannot start the epoch ticker: {e}"))?;
    Ok(())
}

/// Epoch ticks for a deadline: rounded up, plus one because the current tick
/// may be about to end.
pub fn deadline_ticks(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    (deadline.as_micros().div_ceil(tick) as u64).max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_ticks_plus_one() {
        assert_eq!(deadline_ticks(Duration::from_micros(1)), 2);
        assert_eq!(deadline_ticks(Duration::from_micros(2_000)), 3);
        assert_eq!(deadline_ticks(Duration::from_micros(2_001)), 4);
    }
}
