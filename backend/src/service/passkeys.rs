//! Passkeys and security keys (WebAuthn): adding, listing, renaming and removing them, the
//! passkey step of a sign-in, and signing in with a passkey alone.
//!
//! The ceremonies are webauthn-rs's passkey flows, which require user verification (PIN or
//! biometrics) at registration and at every use; so every credential stored here was
//! registered with user verification and may also sign in alone. Between its two requests a
//! ceremony's state waits in the database ([`crate::db::ceremonies`]): single use, 5 minutes,
//! finishable on any instance. The one exception is signing in with a passkey alone, which
//! nobody signed in starts: its state travels sealed in the state token, so asking for options
//! stores nothing, and the answered challenge is recorded
//! ([`crate::db::passwordless_challenges`]) so the token is single use all the same.

use chrono::{DateTime, TimeDelta, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, WebauthnError,
};

use super::credential_change::{self, CredentialChange};
use super::login::{self, SignIn};
use super::notifications::{self, Notice};
use super::proof::{self, Proof, Required};
use super::sessions::TokenGrant;
use super::throttle::{self, Subject};
use super::two_factor::{self, NewFactor};
use super::{AppState, Principal};

use crate::auth::tokens::{AMR_HARDWARE_KEY, AMR_USER_PRESENCE, CHALLENGE_TOKEN_LIFETIME_SECS};
use crate::db::accounts::{self, Account};
use crate::db::ceremonies::{self, Ceremony, CeremonyKey};
use crate::db::events::{self, EventKind};
use crate::db::passkeys as passkey_store;
use crate::db::passwordless_challenges;
use crate::db::{sessions as session_store, two_factor as challenge_store, DbConnection};
use crate::domain::{credential_id_text, DeviceTokens, Label, RequestOrigin, StoredPasskey};
use crate::error::ApiError;

/// Passkeys an account may hold at once.
pub const MAX_PASSKEYS: usize = 20;
/// Why an answer whose key's signature counter is behind the stored one is refused.
const COUNTER_WENT_BACKWARDS: &str = "its signature counter went backwards (a cloned key?)";
/// How long a ceremony's options stay answerable.
pub const CEREMONY_LIFETIME_SECS: i64 = 5 * 60;

/// A passkey that was just added, and the recovery codes when it was the account's first
/// second factor (shown this once).
#[derive(Debug)]
pub struct AddedPasskey {
    pub passkey: StoredPasskey,
    pub recovery_codes: Option<Vec<String>>,
}

/// Options for a passwordless sign-in, and the token carrying its ceremony.
#[derive(Debug)]
pub struct PasswordlessOptions {
    pub options: serde_json::Value,
    pub state_token: String,
    pub expires_in: i64,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|error| ApiError::internal(format!("ceremony state not serialisable: {error}")))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text)
        .map_err(|error| ApiError::internal(format!("ceremony state unreadable: {error}")))
}

fn options_json<T: Serialize>(options: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(options)
        .map_err(|error| ApiError::internal(format!("options not serialisable: {error}")))
}

/// The WebAuthn user handle of an account: its id, which is a random UUID and names nothing.
fn user_handle(account: &Account) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(&account.id)
        .map_err(|_| ApiError::internal(format!("account id {} is not a UUID", account.id)))
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
) -> Result<serde_json::Value, ApiError> {
    let now = state.now();
    // Checked before a proof is spent on it (and again under the lock).
    let account_id = principal.account_id.clone();
    let held = state
        .database
        .run(move |connection| passkey_store::count_for_account(connection, &account_id))
        .await?;
    if held >= MAX_PASSKEYS as i64 {
        return Err(ApiError::TooManyPasskeys);
    }
    let authority = proof::authorize_privileged(state, principal, proof, origin).await?;
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    let account = principal.account.clone();
    state
        .database
        .clone()
        .transaction(move |connection| {
            if let Err(refusal) = proof::lock_and_admit(
                &state,
                connection,
                &account,
                Required::Account,
                &session_id,
                authority,
                &origin,
                now,
            )? {
                return Ok(Err(refusal));
            }
            let existing = passkey_store::list_for_account(connection, &account.id)?;
            if existing.len() >= MAX_PASSKEYS {
                return Ok(Err(ApiError::TooManyPasskeys));
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
                .map_err(|error| ApiError::internal(format!("passkey options: {error}")))?;
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
            Ok(Ok(options))
        })
        .await?
}

/// Finishes adding a passkey with the browser's answer to the creation options; what adding
/// a factor does is [`two_factor::second_factor_added`] (the first answers the recovery codes).
pub async fn finish_registration(
    state: &AppState,
    principal: &Principal,
    answer: RegisterPublicKeyCredential,
    origin: &RequestOrigin,
) -> Result<AddedPasskey, ApiError> {
    let now = state.now();
    let (shown, hashes) = two_factor::new_recovery_codes(state);
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    let (account_id, caller) = (principal.account_id.clone(), principal.clone());
    let (passkey, first) = state
        .database
        .clone()
        .transaction(move |connection| {
            if !accounts::lock(connection, &account_id)? {
                return Err(ApiError::InvalidToken);
            }
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(ApiError::InvalidToken);
            }
            let account =
                accounts::find_by_id(connection, &account_id)?.ok_or(ApiError::InvalidToken)?;
            let key = CeremonyKey::Registration {
                session_id: session_id.clone(),
            };
            // Taken whatever the answer: a refused answer cannot be tried again.
            let Some(ceremony) = ceremonies::take(connection, &key, now)?
                .filter(|ceremony| ceremony.account_id.as_deref() == Some(account.id.as_str()))
            else {
                return Ok(Err(ApiError::NoPendingEnrollment));
            };
            let registration: PasskeyRegistration = from_json(&ceremony.state)?;
            let credential = match state
                .webauthn
                .finish_passkey_registration(&answer, &registration)
            {
                Ok(credential) => credential,
                Err(error) => {
                    tracing::info!(%error, "passkey registration refused");
                    return Ok(Err(ApiError::PasskeyRefused));
                }
            };
            if passkey_store::count_for_account(connection, &account.id)? >= MAX_PASSKEYS as i64 {
                return Ok(Err(ApiError::TooManyPasskeys));
            }
            let credential_id = credential_id_text(credential.cred_id().as_ref());
            if passkey_store::find_by_credential_id(connection, &credential_id)?.is_some() {
                return Ok(Err(ApiError::PasskeyAlreadyRegistered));
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
            passkey_store::insert(connection, &passkey)?;
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
            Ok(Ok((passkey, first)))
        })
        .await??;
    Ok(AddedPasskey {
        passkey,
        recovery_codes: first.then_some(shown),
    })
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<StoredPasskey>, ApiError> {
    let account_id = principal.account_id.clone();
    state
        .database
        .run(move |connection| passkey_store::list_for_account(connection, &account_id))
        .await
}

/// Renames one of the caller's passkeys; answers it renamed.
pub async fn rename(
    state: &AppState,
    principal: &Principal,
    passkey_id: String,
    name: Label,
) -> Result<StoredPasskey, ApiError> {
    let account_id = principal.account_id.clone();
    state
        .database
        .transaction(move |connection| {
            if !passkey_store::rename(connection, &account_id, &passkey_id, name.as_str())? {
                return Err(ApiError::NotFound);
            }
            passkey_store::find_for_account(connection, &account_id, &passkey_id)?
                .ok_or(ApiError::NotFound)
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
) -> Result<(), ApiError> {
    let now = state.now();
    // Checked before a proof is spent on it (and again under the lock).
    let (account_id, id) = (principal.account_id.clone(), passkey_id.clone());
    state
        .database
        .run(move |connection| passkey_store::find_for_account(connection, &account_id, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let authority = proof::authorize_privileged(state, principal, proof, origin).await?;
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    let caller = principal.account.clone();
    state
        .database
        .clone()
        .transaction(move |connection| {
            if let Err(refusal) = proof::lock_and_admit(
                &state,
                connection,
                &caller,
                Required::Account,
                &session_id,
                authority,
                &origin,
                now,
            )? {
                return Ok(Err(refusal));
            }
            // Read again under the lock: whether TOTP is on decides what removing the last
            // passkey means.
            let account =
                accounts::find_by_id(connection, &caller.id)?.ok_or(ApiError::InvalidToken)?;
            let Some(passkey) =
                passkey_store::find_for_account(connection, &account.id, &passkey_id)?
            else {
                return Ok(Err(ApiError::NotFound));
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
            Ok(Ok(()))
        })
        .await?
}

/// The request options for the passkey step of a sign-in, for the account of a challenge from
/// the password step. A new call replaces the challenge's earlier options.
pub async fn sign_in_options(
    state: &AppState,
    challenge_token: &str,
) -> Result<serde_json::Value, ApiError> {
    let now = state.now();
    let claims = state.token_keys.verify_challenge(challenge_token, now)?;
    let state = state.clone();
    state
        .database
        .clone()
        .transaction(move |connection| {
            // Ordered after any switch of factors that ended the challenge meanwhile.
            if !accounts::lock_if_two_factor_enabled(connection, &claims.sub)? {
                return Err(ApiError::InvalidChallenge);
            }
            let challenge = challenge_store::find_challenge(connection, &claims.jti)?
                .filter(|challenge| {
                    challenge.account_id == claims.sub
                        && challenge.consumed_at.is_none()
                        && crate::domain::clock::from_db_time(challenge.expires_at) > now
                })
                .ok_or(ApiError::InvalidChallenge)?;
            if challenge.failed_attempts >= challenge_store::MAX_WRONG_CODES_PER_CHALLENGE {
                return Err(ApiError::ChallengeExhausted);
            }
            let key = CeremonyKey::SignIn {
                challenge_id: claims.jti.clone(),
            };
            let expires_at = crate::domain::clock::from_db_time(challenge.expires_at);
            open_assertion(&state, connection, &claims.sub, &key, expires_at)
        })
        .await
}

/// The request options for proving a privileged action with a passkey; the passkey's answer
/// goes in the action's body as `webauthn`. A new call replaces the session's earlier ones.
pub async fn reauthentication_options(
    state: &AppState,
    principal: &Principal,
) -> Result<serde_json::Value, ApiError> {
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
                return Err(ApiError::InvalidToken);
            }
            let expires_at = now + TimeDelta::seconds(CEREMONY_LIFETIME_SECS);
            open_assertion(&state, connection, &account_id, &key, expires_at)
        })
        .await
}

/// Starts an assertion over the account's passkeys and keeps it under `key` (replacing an
/// earlier one there); answers the options for the browser, or `409 no_passkeys`.
pub(super) fn open_assertion(
    state: &AppState,
    connection: &mut DbConnection,
    account_id: &str,
    key: &CeremonyKey,
    expires_at: DateTime<Utc>,
) -> Result<serde_json::Value, ApiError> {
    let passkeys = passkey_store::list_for_account(connection, account_id)?;
    if passkeys.is_empty() {
        return Err(ApiError::NoPasskeys);
    }
    let credentials: Vec<_> = passkeys
        .into_iter()
        .map(|passkey| passkey.credential)
        .collect();
    let (options, authentication) = state
        .webauthn
        .start_passkey_authentication(&credentials)
        .map_err(|error| ApiError::internal(format!("passkey options: {error}")))?;
    let ceremony = Ceremony {
        account_id: Some(account_id.to_string()),
        state: to_json(&authentication)?,
        passkey_name: None,
    };
    ceremonies::put(connection, key, &ceremony, expires_at)?;
    options_json(&options)
}

/// Checks a passkey's answer to the sign-in ceremony `key` of `account`, inside the caller's
/// transaction (which counted the attempt and holds the account's lock). Right: the ceremony
/// is used up, the passkey's counter moves on and its use is recorded.
pub(super) fn accept_answer(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    answer: &PublicKeyCredential,
    key: &CeremonyKey,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some(ceremony) = ceremonies::take(connection, key, now)? else {
        return Ok(false);
    };
    if ceremony.account_id.as_deref() != Some(account.id.as_str()) {
        return Ok(false);
    }
    let authentication: PasskeyAuthentication = from_json(&ceremony.state)?;
    let result = match state
        .webauthn
        .finish_passkey_authentication(answer, &authentication)
    {
        Ok(result) => result,
        Err(error) => {
            tracing::info!(%error, "passkey answer refused");
            return Ok(false);
        }
    };
    let credential_id = credential_id_text(result.cred_id().as_ref());
    let Some(mut passkey) = passkey_store::find_by_credential_id(connection, &credential_id)?
        .filter(|passkey| passkey.account_id == account.id)
    else {
        return Ok(false);
    };
    passkey.credential.update_credential(&result);
    if !passkey_store::record_use(connection, &passkey, result.counter(), now)? {
        tracing::warn!(passkey = %passkey.id, "passkey counter went backwards: refused");
        return Ok(false);
    }
    record_use(connection, account, &passkey, origin, now)?;
    Ok(true)
}

fn record_use(
    connection: &mut DbConnection,
    account: &Account,
    passkey: &StoredPasskey,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let detail = format!("name: {}", passkey.name);
    events::record(
        connection,
        &account.id,
        EventKind::PasskeyUsed,
        now,
        origin,
        Some(&detail),
    )
}

/// Options for signing in with a passkey alone: any passkey the browser's authenticators
/// hold for this site may answer (discoverable credentials, user verification required).
/// Nothing is stored but the count against the client's site: the ceremony's state travels
/// sealed in the state token, so no number of networks asking can fill anything up.
pub async fn passwordless_options(
    state: &AppState,
    origin: &RequestOrigin,
) -> Result<PasswordlessOptions, ApiError> {
    let now = state.now();
    if let Some(site) = origin.ip.as_deref().map(throttle::client_site) {
        state
            .database
            .transaction(move |connection| {
                let subject = Subject::PasskeyCeremonies { site };
                throttle::begin(connection, &[subject], now)?.kept(connection)
            })
            .await?;
    }
    let (options, authentication) = state
        .webauthn
        .start_discoverable_authentication()
        .map_err(|error| ApiError::internal(format!("passkey options: {error}")))?;
    let challenge = data_encoding::BASE64URL_NOPAD.encode(options.public_key.challenge.as_ref());
    let state_token = state.token_keys.issue_passkey_state(
        &state.secret_box,
        &challenge,
        to_json(&authentication)?.as_bytes(),
        now,
    )?;
    let mut options = options_json(&options)?;
    // webauthn-rs asks for conditional mediation (autofill); the SPA asks on a button press.
    if let Some(fields) = options.as_object_mut() {
        fields.remove("mediation");
    }
    Ok(PasswordlessOptions {
        options,
        state_token,
        expires_in: CHALLENGE_TOKEN_LIFETIME_SECS,
    })
}

/// Signs in with a passkey alone: a full sign-in (`amr ["hwk","user"]`), since the passkey
/// proved possession and its authenticator verified the user. Counted against the client
/// network's limit before it is checked; the state token is used up whatever the answer.
/// (A known device is not exempt from that limit here, as it is at the password step: which
/// account it is known to is learnt only from the answer being checked.)
pub async fn sign_in_passwordless(
    state: &AppState,
    state_token: &str,
    answer: PublicKeyCredential,
    devices: &DeviceTokens,
    origin: &RequestOrigin,
) -> Result<TokenGrant, ApiError> {
    let now = state.now();
    let ceremony = state
        .token_keys
        .verify_passkey_state(&state.secret_box, state_token, now)?;
    let authentication: DiscoverableAuthentication = serde_json::from_slice(&ceremony.state)
        .map_err(|error| {
            ApiError::internal(format!("sealed ceremony state unreadable: {error}"))
        })?;
    let device_hashes = devices.hashes();
    // Counted in a short transaction of its own, so the network's counter row is never held
    // while an account row is waited for (other paths lock the account first).
    let subjects = network_subjects(origin);
    let attempt = state
        .database
        .run(move |connection| throttle::begin(connection, &subjects, now))
        .await?;
    let (state, origin) = (state.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction(move |connection| {
            // The first write, before the answer is looked at: of concurrent answers with one
            // token exactly one gets past it, and an answered token stays refused until it
            // expires, whether its answer verified or not.
            if !passwordless_challenges::claim(
                connection,
                &ceremony.challenge,
                ceremony.expires_at,
            )? {
                // No answer was checked: nothing to count.
                attempt.released(connection)?;
                return Ok(Err(ApiError::InvalidChallenge));
            }
            let (account, passkey, counter) =
                match check_passwordless(&state, connection, authentication, &answer)? {
                    Ok(checked) => checked,
                    Err(refusal) => {
                        attempt.failed(connection, now)?;
                        if let Some(account) = &refusal.account {
                            record_refusal(connection, account, refusal.reason, &origin, now)?;
                        }
                        return Ok(Err(ApiError::PasskeyRefused));
                    }
                };
            if !passkey_store::record_use(connection, &passkey, counter, now)? {
                attempt.failed(connection, now)?;
                record_refusal(connection, &account, COUNTER_WENT_BACKWARDS, &origin, now)?;
                return Ok(Err(ApiError::PasskeyRefused));
            }
            attempt.succeeded(connection)?;
            record_use(connection, &account, &passkey, &origin, now)?;
            let sign_in = SignIn {
                methods: &[AMR_HARDWARE_KEY, AMR_USER_PRESENCE],
                device: login::known_device_of(connection, &device_hashes, Some(&account))?,
                remember: false,
            };
            let grant =
                login::complete_sign_in(&state, connection, &account, sign_in, &origin, now)?;
            Ok(Ok(grant))
        })
        .await?
}

fn network_subjects(origin: &RequestOrigin) -> Vec<Subject> {
    proof::network_subject(origin).into_iter().collect()
}

/// Why a passwordless answer was refused, and whose passkey it named, if anyone's.
struct Refusal {
    account: Option<Account>,
    reason: &'static str,
}

/// Checks a passwordless answer: the account its user handle names must hold the credential
/// it used, and the signature must verify against it with user verification. Answers the
/// account (locked), the passkey updated from the answer, and the answer's counter.
fn check_passwordless(
    state: &AppState,
    connection: &mut DbConnection,
    authentication: DiscoverableAuthentication,
    answer: &PublicKeyCredential,
) -> Result<Result<(Account, StoredPasskey, u32), Refusal>, ApiError> {
    let refused = |account: Option<Account>, reason| Ok(Err(Refusal { account, reason }));
    let Ok((handle, raw_credential_id)) =
        state.webauthn.identify_discoverable_authentication(answer)
    else {
        return refused(None, "no user handle");
    };
    let account_id = handle.to_string();
    // Locked first: ordered after any removal of the passkey or switch of factors meanwhile.
    if !accounts::lock_if_two_factor_enabled(connection, &account_id)? {
        return refused(None, "no such account with two-factor on");
    }
    let Some(mut passkey) =
        passkey_store::find_by_credential_id(connection, &credential_id_text(raw_credential_id))?
            .filter(|passkey| passkey.account_id == account_id)
    else {
        return refused(None, "unknown credential");
    };
    let Some(account) = accounts::find_by_id(connection, &account_id)? else {
        return refused(None, "no account");
    };
    let keys = [DiscoverableKey::from(&passkey.credential)];
    let result =
        match state
            .webauthn
            .finish_discoverable_authentication(answer, authentication, &keys)
        {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return refused(Some(account), COUNTER_WENT_BACKWARDS);
            }
            Err(error) => {
                tracing::info!(%error, "passwordless passkey answer refused");
                return refused(Some(account), "signature or flags refused");
            }
        };
    passkey.credential.update_credential(&result);
    Ok(Ok((account, passkey, result.counter())))
}

fn record_refusal(
    connection: &mut DbConnection,
    account: &Account,
    reason: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let detail = format!("passkey refused: {reason}");
    events::record(
        connection,
        &account.id,
        EventKind::LoginFailed,
        now,
        origin,
        Some(&detail),
    )
}
