//! UserInfo: the claims a relying party's access token (an `at+jwt` of ours) may read, while
//! its grant is live. Our own API's access tokens are not accepted here, nor these there.

use crate::db::oidc_grants;
use crate::service::error::{Refusal, ServiceError};
use crate::service::{two_factor_requirement, AppState};

/// The claims of the account the token was issued for, as its scopes allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub subject: String,
    /// With `profile`: the username and the chosen language (if any).
    pub profile: Option<(String, Option<String>)>,
    /// With `email`: the address (if any) and whether it is verified.
    pub email: Option<(Option<String>, bool)>,
}

pub async fn claims(state: &AppState, access_token: &str) -> Result<UserInfo, ServiceError> {
    let now = state.now();
    let claims = state
        .oidc_keys
        .verify_access_token(access_token, now)
        .map_err(|error| match error {
            crate::auth::tokens::TokenError::Keys(message) => ServiceError::Internal(message),
            _ => Refusal::InvalidToken.into(),
        })?;
    let scopes = crate::domain::oidc::OidcScopes::parse_lenient(&claims.scope);
    let settings = state.settings.clone();
    state
        .database
        .run(move |connection| -> Result<_, ServiceError> {
            let grant = oidc_grants::find(connection, &claims.grant_id)?
                .filter(|grant| {
                    grant.is_live()
                        && grant.account_id == claims.subject
                        && grant.client_id == claims.client_id
                })
                .ok_or(Refusal::InvalidToken)?;
            if !scopes.is_openid() {
                return Err(Refusal::InvalidToken.into());
            }
            // Deleted, or past its deadline for a required second factor: no app reads it.
            let account = two_factor_requirement::account_admitting_delegates(
                connection,
                &settings,
                &grant.account_id,
                now,
            )?
            .ok_or(Refusal::InvalidToken)?;
            Ok(UserInfo {
                subject: account.id.clone(),
                profile: scopes.contains("profile").then(|| {
                    (
                        account.username.clone(),
                        account.language.map(|language| language.tag().to_string()),
                    )
                }),
                email: scopes.contains("email").then(|| {
                    let verified = account.verified_email().is_some();
                    (account.email.clone(), verified)
                }),
            })
        })
        .await
}
