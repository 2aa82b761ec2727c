//! `runtime new --template python`: a Python strategy directory (the
//! sma-cross-py example, so the template never drifts from it) that
//! `runtime build` recognises by its `[tool.sandbar]`.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Clone)]
pub struct CreatedPython {
    /// The project name (`[project] name`).
    pub name: String,
    /// The directory.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
    /// The `[[strategy]]` snippet (also in `strategy.toml`).
    pub snippet: String,
}

const PYPROJECT: &str = include_str!("../../templates/python/pyproject.toml");
const TESTS: &str = include_str!("../../templates/python/tests/test_strategy.py");
const README: &str = include_str!("../../templates/python/README.md");
const STRATEGY: &str = include_str!("../../../strategies/sma-cross-py/strategy.py");

/// Creates the directory `dir` (missing or empty) as a Python strategy
/// named `name` (default: the directory's name), against the SDK `sdk`.
pub fn create(dir: &Path, name: Option<&str>, sdk: &Path) -> anyhow::Result<CreatedPython> {
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
    let sdk_python = std::path::absolute(sdk.join("python"))
        .with_context(|| format!("cannot resolve {}", sdk.display()))?;
    let fill = |text: &str| {
        text.replace("{{name}}", &name)
            .replace("{{file}}", &file)
            .replace("{{sdk}}", &sdk_python.display().to_string())
    };
    let snippet = format!(
        "[[strategy]]\nid = \"{name}\"\nwasm = \"{file}\"\nlanguage = \"python\"\n[strategy.params]\nfast = 10\nslow = 30\n"
    );
    let strategy = STRATEGY.replace("name = \"sma-cross-py\"", &format!("name = \"{name}\""));
    let files: [(&str, String); 5] = [
        ("pyproject.toml", fill(PYPROJECT)),
        ("strategy.py", strategy),
        ("tests/test_strategy.py", fill(TESTS)),
        ("README.md", fill(README)),
        (
            "strategy.toml",
            format!(
                "# A backtest config for this strategy: runtime backtest --config strategy.toml\n\
                 [runtime]\nstrategies_dir = \"strategies/dist\"\n[feed]\nkind = \"synthetic\"\nsymbols = [\"BTCUSD\"]\n\n{snippet}"
            ),
        ),
    ];
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(CreatedPython {
        name,
        dir: dir.to_owned(),
        files: files.iter().map(|(f, _)| (*f).to_owned()).collect(),
        snippet,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_18_new_python_writes_a_buildable_project_whose_tests_pass() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("my-algo");
        let sdk = super::super::sdk::built_in();
        let created = create(&dir, None, &sdk).unwrap();
        assert_eq!(created.name, "my-algo");
        assert!(super::super::python::is_python(&dir));
        let project = super::super::python::read_project(&dir).unwrap();
        assert_eq!(project.module, "strategy");
        assert!(created.snippet.contains("language = \"python\""));
        let text = std::fs::read_to_string(dir.join("strategy.py")).unwrap();
        assert!(
            text.contains("name = \"my-algo\""),
            "named after the project"
        );
        // Its native tests run with plain python3, no Wasm.
        let out = std::process::Command::new("python3")
            .args(["-m", "unittest", "discover", "-s", "tests"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(create(&dir, None, &sdk).is_err(), "not over a project");
    }
}
