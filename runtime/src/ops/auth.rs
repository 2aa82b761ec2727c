//! Bearer tokens. With no token configured everything is open (dev, on
//! loopback: validation refuses other addresses without a token). With
//! tokens, control always needs one; reads need one too when the server
//! listens beyond loopback.

use super::settings::TokenSecret;
use sha2::{Digest, Sha256};

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `/status`, `/metrics`, `/events`.
    Read,
    /// Reload, rollback, pause, resume, halt, unhalt.
    Control,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No bearer token (401).
    Missing,
    /// A token that matches none configured (403).
    Invalid,
}

/// The server's token check: decides from a request's `Authorization`
/// header and what it wants to do whether it may, and who it is for the
/// audit trail. Holds only digests of the `[[ops.tokens]]` secrets.
pub struct Auth {
    /// Name and SHA-256 of each secret: comparing fixed-size digests in
    /// constant time leaks neither the secret nor its length.
    tokens: Vec<(String, [u8; 32])>,
    reads_need_token: bool,
}

/// The actor recorded when no token is configured.
pub const ANONYMOUS: &str = "api:anonymous";

impl Auth {
    /// Checks against `tokens`. `reads_need_token` makes [`Access::Read`]
    /// need a token too (the server sets it when it listens beyond loopback);
    /// with no tokens it has no effect, since then everything is open.
    pub fn new(tokens: &[TokenSecret], reads_need_token: bool) -> Self {
        Self {
            tokens: tokens
                .iter()
                .map(|t| (t.name.clone(), digest(&t.secret)))
                .collect(),
            reads_need_token: reads_need_token && !tokens.is_empty(),
        }
    }

    /// Whether any token is configured, i.e. whether control needs one.
    pub fn enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Checks an `Authorization` header value; returns the actor
    /// (`api:<token name>`, or `api:anonymous` when no token was needed).
    pub fn check(&self, authorization: Option<&str>, access: Access) -> Result<String, Denied> {
        if self.tokens.is_empty() || (access == Access::Read && !self.reads_need_token) {
            return Ok(ANONYMOUS.to_owned());
        }
        let presented = authorization
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Denied::Missing)?;
        let presented = digest(presented);
        // Look at every token, so the time taken does not say which matched.
        let mut found = None;
        for (name, expected) in &self.tokens {
            if constant_time_eq(expected, &presented) && found.is_none() {
                found = Some(name);
            }
        }
        found.map(|n| format!("api:{n}")).ok_or(Denied::Invalid)
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(reads: bool) -> Auth {
        let tokens = [
            TokenSecret {
                name: "alice".into(),
                secret: "alice-secret-0123456789".into(),
            },
            TokenSecret {
                name: "bob".into(),
                secret: "bob-secret-0123456789ab".into(),
            },
        ];
        Auth::new(&tokens, reads)
    }

    #[test]
    fn without_tokens_everything_is_open_and_anonymous() {
        let open = Auth::new(&[], true);
        assert!(!open.enabled());
        assert_eq!(open.check(None, Access::Control).unwrap(), ANONYMOUS);
        assert_eq!(
            open.check(Some("Bearer x"), Access::Read).unwrap(),
            ANONYMOUS
        );
    }

    #[test]
    fn control_needs_a_known_token_and_names_its_holder() {
        let auth = auth(false);
        assert_eq!(auth.check(None, Access::Control), Err(Denied::Missing));
        assert_eq!(
            auth.check(Some("Basic abc"), Access::Control),
            Err(Denied::Missing)
        );
        assert_eq!(
            auth.check(Some("Bearer "), Access::Control),
            Err(Denied::Missing)
        );
        assert_eq!(
            auth.check(Some("Bearer nope"), Access::Control),
            Err(Denied::Invalid)
        );
        assert_eq!(
            auth.check(Some("Bearer alice-secret-0123456789"), Access::Control),
            Ok("api:alice".into())
        );
        assert_eq!(
            auth.check(Some("bearer  bob-secret-0123456789ab "), Access::Control),
            Ok("api:bob".into())
        );
    }

    #[test]
    fn reads_are_open_on_loopback_and_guarded_beyond_it() {
        assert!(auth(false).check(None, Access::Read).is_ok());
        assert_eq!(auth(true).check(None, Access::Read), Err(Denied::Missing));
        assert!(
            auth(true)
                .check(Some("Bearer bob-secret-0123456789ab"), Access::Read)
                .is_ok()
        );
    }
}
