//! Support desk: find customers, read their security events, reset the second factor of one
//! who lost the phone, and clear a customer's lock-outs (a not-me report's block on the
//! password included).
//!
//! A support agent can strip a customer's second factor, so the desk asks more of agents than
//! of customers: a session with a second factor, a recent sign-in or a code for every reset
//! and unlock, and at most `throttle::SUPPORT_ACTIONS_PER_HOUR` of them an hour.

use chrono::{DateTime, Utc};

use super::credential_change::CredentialChange;
use super::notifications::{self, Notice};
use super::proof::{self, Proof, Required, Rule};
use super::throttle::{self, Subject};
use super::two_factor::wipe_two_factor;
use super::{account, AppState, Principal};
use crate::auth::tokens::proved_second_factor;
use crate::db::accounts::{self, Account};
use crate::db::events::{self, EventKind};
use crate::db::{devices, DbConnection};
use crate::domain::{Event, RequestOrigin, Role};
use crate::error::ApiError;

pub const MAX_SEARCH_RESULTS: i64 = 50;
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 500;

/// Support staff with two-factor on, signed in with it (or holding an API token they made,
/// which took a sign-in with it; the route checked the token's scope).
fn require_support(principal: &Principal) -> Result<(), ApiError> {
    if principal.role != Role::Support {
        return Err(ApiError::Forbidden);
    }
    if principal.api_token.is_some() {
        return if principal.account.two_factor_enabled() {
            Ok(())
        } else {
            Err(ApiError::TwoFactorRequired)
        };
    }
    let signed_in_with_second_factor = proved_second_factor(&principal.amr);
    // A session that proved a code once but whose account has since switched two-factor
    // off is no longer enough.
    if !signed_in_with_second_factor || !principal.account.two_factor_enabled() {
        return Err(ApiError::TwoFactorRequired);
    }
    Ok(())
}

pub async fn search_customers(
    state: &AppState,
    principal: &Principal,
    query: Option<String>,
) -> Result<Vec<Account>, ApiError> {
    require_support(principal)?;
    let query = query.unwrap_or_default().trim().to_string();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::validation(
            "query",
            "the search text is at most 100 characters",
        ));
    }
    if query.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "query",
            "the search text cannot contain control characters",
        ));
    }
    Ok(state
        .database
        .run(move |connection| accounts::search_customers(connection, &query, MAX_SEARCH_RESULTS))
        .await?)
}

/// A customer's security events, so the agent can check the caller's story before a reset.
pub async fn customer_events(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
    limit: Option<i64>,
    before: Option<i64>,
) -> Result<Vec<Event>, ApiError> {
    require_support(principal)?;
    let (limit, before) = account::event_page(limit, before)?;
    let customer_id = customer_id.to_string();
    state
        .database
        .run(move |connection| -> Result<_, ApiError> {
            find_customer(connection, &customer_id)?;
            Ok(events::list(connection, &customer_id, limit, before)?)
        })
        .await
}

/// The reason an agent gives, recorded on both accounts.
fn parse_reason(reason: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::validation(
            "reason",
            "say why you act on this customer",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::validation(
            "reason",
            "the reason is at most 500 characters",
        ));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(ApiError::validation(
            "reason",
            "the reason cannot contain control characters",
        ));
    }
    Ok(reason.to_string())
}

fn find_customer(connection: &mut DbConnection, id: &str) -> Result<Account, ApiError> {
    accounts::find_by_id(connection, id)?
        .filter(|account| account.role == Role::Customer)
        .ok_or(ApiError::NotFound)
}

/// What a support action does to the customer, inside its transaction.
#[derive(Debug, Clone, Copy)]
enum SupportAction {
    ResetTwoFactor,
    Unlock,
}

/// Switches a customer's two-factor off on their behalf. Every session of the customer is
/// signed out; the reset is recorded on the customer and on the agent, with the reason.
pub async fn reset_two_factor(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
    reason: &str,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(), ApiError> {
    act_on_customer(
        state,
        principal,
        customer_id,
        reason,
        proof,
        origin,
        SupportAction::ResetTwoFactor,
    )
    .await
}

/// Clears every failure counter that guards the customer's sign-ins, and the block a "this
/// wasn't me" report put on the password (support should then have the holder reset it).
pub async fn unlock(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
    reason: &str,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(), ApiError> {
    act_on_customer(
        state,
        principal,
        customer_id,
        reason,
        proof,
        origin,
        SupportAction::Unlock,
    )
    .await
}

/// The agent's proof, then one transaction for the allowance, the change and the events. The
/// proof commits on its own: it holds the agent's network counter, and a customer's own
/// sign-in holds that customer's counters while it waits for its network's, so checking the
/// proof inside the action's transaction could deadlock with it.
async fn act_on_customer(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
    reason: &str,
    proof: Option<Proof>,
    origin: &RequestOrigin,
    action: SupportAction,
) -> Result<(), ApiError> {
    require_support(principal)?;
    let reason = parse_reason(reason)?;
    // The proof's transaction commits on its own (see above); the act is the next one.
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::AgentWithTwoFactor,
        origin,
        |_, _| Ok(Ok(())),
    )
    .await?;
    let now = state.now();
    let (state, origin) = (state.clone(), origin.clone());
    let (agent, customer_id, session_for_action) = (
        principal.account.clone(),
        customer_id.to_string(),
        principal.session_id.clone(),
    );
    let token_id = principal
        .api_token
        .as_ref()
        .map(|access| access.token_id.clone());
    state
        .database
        .clone()
        .transaction(move |connection| {
            // The agent's row, then the customer's: one order for every support action.
            if !accounts::lock(connection, &agent.id)? {
                return Err(ApiError::InvalidToken);
            }
            // Still allowed: a revocation that committed since the proof wins.
            let still_live = match &token_id {
                Some(token_id) => crate::db::api_tokens::lock_if_live(connection, token_id, now)?,
                None => crate::db::sessions::lock_if_live(connection, &session_for_action)?,
            };
            if !still_live {
                return Err(ApiError::InvalidToken);
            }
            let customer = find_customer(connection, &customer_id)?;
            if !accounts::lock(connection, &customer.id)? {
                return Err(ApiError::NotFound);
            }
            let allowance = Subject::SupportActions {
                agent_id: agent.id.clone(),
            };
            throttle::begin(connection, &[allowance], now)?.kept(connection)?;
            apply(connection, action, &customer, now)?;
            record_on_both(connection, action, &agent, &customer, &reason, &origin, now)?;
            if let SupportAction::ResetTwoFactor = action {
                // The classic social-engineering path: the holder must hear of it.
                notifications::queue_notice(
                    &state,
                    connection,
                    &customer,
                    Notice::TwoFactorResetBySupport,
                    &origin,
                    now,
                )?;
            }
            // Unlocking also lifts a not-me report's block on the password; the holder hears,
            // since whoever talked support into it may not be the holder.
            if let SupportAction::Unlock = action {
                if accounts::clear_password_sign_in_block(connection, &customer.id)? {
                    notifications::queue_notice(
                        &state,
                        connection,
                        &customer,
                        Notice::PasswordSignInUnblockedBySupport,
                        &origin,
                        now,
                    )?;
                }
            }
            Ok(())
        })
        .await
}

fn apply(
    connection: &mut DbConnection,
    action: SupportAction,
    customer: &Account,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match action {
        SupportAction::ResetTwoFactor => {
            // Whoever asked support may not be the holder: every way in ends.
            wipe_two_factor(
                connection,
                customer,
                None,
                CredentialChange::SupportReset,
                now,
            )
        }
        SupportAction::Unlock => {
            let device_ids = devices::ids_of_account(connection, &customer.id)?;
            throttle::clear_account(
                connection,
                &customer.username_key,
                &customer.id,
                &device_ids,
            )
            .map(|_| ())
        }
    }
}

fn record_on_both(
    connection: &mut DbConnection,
    action: SupportAction,
    agent: &Account,
    customer: &Account,
    reason: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let kind = match action {
        SupportAction::ResetTwoFactor => EventKind::TwoFactorResetBySupport,
        SupportAction::Unlock => EventKind::AccountUnlockedBySupport,
    };
    let on_customer = format!(
        "by support agent {} ({}): {reason}",
        agent.username, agent.id
    );
    let on_agent = format!(
        "for customer {} ({}): {reason}",
        customer.username, customer.id
    );
    events::record(
        connection,
        &customer.id,
        kind,
        now,
        origin,
        Some(&on_customer),
    )?;
    Ok(events::record(
        connection,
        &agent.id,
        kind,
        now,
        origin,
        Some(&on_agent),
    )?)
}
