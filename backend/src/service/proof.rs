//! Proofs: a password, a six-digit code, a passkey or a recovery code, offered to sign in or
//! to authorise a privileged action. This module is the one place that counts them (before they
//! are checked), checks them, uses up codes, and records failures and lock-outs.
//!
//! A use case runs `transaction(lock rows; proof::verify…; effects)`. A refused proof is no
//! error of the transaction: its count and events must commit, so the verdict says
//! [`Verdict::Refused`] and the use case answers the error after committing. A password hash
//! is too slow to hold a transaction open for, so passwords are counted in a short transaction
//! first ([`count_password_attempt`]), hashed, and settled in the use case's transaction.

use chrono::{DateTime, TimeDelta, Utc};

use super::notifications::{self, Notice};
use super::throttle::{self, Attempt, Lockout, Subject};
use super::{AppState, Principal};
use crate::auth::tokens::proved_second_factor;
use crate::auth::totp::TotpSecret;
use crate::db::accounts::{self, Account};
use crate::db::ceremonies::CeremonyKey;
use crate::db::events::{self, EventKind};
use crate::db::{two_factor as code_store, DbConnection};
use crate::domain::{Password, RecoveryCode, RequestOrigin, TotpCode};
use crate::error::ApiError;

/// Something only the account holder should have, parsed once at the edge.
#[derive(Debug, Clone)]
pub enum Proof {
    Password(Password),
    Code(TotpCode),
    RecoveryCode(RecoveryCode),
    /// A passkey's answer to the options of `POST /account/webauthn/options`.
    Passkey(Box<webauthn_rs::prelude::PublicKeyCredential>),
}

/// The second factor: a code from the app, a passkey, or one of the recovery codes.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    Code(TotpCode),
    RecoveryCode(RecoveryCode),
    /// A passkey's answer to the options of a sign-in or a password reset link.
    Passkey(Box<webauthn_rs::prelude::PublicKeyCredential>),
}

/// What a proof came to, inside the use case's transaction.
#[must_use]
#[derive(Debug)]
pub enum Verdict<T> {
    Accepted(T),
    /// Commit (the failure is counted and recorded), then answer this error.
    Refused(ApiError),
}

/// The subjects a proof from a signed-in session counts against: the session's own count (a
/// thief's session locks itself, never the owner's), the account's ceiling over all its
/// sessions, and the client network.
pub fn reauthentication_subjects(
    account_id: &str,
    session_id: &str,
    origin: &RequestOrigin,
) -> Vec<Subject> {
    let mut subjects = vec![
        Subject::Reauthentication {
            account_id: account_id.to_string(),
            session_id: session_id.to_string(),
        },
        Subject::ReauthenticationCeiling {
            account_id: account_id.to_string(),
        },
    ];
    subjects.extend(network_subject(origin));
    subjects
}

/// The client network's windowed limit, when the client's address is known.
pub fn network_subject(origin: &RequestOrigin) -> Option<Subject> {
    origin.ip.as_deref().map(|ip| Subject::Network {
        network: throttle::client_network(ip),
    })
}

/// Counts, checks and uses a second factor of `account` inside the caller's transaction.
/// Wrong: counted, recorded as `otp_failed` (and `account_locked` at the limit, which also
/// ends the account's open sign-in challenges). Right: the code's step is claimed (never
/// accepted again), the passkey's ceremony is used up and its counter advanced, or the
/// recovery code is used up and recorded; the attempt is handed back for the caller to
/// settle. A passkey answers the options of `ceremony` (a sign-in's, a session's or a reset
/// link's), which it uses up whatever the verdict. The caller must hold the account row's lock.
#[allow(clippy::too_many_arguments)]
pub fn verify_second_factor(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    factor: &SecondFactor,
    ceremony: Option<&CeremonyKey>,
    subjects: &[Subject],
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Verdict<Attempt>, ApiError> {
    let attempt = throttle::begin(connection, subjects, now)?;
    let accepted = match (factor, ceremony) {
        (SecondFactor::Code(code), _) => accept_totp_code(state, connection, account, code, now)?,
        (SecondFactor::RecoveryCode(code), _) => {
            accept_recovery_code(state, connection, account, code, origin, now)?
        }
        (SecondFactor::Passkey(answer), Some(ceremony)) => super::passkeys::accept_answer(
            state, connection, account, answer, ceremony, origin, now,
        )?,
        (SecondFactor::Passkey(_), None) => false,
    };
    if accepted {
        return Ok(Verdict::Accepted(attempt));
    }
    let lockout = attempt.failed(connection, now)?;
    events::record(
        connection,
        &account.id,
        EventKind::OtpFailed,
        now,
        origin,
        None,
    )?;
    if let Some(lockout) = lockout {
        // Guessing must start again from the password.
        code_store::consume_all_challenges(connection, &account.id, now)?;
        record_lockout(connection, &account.id, &lockout, origin, now)?;
    }
    Ok(Verdict::Refused(ApiError::InvalidCode))
}

/// Checks a TOTP code against the account's active secret and claims its step (replay-proof).
fn accept_totp_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Some(ciphertext) = account.totp_secret_ciphertext.as_deref() else {
        return Ok(false);
    };
    let secret = TotpSecret::from_bytes(state.secret_box.open(ciphertext, account.id.as_bytes())?);
    match secret.matching_step(code, now.timestamp()) {
        Some(step) => accounts::claim_totp_step(connection, &account.id, ciphertext, step),
        None => Ok(false),
    }
}

/// Uses up one of the account's recovery codes, if the code is one of them and unused.
fn accept_recovery_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    code: &RecoveryCode,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let code_hash = state.secret_box.keyed_hash(code.normalised());
    let used = code_store::use_recovery_code(connection, &account.id, &code_hash, now)?;
    if used {
        let left = code_store::count_unused_recovery_codes(connection, &account.id)?;
        notifications::queue_notice(
            state,
            connection,
            account,
            Notice::RecoveryCodeUsed { left },
            origin,
            now,
        )?;
        let detail = format!("{left} recovery codes left");
        events::record(
            connection,
            &account.id,
            EventKind::RecoveryCodeUsed,
            now,
            origin,
            Some(&detail),
        )?;
    }
    Ok(used)
}

/// Checks the first code of an enrolment against its pending secret, counted like any proof
/// from the signed-in session. Answers the step to mark used when two-factor goes on.
pub fn verify_enrolment_code(
    connection: &mut DbConnection,
    account: &Account,
    session_id: &str,
    pending: &TotpSecret,
    code: &TotpCode,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Verdict<i64>, ApiError> {
    let subjects = reauthentication_subjects(&account.id, session_id, origin);
    let attempt = throttle::begin(connection, &subjects, now)?;
    if let Some(step) = pending.matching_step(code, now.timestamp()) {
        attempt.succeeded(connection)?;
        return Ok(Verdict::Accepted(step));
    }
    let lockout = attempt.failed(connection, now)?;
    events::record(
        connection,
        &account.id,
        EventKind::OtpFailed,
        now,
        origin,
        None,
    )?;
    if let Some(lockout) = lockout {
        record_lockout(connection, &account.id, &lockout, origin, now)?;
    }
    Ok(Verdict::Refused(ApiError::InvalidCode))
}

/// Counts a password attempt in its own short transaction, before the slow hash.
pub fn count_password_attempt(
    connection: &mut DbConnection,
    subjects: &[Subject],
    now: DateTime<Utc>,
) -> Result<Attempt, ApiError> {
    throttle::begin(connection, subjects, now)
}

/// Settles a counted password attempt inside the use case's transaction. `matches` is the
/// hash's answer: an error (say, hashing overloaded) was no guess and gives the attempt back;
/// `false` stays counted and is recorded as `login_failed` on the account, if there is one.
pub fn settle_password(
    connection: &mut DbConnection,
    attempt: Attempt,
    matches: Result<bool, ApiError>,
    account_id: Option<&str>,
    wrong: ApiError,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Verdict<Attempt>, ApiError> {
    match matches {
        Ok(true) => Ok(Verdict::Accepted(attempt)),
        Err(error) => {
            attempt.released(connection)?;
            Ok(Verdict::Refused(error))
        }
        Ok(false) => {
            let lockout = attempt.failed(connection, now)?;
            if let Some(account_id) = account_id {
                events::record(
                    connection,
                    account_id,
                    EventKind::LoginFailed,
                    now,
                    origin,
                    None,
                )?;
                if let Some(lockout) = lockout {
                    record_lockout(connection, account_id, &lockout, origin, now)?;
                }
            }
            Ok(Verdict::Refused(wrong))
        }
    }
}

fn record_lockout(
    connection: &mut DbConnection,
    account_id: &str,
    lockout: &Lockout,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let detail = format!(
        "{} consecutive failures; locked for {} seconds",
        lockout.failures,
        lockout.duration.num_seconds()
    );
    events::record(
        connection,
        account_id,
        EventKind::AccountLocked,
        now,
        origin,
        Some(&detail),
    )
}

/// A privileged action's authority, established before the use case's transaction.
#[derive(Debug)]
pub enum PrivilegedProof {
    /// A sign-in with every factor within the privileged window.
    RecentSignIn,
    /// An API token whose scope grants the action: granting it was the privileged act.
    ApiToken {
        token_id: String,
    },
    SecondFactor(SecondFactor),
    /// Counted and hashed already; settled in the transaction.
    Password {
        attempt: Attempt,
        matches: Result<bool, ApiError>,
    },
}

/// The privileged-action rule: allowed without proof for a while after a sign-in that used
/// every factor the account has; later, a proof is needed: with two-factor on a code or a
/// recovery code or a passkey (a stolen password and session must not remove the second
/// factor), with it off the password.
pub async fn authorize_privileged(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<PrivilegedProof, ApiError> {
    let account = &principal.account;
    let two_factor = account.two_factor_enabled();
    if let Some(access) = &principal.api_token {
        // The caller checked the token's scope; a token cannot prove anything more.
        return Ok(PrivilegedProof::ApiToken {
            token_id: access.token_id.clone(),
        });
    }
    match proof {
        None if within_privileged_window(state, principal) => Ok(PrivilegedProof::RecentSignIn),
        None => Err(ApiError::ReauthenticationRequired),
        // Refused uncounted where no authenticator app exists (an account with passkeys only).
        Some(Proof::Code(code)) if account.totp_enabled() => {
            Ok(PrivilegedProof::SecondFactor(SecondFactor::Code(code)))
        }
        Some(Proof::Passkey(answer)) if two_factor => {
            Ok(PrivilegedProof::SecondFactor(SecondFactor::Passkey(answer)))
        }
        Some(Proof::RecoveryCode(code)) if two_factor => Ok(PrivilegedProof::SecondFactor(
            SecondFactor::RecoveryCode(code),
        )),
        Some(Proof::Password(password)) if !two_factor => {
            let now = state.now();
            let subjects = reauthentication_subjects(&account.id, &principal.session_id, origin);
            let attempt = state
                .database
                .run(move |connection| count_password_attempt(connection, &subjects, now))
                .await?;
            let matches = state
                .password_hasher
                .verify(&password, Some(account.password_hash.clone()))
                .await;
            Ok(PrivilegedProof::Password { attempt, matches })
        }
        // A password where the account has two-factor, or a code where it has none.
        Some(_) => Err(ApiError::ReauthenticationRequired),
    }
}

/// The rule for acts whose authority outlives the session (an API token with a support scope
/// acts for up to 30 days): a second factor in the request itself, however recent the sign-in.
/// No password (not a second factor), no privileged window, no API token. The account must
/// have two-factor on (`two_factor_required` otherwise).
pub async fn authorize_fresh_second_factor(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<PrivilegedProof, ApiError> {
    if principal.api_token.is_some() {
        return Err(ApiError::InsufficientScope);
    }
    if !principal.account.two_factor_enabled() {
        return Err(ApiError::TwoFactorRequired);
    }
    match proof {
        None | Some(Proof::Password(_)) => Err(ApiError::FreshSecondFactorRequired),
        Some(factor) => match authorize_privileged(state, principal, Some(factor), origin).await? {
            authority @ PrivilegedProof::SecondFactor(_) => Ok(authority),
            // A code where the account has no authenticator app: refused uncounted.
            _ => Err(ApiError::FreshSecondFactorRequired),
        },
    }
}

/// A sign-in with every factor the account has, within the configured window.
fn within_privileged_window(state: &AppState, principal: &Principal) -> bool {
    let every_factor =
        !principal.account.two_factor_enabled() || proved_second_factor(&principal.amr);
    let window = TimeDelta::from_std(state.settings.privileged_window).unwrap_or(TimeDelta::zero());
    every_factor && state.now() - principal.auth_time <= window
}

/// The state an account must be in for a privileged action, checked as its row's lock is
/// taken: a racing switch of factors is ordered before or after the action, never between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    /// Only that the account still exists.
    Account,
    /// Two-factor on (disable, new recovery codes).
    TwoFactorOn,
    /// TOTP off (enrolling it).
    TotpOff,
    /// A support agent acting: the desk demands the agent's own second factor.
    AgentWithTwoFactor,
}

impl Required {
    /// Takes the lock; `Err` is the answer when the account is not in the required state.
    fn lock(
        self,
        connection: &mut DbConnection,
        account_id: &str,
    ) -> Result<Result<(), ApiError>, ApiError> {
        let (locked, otherwise) = match self {
            Self::Account => (
                accounts::lock(connection, account_id)?,
                ApiError::InvalidToken,
            ),
            Self::TwoFactorOn => (
                accounts::lock_if_two_factor_enabled(connection, account_id)?,
                ApiError::TwoFactorNotEnabled,
            ),
            Self::TotpOff => (
                accounts::lock_if_totp_disabled(connection, account_id)?,
                ApiError::TwoFactorAlreadyEnabled,
            ),
            Self::AgentWithTwoFactor => (
                accounts::lock_if_two_factor_enabled(connection, account_id)?,
                ApiError::TwoFactorRequired,
            ),
        };
        Ok(if locked { Ok(()) } else { Err(otherwise) })
    }
}

/// The start of every privileged action's transaction: the account row's lock in the
/// `required` state, then [`admit`]. `Ok(Err(refusal))` is an answer to commit and return (a
/// refused proof stays counted; a password never judged is given back).
#[allow(clippy::too_many_arguments)]
pub fn lock_and_admit(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    required: Required,
    session_id: &str,
    proof: PrivilegedProof,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Result<(), ApiError>, ApiError> {
    if let Err(refusal) = required.lock(connection, &account.id)? {
        return give_back(connection, proof, refusal);
    }
    Ok(
        match admit(state, connection, account, session_id, proof, origin, now)? {
            Verdict::Accepted(()) => Ok(()),
            Verdict::Refused(refusal) => Err(refusal),
        },
    )
}

/// A privileged action's transaction, once the caller holds the account row's lock: the
/// caller's session must still be live (or its API token, for an action a token's scope
/// grants), then the proof is checked.
fn admit(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    session_id: &str,
    proof: PrivilegedProof,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Verdict<()>, ApiError> {
    let by_token = matches!(proof, PrivilegedProof::ApiToken { .. });
    if !by_token && !crate::db::sessions::lock_if_live(connection, session_id)? {
        if let Err(error) = give_back::<()>(connection, proof, ApiError::InvalidToken)? {
            return Ok(Verdict::Refused(error));
        }
        return Ok(Verdict::Refused(ApiError::InvalidToken));
    }
    verify_privileged(state, connection, account, session_id, proof, origin, now)
}

/// Refuses a privileged action before its proof was checked (the account or session changed
/// meanwhile): a password already counted is given back, since it was never judged. Answers
/// the refusal for the transaction to commit.
pub fn give_back<T>(
    connection: &mut DbConnection,
    proof: PrivilegedProof,
    error: ApiError,
) -> Result<Result<T, ApiError>, ApiError> {
    if let PrivilegedProof::Password { attempt, .. } = proof {
        attempt.released(connection)?;
    }
    Ok(Err(error))
}

/// Checks the proof of a privileged action inside the use case's transaction, which holds the
/// account row's lock. A right proof starts the count of failed proofs again. A passkey
/// answers the options this session asked for at `POST /account/webauthn/options`.
fn verify_privileged(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    session_id: &str,
    proof: PrivilegedProof,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Verdict<()>, ApiError> {
    let verdict = match proof {
        PrivilegedProof::RecentSignIn => return Ok(Verdict::Accepted(())),
        PrivilegedProof::ApiToken { token_id } => {
            // Revoked meanwhile: the action does not happen.
            return Ok(
                if crate::db::api_tokens::lock_if_live(connection, &token_id, now)? {
                    Verdict::Accepted(())
                } else {
                    Verdict::Refused(ApiError::InvalidToken)
                },
            );
        }
        PrivilegedProof::SecondFactor(factor) => {
            let subjects = reauthentication_subjects(&account.id, session_id, origin);
            let ceremony = CeremonyKey::Reauthentication {
                session_id: session_id.to_string(),
            };
            verify_second_factor(
                state,
                connection,
                account,
                &factor,
                Some(&ceremony),
                &subjects,
                origin,
                now,
            )?
        }
        PrivilegedProof::Password { attempt, matches } => settle_password(
            connection,
            attempt,
            matches,
            Some(&account.id),
            ApiError::InvalidPassword,
            origin,
            now,
        )?,
    };
    match verdict {
        Verdict::Accepted(attempt) => {
            attempt.succeeded(connection)?;
            Ok(Verdict::Accepted(()))
        }
        Verdict::Refused(error) => Ok(Verdict::Refused(error)),
    }
}
