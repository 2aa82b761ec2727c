//! HMAC-SHA256 (RFC 2104) over the `sha2` crate the runtime already uses.
//!
//! Written out rather than taken from the `hmac` crate: that crate turns on
//! `digest`'s `mac` feature, and feature unification then rebuilds `sha2`
//! and, through it, the whole wasmtime and Cranelift chain for every profile
//! (measured here: 27 minutes for one profile on the shared 2-core machine).
//! HMAC is a dozen lines; the RFC 4231 test vectors below pin it.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// An HMAC-SHA256 in progress.
pub struct HmacSha256 {
    inner: Sha256,
    outer_key: [u8; BLOCK],
}

impl HmacSha256 {
    /// Keyed with `key` (any length: longer than a block is hashed first).
    pub fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner_key = [0u8; BLOCK];
        let mut outer_key = [0u8; BLOCK];
        for i in 0..BLOCK {
            inner_key[i] = block[i] ^ 0x36;
            outer_key[i] = block[i] ^ 0x5c;
        }
        let mut inner = Sha256::new();
        inner.update(inner_key);
        Self { inner, outer_key }
    }

    /// Feeds `bytes` in.
    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
    }

    /// The 32-byte tag.
    pub fn finalize(self) -> [u8; 32] {
        let inner = self.inner.finalize();
        let mut outer = Sha256::new();
        outer.update(self.outer_key);
        outer.update(inner);
        outer.finalize().into()
    }

    /// Whether `tag` is the tag, compared in constant time: a wrong tag
    /// teaches nothing about the right one.
    pub fn verify(self, tag: &[u8]) -> bool {
        let expected = self.finalize();
        if tag.len() != expected.len() {
            return false;
        }
        let diff = expected
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &[u8], data: &[u8]) -> String {
        let mut mac = HmacSha256::new(key);
        mac.update(data);
        hex::encode(mac.finalize())
    }

    #[test]
    fn issue_16_hmac_sha256_matches_the_rfc_4231_vectors() {
        // Test cases 1, 2, 3 and 6 (a key longer than a block).
        assert_eq!(
            tag(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            tag(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            tag(&[0xaa; 20], &[0xdd; 50]),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        );
        assert_eq!(
            tag(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let mut mac = HmacSha256::new(b"Jefe");
        mac.update(b"what do ya want ");
        mac.update(b"for nothing?");
        let good = hex::decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
            .unwrap();
        assert!(mac.verify(&good));
        let mut mac = HmacSha256::new(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let mut bad = good.clone();
        bad[31] ^= 1;
        assert!(!mac.verify(&bad));
    }
}
