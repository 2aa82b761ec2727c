use std::path::Path;
use std::process::ExitCode;

pub fn run(config: &Path, strategy: Option<&str>) -> anyhow::Result<ExitCode> {
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
