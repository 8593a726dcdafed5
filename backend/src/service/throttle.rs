//! Throttling policy: per username (10 consecutive failures, then a back-off doubling from 30 s
//! to 15 min) and per client IP (100 failures in 15 minutes). The counters live in the
//! database, so every instance enforces the same limits.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::{AppState, RequestOrigin};
use crate::auth::clock::{db_time, from_db_time};
use crate::db::accounts::AccountRow;
use crate::db::events::{self, EventKind};
use crate::db::throttle::Reservation;
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

/// The key under which an IP's failures are counted: the address itself for IPv4, its /64 for
/// IPv6 (one customer line holds a whole /64, so a per-address count would be no limit).
pub fn ip_throttle_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(address)) if address.to_ipv4_mapped().is_none() => {
            let segments = address.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        _ => ip.to_string(),
    }
}

/// Refuses with `429` when the client IP has failed too often recently.
pub fn ensure_ip_allowed(
    connection: &mut DbConnection,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(ip) = origin.ip.as_deref() else {
        return Ok(());
    };
    let window_start = now - TimeDelta::seconds(IP_WINDOW_SECS);
    let (failures, oldest) =
        throttle::ip_failures_since(connection, &ip_throttle_key(ip), db_time(window_start))?;
    if failures >= IP_FAILURE_LIMIT {
        let frees_at = oldest.map(from_db_time).unwrap_or(now) + TimeDelta::seconds(IP_WINDOW_SECS);
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: seconds_until(frees_at, now),
        });
    }
    Ok(())
}

/// Counts a failure against the client IP (also for failures that involve no account).
pub fn count_ip_failure(
    connection: &mut DbConnection,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if let Some(ip) = origin.ip.as_deref() {
        let forget_before = db_time(now - TimeDelta::seconds(IP_WINDOW_SECS));
        throttle::record_ip_failure(
            connection,
            &ip_throttle_key(ip),
            db_time(now),
            forget_before,
        )?;
    }
    Ok(())
}

/// One try of a password or code, counted before it is checked (see [`begin_attempt`]).
#[derive(Debug, Clone)]
#[must_use = "an attempt ends as failed, released, or reset by a full sign-in"]
pub struct Attempt {
    subject: String,
    /// The consecutive failures should this attempt fail.
    failures_if_wrong: i32,
    /// The lock this attempt set in advance, and the one before it.
    provisional_lock: Option<(NaiveDateTime, Option<NaiveDateTime>)>,
}

/// The throttle subject of sign-ins with `username_key`, whether or not such an account exists.
pub fn login_subject(username_key: &str) -> String {
    format!("login:{username_key}")
}

/// The throttle subject of proofs (password or code) offered by a signed-in caller: apart from
/// sign-ins, so someone who keeps the username locked does not lock the owner's session out of
/// changing the password.
pub fn reauthentication_subject(account_id: &str) -> String {
    format!("reauth:{account_id}")
}

/// Starts an attempt for `subject` (for a login name, whether or not such an account exists, so throttling
/// tells nothing about existence): refused with `429` while the IP or the username is locked,
/// otherwise counted at once. The attempt that reaches the limit locks right away, so of
/// concurrent attempts no more than the limit are checked, and after that one per back-off.
pub fn begin_attempt(
    connection: &mut DbConnection,
    subject: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Attempt, ApiError> {
    ensure_ip_allowed(connection, origin, now)?;
    // Count and lock in one transaction: between the two, the row would be unlocked at the
    // limit and waiting reservations (on PostgreSQL, or other instances) would slip through.
    in_transaction(connection, |connection| {
        reserve_attempt(connection, subject, now)
    })
}

fn reserve_attempt(
    connection: &mut DbConnection,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Attempt, ApiError> {
    match throttle::reserve(connection, subject, db_time(now))? {
        Reservation::Locked { until } => Err(ApiError::TooManyAttempts {
            retry_after_secs: seconds_until(from_db_time(until), now),
        }),
        Reservation::Reserved {
            failures,
            previous_lock,
        } => {
            let provisional_lock = match lock_duration(failures) {
                Some(duration) => {
                    let until = db_time(now + duration);
                    throttle::lock_until(connection, subject, until)?;
                    Some((until, previous_lock))
                }
                None => None,
            };
            Ok(Attempt {
                subject: subject.to_string(),
                failures_if_wrong: failures,
                provisional_lock,
            })
        }
    }
}

/// The attempt was wrong: it stays counted; the IP's count grows, `kind` is recorded on the
/// account (if it exists), and at the limit the lock is recorded and the account's open login
/// challenges end, so guessing codes must start again from the password.
pub fn attempt_failed(
    connection: &mut DbConnection,
    attempt: Attempt,
    account_id: Option<&str>,
    kind: EventKind,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let at = db_time(now);
    in_transaction(connection, |connection| {
        count_ip_failure(connection, origin, now)?;
        if let Some(account_id) = account_id {
            events::record(connection, account_id, kind, at, origin, None)?;
        }
        if let Some(duration) = lock_duration(attempt.failures_if_wrong) {
            if let Some(account_id) = account_id {
                // Challenges before the throttle row: the code step locks them in that order too.
                two_factor::consume_all_challenges(connection, account_id, at)?;
                let detail = format!(
                    "{} consecutive failures; locked for {} seconds",
                    attempt.failures_if_wrong,
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
            }
            throttle::lock_until(connection, &attempt.subject, db_time(now + duration))?;
        }
        Ok(())
    })
}

/// Runs `check` (of a password or code offered as proof by a signed-in caller) as one counted
/// attempt for the account: refused with `429` while locked; `false` counts as a failure of
/// `kind`; `true` or an error gives the attempt back.
pub async fn counted_check<F>(
    state: &AppState,
    account: &AccountRow,
    kind: EventKind,
    origin: &RequestOrigin,
    check: F,
) -> Result<bool, ApiError>
where
    F: std::future::Future<Output = Result<bool, ApiError>>,
{
    let now = state.now();
    let attempt = {
        let (key, origin) = (reauthentication_subject(&account.id), origin.clone());
        state
            .database
            .run(move |connection| begin_attempt(connection, &key, &origin, now))
            .await?
    };
    let outcome = check.await;
    let (account_id, origin) = (account.id.clone(), origin.clone());
    state
        .database
        .run(move |connection| match outcome {
            Ok(false) => {
                attempt_failed(connection, attempt, Some(&account_id), kind, &origin, now)?;
                Ok(false)
            }
            other => {
                release(connection, attempt)?;
                other
            }
        })
        .await
}

/// The attempt was no wrong guess (it was right but signs no one in, or it never ran).
pub fn release(connection: &mut DbConnection, attempt: Attempt) -> Result<(), ApiError> {
    throttle::release(connection, &attempt.subject, attempt.provisional_lock)
}

/// A full sign-in succeeded: the count starts again.
pub fn signed_in(connection: &mut DbConnection, attempt: Attempt) -> Result<(), ApiError> {
    throttle::reset(connection, &attempt.subject)
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
    fn ipv6_clients_are_counted_per_64_and_ipv4_per_address() {
        assert_eq!(ip_throttle_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(ip_throttle_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(ip_throttle_key("203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        assert_eq!(seconds_until(now + TimeDelta::milliseconds(1_500), now), 2);
        assert_eq!(seconds_until(now, now), 1);
    }
}
