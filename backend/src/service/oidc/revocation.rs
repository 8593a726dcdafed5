//! Token revocation (RFC 7009): a client ends the grant behind one of its refresh or access
//! tokens. Whatever else is presented (unknown, expired, another client's) is answered the
//! same, with nothing done.

use super::token::{authenticate_client, ClientCredentials};
use crate::auth::opaque_token;
use crate::db::oidc_grants;
use crate::service::error::ServiceError;
use crate::service::AppState;

pub async fn revoke(
    state: &AppState,
    credentials: ClientCredentials,
    token: String,
) -> Result<(), ServiceError> {
    let now = state.now();
    let access = state.oidc_keys.verify_access_token(&token, now).ok();
    // The client first, on its own; then only writes, each limited to this client's grants,
    // so concurrent revocations never turn a read into a write (SQLite's lock upgrade).
    let client = state
        .database
        .run(move |connection| authenticate_client(connection, &credentials))
        .await?;
    state
        .database
        .transaction(move |connection| -> Result<_, ServiceError> {
            let token_hash = opaque_token::hash(&token);
            let ended = oidc_grants::revoke_of_client_by_refresh_token(
                connection,
                &client.id,
                &token_hash,
                REASON,
                now,
            )?;
            if let Some(claims) = access.filter(|_| !ended) {
                oidc_grants::revoke_of_client(
                    connection,
                    &client.id,
                    &claims.grant_id,
                    REASON,
                    now,
                )?;
            }
            Ok(())
        })
        .await
}

/// The reason recorded on a grant its client revoked.
const REASON: &str = "revoked_by_client";
