//! Engines per compiler tier: which tier a new build is compiled by first
//! (`hot_reload.tiering`), the baseline (Winch) engine beside the optimised
//! (Cranelift) one, and the tier-up compile of a build that went live on
//! baseline code.
//!
//! A component, its linker and its `InstancePre` belong to one engine, so
//! each tier has its own engine and linker; both engines are configured by
//! `engine::new_tier_engine` with the same limits (fuel, epoch deadlines,
//! stack, pooling), and every store takes its engine from the code it runs.

use super::{Loader, Tier, compile, typecheck};
use crate::contract::{self, HostState, StrategyBindingsPre};
use crate::engine::EngineOptions;
use crate::error::LoadError;
use lru::LruCache;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::component::{Component, Linker};

/// `hot_reload.tiering`: how a new build goes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tiering {
    /// Compiled by Winch first (a few milliseconds) and live on that code;
    /// Cranelift then compiles the same bytes on the compile pool and the
    /// optimised generation takes over at a bar boundary (a tier-up).
    Auto,
    /// Compiled by Cranelift only, as before tiering existed.
    #[default]
    Optimized,
    /// Compiled by Winch only, never tiered up: to check that a strategy
    /// behaves the same on both compilers (the tests run every example and
    /// the hostile corpus so), or to measure the baseline tier's cost.
    Baseline,
}

impl Tiering {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Tiering::Auto => "auto",
            Tiering::Optimized => "optimized",
            Tiering::Baseline => "baseline",
        }
    }

    /// Every value, as config files spell them.
    pub const ALL: [Tiering; 3] = [Tiering::Auto, Tiering::Optimized, Tiering::Baseline];

    fn to_u8(self) -> u8 {
        match self {
            Tiering::Optimized => 0,
            Tiering::Auto => 1,
            Tiering::Baseline => 2,
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            1 => Tiering::Auto,
            2 => Tiering::Baseline,
            _ => Tiering::Optimized,
        }
    }

    /// The tiers whose cached code a load may use, best first.
    pub(super) fn usable(self) -> &'static [Tier] {
        match self {
            Tiering::Auto => &[Tier::Optimized, Tier::Baseline],
            Tiering::Optimized => &[Tier::Optimized],
            Tiering::Baseline => &[Tier::Baseline],
        }
    }
}

/// Headroom kept below `limits.fuel_per_bar` by a build's smoke test on
/// baseline code: the two compilers meter fuel at different points, and one
/// call of a real strategy differs by at most this fraction between them
/// (measured by `tests/e2e/tiering.rs` on every example). A baseline build
/// whose smoke test used more than `fuel_per_bar / (1 + headroom)` in one
/// call goes live on Cranelift's code instead, so no strategy passes its
/// smoke test on one tier and runs out of fuel on the other.
pub const BASELINE_FUEL_HEADROOM: f64 = 0.25;

/// True when a baseline smoke test came within the headroom of the limit.
pub(super) fn too_close_to_the_fuel_limit(
    smoke: &super::SmokeReport,
    limits: &crate::limits::Limits,
) -> bool {
    smoke.max_fuel_per_call as f64 > limits.fuel_per_call as f64 / (1.0 + BASELINE_FUEL_HEADROOM)
}

/// Builds kept for a tier-up (their bytes, until Cranelift compiled them):
/// a handful of recent baseline builds, each at most `limits.max_component_mb`.
const TIER_UP_SOURCES: usize = 8;

/// One tier's engine and the contract's linker for it.
struct TierEngine {
    engine: wasmtime::Engine,
    linker: Linker<HostState>,
}

/// The baseline engine (made on first use: a loader that never tiers never
/// reserves its pool), the tiering in force and the bytes of builds that
/// wait for their optimised code.
pub(super) struct Tiers {
    options: EngineOptions,
    baseline: OnceLock<Option<TierEngine>>,
    tiering: AtomicU8,
    sources: Mutex<LruCache<String, Arc<[u8]>>>,
}

impl Tiers {
    pub(super) fn new(options: EngineOptions) -> Self {
        Self {
            options,
            baseline: OnceLock::new(),
            tiering: AtomicU8::new(Tiering::Optimized.to_u8()),
            sources: Mutex::new(LruCache::new(
                NonZeroUsize::new(TIER_UP_SOURCES).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn baseline(&self) -> Option<&TierEngine> {
        self.baseline
            .get_or_init(|| {
                let made = crate::engine::new_tier_engine(Tier::Baseline, self.options).and_then(
                    |engine| {
                        let linker = contract::linker(&engine)
                            .map_err(|e| anyhow::anyhow!("cannot link the contract: {e}"))?;
                        Ok(TierEngine { engine, linker })
                    },
                );
                made.inspect_err(|error| {
                    tracing::warn!(%error, "no baseline tier on this machine; every build is compiled by Cranelift");
                })
                .ok()
            })
            .as_ref()
    }

    /// The tier a build not in the cache is compiled by first.
    pub(super) fn first_tier(&self, _bytes: &[u8]) -> Tier {
        if self.tiering() != Tiering::Optimized && self.baseline().is_some() {
            Tier::Baseline
        } else {
            Tier::Optimized
        }
    }

    pub(super) fn tiering(&self) -> Tiering {
        Tiering::from_u8(self.tiering.load(Ordering::Relaxed))
    }

    pub(super) fn sources(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<[u8]>>> {
        // Single map operations only: a poisoned lock guards a consistent map.
        self.sources
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Loader {
    /// Sets `hot_reload.tiering` for the builds compiled from now on.
    pub fn set_tiering(&self, tiering: Tiering) {
        self.tiers.tiering.store(tiering.to_u8(), Ordering::Relaxed);
    }

    /// The tiering in force.
    pub fn tiering(&self) -> Tiering {
        self.tiers.tiering()
    }

    /// Which tier's engine `pre` was compiled for.
    pub fn tier_of(&self, pre: &StrategyBindingsPre<HostState>) -> Tier {
        if wasmtime::Engine::same(pre.engine(), &self.engine) {
            Tier::Optimized
        } else {
            Tier::Baseline
        }
    }

    /// The engine of a tier: the optimised one when there is no baseline
    /// engine (it could not be configured on this machine).
    pub fn tier_engine(&self, tier: Tier) -> &wasmtime::Engine {
        self.engine_and_linker(tier).0
    }

    pub(super) fn engine_and_linker(&self, tier: Tier) -> (&wasmtime::Engine, &Linker<HostState>) {
        match (tier, self.tiers.baseline()) {
            (Tier::Baseline, Some(baseline)) => (&baseline.engine, &baseline.linker),
            _ => (&self.engine, &self.linker),
        }
    }

    /// Stage `compile` for a build not in the cache, by `first`'s compiler.
    /// Baseline code is compiled on the baseline pool at normal priority (a
    /// few milliseconds of CPU: it must not wait for idle CPU, which a busy
    /// machine never has, nor outrank the bar loop) and the bytes are kept
    /// for the tier-up. A build
    /// Winch cannot compile (tail calls, typed function references, relaxed
    /// SIMD, an instruction Winch lacks) is compiled by Cranelift instead.
    pub(super) fn compile_first(
        &self,
        first: Tier,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, Tier), LoadError> {
        if first == Tier::Optimized {
            return self.compile(bytes).map(|c| (c, Tier::Optimized));
        }
        compile::precheck(bytes)?;
        let engine = self.tier_engine(Tier::Baseline);
        match super::background::run_normal_priority(|| compile::compile_checked(engine, bytes)) {
            Ok(component) => {
                self.tiers
                    .sources()
                    .put(sha256.to_owned(), Arc::from(bytes));
                Ok((component, Tier::Baseline))
            }
            Err(error) => {
                tracing::info!(
                    sha256,
                    "Winch cannot compile this build, compiling it with Cranelift: {}",
                    error.message
                );
                self.compile(bytes).map(|c| (c, Tier::Optimized))
            }
        }
    }

    /// Test and bench access to one tier's compile, bypassing the cache
    /// and the tiering setting.
    pub fn compile_tier(&self, tier: Tier, bytes: &[u8]) -> Result<Component, LoadError> {
        match tier {
            Tier::Optimized => self.compile(bytes),
            Tier::Baseline => {
                compile::precheck(bytes)?;
                let engine = self.tier_engine(Tier::Baseline);
                super::background::run_normal_priority(|| compile::compile_checked(engine, bytes))
            }
        }
    }

    /// Type-checks a component of `tier` (from [`Loader::compile_tier`]).
    pub fn type_check_tier(
        &self,
        tier: Tier,
        component: &Component,
    ) -> Result<StrategyBindingsPre<HostState>, LoadError> {
        let (engine, linker) = self.engine_and_linker(tier);
        typecheck::type_check(engine, linker, component)
    }

    /// The tier-up compile: Cranelift's code for a build that went live on
    /// baseline code, compiled and type-checked on the low-priority compile
    /// pool, then cached under (SHA-256, optimized); the cached optimised
    /// code when it is there already. `wanted` is asked when the pool takes
    /// the job: a build replaced while its tier-up waited for the pool is
    /// not compiled at all (an author saving every few seconds would
    /// otherwise queue a Cranelift compile per save, each thrown away).
    pub fn optimize(&self, sha256: &str, wanted: &(dyn Fn() -> bool + Sync)) -> TierUpCompile {
        if let Some(pre) = self.cached_tier(sha256, Tier::Optimized) {
            return TierUpCompile::Compiled(Ok(pre));
        }
        let Some(bytes) = self.tiers.sources().get(sha256).cloned() else {
            return TierUpCompile::NoBytes;
        };
        // On the compile pool like any Cranelift compile (idle priority):
        // the strategy runs on baseline code meanwhile, so nothing waits.
        let compiled = self.compile_if(&bytes, wanted);
        let Some(compiled) = compiled else {
            return TierUpCompile::Superseded;
        };
        let pre = compiled.and_then(|component| {
            let pre = typecheck::type_check(&self.engine, &self.linker, &component)?;
            // On disk too, so a restart goes live on optimised code at once;
            // a failure to store is a logged warning and the tier-up goes on.
            self.store_to_disk(
                sha256,
                Tier::Optimized,
                &component,
                &mut super::StageTimings::default(),
                &mut Vec::new(),
            );
            Ok(pre)
        });
        if let Ok(pre) = &pre {
            self.cache_lock()
                .put((sha256.to_owned(), Tier::Optimized), pre.clone());
            self.tiers.sources().pop(sha256);
        }
        TierUpCompile::Compiled(pre)
    }
}

/// What [`Loader::optimize`] did.
pub enum TierUpCompile {
    /// Cranelift compiled and type-checked it (or its code was cached).
    Compiled(Result<StrategyBindingsPre<HostState>, LoadError>),
    /// Its bytes are no longer kept: nothing to compile from.
    NoBytes,
    /// It was no longer wanted when the pool took it: nothing compiled.
    Superseded,
}
