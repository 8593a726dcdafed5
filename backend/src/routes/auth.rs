//! `/auth`: sign-up, sign-in (password, then code), refresh and sign-out.

use actix_web::http::header;
use actix_web::{post, web, FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    device_cookie, expired_legacy_device_cookie, expired_refresh_cookie, optional_json,
    parse_credential, presented_devices, refresh_cookie, SettingUp, REFRESH_COOKIE,
};
use crate::auth::device_tokens::DeviceTokens;
use crate::auth::opaque_token::MAX_TOKEN_CHARS;
use crate::domain::{
    Email, InvalidInput, Password, RecoveryCode, RequestOrigin, SecondFactorMethod, TotpCode,
    Username,
};
use crate::error::{ApiError, Problem};
use crate::monitoring::SignInOutcome;
use crate::service::error::Refusal;
use crate::service::login::{self, LoginOutcome};
use crate::service::proof::SecondFactor;
use crate::service::sessions::TokenGrant;
use crate::service::{registration, sessions, AppState};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(register)
        .service(log_in)
        .service(verify_otp)
        .service(refresh)
        .service(log_out);
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.com"}))]
pub struct RegisterRequest {
    /// 3 to 64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit; unique
    /// regardless of case.
    #[schema(
        min_length = 3,
        max_length = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub username: String,
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f.]+(\.[^@\s\x00-\x1f\x7f-\x9f.]+)+$"
    )]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f", "username": "alice"}))]
pub struct RegisterResponse {
    pub id: String,
    pub username: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
    /// The `device_token` this account's earlier full sign-in handed out (API clients;
    /// browsers send the `__Host-custadmin_device` cookie instead). A known device has its own
    /// failure counter, so strangers guessing the password cannot lock it out. A token made
    /// for another account counts for nothing here.
    #[schema(max_length = 256)]
    pub device_token: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticatedStatus {
    Authenticated,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OtpRequiredStatus {
    OtpRequired,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum TokenType {
    Bearer,
}

/// Tokens for a fully signed-in session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "authenticated",
    "access_token": "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "bXlzdGVyaW91cy1yZWZyZXNoLXRva2VuLXZhbHVl"
}))]
pub struct AuthenticatedResponse {
    pub status: AuthenticatedStatus,
    /// EdDSA-signed JWT (`typ: at+jwt`), verifiable with `/.well-known/jwks.json`.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single-use. Also set as the `refresh_token` cookie; left out of the body for
    /// same-origin browser requests (`Sec-Fetch-Site: same-origin`, the SPA), and on refresh
    /// by cookie, so scripts never see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Present when this sign-in made a new token for this account's device (a new device, or
    /// `remember_device`, which always replaces the earlier token): keep it in place of any
    /// earlier one of this account and send it back as `device_token` when signing in to this
    /// account. Browsers get it in the `__Host-custadmin_device` cookie (`Path=/`, `Secure`,
    /// `HttpOnly`, `SameSite=Strict`), which keeps one token per account signed in on the
    /// browser; left out of the body like `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

/// The password was right; the account also needs its second factor at `POST /auth/otp`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "otp_required", "challenge_token": "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "expires_in": 300, "methods": ["totp", "recovery_code"]}))]
pub struct OtpRequiredResponse {
    pub status: OtpRequiredStatus,
    /// Accepted only by `POST /auth/otp` (and `POST /auth/webauthn/options`), for 5 minutes
    /// and 5 wrong answers.
    pub challenge_token: String,
    pub expires_in: i64,
    /// What the account can answer with: `webauthn` (a passkey), `totp`, `recovery_code`.
    pub methods: Vec<SecondFactorMethod>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginResponse {
    Authenticated(AuthenticatedResponse),
    OtpRequired(OtpRequiredResponse),
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"challenge_token": "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "code": "123456"}))]
pub struct OtpRequest {
    pub challenge_token: String,
    /// Six digits from the authenticator app; surrounding spaces are ignored.
    #[schema(pattern = "^ *[0-9]{6} *$")]
    pub code: Option<String>,
    /// One of the recovery codes (`xxxxx-xxxxx`, any case), instead of `code`.
    #[schema(pattern = "^ *[A-Za-z2-7]{5}-?[A-Za-z2-7]{5} *$")]
    pub recovery_code: Option<String>,
    /// A passkey's answer to the options of `POST /auth/webauthn/options`
    /// (`PublicKeyCredential.toJSON()`), instead of `code`.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub webauthn: Option<serde_json::Value>,
    /// "Don't ask for a code on this device for 30 days": from then on the right password
    /// alone signs in from this device (tokens say `amr ["pwd","mfa"]`), until a factor, the
    /// password or the recovery codes change. Privileged actions still ask for the code.
    pub remember_device: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "bXlzdGVyaW91cy1yZWZyZXNoLXRva2VuLXZhbHVl"}))]
pub struct RefreshRequest {
    /// Omit to use the `refresh_token` cookie.
    pub refresh_token: Option<String>,
}

/// Who receives the opaque tokens in the body as well as in cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenDelivery {
    CookiesAndBody,
    CookiesOnly,
}

impl TokenDelivery {
    /// The SPA's requests are same-origin browser requests; `Sec-Fetch-Site` is set by the
    /// browser and cannot be forged by scripts, and API clients do not send it.
    pub(super) fn for_sign_in(request: &HttpRequest) -> Self {
        let same_origin = request
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|value| value.as_bytes() == b"same-origin");
        if same_origin {
            Self::CookiesOnly
        } else {
            Self::CookiesAndBody
        }
    }
}

/// The tokens of a sign-in or refresh. `presented` is what the client held: a new device
/// token joins the cookie's list in place of its account's earlier one.
pub(super) fn token_response(
    state: &AppState,
    grant: TokenGrant,
    presented: &DeviceTokens,
    delivery: TokenDelivery,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .cookie(refresh_cookie(&grant, state.now()));
    if let Some(device_token) = &grant.device_token {
        let value =
            presented.cookie_value_with(device_token, grant.replaced_device_hash.as_deref());
        response
            .cookie(device_cookie(value))
            .cookie(expired_legacy_device_cookie());
    }
    let in_body = delivery == TokenDelivery::CookiesAndBody;
    response.json(LoginResponse::Authenticated(AuthenticatedResponse {
        status: AuthenticatedStatus::Authenticated,
        access_token: grant.access_token,
        token_type: TokenType::Bearer,
        expires_in: grant.expires_in,
        refresh_token: in_body.then_some(grant.refresh_token),
        device_token: grant.device_token.filter(|_| in_body),
    }))
}

/// Cookie-authenticated calls must not be triggerable by a plain cross-site or same-site form
/// post: forms cannot send a JSON content type or custom headers.
fn check_not_a_form_post(request: &HttpRequest) -> Result<(), ApiError> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON));
    if json || request.headers().contains_key("x-requested-with") {
        Ok(())
    } else {
        Err(ApiError::CsrfCheckFailed)
    }
}

fn refresh_token_cookie(request: &HttpRequest) -> Option<String> {
    request
        .cookie(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_string())
        .filter(|token| !token.is_empty() && token.len() <= MAX_TOKEN_CHARS)
}

/// Create a customer account.
///
/// An `email` gets its verification link now, or, when the address has had its 3 mails this
/// hour, once the limit allows (the account is created either way; the customer can also ask
/// again from Account Settings, `POST /account/email`).
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = RegisterResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-up is disabled (`signup_disabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Username taken (`username_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid username, password or e-mail (`validation_failed`, `invalid_body`); a password too easy to guess (`password_too_weak`, with `feedback`) or known from breaches (`password_breached`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures from this IP (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Password hashing saturated (`server_busy`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
async fn register(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = Username::parse(&body.username)?;
    let password = Password::parse_new(body.password, "password")?;
    let email = body
        .email
        .filter(|email| !email.trim().is_empty())
        .map(|email| Email::parse(&email))
        .transpose()?;
    let created = registration::sign_up(&state, username, password, email, &origin).await?;
    Ok(HttpResponse::Created().json(RegisterResponse {
        id: created.id,
        username: created.username,
    }))
}

/// Sign in with username and password.
///
/// Unknown usernames and wrong passwords answer alike. Accounts with two-factor on get a
/// challenge token for `POST /auth/otp` instead of tokens.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in, or a code is needed next", body = LoginResponse,
            headers(("Set-Cookie" = String, description = "`refresh_token` (HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth) when authenticated"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The password is right, but signing in with it is blocked since the holder reported \"this wasn't me\" (`password_sign_in_blocked`): reset it with a link mailed to the verified address, or sign in with a passkey. Only a right password gets this answer.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or mistyped fields (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`); see `Retry-After`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Password hashing saturated (`server_busy`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn log_in(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    request: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = Username::candidate(&body.username)?;
    let password = Password::candidate(body.password, "password")?;
    let devices = presented_devices(&request, body.device_token.as_deref());
    let outcome = login::log_in(&state, username, &password, &devices, &origin).await;
    let success = match &outcome {
        Ok(LoginOutcome::OtpRequired { .. }) => SignInOutcome::SecondFactorRequired,
        _ => SignInOutcome::Success,
    };
    login::count_sign_in(&outcome, success);
    match outcome? {
        LoginOutcome::Authenticated(grant) => Ok(token_response(
            &state,
            grant,
            &devices,
            TokenDelivery::for_sign_in(&request),
        )),
        LoginOutcome::OtpRequired {
            challenge_token,
            expires_in,
            methods,
        } => Ok(HttpResponse::Ok()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .json(LoginResponse::OtpRequired(OtpRequiredResponse {
                status: OtpRequiredStatus::OtpRequired,
                challenge_token,
                expires_in,
                methods,
            }))),
    }
}

/// Complete a sign-in with the six-digit code, a passkey or a recovery code.
#[utoipa::path(
    tag = "auth",
    request_body = OtpRequest,
    responses(
        (status = 200, description = "Signed in with both factors", body = AuthenticatedResponse,
            headers(("Set-Cookie" = String, description = "`refresh_token` cookie"))),
        (status = 400, description = "Wrong or already used code, or a passkey answer that did not verify (`invalid_code`); or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid, expired or used challenge (`invalid_challenge`), or five wrong codes spent it (`challenge_exhausted`): sign in again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Code not six digits (`invalid_code_format`), malformed recovery code, or neither/both given", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The account's codes or the client network are throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/otp")]
async fn verify_otp(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    request: HttpRequest,
    body: web::Json<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let factor = match (body.code, body.recovery_code, body.webauthn) {
        (Some(code), None, None) => SecondFactor::Code(TotpCode::parse(&code)?),
        (None, Some(code), None) => SecondFactor::RecoveryCode(RecoveryCode::parse(&code)?),
        (None, None, Some(answer)) => {
            SecondFactor::Passkey(Box::new(parse_credential("webauthn", answer)?))
        }
        _ => {
            return Err(
                InvalidInput::field("code", "send one of code, recovery_code or webauthn").into(),
            )
        }
    };
    let remember = body.remember_device.unwrap_or(false);
    let method = login::factor_label(&factor);
    let grant =
        login::answer_challenge(&state, &body.challenge_token, factor, remember, &origin).await;
    login::count_sign_in(&grant, SignInOutcome::Success);
    if grant.is_ok() {
        crate::monitoring::second_factor_used(method);
    }
    let grant = grant?;
    // The challenge remembers this account's device; the cookie keeps the others' tokens.
    let devices = presented_devices(&request, None);
    Ok(token_response(
        &state,
        grant,
        &devices,
        TokenDelivery::for_sign_in(&request),
    ))
}

/// Exchange a refresh token for new tokens; the old refresh token stops working.
///
/// Presenting an already used refresh token revokes its session, except the one rotated last,
/// within 10 s (two tabs refreshing at once): that gets a fresh pair in the same session.
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "Optional: without a body the `refresh_token` cookie is used"),
    responses(
        (status = 200, description = "New access and refresh token", body = AuthenticatedResponse,
            headers(("Set-Cookie" = String, description = "`refresh_token` cookie"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown, expired, revoked or reused refresh token (`invalid_refresh_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Refresh by cookie without a JSON `Content-Type` or `X-Requested-With` (`csrf_check_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Mistyped fields (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let from_body =
        optional_json::<RefreshRequest>(&request, &body)?.and_then(|body| body.refresh_token);
    // API clients that send the token in the body get it back in the body; the cookie's
    // holder gets it only as a cookie.
    let (token, delivery) = match from_body {
        Some(token) => (token, TokenDelivery::CookiesAndBody),
        None => {
            let token = refresh_token_cookie(&request).ok_or(Refusal::InvalidRefreshToken)?;
            check_not_a_form_post(&request)?;
            (token, TokenDelivery::CookiesOnly)
        }
    };
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(Refusal::InvalidRefreshToken.into());
    }
    let grant = sessions::refresh(&state, token).await?;
    Ok(token_response(
        &state,
        grant,
        &DeviceTokens::default(),
        delivery,
    ))
}

/// Sign out: the session is revoked, with its access and refresh tokens.
///
/// With a bearer token, its session; without one, the session of the `refresh_token` cookie.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out; the refresh cookie is cleared"),
        (status = 401, description = "Neither a valid bearer token nor a refresh cookie (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signed out by cookie without a JSON `Content-Type` or `X-Requested-With` (`csrf_check_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn log_out(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if request.headers().contains_key(header::AUTHORIZATION) {
        let SettingUp(principal) = SettingUp::extract(&request).await?;
        sessions::logout(&state, &principal).await?;
    } else {
        let token = refresh_token_cookie(&request).ok_or(Refusal::InvalidToken)?;
        check_not_a_form_post(&request)?;
        sessions::logout_by_refresh_token(&state, token).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(expired_refresh_cookie())
        .finish())
}
