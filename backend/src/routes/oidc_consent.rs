//! The SPA's side of OpenID Connect: an authorization request shown to the customer and
//! answered (`/oidc/authorization-requests/{id}`), and the apps with access to an account
//! (`/account/apps`, and support's read-only `/support/customers/{id}/apps`).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{parse_credential, uuid_path, ApiCaller, MaybeSignedIn, SettingUp};
use crate::domain::oidc::{AcrRequirement, OidcScopes};
use crate::domain::{InvalidInput, RequestOrigin, Scope, TotpCode};
use crate::error::{ApiError, Problem};
use crate::service::oidc::apps::{self, ConnectedApp as App};
use crate::service::oidc::authorization::{self, DenyReason, Next, RequestView, StepUpProof};
use crate::service::oidc::is_plausible_client_id;
use crate::service::{support, AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(view_authorization_request)
        .service(approve_authorization_request)
        .service(deny_authorization_request)
        .service(list_apps)
        .service(remove_app)
        .service(customer_apps);
}

/// A scope a relying party may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OidcScope {
    /// Signing in: the account's id.
    Openid,
    /// The username and the chosen language.
    Profile,
    /// The e-mail address and whether it is verified.
    Email,
    /// Staying signed in to the app while the customer is away (a refresh token).
    OfflineAccess,
}

fn scopes_of(scopes: &OidcScopes) -> Vec<OidcScope> {
    scopes
        .as_slice()
        .iter()
        .filter_map(|scope| match *scope {
            "openid" => Some(OidcScope::Openid),
            "profile" => Some(OidcScope::Profile),
            "email" => Some(OidcScope::Email),
            "offline_access" => Some(OidcScope::OfflineAccess),
            _ => None,
        })
        .collect()
}

/// The relying party asking.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationClient {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationPrompt {
    None,
    Login,
    Consent,
}

/// The second factor the relying party requires: any (`mfa`: a six-digit code or a passkey)
/// or a passkey (`hwk`).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AcrRequired {
    Mfa,
    Hwk,
}

/// What the SPA does next with the request, decided for the caller.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationNext {
    /// Nobody is signed in, or the sign-in is too old for the request: sign in, then load the
    /// request again.
    SignIn,
    /// Prove the required second factor (`acr_required`) in the approve call.
    StepUp,
    /// The required second factor is missing and the app offers its set-up: set it up, then
    /// come back.
    SetUpTwoFactor,
    /// Ask the customer; approve with `consent: true`.
    Consent,
    /// Approve at once.
    Ready,
}

/// An authorization request as the SPA shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client": {"id": "ca_V1StGXR8Z5jdHi6BmyT2Zw", "name": "Webmail"},
    "scopes": ["openid", "profile", "email"],
    "prompt": null,
    "login_hint": null,
    "ui_locales": "cs en",
    "acr_required": null,
    "next": "consent",
    "consent_remembered": false,
    "expires_at": "2026-12-09T10:30:00Z"
}))]
pub struct AuthorizationRequestView {
    pub client: AuthorizationClient,
    pub scopes: Vec<OidcScope>,
    /// The strongest of the request's `prompt` values (`login` before `consent`).
    pub prompt: Option<AuthorizationPrompt>,
    /// The username the app suggests, to prefill.
    pub login_hint: Option<String>,
    /// The app's preferred languages, space-separated (`cs en`), for a customer who has not
    /// chosen one.
    pub ui_locales: Option<String>,
    pub acr_required: Option<AcrRequired>,
    pub next: AuthorizationNext,
    /// The customer allowed these scopes before (the consent card may be skipped, unless
    /// `next` is `consent`).
    pub consent_remembered: bool,
    pub expires_at: DateTime<Utc>,
}

impl From<RequestView> for AuthorizationRequestView {
    fn from(view: RequestView) -> Self {
        let prompt = if view.prompt.none {
            Some(AuthorizationPrompt::None)
        } else if view.prompt.login {
            Some(AuthorizationPrompt::Login)
        } else if view.prompt.consent {
            Some(AuthorizationPrompt::Consent)
        } else {
            None
        };
        Self {
            client: AuthorizationClient {
                id: view.client_id,
                name: view.client_name,
            },
            scopes: scopes_of(&view.scopes),
            prompt,
            login_hint: view.login_hint,
            ui_locales: view.ui_locales,
            acr_required: view.acr_required.map(|acr| match acr {
                AcrRequirement::Mfa => AcrRequired::Mfa,
                AcrRequirement::HardwareKey => AcrRequired::Hwk,
            }),
            next: match view.next {
                Next::SignIn => AuthorizationNext::SignIn,
                Next::StepUp => AuthorizationNext::StepUp,
                Next::SetUpTwoFactor => AuthorizationNext::SetUpTwoFactor,
                Next::Consent => AuthorizationNext::Consent,
                Next::Ready => AuthorizationNext::Ready,
            },
            consent_remembered: view.consent_remembered,
            expires_at: view.expires_at,
        }
    }
}

/// The customer's yes, with the step-up proof when `next` was `step_up`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"consent": true, "code": "123456"}))]
pub struct ApproveAuthorizationRequest {
    /// The customer allowed the app the request's scopes (needed when `next` was `consent`,
    /// or `consent_remembered` was false).
    #[serde(default)]
    pub consent: bool,
    /// Step-up with the six-digit code (only where `acr_required` is `mfa`).
    #[schema(pattern = "^ *[0-9]{6} *$")]
    pub code: Option<String>,
    /// Step-up with a passkey: its answer to `POST /account/webauthn/options`.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub webauthn: Option<serde_json::Value>,
}

impl ApproveAuthorizationRequest {
    fn step_up(self) -> Result<Option<StepUpProof>, ApiError> {
        match (self.code, self.webauthn) {
            (None, None) => Ok(None),
            (Some(code), None) => Ok(Some(StepUpProof::Code(TotpCode::parse(&code)?))),
            (None, Some(answer)) => Ok(Some(StepUpProof::Passkey(Box::new(parse_credential(
                "webauthn", answer,
            )?)))),
            (Some(_), Some(_)) => {
                Err(InvalidInput::field("code", "send either code or webauthn").into())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DenyAuthorizationReason {
    /// The customer pressed Deny: the app gets `access_denied`.
    Denied,
    /// `prompt=none` and nobody is signed in: the app gets `login_required`.
    NoSession,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "denied"}))]
pub struct DenyAuthorizationRequest {
    pub reason: DenyAuthorizationReason,
}

/// Where the browser goes now: the app's redirect URI with `code` or `error`, `state` and
/// `iss`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"redirect_to": "https://webmail.example/callback?code=Xy...&state=af0ifjsldkj&iss=https%3A%2F%2Fadmin.example"}))]
pub struct AuthorizationRedirect {
    pub redirect_to: String,
}

/// An app (an OpenID Connect relying party) the customer allowed to see the account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"client_id": "ca_V1StGXR8Z5jdHi6BmyT2Zw", "name": "Webmail", "scopes": ["openid", "profile", "email"], "granted_at": "2026-12-09T10:00:00Z", "last_used_at": "2026-12-09T11:00:00Z"}))]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<OidcScope>,
    pub granted_at: DateTime<Utc>,
    /// When the app last got a token for the account.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<App> for ConnectedApp {
    fn from(app: App) -> Self {
        Self {
            client_id: app.client_id,
            name: app.name,
            scopes: scopes_of(&app.scopes),
            granted_at: app.granted_at,
            last_used_at: app.last_used_at,
        }
    }
}

fn redirect(to: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(AuthorizationRedirect { redirect_to: to })
}

/// An authorization request waiting for the customer (the `request` of the SPA's
/// `/authorize?request=...`), and what to do next with it for the caller.
///
/// The bearer token is optional: with a signed-in session the answer is for it; without one,
/// or with one that is invalid or expired, `next` is `sign_in` (never `401`).
#[utoipa::path(
    tag = "OpenID Connect",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The request id from the SPA's URL")),
    responses(
        (status = 200, description = "The request", body = AuthorizationRequestView),
        (status = 404, description = "Unknown, expired (30 minutes) or answered already (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/oidc/authorization-requests/{id}")]
async fn view_authorization_request(
    state: web::Data<AppState>,
    caller: MaybeSignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = authorization::view(&state, caller.0, &path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(AuthorizationRequestView::from(view)))
}

/// Approve an authorization request as the signed-in customer: the app's redirect URI with a
/// code (single use, 60 seconds), `state` and `iss`.
///
/// Under `prompt=none`, or for an account without the second factor the app requires (and no
/// set-up offered), the redirect carries the app's error instead (`login_required`,
/// `interaction_required`, `consent_required`, `access_denied`). A session that may only set
/// up a second factor (its deadline passed) is answered the same way: `interaction_required`
/// under `prompt=none`, `two_factor_required` when the app offers the set-up, else
/// `access_denied`; it never gets a code. A step-up proof is counted
/// before it is checked, like any proof. A first (or wider) consent is recorded as
/// `app_access_granted` and mailed. The request is answered once.
#[utoipa::path(
    tag = "OpenID Connect",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request id from the SPA's URL")),
    request_body = ApproveAuthorizationRequest,
    responses(
        (status = 200, description = "Go to `redirect_to`", body = AuthorizationRedirect),
        (status = 400, description = "Wrong or used six-digit code (`invalid_code`), or a refused passkey answer (`passkey_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The app requires a second factor not proved here (`step_up_required`: send `code` or `webauthn`), a sign-in newer than this session (`reauthentication_required`: sign in again), or a second factor the account lacks (`two_factor_required`: set one up); an API token (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, expired or answered already (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Consent is needed and `consent` is false (`consent_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong proofs (`too_many_attempts`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oidc/authorization-requests/{id}/approve")]
async fn approve_authorization_request(
    state: web::Data<AppState>,
    // A set-up session too, so that the app hears back (the use case never issues it a code).
    SettingUp(principal): SettingUp,
    origin: RequestOrigin,
    path: web::Path<String>,
    body: web::Json<ApproveAuthorizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let consent = body.consent;
    let step_up = body.step_up()?;
    let to = authorization::approve(
        &state,
        &principal,
        &path.into_inner(),
        consent,
        step_up,
        &origin,
    )
    .await?;
    Ok(redirect(to))
}

/// Decline an authorization request: the app's redirect URI with `access_denied` (the
/// customer's no) or `login_required` (`prompt=none` and nobody signed in). No sign-in
/// needed: whoever holds the request's id may decline it.
#[utoipa::path(
    tag = "OpenID Connect",
    params(("id" = String, Path, description = "The request id from the SPA's URL")),
    request_body = DenyAuthorizationRequest,
    responses(
        (status = 200, description = "Go to `redirect_to`", body = AuthorizationRedirect),
        (status = 404, description = "Unknown, expired or answered already (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oidc/authorization-requests/{id}/deny")]
async fn deny_authorization_request(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<DenyAuthorizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = match body.reason {
        DenyAuthorizationReason::Denied => DenyReason::Denied,
        DenyAuthorizationReason::NoSession => DenyReason::NoSession,
    };
    let to = authorization::deny(&state, &path.into_inner(), reason).await?;
    Ok(redirect(to))
}

/// The apps (OpenID Connect relying parties) the caller allowed to see the account, in the
/// order they were allowed. Also with an API token with scope `account:read`.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Apps with access", body = [ConnectedApp]),
        (status = 403, description = "An API token without `account:read` (`insufficient_scope`) or used from outside its networks (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account/apps")]
async fn list_apps(
    state: web::Data<AppState>,
    caller: ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.require(Scope::AccountRead)?;
    let apps: Vec<ConnectedApp> = apps::list(&state, &principal)
        .await?
        .into_iter()
        .map(ConnectedApp::from)
        .collect();
    Ok(HttpResponse::Ok().json(apps))
}

/// Remove an app's access: the consent ends, and with it at once every refresh token and
/// access token the app holds for the account. Recorded as `app_access_revoked` and mailed.
/// The app asks for consent again at the next sign-in.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    params(("client_id" = String, Path, description = "The app's client id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "An API token (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The app has no access to the account (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/account/apps/{client_id}")]
async fn remove_app(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let client_id = path.into_inner();
    if !is_plausible_client_id(&client_id) {
        return Err(ApiError::NotFound);
    }
    apps::remove(&state, &principal, &client_id, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The apps a customer allowed to see the account, read only. Support staff; also with an
/// API token with scope `support:read`.
#[utoipa::path(
    tag = "support",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's account id")),
    responses(
        (status = 200, description = "Apps with access", body = [ConnectedApp]),
        (status = 403, description = "Not support staff (`forbidden`), or signed in without a second factor (`two_factor_required`); an API token used from outside the networks it is bound to (`network_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/support/customers/{id}/apps")]
async fn customer_apps(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.require(Scope::SupportRead)?;
    let apps: Vec<ConnectedApp> = support::customer_apps(&state, &principal, &uuid_path(path)?)
        .await?
        .into_iter()
        .map(ConnectedApp::from)
        .collect();
    Ok(HttpResponse::Ok().json(apps))
}
