//! Known devices: clients that completed a full sign-in of an account. The token is stored
//! only as its SHA-256; the client keeps the token (cookie or `device_token`). Each token is
//! made for one account; a browser keeps one per account it signs in to.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::known_devices;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};

/// A known device as the domain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub id: String,
    pub account_id: String,
    /// The stored form of the device's token.
    pub token_hash: String,
    /// Until then the right password alone signs in from it ("don't ask for a code").
    pub trusted_until: Option<DateTime<Utc>>,
}

impl KnownDevice {
    pub fn is_trusted(&self, now: DateTime<Utc>) -> bool {
        self.trusted_until.is_some_and(|until| until > now)
    }
}

/// A known device as "Where you're signed in" lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceListing {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub trusted_until: Option<DateTime<Utc>>,
    pub user_agent: Option<String>,
}

/// The known devices whose tokens hash to one of `token_hashes`.
pub fn find_by_tokens(
    connection: &mut DbConnection,
    token_hashes: &[String],
) -> Result<Vec<KnownDevice>, DbError> {
    let rows: Vec<(String, String, String, Option<NaiveDateTime>)> = known_devices::table
        .filter(known_devices::token_hash.eq_any(token_hashes))
        .select((
            known_devices::id,
            known_devices::account_id,
            known_devices::token_hash,
            known_devices::trusted_until,
        ))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .map(|(id, account_id, token_hash, trusted_until)| KnownDevice {
            id,
            account_id,
            token_hash,
            trusted_until: trusted_until.map(from_db_time),
        })
        .collect())
}

pub fn insert(
    connection: &mut DbConnection,
    device: &KnownDevice,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(known_devices::table)
        .values((
            known_devices::id.eq(&device.id),
            known_devices::account_id.eq(&device.account_id),
            known_devices::token_hash.eq(&device.token_hash),
            known_devices::created_at.eq(db_time(now)),
            known_devices::last_used_at.eq(db_time(now)),
            known_devices::trusted_until.eq(device.trusted_until.map(db_time)),
            known_devices::user_agent.eq(user_agent),
        ))
        .execute(connection)?;
    Ok(())
}

/// Gives the device a new token (the old one stops naming it) and sets its trust; `false`
/// when it is gone (forgotten meanwhile).
pub fn reissue(
    connection: &mut DbConnection,
    device_id: &str,
    token_hash: &str,
    trusted_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = diesel::update(known_devices::table.find(device_id))
        .set((
            known_devices::token_hash.eq(token_hash),
            known_devices::trusted_until.eq(trusted_until.map(db_time)),
            known_devices::last_used_at.eq(db_time(now)),
        ))
        .execute(connection)?;
    Ok(updated == 1)
}

/// Records a sign-in from the device; `false` when it is gone (forgotten meanwhile).
pub fn touch(
    connection: &mut DbConnection,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let touched = diesel::update(known_devices::table.find(device_id))
        .set(known_devices::last_used_at.eq(db_time(now)))
        .execute(connection)?;
    Ok(touched == 1)
}

/// The ids of the account's known devices.
pub fn ids_of_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<String>, DbError> {
    Ok(known_devices::table
        .filter(known_devices::account_id.eq(account_id))
        .select(known_devices::id)
        .load(connection)?)
}

/// Forgets every known device of the account (its password was reset: trust starts over).
pub fn delete_all_for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(known_devices::table.filter(known_devices::account_id.eq(account_id)))
            .execute(connection)?,
    )
}

/// Ends the trust of every device of the account (a factor, the password or the recovery
/// codes changed): the next sign-in asks for the code again. The devices stay known.
pub fn end_trust_for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<(), DbError> {
    diesel::update(known_devices::table.filter(known_devices::account_id.eq(account_id)))
        .set(known_devices::trusted_until.eq(None::<NaiveDateTime>))
        .execute(connection)?;
    Ok(())
}

type DeviceRecord = (
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
);

/// The account's known devices, most recently used first.
pub fn list_for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<DeviceListing>, DbError> {
    let records: Vec<DeviceRecord> = known_devices::table
        .filter(known_devices::account_id.eq(account_id))
        .order(known_devices::last_used_at.desc())
        .select((
            known_devices::id,
            known_devices::created_at,
            known_devices::last_used_at,
            known_devices::trusted_until,
            known_devices::user_agent,
        ))
        .load(connection)?;
    Ok(records
        .into_iter()
        .map(
            |(id, created_at, last_used_at, trusted_until, user_agent)| DeviceListing {
                id,
                created_at: from_db_time(created_at),
                last_used_at: from_db_time(last_used_at),
                trusted_until: trusted_until.map(from_db_time),
                user_agent,
            },
        )
        .collect())
}

/// Forgets the account's device `device_id`; `false` when it has no such device.
pub fn delete_of_account(
    connection: &mut DbConnection,
    account_id: &str,
    device_id: &str,
) -> Result<bool, DbError> {
    let deleted = diesel::delete(
        known_devices::table
            .find(device_id)
            .filter(known_devices::account_id.eq(account_id)),
    )
    .execute(connection)?;
    Ok(deleted == 1)
}

/// Ends the trust of one device of the account.
pub fn end_trust(
    connection: &mut DbConnection,
    account_id: &str,
    device_id: &str,
) -> Result<(), DbError> {
    diesel::update(
        known_devices::table
            .find(device_id)
            .filter(known_devices::account_id.eq(account_id)),
    )
    .set(known_devices::trusted_until.eq(None::<NaiveDateTime>))
    .execute(connection)?;
    Ok(())
}

/// Ends the trust of every device of the account but `keep`.
pub fn end_trust_except(
    connection: &mut DbConnection,
    account_id: &str,
    keep: &str,
) -> Result<(), DbError> {
    diesel::update(
        known_devices::table
            .filter(known_devices::account_id.eq(account_id))
            .filter(known_devices::id.ne(keep)),
    )
    .set(known_devices::trusted_until.eq(None::<NaiveDateTime>))
    .execute(connection)?;
    Ok(())
}
