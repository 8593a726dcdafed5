//! `/account/api-tokens`: tokens for integrators' machines, made and revoked by a signed-in
//! holder (never by another token).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{uuid_path, ProofFields};
use crate::domain::{ApiToken, RequestOrigin, Scope};
use crate::error::{ApiError, Problem};
use crate::service::api_tokens::{self, NewToken};
use crate::service::{AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create_token)
        .service(list_tokens)
        .service(revoke_token);
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Reseller portal", "scopes": ["account:read"], "expires_in_days": 90, "allowed_networks": ["203.0.113.0/24", "2001:db8:42::/48"]}))]
pub struct CreateTokenRequest {
    /// 1 to 100 characters, to recognise the token by.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `account:read`; support staff may also grant `support:read` and `support:reset`.
    pub scopes: Vec<Scope>,
    /// 1 to 365; 1 to 30 for a token with a support scope.
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: i64,
    /// The networks the token may be used from: 1 to 20 IPv4 or IPv6 networks in CIDR
    /// notation (or single addresses). A call from elsewhere answers `403
    /// network_not_allowed` and is recorded in the security log. Left out: any network.
    #[serde(default)]
    #[schema(max_items = 20, example = json!(["203.0.113.0/24"]))]
    pub allowed_networks: Option<Vec<String>>,
    /// Outside the privileged window: with two-factor on the code (or `recovery_code`, or
    /// `webauthn`), with it off the password. A token with a support scope always needs
    /// `code`, `recovery_code` or `webauthn`, however recent the sign-in.
    #[serde(flatten)]
    pub proof: ProofFields,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "3c9d...", "name": "Reseller portal", "scopes": ["account:read"], "prefix": "cat_Xy3k", "created_at": "2026-12-01T10:00:00Z", "last_used_at": null, "expires_at": "2027-03-01T10:00:00Z"}))]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The token's first characters.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The networks it may be used from, canonical (`203.0.113.0/24`); `null`: any.
    pub allowed_networks: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// `cat_` and 256 random bits; send as `Authorization: Bearer cat_...`. Shown only now.
    pub token: String,
    pub prefix: String,
    pub expires_at: DateTime<Utc>,
    /// The networks it may be used from, canonical; `null`: any.
    pub allowed_networks: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokensResponse {
    /// Tokens that still work, newest first.
    pub tokens: Vec<TokenSummary>,
}

impl From<ApiToken> for TokenSummary {
    fn from(token: ApiToken) -> Self {
        Self {
            id: token.id,
            name: token.name,
            scopes: token.scopes,
            prefix: token.prefix,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
            allowed_networks: networks_shown(token.allowed_networks.as_deref()),
        }
    }
}

fn networks_shown(networks: Option<&[ipnet::IpNet]>) -> Option<Vec<String>> {
    networks.map(|networks| networks.iter().map(ToString::to_string).collect())
}

/// Make an API token for a program acting for this account (a privileged action).
///
/// A token with a support scope lives at most 30 days, needs a second factor in the body
/// every time, and counts as one of the agent's 30 support actions an hour.
#[utoipa::path(
    tag = "api-tokens",
    security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, shown this once", body = CreatedToken),
        (status = 400, description = "Wrong proof (`invalid_code`, `invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old, or a support scope without a second factor in the body: send a proof (`reauthentication_required`); a support scope on an account without two-factor (`two_factor_required`); support scopes asked by a customer, or an API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name, scopes or lifetime out of range (over 30 days with a support scope), or `allowed_networks` empty, over 20 or not CIDR networks (`validation_failed`, `invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled, or a support scope beyond the agent's 30 support actions an hour (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/api-tokens")]
async fn create_token(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    body: web::Json<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewToken::parse(
        &body.name,
        &body.scopes,
        body.expires_in_days,
        principal.role,
    )?
    .bound_to(body.allowed_networks.as_deref())?;
    let proof = body.proof.parse()?;
    let (token, secret) = api_tokens::create(&state, &principal, new, proof, &origin).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CreatedToken {
            id: token.id,
            name: token.name,
            scopes: token.scopes,
            token: secret,
            prefix: token.prefix,
            expires_at: token.expires_at,
            allowed_networks: networks_shown(token.allowed_networks.as_deref()),
        }))
}

/// The account's API tokens, without their secrets.
#[utoipa::path(
    tag = "api-tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Tokens", body = TokensResponse),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account/api-tokens")]
async fn list_tokens(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let tokens = api_tokens::list(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(TokensResponse {
        tokens: tokens.into_iter().map(TokenSummary::from).collect(),
    }))
}

/// Revoke an API token: it stops working at once.
#[utoipa::path(
    tag = "api-tokens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live token of this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/account/api-tokens/{id}")]
async fn revoke_token(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_path(path)?;
    api_tokens::revoke(&state, &principal, &id, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}
