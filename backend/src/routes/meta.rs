//! Health, keys, public settings (the brand among them) and the API description.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use actix_web::{get, http::StatusCode, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::LogoFormat;
use crate::error::ApiError;
use crate::service::health::{check as check_health, readiness as check_readiness};
use crate::service::AppState;

pub fn configure_api(config: &mut ServiceConfig) {
    config
        .service(health)
        .service(liveness)
        .service(readiness)
        .service(public_settings)
        .service(brand_file)
        .service(openapi_json);
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "database": "ok"}))]
pub struct HealthResponse {
    /// `ok`, or `unavailable` when a dependency is down.
    pub status: String,
    pub database: String,
}

/// Liveness and database reachability, for load balancers.
#[utoipa::path(
    tag = "meta",
    responses(
        (status = 200, description = "Serving, database reachable", body = HealthResponse),
        (status = 503, description = "Database unreachable", body = HealthResponse),
    )
)]
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    let health = check_health(&state).await;
    let word = |up: bool| if up { "ok" } else { "unavailable" }.to_string();
    let status = if health.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(HealthResponse {
            status: word(health.is_ok()),
            database: word(health.database_reachable),
        })
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "live"}))]
pub struct LivenessResponse {
    /// Always `live`: an answer at all is the news.
    pub status: String,
}

/// Liveness: the process answers HTTP. Checks nothing else, so an orchestrator restarts the
/// process only when it is wedged, never because the database is down.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "The process answers", body = LivenessResponse))
)]
#[get("/health/live")]
async fn liveness() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(LivenessResponse {
            status: "live".into(),
        })
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready"}))]
pub struct ReadinessResponse {
    /// Always `ready` (a `503` problem says what is not).
    pub status: String,
}

/// Readiness: whether to send this instance traffic. The database answers and carries every
/// migration this binary needs, the keys sign and seal, and the outbox is not stuck (its oldest
/// unsent mail is younger than `CUSTADMIN_READY_OUTBOX_MAX_AGE_SECS`).
#[utoipa::path(
    tag = "meta",
    responses(
        (status = 200, description = "Ready for traffic", body = ReadinessResponse),
        (status = 503, description = "Not ready (`not_ready`); `detail` names each failed check (`database`, `migrations`, `keys`, `outbox`) and what is wrong",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
async fn readiness(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let unready = check_readiness(&state).await;
    if !unready.is_empty() {
        let detail = unready
            .iter()
            .map(|unready| format!("{}: {}", unready.check, unready.problem))
            .collect::<Vec<_>>()
            .join("; ");
        tracing::warn!(%detail, "not ready");
        return Err(ApiError::NotReady(detail));
    }
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(ReadinessResponse {
            status: "ready".into(),
        }))
}

/// What clients may know of the server's configuration before signing in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "signup_enabled": true,
    "issuer": "custadmin",
    "support_contact": "mailto:support@example.com",
    "site_name": "Example Hosting",
    "logo_url": "/api/v1/brand/logo-3f2a9c1d0b7e6a54.svg",
    "brand_color": "#0b5cad"
}))]
pub struct PublicSettings {
    /// Whether `POST /auth/register` accepts new customers.
    pub signup_enabled: bool,
    /// The `iss` of this server's access tokens, for verifying them offline. Customers never
    /// see it: authenticator apps show `site_name`.
    pub issuer: String,
    /// Where customers who lost their second factor reach support (an e-mail address or a
    /// URL), when the operator configured one.
    pub support_contact: Option<String>,
    /// The hosting company's name, as customers see it everywhere: the header, the issuer of
    /// the entry authenticator apps show, mails, passkeys.
    pub site_name: String,
    /// The company's logo (SVG or PNG), a path on this server; its name changes with its
    /// content, so it may be cached for good. `null` when none is configured.
    pub logo_url: Option<String>,
    /// The primary colour (`#rrggbb`) of the header and primary buttons; white text on it has
    /// at least 4.5:1 contrast. `null` keeps the client's own colours.
    pub brand_color: Option<String>,
}

/// Where the logo is served: under the API, named by its content.
const BRAND_PATH: &str = "/api/v1/brand/";

/// Public settings, so clients can show only what the server allows (e.g. sign-up).
#[utoipa::path(tag = "meta", responses((status = 200, description = "Public settings", body = PublicSettings)))]
#[get("/config")]
async fn public_settings(state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    HttpResponse::Ok().json(PublicSettings {
        signup_enabled: settings.signup_enabled,
        issuer: settings.issuer.clone(),
        support_contact: settings.support_contact.clone(),
        site_name: settings.site_name.clone(),
        logo_url: settings
            .logo
            .as_ref()
            .map(|logo| format!("{BRAND_PATH}{}", logo.file_name())),
        brand_color: settings.brand_color.map(|color| color.to_string()),
    })
}

/// Even opened on its own, an SVG logo runs no script and loads nothing: it is a picture.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// The company's logo, at the path `GET /config` names (`logo-<hash>.svg` or `.png`).
#[utoipa::path(
    tag = "meta",
    params(("file" = String, Path, description = "The logo's file name as `logo_url` gives it")),
    responses(
        (status = 200, description = "The logo; cacheable for a year, as its name changes with its content",
            content(("image/svg+xml"), ("image/png"))),
        (status = 404, description = "No logo of this name (none configured, or an older one)",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/brand/{file}")]
async fn brand_file(
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let logo = state
        .settings
        .logo
        .as_ref()
        .filter(|logo| logo.file_name() == file.as_str())
        .ok_or(ApiError::NotFound)?;
    let mut response = HttpResponse::Ok();
    response
        .content_type(logo.format().content_type())
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if logo.format() == LogoFormat::Svg {
        response.insert_header((CONTENT_SECURITY_POLICY, SVG_POLICY));
    }
    // Shares the bytes held since start-up; nothing is copied per request.
    Ok(response.body(web::Bytes::from_owner(logo.bytes().clone())))
}

/// The JSON Web Key Set with the public keys that verify this server's tokens.
///
/// The Ed25519 keys (access tokens; EdDSA ID tokens) come first, then the OpenID Connect RSA
/// keys (RS256 ID tokens, UserInfo access tokens). During a rotation a kind has two keys:
/// pick by `kid`.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "JWKS (RFC 7517): Ed25519 (`OKP`) keys, then RSA keys", body = Object,
        example = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "kW3R...", "alg": "EdDSA", "use": "sig"},
            {"kty": "RSA", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw", "e": "AQAB", "kid": "NjVB...", "alg": "RS256", "use": "sig"}
        ]})))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .json(state.oidc_keys.jwks())
}

/// The OpenAPI document served to clients; computed once at start-up.
pub struct OpenApiJson(pub String);

/// This API's OpenAPI 3.1 description.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
#[get("/openapi.json")]
async fn openapi_json(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}
