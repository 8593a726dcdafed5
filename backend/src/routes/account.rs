//! `/account`: the signed-in customer's details, password and security events.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::ApiCaller;
use crate::domain::{
    device_name, DeviceName, Event, EventKind, Language, Password, RequestOrigin, Role, Scope,
    SecondFactorMethod,
};
use crate::error::{ApiError, Problem};
use crate::service::{account, AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(get_account)
        .service(update_account)
        .service(change_password)
        .service(list_events);
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"enabled": true, "enabled_at": "2026-12-01T10:00:00Z", "recovery_codes_remaining": 10, "methods": ["webauthn", "totp", "recovery_code"]}))]
pub struct TwoFactorStatus {
    /// Whether sign-ins need a second factor: on while the account has TOTP or a passkey.
    pub enabled: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_remaining: i64,
    /// The second factors the account has: `webauthn` (passkeys), `totp`, `recovery_code`.
    pub methods: Vec<SecondFactorMethod>,
    /// Whether the hosting company (or support, for this account) requires a second factor:
    /// switching the last one off past the deadline leaves only a set-up session.
    pub required: bool,
    /// The deadline has passed without a second factor: this is a set-up session, which may
    /// only read the account, set up TOTP or a passkey, and sign out; everything else answers
    /// `403 two_factor_setup_required`.
    pub setup_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f", "username": "alice", "email": "alice@example.com",
    "email_verified": true, "pending_email": null,
    "role": "customer", "created_at": "2026-11-30T09:00:00Z", "language": "en",
    "two_factor": {"enabled": false, "enabled_at": null, "recovery_codes_remaining": 0, "methods": [], "required": true, "setup_required": false},
    "two_factor_required_by": "2026-12-14T09:00:00Z"
}))]
pub struct AccountResponse {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    /// Whether `email` is proven to reach the holder (only a verified address gets mail).
    pub email_verified: bool,
    /// A new address waiting for its verification link to be followed.
    pub pending_email: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// The language chosen in the SPA; `null` until one is chosen.
    pub language: Option<Language>,
    pub two_factor: TwoFactorStatus,
    /// By when a second factor must be set up, while one is required and missing (past, when
    /// `two_factor.setup_required`); `null` when none is required or the account has one.
    pub two_factor_required_by: Option<DateTime<Utc>>,
}

/// The account's settings a customer may change directly.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"language": "cs"}))]
pub struct UpdateAccountRequest {
    pub language: Language,
}

fn account_response(overview: account::AccountOverview) -> AccountResponse {
    AccountResponse {
        id: overview.id,
        username: overview.username,
        email: overview.email,
        email_verified: overview.email_verified,
        pending_email: overview.pending_email,
        role: overview.role,
        created_at: overview.created_at,
        language: overview.language,
        two_factor: TwoFactorStatus {
            enabled: overview.two_factor_enabled,
            enabled_at: overview.two_factor_enabled_at,
            recovery_codes_remaining: overview.recovery_codes_remaining,
            methods: overview.two_factor_methods,
            required: overview.two_factor_standing.is_required(),
            setup_required: overview.two_factor_standing.is_overdue(),
        },
        two_factor_required_by: overview.two_factor_standing.required_by(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "even more correct horse"}))]
pub struct ChangePasswordRequest {
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// How many events, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Only events older than the event with this id (for paging).
    #[param(minimum = 1)]
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 42, "kind": "login_failed", "at": "2026-12-01T10:02:00Z", "count": 12, "last_at": "2026-12-01T10:47:00Z", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "detail": null}))]
pub struct SecurityEvent {
    pub id: i64,
    pub kind: EventKind,
    /// When it happened; for a repeated failure (`count` above 1), the first time.
    pub at: DateTime<Utc>,
    /// How many times this happened in this hour from this network: refused attempts (wrong
    /// passwords, codes, passkey answers) and the lock-outs they cause are recorded once per
    /// account, kind, client network (an IPv4 address or an IPv6 /64) and clock hour (UTC),
    /// and counted. 1 for everything else.
    #[schema(minimum = 1)]
    pub count: i32,
    /// When it last happened: equal to `at` when `count` is 1.
    pub last_at: DateTime<Utc>,
    /// For a repeated failure, the latest attempt's address (within the counted network).
    pub ip: Option<String>,
    /// For a repeated failure, the latest attempt's.
    pub user_agent: Option<String>,
    /// The browser and system `user_agent` names ("Firefox 133 on Windows"); `null` when it
    /// names no browser (a script, a library): then show `user_agent`.
    pub device_name: Option<DeviceName>,
    /// For a repeated failure, the latest attempt's.
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventsResponse {
    /// Newest first.
    pub events: Vec<SecurityEvent>,
}

impl From<Event> for SecurityEvent {
    fn from(event: Event) -> Self {
        Self {
            id: event.id,
            kind: event.kind,
            at: event.at,
            count: event.count,
            last_at: event.last_at,
            ip: event.ip,
            device_name: event.user_agent.as_deref().and_then(device_name),
            user_agent: event.user_agent,
            detail: event.detail,
        }
    }
}

/// The signed-in account.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 401, description = "Not signed in, or a challenge token was sent (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token without the needed scope (`insufficient_scope`), or used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account")]
async fn get_account(
    state: web::Data<AppState>,
    caller: ApiCaller,
) -> Result<HttpResponse, ApiError> {
    // A set-up session reads the account to learn what it must do.
    let principal = caller.require_allowing_set_up(Scope::AccountRead)?;
    let overview = account::overview(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(account_response(overview)))
}

/// Change the account's settings: the language the SPA and mails use.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = UpdateAccountRequest,
    responses(
        (status = 200, description = "The account, updated", body = AccountResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A language the SPA does not ship (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/account")]
async fn update_account(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let overview = account::set_language(&state, &principal, body.language).await?;
    Ok(HttpResponse::Ok().json(account_response(overview)))
}

/// Change the password; every other session is signed out.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Current password wrong (`invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token (`insufficient_scope`), or the current password is right but blocked since a \"this wasn't me\" report: reset it with a mailed link (`password_sign_in_blocked`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "New password too short or long (`validation_failed`), too easy to guess (`password_too_weak`, with `feedback`) or known from breaches (`password_breached`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/password")]
async fn change_password(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let current = Password::candidate(body.current_password, "current_password")?;
    let new = Password::parse_new(body.new_password, "new_password")?;
    account::change_password(&state, &principal, &current, &new, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account's security events, newest first.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "Events", body = EventsResponse),
        (status = 400, description = "Query not numbers (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token without the needed scope (`insufficient_scope`), or used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Limit outside 1 to 200 (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account/events")]
async fn list_events(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.require(Scope::AccountRead)?;
    let events = account::list_events(&state, &principal, query.limit, query.before).await?;
    Ok(HttpResponse::Ok().json(EventsResponse {
        events: events.into_iter().map(SecurityEvent::from).collect(),
    }))
}
