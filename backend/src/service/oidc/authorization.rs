//! The authorization request: received at `/oauth2/authorize` and checked ([`begin`]), shown
//! to the customer by the SPA ([`view`]), and answered ([`approve`], [`deny`]) with the
//! relying party's URL carrying a code or an error, `state` and `iss` (RFC 9207).
//!
//! Which redirect URI may be used is decided first, by exact match against the client's
//! registered ones: until it is, nothing is ever redirected (an error page is shown instead),
//! so a forged request cannot turn this server into an open redirector.

use chrono::{DateTime, TimeDelta, Utc};
use webauthn_rs::prelude::PublicKeyCredential;

use super::{
    is_pkce_value, is_plausible_client_id, is_storable, with_query, CODE_LIFETIME_SECS,
    REQUEST_LIFETIME_MINS,
};
use crate::auth::opaque_token;
use crate::db::events::{self, EventKind};
use crate::db::{
    accounts, oidc_authorization_requests as request_store, oidc_clients, oidc_codes,
    oidc_consents, passkeys as passkey_store, sessions as session_store, DbConnection,
};
use crate::domain::oidc::{
    acr_of, id_token_amr, AcrRequirement, AuthorizationCode, AuthorizationRequest, OidcConsent,
    OidcScopes, Prompt,
};
use crate::domain::OidcClient;
use crate::domain::{RequestOrigin, TotpCode};
use crate::service::error::{Refusal, ServiceError};
use crate::service::notifications::{self, Notice};
use crate::service::proof::{self, Proof, Required, Rule};
use crate::service::throttle::{self, Subject};
use crate::service::{AppState, Principal};

/// Where `/oauth2/authorize` sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationStart {
    /// The client or the redirect URI is unknown: no redirect is safe, an error page says why.
    ErrorPage(String),
    /// To the relying party with an error, or to the SPA's page for the stored request.
    Redirect(String),
}

/// Checks an authorization request (its query parameters as sent, in order) and stores it
/// for the SPA, or answers why not. Every request is first counted against its client site
/// (valid ones are rows until they expire): past the limit, `too_many_attempts`, with nothing
/// checked or stored.
pub async fn begin(
    state: &AppState,
    parameters: Vec<(String, String)>,
    origin: &RequestOrigin,
) -> Result<AuthorizationStart, ServiceError> {
    let now = state.now();
    let issuer = state.settings.public_url.clone();
    let site = origin.ip.as_deref().map(throttle::client_site);
    state
        .database
        .run(move |connection| {
            if let Some(site) = site {
                let subject = Subject::AuthorizationRequests { site };
                throttle::begin(connection, &[subject], now)?.kept(connection)?;
            }
            let parameters = Parameters(parameters);
            let client = match registered_client(connection, &parameters)? {
                Ok(client) => client,
                Err(message) => return Ok(AuthorizationStart::ErrorPage(message)),
            };
            let redirect_uri = parameters.single("redirect_uri").unwrap_or_default();
            let request = match checked_request(&parameters, &client, redirect_uri, now) {
                Ok(request) => request,
                Err((error, description)) => {
                    let response_state = parameters.single("state").filter(|s| is_storable(s));
                    return Ok(AuthorizationStart::Redirect(error_redirect(
                        redirect_uri,
                        &issuer,
                        response_state,
                        error,
                        description,
                    )));
                }
            };
            let id = opaque_token::generate();
            request_store::insert(connection, &id.hash, &request)?;
            Ok(AuthorizationStart::Redirect(with_query(
                &format!("{issuer}/authorize"),
                &[("request", &id.token)],
            )))
        })
        .await
}

/// A request's parameters; a parameter sent twice is as good as unreadable (RFC 6749 3.1).
struct Parameters(Vec<(String, String)>);

impl Parameters {
    /// The parameter's value if it was sent exactly once and is not empty (OIDC Core 3.1.2.1:
    /// an empty parameter is treated as omitted).
    fn single(&self, name: &str) -> Option<&str> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        match (values.next(), values.next()) {
            (Some((_, value)), None) if !value.is_empty() => Some(value),
            _ => None,
        }
    }

    fn repeated(&self, name: &str) -> bool {
        self.0.iter().filter(|(key, _)| key == name).count() > 1
    }

    fn any_repeated(&self) -> Option<&str> {
        self.0
            .iter()
            .map(|(key, _)| key.as_str())
            .find(|key| self.repeated(key))
    }
}

/// The client, if `client_id` names one and `redirect_uri` is exactly one it registered;
/// otherwise the error page's words.
fn registered_client(
    connection: &mut DbConnection,
    parameters: &Parameters,
) -> Result<Result<OidcClient, String>, ServiceError> {
    if parameters.repeated("client_id") || parameters.repeated("redirect_uri") {
        return Ok(Err(
            "The request names its application or its return address more than once.".into(),
        ));
    }
    let client_id = parameters.single("client_id").unwrap_or_default();
    let client = if is_plausible_client_id(client_id) {
        oidc_clients::find(connection, client_id)?
    } else {
        None
    };
    let Some(client) = client else {
        return Ok(Err(
            "The application that sent you here is not registered with this server.".into(),
        ));
    };
    match parameters.single("redirect_uri") {
        Some(uri) if client.allows_redirect_uri(uri) => Ok(Ok(client)),
        _ => Ok(Err(format!(
            "The application \"{}\" asked to send you back to an address it has not registered.",
            client.name
        ))),
    }
}

type AuthorizationError = (&'static str, String);

fn invalid_request(description: impl Into<String>) -> AuthorizationError {
    ("invalid_request", description.into())
}

/// The stored form of a request whose client and redirect URI are known, or the error to
/// send the browser back with, in the order the checks are documented.
fn checked_request(
    parameters: &Parameters,
    client: &OidcClient,
    redirect_uri: &str,
    now: DateTime<Utc>,
) -> Result<AuthorizationRequest, AuthorizationError> {
    if let Some(name) = parameters.any_repeated() {
        return Err(invalid_request(format!(
            "the parameter {name} is sent more than once"
        )));
    }
    if parameters.single("request").is_some() {
        return Err((
            "request_not_supported",
            "request objects are not supported".into(),
        ));
    }
    if parameters.single("request_uri").is_some() {
        return Err((
            "request_uri_not_supported",
            "request_uri is not supported".into(),
        ));
    }
    match parameters.single("response_type") {
        None => return Err(invalid_request("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "only response_type=code is supported".into(),
            ))
        }
    }
    if parameters
        .single("response_mode")
        .is_some_and(|mode| mode != "query")
    {
        return Err(invalid_request("only response_mode=query is supported"));
    }
    let scopes = OidcScopes::parse_lenient(parameters.single("scope").unwrap_or_default());
    if !scopes.is_openid() {
        return Err(("invalid_scope", "the scope must include openid".into()));
    }
    let code_challenge = match (
        parameters.single("code_challenge"),
        parameters.single("code_challenge_method"),
    ) {
        (Some(challenge), Some("S256")) if is_pkce_value(challenge) => Some(challenge.to_string()),
        (Some(_), Some("S256")) => {
            return Err(invalid_request(
                "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            ))
        }
        (Some(_), None) | (_, Some(_)) => {
            return Err(invalid_request(
                "only code_challenge_method=S256 is supported (plain is refused)",
            ))
        }
        (None, None) => None,
    };
    if client.is_public && code_challenge.is_none() {
        return Err(invalid_request(
            "a public client must send a code_challenge (PKCE, S256)",
        ));
    }
    let prompt =
        Prompt::parse(parameters.single("prompt").unwrap_or_default()).ok_or_else(|| {
            invalid_request("prompt is unknown, or none is combined with another value")
        })?;
    let max_age = match parameters.single("max_age") {
        None => None,
        Some(text) => match text.parse::<i64>() {
            // Up to ten years: longer means nothing more, and keeps the arithmetic safe.
            Ok(seconds) if (0..=315_360_000).contains(&seconds) => Some(seconds),
            _ => return Err(invalid_request("max_age must be a number of seconds")),
        },
    };
    // Passed through as given, but never stored when oversized or with control characters.
    let kept = |name: &str| match parameters.single(name) {
        Some(value) if !is_storable(value) => Err(invalid_request(format!(
            "{name} is longer than 2048 characters or has control characters"
        ))),
        value => Ok(value.map(str::to_string)),
    };
    let (state, nonce) = (kept("state")?, kept("nonce")?);
    let (login_hint, ui_locales) = (kept("login_hint")?, kept("ui_locales")?);
    let requested = parameters
        .single("acr_values")
        .and_then(AcrRequirement::strongest_requested);
    let required_by_client = client.require_two_factor.then_some(AcrRequirement::Mfa);
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scopes,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        ui_locales,
        acr: requested.max(required_by_client),
        created_at: now,
        expires_at: now + TimeDelta::minutes(REQUEST_LIFETIME_MINS),
    })
}

/// The relying party's URL with an error (RFC 6749 4.1.2.1), `state` and `iss`.
fn error_redirect(
    redirect_uri: &str,
    issuer: &str,
    state: Option<&str>,
    error: &str,
    description: String,
) -> String {
    let mut parameters = vec![
        ("error", error),
        ("error_description", description.as_str()),
    ];
    if let Some(state) = state {
        parameters.push(("state", state));
    }
    parameters.push(("iss", issuer));
    with_query(redirect_uri, &parameters)
}

/// What the SPA should do next with a request, for the caller who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nobody is signed in, or the sign-in is too old for the request (`prompt=login`,
    /// `max_age`).
    SignIn,
    /// The relying party requires a second factor (or a passkey) the session did not prove
    /// and the account has.
    StepUp,
    /// The relying party requires a second factor the account lacks, and offers its set-up.
    SetUpTwoFactor,
    Consent,
    /// Approve at once.
    Ready,
}

/// A stored request as the SPA shows it.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub client_id: String,
    pub client_name: String,
    pub scopes: OidcScopes,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_required: Option<AcrRequirement>,
    pub next: Next,
    pub consent_remembered: bool,
    pub expires_at: DateTime<Utc>,
}

/// The open request `request_id` names, for the signed-in caller if any. Unknown, expired
/// and completed requests are all `not_found`.
pub async fn view(
    state: &AppState,
    principal: Option<Principal>,
    request_id: &str,
) -> Result<RequestView, ServiceError> {
    let now = state.now();
    let id_hash = opaque_token::hash(request_id);
    state
        .database
        .run(move |connection| {
            let (request, client) = open_request(connection, &id_hash, now)?;
            let (authentication, consent) = match &principal {
                None => (Authentication::SignIn, None),
                Some(principal) => (
                    authentication_of(connection, &request, &client, principal)?,
                    oidc_consents::find(connection, &principal.account_id, &client.id)?,
                ),
            };
            let consent_remembered = covers(consent.as_ref(), &request.scopes);
            let next = match authentication {
                Authentication::SignIn => Next::SignIn,
                Authentication::StepUp(_) => Next::StepUp,
                Authentication::SetUpOffered => Next::SetUpTwoFactor,
                // Approving answers the relying party `access_denied`, at once.
                Authentication::Lacking => Next::Ready,
                Authentication::Done if !consent_remembered || request.prompt.consent => {
                    Next::Consent
                }
                Authentication::Done => Next::Ready,
            };
            Ok(RequestView {
                client_id: client.id,
                client_name: client.name,
                scopes: request.scopes,
                prompt: request.prompt,
                login_hint: request.login_hint,
                ui_locales: request.ui_locales,
                acr_required: request.acr,
                next,
                consent_remembered,
                expires_at: request.expires_at,
            })
        })
        .await
}

fn open_request(
    connection: &mut DbConnection,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<(AuthorizationRequest, OidcClient), ServiceError> {
    let request = request_store::find_open(connection, id_hash, now)?.ok_or(Refusal::NotFound)?;
    // A client deleted meanwhile took its requests with it; this is the race's other side.
    let client = oidc_clients::find(connection, &request.client_id)?.ok_or(Refusal::NotFound)?;
    Ok((request, client))
}

fn covers(consent: Option<&OidcConsent>, scopes: &OidcScopes) -> bool {
    consent.is_some_and(|consent| consent.scopes.covers(scopes))
}

/// Whether the caller's sign-in is enough for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authentication {
    Done,
    SignIn,
    StepUp(AcrRequirement),
    /// A second factor is required that the account lacks; the client offers its set-up.
    SetUpOffered,
    /// A second factor is required that the account lacks, and nothing can be done here.
    Lacking,
}

fn authentication_of(
    connection: &mut DbConnection,
    request: &AuthorizationRequest,
    client: &OidcClient,
    principal: &Principal,
) -> Result<Authentication, ServiceError> {
    // `prompt=login`: a sign-in made for this request, not one from before it.
    let stale = request.prompt.login && principal.auth_time < request.created_at;
    // `max_age` is measured to the request, not to the approval: a sign-in made for this
    // request is fresh however long the customer then reads the consent card.
    let too_old = request.max_age.is_some_and(|max_age| {
        principal.auth_time < request.created_at
            && (request.created_at - principal.auth_time).num_seconds() > max_age
    });
    if stale || too_old {
        return Ok(Authentication::SignIn);
    }
    if principal.two_factor_setup_only {
        return Ok(if client.offer_two_factor_setup {
            Authentication::SetUpOffered
        } else {
            Authentication::Lacking
        });
    }
    let Some(required) = request.acr else {
        return Ok(Authentication::Done);
    };
    if required.satisfied_by(&principal.amr) {
        return Ok(Authentication::Done);
    }
    let has_factor = match required {
        AcrRequirement::Mfa => principal.account.two_factor_enabled(),
        AcrRequirement::HardwareKey => {
            passkey_store::count_for_account(connection, &principal.account_id)? > 0
        }
    };
    Ok(if has_factor {
        Authentication::StepUp(required)
    } else if client.offer_two_factor_setup {
        Authentication::SetUpOffered
    } else {
        Authentication::Lacking
    })
}

/// A second factor proved on the spot, for a relying party that requires one.
#[derive(Debug, Clone)]
pub enum StepUpProof {
    Code(TotpCode),
    /// A passkey's answer to `POST /account/webauthn/options`.
    Passkey(Box<PublicKeyCredential>),
}

/// The customer's yes: the RP's URL with a code (or, where `prompt=none` forbids the
/// interaction the request needs, or the account lacks a required factor, with the error).
/// A needed step-up is proved through [`proof::privileged`] (counted before it is checked);
/// the request is completed, the consent recorded and the code issued in one transaction.
pub async fn approve(
    state: &AppState,
    principal: &Principal,
    request_id: &str,
    consent_given: bool,
    step_up: Option<StepUpProof>,
    origin: &RequestOrigin,
) -> Result<String, ServiceError> {
    let now = state.now();
    let id_hash = opaque_token::hash(request_id);
    let (request, client, authentication, consent) = {
        let (id_hash, caller) = (id_hash.clone(), principal.clone());
        state
            .database
            .run(move |connection| -> Result<_, ServiceError> {
                let (request, client) = open_request(connection, &id_hash, now)?;
                let authentication = authentication_of(connection, &request, &client, &caller)?;
                let consent = oidc_consents::find(connection, &caller.account_id, &client.id)?;
                Ok((request, client, authentication, consent))
            })
            .await?
    };
    let consent_needed = !covers(consent.as_ref(), &request.scopes) || request.prompt.consent;
    let refusal_to_relying_party = if request.prompt.none {
        match authentication {
            Authentication::SignIn => Some(("login_required", "the customer must sign in again")),
            Authentication::StepUp(_) | Authentication::SetUpOffered => Some((
                "interaction_required",
                "the customer must prove a second factor",
            )),
            // Past its deadline the account must set up a second factor first, which the
            // customer can do; until then this session answers nothing else.
            Authentication::Lacking if principal.two_factor_setup_only => Some((
                "interaction_required",
                "the customer must set up a second factor",
            )),
            Authentication::Lacking => Some((
                "access_denied",
                "the account has no second factor, which this application requires",
            )),
            Authentication::Done if consent_needed => Some((
                "consent_required",
                "the customer has not consented to this application",
            )),
            Authentication::Done => None,
        }
    } else {
        match authentication {
            Authentication::SignIn => return Err(Refusal::ReauthenticationRequired.into()),
            Authentication::SetUpOffered => return Err(Refusal::TwoFactorRequired.into()),
            Authentication::Lacking => Some((
                "access_denied",
                "the account has no second factor, which this application requires",
            )),
            Authentication::Done | Authentication::StepUp(_) => None,
        }
    };
    let issuer = state.settings.public_url.clone();
    if let Some((error, description)) = refusal_to_relying_party {
        return finish_with_error(state, id_hash, request, &issuer, error, description).await;
    }
    // Asked before any proof is used up.
    if consent_needed && !consent_given {
        return Err(Refusal::ConsentRequired.into());
    }
    let grant_consent = consent_needed.then(|| request.scopes.clone());
    match authentication {
        Authentication::StepUp(required) => {
            let (proof, proved) = match (step_up, required) {
                (Some(StepUpProof::Passkey(answer)), _) => (Proof::Passkey(answer), "hwk"),
                (Some(StepUpProof::Code(code)), AcrRequirement::Mfa)
                    if principal.account.totp_enabled() =>
                {
                    (Proof::Code(code), "otp")
                }
                _ => return Err(Refusal::StepUpRequired.into()),
            };
            let caller = principal.clone();
            proof::privileged(
                state,
                principal,
                Some(proof),
                Rule::FreshSecondFactor,
                Required::Account,
                origin,
                move |connection, admitted| {
                    issue_code(
                        &admitted.state,
                        connection,
                        &caller,
                        &id_hash,
                        &request,
                        &client,
                        grant_consent,
                        Some(proved),
                        &admitted.origin,
                        now,
                    )
                },
            )
            .await
        }
        _ => {
            let (state_for_db, caller, origin) = (state.clone(), principal.clone(), origin.clone());
            state
                .database
                .transaction(move |connection| {
                    if !session_store::lock_if_live(connection, &caller.session_id)? {
                        return Err(Refusal::InvalidToken.into());
                    }
                    issue_code(
                        &state_for_db,
                        connection,
                        &caller,
                        &id_hash,
                        &request,
                        &client,
                        grant_consent,
                        None,
                        &origin,
                        now,
                    )
                })
                .await
        }
    }
}

/// Completes the request, records the consent given (if any) and issues the code; answers
/// the relying party's URL with it. Inside the approval's transaction.
#[allow(clippy::too_many_arguments)]
fn issue_code(
    state: &AppState,
    connection: &mut DbConnection,
    principal: &Principal,
    id_hash: &str,
    request: &AuthorizationRequest,
    client: &OidcClient,
    grant_consent: Option<OidcScopes>,
    proved: Option<&str>,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    // Refused earlier by `authentication_of`; this holds it should that ever change.
    if principal.two_factor_setup_only {
        return Err(Refusal::TwoFactorSetupRequired.into());
    }
    if !request_store::complete(connection, id_hash, now)? {
        return Err(Refusal::NotFound.into());
    }
    if let Some(scopes) = grant_consent {
        record_consent(state, connection, principal, client, &scopes, origin, now)?;
    }
    let amr = id_token_amr(&principal.amr, proved);
    let code = opaque_token::generate();
    oidc_codes::insert(
        connection,
        &code.hash,
        &AuthorizationCode {
            client_id: client.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            account_id: principal.account_id.clone(),
            scopes: request.scopes.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            session_id: principal.session_id.clone(),
            auth_time: principal.auth_time,
            acr: acr_of(&amr).to_string(),
            amr,
            created_at: now,
            expires_at: now + TimeDelta::seconds(CODE_LIFETIME_SECS),
        },
    )?;
    let mut parameters = vec![("code", code.token.as_str())];
    if let Some(state) = &request.state {
        parameters.push(("state", state));
    }
    parameters.push(("iss", &state.settings.public_url));
    Ok(with_query(&request.redirect_uri, &parameters))
}

/// Records what the customer allowed `client` to see (widening an earlier consent); a first
/// or wider consent is an event and a notice.
fn record_consent(
    state: &AppState,
    connection: &mut DbConnection,
    principal: &Principal,
    client: &OidcClient,
    scopes: &OidcScopes,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let account_id = &principal.account_id;
    let widened = match oidc_consents::find(connection, account_id, &client.id)? {
        Some(earlier) if earlier.scopes.covers(scopes) => false,
        Some(earlier) => {
            let union = earlier.scopes.union(scopes);
            oidc_consents::update_scopes(connection, account_id, &client.id, &union, now)?;
            true
        }
        None => {
            oidc_consents::insert(connection, account_id, &client.id, scopes, now)?;
            true
        }
    };
    if !widened {
        return Ok(());
    }
    // Read again: the notice speaks the account's language and goes to its address now.
    let account = accounts::find_by_id(connection, account_id)?.ok_or(Refusal::InvalidToken)?;
    let detail = format!("app: {}; scopes: {}", client.name, scopes.to_text());
    events::record(
        connection,
        account_id,
        EventKind::AppAccessGranted,
        now,
        origin,
        Some(&detail),
    )?;
    notifications::queue_notice(
        state,
        connection,
        &account,
        Notice::AppAccessGranted {
            app: client.name.clone(),
        },
        origin,
        now,
    )
}

/// Completes the request and answers the relying party's URL with the error.
async fn finish_with_error(
    state: &AppState,
    id_hash: String,
    request: AuthorizationRequest,
    issuer: &str,
    error: &'static str,
    description: &'static str,
) -> Result<String, ServiceError> {
    let now = state.now();
    let completed = state
        .database
        .run(move |connection| request_store::complete(connection, &id_hash, now))
        .await?;
    if !completed {
        return Err(Refusal::NotFound.into());
    }
    Ok(error_redirect(
        &request.redirect_uri,
        issuer,
        request.state.as_deref(),
        error,
        description.to_string(),
    ))
}

/// Why the SPA declines a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// The customer pressed Deny.
    Denied,
    /// `prompt=none` and nobody is signed in.
    NoSession,
}

/// The customer's no (or the SPA's, finding no session under `prompt=none`): the relying
/// party's URL with `access_denied` or `login_required`. Completes the request.
pub async fn deny(
    state: &AppState,
    request_id: &str,
    reason: DenyReason,
) -> Result<String, ServiceError> {
    let now = state.now();
    let id_hash = opaque_token::hash(request_id);
    let request = {
        let id_hash = id_hash.clone();
        state
            .database
            .run(move |connection| -> Result<_, ServiceError> {
                Ok(open_request(connection, &id_hash, now)?.0)
            })
            .await?
    };
    let (error, description) = match reason {
        DenyReason::Denied => ("access_denied", "the customer declined"),
        DenyReason::NoSession => ("login_required", "nobody is signed in"),
    };
    let issuer = state.settings.public_url.clone();
    finish_with_error(state, id_hash, request, &issuer, error, description).await
}
