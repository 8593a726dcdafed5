//! Encryption of TOTP secrets at rest (XChaCha20-Poly1305, the account id as associated data
//! so a ciphertext copied to another account does not decrypt) and of the passwordless
//! ceremony state carried by state tokens (bound to the token, see `tokens.rs`), and the keyed
//! hash of recovery codes (HMAC-SHA-256, so a stolen database alone cannot test guesses).

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::keys::SECRET_KEY_BYTES;

const NONCE_BYTES: usize = 24;

/// Why a secret could not be sealed or opened. Opening fails on a ciphertext not made by this
/// box for this associated data (another secret key, another account, tampering).
#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("encryption failed")]
    Seal,
    #[error("stored ciphertext is not base64")]
    NotBase64,
    #[error("stored ciphertext is truncated")]
    Truncated,
    #[error("stored secret does not decrypt: wrong secret key or tampering")]
    DoesNotOpen,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// Separate key for hashing, derived so one key file serves both purposes.
    hashing_key: [u8; 32],
}

impl SecretBox {
    pub fn new(key: &[u8; SECRET_KEY_BYTES]) -> Self {
        let mut derivation = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        derivation.update(b"custadmin recovery-code hashing v1");
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
            hashing_key: derivation.finalize().into_bytes().into(),
        }
    }

    /// Base64 of `nonce || ciphertext` of `plaintext`, bound to `associated_data`.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String, SecretBoxError> {
        use rand::RngCore;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretBoxError::Seal)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| SecretBoxError::NotBase64)?;
        if sealed.len() < NONCE_BYTES {
            return Err(SecretBoxError::Truncated);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretBoxError::DoesNotOpen)
    }

    /// Hex HMAC-SHA-256 of `value` under the hashing key.
    pub fn keyed_hash(&self, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.hashing_key).expect("any key length");
        mac.update(value.as_bytes());
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_account() {
        let secret_box = SecretBox::new(&[7; 32]);
        let sealed = secret_box.seal(b"totp secret", b"account-1").unwrap();
        assert!(!sealed.contains("totp"));
        assert_eq!(
            secret_box.open(&sealed, b"account-1").unwrap(),
            b"totp secret"
        );
        assert!(secret_box.open(&sealed, b"account-2").is_err());
        assert!(SecretBox::new(&[8; 32])
            .open(&sealed, b"account-1")
            .is_err());
        let mut tampered = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
        assert!(secret_box.open(&tampered, b"account-1").is_err());
        assert!(secret_box.open(&sealed[..8], b"account-1").is_err());
    }

    #[test]
    fn keyed_hashes_depend_on_the_key() {
        let hash = SecretBox::new(&[7; 32]).keyed_hash("abcdefghij");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, SecretBox::new(&[7; 32]).keyed_hash("abcdefghij"));
        assert_ne!(hash, SecretBox::new(&[8; 32]).keyed_hash("abcdefghij"));
    }
}
