//! `runtime pin --config FILE`: each strategy's `sha256` set to its file's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    #[arg(long)]
    config: PathBuf,
    /// Only this strategy id.
    #[arg(long)]
    strategy: Option<String>,
}

impl PinArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(&self.config, self.strategy.as_deref())
    }
}

fn run(config: &Path, strategy: Option<&str>) -> anyhow::Result<ExitCode> {
    let changed = sandbar_runtime::repin(config, strategy)?;
    if changed.is_empty() {
        println!("{}: every pin already matches its file", config.display());
    }
    for c in &changed {
        println!(
            "{}: strategy `{}` sha256 {} -> {}",
            config.display(),
            c.strategy,
            c.old.as_deref().unwrap_or("(none)"),
            c.new
        );
    }
    Ok(ExitCode::SUCCESS)
}
