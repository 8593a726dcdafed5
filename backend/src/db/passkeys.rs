//! The `passkeys` table: an account's WebAuthn credentials (public keys, not secrets).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use webauthn_rs::prelude::Passkey;

use super::schema::passkeys;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::StoredPasskey;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = passkeys)]
struct PasskeyRecord {
    id: String,
    account_id: String,
    name: String,
    credential: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
}

impl TryFrom<PasskeyRecord> for StoredPasskey {
    type Error = DbError;

    fn try_from(record: PasskeyRecord) -> Result<Self, DbError> {
        let credential = serde_json::from_str(&record.credential).map_err(|error| {
            DbError::other(format!("stored passkey {} unreadable: {error}", record.id))
        })?;
        Ok(Self {
            id: record.id,
            account_id: record.account_id,
            name: record.name,
            credential,
            created_at: from_db_time(record.created_at),
            last_used_at: record.last_used_at.map(from_db_time),
        })
    }
}

fn passkeys_from(records: Vec<PasskeyRecord>) -> Result<Vec<StoredPasskey>, DbError> {
    records.into_iter().map(StoredPasskey::try_from).collect()
}

fn credential_json(credential: &Passkey) -> Result<String, DbError> {
    serde_json::to_string(credential)
        .map_err(|error| DbError::other(format!("passkey not serialisable: {error}")))
}

/// Stores a new passkey; a credential already registered (to any account) is
/// `DbError::Duplicate`.
pub fn insert(connection: &mut DbConnection, passkey: &StoredPasskey) -> Result<(), DbError> {
    diesel::insert_into(passkeys::table)
        .values((
            passkeys::id.eq(&passkey.id),
            passkeys::account_id.eq(&passkey.account_id),
            passkeys::credential_id.eq(passkey.credential_id()),
            passkeys::credential.eq(credential_json(&passkey.credential)?),
            // No assertion seen yet; webauthn-rs checks the first against the credential's own.
            passkeys::sign_count.eq(0_i64),
            passkeys::name.eq(&passkey.name),
            passkeys::created_at.eq(db_time(passkey.created_at)),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn list_for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<StoredPasskey>, DbError> {
    passkeys_from(
        passkeys::table
            .filter(passkeys::account_id.eq(account_id))
            .order((passkeys::created_at.asc(), passkeys::id.asc()))
            .select(PasskeyRecord::as_select())
            .load(connection)?,
    )
}

pub fn count_for_account(connection: &mut DbConnection, account_id: &str) -> Result<i64, DbError> {
    Ok(passkeys::table
        .filter(passkeys::account_id.eq(account_id))
        .count()
        .get_result(connection)?)
}

pub fn find_by_credential_id(
    connection: &mut DbConnection,
    credential_id: &str,
) -> Result<Option<StoredPasskey>, DbError> {
    passkeys::table
        .filter(passkeys::credential_id.eq(credential_id))
        .select(PasskeyRecord::as_select())
        .first(connection)
        .optional()?
        .map(StoredPasskey::try_from)
        .transpose()
}

pub fn find_for_account(
    connection: &mut DbConnection,
    account_id: &str,
    id: &str,
) -> Result<Option<StoredPasskey>, DbError> {
    passkeys::table
        .find(id)
        .filter(passkeys::account_id.eq(account_id))
        .select(PasskeyRecord::as_select())
        .first(connection)
        .optional()?
        .map(StoredPasskey::try_from)
        .transpose()
}

/// Records a use whose assertion reported `counter`. One statement, conditional on the counter
/// having moved forward (or on an authenticator that keeps none: 0 stays 0), so a cloned
/// authenticator's stale counter is refused on any instance even when the ceremony's copy of
/// the credential was older. `false` when refused. (Replays are stopped by single-use
/// ceremonies, whatever the counter.)
pub fn record_use(
    connection: &mut DbConnection,
    passkey: &StoredPasskey,
    counter: u32,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let counter = i64::from(counter);
    let moved_on = passkeys::sign_count.lt(counter).or(passkeys::sign_count
        .eq(0)
        .and(counter.into_sql::<diesel::sql_types::BigInt>().eq(0)));
    let updated = diesel::update(
        passkeys::table
            .find(&passkey.id)
            .filter(passkeys::account_id.eq(&passkey.account_id))
            .filter(moved_on),
    )
    .set((
        passkeys::sign_count.eq(counter),
        passkeys::credential.eq(credential_json(&passkey.credential)?),
        passkeys::last_used_at.eq(Some(db_time(now))),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

pub fn rename(
    connection: &mut DbConnection,
    account_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        passkeys::table
            .find(id)
            .filter(passkeys::account_id.eq(account_id)),
    )
    .set(passkeys::name.eq(name))
    .execute(connection)?;
    Ok(updated == 1)
}

pub fn delete(connection: &mut DbConnection, account_id: &str, id: &str) -> Result<bool, DbError> {
    let deleted = diesel::delete(
        passkeys::table
            .find(id)
            .filter(passkeys::account_id.eq(account_id)),
    )
    .execute(connection)?;
    Ok(deleted == 1)
}

pub fn delete_all_for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<(), DbError> {
    diesel::delete(passkeys::table.filter(passkeys::account_id.eq(account_id)))
        .execute(connection)?;
    Ok(())
}
