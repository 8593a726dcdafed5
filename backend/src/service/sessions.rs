//! Opening sessions, turning a bearer token into a [`Principal`], refreshing and signing out.

use chrono::{DateTime, TimeDelta, Utc};

use super::{AppState, Principal};
use crate::auth::clock::{db_time, from_db_time};
use crate::auth::opaque_token;
use crate::auth::tokens::{ACCESS_TOKEN_LIFETIME_SECS, AMR_OTP};
use crate::db::accounts::AccountRow;
use crate::db::sessions::{self as session_store, RefreshTokenUse, SessionRow};
use crate::db::DbConnection;
use crate::domain::Role;
use crate::error::ApiError;

/// How long a session (and so its chain of refresh tokens) lives at most.
pub const SESSION_LIFETIME_DAYS: i64 = 30;

/// What a successful sign-in or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// A new known device's token, when this sign-in made the client one.
    pub device_token: Option<String>,
}

/// Opens a session inside the caller's transaction; the grant is signed afterwards.
pub fn open_session(
    connection: &mut DbConnection,
    account: &AccountRow,
    amr: &[String],
    auth_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(SessionRow, String), ApiError> {
    let session = SessionRow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account.id.clone(),
        created_at: db_time(now),
        auth_time: db_time(auth_time),
        amr: amr.join(" "),
        expires_at: db_time(now + TimeDelta::days(SESSION_LIFETIME_DAYS)),
        revoked_at: None,
        revoked_reason: None,
    };
    session_store::insert_session(connection, &session)?;
    let refresh = opaque_token::generate();
    session_store::insert_refresh_token(
        connection,
        &refresh.hash,
        &session.id,
        None,
        db_time(now),
    )?;
    Ok((session, refresh.token))
}

/// Signs the access token for a session.
pub fn grant(
    state: &AppState,
    session: &SessionRow,
    role: Role,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenGrant, ApiError> {
    let access_token = state.token_keys.issue_access(
        &session.account_id,
        role,
        &session.id,
        from_db_time(session.auth_time),
        &session.amr_list(),
        now,
    )?;
    Ok(TokenGrant {
        access_token,
        expires_in: ACCESS_TOKEN_LIFETIME_SECS,
        refresh_token,
        refresh_expires_at: from_db_time(session.expires_at),
        device_token: None,
    })
}

/// Verifies a bearer token and that its session is still live: one indexed read.
pub async fn authenticate(state: &AppState, bearer_token: &str) -> Result<Principal, ApiError> {
    let now = state.now();
    let claims = state.token_keys.verify_access(bearer_token, now)?;
    let (session_id, account_id) = (claims.sid.clone(), claims.sub.clone());
    let active = state
        .database
        .run(move |connection| {
            session_store::find_active(connection, &session_id, &account_id, db_time(now))
        })
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let role = Role::from_db(&active.account.role)
        .ok_or_else(|| ApiError::internal("unknown role in database"))?;
    // A session without the second factor is worthless once the account has one.
    if active.account.two_factor_enabled()
        && !active
            .session
            .amr_list()
            .iter()
            .any(|method| method == AMR_OTP)
    {
        return Err(ApiError::InvalidToken);
    }
    Ok(Principal {
        account_id: claims.sub,
        session_id: claims.sid,
        role,
        auth_time: from_db_time(active.session.auth_time),
        amr: active.session.amr_list(),
        account: active.account,
    })
}

/// Within this time after a refresh token was rotated, presenting it again (two tabs
/// refreshing at once) gets a fresh pair in the same session instead of revoking it.
pub const REFRESH_REUSE_GRACE_SECS: i64 = 10;

/// Exchanges a refresh token for a new pair. A token used twice revokes its session (it was
/// stolen), unless it is the one rotated within the last [`REFRESH_REUSE_GRACE_SECS`].
pub async fn refresh(state: &AppState, refresh_token: String) -> Result<TokenGrant, ApiError> {
    let now = state.now();
    let presented_hash = opaque_token::hash(&refresh_token);
    let (session, role, successor) = state
        .database
        .transaction(move |connection| {
            let session_id = match session_store::use_refresh_token(
                connection,
                &presented_hash,
                db_time(now),
            )? {
                RefreshTokenUse::Accepted { session_id } => session_id,
                RefreshTokenUse::JustRotated {
                    session_id,
                    used_at,
                } if from_db_time(used_at)
                    >= now - TimeDelta::seconds(REFRESH_REUSE_GRACE_SECS) =>
                {
                    session_id
                }
                RefreshTokenUse::JustRotated { session_id, .. }
                | RefreshTokenUse::Reused { session_id } => {
                    tracing::warn!(%session_id, "refresh token reused; revoking the session");
                    session_store::revoke(
                        connection,
                        &session_id,
                        "refresh_token_reused",
                        db_time(now),
                    )?;
                    return Ok(Err(ApiError::InvalidRefreshToken));
                }
                RefreshTokenUse::Unknown => return Ok(Err(ApiError::InvalidRefreshToken)),
            };
            let session = session_store::find(connection, &session_id)?.filter(|session| {
                session.revoked_at.is_none() && session.expires_at > db_time(now)
            });
            let Some(session) = session else {
                return Ok(Err(ApiError::InvalidRefreshToken));
            };
            let Some(account) = crate::db::accounts::find_by_id(connection, &session.account_id)?
            else {
                return Ok(Err(ApiError::InvalidRefreshToken));
            };
            // Defence in depth: a two-factor account never gets a token without the factor.
            if account.two_factor_enabled() && !session.amr_list().iter().any(|m| m == AMR_OTP) {
                session_store::revoke(
                    connection,
                    &session.id,
                    "second_factor_missing",
                    db_time(now),
                )?;
                return Ok(Err(ApiError::InvalidRefreshToken));
            }
            let successor = opaque_token::generate();
            session_store::insert_refresh_token(
                connection,
                &successor.hash,
                &session.id,
                Some(&presented_hash),
                db_time(now),
            )?;
            Ok::<_, ApiError>(Ok((session, account.role, successor.token)))
        })
        .await??;
    let role =
        Role::from_db(&role).ok_or_else(|| ApiError::internal("unknown role in database"))?;
    grant(state, &session, role, successor, now)
}

/// Revokes the session a refresh token belongs to (sign-out by cookie, when the access token
/// is gone). An unknown token is no error: there is nothing to sign out.
pub async fn logout_by_refresh_token(
    state: &AppState,
    refresh_token: String,
) -> Result<(), ApiError> {
    let now = db_time(state.now());
    let hash = opaque_token::hash(&refresh_token);
    state
        .database
        .transaction(move |connection| {
            if let Some(session_id) = session_store::session_of_refresh_token(connection, &hash)? {
                session_store::revoke(connection, &session_id, "logout", now)?;
            }
            Ok(())
        })
        .await
}

/// Revokes the caller's session; its access and refresh tokens stop working at once.
pub async fn logout(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let now = db_time(state.now());
    let session_id = principal.session_id.clone();
    state
        .database
        .run(move |connection| session_store::revoke(connection, &session_id, "logout", now))
        .await
}
