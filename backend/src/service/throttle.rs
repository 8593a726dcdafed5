//! Throttling policy: per username (10 consecutive failures, then a back-off doubling from 30 s
//! to 15 min) and per client IP (100 failures in 15 minutes). The counters live in the
//! database, so every instance enforces the same limits.

use chrono::{DateTime, TimeDelta, Utc};

use super::RequestOrigin;
use crate::auth::clock::{db_time, from_db_time};
use crate::db::events::{self, EventKind};
use crate::db::{in_transaction, throttle, two_factor, DbConnection};
use crate::error::ApiError;

pub const FAILURES_BEFORE_LOCK: i32 = 10;
pub const FIRST_LOCK_SECS: i64 = 30;
pub const LONGEST_LOCK_SECS: i64 = 15 * 60;
pub const IP_FAILURE_LIMIT: i64 = 100;
pub const IP_WINDOW_SECS: i64 = 15 * 60;

/// How long to lock after `failures` consecutive failures, if at all.
pub fn lock_duration(failures: i32) -> Option<TimeDelta> {
    if failures < FAILURES_BEFORE_LOCK {
        return None;
    }
    let doublings = (failures - FAILURES_BEFORE_LOCK).min(10) as u32;
    let seconds = (FIRST_LOCK_SECS << doublings).min(LONGEST_LOCK_SECS);
    Some(TimeDelta::seconds(seconds))
}

fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (until - now).num_milliseconds().max(0);
    // Round up: retrying a moment too early would only be refused again.
    u64::try_from((millis + 999) / 1000).unwrap_or(1).max(1)
}

/// Refuses the attempt with `429` when the username or the client IP is throttled. Answers the
/// same whether or not the password would have been right, and whether or not the user exists.
pub fn ensure_allowed(
    connection: &mut DbConnection,
    username_key: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if let Some(ip) = origin.ip.as_deref() {
        let window_start = now - TimeDelta::seconds(IP_WINDOW_SECS);
        let (failures, oldest) =
            throttle::ip_failures_since(connection, ip, db_time(window_start))?;
        if failures >= IP_FAILURE_LIMIT {
            let frees_at =
                oldest.map(from_db_time).unwrap_or(now) + TimeDelta::seconds(IP_WINDOW_SECS);
            return Err(ApiError::TooManyAttempts {
                retry_after_secs: seconds_until(frees_at, now),
            });
        }
    }
    if let Some(row) = throttle::find(connection, username_key)? {
        if let Some(locked_until) = row.locked_until.map(from_db_time) {
            if locked_until > now {
                return Err(ApiError::TooManyAttempts {
                    retry_after_secs: seconds_until(locked_until, now),
                });
            }
        }
    }
    Ok(())
}

/// Counts a failed password or code against the username and the IP, records `kind` on the
/// account (if it exists), and locks when the limit is reached. A lock also ends the account's
/// open login challenges, so guessing codes must start again from the password.
pub fn record_failure(
    connection: &mut DbConnection,
    username_key: &str,
    account_id: Option<&str>,
    kind: EventKind,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let at = db_time(now);
    in_transaction(connection, |connection| {
        let failures = throttle::record_failure(connection, username_key, at)?;
        if let Some(ip) = origin.ip.as_deref() {
            let forget_before = db_time(now - TimeDelta::seconds(IP_WINDOW_SECS));
            throttle::record_ip_failure(connection, ip, at, forget_before)?;
        }
        if let Some(account_id) = account_id {
            events::record(connection, account_id, kind, at, origin, None)?;
        }
        if let Some(duration) = lock_duration(failures) {
            throttle::lock_until(connection, username_key, db_time(now + duration))?;
            if let Some(account_id) = account_id {
                let detail = format!(
                    "{failures} consecutive failures; locked for {} seconds",
                    duration.num_seconds()
                );
                events::record(
                    connection,
                    account_id,
                    EventKind::AccountLocked,
                    at,
                    origin,
                    Some(&detail),
                )?;
                two_factor::consume_all_challenges(connection, account_id, at)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_30_seconds_to_15_minutes() {
        assert_eq!(lock_duration(9), None);
        let seconds: Vec<i64> = (10..=17)
            .map(|failures| lock_duration(failures).unwrap().num_seconds())
            .collect();
        assert_eq!(seconds, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(lock_duration(10_000).unwrap().num_seconds(), 900);
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        assert_eq!(seconds_until(now + TimeDelta::milliseconds(1_500), now), 2);
        assert_eq!(seconds_until(now, now), 1);
    }
}
