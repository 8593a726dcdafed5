//! The security event log: what happened to an account, when, and from where.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::security_events;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
pub use crate::domain::EventKind;
use crate::domain::{client_network, Event, RequestOrigin};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = security_events)]
struct EventRecord {
    id: i64,
    kind: String,
    at: NaiveDateTime,
    count: i32,
    last_at: Option<NaiveDateTime>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl TryFrom<EventRecord> for Event {
    type Error = DbError;

    fn try_from(record: EventRecord) -> Result<Self, DbError> {
        let kind = EventKind::parse(&record.kind)
            .ok_or_else(|| DbError::other(format!("unknown event kind {:?}", record.kind)))?;
        Ok(Self {
            id: record.id,
            kind,
            at: from_db_time(record.at),
            count: record.count,
            last_at: from_db_time(record.last_at.unwrap_or(record.at)),
            ip: record.ip,
            user_agent: record.user_agent,
            detail: record.detail,
        })
    }
}

/// The row a repeatable event is counted in: one per account, kind, client network and clock
/// hour.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Repeat {
    network: String,
    hour_start: NaiveDateTime,
}

/// The one rule for which events are counted in a shared row instead of getting their own.
///
/// Refused attempts (a wrong password, code or passkey answer) and the lock-outs they cause
/// can be set off by anyone who knows a username, as often as the throttles let them and from
/// as many networks as they hold. A row each would let a stranger's guesses grow the table
/// without bound, so these are one row per (account, kind, client network, clock hour in
/// UTC) whose `count` goes up; the network is the one throttling counts by (an IPv4 address,
/// an IPv6 /64). Everything else, successes above all, is a row of its own. The match is
/// exhaustive so that a new kind is a decision, not an accident.
///
/// A refused call with an API token is keyed by the token too ([`record_for_token`]): one row
/// per (token, network, hour).
fn repeat_of(
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &RequestOrigin,
    token_id: Option<&str>,
) -> Option<Repeat> {
    let repeats = match kind {
        EventKind::LoginFailed
        | EventKind::OtpFailed
        | EventKind::AccountLocked
        | EventKind::ApiTokenNetworkRefused => true,
        EventKind::LoginSucceeded
        | EventKind::TwoFactorEnabled
        | EventKind::TwoFactorDisabled
        | EventKind::RecoveryCodeUsed
        | EventKind::RecoveryCodesRegenerated
        | EventKind::TwoFactorResetBySupport
        | EventKind::PasswordChanged
        | EventKind::AccountUnlockedBySupport
        | EventKind::PasswordReset
        | EventKind::EmailChanged
        | EventKind::EmailVerified
        | EventKind::SessionRevoked
        | EventKind::DeviceForgotten
        | EventKind::ApiTokenCreated
        | EventKind::ApiTokenRevoked
        | EventKind::PasskeyAdded
        | EventKind::PasskeyRemoved
        | EventKind::PasskeyUsed
        | EventKind::TwoFactorRequiredBySupport
        | EventKind::TwoFactorRequirementLiftedBySupport
        | EventKind::NotMeReported
        | EventKind::AppAccessGranted
        | EventKind::AppAccessRevoked => false,
    };
    if !repeats {
        return None;
    }
    let seconds = at.timestamp();
    let hour_start = DateTime::from_timestamp(seconds - seconds.rem_euclid(3600), 0)?;
    let network = origin
        .ip
        .as_deref()
        .map_or_else(|| "unknown".to_string(), client_network);
    Some(Repeat {
        network: match token_id {
            Some(token_id) => format!("{network} token {token_id}"),
            None => network,
        },
        hour_start: db_time(hour_start),
    })
}

/// Records an event of the account inside the caller's transaction: a row of its own, or, for
/// a repeated failure ([`repeat_of`]), one more on its hour's row. That row is written by one
/// `INSERT ... ON CONFLICT DO UPDATE` on the unique index of its key, so concurrent failures
/// on any instance meet on one row and none is lost (the database serialises the two writes).
pub fn record(
    connection: &mut DbConnection,
    account_id: &str,
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &RequestOrigin,
    detail: Option<&str>,
) -> Result<(), DbError> {
    write(
        connection,
        account_id,
        kind,
        at,
        origin,
        detail,
        repeat_of(kind, at, origin, None),
    )
}

/// Records an event about the API token `token_id` as [`record`] does, a repeatable one
/// counted per token as well as per network and hour.
pub fn record_for_token(
    connection: &mut DbConnection,
    account_id: &str,
    token_id: &str,
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &RequestOrigin,
    detail: Option<&str>,
) -> Result<(), DbError> {
    write(
        connection,
        account_id,
        kind,
        at,
        origin,
        detail,
        repeat_of(kind, at, origin, Some(token_id)),
    )
}

fn write(
    connection: &mut DbConnection,
    account_id: &str,
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &RequestOrigin,
    detail: Option<&str>,
    repeat: Option<Repeat>,
) -> Result<(), DbError> {
    let at = db_time(at);
    let event = (
        security_events::account_id.eq(Some(account_id)),
        security_events::kind.eq(kind.as_str()),
        security_events::at.eq(at),
        security_events::ip.eq(origin.ip.as_deref()),
        security_events::user_agent.eq(origin.user_agent.as_deref()),
        security_events::detail.eq(detail),
    );
    let Some(repeat) = repeat else {
        diesel::insert_into(security_events::table)
            .values(event)
            .execute(connection)?;
        return Ok(());
    };
    let upsert = diesel::insert_into(security_events::table)
        .values((
            event,
            security_events::network.eq(Some(repeat.network)),
            security_events::hour_start.eq(Some(repeat.hour_start)),
        ))
        .on_conflict((
            security_events::account_id,
            security_events::kind,
            security_events::network,
            security_events::hour_start,
        ))
        .do_update()
        .set((
            security_events::count.eq(security_events::count + 1),
            security_events::last_at.eq(Some(at)),
            security_events::ip.eq(excluded(security_events::ip)),
            security_events::user_agent.eq(excluded(security_events::user_agent)),
            security_events::detail.eq(excluded(security_events::detail)),
        ));
    // Diesel's multi-backend connection has no upsert; both backends write the same statement.
    match connection {
        DbConnection::Postgresql(postgres) => upsert.execute(postgres)?,
        DbConnection::Sqlite(sqlite) => upsert.execute(sqlite)?,
    };
    Ok(())
}

/// Deletes the events that last happened before `before` (`CUSTADMIN_EVENT_RETENTION_DAYS`).
pub fn prune_older_than(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, DbError> {
    let before = db_time(before);
    Ok(diesel::delete(
        security_events::table
            .filter(security_events::at.lt(before))
            .filter(
                security_events::last_at
                    .is_null()
                    .or(security_events::last_at.lt(before)),
            ),
    )
    .execute(connection)?)
}

/// Whether the account has any event of `kind` still kept (served by the index of repeats,
/// which begins with the account and the kind).
pub fn any_of_kind(
    connection: &mut DbConnection,
    account_id: &str,
    kind: EventKind,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        security_events::table
            .filter(security_events::account_id.eq(account_id))
            .filter(security_events::kind.eq(kind.as_str())),
    ))
    .get_result(connection)?)
}

/// The account's events, newest first, older than the event `before` when given.
pub fn list(
    connection: &mut DbConnection,
    account_id: &str,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<Event>, DbError> {
    let mut query = security_events::table
        .filter(security_events::account_id.eq(account_id))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(security_events::id.lt(before));
    }
    query
        .order(security_events::id.desc())
        .limit(limit)
        .select(EventRecord::as_select())
        .load(connection)?
        .into_iter()
        .map(Event::try_from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn from(ip: &str) -> RequestOrigin {
        RequestOrigin {
            ip: Some(ip.to_string()),
            user_agent: None,
        }
    }

    #[test]
    fn failures_repeat_per_network_and_clock_hour() {
        let first = repeat_of(
            EventKind::LoginFailed,
            at("2026-12-07T10:00:00Z"),
            &from("2001:db8:1:2::1"),
            None,
        )
        .unwrap();
        assert_eq!(first.network, "2001:db8:1:2::/64");
        assert_eq!(first.hour_start, db_time(at("2026-12-07T10:00:00Z")));
        assert_eq!(
            repeat_of(
                EventKind::LoginFailed,
                at("2026-12-07T10:59:59.999Z"),
                &from("2001:db8:1:2::ffff"),
                None,
            ),
            Some(first.clone()),
            "the same /64 in the same hour"
        );
        assert_ne!(
            repeat_of(
                EventKind::LoginFailed,
                at("2026-12-07T11:00:00Z"),
                &from("2001:db8:1:2::1"),
                None,
            ),
            Some(first),
            "the next hour starts a new row"
        );
        let unknown = repeat_of(
            EventKind::OtpFailed,
            at("2026-12-07T10:00:00Z"),
            &RequestOrigin::default(),
            None,
        )
        .unwrap();
        assert_eq!(unknown.network, "unknown");
    }

    #[test]
    fn only_refused_attempts_and_their_lock_outs_repeat() {
        let repeating: Vec<EventKind> = EventKind::ALL
            .into_iter()
            .filter(|kind| repeat_of(*kind, Utc::now(), &from("192.0.2.1"), None).is_some())
            .collect();
        assert_eq!(
            repeating,
            [
                EventKind::LoginFailed,
                EventKind::OtpFailed,
                EventKind::AccountLocked,
                EventKind::ApiTokenNetworkRefused,
            ]
        );
    }

    #[test]
    fn refused_token_calls_repeat_per_token_too() {
        let at = at("2026-12-07T10:00:00Z");
        let kind = EventKind::ApiTokenNetworkRefused;
        let first = repeat_of(kind, at, &from("198.51.100.7"), Some("token-a")).unwrap();
        assert_eq!(first.network, "198.51.100.7 token token-a");
        assert_ne!(
            repeat_of(kind, at, &from("198.51.100.7"), Some("token-b")),
            Some(first),
            "another token starts its own row"
        );
    }
}
