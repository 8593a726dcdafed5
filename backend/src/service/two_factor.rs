//! Switching TOTP two-factor on and off, and recovery codes.

use chrono::{DateTime, TimeDelta, Utc};

use super::notifications::{self, Notice};
use super::proof::{self, Proof, Verdict};
use super::{throttle, AppState, Principal, RequestOrigin};
use crate::auth::qr::qr_svg;
use crate::auth::tokens::{AMR_OTP, AMR_PASSWORD};
use crate::auth::totp::{otpauth_uri, TotpSecret};
use crate::db::accounts::{self, Account};
use crate::db::events::EventKind;
use crate::db::{sessions as session_store, two_factor as code_store, DbConnection};
use crate::domain::{RecoveryCode, TotpCode};
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

/// Starts (or restarts) enrolment: a new secret, pending until confirmed. Login is unchanged.
pub async fn enroll(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<Enrollment, ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if account.two_factor_enabled() {
        return Err(ApiError::TwoFactorAlreadyEnabled);
    }
    let authority = proof::authorize_privileged(state, principal, proof, origin).await?;
    let secret = TotpSecret::generate();
    let ciphertext = state
        .secret_box
        .seal(secret.as_bytes(), account.id.as_bytes())?;
    let (state_for_db, session_id, origin) =
        (state.clone(), principal.session_id.clone(), origin.clone());
    let account_for_db = account.clone();
    state
        .database
        .transaction(move |connection| {
            let account = account_for_db;
            if !accounts::lock_if_two_factor_disabled(connection, &account.id)? {
                return proof::give_back(connection, authority, ApiError::TwoFactorAlreadyEnabled);
            }
            match proof::admit(
                &state_for_db,
                connection,
                &account,
                &session_id,
                authority,
                &origin,
                now,
            )? {
                Verdict::Accepted(()) => {}
                Verdict::Refused(error) => return Ok(Err(error)),
            }
            accounts::set_pending_totp(connection, &account.id, &ciphertext, now)?;
            Ok(Ok(()))
        })
        .await??;
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
    if principal.account.two_factor_enabled() {
        return Err(ApiError::TwoFactorAlreadyEnabled);
    }
    let (shown, hashes) = new_recovery_codes(state);
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    let (account_id, code) = (principal.account_id.clone(), code.clone());
    state
        .database
        .clone()
        .transaction(move |connection| {
            if !accounts::lock_if_two_factor_disabled(connection, &account_id)? {
                return Err(ApiError::TwoFactorAlreadyEnabled);
            }
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(ApiError::InvalidToken);
            }
            let account =
                accounts::find_by_id(connection, &account_id)?.ok_or(ApiError::InvalidToken)?;
            let (Some(pending), Some(created_at)) = (
                account.totp_pending_ciphertext.clone(),
                account.totp_pending_created_at,
            ) else {
                return Err(ApiError::NoPendingEnrollment);
            };
            if now - created_at > TimeDelta::minutes(PENDING_ENROLLMENT_LIFETIME_MINUTES) {
                return Err(ApiError::NoPendingEnrollment);
            }
            let secret =
                TotpSecret::from_bytes(state.secret_box.open(&pending, account.id.as_bytes())?);
            // Counted like any code: a stolen session must not guess its way to the recovery codes.
            let step = match proof::verify_enrolment_code(
                connection, &account, &secret, &code, &origin, now,
            )? {
                Verdict::Accepted(step) => step,
                Verdict::Refused(error) => return Ok(Err(error)),
            };
            if !accounts::enable_totp(connection, &account.id, &pending, step, now)? {
                return Err(ApiError::NoPendingEnrollment);
            }
            code_store::replace_recovery_codes(connection, &account.id, &hashes, now)?;
            super::devices::end_all_trust(connection, &account.id, Some(&session_id), now)?;
            crate::db::api_tokens::revoke_all_for_account(connection, &account.id, now)?;
            session_store::revoke_all_for_account(
                connection,
                &account.id,
                Some(&session_id),
                "two_factor_enabled",
                now,
            )?;
            // This session has just proved the code too; its refreshes must carry both factors.
            session_store::set_amr(connection, &session_id, &[AMR_PASSWORD, AMR_OTP])?;
            notifications::record_and_notify(
                &state,
                connection,
                &account,
                EventKind::TwoFactorEnabled,
                None,
                Notice::TwoFactorEnabled,
                &origin,
                now,
            )?;
            Ok(Ok(()))
        })
        .await??;
    Ok(shown)
}

/// Switches two-factor off: secret, recovery codes and failure counters are wiped, and every
/// other session is signed out.
pub async fn disable(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(), ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if !account.two_factor_enabled() {
        return Err(ApiError::TwoFactorNotEnabled);
    }
    let authority = proof::authorize_privileged(state, principal, proof, origin).await?;
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction(move |connection| {
            if !accounts::lock_if_two_factor_enabled(connection, &account.id)? {
                return proof::give_back(connection, authority, ApiError::TwoFactorNotEnabled);
            }
            match proof::admit(
                &state,
                connection,
                &account,
                &session_id,
                authority,
                &origin,
                now,
            )? {
                Verdict::Accepted(()) => {}
                Verdict::Refused(error) => return Ok(Err(error)),
            }
            wipe_two_factor(
                connection,
                &account,
                Some(&session_id),
                "two_factor_disabled",
                now,
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
            Ok(Ok(()))
        })
        .await?
}

/// Removes every trace of the account's second factor; shared by disable and support reset.
/// The caller holds the account row's lock.
pub(super) fn wipe_two_factor(
    connection: &mut DbConnection,
    account: &Account,
    keep_session: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !accounts::disable_totp(connection, &account.id)? {
        return Err(ApiError::TwoFactorNotEnabled);
    }
    code_store::delete_recovery_codes(connection, &account.id)?;
    code_store::consume_all_challenges(connection, &account.id, now)?;
    throttle::forget_second_factor_failures(connection, &account.id)?;
    super::devices::end_all_trust(connection, &account.id, keep_session, now)?;
    // Tokens were made under the factor that is gone.
    crate::db::api_tokens::revoke_all_for_account(connection, &account.id, now)?;
    session_store::revoke_all_for_account(connection, &account.id, keep_session, reason, now)?;
    Ok(())
}

/// New recovery codes; the old ones stop working.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<Vec<String>, ApiError> {
    let now = state.now();
    let account = principal.account.clone();
    if !account.two_factor_enabled() {
        return Err(ApiError::TwoFactorNotEnabled);
    }
    let authority = proof::authorize_privileged(state, principal, proof, origin).await?;
    let (shown, hashes) = new_recovery_codes(state);
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction(move |connection| {
            // Orders concurrent regenerations (and a racing disable): old codes never survive.
            if !accounts::lock_if_two_factor_enabled(connection, &account.id)? {
                return proof::give_back(connection, authority, ApiError::TwoFactorNotEnabled);
            }
            match proof::admit(
                &state,
                connection,
                &account,
                &session_id,
                authority,
                &origin,
                now,
            )? {
                Verdict::Accepted(()) => {}
                Verdict::Refused(error) => return Ok(Err(error)),
            }
            code_store::replace_recovery_codes(connection, &account.id, &hashes, now)?;
            // Trust rested on the old codes too: the next sign-in asks for the code again.
            super::devices::end_all_trust(connection, &account.id, Some(&session_id), now)?;
            notifications::record_and_notify(
                &state,
                connection,
                &account,
                EventKind::RecoveryCodesRegenerated,
                None,
                Notice::RecoveryCodesRegenerated,
                &origin,
                now,
            )?;
            Ok(Ok(()))
        })
        .await??;
    Ok(shown)
}
