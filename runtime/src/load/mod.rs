//! The load pipeline: read → verify → compile → type-check → instantiate in
//! a throw-away store → describe/init/smoke-test. Each stage is timed; the
//! first failure stops it with a [`LoadError`] naming the stage.

mod artifact;
mod background;
pub(crate) mod cache;
mod compile;
mod describe;
pub(crate) mod guest_text;
mod in_flight;
mod overlapped;
mod smoke;
mod tier;
mod tiers;
mod typecheck;

pub use artifact::{Artifact, read_artifact};
pub use cache::{ArtifactCache, CacheError, CacheWarning, EntryInfo, Problem as CacheProblem};
pub use describe::describe_limits;
pub use smoke::{SMOKE_BARS_PER_SYMBOL, SmokeReport, SmokeSetup};
pub use tier::Tier;
pub use tiers::{BASELINE_FUEL_HEADROOM, TierUpCompile, Tiering};

use crate::contract::{self, Bar, HostState, Param, StrategyBindingsPre, StrategyInfo};
use crate::engine::EngineOptions;
use crate::error::{LoadError, Stage};
use crate::instance::StrategyInstance;
use crate::limits::Limits;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasmtime::component::Linker;

pub use artifact::IoCause;
#[cfg(test)]
pub(crate) use artifact::faults;

/// How long each stage took, in pipeline order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimings {
    /// Each stage that ran and its wall-clock time. Stages skipped (a cache
    /// hit skips compile and type-check) or never reached (after the first
    /// failure) are absent rather than zero.
    pub stages: Vec<(Stage, Duration)>,
}

impl StageTimings {
    fn time<T>(&mut self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.stages.push((stage, start.elapsed()));
        out
    }

    /// Adds `spent` to `stage`'s time (recorded once, where it first ran).
    fn add(&mut self, stage: Stage, spent: Duration) {
        match self.stages.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, d)) => *d += spent,
            None => self.stages.push((stage, spent)),
        }
    }

    /// The time `stage` took, or `None` if it did not run.
    pub fn get(&self, stage: Stage) -> Option<Duration> {
        self.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, d)| *d)
    }

    /// The sum over the stages that ran: the pipeline's cost without the
    /// bookkeeping between stages.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(_, d)| *d).sum()
    }
}

/// What to load, and for whom.
#[derive(Debug, Clone, Copy)]
pub struct LoadSpec<'a> {
    /// The strategy id from the config (or the file name for ad-hoc checks).
    pub strategy_id: &'a str,
    /// The SHA-256 the config pins; `None` skips verification (dev only).
    pub expected_sha256: Option<&'a str>,
    /// Symbols the strategy trades, in the order `init` sees them (index =
    /// the symbol id in bars and orders): `strategy.symbols`, or every
    /// `feed.symbols` entry when left out.
    pub symbols: &'a [String],
    /// Parameters passed to `init`, from `[strategy.params]`; parameters
    /// left out take the defaults the strategy's `describe` declares.
    pub params: &'a [Param],
    /// The limits the smoke store runs under, and the `read` stage's size
    /// cap: `[limits]` with the strategy's `[strategy.limits]` overrides
    /// (`Config::limits_of`), the same the live store gets, so a version that
    /// passes here does not trip them on its first real bar.
    pub limits: &'a Limits,
    /// Recent real bars appended to the smoke burst.
    pub recent_bars: &'a [Bar],
    /// The account and bar spacing the smoke burst shows the strategy:
    /// [`SmokeSetup::default`] (`broker.starting_cash`, one-minute bars
    /// ending now) unless the caller knows better.
    pub smoke: SmokeSetup,
}

/// A version that passed every stage and may go live.
pub struct Candidate {
    /// SHA-256 of the component bytes, lowercase hex (64 digits).
    pub sha256: String,
    /// Size of the file read, in bytes; 0 when nothing was read
    /// ([`Loader::load_pre`]: a parameter change or a rollback).
    pub size_bytes: usize,
    /// The compiled, type-checked component, ready to instantiate a live
    /// store without compiling again.
    pub pre: StrategyBindingsPre<HostState>,
    /// What `describe` returned (name, version, parameter declarations),
    /// already checked (non-empty name, defaults of the declared kinds).
    pub info: StrategyInfo,
    /// What the smoke burst saw.
    pub smoke: SmokeReport,
    /// Nothing was compiled: this hash was in the in-memory cache (compile
    /// and type-check skipped) or in the artefact cache on disk (a `cache`
    /// stage and no `compile` in the timings).
    pub cache_hit: bool,
    /// Which compiler produced `pre`'s code.
    pub tier: Tier,
}

/// The result of one pass through the pipeline, with its timings either way.
pub struct LoadOutcome {
    /// The version that passed, or the first stage's refusal (with the
    /// strategy id and path attached).
    pub result: Result<Candidate, LoadError>,
    /// The stages that ran, including the one that failed.
    pub timings: StageTimings,
    /// SHA-256 of the bytes read, even when a later stage refused them.
    pub sha256: Option<String>,
    /// What went wrong with the artefact cache on disk on the way (an entry
    /// not loaded, a write that failed): the load went on without it.
    pub cache_warnings: Vec<CacheWarning>,
}

/// A file read by [`Loader::read_stage`], with the read's timing.
pub struct ReadStage {
    /// The bytes read and their hash, or the `read` stage's refusal (missing
    /// file, or over `limits.max_component_mb`).
    pub artifact: Result<Artifact, LoadError>,
    timings: StageTimings,
}

/// Compiled components kept by default, keyed by SHA-256.
pub const DEFAULT_CACHE_ENTRIES: usize = 64;

/// Keyed by SHA-256 and tier: a build may be cached under both.
type PreCache = LruCache<(String, Tier), StrategyBindingsPre<HostState>>;

/// Owns the engine, the contract's linker and the compile cache; loads any
/// number of strategies.
pub struct Loader {
    engine: wasmtime::Engine,
    linker: Linker<HostState>,
    /// A known hash never compiles twice: rollbacks and re-deploys skip
    /// compile and type-check. Bounded, least recently used goes first.
    cache: Mutex<PreCache>,
    /// Builds being compiled now: a second load of one waits for its code.
    in_flight: in_flight::InFlight,
    /// Compiles on the low-priority compile pool ([`EngineOptions::background_compile`]).
    background_compile: bool,
    /// Compiled code kept on disk across restarts (`runtime.cache_dir`),
    /// consulted after the in-memory cache; none unless attached.
    artifact_cache: Option<ArtifactCache>,
    /// The baseline tier's engine and linker and which tier a new build
    /// gets first (`hot_reload.tiering`).
    tiers: tiers::Tiers,
}

impl Loader {
    /// A loader with the default engine and a compile cache of
    /// `DEFAULT_CACHE_ENTRIES` (64) components.
    ///
    /// Fails only if the engine cannot be built or the contract cannot be
    /// linked, neither of which depends on user input.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_cache_entries(DEFAULT_CACHE_ENTRIES)
    }

    /// A loader for a command someone waits on (`runtime check`, `build`,
    /// `backtest`, `cache verify`): it compiles at the caller's priority on
    /// every core. The idle-priority compile pool exists to keep a running
    /// bar loop's CPU; with no loop to protect it only made these commands
    /// wait for idle CPU (a second, until the pool ages, on a busy machine).
    /// Its pool keeps freed memory resident ([`EngineOptions::keep_resident`]):
    /// these commands run instance after instance of one component.
    pub fn foreground() -> anyhow::Result<Self> {
        Self::with_options(
            DEFAULT_CACHE_ENTRIES,
            EngineOptions {
                background_compile: false,
                keep_resident: true,
                ..EngineOptions::default()
            },
        )
    }

    /// A loader with the default engine and a compile cache of `entries`
    /// components (no config key sets it; tests and benches pick small
    /// caches to watch eviction). 0 is taken as 1: the cache cannot be empty.
    pub fn with_cache_entries(entries: usize) -> anyhow::Result<Self> {
        Self::with_options(entries, crate::engine::EngineOptions::default())
    }

    /// A loader whose engine makes other [`EngineOptions`] choices (the
    /// benches measure them side by side).
    pub fn with_options(entries: usize, options: EngineOptions) -> anyhow::Result<Self> {
        let engine = crate::engine::new_engine_with(options)?;
        let linker = contract::linker(&engine)
            .map_err(|e| anyhow::anyhow!("cannot link the contract: {e}"))?;
        let capacity = NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN);
        Ok(Self {
            engine,
            linker,
            cache: Mutex::new(LruCache::new(capacity)),
            in_flight: in_flight::InFlight::default(),
            background_compile: options.background_compile,
            artifact_cache: None,
            tiers: tiers::Tiers::new(options),
        })
    }

    /// This loader with an artefact cache on disk behind its in-memory one:
    /// a hash compiled before (by this process, an earlier one or `runtime
    /// build`) loads its verified code instead of compiling.
    pub fn with_artifact_cache(mut self, cache: ArtifactCache) -> Self {
        self.artifact_cache = Some(cache);
        self
    }

    /// The artefact cache on disk, if one is attached.
    pub fn artifact_cache(&self) -> Option<&ArtifactCache> {
        self.artifact_cache.as_ref()
    }

    /// The pre-linked component of a hash compiled before, if still cached:
    /// its optimised code when there is some, else its baseline code.
    pub fn cached(&self, sha256: &str) -> Option<StrategyBindingsPre<HostState>> {
        self.cached_best(sha256).map(|(pre, _)| pre)
    }

    /// The cached code of one tier of a hash.
    pub fn cached_tier(&self, sha256: &str, tier: Tier) -> Option<StrategyBindingsPre<HostState>> {
        self.cache_lock().get(&(sha256.to_owned(), tier)).cloned()
    }

    /// The best cached code of a hash that the tiering in force may use,
    /// and its tier (optimised first).
    fn cached_best(&self, sha256: &str) -> Option<(StrategyBindingsPre<HostState>, Tier)> {
        let usable = self.tiering().usable();
        let mut cache = self.cache_lock();
        usable.iter().copied().find_map(|tier| {
            cache
                .get(&(sha256.to_owned(), tier))
                .map(|pre| (pre.clone(), tier))
        })
    }

    /// Hashes currently in the compile cache.
    pub fn cached_entries(&self) -> usize {
        self.cache_lock().len()
    }

    fn cache_lock(&self) -> std::sync::MutexGuard<'_, PreCache> {
        // Every critical section is a single map operation, so a poisoned
        // lock still guards a consistent map.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs describe/init/smoke on an already type-checked component (a
    /// parameter change or a rollback: nothing to read or compile).
    pub fn load_pre(
        &self,
        sha256: &str,
        pre: StrategyBindingsPre<HostState>,
        spec: LoadSpec<'_>,
        path: &Path,
    ) -> LoadOutcome {
        let mut timings = StageTimings::default();
        let result = self
            .smoke_stages(pre, spec, &mut timings)
            .map(|(pre, info, smoke)| Candidate {
                sha256: sha256.to_owned(),
                size_bytes: 0,
                tier: self.tier_of(&pre),
                pre,
                info,
                smoke,
                cache_hit: true,
            });
        LoadOutcome {
            result: result.map_err(|e| e.for_strategy(spec.strategy_id, path)),
            timings,
            sha256: Some(sha256.to_owned()),
            cache_warnings: Vec::new(),
        }
    }

    /// Stage `compile` alone, bypassing the cache: what a new hash costs.
    /// The benches time it stage by stage; the pipeline calls the same code.
    pub fn compile_stage(&self, bytes: &[u8]) -> Result<wasmtime::component::Component, LoadError> {
        self.compile(bytes)
    }

    /// [`Loader::compile`] when `wanted` still says so as the compile
    /// starts (on the pool, after any wait for it); `None` when it does not.
    fn compile_if(
        &self,
        bytes: &[u8],
        wanted: &(dyn Fn() -> bool + Sync),
    ) -> Option<Result<wasmtime::component::Component, LoadError>> {
        let compile = || wanted().then(|| compile::compile(&self.engine, bytes));
        if self.background_compile {
            background::run_low_priority(compile)
        } else {
            compile()
        }
    }

    fn compile(&self, bytes: &[u8]) -> Result<wasmtime::component::Component, LoadError> {
        if self.background_compile {
            background::run_low_priority(|| compile::compile(&self.engine, bytes))
        } else {
            compile::compile(&self.engine, bytes)
        }
    }

    /// Stage `type_check` alone, on a component from [`Loader::compile_stage`].
    pub fn type_check_stage(
        &self,
        component: &wasmtime::component::Component,
    ) -> Result<StrategyBindingsPre<HostState>, LoadError> {
        typecheck::type_check(&self.engine, &self.linker, component)
    }

    /// The engine every component of this loader is compiled for: a live
    /// store must use this same engine to instantiate a [`Candidate::pre`].
    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// Reads `path` once and runs the pipeline on exactly those bytes.
    pub fn load_file(&self, path: &Path, spec: LoadSpec<'_>) -> LoadOutcome {
        let read = Self::read_stage(path, spec.limits.max_component_bytes);
        self.load_read(path, read, spec)
    }

    /// Stage `read` alone, timed: the caller may look at the bytes (is this
    /// the running version?) before [`Loader::load_read`] runs the rest on
    /// exactly those bytes.
    pub fn read_stage(path: &Path, max_bytes: u64) -> ReadStage {
        let mut timings = StageTimings::default();
        let artifact = timings.time(Stage::Read, || {
            // Opening a directory succeeds on Linux and only the read fails
            // (EISDIR), which `read_artifact` would blame on permissions.
            if path.is_dir() {
                return Err(LoadError::new(
                    Stage::Read,
                    "it is a directory, not a strategy file",
                )
                .hint("give the path of a `.wasm` file; for a strategy crate, `runtime build <dir>` builds it and prints that path"));
            }
            read_artifact(path, max_bytes)
        });
        ReadStage { artifact, timings }
    }

    /// Stage `read` for bytes that came another way than a file (the ops
    /// API's request body, a shadow deploy): hashed, and held to the same
    /// cap as a file (`limits.max_component_mb`). `path` names them in errors.
    pub fn read_bytes_stage(path: &Path, bytes: Vec<u8>, max_bytes: u64) -> ReadStage {
        let mut timings = StageTimings::default();
        let artifact = timings.time(Stage::Read, || {
            if bytes.len() as u64 > max_bytes {
                return Err(LoadError::new(
                    Stage::Read,
                    format!("the component is larger than the {max_bytes}-byte cap"),
                )
                .hint("raise `limits.max_component_mb`, or check that this is really a strategy component"));
            }
            Ok(Artifact::from_bytes(path, bytes))
        });
        ReadStage { artifact, timings }
    }

    /// The pipeline after stage `read`, on what [`Loader::read_stage`] read.
    pub fn load_read(&self, path: &Path, read: ReadStage, spec: LoadSpec<'_>) -> LoadOutcome {
        let ReadStage {
            artifact: read,
            mut timings,
        } = read;
        let sha256 = read.as_ref().ok().map(|a| a.sha256.clone());
        let mut cache_warnings = Vec::new();
        let result = read.and_then(|artifact| {
            self.run_stages(&artifact, spec, &mut timings, &mut cache_warnings)
        });
        LoadOutcome {
            result: result.map_err(|e| e.for_strategy(spec.strategy_id, path)),
            timings,
            sha256,
            cache_warnings,
        }
    }

    /// Runs the pipeline on bytes already in memory.
    pub fn load_artifact(&self, artifact: &Artifact, spec: LoadSpec<'_>) -> LoadOutcome {
        let mut timings = StageTimings::default();
        let mut cache_warnings = Vec::new();
        let result = self.run_stages(artifact, spec, &mut timings, &mut cache_warnings);
        LoadOutcome {
            result: result.map_err(|e| e.for_strategy(spec.strategy_id, &artifact.path)),
            timings,
            sha256: Some(artifact.sha256.clone()),
            cache_warnings,
        }
    }

    fn run_stages(
        &self,
        artifact: &Artifact,
        spec: LoadSpec<'_>,
        timings: &mut StageTimings,
        warnings: &mut Vec<CacheWarning>,
    ) -> Result<Candidate, LoadError> {
        let _span =
            tracing::info_span!("load", strategy = spec.strategy_id, sha256 = %artifact.sha256)
                .entered();
        timings.time(Stage::Verify, || verify(artifact, spec))?;
        let mut cache_hit = true;
        let (pre, tier) = match self.cached_best(&artifact.sha256) {
            Some(found) => found,
            None => {
                let _turn = self.in_flight.turn(&artifact.sha256);
                // A load of the same build may have finished while this one
                // waited for its turn: its code is in the cache now.
                match self.cached_best(&artifact.sha256) {
                    Some(found) => found,
                    None => {
                        let (found, from_disk) =
                            self.fetch_or_compile(artifact, timings, warnings)?;
                        cache_hit = from_disk;
                        found
                    }
                }
            }
        };
        let (mut pre, mut info, mut smoke) = self.smoke_stages(pre, spec, timings)?;
        let mut tier = tier;
        if tier == Tier::Baseline && tiers::too_close_to_the_fuel_limit(&smoke, spec.limits) {
            // Cranelift meters fuel a little differently: a build this close
            // to `limits.fuel_per_bar` goes live on its code, tested again.
            tracing::info!(
                "baseline code came within the tier headroom of the fuel limit; compiling with Cranelift"
            );
            let component = timings.time(Stage::Compile, || self.compile(&artifact.bytes))?;
            let optimized = timings.time(Stage::TypeCheck, || {
                typecheck::type_check(&self.engine, &self.linker, &component)
            })?;
            self.cache_lock().put(
                (artifact.sha256.clone(), Tier::Optimized),
                optimized.clone(),
            );
            (pre, info, smoke) = self.smoke_stages(optimized, spec, timings)?;
            tier = Tier::Optimized;
        }
        Ok(Candidate {
            sha256: artifact.sha256.clone(),
            size_bytes: artifact.bytes.len(),
            pre,
            info,
            smoke,
            cache_hit,
            tier,
        })
    }

    /// Past a miss of the compile cache: the code from disk, or a compile
    /// (stored to disk), type-checked and put in the compile cache; and
    /// whether it came from disk.
    fn fetch_or_compile(
        &self,
        artifact: &Artifact,
        timings: &mut StageTimings,
        warnings: &mut Vec<CacheWarning>,
    ) -> Result<((StrategyBindingsPre<HostState>, Tier), bool), LoadError> {
        let from_disk = self.load_from_disk(&artifact.sha256, &artifact.bytes, timings, warnings);
        let hit = from_disk.is_some();
        let (component, tier) = match from_disk {
            Some(found) => found,
            None => self.compile_timed(&artifact.sha256, &artifact.bytes, timings)?,
        };
        let (engine, linker) = self.engine_and_linker(tier);
        let pre = timings.time(Stage::TypeCheck, || {
            typecheck::type_check(engine, linker, &component)
        })?;
        // Stored only once it passed the type check: the cache holds
        // strategies, not whatever was dropped in the folder.
        if !hit {
            self.store_to_disk(&artifact.sha256, tier, &component, timings, warnings);
        }
        self.cache_lock()
            .put((artifact.sha256.clone(), tier), pre.clone());
        Ok(((pre, tier), hit))
    }

    /// Stage `compile`, timed, by the first tier's compiler (Winch, or
    /// Cranelift if Winch refuses it); a refusal by name is timed as the
    /// type-check it is.
    fn compile_timed(
        &self,
        sha256: &str,
        bytes: &[u8],
        timings: &mut StageTimings,
    ) -> Result<(wasmtime::component::Component, Tier), LoadError> {
        let first = self.tiers.first_tier(bytes);
        let compiled = timings.time(Stage::Compile, || self.compile_first(first, sha256, bytes));
        // Names are checked before the compile: a refusal by name is
        // a type-check that ran instead of the compile, timed so.
        if let Err(refusal) = &compiled
            && refusal.stage == Stage::TypeCheck
            && let Some(last) = timings.stages.last_mut()
        {
            last.0 = Stage::TypeCheck;
        }
        compiled
    }

    /// Stage `cache`, lookup: the verified code of `sha256` from disk, in
    /// the tiers the tiering in force may use (optimised first). Baseline
    /// code found there keeps `bytes` for its tier-up, as a compile does.
    fn load_from_disk(
        &self,
        sha256: &str,
        bytes: &[u8],
        timings: &mut StageTimings,
        warnings: &mut Vec<CacheWarning>,
    ) -> Option<(wasmtime::component::Component, Tier)> {
        let cache = self.artifact_cache.as_ref()?;
        let started = Instant::now();
        let mut found = None;
        for &tier in self.tiering().usable() {
            match cache.load(self.tier_engine(tier), sha256, tier) {
                Ok(Some(component)) => {
                    found = Some((component, tier));
                    break;
                }
                Ok(None) => {}
                Err(warning) => {
                    tracing::warn!("{warning}");
                    warnings.push(warning);
                }
            }
        }
        timings.add(Stage::Cache, started.elapsed());
        if let Some((_, Tier::Baseline)) = &found {
            self.tiers
                .sources()
                .put(sha256.to_owned(), std::sync::Arc::from(bytes));
        }
        found
    }

    /// Stage `cache`, store: a fresh compile kept for the next process. A
    /// failure costs a warning and nothing else.
    fn store_to_disk(
        &self,
        sha256: &str,
        tier: Tier,
        component: &wasmtime::component::Component,
        timings: &mut StageTimings,
        warnings: &mut Vec<CacheWarning>,
    ) {
        let Some(cache) = self.artifact_cache.as_ref() else {
            return;
        };
        let started = Instant::now();
        let engine = self.tier_engine(tier);
        let stored = component
            .serialize()
            .map_err(|e| CacheWarning {
                sha256: sha256.to_owned(),
                tier,
                entry: cache::EntryKey::new(engine, sha256, tier).file_name(),
                problem: None,
                message: format!("wasmtime cannot serialize it: {e:#}"),
                action: "not stored; the load goes on",
            })
            .and_then(|bytes| cache.store(engine, sha256, tier, &bytes));
        timings.add(Stage::Cache, started.elapsed());
        if let Err(warning) = stored {
            tracing::warn!("{warning}");
            warnings.push(warning);
        }
    }

    fn smoke_stages(
        &self,
        pre: StrategyBindingsPre<HostState>,
        spec: LoadSpec<'_>,
        timings: &mut StageTimings,
    ) -> Result<(StrategyBindingsPre<HostState>, StrategyInfo, SmokeReport), LoadError> {
        let mut instance = timings.time(Stage::Instantiate, || {
            StrategyInstance::instantiate(&pre, spec.strategy_id, spec.limits)
                .map_err(|e| smoke::trapped(Stage::Instantiate, e))
        })?;
        let info = timings.time(Stage::Describe, || {
            let info = instance
                .describe()
                .map_err(|e| smoke::trapped(Stage::Describe, e))?;
            describe::check_info(&info)?;
            Ok::<_, LoadError>(info)
        })?;
        let smoke = timings.time(Stage::SmokeTest, || {
            smoke::smoke_test(
                &mut instance,
                spec.symbols,
                spec.params,
                spec.recent_bars,
                spec.limits,
                spec.smoke,
            )
        })?;
        tracing::debug!(
            bars = smoke.bars,
            orders = smoke.orders,
            "smoke test passed"
        );
        Ok((pre, info, smoke))
    }
}

/// Stage `verify`: the bytes read are the bytes the config pins.
fn verify(artifact: &Artifact, spec: LoadSpec<'_>) -> Result<(), LoadError> {
    let Some(expected) = spec.expected_sha256 else {
        return Ok(());
    };
    if expected.eq_ignore_ascii_case(&artifact.sha256) {
        return Ok(());
    }
    // A half-copied build never matches its pin; say so rather than leave
    // the operator re-pinning a prefix.
    if let Err(seal_error) = crate::seal::check(&artifact.bytes) {
        return Err(LoadError::new(
            Stage::Verify,
            format!(
                "SHA-256 mismatch: expected {expected}, got {}; {seal_error}",
                artifact.sha256
            ),
        )
        .hint(seal_error.hint()));
    }
    Err(LoadError::new(
        Stage::Verify,
        format!(
            "SHA-256 mismatch: expected {expected}, got {}",
            artifact.sha256
        ),
    )
    .hint(format!(
        "if this build is the one you want, run `runtime hash {}` and set `sha256` of the [[strategy]] with id = \"{}\" to the printed value",
        artifact.path.display(),
        spec.strategy_id
    )))
}
