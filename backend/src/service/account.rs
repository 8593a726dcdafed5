//! The signed-in customer's own account: details, password change, security events.

use chrono::{DateTime, Utc};

use super::credential_change::{self, CredentialChange};
use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::proof::{self, Admitted, Proof, Required, Rule};
use super::two_factor_requirement::{self, Standing};
use super::{AppState, Principal};
use crate::db::accounts;
use crate::db::events::{self, EventKind};
use crate::db::two_factor as code_store;
use crate::domain::InvalidInput;
use crate::domain::{Event, Language, Password, RequestOrigin, Role, SecondFactorMethod};

#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub pending_email: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub two_factor_enabled: bool,
    pub two_factor_enabled_at: Option<DateTime<Utc>>,
    pub two_factor_methods: Vec<SecondFactorMethod>,
    pub recovery_codes_remaining: i64,
    pub language: Option<Language>,
    /// Where the account stands against a required second factor.
    pub two_factor_standing: Standing,
}

pub const MAX_EVENTS_PER_PAGE: i64 = 200;
pub const DEFAULT_EVENTS_PER_PAGE: i64 = 50;

pub async fn overview(
    state: &AppState,
    principal: &Principal,
) -> Result<AccountOverview, ServiceError> {
    // The account was read with the session; only the counts of codes and passkeys need a
    // query, and only with two-factor on.
    let account = principal.account.clone();
    let (recovery_codes_remaining, passkeys) = if account.two_factor_enabled() {
        let account_id = account.id.clone();
        state
            .database
            .run(move |connection| -> Result<_, ServiceError> {
                Ok((
                    code_store::count_unused_recovery_codes(connection, &account_id)?,
                    crate::db::passkeys::count_for_account(connection, &account_id)?,
                ))
            })
            .await?
    } else {
        (0, 0)
    };
    let email_verified = account.verified_email().is_some();
    let two_factor_standing =
        two_factor_requirement::standing(&state.settings, &account, state.now());
    Ok(AccountOverview {
        two_factor_standing,
        role: account.role,
        two_factor_enabled: account.two_factor_enabled(),
        two_factor_enabled_at: account.two_factor_enabled_at,
        two_factor_methods: SecondFactorMethod::of(account.totp_enabled(), passkeys > 0),
        created_at: account.created_at,
        id: account.id,
        username: account.username,
        email_verified,
        email: account.email,
        recovery_codes_remaining,
        language: account.language,
        pending_email: account.pending_email,
    })
}

/// Remembers the customer's language, for the SPA on other devices and for mails.
pub async fn set_language(
    state: &AppState,
    principal: &Principal,
    language: Language,
) -> Result<AccountOverview, ServiceError> {
    let account_id = principal.account_id.clone();
    state
        .database
        .run(move |connection| accounts::set_language(connection, &account_id, language))
        .await?;
    let mut principal = principal.clone();
    principal.account.language = Some(language);
    overview(state, &principal).await
}

/// Checks the current password (counted like any proof from a signed-in caller), stores the
/// new one, drops any pending enrolment and signs out every other session.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: &Password,
    new: &Password,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    super::password_policy::check_new_password(
        state,
        new,
        &principal.account.username,
        principal.account.email.as_deref(),
    )
    .await?;
    let now = state.now();
    let session_id = principal.session_id.clone();
    let account = principal.account.clone();
    proof::privileged(
        state,
        principal,
        Some(Proof::Password(current.clone())),
        Rule::CurrentPassword { replacement: new },
        Required::Account,
        origin,
        move |connection, admitted| {
            let Admitted {
                state,
                origin,
                new_password_hash,
            } = admitted;
            let Some(new_hash) = new_password_hash else {
                return Err(ServiceError::internal("new password not hashed"));
            };
            if !accounts::replace_password_hash(
                connection,
                &account.id,
                &account.password_hash,
                &new_hash,
            )? {
                // Another change won meanwhile; this one proved the old password.
                return Err(Refusal::WrongPassword.into());
            }
            credential_change::apply(
                connection,
                &account.id,
                CredentialChange::PasswordChanged,
                Some(&session_id),
                now,
            )?;
            notifications::record_and_notify(
                &state,
                connection,
                &account,
                EventKind::PasswordChanged,
                None,
                Notice::PasswordChanged,
                &origin,
                now,
            )
        },
    )
    .await
}

/// Checks a page request of the event log: `limit` in 1..=200 (default 50), `before` an id.
pub fn event_page(
    limit: Option<i64>,
    before: Option<i64>,
) -> Result<(i64, Option<i64>), ServiceError> {
    let limit = limit.unwrap_or(DEFAULT_EVENTS_PER_PAGE);
    if !(1..=MAX_EVENTS_PER_PAGE).contains(&limit) {
        return Err(InvalidInput::field("limit", "limit must be between 1 and 200").into());
    }
    if before.is_some_and(|before| before < 1) {
        return Err(InvalidInput::field("before", "before must be a positive event id").into());
    }
    Ok((limit, before))
}

pub async fn list_events(
    state: &AppState,
    principal: &Principal,
    limit: Option<i64>,
    before: Option<i64>,
) -> Result<Vec<Event>, ServiceError> {
    let (limit, before) = event_page(limit, before)?;
    let account_id = principal.account_id.clone();
    Ok(state
        .database
        .run(move |connection| events::list(connection, &account_id, limit, before))
        .await?)
}
