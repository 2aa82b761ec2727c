//! `runtime build [DIR...] [--all]`: strategy crates into Wasm components,
//! each checked (exports, type-check, smoke test) before it is written.

use anyhow::Context;
use sandbar_runtime::Loader;
use sandbar_runtime::build::{self, BuildOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Strategy crate directories (for example strategies/sma-cross, or a
    /// crate made by `runtime new` anywhere on disk).
    dirs: Vec<PathBuf>,
    /// Build every strategy under strategies/ of the checkout around the
    /// current directory: Rust crates, Python and JavaScript strategies.
    #[arg(long, conflicts_with = "dirs")]
    all: bool,
    /// Where to write the components.
    #[arg(long, default_value = "strategies/dist")]
    out: PathBuf,
    /// The guest SDK (a checkout's guest-sdk) for crates outside the
    /// checkout [default: $SANDBAR_SDK, else the crate's own `sandbar-guest`
    /// path, else the checkout this runtime was built from].
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
    /// Write the components without the build-time check (nothing is
    /// compiled, so nothing goes to the artefact cache either).
    #[arg(long)]
    no_check: bool,
    /// The artefact cache the check's compiled code is written to, so the
    /// first load after the build compiles nothing.
    #[command(flatten)]
    cache: super::cache::CacheLocation,
    /// Do not write compiled code to the artefact cache.
    #[arg(long)]
    no_cache: bool,
}

impl BuildArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(self)
    }
}

fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    // Crates that are members of a workspace (the checkout's examples)
    // build there; the others in a wrapper workspace of their own.
    let workspace = args
        .dirs
        .iter()
        .filter(|dir| !build::standalone::is_standalone(dir))
        .find_map(|dir| build::find_workspace(dir))
        .or_else(|| build::find_workspace(&cwd))
        .unwrap_or_else(|| cwd.clone());
    let strategy_dirs = if args.all {
        build::all_strategy_dirs(&workspace).with_context(|| {
            format!(
                "--all builds the strategies under strategies/ of a Sandbar checkout; {} has none",
                workspace.display()
            )
        })?
    } else if args.dirs.is_empty() {
        vec![cwd.clone()]
    } else {
        args.dirs
    };
    let rust_crates = strategy_dirs
        .iter()
        .filter(|dir| !build::python::is_python(dir) && !build::js::is_js(dir))
        .count();
    if rust_crates > 0 {
        let toolchain = build::detect_toolchain().map_err(anyhow::Error::msg)?;
        eprintln!(
            "building {rust_crates} strategy crate(s) with {}",
            toolchain.describe()
        );
    }
    let components = build::compile(
        &BuildOptions {
            workspace,
            strategy_dirs,
            out_dir: args.out.clone(),
            quiet: false,
        },
        args.sdk.as_deref(),
    )?;
    if !args.no_check {
        let mut loader = Loader::foreground()?;
        if !args.no_cache
            && let Some(cache) = args.cache.open_for_build()
        {
            eprintln!(
                "compiled code goes to the artefact cache in {}",
                cache.dir().display()
            );
            loader = loader.with_artifact_cache(cache);
        }
        for component in &components {
            let verified = build::verify::verify(&loader, component)?;
            eprintln!(
                "checked {}: {} {}, warm-up {} bars, smoke test {} bars ({} orders)",
                component.package,
                verified.name,
                verified.version,
                verified.warmup_bars,
                verified.smoke_bars,
                verified.smoke_orders
            );
        }
    }
    let built = build::write(&components, &args.out)?;
    for (b, component) in built.iter().zip(&components) {
        println!(
            "{}  {} bytes  sha256 {}",
            b.path.display(),
            b.size_bytes,
            b.sha256
        );
        let language = sandbar_runtime::Language::detect(&component.bytes);
        if language != sandbar_runtime::Language::Rust {
            eprintln!(
                "  in the config's [[strategy]] of {}: language = \"{language}\"",
                b.package
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
