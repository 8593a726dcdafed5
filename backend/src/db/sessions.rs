//! Sessions and their refresh tokens. A refresh token is stored only as its SHA-256 and is
//! used once: using it again means it was stolen, and the whole session is revoked.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::accounts::AccountRow;
use super::schema::{accounts, refresh_tokens, sessions};
use super::DbConnection;
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub account_id: String,
    pub created_at: NaiveDateTime,
    pub auth_time: NaiveDateTime,
    pub amr: String,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

impl SessionRow {
    pub fn amr_list(&self) -> Vec<String> {
        self.amr.split_whitespace().map(str::to_string).collect()
    }
}

/// A live session with its account, read in one query.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub session: SessionRow,
    pub account: AccountRow,
}

pub fn insert_session(connection: &mut DbConnection, session: &SessionRow) -> Result<(), ApiError> {
    diesel::insert_into(sessions::table)
        .values(session)
        .execute(connection)?;
    Ok(())
}

/// Stores a refresh token of the session; `parent_hash` is the token it was minted from.
pub fn insert_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
    session_id: &str,
    parent_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
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
    now: NaiveDateTime,
) -> Result<Option<ActiveSession>, ApiError> {
    let found: Option<(SessionRow, AccountRow)> = sessions::table
        .inner_join(accounts::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::account_id.eq(account_id))
        .filter(sessions::revoked_at.is_null())
        .select((SessionRow::as_select(), AccountRow::as_select()))
        .first(connection)
        .optional()?;
    Ok(found
        .filter(|(session, _)| session.expires_at > now)
        .map(|(session, account)| ActiveSession { session, account }))
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
        used_at: NaiveDateTime,
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
    now: NaiveDateTime,
) -> Result<RefreshTokenUse, ApiError> {
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
            used_at,
        }
    } else {
        RefreshTokenUse::Reused { session_id }
    })
}

/// The session a refresh token (used or not) belongs to.
pub fn session_of_refresh_token(
    connection: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<String>, ApiError> {
    Ok(refresh_tokens::table
        .find(token_hash)
        .select(refresh_tokens::session_id)
        .first(connection)
        .optional()?)
}

pub fn find(
    connection: &mut DbConnection,
    session_id: &str,
) -> Result<Option<SessionRow>, ApiError> {
    Ok(sessions::table
        .find(session_id)
        .select(SessionRow::as_select())
        .first(connection)
        .optional()?)
}

pub fn revoke(
    connection: &mut DbConnection,
    session_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
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
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
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
pub fn set_amr(connection: &mut DbConnection, session_id: &str, amr: &str) -> Result<(), ApiError> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::amr.eq(amr))
        .execute(connection)?;
    Ok(())
}

/// Takes the session row's write lock if the session is still live: the first statement of a
/// privileged change, so a request that authenticated just before a revocation cannot commit
/// after it.
pub fn lock_if_live(connection: &mut DbConnection, session_id: &str) -> Result<bool, ApiError> {
    let touched = diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::id.eq(sessions::id))
    .execute(connection)?;
    Ok(touched == 1)
}
