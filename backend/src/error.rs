//! The one error type of the API, and its mapping to RFC 9457 problem documents.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

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

    /// The stable machine-readable code integrators switch on.
    pub fn code(&self) -> ProblemCode {
        match self {
            Self::MalformedBody(_) => ProblemCode::MalformedRequest,
            Self::InvalidBody(_) => ProblemCode::InvalidBody,
            Self::PayloadTooLarge { .. } => ProblemCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ProblemCode::UnsupportedMediaType,
            Self::InvalidQuery(_) => ProblemCode::InvalidQuery,
            Self::NotFound => ProblemCode::NotFound,
            Self::MethodNotAllowed => ProblemCode::MethodNotAllowed,
            Self::Validation { .. } => ProblemCode::ValidationFailed,
            Self::InvalidCodeFormat => ProblemCode::InvalidCodeFormat,
            Self::InvalidRecoveryCodeFormat => ProblemCode::InvalidRecoveryCodeFormat,
            Self::InvalidCredentials => ProblemCode::InvalidCredentials,
            Self::InvalidToken => ProblemCode::InvalidToken,
            Self::InvalidRefreshToken => ProblemCode::InvalidRefreshToken,
            Self::InvalidChallenge => ProblemCode::InvalidChallenge,
            Self::InvalidCode => ProblemCode::InvalidCode,
            Self::InvalidPassword => ProblemCode::InvalidPassword,
            Self::ReauthenticationRequired | Self::FreshSecondFactorRequired => {
                ProblemCode::ReauthenticationRequired
            }
            Self::Forbidden => ProblemCode::Forbidden,
            Self::SignupDisabled => ProblemCode::SignupDisabled,
            Self::UsernameTaken => ProblemCode::UsernameTaken,
            Self::TwoFactorAlreadyEnabled => ProblemCode::TwoFactorAlreadyEnabled,
            Self::TwoFactorNotEnabled => ProblemCode::TwoFactorNotEnabled,
            Self::NoPendingEnrollment => ProblemCode::NoPendingEnrollment,
            Self::TooManyAttempts { .. } => ProblemCode::TooManyAttempts,
            Self::ChallengeExhausted => ProblemCode::ChallengeExhausted,
            Self::TwoFactorRequired => ProblemCode::TwoFactorRequired,
            Self::CsrfCheckFailed => ProblemCode::CsrfCheckFailed,
            Self::InvalidLink => ProblemCode::InvalidToken,
            Self::SecondFactorRequired => ProblemCode::SecondFactorRequired,
            Self::InsufficientScope => ProblemCode::InsufficientScope,
            Self::PasskeyRefused => ProblemCode::PasskeyRefused,
            Self::PasskeyAlreadyRegistered => ProblemCode::PasskeyAlreadyRegistered,
            Self::TooManyPasskeys => ProblemCode::TooManyPasskeys,
            Self::NoPasskeys => ProblemCode::NoPasskeys,
            Self::Overloaded { .. } => ProblemCode::ServerBusy,
            Self::DatabaseUnavailable => ProblemCode::DatabaseUnavailable,
            Self::Internal(_) => ProblemCode::InternalError,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) | Self::InvalidQuery(_) => "Malformed request",
            Self::PayloadTooLarge { .. } => "Request body too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Validation { .. } | Self::InvalidBody(_) => "Invalid input",
            Self::InvalidCodeFormat | Self::InvalidRecoveryCodeFormat => "Invalid code format",
            Self::InvalidCredentials => "Invalid credentials",
            Self::InvalidToken | Self::InvalidRefreshToken => "Invalid token",
            Self::InvalidChallenge => "Invalid challenge",
            Self::InvalidCode => "Invalid code",
            Self::InvalidPassword => "Invalid password",
            Self::ReauthenticationRequired | Self::FreshSecondFactorRequired => {
                "Reauthentication required"
            }
            Self::Forbidden => "Forbidden",
            Self::SignupDisabled => "Sign-up disabled",
            Self::UsernameTaken => "Username taken",
            Self::TwoFactorAlreadyEnabled
            | Self::TwoFactorNotEnabled
            | Self::NoPendingEnrollment => "Conflict",
            Self::TooManyAttempts { .. } => "Too many attempts",
            Self::ChallengeExhausted => "Challenge exhausted",
            Self::TwoFactorRequired => "Two-factor required",
            Self::CsrfCheckFailed => "Cross-site request refused",
            Self::InvalidLink => "Invalid link",
            Self::SecondFactorRequired => "Second factor required",
            Self::InsufficientScope => "Insufficient scope",
            Self::PasskeyRefused => "Passkey refused",
            Self::PasskeyAlreadyRegistered | Self::TooManyPasskeys | Self::NoPasskeys => "Conflict",
            Self::Overloaded { .. } => "Server busy",
            Self::DatabaseUnavailable => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
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

/// Every `code` a problem document can carry: integrators switch on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    MalformedRequest,
    InvalidBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidQuery,
    NotFound,
    MethodNotAllowed,
    ValidationFailed,
    InvalidCodeFormat,
    InvalidRecoveryCodeFormat,
    InvalidCredentials,
    InvalidToken,
    InvalidRefreshToken,
    InvalidChallenge,
    InvalidCode,
    InvalidPassword,
    ReauthenticationRequired,
    Forbidden,
    SignupDisabled,
    UsernameTaken,
    TwoFactorAlreadyEnabled,
    TwoFactorNotEnabled,
    NoPendingEnrollment,
    TooManyAttempts,
    ChallengeExhausted,
    TwoFactorRequired,
    CsrfCheckFailed,
    SecondFactorRequired,
    InsufficientScope,
    PasskeyRefused,
    PasskeyAlreadyRegistered,
    TooManyPasskeys,
    NoPasskeys,
    ServerBusy,
    DatabaseUnavailable,
    InternalError,
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::InvalidBody => "invalid_body",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidQuery => "invalid_query",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ValidationFailed => "validation_failed",
            Self::InvalidCodeFormat => "invalid_code_format",
            Self::InvalidRecoveryCodeFormat => "invalid_recovery_code_format",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidToken => "invalid_token",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::InvalidChallenge => "invalid_challenge",
            Self::InvalidCode => "invalid_code",
            Self::InvalidPassword => "invalid_password",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::Forbidden => "forbidden",
            Self::SignupDisabled => "signup_disabled",
            Self::UsernameTaken => "username_taken",
            Self::TwoFactorAlreadyEnabled => "two_factor_already_enabled",
            Self::TwoFactorNotEnabled => "two_factor_not_enabled",
            Self::NoPendingEnrollment => "no_pending_enrollment",
            Self::TooManyAttempts => "too_many_attempts",
            Self::ChallengeExhausted => "challenge_exhausted",
            Self::TwoFactorRequired => "two_factor_required",
            Self::CsrfCheckFailed => "csrf_check_failed",
            Self::SecondFactorRequired => "second_factor_required",
            Self::InsufficientScope => "insufficient_scope",
            Self::PasskeyRefused => "passkey_refused",
            Self::PasskeyAlreadyRegistered => "passkey_already_registered",
            Self::TooManyPasskeys => "too_many_passkeys",
            Self::NoPasskeys => "no_passkeys",
            Self::ServerBusy => "server_busy",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::InternalError => "internal_error",
        }
    }
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
}

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_) | Self::InvalidQuery(_) | Self::InvalidLink => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidCode | Self::InvalidPassword | Self::PasskeyRefused => {
                StatusCode::BAD_REQUEST
            }
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Validation { .. }
            | Self::InvalidBody(_)
            | Self::InvalidCodeFormat
            | Self::InvalidRecoveryCodeFormat => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidCredentials
            | Self::InvalidToken
            | Self::InvalidRefreshToken
            | Self::InvalidChallenge
            | Self::ChallengeExhausted => StatusCode::UNAUTHORIZED,
            Self::ReauthenticationRequired
            | Self::FreshSecondFactorRequired
            | Self::Forbidden
            | Self::SignupDisabled
            | Self::TwoFactorRequired
            | Self::CsrfCheckFailed
            | Self::SecondFactorRequired
            | Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::UsernameTaken
            | Self::TwoFactorAlreadyEnabled
            | Self::TwoFactorNotEnabled
            | Self::NoPendingEnrollment
            | Self::PasskeyAlreadyRegistered
            | Self::TooManyPasskeys
            | Self::NoPasskeys => StatusCode::CONFLICT,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded { .. } | Self::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
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
                Self::Validation { field, .. } => Some((*field).to_string()),
                _ => None,
            },
            retry_after: self.retry_after_secs(),
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
