//! Removal of rows that can no longer matter, so tables do not grow without bound.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{ip_failures, login_throttles, otp_challenges, sessions};
use super::DbConnection;
use crate::error::ApiError;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: usize,
    pub challenges: usize,
    pub throttles: usize,
    pub ip_failures: usize,
}

/// Deletes sessions (with their refresh tokens) that ended before `sessions_before`,
/// challenges that expired before `challenges_before`, idle unlocked throttle counters last
/// touched before `throttles_before`, and IP failures older than `ip_failures_before`.
pub fn prune(
    connection: &mut DbConnection,
    sessions_before: NaiveDateTime,
    challenges_before: NaiveDateTime,
    throttles_before: NaiveDateTime,
    ip_failures_before: NaiveDateTime,
) -> Result<Pruned, ApiError> {
    Ok(Pruned {
        sessions: diesel::delete(
            sessions::table.filter(
                sessions::expires_at
                    .lt(sessions_before)
                    .or(sessions::revoked_at.lt(sessions_before)),
            ),
        )
        .execute(connection)?,
        challenges: diesel::delete(
            otp_challenges::table.filter(otp_challenges::expires_at.lt(challenges_before)),
        )
        .execute(connection)?,
        throttles: diesel::delete(
            login_throttles::table
                .filter(login_throttles::updated_at.lt(throttles_before))
                .filter(
                    login_throttles::locked_until
                        .is_null()
                        .or(login_throttles::locked_until.lt(throttles_before)),
                ),
        )
        .execute(connection)?,
        ip_failures: diesel::delete(
            ip_failures::table.filter(ip_failures::at.lt(ip_failures_before)),
        )
        .execute(connection)?,
    })
}
