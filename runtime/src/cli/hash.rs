//! `runtime hash FILE...`: SHA-256 lines to paste into a config.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct HashArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl HashArgs {
    /// Prints `sha256 = "<hex>"  # <file>`, a line that pastes into a
    /// `[[strategy]]` block; the digest is the one `sha256sum` prints.
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(&self.files)
    }
}

fn run(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    for file in files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        println!(
            "sha256 = \"{}\"  # {}",
            sandbar_runtime::sha256_hex(&bytes),
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
