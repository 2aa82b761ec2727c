//! The entry format and its MAC.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "SBARTF01"
//! 8       8     key id: the first 8 bytes of SHA-256(cache key), which cache wrote it
//! 16      1     tier (0 baseline, 1 optimized)
//! 17      7     zero
//! 24      32    SHA-256 of the .wasm bytes
//! 56      32    engine compatibility hash
//! 88      8     written at, Unix seconds (LE)
//! 96      8     artefact length N (LE)
//! 104     N     the artefact: `Component::serialize` output
//! 104+N   32    HMAC-SHA256 under the cache key of bytes 0..104+N
//! ```
//!
//! The key id only tells a foreign entry (another cache's key: copied from
//! another machine or user) from a tampered one; the MAC decides.

use super::hmac::HmacSha256;
use super::key::EntryKey;
use crate::load::Tier;
use sha2::{Digest, Sha256};
use std::fmt;

const MAGIC: &[u8; 8] = b"SBARTF01";
const HEADER_LEN: usize = 104;
const MAC_LEN: usize = 32;

/// The per-cache secret (32 random bytes, the `key` file).
#[derive(Clone)]
pub struct MacKey([u8; 32]);

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never printed: whoever knows it can forge entries.
        f.write_str("MacKey(..)")
    }
}

impl MacKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Names the key without revealing it.
    pub fn id(&self) -> [u8; 8] {
        let digest = Sha256::digest(self.0);
        let mut id = [0; 8];
        id.copy_from_slice(&digest[..8]);
        id
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new(&self.0)
    }
}

/// Why an entry is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Shorter than its header says (a write cut short, a full disk).
    Truncated,
    /// Its MAC does not match: changed after it was written.
    Tampered,
    /// Written under another cache's key.
    Foreign,
    /// Compiled by another wasmtime or with other engine settings.
    Stale,
    /// Holds another tier's code than its name says.
    WrongTier,
    /// Holds another component's code than its name says.
    WrongComponent,
    /// It could not be read.
    Unreadable,
    /// The MAC matched but wasmtime refused the code.
    Refused,
}

impl Problem {
    /// The name events and `runtime cache verify` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Truncated => "truncated",
            Problem::Tampered => "tampered",
            Problem::Foreign => "foreign",
            Problem::Stale => "stale",
            Problem::WrongTier => "wrong_tier",
            Problem::WrongComponent => "wrong_component",
            Problem::Unreadable => "unreadable",
            Problem::Refused => "refused",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an entry's header says, once its MAC matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub sha256: String,
    pub tier: Tier,
    pub compat: String,
    pub written_unix: u64,
    pub artefact_len: u64,
}

fn tier_byte(tier: Tier) -> u8 {
    match tier {
        Tier::Baseline => 0,
        Tier::Optimized => 1,
    }
}

/// An entry's bytes: header, artefact, MAC.
pub fn encode(mac_key: &MacKey, key: &EntryKey, written_unix: u64, artefact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + artefact.len() + MAC_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&mac_key.id());
    out.push(tier_byte(key.tier));
    out.extend_from_slice(&[0; 7]);
    out.extend_from_slice(&hex32(&key.sha256));
    out.extend_from_slice(&hex32(&key.compat));
    out.extend_from_slice(&written_unix.to_le_bytes());
    out.extend_from_slice(&(artefact.len() as u64).to_le_bytes());
    out.extend_from_slice(artefact);
    let mut mac = mac_key.mac();
    mac.update(&out);
    out.extend_from_slice(&mac.finalize());
    out
}

/// 64 hex digits as 32 bytes (zeros where a digit pair is not hex: keys are
/// made by [`EntryKey::new`], which only ever holds hex).
fn hex32(digits: &str) -> [u8; 32] {
    let mut out = [0; 32];
    if let Ok(bytes) = hex::decode(digits) {
        let n = bytes.len().min(32);
        out[..n].copy_from_slice(&bytes[..n]);
    }
    out
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Checks an entry's framing and MAC; the header (whatever it names) and
/// the artefact bytes it covers when both hold.
pub fn open<'a>(
    mac_key: &MacKey,
    bytes: &'a [u8],
) -> Result<(Header, &'a [u8]), (Problem, String)> {
    if bytes.len() < HEADER_LEN + MAC_LEN {
        if bytes.len() >= MAGIC.len() && &bytes[..MAGIC.len()] != MAGIC {
            return Err((
                Problem::Tampered,
                "it does not start like a cache entry".into(),
            ));
        }
        return Err((
            Problem::Truncated,
            format!(
                "{} bytes, shorter than the {}-byte frame",
                bytes.len(),
                HEADER_LEN + MAC_LEN
            ),
        ));
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err((
            Problem::Tampered,
            "it does not start like a cache entry".into(),
        ));
    }
    let artefact_len = u64_at(bytes, 96);
    let expected = (HEADER_LEN as u64)
        .saturating_add(artefact_len)
        .saturating_add(MAC_LEN as u64);
    let actual = bytes.len() as u64;
    if actual < expected {
        return Err((Problem::Truncated, format!("{actual} of {expected} bytes")));
    }
    if actual > expected {
        return Err((
            Problem::Tampered,
            format!("{} bytes after its end", actual - expected),
        ));
    }
    if bytes[8..16] != mac_key.id() {
        return Err((
            Problem::Foreign,
            "written under another cache's key (copied from another cache, user or machine?)"
                .into(),
        ));
    }
    let split = bytes.len() - MAC_LEN;
    let mut mac = mac_key.mac();
    mac.update(&bytes[..split]);
    // Constant time: a wrong MAC teaches nothing about the right one.
    if !mac.verify(&bytes[split..]) {
        return Err((
            Problem::Tampered,
            "its MAC does not match: it changed after it was written".into(),
        ));
    }
    let tier = match bytes[16] {
        0 => Tier::Baseline,
        1 => Tier::Optimized,
        other => return Err((Problem::Tampered, format!("unknown tier byte {other}"))),
    };
    let header = Header {
        sha256: hex::encode(&bytes[24..56]),
        tier,
        compat: hex::encode(&bytes[56..88]),
        written_unix: u64_at(bytes, 88),
        artefact_len,
    };
    Ok((header, &bytes[HEADER_LEN..split]))
}

/// [`open`], then the header must name exactly `key`.
pub fn open_for<'a>(
    mac_key: &MacKey,
    key: &EntryKey,
    bytes: &'a [u8],
) -> Result<&'a [u8], (Problem, String)> {
    let (header, artefact) = open(mac_key, bytes)?;
    if header.compat != key.compat {
        return Err((
            Problem::Stale,
            "compiled by another wasmtime or with other engine settings".into(),
        ));
    }
    if header.sha256 != key.sha256 {
        return Err((
            Problem::WrongComponent,
            format!("it holds the code of {}", header.sha256),
        ));
    }
    if header.tier != key.tier {
        return Err((
            Problem::WrongTier,
            format!("it holds {} code, not {}", header.tier, key.tier),
        ));
    }
    Ok(artefact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> EntryKey {
        EntryKey {
            sha256: "11".repeat(32),
            tier: Tier::Optimized,
            compat: "22".repeat(32),
        }
    }

    #[test]
    fn issue_16_an_entry_round_trips_and_every_byte_is_covered() {
        let mac_key = MacKey::from_bytes([7; 32]);
        let bytes = encode(&mac_key, &key(), 1_700_000_000, b"artefact");
        assert_eq!(open_for(&mac_key, &key(), &bytes).unwrap(), b"artefact");
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x01;
            assert!(open_for(&mac_key, &key(), &flipped).is_err(), "byte {at}");
        }
        for len in 0..bytes.len() {
            let problem = open(&mac_key, &bytes[..len]).unwrap_err().0;
            assert_eq!(problem, Problem::Truncated, "cut at {len}");
        }
    }
}
