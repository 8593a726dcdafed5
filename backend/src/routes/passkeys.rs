//! Passkeys and security keys: `/account/passkeys` to manage them, and `/auth/webauthn/options`,
//! `/auth/passkey/options` and `/auth/passkey` to sign in with them.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::{token_response, TokenDelivery};
use super::{
    optional_json, parse_credential, presented_devices, uuid_path, ProofFields, SettingUp,
};
use crate::domain::{Label, RequestOrigin, StoredPasskey};
use crate::error::{ApiError, Problem};
use crate::service::{login, passkeys};
use crate::service::{AppState, Principal};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(start_registration)
        .service(finish_registration)
        .service(list_passkeys)
        .service(rename_passkey)
        .service(remove_passkey)
        .service(reauthentication_options)
        .service(sign_in_options)
        .service(passwordless_options)
        .service(sign_in_passwordless);
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "YubiKey 5"}))]
pub struct StartRegistrationRequest {
    /// 1 to 100 characters, to recognise the passkey by.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Outside the privileged window: with two-factor on the code (or `recovery_code`), with
    /// it off the password.
    #[serde(flatten)]
    pub proof: ProofFields,
}

/// WebAuthn options for the browser's `navigator.credentials` (binary fields base64url).
#[derive(Debug, Serialize, ToSchema)]
pub struct CeremonyOptions {
    /// `PublicKeyCredentialCreationOptions` (to add a passkey) or
    /// `PublicKeyCredentialRequestOptions` (to sign in), under `publicKey`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub options: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FinishRegistrationRequest {
    /// The answer of `navigator.credentials.create()`, as `PublicKeyCredential.toJSON()`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub credential: serde_json::Value,
}

/// A passkey as listed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "5b0c...", "name": "YubiKey 5", "created_at": "2026-12-06T10:00:00Z", "last_used_at": null}))]
pub struct PasskeySummary {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<StoredPasskey> for PasskeySummary {
    fn from(passkey: StoredPasskey) -> Self {
        Self {
            id: passkey.id,
            name: passkey.name,
            created_at: passkey.created_at,
            last_used_at: passkey.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedPasskeyResponse {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Ten single-use codes, shown this once: only when this passkey is the account's first
    /// second factor (two-factor has just been switched on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeysResponse {
    /// Oldest first.
    pub passkeys: Vec<PasskeySummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Work laptop"}))]
pub struct RenamePasskeyRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignInOptionsRequest {
    /// From `POST /auth/login` (`otp_required` with `webauthn` among its `methods`).
    pub challenge_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordlessOptionsResponse {
    /// `PublicKeyCredentialRequestOptions` under `publicKey`, with no credentials listed: the
    /// browser offers the passkeys it holds for this site.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub options: serde_json::Value,
    /// Send back with the answer to `POST /auth/passkey`; 5 minutes, single use. Opaque: it
    /// carries the ceremony's state sealed with the server's key (nothing is stored until the
    /// answer comes), about 830 characters.
    pub state_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordlessRequest {
    pub state_token: String,
    /// The answer of `navigator.credentials.get()`, as `PublicKeyCredential.toJSON()`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub credential: serde_json::Value,
    /// As for `POST /auth/login`.
    #[schema(max_length = 256)]
    pub device_token: Option<String>,
}

/// Start adding a passkey or security key (a privileged action): options for
/// `navigator.credentials.create()`. A new start replaces an unfinished one.
#[utoipa::path(
    tag = "passkeys",
    security(("bearer" = [])),
    request_body = StartRegistrationRequest,
    responses(
        (status = 200, description = "Creation options; answer within 5 minutes", body = CeremonyOptions),
        (status = 400, description = "Wrong proof (`invalid_code`, `invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old: send a proof (`reauthentication_required`); an API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has 20 passkeys (`too_many_passkeys`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name out of range (`validation_failed`), malformed proof, or mistyped fields (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/account/passkeys/register/start")]
async fn start_registration(
    state: web::Data<AppState>,
    SettingUp(principal): SettingUp,
    origin: RequestOrigin,
    body: web::Json<StartRegistrationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let name = Label::parse("name", &body.name)?;
    let proof = body.proof.parse()?;
    let options = passkeys::start_registration(&state, &principal, name, proof, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CeremonyOptions { options }))
}

/// Finish adding a passkey with the browser's answer. The account's first second factor
/// switches two-factor on: every other session ends and the recovery codes are answered, once.
#[utoipa::path(
    tag = "passkeys",
    security(("bearer" = [])),
    request_body = FinishRegistrationRequest,
    responses(
        (status = 201, description = "Added", body = AddedPasskeyResponse),
        (status = 400, description = "The answer did not verify: wrong site, another ceremony, no user verification (`passkey_refused`); or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No registration started, or it expired or was used (`no_pending_enrollment`); the key is registered already (`passkey_already_registered`); 20 passkeys (`too_many_passkeys`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a WebAuthn credential (`validation_failed`, `invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/account/passkeys/register/finish")]
async fn finish_registration(
    state: web::Data<AppState>,
    SettingUp(principal): SettingUp,
    origin: RequestOrigin,
    body: web::Json<FinishRegistrationRequest>,
) -> Result<HttpResponse, ApiError> {
    let answer = parse_credential("credential", body.into_inner().credential)?;
    let added = passkeys::finish_registration(&state, &principal, answer, &origin).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(AddedPasskeyResponse {
            id: added.passkey.id,
            name: added.passkey.name,
            created_at: added.passkey.created_at,
            recovery_codes: added.recovery_codes,
        }))
}

/// The account's passkeys and security keys.
#[utoipa::path(
    tag = "passkeys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Passkeys", body = PasskeysResponse),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/account/passkeys")]
async fn list_passkeys(
    state: web::Data<AppState>,
    // A set-up session lists what it is adding to.
    SettingUp(principal): SettingUp,
) -> Result<HttpResponse, ApiError> {
    let passkeys = passkeys::list(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(PasskeysResponse {
        passkeys: passkeys.into_iter().map(PasskeySummary::from).collect(),
    }))
}

/// Rename a passkey.
#[utoipa::path(
    tag = "passkeys",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The passkey's id")),
    request_body = RenamePasskeyRequest,
    responses(
        (status = 200, description = "Renamed", body = PasskeySummary),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such passkey of this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name out of range (`validation_failed`, `invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/account/passkeys/{id}")]
async fn rename_passkey(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<RenamePasskeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_path(path)?;
    let name = Label::parse("name", &body.into_inner().name)?;
    let passkey = passkeys::rename(&state, &principal, id, name).await?;
    Ok(HttpResponse::Ok().json(PasskeySummary::from(passkey)))
}

/// Remove a passkey (a privileged action). Removing the last second factor switches
/// two-factor off, as `POST /account/two-factor/disable` does.
#[utoipa::path(
    tag = "passkeys",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The passkey's id")),
    request_body(content = Option<ProofFields>, description = "Optional inside the privileged window"),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Wrong proof (`invalid_code`, `invalid_password`), or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sign-in too old; send `code`, `webauthn` or `recovery_code` (`reauthentication_required`); an API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such passkey of this account (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed proof, or more than one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Throttled (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[delete("/account/passkeys/{id}")]
async fn remove_passkey(
    state: web::Data<AppState>,
    principal: Principal,
    origin: RequestOrigin,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_path(path)?;
    let proof = ProofFields::parse_body(optional_json(&request, &body)?)?;
    passkeys::remove(&state, &principal, id, proof, &origin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Options for proving a privileged action with a passkey: send the passkey's answer as
/// `webauthn` in the action's body (instead of a code), within 5 minutes.
#[utoipa::path(
    tag = "passkeys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Request options for `navigator.credentials.get()`", body = CeremonyOptions),
        (status = 401, description = "Not signed in (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API token sent (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no passkey (`no_passkeys`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/account/webauthn/options")]
async fn reauthentication_options(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let options = passkeys::reauthentication_options(&state, &principal).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CeremonyOptions { options }))
}

/// Options for the passkey step of a sign-in; answer them at `POST /auth/otp` as `webauthn`.
#[utoipa::path(
    tag = "auth",
    request_body = SignInOptionsRequest,
    responses(
        (status = 200, description = "Request options for `navigator.credentials.get()`", body = CeremonyOptions),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid, expired or used challenge (`invalid_challenge`), or spent on wrong answers (`challenge_exhausted`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no passkey (`no_passkeys`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Mistyped fields (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/webauthn/options")]
async fn sign_in_options(
    state: web::Data<AppState>,
    body: web::Json<SignInOptionsRequest>,
) -> Result<HttpResponse, ApiError> {
    let options = login::sign_in_options(&state, &body.into_inner().challenge_token).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CeremonyOptions { options }))
}

/// Options for signing in with a passkey alone (no username, no password). Nothing is kept on
/// the server until the answer comes: the state token carries the ceremony.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Request options and the ceremony's state token", body = PasswordlessOptionsResponse),
        (status = 429, description = "Too many from this network (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/passkey/options")]
async fn passwordless_options(
    state: web::Data<AppState>,
    origin: RequestOrigin,
) -> Result<HttpResponse, ApiError> {
    let started = login::passwordless_options(&state, &origin).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(PasswordlessOptionsResponse {
            options: started.options,
            state_token: started.state_token,
            expires_in: started.expires_in,
        }))
}

/// Sign in with a passkey alone: a full sign-in (`amr ["hwk","user"]`). Only passkeys the
/// browser can discover, with user verification (PIN or biometrics), can do this.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordlessRequest,
    responses(
        (status = 200, description = "Signed in", body = crate::routes::auth::AuthenticatedResponse,
            headers(("Set-Cookie" = String, description = "`refresh_token` and `__Host-custadmin_device` cookies"))),
        (status = 400, description = "The answer did not verify, names no passkey, or the key's counter went backwards (`passkey_refused`); or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid, expired or already answered state token, or a token of another kind (`invalid_challenge`); a state token is answered once, whatever the answer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a WebAuthn credential (`validation_failed`, `invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failures from this network (`too_many_attempts`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/passkey")]
async fn sign_in_passwordless(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    request: HttpRequest,
    body: web::Json<PasswordlessRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let answer = parse_credential("credential", body.credential)?;
    let devices = presented_devices(&request, body.device_token.as_deref());
    let grant =
        login::sign_in_passwordless(&state, &body.state_token, answer, &devices, &origin).await;
    login::count_sign_in(&grant, crate::monitoring::SignInOutcome::Success);
    let grant = grant?;
    Ok(token_response(
        &state,
        grant,
        &devices,
        TokenDelivery::for_sign_in(&request),
    ))
}
