//! `runtime new --template js`: a JavaScript strategy directory (the
//! sma-cross-js example, so the template never drifts from it) that
//! `runtime build` recognises by the `"sandbar"` key of its `package.json`.

use super::new_guest::{CreatedGuest, Scaffold};
use anyhow::Context;
use std::path::Path;

const PACKAGE: &str = include_str!("../../templates/js/package.json");
const TESTS: &str = include_str!("../../templates/js/tests/strategy.test.js");
const README: &str = include_str!("../../templates/js/README.md");
const STRATEGY: &str = include_str!("../../../strategies/sma-cross-js/strategy.js");

/// Creates the directory `dir` (missing or empty) as a JavaScript strategy
/// named `name` (default: the directory's name), against the SDK `sdk`.
pub fn create(dir: &Path, name: Option<&str>, sdk: &Path) -> anyhow::Result<CreatedGuest> {
    let scaffold = Scaffold::new(dir, name, "js")?;
    let (name, file) = (scaffold.name.clone(), scaffold.file.clone());
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
    let strategy = STRATEGY.replace(
        "static name = \"sma-cross-js\";",
        &format!("static name = {name:?};"),
    );
    let files = vec![
        ("package.json", fill(PACKAGE, sdk_json)),
        ("strategy.js", strategy),
        ("tests/strategy.test.js", TESTS.to_owned()),
        ("README.md", fill(README, &sdk_js.display().to_string())),
    ];
    scaffold.write(dir, files)
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
