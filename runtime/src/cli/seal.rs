//! `runtime seal`: frame a component built by another tool (or one changed
//! after `runtime build`) as a Sandbar build, in place and atomically.

use anyhow::Context;
use sandbar_runtime::seal::{self, SealState};
use std::borrow::Cow;
use std::path::PathBuf;
use std::process::ExitCode;

/// Seal components in place: a leading `sandbar-build` section and a final
/// `sandbar-seal` (length + SHA-256 of what precedes it), so the runtime
/// refuses any partial copy of them.
#[derive(Debug, clap::Args)]
pub struct SealArgs {
    /// Component files to seal.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: &SealArgs) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for file in &args.files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        match seal::seal(&bytes) {
            Ok(Cow::Borrowed(_)) => println!(
                "{}  already sealed  sha256 {}",
                file.display(),
                sandbar_runtime::sha256_hex(&bytes)
            ),
            Ok(Cow::Owned(sealed)) => {
                debug_assert!(matches!(seal::check(&sealed), Ok(SealState::Sealed { .. })));
                sandbar_runtime::build::write_atomically(file, &sealed)?;
                println!(
                    "{}  sealed  {} bytes  sha256 {}",
                    file.display(),
                    sealed.len(),
                    sandbar_runtime::sha256_hex(&sealed)
                );
            }
            Err(error) => {
                failed += 1;
                eprintln!(
                    "error: {}: {error}\n  hint: {}",
                    file.display(),
                    error.hint()
                );
            }
        }
    }
    if failed > 0 {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
