//! The server's keys, as files in the keys folder (`CUSTADMIN_KEYS_DIR`, the data folder by
//! default) that every instance reads:
//!
//! - `jwt-signing-key.pem` (or `CUSTADMIN_JWT_KEY_FILE`) is signing key 1, and
//!   `jwt-signing-key-<n>.pem` those `custadmin keys rotate-signing` made. The highest number
//!   signs; the others only verify (and stay in the JWKS) until `retire-signing` deletes them.
//! - `secret-encryption.key` (or `CUSTADMIN_SECRET_KEY_FILE`) is encryption key `k1`, and
//!   `secret-encryption-k<n>.key` those `rotate-encryption` made. The highest seals; all open.
//!   `recovery-hashing-k<n>.key` is the hashing part alone of a retired key, kept while
//!   recovery codes it hashed are unused (it opens nothing).
//! - `oidc-rsa-signing-key.pem` is the OpenID Connect provider's RSA key 1 (RS256, 2048 bits,
//!   PKCS#8 PEM), and `oidc-rsa-signing-key-<n>.pem` later ones. It rotates and retires with
//!   the JWT signing key (`rotate-signing` makes one of each); the highest number signs.
//!
//! Files are created owner-only (0600) and atomically (written aside, then linked in place, so
//! a reader never sees half a key and two writers never replace each other's). The first start
//! creates key 1 of each kind when the folder has none; a file that cannot be read or parsed
//! stops start-up and is never replaced. A running server reads the folder again every
//! [`KEY_RELOAD_INTERVAL`] and whenever it meets a key id or `kid` it lacks.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::auth::oidc_tokens::{OidcKeys, RsaSigningKey};
use crate::auth::secret_box::{
    hashing_key_of, key_label, parse_key_label, RingKey, SecretBox, SecretRing, ORIGINAL_KEY_ID,
};
pub use crate::auth::secret_box::{ReloadKeys, SECRET_KEY_BYTES};
use crate::auth::tokens::{TokenError, TokenKeys};
use crate::config::Settings;

const JWT_KEY_FILE_NAME: &str = "jwt-signing-key.pem";
const RSA_KEY_FILE_NAME: &str = "oidc-rsa-signing-key.pem";
const RSA_KEY_FILE_PREFIX: &str = "oidc-rsa-signing-key-";
/// RS256 keys made here: 2048 bits, what OpenID Connect relying parties expect at least.
pub const RSA_KEY_BITS: u32 = 2048;
const SECRET_KEY_FILE_NAME: &str = "secret-encryption.key";

/// How often a running server reads the keys folder again: within this long of a rotation,
/// every instance seals and signs with the new key.
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(10);
/// Reading the folder because a value named an unknown key happens at most this often, so
/// made-up key ids cannot make a server read files on every request.
const RELOAD_ON_MISS_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("key file {path} is malformed: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error("cannot create key file {path}: {message}")]
    Create { path: PathBuf, message: String },
    #[error("cannot remove key file {path}: {message}")]
    Remove { path: PathBuf, message: String },
    #[error("{0}")]
    Unusable(String),
}

/// Where the keys are: the keys folder and the files settings name.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub folder: PathBuf,
    /// Encryption key 1 when `CUSTADMIN_SECRET_KEY_FILE` names it.
    pub configured_secret_key: Option<PathBuf>,
    /// Signing key 1 when `CUSTADMIN_JWT_KEY_FILE` names it.
    pub configured_jwt_key: Option<PathBuf>,
    /// `CUSTADMIN_JWT_RETIRED_KEY_FILES`: verify only, never deleted by the CLI.
    pub configured_retired_jwt_keys: Vec<PathBuf>,
    /// The RSA keys of the last read, by the SHA-256 of their file's text: the files are read
    /// again every few seconds, and checking an RSA key (primality of its factors) costs tens
    /// of milliseconds of CPU, taken from password hashing. A file whose text is unchanged was
    /// checked already.
    checked_rsa_keys: Arc<Mutex<Vec<CheckedRsaKey>>>,
}

/// An RSA key as read, with the SHA-256 of its file's text.
type CheckedRsaKey = ([u8; 32], RsaSigningKey);

/// What an encryption key file holds.
#[derive(Clone)]
pub enum EncryptionMaterial {
    Full([u8; SECRET_KEY_BYTES]),
    /// The hashing part of a retired key.
    HashingOnly([u8; 32]),
}

#[derive(Clone)]
pub struct EncryptionKeyFile {
    pub id: u32,
    pub material: EncryptionMaterial,
    pub path: PathBuf,
    pub modified: SystemTime,
    /// Named by a setting rather than kept in the keys folder: the CLI does not delete it.
    pub configured: bool,
}

#[derive(Clone)]
pub struct SigningKeyFile {
    pub number: u32,
    /// The private key; `None` for a public key named in `CUSTADMIN_JWT_RETIRED_KEY_FILES`.
    pub key: Option<SigningKey>,
    pub verifying_key: VerifyingKey,
    pub path: PathBuf,
    pub modified: SystemTime,
    pub configured: bool,
}

/// An RSA key of the OpenID Connect provider, as its file holds it.
#[derive(Clone)]
pub struct RsaKeyFile {
    /// 1 for `oidc-rsa-signing-key.pem`, n for `oidc-rsa-signing-key-<n>.pem`.
    pub number: u32,
    pub key: RsaSigningKey,
    pub path: PathBuf,
    pub modified: SystemTime,
}

/// The keys as read from their files at one moment.
#[derive(Clone)]
pub struct LoadedKeys {
    /// By id, ascending; the last full key is current.
    pub encryption: Vec<EncryptionKeyFile>,
    /// By number, ascending; the last is current. Configured retired keys come first, with
    /// number 0.
    pub signing: Vec<SigningKeyFile>,
    /// The OpenID Connect RSA keys, by number ascending; the last is current.
    pub rsa_signing: Vec<RsaKeyFile>,
}

impl std::fmt::Debug for LoadedKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("LoadedKeys(<redacted>)")
    }
}

impl LoadedKeys {
    pub fn current_encryption(&self) -> &EncryptionKeyFile {
        self.encryption
            .iter()
            .rev()
            .find(|key| matches!(key.material, EncryptionMaterial::Full(_)))
            .expect("loading checks there is a full encryption key")
    }

    pub fn current_signing(&self) -> &SigningKeyFile {
        self.signing
            .last()
            .expect("loading checks there is a signing key")
    }

    pub fn secret_ring(&self) -> SecretRing {
        let keys = self
            .encryption
            .iter()
            .map(|file| match &file.material {
                EncryptionMaterial::Full(key) => RingKey::full(file.id, key),
                EncryptionMaterial::HashingOnly(hashing) => {
                    RingKey::hashing_only(file.id, *hashing)
                }
            })
            .collect();
        SecretRing::new(self.current_encryption().id, keys)
            .expect("the current key is full and in the ring")
    }

    pub fn signing_key(&self) -> &SigningKey {
        self.current_signing()
            .key
            .as_ref()
            .expect("the current signing key is a private key")
    }

    /// The public keys of every signing key but the current one.
    pub fn retired_verifying_keys(&self) -> Vec<VerifyingKey> {
        let current = self.current_signing().verifying_key;
        self.signing
            .iter()
            .map(|file| file.verifying_key)
            .filter(|key| *key != current)
            .collect()
    }

    pub fn token_keys(&self, issuer: &str) -> Result<TokenKeys, TokenError> {
        TokenKeys::with_retired_keys(self.signing_key(), &self.retired_verifying_keys(), issuer)
    }

    pub fn current_rsa_signing(&self) -> &RsaKeyFile {
        self.rsa_signing
            .last()
            .expect("loading checks there is an RSA signing key")
    }

    /// The RSA keys, the current one first (it signs; all verify).
    pub fn rsa_keys(&self) -> Vec<RsaSigningKey> {
        self.rsa_signing
            .iter()
            .rev()
            .map(|file| file.key.clone())
            .collect()
    }

    /// The OpenID Connect keys: these RSA keys, and `token_keys` (which must share this
    /// load's Ed25519 keys) for EdDSA ID tokens; `issuer` is the public URL.
    pub fn oidc_keys(&self, token_keys: TokenKeys, issuer: &str) -> Result<OidcKeys, TokenError> {
        OidcKeys::new(&self.rsa_keys(), token_keys, issuer)
    }
}

impl KeyFiles {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            folder: settings.keys_dir(),
            configured_secret_key: settings.secret_key_file.clone(),
            configured_jwt_key: settings.jwt_key_file.clone(),
            configured_retired_jwt_keys: settings.jwt_retired_key_files.clone(),
            checked_rsa_keys: Arc::default(),
        }
    }

    /// Reads the keys, creating key 1 of a kind when there is no key of that kind at all.
    pub fn load_or_create(&self) -> Result<LoadedKeys, KeyError> {
        let listing = self.list()?;
        if self.configured_jwt_key.is_none() && listing.signing.is_empty() {
            let path = self.folder.join(JWT_KEY_FILE_NAME);
            create_key_file(&path, &new_signing_key_pem()?)?;
        }
        if self.configured_secret_key.is_none() && listing.encryption.is_empty() {
            let path = self.folder.join(SECRET_KEY_FILE_NAME);
            create_key_file(&path, &new_secret_key_text())?;
        }
        // Also for a deployment older than the OpenID Connect provider: it gets RSA key 1 on
        // its first start. Another instance starting at once may make it first; its key is
        // as good.
        if listing.rsa_signing.is_empty() {
            let path = self.folder.join(RSA_KEY_FILE_NAME);
            if let Err(error) = create_key_file(&path, &new_rsa_key_pem()?) {
                if !path.exists() {
                    return Err(error);
                }
            }
        }
        self.load()
    }

    /// Reads the keys as they are; a kind without any key is an error.
    pub fn load(&self) -> Result<LoadedKeys, KeyError> {
        let listing = self.list()?;
        let mut encryption = Vec::new();
        if let Some(path) = &self.configured_secret_key {
            encryption.push(EncryptionKeyFile {
                id: ORIGINAL_KEY_ID,
                material: EncryptionMaterial::Full(read_secret_key(path)?),
                modified: modified(path)?,
                path: path.clone(),
                configured: true,
            });
        }
        for (id, path, hashing_only) in listing.encryption {
            if encryption.iter().any(|known| known.id == id) {
                // A full key wins over a hashing part kept for the same id.
                continue;
            }
            let material = if hashing_only {
                EncryptionMaterial::HashingOnly(read_secret_key(&path)?)
            } else {
                EncryptionMaterial::Full(read_secret_key(&path)?)
            };
            encryption.push(EncryptionKeyFile {
                id,
                material,
                modified: modified(&path)?,
                path,
                configured: false,
            });
        }
        // A full key for an id read first as a hashing part replaces it.
        encryption.sort_by_key(|key| {
            (
                key.id,
                matches!(key.material, EncryptionMaterial::HashingOnly(_)),
            )
        });
        encryption.dedup_by_key(|key| key.id);
        if !encryption
            .iter()
            .any(|key| matches!(key.material, EncryptionMaterial::Full(_)))
        {
            return Err(KeyError::Unusable(format!(
                "no secret-encryption key in {} (and CUSTADMIN_SECRET_KEY_FILE is not set)",
                self.folder.display()
            )));
        }
        let mut signing = Vec::new();
        for path in &self.configured_retired_jwt_keys {
            signing.push(SigningKeyFile {
                number: 0,
                key: None,
                verifying_key: read_retired_jwt_key(path)?,
                modified: modified(path)?,
                path: path.clone(),
                configured: true,
            });
        }
        if let Some(path) = &self.configured_jwt_key {
            signing.push(signing_key_file(1, path, true)?);
        }
        for (number, path) in listing.signing {
            if number == 1 && self.configured_jwt_key.is_some() {
                continue;
            }
            signing.push(signing_key_file(number, &path, false)?);
        }
        signing.sort_by_key(|key| key.number);
        if !signing.last().is_some_and(|key| key.key.is_some()) {
            return Err(KeyError::Unusable(format!(
                "no JWT signing key in {} (and CUSTADMIN_JWT_KEY_FILE is not set)",
                self.folder.display()
            )));
        }
        let mut rsa_signing = Vec::new();
        let mut checked = Vec::new();
        for (number, path) in listing.rsa_signing {
            let (digest, key) = self.read_rsa_key(&path)?;
            checked.push((digest, key.clone()));
            rsa_signing.push(RsaKeyFile {
                number,
                key,
                modified: modified(&path)?,
                path,
            });
        }
        // Only this read's keys are kept: a removed or rewritten file is forgotten.
        *self
            .checked_rsa_keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = checked;
        rsa_signing.sort_by_key(|key| key.number);
        if rsa_signing.is_empty() {
            return Err(KeyError::Unusable(format!(
                "no OpenID Connect RSA signing key ({RSA_KEY_FILE_NAME}) in {}",
                self.folder.display()
            )));
        }
        Ok(LoadedKeys {
            encryption,
            signing,
            rsa_signing,
        })
    }

    /// Makes encryption key `k<n>`, n one more than any there is; answers n. The running
    /// servers seal with it once they read the folder again.
    pub fn add_encryption_key(&self) -> Result<u32, KeyError> {
        let next = self
            .load()?
            .encryption
            .iter()
            .map(|key| key.id)
            .max()
            .unwrap_or(0)
            + 1;
        let path = self
            .folder
            .join(format!("secret-encryption-{}.key", key_label(next)));
        create_key_file(&path, &new_secret_key_text())?;
        Ok(next)
    }

    /// Makes signing key n, one more than any there is; answers n.
    pub fn add_signing_key(&self) -> Result<u32, KeyError> {
        let next = self
            .load()?
            .signing
            .iter()
            .map(|key| key.number)
            .max()
            .unwrap_or(0)
            + 1;
        let path = self.folder.join(format!("jwt-signing-key-{next}.pem"));
        create_key_file(&path, &new_signing_key_pem()?)?;
        Ok(next)
    }

    /// Makes OpenID Connect RSA key n, one more than any there is; answers n.
    pub fn add_rsa_signing_key(&self) -> Result<u32, KeyError> {
        let next = self
            .load()?
            .rsa_signing
            .iter()
            .map(|key| key.number)
            .max()
            .unwrap_or(0)
            + 1;
        let path = self.folder.join(format!("{RSA_KEY_FILE_PREFIX}{next}.pem"));
        create_key_file(&path, &new_rsa_key_pem()?)?;
        Ok(next)
    }

    /// Drops an RSA key that is not current.
    pub fn retire_rsa_signing_key(&self, key: &RsaKeyFile) -> Result<(), KeyError> {
        remove_file(&key.path)
    }

    /// Drops an encryption key that is not current: its file goes, and with
    /// `keep_hashing_part` its hashing part is written first as `recovery-hashing-k<n>.key`.
    /// A key named by `CUSTADMIN_SECRET_KEY_FILE` is not deleted: answers its path, for the
    /// operator to remove with the setting.
    pub fn retire_encryption_key(
        &self,
        key: &EncryptionKeyFile,
        keep_hashing_part: bool,
    ) -> Result<Option<PathBuf>, KeyError> {
        let hashing_path = self
            .folder
            .join(format!("recovery-hashing-{}.key", key_label(key.id)));
        match (&key.material, keep_hashing_part) {
            (EncryptionMaterial::Full(secret), true) => {
                let text = base64::engine::general_purpose::STANDARD.encode(hashing_key_of(secret));
                if !hashing_path.exists() {
                    create_key_file(&hashing_path, format!("{text}\n").as_bytes())?;
                }
            }
            (EncryptionMaterial::HashingOnly(_), true) => return Ok(None),
            (_, false) => remove_file(&hashing_path)?,
        }
        if matches!(key.material, EncryptionMaterial::Full(_)) {
            if key.configured {
                return Ok(Some(key.path.clone()));
            }
            remove_file(&key.path)?;
        }
        Ok(None)
    }

    /// Drops a signing key that is not current; a configured one is answered, not deleted.
    pub fn retire_signing_key(&self, key: &SigningKeyFile) -> Result<Option<PathBuf>, KeyError> {
        if key.configured {
            return Ok(Some(key.path.clone()));
        }
        remove_file(&key.path)?;
        Ok(None)
    }

    /// The key files in the folder: encryption (id, path, hashing only) and signing (number,
    /// path). Anything else there (the database, mail, temporary files) is not a key.
    fn list(&self) -> Result<Listing, KeyError> {
        let mut listing = Listing::default();
        let entries = match std::fs::read_dir(&self.folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(listing),
            Err(error) => {
                return Err(KeyError::Read {
                    path: self.folder.clone(),
                    message: error.to_string(),
                })
            }
        };
        for entry in entries {
            let entry = entry.map_err(|error| KeyError::Read {
                path: self.folder.clone(),
                message: error.to_string(),
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            if name == SECRET_KEY_FILE_NAME {
                if self.configured_secret_key.is_none() {
                    listing.encryption.push((ORIGINAL_KEY_ID, path, false));
                }
            } else if name == JWT_KEY_FILE_NAME {
                listing.signing.push((1, path));
            } else if name == RSA_KEY_FILE_NAME {
                listing.rsa_signing.push((1, path));
            } else if let Some(number) = name
                .strip_prefix(RSA_KEY_FILE_PREFIX)
                .and_then(|rest| rest.strip_suffix(".pem"))
                .and_then(|digits| parse_key_label(&format!("k{digits}")))
            {
                listing.rsa_signing.push((number, path));
            } else if let Some(id) = name
                .strip_prefix("secret-encryption-")
                .and_then(|rest| rest.strip_suffix(".key"))
                .and_then(parse_key_label)
            {
                listing.encryption.push((id, path, false));
            } else if let Some(id) = name
                .strip_prefix("recovery-hashing-")
                .and_then(|rest| rest.strip_suffix(".key"))
                .and_then(parse_key_label)
            {
                listing.encryption.push((id, path, true));
            } else if let Some(number) = name
                .strip_prefix("jwt-signing-key-")
                .and_then(|rest| rest.strip_suffix(".pem"))
                .and_then(|digits| parse_key_label(&format!("k{digits}")))
            {
                listing.signing.push((number, path));
            }
        }
        Ok(listing)
    }
}

#[derive(Default)]
struct Listing {
    encryption: Vec<(u32, PathBuf, bool)>,
    signing: Vec<(u32, PathBuf)>,
    rsa_signing: Vec<(u32, PathBuf)>,
}

/// Reads the key files again and puts the keys in place in the shared [`SecretBox`],
/// [`TokenKeys`] and [`OidcKeys`]; a read that fails keeps the keys in use (and is logged).
pub struct KeyReloader {
    files: KeyFiles,
    secret_box: SecretBox,
    token_keys: TokenKeys,
    oidc_keys: OidcKeys,
    /// When the folder was last read, and its modification time then (adding or removing a
    /// key file changes it).
    last_read: Mutex<(Instant, Option<SystemTime>)>,
}

impl KeyReloader {
    /// `secret_box`, `token_keys` and `oidc_keys` must be clones without a reloader of their
    /// own (the ones handed out get this reloader; holding those would make a cycle).
    pub fn new(
        files: KeyFiles,
        secret_box: SecretBox,
        token_keys: TokenKeys,
        oidc_keys: OidcKeys,
    ) -> Arc<Self> {
        let folder_modified = folder_modified(&files.folder);
        Arc::new(Self {
            files,
            secret_box,
            token_keys,
            oidc_keys,
            last_read: Mutex::new((Instant::now(), folder_modified)),
        })
    }

    pub fn files(&self) -> &KeyFiles {
        &self.files
    }

    /// Reads the key files now.
    pub fn reload(&self) -> Result<(), KeyError> {
        let mut last_read = self
            .last_read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.reload_holding(&mut last_read)
    }

    /// Reads the key files with the read's lock held, so that a request that missed a key
    /// while another read was under way waits for it rather than finding the old keys.
    fn reload_holding(
        &self,
        last_read: &mut (Instant, Option<SystemTime>),
    ) -> Result<(), KeyError> {
        *last_read = (Instant::now(), folder_modified(&self.files.folder));
        let loaded = self.files.load()?;
        let before = (
            self.secret_box.current_key_id(),
            self.token_keys.kid(),
            self.oidc_keys.rsa_kid(),
        );
        self.secret_box.replace_ring(loaded.secret_ring());
        self.token_keys
            .replace_keys(loaded.signing_key(), &loaded.retired_verifying_keys())
            .map_err(|error| KeyError::Unusable(error.to_string()))?;
        self.oidc_keys
            .replace_rsa_keys(&loaded.rsa_keys())
            .map_err(|error| KeyError::Unusable(error.to_string()))?;
        let after = (
            self.secret_box.current_key_id(),
            self.token_keys.kid(),
            self.oidc_keys.rsa_kid(),
        );
        if before != after {
            tracing::info!(
                encryption_key = %key_label(after.0),
                signing_kid = %after.1,
                rsa_signing_kid = %after.2,
                "read rotated keys"
            );
        }
        Ok(())
    }

    /// Reads the key files every [`KEY_RELOAD_INTERVAL`], for as long as the server runs.
    pub async fn run_periodically(self: Arc<Self>) {
        let mut interval = tokio::time::interval(KEY_RELOAD_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let reloader = self.clone();
            let result = tokio::task::spawn_blocking(move || reloader.reload()).await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "cannot read the key files again; keeping the keys in use")
                }
                Err(error) => tracing::warn!(%error, "key reload task failed"),
            }
        }
    }
}

fn folder_modified(folder: &Path) -> Option<SystemTime> {
    std::fs::metadata(folder)
        .and_then(|metadata| metadata.modified())
        .ok()
}

impl ReloadKeys for KeyReloader {
    /// At once when a key file was added or removed since the last read (a rotation), else
    /// at most every [`RELOAD_ON_MISS_INTERVAL`] (made-up key ids cost a `stat`, no more).
    fn reload_on_miss(&self) -> bool {
        let mut last_read = self
            .last_read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let changed = folder_modified(&self.files.folder) != last_read.1;
        if !changed && last_read.0.elapsed() < RELOAD_ON_MISS_INTERVAL {
            // Read just now (perhaps while this caller waited for the lock): look again.
            return true;
        }
        match self.reload_holding(&mut last_read) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "cannot read the key files again; keeping the keys in use");
                false
            }
        }
    }
}

fn new_signing_key_pem() -> Result<Vec<u8>, KeyError> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|error| KeyError::Unusable(error.to_string()))?;
    Ok(pem.as_bytes().to_vec())
}

fn new_rsa_key_pem() -> Result<Vec<u8>, KeyError> {
    let unusable = |error: openssl::error::ErrorStack| KeyError::Unusable(error.to_string());
    let rsa = openssl::rsa::Rsa::generate(RSA_KEY_BITS).map_err(unusable)?;
    openssl::pkey::PKey::from_rsa(rsa)
        .and_then(|key| key.private_key_to_pem_pkcs8())
        .map_err(unusable)
}

fn new_secret_key_text() -> Vec<u8> {
    use rand::RngCore;
    let mut key = [0u8; SECRET_KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut text = base64::engine::general_purpose::STANDARD.encode(key);
    text.push('\n');
    text.into_bytes()
}

/// Creates `path` with `contents`, owner-only, all at once: written to a hidden file beside
/// it, synced, then hard-linked to its name (which fails if the name exists, so two instances
/// starting at once, or two rotations, never replace each other's key).
fn create_key_file(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let create_error = |message: String| KeyError::Create {
        path: path.to_path_buf(),
        message,
    };
    let folder = path
        .parent()
        .ok_or_else(|| create_error("no parent folder".into()))?;
    // Owner-only: the data folder also holds the SQLite database by default.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
        .map_err(|error| create_error(error.to_string()))?;
    let staging = folder.join(format!(".key-{}.tmp", uuid::Uuid::new_v4()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&staging)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        });
    let linked = written.and_then(|()| std::fs::hard_link(&staging, path));
    let _ = std::fs::remove_file(&staging);
    match linked {
        Ok(()) => {
            // The new name must survive a crash too.
            if let Ok(folder) = std::fs::File::open(folder) {
                let _ = folder.sync_all();
            }
            tracing::info!(path = %path.display(), "created key file");
            Ok(())
        }
        Err(error) => Err(create_error(error.to_string())),
    }
}

fn remove_file(path: &Path) -> Result<(), KeyError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(KeyError::Remove {
            path: path.to_path_buf(),
            message: error.to_string(),
        }),
    }
}

fn modified(path: &Path) -> Result<SystemTime, KeyError> {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .map_err(|error| KeyError::Read {
            path: path.to_path_buf(),
            message: error.to_string(),
        })
}

fn read_text(path: &Path) -> Result<String, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|error| KeyError::Read {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    if let Ok(metadata) = std::fs::metadata(path) {
        if metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "key file is readable by other users; chmod 600 it");
        }
    }
    Ok(text)
}

fn signing_key_file(
    number: u32,
    path: &Path,
    configured: bool,
) -> Result<SigningKeyFile, KeyError> {
    let key = read_jwt_key(path)?;
    Ok(SigningKeyFile {
        number,
        verifying_key: key.verifying_key(),
        key: Some(key),
        modified: modified(path)?,
        path: path.to_path_buf(),
        configured,
    })
}

fn read_jwt_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = read_text(path)?;
    SigningKey::from_pkcs8_pem(&text).map_err(|error| KeyError::Malformed {
        path: path.to_path_buf(),
        message: format!("expected an Ed25519 private key in PKCS#8 PEM: {error}"),
    })
}

impl KeyFiles {
    /// The RSA key in `path` with the SHA-256 of its text, checked only if that text is new.
    fn read_rsa_key(&self, path: &Path) -> Result<CheckedRsaKey, KeyError> {
        use sha2::{Digest, Sha256};
        let text = read_text(path)?;
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let known = self
            .checked_rsa_keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .find(|(known, _)| *known == digest)
            .map(|(_, key)| key.clone());
        if let Some(key) = known {
            return Ok((digest, key));
        }
        let key =
            RsaSigningKey::from_pem(text.as_bytes()).map_err(|message| KeyError::Malformed {
                path: path.to_path_buf(),
                message,
            })?;
        Ok((digest, key))
    }
}

/// A retired key file may hold the old private key or only its public key (SPKI PEM).
fn read_retired_jwt_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let text = read_text(path)?;
    if let Ok(private) = SigningKey::from_pkcs8_pem(&text) {
        return Ok(private.verifying_key());
    }
    VerifyingKey::from_public_key_pem(&text).map_err(|error| KeyError::Malformed {
        path: path.to_path_buf(),
        message: format!(
            "expected an Ed25519 private key (PKCS#8 PEM) or public key (SPKI PEM): {error}"
        ),
    })
}

fn read_secret_key(path: &Path) -> Result<[u8; SECRET_KEY_BYTES], KeyError> {
    let text = read_text(path)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; SECRET_KEY_BYTES]>::try_from(bytes).ok());
    bytes.ok_or_else(|| KeyError::Malformed {
        path: path.to_path_buf(),
        message: "expected 32 bytes in base64".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings_in(dir: &Path) -> Settings {
        let environment = HashMap::from([
            ("CUSTADMIN_DATA_DIR".to_string(), dir.display().to_string()),
            ("CUSTADMIN_CONFIG".to_string(), "/dev/null".to_string()),
        ]);
        Settings::from_sources(&environment).unwrap()
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("custadmin-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn keys_are_created_once_with_owner_only_permissions_and_then_reused() {
        let root = temp_dir();
        let dir = root.join("data");
        let settings = settings_in(&dir);
        let first = KeyFiles::from_settings(&settings).load_or_create().unwrap();
        let folder_mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(
            folder_mode & 0o077,
            0,
            "the data folder is the owner's only"
        );
        for name in [JWT_KEY_FILE_NAME, SECRET_KEY_FILE_NAME] {
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        let second = KeyFiles::from_settings(&settings).load_or_create().unwrap();
        let secret = |keys: &LoadedKeys| match keys.current_encryption().material {
            EncryptionMaterial::Full(key) => key,
            EncryptionMaterial::HashingOnly(_) => panic!("a full key"),
        };
        assert_eq!(secret(&first), secret(&second));
        assert_eq!(
            first.signing_key().to_bytes(),
            second.signing_key().to_bytes()
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_malformed_key_file_stops_start_up_and_is_left_alone() {
        let dir = temp_dir();
        std::fs::write(dir.join(SECRET_KEY_FILE_NAME), "not a key").unwrap();
        let error = KeyFiles::from_settings(&settings_in(&dir))
            .load_or_create()
            .unwrap_err();
        assert!(matches!(error, KeyError::Malformed { .. }), "{error}");
        assert_eq!(
            std::fs::read_to_string(dir.join(SECRET_KEY_FILE_NAME)).unwrap(),
            "not a key"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn retired_keys_are_read_from_private_or_public_pem() {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        let dir = temp_dir();
        let old = SigningKey::from_bytes(&[4; 32]);
        let line_ending = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
        std::fs::write(
            dir.join("old-private.pem"),
            old.to_pkcs8_pem(line_ending).unwrap().as_bytes(),
        )
        .unwrap();
        std::fs::write(
            dir.join("old-public.pem"),
            old.verifying_key().to_public_key_pem(line_ending).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join("junk.pem"), "junk").unwrap();
        let mut settings = settings_in(&dir);
        settings.jwt_retired_key_files =
            vec![dir.join("old-private.pem"), dir.join("old-public.pem")];
        let keys = KeyFiles::from_settings(&settings).load_or_create().unwrap();
        assert_eq!(
            keys.retired_verifying_keys(),
            vec![old.verifying_key(), old.verifying_key()]
        );
        settings.jwt_retired_key_files = vec![dir.join("junk.pem")];
        assert!(matches!(
            KeyFiles::from_settings(&settings).load_or_create(),
            Err(KeyError::Malformed { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_named_key_file_that_is_missing_stops_start_up() {
        let dir = temp_dir();
        let mut settings = settings_in(&dir);
        settings.jwt_key_file = Some(dir.join("missing.pem"));
        let error = KeyFiles::from_settings(&settings)
            .load_or_create()
            .unwrap_err();
        assert!(matches!(error, KeyError::Read { .. }), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn full_key(keys: &LoadedKeys, id: u32) -> [u8; SECRET_KEY_BYTES] {
        match keys
            .encryption
            .iter()
            .find(|key| key.id == id)
            .map(|key| &key.material)
        {
            Some(EncryptionMaterial::Full(key)) => *key,
            _ => panic!("k{id} is a full key"),
        }
    }

    #[test]
    fn rotated_keys_are_numbered_files_beside_the_first_and_the_highest_is_current() {
        let dir = temp_dir();
        let files = KeyFiles::from_settings(&settings_in(&dir));
        let first = files.load_or_create().unwrap();
        let original = full_key(&first, 1);
        assert_eq!(files.add_encryption_key().unwrap(), 2);
        assert_eq!(files.add_encryption_key().unwrap(), 3);
        assert_eq!(files.add_signing_key().unwrap(), 2);
        for name in [
            "secret-encryption-k2.key",
            "secret-encryption-k3.key",
            "jwt-signing-key-2.pem",
        ] {
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        // No staging file is left behind.
        assert!(std::fs::read_dir(&dir).unwrap().all(|entry| !entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')));
        let loaded = files.load_or_create().unwrap();
        assert_eq!(loaded.current_encryption().id, 3);
        assert_eq!(full_key(&loaded, 1), original, "key 1 is kept as it was");
        assert_eq!(loaded.current_signing().number, 2);
        assert_eq!(
            loaded.retired_verifying_keys(),
            vec![first.signing_key().verifying_key()]
        );
        let ring = SecretBox::from_ring(loaded.secret_ring());
        assert_eq!(ring.current_key_id(), 3);
        assert_eq!(ring.key_ids(), vec![(1, true), (2, true), (3, true)]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_retired_key_leaves_its_hashing_part_only_when_asked_and_start_up_makes_no_new_key() {
        let dir = temp_dir();
        let files = KeyFiles::from_settings(&settings_in(&dir));
        let original = SecretBox::from_ring(files.load_or_create().unwrap().secret_ring());
        let code_hash = original.keyed_hash("abcdefghij");
        let sealed = original.seal(b"secret", b"ad").unwrap();
        files.add_encryption_key().unwrap();
        let loaded = files.load().unwrap();
        let k1 = loaded.encryption[0].clone();
        assert_eq!(files.retire_encryption_key(&k1, true).unwrap(), None);
        assert!(!dir.join(SECRET_KEY_FILE_NAME).exists());
        // The folder has a key: start-up reads it rather than making a new key 1.
        let loaded = files.load_or_create().unwrap();
        assert!(!dir.join(SECRET_KEY_FILE_NAME).exists());
        assert!(matches!(
            loaded.encryption[0].material,
            EncryptionMaterial::HashingOnly(_)
        ));
        let ring = SecretBox::from_ring(loaded.secret_ring());
        assert!(ring
            .keyed_hash_candidates("abcdefghij")
            .contains(&code_hash));
        assert!(
            ring.open(&sealed, b"ad").is_err(),
            "the hashing part opens nothing"
        );
        let hashing_part = loaded.encryption[0].clone();
        assert_eq!(
            files.retire_encryption_key(&hashing_part, false).unwrap(),
            None
        );
        assert_eq!(files.load().unwrap().encryption.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_configured_key_is_key_one_and_is_never_deleted() {
        let dir = temp_dir();
        let outside = temp_dir();
        std::fs::write(outside.join("secret"), new_secret_key_text()).unwrap();
        let mut settings = settings_in(&dir);
        settings.secret_key_file = Some(outside.join("secret"));
        let files = KeyFiles::from_settings(&settings);
        files.load_or_create().unwrap();
        assert!(
            !dir.join(SECRET_KEY_FILE_NAME).exists(),
            "nothing made in the folder"
        );
        files.add_encryption_key().unwrap();
        let loaded = files.load().unwrap();
        assert!(loaded.encryption[0].configured);
        let answered = files
            .retire_encryption_key(&loaded.encryption[0], false)
            .unwrap();
        assert_eq!(answered, Some(outside.join("secret")));
        assert!(outside.join("secret").exists());
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(outside).unwrap();
    }

    #[test]
    fn an_rsa_key_file_rewritten_after_a_read_is_checked_again() {
        let dir = temp_dir();
        let files = KeyFiles::from_settings(&settings_in(&dir));
        let first = files.load_or_create().unwrap();
        let path = dir.join(RSA_KEY_FILE_NAME);
        let good = std::fs::read(&path).unwrap();
        // The same key with a private exponent off by two: it parses, but is inconsistent.
        let rsa = openssl::pkey::PKey::private_key_from_pem(&good)
            .unwrap()
            .rsa()
            .unwrap();
        let copy = |number: &openssl::bn::BigNumRef| number.to_owned().unwrap();
        let mut wrong_d = copy(rsa.d());
        wrong_d.add_word(2).unwrap();
        let inconsistent = openssl::rsa::Rsa::from_private_components(
            copy(rsa.n()),
            copy(rsa.e()),
            wrong_d,
            copy(rsa.p().unwrap()),
            copy(rsa.q().unwrap()),
            copy(rsa.dmp1().unwrap()),
            copy(rsa.dmq1().unwrap()),
            copy(rsa.iqmp().unwrap()),
        )
        .unwrap();
        let pem = openssl::pkey::PKey::from_rsa(inconsistent)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        std::fs::write(&path, pem).unwrap();
        assert!(matches!(files.load(), Err(KeyError::Malformed { .. })));
        // Back to the checked text: read as before.
        std::fs::write(&path, &good).unwrap();
        let again = files.load().unwrap();
        assert_eq!(again.rsa_keys()[0].kid(), first.rsa_keys()[0].kid());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn two_rotations_at_once_never_replace_each_others_key() {
        let dir = temp_dir();
        let files = KeyFiles::from_settings(&settings_in(&dir));
        files.load_or_create().unwrap();
        let made: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| files.add_encryption_key()))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        // Each made a distinct key or was told its number was taken; none overwrote.
        let mut ids: Vec<u32> = made
            .iter()
            .filter_map(|made| made.as_ref().ok().copied())
            .collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before);
        assert!(made
            .iter()
            .all(|made| made.is_ok() || matches!(made, Err(KeyError::Create { .. }))));
        assert_eq!(files.load().unwrap().encryption.len(), 1 + ids.len());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_reload_reaches_every_clone_and_a_miss_reads_a_changed_folder_at_once() {
        let dir = temp_dir();
        let files = KeyFiles::from_settings(&settings_in(&dir));
        let loaded = files.load_or_create().unwrap();
        let secret_box = SecretBox::from_ring(loaded.secret_ring());
        let token_keys = loaded.token_keys("custadmin").unwrap();
        let oidc_keys = loaded
            .oidc_keys(token_keys.clone(), "http://localhost:8080")
            .unwrap();
        let reloader = KeyReloader::new(
            files.clone(),
            secret_box.clone(),
            token_keys.clone(),
            oidc_keys.clone(),
        );
        let handed_out = secret_box.clone().with_reloader(reloader.clone());
        // Nothing changed, and read just now: a miss reads nothing (the ring is as fresh as
        // it gets).
        let read_at = reloader.last_read.lock().unwrap().0;
        assert!(reloader.reload_on_miss());
        assert_eq!(reloader.last_read.lock().unwrap().0, read_at);
        files.add_encryption_key().unwrap();
        // Another process rotated: the value it sealed opens here at once.
        let other_process = SecretBox::from_ring(files.load().unwrap().secret_ring());
        let sealed = other_process.seal(b"secret", b"ad").unwrap();
        assert!(sealed.starts_with("k2:"));
        assert_eq!(handed_out.open(&sealed, b"ad").unwrap(), b"secret");
        assert_eq!(secret_box.current_key_id(), 2, "every clone");
        assert_eq!(token_keys.kids().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
