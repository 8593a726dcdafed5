//! Health, keys and the API description.

use actix_web::{get, http::StatusCode, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::service::health::check as check_health;
use crate::service::AppState;

pub fn configure_api(config: &mut ServiceConfig) {
    config
        .service(health)
        .service(public_settings)
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

/// What clients may know of the server's configuration before signing in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"signup_enabled": true, "issuer": "custadmin", "support_contact": "mailto:support@example.com"}))]
pub struct PublicSettings {
    /// Whether `POST /auth/register` accepts new customers.
    pub signup_enabled: bool,
    /// The issuer shown in authenticator apps and in tokens' `iss`.
    pub issuer: String,
    /// Where customers who lost their second factor reach support (an e-mail address or a
    /// URL), when the operator configured one.
    pub support_contact: Option<String>,
}

/// Public settings, so clients can show only what the server allows (e.g. sign-up).
#[utoipa::path(tag = "meta", responses((status = 200, description = "Public settings", body = PublicSettings)))]
#[get("/config")]
async fn public_settings(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(PublicSettings {
        signup_enabled: state.settings.signup_enabled,
        issuer: state.settings.issuer.clone(),
        support_contact: state.settings.support_contact.clone(),
    })
}

/// The JSON Web Key Set with the public key that verifies access tokens.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "JWKS (RFC 7517); one Ed25519 key", body = Object,
        example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "kW3R...", "alg": "EdDSA", "use": "sig"}]})))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .json(state.token_keys.jwks())
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
