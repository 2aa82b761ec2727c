//! The tools that make a JavaScript strategy a component: node (from the
//! system) running componentize-js (pinned, installed into
//! `target/guest-js` by `scripts/install-python-guest.sh js`).

use super::JsBuildError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The componentize-js version the build drives (and the install script pins).
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
/// The jco version installed beside it: componentize-js calls jco's
/// `componentNew` to wrap the engine (the build never runs the `jco` CLI,
/// whose `componentize` cannot read a WIT path in 1.35.0; see js/mod.rs).
pub const JCO_VERSION: &str = "1.35.0";
/// A directory holding `node_modules/` with those two, instead of
/// `<target>/guest-js`.
pub const TOOLS_ENV: &str = "SANDBAR_JS_TOOLS";
/// The script that installs the tools, relative to the checkout.
pub const INSTALL_SCRIPT: &str = "scripts/install-python-guest.sh";
/// The node executable, instead of `node` on the PATH.
pub const NODE_ENV: &str = "SANDBAR_NODE";
/// The oldest node major version the driver and componentize-js run on.
const NODE_MAJOR_MIN: u32 = 18;

/// Where the tools are: `$SANDBAR_JS_TOOLS`, else `$CARGO_TARGET_DIR/guest-js`,
/// else `<checkout>/target/guest-js`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(TOOLS_ENV) {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::super::python::checkout().join("target"));
    target.join("guest-js")
}

fn installed_version(dir: &Path, package: &str) -> Option<String> {
    let manifest = dir.join("node_modules").join(package).join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc.get("version")?.as_str().map(str::to_owned)
}

fn install_hint() -> String {
    format!(
        "run `bash {}/{INSTALL_SCRIPT} js` once (it installs componentize-js {COMPONENTIZE_JS_VERSION} and jco {JCO_VERSION} into target/guest-js with npm; offline afterwards), or point {TOOLS_ENV} at a directory where they are installed",
        super::super::python::checkout().display()
    )
}

/// The tools directory, checked: componentize-js and jco at their pinned
/// versions.
pub fn check_tools() -> Result<PathBuf, JsBuildError> {
    let dir = tools_dir();
    for (package, want) in [
        ("@bytecodealliance/componentize-js", COMPONENTIZE_JS_VERSION),
        ("@bytecodealliance/jco", JCO_VERSION),
    ] {
        match installed_version(&dir, package) {
            Some(v) if v == want => {}
            found => {
                return Err(JsBuildError::Tools {
                    message: match found {
                        Some(v) => format!(
                            "{} has {package} {v}; this runtime drives {want}",
                            dir.display()
                        ),
                        None => format!(
                            "{package} {want} is not installed (looked in {})",
                            dir.join("node_modules").display()
                        ),
                    },
                    hint: install_hint(),
                });
            }
        }
    }
    Ok(dir)
}

/// The node to run: `$SANDBAR_NODE`, else `node` on the PATH, checked to be
/// recent enough.
pub fn node() -> Result<PathBuf, JsBuildError> {
    let exe = std::env::var_os(NODE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"));
    let version = Command::new(&exe)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(version) = version else {
        return Err(JsBuildError::Tools {
            message: format!("cannot run {} --version", exe.display()),
            hint: format!(
                "install node {NODE_MAJOR_MIN} or newer (apt-get install -y nodejs npm), or point {NODE_ENV} at a node executable"
            ),
        });
    };
    let major: Option<u32> = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    match major {
        Some(m) if m >= NODE_MAJOR_MIN => Ok(exe),
        _ => Err(JsBuildError::Tools {
            message: format!("{} is node {version}", exe.display()),
            hint: format!(
                "componentize-js needs node {NODE_MAJOR_MIN} or newer; install one, or point {NODE_ENV} at it"
            ),
        }),
    }
}
