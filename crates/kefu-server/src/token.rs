//! Random secrets for API tokens and login sessions. Only their SHA-256 is stored: the secrets
//! are 256-bit random values, so a fast hash suffices and look-up is an index probe.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The prefix of every API token, so leaked tokens are easy to recognise and scan for.
pub const API_TOKEN_PREFIX: &str = "kefu_";

/// A new API token: the secret (shown once) and the hash to store.
pub fn new_api_token() -> (String, Vec<u8>) {
    let secret = format!("{API_TOKEN_PREFIX}{}", random_b64());
    let hash = hash_token(&secret);
    (secret, hash)
}

/// A new session token (the cookie value) and the hash to store.
pub fn new_session_token() -> (String, Vec<u8>) {
    let secret = random_b64();
    let hash = hash_token(&secret);
    (secret, hash)
}

/// A random CSRF token, stored with the session and echoed in `X-CSRF-Token`.
pub fn new_csrf_token() -> String {
    random_b64()
}

/// The SHA-256 of a secret, as stored.
pub fn hash_token(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_b64() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let (a, ha) = new_api_token();
        let (b, _) = new_api_token();
        assert!(a.starts_with("kefu_"));
        assert_eq!(a.len(), 5 + 43);
        assert_ne!(a, b);
        assert_eq!(ha, hash_token(&a));
        assert_eq!(ha.len(), 32);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }
}
