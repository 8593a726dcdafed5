//! Passkeys and security keys (WebAuthn): adding, listing, renaming and removing them. Their
//! use as a proof (the options and the check of an answer) is in [`super::proof`]; the
//! passkey step of a sign-in and signing in with a passkey alone are in [`super::login`].
//!
//! The ceremonies are webauthn-rs's passkey flows, which require user verification (PIN or
//! biometrics) at registration and at every use; so every credential stored here was
//! registered with user verification and may also sign in alone. Between its two requests a
//! ceremony's state waits in the database ([`crate::db::ceremonies`]): single use, 5 minutes,
//! finishable on any instance (signing in with a passkey alone is the one exception; see
//! [`super::login`]).

use chrono::TimeDelta;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::credential_change::{self, CredentialChange};
use super::notifications::{self, Notice};
use super::proof::{
    self, from_json, open_assertion, options_json, to_json, Admitted, Proof, Required, Rule,
    CEREMONY_LIFETIME_SECS,
};
use super::two_factor::{self, NewFactor};
use super::{AppState, Principal};

use super::error::{Refusal, ServiceError};
use crate::db::accounts::{self, Account};
use crate::db::ceremonies::{self, Ceremony, CeremonyKey};
use crate::db::events::{self, EventKind};
use crate::db::passkeys as passkey_store;
use crate::db::sessions as session_store;
use crate::db::{in_transaction, DbError};
use crate::domain::{credential_id_text, Label, RequestOrigin, StoredPasskey};

/// Passkeys an account may hold at once.
pub const MAX_PASSKEYS: usize = 20;

/// A passkey that was just added, and the recovery codes when it was the account's first
/// second factor (shown this once).
#[derive(Debug)]
pub struct AddedPasskey {
    pub passkey: StoredPasskey,
    pub recovery_codes: Option<Vec<String>>,
}

/// The WebAuthn user handle of an account: its id, which is a random UUID and names nothing.
fn user_handle(account: &Account) -> Result<uuid::Uuid, ServiceError> {
    uuid::Uuid::parse_str(&account.id)
        .map_err(|_| ServiceError::internal(format!("account id {} is not a UUID", account.id)))
}

/// Starts adding a passkey (a privileged action): answers the creation options for the
/// browser, and keeps the ceremony for this session to finish, replacing any earlier
/// unfinished one of the session.
pub async fn start_registration(
    state: &AppState,
    principal: &Principal,
    name: Label,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<serde_json::Value, ServiceError> {
    let now = state.now();
    // Checked before a proof is spent on it (and again under the lock).
    let account_id = principal.account_id.clone();
    let held = state
        .database
        .run(move |connection| passkey_store::count_for_account(connection, &account_id))
        .await?;
    if held >= MAX_PASSKEYS as i64 {
        return Err(Refusal::TooManyPasskeys.into());
    }
    let session_id = principal.session_id.clone();
    let account = principal.account.clone();
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::Account,
        origin,
        move |connection, admitted| {
            let state = admitted.state;
            let existing = passkey_store::list_for_account(connection, &account.id)?;
            if existing.len() >= MAX_PASSKEYS {
                return Err(Refusal::TooManyPasskeys.into());
            }
            // The authenticator refuses to make a second credential for the same account.
            let exclude = existing
                .iter()
                .map(|passkey| passkey.credential.cred_id().clone())
                .collect();
            let (options, registration) = state
                .webauthn
                .start_passkey_registration(
                    user_handle(&account)?,
                    &account.username,
                    &account.username,
                    Some(exclude),
                )
                .map_err(|error| ServiceError::internal(format!("passkey options: {error}")))?;
            let ceremony = Ceremony {
                account_id: Some(account.id.clone()),
                state: to_json(&registration)?,
                passkey_name: Some(name.into_string()),
            };
            let key = CeremonyKey::Registration {
                session_id: session_id.clone(),
            };
            let expires_at = now + TimeDelta::seconds(CEREMONY_LIFETIME_SECS);
            ceremonies::put(connection, &key, &ceremony, expires_at)?;
            let mut options = options_json(&options)?;
            // Ask for a discoverable credential where the authenticator can make one, so the
            // passkey can also sign in alone; keys without storage still register.
            options["publicKey"]["authenticatorSelection"]["residentKey"] = "preferred".into();
            Ok(options)
        },
    )
    .await
}

/// Finishes adding a passkey with the browser's answer to the creation options; what adding
/// a factor does is [`two_factor::second_factor_added`] (the first answers the recovery codes).
pub async fn finish_registration(
    state: &AppState,
    principal: &Principal,
    answer: RegisterPublicKeyCredential,
    origin: &RequestOrigin,
) -> Result<AddedPasskey, ServiceError> {
    let now = state.now();
    let (shown, hashes) = two_factor::new_recovery_codes(state);
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    let (account_id, caller) = (principal.account_id.clone(), principal.clone());
    let (passkey, first) = state
        .database
        .clone()
        .transaction_committing_refusals(move |connection| -> Result<_, ServiceError> {
            if !accounts::lock(connection, &account_id)? {
                return Err(Refusal::InvalidToken.into());
            }
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(Refusal::InvalidToken.into());
            }
            let account =
                accounts::find_by_id(connection, &account_id)?.ok_or(Refusal::InvalidToken)?;
            let key = CeremonyKey::Registration {
                session_id: session_id.clone(),
            };
            // Taken whatever the answer: a refused answer cannot be tried again.
            let Some(ceremony) = ceremonies::take(connection, &key, now)?
                .filter(|ceremony| ceremony.account_id.as_deref() == Some(account.id.as_str()))
            else {
                return Err(Refusal::NoPendingEnrollment.into());
            };
            let registration: PasskeyRegistration = from_json(&ceremony.state)?;
            let credential = match state
                .webauthn
                .finish_passkey_registration(&answer, &registration)
            {
                Ok(credential) => credential,
                Err(error) => {
                    tracing::info!(%error, "passkey registration refused");
                    return Err(Refusal::PasskeyRefused.into());
                }
            };
            if passkey_store::count_for_account(connection, &account.id)? >= MAX_PASSKEYS as i64 {
                return Err(Refusal::TooManyPasskeys.into());
            }
            let credential_id = credential_id_text(credential.cred_id().as_ref());
            if passkey_store::find_by_credential_id(connection, &credential_id)?.is_some() {
                return Err(Refusal::PasskeyAlreadyRegistered.into());
            }
            let passkey = StoredPasskey {
                id: uuid::Uuid::new_v4().to_string(),
                account_id: account.id.clone(),
                name: ceremony
                    .passkey_name
                    .unwrap_or_else(|| "Passkey".to_string()),
                credential,
                created_at: now,
                last_used_at: None,
            };
            // The credential id is unique across accounts: a key registered already (here or
            // to another account, by a race lost since the check above) is the caller's
            // conflict. In a savepoint, so the failed insert leaves the transaction whole (on
            // PostgreSQL it would abort it) and the taken ceremony is committed as for any
            // refused answer.
            in_transaction(connection, |connection| {
                passkey_store::insert(connection, &passkey)
            })
            .map_err(|error| match error {
                DbError::Duplicate(_) => Refusal::PasskeyAlreadyRegistered.into(),
                error => ServiceError::from(error),
            })?;
            let first = two_factor::second_factor_added(
                &state,
                connection,
                &account,
                &caller,
                NewFactor::Passkey {
                    name: &passkey.name,
                },
                &hashes,
                &origin,
                now,
            )?;
            Ok((passkey, first))
        })
        .await?;
    Ok(AddedPasskey {
        passkey,
        recovery_codes: first.then_some(shown),
    })
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<StoredPasskey>, ServiceError> {
    let account_id = principal.account_id.clone();
    Ok(state
        .database
        .run(move |connection| passkey_store::list_for_account(connection, &account_id))
        .await?)
}

/// Renames one of the caller's passkeys; answers it renamed.
pub async fn rename(
    state: &AppState,
    principal: &Principal,
    passkey_id: String,
    name: Label,
) -> Result<StoredPasskey, ServiceError> {
    let account_id = principal.account_id.clone();
    state
        .database
        .transaction(move |connection| {
            if !passkey_store::rename(connection, &account_id, &passkey_id, name.as_str())? {
                return Err(Refusal::NotFound.into());
            }
            passkey_store::find_for_account(connection, &account_id, &passkey_id)?
                .ok_or(Refusal::NotFound.into())
        })
        .await
}

/// Removes one of the caller's passkeys (a privileged action). Removing the account's last
/// second factor switches two-factor off, as disabling it does; otherwise every other session
/// ends (the key may be lost) and so does the trust of remembered devices.
pub async fn remove(
    state: &AppState,
    principal: &Principal,
    passkey_id: String,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    // Checked before a proof is spent on it (and again under the lock).
    let (account_id, id) = (principal.account_id.clone(), passkey_id.clone());
    state
        .database
        .run(move |connection| passkey_store::find_for_account(connection, &account_id, &id))
        .await?
        .ok_or(Refusal::NotFound)?;
    let session_id = principal.session_id.clone();
    let caller = principal.account.clone();
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::Account,
        origin,
        move |connection, admitted| {
            let Admitted { state, origin, .. } = admitted;
            // Read again under the lock: whether TOTP is on decides what removing the last
            // passkey means.
            let account =
                accounts::find_by_id(connection, &caller.id)?.ok_or(Refusal::InvalidToken)?;
            let Some(passkey) =
                passkey_store::find_for_account(connection, &account.id, &passkey_id)?
            else {
                return Err(Refusal::NotFound.into());
            };
            passkey_store::delete(connection, &account.id, &passkey.id)?;
            let detail = format!("name: {}", passkey.name);
            let last_factor = !account.totp_enabled()
                && passkey_store::count_for_account(connection, &account.id)? == 0;
            if last_factor {
                two_factor::wipe_two_factor(
                    connection,
                    &account,
                    Some(&session_id),
                    CredentialChange::TwoFactorSwitchedOff,
                    now,
                )?;
                events::record(
                    connection,
                    &account.id,
                    EventKind::PasskeyRemoved,
                    now,
                    &origin,
                    Some(&detail),
                )?;
                notifications::record_and_notify(
                    &state,
                    connection,
                    &account,
                    EventKind::TwoFactorDisabled,
                    None,
                    Notice::TwoFactorDisabled,
                    &origin,
                    now,
                )?;
            } else {
                // The key may be lost or stolen: whatever it got anyone ends.
                credential_change::apply(
                    connection,
                    &account.id,
                    CredentialChange::PasskeyRemoved,
                    Some(&session_id),
                    now,
                )?;
                notifications::record_and_notify(
                    &state,
                    connection,
                    &account,
                    EventKind::PasskeyRemoved,
                    Some(&detail),
                    Notice::PasskeyRemoved {
                        name: passkey.name.clone(),
                    },
                    &origin,
                    now,
                )?;
            }
            Ok(())
        },
    )
    .await
}

/// The request options for proving a privileged action with a passkey; the passkey's answer
/// goes in the action's body as `webauthn`. A new call replaces the session's earlier ones.
pub async fn reauthentication_options(
    state: &AppState,
    principal: &Principal,
) -> Result<serde_json::Value, ServiceError> {
    let now = state.now();
    let (state, account_id) = (state.clone(), principal.account_id.clone());
    let key = CeremonyKey::Reauthentication {
        session_id: principal.session_id.clone(),
    };
    state
        .database
        .clone()
        .transaction(move |connection| {
            if !accounts::lock(connection, &account_id)? {
                return Err(Refusal::InvalidToken.into());
            }
            let expires_at = now + TimeDelta::seconds(CEREMONY_LIFETIME_SECS);
            open_assertion(&state, connection, &account_id, &key, expires_at)
        })
        .await
}
