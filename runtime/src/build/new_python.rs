//! `runtime new --template python`: a Python strategy directory (the
//! sma-cross-py example, so the template never drifts from it) that
//! `runtime build` recognises by its `[tool.sandbar]`.

use super::new_guest::{CreatedGuest, Scaffold};
use anyhow::Context;
use std::path::Path;

const PYPROJECT: &str = include_str!("../../templates/python/pyproject.toml");
const TESTS: &str = include_str!("../../templates/python/tests/test_strategy.py");
const README: &str = include_str!("../../templates/python/README.md");
const STRATEGY: &str = include_str!("../../../strategies/sma-cross-py/strategy.py");

/// Creates the directory `dir` (missing or empty) as a Python strategy
/// named `name` (default: the directory's name), against the SDK `sdk`.
pub fn create(dir: &Path, name: Option<&str>, sdk: &Path) -> anyhow::Result<CreatedGuest> {
    let scaffold = Scaffold::new(dir, name, "python")?;
    let (name, file) = (scaffold.name.clone(), scaffold.file.clone());
    let sdk_python = std::path::absolute(sdk.join("python"))
        .with_context(|| format!("cannot resolve {}", sdk.display()))?;
    let fill = |text: &str| {
        text.replace("{{name}}", &name)
            .replace("{{file}}", &file)
            .replace("{{sdk}}", &sdk_python.display().to_string())
    };
    let strategy = STRATEGY.replace("name = \"sma-cross-py\"", &format!("name = \"{name}\""));
    let files = vec![
        ("pyproject.toml", fill(PYPROJECT)),
        ("strategy.py", strategy),
        ("tests/test_strategy.py", fill(TESTS)),
        ("README.md", fill(README)),
    ];
    scaffold.write(dir, files)
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
