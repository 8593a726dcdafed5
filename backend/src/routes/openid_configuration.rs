//! OpenID Connect Discovery: `GET /.well-known/openid-configuration` at the root, beside the
//! JWKS it names.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{get, web, HttpResponse};

use crate::error::ApiError;
use crate::service::openid_configuration::provider_metadata;
use crate::service::AppState;

/// The OpenID Provider's metadata (OpenID Connect Discovery 1.0).
///
/// The issuer (this server's public URL), the endpoints, the JWKS, and what the provider
/// supports. Relying parties read it once and cache it.
#[utoipa::path(
    tag = "OpenID Connect",
    responses((status = 200, description = "The discovery document; cacheable for an hour", body = Object,
        example = json!({
            "issuer": "https://admin.example.com",
            "authorization_endpoint": "https://admin.example.com/oauth2/authorize",
            "token_endpoint": "https://admin.example.com/oauth2/token",
            "userinfo_endpoint": "https://admin.example.com/oauth2/userinfo",
            "revocation_endpoint": "https://admin.example.com/oauth2/revoke",
            "end_session_endpoint": "https://admin.example.com/oauth2/logout",
            "jwks_uri": "https://admin.example.com/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": ["urn:custadmin:acr:pwd", "urn:custadmin:acr:mfa", "urn:custadmin:acr:hwk"],
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": ["en", "cs"],
            "authorization_response_iss_parameter_supported": true
        })))
)]
#[get("/.well-known/openid-configuration")]
pub async fn openid_configuration(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let document = provider_metadata(&state.settings.public_url)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .json(document))
}
