//! `runtime check FILE`: every load stage and a smoke test, with a report.

use sandbar_runtime::{CHECK_SYMBOLS, Language, Loader};
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
    /// The language whose default limits the check runs under (rust,
    /// python, js); left out, it is read from the component itself.
    #[arg(long = "language", value_name = "LANGUAGE", value_parser = parse_language)]
    language: Option<Language>,
}

fn parse_language(text: &str) -> Result<Language, String> {
    Language::ALL
        .into_iter()
        .find(|l| l.name() == text)
        .ok_or_else(|| format!("unknown language `{text}`: use rust, python or js"))
}

impl CheckArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        run(&self.file, &self.params, self.symbols, self.language)
    }
}

fn run(
    file: &Path,
    params: &[String],
    symbols: Vec<String>,
    language: Option<Language>,
) -> anyhow::Result<ExitCode> {
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
    // A Python or JS component needs its language's limits (core instances,
    // fuel, memory); an unreadable file is reported by the load stages.
    let language = language.unwrap_or_else(|| {
        std::fs::read(file)
            .map(|bytes| Language::detect(&bytes))
            .unwrap_or_default()
    });
    if language != Language::Rust {
        println!("language: {language} (limits of `[limits.{language}]`)");
    }
    let limits = sandbar_runtime::config::LimitsSection::default()
        .for_language(language)
        .to_limits();
    let loader = Loader::foreground()?;
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
