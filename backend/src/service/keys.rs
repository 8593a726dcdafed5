//! What `custadmin keys` does: rotate the secret-encryption key (a new current key, then every
//! sealed value sealed anew in batches), rotate the signing keys (the JWT Ed25519 key and the
//! OpenID Connect RSA key, together), retire keys nothing needs any more, and say which key
//! protects what.
//!
//! Restartable by construction: a pass seals anew whatever is not under the current key yet,
//! each batch in its own transaction and each value only if its row still holds what was read,
//! so after a crash at any point every value is under the old key or the new one (both open)
//! and running the command again finishes the work.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::auth::keys::{EncryptionMaterial, KeyError, KEY_RELOAD_INTERVAL};
use crate::auth::oidc_tokens::{ID_TOKEN_LIFETIME_SECS, OIDC_ACCESS_TOKEN_LIFETIME_SECS};
use crate::auth::secret_box::{key_label, split_key_id};
use crate::auth::tokens::{kid_of, ACCESS_TOKEN_LIFETIME_SECS, CHALLENGE_TOKEN_LIFETIME_SECS};
use crate::db::sealed_values::{self, SealedColumn};
use crate::db::{in_transaction, DbError};
use crate::service::AppState;

/// How many values one transaction seals anew.
pub const RESEAL_BATCH_SIZE: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum KeyCommandError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("database: {0}")]
    Database(#[from] DbError),
    /// The command would break something; the message says what to do instead.
    #[error("{0}")]
    Refused(String),
}

/// What one encryption key still protects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionKeyUse {
    /// Values sealed under it, by where they are kept.
    pub sealed: Vec<(SealedColumn, i64)>,
    /// Unused recovery codes hashed with its hashing part.
    pub recovery_codes: i64,
}

impl EncryptionKeyUse {
    pub fn sealed_total(&self) -> i64 {
        self.sealed.iter().map(|(_, count)| count).sum()
    }
}

#[derive(Debug, Clone)]
pub struct EncryptionKeyStatus {
    pub id: u32,
    pub current: bool,
    /// Retired, kept for the recovery codes it hashed.
    pub hashing_only: bool,
    pub path: PathBuf,
    pub configured: bool,
    pub age: Duration,
    pub uses: EncryptionKeyUse,
}

#[derive(Debug, Clone)]
pub struct SigningKeyStatus {
    /// 1 for `jwt-signing-key.pem`, n for `jwt-signing-key-<n>.pem`, 0 for a key of
    /// `CUSTADMIN_JWT_RETIRED_KEY_FILES`.
    pub number: u32,
    pub kid: String,
    pub current: bool,
    pub path: PathBuf,
    pub configured: bool,
    pub age: Duration,
}

#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub folder: PathBuf,
    pub encryption: Vec<EncryptionKeyStatus>,
    pub signing: Vec<SigningKeyStatus>,
    /// The OpenID Connect RSA keys (`number` 1 for `oidc-rsa-signing-key.pem`, n for
    /// `oidc-rsa-signing-key-<n>.pem`; never configured).
    pub rsa_signing: Vec<SigningKeyStatus>,
}

fn age(modified: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(modified).unwrap_or_default()
}

/// The keys as their files are now (read afresh), and what each protects.
pub async fn status(state: &AppState, now: SystemTime) -> Result<KeyStatus, KeyCommandError> {
    let files = state.key_reloader.files().clone();
    let loaded = files.load()?;
    let ids: Vec<u32> = loaded.encryption.iter().map(|key| key.id).collect();
    let mut uses = encryption_key_uses(state, ids).await?;
    let current_id = loaded.current_encryption().id;
    let current_kid = kid_of(&loaded.current_signing().verifying_key);
    let encryption = loaded
        .encryption
        .iter()
        .map(|key| EncryptionKeyStatus {
            id: key.id,
            current: key.id == current_id,
            hashing_only: matches!(key.material, EncryptionMaterial::HashingOnly(_)),
            path: key.path.clone(),
            configured: key.configured,
            age: age(key.modified, now),
            uses: uses.remove(&key.id).unwrap_or_default(),
        })
        .collect();
    let signing = loaded
        .signing
        .iter()
        .map(|key| {
            let kid = kid_of(&key.verifying_key);
            SigningKeyStatus {
                number: key.number,
                current: kid == current_kid,
                kid,
                path: key.path.clone(),
                configured: key.configured,
                age: age(key.modified, now),
            }
        })
        .collect();
    let current_rsa = loaded.current_rsa_signing().number;
    let rsa_signing = loaded
        .rsa_signing
        .iter()
        .map(|key| SigningKeyStatus {
            number: key.number,
            kid: key.key.kid().to_string(),
            current: key.number == current_rsa,
            path: key.path.clone(),
            configured: false,
            age: age(key.modified, now),
        })
        .collect();
    Ok(KeyStatus {
        folder: files.folder,
        encryption,
        signing,
        rsa_signing,
    })
}

async fn encryption_key_uses(
    state: &AppState,
    ids: Vec<u32>,
) -> Result<std::collections::HashMap<u32, EncryptionKeyUse>, KeyCommandError> {
    Ok(state
        .database
        .run(move |connection| {
            let mut uses = std::collections::HashMap::new();
            for id in ids {
                let mut sealed = Vec::new();
                for column in SealedColumn::ALL {
                    sealed.push((
                        column,
                        sealed_values::count_under_key(connection, column, id)?,
                    ));
                }
                let recovery_codes = sealed_values::count_recovery_codes_under_key(connection, id)?;
                uses.insert(
                    id,
                    EncryptionKeyUse {
                        sealed,
                        recovery_codes,
                    },
                );
            }
            Ok::<_, DbError>(uses)
        })
        .await?)
}

/// What [`start_encryption_rotation`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStart {
    /// Made key `k<n>`, now current.
    NewKey(u32),
    /// An earlier rotation to `k<n>` has values left under older keys: it is finished
    /// instead of making yet another key.
    Unfinished(u32),
}

/// Makes a new current encryption key, unless an earlier rotation is unfinished (values still
/// sealed under a retired key that can open them), and puts the keys in place in this state.
pub async fn start_encryption_rotation(state: &AppState) -> Result<RotationStart, KeyCommandError> {
    let files = state.key_reloader.files().clone();
    let loaded = files.load()?;
    let current = loaded.current_encryption().id;
    let older: Vec<u32> = loaded
        .encryption
        .iter()
        .filter(|key| key.id != current && matches!(key.material, EncryptionMaterial::Full(_)))
        .map(|key| key.id)
        .collect();
    let uses = encryption_key_uses(state, older).await?;
    if uses.values().any(|uses| uses.sealed_total() > 0) {
        state.key_reloader.reload()?;
        return Ok(RotationStart::Unfinished(current));
    }
    let id = tokio::task::spawn_blocking(move || files.add_encryption_key())
        .await
        .map_err(|error| KeyCommandError::Refused(error.to_string()))??;
    state.key_reloader.reload()?;
    Ok(RotationStart::NewKey(id))
}

/// What one pass of [`reseal_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealReport {
    pub resealed: u64,
    /// Rows that changed between reading and sealing anew (a new secret, a mail sent): the
    /// writer sealed them under whatever key it had; the next pass or status shows which.
    pub changed_meanwhile: u64,
    /// Values that do not open, as `what, row id: why` (never the value).
    pub unreadable: Vec<String>,
    pub batches: u64,
}

/// Seals anew, under the current key, every sealed value that is under another: in batches
/// of `batch_size`, each read outside and written in its own transaction, each value only if
/// its row still holds what was read. `after_batch` is called after each committed batch (the
/// command prints progress; tests crash there).
pub async fn reseal_all(
    state: &AppState,
    batch_size: i64,
    mut after_batch: impl FnMut(SealedColumn, &ResealReport) -> bool,
) -> Result<ResealReport, KeyCommandError> {
    let mut report = ResealReport::default();
    let current = state.secret_box.current_key_id();
    for column in SealedColumn::ALL {
        let mut after = String::new();
        loop {
            let from = after.clone();
            let batch = state
                .database
                .run(move |connection| {
                    sealed_values::not_under_key(connection, column, current, &from, batch_size)
                })
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.row_id.clone();
            let mut replacements = Vec::with_capacity(batch.len());
            for value in batch {
                match state
                    .secret_box
                    .reseal(&value.sealed, value.row_id.as_bytes())
                {
                    Ok(Some(resealed)) => replacements.push((value, resealed)),
                    Ok(None) => {}
                    Err(error) => {
                        let key = split_key_id(&value.sealed)
                            .map(|(id, _)| key_label(id))
                            .unwrap_or_else(|_| "?".into());
                        report.unreadable.push(format!(
                            "{}, row {} (key {key}): {error}",
                            column.describe(),
                            value.row_id
                        ));
                    }
                }
            }
            let (resealed, changed) = state
                .database
                .run(move |connection| {
                    in_transaction(connection, |connection| {
                        let mut resealed = 0u64;
                        for (value, new) in &replacements {
                            if sealed_values::replace_if_unchanged(
                                connection,
                                column,
                                &value.row_id,
                                &value.sealed,
                                new,
                            )? {
                                resealed += 1;
                            }
                        }
                        Ok::<_, DbError>((resealed, replacements.len() as u64 - resealed))
                    })
                })
                .await?;
            report.resealed += resealed;
            report.changed_meanwhile += changed;
            report.batches += 1;
            if !after_batch(column, &report) {
                return Ok(report);
            }
        }
    }
    Ok(report)
}

/// How long after a key became current the keys it replaced may still be needed by what is
/// not stored: tokens they signed or sealed, and instances that have not read the folder.
pub fn encryption_retirement_wait() -> Duration {
    Duration::from_secs(CHALLENGE_TOKEN_LIFETIME_SECS.unsigned_abs()) + KEY_RELOAD_INTERVAL
}

/// The longest-lived token a signing key signs (API access tokens; OpenID Connect access and
/// ID tokens live shorter), and the time instances take to read a new key.
pub fn signing_retirement_wait() -> Duration {
    let longest = ACCESS_TOKEN_LIFETIME_SECS
        .max(OIDC_ACCESS_TOKEN_LIFETIME_SECS)
        .max(ID_TOKEN_LIFETIME_SECS);
    Duration::from_secs(longest.unsigned_abs()) + KEY_RELOAD_INTERVAL
}

/// What a retirement did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetirementReport {
    /// `k<n>` or signing key numbers, as dropped.
    pub dropped: Vec<String>,
    /// Encryption keys whose hashing part stays for unused recovery codes, with their count.
    pub hashing_parts_kept: Vec<(String, i64)>,
    /// Key files settings name: not deleted, for the operator to remove with the setting.
    pub configured_files: Vec<PathBuf>,
}

/// Drops every encryption key but the current one. Refuses while any sealed value is under
/// one of them, or while the current key is newer than [`encryption_retirement_wait`]. A key
/// that hashed unused recovery codes leaves its hashing part (which opens nothing) until the
/// codes are used or replaced; a later retirement drops that too.
pub async fn retire_encryption(
    state: &AppState,
    now: SystemTime,
) -> Result<RetirementReport, KeyCommandError> {
    let files = state.key_reloader.files().clone();
    let loaded = files.load()?;
    let current = loaded.current_encryption().clone();
    let retiring: Vec<_> = loaded
        .encryption
        .iter()
        .filter(|key| key.id != current.id)
        .cloned()
        .collect();
    if retiring.is_empty() {
        return Ok(RetirementReport::default());
    }
    let wait = encryption_retirement_wait();
    if age(current.modified, now) < wait {
        return Err(KeyCommandError::Refused(format!(
            "{} became current {} s ago: passwordless sign-ins started before may carry state \
             sealed under an older key, and an instance may not have read the new key yet; \
             retire after {} s",
            key_label(current.id),
            age(current.modified, now).as_secs(),
            wait.as_secs()
        )));
    }
    let uses = encryption_key_uses(state, retiring.iter().map(|key| key.id).collect()).await?;
    let in_use: Vec<String> = retiring
        .iter()
        .filter_map(|key| {
            let uses = uses.get(&key.id)?;
            (uses.sealed_total() > 0).then(|| {
                let what: Vec<String> = uses
                    .sealed
                    .iter()
                    .filter(|(_, count)| *count > 0)
                    .map(|(column, count)| format!("{count} {}", column.describe()))
                    .collect();
                format!("{} still protects {}", key_label(key.id), what.join(", "))
            })
        })
        .collect();
    if !in_use.is_empty() {
        return Err(KeyCommandError::Refused(format!(
            "{}; run `custadmin keys rotate-encryption` again to seal them under {}",
            in_use.join("; "),
            key_label(current.id)
        )));
    }
    let mut report = RetirementReport::default();
    for key in retiring {
        let codes = uses.get(&key.id).map_or(0, |uses| uses.recovery_codes);
        let hashing_only = matches!(key.material, EncryptionMaterial::HashingOnly(_));
        if let Some(path) = files.retire_encryption_key(&key, codes > 0)? {
            report.configured_files.push(path);
        }
        if codes > 0 {
            report.hashing_parts_kept.push((key_label(key.id), codes));
        }
        if !(hashing_only && codes > 0) {
            report.dropped.push(key_label(key.id));
        }
    }
    state.key_reloader.reload()?;
    Ok(report)
}

/// The signing keys a rotation made: one of each ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRotation {
    /// The Ed25519 key's number and `kid`.
    pub ed25519: (u32, String),
    /// The OpenID Connect RSA key's number and `kid`.
    pub rsa: (u32, String),
}

/// Makes a new signing key of each ring (Ed25519 for API tokens and EdDSA ID tokens, RSA for
/// RS256), current for new tokens once the instances read them.
pub async fn rotate_signing(state: &AppState) -> Result<SigningRotation, KeyCommandError> {
    let files = state.key_reloader.files().clone();
    let (ed25519, rsa) = tokio::task::spawn_blocking(move || {
        let ed25519 = files.add_signing_key()?;
        let rsa = files.add_rsa_signing_key()?;
        Ok::<_, KeyError>((ed25519, rsa))
    })
    .await
    .map_err(|error| KeyCommandError::Refused(error.to_string()))??;
    state.key_reloader.reload()?;
    Ok(SigningRotation {
        ed25519: (ed25519, state.token_keys.kid()),
        rsa: (rsa, state.oidc_keys.rsa_kid()),
    })
}

/// Drops every signing key but the current one of each ring (their tokens stop verifying and
/// they leave the JWKS). Refuses while a ring's current key is newer than
/// [`signing_retirement_wait`] unless `immediately` (a leaked key: its tokens must stop now;
/// the SPA refreshes its access token, relying parties refresh theirs).
pub async fn retire_signing(
    state: &AppState,
    now: SystemTime,
    immediately: bool,
) -> Result<RetirementReport, KeyCommandError> {
    let files = state.key_reloader.files().clone();
    let loaded = files.load()?;
    let current = loaded.current_signing().clone();
    let current_rsa = loaded.current_rsa_signing().clone();
    let wait = signing_retirement_wait();
    let retiring: Vec<_> = loaded
        .signing
        .iter()
        .filter(|key| key.verifying_key != current.verifying_key)
        .cloned()
        .collect();
    let retiring_rsa: Vec<_> = loaded
        .rsa_signing
        .iter()
        .filter(|key| key.number != current_rsa.number)
        .cloned()
        .collect();
    if retiring.is_empty() && retiring_rsa.is_empty() {
        return Ok(RetirementReport::default());
    }
    let newest = [
        (!retiring.is_empty()).then_some(current.modified),
        (!retiring_rsa.is_empty()).then_some(current_rsa.modified),
    ]
    .into_iter()
    .flatten()
    .map(|modified| age(modified, now))
    .min()
    .unwrap_or_default();
    if !immediately && newest < wait {
        return Err(KeyCommandError::Refused(format!(
            "the current signing keys were made {} s ago: tokens signed by the keys they \
             replaced may still be live; retire after {} s (or pass --immediately to end them now)",
            newest.as_secs(),
            wait.as_secs()
        )));
    }
    let mut report = RetirementReport::default();
    for key in retiring {
        match files.retire_signing_key(&key)? {
            Some(path) => report.configured_files.push(path),
            None => report.dropped.push(key.path.display().to_string()),
        }
    }
    for key in retiring_rsa {
        files.retire_rsa_signing_key(&key)?;
        report.dropped.push(key.path.display().to_string());
    }
    state.key_reloader.reload()?;
    Ok(report)
}
