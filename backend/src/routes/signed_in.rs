//! `/account/sessions` and `/account/devices`: where the account is signed in, and the
//! devices it knows (and trusts).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{uuid_path, ApiCaller};
use crate::domain::{device_name, rough_user_agent, DeviceName, RequestOrigin, Scope};
use crate::error::{ApiError, Problem};
use crate::service::{devices, sessions, AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_sessions)
        .service(end_session)
        .service(end_other_sessions)
        .service(list_devices)
        .service(forget_device);
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "5b7c...", "current": true, "created_at": "2026-12-01T10:00:00Z", "last_used_at": "2026-12-01T10:05:00Z", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "device_name": {"browser": "Firefox", "browser_version": "133", "os": "Linux"}, "amr": ["pwd", "otp"]}))]
pub struct SessionSummary {
    pub id: String,
    /// The session this request comes from.
    pub current: bool,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    /// The first product of the browser's User-Agent.
    pub user_agent: Option<String>,
    /// The browser and system the User-Agent names ("Firefox 133 on Windows"); `null` when
    /// it names no browser woothee knows (then show `user_agent`).
    pub device_name: Option<DeviceName>,
    /// How the sign-in was made (RFC 8176): `pwd`, `otp`, `mfa` (a trusted device), ...
    pub amr: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsResponse {
    /// Live sessions, most recently used first.
    pub sessions: Vec<SessionSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "9a1e...", "current": true, "created_at": "2026-11-01T10:00:00Z", "last_used_at": "2026-12-01T10:00:00Z", "trusted_until": "2026-12-31T10:00:00Z", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "device_name": {"browser": "Firefox", "browser_version": "133", "os": "Linux"}}))]
pub struct DeviceSummary {
    pub id: String,
    /// The device this request's session was signed in from.
    pub current: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Until then no code is asked on this device; `null` when not trusted.
    pub trusted_until: Option<DateTime<Utc>>,
    /// The first product of the browser's User-Agent.
    pub user_agent: Option<String>,
    /// The browser and system the User-Agent names; `null` when it names no browser.
    pub device_name: Option<DeviceName>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DevicesResponse {
    /// Most recently used first.
    pub devices: Vec<DeviceSummary>,
}

/// Where the account is signed in.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions", body = SessionsResponse),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token without the needed scope (`insufficient_scope`), or used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account/sessions")]
async fn list_sessions(
    state: web::Data<AppState>,
    caller: ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.require(Scope::AccountRead)?;
    let listed = sessions::list(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(SessionsResponse {
        sessions: listed
            .into_iter()
            .map(|(session, current)| SessionSummary {
                id: session.id,
                current,
                created_at: session.created_at,
                last_used_at: session.last_used_at,
                ip: session.ip,
                user_agent: session.user_agent.as_deref().map(rough_user_agent),
                device_name: session.user_agent.as_deref().and_then(device_name),
                amr: session.amr,
            })
            .collect(),
    }))
}

/// End one session: its access tokens stop working at once, on every instance.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No live session of this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/account/sessions/{id}")]
async fn end_session(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_path(path)?;
    sessions::end(&state, &principal, &id, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End every session but this one.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every other session is ended"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/account/sessions/revoke-others")]
async fn end_other_sessions(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
) -> Result<HttpResponse, ApiError> {
    sessions::end_others(&state, &principal, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The devices the account knows (every full sign-in makes one), and whether each is trusted.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Known devices", body = DevicesResponse),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account/devices")]
async fn list_devices(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let listed = devices::list(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(DevicesResponse {
        devices: listed
            .into_iter()
            .map(|(device, current)| DeviceSummary {
                id: device.id,
                current,
                created_at: device.created_at,
                last_used_at: device.last_used_at,
                trusted_until: device.trusted_until,
                user_agent: device.user_agent.as_deref().map(rough_user_agent),
                device_name: device.user_agent.as_deref().and_then(device_name),
            })
            .collect(),
    }))
}

/// Forget a device: it is a stranger again, and no longer trusted.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The device's id")),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such device of this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/account/devices/{id}")]
async fn forget_device(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_path(path)?;
    devices::forget(&state, &principal, &id, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}
