#![warn(missing_docs)]
//! # sandbar-runtime — the Sandbar host
//!
//! Loads strategy components (the contract in `guest-sdk/wit`), checks them
//! stage by stage, and runs them in their own wasmtime stores with no ambient
//! authority.
//!
//! ## Main types
//!
//! - [`Loader`]: the load pipeline (read, verify, compile with a cache,
//!   type-check, smoke test) → a [`Candidate`], or a [`LoadError`] naming
//!   the [`Stage`];
//! - [`StrategyInstance`]: one component in its own store, with fuel, a
//!   deadline and memory [`Limits`];
//! - [`Runtime`]: `runtime live` — the bar loop, the control plane that
//!   hot-reloads, the feed, journal and reaper; [`RuntimeHandle`] is its
//!   cheap, thread-safe view for the ops API;
//! - [`Generation`]: one loaded version of a strategy; [`StrategySlot`] holds
//!   the one the bar loop uses (behind `ArcSwap`); [`Roster`] is the set of
//!   running slots;
//! - [`Config`]: the TOML config, validated in one place;
//! - [`backtest`], [`broker`], [`risk`], [`feed`], [`ops`], [`build`]: the
//!   rest of the product, one module each.
//!
//! ```no_run
//! use sandbar_runtime::{Limits, LoadSpec, Loader, SmokeSetup};
//!
//! let loader = Loader::new()?;
//! let symbols = vec!["BTCUSD".to_string()];
//! let outcome = loader.load_file(
//!     "strategies/dist/sma_cross.wasm".as_ref(),
//!     LoadSpec {
//!         strategy_id: "sma-fast",
//!         expected_sha256: None,
//!         symbols: &symbols,
//!         params: &[],
//!         limits: &Limits::default(),
//!         recent_bars: &[],
//!         smoke: SmokeSetup::default(),
//!     },
//! );
//! match outcome.result {
//!     Ok(candidate) => println!("{} {} is good", candidate.info.name, candidate.sha256),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```

mod action;
mod check;
mod engine;
mod error;
mod guest_log;
mod hash;
mod instance;
mod limits;
mod load;
mod params;
mod pin;
mod refusal;
mod threads;
mod ticker;
mod validate;

pub mod backtest;
pub mod broker;
pub mod build;
pub mod config;
pub mod contract;
pub mod feed;
pub mod fleet;
pub mod live;
pub mod logging;
pub mod ops;
pub mod risk;
pub mod seal;

pub use action::{Action, Rollback, StateAction, UnknownAction};
pub use check::{
    CHECK_SYMBOLS, check_deadline, check_file, deadline_verdict, render_report, render_stages,
};
pub use config::Config;
pub use engine::{EngineOptions, new_engine, new_engine_with};
pub use error::{LoadError, Stage};
pub use guest_log::LogPhase;
pub use hash::sha256_hex;
pub use instance::{CallError, DISCARDED as DISCARDED_REPLAY_ORDERS, StrategyInstance, TrapKind};
pub use limits::{Language, Limits};
pub use live::{Generation, LiveOptions, Roster, Runtime, RuntimeHandle, StrategySlot};
pub use load::IoCause;
pub use load::{
    Artifact, BASELINE_FUEL_HEADROOM, Candidate, LoadOutcome, LoadSpec, Loader, ReadStage,
    SMOKE_BARS_PER_SYMBOL, SmokeReport, SmokeSetup, StageTimings, Tier, TierUpCompile, Tiering,
    describe_limits, read_artifact,
};
pub use load::{ArtifactCache, CacheError, CacheProblem, CacheWarning, EntryInfo};
pub use params::{from_toml as param_from_toml, parse_assignment as parse_param};
pub use pin::{Repinned, repin};
pub use refusal::{Refusal, RefusalKind};
pub use validate::{validate_orders, validate_requests};
