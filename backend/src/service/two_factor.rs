//! Switching TOTP two-factor on and off, and recovery codes.

use chrono::{DateTime, TimeDelta, Utc};

use super::login::{accept_recovery_code, accept_totp_code};
use super::{throttle, AppState, Principal, RequestOrigin};
use crate::auth::clock::{db_time, from_db_time};
use crate::auth::qr::qr_svg;
use crate::auth::tokens::AMR_OTP;
use crate::auth::totp::{otpauth_uri, TotpSecret};
use crate::db::accounts::{self, AccountRow};
use crate::db::events::{self, EventKind};
use crate::db::{
    sessions as session_store, throttle as throttle_store, two_factor as code_store, DbConnection,
};
use crate::domain::{Password, RecoveryCode, TotpCode};
use crate::error::ApiError;

pub const RECOVERY_CODE_COUNT: usize = 10;
/// An enrolment not confirmed within this time must start again.
pub const PENDING_ENROLLMENT_LIFETIME_MINUTES: i64 = 30;

#[derive(Debug, Clone)]
pub struct Enrollment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// What the caller offers to prove it is still the account holder, when the sign-in is old.
#[derive(Debug, Clone, Default)]
pub struct Reauthentication {
    pub code: Option<TotpCode>,
    pub recovery_code: Option<RecoveryCode>,
    pub password: Option<Password>,
}

impl Reauthentication {
    fn is_empty(&self) -> bool {
        self.code.is_none() && self.recovery_code.is_none() && self.password.is_none()
    }
}

/// A privileged action is allowed for a while after a sign-in that used every factor the
/// account has; later it needs proof in the request.
fn within_privileged_window(
    state: &AppState,
    principal: &Principal,
    account: &AccountRow,
    now: DateTime<Utc>,
) -> bool {
    let every_factor =
        !account.two_factor_enabled() || principal.amr.iter().any(|method| method == AMR_OTP);
    let window = TimeDelta::from_std(state.settings.privileged_window).unwrap_or(TimeDelta::zero());
    every_factor && now - principal.auth_time <= window
}

/// Checks re-authentication proof. Wrong proofs count toward the lock-out like failed logins,
/// and a code or recovery code is used up like at sign-in.
async fn verify_reauthentication(
    state: &AppState,
    account: &AccountRow,
    proof: Reauthentication,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let (accepted, failure) = if let Some(code) = proof.code {
        let (state_for_db, account_for_db) = (state.clone(), account.clone());
        let check = state.database.run(move |connection| {
            accept_totp_code(&state_for_db, connection, &account_for_db, &code, now)
        });
        let accepted =
            throttle::counted_check(state, account, EventKind::OtpFailed, origin, check).await?;
        (accepted, ApiError::InvalidCode)
    } else if let Some(code) = proof.recovery_code {
        let (state_for_db, account_for_db, origin_for_db) =
            (state.clone(), account.clone(), origin.clone());
        let check = state.database.run(move |connection| {
            let used =
                accept_recovery_code(&state_for_db, connection, &account_for_db, &code, now)?;
            if used {
                events::record(
                    connection,
                    &account_for_db.id,
                    EventKind::RecoveryCodeUsed,
                    db_time(now),
                    &origin_for_db,
                    None,
                )?;
            }
            Ok(used)
        });
        let accepted =
            throttle::counted_check(state, account, EventKind::OtpFailed, origin, check).await?;
        (accepted, ApiError::InvalidCode)
    } else if let Some(password) = proof.password {
        let check = state
            .password_hasher
            .verify(&password, Some(account.password_hash.clone()));
        let accepted =
            throttle::counted_check(state, account, EventKind::LoginFailed, origin, check).await?;
        (accepted, ApiError::InvalidPassword)
    } else {
        return Err(ApiError::ReauthenticationRequired);
    };
    if accepted {
        Ok(())
    } else {
        Err(failure)
    }
}

async fn authorize_privileged(
    state: &AppState,
    principal: &Principal,
    account: &AccountRow,
    proof: Reauthentication,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if proof.is_empty() {
        return if within_privileged_window(state, principal, account, now) {
            Ok(())
        } else {
            Err(ApiError::ReauthenticationRequired)
        };
    }
    verify_reauthentication(state, account, proof, origin, now).await
}

/// Starts (or restarts) enrolment: a new secret, pending until confirmed. Login is unchanged.
pub async fn enroll(
    state: &AppState,
    principal: &Principal,
    password: Option<Password>,
    origin: &RequestOrigin,
) -> Result<Enrollment, ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if account.two_factor_enabled() {
        return Err(ApiError::TwoFactorAlreadyEnabled);
    }
    let proof = Reauthentication {
        password,
        ..Reauthentication::default()
    };
    authorize_privileged(state, principal, &account, proof, origin, now).await?;

    let secret = TotpSecret::generate();
    let ciphertext = state
        .secret_box
        .seal(secret.as_bytes(), account.id.as_bytes())?;
    let account_id = account.id.clone();
    let stored = state
        .database
        .run(move |connection| {
            accounts::set_pending_totp(connection, &account_id, &ciphertext, db_time(now))
        })
        .await?;
    if !stored {
        return Err(ApiError::TwoFactorAlreadyEnabled);
    }
    let uri = otpauth_uri(&state.settings.issuer, &account.username, &secret);
    Ok(Enrollment {
        secret_base32: secret.to_base32(),
        qr_svg: qr_svg(&uri)?,
        otpauth_uri: uri,
    })
}

fn new_recovery_codes(state: &AppState) -> (Vec<String>, Vec<String>) {
    let codes: Vec<RecoveryCode> = (0..RECOVERY_CODE_COUNT)
        .map(|_| RecoveryCode::generate())
        .collect();
    let shown = codes.iter().map(RecoveryCode::display).collect();
    let hashes = codes
        .iter()
        .map(|code| state.secret_box.keyed_hash(code.normalised()))
        .collect();
    (shown, hashes)
}

/// Confirms enrolment with a code from the app: two-factor is on from now, the step is used,
/// other sessions are signed out, and the recovery codes are returned (the only time).
pub async fn confirm(
    state: &AppState,
    principal: &Principal,
    code: &TotpCode,
    origin: &RequestOrigin,
) -> Result<Vec<String>, ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if account.two_factor_enabled() {
        return Err(ApiError::TwoFactorAlreadyEnabled);
    }
    let (Some(pending), Some(created_at)) = (
        account.totp_pending_ciphertext.clone(),
        account.totp_pending_created_at.map(from_db_time),
    ) else {
        return Err(ApiError::NoPendingEnrollment);
    };
    if now - created_at > TimeDelta::minutes(PENDING_ENROLLMENT_LIFETIME_MINUTES) {
        return Err(ApiError::NoPendingEnrollment);
    }
    let secret = TotpSecret::from_bytes(state.secret_box.open(&pending, account.id.as_bytes())?);
    // Counted like any code: a stolen session must not guess its way to the recovery codes.
    let step = secret.matching_step(code, now.timestamp());
    let check = std::future::ready(Ok(step.is_some()));
    if !throttle::counted_check(state, &account, EventKind::OtpFailed, origin, check).await? {
        return Err(ApiError::InvalidCode);
    }
    let step = step.ok_or(ApiError::InvalidCode)?;
    let (shown, hashes) = new_recovery_codes(state);
    let (session_id, origin) = (principal.session_id.clone(), origin.clone());
    state
        .database
        .transaction(move |connection| {
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(ApiError::InvalidToken);
            }
            if !accounts::enable_totp(connection, &account.id, &pending, step, db_time(now))? {
                return Err(ApiError::NoPendingEnrollment);
            }
            code_store::replace_recovery_codes(connection, &account.id, &hashes, db_time(now))?;
            session_store::revoke_all_for_account(
                connection,
                &account.id,
                Some(&session_id),
                "two_factor_enabled",
                db_time(now),
            )?;
            // This session has just proved the code too; its refreshes must carry both factors.
            session_store::set_amr(connection, &session_id, "pwd otp")?;
            events::record(
                connection,
                &account.id,
                EventKind::TwoFactorEnabled,
                db_time(now),
                &origin,
                None,
            )
        })
        .await?;
    Ok(shown)
}

/// Switches two-factor off: secret, recovery codes and failure counters are wiped, and every
/// other session is signed out.
pub async fn disable(
    state: &AppState,
    principal: &Principal,
    proof: Reauthentication,
    origin: &RequestOrigin,
) -> Result<(), ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if !account.two_factor_enabled() {
        return Err(ApiError::TwoFactorNotEnabled);
    }
    authorize_privileged(state, principal, &account, proof, origin, now).await?;
    let (session_id, origin) = (principal.session_id.clone(), origin.clone());
    state
        .database
        .transaction(move |connection| {
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(ApiError::InvalidToken);
            }
            wipe_two_factor(
                connection,
                &account,
                Some(&session_id),
                "two_factor_disabled",
                now,
            )?;
            events::record(
                connection,
                &account.id,
                EventKind::TwoFactorDisabled,
                db_time(now),
                &origin,
                None,
            )
        })
        .await
}

/// Removes every trace of the account's second factor; shared by disable and support reset.
pub(super) fn wipe_two_factor(
    connection: &mut DbConnection,
    account: &AccountRow,
    keep_session: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !accounts::disable_totp(connection, &account.id)? {
        return Err(ApiError::TwoFactorNotEnabled);
    }
    code_store::delete_recovery_codes(connection, &account.id)?;
    code_store::consume_all_challenges(connection, &account.id, db_time(now))?;
    throttle_store::reset(connection, &throttle::login_subject(&account.username_key))?;
    throttle_store::reset(connection, &throttle::reauthentication_subject(&account.id))?;
    session_store::revoke_all_for_account(
        connection,
        &account.id,
        keep_session,
        reason,
        db_time(now),
    )?;
    Ok(())
}

/// New recovery codes; the old ones stop working.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    principal: &Principal,
    proof: Reauthentication,
    origin: &RequestOrigin,
) -> Result<Vec<String>, ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if !account.two_factor_enabled() {
        return Err(ApiError::TwoFactorNotEnabled);
    }
    authorize_privileged(state, principal, &account, proof, origin, now).await?;
    let (shown, hashes) = new_recovery_codes(state);
    let (session_id, origin) = (principal.session_id.clone(), origin.clone());
    state
        .database
        .transaction(move |connection| {
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(ApiError::InvalidToken);
            }
            // Orders concurrent regenerations (and a racing disable): old codes never survive.
            if !accounts::lock_if_two_factor_enabled(connection, &account.id)? {
                return Err(ApiError::TwoFactorNotEnabled);
            }
            code_store::replace_recovery_codes(connection, &account.id, &hashes, db_time(now))?;
            events::record(
                connection,
                &account.id,
                EventKind::RecoveryCodesRegenerated,
                db_time(now),
                &origin,
                None,
            )
        })
        .await?;
    Ok(shown)
}
