//! The server's two keys: the Ed25519 key that signs JWTs and the 256-bit key that encrypts
//! TOTP secrets. Created in the data folder on first start (mode 0600) unless the operator names
//! files; an existing file that cannot be read or parsed stops start-up and is never replaced.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::config::Settings;

pub const SECRET_KEY_BYTES: usize = 32;
const JWT_KEY_FILE_NAME: &str = "jwt-signing-key.pem";
const SECRET_KEY_FILE_NAME: &str = "secret-encryption.key";

pub struct ServerKeys {
    pub jwt_signing_key: SigningKey,
    /// Public keys of signing keys retired by a rotation.
    pub retired_jwt_keys: Vec<VerifyingKey>,
    pub secret_key: [u8; SECRET_KEY_BYTES],
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ServerKeys(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("key file {path} is malformed: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error("cannot create key file {path}: {message}")]
    Create { path: PathBuf, message: String },
}

impl ServerKeys {
    pub fn load_or_create(settings: &Settings) -> Result<Self, KeyError> {
        let jwt_signing_key = match &settings.jwt_key_file {
            Some(path) => read_jwt_key(path)?,
            None => {
                let path = settings.data_dir.join(JWT_KEY_FILE_NAME);
                load_or_create_file(&path, read_jwt_key, || {
                    let key = SigningKey::generate(&mut rand::rngs::OsRng);
                    let pem = key
                        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                        .map_err(|error| error.to_string())?;
                    Ok(pem.as_bytes().to_vec())
                })?
            }
        };
        let secret_key = match &settings.secret_key_file {
            Some(path) => read_secret_key(path)?,
            None => {
                let path = settings.data_dir.join(SECRET_KEY_FILE_NAME);
                load_or_create_file(&path, read_secret_key, || {
                    use rand::RngCore;
                    let mut key = [0u8; SECRET_KEY_BYTES];
                    rand::rngs::OsRng.fill_bytes(&mut key);
                    let mut text = base64::engine::general_purpose::STANDARD.encode(key);
                    text.push('\n');
                    Ok(text.into_bytes())
                })?
            }
        };
        let retired_jwt_keys = settings
            .jwt_retired_key_files
            .iter()
            .map(|path| read_retired_jwt_key(path))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            jwt_signing_key,
            retired_jwt_keys,
            secret_key,
        })
    }
}

fn load_or_create_file<T>(
    path: &Path,
    read: fn(&Path) -> Result<T, KeyError>,
    generate: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Result<T, KeyError> {
    if path.exists() {
        return read(path);
    }
    let create_error = |message: String| KeyError::Create {
        path: path.to_path_buf(),
        message,
    };
    if let Some(folder) = path.parent() {
        // Owner-only: the data folder also holds the SQLite database by default.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(|error| create_error(error.to_string()))?;
    }
    let contents = generate().map_err(create_error)?;
    // create_new: two instances starting at once must not overwrite each other's key.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(&contents)
                .and_then(|()| file.sync_all())
                .map_err(|error| create_error(error.to_string()))?;
            tracing::info!(path = %path.display(), "created key file");
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(create_error(error.to_string())),
    }
    read(path)
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

fn read_jwt_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = read_text(path)?;
    SigningKey::from_pkcs8_pem(&text).map_err(|error| KeyError::Malformed {
        path: path.to_path_buf(),
        message: format!("expected an Ed25519 private key in PKCS#8 PEM: {error}"),
    })
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
        let first = ServerKeys::load_or_create(&settings).unwrap();
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
        let second = ServerKeys::load_or_create(&settings).unwrap();
        assert_eq!(first.secret_key, second.secret_key);
        assert_eq!(
            first.jwt_signing_key.to_bytes(),
            second.jwt_signing_key.to_bytes()
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_malformed_key_file_stops_start_up_and_is_left_alone() {
        let dir = temp_dir();
        std::fs::write(dir.join(SECRET_KEY_FILE_NAME), "not a key").unwrap();
        let error = ServerKeys::load_or_create(&settings_in(&dir)).unwrap_err();
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
        let keys = ServerKeys::load_or_create(&settings).unwrap();
        assert_eq!(
            keys.retired_jwt_keys,
            vec![old.verifying_key(), old.verifying_key()]
        );
        settings.jwt_retired_key_files = vec![dir.join("junk.pem")];
        assert!(matches!(
            ServerKeys::load_or_create(&settings),
            Err(KeyError::Malformed { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_named_key_file_that_is_missing_stops_start_up() {
        let dir = temp_dir();
        let mut settings = settings_in(&dir);
        settings.jwt_key_file = Some(dir.join("missing.pem"));
        let error = ServerKeys::load_or_create(&settings).unwrap_err();
        assert!(matches!(error, KeyError::Read { .. }), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
