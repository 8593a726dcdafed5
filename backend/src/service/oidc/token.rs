//! The token endpoint: a code redeemed for tokens (with PKCE), and a refresh token rotated.
//!
//! A code is spent by its first presentation before anything about it is checked (the
//! client, the redirect URI, the verifier, the expiry): a mismatch is `invalid_grant` and the
//! code stays dead. A refresh token is only spent by its own client, authenticated first: a
//! wrong secret or another client leaves it usable by its owner. A code presented again revokes the grant its
//! first redemption opened (the code leaked); a refresh token presented again revokes its
//! grant (the token was copied). Both decisions are conditional updates, so they hold on any
//! instance.

use chrono::{DateTime, TimeDelta, Utc};
use subtle::ConstantTimeEq;

use super::{is_pkce_value, is_plausible_client_id, s256_challenge, REFRESH_TOKEN_LIFETIME_DAYS};
use crate::auth::oidc_tokens::{
    IdTokenContent, OidcAccessContent, OIDC_ACCESS_TOKEN_LIFETIME_SECS,
};
use crate::auth::opaque_token;
use crate::db::oidc_codes::{self, CodeClaim};
use crate::db::oidc_grants::{self, RefreshTokenUse};
use crate::db::{oidc_consents, sessions as session_store, DbConnection};
use crate::domain::oidc::{OidcGrant, OidcScopes, KNOWN_SCOPES};
use crate::domain::OidcClient;
use crate::service::error::{Refusal, ServiceError};
use crate::service::AppState;
use crate::service::{oidc_clients, two_factor_requirement};

/// How the client authenticated: its id, and its secret unless it is a public client.
#[derive(Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Client authentication, inside the caller's transaction: `invalid_client` for anything
/// but a registered client proving itself as it must.
pub fn authenticate_client(
    connection: &mut DbConnection,
    credentials: &ClientCredentials,
) -> Result<OidcClient, ServiceError> {
    if !is_plausible_client_id(&credentials.client_id) {
        return Err(Refusal::InvalidClient.into());
    }
    oidc_clients::authenticate(
        connection,
        &credentials.client_id,
        credentials.secret.as_deref(),
    )
}

/// What the token endpoint answers.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
    /// Only with `offline_access` granted.
    pub refresh_token: Option<String>,
}

/// Redeems a code: the grant it opens, and its tokens.
pub async fn redeem_code(
    state: &AppState,
    credentials: ClientCredentials,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
) -> Result<TokenResponse, ServiceError> {
    let (now, settings) = (state.now(), state.settings.clone());
    let (client, grant, nonce, refresh_token) = state
        .database
        .transaction_committing_refusals(move |connection| -> Result<_, ServiceError> {
            let code_hash = opaque_token::hash(&code);
            let code = match oidc_codes::claim(connection, &code_hash, now)? {
                CodeClaim::Claimed(code) => code,
                CodeClaim::Replayed { grant_id } => {
                    if let Some(grant_id) = grant_id {
                        tracing::warn!(%grant_id, "authorization code replayed; revoking its grant");
                        oidc_grants::revoke(connection, &grant_id, "code_replayed", now)?;
                    }
                    return Err(Refusal::InvalidGrant.into());
                }
                CodeClaim::Unknown => return Err(Refusal::InvalidGrant.into()),
            };
            let client = authenticate_client(connection, &credentials)?;
            let verifier_matches = match (&code.code_challenge, &code_verifier) {
                (Some(challenge), Some(verifier)) if is_pkce_value(verifier) => bool::from(
                    s256_challenge(verifier)
                        .as_bytes()
                        .ct_eq(challenge.as_bytes()),
                ),
                // A verifier where no challenge was sent is a client confused or forged.
                (None, None) => true,
                _ => false,
            };
            let acceptable = code.client_id == client.id
                && redirect_uri.as_deref() == Some(code.redirect_uri.as_str())
                && code.expires_at > now
                && verifier_matches;
            if !acceptable {
                return Err(Refusal::InvalidGrant.into());
            }
            // The sign-in it came from and the consent it rests on must still stand, and
            // keep standing until the grant is in: both rows are locked, so a sign-out, a
            // credential change or the app's removal racing this either comes first (and
            // the code is refused) or after (and ends the new grant with the others).
            let session_live = session_store::lock_if_live(connection, &code.session_id)?
                && session_store::find(connection, &code.session_id)?
                    .is_some_and(|session| session.is_live(now));
            let consented = oidc_consents::lock(connection, &code.account_id, &client.id)?
                .is_some_and(|consent| consent.scopes.covers(&code.scopes));
            let account = two_factor_requirement::account_admitting_delegates(
                connection,
                &settings,
                &code.account_id,
                now,
            )?;
            if !session_live || !consented || account.is_none() {
                return Err(Refusal::InvalidGrant.into());
            }
            let grant = OidcGrant {
                id: uuid::Uuid::new_v4().to_string(),
                client_id: client.id.clone(),
                account_id: code.account_id.clone(),
                scopes: code.scopes.clone(),
                session_id: code.session_id.clone(),
                auth_time: code.auth_time,
                amr: code.amr.clone(),
                acr: code.acr.clone(),
                created_at: now,
                last_used_at: Some(now),
                revoked_at: None,
            };
            oidc_grants::insert(connection, &grant)?;
            oidc_codes::set_grant(connection, &code_hash, &grant.id)?;
            let refresh_token = issue_refresh_token(connection, &grant, now)?;
            Ok((client, grant, code.nonce, refresh_token))
        })
        .await?;
    sign(
        state,
        &client,
        &grant,
        &grant.scopes,
        nonce.as_deref(),
        refresh_token,
        now,
    )
}

/// The grant's next refresh token, if it has `offline_access`.
fn issue_refresh_token(
    connection: &mut DbConnection,
    grant: &OidcGrant,
    now: DateTime<Utc>,
) -> Result<Option<String>, ServiceError> {
    if !grant.scopes.allows_refresh() {
        return Ok(None);
    }
    let token = opaque_token::generate();
    oidc_grants::insert_refresh_token(
        connection,
        &token.hash,
        &grant.id,
        now,
        now + TimeDelta::days(REFRESH_TOKEN_LIFETIME_DAYS),
    )?;
    Ok(Some(token.token))
}

/// Rotates a refresh token: the next one, a new ID token (no nonce; the sign-in's `sub`,
/// `auth_time`, `acr`, `amr`, `sid`) and an access token, for `scope` if narrower. Refused
/// (`invalid_grant`) when the grant is revoked, its consent gone, or its account deleted or
/// past its deadline for a required second factor (the rule API tokens follow too).
pub async fn refresh(
    state: &AppState,
    credentials: ClientCredentials,
    refresh_token: String,
    scope: Option<String>,
) -> Result<TokenResponse, ServiceError> {
    let (now, settings) = (state.now(), state.settings.clone());
    // The client first, on its own: a wrong secret (or another client) must not spend the
    // token, and the transaction below then begins with its write (SQLite's write lock).
    let client = state
        .database
        .run(move |connection| authenticate_client(connection, &credentials))
        .await?;
    let (client, grant, scopes, refresh_token) = state
        .database
        .transaction_committing_refusals(move |connection| -> Result<_, ServiceError> {
            let token_hash = opaque_token::hash(&refresh_token);
            let (grant_id, expires_at) =
                match oidc_grants::use_refresh_token(connection, &token_hash, &client.id, now)? {
                    RefreshTokenUse::Accepted {
                        grant_id,
                        expires_at,
                    } => (grant_id, expires_at),
                    RefreshTokenUse::Reused { grant_id } => {
                        tracing::warn!(%grant_id, "OIDC refresh token reused; revoking its grant");
                        oidc_grants::revoke(connection, &grant_id, "refresh_token_reused", now)?;
                        return Err(Refusal::InvalidGrant.into());
                    }
                    RefreshTokenUse::Unknown => return Err(Refusal::InvalidGrant.into()),
                };
            let Some(grant) = oidc_grants::lock_if_live(connection, &grant_id)? else {
                return Err(Refusal::InvalidGrant.into());
            };
            if grant.client_id != client.id || expires_at <= now {
                return Err(Refusal::InvalidGrant.into());
            }
            let consented = oidc_consents::find(connection, &grant.account_id, &client.id)?
                .is_some_and(|consent| consent.scopes.covers(&grant.scopes));
            let account = two_factor_requirement::account_admitting_delegates(
                connection,
                &settings,
                &grant.account_id,
                now,
            )?;
            if !consented || account.is_none() {
                return Err(Refusal::InvalidGrant.into());
            }
            let scopes = match scope.as_deref() {
                None => grant.scopes.clone(),
                Some(asked) => {
                    let narrowed = OidcScopes::parse_lenient(asked);
                    let every_one_known = asked
                        .split_whitespace()
                        .all(|scope| KNOWN_SCOPES.contains(&scope));
                    if !every_one_known || !grant.scopes.covers(&narrowed) || !narrowed.is_openid()
                    {
                        return Err(Refusal::InvalidScope.into());
                    }
                    narrowed
                }
            };
            oidc_grants::note_use(connection, &grant.id, now)?;
            let refresh_token = issue_refresh_token(connection, &grant, now)?;
            Ok((client, grant, scopes, refresh_token))
        })
        .await?;
    sign(state, &client, &grant, &scopes, None, refresh_token, now)
}

fn sign(
    state: &AppState,
    client: &OidcClient,
    grant: &OidcGrant,
    scopes: &OidcScopes,
    nonce: Option<&str>,
    refresh_token: Option<String>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ServiceError> {
    let scope = scopes.to_text();
    let access_token = state.oidc_keys.issue_access_token(
        &OidcAccessContent {
            subject: &grant.account_id,
            client_id: &client.id,
            scope: &scope,
            grant_id: &grant.id,
        },
        now,
    )?;
    let id_token = state.oidc_keys.issue_id_token(
        &IdTokenContent {
            subject: &grant.account_id,
            client_id: &client.id,
            nonce,
            auth_time: grant.auth_time,
            acr: &grant.acr,
            amr: &grant.amr,
            session_id: &grant.session_id,
            access_token: Some(&access_token),
        },
        client.id_token_algorithm,
        now,
    )?;
    Ok(TokenResponse {
        access_token,
        expires_in: OIDC_ACCESS_TOKEN_LIFETIME_SECS,
        id_token,
        scope,
        refresh_token,
    })
}
