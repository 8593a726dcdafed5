//! Opening sessions, turning a bearer token into a [`Principal`], refreshing and signing out.

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::{AppState, Principal};
use crate::auth::clock::{db_time, from_db_time};
use crate::auth::tokens::{ACCESS_TOKEN_LIFETIME_SECS, AMR_OTP};
use crate::db::accounts::AccountRow;
use crate::db::sessions::{self as session_store, RefreshTokenUse, SessionRow};
use crate::db::{in_transaction, DbConnection};
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
}

/// A new refresh token and the hash under which it is stored.
fn new_refresh_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

fn hash_refresh_token(token: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
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
    let (refresh_token, refresh_hash) = new_refresh_token();
    session_store::insert_refresh_token(connection, &refresh_hash, &session.id, db_time(now))?;
    Ok((session, refresh_token))
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

/// Exchanges a refresh token for a new pair. A token used twice revokes its session: either it
/// was stolen, or two tabs raced, and in both cases signing in again is the safe answer.
pub async fn refresh(state: &AppState, refresh_token: String) -> Result<TokenGrant, ApiError> {
    let now = state.now();
    let presented_hash = hash_refresh_token(&refresh_token);
    let (session, role, successor) = state
        .database
        .run(move |connection| {
            in_transaction(connection, |connection| {
                let session_id = match session_store::use_refresh_token(
                    connection,
                    &presented_hash,
                    db_time(now),
                )? {
                    RefreshTokenUse::Accepted { session_id } => session_id,
                    RefreshTokenUse::Reused { session_id } => {
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
                let Some(account) =
                    crate::db::accounts::find_by_id(connection, &session.account_id)?
                else {
                    return Ok(Err(ApiError::InvalidRefreshToken));
                };
                // Defence in depth: a two-factor account never gets a token without the factor.
                if account.two_factor_enabled() && !session.amr_list().iter().any(|m| m == AMR_OTP)
                {
                    session_store::revoke(
                        connection,
                        &session.id,
                        "second_factor_missing",
                        db_time(now),
                    )?;
                    return Ok(Err(ApiError::InvalidRefreshToken));
                }
                let (token, hash) = new_refresh_token();
                session_store::insert_refresh_token(connection, &hash, &session.id, db_time(now))?;
                Ok::<_, ApiError>(Ok((session, account.role, token)))
            })
        })
        .await??;
    let role =
        Role::from_db(&role).ok_or_else(|| ApiError::internal("unknown role in database"))?;
    grant(state, &session, role, successor, now)
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
