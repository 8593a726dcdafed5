//! `/auth/not-me`: "this wasn't me", confirmed from the link of a security notice.

use actix_web::{post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::email::{link_token, LinkTokenRequest};
use crate::domain::RequestOrigin;
use crate::error::{ApiError, Problem};
use crate::service::{not_me, AppState};

pub fn configure(config: &mut ServiceConfig) {
    config.service(report_not_me);
}

/// What the report ended, and what the holder can do next.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "sessions_ended": 2,
    "api_tokens_revoked": 1,
    "devices_forgotten": 2,
    "email_change_cancelled": false,
    "password_sign_in_blocked": true,
    "can_reset_by_email": true,
    "passkeys": 0
}))]
pub struct NotMeResponse {
    /// Sessions that were signed in (all of them ended).
    pub sessions_ended: usize,
    /// API tokens that worked (all of them revoked).
    pub api_tokens_revoked: usize,
    /// Known devices (all of them forgotten, their trust with them).
    pub devices_forgotten: usize,
    /// An e-mail address change waiting for its link was cancelled.
    pub email_change_cancelled: bool,
    /// Always `true`: signing in with the password answers `password_sign_in_blocked` until
    /// the password is reset with a mailed link (or support unlocks the account).
    pub password_sign_in_blocked: bool,
    /// The account has a verified address, so `POST /auth/password-reset` can reach the
    /// holder; without one, only support can help.
    pub can_reset_by_email: bool,
    /// Passkeys that still sign in (a passkey is something the holder has, not a secret a
    /// thief learns); the holder should check each is theirs.
    pub passkeys: usize,
}

/// Report "this wasn't me" with the `token` of the link in a security notice mail.
///
/// Ends every session (the caller's too), API token, device and its trust, pending e-mail
/// change, open mailed link, passkey ceremony and sign-in waiting for its code; then refuses
/// signing in with the password (`password_sign_in_blocked`, told only to whoever gives the
/// right one) until it is reset through the verified address, which still asks the second
/// factor, or support unlocks the account. Recorded as a `not_me_reported` event and mailed.
/// The link is single use (7 days); the other notices' links die with it. Nothing happens on
/// opening the link: the page it opens sends this request when the holder confirms.
#[utoipa::path(
    tag = "auth",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "Reported; everything listed has ended", body = NotMeResponse),
        (status = 400, description = "Unknown, used or expired link (`invalid_token`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing token (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/not-me")]
async fn report_not_me(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    body: web::Json<LinkTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let report = not_me::confirm(&state, link_token(&body.token)?, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(NotMeResponse {
            sessions_ended: report.sessions_ended,
            api_tokens_revoked: report.api_tokens_revoked,
            devices_forgotten: report.devices_forgotten,
            email_change_cancelled: report.email_change_cancelled,
            password_sign_in_blocked: true,
            can_reset_by_email: report.can_reset_by_email,
            passkeys: report.passkeys,
        }))
}
