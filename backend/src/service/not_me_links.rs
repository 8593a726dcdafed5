//! The "this wasn't me" link every security notice carries: single use, for
//! [`NOT_ME_LINK_DAYS`], stored hashed among the mailed links (`LinkPurpose::NotMe`), and taken
//! by `service::not_me`. Unlike reset and verification links, no credential change voids it: a
//! link in a "password changed" notice must still work after a thief changed the password.

use chrono::{DateTime, TimeDelta, Utc};

use super::error::ServiceError;
use super::AppState;
use crate::auth::opaque_token;
use crate::db::email_tokens::{self, LinkPurpose};
use crate::db::DbConnection;

/// How long a not-me link works: long enough for a holder who reads mail once a week.
pub const NOT_ME_LINK_DAYS: i64 = 7;

/// Makes a fresh link for the account, inside the caller's transaction (the one queueing the
/// mail that carries it, so no link exists that no mail holds); answers its URL.
pub fn issue(
    state: &AppState,
    connection: &mut DbConnection,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    let token = opaque_token::generate();
    email_tokens::insert(
        connection,
        &token.hash,
        account_id,
        LinkPurpose::NotMe,
        None,
        None,
        now,
        now + TimeDelta::days(NOT_ME_LINK_DAYS),
    )?;
    Ok(format!(
        "{}/not-me?token={}",
        state.settings.public_url, token.token
    ))
}
