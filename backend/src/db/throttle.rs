//! Failure counters shared by every instance through the database: consecutive failures per
//! subject with a lock (`login_throttles`), and windowed limits (`throttle_entries`). Which
//! subjects exist and what their limits are is `service::throttle`'s business.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{login_throttles, throttle_entries};
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};

/// A lost insert race is expected and handled; anything else is an error.
enum InsertError {
    Taken,
    Db(DbError),
}

impl From<DbError> for InsertError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Duplicate(_) => Self::Taken,
            error => Self::Db(error),
        }
    }
}

impl From<diesel::result::Error> for InsertError {
    fn from(error: diesel::result::Error) -> Self {
        DbError::from(error).into()
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

pub fn find(connection: &mut DbConnection, subject: &str) -> Result<Option<ThrottleRow>, DbError> {
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
        previous_lock: Option<DateTime<Utc>>,
    },
    Locked {
        until: DateTime<Utc>,
    },
}

/// Counts an attempt before it is checked, unless the key is locked. One conditional UPDATE
/// decides, so however many requests race (on any instance), none gets past a lock, and every
/// attempt is counted exactly once. The first attempt inserts the row; a lost insert race
/// retries the update.
pub fn reserve(
    connection: &mut DbConnection,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Reservation, DbError> {
    let now = db_time(now);
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
                let (failures, previous_lock): (i32, Option<NaiveDateTime>) =
                    login_throttles::table
                        .find(subject)
                        .select((
                            login_throttles::consecutive_failures,
                            login_throttles::locked_until,
                        ))
                        .first(connection)?;
                return Ok(Reservation::Reserved {
                    failures,
                    previous_lock: previous_lock.map(from_db_time),
                });
            }
            if let Some(row) = find(connection, subject)? {
                match row.locked_until {
                    Some(until) if until > now => {
                        return Ok(Reservation::Locked {
                            until: from_db_time(until),
                        })
                    }
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
                Err(InsertError::Db(error)) => return Err(error),
            }
        }
        Err(DbError::other("throttle reservation kept racing"))
    })
}

/// Gives back an attempt that turned out not to be a wrong guess, and withdraws the lock it
/// set in advance (`provisional_lock`), unless a later attempt has replaced that lock.
pub fn release(
    connection: &mut DbConnection,
    subject: &str,
    provisional_lock: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
) -> Result<(), DbError> {
    diesel::update(
        login_throttles::table
            .find(subject)
            .filter(login_throttles::consecutive_failures.gt(0)),
    )
    .set(login_throttles::consecutive_failures.eq(login_throttles::consecutive_failures - 1))
    .execute(connection)?;
    if let Some((provisional, previous)) = provisional_lock {
        let (provisional, previous) = (db_time(provisional), previous.map(db_time));
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
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    let until = db_time(until);
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
pub fn reset(connection: &mut DbConnection, subject: &str) -> Result<(), DbError> {
    diesel::delete(login_throttles::table.find(subject)).execute(connection)?;
    Ok(())
}

/// The outcome of asking to count an attempt against a windowed limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowReservation {
    /// Counted as the entry `id`; delete it again if the attempt turns out not to count.
    Reserved { id: String },
    /// `limit` entries already lie in the window. `oldest` leaves it first; while some are
    /// still `in_flight` (being checked), the window may free up any moment.
    Full {
        oldest: DateTime<Utc>,
        in_flight: bool,
    },
}

/// Counts an attempt against "at most `limit` in the window since `window_start`", before it
/// is checked. The subject's counter row is written first, so concurrent reservations for one
/// subject queue behind each other (a row lock on PostgreSQL, the write lock on SQLite) and
/// the limit holds exactly, on every instance.
pub fn reserve_entry(
    connection: &mut DbConnection,
    subject: &str,
    limit: i64,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<WindowReservation, DbError> {
    super::in_transaction(connection, |connection| {
        serialize_on(connection, subject, db_time(now))?;
        let in_window = throttle_entries::table
            .filter(throttle_entries::subject.eq(subject))
            .filter(throttle_entries::at.gt(db_time(window_start)));
        let count: i64 = in_window.count().get_result(connection)?;
        if count >= limit {
            let oldest: Option<NaiveDateTime> = in_window
                .select(diesel::dsl::min(throttle_entries::at))
                .first(connection)?;
            let unsettled: i64 = in_window
                .filter(throttle_entries::settled.eq(false))
                .count()
                .get_result(connection)?;
            return Ok(WindowReservation::Full {
                oldest: oldest.map(from_db_time).unwrap_or(now),
                in_flight: unsettled > 0,
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(throttle_entries::table)
            .values((
                throttle_entries::id.eq(&id),
                throttle_entries::subject.eq(subject),
                throttle_entries::at.eq(db_time(now)),
            ))
            .execute(connection)?;
        Ok(WindowReservation::Reserved { id })
    })
}

/// Touches (or creates) the subject's counter row, taking its write lock for the transaction.
fn serialize_on(
    connection: &mut DbConnection,
    subject: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    for _ in 0..3 {
        let touched = diesel::update(login_throttles::table.find(subject))
            .set(login_throttles::updated_at.eq(now))
            .execute(connection)?;
        if touched == 1 {
            return Ok(());
        }
        let inserted = super::in_transaction(connection, |connection| {
            diesel::insert_into(login_throttles::table)
                .values((
                    login_throttles::subject.eq(subject),
                    login_throttles::consecutive_failures.eq(0),
                    login_throttles::updated_at.eq(now),
                ))
                .execute(connection)
                .map_err(InsertError::from)
        });
        match inserted {
            Ok(_) => return Ok(()),
            Err(InsertError::Taken) => continue,
            Err(InsertError::Db(error)) => return Err(error),
        }
    }
    Err(DbError::other("throttle row kept racing"))
}

/// The entry's attempt counts for good (it failed, or its action was done).
pub fn settle_entry(connection: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::update(throttle_entries::table.find(id))
        .set(throttle_entries::settled.eq(true))
        .execute(connection)?;
    Ok(())
}

/// Gives back a windowed entry whose attempt did not count.
pub fn remove_entry(connection: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::delete(throttle_entries::table.find(id)).execute(connection)?;
    Ok(())
}

/// Forgets every counter and windowed entry of the given subjects, and of every subject that
/// starts with one of `prefixes` (support's unlock).
pub fn clear(
    connection: &mut DbConnection,
    subjects: &[String],
    prefixes: &[String],
) -> Result<usize, DbError> {
    let mut cleared =
        diesel::delete(login_throttles::table.filter(login_throttles::subject.eq_any(subjects)))
            .execute(connection)?;
    cleared +=
        diesel::delete(throttle_entries::table.filter(throttle_entries::subject.eq_any(subjects)))
            .execute(connection)?;
    for prefix in prefixes {
        let pattern = format!("{}%", escape_like(prefix));
        cleared += diesel::delete(
            login_throttles::table.filter(login_throttles::subject.like(&pattern).escape('\\')),
        )
        .execute(connection)?;
        cleared += diesel::delete(
            throttle_entries::table.filter(throttle_entries::subject.like(&pattern).escape('\\')),
        )
        .execute(connection)?;
    }
    Ok(cleared)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
