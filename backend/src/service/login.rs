//! Signing in: the password step, and for two-factor accounts the code step.

use chrono::{DateTime, TimeDelta, Utc};

use super::sessions::{grant, open_session, TokenGrant};
use super::throttle::{self, Attempt};
use super::{AppState, RequestOrigin};
use crate::auth::clock::db_time;
use crate::auth::tokens::{AMR_OTP, AMR_PASSWORD, CHALLENGE_TOKEN_LIFETIME_SECS};
use crate::auth::totp::TotpSecret;
use crate::db::accounts::{self, AccountRow};
use crate::db::events::{self, EventKind};
use crate::db::{in_transaction, two_factor as challenge_store, DbConnection};
use crate::domain::{Password, RecoveryCode, Role, TotpCode, Username};
use crate::error::ApiError;

#[derive(Debug)]
pub enum LoginOutcome {
    Authenticated(TokenGrant),
    /// Password right, second factor still to come.
    OtpRequired {
        challenge_token: String,
        expires_in: i64,
    },
}

/// The second factor offered at `POST /auth/otp`.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    Code(TotpCode),
    RecoveryCode(RecoveryCode),
}

/// The password step. Unknown usernames and wrong passwords answer the same, in the same time.
pub async fn log_in(
    state: &AppState,
    username: &str,
    password: &Password,
    origin: &RequestOrigin,
) -> Result<LoginOutcome, ApiError> {
    let now = state.now();
    let username_key = Username::key_of(username);
    let (attempt, account) = {
        let (key, origin) = (username_key.clone(), origin.clone());
        state
            .database
            .run(move |connection| {
                let attempt = throttle::begin_attempt(
                    connection,
                    &throttle::login_subject(&key),
                    &origin,
                    now,
                )?;
                Ok((attempt, accounts::find_by_username_key(connection, &key)?))
            })
            .await?
    };
    let stored_hash = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let verified = state.password_hasher.verify(password, stored_hash).await;

    let origin = origin.clone();
    let state_for_db = state.clone();
    state
        .database
        .run(move |connection| {
            let password_matches = match verified {
                Ok(matches) => matches,
                Err(error) => {
                    // Not a guess (e.g. hashing overloaded): give the attempt back.
                    throttle::release(connection, attempt)?;
                    return Err(error);
                }
            };
            let account_id = account.as_ref().map(|account| account.id.clone());
            let Some(account) = account.filter(|_| password_matches) else {
                throttle::attempt_failed(
                    connection,
                    attempt,
                    account_id.as_deref(),
                    EventKind::LoginFailed,
                    &origin,
                    now,
                )?;
                return Err(ApiError::InvalidCredentials);
            };
            let two_factor = account.two_factor_enabled();
            let outcome = in_transaction(connection, |connection| {
                // Ordered after any password change or two-factor switch that committed while
                // the hash was checked; such a change makes this sign-in fail.
                if !accounts::lock_if_unchanged(
                    connection,
                    &account.id,
                    &account.password_hash,
                    two_factor,
                )? {
                    return Err(ApiError::InvalidCredentials);
                }
                if two_factor {
                    // The right password is no failure, but signs no one in yet.
                    throttle::release(connection, attempt.clone())?;
                    let challenge_token = open_challenge(&state_for_db, connection, &account, now)?;
                    return Ok(LoginOutcome::OtpRequired {
                        challenge_token,
                        expires_in: CHALLENGE_TOKEN_LIFETIME_SECS,
                    });
                }
                let grant = complete_sign_in(
                    &state_for_db,
                    connection,
                    &account,
                    &[AMR_PASSWORD],
                    &origin,
                    attempt.clone(),
                )?;
                Ok(LoginOutcome::Authenticated(grant))
            });
            if outcome.is_err() {
                throttle::release(connection, attempt)?;
            }
            outcome
        })
        .await
}

fn open_challenge(
    state: &AppState,
    connection: &mut DbConnection,
    account: &AccountRow,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let challenge_id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + TimeDelta::seconds(CHALLENGE_TOKEN_LIFETIME_SECS);
    challenge_store::insert_challenge(
        connection,
        &challenge_id,
        &account.id,
        db_time(now),
        db_time(expires_at),
    )?;
    state
        .token_keys
        .issue_challenge(&account.id, &challenge_id, now)
}

/// The code step: a TOTP code or a recovery code against a challenge from the password step.
pub async fn verify_second_factor(
    state: &AppState,
    challenge_token: &str,
    factor: SecondFactor,
    origin: &RequestOrigin,
) -> Result<TokenGrant, ApiError> {
    let now = state.now();
    let claims = state.token_keys.verify_challenge(challenge_token, now)?;
    let state = state.clone();
    let origin = origin.clone();
    state
        .database
        .clone()
        .run(move |connection| {
            let account = accounts::find_by_id(connection, &claims.sub)?
                .filter(AccountRow::two_factor_enabled)
                .ok_or(ApiError::InvalidChallenge)?;
            throttle::ensure_ip_allowed(connection, &origin, now)?;
            // The challenge's own five attempts first, so a spent challenge costs the account
            // nothing; then the account's.
            if !challenge_store::take_challenge_attempt(connection, &claims.jti, db_time(now))? {
                return Err(explain_unusable_challenge(
                    connection,
                    &claims.jti,
                    &account.id,
                )?);
            }
            let attempt = throttle::begin_attempt(
                connection,
                &throttle::login_subject(&account.username_key),
                &origin,
                now,
            )?;
            // The factor is used up only together with the challenge and the new session: a
            // request that loses the race for the challenge burns no recovery code.
            let signed_in = in_transaction(connection, |connection| {
                // Ordered after any password change or two-factor switch meanwhile, which
                // would have ended this challenge.
                if !accounts::lock_if_unchanged(
                    connection,
                    &account.id,
                    &account.password_hash,
                    true,
                )? {
                    return Err(ApiError::InvalidChallenge);
                }
                let accepted = match &factor {
                    SecondFactor::Code(code) => {
                        accept_totp_code(&state, connection, &account, code, now)?
                    }
                    SecondFactor::RecoveryCode(code) => {
                        accept_recovery_code(&state, connection, &account, code, now)?
                    }
                };
                if !accepted {
                    return Ok(None);
                }
                if !challenge_store::consume_challenge(connection, &claims.jti, db_time(now))? {
                    return Err(ApiError::InvalidChallenge);
                }
                if let SecondFactor::RecoveryCode(_) = factor {
                    events::record(
                        connection,
                        &account.id,
                        EventKind::RecoveryCodeUsed,
                        db_time(now),
                        &origin,
                        None,
                    )?;
                }
                complete_sign_in(
                    &state,
                    connection,
                    &account,
                    &[AMR_PASSWORD, AMR_OTP],
                    &origin,
                    attempt.clone(),
                )
                .map(Some)
            });
            match signed_in {
                Ok(Some(grant)) => Ok(grant),
                Ok(None) => {
                    throttle::attempt_failed(
                        connection,
                        attempt,
                        Some(&account.id),
                        EventKind::OtpFailed,
                        &origin,
                        now,
                    )?;
                    Err(ApiError::InvalidCode)
                }
                Err(error) => {
                    throttle::release(connection, attempt)?;
                    Err(error)
                }
            }
        })
        .await
}

/// Why a challenge took no attempt: exhausted (throttled) or otherwise dead (sign in again).
fn explain_unusable_challenge(
    connection: &mut DbConnection,
    challenge_id: &str,
    account_id: &str,
) -> Result<ApiError, ApiError> {
    let challenge = challenge_store::find_challenge(connection, challenge_id)?;
    Ok(match challenge {
        Some(challenge)
            if challenge.account_id == account_id
                && challenge.consumed_at.is_none()
                && challenge.failed_attempts >= challenge_store::MAX_WRONG_CODES_PER_CHALLENGE =>
        {
            ApiError::ChallengeExhausted
        }
        _ => ApiError::InvalidChallenge,
    })
}

/// Checks a TOTP code against the account's active secret and claims its step (replay-proof).
pub fn accept_totp_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &AccountRow,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some(ciphertext) = account.totp_secret_ciphertext.as_deref() else {
        return Ok(false);
    };
    let secret = TotpSecret::from_bytes(state.secret_box.open(ciphertext, account.id.as_bytes())?);
    match secret.matching_step(code, now.timestamp()) {
        Some(step) => accounts::claim_totp_step(connection, &account.id, ciphertext, step),
        None => Ok(false),
    }
}

/// Uses one of the account's recovery codes, if the code is one of them and unused.
pub fn accept_recovery_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &AccountRow,
    code: &RecoveryCode,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let code_hash = state.secret_box.keyed_hash(code.normalised());
    challenge_store::use_recovery_code(connection, &account.id, &code_hash, db_time(now))
}

/// Every factor is proven: reset the failure count, open a session, record the sign-in.
fn complete_sign_in(
    state: &AppState,
    connection: &mut DbConnection,
    account: &AccountRow,
    methods: &[&str],
    origin: &RequestOrigin,
    attempt: Attempt,
) -> Result<TokenGrant, ApiError> {
    let now = state.now();
    let role = Role::from_db(&account.role)
        .ok_or_else(|| ApiError::internal("unknown role in database"))?;
    let amr: Vec<String> = methods.iter().map(|method| method.to_string()).collect();
    let (session, refresh_token) = in_transaction(connection, |connection| {
        let opened = open_session(connection, account, &amr, now, now)?;
        throttle::signed_in(connection, attempt)?;
        let detail = format!("methods: {}", amr.join(" "));
        events::record(
            connection,
            &account.id,
            EventKind::LoginSucceeded,
            db_time(now),
            origin,
            Some(&detail),
        )?;
        Ok::<_, ApiError>(opened)
    })?;
    grant(state, &session, role, refresh_token, now)
}
