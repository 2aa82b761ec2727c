//! Stage `read`: the file is read once, size-capped; the bytes hashed are the
//! bytes compiled.

use crate::error::{LoadError, Stage};
use crate::hash::sha256_hex;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A strategy file's exact bytes and their digest.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Where the bytes came from, for messages; nothing reads it again.
    pub path: PathBuf,
    /// The whole file, seal included: what gets hashed is what gets compiled.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, lowercase hex (64 digits), the form `sha256` pins
    /// take in the config.
    pub sha256: String,
}

impl Artifact {
    /// Wraps bytes that did not come from [`read_artifact`] (tests, benches,
    /// bytes already in memory), hashing them. No size cap is applied here.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Self {
        let sha256 = sha256_hex(&bytes);
        Self {
            path: path.into(),
            bytes,
            sha256,
        }
    }
}

/// Reads `path` in one go, refusing files over `max_bytes`.
pub fn read_artifact(path: &Path, max_bytes: u64) -> Result<Artifact, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| {
        LoadError::new(Stage::Read, format!("cannot open: {e}"))
            .hint("check the path; strategy files live in `runtime.strategies_dir`, built by `runtime build`")
    })?;
    // Sized from the file's length so a large component is read without
    // regrowing the buffer; capped, so a huge file allocates no more than
    // the cap. The read still stops at the cap if the file grew since.
    let length_hint = file.metadata().map_or(0, |m| m.len());
    let capacity = length_hint.min(max_bytes).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    // One byte over the cap tells "too big" apart from "exactly at the cap".
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| {
            LoadError::new(Stage::Read, format!("cannot read: {e}"))
                .hint("check the file's permissions")
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::new(
            Stage::Read,
            format!("file is larger than the {max_bytes}-byte cap"),
        )
        .hint(
            "raise `limits.max_component_mb`, or check that this is really a strategy component",
        ));
    }
    Ok(Artifact::from_bytes(path, bytes))
}
