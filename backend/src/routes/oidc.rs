//! The OpenID Connect provider's protocol endpoints, at `/oauth2/...` on the root. They speak
//! OAuth, not problem documents: the token and revocation endpoints answer RFC 6749
//! `{"error","error_description"}`, UserInfo a `WWW-Authenticate: Bearer` challenge, and the
//! browser-facing ones (authorize, logout) redirect or show a small error page. A fault (the
//! database away, a key that does not sign) is still answered as a problem.
//!
//! Query strings and form bodies are read here by hand, leniently: nothing a client sends can
//! make an extractor answer before the endpoint does.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::MAX_BODY_BYTES;
use crate::domain::RequestOrigin;
use crate::error::{ApiError, Problem};
use crate::service::error::{Refusal, ServiceError};
use crate::service::notifications::escape_html;
use crate::service::oidc::authorization::{self, AuthorizationStart};
use crate::service::oidc::logout::{self, LogoutOutcome, LogoutRequest};
use crate::service::oidc::token::{self, ClientCredentials, TokenResponse};
use crate::service::oidc::{revocation, userinfo};
use crate::service::AppState;

pub fn configure(config: &mut ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .service(authorize)
        .service(authorize_post)
        .service(token_endpoint)
        .service(userinfo_get)
        .service(userinfo_post)
        .service(revoke)
        .service(logout_get)
        .service(logout_post);
}

/// An OAuth error (RFC 6749 5.2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": "invalid_grant", "error_description": "the code or refresh token is invalid, expired, used or revoked, or was issued to another client"}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope`,
    /// `unsupported_grant_type`; at UserInfo `invalid_token`.
    pub error: String,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    match error {
        "invalid_client" => {
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"custadmin\""));
        }
        "invalid_token" => {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"custadmin\", error=\"invalid_token\"",
            ));
        }
        _ => {}
    }
    response.json(OAuthError {
        error: error.to_string(),
        error_description: description.into(),
    })
}

fn invalid_request(description: impl Into<String>) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// A use case's answer at the token and revocation endpoints: refusals in OAuth's words,
/// faults as everywhere else.
fn oauth_answer(error: ServiceError) -> HttpResponse {
    let description = error.to_string();
    match error {
        ServiceError::Refused(Refusal::InvalidClient) => {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description)
        }
        ServiceError::Refused(Refusal::InvalidGrant) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
        }
        ServiceError::Refused(Refusal::InvalidScope) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", description)
        }
        ServiceError::Refused(Refusal::InvalidToken) => {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description)
        }
        ServiceError::Refused(_) | ServiceError::Invalid(_) => invalid_request(description),
        fault => ApiError::Service(fault).error_response(),
    }
}

/// The small page shown where redirecting would be unsafe.
fn error_page(state: &AppState, status: StatusCode, message: &str) -> HttpResponse {
    let site = escape_html(&state.settings.site_name);
    let message = escape_html(message);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in error · {site}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2937}}\
         h1{{font-size:1.4rem}}</style></head>\
         <body><h1>{site}: this sign-in cannot continue</h1><p>{message}</p>\
         <p>Go back to the application and try again, or contact its provider.</p></body></html>\n"
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Its own policy (the site-wide one forbids inline styles): the page has no script
        // and its text is escaped, so its one inline style block is all it may load.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
             frame-ancestors 'none'; form-action 'none'",
        ))
        .body(body)
}

fn see_other(location: &str) -> HttpResponse {
    match HeaderValue::from_str(location) {
        Ok(value) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, value))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(_) => ApiError::internal("a redirect that is no header value").error_response(),
    }
}

/// Whether the body is declared `application/x-www-form-urlencoded`, as OAuth requires.
fn is_form(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| mime.essence_str() == "application/x-www-form-urlencoded")
}

/// Pairs of a query string or form body, percent-decoded (lossily: what does not decode
/// cannot match anything registered).
fn pairs(text: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

// The refusal is the response itself, built once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
/// A form body's fields; `Err` for a body that is no form or sends a field twice.
fn form_fields(
    request: &HttpRequest,
    body: &[u8],
) -> Result<std::collections::HashMap<String, String>, HttpResponse> {
    let is_form = is_form(request);
    if !is_form {
        return Err(invalid_request(
            "send the parameters as application/x-www-form-urlencoded",
        ));
    }
    let mut fields = std::collections::HashMap::new();
    for (name, value) in pairs(body) {
        if fields.insert(name.clone(), value).is_some() {
            return Err(invalid_request(format!(
                "the parameter {name} is sent more than once"
            )));
        }
    }
    Ok(fields)
}

#[allow(clippy::result_large_err)]
/// A client's request to the token or revocation endpoint: its form's other fields, and its
/// credentials.
fn client_form(
    request: &HttpRequest,
    body: &[u8],
) -> Result<(std::collections::HashMap<String, String>, ClientCredentials), HttpResponse> {
    let mut fields = form_fields(request, body)?;
    let credentials = client_credentials(request, &mut fields)?;
    Ok((fields, credentials))
}

#[allow(clippy::result_large_err)]
/// The client's credentials: HTTP Basic (`client_secret_basic`), or `client_id` with
/// `client_secret` in the form (`client_secret_post`), or `client_id` alone (`none`).
fn client_credentials(
    request: &HttpRequest,
    fields: &mut std::collections::HashMap<String, String>,
) -> Result<ClientCredentials, HttpResponse> {
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim().to_string());
    let form_id = fields.remove("client_id").filter(|id| !id.is_empty());
    let form_secret = fields.remove("client_secret").filter(|s| !s.is_empty());
    let Some(encoded) = basic else {
        return match form_id {
            Some(client_id) => Ok(ClientCredentials {
                client_id,
                secret: form_secret,
            }),
            None => Err(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "authenticate the client (HTTP Basic, or client_id in the form)",
            )),
        };
    };
    if form_secret.is_some() {
        return Err(invalid_request(
            "authenticate the client one way only, not with HTTP Basic and client_secret",
        ));
    }
    // RFC 6749 2.3.1: both parts form-urlencoded before they were joined.
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let parts = decoded.as_deref().and_then(|text| text.split_once(':'));
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|text| text.into_owned())
            .ok()
    };
    let Some((Some(client_id), Some(secret))) =
        parts.map(|(id, secret)| (decode(id), decode(secret)))
    else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the HTTP Basic credentials do not decode",
        ));
    };
    if form_id.is_some_and(|form_id| form_id != client_id) {
        return Err(invalid_request("client_id differs from the HTTP Basic one"));
    }
    Ok(ClientCredentials {
        client_id,
        secret: Some(secret),
    })
}

/// The parameters of an authorization request (OpenID Connect Core 3.1.2.1), in the query
/// or, posted, in a form.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query; the handler reads it by hand, leniently.
pub struct AuthorizeQuery {
    /// `code`.
    response_type: Option<String>,
    client_id: Option<String>,
    /// Exactly one of the client's registered redirect URIs.
    redirect_uri: Option<String>,
    /// Space-separated; must include `openid`; `profile`, `email` and `offline_access` are
    /// known, others ignored.
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)); required for public clients.
    code_challenge: Option<String>,
    /// `S256` (`plain` is refused).
    code_challenge_method: Option<String>,
    /// `query` only.
    response_mode: Option<String>,
    /// `none`, `login`, `consent` (space-separated; `none` alone).
    prompt: Option<String>,
    /// Seconds since the sign-in beyond which the customer signs in again.
    max_age: Option<String>,
    login_hint: Option<String>,
    ui_locales: Option<String>,
    /// `urn:custadmin:acr:mfa` (a second factor) or `urn:custadmin:acr:hwk` (a passkey).
    acr_values: Option<String>,
}

/// Authorization endpoint (code flow with PKCE). An unknown client or a redirect URI that is
/// not exactly a registered one gets an error page (`400`, never a redirect); any other
/// error is sent to the redirect URI (`error`, `error_description`, `state`, `iss`); a valid
/// request goes to the SPA (`/authorize?request=...`), where the customer signs in and
/// answers it.
#[utoipa::path(
    tag = "OpenID Connect",
    params(AuthorizeQuery),
    responses(
        (status = 303, description = "To the SPA, or to the redirect URI with an error", headers(("Location" = String))),
        (status = 400, description = "Unknown client or unregistered redirect URI: an error page", content_type = "text/html", body = String),
        (status = 429, description = "More than 60 requests a minute from the client's address: an error page, with `Retry-After`", content_type = "text/html", body = String, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authorize")]
async fn authorize(
    state: web::Data<AppState>,
    request: HttpRequest,
    origin: RequestOrigin,
) -> HttpResponse {
    answer_authorize(&state, pairs(request.query_string().as_bytes()), &origin).await
}

/// The authorization endpoint by a form post (OpenID Connect Core 3.1.2.1); as the `GET`.
#[utoipa::path(
    tag = "OpenID Connect",
    request_body(content = Option<AuthorizeQuery>, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the SPA, or to the redirect URI with an error", headers(("Location" = String))),
        (status = 400, description = "Unknown client or unregistered redirect URI, or a body that is no form: an error page", content_type = "text/html", body = String),
        (status = 413, description = "Body over 16 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 60 requests a minute from the client's address: an error page, with `Retry-After`", content_type = "text/html", body = String, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/authorize")]
async fn authorize_post(
    state: web::Data<AppState>,
    request: HttpRequest,
    origin: RequestOrigin,
    body: web::Bytes,
) -> HttpResponse {
    let is_form = is_form(&request);
    if !body.is_empty() && !is_form {
        // Nothing in it can be trusted to redirect to.
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            "The sign-in request is not a form.",
        );
    }
    answer_authorize(&state, pairs(&body), &origin).await
}

async fn answer_authorize(
    state: &AppState,
    parameters: Vec<(String, String)>,
    origin: &RequestOrigin,
) -> HttpResponse {
    match authorization::begin(state, parameters, origin).await {
        Ok(AuthorizationStart::Redirect(to)) => see_other(&to),
        Ok(AuthorizationStart::ErrorPage(message)) => {
            error_page(state, StatusCode::BAD_REQUEST, &message)
        }
        // A page, never a redirect: the request was not even read.
        Err(ServiceError::Refused(Refusal::TooManyAttempts {
            retry_after_secs, ..
        })) => {
            let mut page = error_page(
                state,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-in requests came from your network just now. Wait a minute, \
                 then go back to the application and try again.",
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            page
        }
        Err(error) => ApiError::Service(error).error_response(),
    }
}

/// A token request (RFC 6749 4.1.3, 6), form-encoded.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // Documents the form; the handler reads it by hand.
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    /// On refresh: a narrower scope for this access token.
    scope: Option<String>,
    /// With `client_secret_post` or `none`.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The tokens (RFC 6749 5.1, OpenID Connect Core 3.1.3.3).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenEndpointResponse {
    /// An RFC 9068 `at+jwt` for UserInfo (10 minutes).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
    /// With `offline_access` granted; single use, each refresh answers the next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn tokens(response: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenEndpointResponse {
            access_token: response.access_token,
            token_type: "Bearer".to_string(),
            expires_in: response.expires_in,
            id_token: response.id_token,
            scope: response.scope,
            refresh_token: response.refresh_token,
        })
}

/// Token endpoint: `authorization_code` (with `code_verifier` where the request had a
/// challenge) and `refresh_token` (rotating: each use answers the next; a used one presented
/// again revokes the grant). Client authentication `client_secret_basic`,
/// `client_secret_post` or `none` (public clients).
#[utoipa::path(
    tag = "OpenID Connect",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens", body = TokenEndpointResponse),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `invalid_scope` or `unsupported_grant_type`", body = OAuthError),
        (status = 401, description = "`invalid_client` (with `WWW-Authenticate: Basic`)", body = OAuthError),
        (status = 413, description = "Body over 16 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token")]
async fn token_endpoint(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (mut fields, credentials) = match client_form(&request, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let mut field = |name: &str| fields.remove(name).filter(|value| !value.is_empty());
    let answer = match field("grant_type").as_deref() {
        Some("authorization_code") => {
            let Some(code) = field("code") else {
                return invalid_request("code is missing");
            };
            let (redirect_uri, verifier) = (field("redirect_uri"), field("code_verifier"));
            token::redeem_code(&state, credentials, code, redirect_uri, verifier).await
        }
        Some("refresh_token") => {
            let Some(refresh_token) = field("refresh_token") else {
                return invalid_request("refresh_token is missing");
            };
            token::refresh(&state, credentials, refresh_token, field("scope")).await
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
        }
        None => return invalid_request("grant_type is missing"),
    };
    match answer {
        Ok(response) => tokens(response),
        Err(error) => oauth_answer(error),
    }
}

/// What UserInfo says about the account (as the token's scopes allow).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"sub": "8f0d2c4e-...", "preferred_username": "alice", "locale": "cs", "email": "alice@example.com", "email_verified": true}))]
pub struct UserInfoResponse {
    /// The account id (the ID token's `sub`).
    pub sub: String,
    /// With `profile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// With `profile`, when the customer chose a language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// With `email`, when the account has an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// With `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

async fn answer_userinfo(state: &AppState, token: Option<String>) -> HttpResponse {
    let Some(token) = token else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "send the access token as a Bearer token",
        );
    };
    match userinfo::claims(state, &token).await {
        Ok(info) => {
            let (preferred_username, locale) = match info.profile {
                Some((username, locale)) => (Some(username), locale),
                None => (None, None),
            };
            let (email, email_verified) = match info.email {
                Some((email, verified)) => (email, Some(verified)),
                None => (None, None),
            };
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(UserInfoResponse {
                    sub: info.subject,
                    preferred_username,
                    locale,
                    email,
                    email_verified,
                })
        }
        Err(error) => oauth_answer(error),
    }
}

fn bearer(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
}

/// UserInfo, with an access token from this provider's token endpoint (`at+jwt`) as a Bearer
/// token; our own API's access tokens are refused, and so is a token whose grant was revoked.
#[utoipa::path(
    tag = "OpenID Connect",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claims", body = UserInfoResponse),
        (status = 401, description = "`invalid_token` (with `WWW-Authenticate: Bearer`)", body = OAuthError),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/userinfo")]
async fn userinfo_get(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    answer_userinfo(&state, bearer(&request)).await
}

/// UserInfo by POST: the token as a Bearer token, or as the form field `access_token`.
#[utoipa::path(
    tag = "OpenID Connect",
    security(("bearer" = [])),
    request_body(content = Option<UserInfoForm>, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Claims", body = UserInfoResponse),
        (status = 400, description = "`invalid_request` (the token sent twice, or a body that is no form)", body = OAuthError),
        (status = 401, description = "`invalid_token` (with `WWW-Authenticate: Bearer`)", body = OAuthError),
        (status = 413, description = "Body over 16 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/userinfo")]
async fn userinfo_post(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let header_token = bearer(&request);
    let form_token = if body.is_empty() {
        None
    } else {
        match form_fields(&request, &body) {
            Ok(mut fields) => fields.remove("access_token").filter(|t| !t.is_empty()),
            Err(response) => return response,
        }
    };
    if header_token.is_some() && form_token.is_some() {
        return invalid_request("send the access token one way only");
    }
    answer_userinfo(&state, header_token.or(form_token)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // Documents the form; the handler reads it by hand.
pub struct UserInfoForm {
    access_token: Option<String>,
}

/// A revocation request (RFC 7009), form-encoded, with the client's authentication.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // Documents the form; the handler reads it by hand.
pub struct RevocationRequest {
    /// A refresh token or an access token of this client.
    token: String,
    /// `refresh_token` or `access_token`; a hint only.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revocation (RFC 7009): a refresh or access token of the calling client ends the grant it
/// belongs to (every token of it). Any other token is answered the same, with nothing done.
#[utoipa::path(
    tag = "OpenID Connect",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "`invalid_request`", body = OAuthError),
        (status = 401, description = "`invalid_client` (with `WWW-Authenticate: Basic`)", body = OAuthError),
        (status = 413, description = "Body over 16 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (mut fields, credentials) = match client_form(&request, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(token) = fields.remove("token").filter(|token| !token.is_empty()) else {
        return invalid_request("token is missing");
    };
    match revocation::revoke(&state, credentials, token).await {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(error) => oauth_answer(error),
    }
}

/// RP-initiated logout's parameters.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; the handler reads them by hand.
pub struct LogoutParameters {
    /// An ID token this provider issued to the client (expired ones too, if issued within
    /// the longest session lifetime, 30 days); required with `post_logout_redirect_uri`.
    id_token_hint: Option<String>,
    /// One of the client's registered post-logout redirect URIs.
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
    ui_locales: Option<String>,
}

async fn answer_logout(state: &AppState, parameters: Vec<(String, String)>) -> HttpResponse {
    let mut request = LogoutRequest::default();
    for (name, value) in parameters {
        let slot = match name.as_str() {
            "id_token_hint" => &mut request.id_token_hint,
            "post_logout_redirect_uri" => &mut request.post_logout_redirect_uri,
            "state" => &mut request.state,
            "client_id" => &mut request.client_id,
            _ => continue,
        };
        if slot.is_some() {
            return error_page(
                state,
                StatusCode::BAD_REQUEST,
                &format!("The sign-out request sends {name} more than once."),
            );
        }
        *slot = Some(value).filter(|value| !value.is_empty());
    }
    match logout::log_out(state, request).await {
        Ok(LogoutOutcome::Redirect(to)) => see_other(&to),
        Ok(LogoutOutcome::ErrorPage(message)) => {
            error_page(state, StatusCode::BAD_REQUEST, &message)
        }
        Err(error) => ApiError::Service(error).error_response(),
    }
}

/// RP-initiated logout: ends the custadmin session named in `id_token_hint` (as signing out
/// does) and the grants tied to it without `offline_access`, then goes back to
/// `post_logout_redirect_uri` (with `state`), or to the sign-in page. Without a hint nothing
/// ends: the browser goes to the SPA's `/sign-out`, which asks the customer. A hint that is no
/// ID token of ours, or a URI not registered for its client, gets an error page.
#[utoipa::path(
    tag = "OpenID Connect",
    params(LogoutParameters),
    responses(
        (status = 303, description = "Signed out; to the redirect URI or the sign-in page (without a hint: to the SPA's `/sign-out`, which asks)", headers(("Location" = String))),
        (status = 400, description = "A bad hint or an unregistered redirect URI: an error page", content_type = "text/html", body = String),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/logout")]
async fn logout_get(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    answer_logout(&state, pairs(request.query_string().as_bytes())).await
}

/// RP-initiated logout by a form post; as the `GET`.
#[utoipa::path(
    tag = "OpenID Connect",
    request_body(content = Option<LogoutParameters>, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out; to the redirect URI or the sign-in page (without a hint: to the SPA's `/sign-out`, which asks)", headers(("Location" = String))),
        (status = 400, description = "A bad hint or an unregistered redirect URI, or a body that is no form: an error page", content_type = "text/html", body = String),
        (status = 413, description = "Body over 16 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable (`database_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/logout")]
async fn logout_post(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let is_form = is_form(&request);
    if !body.is_empty() && !is_form {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            "The sign-out request is not a form.",
        );
    }
    answer_logout(&state, pairs(&body)).await
}
