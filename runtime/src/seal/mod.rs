//! The end marker of Sandbar builds, so that a prefix of a build is never
//! mistaken for a build.
//!
//! A copy that stops at a section boundary is still a valid component when
//! everything after that boundary is custom sections (names, producers,
//! component-type metadata); it validates, compiles and runs. So `runtime
//! build` (and `runtime seal` for components from other tools) frames the
//! component:
//!
//! - **first section**: a custom section named `sandbar-build` whose payload
//!   is one byte, the scheme version (`1`). It says "this file is a Sandbar
//!   build" from the first bytes on, so any prefix of it is recognisable;
//! - **last section**: a custom section named `sandbar-seal` whose payload is
//!   41 bytes: the scheme version (`1`), the length `L` of everything before
//!   the seal section as a little-endian `u64`, and the SHA-256 of those `L`
//!   bytes (32 bytes, raw).
//!
//! A file claims to be a Sandbar build when its first section is
//! `sandbar-build` (or a prefix of it) or it has a `sandbar-seal` section.
//! [`check`] refuses such a file unless it ends with a seal whose length is
//! the seal's own offset and whose hash matches; a file that claims nothing
//! (another tool's component) passes as it is. The SHA-256 a config pins is
//! of the whole file, seal included.

mod layout;

pub use layout::{Layout, Section, layout};

use layout::{CUSTOM_SECTION_ID, HEADER_LEN, custom_payload, custom_section};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// Name of the custom section every Sandbar build starts with.
pub const BUILD_MARKER: &str = "sandbar-build";
/// Name of the custom section every Sandbar build ends with.
pub const SEAL_SECTION: &str = "sandbar-seal";
/// The scheme version written in both sections.
pub const SCHEME_VERSION: u8 = 1;
/// Version byte, sealed length (`u64` LE), SHA-256.
const SEAL_PAYLOAD_LEN: usize = 1 + 8 + 32;

/// What [`check`] found in a file it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealState {
    /// No Sandbar marker: another tool's component (or not WebAssembly at
    /// all, which the loader's own checks report).
    Foreign,
    /// A complete Sandbar build: the seal covers the first `sealed_len` bytes.
    Sealed {
        /// Bytes before the seal section (the header, the `sandbar-build`
        /// marker and the component's own sections), all hashed by the seal.
        sealed_len: usize,
    },
}

/// Why a file that claims to be a Sandbar build is refused, or cannot be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "the file is a partial copy of a Sandbar build (ends at byte {ends_at}{}, seal missing)",
        if *.inside_section { " inside a section" } else { "" }
    )]
    /// The file claims to be a Sandbar build but has no seal yet: a copy or
    /// write still under way, or one that stopped early.
    Partial {
        /// The file's length: where the partial copy stops.
        ends_at: usize,
        /// It stops in the middle of a section, not at a section boundary.
        inside_section: bool,
    },
    #[error(
        "the Sandbar seal does not match: it covers {sealed_len} bytes with SHA-256 {sealed}, but those bytes hash to {actual} (the file changed after it was sealed)"
    )]
    /// The seal is in place and readable, but the bytes it covers hash to
    /// something else: they changed after sealing.
    Mismatch {
        /// Bytes the seal covers (the seal section's own offset).
        sealed_len: usize,
        /// The SHA-256 the seal records, hex.
        sealed: String,
        /// The SHA-256 of those bytes now, hex.
        actual: String,
    },
    #[error(
        "the Sandbar seal at offset {seal_at:#x} says it covers {sealed_len} bytes (it must cover exactly the bytes before it)"
    )]
    /// The seal records a length other than its own offset: sections were
    /// removed or inserted before it, or it was copied from another file.
    Misplaced {
        /// Offset of the seal section's id byte.
        seal_at: usize,
        /// The length the seal records.
        sealed_len: usize,
    },
    #[error(
        "{trailing} byte(s) follow the Sandbar seal at offset {seal_at:#x} (sections were added after the file was sealed)"
    )]
    /// Sections follow the seal (some tool appended to the file after
    /// `runtime build` sealed it); the seal must be last.
    AfterSeal {
        /// Offset of the seal section's id byte.
        seal_at: usize,
        /// Bytes after the end of the seal section.
        trailing: usize,
    },
    #[error(
        "the Sandbar seal at offset {seal_at:#x} is unreadable ({len}-byte payload, scheme version {version}; this runtime reads version {SCHEME_VERSION})"
    )]
    /// The seal section has the wrong payload length or a scheme version this
    /// runtime does not read (a newer runtime's build, or garbage).
    Unreadable {
        /// Offset of the seal section's id byte.
        seal_at: usize,
        /// Length of its payload in bytes (41 in scheme version 1).
        len: usize,
        /// Its first payload byte (0 when the payload is empty).
        version: u8,
    },
    /// [`seal`] was given something without the WebAssembly preamble.
    #[error("not a WebAssembly file")]
    NotWasm,
    /// [`seal`] was given a file that stops inside a section.
    #[error("the file ends inside a section that starts at offset {section_at:#x} (truncated?)")]
    Truncated {
        /// Offset of the unfinished section's id byte.
        section_at: usize,
    },
}

impl SealError {
    /// How to fix it.
    pub fn hint(&self) -> &'static str {
        match self {
            SealError::Partial { .. } => {
                "wait for the copy to finish (or deploy by writing a temporary file and renaming it over the target), or rebuild with `runtime build`"
            }
            SealError::AfterSeal { .. } => {
                "something changed the file after it was sealed; rebuild with `runtime build`, or re-seal it with `runtime seal <file>`"
            }
            SealError::Mismatch { .. } | SealError::Misplaced { .. } => {
                "the file is corrupt or was edited after it was sealed; rebuild with `runtime build` and copy it again"
            }
            SealError::Unreadable { .. } => {
                "rebuild with this runtime's `runtime build` (or `runtime seal <file>` a component built by another tool)"
            }
            SealError::NotWasm | SealError::Truncated { .. } => {
                "`runtime seal` takes a complete WebAssembly component; check the path, or rebuild it"
            }
        }
    }
}

/// Checks a file's end marker: a complete Sandbar build or a foreign
/// component passes; a file that claims to be a Sandbar build but is not
/// whole (or was changed after it was sealed) is refused.
pub fn check(bytes: &[u8]) -> Result<SealState, SealError> {
    let Some(layout) = layout(bytes) else {
        return Ok(SealState::Foreign);
    };
    let marked = layout
        .sections
        .first()
        .is_some_and(|s| is_custom(s, BUILD_MARKER))
        // Stopped inside the marker itself: only the first few bytes arrived.
        || (layout.sections.is_empty()
            && bytes.len() > HEADER_LEN
            && marker_section().starts_with(&bytes[HEADER_LEN..]));
    let seal = layout.sections.iter().find(|s| is_custom(s, SEAL_SECTION));
    if !marked && seal.is_none() {
        return Ok(SealState::Foreign);
    }
    if layout.truncated_at.is_some() {
        return Err(SealError::Partial {
            ends_at: bytes.len(),
            inside_section: true,
        });
    }
    let Some(seal) = seal else {
        return Err(SealError::Partial {
            ends_at: bytes.len(),
            inside_section: false,
        });
    };
    if seal.end != bytes.len() {
        return Err(SealError::AfterSeal {
            seal_at: seal.start,
            trailing: bytes.len() - seal.end,
        });
    }
    let payload = custom_payload(bytes, seal).unwrap_or_default();
    let version = payload.first().copied().unwrap_or(0);
    if payload.len() != SEAL_PAYLOAD_LEN || version != SCHEME_VERSION {
        return Err(SealError::Unreadable {
            seal_at: seal.start,
            len: payload.len(),
            version,
        });
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&payload[1..9]);
    let sealed_len = usize::try_from(u64::from_le_bytes(len_bytes)).unwrap_or(usize::MAX);
    if sealed_len != seal.start {
        return Err(SealError::Misplaced {
            seal_at: seal.start,
            sealed_len,
        });
    }
    let actual = Sha256::digest(&bytes[..sealed_len]);
    if actual.as_slice() != &payload[9..] {
        return Err(SealError::Mismatch {
            sealed_len,
            sealed: hex::encode(&payload[9..]),
            actual: hex::encode(actual),
        });
    }
    Ok(SealState::Sealed { sealed_len })
}

/// The file framed as a Sandbar build: the marker first, the seal last.
/// Borrowed when it is sealed already. A foreign component is sealed; a
/// sealed file with sections appended after its (still matching) seal is
/// sealed again; a partial or corrupt Sandbar build is refused, so sealing
/// never blesses a half-copied file.
pub fn seal(bytes: &[u8]) -> Result<Cow<'_, [u8]>, SealError> {
    let layout = layout(bytes).ok_or(SealError::NotWasm)?;
    if let Some(section_at) = layout.truncated_at {
        return Err(SealError::Truncated { section_at });
    }
    match check(bytes) {
        Ok(SealState::Sealed { .. }) => return Ok(Cow::Borrowed(bytes)),
        Ok(SealState::Foreign) => {}
        Err(SealError::AfterSeal { seal_at, .. }) => {
            // The old seal must still vouch for what it covered.
            let old_end = layout
                .sections
                .iter()
                .find(|s| s.start == seal_at)
                .map_or(bytes.len(), |s| s.end);
            check(&bytes[..old_end])?;
        }
        Err(other) => return Err(other),
    }
    let mut out = Vec::with_capacity(bytes.len() + 80);
    out.extend_from_slice(&bytes[..HEADER_LEN]);
    out.extend(marker_section());
    for section in &layout.sections {
        if !is_custom(section, BUILD_MARKER) && !is_custom(section, SEAL_SECTION) {
            out.extend_from_slice(&bytes[section.start..section.end]);
        }
    }
    let sealed_len = out.len();
    let mut payload = Vec::with_capacity(SEAL_PAYLOAD_LEN);
    payload.push(SCHEME_VERSION);
    payload.extend_from_slice(&(sealed_len as u64).to_le_bytes());
    payload.extend_from_slice(&Sha256::digest(&out));
    out.extend(custom_section(SEAL_SECTION, &payload));
    Ok(Cow::Owned(out))
}

fn is_custom(section: &Section, name: &str) -> bool {
    section.id == CUSTOM_SECTION_ID && section.name.as_deref() == Some(name)
}

fn marker_section() -> Vec<u8> {
    custom_section(BUILD_MARKER, &[SCHEME_VERSION])
}

#[cfg(test)]
mod tests;
