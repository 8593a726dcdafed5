//! `/support`: the support desk, for accounts with role `support` only.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::account::{EventsQuery, EventsResponse, SecurityEvent};
use super::two_factor::TwoFactorStateResponse;
use super::{uuid_path, ApiCaller, ProofFields};
use crate::domain::{RequestOrigin, Scope};
use crate::error::{ApiError, Problem};
use crate::service::support::{self, SupportAction};
use crate::service::AppState;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(search_customers)
        .service(customer_events)
        .service(reset_two_factor)
        .service(unlock)
        .service(require_two_factor)
        .service(lift_two_factor_requirement);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// The start of a username, of an e-mail address, or of an e-mail domain (the part after
    /// `@`), any case, matched literally (`%`, `_` and `*` are ordinary characters); empty
    /// lists the first 50 customers.
    #[param(max_length = 100)]
    pub query: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f", "username": "alice", "email": "alice@example.com", "two_factor_enabled": true, "two_factor_required_by_support": false}))]
pub struct CustomerSummary {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub two_factor_enabled: bool,
    /// Whether support requires a second factor of this customer (beyond the operator's rule).
    pub two_factor_required_by_support: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomersResponse {
    pub customers: Vec<CustomerSummary>,
}

/// A reset or unlock: the reason, and the agent's own proof when the agent's sign-in is older
/// than the privileged window (10 minutes).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "Customer lost their phone; identity checked by callback to the number on file", "code": "123456"}))]
pub struct SupportActionRequest {
    /// Why (1 to 500 characters, no control characters but newline and tab); recorded on both
    /// accounts.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
    /// The agent's six-digit code, outside the privileged window.
    #[schema(pattern = "^ *[0-9]{6} *$")]
    pub code: Option<String>,
    /// One of the agent's recovery codes, instead of `code`.
    #[schema(pattern = "^ *[A-Za-z2-7]{5}-?[A-Za-z2-7]{5} *$")]
    pub recovery_code: Option<String>,
    /// With passkeys: a passkey's answer to `POST /account/webauthn/options`, outside the
    /// window.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub webauthn: Option<serde_json::Value>,
}

/// Find customers by username or e-mail.
///
/// A customer matches when the query (trimmed, any case) is the start of their username, of
/// their e-mail address, or of their e-mail domain: `ali` finds `alice` and `alison@example.com`,
/// `example.c` finds `bob@example.com`, but `ice` finds neither `alice` nor
/// `alice@example.com` (no infix matching: every query is served by an index, however many
/// customers there are).
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(CustomerQuery),
    responses(
        (status = 200, description = "Up to 50 customers, by username", body = CustomersResponse),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`), or signed in without a second factor (`two_factor_required`); an API token used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Query over 100 characters or with control characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/support/customers")]
async fn search_customers(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<CustomerQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.require(Scope::SupportRead)?;
    let customers = support::search_customers(&state, &principal, query.into_inner().query).await?;
    Ok(HttpResponse::Ok().json(CustomersResponse {
        customers: customers
            .into_iter()
            .map(|account| CustomerSummary {
                two_factor_enabled: account.two_factor_enabled(),
                two_factor_required_by_support: account.two_factor_required_by_support_at.is_some(),
                id: account.id,
                username: account.username,
                email: account.email,
            })
            .collect(),
    }))
}

/// Switch a customer's two-factor off (lost phone). Signs out all the customer's sessions.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id")),
    request_body = SupportActionRequest,
    responses(
        (status = 200, description = "Two-factor is off for the customer", body = TwoFactorStateResponse),
        (status = 400, description = "Wrong code of the agent (`invalid_code`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`), signed in without a second factor (`two_factor_required`), or sign-in too old: send `code`, `webauthn` or `recovery_code` (`reauthentication_required`); an API token used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The customer's two-factor is off (`two_factor_not_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing, too long or with control characters, or a malformed code (`validation_failed`, `invalid_code_format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 30 resets and unlocks by this agent in an hour, or too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/support/customers/{id}/two-factor/reset")]
async fn reset_two_factor(
    state: web::Data<AppState>,
    caller: ApiCaller,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<SupportActionRequest>,
) -> Result<HttpResponse, ApiError> {
    act(
        &state,
        caller,
        origin,
        path,
        body,
        SupportAction::ResetTwoFactor,
    )
    .await?;
    Ok(HttpResponse::Ok().json(TwoFactorStateResponse { enabled: false }))
}

/// Clear a customer's failure counters (lock-outs), after checking who is asking.
///
/// Also lifts the block a "this wasn't me" report put on signing in with the password (the
/// customer's verified address is told). Whoever did what was reported may know the password:
/// have the customer reset it.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id")),
    request_body = SupportActionRequest,
    responses(
        (status = 204, description = "The customer's failure counters are cleared, and password sign-in is allowed again"),
        (status = 400, description = "Wrong code of the agent (`invalid_code`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`), signed in without a second factor (`two_factor_required`), or sign-in too old: send `code`, `webauthn` or `recovery_code` (`reauthentication_required`); an API token used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing, too long or with control characters, or a malformed code (`validation_failed`, `invalid_code_format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 30 resets and unlocks by this agent in an hour, or too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/support/customers/{id}/unlock")]
async fn unlock(
    state: web::Data<AppState>,
    caller: ApiCaller,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<SupportActionRequest>,
) -> Result<HttpResponse, ApiError> {
    act(&state, caller, origin, path, body, SupportAction::Unlock).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Require a second factor of this customer, whatever the operator's rule. The deadline starts
/// now (`CUSTADMIN_TWO_FACTOR_GRACE_DAYS` later); past it, the customer's password opens only
/// a set-up session. The customer is told by mail; recorded on both accounts with the reason.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id")),
    request_body = SupportActionRequest,
    responses(
        (status = 204, description = "A second factor is required of the customer"),
        (status = 400, description = "Wrong code of the agent (`invalid_code`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`), signed in without a second factor (`two_factor_required`), or sign-in too old: send `code`, `webauthn` or `recovery_code` (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing, too long or with control characters, or a malformed code (`validation_failed`, `invalid_code_format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 30 support actions by this agent in an hour, or too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/support/customers/{id}/require-two-factor")]
async fn require_two_factor(
    state: web::Data<AppState>,
    caller: ApiCaller,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<SupportActionRequest>,
) -> Result<HttpResponse, ApiError> {
    act(
        &state,
        caller,
        origin,
        path,
        body,
        SupportAction::RequireTwoFactor,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stop requiring a second factor of this customer (the operator's rule may still require it).
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id")),
    request_body = SupportActionRequest,
    responses(
        (status = 204, description = "Support no longer requires a second factor of the customer"),
        (status = 400, description = "Wrong code of the agent (`invalid_code`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`), signed in without a second factor (`two_factor_required`), or sign-in too old: send `code`, `webauthn` or `recovery_code` (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing, too long or with control characters, or a malformed code (`validation_failed`, `invalid_code_format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 30 support actions by this agent in an hour, or too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/support/customers/{id}/require-two-factor/lift")]
async fn lift_two_factor_requirement(
    state: web::Data<AppState>,
    caller: ApiCaller,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<SupportActionRequest>,
) -> Result<HttpResponse, ApiError> {
    act(
        &state,
        caller,
        origin,
        path,
        body,
        SupportAction::LiftTwoFactorRequirement,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every action on a customer: the token's scope, the agent's proof (never a password: the
/// desk demands the agent's second factor), then the use case.
async fn act(
    state: &AppState,
    caller: ApiCaller,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<SupportActionRequest>,
    action: SupportAction,
) -> Result<(), ApiError> {
    let principal = caller.require(Scope::SupportReset)?;
    let body = body.into_inner();
    let proof = ProofFields {
        code: body.code,
        recovery_code: body.recovery_code,
        password: None,
        webauthn: body.webauthn,
    }
    .parse()?;
    support::act_on_customer(
        state,
        &principal,
        &uuid_path(path)?,
        &body.reason,
        proof,
        &origin,
        action,
    )
    .await?;
    Ok(())
}

/// A customer's security events, newest first, to check the caller's story before a reset.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id"), EventsQuery),
    responses(
        (status = 200, description = "Events", body = EventsResponse),
        (status = 400, description = "Query not numbers (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff (`forbidden`), or signed in without a second factor (`two_factor_required`); an API token used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit outside 1 to 200 (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/support/customers/{id}/events")]
async fn customer_events(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.require(Scope::SupportRead)?;
    let events = support::customer_events(
        &state,
        &principal,
        &uuid_path(path)?,
        query.limit,
        query.before,
    )
    .await?;
    Ok(HttpResponse::Ok().json(EventsResponse {
        events: events.into_iter().map(SecurityEvent::from).collect(),
    }))
}
