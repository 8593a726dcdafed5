//! The one HTTP client of custadmin's API: one method per endpoint of `openapi.yaml`, each
//! path written once (in [`endpoints`]). The API tests, the black-box tests and the load
//! driver all speak through it.
//!
//! A method answers a [`Call`], a future: awaiting it sends the request and answers a [`Reply`],
//! panicking if the request could not be sent (what a test wants); [`Call::outcome`] answers
//! the transport error instead (what the load driver wants). Before it is sent, a call can be
//! given a client address ([`Call::from_ip`]) or another header ([`Call::header`]).
//!
//! Request bodies are JSON values, as tests write them: tests send hostile and partial bodies
//! on purpose, and assert on raw JSON and problem documents. [`Client::send`] is for the
//! requests no endpoint method can make (unknown paths, wrong methods, malformed bodies).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub use reqwest::header::HeaderMap;
pub use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

pub mod endpoints;

use endpoints::Endpoint;

/// A client of one server, or of several taken in turn (as a round-robin load balancer does).
/// Cloning is cheap; clones share the connection pool and the turn.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_urls: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    /// Panic on a non-empty body that is not JSON (the API tests' expectation of the API).
    strict_json: bool,
}

/// Who a request is made as: a bearer token, or nobody.
pub trait Bearer {
    fn bearer(&self) -> Option<&str>;
}

impl Bearer for &str {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl Bearer for &String {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl Bearer for Option<&str> {
    fn bearer(&self) -> Option<&str> {
        *self
    }
}

impl Bearer for Option<&String> {
    fn bearer(&self) -> Option<&str> {
        self.map(String::as_str)
    }
}

/// No token: `client.account(NOBODY)`.
pub const NOBODY: Option<&str> = None;

impl Client {
    /// A client of the server at `base_url` (`http://host:port`), with reqwest's defaults
    /// except that redirects are not followed.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self::with(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            vec![base_url.into()],
        )
    }

    /// A client over `http`, sending request by request to each of `base_urls` in turn.
    pub fn with(http: reqwest::Client, base_urls: Vec<String>) -> Self {
        assert!(!base_urls.is_empty(), "at least one server");
        Self {
            http,
            base_urls: Arc::new(base_urls),
            next: Default::default(),
            strict_json: false,
        }
    }

    /// Makes a reply whose non-empty body is not JSON a panic rather than `Value::Null`.
    pub fn strict_json(mut self) -> Self {
        self.strict_json = true;
        self
    }

    /// The same client, sending to the server at `base_url` instead (another instance).
    pub fn at(&self, base_url: impl Into<String>) -> Self {
        Self {
            base_urls: Arc::new(vec![base_url.into()]),
            next: Default::default(),
            ..self.clone()
        }
    }

    /// The base URL the next request goes to (each request takes the next one in turn).
    pub fn base_url(&self) -> &str {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        &self.base_urls[turn % self.base_urls.len()]
    }

    /// Any request: `path` is taken as it is (`/api/v1/...`, `/.well-known/...`, `/`), `body`
    /// sent as JSON if given. For deliberately malformed or unknown requests; everything else
    /// has its own method.
    pub fn send(
        &self,
        method: Method,
        path: impl Into<String>,
        token: impl Bearer,
        body: Option<Value>,
    ) -> Call {
        Call {
            request: Some(Request {
                client: self.clone(),
                method,
                path: path.into(),
                token: token.bearer().map(str::to_string),
                body: body.map(Body::Json),
                headers: Vec::new(),
            }),
            sending: None,
        }
    }

    /// The endpoint (`endpoints::REFRESH`, ...; none with `{id}`) with any body or none: for
    /// bodies its own method cannot send (a missing field, the wrong shape).
    pub fn call(&self, endpoint: Endpoint, token: impl Bearer, body: Option<Value>) -> Call {
        self.send(endpoint.method(), endpoint.path, token, body)
    }

    /// An endpoint with `{id}` in its path; `id` goes in as it is (tests send hostile ones).
    fn call_on(
        &self,
        endpoint: Endpoint,
        id: &str,
        token: impl Bearer,
        body: Option<Value>,
    ) -> Call {
        self.send(
            endpoint.method(),
            endpoint.path.replace("{id}", id),
            token,
            body,
        )
    }

    /// An endpoint with a query string (`query` as it is, without the `?`; empty for none),
    /// and `{id}` in its path if `id` is given.
    fn call_with_query(
        &self,
        endpoint: Endpoint,
        id: Option<&str>,
        query: &str,
        token: impl Bearer,
    ) -> Call {
        let mut path = match id {
            Some(id) => endpoint.path.replace("{id}", id),
            None => endpoint.path.to_string(),
        };
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        self.send(endpoint.method(), path, token, None)
    }
}

/// The endpoints, one method each, in `openapi.yaml`'s order. Bodies are what the endpoint's
/// request schema describes; a `POST` without one sends `{}`, as the SPA does.
impl Client {
    /// `GET /.well-known/jwks.json`: the keys that sign access tokens and ID tokens.
    pub fn jwks(&self) -> Call {
        self.call(endpoints::JWKS, NOBODY, None)
    }

    /// `GET /.well-known/openid-configuration`: the OpenID Provider's discovery document.
    pub fn openid_configuration(&self) -> Call {
        self.call(endpoints::OPENID_CONFIGURATION, NOBODY, None)
    }

    /// `GET /account`.
    pub fn account(&self, token: impl Bearer) -> Call {
        self.call(endpoints::ACCOUNT, token, None)
    }

    /// `PATCH /account`.
    pub fn update_account(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::UPDATE_ACCOUNT, token, Some(body))
    }

    /// `GET /account/apps`: the apps (OpenID Connect relying parties) with access.
    pub fn apps(&self, token: impl Bearer) -> Call {
        self.call(endpoints::APPS, token, None)
    }

    /// `DELETE /account/apps/{client_id}`.
    pub fn remove_app(&self, token: impl Bearer, client_id: &str) -> Call {
        let endpoint = endpoints::REMOVE_APP;
        self.send(
            endpoint.method(),
            endpoint.path.replace("{client_id}", client_id),
            token,
            None,
        )
    }

    /// `GET /account/api-tokens`.
    pub fn api_tokens(&self, token: impl Bearer) -> Call {
        self.call(endpoints::API_TOKENS, token, None)
    }

    /// `POST /account/api-tokens`.
    pub fn create_api_token(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::CREATE_API_TOKEN, token, Some(body))
    }

    /// `DELETE /account/api-tokens/{id}`.
    pub fn revoke_api_token(&self, token: impl Bearer, id: &str) -> Call {
        self.call_on(endpoints::REVOKE_API_TOKEN, id, token, None)
    }

    /// `GET /account/devices`.
    pub fn devices(&self, token: impl Bearer) -> Call {
        self.call(endpoints::DEVICES, token, None)
    }

    /// `DELETE /account/devices/{id}`.
    pub fn forget_device(&self, token: impl Bearer, id: &str) -> Call {
        self.call_on(endpoints::FORGET_DEVICE, id, token, None)
    }

    /// `POST /account/email`.
    pub fn change_email(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::CHANGE_EMAIL, token, Some(body))
    }

    /// `GET /account/events`, the newest page.
    pub fn events(&self, token: impl Bearer) -> Call {
        self.events_page(token, "")
    }

    /// `GET /account/events?{query}` (`limit=..&before=..`).
    pub fn events_page(&self, token: impl Bearer, query: &str) -> Call {
        self.call_with_query(endpoints::EVENTS, None, query, token)
    }

    /// `GET /account/passkeys`.
    pub fn passkeys(&self, token: impl Bearer) -> Call {
        self.call(endpoints::PASSKEYS, token, None)
    }

    /// `POST /account/passkeys/register/start`.
    pub fn start_passkey_registration(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::START_PASSKEY_REGISTRATION, token, Some(body))
    }

    /// `POST /account/passkeys/register/finish`.
    pub fn finish_passkey_registration(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::FINISH_PASSKEY_REGISTRATION, token, Some(body))
    }

    /// `DELETE /account/passkeys/{id}`, with the proof in `body` if any.
    pub fn remove_passkey(&self, token: impl Bearer, id: &str, body: Option<Value>) -> Call {
        self.call_on(endpoints::REMOVE_PASSKEY, id, token, body)
    }

    /// `PATCH /account/passkeys/{id}`.
    pub fn rename_passkey(&self, token: impl Bearer, id: &str, body: Value) -> Call {
        self.call_on(endpoints::RENAME_PASSKEY, id, token, Some(body))
    }

    /// `POST /account/password`.
    pub fn change_password(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::CHANGE_PASSWORD, token, Some(body))
    }

    /// `GET /account/sessions`.
    pub fn sessions(&self, token: impl Bearer) -> Call {
        self.call(endpoints::SESSIONS, token, None)
    }

    /// `POST /account/sessions/revoke-others`.
    pub fn revoke_other_sessions(&self, token: impl Bearer) -> Call {
        self.call(endpoints::REVOKE_OTHER_SESSIONS, token, Some(json!({})))
    }

    /// `DELETE /account/sessions/{id}`.
    pub fn end_session(&self, token: impl Bearer, id: &str) -> Call {
        self.call_on(endpoints::END_SESSION, id, token, None)
    }

    /// `POST /account/two-factor/enroll`.
    pub fn enroll_two_factor(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::ENROLL_TWO_FACTOR, token, Some(body))
    }

    /// `POST /account/two-factor/confirm`.
    pub fn confirm_two_factor(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::CONFIRM_TWO_FACTOR, token, Some(body))
    }

    /// `POST /account/two-factor/disable`.
    pub fn disable_two_factor(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::DISABLE_TWO_FACTOR, token, Some(body))
    }

    /// `POST /account/two-factor/recovery-codes`.
    pub fn regenerate_recovery_codes(&self, token: impl Bearer, body: Value) -> Call {
        self.call(endpoints::REGENERATE_RECOVERY_CODES, token, Some(body))
    }

    /// `POST /account/webauthn/options`: a passkey challenge to prove a privileged action.
    pub fn reauthentication_options(&self, token: impl Bearer) -> Call {
        self.call(endpoints::REAUTHENTICATION_OPTIONS, token, Some(json!({})))
    }

    /// `POST /auth/email/verify`.
    pub fn verify_email(&self, body: Value) -> Call {
        self.call(endpoints::VERIFY_EMAIL, NOBODY, Some(body))
    }

    /// `POST /auth/login` with any body (`username`, `password`, `device_token`, ...).
    pub fn log_in(&self, body: Value) -> Call {
        self.call(endpoints::LOG_IN, NOBODY, Some(body))
    }

    /// `POST /auth/login` with a username and password.
    pub fn login(&self, username: &str, password: &str) -> Call {
        self.log_in(json!({"username": username, "password": password}))
    }

    /// `POST /auth/logout`.
    pub fn log_out(&self, token: impl Bearer) -> Call {
        self.call(endpoints::LOG_OUT, token, None)
    }

    /// `POST /auth/not-me` with any body (`token`: a not-me link's).
    pub fn not_me(&self, body: Value) -> Call {
        self.call(endpoints::REPORT_NOT_ME, NOBODY, Some(body))
    }

    /// `POST /auth/otp` with any body (`challenge_token` and `code` or `recovery_code`).
    pub fn otp(&self, body: Value) -> Call {
        self.call(endpoints::VERIFY_OTP, NOBODY, Some(body))
    }

    /// `POST /auth/otp` with a challenge token and a code (strings, or the JSON values a test
    /// read them from).
    pub fn verify_otp(&self, challenge_token: impl Serialize, code: impl Serialize) -> Call {
        self.otp(json!({"challenge_token": challenge_token, "code": code}))
    }

    /// `POST /auth/passkey`: signs in with a passkey alone.
    pub fn sign_in_with_passkey(&self, body: Value) -> Call {
        self.call(endpoints::SIGN_IN_WITH_PASSKEY, NOBODY, Some(body))
    }

    /// `POST /auth/passkey/options`.
    pub fn passwordless_options(&self) -> Call {
        self.call(endpoints::PASSWORDLESS_OPTIONS, NOBODY, Some(json!({})))
    }

    /// `POST /auth/password-reset`.
    pub fn request_password_reset(&self, body: Value) -> Call {
        self.call(endpoints::REQUEST_PASSWORD_RESET, NOBODY, Some(body))
    }

    /// `POST /auth/password-reset/confirm`.
    pub fn confirm_password_reset(&self, body: Value) -> Call {
        self.call(endpoints::CONFIRM_PASSWORD_RESET, NOBODY, Some(body))
    }

    /// `POST /auth/password-reset/webauthn/options`.
    pub fn password_reset_options(&self, body: Value) -> Call {
        self.call(endpoints::PASSWORD_RESET_OPTIONS, NOBODY, Some(body))
    }

    /// `POST /auth/refresh` with the refresh token (any JSON, to send hostile ones) in the body.
    pub fn refresh(&self, refresh_token: Value) -> Call {
        self.call(
            endpoints::REFRESH,
            NOBODY,
            Some(json!({"refresh_token": refresh_token})),
        )
    }

    /// `POST /auth/register` with any body (`username`, `password`, `email`).
    pub fn register(&self, body: Value) -> Call {
        self.call(endpoints::REGISTER, NOBODY, Some(body))
    }

    /// `POST /auth/webauthn/options`: the passkey step of a sign-in.
    pub fn sign_in_options(&self, body: Value) -> Call {
        self.call(endpoints::SIGN_IN_OPTIONS, NOBODY, Some(body))
    }

    /// `GET /brand/{file}`: the logo `GET /config` names in `logo_url` (its last segment);
    /// `file` goes in as it is.
    pub fn brand_file(&self, file: &str) -> Call {
        let endpoint = endpoints::BRAND_FILE;
        self.send(
            endpoint.method(),
            endpoint.path.replace("{file}", file),
            NOBODY,
            None,
        )
    }

    /// `GET /config`.
    pub fn public_settings(&self) -> Call {
        self.call(endpoints::PUBLIC_SETTINGS, NOBODY, None)
    }

    /// `GET /health`.
    pub fn health(&self) -> Call {
        self.call(endpoints::HEALTH, NOBODY, None)
    }

    /// `GET /health/live`.
    pub fn liveness(&self) -> Call {
        self.call(endpoints::LIVENESS, NOBODY, None)
    }

    /// `GET /health/ready`.
    pub fn readiness(&self) -> Call {
        self.call(endpoints::READINESS, NOBODY, None)
    }

    /// `GET /openapi.json`.
    pub fn openapi(&self) -> Call {
        self.call(endpoints::OPENAPI, NOBODY, None)
    }

    /// `GET /oidc/authorization-requests/{id}`, signed in or not (`NOBODY`).
    pub fn authorization_request(&self, token: impl Bearer, id: &str) -> Call {
        self.call_on(endpoints::AUTHORIZATION_REQUEST, id, token, None)
    }

    /// `POST /oidc/authorization-requests/{id}/approve` (`consent`, and `code` or `webauthn`).
    pub fn approve_authorization_request(&self, token: impl Bearer, id: &str, body: Value) -> Call {
        self.call_on(
            endpoints::APPROVE_AUTHORIZATION_REQUEST,
            id,
            token,
            Some(body),
        )
    }

    /// `POST /oidc/authorization-requests/{id}/deny` with `reason` (`denied`, `no_session`).
    pub fn deny_authorization_request(&self, id: &str, reason: &str) -> Call {
        self.call_on(
            endpoints::DENY_AUTHORIZATION_REQUEST,
            id,
            NOBODY,
            Some(json!({ "reason": reason })),
        )
    }

    /// `GET /support/customers?{query}` (`query=..`; empty for none).
    pub fn search_customers(&self, token: impl Bearer, query: &str) -> Call {
        self.call_with_query(endpoints::SEARCH_CUSTOMERS, None, query, token)
    }

    /// `GET /support/customers/{id}/apps`.
    pub fn customer_apps(&self, token: impl Bearer, id: &str) -> Call {
        self.call_on(endpoints::CUSTOMER_APPS, id, token, None)
    }

    /// `GET /support/customers/{id}/events?{query}` (`limit=..&before=..`; empty for none).
    pub fn customer_events(&self, token: impl Bearer, id: &str, query: &str) -> Call {
        self.call_with_query(endpoints::CUSTOMER_EVENTS, Some(id), query, token)
    }

    /// `POST /support/customers/{id}/require-two-factor`.
    pub fn require_customer_two_factor(&self, token: impl Bearer, id: &str, body: Value) -> Call {
        self.call_on(
            endpoints::REQUIRE_CUSTOMER_TWO_FACTOR,
            id,
            token,
            Some(body),
        )
    }

    /// `POST /support/customers/{id}/require-two-factor/lift`.
    pub fn lift_customer_two_factor_requirement(
        &self,
        token: impl Bearer,
        id: &str,
        body: Value,
    ) -> Call {
        self.call_on(
            endpoints::LIFT_CUSTOMER_TWO_FACTOR_REQUIREMENT,
            id,
            token,
            Some(body),
        )
    }

    /// `POST /support/customers/{id}/two-factor/reset`.
    pub fn reset_customer_two_factor(&self, token: impl Bearer, id: &str, body: Value) -> Call {
        self.call_on(endpoints::RESET_CUSTOMER_TWO_FACTOR, id, token, Some(body))
    }

    /// `POST /support/customers/{id}/unlock`.
    pub fn unlock_customer(&self, token: impl Bearer, id: &str, body: Value) -> Call {
        self.call_on(endpoints::UNLOCK_CUSTOMER, id, token, Some(body))
    }
}

/// The OpenID Connect provider's protocol endpoints, which take query strings and forms.
impl Client {
    /// `GET /oauth2/authorize?{query}` (`query` as it is, to send hostile ones).
    pub fn authorize(&self, query: &str) -> Call {
        self.call_with_query(endpoints::AUTHORIZE, None, query, NOBODY)
    }

    /// `POST /oauth2/authorize` with these form fields.
    pub fn authorize_post(&self, fields: &[(&str, &str)]) -> Call {
        self.form(endpoints::AUTHORIZE_POST, fields)
    }

    /// `POST /oauth2/token` with these form fields (client authentication in the form, or
    /// none); add HTTP Basic with [`Call::basic_auth`].
    pub fn oidc_token(&self, fields: &[(&str, &str)]) -> Call {
        self.form(endpoints::OIDC_TOKEN, fields)
    }

    /// `GET /oauth2/userinfo` with a Bearer token.
    pub fn userinfo(&self, token: impl Bearer) -> Call {
        self.call(endpoints::USERINFO, token, None)
    }

    /// `POST /oauth2/userinfo` with these form fields (`access_token`).
    pub fn userinfo_post(&self, token: impl Bearer, fields: &[(&str, &str)]) -> Call {
        let mut call = self.form(endpoints::USERINFO_POST, fields);
        if let Some(token) = token.bearer() {
            call = call.header("authorization", &format!("Bearer {token}"));
        }
        call
    }

    /// `POST /oauth2/revoke` with these form fields.
    pub fn oidc_revoke(&self, fields: &[(&str, &str)]) -> Call {
        self.form(endpoints::OIDC_REVOKE, fields)
    }

    /// `GET /oauth2/logout?{query}`.
    pub fn oidc_logout(&self, query: &str) -> Call {
        self.call_with_query(endpoints::OIDC_LOGOUT, None, query, NOBODY)
    }

    /// `POST /oauth2/logout` with these form fields.
    pub fn oidc_logout_post(&self, fields: &[(&str, &str)]) -> Call {
        self.form(endpoints::OIDC_LOGOUT_POST, fields)
    }

    fn form(&self, endpoint: Endpoint, fields: &[(&str, &str)]) -> Call {
        self.send(endpoint.method(), endpoint.path, NOBODY, None)
            .raw_body(
                Some("application/x-www-form-urlencoded"),
                form_encoded(fields),
            )
    }
}

/// `a=1&b=x+y`, as a form body or query string.
pub fn form_encoded(fields: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params("http://form.invalid/", fields)
        .expect("form fields encode");
    url.query().unwrap_or_default().to_string()
}

enum Body {
    Json(Value),
    Raw {
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

/// One request, sent when first polled: `.await` it for the [`Reply`] (it panics if no answer
/// came), or call [`Call::outcome`] for the transport error instead.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call {
    request: Option<Request>,
    sending: Option<Pin<Box<dyn Future<Output = Reply> + Send>>>,
}

struct Request {
    client: Client,
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Body>,
    headers: Vec<(String, String)>,
}

/// A request that got no answer: what went wrong, and the time until it did.
#[derive(Debug)]
pub struct TransportError {
    pub message: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} (after {:?})", self.message, self.elapsed)
    }
}

impl Call {
    /// As a client at `ip`, through a proxy the server trusts (`X-Forwarded-For`).
    pub fn from_ip(self, ip: &str) -> Self {
        self.header("x-forwarded-for", ip)
    }

    /// With another header (a cookie, an origin, ...).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request()
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// With HTTP Basic authentication (`client_secret_basic`: both parts form-encoded first).
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        let encode = |part: &str| form_encoded(&[("", part)])[1..].to_string();
        let joined = format!("{}:{}", encode(user), encode(password));
        self.header(
            "authorization",
            &format!("Basic {}", base64_standard(joined.as_bytes())),
        )
    }

    /// With these bytes as the body, under this content type (or none), instead of JSON.
    pub fn raw_body(mut self, content_type: Option<&str>, bytes: impl Into<Vec<u8>>) -> Self {
        self.request().body = Some(Body::Raw {
            content_type: content_type.map(str::to_string),
            bytes: bytes.into(),
        });
        self
    }

    /// The method and path, as a test names the request in a message.
    pub fn describe(&self) -> String {
        match &self.request {
            Some(request) => format!("{} {}", request.method, request.path),
            None => "a sent request".to_string(),
        }
    }

    fn request(&mut self) -> &mut Request {
        self.request
            .as_mut()
            .expect("a call is changed only before it is sent")
    }

    /// Sends the request; answers the reply, or the transport error if there was none.
    pub async fn outcome(mut self) -> Result<Reply, TransportError> {
        let request = self.request.take().expect("a call is sent once");
        request.send().await
    }
}

impl Request {
    async fn send(self) -> Result<Reply, TransportError> {
        let strict_json = self.client.strict_json;
        let url = format!("{}{}", self.client.base_url(), self.path);
        let mut request = self.client.http.request(self.method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match self.body {
            Some(Body::Json(body)) => request = request.json(&body),
            Some(Body::Raw {
                content_type,
                bytes,
            }) => {
                if let Some(content_type) = content_type {
                    request = request.header("content-type", content_type);
                }
                request = request.body(bytes)
            }
            None => {}
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let started = Instant::now();
        let failed = |error: reqwest::Error| TransportError {
            message: error.to_string(),
            elapsed: started.elapsed(),
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(failed)?.to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let elapsed = started.elapsed();
        // The logo and the OpenID Connect error page are the answers that are no JSON.
        let image = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|content_type| {
                content_type.starts_with("image/") || content_type.starts_with("text/html")
            });
        let body = if text.is_empty() || image {
            Value::Null
        } else if strict_json {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text:?}"))
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Ok(Reply {
            status,
            headers,
            text,
            bytes,
            body,
            elapsed,
        })
    }
}

impl Future for Call {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Reply> {
        if let Some(request) = self.request.take() {
            let described = format!("{} {}", request.method, request.path);
            self.sending = Some(Box::pin(async move {
                request
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("{described}: no answer: {error}"))
            }));
        }
        self.sending
            .as_mut()
            .expect("a call is polled after it is sent")
            .as_mut()
            .poll(context)
    }
}

fn base64_standard(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An answer: status, headers, the body's text and its JSON (`Null` if empty or not JSON),
/// and the time from sending to the last byte.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as it came (an image's bytes; `text` is their lossy UTF-8).
    pub bytes: Vec<u8>,
    pub body: Value,
    pub elapsed: Duration,
}

impl Reply {
    /// A problem document's `code`, or `""`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem document (RFC 9457) with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(self.body["status"].as_u64(), Some(status as u64));
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
    }

    /// Asserts a success; answers the body.
    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert!(
            self.status.is_success(),
            "expected success, got {}: {}",
            self.status,
            self.body
        );
        &self.body
    }

    /// Asserts this status; answers the body.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        &self.body
    }

    /// The `Retry-After` header in seconds, if any.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers
            .get(reqwest::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// A string field of the JSON body.
    pub fn string_field(&self, name: &str) -> Option<String> {
        self.body[name].as_str().map(str::to_string)
    }
}
