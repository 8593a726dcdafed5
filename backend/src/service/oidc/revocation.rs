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
    state
        .database
        .transaction_committing_refusals(move |connection| -> Result<_, ServiceError> {
            let client = authenticate_client(connection, &credentials)?;
            let grant_id =
                match oidc_grants::grant_of_refresh_token(connection, &opaque_token::hash(&token))?
                {
                    Some(grant_id) => Some(grant_id),
                    None => access
                        .filter(|claims| claims.client_id == client.id)
                        .map(|claims| claims.grant_id),
                };
            if let Some(grant) = grant_id
                .map(|grant_id| oidc_grants::find(connection, &grant_id))
                .transpose()?
                .flatten()
                .filter(|grant| grant.client_id == client.id)
            {
                oidc_grants::revoke(connection, &grant.id, "revoked_by_client", now)?;
            }
            Ok(())
        })
        .await
}
