//! The security event log: what happened to an account, when, and from where.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::security_events;
use super::DbConnection;
use crate::error::ApiError;

/// The kinds of event API.md names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    OtpFailed,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    TwoFactorResetBySupport,
    PasswordChanged,
    AccountLocked,
    AccountUnlockedBySupport,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::OtpFailed => "otp_failed",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::TwoFactorResetBySupport => "two_factor_reset_by_support",
            Self::PasswordChanged => "password_changed",
            Self::AccountLocked => "account_locked",
            Self::AccountUnlockedBySupport => "account_unlocked_by_support",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = security_events)]
pub struct EventRow {
    pub id: i64,
    pub account_id: Option<String>,
    pub kind: String,
    pub at: NaiveDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// Where a request came from, recorded with each event.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn record(
    connection: &mut DbConnection,
    account_id: &str,
    kind: EventKind,
    at: NaiveDateTime,
    origin: &RequestOrigin,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    diesel::insert_into(security_events::table)
        .values((
            security_events::account_id.eq(Some(account_id)),
            security_events::kind.eq(kind.as_str()),
            security_events::at.eq(at),
            security_events::ip.eq(origin.ip.as_deref()),
            security_events::user_agent.eq(origin.user_agent.as_deref()),
            security_events::detail.eq(detail),
        ))
        .execute(connection)?;
    Ok(())
}

/// The account's events, newest first, older than the event `before` when given.
pub fn list(
    connection: &mut DbConnection,
    account_id: &str,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<EventRow>, ApiError> {
    let mut query = security_events::table
        .filter(security_events::account_id.eq(account_id))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(security_events::id.lt(before));
    }
    Ok(query
        .order(security_events::id.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(connection)?)
}
