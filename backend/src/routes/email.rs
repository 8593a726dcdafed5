//! E-mail: the account's address and its verification, and forgotten passwords.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::passkeys::CeremonyOptions;
use super::{parse_credential, ProofFields};
use crate::domain::{Email, InvalidInput, Password, RecoveryCode, RequestOrigin, TotpCode};
use crate::error::{ApiError, Problem};
use crate::service::error::Refusal;
use crate::service::proof::SecondFactor;
use crate::service::{email, AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(change_email)
        .service(verify_email)
        .service(request_password_reset)
        .service(password_reset_options)
        .service(confirm_password_reset);
}

/// A new address, with proof when the sign-in is older than the privileged window.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "alice@example.net", "code": "123456"}))]
pub struct ChangeEmailRequest {
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f.]+(\.[^@\s\x00-\x1f\x7f-\x9f.]+)+$"
    )]
    pub email: String,
    /// Outside the privileged window: with two-factor on the six-digit code (or
    /// `recovery_code`, or `webauthn`), with it off the password.
    #[serde(flatten)]
    pub proof: ProofFields,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "bXlzdGVyaW91cy1saW5rLXRva2Vu"}))]
pub struct LinkTokenRequest {
    /// The `token` of the mailed link.
    #[schema(max_length = 256)]
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"email": "alice@example.net"}))]
pub struct VerifiedEmailResponse {
    /// The address now verified and in use.
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"login": "alice"}))]
pub struct PasswordResetRequest {
    /// A username or a verified e-mail address.
    #[schema(min_length = 1, max_length = 254)]
    pub login: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "bXlzdGVyaW91cy1saW5rLXRva2Vu", "new_password": "a brand new password", "code": "123456"}))]
pub struct PasswordResetConfirmation {
    #[schema(max_length = 256)]
    pub token: String,
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
    /// With two-factor on, exactly one of `code`, `webauthn` and `recovery_code`.
    #[schema(pattern = "^ *[0-9]{6} *$")]
    pub code: Option<String>,
    #[schema(pattern = "^ *[A-Za-z2-7]{5}-?[A-Za-z2-7]{5} *$")]
    pub recovery_code: Option<String>,
    /// A passkey's answer to the options of `POST /auth/password-reset/webauthn/options` for
    /// this link (`PublicKeyCredential.toJSON()`), instead of `code`.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub webauthn: Option<serde_json::Value>,
}

/// A mailed link's token as sent: anything empty or too long names no link.
pub(super) fn link_token(token: &str) -> Result<&str, ApiError> {
    if token.is_empty() || token.len() > 256 {
        return Err(Refusal::InvalidLink.into());
    }
    Ok(token)
}

/// Change the account's e-mail address. The new one is pending until its mailed link is
/// followed; the old verified address is told.
#[utoipa::path(
    tag = "email",
    security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses(
        (status = 202, description = "A verification link is on its way to the new address"),
        (status = 400, description = "Wrong proof (`invalid_code`, `invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old: send a proof (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an e-mail address, or a malformed proof (`validation_failed`, `invalid_code_format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/email")]
async fn change_email(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    body: web::Json<ChangeEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let address = Email::parse(&body.email)?;
    let proof = body.proof.parse()?;
    email::request_change(&state, &principal, address, proof, &origin).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Follow a verification link: the address becomes the account's, verified.
#[utoipa::path(
    tag = "email",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "Verified", body = VerifiedEmailResponse),
        (status = 400, description = "Unknown, used or expired link (`invalid_token`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing token (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/email/verify")]
async fn verify_email(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    body: web::Json<LinkTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = email::verify(&state, link_token(&body.token)?, &origin).await?;
    Ok(HttpResponse::Ok().json(VerifiedEmailResponse { email }))
}

/// Forgotten password: a reset link goes to the account's verified address.
///
/// Always `202`, in the same time, whether or not the login names an account. An account gets
/// at most 3 links an hour and 10 a day, however many networks ask (beyond, nothing is sent);
/// a new link never voids a live one, and using any link voids the others.
#[utoipa::path(
    tag = "email",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the login names an account with a verified address, a link is on its way"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty login or control characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this network (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/password-reset")]
async fn request_password_reset(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    body: web::Json<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let login: String = body.into_inner().login.chars().take(254).collect();
    email::request_password_reset(&state, login, &origin).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Options for proving a password reset with a passkey: send the passkey's answer to
/// `POST /auth/password-reset/confirm` as `webauthn`, with the same link, within 5 minutes.
/// A new call replaces the link's earlier options.
#[utoipa::path(
    tag = "email",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "Request options for `navigator.credentials.get()`", body = CeremonyOptions),
        (status = 400, description = "Unknown, used or expired link (`invalid_token`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no passkey (`no_passkeys`): prove the reset with a code or a recovery code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing token (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many passkey ceremonies from this network (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/password-reset/webauthn/options")]
async fn password_reset_options(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    body: web::Json<LinkTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let options = email::password_reset_options(&state, link_token(&body.token)?, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CeremonyOptions { options }))
}

/// Set a new password with a reset link; every session and known device ends.
#[utoipa::path(
    tag = "email",
    request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "The password is reset"),
        (status = 400, description = "Unknown, used or expired link (`invalid_token`), wrong code or a passkey answer that did not verify (`invalid_code`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Two-factor is on: send `code`, `recovery_code` or `webauthn` (`second_factor_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "New password too short or long, a malformed code or passkey answer, or more than one of them (`validation_failed`, `invalid_code_format`); a new password too easy to guess (`password_too_weak`, with `feedback`) or known from breaches (`password_breached`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Password hashing saturated (`server_busy`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset/confirm")]
async fn confirm_password_reset(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    body: web::Json<PasswordResetConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new_password = Password::parse_new(body.new_password, "new_password")?;
    let factor = match (body.code, body.recovery_code, body.webauthn) {
        (None, None, None) => None,
        (Some(code), None, None) => Some(SecondFactor::Code(TotpCode::parse(&code)?)),
        (None, Some(code), None) => Some(SecondFactor::RecoveryCode(RecoveryCode::parse(&code)?)),
        (None, None, Some(answer)) => Some(SecondFactor::Passkey(Box::new(parse_credential(
            "webauthn", answer,
        )?))),
        _ => {
            return Err(
                InvalidInput::field("code", "send one of code, recovery_code or webauthn").into(),
            )
        }
    };
    email::confirm_password_reset(
        &state,
        link_token(&body.token)?,
        &new_password,
        factor,
        &origin,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
