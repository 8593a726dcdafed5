//! Support desk: find customers, read their security events, reset the second factor of one
//! who lost the phone, and clear a customer's lock-outs (a not-me report's block on the
//! password included).
//!
//! A support agent can strip a customer's second factor, so the desk asks more of agents than
//! of customers: a session with a second factor, a recent sign-in or a code for every reset
//! and unlock, and at most `throttle::SUPPORT_ACTIONS_PER_HOUR` of them an hour.

use chrono::{DateTime, Utc};

use super::credential_change::CredentialChange;
use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::proof::{self, Proof, Required, Rule};
use super::throttle::{self, Subject};
use super::two_factor::wipe_two_factor;
use super::{account, two_factor_requirement, AppState, Principal};
use crate::auth::tokens::proved_second_factor;
use crate::db::accounts::{self, Account};
use crate::db::events::{self, EventKind};
use crate::db::{devices, DbConnection};
use crate::domain::InvalidInput;
use crate::domain::{Event, RequestOrigin, Role};

pub const MAX_SEARCH_RESULTS: i64 = 50;
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 500;

/// Support staff with two-factor on, signed in with it (or holding an API token they made,
/// which took a sign-in with it; the route checked the token's scope).
fn require_support(principal: &Principal) -> Result<(), ServiceError> {
    if principal.role != Role::Support {
        return Err(Refusal::Forbidden.into());
    }
    if principal.api_token.is_some() {
        return if principal.account.two_factor_enabled() {
            Ok(())
        } else {
            Err(Refusal::TwoFactorRequired.into())
        };
    }
    let signed_in_with_second_factor = proved_second_factor(&principal.amr);
    // A session that proved a code once but whose account has since switched two-factor
    // off is no longer enough.
    if !signed_in_with_second_factor || !principal.account.two_factor_enabled() {
        return Err(Refusal::TwoFactorRequired.into());
    }
    Ok(())
}

pub async fn search_customers(
    state: &AppState,
    principal: &Principal,
    query: Option<String>,
) -> Result<Vec<Account>, ServiceError> {
    require_support(principal)?;
    let query = query.unwrap_or_default().trim().to_string();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(
            InvalidInput::field("query", "the search text is at most 100 characters").into(),
        );
    }
    if query.chars().any(char::is_control) {
        return Err(InvalidInput::field(
            "query",
            "the search text cannot contain control characters",
        )
        .into());
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
) -> Result<Vec<Event>, ServiceError> {
    require_support(principal)?;
    let (limit, before) = account::event_page(limit, before)?;
    let customer_id = customer_id.to_string();
    state
        .database
        .run(move |connection| -> Result<_, ServiceError> {
            find_customer(connection, &customer_id)?;
            Ok(events::list(connection, &customer_id, limit, before)?)
        })
        .await
}

/// The reason an agent gives, recorded on both accounts.
fn parse_reason(reason: &str) -> Result<String, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(InvalidInput::field("reason", "say why you act on this customer").into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(InvalidInput::field("reason", "the reason is at most 500 characters").into());
    }
    if reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(
            InvalidInput::field("reason", "the reason cannot contain control characters").into(),
        );
    }
    Ok(reason.to_string())
}

/// The apps a customer allowed to see the account, read only.
pub async fn customer_apps(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
) -> Result<Vec<super::oidc::apps::ConnectedApp>, ServiceError> {
    require_support(principal)?;
    let customer_id = customer_id.to_string();
    state
        .database
        .run(move |connection| {
            find_customer(connection, &customer_id)?;
            super::oidc::apps::connected(connection, &customer_id)
        })
        .await
}

fn find_customer(connection: &mut DbConnection, id: &str) -> Result<Account, ServiceError> {
    accounts::find_by_id(connection, id)?
        .filter(|account| account.role == Role::Customer)
        .ok_or(Refusal::NotFound.into())
}

/// What a support agent does to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportAction {
    /// Switches the customer's two-factor off on their behalf (a lost phone): every session
    /// of the customer is signed out, and the customer is told by mail.
    ResetTwoFactor,
    /// Clears every failure counter that guards the customer's sign-ins.
    Unlock,
    /// Requires a second factor of this customer, whatever the operator's rule: the deadline
    /// starts now (`CUSTADMIN_TWO_FACTOR_GRACE_DAYS`), and the customer is told by mail.
    RequireTwoFactor,
    /// Stops requiring it (the operator's rule may still require it).
    LiftTwoFactorRequirement,
}

/// A support action: the agent's proof, then one transaction for the allowance, the change
/// and the events, recorded on both accounts with the reason. The
/// proof commits on its own: it holds the agent's network counter, and a customer's own
/// sign-in holds that customer's counters while it waits for its network's, so checking the
/// proof inside the action's transaction could deadlock with it.
pub async fn act_on_customer(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
    reason: &str,
    proof: Option<Proof>,
    origin: &RequestOrigin,
    action: SupportAction,
) -> Result<(), ServiceError> {
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
        |_, _| Ok(()),
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
                return Err(Refusal::InvalidToken.into());
            }
            // Still allowed: a revocation that committed since the proof wins.
            let still_live = match &token_id {
                Some(token_id) => crate::db::api_tokens::lock_if_live(connection, token_id, now)?,
                None => crate::db::sessions::lock_if_live(connection, &session_for_action)?,
            };
            if !still_live {
                return Err(Refusal::InvalidToken.into());
            }
            let customer = find_customer(connection, &customer_id)?;
            if !accounts::lock(connection, &customer.id)? {
                return Err(Refusal::NotFound.into());
            }
            let allowance = Subject::SupportActions {
                agent_id: agent.id.clone(),
            };
            throttle::begin(connection, &[allowance], now)?.kept(connection)?;
            let customer = apply(&state, connection, action, customer, now)?;
            record_on_both(connection, action, &agent, &customer, &reason, &origin, now)?;
            let notice = match action {
                // The classic social-engineering path: the holder must hear of it.
                SupportAction::ResetTwoFactor => Some(Notice::TwoFactorResetBySupport),
                SupportAction::RequireTwoFactor => {
                    let standing =
                        two_factor_requirement::standing(&state.settings, &customer, now);
                    Some(Notice::TwoFactorRequiredBySupport {
                        by: standing.required_by(),
                    })
                }
                SupportAction::LiftTwoFactorRequirement | SupportAction::Unlock => None,
            };
            if let Some(notice) = notice {
                notifications::queue_notice(&state, connection, &customer, notice, &origin, now)?;
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

/// Does `action` to the customer; answers the customer as it is afterwards.
fn apply(
    state: &AppState,
    connection: &mut DbConnection,
    action: SupportAction,
    mut customer: Account,
    now: DateTime<Utc>,
) -> Result<Account, ServiceError> {
    match action {
        SupportAction::ResetTwoFactor => {
            // Whoever asked support may not be the holder: every way in ends.
            wipe_two_factor(
                connection,
                &customer,
                None,
                CredentialChange::SupportReset,
                now,
            )?;
        }
        SupportAction::Unlock => {
            let device_ids = devices::ids_of_account(connection, &customer.id)?;
            throttle::clear_account(
                connection,
                &customer.username_key,
                &customer.id,
                &device_ids,
            )?;
        }
        SupportAction::RequireTwoFactor | SupportAction::LiftTwoFactorRequirement => {
            let since = matches!(action, SupportAction::RequireTwoFactor).then_some(now);
            // Required again while required: the first requirement and its deadline stand.
            if since.is_none() || customer.two_factor_required_by_support_at.is_none() {
                accounts::set_two_factor_required_by_support(connection, &customer.id, since)?;
                customer.two_factor_required_by_support_at = since;
            }
            two_factor_requirement::settle(connection, &state.settings, &mut customer, now)?;
        }
    }
    Ok(customer)
}

fn record_on_both(
    connection: &mut DbConnection,
    action: SupportAction,
    agent: &Account,
    customer: &Account,
    reason: &str,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let kind = match action {
        SupportAction::ResetTwoFactor => EventKind::TwoFactorResetBySupport,
        SupportAction::Unlock => EventKind::AccountUnlockedBySupport,
        SupportAction::RequireTwoFactor => EventKind::TwoFactorRequiredBySupport,
        SupportAction::LiftTwoFactorRequirement => EventKind::TwoFactorRequirementLiftedBySupport,
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
