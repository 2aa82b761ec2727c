//! The epoch ticker: one thread for every engine in the process, which
//! advances each engine's epoch every [`EPOCH_TICK`] — the clock behind
//! every call's wall-clock deadline.
//!
//! One thread, not one per engine: `runtime live` with `tiering = "auto"`
//! has two engines (a tier each), a bench or a host may run several
//! runtimes, and every ticker wakes a thousand times a second. On two busy
//! cores each wake-up preempts whatever runs there — the bar loop, or a
//! baseline compile that was meant to run in one long slice
//! (`load/background.rs`) — so the wake-ups, not the increments, are the
//! cost (BENCHMARKS.md, "Latency under reload").

use crate::engine::EPOCH_TICK;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;
use wasmtime::{Engine, EngineWeak};

/// An engine the ticker advances, and the ticks it has had.
struct Ticked {
    engine: EngineWeak,
    ticks: u128,
}

struct Ticker {
    engines: Mutex<Vec<Ticked>>,
    /// Signalled when an engine is added: with none to tick the thread
    /// sleeps here instead of waking every tick.
    added: Condvar,
    start: Instant,
}

impl Ticker {
    /// Ticks due since the ticker started: ticks follow the clock, not the
    /// number of wake-ups (on a loaded machine a sleep of 1 ms can last
    /// many, and counting wake-ups let a 20 ms deadline stretch to 119 ms).
    fn due(&self) -> u128 {
        self.start.elapsed().as_micros() / EPOCH_TICK.as_micros().max(1) + 1
    }

    fn engines(&self) -> MutexGuard<'_, Vec<Ticked>> {
        // Pushes and retains only: a poisoned lock guards a consistent list.
        self.engines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn run(&self) {
        loop {
            let mut engines = self.engines();
            while engines.is_empty() {
                engines = self
                    .added
                    .wait(engines)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            // A late wake-up catches up on every tick it missed, so a
            // deadline ends at most one scheduling delay late.
            let due = self.due();
            engines.retain_mut(|ticked| match ticked.engine.upgrade() {
                Some(engine) => {
                    while ticked.ticks < due {
                        engine.increment_epoch();
                        ticked.ticks += 1;
                    }
                    true
                }
                // Holding only weak references: a dropped engine leaves.
                None => false,
            });
            drop(engines);
            std::thread::sleep(EPOCH_TICK);
        }
    }
}

fn ticker() -> &'static Ticker {
    static TICKER: OnceLock<Ticker> = OnceLock::new();
    TICKER.get_or_init(|| Ticker {
        engines: Mutex::new(Vec::new()),
        added: Condvar::new(),
        start: Instant::now(),
    })
}

/// Has the ticker advance `engine`'s epoch for as long as the engine
/// lives; starts the ticker's thread on first use.
pub fn tick(engine: &Engine) -> anyhow::Result<()> {
    static THREAD: OnceLock<Result<(), String>> = OnceLock::new();
    THREAD
        .get_or_init(|| {
            crate::threads::spawn("sandbar-epoch", || ticker().run())
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("cannot start the epoch ticker: {e}"))?;
    let ticker = ticker();
    let ticks = ticker.due();
    ticker.engines().push(Ticked {
        engine: engine.weak(),
        ticks,
    });
    ticker.added.notify_one();
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    fn threads_named(name: &str) -> usize {
        crate::threads::tasks_named(name).len()
    }

    #[test]
    fn one_ticker_thread_serves_every_engine() {
        let engines: Vec<wasmtime::Engine> = (0..3)
            .map(|_| crate::engine::new_engine().unwrap())
            .collect();
        assert_eq!(threads_named("sandbar-epoch"), 1, "one thread for all");
        // Every one of them ticks: a call that never ends meets its
        // deadline on each engine (the trap is `Interrupt`, not a hang).
        for engine in &engines {
            let module = wasmtime::Module::new(
                engine,
                r#"(module (func (export "spin") (loop $l (br $l))))"#,
            )
            .unwrap();
            let mut store = wasmtime::Store::new(engine, ());
            store.set_fuel(u64::MAX / 2).unwrap();
            store.set_epoch_deadline(crate::engine::deadline_ticks(
                std::time::Duration::from_millis(20),
            ));
            let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
            let spin = instance
                .get_typed_func::<(), ()>(&mut store, "spin")
                .unwrap();
            let trap = spin
                .call(&mut store, ())
                .unwrap_err()
                .downcast::<wasmtime::Trap>()
                .unwrap();
            assert_eq!(trap, wasmtime::Trap::Interrupt);
        }
        drop(engines);
        // Dropped engines leave; a new one still ticks on the same thread.
        let again = crate::engine::new_engine().unwrap();
        assert_eq!(threads_named("sandbar-epoch"), 1);
        drop(again);
    }
}
