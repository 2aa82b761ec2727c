//! Components in the Object Store `sandbar-artifacts`, one object per
//! SHA-256 (hex) of its bytes. The store keeps its own digest of each
//! object (`SHA-256=<base64url>`), which the client checks at the end of
//! every download; the bytes must also hash to the object's name, and the
//! node's pipeline checks the pinned SHA-256 a third time when it loads.

use super::error::FleetError;
use async_nats::jetstream::object_store::{self, ObjectStore};
use tokio::io::AsyncReadExt;

/// The store's digest header for bytes whose SHA-256 is `digest`.
fn store_digest(digest: &[u8]) -> String {
    format!("SHA-256={}", base64_url(digest))
}

/// Base64, URL-safe alphabet, with padding (what the store writes).
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Uploads `bytes` under their SHA-256 unless an object with that name and
/// the same digest is already there. Returns the SHA-256 and whether it
/// was uploaded.
pub(super) async fn publish(
    store: &ObjectStore,
    bytes: &[u8],
) -> Result<(String, bool), FleetError> {
    let digest = sha256(bytes);
    let name = hex::encode(&digest);
    if let Ok(info) = store.info(&name).await
        && !info.deleted
        && info.digest.as_deref() == Some(store_digest(&digest).as_str())
    {
        return Ok((name, false));
    }
    let mut reader = bytes;
    store
        .put(name.as_str(), &mut reader)
        .await
        .map_err(|e| FleetError::other(format!("cannot upload artefact {name}"), e))?;
    Ok((name, true))
}

/// Downloads the object `sha256`: the store's digest is checked when the
/// read ends, then the bytes must hash to the name.
pub(super) async fn download(store: &ObjectStore, sha256: &str) -> Result<Vec<u8>, FleetError> {
    let mut object = match store.get(sha256).await {
        Ok(object) => object,
        Err(e) if e.kind() == object_store::GetErrorKind::NotFound => {
            return Err(FleetError::MissingArtifact {
                sha256: sha256.to_owned(),
            });
        }
        Err(e) => {
            return Err(FleetError::other(
                format!("cannot download artefact {sha256}"),
                e,
            ));
        }
    };
    let mut bytes = Vec::with_capacity(object.info().size);
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| FleetError::Digest {
            sha256: sha256.to_owned(),
            detail: e.to_string(),
        })?;
    let got = hex::encode(sha256_of(&bytes));
    if got != sha256 {
        return Err(FleetError::Digest {
            sha256: sha256.to_owned(),
            detail: format!("the bytes hash to {got}"),
        });
    }
    Ok(bytes)
}

fn sha256_of(bytes: &[u8]) -> Vec<u8> {
    sha256(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_20_store_digest_is_base64url_of_the_sha256() {
        assert_eq!(base64_url(b""), "");
        assert_eq!(base64_url(b"f"), "Zg==");
        assert_eq!(base64_url(b"fo"), "Zm8=");
        assert_eq!(base64_url(b"foo"), "Zm9v");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8=");
        // SHA-256 of "" as the store writes it.
        assert_eq!(
            store_digest(&sha256(b"")),
            "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
