//! Login challenges (the step between password and code) and recovery codes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{otp_challenges, recovery_codes};
use super::DbConnection;
use super::DbError;
use crate::domain::clock::db_time;

pub const MAX_WRONG_CODES_PER_CHALLENGE: i32 = 5;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = otp_challenges)]
pub struct ChallengeRow {
    pub id: String,
    pub account_id: String,
    pub password_verified_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub failed_attempts: i32,
    pub consumed_at: Option<NaiveDateTime>,
    pub device_token_hash: Option<String>,
}

pub fn insert_challenge(
    connection: &mut DbConnection,
    id: &str,
    account_id: &str,
    device_token_hash: Option<&str>,
    password_verified_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    let password_verified_at = db_time(password_verified_at);
    let expires_at = db_time(expires_at);
    diesel::insert_into(otp_challenges::table)
        .values((
            otp_challenges::id.eq(id),
            otp_challenges::account_id.eq(account_id),
            otp_challenges::password_verified_at.eq(password_verified_at),
            otp_challenges::expires_at.eq(expires_at),
            otp_challenges::device_token_hash.eq(device_token_hash),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn find_challenge(
    connection: &mut DbConnection,
    id: &str,
) -> Result<Option<ChallengeRow>, DbError> {
    Ok(otp_challenges::table
        .find(id)
        .select(ChallengeRow::as_select())
        .first(connection)
        .optional()?)
}

/// Takes one of the challenge's attempts before the code is checked, atomically, so however
/// many requests race, no more than five codes are ever tried per challenge.
pub fn take_challenge_attempt(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let updated = diesel::update(
        otp_challenges::table
            .find(id)
            .filter(otp_challenges::consumed_at.is_null())
            .filter(otp_challenges::expires_at.gt(now))
            .filter(otp_challenges::failed_attempts.lt(MAX_WRONG_CODES_PER_CHALLENGE)),
    )
    .set(otp_challenges::failed_attempts.eq(otp_challenges::failed_attempts + 1))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Uses the challenge up; `false` if another request already did.
pub fn consume_challenge(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let updated = diesel::update(
        otp_challenges::table
            .find(id)
            .filter(otp_challenges::consumed_at.is_null()),
    )
    .set(otp_challenges::consumed_at.eq(Some(now)))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Ends every open challenge of the account (on lock-out, so guessing restarts at the password).
pub fn consume_all_challenges(
    connection: &mut DbConnection,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = db_time(now);
    diesel::update(
        otp_challenges::table
            .filter(otp_challenges::account_id.eq(account_id))
            .filter(otp_challenges::consumed_at.is_null()),
    )
    .set(otp_challenges::consumed_at.eq(Some(now)))
    .execute(connection)?;
    Ok(())
}

/// Replaces the account's recovery codes with new ones (given as keyed hashes).
pub fn replace_recovery_codes(
    connection: &mut DbConnection,
    account_id: &str,
    code_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = db_time(now);
    delete_recovery_codes(connection, account_id)?;
    let rows: Vec<_> = code_hashes
        .iter()
        .map(|hash| {
            (
                recovery_codes::account_id.eq(account_id),
                recovery_codes::code_hash.eq(hash.as_str()),
                recovery_codes::created_at.eq(now),
            )
        })
        .collect();
    for row in rows {
        diesel::insert_into(recovery_codes::table)
            .values(row)
            .execute(connection)?;
    }
    Ok(())
}

pub fn delete_recovery_codes(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<(), DbError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::account_id.eq(account_id)))
        .execute(connection)?;
    Ok(())
}

/// Uses a recovery code, atomically: of concurrent requests with one code exactly one wins.
pub fn use_recovery_code(
    connection: &mut DbConnection,
    account_id: &str,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let updated = diesel::update(
        recovery_codes::table
            .find((account_id, code_hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(connection)?;
    Ok(updated == 1)
}

pub fn count_unused_recovery_codes(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<i64, DbError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::account_id.eq(account_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(connection)?)
}
