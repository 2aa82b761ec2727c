//! `runtime publish FILE...`: components into the fleet's Object Store
//! `sandbar-artifacts`, each under its SHA-256 (a no-op when the same
//! bytes are there), printing the SHA-256 to deploy.

use super::fleet::FleetArgs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Components to publish (built by `runtime build`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    fleet: FleetArgs,
}

impl PublishArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        let client = self.fleet.connect()?;
        for file in &self.files {
            let (sha256, uploaded) = client.publish_file(file)?;
            let what = if uploaded {
                "published"
            } else {
                "already published"
            };
            println!("{sha256}  {}  ({what})", file.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}
