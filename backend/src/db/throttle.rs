//! Failure counters shared by every instance through the database: per username (whether or
//! not the account exists, so throttling tells nothing about existence) and per client IP.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{ip_failures, login_throttles};
use super::{is_unique_violation, DbConnection};
use crate::error::ApiError;

/// A lost insert race is expected and handled; anything else is an error.
enum InsertError {
    Taken,
    Api(ApiError),
}

impl From<diesel::result::Error> for InsertError {
    fn from(error: diesel::result::Error) -> Self {
        if is_unique_violation(&error) {
            Self::Taken
        } else {
            Self::Api(error.into())
        }
    }
}

impl From<InsertError> for ApiError {
    fn from(error: InsertError) -> Self {
        match error {
            InsertError::Taken => ApiError::internal("unique violation escaped its savepoint"),
            InsertError::Api(error) => error,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_throttles)]
pub struct ThrottleRow {
    pub username_key: String,
    pub consecutive_failures: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn find(
    connection: &mut DbConnection,
    username_key: &str,
) -> Result<Option<ThrottleRow>, ApiError> {
    Ok(login_throttles::table
        .find(username_key)
        .select(ThrottleRow::as_select())
        .first(connection)
        .optional()?)
}

/// Adds one failure and answers the new count. The increment is a single UPDATE (exact under
/// concurrency on both databases); the first failure inserts the row, and a lost insert race
/// falls back to the increment.
pub fn record_failure(
    connection: &mut DbConnection,
    username_key: &str,
    now: NaiveDateTime,
) -> Result<i32, ApiError> {
    super::in_transaction(connection, |connection| {
        let increment = || {
            diesel::update(login_throttles::table.find(username_key)).set((
                login_throttles::consecutive_failures.eq(login_throttles::consecutive_failures + 1),
                login_throttles::updated_at.eq(now),
            ))
        };
        if increment().execute(connection)? == 0 {
            // In a savepoint: on PostgreSQL a failed statement would abort the whole transaction.
            let inserted = super::in_transaction(connection, |connection| {
                diesel::insert_into(login_throttles::table)
                    .values((
                        login_throttles::username_key.eq(username_key),
                        login_throttles::consecutive_failures.eq(1),
                        login_throttles::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .map_err(InsertError::from)
            });
            match inserted {
                Ok(_) => return Ok(1),
                Err(InsertError::Taken) => {
                    increment().execute(connection)?;
                }
                Err(InsertError::Api(error)) => return Err(error),
            }
        }
        let count = login_throttles::table
            .find(username_key)
            .select(login_throttles::consecutive_failures)
            .first(connection)?;
        Ok(count)
    })
}

/// Extends the lock to `until`, never shortening a longer one set concurrently.
pub fn lock_until(
    connection: &mut DbConnection,
    username_key: &str,
    until: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::update(
        login_throttles::table.find(username_key).filter(
            login_throttles::locked_until
                .is_null()
                .or(login_throttles::locked_until.lt(until)),
        ),
    )
    .set(login_throttles::locked_until.eq(Some(until)))
    .execute(connection)?;
    Ok(())
}

/// A full sign-in succeeded: the count starts again.
pub fn reset(connection: &mut DbConnection, username_key: &str) -> Result<(), ApiError> {
    diesel::delete(login_throttles::table.find(username_key)).execute(connection)?;
    Ok(())
}

/// Records a failed password or code from `ip`, and forgets this IP's failures older than
/// `forget_before` so the table stays small.
pub fn record_ip_failure(
    connection: &mut DbConnection,
    ip: &str,
    now: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(ip_failures::table)
        .values((ip_failures::ip.eq(ip), ip_failures::at.eq(now)))
        .execute(connection)?;
    diesel::delete(
        ip_failures::table
            .filter(ip_failures::ip.eq(ip))
            .filter(ip_failures::at.lt(forget_before)),
    )
    .execute(connection)?;
    Ok(())
}

/// How many failures `ip` had since `since`, and when the oldest of them was.
pub fn ip_failures_since(
    connection: &mut DbConnection,
    ip: &str,
    since: NaiveDateTime,
) -> Result<(i64, Option<NaiveDateTime>), ApiError> {
    let recent = ip_failures::table
        .filter(ip_failures::ip.eq(ip))
        .filter(ip_failures::at.ge(since));
    let count = recent.count().get_result(connection)?;
    let oldest = recent
        .select(diesel::dsl::min(ip_failures::at))
        .first(connection)?;
    Ok((count, oldest))
}
