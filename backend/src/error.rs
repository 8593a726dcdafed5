//! The one error type of the API, and its mapping to RFC 9457 problem documents.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::password_strength::{NewPasswordRefused, PasswordFeedback};

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON or does not have the expected shape: {0}")]
    MalformedBody(String),
    #[error("the request body does not match the expected fields and types: {0}")]
    InvalidBody(String),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be sent as application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    InvalidQuery(String),
    #[error("no such resource")]
    NotFound,
    #[error("the password is too easy to guess; `feedback` says why")]
    PasswordTooWeak {
        field: &'static str,
        feedback: PasswordFeedback,
    },
    #[error("this password appears in known data breaches; choose another one")]
    PasswordBreached { field: &'static str },
    #[error("this API token may not be used from this network")]
    NetworkNotAllowed,
    #[error("this method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("the code must be six digits")]
    InvalidCodeFormat,
    #[error("the recovery code must look like xxxxx-xxxxx")]
    InvalidRecoveryCodeFormat,
    #[error("the username or password is wrong")]
    InvalidCredentials,
    #[error("the access token is missing, invalid, expired or revoked")]
    InvalidToken,
    #[error("the refresh token is missing, invalid, expired or revoked")]
    InvalidRefreshToken,
    #[error("the challenge is invalid, expired or already used; sign in again")]
    InvalidChallenge,
    #[error("the code is wrong or has been used already")]
    InvalidCode,
    #[error("the current password is wrong")]
    InvalidPassword,
    #[error("this action needs a recent sign-in; prove it with your code or password")]
    ReauthenticationRequired,
    /// Answered as `reauthentication_required`: the client's prompt for a proof is the same.
    #[error("this action needs your code, a passkey or a recovery code in the request, however recent the sign-in")]
    FreshSecondFactorRequired,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("sign-up is disabled on this server")]
    SignupDisabled,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("two-factor authentication is already on")]
    TwoFactorAlreadyEnabled,
    #[error("two-factor authentication is off")]
    TwoFactorNotEnabled,
    #[error("there is no two-factor enrolment to confirm; start again")]
    NoPendingEnrollment,
    #[error("too many wrong codes for this sign-in; sign in again with your password")]
    ChallengeExhausted,
    #[error("this action needs a session signed in with a second factor; switch two-factor on and sign in again")]
    TwoFactorRequired,
    #[error("send this request with Content-Type: application/json or an X-Requested-With header")]
    CsrfCheckFailed,
    #[error("the link is unknown, used or expired; ask for a new one")]
    InvalidLink,
    #[error("this account has two-factor on: send the six-digit code or a recovery code too")]
    SecondFactorRequired,
    #[error("an API token cannot do this; sign in, or use a token with the needed scope")]
    InsufficientScope,
    #[error("the passkey's answer did not verify (wrong site, expired or used ceremony, another account's key, or a cloned key); try again")]
    PasskeyRefused,
    #[error("this passkey or security key is registered already")]
    PasskeyAlreadyRegistered,
    #[error("this account has the most passkeys it may have; remove one first")]
    TooManyPasskeys,
    #[error("this account has no passkey; use a code or a recovery code")]
    NoPasskeys,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("the server is busy; try again in {retry_after_secs} seconds")]
    Overloaded { retry_after_secs: u64 },
    #[error("the database is unavailable; try again shortly")]
    DatabaseUnavailable,
    /// The message is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    /// The problem table: each variant's stable machine-readable code (what integrators
    /// switch on), HTTP status and title, written once, one line per variant.
    #[rustfmt::skip]
    fn problem(&self) -> (ProblemCode, StatusCode, &'static str) {
        use ProblemCode as Code;
        use StatusCode as Status;
        match self {
            Self::MalformedBody(_) => (Code::MalformedRequest, Status::BAD_REQUEST, "Malformed request"),
            Self::InvalidBody(_) => (Code::InvalidBody, Status::UNPROCESSABLE_ENTITY, "Invalid input"),
            Self::PayloadTooLarge { .. } => (Code::PayloadTooLarge, Status::PAYLOAD_TOO_LARGE, "Request body too large"),
            Self::UnsupportedMediaType => (Code::UnsupportedMediaType, Status::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
            Self::InvalidQuery(_) => (Code::InvalidQuery, Status::BAD_REQUEST, "Malformed request"),
            Self::NotFound => (Code::NotFound, Status::NOT_FOUND, "Not found"),
            Self::MethodNotAllowed => (Code::MethodNotAllowed, Status::METHOD_NOT_ALLOWED, "Method not allowed"),
            Self::Validation { .. } => (Code::ValidationFailed, Status::UNPROCESSABLE_ENTITY, "Invalid input"),
            Self::PasswordTooWeak { .. } => (Code::PasswordTooWeak, Status::UNPROCESSABLE_ENTITY, "Password too weak"),
            Self::PasswordBreached { .. } => (Code::PasswordBreached, Status::UNPROCESSABLE_ENTITY, "Password breached"),
            Self::NetworkNotAllowed => (Code::NetworkNotAllowed, Status::FORBIDDEN, "Network not allowed"),
            Self::InvalidCodeFormat => (Code::InvalidCodeFormat, Status::UNPROCESSABLE_ENTITY, "Invalid code format"),
            Self::InvalidRecoveryCodeFormat => (Code::InvalidRecoveryCodeFormat, Status::UNPROCESSABLE_ENTITY, "Invalid code format"),
            Self::InvalidCredentials => (Code::InvalidCredentials, Status::UNAUTHORIZED, "Invalid credentials"),
            Self::InvalidToken => (Code::InvalidToken, Status::UNAUTHORIZED, "Invalid token"),
            Self::InvalidRefreshToken => (Code::InvalidRefreshToken, Status::UNAUTHORIZED, "Invalid token"),
            Self::InvalidChallenge => (Code::InvalidChallenge, Status::UNAUTHORIZED, "Invalid challenge"),
            Self::InvalidCode => (Code::InvalidCode, Status::BAD_REQUEST, "Invalid code"),
            Self::InvalidPassword => (Code::InvalidPassword, Status::BAD_REQUEST, "Invalid password"),
            Self::ReauthenticationRequired | Self::FreshSecondFactorRequired => (Code::ReauthenticationRequired, Status::FORBIDDEN, "Reauthentication required"),
            Self::Forbidden => (Code::Forbidden, Status::FORBIDDEN, "Forbidden"),
            Self::SignupDisabled => (Code::SignupDisabled, Status::FORBIDDEN, "Sign-up disabled"),
            Self::UsernameTaken => (Code::UsernameTaken, Status::CONFLICT, "Username taken"),
            Self::TwoFactorAlreadyEnabled => (Code::TwoFactorAlreadyEnabled, Status::CONFLICT, "Conflict"),
            Self::TwoFactorNotEnabled => (Code::TwoFactorNotEnabled, Status::CONFLICT, "Conflict"),
            Self::NoPendingEnrollment => (Code::NoPendingEnrollment, Status::CONFLICT, "Conflict"),
            Self::ChallengeExhausted => (Code::ChallengeExhausted, Status::UNAUTHORIZED, "Challenge exhausted"),
            Self::TwoFactorRequired => (Code::TwoFactorRequired, Status::FORBIDDEN, "Two-factor required"),
            Self::CsrfCheckFailed => (Code::CsrfCheckFailed, Status::FORBIDDEN, "Cross-site request refused"),
            Self::InvalidLink => (Code::InvalidToken, Status::BAD_REQUEST, "Invalid link"),
            Self::SecondFactorRequired => (Code::SecondFactorRequired, Status::FORBIDDEN, "Second factor required"),
            Self::InsufficientScope => (Code::InsufficientScope, Status::FORBIDDEN, "Insufficient scope"),
            Self::PasskeyRefused => (Code::PasskeyRefused, Status::BAD_REQUEST, "Passkey refused"),
            Self::PasskeyAlreadyRegistered => (Code::PasskeyAlreadyRegistered, Status::CONFLICT, "Conflict"),
            Self::TooManyPasskeys => (Code::TooManyPasskeys, Status::CONFLICT, "Conflict"),
            Self::NoPasskeys => (Code::NoPasskeys, Status::CONFLICT, "Conflict"),
            Self::TooManyAttempts { .. } => (Code::TooManyAttempts, Status::TOO_MANY_REQUESTS, "Too many attempts"),
            Self::Overloaded { .. } => (Code::ServerBusy, Status::SERVICE_UNAVAILABLE, "Server busy"),
            Self::DatabaseUnavailable => (Code::DatabaseUnavailable, Status::SERVICE_UNAVAILABLE, "Service unavailable"),
            Self::Internal(_) => (Code::InternalError, Status::INTERNAL_SERVER_ERROR, "Internal server error"),
        }
    }

    /// The stable machine-readable code integrators switch on.
    pub fn code(&self) -> ProblemCode {
        self.problem().0
    }

    fn title(&self) -> &'static str {
        self.problem().2
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts { retry_after_secs } | Self::Overloaded { retry_after_secs } => {
                Some((*retry_after_secs).max(1))
            }
            Self::DatabaseUnavailable => Some(5),
            _ => None,
        }
    }
}

/// Database failures the use case did not turn into a refusal of its own: unavailable or busy
/// is `503` (retryable), anything else an internal error.
impl From<crate::db::DbError> for ApiError {
    fn from(error: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match error {
            DbError::Unavailable => Self::DatabaseUnavailable,
            DbError::Duplicate(message) | DbError::Other(message) => Self::Internal(message),
        }
    }
}

/// A token not accepted: an access token is `invalid_token`, a sign-in step token
/// `invalid_challenge`; a key or signing fault is internal.
impl From<crate::auth::tokens::TokenError> for ApiError {
    fn from(error: crate::auth::tokens::TokenError) -> Self {
        use crate::auth::tokens::TokenError;
        match error {
            TokenError::InvalidAccess => Self::InvalidToken,
            TokenError::InvalidStep => Self::InvalidChallenge,
            TokenError::Keys(message) => Self::Internal(message),
        }
    }
}

/// A stored secret that does not open is the server's fault, never the caller's.
impl From<crate::auth::secret_box::SecretBoxError> for ApiError {
    fn from(error: crate::auth::secret_box::SecretBoxError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<crate::auth::qr::QrError> for ApiError {
    fn from(error: crate::auth::qr::QrError) -> Self {
        Self::Internal(error.to_string())
    }
}

/// A full hashing queue is `503` with `Retry-After`; anything else internal.
impl From<crate::auth::password::HashingError> for ApiError {
    fn from(error: crate::auth::password::HashingError) -> Self {
        use crate::auth::password::HashingError;
        match error {
            HashingError::Overloaded { retry_after_secs } => Self::Overloaded { retry_after_secs },
            HashingError::Failed(message) => Self::Internal(message),
        }
    }
}

/// A new password refused by the password rules (`service::password_policy`).
impl From<NewPasswordRefused> for ApiError {
    fn from(refused: NewPasswordRefused) -> Self {
        match refused {
            NewPasswordRefused::TooWeak { field, feedback } => {
                Self::PasswordTooWeak { field, feedback }
            }
            NewPasswordRefused::Breached { field } => Self::PasswordBreached { field },
        }
    }
}

impl From<crate::domain::InvalidInput> for ApiError {
    fn from(invalid: crate::domain::InvalidInput) -> Self {
        use crate::domain::InvalidInput;
        match invalid {
            InvalidInput::Field { field, message } => Self::Validation { field, message },
            InvalidInput::CodeFormat => Self::InvalidCodeFormat,
            InvalidInput::RecoveryCodeFormat => Self::InvalidRecoveryCodeFormat,
        }
    }
}

/// Declares [`ProblemCode`] from one list, so each code's wire text is written once (the
/// serde name the OpenAPI schema shows and `as_str` are the same literal).
macro_rules! problem_codes {
    ($($variant:ident = $text:tt,)*) => {
        /// Every `code` a problem document can carry: integrators switch on these.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
        pub enum ProblemCode {
            $(
                #[serde(rename = $text)]
                $variant,
            )*
        }

        impl ProblemCode {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }
    };
}

problem_codes! {
    MalformedRequest = "malformed_request",
    InvalidBody = "invalid_body",
    PayloadTooLarge = "payload_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    InvalidQuery = "invalid_query",
    NotFound = "not_found",
    MethodNotAllowed = "method_not_allowed",
    ValidationFailed = "validation_failed",
    PasswordTooWeak = "password_too_weak",
    PasswordBreached = "password_breached",
    NetworkNotAllowed = "network_not_allowed",
    InvalidCodeFormat = "invalid_code_format",
    InvalidRecoveryCodeFormat = "invalid_recovery_code_format",
    InvalidCredentials = "invalid_credentials",
    InvalidToken = "invalid_token",
    InvalidRefreshToken = "invalid_refresh_token",
    InvalidChallenge = "invalid_challenge",
    InvalidCode = "invalid_code",
    InvalidPassword = "invalid_password",
    ReauthenticationRequired = "reauthentication_required",
    Forbidden = "forbidden",
    SignupDisabled = "signup_disabled",
    UsernameTaken = "username_taken",
    TwoFactorAlreadyEnabled = "two_factor_already_enabled",
    TwoFactorNotEnabled = "two_factor_not_enabled",
    NoPendingEnrollment = "no_pending_enrollment",
    TooManyAttempts = "too_many_attempts",
    ChallengeExhausted = "challenge_exhausted",
    TwoFactorRequired = "two_factor_required",
    CsrfCheckFailed = "csrf_check_failed",
    SecondFactorRequired = "second_factor_required",
    InsufficientScope = "insufficient_scope",
    PasskeyRefused = "passkey_refused",
    PasskeyAlreadyRegistered = "passkey_already_registered",
    TooManyPasskeys = "too_many_passkeys",
    NoPasskeys = "no_passkeys",
    ServerBusy = "server_busy",
    DatabaseUnavailable = "database_unavailable",
    InternalError = "internal_error",
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "https://custadmin.example/problems/invalid_credentials",
    "title": "Invalid credentials",
    "status": 401,
    "detail": "the username or password is wrong",
    "code": "invalid_credentials"
}))]
pub struct Problem {
    /// URI naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case machine code.
    pub code: ProblemCode,
    /// The input field at fault, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds until a throttled call may be retried (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// With `password_too_weak`: why the password is guessable and how to do better, as
    /// keys a client translates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<PasswordFeedback>,
}

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().1
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Self::Internal(message) = self {
            tracing::error!(%message, "internal error");
        }
        let problem = Problem {
            problem_type: format!(
                "https://custadmin.example/problems/{}",
                self.code().as_str()
            ),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code(),
            field: match self {
                Self::Validation { field, .. }
                | Self::PasswordTooWeak { field, .. }
                | Self::PasswordBreached { field } => Some((*field).to_string()),
                _ => None,
            },
            retry_after: self.retry_after_secs(),
            feedback: match self {
                Self::PasswordTooWeak { feedback, .. } => Some(feedback.clone()),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        if matches!(self, Self::InvalidToken) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}
