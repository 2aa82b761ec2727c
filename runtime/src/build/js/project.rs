//! What a JavaScript strategy's `package.json` says, and which files are
//! its sources.
//!
//! The marker is a `"sandbar"` object in `package.json`:
//!
//! ```json
//! { "name": "sma-cross-js", "type": "module",
//!   "sandbar": { "module": "strategy.js", "strategy": "SmaCross" } }
//! ```
//!
//! `module` (default `strategy.js`) is the file exporting the `Strategy`
//! subclass; `strategy` names the class when the module exports several.

use super::JsBuildError;
use std::path::{Path, PathBuf};

/// What `package.json` of a JavaScript strategy says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsProject {
    /// The strategy's directory.
    pub dir: PathBuf,
    /// `name`: the component is `<name with - as _>.wasm`.
    pub name: String,
    /// `sandbar.module`: the file holding the strategy, relative to `dir`.
    pub module: String,
    /// `sandbar.strategy`: the exported class, when the module has several.
    pub class: Option<String>,
}

fn read_package(dir: &Path) -> Result<serde_json::Value, JsBuildError> {
    let path = dir.join("package.json");
    let text = std::fs::read_to_string(&path).map_err(|e| JsBuildError::Project {
        path: path.clone(),
        message: format!("cannot read it: {e}"),
    })?;
    serde_json::from_str(&text).map_err(|e| JsBuildError::Project {
        path,
        message: format!("is not valid JSON: {e}"),
    })
}

/// `dir` is a JavaScript strategy: its `package.json` has a `"sandbar"` key.
pub fn is_js(dir: &Path) -> bool {
    read_package(dir).is_ok_and(|doc| doc.get("sandbar").is_some())
}

fn module_name_ok(module: &str) -> bool {
    let path = Path::new(module);
    (module.ends_with(".js") || module.ends_with(".mjs"))
        && path.is_relative()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        && !module.starts_with("sandbar/")
        && !module.contains('\\')
}

fn identifier_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Reads the project's name, module and class.
pub fn read_project(dir: &Path) -> Result<JsProject, JsBuildError> {
    let doc = read_package(dir)?;
    let path = dir.join("package.json");
    let bad = |message: String| JsBuildError::Project {
        path: path.clone(),
        message,
    };
    let sandbar = doc.get("sandbar").ok_or_else(|| {
        bad("has no \"sandbar\" key (add \"sandbar\": {\"module\": \"strategy.js\"} to mark it a Sandbar strategy)".into())
    })?;
    let sandbar = sandbar.as_object().ok_or_else(|| {
        bad(format!(
            "\"sandbar\" must be an object such as {{\"module\": \"strategy.js\"}}, not {sandbar}"
        ))
    })?;
    let name = doc
        .get("name")
        .and_then(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("has no \"name\" (the component is named after it)".into()))?
        .to_owned();
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(bad(format!(
            "\"name\": {name:?} is not usable: use lowercase letters, digits, '-' and '_'"
        )));
    }
    let module = match sandbar.get("module") {
        None => "strategy.js".to_owned(),
        Some(serde_json::Value::String(m)) => m.clone(),
        Some(other) => {
            return Err(bad(format!(
                "\"sandbar\".\"module\" must be a file name such as \"strategy.js\", not {other}"
            )));
        }
    };
    if !module_name_ok(&module) {
        return Err(bad(format!(
            "\"sandbar\".\"module\": {module:?} is not a module file of the strategy (a relative path ending in .js or .mjs, such as \"strategy.js\")"
        )));
    }
    let class = match sandbar.get("strategy") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(c)) if identifier_ok(c) => Some(c.clone()),
        Some(other) => {
            return Err(bad(format!(
                "\"sandbar\".\"strategy\" must be the exported class's name, such as \"SmaCross\", not {other}"
            )));
        }
    };
    Ok(JsProject {
        dir: dir.to_owned(),
        name,
        module,
        class,
    })
}

/// The strategy's own modules, relative to its directory, sorted: every
/// `.js`/`.mjs` outside `tests/`, `node_modules/`, hidden directories,
/// `target/` and `dist/`, and not a `*.test.js`.
pub fn sources(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        let entries =
            std::fs::read_dir(&here).with_context(|| format!("cannot list {}", here.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", here.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = rel.join(&name);
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot read {}", here.join(&name).display()))?;
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(
                        name.as_str(),
                        "tests" | "test" | "node_modules" | "target" | "dist"
                    );
                if !skip {
                    stack.push(path);
                }
            } else if (name.ends_with(".js") || name.ends_with(".mjs"))
                && !name.ends_with(".test.js")
                && !name.ends_with(".test.mjs")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_18_the_marker_is_a_sandbar_key_in_package_json() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("package.json"), text).unwrap();
        write(r#"{"name": "x"}"#);
        assert!(!is_js(dir.path()));
        write(r#"{"name": "x-js", "sandbar": {"module": "algo.js", "strategy": "Algo"}}"#);
        assert!(is_js(dir.path()));
        let p = read_project(dir.path()).unwrap();
        assert_eq!(
            (p.name.as_str(), p.module.as_str(), p.class.as_deref()),
            ("x-js", "algo.js", Some("Algo"))
        );
        write(r#"{"name": "x", "sandbar": {}}"#);
        assert_eq!(read_project(dir.path()).unwrap().module, "strategy.js");
        for (text, words) in [
            (
                r#"{"name": "x", "sandbar": {"module": "../a.js"}}"#,
                "not a module file",
            ),
            (
                r#"{"name": "x", "sandbar": {"module": "a.ts"}}"#,
                "not a module file",
            ),
            (r#"{"name": "x", "sandbar": true}"#, "must be an object"),
            (r#"{"sandbar": {}}"#, "has no \"name\""),
            (r#"{"name": "X Y", "sandbar": {}}"#, "is not usable"),
            (
                r#"{"name": "x", "sandbar": {"strategy": "a-b"}}"#,
                "exported class's name",
            ),
            ("{not json", "not valid JSON"),
        ] {
            write(text);
            let error = read_project(dir.path()).unwrap_err().to_string();
            assert!(error.contains(words), "{text}: {error}");
        }
    }

    #[test]
    fn issue_18_js_sources_are_sorted_and_skip_tests_and_packages() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "b.js",
            "a.mjs",
            "tests/strategy.test.js",
            "lib/c.js",
            "x.test.js",
            "node_modules/sandbar/index.js",
            ".hidden/h.js",
            "notes.md",
        ] {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let got = sources(dir.path()).unwrap();
        let want: Vec<PathBuf> = ["a.mjs", "b.js", "lib/c.js"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }
}
