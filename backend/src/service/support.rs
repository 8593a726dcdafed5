//! Support desk: find customers and reset the second factor of one who lost the phone.

use super::two_factor::wipe_two_factor;
use super::{AppState, Principal, RequestOrigin};
use crate::auth::clock::db_time;
use crate::db::accounts::{self, AccountRow};
use crate::db::events::{self, EventKind};
use crate::domain::Role;
use crate::error::ApiError;

pub const MAX_SEARCH_RESULTS: i64 = 50;
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 500;

fn require_support(principal: &Principal) -> Result<(), ApiError> {
    if principal.role == Role::Support {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

pub async fn search_customers(
    state: &AppState,
    principal: &Principal,
    query: Option<String>,
) -> Result<Vec<AccountRow>, ApiError> {
    require_support(principal)?;
    let query = query.unwrap_or_default().trim().to_string();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::validation(
            "query",
            "the search text is at most 100 characters",
        ));
    }
    state
        .database
        .run(move |connection| accounts::search_customers(connection, &query, MAX_SEARCH_RESULTS))
        .await
}

/// Switches a customer's two-factor off on their behalf. Every session of the customer is
/// signed out; the reset is recorded on the customer and on the agent, with the reason.
pub async fn reset_two_factor(
    state: &AppState,
    principal: &Principal,
    customer_id: &str,
    reason: &str,
    origin: &RequestOrigin,
) -> Result<(), ApiError> {
    require_support(principal)?;
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::validation(
            "reason",
            "say why the second factor is reset",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::validation(
            "reason",
            "the reason is at most 500 characters",
        ));
    }
    let now = state.now();
    let (customer_id, agent_id) = (customer_id.to_string(), principal.account_id.clone());
    let (customer, agent) = state
        .database
        .run(move |connection| {
            let customer = accounts::find_by_id(connection, &customer_id)?
                .filter(|account| account.role == Role::Customer.as_str())
                .ok_or(ApiError::NotFound)?;
            let agent =
                accounts::find_by_id(connection, &agent_id)?.ok_or(ApiError::InvalidToken)?;
            Ok((customer, agent))
        })
        .await?;
    let origin = origin.clone();
    state
        .database
        .transaction(move |connection| {
            wipe_two_factor(
                connection,
                &customer,
                None,
                "two_factor_reset_by_support",
                now,
            )?;
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
                EventKind::TwoFactorResetBySupport,
                db_time(now),
                &origin,
                Some(&on_customer),
            )?;
            events::record(
                connection,
                &agent.id,
                EventKind::TwoFactorResetBySupport,
                db_time(now),
                &origin,
                Some(&on_agent),
            )
        })
        .await
}
