//! Switching TOTP on, two-factor off (every factor at once), and recovery codes. Passkeys,
//! the other second factor, are in [`super::passkeys`].

use chrono::{DateTime, TimeDelta, Utc};

use super::credential_change::{self, CredentialChange};
use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::proof::{self, Admitted, Proof, Required, Rule, Verdict};
use super::{throttle, AppState, Principal};
use crate::auth::qr::qr_svg;
use crate::auth::tokens::{AMR_HARDWARE_KEY, AMR_OTP};
use crate::auth::totp::{otpauth_uri, TotpSecret};
use crate::db::accounts::{self, Account};
use crate::db::events::{self, EventKind};
use crate::db::{sessions as session_store, two_factor as code_store, DbConnection};
use crate::domain::{RecoveryCode, RequestOrigin, TotpCode};

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
) -> Result<Enrollment, ServiceError> {
    let now = state.now();
    let account = principal.account.clone();
    if account.totp_enabled() {
        return Err(Refusal::TwoFactorAlreadyEnabled.into());
    }
    let secret = TotpSecret::generate();
    let ciphertext = state
        .secret_box
        .seal(secret.as_bytes(), account.id.as_bytes())?;
    let account_id = account.id.clone();
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::TotpOff,
        origin,
        move |connection, _| {
            accounts::set_pending_totp(connection, &account_id, &ciphertext, now)?;
            Ok(())
        },
    )
    .await?;
    let uri = otpauth_uri(&state.settings.site_name, &account.username, &secret);
    Ok(Enrollment {
        secret_base32: secret.to_base32(),
        qr_svg: qr_svg(&uri)?,
        otpauth_uri: uri,
    })
}

pub(super) fn new_recovery_codes(state: &AppState) -> (Vec<String>, Vec<String>) {
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

/// Confirms enrolment with a code from the app: TOTP is on from now, the step is used, and
/// the change of factors takes effect ([`second_factor_added`]). Answers the recovery codes
/// (the only time) when TOTP is the account's first second factor.
pub async fn confirm(
    state: &AppState,
    principal: &Principal,
    code: &TotpCode,
    origin: &RequestOrigin,
) -> Result<Option<Vec<String>>, ServiceError> {
    let now = state.now();
    if principal.account.totp_enabled() {
        return Err(Refusal::TwoFactorAlreadyEnabled.into());
    }
    let (shown, hashes) = new_recovery_codes(state);
    let (state, session_id, origin) = (state.clone(), principal.session_id.clone(), origin.clone());
    let (account_id, code, caller) = (
        principal.account_id.clone(),
        code.clone(),
        principal.clone(),
    );
    let first = state
        .database
        .clone()
        .transaction_committing_refusals(move |connection| {
            if !accounts::lock_if_totp_disabled(connection, &account_id)? {
                return Err(Refusal::TwoFactorAlreadyEnabled.into());
            }
            if !session_store::lock_if_live(connection, &session_id)? {
                return Err(Refusal::InvalidToken.into());
            }
            let account =
                accounts::find_by_id(connection, &account_id)?.ok_or(Refusal::InvalidToken)?;
            let (Some(pending), Some(created_at)) = (
                account.totp_pending_ciphertext.clone(),
                account.totp_pending_created_at,
            ) else {
                return Err(Refusal::NoPendingEnrollment.into());
            };
            if now - created_at > TimeDelta::minutes(PENDING_ENROLLMENT_LIFETIME_MINUTES) {
                return Err(Refusal::NoPendingEnrollment.into());
            }
            let secret =
                TotpSecret::from_bytes(state.secret_box.open(&pending, account.id.as_bytes())?);
            // Counted like any code: a stolen session must not guess its way to the recovery codes.
            let step = match proof::verify_enrolment_code(
                connection,
                &account,
                &session_id,
                &secret,
                &code,
                &origin,
                now,
            )? {
                Verdict::Accepted(step) => step,
                Verdict::Refused(refusal) => return Err(refusal.into()),
            };
            if !accounts::enable_totp(connection, &account.id, &pending, step, now)? {
                return Err(Refusal::NoPendingEnrollment.into());
            }
            second_factor_added(
                &state,
                connection,
                &account,
                &caller,
                NewFactor::AuthenticatorApp,
                &hashes,
                &origin,
                now,
            )
        })
        .await?;
    Ok(first.then_some(shown))
}

/// A second factor being added to an account.
#[derive(Debug, Clone, Copy)]
pub(super) enum NewFactor<'a> {
    AuthenticatorApp,
    Passkey { name: &'a str },
}

impl NewFactor<'_> {
    /// The RFC 8176 method a session proves by adding this factor.
    fn method(self) -> &'static str {
        match self {
            Self::AuthenticatorApp => AMR_OTP,
            Self::Passkey { .. } => AMR_HARDWARE_KEY,
        }
    }
}

/// What adding a second factor (TOTP or a passkey) does, inside the caller's transaction
/// that holds the account row's lock: the trust of remembered devices ends, and the change is
/// recorded and mailed. The first one switches two-factor on: recovery codes (`hashes`) are
/// stored, every other session and API token ends, and the calling session, having just
/// proved the new factor, counts as signed in with it too. Answers whether it was the first.
#[allow(clippy::too_many_arguments)]
pub(super) fn second_factor_added(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    caller: &Principal,
    factor: NewFactor<'_>,
    hashes: &[String],
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let session_id = caller.session_id.as_str();
    let first = accounts::switch_two_factor_on(connection, &account.id, now)?;
    let change = if first {
        CredentialChange::TwoFactorSwitchedOn
    } else {
        CredentialChange::SecondFactorAdded
    };
    credential_change::apply(connection, &account.id, change, Some(session_id), now)?;
    if first {
        code_store::replace_recovery_codes(connection, &account.id, hashes, now)?;
        // What the session proved before, and now this factor too.
        let mut amr: Vec<&str> = caller.amr.iter().map(String::as_str).collect();
        if !amr.contains(&factor.method()) {
            amr.push(factor.method());
        }
        session_store::set_amr(connection, session_id, &amr)?;
    }
    let record = |kind, detail: Option<String>, notice| {
        move |connection: &mut DbConnection| {
            notifications::record_and_notify(
                state,
                connection,
                account,
                kind,
                detail.as_deref(),
                notice,
                origin,
                now,
            )
        }
    };
    match (first, factor) {
        (true, NewFactor::AuthenticatorApp) => record(
            EventKind::TwoFactorEnabled,
            None,
            Notice::TwoFactorEnabled { passkey: None },
        )(connection)?,
        (true, NewFactor::Passkey { name }) => {
            let detail = format!("name: {name}");
            events::record(
                connection,
                &account.id,
                EventKind::PasskeyAdded,
                now,
                origin,
                Some(&detail),
            )?;
            record(
                EventKind::TwoFactorEnabled,
                Some(format!("with the passkey {name}")),
                Notice::TwoFactorEnabled {
                    passkey: Some(name.to_string()),
                },
            )(connection)?;
        }
        (false, NewFactor::AuthenticatorApp) => record(
            EventKind::TwoFactorEnabled,
            Some("authenticator app added beside passkeys".to_string()),
            Notice::AuthenticatorAppAdded,
        )(connection)?,
        (false, NewFactor::Passkey { name }) => record(
            EventKind::PasskeyAdded,
            Some(format!("name: {name}")),
            Notice::PasskeyAdded {
                name: name.to_string(),
            },
        )(connection)?,
    }
    Ok(first)
}

/// Switches two-factor off: TOTP secret, passkeys, recovery codes and failure counters are
/// wiped, and every other session is signed out.
pub async fn disable(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let account = principal.account.clone();
    if !account.two_factor_enabled() {
        return Err(Refusal::TwoFactorNotEnabled.into());
    }
    let session_id = principal.session_id.clone();
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::TwoFactorOn,
        origin,
        move |connection, admitted| {
            let Admitted { state, origin, .. } = admitted;
            wipe_two_factor(
                connection,
                &account,
                Some(&session_id),
                CredentialChange::TwoFactorSwitchedOff,
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
            )
        },
    )
    .await
}

/// Removes every trace of the account's second factor, then ends what `change` ends (the
/// holder's disable, or a support reset). The caller holds the account row's lock.
pub(super) fn wipe_two_factor(
    connection: &mut DbConnection,
    account: &Account,
    keep_session: Option<&str>,
    change: CredentialChange,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if !accounts::disable_two_factor(connection, &account.id)? {
        return Err(Refusal::TwoFactorNotEnabled.into());
    }
    crate::db::passkeys::delete_all_for_account(connection, &account.id)?;
    code_store::delete_recovery_codes(connection, &account.id)?;
    throttle::forget_second_factor_failures(connection, &account.id)?;
    // Ends unfinished passkey registrations too, which must not switch two-factor on again.
    credential_change::apply(connection, &account.id, change, keep_session, now)
}

/// New recovery codes; the old ones stop working.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<Vec<String>, ServiceError> {
    let now = state.now();
    let account = principal.account.clone();
    if !account.two_factor_enabled() {
        return Err(Refusal::TwoFactorNotEnabled.into());
    }
    let (shown, hashes) = new_recovery_codes(state);
    let session_id = principal.session_id.clone();
    // The account row's lock orders concurrent regenerations (and a racing disable): old codes
    // never survive.
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::TwoFactorOn,
        origin,
        move |connection, admitted| {
            let Admitted { state, origin, .. } = admitted;
            code_store::replace_recovery_codes(connection, &account.id, &hashes, now)?;
            credential_change::apply(
                connection,
                &account.id,
                CredentialChange::RecoveryCodesRegenerated,
                Some(&session_id),
                now,
            )?;
            notifications::record_and_notify(
                &state,
                connection,
                &account,
                EventKind::RecoveryCodesRegenerated,
                None,
                Notice::RecoveryCodesRegenerated,
                &origin,
                now,
            )
        },
    )
    .await?;
    Ok(shown)
}
