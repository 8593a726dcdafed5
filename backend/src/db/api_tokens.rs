//! API tokens for integrators' machines: stored hashed, with their scopes; used by one
//! indexed lookup per request, "last used" noted at most once a minute.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::accounts::{Account, AccountRecord};
use super::schema::{accounts, api_tokens};
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::{parse_ip_network, ApiToken, Scope};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
struct ApiTokenRecord {
    id: String,
    account_id: String,
    name: String,
    scopes: String,
    prefix: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
    allowed_networks: Option<String>,
}

impl From<ApiTokenRecord> for ApiToken {
    fn from(record: ApiTokenRecord) -> Self {
        Self {
            id: record.id,
            account_id: record.account_id,
            name: record.name,
            // A scope no longer known grants nothing.
            scopes: record
                .scopes
                .split_whitespace()
                .filter_map(Scope::parse)
                .collect(),
            prefix: record.prefix,
            created_at: from_db_time(record.created_at),
            last_used_at: record.last_used_at.map(from_db_time),
            expires_at: from_db_time(record.expires_at),
            // Written canonical by `insert`; an entry that no longer parses allows nothing
            // (the token stays bound to the rest, never opens to every network).
            allowed_networks: record.allowed_networks.map(|networks| {
                networks
                    .split_whitespace()
                    .filter_map(|network| parse_ip_network(network).ok())
                    .collect()
            }),
        }
    }
}

pub fn insert(
    connection: &mut DbConnection,
    token: &ApiToken,
    token_hash: &str,
) -> Result<(), DbError> {
    let scopes: Vec<&str> = token.scopes.iter().map(|scope| scope.as_str()).collect();
    let networks: Option<String> = token.allowed_networks.as_ref().map(|networks| {
        networks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    });
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(&token.id),
            api_tokens::account_id.eq(&token.account_id),
            api_tokens::name.eq(&token.name),
            api_tokens::scopes.eq(scopes.join(" ")),
            api_tokens::prefix.eq(&token.prefix),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::created_at.eq(db_time(token.created_at)),
            api_tokens::expires_at.eq(db_time(token.expires_at)),
            api_tokens::allowed_networks.eq(networks),
        ))
        .execute(connection)?;
    Ok(())
}

/// The account's tokens that still work, newest first.
pub fn live_for_account(
    connection: &mut DbConnection,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ApiToken>, DbError> {
    Ok(api_tokens::table
        .filter(api_tokens::account_id.eq(account_id))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(db_time(now)))
        .order(api_tokens::created_at.desc())
        .select(ApiTokenRecord::as_select())
        .load(connection)?
        .into_iter()
        .map(ApiToken::from)
        .collect())
}

/// The live token whose secret hashes to `token_hash`, with its account.
pub fn find_live(
    connection: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(ApiToken, Account)>, DbError> {
    let found: Option<(ApiTokenRecord, AccountRecord)> = api_tokens::table
        .inner_join(accounts::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(db_time(now)))
        .select((ApiTokenRecord::as_select(), AccountRecord::as_select()))
        .first(connection)
        .optional()?;
    found
        .map(|(token, account)| Ok((ApiToken::from(token), Account::try_from(account)?)))
        .transpose()
}

/// Notes that the token was used, at most once a minute (a write per call would be a write
/// per API request).
pub fn note_used(
    connection: &mut DbConnection,
    token: &ApiToken,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let stale = token
        .last_used_at
        .map_or(true, |used| now - used >= TimeDelta::minutes(1));
    if stale {
        diesel::update(api_tokens::table.find(&token.id))
            .set(api_tokens::last_used_at.eq(Some(db_time(now))))
            .execute(connection)?;
    }
    Ok(())
}

/// Takes the token row's lock if the token still works: the first statement of an action
/// done with it, so a revocation that committed meanwhile wins.
pub fn lock_if_live(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let touched = diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null())
            .filter(api_tokens::expires_at.gt(db_time(now))),
    )
    .set(api_tokens::id.eq(api_tokens::id))
    .execute(connection)?;
    Ok(touched == 1)
}

/// Revokes the account's token `id`; `false` when it has no such live token.
pub fn revoke_of_account(
    connection: &mut DbConnection,
    account_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let revoked = diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::account_id.eq(account_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(db_time(now))))
    .execute(connection)?;
    Ok(revoked == 1)
}

/// Revokes every token of the account (support reset, password reset by e-mail).
pub fn revoke_all_for_account(
    connection: &mut DbConnection,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        api_tokens::table
            .filter(api_tokens::account_id.eq(account_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(db_time(now))))
    .execute(connection)?)
}

/// Deletes tokens revoked or expired before `before`.
pub fn prune_dead(connection: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, DbError> {
    let before = db_time(before);
    Ok(diesel::delete(
        api_tokens::table.filter(
            api_tokens::revoked_at
                .lt(before)
                .or(api_tokens::expires_at.lt(before)),
        ),
    )
    .execute(connection)?)
}
