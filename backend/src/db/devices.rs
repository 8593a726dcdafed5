//! Known devices: clients that completed a full sign-in of an account. The token is stored
//! only as its SHA-256; the client keeps the token (cookie or `device_token`). A browser has
//! one token, so several accounts may know the same token as their device.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::known_devices;
use super::DbConnection;
use crate::auth::clock::db_time;
use crate::error::ApiError;

/// A known device as the domain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub id: String,
    pub account_id: String,
}

/// Every known device that holds the token hashing to `token_hash`: one browser's token is
/// known to each account fully signed in with it.
pub fn find_by_token(
    connection: &mut DbConnection,
    token_hash: &str,
) -> Result<Vec<KnownDevice>, ApiError> {
    let rows: Vec<(String, String)> = known_devices::table
        .filter(known_devices::token_hash.eq(token_hash))
        .select((known_devices::id, known_devices::account_id))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .map(|(id, account_id)| KnownDevice { id, account_id })
        .collect())
}

pub fn insert(
    connection: &mut DbConnection,
    device: &KnownDevice,
    token_hash: &str,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    diesel::insert_into(known_devices::table)
        .values((
            known_devices::id.eq(&device.id),
            known_devices::account_id.eq(&device.account_id),
            known_devices::token_hash.eq(token_hash),
            known_devices::created_at.eq(db_time(now)),
            known_devices::last_used_at.eq(db_time(now)),
            known_devices::user_agent.eq(user_agent),
        ))
        .execute(connection)?;
    Ok(())
}

/// Records a sign-in from the device; `false` when it is gone (forgotten meanwhile).
pub fn touch(
    connection: &mut DbConnection,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let touched = diesel::update(known_devices::table.find(device_id))
        .set(known_devices::last_used_at.eq(db_time(now)))
        .execute(connection)?;
    Ok(touched == 1)
}

/// The ids of the account's known devices.
pub fn ids_of_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<String>, ApiError> {
    Ok(known_devices::table
        .filter(known_devices::account_id.eq(account_id))
        .select(known_devices::id)
        .load(connection)?)
}

/// Forgets every known device of the account (its password was reset: trust starts over).
pub fn delete_all_for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<usize, ApiError> {
    Ok(
        diesel::delete(known_devices::table.filter(known_devices::account_id.eq(account_id)))
            .execute(connection)?,
    )
}
