//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the relying party sends the
//! customer here with its ID token as `id_token_hint`; the custadmin session named in it
//! (`sid`) ends as a sign-out would, with the grants tied to it that were not meant to
//! outlive it (no `offline_access`), and the browser goes back to a registered URI. Without a
//! hint nothing ends here: the SPA's `/sign-out` page asks the customer (the spec's "the OP
//! asks the End-User whether to log out").

use chrono::TimeDelta;

use super::{is_storable, with_query};
use crate::db::{oidc_clients, oidc_grants, sessions as session_store};
use crate::service::error::ServiceError;
use crate::service::{sessions, AppState};

#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// A hint that is no ID token of ours, or a URI not registered for its client: no
    /// redirect is safe.
    ErrorPage(String),
    Redirect(String),
}

pub async fn log_out(
    state: &AppState,
    request: LogoutRequest,
) -> Result<LogoutOutcome, ServiceError> {
    let now = state.now();
    let hint = match request.id_token_hint.as_deref() {
        None => None,
        Some(token) => match state.oidc_keys.verify_id_token_hint(token) {
            // Older than any session can live, it names nothing that could still be ended;
            // accepting it would only let an old token steer the browser.
            Ok(hint) if now - hint.issued_at > TimeDelta::days(sessions::SESSION_LIFETIME_DAYS) => {
                return Ok(LogoutOutcome::ErrorPage(
                    "The sign-out request carries an ID token too old to be used.".into(),
                ))
            }
            Ok(hint) => Some(hint),
            Err(crate::auth::tokens::TokenError::Keys(message)) => {
                return Err(ServiceError::Internal(message))
            }
            Err(_) => {
                return Ok(LogoutOutcome::ErrorPage(
                    "The sign-out request carries an ID token this server did not issue.".into(),
                ))
            }
        },
    };
    if let (Some(hint), Some(client_id)) = (&hint, &request.client_id) {
        if hint.client_id != *client_id {
            return Ok(LogoutOutcome::ErrorPage(
                "The sign-out request names two different applications.".into(),
            ));
        }
    }
    let public_url = state.settings.public_url.clone();
    state
        .database
        .transaction(move |connection| -> Result<_, ServiceError> {
            // A write first: on SQLite it takes the write lock at once (a read first could not
            // be upgraded beside a concurrent writer), on PostgreSQL the session's row, so a
            // code redeemed from this session meanwhile is ordered before or after the logout.
            let session_live = match &hint {
                Some(hint) => session_store::lock_if_live(connection, &hint.session_id)?,
                None => false,
            };
            let destination = match (&request.post_logout_redirect_uri, &hint) {
                // Nothing says which sign-in this is about, nor that the customer wants it
                // ended (any page can send a browser here): the SPA asks them. No way back
                // to the relying party, whose URI could not be checked.
                (None, None) => format!("{public_url}/sign-out"),
                (None, Some(_)) => format!("{public_url}/sign-in"),
                (Some(_), None) => {
                    return Ok(LogoutOutcome::ErrorPage(
                        "The application asked to send you back without saying who it is (an id_token_hint)."
                            .into(),
                    ))
                }
                (Some(uri), Some(hint)) => {
                    let client = oidc_clients::find(connection, &hint.client_id)?;
                    if !client.is_some_and(|client| client.allows_post_logout_redirect_uri(uri)) {
                        return Ok(LogoutOutcome::ErrorPage(
                            "The application asked to send you back to an address it has not registered."
                                .into(),
                        ));
                    }
                    match request.state.as_deref().filter(|state| is_storable(state)) {
                        Some(state) => with_query(uri, &[("state", state)]),
                        None => uri.clone(),
                    }
                }
            };
            if let Some(hint) = hint.as_ref().filter(|_| session_live) {
                let own_session = session_store::find(connection, &hint.session_id)?
                    .is_some_and(|session| session.account_id == hint.subject);
                if own_session {
                    session_store::revoke(connection, &hint.session_id, "logout", now)?;
                    oidc_grants::revoke_online_for_session(
                        connection,
                        &hint.subject,
                        &hint.session_id,
                        "logout",
                        now,
                    )?;
                }
            }
            Ok(LogoutOutcome::Redirect(destination))
        })
        .await
}
