//! Sessions and their refresh tokens. A refresh token is stored only as its SHA-256 and is
//! used once: using it again means it was stolen, and the whole session is revoked.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::accounts::{Account, AccountRecord};
use super::schema::{accounts, refresh_tokens, sessions};
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};

/// A session: one sign-in and its chain of refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub account_id: String,
    pub created_at: DateTime<Utc>,
    /// When the sign-in happened (for the privileged window).
    pub auth_time: DateTime<Utc>,
    /// RFC 8176 methods the sign-in used, e.g. `["pwd", "otp"]`.
    pub amr: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute, so the read path stays cheap.
    pub last_used_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The known device the sign-in came from.
    pub device_id: Option<String>,
}

impl Session {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRecord {
    id: String,
    account_id: String,
    created_at: NaiveDateTime,
    auth_time: NaiveDateTime,
    /// Space-separated methods.
    amr: String,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    ip: Option<String>,
    user_agent: Option<String>,
    device_id: Option<String>,
}

impl From<SessionRecord> for Session {
    fn from(record: SessionRecord) -> Self {
        Self {
            id: record.id,
            account_id: record.account_id,
            created_at: from_db_time(record.created_at),
            auth_time: from_db_time(record.auth_time),
            amr: record.amr.split_whitespace().map(str::to_string).collect(),
            expires_at: from_db_time(record.expires_at),
            revoked_at: record.revoked_at.map(from_db_time),
            last_used_at: record.last_used_at.map(from_db_time),
            ip: record.ip,
            user_agent: record.user_agent,
            device_id: record.device_id,
        }
    }
}

/// A live session with its account, read in one query.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub session: Session,
    pub account: Account,
}

/// A session check that may be reused for a moment instead of reading the database again.
#[derive(Debug)]
pub struct CachedSessionCheck {
    /// [`super::Database::runs`] before the read: any later run on this instance voids it.
    pub runs_before: u64,
    /// When it was read (the server's clock).
    pub read_at: DateTime<Utc>,
    pub active: ActiveSession,
}

/// Recent session checks by session id: bounded, and never kept longer than a few seconds
/// whatever the clock says (the reuse rule itself is in `service::sessions`).
#[derive(Clone)]
pub struct SessionCheckCache(moka::sync::Cache<String, std::sync::Arc<CachedSessionCheck>>);

impl SessionCheckCache {
    pub fn new() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(5))
                .build(),
        )
    }

    pub fn get(&self, session_id: &str) -> Option<std::sync::Arc<CachedSessionCheck>> {
        self.0.get(session_id)
    }

    pub fn insert(&self, session_id: String, check: CachedSessionCheck) {
        self.0.insert(session_id, std::sync::Arc::new(check));
    }
}

impl Default for SessionCheckCache {
    fn default() -> Self {
        Self::new()
    }
}

pub fn insert_session(connection: &mut DbConnection, session: &Session) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&session.id),
            sessions::account_id.eq(&session.account_id),
            sessions::created_at.eq(db_time(session.created_at)),
            sessions::auth_time.eq(db_time(session.auth_time)),
            sessions::amr.eq(session.amr.join(" ")),
            sessions::expires_at.eq(db_time(session.expires_at)),
            sessions::last_used_at.eq(Some(db_time(session.created_at))),
            sessions::ip.eq(session.ip.as_deref()),
            sessions::user_agent.eq(session.user_agent.as_deref()),
            sessions::device_id.eq(session.device_id.as_deref()),
        ))
        .execute(connection)?;
    Ok(())
}

/// Stores a refresh token of the session; `parent_hash` is the token it was minted from.
pub fn insert_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
    session_id: &str,
    parent_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = db_time(now);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::parent_hash.eq(parent_hash),
        ))
        .execute(connection)?;
    Ok(())
}

/// The session `session_id` of `account_id` if it is neither revoked nor expired.
pub fn find_active(
    connection: &mut DbConnection,
    session_id: &str,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<ActiveSession>, DbError> {
    let now = db_time(now);
    let found: Option<(SessionRecord, AccountRecord)> = sessions::table
        .inner_join(accounts::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::account_id.eq(account_id))
        .filter(sessions::revoked_at.is_null())
        .select((SessionRecord::as_select(), AccountRecord::as_select()))
        .first(connection)
        .optional()?;
    match found {
        Some((session, account)) if session.expires_at > now => Ok(Some(ActiveSession {
            session: session.into(),
            account: Account::try_from(account)?,
        })),
        _ => Ok(None),
    }
}

/// What presenting a refresh token turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshTokenUse {
    /// First use: the caller may issue a successor within the same session.
    Accepted {
        session_id: String,
    },
    /// Used before, at `used_at`, and none of its successors used since: the one rotated last
    /// (two tabs racing, or a replay soon after the rotation).
    JustRotated {
        session_id: String,
        used_at: DateTime<Utc>,
    },
    /// Used before and the session has moved on, or superseded by a sibling's use: a replay.
    Reused {
        session_id: String,
    },
    Unknown,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshTokenRow {
    session_id: String,
    used_at: Option<NaiveDateTime>,
    parent_hash: Option<String>,
    superseded_at: Option<NaiveDateTime>,
}

/// Marks the token used, atomically: of two concurrent first uses exactly one is `Accepted`.
/// Using a token supersedes its unused siblings (tokens minted from the same parent), so of
/// a rotation and its grace re-issues only one chain can go on.
pub fn use_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<RefreshTokenUse, DbError> {
    let now = db_time(now);
    let claimed = diesel::update(
        refresh_tokens::table
            .find(token_hash)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::superseded_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(connection)?;
    let found: Option<RefreshTokenRow> = refresh_tokens::table
        .find(token_hash)
        .select(RefreshTokenRow::as_select())
        .first(connection)
        .optional()?;
    let Some(RefreshTokenRow {
        session_id,
        used_at,
        parent_hash,
        superseded_at,
    }) = found
    else {
        return Ok(RefreshTokenUse::Unknown);
    };
    if claimed == 1 {
        if let Some(parent_hash) = parent_hash {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::parent_hash.eq(parent_hash))
                    .filter(refresh_tokens::token_hash.ne(token_hash))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::superseded_at.is_null()),
            )
            .set(refresh_tokens::superseded_at.eq(now))
            .execute(connection)?;
        }
        return Ok(RefreshTokenUse::Accepted { session_id });
    }
    let (Some(used_at), None) = (used_at, superseded_at) else {
        return Ok(RefreshTokenUse::Reused { session_id });
    };
    let successors_used: i64 = refresh_tokens::table
        .filter(refresh_tokens::parent_hash.eq(token_hash))
        .filter(refresh_tokens::used_at.is_not_null())
        .count()
        .get_result(connection)?;
    Ok(if successors_used == 0 {
        RefreshTokenUse::JustRotated {
            session_id,
            used_at: from_db_time(used_at),
        }
    } else {
        RefreshTokenUse::Reused { session_id }
    })
}

/// The session a refresh token (used or not) belongs to.
pub fn session_of_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<String>, DbError> {
    Ok(refresh_tokens::table
        .find(token_hash)
        .select(refresh_tokens::session_id)
        .first(connection)
        .optional()?)
}

pub fn find(connection: &mut DbConnection, session_id: &str) -> Result<Option<Session>, DbError> {
    Ok(sessions::table
        .find(session_id)
        .select(SessionRecord::as_select())
        .first(connection)
        .optional()?
        .map(Session::from))
}

pub fn revoke(
    connection: &mut DbConnection,
    session_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = db_time(now);
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(now)),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(connection)?;
    Ok(())
}

/// Revokes every live session of the account except `keep` (the caller's own, if any).
pub fn revoke_all_for_account(
    connection: &mut DbConnection,
    account_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let now = db_time(now);
    let revocation = (
        sessions::revoked_at.eq(Some(now)),
        sessions::revoked_reason.eq(Some(reason)),
    );
    let live = sessions::table
        .filter(sessions::account_id.eq(account_id))
        .filter(sessions::revoked_at.is_null());
    let revoked = match keep {
        Some(keep) => diesel::update(live.filter(sessions::id.ne(keep)))
            .set(revocation)
            .execute(connection)?,
        None => diesel::update(live).set(revocation).execute(connection)?,
    };
    Ok(revoked)
}

/// Records that the session has now proved every factor (after two-factor is switched on
/// within it), so a refresh never mints a password-only token for a two-factor account.
pub fn set_amr(
    connection: &mut DbConnection,
    session_id: &str,
    amr: &[&str],
) -> Result<(), DbError> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::amr.eq(amr.join(" ")))
        .execute(connection)?;
    Ok(())
}

/// Takes the session row's write lock if the session is still live: the first statement of a
/// privileged change, so a request that authenticated just before a revocation cannot commit
/// after it.
pub fn lock_if_live(connection: &mut DbConnection, session_id: &str) -> Result<bool, DbError> {
    let touched = diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::id.eq(sessions::id))
    .execute(connection)?;
    Ok(touched == 1)
}

/// How stale "last used" may get before a request refreshes it.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// Notes a use of the session, unless one was noted within the last minute: at most one
/// write a minute per session on the read path.
pub fn note_use(
    connection: &mut DbConnection,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let stale_before = db_time(now - chrono::TimeDelta::seconds(LAST_USED_RESOLUTION_SECS));
    diesel::update(
        sessions::table.find(session_id).filter(
            sessions::last_used_at
                .is_null()
                .or(sessions::last_used_at.lt(stale_before)),
        ),
    )
    .set(sessions::last_used_at.eq(Some(db_time(now))))
    .execute(connection)?;
    Ok(())
}

/// The account's live sessions, most recently used first.
pub fn live_for_account(
    connection: &mut DbConnection,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, DbError> {
    let mut live: Vec<Session> = sessions::table
        .filter(sessions::account_id.eq(account_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(db_time(now)))
        .select(SessionRecord::as_select())
        .load(connection)?
        .into_iter()
        .map(Session::from)
        .collect();
    live.sort_by(|a, b| {
        b.last_used_at
            .unwrap_or(b.created_at)
            .cmp(&a.last_used_at.unwrap_or(a.created_at))
    });
    Ok(live)
}

/// Revokes the account's live session `session_id`; `false` when there is no such session.
pub fn revoke_of_account(
    connection: &mut DbConnection,
    account_id: &str,
    session_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let revoked = diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::account_id.eq(account_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(db_time(now))),
        sessions::revoked_reason.eq(Some(reason)),
    ))
    .execute(connection)?;
    Ok(revoked == 1)
}

/// Revokes the account's live sessions that a trusted device opened without a code (amr
/// `mfa`): those of `only_device` when given, else of every device but `except_device`; never
/// `keep`. When trust ends, what it let in ends too.
pub fn revoke_trusted_device_sessions(
    connection: &mut DbConnection,
    account_id: &str,
    only_device: Option<&str>,
    except_device: Option<&str>,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let mut live = sessions::table
        .filter(sessions::account_id.eq(account_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::amr.like("% mfa"))
        .into_boxed();
    if let Some(device) = only_device {
        live = live.filter(sessions::device_id.eq(device));
    }
    if let Some(device) = except_device {
        // A session of no device is of no trusted device either: NULL is not "another".
        live = live.filter(
            sessions::device_id
                .ne(device)
                .or(sessions::device_id.is_null()),
        );
    }
    if let Some(keep) = keep {
        live = live.filter(sessions::id.ne(keep));
    }
    let ids: Vec<String> = live.select(sessions::id).load(connection)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(
        sessions::table
            .filter(sessions::id.eq_any(&ids))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Some(db_time(now))),
        sessions::revoked_reason.eq(Some("device_trust_ended")),
    ))
    .execute(connection)?)
}
