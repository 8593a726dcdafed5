//! The apps (relying parties) a customer allowed to see the account: listed in Account
//! Settings and on support's desk, and removed by the customer, which ends the consent and
//! every grant of the app at once.

use chrono::{DateTime, Utc};

use crate::db::events::{self, EventKind};
use crate::db::{accounts, oidc_clients, oidc_consents, oidc_grants, DbConnection};
use crate::domain::oidc::OidcScopes;
use crate::domain::RequestOrigin;
use crate::service::error::{Refusal, ServiceError};
use crate::service::notifications::{self, Notice};
use crate::service::{AppState, Principal};

/// An app with access to an account.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    pub scopes: OidcScopes,
    pub granted_at: DateTime<Utc>,
    /// When the app last got a token for the account, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The account's apps, in the order they were allowed.
pub fn connected(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<ConnectedApp>, ServiceError> {
    let grants = oidc_grants::for_account(connection, account_id)?;
    let mut apps = Vec::new();
    for consent in oidc_consents::for_account(connection, account_id)? {
        let Some(client) = oidc_clients::find(connection, &consent.client_id)? else {
            continue;
        };
        let last_used_at = grants
            .iter()
            .filter(|grant| grant.client_id == consent.client_id)
            .filter_map(|grant| grant.last_used_at.or(Some(grant.created_at)))
            .max();
        apps.push(ConnectedApp {
            client_id: consent.client_id,
            name: client.name,
            scopes: consent.scopes,
            granted_at: consent.granted_at,
            last_used_at,
        });
    }
    Ok(apps)
}

/// The caller's apps.
pub async fn list(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<ConnectedApp>, ServiceError> {
    let account_id = principal.account_id.clone();
    state
        .database
        .run(move |connection| connected(connection, &account_id))
        .await
}

/// Removes the app's access: its consent and, at once, every grant it holds (refresh tokens
/// stop; access tokens stop at UserInfo). Recorded as `app_access_revoked` and mailed.
pub async fn remove(
    state: &AppState,
    principal: &Principal,
    client_id: &str,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let (state_for_db, account_id, client_id, origin) = (
        state.clone(),
        principal.account_id.clone(),
        client_id.to_string(),
        origin.clone(),
    );
    state
        .database
        .transaction(move |connection| {
            // A write first: on SQLite it takes the write lock at once (a read first could
            // not be upgraded beside a concurrent writer), on PostgreSQL the consent's row.
            if !oidc_consents::delete(connection, &account_id, &client_id)? {
                return Err(Refusal::NotFound.into());
            }
            let Some(client) = oidc_clients::find(connection, &client_id)? else {
                return Err(Refusal::NotFound.into());
            };
            oidc_grants::revoke_for_client(
                connection,
                &account_id,
                &client_id,
                "consent_revoked",
                now,
            )?;
            let account =
                accounts::find_by_id(connection, &account_id)?.ok_or(Refusal::InvalidToken)?;
            events::record(
                connection,
                &account_id,
                EventKind::AppAccessRevoked,
                now,
                &origin,
                Some(&format!("app: {}", client.name)),
            )?;
            notifications::queue_notice(
                &state_for_db,
                connection,
                &account,
                Notice::AppAccessRevoked { app: client.name },
                &origin,
                now,
            )
        })
        .await
}
