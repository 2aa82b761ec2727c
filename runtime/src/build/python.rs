//! `runtime build` for Python strategies: a directory whose `pyproject.toml`
//! has a `[tool.sandbar]` table. componentize-py (pinned, installed into
//! `target/guest-py` by `scripts/install-python-guest.sh`) bundles CPython,
//! the strategy's modules and the SDK (`guest-sdk/python/sandbar`) into a
//! `sandbar:strategy@0.1.0` component, with every WASI import stubbed
//! (`--stub-wasi`): the component imports `host.log` and nothing else.
//!
//! Reproducible: the inputs are staged in a fixed directory (sorted, every
//! file's mtime set to [`SOURCE_DATE_EPOCH`]) and componentize-py runs with a
//! fixed hash seed and `SOURCE_DATE_EPOCH`, so the same sources and tool
//! version give the same bytes (a test builds twice and compares).

use super::Component;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The componentize-py version the build drives (and the install script pins).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
/// A venv holding componentize-py, instead of `<target>/guest-py`.
pub const TOOLS_ENV: &str = "SANDBAR_PYTHON_TOOLS";
/// The script that installs the tools, relative to the checkout.
pub const INSTALL_SCRIPT: &str = "scripts/install-python-guest.sh";
/// The timestamp staged files get and componentize-py is given: 1980-01-01,
/// the earliest a zip archive can say.
pub const SOURCE_DATE_EPOCH: u64 = 315_532_800;
/// The world the component implements (fully qualified, so another version
/// of the contract in the same WIT folder does not make it ambiguous).
pub const WORLD: &str = "sandbar:strategy/strategy@0.1.0";
/// The generated entry module: it imports the strategy's module and makes
/// its `Strategy` subclass the component's `WitWorld`.
const ENTRY: &str = "sandbar_main";

/// What `[tool.sandbar]` and `[project]` of a Python strategy say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonProject {
    /// The strategy's directory.
    pub dir: PathBuf,
    /// `[project] name`: the component is `<name with - as _>.wasm`.
    pub name: String,
    /// `[tool.sandbar] module`: the module holding the strategy (default `strategy`).
    pub module: String,
    /// `[tool.sandbar] strategy`: the class, when the module has several.
    pub class: Option<String>,
}

/// `dir` is a Python strategy: its `pyproject.toml` has `[tool.sandbar]`.
pub fn is_python(dir: &Path) -> bool {
    read_pyproject(dir).is_ok_and(|doc| tool_sandbar(&doc).is_some())
}

fn read_pyproject(dir: &Path) -> anyhow::Result<toml::Table> {
    let path = dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    text.parse::<toml::Table>()
        .with_context(|| format!("cannot parse {}", path.display()))
}

fn tool_sandbar(doc: &toml::Table) -> Option<&toml::Table> {
    doc.get("tool")?.get("sandbar")?.as_table()
}

/// Reads the project's name, module and class.
pub fn read_project(dir: &Path) -> anyhow::Result<PythonProject> {
    let doc = read_pyproject(dir)?;
    let path = dir.join("pyproject.toml");
    let sandbar = tool_sandbar(&doc)
        .with_context(|| format!("{} has no [tool.sandbar] table", path.display()))?;
    let name = doc
        .get("project")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "{} has no [project] name (the component is named after it)",
                path.display()
            )
        })?;
    let module = match sandbar.get("module") {
        None => "strategy".to_owned(),
        Some(toml::Value::String(m)) => m.clone(),
        Some(other) => bail!(
            "{}: [tool.sandbar] module must be a string (a module name such as \"strategy\"), not {other}",
            path.display()
        ),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !part.is_empty()
                    && !part.starts_with(|c: char| c.is_ascii_digit())
            })
    };
    if !valid(&module) {
        bail!(
            "{}: [tool.sandbar] module = {module:?} is not a Python module name (for strategy.py write module = \"strategy\")",
            path.display()
        );
    }
    let class = sandbar
        .get("strategy")
        .and_then(|c| c.as_str())
        .map(str::to_owned);
    if class
        .as_deref()
        .is_some_and(|c| !valid(c) || c.contains('.'))
    {
        bail!(
            "{}: [tool.sandbar] strategy must be a class name such as \"SmaCross\"",
            path.display()
        );
    }
    Ok(PythonProject {
        dir: dir.to_owned(),
        name,
        module,
        class,
    })
}

/// The checkout this runtime was built from.
pub(super) fn checkout() -> PathBuf {
    super::sdk::built_in()
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default()
}

/// Where the venv with componentize-py is: `$SANDBAR_PYTHON_TOOLS`, else
/// `$CARGO_TARGET_DIR/guest-py`, else `<checkout>/target/guest-py`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(TOOLS_ENV) {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| checkout().join("target"));
    target.join("guest-py")
}

/// The componentize-py executable, or what to run to install it.
pub fn componentize_py() -> anyhow::Result<PathBuf> {
    let dir = tools_dir();
    let exe = dir.join("bin/componentize-py");
    let version = Command::new(&exe)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match version {
        Some(v) if v.ends_with(COMPONENTIZE_PY_VERSION) => Ok(exe),
        Some(v) => bail!(
            "{} is {v}, this runtime drives componentize-py {COMPONENTIZE_PY_VERSION}\n  hint: run `bash {}/{INSTALL_SCRIPT} python` (or point {TOOLS_ENV} at a venv with componentize-py=={COMPONENTIZE_PY_VERSION})",
            exe.display(),
            checkout().display()
        ),
        None => bail!(
            "componentize-py {COMPONENTIZE_PY_VERSION} is not installed (looked for {})\n  hint: run `bash {}/{INSTALL_SCRIPT} python` once (it installs into target/guest-py; offline afterwards), or point {TOOLS_ENV} at a venv with componentize-py=={COMPONENTIZE_PY_VERSION}",
            exe.display(),
            checkout().display()
        ),
    }
}

/// The strategy's own `.py` files, relative to its directory, sorted: every
/// `.py` outside `tests/`, hidden directories, `__pycache__` and `target/`.
pub fn sources(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
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
            let kind = entry.file_type()?;
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(name.as_str(), "tests" | "__pycache__" | "target" | "dist");
                if !skip {
                    stack.push(path);
                }
            } else if name.ends_with(".py") && !name.starts_with("test_") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Checks every source for syntax errors with the venv's own Python (the
/// CPython componentize-py bundles is the same language version or newer),
/// so the error names the author's file and line, not a staged copy.
fn check_syntax(python: &Path, dir: &Path, files: &[PathBuf]) -> anyhow::Result<()> {
    const SCRIPT: &str = r#"
import sys
bad = 0
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            compile(f.read(), path, "exec", dont_inherit=True)
    except SyntaxError as e:
        bad += 1
        col = f":{e.offset}" if e.offset else ""
        print(f"{e.filename}:{e.lineno}{col}: {type(e).__name__}: {e.msg}")
        if e.text:
            print("    " + e.text.rstrip())
sys.exit(1 if bad else 0)
"#;
    let out = Command::new(python)
        .arg("-I")
        .arg("-c")
        .arg(SCRIPT)
        .args(files.iter().map(|f| dir.join(f)))
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "{}\n  hint: fix the syntax error above; nothing was built",
            String::from_utf8_lossy(&out.stdout).trim_end()
        );
    }
    Ok(())
}

pub(super) fn copy_fixed(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    write_fixed(to, &bytes)
}

/// Writes `bytes` with the fixed mtime, so nothing in the bundle depends on
/// when the sources were edited.
pub(super) fn write_fixed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(SOURCE_DATE_EPOCH);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(when))
        .with_context(|| format!("cannot set the time of {}", path.display()))
}

/// The SDK's Python package (`guest-sdk/python/sandbar`), its files sorted.
fn sdk_files(sdk: &Path) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let root = sdk.join("python");
    let package = root.join("sandbar");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&package)
        .with_context(|| {
            format!(
                "the Python SDK is missing ({}); pass --sdk <checkout>/guest-sdk",
                package.display()
            )
        })?
        .filter_map(|e| e.ok())
        .map(|e| PathBuf::from("sandbar").join(e.file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    Ok((root, files))
}

/// Stages the sources, the SDK and the entry module into `stage` (emptied
/// first) with fixed mtimes.
fn stage(
    project: &PythonProject,
    sdk: &Path,
    files: &[PathBuf],
    stage: &Path,
) -> anyhow::Result<()> {
    if stage.exists() {
        std::fs::remove_dir_all(stage)
            .with_context(|| format!("cannot empty {}", stage.display()))?;
    }
    std::fs::create_dir_all(stage).with_context(|| format!("cannot create {}", stage.display()))?;
    for file in files {
        copy_fixed(&project.dir.join(file), &stage.join(file))?;
    }
    let (sdk_root, sdk_files) = sdk_files(sdk)?;
    for file in &sdk_files {
        copy_fixed(&sdk_root.join(file), &stage.join(file))?;
    }
    let class = match &project.class {
        Some(c) => format!("{c:?}"),
        None => "None".to_owned(),
    };
    let entry = format!(
        "# Generated by `runtime build`: the component's exports are the\n\
         # Strategy subclass of `{module}`.\n\
         import sandbar._export as _export\n\
         import {module} as _user\n\n\
         WitWorld = _export.export(_export.find_strategy(_user, {class}))\n",
        module = project.module
    );
    write_fixed(&stage.join(format!("{ENTRY}.py")), entry.as_bytes())
}

/// Builds the Python strategy in `dir` into a sealed component. `sdk` is the
/// guest SDK directory (its `wit/` and `python/`).
pub fn compile(dir: &Path, sdk: &Path, quiet: bool) -> anyhow::Result<Component> {
    let dir =
        std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let project = read_project(&dir)?;
    let exe = componentize_py()?;
    let files = sources(&dir)?;
    let module_file = PathBuf::from(format!("{}.py", project.module.replace('.', "/")));
    if !files.contains(&module_file)
        && !dir
            .join(project.module.replace('.', "/"))
            .join("__init__.py")
            .is_file()
    {
        bail!(
            "{}: [tool.sandbar] module = {:?}, but there is no {}.py\n  hint: set module to the file that defines your Strategy subclass",
            dir.join("pyproject.toml").display(),
            project.module,
            project.module.replace('.', "/")
        );
    }
    let python = exe.with_file_name("python");
    check_syntax(&python, &dir, &files)?;
    let staged = tools_dir().join("stage").join(&project.name);
    let app = staged.join("app");
    stage(&project, sdk, &files, &app)?;
    let out = staged.join("component.wasm");
    let _ = std::fs::remove_file(&out);
    tracing::debug!(strategy = %project.name, "componentize-py {COMPONENTIZE_PY_VERSION}");
    let mut cmd = Command::new(&exe);
    cmd.current_dir(&staged)
        .arg("-d")
        .arg(sdk.join("wit"))
        .arg("-w")
        .arg(WORLD)
        .arg("componentize")
        .arg("--stub-wasi")
        .arg("-p")
        .arg("app")
        .arg(ENTRY)
        .arg("-o")
        .arg(&out)
        .env("PYTHONHASHSEED", "0")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONSTARTUP");
    if !quiet {
        eprintln!(
            "building {} with componentize-py {COMPONENTIZE_PY_VERSION} (WASI stubbed)",
            project.name
        );
    }
    let output = cmd
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    if !output.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // The staged copies are the author's files: name those.
        let text = text
            .replace(
                &format!("{}/", app.display()),
                &format!("{}/", dir.display()),
            )
            .replace("app/", &format!("{}/", dir.display()));
        bail!(
            "componentize-py could not build {}{}:\n{}\n  hint: {}",
            project.name,
            first_location(&text)
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            text.trim_end(),
            "an import or the module's top level failed while the component was made (it runs once at build time); fix it and build again"
        );
    }
    let component =
        std::fs::read(&out).with_context(|| format!("cannot read {}", out.display()))?;
    let bytes = crate::seal::seal(&component)
        .with_context(|| format!("sealing {}", project.name))?
        .into_owned();
    Ok(Component {
        package: project.name.clone(),
        file_name: format!("{}.wasm", project.name.replace('-', "_")),
        bytes,
    })
}

/// The innermost `File "x.py", line N` of a Python traceback, as `x.py:N`.
fn first_location(text: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let rest = line.trim_start().strip_prefix("File \"")?;
        let (file, rest) = rest.split_once('"')?;
        let line_no: String = rest
            .trim_start_matches(", line ")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (!line_no.is_empty() && !file.contains("componentize") && !file.starts_with('<'))
            .then(|| format!("{file}:{line_no}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_18_a_traceback_names_the_innermost_user_frame() {
        let text = "Traceback (most recent call last):\n  File \"/x/sandbar_main.py\", line 4, in <module>\n  File \"/src/strategy.py\", line 12, in <module>\nNameError: name 'nope' is not defined";
        assert_eq!(first_location(text).as_deref(), Some("/src/strategy.py:12"));
        assert_eq!(first_location("no traceback"), None);
    }

    #[test]
    fn issue_18_the_marker_is_tool_sandbar_in_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n",
        )
        .unwrap();
        assert!(!is_python(dir.path()));
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x-py\"\n[tool.sandbar]\nmodule = \"algo\"\n",
        )
        .unwrap();
        assert!(is_python(dir.path()));
        let p = read_project(dir.path()).unwrap();
        assert_eq!((p.name.as_str(), p.module.as_str()), ("x-py", "algo"));
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n[tool.sandbar]\nmodule = \"a-b\"\n",
        )
        .unwrap();
        let error = read_project(dir.path()).unwrap_err().to_string();
        assert!(error.contains("not a Python module name"), "{error}");
    }

    /// What the build controls is reproducible: the same sources stage to
    /// the same files with the same times, wherever and whenever they were
    /// edited. (componentize-py's own output is not yet: see BENCHMARKS.md.)
    #[test]
    fn issue_18_the_staged_build_inputs_are_reproducible() {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(
            src.path().join("pyproject.toml"),
            "[project]\nname = \"r\"\n[tool.sandbar]\n",
        )
        .unwrap();
        std::fs::write(src.path().join("strategy.py"), "x = 1\n").unwrap();
        std::fs::write(src.path().join("util.py"), "y = 2\n").unwrap();
        let project = read_project(src.path()).unwrap();
        let files = sources(src.path()).unwrap();
        let sdk = super::super::sdk::built_in();
        let out = tempfile::tempdir().unwrap();
        let snapshot = |dir: &Path| crate::build::staged_files(dir);
        stage(&project, &sdk, &files, &out.path().join("a")).unwrap();
        // Touch a source: its time must not reach the stage.
        std::fs::write(src.path().join("util.py"), "y = 2\n").unwrap();
        stage(&project, &sdk, &files, &out.path().join("b")).unwrap();
        let (a, b) = (
            snapshot(&out.path().join("a")),
            snapshot(&out.path().join("b")),
        );
        assert_eq!(a, b);
        let epoch = std::time::UNIX_EPOCH + std::time::Duration::from_secs(SOURCE_DATE_EPOCH);
        assert!(a.iter().all(|(_, _, t)| *t == epoch));
        assert!(
            a.iter()
                .any(|(p, _, _)| p == Path::new("sandbar/snapshot.py"))
        );
        assert!(a.iter().any(|(p, _, _)| p == Path::new("sandbar_main.py")));
    }

    #[test]
    fn issue_18_sources_are_sorted_and_skip_tests() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "b.py",
            "a.py",
            "tests/test_a.py",
            "pkg/c.py",
            "test_x.py",
            "notes.txt",
        ] {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let got = sources(dir.path()).unwrap();
        let want: Vec<PathBuf> = ["a.py", "b.py", "pkg/c.py"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }
}
