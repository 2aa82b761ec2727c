//! The `runtime` command line.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc, not glibc's malloc: wasmtime's compiles run on several
/// threads and free on one what another allocated, and glibc's arena locks
/// took a tenth of a parallel compile (BENCHMARKS.md, "Compiler tiers").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let _log_guard = sandbar_runtime::logging::init(args.log_format);
    match args.command.execute() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
