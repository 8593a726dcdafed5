//! Encryption of secrets at rest (XChaCha20-Poly1305): TOTP secrets (the account id as
//! associated data, so a ciphertext copied to another account does not decrypt), queued mail
//! bodies, and the passwordless ceremony state carried by state tokens (bound to the token, see
//! `tokens.rs`); and the keyed hash of recovery codes (HMAC-SHA-256, so a stolen database alone
//! cannot test guesses).
//!
//! The keys form a ring (see `keys.rs`): one current key seals, every key in the ring opens.
//! A sealed value names its key: `k<id>:<base64 of nonce || ciphertext>`. Values sealed before
//! keys had ids carry no prefix (base64 never holds `:`) and are key 1's. Recovery-code hashes
//! are named the same way (`k<id>:<hex>`, bare hex for key 1), so a retired key can leave its
//! hashing part behind for the codes it hashed until they are replaced (`keys.rs`).

use std::sync::{Arc, RwLock};

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SECRET_KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// Asked by a [`SecretBox`] (or the token keys) that met a key it lacks: `keys.rs` implements
/// it by reading the key files again.
pub trait ReloadKeys: Send + Sync {
    /// Reads the keys again unless that was done very recently; `true` when the keys in
    /// place are now as fresh as they get (look again), `false` when reading failed.
    fn reload_on_miss(&self) -> bool;
}

/// The id of the key every value without a prefix was sealed or hashed with.
pub const ORIGINAL_KEY_ID: u32 = 1;

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
    #[error("stored ciphertext has a malformed key id")]
    MalformedKeyId,
    #[error("stored secret is sealed with key k{0}, which this server does not have")]
    UnknownKey(u32),
    #[error("stored secret does not decrypt: wrong secret key or tampering")]
    DoesNotOpen,
}

/// `k<id>`, as sealed values, hashes and key files name a key.
pub fn key_label(id: u32) -> String {
    format!("k{id}")
}

/// Parses `k<id>` (decimal, no sign, no leading zero).
pub fn parse_key_label(label: &str) -> Option<u32> {
    let digits = label.strip_prefix('k')?;
    if digits.is_empty()
        || digits.starts_with('0')
        || !digits.bytes().all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok()
}

/// The key id a sealed value or recovery-code hash names, and the rest of it.
pub fn split_key_id(stored: &str) -> Result<(u32, &str), SecretBoxError> {
    match stored.split_once(':') {
        None => Ok((ORIGINAL_KEY_ID, stored)),
        Some((label, rest)) => parse_key_label(label)
            .map(|id| (id, rest))
            .ok_or(SecretBoxError::MalformedKeyId),
    }
}

/// The SQL `LIKE` pattern of values stored under key `id` with a prefix (ids are digits, so
/// nothing needs escaping).
pub fn key_prefix_pattern(id: u32) -> String {
    format!("k{id}:%")
}

/// One key of the ring: the cipher, unless only its hashing part is kept.
#[derive(Clone)]
pub struct RingKey {
    pub id: u32,
    cipher: Option<XChaCha20Poly1305>,
    hashing_key: [u8; 32],
}

impl RingKey {
    pub fn full(id: u32, key: &[u8; SECRET_KEY_BYTES]) -> Self {
        Self {
            id,
            cipher: Some(XChaCha20Poly1305::new(key.into())),
            hashing_key: hashing_key_of(key),
        }
    }

    /// A retired key's hashing part alone: it checks recovery codes, it opens nothing.
    pub fn hashing_only(id: u32, hashing_key: [u8; 32]) -> Self {
        Self {
            id,
            cipher: None,
            hashing_key,
        }
    }

    pub fn can_open(&self) -> bool {
        self.cipher.is_some()
    }

    fn hash(&self, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.hashing_key).expect("any key length");
        mac.update(value.as_bytes());
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    }
}

/// The hashing key derived from a secret key, so one key file serves both purposes.
pub fn hashing_key_of(key: &[u8; SECRET_KEY_BYTES]) -> [u8; 32] {
    let mut derivation = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    derivation.update(b"custadmin recovery-code hashing v1");
    derivation.finalize().into_bytes().into()
}

/// The keys at one moment: which seals, and all that open or hash.
#[derive(Clone)]
pub struct SecretRing {
    current: u32,
    keys: Vec<RingKey>,
}

impl SecretRing {
    /// `None` unless the current key is among `keys` and can seal.
    pub fn new(current: u32, keys: Vec<RingKey>) -> Option<Self> {
        keys.iter()
            .any(|key| key.id == current && key.can_open())
            .then_some(Self { current, keys })
    }

    fn key(&self, id: u32) -> Option<&RingKey> {
        self.keys.iter().find(|key| key.id == id)
    }

    fn current_key(&self) -> &RingKey {
        self.key(self.current).expect("checked by SecretRing::new")
    }
}

/// Seals and opens secrets with the ring's keys. Cheap to clone; clones share the ring, so a
/// reload (a key rotated by `custadmin keys`) reaches every holder at once.
#[derive(Clone)]
pub struct SecretBox {
    ring: Arc<RwLock<Arc<SecretRing>>>,
    /// Asked to read the key files again when a value names a key this ring lacks: another
    /// instance, or the rotation command, may already use a key this one has not read yet.
    reload: Option<Arc<dyn ReloadKeys>>,
}

impl SecretBox {
    /// A box with one key, key 1.
    pub fn new(key: &[u8; SECRET_KEY_BYTES]) -> Self {
        let ring = SecretRing::new(ORIGINAL_KEY_ID, vec![RingKey::full(ORIGINAL_KEY_ID, key)])
            .expect("the one key is current");
        Self::from_ring(ring)
    }

    pub fn from_ring(ring: SecretRing) -> Self {
        Self {
            ring: Arc::new(RwLock::new(Arc::new(ring))),
            reload: None,
        }
    }

    /// This box, asking `reload` for the key files again on a value of an unknown key.
    pub fn with_reloader(mut self, reload: Arc<dyn ReloadKeys>) -> Self {
        self.reload = Some(reload);
        self
    }

    /// Puts another ring in place for every clone of this box.
    pub fn replace_ring(&self, ring: SecretRing) {
        *self
            .ring
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(ring);
    }

    fn ring(&self) -> Arc<SecretRing> {
        self.ring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The ring, read again first when it lacks key `id` (rate-limited by the reloader).
    fn ring_with(&self, id: u32) -> Arc<SecretRing> {
        let ring = self.ring();
        if ring.key(id).is_some() {
            return ring;
        }
        match &self.reload {
            Some(reload) if reload.reload_on_miss() => self.ring(),
            _ => ring,
        }
    }

    /// The id of the key that seals new values.
    pub fn current_key_id(&self) -> u32 {
        self.ring().current
    }

    /// The ids of the keys that can open values, and of those kept for hashing only.
    pub fn key_ids(&self) -> Vec<(u32, bool)> {
        self.ring()
            .keys
            .iter()
            .map(|key| (key.id, key.can_open()))
            .collect()
    }

    /// `k<id>:` and base64 of `nonce || ciphertext` of `plaintext` under the current key,
    /// bound to `associated_data`.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Result<String, SecretBoxError> {
        let ring = self.ring();
        let key = ring.current_key();
        let cipher = key.cipher.as_ref().ok_or(SecretBoxError::Seal)?;
        use rand::RngCore;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
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
        Ok(format!(
            "{}:{}",
            key_label(key.id),
            base64::engine::general_purpose::STANDARD.encode(sealed)
        ))
    }

    pub fn open(&self, sealed: &str, associated_data: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let (id, body) = split_key_id(sealed)?;
        let ring = self.ring_with(id);
        let cipher = ring
            .key(id)
            .and_then(|key| key.cipher.as_ref())
            .ok_or(SecretBoxError::UnknownKey(id))?;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| SecretBoxError::NotBase64)?;
        if sealed.len() < NONCE_BYTES {
            return Err(SecretBoxError::Truncated);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated_data,
                },
            )
            .map_err(|_| SecretBoxError::DoesNotOpen)
    }

    /// `Some` new sealing of `sealed` under the current key, or `None` when it is sealed
    /// under the current key already.
    pub fn reseal(
        &self,
        sealed: &str,
        associated_data: &[u8],
    ) -> Result<Option<String>, SecretBoxError> {
        let (id, _) = split_key_id(sealed)?;
        if id == self.current_key_id() {
            return Ok(None);
        }
        let plaintext = self.open(sealed, associated_data)?;
        self.seal(&plaintext, associated_data).map(Some)
    }

    /// `k<id>:` and hex HMAC-SHA-256 of `value` under the current key's hashing key: how a
    /// new recovery code is stored.
    pub fn keyed_hash(&self, value: &str) -> String {
        let ring = self.ring();
        let key = ring.current_key();
        format!("{}:{}", key_label(key.id), key.hash(value))
    }

    /// Every form `value` may be stored in: its hash under each key of the ring (key 1's
    /// also bare, as it was stored before keys had ids). A code is checked against all.
    pub fn keyed_hash_candidates(&self, value: &str) -> Vec<String> {
        let ring = self.ring();
        let mut candidates = Vec::with_capacity(ring.keys.len() + 1);
        for key in &ring.keys {
            let hash = key.hash(value);
            candidates.push(format!("{}:{hash}", key_label(key.id)));
            if key.id == ORIGINAL_KEY_ID {
                candidates.push(hash);
            }
        }
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(current: u32, keys: &[(u32, u8)]) -> SecretBox {
        let keys = keys
            .iter()
            .map(|(id, byte)| RingKey::full(*id, &[*byte; 32]))
            .collect();
        SecretBox::from_ring(SecretRing::new(current, keys).unwrap())
    }

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
        let (_, body) = split_key_id(&sealed).unwrap();
        let mut tampered = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        let tampered = format!(
            "k1:{}",
            base64::engine::general_purpose::STANDARD.encode(tampered)
        );
        assert!(secret_box.open(&tampered, b"account-1").is_err());
        assert!(secret_box.open(&sealed[..8], b"account-1").is_err());
    }

    #[test]
    fn sealed_values_name_their_key_and_bare_values_are_the_original_keys() {
        let original = SecretBox::new(&[7; 32]);
        let sealed = original.seal(b"secret", b"ad").unwrap();
        assert!(sealed.starts_with("k1:"), "{sealed}");
        // As stored before keys had ids: the same bytes without the prefix.
        let bare = sealed.strip_prefix("k1:").unwrap();
        assert!(!bare.contains(':'));
        let rotated = ring(2, &[(1, 7), (2, 9)]);
        assert_eq!(rotated.open(bare, b"ad").unwrap(), b"secret");
        assert_eq!(rotated.open(&sealed, b"ad").unwrap(), b"secret");
        let resealed = rotated.reseal(bare, b"ad").unwrap().unwrap();
        assert!(resealed.starts_with("k2:"), "{resealed}");
        assert_eq!(rotated.reseal(&resealed, b"ad").unwrap(), None);
        // Key 2 alone opens what it sealed and refuses key 1's by name.
        let only_new = ring(2, &[(2, 9)]);
        assert_eq!(only_new.open(&resealed, b"ad").unwrap(), b"secret");
        assert!(matches!(
            only_new.open(bare, b"ad"),
            Err(SecretBoxError::UnknownKey(1))
        ));
        // The prefix is bound: the same body under another key's name does not open.
        let (_, body) = split_key_id(&resealed).unwrap();
        assert!(matches!(
            rotated.open(&format!("k1:{body}"), b"ad"),
            Err(SecretBoxError::DoesNotOpen)
        ));
    }

    #[test]
    fn key_ids_parse_strictly() {
        assert_eq!(split_key_id("abc+/=").unwrap(), (1, "abc+/="));
        assert_eq!(split_key_id("k12:xyz").unwrap(), (12, "xyz"));
        for malformed in [
            "k:x",
            "k01:x",
            "K2:x",
            "k-2:x",
            "x2:x",
            "k2a:x",
            "k99999999999:x",
        ] {
            assert!(
                matches!(split_key_id(malformed), Err(SecretBoxError::MalformedKeyId)),
                "{malformed}"
            );
        }
        assert_eq!(key_label(3), "k3");
        assert_eq!(parse_key_label("k3"), Some(3));
        assert_eq!(key_prefix_pattern(3), "k3:%");
    }

    #[test]
    fn keyed_hashes_depend_on_the_key_and_old_keys_still_match() {
        let hash = SecretBox::new(&[7; 32]).keyed_hash("abcdefghij");
        assert!(hash.starts_with("k1:"));
        assert_eq!(hash.len(), 3 + 64);
        assert_eq!(hash, SecretBox::new(&[7; 32]).keyed_hash("abcdefghij"));
        assert_ne!(hash, SecretBox::new(&[8; 32]).keyed_hash("abcdefghij"));
        let bare = hash.strip_prefix("k1:").unwrap().to_string();
        // After a rotation, and after key 1 is gone but for its hashing part.
        let rotated = ring(2, &[(1, 7), (2, 9)]);
        let hashing_only = SecretBox::from_ring(
            SecretRing::new(
                2,
                vec![
                    RingKey::full(2, &[9; 32]),
                    RingKey::hashing_only(1, hashing_key_of(&[7; 32])),
                ],
            )
            .unwrap(),
        );
        for secret_box in [&rotated, &hashing_only] {
            let candidates = secret_box.keyed_hash_candidates("abcdefghij");
            assert!(candidates.contains(&hash));
            assert!(candidates.contains(&bare));
            assert!(candidates.contains(&secret_box.keyed_hash("abcdefghij")));
            assert!(secret_box.keyed_hash("abcdefghij").starts_with("k2:"));
        }
        assert!(hashing_only.key_ids().contains(&(1, false)));
        assert!(hashing_only
            .open(&SecretBox::new(&[7; 32]).seal(b"x", b"").unwrap(), b"")
            .is_err());
    }

    #[test]
    fn a_ring_needs_a_current_key_that_can_seal() {
        assert!(SecretRing::new(2, vec![RingKey::full(1, &[1; 32])]).is_none());
        assert!(SecretRing::new(1, vec![RingKey::hashing_only(1, [1; 32])]).is_none());
    }
}
