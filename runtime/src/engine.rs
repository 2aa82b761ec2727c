//! The one wasmtime `Engine` configuration for running strategies, and the
//! epoch arithmetic of every call's wall-clock deadline (the ticker that
//! advances the epochs is `crate::ticker`).

use crate::load::Tier;
use std::time::Duration;
use wasmtime::{Config, Engine};

/// How often the epoch advances: the resolution of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Largest Wasm stack a guest may use, in bytes. Deep recursion past it is a
/// clean "call stack exhausted" trap.
pub const MAX_WASM_STACK_BYTES: usize = 512 << 10;

/// Engine choices whose cost `cargo bench` measures side by side
/// (BENCHMARKS.md, "Optimisations"); the defaults are the measured winners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// The pooling instance allocator: instance, table and memory slots
    /// reserved once and reused, memories initialised copy-on-write from the
    /// module's image, instead of an `mmap` per store and an `munmap` per drop.
    pub pooling: bool,
    /// Compile a component's functions on several threads: on the
    /// low-priority compile pool (one thread per core) with
    /// `background_compile`, on rayon's default pool at normal priority
    /// without it. Off, a compile uses one thread.
    pub parallel_compilation: bool,
    /// Compile on the compile pool, whose threads run at idle CPU priority
    /// (`SCHED_IDLE`), so a compile only gets the CPU time the bar loop
    /// leaves over.
    pub background_compile: bool,
    /// Keep the low pages of a pooled memory or table slot resident when
    /// its instance is dropped, and reset only the pages the guest wrote
    /// (the `PAGEMAP_SCAN` ioctl, Linux 6.7+; older kernels `memset` the
    /// first [`KEEP_RESIDENT_MEMORY_BYTES`]), instead of handing them back
    /// with `madvise`. For commands that create instance after instance of
    /// one component (a sweep runs a store per combination): every
    /// `madvise` on a shared address space interrupts the other cores to
    /// flush their TLBs, which took 8.6% of a two-job sweep's CPU. Off
    /// for `runtime live`, where a slot may hold a different build each
    /// reload and resident pages would add up across up to 100 warm slots.
    pub keep_resident: bool,
}

/// Measured in `cargo bench --bench reload` (`engine_options`) and
/// `--bench latency` on a 2-core machine: pooling halves instantiate and
/// drop; a parallel compile on idle-priority threads takes about half the
/// time of one thread and still leaves p99.9 bar latency flat while reloads
/// compile.
impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pooling: true,
            parallel_compilation: true,
            background_compile: true,
            keep_resident: false,
        }
    }
}

/// The WebAssembly features a strategy may use: the one list both the
/// validator (`wasmparser`, at stage `compile`) and the engine (wasmtime)
/// are configured from, so a file never passes one and fails the other.
///
/// WebAssembly 3.0 with the component model, without threads (shared
/// memory and atomics make a guest's timing observable), exceptions and GC
/// types (this wasmtime build has no `gc`), and without the component
/// model's async (no async machinery in any store): what wasmtime 48 enables
/// by default for this build's crate features.
pub fn wasm_features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    F::WASM3
        .difference(F::THREADS | F::EXCEPTIONS | F::GC_TYPES)
        .union(F::COMPONENT_MODEL)
}

/// Features of [`wasm_features`] that Winch (the baseline tier) does not
/// compile in wasmtime 48: `Config::validate` refuses an engine that enables
/// them with Winch. Tail calls, typed function references (and the GC
/// proposal built on them) and relaxed SIMD; everything the sandbox relies
/// on (fuel, epochs, the component model, pooling, memory64, multi-memory,
/// SIMD) Winch has. A component that uses one of these never gets baseline
/// code: it fails Winch's validation and is compiled by Cranelift at once
/// (`Loader`), so tiering changes when it goes live, never whether.
pub fn baseline_unsupported() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    F::TAIL_CALL | F::FUNCTION_REFERENCES | F::GC | F::RELAXED_SIMD
}

/// The features a tier's engine is configured with: [`wasm_features`] for
/// the optimised tier, less [`baseline_unsupported`] for the baseline one.
pub fn tier_features(tier: Tier) -> wasmparser::WasmFeatures {
    match tier {
        Tier::Optimized => wasm_features(),
        Tier::Baseline => wasm_features().difference(baseline_unsupported()),
    }
}

/// [`wasm_features`] in the `wasmparser` version wasmtime is built with
/// (another semver line than the validator's): flag by flag, by name. A
/// flag wasmtime's parser does not know is left out; a unit test keeps the
/// two sets equal.
#[cfg(test)]
fn engine_features() -> wasmtime::WasmFeatures {
    to_engine_features(wasm_features())
}

fn to_engine_features(features: wasmparser::WasmFeatures) -> wasmtime::WasmFeatures {
    features
        .iter_names()
        .filter_map(|(name, _)| wasmtime::WasmFeatures::from_name(name))
        .fold(wasmtime::WasmFeatures::empty(), |all, flag| all | flag)
}

/// An engine for strategy components: component model on, async machinery
/// off (cheaper sync calls), fuel metering (a deterministic CPU budget per
/// call) and epoch interruption (a wall-clock deadline per call). The
/// process's one ticker thread (`crate::ticker`) advances the epoch every
/// `EPOCH_TICK` (1 ms) for as long as the engine lives.
pub fn new_engine() -> anyhow::Result<Engine> {
    new_engine_with(EngineOptions::default())
}

/// [`new_engine`] with other [`EngineOptions`] (the benches compare them).
pub fn new_engine_with(options: EngineOptions) -> anyhow::Result<Engine> {
    new_tier_engine(Tier::Optimized, options)
}

/// The engine of one compiler tier: [`Tier::Optimized`] is Cranelift
/// ([`new_engine_with`]), [`Tier::Baseline`] is Winch with exactly the same
/// limits — fuel metering, epoch interruption, stack, pooling — and the
/// feature list of [`tier_features`]. Components, linkers and `InstancePre`s
/// belong to one engine: code of one tier never runs in the other's stores.
pub fn new_tier_engine(tier: Tier, options: EngineOptions) -> anyhow::Result<Engine> {
    let mut config = tier_config(tier, options);
    // Exactly the tier's list: everything off, then the list on.
    config
        .wasm_features(wasmtime::WasmFeatures::all(), false)
        .wasm_features(to_engine_features(tier_features(tier)), true);
    let engine = Engine::new(&config)
        .map_err(|e| anyhow::anyhow!("cannot configure wasmtime ({tier} tier): {e}"))?;
    crate::ticker::tick(&engine)?;
    Ok(engine)
}

/// Everything but the feature list, for the optimised tier.
#[cfg(test)]
fn config(options: EngineOptions) -> Config {
    tier_config(Tier::Optimized, options)
}

/// Everything but the feature list.
fn tier_config(tier: Tier, options: EngineOptions) -> Config {
    let mut config = Config::new();
    config.strategy(match tier {
        Tier::Optimized => wasmtime::Strategy::Cranelift,
        Tier::Baseline => wasmtime::Strategy::Winch,
    });
    config
        .wasm_component_model(true)
        // Off: no async machinery in any store. (On is not even an option
        // here: this build of wasmtime has no `component-model-async`.)
        .concurrency_support(false)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK_BYTES)
        .parallel_compilation(options.parallel_compilation);
    match tier {
        Tier::Optimized => {
            config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        }
        // Winch compiles the strategy's functions; Cranelift still compiles
        // the small glue around them (an array-to-wasm trampoline for every
        // function that escapes through a table or an export, the component
        // adapters). Optimising glue that runs once per call is not worth
        // its compile time: on the 1.4 MB test component (2,400 functions in
        // a table) the trampolines were most of the baseline compile.
        //
        // No native unwind info (`.eh_frame`) either: it only serves
        // unwinders outside wasmtime (wasmtime's own backtraces and traps
        // walk frame pointers, and a host panic is caught before it would
        // unwind through Wasm frames), and building it for every function
        // and trampoline cost a tenth of the large component's baseline
        // compile (three alternating runs: 172-228 ms with, 173-189 ms
        // without). Cranelift's single-pass register allocator for the glue
        // would cut another quarter (192 -> 148 ms), but wasmtime calls
        // it not production-ready and outside its security advisories: not
        // in a sandbox.
        Tier::Baseline => {
            config
                .cranelift_opt_level(wasmtime::OptLevel::None)
                .native_unwind_info(false);
        }
    }
    if options.pooling {
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pooling(
            options.keep_resident,
        )));
    }
    config
}

/// Instances the pool holds at once, per engine: live generations, smoke
/// tests in flight and retired stores the reaper has not dropped yet. Each
/// memory slot reserves 4 GiB of address space (no bounds checks needed).
pub const POOLED_INSTANCES: u32 = 256;

/// Bytes of a memory slot kept resident with [`EngineOptions::keep_resident`]:
/// what sma-cross's instance writes in a backtest, several times over. A
/// guest that writes more has the rest decommitted as without the option.
pub const KEEP_RESIDENT_MEMORY_BYTES: usize = 1 << 20;

/// Bytes of a table slot kept resident with [`EngineOptions::keep_resident`].
pub const KEEP_RESIDENT_TABLE_BYTES: usize = 64 << 10;

fn pooling(keep_resident: bool) -> wasmtime::PoolingAllocationConfig {
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_component_instances(POOLED_INSTANCES)
        .total_core_instances(POOLED_INSTANCES * 2)
        .total_memories(POOLED_INSTANCES * 2)
        .total_tables(POOLED_INSTANCES * 2);
    if keep_resident {
        // Measured in `cargo bench --bench backtest -- sweep` (2 cores):
        // two jobs against one went from 1.56–1.62x to 1.72–1.81x.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_MEMORY_BYTES)
            .table_keep_resident(KEEP_RESIDENT_TABLE_BYTES)
            .pagemap_scan(wasmtime::Enabled::Auto);
    }
    pool
}

/// Epoch ticks for a deadline: rounded up, plus one because the current tick
/// may be about to end.
pub fn deadline_ticks(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    (deadline.as_micros().div_ceil(tick) as u64).max(1) + 1
}

/// Whole epoch ticks in `left` (at least one): how far to push a deadline
/// that was reached early, so the call is looked at again once it is due.
pub fn ticks_within(left: Duration) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    (left.as_micros().div_ceil(tick) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_13_11_validator_and_engine_enable_the_same_features() {
        let ours: Vec<&str> = wasm_features().iter_names().map(|(n, _)| n).collect();
        let engine: Vec<&str> = engine_features().iter_names().map(|(n, _)| n).collect();
        assert_eq!(
            ours, engine,
            "every flag of the list is known to wasmtime's parser"
        );
        assert!(ours.contains(&"COMPONENT_MODEL") && ours.contains(&"SIMD"));
        assert!(!ours.contains(&"THREADS") && !ours.contains(&"CM_ASYNC"));
        assert!(new_engine().is_ok(), "wasmtime accepts the list");
    }

    #[test]
    fn the_feature_list_is_what_wasmtime_enabled_for_this_build_by_default() {
        // The compatibility hash covers the enabled features: equal hashes,
        // equal feature sets, so naming them changed nothing that compiles.
        use std::hash::{Hash, Hasher};
        let hash = |engine: &Engine| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            h.finish()
        };
        let options = EngineOptions::default();
        let implicit = Engine::new(&config(options)).unwrap();
        let explicit = new_engine_with(options).unwrap();
        assert_eq!(hash(&implicit), hash(&explicit));
    }

    /// A core module run on one tier's engine: what fuel, the epoch
    /// deadline and the stack limit do to it.
    fn run_core(
        tier: Tier,
        wat: &str,
        export: &str,
        arg: i32,
        fuel: u64,
    ) -> (wasmtime::Result<i32>, u64) {
        let engine = new_tier_engine(tier, EngineOptions::default()).unwrap();
        let module = wasmtime::Module::new(&engine, wat).unwrap();
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_fuel(fuel).unwrap();
        store.set_epoch_deadline(deadline_ticks(Duration::from_millis(50)));
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, export)
            .unwrap();
        let result = f.call(&mut store, arg);
        (result, fuel - store.get_fuel().unwrap())
    }

    const SPIN: &str = r#"(module
        (func (export "spin") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 1))
        (func $down (export "down") (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
                (then (i32.const 0))
                (else (i32.add (i32.const 1)
                    (call $down (i32.sub (local.get 0) (i32.const 1))))))))"#;

    #[test]
    fn issue_16_winch_meters_the_same_fuel_per_call_as_cranelift() {
        let mut used = Vec::new();
        for tier in Tier::ALL {
            let (result, fuel) = run_core(tier, SPIN, "spin", 10_000, 10_000_000);
            assert_eq!(result.unwrap(), 10_000, "{tier}");
            let (recursed, recursion_fuel) = run_core(tier, SPIN, "down", 1_000, 10_000_000);
            assert_eq!(recursed.unwrap(), 1_000, "{tier}");
            used.push((fuel, recursion_fuel));
        }
        eprintln!(
            "fuel (loop, recursion): baseline {:?}, optimized {:?}",
            used[0], used[1]
        );
        assert_eq!(used[0], used[1], "both tiers charge fuel per Wasm operator");
    }

    #[test]
    fn issue_16_fuel_epochs_and_the_stack_limit_stop_baseline_code_like_optimised_code() {
        for tier in Tier::ALL {
            let (out_of_fuel, _) = run_core(tier, SPIN, "spin", i32::MAX, 1_000_000);
            let trap = out_of_fuel
                .unwrap_err()
                .downcast::<wasmtime::Trap>()
                .unwrap();
            assert_eq!(trap, wasmtime::Trap::OutOfFuel, "{tier}");
            let (deadline, _) = run_core(tier, SPIN, "spin", i32::MAX, u64::MAX / 2);
            let trap = deadline.unwrap_err().downcast::<wasmtime::Trap>().unwrap();
            assert_eq!(trap, wasmtime::Trap::Interrupt, "{tier}");
            let (deep, _) = run_core(tier, SPIN, "down", i32::MAX, u64::MAX / 2);
            let trap = deep.unwrap_err().downcast::<wasmtime::Trap>().unwrap();
            assert_eq!(trap, wasmtime::Trap::StackOverflow, "{tier}");
        }
    }

    #[test]
    fn issue_16_the_baseline_engine_lacks_only_what_winch_cannot_compile() {
        let baseline = tier_features(Tier::Baseline);
        assert_eq!(
            wasm_features().difference(baseline),
            baseline_unsupported().intersection(wasm_features())
        );
        for needed in [
            "COMPONENT_MODEL",
            "SIMD",
            "MEMORY64",
            "MULTI_MEMORY",
            "BULK_MEMORY",
        ] {
            assert!(baseline.iter_names().any(|(n, _)| n == needed), "{needed}");
        }
        let engine = new_tier_engine(Tier::Baseline, EngineOptions::default()).unwrap();
        let optimized = new_engine().unwrap();
        use std::hash::{Hash, Hasher};
        let hash = |engine: &Engine| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            h.finish()
        };
        assert_ne!(
            hash(&engine),
            hash(&optimized),
            "artefacts of one tier are never loaded by the other"
        );
    }

    /// A slot kept resident is reset, not reused as it was: the next
    /// instance of the module (a sweep's next combination) sees the data
    /// segment and zeros, never what the last one wrote — in the pages
    /// kept resident and in those past them that go back to the kernel.
    #[test]
    fn issue_17_a_slot_kept_resident_starts_the_next_instance_clean() {
        let engine = new_engine_with(EngineOptions {
            keep_resident: true,
            ..EngineOptions::default()
        })
        .unwrap();
        let past_resident = (KEEP_RESIDENT_MEMORY_BYTES + 65536) as i32;
        let wat = r#"(module
            (memory 32)
            (data (i32.const 16) "\2a")
            (func (export "touch") (param $at i32) (result i32)
                (local $was i32)
                (local.set $was (i32.add (i32.load8_u (i32.const 16))
                    (i32.load (local.get $at))))
                (i32.store8 (i32.const 16) (i32.const 7))
                (i32.store (local.get $at) (i32.const 99))
                (local.get $was)))"#;
        let module = wasmtime::Module::new(&engine, wat).unwrap();
        for at in [1024, past_resident] {
            for round in 0..3 {
                let mut store = wasmtime::Store::new(&engine, ());
                store.set_fuel(1_000_000).unwrap();
                store.set_epoch_deadline(deadline_ticks(Duration::from_secs(5)));
                let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
                let touch = instance
                    .get_typed_func::<i32, i32>(&mut store, "touch")
                    .unwrap();
                assert_eq!(
                    touch.call(&mut store, at).unwrap(),
                    42,
                    "instance {round} writing at {at} sees the image, not the last writes"
                );
            }
        }
    }

    #[test]
    fn deadlines_round_up_to_whole_ticks_plus_one() {
        assert_eq!(deadline_ticks(Duration::from_micros(1)), 2);
        assert_eq!(deadline_ticks(Duration::from_micros(2_000)), 3);
        assert_eq!(deadline_ticks(Duration::from_micros(2_001)), 4);
        assert_eq!(ticks_within(Duration::from_micros(1)), 1);
        assert_eq!(ticks_within(Duration::from_micros(2_500)), 3);
    }
}
