//! The HTTP layer: thin handlers that parse requests into domain types, call one use case
//! and map its result. Extractors and the edge's error mapping live here too.

pub mod account;
pub mod api_tokens;
pub mod auth;
pub mod email;
pub mod meta;
pub mod not_me;
pub mod oidc;
pub mod oidc_consent;
pub mod openid_configuration;
pub mod passkeys;
pub mod prometheus;
pub mod signed_in;
pub mod support;
pub mod two_factor;

use std::future::{ready, Ready};
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::device_tokens::DeviceTokens;
use crate::domain::{InvalidInput, Password, RecoveryCode, RequestOrigin, Scope, TotpCode};
use crate::error::{ApiError, PROBLEM_CONTENT_TYPE};
use crate::service::api_tokens as token_service;
use crate::service::error::{Refusal, ServiceError};
use crate::service::proof::Proof;
use crate::service::{sessions, AppState, Principal};

/// Bodies larger than this are refused with `413`.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const REFRESH_COOKIE: &str = "refresh_token";
pub const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";
/// The known-device cookie: one token per account signed in on the browser, never readable
/// by scripts. `__Host-` makes browsers refuse it from a sibling subdomain or over plain HTTP
/// (but on localhost), so nobody can plant one.
pub const DEVICE_COOKIE: &str = "__Host-custadmin_device";
/// The cookie's name before it was bound to the host; cleared when a sign-in sets the new one.
const LEGACY_DEVICE_COOKIE: &str = "custadmin_device";
const DEVICE_COOKIE_MAX_AGE_DAYS: i64 = 365;
const MAX_USER_AGENT_CHARS: usize = 512;

/// Registers every `/api/v1` route; also used to generate the OpenAPI document without a server.
pub fn configure_api(config: &mut ServiceConfig) {
    config
        .app_data(json_config())
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(auth::configure)
        .configure(account::configure)
        .configure(two_factor::configure)
        .configure(email::configure)
        .configure(not_me::configure)
        .configure(signed_in::configure)
        .configure(api_tokens::configure)
        .configure(passkeys::configure)
        .configure(support::configure)
        .configure(oidc_consent::configure)
        .configure(meta::configure_api);
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(json_error)
}

fn json_error(error: JsonPayloadError, _request: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            }
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(inner) if inner.is_data() => {
            ApiError::InvalidBody(inner.to_string())
        }
        JsonPayloadError::Deserialize(inner) => ApiError::MalformedBody(inner.to_string()),
        other => ApiError::MalformedBody(other.to_string()),
    };
    api_error.into()
}

fn query_error(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::InvalidQuery(format!("the query string is invalid: {error}")).into()
}

fn path_error(error: PathError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::InvalidQuery(format!("the path is invalid: {error}")).into()
}

/// A path id: ids are UUIDs, and anything else names nothing (and never reaches the
/// database, where PostgreSQL text could not even hold some of it).
pub fn uuid_path(path: web::Path<String>) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(&path.into_inner())
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| ApiError::NotFound)
}

/// Parses an optional JSON body: empty means `None`; anything else must be valid JSON.
pub fn optional_json<T: DeserializeOwned>(
    request: &HttpRequest,
    body: &[u8],
) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    // `null` is the same as no body, as the OpenAPI document allows.
    serde_json::from_slice::<Option<T>>(body).map_err(|error| {
        if error.is_data() {
            ApiError::InvalidBody(error.to_string())
        } else {
            ApiError::MalformedBody(error.to_string())
        }
    })
}

/// Replaces any error response that is not already a problem document (actix's own 404, 405,
/// payload errors, panics caught as 500) with one, so clients never see HTML or an empty body.
pub fn problem_for_bare_errors<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    // The OpenID Connect endpoints' own error page is HTML by design (a browser shows it).
    if content_type.starts_with(PROBLEM_CONTENT_TYPE)
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/html")
    {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let error = match status.as_u16() {
        404 => ApiError::NotFound,
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        },
        415 => ApiError::UnsupportedMediaType,
        400..=499 => {
            ApiError::MalformedBody(status.canonical_reason().unwrap_or("bad request").into())
        }
        _ => ApiError::internal(format!("bare {status} response")),
    };
    let (request, _) = response.into_parts();
    let response = ServiceResponse::new(request, error.error_response());
    Ok(ErrorHandlerResponse::Response(
        response.map_into_right_body(),
    ))
}

impl FromRequest for RequestOrigin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(origin_of(request)))
    }
}

/// Where the request came from: its client address (a trusted proxy's word believed) and User-Agent.
fn origin_of(request: &HttpRequest) -> RequestOrigin {
    // Forwarded-for headers are believed only from configured proxies.
    // Every header line, in order (a proxy may append its own line), read leniently: a
    // garbled entry stops the walk from the right instead of discarding the whole header.
    let forwarded_for: Vec<String> = request
        .headers()
        .get_all("x-forwarded-for")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let forwarded_for = (!forwarded_for.is_empty()).then(|| forwarded_for.join(","));
    let trusted = request
        .app_data::<web::Data<AppState>>()
        .map(|state| &state.settings.trusted_proxies);
    let ip = request.peer_addr().map(|peer| match trusted {
        Some(proxies) => proxies
            .client_address(peer.ip(), forwarded_for.as_deref())
            .to_string(),
        None => peer.ip().to_string(),
    });
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
    RequestOrigin { ip, user_agent }
}

fn bearer_token(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
}

/// A signed-in session. An API token is refused here (`403 insufficient_scope`): only the
/// handlers that take an [`ApiCaller`] let machines in, so nothing else can be reached with
/// one by mistake.
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = SettingUp::from_request(request, payload);
        Box::pin(async move {
            let SettingUp(principal) = session.await?;
            if principal.two_factor_setup_only {
                return Err(Refusal::TwoFactorSetupRequired.into());
            }
            Ok(principal)
        })
    }
}

/// A signed-in session that may be a set-up session (an account past its deadline for a
/// required second factor): taken only by what such a session may do, which is reading the
/// account, setting up TOTP or a passkey, and signing out.
pub struct SettingUp(pub Principal);

impl FromRequest for SettingUp {
    type Error = ApiError;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(request);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or(Refusal::InvalidToken)?;
            if token.starts_with(token_service::TOKEN_PREFIX) {
                return Err(Refusal::InsufficientScope.into());
            }
            Ok(Self(sessions::authenticate(&state, &token).await?))
        })
    }
}

/// A signed-in session if the request has one; anything else (no token, an invalid,
/// expired or revoked one, an API token) is "not signed in", never a refusal. For what
/// answers differently to the signed-in and to everyone else.
pub struct MaybeSignedIn(pub Option<Principal>);

impl FromRequest for MaybeSignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = SettingUp::from_request(request, payload);
        Box::pin(async move {
            match session.await {
                Ok(SettingUp(principal)) => Ok(Self(Some(principal))),
                // Only a fault of ours (the database unreachable, say) is an answer of its own.
                Err(ApiError::Service(ServiceError::Refused(_))) => Ok(Self(None)),
                Err(fault) => Err(fault),
            }
        })
    }
}

/// A signed-in session or an integrator's API token; [`ApiCaller::require`] names the scope
/// a token needs for the endpoint.
pub struct ApiCaller(Principal);

impl ApiCaller {
    pub fn require(self, scope: Scope) -> Result<Principal, ApiError> {
        if self.0.two_factor_setup_only {
            return Err(Refusal::TwoFactorSetupRequired.into());
        }
        self.require_allowing_set_up(scope)
    }

    /// As [`Self::require`], but a set-up session passes too (see [`SettingUp`]); an API token
    /// of an account past its deadline never does.
    pub fn require_allowing_set_up(self, scope: Scope) -> Result<Principal, ApiError> {
        match &self.0.api_token {
            Some(_) if self.0.two_factor_setup_only => Err(Refusal::TwoFactorSetupRequired.into()),
            Some(access) if !access.scopes.contains(&scope) => {
                Err(Refusal::InsufficientScope.into())
            }
            _ => Ok(self.0),
        }
    }
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(request);
        let origin = origin_of(request);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or(Refusal::InvalidToken)?;
            let principal = if token.starts_with(token_service::TOKEN_PREFIX) {
                token_service::authenticate(&state, &token, &origin).await?
            } else {
                sessions::authenticate(&state, &token).await?
            };
            Ok(Self(principal))
        })
    }
}

/// Answers to authenticated requests (a bearer token or a session cookie) are personal:
/// no cache, shared or private, may keep them.
pub async fn no_store_when_authenticated(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let authenticated = request.headers().contains_key(header::AUTHORIZATION)
        || request.cookie(REFRESH_COOKIE).is_some();
    let mut response = next.call(request).await?;
    if authenticated {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(response)
}

/// The refresh token cookie for the SPA: never readable by scripts, sent only to `/auth`.
pub fn refresh_cookie(
    grant: &sessions::TokenGrant,
    now: chrono::DateTime<chrono::Utc>,
) -> Cookie<'static> {
    let max_age = (grant.refresh_expires_at - now).num_seconds().max(0);
    Cookie::build(REFRESH_COOKIE, grant.refresh_token.clone())
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// The device tokens a request presents: the body's `device_token` (API clients), else the
/// cookie's.
pub fn presented_devices(request: &HttpRequest, body_token: Option<&str>) -> DeviceTokens {
    let cookie = request.cookie(DEVICE_COOKIE);
    DeviceTokens::presented(body_token, cookie.as_ref().map(|cookie| cookie.value()))
}

pub fn device_cookie(value: String) -> Cookie<'static> {
    Cookie::build(DEVICE_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::days(
            DEVICE_COOKIE_MAX_AGE_DAYS,
        ))
        .finish()
}

pub fn expired_legacy_device_cookie() -> Cookie<'static> {
    removal_of(LEGACY_DEVICE_COOKIE)
}

pub fn expired_refresh_cookie() -> Cookie<'static> {
    removal_of(REFRESH_COOKIE)
}

/// A cookie under `/auth` with the attributes it was set with, so the browser drops it.
fn removal_of(name: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, "")
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// The documented routes, to tell "no such path" (404) from "wrong method" (405) for requests
/// no handler took. Built from the OpenAPI document, so it cannot drift from the routes.
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<&'static str>)>,
}

impl RouteTable {
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_string).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods the path accepts, if it is a documented path at all.
    fn allowed_methods(&self, path: &str) -> Option<&[&'static str]> {
        let requested: Vec<&str> = path.split('/').collect();
        self.routes.iter().find_map(|(template, methods)| {
            let matches = template.len() == requested.len()
                && template.iter().zip(&requested).all(|(expected, actual)| {
                    (expected.starts_with('{') && !actual.is_empty()) || expected == actual
                });
            matches.then_some(methods.as_slice())
        })
    }
}

/// What answers requests no route took: `405` with `Allow` for a known path, else `404`.
pub async fn unmatched_request(
    request: actix_web::dev::ServiceRequest,
) -> actix_web::Result<ServiceResponse> {
    let allowed = request
        .app_data::<web::Data<RouteTable>>()
        .and_then(|table| {
            table
                .allowed_methods(request.path())
                .map(|methods| methods.join(", "))
        });
    let (request, _) = request.into_parts();
    let response = match allowed {
        Some(methods) => {
            let mut response = ApiError::MethodNotAllowed.error_response();
            if let Ok(value) = header::HeaderValue::from_str(&methods) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => ApiError::NotFound.error_response(),
    };
    Ok(ServiceResponse::new(request, response))
}

// The proof a privileged request may carry: flattened into each such request's body beside
// its own fields, and parsed here, once. Its schema keeps the name the API has always given it.
/// Proof for a privileged action when the sign-in is older than the privileged window.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = ReauthenticationRequest, example = json!({"code": "123456"}))]
pub struct ProofFields {
    /// At most one of `code`, `recovery_code`, `webauthn` and `password`. With two-factor on,
    /// only `code` (with TOTP), `webauthn` (with passkeys) or `recovery_code` are accepted;
    /// with it off, only `password`.
    #[schema(pattern = "^ *[0-9]{6} *$")]
    pub code: Option<String>,
    #[schema(pattern = "^ *[A-Za-z2-7]{5}-?[A-Za-z2-7]{5} *$")]
    pub recovery_code: Option<String>,
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// With passkeys: a passkey's answer to `POST /account/webauthn/options`, outside the
    /// window.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub webauthn: Option<serde_json::Value>,
}

impl ProofFields {
    /// The proof of an optional body (all of it proof fields).
    pub fn parse_body(body: Option<Self>) -> Result<Option<Proof>, ApiError> {
        body.unwrap_or_default().parse()
    }

    /// The one proof in a privileged request's body, if any.
    pub fn parse(self) -> Result<Option<Proof>, ApiError> {
        match (self.code, self.recovery_code, self.password, self.webauthn) {
            (None, None, None, None) => Ok(None),
            (Some(code), None, None, None) => Ok(Some(Proof::Code(TotpCode::parse(&code)?))),
            (None, Some(code), None, None) => {
                Ok(Some(Proof::RecoveryCode(RecoveryCode::parse(&code)?)))
            }
            (None, None, Some(password), None) => Ok(Some(Proof::Password(Password::candidate(
                password, "password",
            )?))),
            (None, None, None, Some(answer)) => Ok(Some(Proof::Passkey(Box::new(
                parse_credential("webauthn", answer)?,
            )))),
            _ => Err(InvalidInput::field(
                "code",
                "send one of code, recovery_code, password or webauthn",
            )
            .into()),
        }
    }
}

/// The browser's answer to a WebAuthn ceremony (`PublicKeyCredential.toJSON()`, binary fields
/// base64url) sent as `field`, parsed here so a malformed one is the caller's `422`.
pub fn parse_credential<T: DeserializeOwned>(
    field: &'static str,
    value: serde_json::Value,
) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|error| {
        InvalidInput::field(field, format!("not a WebAuthn credential: {error}")).into()
    })
}
