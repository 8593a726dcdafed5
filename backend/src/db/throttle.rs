//! Failure counters shared by every instance through the database: per subject (a login name,
//! whether or not the account exists, or an account's re-authentication) and per client IP.

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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_throttles)]
pub struct ThrottleRow {
    pub subject: String,
    pub consecutive_failures: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn find(connection: &mut DbConnection, subject: &str) -> Result<Option<ThrottleRow>, ApiError> {
    Ok(login_throttles::table
        .find(subject)
        .select(ThrottleRow::as_select())
        .first(connection)
        .optional()?)
}

/// The outcome of asking to try a password or code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted in advance: `failures` is the count should this attempt fail.
    Reserved {
        failures: i32,
        /// The (expired) lock before this attempt, to restore if the attempt is given back.
        previous_lock: Option<NaiveDateTime>,
    },
    Locked {
        until: NaiveDateTime,
    },
}

/// Counts an attempt before it is checked, unless the key is locked. One conditional UPDATE
/// decides, so however many requests race (on any instance), none gets past a lock, and every
/// attempt is counted exactly once. The first attempt inserts the row; a lost insert race
/// retries the update.
pub fn reserve(
    connection: &mut DbConnection,
    subject: &str,
    now: NaiveDateTime,
) -> Result<Reservation, ApiError> {
    super::in_transaction(connection, |connection| {
        for _ in 0..3 {
            let counted = diesel::update(
                login_throttles::table.find(subject).filter(
                    login_throttles::locked_until
                        .is_null()
                        .or(login_throttles::locked_until.le(now)),
                ),
            )
            .set((
                login_throttles::consecutive_failures.eq(login_throttles::consecutive_failures + 1),
                login_throttles::updated_at.eq(now),
            ))
            .execute(connection)?;
            if counted == 1 {
                let (failures, previous_lock) = login_throttles::table
                    .find(subject)
                    .select((
                        login_throttles::consecutive_failures,
                        login_throttles::locked_until,
                    ))
                    .first(connection)?;
                return Ok(Reservation::Reserved {
                    failures,
                    previous_lock,
                });
            }
            if let Some(row) = find(connection, subject)? {
                match row.locked_until {
                    Some(until) if until > now => return Ok(Reservation::Locked { until }),
                    _ => continue,
                }
            }
            // In a savepoint: on PostgreSQL a failed statement would abort the transaction.
            let inserted = super::in_transaction(connection, |connection| {
                diesel::insert_into(login_throttles::table)
                    .values((
                        login_throttles::subject.eq(subject),
                        login_throttles::consecutive_failures.eq(1),
                        login_throttles::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .map_err(InsertError::from)
            });
            match inserted {
                Ok(_) => {
                    return Ok(Reservation::Reserved {
                        failures: 1,
                        previous_lock: None,
                    })
                }
                Err(InsertError::Taken) => continue,
                Err(InsertError::Api(error)) => return Err(error),
            }
        }
        Err(ApiError::internal("throttle reservation kept racing"))
    })
}

/// Gives back an attempt that turned out not to be a wrong guess, and withdraws the lock it
/// set in advance (`provisional_lock`), unless a later attempt has replaced that lock.
pub fn release(
    connection: &mut DbConnection,
    subject: &str,
    provisional_lock: Option<(NaiveDateTime, Option<NaiveDateTime>)>,
) -> Result<(), ApiError> {
    diesel::update(
        login_throttles::table
            .find(subject)
            .filter(login_throttles::consecutive_failures.gt(0)),
    )
    .set(login_throttles::consecutive_failures.eq(login_throttles::consecutive_failures - 1))
    .execute(connection)?;
    if let Some((provisional, previous)) = provisional_lock {
        diesel::update(
            login_throttles::table
                .find(subject)
                .filter(login_throttles::locked_until.eq(provisional)),
        )
        .set(login_throttles::locked_until.eq(previous))
        .execute(connection)?;
    }
    Ok(())
}

/// Extends the lock to `until`, never shortening a longer one set concurrently.
pub fn lock_until(
    connection: &mut DbConnection,
    subject: &str,
    until: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::update(
        login_throttles::table.find(subject).filter(
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
pub fn reset(connection: &mut DbConnection, subject: &str) -> Result<(), ApiError> {
    diesel::delete(login_throttles::table.find(subject)).execute(connection)?;
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
