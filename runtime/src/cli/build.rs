//! `runtime build [DIR...] [--all]`: strategy crates into Wasm components.

use anyhow::Context;
use sandbar_runtime::build::{self, BuildOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Strategy crate directories (for example strategies/sma-cross).
    dirs: Vec<PathBuf>,
    /// Build every crate under strategies/.
    #[arg(long, conflicts_with = "dirs")]
    all: bool,
    /// Where to write the components.
    #[arg(long, default_value = "strategies/dist")]
    out: PathBuf,
}

impl BuildArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let BuildArgs { dirs, all, out } = self;
        run(dirs, all, out)
    }
}

fn run(dirs: Vec<PathBuf>, all: bool, out: PathBuf) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let start = dirs.first().cloned().unwrap_or_else(|| cwd.clone());
    let workspace = build::find_workspace(&start).with_context(|| {
        format!(
            "{} is not inside a cargo workspace; run `runtime build` from the Sandbar checkout",
            start.display()
        )
    })?;
    let strategy_dirs = if all {
        build::all_strategy_dirs(&workspace)?
    } else {
        dirs
    };
    let toolchain = build::detect_toolchain().map_err(anyhow::Error::msg)?;
    eprintln!(
        "building {} strategy crate(s) with {}",
        strategy_dirs.len(),
        toolchain.describe()
    );
    let built = build::build(&BuildOptions {
        workspace,
        strategy_dirs,
        out_dir: out,
        quiet: false,
    })?;
    for b in &built {
        println!(
            "{}  {} bytes  sha256 {}",
            b.path.display(),
            b.size_bytes,
            b.sha256
        );
    }
    Ok(ExitCode::SUCCESS)
}
