//! What `runtime new --template python` and `--template js` share: the
//! project's name, the empty directory, the `[[strategy]]` snippet and its
//! `strategy.toml`, and writing the files.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Clone)]
pub struct CreatedGuest {
    /// The project name.
    pub name: String,
    /// The directory.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
    /// The `[[strategy]]` snippet (also in `strategy.toml`).
    pub snippet: String,
}

/// A new project of `language` in `dir` (missing or empty), named `name`
/// or after the directory: its name, the component's file name and the
/// `[[strategy]]` snippet.
pub struct Scaffold {
    /// The project name (also the strategy's `id` in the snippet).
    pub name: String,
    /// The component's file name in `strategies/dist`.
    pub file: String,
    /// The `[[strategy]]` snippet.
    pub snippet: String,
}

impl Scaffold {
    /// Checks the name and that `dir` is missing or empty.
    pub fn new(dir: &Path, name: Option<&str>, language: &str) -> anyhow::Result<Self> {
        let name = match name {
            Some(n) => n.to_owned(),
            None => dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .context("name the strategy with --name")?,
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            bail!(
                "`{name}` is not a usable name: use lowercase letters, digits, '-' and '_' (or pass --name)"
            );
        }
        if dir.exists()
            && std::fs::read_dir(dir)
                .with_context(|| format!("cannot list {}", dir.display()))?
                .next()
                .is_some()
        {
            bail!(
                "{} is not empty; runtime new writes into a missing or empty directory",
                dir.display()
            );
        }
        let file = format!("{}.wasm", name.replace('-', "_"));
        let snippet = format!(
            "[[strategy]]\nid = \"{name}\"\nwasm = \"{file}\"\nlanguage = \"{language}\"\n[strategy.params]\nfast = 10\nslow = 30\n"
        );
        Ok(Self {
            name,
            file,
            snippet,
        })
    }

    /// Writes `files` (relative path, text) and `strategy.toml` into `dir`.
    pub fn write(self, dir: &Path, mut files: Vec<(&str, String)>) -> anyhow::Result<CreatedGuest> {
        files.push((
            "strategy.toml",
            format!(
                "# A backtest config for this strategy: runtime backtest --config strategy.toml\n\
                 [runtime]\nstrategies_dir = \"strategies/dist\"\n[feed]\nkind = \"synthetic\"\nsymbols = [\"BTCUSD\"]\n\n{}",
                self.snippet
            ),
        ));
        for (rel, text) in &files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(CreatedGuest {
            name: self.name,
            dir: dir.to_owned(),
            files: files.iter().map(|(f, _)| (*f).to_owned()).collect(),
            snippet: self.snippet,
        })
    }
}
