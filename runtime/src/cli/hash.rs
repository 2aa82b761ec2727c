use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// Prints `sha256 = "<hex>"  # <file>`, a line that pastes into a
/// `[[strategy]]` block; the digest is the one `sha256sum` prints.
pub fn run(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
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
