//! `/account/two-factor`: switch TOTP on (enrol, confirm) and off, and recovery codes.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{optional_json, ProofFields, SettingUp};
use crate::domain::{RequestOrigin, TotpCode};
use crate::error::{ApiError, Problem};
use crate::service::two_factor;
use crate::service::{AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(enroll)
        .service(confirm)
        .service(disable)
        .service(regenerate_recovery_codes);
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"password": "correct horse battery"}))]
pub struct EnrollRequest {
    /// Needed when the last full sign-in is older than the privileged window (10 minutes).
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// Instead of `password` when the account has passkeys (two-factor on): one of the
    /// recovery codes, or a passkey's answer.
    #[schema(pattern = "^ *[A-Za-z2-7]{5}-?[A-Za-z2-7]{5} *$")]
    pub recovery_code: Option<String>,
    /// With passkeys: a passkey's answer to `POST /account/webauthn/options`, outside the
    /// window.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub webauthn: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/custadmin:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=custadmin&algorithm=SHA1&digits=6&period=30",
    "qr_svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 37 37\">...</svg>"
}))]
pub struct EnrollResponse {
    /// Base32 without padding, for typing into the app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// SVG image of a QR code encoding exactly `otpauth_uri`.
    pub qr_svg: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"code": "123456"}))]
pub struct ConfirmRequest {
    /// Six digits from the authenticator app; surrounding spaces are ignored.
    #[schema(pattern = "^ *[0-9]{6} *$")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"enabled": true, "recovery_codes": ["abcde-fghij", "klmno-pqrst", "uvwxy-z2345", "a6b7c-defgh", "ijklm-nopqr", "stuvw-xyz23", "4567a-bcdef", "ghijk-lmnop", "qrstu-vwxyz", "23456-7abcd"]}))]
pub struct ConfirmResponse {
    pub enabled: bool,
    /// Ten single-use codes, shown this once; only when TOTP is the account's first second
    /// factor (an account with passkeys has its codes already).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"enabled": false}))]
pub struct TwoFactorStateResponse {
    pub enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["abcde-fghij", "klmno-pqrst"]}))]
pub struct RecoveryCodesResponse {
    /// Ten new single-use codes; the old ones no longer work.
    pub recovery_codes: Vec<String>,
}

/// Start switching two-factor on: a new secret and its QR code. Login is unchanged until
/// `confirm` succeeds; calling again replaces the pending secret.
#[utoipa::path(
    tag = "two-factor",
    path = "/account/two-factor/enroll",
    security(("bearer" = [])),
    request_body(content = Option<EnrollRequest>, description = "Optional; a proof is needed outside the privileged window"),
    responses(
        (status = 200, description = "Pending secret", body = EnrollResponse),
        (status = 400, description = "Wrong password (`invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old; send `password`, or with two-factor on (passkeys) `webauthn` or `recovery_code` (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor is already on (`two_factor_already_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/two-factor/enroll")]
async fn enroll(
    state: web::Data<AppState>,
    SettingUp(principal): SettingUp,
    origin: RequestOrigin,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = optional_json::<EnrollRequest>(&request, &body)?.unwrap_or_default();
    // No `code`: enrolling is for an account without an authenticator app.
    let proof = ProofFields {
        code: None,
        recovery_code: body.recovery_code,
        password: body.password,
        webauthn: body.webauthn,
    }
    .parse()?;
    let enrollment = two_factor::enroll(&state, &principal, proof, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(EnrollResponse {
            secret: enrollment.secret_base32,
            otpauth_uri: enrollment.otpauth_uri,
            qr_svg: enrollment.qr_svg,
        }))
}

/// Finish switching two-factor on with a code from the app. Returns the recovery codes, once.
///
/// Every other session of the account is signed out; the calling session continues, now
/// counted as having used both factors (it has just proved the code).
#[utoipa::path(
    tag = "two-factor",
    path = "/account/two-factor/confirm",
    security(("bearer" = [])),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "Two-factor is on", body = ConfirmResponse),
        (status = 400, description = "Wrong code (`invalid_code`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to confirm (`no_pending_enrollment`) or already on (`two_factor_already_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Code not six digits (`invalid_code_format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/two-factor/confirm")]
async fn confirm(
    state: web::Data<AppState>,
    SettingUp(principal): SettingUp,
    origin: RequestOrigin,
    body: web::Json<ConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = TotpCode::parse(&body.code)?;
    let recovery_codes = two_factor::confirm(&state, &principal, &code, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(ConfirmResponse {
            enabled: true,
            recovery_codes,
        }))
}

/// Switch two-factor off. Outside the privileged window the body must carry one proof.
///
/// The secret, the recovery codes and the failure counters are wiped; every other session of
/// the account is signed out, the calling one continues.
#[utoipa::path(
    tag = "two-factor",
    path = "/account/two-factor/disable",
    security(("bearer" = [])),
    request_body(content = Option<ProofFields>, description = "Optional inside the privileged window"),
    responses(
        (status = 200, description = "Two-factor is off", body = TwoFactorStateResponse),
        (status = 400, description = "Wrong proof (`invalid_code`, `invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old; send `code`, `webauthn` or `recovery_code` (a password alone is refused) (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor is off (`two_factor_not_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed code (`invalid_code_format`), or more than one proof", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/two-factor/disable")]
async fn disable(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let proof = ProofFields::parse_body(optional_json(&request, &body)?)?;
    two_factor::disable(&state, &principal, proof, &origin).await?;
    Ok(HttpResponse::Ok().json(TwoFactorStateResponse { enabled: false }))
}

/// Replace the recovery codes. Outside the privileged window the body must carry one proof.
#[utoipa::path(
    tag = "two-factor",
    path = "/account/two-factor/recovery-codes",
    security(("bearer" = [])),
    request_body(content = Option<ProofFields>, description = "Optional inside the privileged window"),
    responses(
        (status = 200, description = "New recovery codes", body = RecoveryCodesResponse),
        (status = 400, description = "Wrong proof (`invalid_code`, `invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old; send `code`, `webauthn` or `recovery_code` (a password alone is refused) (`reauthentication_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor is off (`two_factor_not_enabled`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed code (`invalid_code_format`), or more than one proof", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/two-factor/recovery-codes")]
async fn regenerate_recovery_codes(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let proof = ProofFields::parse_body(optional_json(&request, &body)?)?;
    let recovery_codes =
        two_factor::regenerate_recovery_codes(&state, &principal, proof, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodesResponse { recovery_codes }))
}
