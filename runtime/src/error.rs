//! The error a rejected strategy artifact gets: which strategy, which file,
//! which pipeline stage, what went wrong, and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// A stage of the load pipeline (DESIGN.md: reload pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading the file into memory once, capped at `limits.max_component_mb`.
    Read,
    /// Checking the SHA-256 of the bytes read against the `sha256` pinned in
    /// the config (skipped only with `hot_reload.skip_hash_verification` in dev).
    Verify,
    /// The artefact cache on disk (`runtime.cache_dir`): looking up compiled
    /// code for the SHA-256 (a hit skips `compile`), and storing a fresh
    /// compile. Absent when no disk cache is used or the in-memory cache hit.
    Cache,
    /// Compiling the component (skipped when the compile cache already holds
    /// that SHA-256).
    Compile,
    /// Checking the component's imports and exports against the contract,
    /// before anything is instantiated.
    TypeCheck,
    /// Instantiating in a fresh store (the smoke-test store, or the live one).
    Instantiate,
    /// Calling `describe()` for the strategy's name, version and parameter
    /// specs (an empty name is refused here).
    Describe,
    /// Calling `init` with the configured `[strategy.params]`.
    Init,
    /// Running the burst of synthetic and recent bars whose outputs must be
    /// valid orders.
    SmokeTest,
    /// Bringing the live store up to date from the old generation's snapshot
    /// or the recent-bar history, just before publishing.
    StateHandoff,
}

impl Stage {
    /// Every stage, in pipeline order (the order they run and are reported in).
    pub const ALL: [Stage; 10] = [
        Stage::Read,
        Stage::Verify,
        Stage::Cache,
        Stage::Compile,
        Stage::TypeCheck,
        Stage::Instantiate,
        Stage::Describe,
        Stage::Init,
        Stage::SmokeTest,
        Stage::StateHandoff,
    ];

    /// The snake_case name used in events, metrics labels, JSON and
    /// [`Display`](fmt::Display) (`"smoke_test"`, `"state_handoff"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Verify => "verify",
            Stage::Cache => "cache",
            Stage::Compile => "compile",
            Stage::TypeCheck => "type_check",
            Stage::Instantiate => "instantiate",
            Stage::Describe => "describe",
            Stage::Init => "init",
            Stage::SmokeTest => "smoke_test",
            Stage::StateHandoff => "state_handoff",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy artifact was refused. Nothing running is affected by it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    /// The pipeline stage that refused the artifact.
    pub stage: Stage,
    /// The strategy id from the config, or the file name for ad-hoc checks.
    pub strategy: String,
    /// The component file being loaded; empty when the load failed before a
    /// file was known (a strategy id not in the config).
    pub path: PathBuf,
    /// What went wrong, in one sentence without the stage or path (the
    /// [`Display`](fmt::Display) form adds those).
    pub message: String,
    /// How to fix it, naming a config key or command where there is one;
    /// `None` when there is nothing better to say than the message.
    pub hint: Option<String>,
    /// The io error behind a failed read (stage `read`), classified
    /// transient or not; the control plane retries transient ones.
    pub io: Option<crate::load::IoCause>,
}

impl LoadError {
    pub(crate) fn new(stage: Stage, message: impl Into<String>) -> Self {
        Self {
            stage,
            strategy: String::new(),
            path: PathBuf::new(),
            message: message.into(),
            hint: None,
            io: None,
        }
    }

    pub(crate) fn io(mut self, cause: crate::load::IoCause) -> Self {
        self.io = Some(cause);
        self
    }

    /// True when it failed reading the file for a reason that may clear
    /// without the file changing (see [`crate::load::IoCause`]).
    pub fn is_transient(&self) -> bool {
        self.stage == Stage::Read && self.io.is_some_and(|c| c.transient)
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn for_strategy(mut self, strategy: &str, path: &std::path::Path) -> Self {
        self.strategy = strategy.to_owned();
        self.path = path.to_owned();
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "strategy `{}` rejected at stage `{}` ({}): {}",
            self.strategy,
            self.stage,
            self.path.display(),
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}
