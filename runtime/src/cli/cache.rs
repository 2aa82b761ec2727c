//! `runtime cache ls|verify|clear`: the artefact cache on disk (compiled
//! components kept across restarts; `runtime.cache_dir`).

use sandbar_runtime::config::Config;
use sandbar_runtime::{ArtifactCache, CacheError, Loader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

/// Which cache: `--cache-dir`, else `--config`'s `[runtime] cache_dir`,
/// else the default (`$XDG_CACHE_HOME/sandbar`, `~/.cache/sandbar`).
#[derive(Debug, Clone, clap::Args)]
pub struct CacheLocation {
    /// The artefact cache directory [default: `runtime.cache_dir` of
    /// --config, else $XDG_CACHE_HOME/sandbar, else ~/.cache/sandbar].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Take the cache directory and size cap from this config's [runtime].
    #[arg(long, value_name = "FILE", conflicts_with = "cache_dir")]
    pub config: Option<PathBuf>,
}

impl CacheLocation {
    /// The directory and cap in MiB (0: the config turns the cache off).
    fn resolve(&self) -> anyhow::Result<(PathBuf, u64)> {
        let defaults = Config::default();
        let config = match &self.config {
            Some(path) => Config::from_file(path).map_err(|e| anyhow::anyhow!("{e}"))?,
            None => defaults,
        };
        let dir = match &self.cache_dir {
            Some(dir) => Some(dir.clone()),
            None => config.cache_dir(),
        };
        let dir = dir.ok_or_else(|| {
            anyhow::anyhow!("no artefact cache directory: neither $XDG_CACHE_HOME nor $HOME is set; pass --cache-dir DIR or set `runtime.cache_dir`")
        })?;
        Ok((dir, config.runtime.cache_max_mb))
    }

    /// Opens the cache, or says why not.
    pub fn open(&self) -> anyhow::Result<ArtifactCache> {
        let (dir, max_mb) = self.resolve()?;
        ArtifactCache::open(&dir, max_mb.max(1)).map_err(with_hint)
    }

    /// The cache `runtime build` writes into, when it can: `None` (with a
    /// warning saying why) when it cannot be used.
    pub fn open_for_build(&self) -> Option<ArtifactCache> {
        let opened = self.resolve().and_then(|(dir, max_mb)| {
            if max_mb == 0 {
                return Ok(None);
            }
            ArtifactCache::open(&dir, max_mb)
                .map(Some)
                .map_err(with_hint)
        });
        match opened {
            Ok(cache) => cache,
            Err(e) => {
                tracing::warn!("not writing compiled code to the artefact cache: {e:#}");
                None
            }
        }
    }
}

fn with_hint(error: CacheError) -> anyhow::Error {
    match error.hint() {
        Some(hint) => anyhow::anyhow!("{error}\n  hint: {hint}"),
        None => anyhow::anyhow!("{error}"),
    }
}

#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CacheCommand {
    /// List the entries: component SHA-256, tier, size, age, engine.
    Ls(CacheLocation),
    /// Check every entry's MAC and that it fits this runtime's engine (exit 1 if any does not).
    Verify(CacheLocation),
    /// Remove every entry, or those of one component (the key stays).
    Clear {
        #[command(flatten)]
        location: CacheLocation,
        /// Only the entries of the component with this SHA-256.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
}

impl CacheArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        match self.command {
            CacheCommand::Ls(location) => ls(&location),
            CacheCommand::Verify(location) => verify(&location),
            CacheCommand::Clear { location, sha256 } => {
                let cache = location.open()?;
                let removed = cache.clear(sha256.as_deref()).map_err(with_hint)?;
                println!(
                    "removed {removed} entr{} from {}",
                    if removed == 1 { "y" } else { "ies" },
                    cache.dir().display()
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

fn age(used: SystemTime) -> String {
    let secs = used.elapsed().map_or(0, |d| d.as_secs());
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

fn ls(location: &CacheLocation) -> anyhow::Result<ExitCode> {
    let cache = location.open()?;
    let loader = Loader::foreground()?;
    let entries = cache
        .entries_by_tier(|tier| loader.tier_engine(tier))
        .map_err(with_hint)?;
    println!(
        "{:<64}  {:<9}  {:>10}  {:>5}  engine",
        "sha256", "tier", "bytes", "used"
    );
    for entry in &entries {
        println!(
            "{:<64}  {:<9}  {:>10}  {:>5}  {}",
            entry.sha256,
            entry.tier.as_str(),
            entry.size_bytes,
            age(entry.used),
            if entry.current_engine {
                "this"
            } else {
                "other (stale)"
            }
        );
    }
    println!(
        "{} entr{}, {} of {} bytes, in {}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        cache.total_bytes(),
        cache.max_bytes(),
        cache.dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(location: &CacheLocation) -> anyhow::Result<ExitCode> {
    let cache = location.open()?;
    let loader = Loader::foreground()?;
    let verdicts = cache
        .verify_by_tier(|tier| loader.tier_engine(tier))
        .map_err(with_hint)?;
    let bad = verdicts.iter().filter(|(_, v)| v.is_some()).count();
    for (entry, verdict) in &verdicts {
        match verdict {
            None => println!("ok       {} {}", entry.sha256, entry.tier.as_str()),
            Some((problem, message)) => {
                println!(
                    "{:<8} {} {}: {message}",
                    problem.as_str(),
                    entry.sha256,
                    entry.tier.as_str()
                )
            }
        }
    }
    println!(
        "{} entr{} checked, {bad} would not load",
        verdicts.len(),
        if verdicts.len() == 1 { "y" } else { "ies" }
    );
    if bad > 0 {
        println!(
            "  hint: entries that would not load are replaced by the next compile; `runtime cache clear` removes them now"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
