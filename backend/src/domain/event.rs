use chrono::{DateTime, Utc};

use super::EventKind;

/// An event of an account's security log, as the rest of the code sees it.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    /// When it happened; for a repeated failure, the first time in its hour.
    pub at: DateTime<Utc>,
    /// How many times it happened (see `db::events`); 1 for all but repeated failures.
    pub count: i32,
    /// When it last happened: `at` unless `count` is more than 1.
    pub last_at: DateTime<Utc>,
    /// Where it came from; for a repeated failure, the latest attempt's.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}
