//! `runtime new --template js`: a JavaScript strategy directory (the
//! sma-cross-js example, so the template never drifts from it) that
//! `runtime build` recognises by the `"sandbar"` key of its `package.json`.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Clone)]
pub struct CreatedJs {
    /// The project name (`package.json` `name`).
    pub name: String,
    /// The directory.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
    /// The `[[strategy]]` snippet (also in `strategy.toml`).
    pub snippet: String,
}

const PACKAGE: &str = include_str!("../../templates/js/package.json");
const TESTS: &str = include_str!("../../templates/js/tests/strategy.test.js");
const README: &str = include_str!("../../templates/js/README.md");
const STRATEGY: &str = include_str!("../../../strategies/sma-cross-js/strategy.js");

/// Creates the directory `dir` (missing or empty) as a JavaScript strategy
/// named `name` (default: the directory's name), against the SDK `sdk`.
pub fn create(dir: &Path, name: Option<&str>, sdk: &Path) -> anyhow::Result<CreatedJs> {
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
    let sdk_js = std::path::absolute(sdk.join("js"))
        .with_context(|| format!("cannot resolve {}", sdk.display()))?;
    // The path goes into package.json's test script: JSON-escape it.
    let sdk_json =
        serde_json::to_string(&sdk_js.display().to_string()).context("the SDK path as JSON")?;
    let sdk_json = &sdk_json[1..sdk_json.len() - 1];
    let fill = |text: &str, sdk: &str| {
        text.replace("{{name}}", &name)
            .replace("{{file}}", &file)
            .replace("{{sdk}}", sdk)
    };
    let snippet = format!(
        "[[strategy]]\nid = \"{name}\"\nwasm = \"{file}\"\nlanguage = \"js\"\n[strategy.params]\nfast = 10\nslow = 30\n"
    );
    let strategy = STRATEGY.replace(
        "static name = \"sma-cross-js\";",
        &format!("static name = {name:?};"),
    );
    let files: [(&str, String); 5] = [
        ("package.json", fill(PACKAGE, sdk_json)),
        ("strategy.js", strategy),
        ("tests/strategy.test.js", TESTS.to_owned()),
        ("README.md", fill(README, &sdk_js.display().to_string())),
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
    Ok(CreatedJs {
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
    fn issue_18_new_js_writes_a_buildable_project_whose_tests_pass() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("my-algo");
        let sdk = super::super::sdk::built_in();
        let created = create(&dir, None, &sdk).unwrap();
        assert_eq!(created.name, "my-algo");
        assert!(super::super::js::is_js(&dir));
        let project = super::super::js::read_project(&dir).unwrap();
        assert_eq!(project.module, "strategy.js");
        assert!(created.snippet.contains("language = \"js\""));
        let text = std::fs::read_to_string(dir.join("strategy.js")).unwrap();
        assert!(
            text.contains("static name = \"my-algo\";"),
            "named after the project"
        );
        // Its native tests run with plain node (its own `npm test` line).
        let package: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).unwrap())
                .unwrap();
        let script = package["scripts"]["test"].as_str().unwrap();
        let args: Vec<&str> = script.split_whitespace().collect();
        assert_eq!(args[0], "node");
        let out = std::process::Command::new("node")
            .args(&args[1..])
            .current_dir(&dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("# pass 2"), "{text}");
        assert!(create(&dir, None, &sdk).is_err(), "not over a project");
    }
}
