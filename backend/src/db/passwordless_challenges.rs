//! The challenges of passwordless sign-ins already answered. A passwordless ceremony keeps no
//! row while the browser answers (its state travels sealed in the state token), so this
//! record is what makes each state token single use.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::used_passwordless_challenges;
use super::DbError;
use super::{in_transaction, DbConnection};
use crate::domain::clock::db_time;

/// Records `challenge` as answered until `expires_at`; false when it already was. Single use
/// is decided by the primary key, on any instance: of concurrent claims exactly one inserts
/// (on PostgreSQL the others wait for its commit, then conflict; on SQLite this insert takes
/// the write lock, so they queue behind it), so call it as the transaction's first write.
pub fn claim(
    connection: &mut DbConnection,
    challenge: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    // In a savepoint: on PostgreSQL a failed statement would abort the whole transaction.
    let inserted = in_transaction(connection, |connection| {
        diesel::insert_into(used_passwordless_challenges::table)
            .values((
                used_passwordless_challenges::challenge.eq(challenge),
                used_passwordless_challenges::expires_at.eq(db_time(expires_at)),
            ))
            .execute(connection)
            .map_err(DbError::from)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DbError::Duplicate(_)) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Forgets challenges whose tokens expired before `before`; housekeeping.
pub fn delete_expired(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        used_passwordless_challenges::table
            .filter(used_passwordless_challenges::expires_at.lt(db_time(before))),
    )
    .execute(connection)?)
}
