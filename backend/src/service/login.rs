//! Signing in: the password step, and for two-factor accounts the code step (a code, a
//! recovery code or a passkey's answer); or a passkey alone. A full sign-in makes the client a
//! known device of the account.
//!
//! Signing in with a passkey alone is started by nobody signed in: its ceremony's state travels
//! sealed in the state token, so asking for options stores nothing, and the answered challenge
//! is recorded ([`crate::db::passwordless_challenges`]) so the token is single use all the
//! same.

use chrono::{DateTime, TimeDelta, Utc};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, PublicKeyCredential, WebauthnError,
};

use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::proof::{
    self, open_assertion, options_json, record_use, to_json, SecondFactor, Verdict,
};
use super::sessions::{grant, open_session, TokenGrant};
use super::throttle::{self, Attempt, Subject};
use super::{two_factor_requirement, AppState};
use crate::auth::device_tokens::DeviceTokens;
use crate::auth::opaque_token;
use crate::auth::tokens::{
    AMR_HARDWARE_KEY, AMR_OTP, AMR_PASSWORD, AMR_TRUSTED_DEVICE, AMR_USER_PRESENCE,
    CHALLENGE_TOKEN_LIFETIME_SECS,
};
use crate::db::accounts::{self, Account};
use crate::db::ceremonies::CeremonyKey;
use crate::db::devices::{self, KnownDevice};
use crate::db::events::{self, EventKind};
use crate::db::in_transaction;
use crate::db::passkeys as passkey_store;
use crate::db::passwordless_challenges;
use crate::db::{two_factor as challenge_store, DbConnection};
use crate::domain::{credential_id_text, StoredPasskey};
use crate::domain::{Password, RequestOrigin, SecondFactorMethod, Username};
use crate::monitoring::SignInOutcome;

#[derive(Debug)]
pub enum LoginOutcome {
    Authenticated(TokenGrant),
    /// Password right, second factor still to come, by one of `methods`.
    OtpRequired {
        challenge_token: String,
        expires_in: i64,
        methods: Vec<SecondFactorMethod>,
    },
}

/// The password step. Unknown usernames and wrong passwords answer the same, in the same time.
/// `devices` are the device tokens the client holds from earlier full sign-ins, if any.
pub async fn log_in(
    state: &AppState,
    username: &str,
    password: &Password,
    devices: &DeviceTokens,
    origin: &RequestOrigin,
) -> Result<LoginOutcome, ServiceError> {
    let now = state.now();
    let username_key = Username::key_of(username);
    let device_hashes = devices.hashes();
    let (attempt, account, device_hashes) = {
        let origin = origin.clone();
        state
            .database
            .run(move |connection| -> Result<_, ServiceError> {
                let account = accounts::find_by_username_key(connection, &username_key)?;
                // Looked up whether or not the account exists: the same work either way.
                let device = known_device_of(connection, &device_hashes, account.as_ref())?;
                let subjects = password_subjects(&username_key, device.as_ref(), &origin);
                let attempt = proof::count_password_attempt(connection, &subjects, now)?;
                Ok((attempt, account, device_hashes))
            })
            .await?
    };
    let stored_hash = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let (attempt, matches) = proof::check_password(state, attempt, password, stored_hash).await?;

    let (state, origin) = (state.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction_committing_refusals(move |connection| -> Result<_, ServiceError> {
            let account_id = account.as_ref().map(|account| account.id.clone());
            let verdict = proof::settle_password(
                connection,
                attempt,
                matches,
                account_id.as_deref(),
                Refusal::WrongCredentials,
                &origin,
                now,
            )?;
            let attempt = match verdict {
                Verdict::Accepted(attempt) => attempt,
                Verdict::Refused(refusal) => return Err(refusal.into()),
            };
            let account =
                account.ok_or_else(|| ServiceError::internal("password of no account"))?;
            let two_factor = account.two_factor_enabled();
            // Ordered after any password change or two-factor switch that committed while
            // the hash was checked; such a change makes this sign-in fail.
            if !accounts::lock_if_unchanged(
                connection,
                &account.id,
                &account.password_hash,
                two_factor,
            )? {
                attempt.released(connection)?;
                return Err(Refusal::WrongCredentials.into());
            }
            // Told only now, to whoever knows the password: nobody else learns of the block.
            if let Some(refusal) =
                proof::refuse_blocked_password(connection, &account, &origin, now)?
            {
                attempt.released(connection)?;
                return Err(refusal.into());
            }
            // The password step is passed: its counters start again.
            attempt.succeeded(connection)?;
            // A device trusted within the last 30 days stands in for the code (read again
            // here: any change of a factor since the password check has ended the trust).
            // Only this account's own device: a token made for another never counts.
            let device = known_device_of(connection, &device_hashes, Some(&account))?;
            let trusted = device.as_ref().is_some_and(|device| device.is_trusted(now));
            if two_factor && trusted {
                let sign_in = SignIn {
                    methods: &[AMR_PASSWORD, AMR_TRUSTED_DEVICE],
                    device,
                    remember: false,
                };
                let grant = complete_sign_in(&state, connection, &account, sign_in, &origin, now)?;
                return Ok(LoginOutcome::Authenticated(grant));
            }
            if two_factor {
                let device_hash = device.as_ref().map(|device| device.token_hash.as_str());
                let challenge_token =
                    open_challenge(&state, connection, &account, device_hash, now)?;
                let passkeys = crate::db::passkeys::count_for_account(connection, &account.id)?;
                return Ok(LoginOutcome::OtpRequired {
                    challenge_token,
                    expires_in: CHALLENGE_TOKEN_LIFETIME_SECS,
                    methods: SecondFactorMethod::of(account.totp_enabled(), passkeys > 0),
                });
            }
            let sign_in = SignIn {
                methods: &[AMR_PASSWORD],
                device,
                remember: false,
            };
            let grant = complete_sign_in(&state, connection, &account, sign_in, &origin, now)?;
            Ok(LoginOutcome::Authenticated(grant))
        })
        .await
}

/// The known device of `account` among the presented tokens' hashes, if any. Looked up
/// whoever holds them, so an unknown account costs the same query.
pub(super) fn known_device_of(
    connection: &mut DbConnection,
    token_hashes: &[String],
    account: Option<&Account>,
) -> Result<Option<KnownDevice>, ServiceError> {
    if token_hashes.is_empty() {
        return Ok(None);
    }
    let holders = devices::find_by_tokens(connection, token_hashes)?;
    Ok(account.and_then(|account| {
        holders
            .into_iter()
            .find(|device| device.account_id == account.id)
    }))
}

/// What a password attempt counts against: a known device of the account has its own
/// counter; any other client counts per (login name, network), against the login name's
/// ceiling, and against its network's limit. So a stranger can slow down strangers, never
/// the owner's own browser.
fn password_subjects(
    username_key: &str,
    device: Option<&KnownDevice>,
    origin: &RequestOrigin,
) -> Vec<Subject> {
    if let Some(device) = device {
        return vec![Subject::KnownDevice {
            device_id: device.id.clone(),
        }];
    }
    let network = origin
        .ip
        .as_deref()
        .map_or_else(|| "unknown".to_string(), throttle::client_network);
    let mut subjects = vec![
        Subject::PasswordFromNetwork {
            username_key: username_key.to_string(),
            network,
        },
        Subject::AccountCeiling {
            username_key: username_key.to_string(),
        },
    ];
    subjects.extend(proof::network_subject(origin));
    subjects
}

fn open_challenge(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    device_token_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    let challenge_id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + TimeDelta::seconds(CHALLENGE_TOKEN_LIFETIME_SECS);
    challenge_store::insert_challenge(
        connection,
        &challenge_id,
        &account.id,
        device_token_hash,
        now,
        expires_at,
    )?;
    Ok(state
        .token_keys
        .issue_challenge(&account.id, &challenge_id, now)?)
}

/// The code step: a TOTP code, a passkey (answering the options of
/// [`sign_in_options`]) or a recovery code against a challenge from the
/// password step.
/// One transaction: the account's lock orders every code attempt of the account, so the
/// challenge's five attempts and the account's counter hold exactly under any concurrency.
/// `remember_device` trusts the client for [`TRUSTED_DEVICE_DAYS`] (no code asked meanwhile).
pub async fn answer_challenge(
    state: &AppState,
    challenge_token: &str,
    factor: SecondFactor,
    remember_device: bool,
    origin: &RequestOrigin,
) -> Result<TokenGrant, ServiceError> {
    let now = state.now();
    let claims = state.token_keys.verify_challenge(challenge_token, now)?;
    let (state, origin) = (state.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction_committing_refusals(move |connection| {
            // First a write: it orders this after any two-factor switch that committed
            // meanwhile (which ended the challenge), and on SQLite takes the write lock at once.
            if !accounts::lock_if_two_factor_enabled(connection, &claims.sub)? {
                return Err(Refusal::UnknownChallenge.into());
            }
            let account =
                accounts::find_by_id(connection, &claims.sub)?.ok_or(Refusal::UnknownChallenge)?;
            let (verdict, known_device) = take_attempt_and_verify(
                &state,
                connection,
                &account,
                &claims.jti,
                &factor,
                &origin,
                now,
            )?;
            let attempt = match verdict {
                Verdict::Accepted(attempt) => attempt,
                Verdict::Refused(refusal) => {
                    // A passkey's failure is no sign that the password leaked: a browser
                    // that asked for options twice fails its first answer.
                    if !matches!(factor, SecondFactor::Passkey(_)) {
                        tell_of_wrong_code(&state, connection, &account, &origin, now)?;
                    }
                    return Err(refusal.into());
                }
            };
            // Settled first: should the challenge be gone after all, a right code still
            // counts as right.
            attempt.succeeded(connection)?;
            if !challenge_store::consume_challenge(connection, &claims.jti, now)? {
                return Err(Refusal::UnknownChallenge.into());
            }
            let methods: &[&str] = match factor {
                SecondFactor::Passkey(_) => &[AMR_PASSWORD, AMR_HARDWARE_KEY],
                SecondFactor::Code(_) | SecondFactor::RecoveryCode(_) => &[AMR_PASSWORD, AMR_OTP],
            };
            let sign_in = SignIn {
                methods,
                device: known_device,
                remember: remember_device,
            };
            complete_sign_in(&state, connection, &account, sign_in, &origin, now)
        })
        .await
}

/// The code step's count and check, all or none (a savepoint): one of the challenge's own
/// five attempts first, so a spent challenge costs the account nothing; then `factor`,
/// counted against the account and (but from the account's known device) the client network.
/// An account or network throttled at the moment does not spend the challenge's attempt.
/// Answers the verdict and the known device the challenge remembers, if any.
fn take_attempt_and_verify(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    challenge_id: &str,
    factor: &SecondFactor,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(Verdict<Attempt>, Option<KnownDevice>), ServiceError> {
    in_transaction(connection, |connection| {
        if !challenge_store::take_challenge_attempt(connection, challenge_id, now)? {
            let refusal = explain_unusable_challenge(connection, challenge_id, &account.id)?;
            return Err(refusal.into());
        }
        let challenge = challenge_store::find_challenge(connection, challenge_id)?
            .ok_or(Refusal::UnknownChallenge)?;
        let mut subjects = vec![Subject::SecondFactor {
            account_id: account.id.clone(),
        }];
        // A known device is exempt from its network's limit here as at the password step, or
        // a stranger behind the same address could hold the owner back at the code.
        let device_hashes: Vec<String> = challenge.device_token_hash.into_iter().collect();
        let known_device = known_device_of(connection, &device_hashes, Some(account))?;
        if known_device.is_none() {
            subjects.extend(proof::network_subject(origin));
        }
        let ceremony = CeremonyKey::SignIn {
            challenge_id: challenge_id.to_string(),
        };
        let verdict = proof::verify_second_factor(
            state,
            connection,
            account,
            factor,
            Some(&ceremony),
            &subjects,
            origin,
            now,
        )?;
        Ok((verdict, known_device))
    })
}

/// A right password (or a reset link) met a wrong code: the holder hears of it, at most once
/// an hour.
pub(super) fn tell_of_wrong_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let hourly = Subject::WrongCodeNotice {
        account_id: account.id.clone(),
    };
    match throttle::begin(connection, &[hourly], now) {
        Ok(attempt) => attempt.kept(connection)?,
        // Told within the hour already.
        Err(ServiceError::Refused(Refusal::TooManyAttempts { .. })) => return Ok(()),
        Err(error) => return Err(error),
    }
    notifications::queue_notice(
        state,
        connection,
        account,
        Notice::WrongCodeAfterPassword,
        origin,
        now,
    )
}

/// Why a challenge took no attempt: spent on wrong codes, or otherwise dead (sign in again).
fn explain_unusable_challenge(
    connection: &mut DbConnection,
    challenge_id: &str,
    account_id: &str,
) -> Result<Refusal, ServiceError> {
    let challenge = challenge_store::find_challenge(connection, challenge_id)?;
    Ok(match challenge {
        Some(challenge)
            if challenge.account_id == account_id
                && challenge.consumed_at.is_none()
                && challenge.failed_attempts >= challenge_store::MAX_WRONG_CODES_PER_CHALLENGE =>
        {
            Refusal::ChallengeExhausted
        }
        _ => Refusal::UnknownChallenge,
    })
}

/// How a full sign-in ends: which methods it used, and whether the client asked to be
/// trusted for [`TRUSTED_DEVICE_DAYS`].
pub(super) struct SignIn<'a> {
    pub methods: &'a [&'a str],
    /// This account's known device among what the client presented, if any.
    pub device: Option<KnownDevice>,
    pub remember: bool,
}

/// "Don't ask for a code on this device for 30 days."
pub const TRUSTED_DEVICE_DAYS: i64 = 30;

/// Every factor is proven: make the client a known device of the account (or note the use of
/// one it is already), trust it if asked, open a session, record the sign-in. Inside the
/// caller's transaction. Answers a device token only when a new one had to be made.
pub(super) fn complete_sign_in(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    sign_in: SignIn<'_>,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<TokenGrant, ServiceError> {
    let amr: Vec<String> = sign_in.methods.iter().map(|m| m.to_string()).collect();
    // The first sign-in after a requirement reached the account starts its deadline.
    two_factor_requirement::settle(connection, &state.settings, &mut account.clone(), now)?;
    let new_device = sign_in.device.is_none();
    // The account's first sign-in ever; no known devices alone would not do, since a reset or
    // a not-me report forgets them all.
    let first_device = new_device
        && devices::ids_of_account(connection, &account.id)?.is_empty()
        && !events::any_of_kind(connection, &account.id, EventKind::LoginSucceeded)?;
    let device = remember_device(
        connection,
        account,
        sign_in.device,
        sign_in.remember,
        origin,
        now,
    )?;
    let (session, refresh_token) =
        open_session(connection, account, &amr, Some(device.id), origin, now)?;
    let detail = format!("methods: {}", amr.join(" "));
    events::record(
        connection,
        &account.id,
        EventKind::LoginSucceeded,
        now,
        origin,
        Some(&detail),
    )?;
    if new_device && !first_device {
        // The account's first device is its holder's, who just made it; any later one may
        // be whoever learnt the password.
        notifications::queue_notice(
            state,
            connection,
            account,
            Notice::SignInFromNewDevice,
            origin,
            now,
        )?;
    }
    let mut grant = grant(state, &session, account.role, refresh_token, now)?;
    grant.device_token = device.new_token;
    grant.replaced_device_hash = device.replaced_hash;
    Ok(grant)
}

/// The device a sign-in came from, and the token it is to hold from now on, if a new one.
struct RememberedDevice {
    id: String,
    new_token: Option<String>,
    /// The stored form of the account's earlier token that `new_token` replaces.
    replaced_hash: Option<String>,
}

/// Makes the client a known device of the account, or notes the use of the one it is. Trust
/// ("don't ask for a code") always comes with a fresh token made for this account alone, so
/// it never rests on a token anyone else saw: a token planted in the browser beforehand is
/// worthless once the holder ticks the box. A token made for another account never makes
/// this one's device (`own` is only ever this account's).
fn remember_device(
    connection: &mut DbConnection,
    account: &Account,
    own: Option<KnownDevice>,
    trust: bool,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<RememberedDevice, ServiceError> {
    let trusted_until = trust.then(|| now + TimeDelta::days(TRUSTED_DEVICE_DAYS));
    if let Some(own) = own {
        if !trust && devices::touch(connection, &own.id, now)? {
            return Ok(RememberedDevice {
                id: own.id,
                new_token: None,
                replaced_hash: None,
            });
        }
        let fresh = opaque_token::generate();
        if devices::reissue(connection, &own.id, &fresh.hash, trusted_until, now)? {
            return Ok(RememberedDevice {
                id: own.id,
                new_token: Some(fresh.token),
                replaced_hash: Some(own.token_hash),
            });
        }
        // Forgotten meanwhile: it becomes a new device below.
    }
    let fresh = opaque_token::generate();
    let device = KnownDevice {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account.id.clone(),
        token_hash: fresh.hash,
        trusted_until,
    };
    devices::insert(connection, &device, origin.user_agent.as_deref(), now)?;
    Ok(RememberedDevice {
        id: device.id,
        new_token: Some(fresh.token),
        replaced_hash: None,
    })
}

/// Why an answer whose key's signature counter is behind the stored one is refused.
const COUNTER_WENT_BACKWARDS: &str = "its signature counter went backwards (a cloned key?)";

/// Options for a passwordless sign-in, and the token carrying its ceremony.
#[derive(Debug)]
pub struct PasswordlessOptions {
    pub options: serde_json::Value,
    pub state_token: String,
    pub expires_in: i64,
}

/// The request options for the passkey step of a sign-in, for the account of a challenge from
/// the password step. A new call replaces the challenge's earlier options.
pub async fn sign_in_options(
    state: &AppState,
    challenge_token: &str,
) -> Result<serde_json::Value, ServiceError> {
    let now = state.now();
    let claims = state.token_keys.verify_challenge(challenge_token, now)?;
    let state = state.clone();
    state
        .database
        .clone()
        .transaction(move |connection| {
            // Ordered after any switch of factors that ended the challenge meanwhile.
            if !accounts::lock_if_two_factor_enabled(connection, &claims.sub)? {
                return Err(Refusal::UnknownChallenge.into());
            }
            let challenge = challenge_store::find_challenge(connection, &claims.jti)?
                .filter(|challenge| {
                    challenge.account_id == claims.sub
                        && challenge.consumed_at.is_none()
                        && crate::domain::clock::from_db_time(challenge.expires_at) > now
                })
                .ok_or(Refusal::UnknownChallenge)?;
            if challenge.failed_attempts >= challenge_store::MAX_WRONG_CODES_PER_CHALLENGE {
                return Err(Refusal::ChallengeExhausted.into());
            }
            let key = CeremonyKey::SignIn {
                challenge_id: claims.jti.clone(),
            };
            let expires_at = crate::domain::clock::from_db_time(challenge.expires_at);
            open_assertion(&state, connection, &claims.sub, &key, expires_at)
        })
        .await
}

/// Options for signing in with a passkey alone: any passkey the browser's authenticators
/// hold for this site may answer (discoverable credentials, user verification required).
/// Nothing is stored but the count against the client's site: the ceremony's state travels
/// sealed in the state token, so no number of networks asking can fill anything up.
pub async fn passwordless_options(
    state: &AppState,
    origin: &RequestOrigin,
) -> Result<PasswordlessOptions, ServiceError> {
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
        .map_err(|error| ServiceError::internal(format!("passkey options: {error}")))?;
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
) -> Result<TokenGrant, ServiceError> {
    let now = state.now();
    let ceremony = state
        .token_keys
        .verify_passkey_state(&state.secret_box, state_token, now)?;
    let authentication: DiscoverableAuthentication = serde_json::from_slice(&ceremony.state)
        .map_err(|error| {
            ServiceError::internal(format!("sealed ceremony state unreadable: {error}"))
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
        .transaction_committing_refusals(move |connection| {
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
                return Err(Refusal::UnknownChallenge.into());
            }
            let (account, passkey, counter) =
                match check_passwordless(&state, connection, authentication, &answer)? {
                    PasswordlessAnswer::Verified {
                        account,
                        passkey,
                        counter,
                    } => (account, *passkey, counter),
                    PasswordlessAnswer::Refused { account, reason } => {
                        attempt.failed(connection, now)?;
                        if let Some(account) = &account {
                            record_refusal(connection, account, reason, &origin, now)?;
                        }
                        return Err(Refusal::PasskeyRefused.into());
                    }
                };
            if !passkey_store::record_use(connection, &passkey, counter, now)? {
                attempt.failed(connection, now)?;
                record_refusal(connection, &account, COUNTER_WENT_BACKWARDS, &origin, now)?;
                return Err(Refusal::PasskeyRefused.into());
            }
            attempt.succeeded(connection)?;
            record_use(connection, &account, &passkey, &origin, now)?;
            let sign_in = SignIn {
                methods: &[AMR_HARDWARE_KEY, AMR_USER_PRESENCE],
                device: known_device_of(connection, &device_hashes, Some(&account))?,
                remember: false,
            };
            complete_sign_in(&state, connection, &account, sign_in, &origin, now)
        })
        .await
}

/// Counts how a sign-in step ended, for the metrics; `success` is what an `Ok` came to.
pub fn count_sign_in<T>(result: &Result<T, ServiceError>, success: SignInOutcome) {
    use crate::monitoring::sign_in;
    let outcome = match result {
        Ok(_) => success,
        Err(ServiceError::Refused(refusal)) => match refusal {
            Refusal::WrongCredentials => SignInOutcome::WrongPassword,
            Refusal::WrongCode | Refusal::PasskeyRefused => SignInOutcome::WrongCode,
            Refusal::TooManyAttempts { locked: true, .. } => SignInOutcome::Locked,
            Refusal::TooManyAttempts { locked: false, .. } => SignInOutcome::Throttled,
            Refusal::PasswordSignInBlocked => SignInOutcome::Blocked,
            Refusal::UnknownChallenge | Refusal::ChallengeExhausted => {
                SignInOutcome::ChallengeInvalid
            }
            _ => SignInOutcome::Error,
        },
        Err(ServiceError::Overloaded { .. }) => SignInOutcome::Busy,
        Err(_) => SignInOutcome::Error,
    };
    sign_in(outcome);
}

/// The metrics' name of a second factor.
pub fn factor_label(factor: &SecondFactor) -> &'static str {
    match factor {
        SecondFactor::Code(_) => "totp",
        SecondFactor::RecoveryCode(_) => "recovery_code",
        SecondFactor::Passkey(_) => "passkey",
    }
}

fn network_subjects(origin: &RequestOrigin) -> Vec<Subject> {
    proof::network_subject(origin).into_iter().collect()
}

/// What a passwordless answer came to.
enum PasswordlessAnswer {
    /// The account (locked), the passkey updated from the answer (boxed: a credential is
    /// large), and the answer's counter.
    Verified {
        account: Account,
        passkey: Box<StoredPasskey>,
        counter: u32,
    },
    /// Refused, and whose passkey it named, if anyone's.
    Refused {
        account: Option<Account>,
        reason: &'static str,
    },
}

/// Checks a passwordless answer: the account its user handle names must hold the credential
/// it used, and the signature must verify against it with user verification.
fn check_passwordless(
    state: &AppState,
    connection: &mut DbConnection,
    authentication: DiscoverableAuthentication,
    answer: &PublicKeyCredential,
) -> Result<PasswordlessAnswer, ServiceError> {
    let refused =
        |account: Option<Account>, reason| Ok(PasswordlessAnswer::Refused { account, reason });
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
    Ok(PasswordlessAnswer::Verified {
        account,
        passkey: Box::new(passkey),
        counter: result.counter(),
    })
}

fn record_refusal(
    connection: &mut DbConnection,
    account: &Account,
    reason: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let detail = format!("passkey refused: {reason}");
    Ok(events::record(
        connection,
        &account.id,
        EventKind::LoginFailed,
        now,
        origin,
        Some(&detail),
    )?)
}
