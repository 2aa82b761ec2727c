//! The error a rejected strategy artifact gets: which strategy, which file,
//! which pipeline stage, what went wrong, and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// A stage of the load pipeline (DESIGN.md: reload pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Read,
    Verify,
    Compile,
    TypeCheck,
    Instantiate,
    Describe,
    Init,
    SmokeTest,
    StateHandoff,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Read,
        Stage::Verify,
        Stage::Compile,
        Stage::TypeCheck,
        Stage::Instantiate,
        Stage::Describe,
        Stage::Init,
        Stage::SmokeTest,
        Stage::StateHandoff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Verify => "verify",
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
    pub stage: Stage,
    /// The strategy id from the config, or the file name for ad-hoc checks.
    pub strategy: String,
    pub path: PathBuf,
    pub message: String,
    pub hint: Option<String>,
}

impl LoadError {
    pub(crate) fn new(stage: Stage, message: impl Into<String>) -> Self {
        Self {
            stage,
            strategy: String::new(),
            path: PathBuf::new(),
            message: message.into(),
            hint: None,
        }
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
