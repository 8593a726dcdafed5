//! Throttling policy: which counters an attempt is counted against, and their limits. Every
//! attempt is counted before it is checked, in the database, so all instances share the
//! counts and parallel requests cannot overshoot them.
//!
//! The keys are chosen so that a stranger cannot lock the owner out:
//! - wrong passwords count per (username, client network) and, from unknown devices only,
//!   against an account-wide ceiling; a known device of the account has its own counter;
//! - wrong codes after a correct password count per account (the password is known);
//! - proofs from a signed-in session count per session (a thief's session locks itself, not
//!   the owner's), under an account-wide ceiling that only many sessions together reach;
//! - every client network has a windowed limit on failures of any kind.

use chrono::{DateTime, TimeDelta, Utc};

use super::error::{Refusal, ServiceError};
use crate::db::throttle::{self as store, Reservation, WindowReservation};
use crate::db::{in_transaction, DbConnection};
/// Re-exported: the per-network counters here and the per-network event rows of `db::events`
/// must agree on what one network is.
pub use crate::domain::client_network;

pub const FAILURES_BEFORE_LOCK: i32 = 10;
pub const FIRST_LOCK_SECS: i64 = 30;
pub const LONGEST_LOCK_SECS: i64 = 15 * 60;
/// Failures of any kind per client network (more than this in the window are refused).
pub const NETWORK_FAILURE_LIMIT: i64 = 100;
pub const NETWORK_WINDOW_SECS: i64 = 15 * 60;
/// Wrong passwords per username from unknown devices: NIST SP 800-63B's bound.
pub const ACCOUNT_CEILING: i64 = 100;
pub const ACCOUNT_CEILING_WINDOW_SECS: i64 = 15 * 60;
/// Passkey ceremonies started by someone not signed in (passwordless sign-ins, whose state
/// travels sealed in the state token, and password reset links, whose state is a row until it
/// expires) per client site in [`NETWORK_WINDOW_SECS`]: ample for an office behind one
/// address, few enough that one site cannot make the server sign, seal and store without end.
pub const PASSKEY_CEREMONIES_PER_NETWORK: i64 = 300;
/// OpenID Connect authorization requests per client site a minute: each valid one is a row
/// until it expires, and nobody signed in makes them; a relying party's users behind one
/// address sign in far less often than this.
pub const AUTHORIZATION_REQUESTS_PER_SITE_MINUTE: i64 = 60;
/// Resets, unlocks and support-scoped API tokens made, per support agent.
pub const SUPPORT_ACTIONS_PER_HOUR: i64 = 30;
/// Wrong proofs per account from all its sessions together. One session is locked long before
/// it could reach this alone (see the test below), so only many sessions, i.e. someone who
/// can sign in again and again, can hold the owner's own session back.
pub const REAUTHENTICATION_CEILING: i64 = 100;
pub const REAUTHENTICATION_CEILING_WINDOW_SECS: i64 = 15 * 60;
/// Password reset mails to one account, from every network together: a flood from many
/// networks still reaches the holder at most this often.
pub const RESET_MAILS_PER_ACCOUNT_HOUR: i64 = 3;
pub const RESET_MAILS_PER_ACCOUNT_DAY: i64 = 10;
/// Password reset mails to one account asked from one network.
pub const RESET_MAILS_PER_ACCOUNT_AND_NETWORK_HOUR: i64 = 3;
/// Reset requests per client network an hour (answered `429` beyond).
pub const RESET_REQUESTS_PER_NETWORK_HOUR: i64 = 10;
/// Verification links mailed for one account, and to one address whichever account asks.
pub const VERIFICATION_MAILS_PER_ACCOUNT_HOUR: i64 = 5;
pub const MAILS_PER_ADDRESS_HOUR: i64 = 3;
/// The longest window of any limit: windowed entries older than this count for nothing.
pub const LONGEST_WINDOW_SECS: i64 = DAY_SECS;
const MINUTE_SECS: i64 = 60;
const HOUR_SECS: i64 = 60 * MINUTE_SECS;
const DAY_SECS: i64 = 24 * HOUR_SECS;

/// What an attempt is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Wrong passwords for a login name (whether or not the account exists) from one client
    /// network: the IPv4 address or the IPv6 /64.
    PasswordFromNetwork {
        username_key: String,
        network: String,
    },
    /// All wrong passwords for a login name from unknown devices.
    AccountCeiling { username_key: String },
    /// Wrong passwords from one known device of the account.
    KnownDevice { device_id: String },
    /// Wrong codes after a correct password.
    SecondFactor { account_id: String },
    /// Proofs (password, code, passkey or recovery code) offered by one signed-in session.
    Reauthentication {
        account_id: String,
        session_id: String,
    },
    /// Wrong proofs from every session of the account together.
    ReauthenticationCeiling { account_id: String },
    /// Failures of any kind from one client network.
    Network { network: String },
    /// Resets and unlocks by one support agent (counted when done, not when failed).
    SupportActions { agent_id: String },
    /// Mails telling the holder that a right password met a wrong code (one an hour).
    WrongCodeNotice { account_id: String },
    /// Verification links mailed for one account.
    VerificationMails { account_id: String },
    /// Verification links mailed to one address, whichever account asked.
    MailsToAddress { address: String },
    /// Password reset requests from one client network.
    ResetRequests { network: String },
    /// Password reset mails to one account asked from one network.
    ResetMails { account_id: String, network: String },
    /// Password reset mails to one account in an hour, from every network together.
    ResetMailsToAccountHourly { account_id: String },
    /// Password reset mails to one account in a day, from every network together.
    ResetMailsToAccountDaily { account_id: String },
    /// Passkey ceremonies started from one client site by someone not signed in:
    /// passwordless sign-ins and password resets.
    PasskeyCeremonies { site: String },
    /// OpenID Connect authorization requests from one client site.
    AuthorizationRequests { site: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// [`FAILURES_BEFORE_LOCK`] in a row, then a back-off doubling to [`LONGEST_LOCK_SECS`].
    Consecutive,
    /// At most `max` in any `window_secs`.
    Window { max: i64, window_secs: i64 },
}

impl Subject {
    /// The row key. Prefixes keep the kinds apart; unlock clears by prefix.
    pub fn key(&self) -> String {
        match self {
            Self::PasswordFromNetwork {
                username_key,
                network,
            } => format!("{}{network}", password_prefix(username_key)),
            Self::AccountCeiling { username_key } => format!("ceiling:{username_key}"),
            Self::KnownDevice { device_id } => format!("device:{device_id}"),
            Self::SecondFactor { account_id } => format!("otp:{account_id}"),
            Self::Reauthentication {
                account_id,
                session_id,
            } => format!("{}{session_id}", reauthentication_prefix(account_id)),
            Self::ReauthenticationCeiling { account_id } => {
                format!("reauth-ceiling:{account_id}")
            }
            Self::Network { network } => format!("net:{network}"),
            Self::SupportActions { agent_id } => format!("support:{agent_id}"),
            Self::WrongCodeNotice { account_id } => format!("notice-otp:{account_id}"),
            Self::VerificationMails { account_id } => format!("verify-mail:{account_id}"),
            Self::MailsToAddress { address } => format!("mail-to:{}", address.to_lowercase()),
            Self::ResetRequests { network } => format!("reset-net:{network}"),
            Self::ResetMails {
                account_id,
                network,
            } => format!("reset-mail:{account_id}@{network}"),
            Self::ResetMailsToAccountHourly { account_id } => {
                format!("reset-mail-hour:{account_id}")
            }
            Self::ResetMailsToAccountDaily { account_id } => format!("reset-mail-day:{account_id}"),
            Self::PasskeyCeremonies { site } => format!("passkey-site:{site}"),
            Self::AuthorizationRequests { site } => format!("oidc-authorize:{site}"),
        }
    }

    /// The kind of counter, as the metrics' `kind` label: nothing of whom it counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PasswordFromNetwork { .. } => "password_from_network",
            Self::AccountCeiling { .. } => "account_ceiling",
            Self::KnownDevice { .. } => "known_device",
            Self::SecondFactor { .. } => "second_factor",
            Self::Reauthentication { .. } => "reauthentication",
            Self::ReauthenticationCeiling { .. } => "reauthentication_ceiling",
            Self::Network { .. } => "network",
            Self::SupportActions { .. } => "support_actions",
            Self::WrongCodeNotice { .. } => "wrong_code_notice",
            Self::VerificationMails { .. } => "verification_mails",
            Self::MailsToAddress { .. } => "mails_to_address",
            Self::ResetRequests { .. } => "reset_requests",
            Self::ResetMails { .. } => "reset_mails",
            Self::ResetMailsToAccountHourly { .. } => "reset_mails_to_account_hourly",
            Self::ResetMailsToAccountDaily { .. } => "reset_mails_to_account_daily",
            Self::PasskeyCeremonies { .. } => "passkey_ceremonies",
            Self::AuthorizationRequests { .. } => "authorization_requests",
        }
    }

    fn limit(&self) -> Limit {
        let window = |max, window_secs| Limit::Window { max, window_secs };
        match self {
            Self::PasswordFromNetwork { .. }
            | Self::KnownDevice { .. }
            | Self::SecondFactor { .. }
            | Self::Reauthentication { .. } => Limit::Consecutive,
            Self::AccountCeiling { .. } => window(ACCOUNT_CEILING, ACCOUNT_CEILING_WINDOW_SECS),
            Self::ReauthenticationCeiling { .. } => window(
                REAUTHENTICATION_CEILING,
                REAUTHENTICATION_CEILING_WINDOW_SECS,
            ),
            Self::Network { .. } => window(NETWORK_FAILURE_LIMIT, NETWORK_WINDOW_SECS),
            Self::SupportActions { .. } => window(SUPPORT_ACTIONS_PER_HOUR, HOUR_SECS),
            Self::WrongCodeNotice { .. } => window(1, HOUR_SECS),
            Self::VerificationMails { .. } => {
                window(VERIFICATION_MAILS_PER_ACCOUNT_HOUR, HOUR_SECS)
            }
            Self::MailsToAddress { .. } => window(MAILS_PER_ADDRESS_HOUR, HOUR_SECS),
            Self::ResetRequests { .. } => window(RESET_REQUESTS_PER_NETWORK_HOUR, HOUR_SECS),
            Self::ResetMails { .. } => window(RESET_MAILS_PER_ACCOUNT_AND_NETWORK_HOUR, HOUR_SECS),
            Self::ResetMailsToAccountHourly { .. } => {
                window(RESET_MAILS_PER_ACCOUNT_HOUR, HOUR_SECS)
            }
            Self::ResetMailsToAccountDaily { .. } => window(RESET_MAILS_PER_ACCOUNT_DAY, DAY_SECS),
            Self::PasskeyCeremonies { .. } => {
                window(PASSKEY_CEREMONIES_PER_NETWORK, NETWORK_WINDOW_SECS)
            }
            Self::AuthorizationRequests { .. } => {
                window(AUTHORIZATION_REQUESTS_PER_SITE_MINUTE, MINUTE_SECS)
            }
        }
    }
}

/// The key prefix of every per-session re-authentication counter of an account.
fn reauthentication_prefix(account_id: &str) -> String {
    format!("reauth:{account_id}/")
}

/// The key prefix of every per-network password counter of a login name.
pub fn password_prefix(username_key: &str) -> String {
    format!("pwd:{username_key}@")
}

/// A client's site: its IPv4 address, or its IPv6 /48 (what one customer is usually given),
/// for limits a holder of many /64s must not multiply.
pub fn client_site(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(address)) if address.to_ipv4_mapped().is_none() => {
            let segments = address.segments();
            format!("{:x}:{:x}:{:x}::/48", segments[0], segments[1], segments[2])
        }
        _ => client_network(ip),
    }
}

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

#[derive(Debug, Clone)]
enum Counted {
    Consecutive {
        key: String,
        /// The consecutive failures should this attempt fail.
        failures_if_wrong: i32,
        /// The lock this attempt set in advance, and the one before it.
        provisional_lock: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    },
    Window {
        entry_id: String,
    },
}

/// One try of a password, code or action, counted against its subjects before it is checked.
/// It ends as [`Attempt::failed`], [`Attempt::released`], [`Attempt::succeeded`] or
/// [`Attempt::kept`], inside the transaction that settles the outcome.
#[derive(Debug, Clone)]
#[must_use = "an attempt ends as failed, released, succeeded or kept"]
pub struct Attempt {
    counted: Vec<Counted>,
}

/// A consecutive counter that reached its limit with a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub failures: i32,
    pub duration: TimeDelta,
}

/// Counts an attempt against every subject, or none: refused with `429` (and nothing counted)
/// while any of them is locked or full. The attempt that reaches a consecutive limit locks at
/// once, so of concurrent attempts no more than the limit are checked, then one per back-off.
pub fn begin(
    connection: &mut DbConnection,
    subjects: &[Subject],
    now: DateTime<Utc>,
) -> Result<Attempt, ServiceError> {
    // One order for every caller, so two attempts never wait on each other's rows.
    let mut subjects: Vec<&Subject> = subjects.iter().collect();
    subjects.sort_by_key(|subject| subject.key());
    subjects.dedup();
    in_transaction(connection, |connection| {
        let mut counted = Vec::with_capacity(subjects.len());
        for subject in subjects {
            counted.push(count(connection, subject, now)?);
        }
        Ok(Attempt { counted })
    })
}

fn count(
    connection: &mut DbConnection,
    subject: &Subject,
    now: DateTime<Utc>,
) -> Result<Counted, ServiceError> {
    let key = subject.key();
    let counted = count_unrecorded(connection, subject, key, now);
    if counted.is_err() {
        crate::monitoring::throttle_refusal(subject.kind());
    }
    counted
}

fn count_unrecorded(
    connection: &mut DbConnection,
    subject: &Subject,
    key: String,
    now: DateTime<Utc>,
) -> Result<Counted, ServiceError> {
    match subject.limit() {
        Limit::Consecutive => match store::reserve(connection, &key, now)? {
            Reservation::Locked { until } => Err(Refusal::TooManyAttempts {
                retry_after_secs: seconds_until(until, now),
                locked: true,
            }
            .into()),
            Reservation::Reserved {
                failures,
                previous_lock,
            } => {
                // Locked in advance: a parallel attempt sees the lock before this one's check.
                let provisional_lock = match lock_duration(failures) {
                    Some(duration) => {
                        let until = now + duration;
                        store::lock_until(connection, &key, until)?;
                        Some((until, previous_lock))
                    }
                    None => None,
                };
                Ok(Counted::Consecutive {
                    key,
                    failures_if_wrong: failures,
                    provisional_lock,
                })
            }
        },
        Limit::Window { max, window_secs } => {
            let window = TimeDelta::seconds(window_secs);
            match store::reserve_entry(connection, &key, max, now - window, now)? {
                WindowReservation::Reserved { id } => Ok(Counted::Window { entry_id: id }),
                // Attempts still being checked may be given back any moment (right passwords
                // are): then a retry soon may pass. Otherwise the oldest failure must age out.
                WindowReservation::Full {
                    in_flight: true, ..
                } => Err(Refusal::TooManyAttempts {
                    retry_after_secs: 1,
                    locked: false,
                }
                .into()),
                WindowReservation::Full { oldest, .. } => Err(Refusal::TooManyAttempts {
                    retry_after_secs: seconds_until(oldest + window, now),
                    locked: false,
                }
                .into()),
            }
        }
    }
}

impl Attempt {
    /// The attempt was wrong: every count stays. Answers the longest lock-out it started.
    pub fn failed(
        self,
        connection: &mut DbConnection,
        now: DateTime<Utc>,
    ) -> Result<Option<Lockout>, ServiceError> {
        let mut lockout: Option<Lockout> = None;
        for counted in self.counted {
            if let Counted::Window { entry_id } = &counted {
                store::settle_entry(connection, entry_id)?;
            }
            if let Counted::Consecutive {
                key,
                failures_if_wrong,
                ..
            } = counted
            {
                if let Some(duration) = lock_duration(failures_if_wrong) {
                    store::lock_until(connection, &key, now + duration)?;
                    if lockout
                        .as_ref()
                        .map_or(true, |known| known.duration < duration)
                    {
                        lockout = Some(Lockout {
                            failures: failures_if_wrong,
                            duration,
                        });
                    }
                }
            }
        }
        Ok(lockout)
    }

    /// The attempt was no wrong guess (right but signs no one in, or never checked): given back.
    pub fn released(self, connection: &mut DbConnection) -> Result<(), ServiceError> {
        for counted in self.counted {
            match counted {
                Counted::Consecutive {
                    key,
                    provisional_lock,
                    ..
                } => store::release(connection, &key, provisional_lock)?,
                Counted::Window { entry_id } => store::remove_entry(connection, &entry_id)?,
            }
        }
        Ok(())
    }

    /// The attempt was right: consecutive counts start again, windowed entries are given back.
    pub fn succeeded(self, connection: &mut DbConnection) -> Result<(), ServiceError> {
        for counted in self.counted {
            match counted {
                Counted::Consecutive { key, .. } => store::reset(connection, &key)?,
                Counted::Window { entry_id } => store::remove_entry(connection, &entry_id)?,
            }
        }
        Ok(())
    }

    /// The attempt counts as done (a support action, a mail sent): every entry stays, settled;
    /// no lock is set.
    pub fn kept(self, connection: &mut DbConnection) -> Result<(), ServiceError> {
        for counted in self.counted {
            if let Counted::Window { entry_id } = counted {
                store::settle_entry(connection, &entry_id)?;
            }
        }
        Ok(())
    }
}

/// Forgets the account's failed codes (two-factor switched off: the counters guarded a
/// secret that is gone), at sign-in and from every session.
pub fn forget_second_factor_failures(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<(), ServiceError> {
    let subjects = [
        Subject::SecondFactor {
            account_id: account_id.to_string(),
        }
        .key(),
        Subject::ReauthenticationCeiling {
            account_id: account_id.to_string(),
        }
        .key(),
    ];
    Ok(store::clear(
        connection,
        &subjects,
        &[reauthentication_prefix(account_id)],
    )
    .map(|_| ())?)
}

/// Clears every counter that guards the account's sign-ins and its sessions' proofs
/// (support's unlock).
pub fn clear_account(
    connection: &mut DbConnection,
    username_key: &str,
    account_id: &str,
    device_ids: &[String],
) -> Result<usize, ServiceError> {
    let mut subjects = vec![
        Subject::AccountCeiling {
            username_key: username_key.to_string(),
        }
        .key(),
        Subject::SecondFactor {
            account_id: account_id.to_string(),
        }
        .key(),
        Subject::ReauthenticationCeiling {
            account_id: account_id.to_string(),
        }
        .key(),
    ];
    subjects.extend(device_ids.iter().map(|device_id| {
        Subject::KnownDevice {
            device_id: device_id.clone(),
        }
        .key()
    }));
    Ok(store::clear(
        connection,
        &subjects,
        &[
            password_prefix(username_key),
            reauthentication_prefix(account_id),
        ],
    )?)
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
    fn a_client_site_is_an_ipv6_48_or_an_ipv4_address() {
        assert_eq!(client_site("2001:db8:1:2:aaaa::1"), "2001:db8:1::/48");
        assert_eq!(client_site("2001:db8:1:ffff::9"), "2001:db8:1::/48");
        assert_eq!(client_site("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_site("::ffff:203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn subjects_of_one_login_name_share_the_prefix_unlock_clears() {
        let subject = Subject::PasswordFromNetwork {
            username_key: "alice".into(),
            network: "203.0.113.9".into(),
        };
        assert!(subject.key().starts_with(&password_prefix("alice")));
        assert!(!subject.key().starts_with(&password_prefix("alic")));
    }

    #[test]
    fn one_session_is_locked_long_before_it_reaches_the_account_s_ceiling() {
        // Fail at once whenever allowed, for a whole ceiling window.
        let window = TimeDelta::seconds(REAUTHENTICATION_CEILING_WINDOW_SECS);
        let (mut failures, mut elapsed) = (0, TimeDelta::zero());
        while elapsed < window {
            failures += 1;
            elapsed += lock_duration(failures).unwrap_or(TimeDelta::zero());
        }
        assert!(
            i64::from(failures) * 4 < REAUTHENTICATION_CEILING,
            "{failures}"
        );
    }

    #[test]
    fn per_session_counters_of_one_account_share_the_prefix_unlock_clears() {
        let subject = Subject::Reauthentication {
            account_id: "a1".into(),
            session_id: "s1".into(),
        };
        assert!(subject.key().starts_with(&reauthentication_prefix("a1")));
        assert!(!subject.key().starts_with(&reauthentication_prefix("a")));
    }

    #[test]
    fn no_window_is_longer_than_the_longest_housekeeping_keeps() {
        let subjects = [
            Subject::ResetMailsToAccountDaily {
                account_id: "a".into(),
            },
            Subject::ReauthenticationCeiling {
                account_id: "a".into(),
            },
            Subject::AccountCeiling {
                username_key: "a".into(),
            },
            Subject::SupportActions {
                agent_id: "a".into(),
            },
            Subject::ResetMails {
                account_id: "a".into(),
                network: "n".into(),
            },
            Subject::MailsToAddress {
                address: "a@example.com".into(),
            },
            Subject::AuthorizationRequests { site: "s".into() },
        ];
        for subject in subjects {
            if let Limit::Window { window_secs, .. } = subject.limit() {
                assert!(window_secs <= LONGEST_WINDOW_SECS, "{subject:?}");
            }
        }
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        assert_eq!(seconds_until(now + TimeDelta::milliseconds(1_500), now), 2);
        assert_eq!(seconds_until(now, now), 1);
    }
}
