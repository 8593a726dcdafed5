//! The HTTP edge of errors: [`ApiError`], what a request can come to instead of its answer,
//! and its one mapping to RFC 9457 problem documents. The edge's own findings (a body that
//! does not parse, a path no route takes, ...) are its variants; everything a use case answers
//! arrives whole as [`ServiceError`] and is mapped here, nowhere else.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::password_strength::{NewPasswordRefused, PasswordFeedback};
use crate::domain::InvalidInput;
use crate::service::error::{Refusal, ServiceError};

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
    /// No route takes the path, or a path id is no id.
    #[error("no such resource")]
    NotFound,
    #[error("this method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("send this request with Content-Type: application/json or an X-Requested-With header")]
    CsrfCheckFailed,
    /// The instance should not be sent traffic; the text names every check that failed.
    #[error("not ready: {0}")]
    NotReady(String),
    /// What a use case answered (or an extractor, refusing the way a use case would).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self::Service(refusal.into())
    }
}

impl From<InvalidInput> for ApiError {
    fn from(invalid: InvalidInput) -> Self {
        Self::Service(invalid.into())
    }
}

impl ApiError {
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Service(ServiceError::internal(message))
    }

    /// The problem table: each variant's stable machine-readable code (what integrators
    /// switch on), HTTP status and title, written once, one line per variant: the edge's own,
    /// then input that does not parse, each refusal of a use case, and the faults.
    #[rustfmt::skip]
    fn problem(&self) -> (ProblemCode, StatusCode, &'static str) {
        use ProblemCode as Code;
        use Refusal as No;
        use ServiceError::{DatabaseUnavailable, Internal, Invalid, Overloaded, Refused};
        use StatusCode as Status;
        match self {
            Self::MalformedBody(_) => (Code::MalformedRequest, Status::BAD_REQUEST, "Malformed request"),
            Self::InvalidBody(_) => (Code::InvalidBody, Status::UNPROCESSABLE_ENTITY, "Invalid input"),
            Self::PayloadTooLarge { .. } => (Code::PayloadTooLarge, Status::PAYLOAD_TOO_LARGE, "Request body too large"),
            Self::UnsupportedMediaType => (Code::UnsupportedMediaType, Status::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
            Self::InvalidQuery(_) => (Code::InvalidQuery, Status::BAD_REQUEST, "Malformed request"),
            Self::NotFound => (Code::NotFound, Status::NOT_FOUND, "Not found"),
            Self::MethodNotAllowed => (Code::MethodNotAllowed, Status::METHOD_NOT_ALLOWED, "Method not allowed"),
            Self::CsrfCheckFailed => (Code::CsrfCheckFailed, Status::FORBIDDEN, "Cross-site request refused"),
            Self::NotReady(_) => (Code::NotReady, Status::SERVICE_UNAVAILABLE, "Not ready"),

            Self::Service(Invalid(InvalidInput::Field { .. })) => (Code::ValidationFailed, Status::UNPROCESSABLE_ENTITY, "Invalid input"),
            Self::Service(Invalid(InvalidInput::CodeFormat)) => (Code::InvalidCodeFormat, Status::UNPROCESSABLE_ENTITY, "Invalid code format"),
            Self::Service(Invalid(InvalidInput::RecoveryCodeFormat)) => (Code::InvalidRecoveryCodeFormat, Status::UNPROCESSABLE_ENTITY, "Invalid code format"),

            Self::Service(Refused(No::WrongCredentials)) => (Code::InvalidCredentials, Status::UNAUTHORIZED, "Invalid credentials"),
            Self::Service(Refused(No::WrongPassword)) => (Code::InvalidPassword, Status::BAD_REQUEST, "Invalid password"),
            Self::Service(Refused(No::NewPassword(NewPasswordRefused::TooWeak { .. }))) => (Code::PasswordTooWeak, Status::UNPROCESSABLE_ENTITY, "Password too weak"),
            Self::Service(Refused(No::NewPassword(NewPasswordRefused::Breached { .. }))) => (Code::PasswordBreached, Status::UNPROCESSABLE_ENTITY, "Password breached"),
            Self::Service(Refused(No::NetworkNotAllowed)) => (Code::NetworkNotAllowed, Status::FORBIDDEN, "Network not allowed"),
            Self::Service(Refused(No::PasswordSignInBlocked)) => (Code::PasswordSignInBlocked, Status::FORBIDDEN, "Password sign-in blocked"),
            Self::Service(Refused(No::WrongCode)) => (Code::InvalidCode, Status::BAD_REQUEST, "Invalid code"),
            Self::Service(Refused(No::PasskeyRefused)) => (Code::PasskeyRefused, Status::BAD_REQUEST, "Passkey refused"),
            Self::Service(Refused(No::InvalidToken)) => (Code::InvalidToken, Status::UNAUTHORIZED, "Invalid token"),
            Self::Service(Refused(No::InvalidRefreshToken)) => (Code::InvalidRefreshToken, Status::UNAUTHORIZED, "Invalid token"),
            Self::Service(Refused(No::UnknownChallenge)) => (Code::InvalidChallenge, Status::UNAUTHORIZED, "Invalid challenge"),
            Self::Service(Refused(No::ChallengeExhausted)) => (Code::ChallengeExhausted, Status::UNAUTHORIZED, "Challenge exhausted"),
            Self::Service(Refused(No::InvalidLink)) => (Code::InvalidToken, Status::BAD_REQUEST, "Invalid link"),
            Self::Service(Refused(No::ReauthenticationRequired | No::FreshSecondFactorRequired)) => (Code::ReauthenticationRequired, Status::FORBIDDEN, "Reauthentication required"),
            Self::Service(Refused(No::SecondFactorRequired)) => (Code::SecondFactorRequired, Status::FORBIDDEN, "Second factor required"),
            Self::Service(Refused(No::TwoFactorRequired)) => (Code::TwoFactorRequired, Status::FORBIDDEN, "Two-factor required"),
            Self::Service(Refused(No::TwoFactorSetupRequired)) => (Code::TwoFactorSetupRequired, Status::FORBIDDEN, "Two-factor set-up required"),
            Self::Service(Refused(No::TwoFactorAlreadyEnabled)) => (Code::TwoFactorAlreadyEnabled, Status::CONFLICT, "Conflict"),
            Self::Service(Refused(No::TwoFactorNotEnabled)) => (Code::TwoFactorNotEnabled, Status::CONFLICT, "Conflict"),
            Self::Service(Refused(No::NoPendingEnrollment)) => (Code::NoPendingEnrollment, Status::CONFLICT, "Conflict"),
            Self::Service(Refused(No::PasskeyAlreadyRegistered)) => (Code::PasskeyAlreadyRegistered, Status::CONFLICT, "Conflict"),
            Self::Service(Refused(No::TooManyPasskeys)) => (Code::TooManyPasskeys, Status::CONFLICT, "Conflict"),
            Self::Service(Refused(No::NoPasskeys)) => (Code::NoPasskeys, Status::CONFLICT, "Conflict"),
            Self::Service(Refused(No::InsufficientScope)) => (Code::InsufficientScope, Status::FORBIDDEN, "Insufficient scope"),
            Self::Service(Refused(No::Forbidden)) => (Code::Forbidden, Status::FORBIDDEN, "Forbidden"),
            Self::Service(Refused(No::SignupDisabled)) => (Code::SignupDisabled, Status::FORBIDDEN, "Sign-up disabled"),
            Self::Service(Refused(No::UsernameTaken)) => (Code::UsernameTaken, Status::CONFLICT, "Username taken"),
            Self::Service(Refused(No::NotFound)) => (Code::NotFound, Status::NOT_FOUND, "Not found"),
            Self::Service(Refused(No::StepUpRequired)) => (Code::StepUpRequired, Status::FORBIDDEN, "Step-up required"),
            Self::Service(Refused(No::ConsentRequired)) => (Code::ConsentRequired, Status::CONFLICT, "Consent required"),
            // Answered as OAuth errors at the protocol endpoints; here only for completeness.
            Self::Service(Refused(No::InvalidGrant)) => (Code::InvalidToken, Status::BAD_REQUEST, "Invalid grant"),
            Self::Service(Refused(No::InvalidScope)) => (Code::ValidationFailed, Status::BAD_REQUEST, "Invalid scope"),
            Self::Service(Refused(No::TooManyAttempts { .. })) => (Code::TooManyAttempts, Status::TOO_MANY_REQUESTS, "Too many attempts"),

            Self::Service(DatabaseUnavailable) => (Code::DatabaseUnavailable, Status::SERVICE_UNAVAILABLE, "Service unavailable"),
            Self::Service(Overloaded { .. }) => (Code::ServerBusy, Status::SERVICE_UNAVAILABLE, "Server busy"),
            Self::Service(Internal(_)) => (Code::InternalError, Status::INTERNAL_SERVER_ERROR, "Internal server error"),
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
            Self::Service(
                ServiceError::Refused(Refusal::TooManyAttempts {
                    retry_after_secs, ..
                })
                | ServiceError::Overloaded { retry_after_secs },
            ) => Some((*retry_after_secs).max(1)),
            Self::Service(ServiceError::DatabaseUnavailable) => Some(5),
            _ => None,
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
    PasswordSignInBlocked = "password_sign_in_blocked",
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
    TwoFactorSetupRequired = "two_factor_setup_required",
    CsrfCheckFailed = "csrf_check_failed",
    SecondFactorRequired = "second_factor_required",
    InsufficientScope = "insufficient_scope",
    PasskeyRefused = "passkey_refused",
    PasskeyAlreadyRegistered = "passkey_already_registered",
    TooManyPasskeys = "too_many_passkeys",
    NoPasskeys = "no_passkeys",
    StepUpRequired = "step_up_required",
    ConsentRequired = "consent_required",
    ServerBusy = "server_busy",
    DatabaseUnavailable = "database_unavailable",
    NotReady = "not_ready",
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
        if let Self::Service(ServiceError::Internal(message)) = self {
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
                Self::Service(ServiceError::Invalid(InvalidInput::Field { field, .. }))
                | Self::Service(ServiceError::Refused(Refusal::NewPassword(
                    NewPasswordRefused::TooWeak { field, .. }
                    | NewPasswordRefused::Breached { field },
                ))) => Some((*field).to_string()),
                _ => None,
            },
            retry_after: self.retry_after_secs(),
            feedback: match self {
                Self::Service(ServiceError::Refused(Refusal::NewPassword(
                    NewPasswordRefused::TooWeak { feedback, .. },
                ))) => Some(feedback.clone()),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        if matches!(
            self,
            Self::Service(ServiceError::Refused(Refusal::InvalidToken))
        ) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}
