//! The one error a config can get: where (file, line, column, key), what,
//! and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// A config file was refused. Displays as `<path>:<line>:<col>: <message>`
/// (or `<path>: <message>` when there is no position), then
/// `\n  hint: <hint>` when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file (as given to [`super::Config::parse`] or `from_file`).
    pub path: PathBuf,
    /// 1-based line of the offending key or text, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) on that line, when known.
    pub column: Option<usize>,
    /// The offending key as a dotted path, arrays indexed from 0:
    /// `hot_reload.debounce_ms`, `strategy[1].sha256`.
    pub key: Option<String>,
    /// What is wrong, in one sentence (the path and position are added by
    /// [`Display`](fmt::Display)).
    pub message: String,
    /// How to fix it, naming the setting or value to use, when there is
    /// something better to say than the message.
    pub hint: Option<String>,
}

impl ConfigError {
    pub(crate) fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn at(mut self, position: Option<(usize, usize)>) -> Self {
        if let Some((line, column)) = position {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn maybe_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_position_then_hint() {
        let e = ConfigError::new("a.toml", "bad")
            .at(Some((3, 7)))
            .hint("fix it");
        assert_eq!(e.to_string(), "a.toml:3:7: bad\n  hint: fix it");
        assert_eq!(ConfigError::new("a.toml", "bad").to_string(), "a.toml: bad");
    }
}
