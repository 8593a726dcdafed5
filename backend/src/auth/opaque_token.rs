//! Opaque bearer secrets (refresh tokens, device tokens): 256 random bits, base64url, stored
//! only as their SHA-256 so a database leak hands out nothing usable.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The longest token accepted from a client; ours are 43 characters.
pub const MAX_TOKEN_CHARS: usize = 256;

/// A freshly made token, and the hash under which it is stored.
pub struct OpaqueToken {
    pub token: String,
    pub hash: String,
}

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("OpaqueToken(<redacted>)")
    }
}

pub fn generate() -> OpaqueToken {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    OpaqueToken { token, hash }
}

/// The stored form of a presented token. A hash lookup needs no constant-time comparison:
/// the database compares digests of 256-bit secrets, which leaks nothing about the token.
pub fn hash(token: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_to_their_stored_form() {
        let (first, second) = (generate(), generate());
        assert_ne!(first.token, second.token);
        assert_eq!(first.token.len(), 43);
        assert_eq!(hash(&first.token), first.hash);
        assert!(!format!("{first:?}").contains(&first.token));
    }
}
