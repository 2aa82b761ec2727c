//! `runtime new`: a standalone strategy crate anywhere on disk, with a
//! workspace of its own, the guest profile `runtime build` uses, the SDK as
//! a path dependency, native tests that pass, a README and a `[[strategy]]`
//! snippet for the config.

use super::sdk::{self, SdkWorkspace};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// A crate template: the files it writes, with `{{name}}`, `{{type}}` and
/// `{{crate}}` placeholders.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// `--template` value.
    pub name: &'static str,
    /// One line for `--help` and errors.
    pub summary: &'static str,
    lib_rs: &'static str,
    tests_rs: &'static str,
    readme: &'static str,
    /// The `[strategy.params]` lines of the config snippet (the defaults).
    params_toml: &'static str,
    /// Replaced by `{{type}}` in a copied example.
    example_type: Option<&'static str>,
    /// Replaced by `{{crate}}` in a copied example (its doc tests `use` it).
    example_crate: Option<&'static str>,
}

/// Every template `runtime new --template` accepts.
pub const TEMPLATES: [Template; 2] = [
    Template {
        name: "empty",
        summary: "a strategy that describes itself, takes one parameter and places no orders",
        lib_rs: include_str!("../../templates/empty/src/lib.rs"),
        tests_rs: include_str!("../../templates/empty/src/tests.rs"),
        readme: include_str!("../../templates/empty/README.md"),
        params_toml: "period = 20\n",
        example_type: None,
        example_crate: None,
    },
    // The example itself, so the template never drifts from it.
    Template {
        name: "sma-cross",
        summary: "the sma-cross example: long while the fast SMA is above the slow one",
        lib_rs: include_str!("../../../strategies/sma-cross/src/lib.rs"),
        tests_rs: include_str!("../../../strategies/sma-cross/src/tests.rs"),
        readme: include_str!("../../../strategies/sma-cross/README.md"),
        params_toml: "fast = 10\nslow = 30\n",
        example_type: None,
        example_crate: Some("sma_cross"),
    },
];

/// The template named `name`.
pub fn template(name: &str) -> anyhow::Result<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name).with_context(|| {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        format!(
            "no template `{name}`; the templates are: {}",
            names.join(", ")
        )
    })
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewOptions {
    /// The crate directory: missing or empty.
    pub dir: PathBuf,
    /// A `TEMPLATES` name.
    pub template: String,
    /// The package name; the directory's name when `None`.
    pub name: Option<String>,
    /// The SDK directory; [`sdk::locate`]'s default when `None`.
    pub sdk: Option<PathBuf>,
}

/// What [`create`] wrote.
#[derive(Debug, Clone)]
pub struct Created {
    /// The crate directory, absolute.
    pub dir: PathBuf,
    /// The package name.
    pub package: String,
    /// The SDK the crate depends on.
    pub sdk: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<&'static str>,
    /// The `[[strategy]]` snippet (also written as `strategy.toml`).
    pub snippet: String,
}

/// Writes a new strategy crate; refuses a directory that has anything in it.
pub fn create(options: &NewOptions) -> anyhow::Result<Created> {
    let template = template(&options.template)?;
    let dir = std::path::absolute(&options.dir)
        .with_context(|| format!("cannot resolve {}", options.dir.display()))?;
    if let Ok(mut entries) = std::fs::read_dir(&dir)
        && entries.next().is_some()
    {
        bail!(
            "{} is not empty; `runtime new` only writes into a new or empty directory",
            dir.display()
        );
    }
    let package = match &options.name {
        Some(name) => name.clone(),
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .context("name the crate with --name (the directory has no name)")?,
    };
    check_package_name(&package)?;
    let sdk_dir = sdk::locate(options.sdk.as_deref())?;
    let sdk_workspace = SdkWorkspace::of(&sdk_dir)?;

    // Inside a workspace whose `members` take the new directory (the
    // checkout's strategies/), the crate is one more member like the
    // examples: a `[workspace]` of its own would break that workspace.
    let enclosing = enclosing_workspace(&dir);
    let crate_ident = package.replace('-', "_");
    let type_name = type_name(&package);
    let fill = |text: &str| {
        let mut text = text.to_owned();
        if let Some(example) = template.example_crate {
            text = text.replace(&format!("{example}::"), &format!("{crate_ident}::"));
        }
        if let Some(example) = template.example_type {
            text = text.replace(example, &type_name);
        }
        text.replace("{{name}}", &package)
            .replace("{{type}}", &type_name)
            .replace("{{crate}}", &crate_ident)
    };
    let snippet = snippet(&package, template);
    let files: Vec<(&'static str, String)> = vec![
        (
            "Cargo.toml",
            match &enclosing {
                Some(_) => member_manifest(&package),
                None => manifest(&package, &sdk_dir, &sdk_workspace)?,
            },
        ),
        ("src/lib.rs", fill(template.lib_rs)),
        ("src/tests.rs", fill(template.tests_rs)),
        (
            "README.md",
            readme(&package, template, &fill(template.readme)),
        ),
        ("strategy.toml", snippet.clone()),
        (".gitignore", "/target\n".to_owned()),
    ];
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.join("src").display()))?;
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(name);
    }
    // The versions the SDK is tested with; also lets `cargo test` resolve
    // without a registry index update.
    if let Some(lock) = sdk_workspace.lockfile().filter(|_| enclosing.is_none()) {
        let path = dir.join("Cargo.lock");
        std::fs::write(&path, lock).with_context(|| format!("cannot write {}", path.display()))?;
        written.push("Cargo.lock");
    }
    Ok(Created {
        dir,
        package,
        sdk: sdk_dir,
        files: written,
        snippet,
    })
}

/// The workspace above `dir` whose `members` globs take `dir`, if any.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let parent = dir.parent()?;
    let root = super::find_workspace(parent)?;
    let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = text.parse().ok()?;
    let members = manifest.get("workspace")?.get("members")?.as_array()?;
    // `dir` may not exist yet: compare it below the canonical parent.
    let real = std::fs::canonicalize(parent).ok()?.join(dir.file_name()?);
    let relative = real.strip_prefix(&root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    members
        .iter()
        .filter_map(|m| m.as_str())
        .any(|pattern| glob_matches(pattern, &parts))
        .then_some(root)
}

/// `strategies/*` against path components: `*` is one whole component,
/// anything else must be equal (the globs cargo workspaces use in practice).
fn glob_matches(pattern: &str, parts: &[String]) -> bool {
    let pattern: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    pattern.len() == parts.len()
        && pattern
            .iter()
            .zip(parts)
            .all(|(p, part)| *p == "*" || p == part)
}

/// A member of the enclosing workspace, written as the examples are.
fn member_manifest(package: &str) -> String {
    format!(
        r#"[package]
name = "{package}"
publish = false
edition.workspace = true
rust-version.workspace = true
license.workspace = true
version.workspace = true

[lib]
# cdylib: the Wasm component `runtime build` makes; rlib: native `cargo test`.
crate-type = ["cdylib", "rlib"]

[dependencies]
sandbar-guest.workspace = true
serde.workspace = true
"#
    )
}

/// Cargo's rule for package names, kept simple: ASCII letters, digits, `-`
/// and `_`, starting with a letter.
fn check_package_name(name: &str) -> anyhow::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        bail!(
            "`{name}` is not a usable crate name (letters, digits, - and _, starting with a letter); pass --name"
        );
    }
    Ok(())
}

/// `my-strategy` → `MyStrategy`.
fn type_name(package: &str) -> String {
    package
        .split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn manifest(package: &str, sdk_dir: &Path, sdk: &SdkWorkspace) -> anyhow::Result<String> {
    let inherited = |key: &str, fallback: &str| {
        sdk.table(&["workspace", "package"])
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or(fallback)
            .to_owned()
    };
    let edition = inherited("edition", "2024");
    let rust_version = inherited("rust-version", "1.95");
    let guest = sdk.table(&["profile", "guest"]).with_context(|| {
        format!(
            "{} has no [profile.guest] to copy",
            sdk.root.join("Cargo.toml").display()
        )
    })?;
    let mut profile = toml::Table::new();
    let mut profiles = toml::Table::new();
    profiles.insert("guest".into(), guest.clone().into());
    profile.insert("profile".into(), profiles.into());
    let profile = toml::to_string(&profile).context("cannot write [profile.guest]")?;
    let lints = match sdk.table(&["workspace", "lints"]) {
        Some(lints) => {
            let mut table = toml::Table::new();
            table.insert("lints".into(), lints.clone().into());
            format!(
                "\n# The Sandbar checkout's lints.\n{}",
                toml::to_string(&table).context("cannot write [lints]")?
            )
        }
        None => String::new(),
    };
    let sdk_path = toml::Value::from(sdk_dir.display().to_string());
    Ok(format!(
        r#"[package]
name = "{package}"
version = "0.1.0"
edition = "{edition}"
rust-version = "{rust_version}"
publish = false

[lib]
# cdylib: the Wasm component `runtime build` makes; rlib: native `cargo test`.
crate-type = ["cdylib", "rlib"]

[dependencies]
# The Sandbar guest SDK, by path: it is not published on crates.io or as a
# git dependency yet. Point it at another checkout's guest-sdk if you move.
sandbar-guest = {{ path = {sdk_path} }}
serde = {{ version = "1", features = ["derive"] }}

# A workspace of its own, so this crate builds wherever it sits on disk.
[workspace]

# Used by `runtime build` (copied from the Sandbar checkout's Cargo.toml).
{profile}{lints}"#
    ))
}

fn snippet(package: &str, template: &Template) -> String {
    format!(
        r#"# Add to your Sandbar config (e.g. config/dev.toml). Build the component into
# that config's `runtime.strategies_dir` (`runtime build <crate> --out <dir>`);
# in prod, `runtime pin` sets sha256.
[[strategy]]
id = "{package}"
wasm = "{file}.wasm"
symbols = ["BTCUSD"]

[strategy.params]
{params}"#,
        file = package.replace('-', "_"),
        params = template.params_toml,
    )
}

fn readme(package: &str, template: &Template, body: &str) -> String {
    format!(
        r#"{body}
## Working on {package}

Started with `runtime new --template {tname}`.

```sh
cargo test                                   # native unit tests, no Wasm
runtime build .                              # component in ./strategies/dist (checked first)
runtime check strategies/dist/{file}.wasm    # the load pipeline's full report
runtime backtest --config <config.toml> --data <bars.csv>
```

`strategy.toml` is the `[[strategy]]` entry to paste into a config.
"#,
        tname = template.name,
        file = package.replace('-', "_"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("my-strategy"), "MyStrategy");
        assert_eq!(type_name("bollinger_rev2"), "BollingerRev2");
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(check_package_name("9lives").is_err());
        assert!(check_package_name("a b").is_err());
        assert!(check_package_name("ok-name_2").is_ok());
    }

    #[test]
    fn regression_14_1_new_inside_a_workspace_is_a_member_not_a_second_root() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"strategies/*\"]\n",
        )
        .unwrap();
        std::fs::create_dir(tmp.path().join("strategies")).unwrap();
        let inside = create(&NewOptions {
            dir: tmp.path().join("strategies/boll"),
            template: "empty".into(),
            name: None,
            sdk: None,
        })
        .unwrap();
        let manifest = std::fs::read_to_string(inside.dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("sandbar-guest.workspace = true"),
            "{manifest}"
        );
        assert!(!manifest.contains("[workspace]"), "{manifest}");
        assert!(!inside.files.contains(&"Cargo.lock"));

        // Next to the workspace's members, not one of them: standalone.
        let outside = create(&NewOptions {
            dir: tmp.path().join("scratch/boll"),
            template: "empty".into(),
            name: None,
            sdk: None,
        })
        .unwrap();
        let manifest = std::fs::read_to_string(outside.dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]") && manifest.contains("[profile.guest]"));
        assert!(outside.files.contains(&"Cargo.lock"));

        // Refuses a directory with something in it.
        let err = create(&NewOptions {
            dir: inside.dir.clone(),
            template: "empty".into(),
            name: None,
            sdk: None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }

    #[test]
    fn unknown_templates_list_the_known_ones() {
        let err = template("nope").unwrap_err().to_string();
        assert!(err.contains("empty") && err.contains("sma-cross"), "{err}");
    }
}
