//! WebAuthn ceremonies between their two requests: stored here (not in the client) so a
//! ceremony is single use and any instance can finish what another started. Every one is
//! started by someone who proved something first (a session, a password), so their number
//! stays bounded by theirs; a passwordless sign-in, which anyone may start, stores nothing
//! here (see [`super::passwordless_challenges`]).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::webauthn_ceremonies;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::db_time;

/// What a ceremony belongs to; each names at most one ceremony at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyKey {
    /// Adding a passkey, by the session that started it (only it may finish).
    Registration { session_id: String },
    /// The passkey step of the sign-in challenge.
    SignIn { challenge_id: String },
    /// A signed-in session proving itself again for a privileged action.
    Reauthentication { session_id: String },
    /// The second factor of a password reset, named by the hash of its link's token (the
    /// token itself is a secret and is never stored).
    PasswordReset { link_hash: String },
}

impl CeremonyKey {
    fn as_text(&self) -> String {
        match self {
            Self::Registration { session_id } => format!("register:{session_id}"),
            Self::SignIn { challenge_id } => format!("sign_in:{challenge_id}"),
            Self::Reauthentication { session_id } => format!("reauth:{session_id}"),
            Self::PasswordReset { link_hash } => format!("reset:{link_hash}"),
        }
    }
}

/// A ceremony taken out of the store: its state (webauthn-rs's, as JSON) and, for a
/// registration, the name the new passkey gets.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub account_id: Option<String>,
    pub state: String,
    pub passkey_name: Option<String>,
}

/// Stores a ceremony, replacing any earlier one under the same key (a new start makes the
/// previous options worthless).
pub fn put(
    connection: &mut DbConnection,
    key: &CeremonyKey,
    ceremony: &Ceremony,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    let key = key.as_text();
    diesel::delete(webauthn_ceremonies::table.find(&key)).execute(connection)?;
    diesel::insert_into(webauthn_ceremonies::table)
        .values((
            webauthn_ceremonies::ceremony_key.eq(&key),
            webauthn_ceremonies::account_id.eq(&ceremony.account_id),
            webauthn_ceremonies::state.eq(&ceremony.state),
            webauthn_ceremonies::passkey_name.eq(&ceremony.passkey_name),
            webauthn_ceremonies::expires_at.eq(db_time(expires_at)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Takes a live ceremony out, once: of concurrent takers (on any instance) exactly one gets
/// it, because only one can delete the row. An expired one is removed and not answered.
pub fn take(
    connection: &mut DbConnection,
    key: &CeremonyKey,
    now: DateTime<Utc>,
) -> Result<Option<Ceremony>, DbError> {
    let key = key.as_text();
    // A write first: on SQLite it takes the write lock at once, on PostgreSQL the row's lock,
    // so concurrent takers queue here and all but the first then find nothing.
    let locked = diesel::update(webauthn_ceremonies::table.find(&key))
        .set(webauthn_ceremonies::ceremony_key.eq(webauthn_ceremonies::ceremony_key))
        .execute(connection)?;
    if locked != 1 {
        return Ok(None);
    }
    let found: Option<(Option<String>, String, Option<String>, NaiveDateTime)> =
        webauthn_ceremonies::table
            .find(&key)
            .select((
                webauthn_ceremonies::account_id,
                webauthn_ceremonies::state,
                webauthn_ceremonies::passkey_name,
                webauthn_ceremonies::expires_at,
            ))
            .first(connection)
            .optional()?;
    let Some((account_id, state, passkey_name, expires_at)) = found else {
        return Ok(None);
    };
    let deleted = diesel::delete(webauthn_ceremonies::table.find(&key)).execute(connection)?;
    if deleted != 1 || expires_at <= db_time(now) {
        return Ok(None);
    }
    Ok(Some(Ceremony {
        account_id,
        state,
        passkey_name,
    }))
}

/// Forgets every ceremony of the account (its second factors were wiped).
pub fn delete_for_account(connection: &mut DbConnection, account_id: &str) -> Result<(), DbError> {
    diesel::delete(
        webauthn_ceremonies::table.filter(webauthn_ceremonies::account_id.eq(account_id)),
    )
    .execute(connection)?;
    Ok(())
}

/// Forgets ceremonies past their time; housekeeping.
pub fn delete_expired(connection: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, DbError> {
    Ok(diesel::delete(
        webauthn_ceremonies::table.filter(webauthn_ceremonies::expires_at.le(db_time(now))),
    )
    .execute(connection)?)
}
