//! `runtime check FILE`: every load stage and a smoke test, with a report.

use sandbar_runtime::{CHECK_SYMBOLS, Limits, Loader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    file: PathBuf,
    /// A parameter for init, as key=value (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Symbols to initialise the strategy with.
    #[arg(long = "symbol", value_name = "SYMBOL")]
    symbols: Vec<String>,
}

impl CheckArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(&self.file, &self.params, self.symbols)
    }
}

fn run(file: &Path, params: &[String], symbols: Vec<String>) -> anyhow::Result<ExitCode> {
    let params = params
        .iter()
        .map(|p| sandbar_runtime::parse_param(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let symbols = if symbols.is_empty() {
        CHECK_SYMBOLS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        symbols
    };
    let limits = Limits::default();
    let loader = Loader::new()?;
    let (result, timings) = sandbar_runtime::check_file(&loader, file, &symbols, &params, &limits);
    match result {
        Ok(candidate) => {
            print!(
                "{}",
                sandbar_runtime::render_report(file, &candidate, &timings, &symbols, &limits)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!(
                "check failed at stage `{}` for {}: {}",
                error.stage,
                file.display(),
                error.message
            );
            if let Some(hint) = &error.hint {
                eprintln!("  hint: {hint}");
            }
            // Where the time went even when it failed: a refusal by name
            // should cost milliseconds, not a compile.
            eprintln!("  stages: {}", sandbar_runtime::render_stages(&timings));
            Ok(ExitCode::from(2))
        }
    }
}
