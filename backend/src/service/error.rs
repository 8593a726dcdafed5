//! What a use case answers when it does not do what was asked, in the domain's words: a
//! [`Refusal`] (the rules say no), input that does not parse ([`InvalidInput`]), or a fault of
//! the server's. Each layer's own errors are sorted into these once, by the `From` impls here;
//! only the HTTP edge (`crate::error`) turns them into problem documents.

use crate::auth::password::HashingError;
use crate::auth::password_strength::NewPasswordRefused;
use crate::auth::qr::QrError;
use crate::auth::secret_box::SecretBoxError;
use crate::auth::tokens::TokenError;
use crate::db::{Answer, DbError};
use crate::domain::InvalidInput;

/// Every "no" a use case can answer. The message is what the caller is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the username or password is wrong")]
    WrongCredentials,
    #[error("the current password is wrong")]
    WrongPassword,
    /// The right password, of an account whose holder reported "this wasn't me".
    #[error("signing in with the password is blocked since the holder reported \"this wasn't me\"; reset the password with a link sent to the verified address, or sign in with a passkey")]
    PasswordSignInBlocked,
    #[error("the code is wrong or has been used already")]
    WrongCode,
    #[error("the passkey's answer did not verify (wrong site, expired or used ceremony, another account's key, or a cloned key); try again")]
    PasskeyRefused,
    #[error("the access token is missing, invalid, expired or revoked")]
    InvalidToken,
    #[error("the refresh token is missing, invalid, expired or revoked")]
    InvalidRefreshToken,
    /// A sign-in step (a challenge or a passkey's state) that is unknown, expired or used.
    #[error("the challenge is invalid, expired or already used; sign in again")]
    UnknownChallenge,
    #[error("too many wrong codes for this sign-in; sign in again with your password")]
    ChallengeExhausted,
    #[error("the link is unknown, used or expired; ask for a new one")]
    InvalidLink,
    #[error("this action needs a recent sign-in; prove it with your code or password")]
    ReauthenticationRequired,
    /// Told apart from [`Refusal::ReauthenticationRequired`] only by its words: the client's
    /// prompt for a proof is the same.
    #[error("this action needs your code, a passkey or a recovery code in the request, however recent the sign-in")]
    FreshSecondFactorRequired,
    #[error("this account has two-factor on: send the six-digit code or a recovery code too")]
    SecondFactorRequired,
    #[error("this action needs a session signed in with a second factor; switch two-factor on and sign in again")]
    TwoFactorRequired,
    /// A required second factor is missing past its deadline: only its set-up is allowed.
    #[error("your hosting company requires two-factor authentication and its deadline has passed: set up an OTP application or a passkey first")]
    TwoFactorSetupRequired,
    #[error("two-factor authentication is already on")]
    TwoFactorAlreadyEnabled,
    #[error("two-factor authentication is off")]
    TwoFactorNotEnabled,
    #[error("there is no two-factor enrolment to confirm; start again")]
    NoPendingEnrollment,
    #[error("this passkey or security key is registered already")]
    PasskeyAlreadyRegistered,
    #[error("this account has the most passkeys it may have; remove one first")]
    TooManyPasskeys,
    #[error("this account has no passkey; use a code or a recovery code")]
    NoPasskeys,
    #[error("an API token cannot do this; sign in, or use a token with the needed scope")]
    InsufficientScope,
    /// An API token bound to networks, used from outside them.
    #[error("this API token may not be used from this network")]
    NetworkNotAllowed,
    /// A new password the password rules refuse (too guessable, or breached).
    #[error(transparent)]
    NewPassword(#[from] NewPasswordRefused),
    /// Support's desk, asked by someone who is not support staff.
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("sign-up is disabled on this server")]
    SignupDisabled,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("no such resource")]
    NotFound,
    /// The relying party asks for a second factor (or a passkey) this session did not prove.
    #[error("this application asks for a stronger sign-in: prove it with your six-digit code or a passkey")]
    StepUpRequired,
    /// The customer has not allowed the relying party what it asks to see.
    #[error("this application needs your consent to see your account")]
    ConsentRequired,
    /// OAuth `invalid_grant`: the code or refresh token is unknown, expired, used, revoked,
    /// or was issued to another client or redirect URI, or the PKCE verifier is wrong.
    #[error("the code or refresh token is invalid, expired, used or revoked, or was issued to another client")]
    InvalidGrant,
    /// OAuth `invalid_scope`: a refresh asked for a scope beyond the grant's.
    #[error("the scope asked for is beyond what was granted")]
    InvalidScope,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyAttempts {
        retry_after_secs: u64,
        /// A lock-out after consecutive failures, rather than a windowed limit: told apart
        /// only in the metrics, the client gets the same answer.
        locked: bool,
    },
}

/// What a use case answers instead of its result.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The database is unavailable or busy: worth retrying shortly.
    #[error("the database is unavailable; try again shortly")]
    DatabaseUnavailable,
    /// Too many password hashes queued: worth retrying in `retry_after_secs`.
    #[error("the server is busy; try again in {retry_after_secs} seconds")]
    Overloaded { retry_after_secs: u64 },
    /// Any other fault of the server's. The message is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ServiceError {
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }
}

/// A refusal, or input refused, keeps what the use case counted on the way (see
/// [`crate::db::Database::transaction_committing_refusals`]); a fault keeps nothing.
impl From<NewPasswordRefused> for ServiceError {
    fn from(refused: NewPasswordRefused) -> Self {
        Self::Refused(refused.into())
    }
}

impl Answer for ServiceError {
    fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::Invalid(_))
    }
}

/// Database failures the use case did not turn into a refusal of its own (a duplicate it
/// expects, say): unavailable or busy is retryable, anything else a fault.
impl From<DbError> for ServiceError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable => Self::DatabaseUnavailable,
            DbError::Duplicate(message) | DbError::Other(message) => Self::Internal(message),
        }
    }
}

/// A token not accepted is a refusal: an access token's is `InvalidToken`, a sign-in step's
/// `UnknownChallenge`. A key or signing fault is the server's.
impl From<TokenError> for ServiceError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::InvalidAccess => Refusal::InvalidToken.into(),
            TokenError::InvalidStep => Refusal::UnknownChallenge.into(),
            TokenError::Keys(message) => Self::Internal(message),
        }
    }
}

/// A full hashing queue is retryable; anything else a fault.
impl From<HashingError> for ServiceError {
    fn from(error: HashingError) -> Self {
        match error {
            HashingError::Overloaded { retry_after_secs } => Self::Overloaded { retry_after_secs },
            HashingError::Failed(message) => Self::Internal(message),
        }
    }
}

/// A stored secret that does not open is the server's fault, never the caller's.
impl From<SecretBoxError> for ServiceError {
    fn from(error: SecretBoxError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<QrError> for ServiceError {
    fn from(error: QrError) -> Self {
        Self::Internal(error.to_string())
    }
}
