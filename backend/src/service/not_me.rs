//! "This wasn't me": the holder confirms, from the link of a security notice, that something
//! done in the account was not their doing. Everything the account had out ends (the
//! credential-change table's [`CredentialChange::NotMe`] row), signing in with the password is
//! blocked until it is reset through the verified address (or support unlocks the account),
//! and an event and a mail record it. Passkeys keep signing in: a passkey is a device the
//! holder has, not a secret a thief can have learnt.

use chrono::{DateTime, Utc};

use super::credential_change::{self, CredentialChange};
use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::AppState;
use crate::auth::opaque_token;
use crate::db::accounts::{self, Account};
use crate::db::email_tokens::{self, LinkPurpose};
use crate::db::events::EventKind;
use crate::db::DbConnection;
use crate::db::{api_tokens, devices, passkeys as passkey_store, sessions as session_store};
use crate::domain::RequestOrigin;

/// What a confirmed report ended, and what the holder can do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeReport {
    pub sessions_ended: usize,
    pub api_tokens_revoked: usize,
    pub devices_forgotten: usize,
    /// An address change waiting for its link was cancelled.
    pub email_change_cancelled: bool,
    /// The account has a verified address, so a reset link can reach the holder.
    pub can_reset_by_email: bool,
    /// Passkeys that still sign in (the holder should check each is theirs).
    pub passkeys: usize,
}

/// Confirms the report of the not-me link `token`: unknown, used or expired links are
/// `invalid_token`, whoever asks (the link is the only thing that names the account).
pub async fn confirm(
    state: &AppState,
    token: &str,
    origin: &RequestOrigin,
) -> Result<NotMeReport, ServiceError> {
    let now = state.now();
    let token_hash = opaque_token::hash(token);
    // Looked up outside the transaction, so the transaction begins with a write (the account
    // row's lock): on SQLite a read first would fail, not wait, when two confirmations race.
    let account_id = {
        let token_hash = token_hash.clone();
        state
            .database
            .run(move |connection| {
                email_tokens::find_live(connection, &token_hash, LinkPurpose::NotMe, now)
            })
            .await?
            .ok_or(Refusal::InvalidLink)?
            .account_id
    };
    let (state, origin) = (state.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction(move |connection| {
            if !accounts::lock(connection, &account_id)? {
                return Err(Refusal::InvalidLink.into());
            }
            // The database decides: of concurrent confirmations, on any instance, exactly one
            // uses the link up; the others find it used and change nothing.
            if !email_tokens::use_up(connection, &token_hash, LinkPurpose::NotMe, now)? {
                return Err(Refusal::InvalidLink.into());
            }
            let account =
                accounts::find_by_id(connection, &account_id)?.ok_or(Refusal::InvalidLink)?;
            report(&state, connection, &account, &origin, now)
        })
        .await
}

/// Ends everything, blocks the password, records and tells; inside the caller's transaction,
/// which holds the account row's lock and used the link up.
fn report(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<NotMeReport, ServiceError> {
    // Counted before they end, for the page to say what happened.
    let sessions_ended = session_store::live_for_account(connection, &account.id, now)?.len();
    let api_tokens_revoked = api_tokens::live_for_account(connection, &account.id, now)?.len();
    let devices_forgotten = devices::ids_of_account(connection, &account.id)?.len();
    let email_change_cancelled = account.pending_email.is_some();
    credential_change::apply(connection, &account.id, CredentialChange::NotMe, None, now)?;
    // The other notices' links describe what happened before this report; a stale one
    // followed later would only end the holder's own fresh sign-in again.
    email_tokens::void_all(connection, &account.id, LinkPurpose::NotMe, now)?;
    accounts::block_password_sign_in(connection, &account.id, now)?;
    let detail = format!(
        "{sessions_ended} sessions ended, {api_tokens_revoked} API tokens revoked, \
         {devices_forgotten} devices forgotten; password sign-in blocked"
    );
    let reset_page = format!("{}/forgot-password", state.settings.public_url);
    notifications::record_and_notify(
        state,
        connection,
        account,
        EventKind::NotMeReported,
        Some(&detail),
        Notice::NotMeReported { reset_page },
        origin,
        now,
    )?;
    Ok(NotMeReport {
        sessions_ended,
        api_tokens_revoked,
        devices_forgotten,
        email_change_cancelled,
        can_reset_by_email: account.verified_email().is_some(),
        passkeys: passkey_store::list_for_account(connection, &account.id)?.len(),
    })
}
