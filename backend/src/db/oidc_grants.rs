//! Grants (what a redeemed code opened for a relying party) and their rotating refresh
//! tokens. A refresh token is stored as its SHA-256 and used once, claimed by a conditional
//! `UPDATE ... WHERE used_at IS NULL`; presenting a used one again means it was stolen, and
//! the caller revokes the whole grant. A revoked grant ends its refresh tokens and, through
//! the grant check at UserInfo, its access tokens.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{oidc_grants as grants, oidc_refresh_tokens as refresh_tokens};
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::oidc::{OidcGrant, OidcScopes};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = grants)]
struct GrantRecord {
    id: String,
    client_id: String,
    account_id: String,
    scope: String,
    session_id: String,
    auth_time: NaiveDateTime,
    amr: String,
    acr: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl From<GrantRecord> for OidcGrant {
    fn from(record: GrantRecord) -> Self {
        Self {
            id: record.id,
            client_id: record.client_id,
            account_id: record.account_id,
            scopes: OidcScopes::parse_lenient(&record.scope),
            session_id: record.session_id,
            auth_time: from_db_time(record.auth_time),
            amr: record.amr.split_whitespace().map(str::to_string).collect(),
            acr: record.acr,
            created_at: from_db_time(record.created_at),
            last_used_at: record.last_used_at.map(from_db_time),
            revoked_at: record.revoked_at.map(from_db_time),
        }
    }
}

pub fn insert(connection: &mut DbConnection, grant: &OidcGrant) -> Result<(), DbError> {
    diesel::insert_into(grants::table)
        .values((
            grants::id.eq(&grant.id),
            grants::client_id.eq(&grant.client_id),
            grants::account_id.eq(&grant.account_id),
            grants::scope.eq(grant.scopes.to_text()),
            grants::session_id.eq(&grant.session_id),
            grants::auth_time.eq(db_time(grant.auth_time)),
            grants::amr.eq(grant.amr.join(" ")),
            grants::acr.eq(&grant.acr),
            grants::created_at.eq(db_time(grant.created_at)),
            grants::last_used_at.eq(grant.last_used_at.map(db_time)),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn find(connection: &mut DbConnection, grant_id: &str) -> Result<Option<OidcGrant>, DbError> {
    Ok(grants::table
        .find(grant_id)
        .select(GrantRecord::as_select())
        .first(connection)
        .optional()?
        .map(OidcGrant::from))
}

/// The grant if it is live, its row locked for the caller's transaction by a no-op update
/// (as sessions are): a revocation racing a refresh is ordered before or after it.
pub fn lock_if_live(
    connection: &mut DbConnection,
    grant_id: &str,
) -> Result<Option<OidcGrant>, DbError> {
    let touched = diesel::update(
        grants::table
            .find(grant_id)
            .filter(grants::revoked_at.is_null()),
    )
    .set(grants::id.eq(grants::id))
    .execute(connection)?;
    if touched == 0 {
        return Ok(None);
    }
    find(connection, grant_id)
}

/// The account's grants, live or not.
pub fn for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<OidcGrant>, DbError> {
    Ok(grants::table
        .filter(grants::account_id.eq(account_id))
        .select(GrantRecord::as_select())
        .load(connection)?
        .into_iter()
        .map(OidcGrant::from)
        .collect())
}

/// What revoking a grant writes, the same for every way of revoking.
fn revocation(
    reason: &str,
    now: DateTime<Utc>,
) -> (
    diesel::dsl::Eq<grants::revoked_at, NaiveDateTime>,
    diesel::dsl::Eq<grants::revoked_reason, &str>,
) {
    (
        grants::revoked_at.eq(db_time(now)),
        grants::revoked_reason.eq(reason),
    )
}

/// Revokes the grant if it is live; answers whether it was.
pub fn revoke(
    connection: &mut DbConnection,
    grant_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let revoked = diesel::update(
        grants::table
            .find(grant_id)
            .filter(grants::revoked_at.is_null()),
    )
    .set(revocation(reason, now))
    .execute(connection)?;
    Ok(revoked == 1)
}

/// Revokes the live grant of `client_id` that the refresh token (used or not) belongs to, in
/// one conditional update: another client's token is left alone. Answers whether one ended.
pub fn revoke_of_client_by_refresh_token(
    connection: &mut DbConnection,
    client_id: &str,
    token_hash: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let owning_grant = refresh_tokens::table
        .find(token_hash)
        .select(refresh_tokens::grant_id);
    let revoked = diesel::update(
        grants::table
            .filter(grants::id.eq_any(owning_grant))
            .filter(grants::client_id.eq(client_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(revocation(reason, now))
    .execute(connection)?;
    Ok(revoked == 1)
}

/// Revokes the grant if it is live and belongs to `client_id`; answers whether it was.
pub fn revoke_of_client(
    connection: &mut DbConnection,
    client_id: &str,
    grant_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let revoked = diesel::update(
        grants::table
            .find(grant_id)
            .filter(grants::client_id.eq(client_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(revocation(reason, now))
    .execute(connection)?;
    Ok(revoked == 1)
}

/// Revokes every live grant of the account.
pub fn revoke_all_for_account(
    connection: &mut DbConnection,
    account_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        grants::table
            .filter(grants::account_id.eq(account_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(revocation(reason, now))
    .execute(connection)?)
}

/// Revokes every live grant of the account to one relying party.
pub fn revoke_for_client(
    connection: &mut DbConnection,
    account_id: &str,
    client_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        grants::table
            .filter(grants::account_id.eq(account_id))
            .filter(grants::client_id.eq(client_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(revocation(reason, now))
    .execute(connection)?)
}

/// Revokes the live grants opened from the session `session_id` of the account that are
/// not meant to outlive it (no `offline_access`).
pub fn revoke_online_for_session(
    connection: &mut DbConnection,
    account_id: &str,
    session_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let live: Vec<GrantRecord> = grants::table
        .filter(grants::account_id.eq(account_id))
        .filter(grants::session_id.eq(session_id))
        .filter(grants::revoked_at.is_null())
        .select(GrantRecord::as_select())
        .load(connection)?;
    let mut revoked = 0;
    for grant in live.into_iter().map(OidcGrant::from) {
        if !grant.scopes.allows_refresh() && revoke(connection, &grant.id, reason, now)? {
            revoked += 1;
        }
    }
    Ok(revoked)
}

/// Notes that the grant was used (a token issued or refreshed).
pub fn note_use(
    connection: &mut DbConnection,
    grant_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(grants::table.find(grant_id))
        .set(grants::last_used_at.eq(db_time(now)))
        .execute(connection)?;
    Ok(())
}

pub fn insert_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
    grant_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::grant_id.eq(grant_id),
            refresh_tokens::created_at.eq(db_time(now)),
            refresh_tokens::expires_at.eq(db_time(expires_at)),
        ))
        .execute(connection)?;
    Ok(())
}

/// What presenting a refresh token came to.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshTokenUse {
    /// This presentation used the token (it was unused); it may still have expired.
    Accepted {
        grant_id: String,
        expires_at: DateTime<Utc>,
    },
    /// Used before: whoever presents it again holds a copy.
    Reused { grant_id: String },
    /// No token of this client's grants: unknown, or another client's (which stays unused).
    Unknown,
}

/// Uses the refresh token, once, if it belongs to a grant of `client_id` (authenticated by
/// the caller first): a token of another client is not spent by this presentation, so a
/// confused or hostile client cannot burn it and make its owner's next use look like reuse.
pub fn use_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<RefreshTokenUse, DbError> {
    let grants_of_client = grants::table
        .filter(grants::client_id.eq(client_id))
        .select(grants::id);
    let claimed = diesel::update(
        refresh_tokens::table
            .find(token_hash)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::grant_id.eq_any(grants_of_client)),
    )
    .set(refresh_tokens::used_at.eq(db_time(now)))
    .execute(connection)?;
    let found: Option<(String, NaiveDateTime)> = refresh_tokens::table
        .inner_join(grants::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .filter(grants::client_id.eq(client_id))
        .select((refresh_tokens::grant_id, refresh_tokens::expires_at))
        .first(connection)
        .optional()?;
    Ok(match found {
        None => RefreshTokenUse::Unknown,
        Some((grant_id, expires_at)) if claimed == 1 => RefreshTokenUse::Accepted {
            grant_id,
            expires_at: from_db_time(expires_at),
        },
        Some((grant_id, _)) => RefreshTokenUse::Reused { grant_id },
    })
}

/// The grant a refresh token belongs to, used or not.
pub fn grant_of_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<String>, DbError> {
    Ok(refresh_tokens::table
        .find(token_hash)
        .select(refresh_tokens::grant_id)
        .first(connection)
        .optional()?)
}

/// Deletes refresh tokens that expired, or were used, before `before`, and grants revoked
/// before it (with whatever tokens they still had).
pub fn delete_dead(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<(usize, usize), DbError> {
    let before = db_time(before);
    let tokens = diesel::delete(
        refresh_tokens::table.filter(
            refresh_tokens::expires_at
                .lt(before)
                .or(refresh_tokens::used_at.lt(before)),
        ),
    )
    .execute(connection)?;
    let revoked: Vec<String> = grants::table
        .filter(grants::revoked_at.lt(before))
        .select(grants::id)
        .load(connection)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::grant_id.eq_any(&revoked)))
        .execute(connection)?;
    let grants =
        diesel::delete(grants::table.filter(grants::id.eq_any(&revoked))).execute(connection)?;
    Ok((tokens, grants))
}
