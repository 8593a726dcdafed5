//! The security event log: what happened to an account, when, and from where.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::security_events;
use super::DbConnection;
use crate::auth::clock::{db_time, from_db_time};
pub use crate::domain::EventKind;
use crate::error::ApiError;

/// An event of an account's security log, as the rest of the code sees it.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = security_events)]
struct EventRecord {
    id: i64,
    kind: String,
    at: NaiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl TryFrom<EventRecord> for Event {
    type Error = ApiError;

    fn try_from(record: EventRecord) -> Result<Self, ApiError> {
        let kind = EventKind::parse(&record.kind)
            .ok_or_else(|| ApiError::internal(format!("unknown event kind {:?}", record.kind)))?;
        Ok(Self {
            id: record.id,
            kind,
            at: from_db_time(record.at),
            ip: record.ip,
            user_agent: record.user_agent,
            detail: record.detail,
        })
    }
}

/// Where a request came from, recorded with each event.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn record(
    connection: &mut DbConnection,
    account_id: &str,
    kind: EventKind,
    at: DateTime<Utc>,
    origin: &RequestOrigin,
    detail: Option<&str>,
) -> Result<(), ApiError> {
    let at = db_time(at);
    diesel::insert_into(security_events::table)
        .values((
            security_events::account_id.eq(Some(account_id)),
            security_events::kind.eq(kind.as_str()),
            security_events::at.eq(at),
            security_events::ip.eq(origin.ip.as_deref()),
            security_events::user_agent.eq(origin.user_agent.as_deref()),
            security_events::detail.eq(detail),
        ))
        .execute(connection)?;
    Ok(())
}

/// The account's events, newest first, older than the event `before` when given.
pub fn list(
    connection: &mut DbConnection,
    account_id: &str,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<Event>, ApiError> {
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
