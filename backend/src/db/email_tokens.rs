//! Single-use links sent by mail: address verification, password reset and "this wasn't me".
//! Stored hashed; used up by one conditional `UPDATE`, so of concurrent uses exactly one
//! succeeds.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::email_tokens;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};

/// What a link is for; a link of one kind never works for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    VerifyEmail,
    ResetPassword,
    /// "This wasn't me", in every security notice.
    NotMe,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::NotMe => "not_me",
        }
    }
}

/// A link that is neither used nor expired.
#[derive(Debug, Clone)]
pub struct LiveLink {
    pub account_id: String,
    pub email: Option<String>,
    pub password_fingerprint: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    connection: &mut DbConnection,
    token_hash: &str,
    account_id: &str,
    purpose: LinkPurpose,
    email: Option<&str>,
    password_fingerprint: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(token_hash),
            email_tokens::account_id.eq(account_id),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::email.eq(email),
            email_tokens::password_fingerprint.eq(password_fingerprint),
            email_tokens::created_at.eq(db_time(now)),
            email_tokens::expires_at.eq(db_time(expires_at)),
        ))
        .execute(connection)?;
    Ok(())
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
struct LinkRecord {
    account_id: String,
    email: Option<String>,
    password_fingerprint: Option<String>,
    expires_at: NaiveDateTime,
}

/// The live link of `purpose` whose token hashes to `token_hash`, without using it.
pub fn find_live(
    connection: &mut DbConnection,
    token_hash: &str,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> Result<Option<LiveLink>, DbError> {
    Ok(email_tokens::table
        .find(token_hash)
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(db_time(now)))
        .select(LinkRecord::as_select())
        .first(connection)
        .optional()?
        .map(|record| LiveLink {
            account_id: record.account_id,
            email: record.email,
            password_fingerprint: record.password_fingerprint,
            expires_at: from_db_time(record.expires_at),
        }))
}

/// Uses the link up; `false` when it was used (or expired) meanwhile.
pub fn use_up(
    connection: &mut DbConnection,
    token_hash: &str,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let used = diesel::update(
        email_tokens::table
            .find(token_hash)
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set(email_tokens::used_at.eq(Some(now)))
    .execute(connection)?;
    Ok(used == 1)
}

/// How many links of `purpose` of the account are live (unused, unexpired) and, for a reset
/// link, made under the password whose fingerprint is given.
pub fn count_live(
    connection: &mut DbConnection,
    account_id: &str,
    purpose: LinkPurpose,
    password_fingerprint: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let mut query = email_tokens::table
        .filter(email_tokens::account_id.eq(account_id))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(db_time(now)))
        .into_boxed();
    if let Some(fingerprint) = password_fingerprint {
        query = query.filter(email_tokens::password_fingerprint.eq(fingerprint));
    }
    Ok(query.count().get_result(connection)?)
}

/// Voids every unused link of `purpose` of the account (a newer one replaces them, or the
/// password changed).
pub fn void_all(
    connection: &mut DbConnection,
    account_id: &str,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::account_id.eq(account_id))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(Some(db_time(now))))
    .execute(connection)?;
    Ok(())
}

/// Deletes links that expired before `before`.
pub fn prune_expired(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(email_tokens::table.filter(email_tokens::expires_at.lt(db_time(before))))
            .execute(connection)?,
    )
}
