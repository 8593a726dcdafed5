//! Opening sessions, turning a bearer token into a [`Principal`], refreshing and signing out.

use chrono::{DateTime, TimeDelta, Utc};

use super::credential_change::{self, end_device_trust, CredentialChange, Devices};
use super::error::{Refusal, ServiceError};
use super::two_factor_requirement;
use super::{AppState, Principal};
use crate::auth::opaque_token;
use crate::auth::tokens::{has_second_factor, ACCESS_TOKEN_LIFETIME_SECS};
use crate::db::accounts::Account;
use crate::db::events::{self, EventKind};
use crate::db::sessions::{
    self as session_store, ActiveSession, CachedSessionCheck, RefreshTokenUse, Session,
    LAST_USED_RESOLUTION_SECS,
};
use crate::db::DbConnection;
use crate::domain::{RequestOrigin, Role};

/// How long a session (and so its chain of refresh tokens) lives at most.
pub const SESSION_LIFETIME_DAYS: i64 = 30;

/// What a successful sign-in or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    /// The device token the client is to hold from now on for this account, when a new one
    /// was made (a new device, or trust granted).
    pub device_token: Option<String>,
    /// The stored form of the account's earlier device token that `device_token` replaces.
    pub replaced_device_hash: Option<String>,
}

/// Opens a session inside the caller's transaction; the grant is signed afterwards.
pub fn open_session(
    connection: &mut DbConnection,
    account: &Account,
    amr: &[String],
    device_id: Option<String>,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(Session, String), ServiceError> {
    let session = Session {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account.id.clone(),
        created_at: now,
        auth_time: now,
        amr: amr.to_vec(),
        expires_at: now + TimeDelta::days(SESSION_LIFETIME_DAYS),
        revoked_at: None,
        last_used_at: Some(now),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        device_id,
    };
    session_store::insert_session(connection, &session)?;
    let refresh = opaque_token::generate();
    session_store::insert_refresh_token(connection, &refresh.hash, &session.id, None, now)?;
    Ok((session, refresh.token))
}

/// Signs the access token for a session.
pub fn grant(
    state: &AppState,
    session: &Session,
    role: Role,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenGrant, ServiceError> {
    let access_token = state.token_keys.issue_access(
        &session.account_id,
        role,
        &session.id,
        session.auth_time,
        &session.amr,
        now,
    )?;
    Ok(TokenGrant {
        access_token,
        expires_in: ACCESS_TOKEN_LIFETIME_SECS,
        refresh_token,
        refresh_expires_at: session.expires_at,
        device_token: None,
        replaced_device_hash: None,
    })
}

/// Verifies a bearer token and that its session is still live: one indexed read, or the same
/// read from under `settings.session_check_reuse` ago when nothing ran on the database since.
/// That reuse is the longest a revocation made by *another* instance can lag here (0 by
/// default on PostgreSQL, where several instances share the database); a revocation on this
/// instance (sign-out, ending a session, a password change, a support reset: all database
/// runs) voids every reused check at once, see [`crate::db::Database::runs`].
pub async fn authenticate(state: &AppState, bearer_token: &str) -> Result<Principal, ServiceError> {
    let now = state.now();
    let claims = state.token_keys.verify_access(bearer_token, now)?;
    let active = match reusable_check(state, &claims.sid, &claims.sub, now) {
        Some(active) => active,
        None => {
            let (session_id, account_id) = (claims.sid.clone(), claims.sub.clone());
            // Read before the query: a run that ends after this voids what the query saw.
            let runs_before = state.database.runs();
            let active = state
                .database
                .run_uncounted(move |connection| -> Result<_, ServiceError> {
                    let active =
                        session_store::find_active(connection, &session_id, &account_id, now)?;
                    // "Last used" in the same trip to the database, and only once a minute.
                    let stale = active.as_ref().is_some_and(|active| {
                        active.session.last_used_at.map_or(true, |used| {
                            now - used >= TimeDelta::seconds(LAST_USED_RESOLUTION_SECS)
                        })
                    });
                    if stale {
                        session_store::note_use(connection, &session_id, now)?;
                    }
                    Ok(active)
                })
                .await?
                .ok_or(Refusal::InvalidToken)?;
            if !state.settings.session_check_reuse.is_zero() {
                state.database.session_checks().insert(
                    claims.sid.clone(),
                    CachedSessionCheck {
                        runs_before,
                        read_at: now,
                        active: active.clone(),
                    },
                );
            }
            active
        }
    };
    let mut active = active;
    let role = active.account.role;
    // A session without the second factor is worthless once the account has one.
    if active.account.two_factor_enabled() && !has_second_factor(&active.session.amr) {
        return Err(Refusal::InvalidToken.into());
    }
    let standing = two_factor_requirement::standing_now(state, &mut active.account, now).await?;
    Ok(Principal {
        account_id: claims.sub,
        session_id: claims.sid,
        role,
        auth_time: active.session.auth_time,
        amr: active.session.amr,
        account: active.account,
        api_token: None,
        two_factor_setup_only: standing.is_overdue(),
    })
}

/// Within this time after a refresh token was rotated, presenting it again (two tabs
/// refreshing at once) gets a fresh pair in the same session instead of revoking it.
pub const REFRESH_REUSE_GRACE_SECS: i64 = 10;

/// Exchanges a refresh token for a new pair. A token used twice revokes its session (it was
/// stolen), unless it is the one rotated within the last [`REFRESH_REUSE_GRACE_SECS`].
pub async fn refresh(state: &AppState, refresh_token: String) -> Result<TokenGrant, ServiceError> {
    let now = state.now();
    let presented_hash = opaque_token::hash(&refresh_token);
    let (session, role, successor) = state
        .database
        .transaction_committing_refusals(move |connection| {
            let session_id =
                match session_store::use_refresh_token(connection, &presented_hash, now)? {
                    RefreshTokenUse::Accepted { session_id } => session_id,
                    RefreshTokenUse::JustRotated {
                        session_id,
                        used_at,
                    } if used_at >= now - TimeDelta::seconds(REFRESH_REUSE_GRACE_SECS) => {
                        session_id
                    }
                    RefreshTokenUse::JustRotated { session_id, .. }
                    | RefreshTokenUse::Reused { session_id } => {
                        tracing::warn!(%session_id, "refresh token reused; revoking the session");
                        session_store::revoke(
                            connection,
                            &session_id,
                            "refresh_token_reused",
                            now,
                        )?;
                        return Err(Refusal::InvalidRefreshToken.into());
                    }
                    RefreshTokenUse::Unknown => return Err(Refusal::InvalidRefreshToken.into()),
                };
            let session = session_store::find(connection, &session_id)?
                .filter(|session| session.is_live(now));
            let Some(session) = session else {
                return Err(Refusal::InvalidRefreshToken.into());
            };
            let Some(account) = crate::db::accounts::find_by_id(connection, &session.account_id)?
            else {
                return Err(Refusal::InvalidRefreshToken.into());
            };
            // Defence in depth: a two-factor account never gets a token without the factor.
            if account.two_factor_enabled() && !has_second_factor(&session.amr) {
                session_store::revoke(connection, &session.id, "second_factor_missing", now)?;
                return Err(Refusal::InvalidRefreshToken.into());
            }
            let successor = opaque_token::generate();
            session_store::insert_refresh_token(
                connection,
                &successor.hash,
                &session.id,
                Some(&presented_hash),
                now,
            )?;
            Ok::<_, ServiceError>((session, account.role, successor.token))
        })
        .await?;
    grant(state, &session, role, successor, now)
}

/// The live session read for `session_id` moments ago, if nothing ran on the database since
/// and it is younger than `settings.session_check_reuse` by the server's clock.
fn reusable_check(
    state: &AppState,
    session_id: &str,
    account_id: &str,
    now: DateTime<Utc>,
) -> Option<ActiveSession> {
    let reuse = TimeDelta::from_std(state.settings.session_check_reuse).ok()?;
    if reuse.is_zero() {
        return None;
    }
    let cached = state.database.session_checks().get(session_id)?;
    let reusable = cached.runs_before == state.database.runs()
        && now >= cached.read_at
        && now - cached.read_at < reuse
        && cached.active.session.expires_at > now
        && cached.active.account.id == account_id;
    reusable.then(|| cached.active.clone())
}

/// Revokes the session a refresh token belongs to (sign-out by cookie, when the access token
/// is gone). An unknown token is no error: there is nothing to sign out.
pub async fn logout_by_refresh_token(
    state: &AppState,
    refresh_token: String,
) -> Result<(), ServiceError> {
    let now = state.now();
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
pub async fn logout(state: &AppState, principal: &Principal) -> Result<(), ServiceError> {
    let now = state.now();
    let session_id = principal.session_id.clone();
    Ok(state
        .database
        .run(move |connection| session_store::revoke(connection, &session_id, "logout", now))
        .await?)
}

/// The caller's live sessions, the caller's own marked.
pub async fn list(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<(Session, bool)>, ServiceError> {
    let now = state.now();
    let (account_id, current) = (principal.account_id.clone(), principal.session_id.clone());
    let sessions = state
        .database
        .run(move |connection| session_store::live_for_account(connection, &account_id, now))
        .await?;
    Ok(sessions
        .into_iter()
        .map(|session| {
            let is_current = session.id == current;
            (session, is_current)
        })
        .collect())
}

/// Ends one of the caller's sessions: its access tokens stop at once, on every instance.
pub async fn end(
    state: &AppState,
    principal: &Principal,
    session_id: &str,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let (account_id, session_id, origin) = (
        principal.account_id.clone(),
        session_id.to_string(),
        origin.clone(),
    );
    let caller = principal.session_id.clone();
    state
        .database
        .transaction(move |connection| {
            if !session_store::revoke_of_account(
                connection,
                &account_id,
                &session_id,
                "ended_by_user",
                now,
            )? {
                return Err(Refusal::NotFound.into());
            }
            // Signing a device out also takes back its "don't ask for a code", and with it
            // every other session that trust opened.
            if let Some(device_id) =
                session_store::find(connection, &session_id)?.and_then(|session| session.device_id)
            {
                end_device_trust(
                    connection,
                    &account_id,
                    Devices::One(&device_id),
                    Some(&caller),
                    now,
                )?;
            }
            Ok(events::record(
                connection,
                &account_id,
                EventKind::SessionRevoked,
                now,
                &origin,
                Some(&format!("session {session_id}")),
            )?)
        })
        .await
}

/// "Sign out everywhere": every session of the caller but the caller's own ends, and so does
/// everything else [`CredentialChange::SignOutEverywhere`] ends (API tokens included).
pub async fn end_others(
    state: &AppState,
    principal: &Principal,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let (account_id, keep, origin) = (
        principal.account_id.clone(),
        principal.session_id.clone(),
        origin.clone(),
    );
    state
        .database
        .transaction(move |connection| -> Result<_, ServiceError> {
            let others = session_store::live_for_account(connection, &account_id, now)?
                .into_iter()
                .filter(|session| session.id != keep)
                .count();
            credential_change::apply(
                connection,
                &account_id,
                CredentialChange::SignOutEverywhere,
                Some(&keep),
                now,
            )?;
            Ok(events::record(
                connection,
                &account_id,
                EventKind::SessionRevoked,
                now,
                &origin,
                Some(&format!("{others} other sessions")),
            )?)
        })
        .await
}
