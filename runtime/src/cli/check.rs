use sandbar_runtime::{CHECK_SYMBOLS, Limits, Loader};
use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path, params: &[String], symbols: Vec<String>) -> anyhow::Result<ExitCode> {
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
            Ok(ExitCode::from(2))
        }
    }
}
