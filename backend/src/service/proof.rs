//! Proofs: a password, a six-digit code, a passkey or a recovery code, offered to sign in or
//! to authorise a privileged action. This module is the one place that counts them (before they
//! are checked), checks them, uses up codes, and records failures and lock-outs; it also opens
//! the WebAuthn assertions a passkey answers ([`open_assertion`]) and checks the answers.
//!
//! A privileged use case is one call, [`privileged`]: the rule (window, proof), the counting,
//! the account row's lock and the session check, then the use case's effects, in one
//! transaction that commits even when the proof is refused. Sign-in and password reset, which
//! nobody signed in asks for, run `transaction_committing_refusals(lock rows; proof::verify…;
//! effects)` themselves. A refused proof's count and events must commit, so the verdict says
//! [`Verdict::Refused`] and the use case answers the refusal from a transaction that commits
//! refusals ([`crate::db::Database::transaction_committing_refusals`]). A password hash is too
//! slow to hold a transaction open for, so passwords are counted in a short transaction first
//! ([`count_password_attempt`]), hashed ([`check_password`]), and settled in the use case's
//! transaction.

use chrono::{DateTime, TimeDelta, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

use super::error::{Refusal, ServiceError};
use super::notifications::{self, Notice};
use super::throttle::{self, Attempt, Lockout, Subject};
use super::{AppState, Principal};
use crate::auth::tokens::proved_second_factor;
use crate::auth::totp::TotpSecret;
use crate::db::accounts::{self, Account};
use crate::db::ceremonies::{self, Ceremony, CeremonyKey};
use crate::db::events::{self, EventKind};
use crate::db::passkeys as passkey_store;
use crate::db::{in_transaction, two_factor as code_store, DbConnection};
use crate::domain::{credential_id_text, StoredPasskey};
use crate::domain::{Password, RecoveryCode, RequestOrigin, TotpCode};

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
    /// Commit (the failure is counted and recorded), then answer this.
    Refused(Refusal),
}

/// The subjects a proof from a signed-in session counts against: the session's own count (a
/// thief's session locks itself, never the owner's), the account's ceiling over all its
/// sessions, and the client network.
fn reauthentication_subjects(
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
) -> Result<Verdict<Attempt>, ServiceError> {
    let attempt = throttle::begin(connection, subjects, now)?;
    let accepted = match (factor, ceremony) {
        (SecondFactor::Code(code), _) => accept_totp_code(state, connection, account, code, now)?,
        (SecondFactor::RecoveryCode(code), _) => {
            accept_recovery_code(state, connection, account, code, origin, now)?
        }
        (SecondFactor::Passkey(answer), Some(ceremony)) => {
            accept_answer(state, connection, account, answer, ceremony, origin, now)?
        }
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
    Ok(Verdict::Refused(Refusal::WrongCode))
}

/// Checks a TOTP code against the account's active secret and claims its step (replay-proof).
fn accept_totp_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    code: &TotpCode,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let Some(ciphertext) = account.totp_secret_ciphertext.as_deref() else {
        return Ok(false);
    };
    let secret = TotpSecret::from_bytes(state.secret_box.open(ciphertext, account.id.as_bytes())?);
    let Some(step) = secret.matching_step(code, now.timestamp()) else {
        return Ok(false);
    };
    let mut verified_ciphertext = ciphertext.to_string();
    // A key rotation may have sealed the same secret anew since the account was read (the
    // claim is conditional on the ciphertext): claim again with the new sealing if it holds
    // the same secret. Bounded, since each rotation seals a value once.
    for _ in 0..3 {
        if accounts::claim_totp_step(connection, &account.id, &verified_ciphertext, step)? {
            return Ok(true);
        }
        let current = accounts::find_by_id(connection, &account.id)?
            .and_then(|account| account.totp_secret_ciphertext);
        let Some(current) = current.filter(|current| *current != verified_ciphertext) else {
            return Ok(false);
        };
        let resealed = state.secret_box.open(&current, account.id.as_bytes())?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            resealed.as_slice(),
            secret.as_bytes(),
        )) {
            return Ok(false);
        }
        verified_ciphertext = current;
    }
    Ok(false)
}

/// Uses up one of the account's recovery codes, if the code is one of them and unused.
fn accept_recovery_code(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    code: &RecoveryCode,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    // Stored under whichever key was current when the codes were made (see `secret_box`).
    let mut used = false;
    for code_hash in state.secret_box.keyed_hash_candidates(code.normalised()) {
        if code_store::use_recovery_code(connection, &account.id, &code_hash, now)? {
            used = true;
            break;
        }
    }
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
) -> Result<Verdict<i64>, ServiceError> {
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
    Ok(Verdict::Refused(Refusal::WrongCode))
}

/// Counts a password attempt in its own short transaction, before the slow hash.
pub fn count_password_attempt(
    connection: &mut DbConnection,
    subjects: &[Subject],
    now: DateTime<Utc>,
) -> Result<Attempt, ServiceError> {
    throttle::begin(connection, subjects, now)
}

/// Checks a counted password against the stored hash (`None`: no such account, hashed all the
/// same) and answers whether it matches. No answer from the hash (overloaded, or failed)
/// judged no guess: the attempt is given back, in a short transaction of its own, and the
/// hashing error answered.
pub async fn check_password(
    state: &AppState,
    attempt: Attempt,
    password: &Password,
    stored_hash: Option<String>,
) -> Result<(Attempt, bool), ServiceError> {
    match state.password_hasher.verify(password, stored_hash).await {
        Ok(matches) => Ok((attempt, matches)),
        Err(error) => {
            state
                .database
                .transaction(move |connection| attempt.released(connection))
                .await?;
            Err(error.into())
        }
    }
}

/// Settles a checked password attempt inside the use case's transaction: `false` stays
/// counted and is recorded as `login_failed` on the account, if there is one, and answers
/// `wrong`.
pub fn settle_password(
    connection: &mut DbConnection,
    attempt: Attempt,
    matches: bool,
    account_id: Option<&str>,
    wrong: Refusal,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Verdict<Attempt>, ServiceError> {
    if matches {
        return Ok(Verdict::Accepted(attempt));
    }
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

/// `password_sign_in_blocked` when the holder reported "this wasn't me" and has not reset the
/// password since: the right password is no proof of who holds it now. Recorded as a failed
/// sign-in, so the holder sees it. The caller holds the account row's lock.
pub fn refuse_blocked_password(
    connection: &mut DbConnection,
    account: &Account,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<Option<Refusal>, ServiceError> {
    if accounts::password_sign_in_blocked_since(connection, &account.id)?.is_none() {
        return Ok(None);
    }
    events::record(
        connection,
        &account.id,
        EventKind::LoginFailed,
        now,
        origin,
        Some("right password refused: password sign-in is blocked since a not-me report"),
    )?;
    Ok(Some(Refusal::PasswordSignInBlocked))
}

fn record_lockout(
    connection: &mut DbConnection,
    account_id: &str,
    lockout: &Lockout,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let detail = format!(
        "{} consecutive failures; locked for {} seconds",
        lockout.failures,
        lockout.duration.num_seconds()
    );
    Ok(events::record(
        connection,
        account_id,
        EventKind::AccountLocked,
        now,
        origin,
        Some(&detail),
    )?)
}

/// Which proof a privileged act demands.
#[derive(Debug, Clone, Copy)]
pub enum Rule<'a> {
    /// The privileged window, else a proof (see [`authorize_privileged`]); or an API token whose
    /// scope grants the act.
    Privileged,
    /// A second factor in the request itself (see [`authorize_fresh_second_factor`]).
    FreshSecondFactor,
    /// The current password, however recent the sign-in, from a signed-in session. The
    /// replacement is hashed only once the current one matched (a wrong guess costs the server
    /// one hash, not two) and handed to the effects as [`Admitted::new_password_hash`].
    CurrentPassword { replacement: &'a Password },
}

/// What the effects of an admitted act are handed.
pub struct Admitted {
    /// The state and the request's origin, for the effects (so callers clone nothing).
    pub state: AppState,
    pub origin: RequestOrigin,
    /// The hash of [`Rule::CurrentPassword`]'s replacement.
    pub new_password_hash: Option<String>,
}

/// The privileged-action rule, whole, in one call: `rule`'s proof is counted and (a password)
/// hashed before the transaction; then one transaction takes the account row's lock in the
/// `required` state, checks that the caller's session (or API token) is still live, settles
/// the proof and, when it is accepted, runs `effects`. A refusal (by the rule, the state, the
/// proof or the effects) commits what the proof counted and is answered; the effects land
/// whole or not at all (they run in a savepoint of their own).
pub async fn privileged<T, F>(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    rule: Rule<'_>,
    required: Required,
    origin: &RequestOrigin,
    effects: F,
) -> Result<T, ServiceError>
where
    F: FnOnce(&mut DbConnection, Admitted) -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    let authority = match rule {
        Rule::Privileged => authorize_privileged(state, principal, proof, origin).await?,
        Rule::FreshSecondFactor => {
            authorize_fresh_second_factor(state, principal, proof, origin).await?
        }
        Rule::CurrentPassword { .. } => {
            authorize_current_password(state, principal, proof, origin).await?
        }
    };
    let new_password_hash = match (rule, &authority) {
        (
            Rule::CurrentPassword { replacement },
            PrivilegedProof::Password { matches: true, .. },
        ) => match state.password_hasher.hash(replacement).await {
            Ok(hash) => Some(hash),
            Err(error) => {
                // Hashing overloaded: the act cannot happen now, and the proof is given back
                // unjudged, as when its own hash gets no answer.
                if let PrivilegedProof::Password { attempt, .. } = authority {
                    state
                        .database
                        .transaction(move |connection| attempt.released(connection))
                        .await?;
                }
                return Err(error.into());
            }
        },
        _ => None,
    };
    let now = state.now();
    let (state_for_db, origin) = (state.clone(), origin.clone());
    let (account, session_id) = (principal.account.clone(), principal.session_id.clone());
    state
        .database
        .transaction_committing_refusals(move |connection| {
            let state = state_for_db;
            lock_and_admit(
                &state,
                connection,
                &account,
                required,
                &session_id,
                authority,
                &origin,
                now,
            )?;
            in_transaction(connection, |connection| {
                effects(
                    connection,
                    Admitted {
                        state,
                        origin,
                        new_password_hash,
                    },
                )
            })
        })
        .await
}

/// A privileged action's authority, established before the use case's transaction.
#[derive(Debug)]
enum PrivilegedProof {
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
        matches: bool,
    },
}

/// The privileged-action rule: allowed without proof for a while after a sign-in that used
/// every factor the account has; later, a proof is needed: with two-factor on a code or a
/// recovery code or a passkey (a stolen password and session must not remove the second
/// factor), with it off the password.
async fn authorize_privileged(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<PrivilegedProof, ServiceError> {
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
        None => Err(Refusal::ReauthenticationRequired.into()),
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
            count_and_hash_password(state, principal, password, origin).await
        }
        // A password where the account has two-factor, or a code where it has none.
        Some(_) => Err(Refusal::ReauthenticationRequired.into()),
    }
}

/// Changing the password: the current one, whatever the window and whatever the factors (it
/// is what the change replaces), from a signed-in session only.
async fn authorize_current_password(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<PrivilegedProof, ServiceError> {
    if principal.api_token.is_some() {
        return Err(Refusal::InsufficientScope.into());
    }
    match proof {
        Some(Proof::Password(password)) => {
            count_and_hash_password(state, principal, password, origin).await
        }
        _ => Err(Refusal::ReauthenticationRequired.into()),
    }
}

/// Counts a password proof from the signed-in session (in its own short transaction), then
/// hashes it; the transaction of the act settles it.
async fn count_and_hash_password(
    state: &AppState,
    principal: &Principal,
    password: Password,
    origin: &RequestOrigin,
) -> Result<PrivilegedProof, ServiceError> {
    let account = &principal.account;
    let now = state.now();
    let subjects = reauthentication_subjects(&account.id, &principal.session_id, origin);
    let attempt = state
        .database
        .run(move |connection| count_password_attempt(connection, &subjects, now))
        .await?;
    let (attempt, matches) = check_password(
        state,
        attempt,
        &password,
        Some(account.password_hash.clone()),
    )
    .await?;
    Ok(PrivilegedProof::Password { attempt, matches })
}

/// The rule for acts whose authority outlives the session (an API token with a support scope
/// acts for up to 30 days): a second factor in the request itself, however recent the sign-in.
/// No password (not a second factor), no privileged window, no API token. The account must
/// have two-factor on (`two_factor_required` otherwise).
async fn authorize_fresh_second_factor(
    state: &AppState,
    principal: &Principal,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<PrivilegedProof, ServiceError> {
    if principal.api_token.is_some() {
        return Err(Refusal::InsufficientScope.into());
    }
    if !principal.account.two_factor_enabled() {
        return Err(Refusal::TwoFactorRequired.into());
    }
    match proof {
        None | Some(Proof::Password(_)) => Err(Refusal::FreshSecondFactorRequired.into()),
        Some(factor) => match authorize_privileged(state, principal, Some(factor), origin).await? {
            authority @ PrivilegedProof::SecondFactor(_) => Ok(authority),
            // A code where the account has no authenticator app: refused uncounted.
            _ => Err(Refusal::FreshSecondFactorRequired.into()),
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
    /// Takes the account row's lock if the account is in this state.
    fn lock(self, connection: &mut DbConnection, account_id: &str) -> Result<bool, ServiceError> {
        Ok(match self {
            Self::Account => accounts::lock(connection, account_id)?,
            Self::TwoFactorOn | Self::AgentWithTwoFactor => {
                accounts::lock_if_two_factor_enabled(connection, account_id)?
            }
            Self::TotpOff => accounts::lock_if_totp_disabled(connection, account_id)?,
        })
    }

    /// The answer when the account is not in this state.
    fn refusal(self) -> Refusal {
        match self {
            Self::Account => Refusal::InvalidToken,
            Self::TwoFactorOn => Refusal::TwoFactorNotEnabled,
            Self::TotpOff => Refusal::TwoFactorAlreadyEnabled,
            Self::AgentWithTwoFactor => Refusal::TwoFactorRequired,
        }
    }
}

/// The start of every privileged action's transaction: the account row's lock in the
/// `required` state, then [`admit`]. A refusal is answered for the transaction to commit (a
/// refused proof stays counted; a password never judged is given back).
#[allow(clippy::too_many_arguments)]
fn lock_and_admit(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    required: Required,
    session_id: &str,
    proof: PrivilegedProof,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if !required.lock(connection, &account.id)? {
        return give_back(connection, proof, required.refusal());
    }
    admit(state, connection, account, session_id, proof, origin, now)
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
) -> Result<(), ServiceError> {
    let by_token = matches!(proof, PrivilegedProof::ApiToken { .. });
    if !by_token && !crate::db::sessions::lock_if_live(connection, session_id)? {
        return give_back(connection, proof, Refusal::InvalidToken);
    }
    verify_privileged(state, connection, account, session_id, proof, origin, now)
}

/// Refuses a privileged action before its proof was checked (the account or session changed
/// meanwhile): a password already counted is given back, since it was never judged. Answers
/// the refusal for the transaction to commit.
fn give_back(
    connection: &mut DbConnection,
    proof: PrivilegedProof,
    refusal: Refusal,
) -> Result<(), ServiceError> {
    if let PrivilegedProof::Password { attempt, .. } = proof {
        attempt.released(connection)?;
    }
    Err(refusal.into())
}

/// Checks the proof of a privileged action inside the use case's transaction, which holds the
/// account row's lock and commits refusals. A right proof starts the count of failed proofs
/// again. A passkey answers the options this session asked for at
/// `POST /account/webauthn/options`.
fn verify_privileged(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    session_id: &str,
    proof: PrivilegedProof,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let verdict = match proof {
        PrivilegedProof::RecentSignIn => return Ok(()),
        PrivilegedProof::ApiToken { token_id } => {
            // Revoked meanwhile: the action does not happen.
            return if crate::db::api_tokens::lock_if_live(connection, &token_id, now)? {
                Ok(())
            } else {
                Err(Refusal::InvalidToken.into())
            };
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
        PrivilegedProof::Password { attempt, matches } => {
            match settle_password(
                connection,
                attempt,
                matches,
                Some(&account.id),
                Refusal::WrongPassword,
                origin,
                now,
            )? {
                // Right, but blocked since a not-me report: as at sign-in, said only now.
                Verdict::Accepted(attempt) => {
                    match refuse_blocked_password(connection, account, origin, now)? {
                        Some(refusal) => {
                            attempt.released(connection)?;
                            Verdict::Refused(refusal)
                        }
                        None => Verdict::Accepted(attempt),
                    }
                }
                refused => refused,
            }
        }
    };
    match verdict {
        Verdict::Accepted(attempt) => attempt.succeeded(connection),
        Verdict::Refused(refusal) => Err(refusal.into()),
    }
}

// Passkeys as proofs: the options a passkey answers, and the check of its answer.

/// How long a ceremony's options stay answerable.
pub const CEREMONY_LIFETIME_SECS: i64 = 5 * 60;

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(|error| {
        ServiceError::internal(format!("ceremony state not serialisable: {error}"))
    })
}

pub(super) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ServiceError> {
    serde_json::from_str(text)
        .map_err(|error| ServiceError::internal(format!("ceremony state unreadable: {error}")))
}

pub(super) fn options_json<T: Serialize>(options: &T) -> Result<serde_json::Value, ServiceError> {
    serde_json::to_value(options)
        .map_err(|error| ServiceError::internal(format!("options not serialisable: {error}")))
}

/// Starts an assertion over the account's passkeys and keeps it under `key` (replacing an
/// earlier one there); answers the options for the browser, or `409 no_passkeys`.
pub(super) fn open_assertion(
    state: &AppState,
    connection: &mut DbConnection,
    account_id: &str,
    key: &CeremonyKey,
    expires_at: DateTime<Utc>,
) -> Result<serde_json::Value, ServiceError> {
    let passkeys = passkey_store::list_for_account(connection, account_id)?;
    if passkeys.is_empty() {
        return Err(Refusal::NoPasskeys.into());
    }
    let credentials: Vec<_> = passkeys
        .into_iter()
        .map(|passkey| passkey.credential)
        .collect();
    let (options, authentication) = state
        .webauthn
        .start_passkey_authentication(&credentials)
        .map_err(|error| ServiceError::internal(format!("passkey options: {error}")))?;
    let ceremony = Ceremony {
        account_id: Some(account_id.to_string()),
        state: to_json(&authentication)?,
        passkey_name: None,
    };
    ceremonies::put(connection, key, &ceremony, expires_at)?;
    options_json(&options)
}

/// Checks a passkey's answer to the sign-in ceremony `key` of `account`, inside the caller's
/// transaction (which counted the attempt and holds the account's lock). Right: the ceremony
/// is used up, the passkey's counter moves on and its use is recorded.
fn accept_answer(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    answer: &PublicKeyCredential,
    key: &CeremonyKey,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let Some(ceremony) = ceremonies::take(connection, key, now)? else {
        return Ok(false);
    };
    if ceremony.account_id.as_deref() != Some(account.id.as_str()) {
        return Ok(false);
    }
    let authentication: PasskeyAuthentication = from_json(&ceremony.state)?;
    let result = match state
        .webauthn
        .finish_passkey_authentication(answer, &authentication)
    {
        Ok(result) => result,
        Err(error) => {
            tracing::info!(%error, "passkey answer refused");
            return Ok(false);
        }
    };
    let credential_id = credential_id_text(result.cred_id().as_ref());
    let Some(mut passkey) = passkey_store::find_by_credential_id(connection, &credential_id)?
        .filter(|passkey| passkey.account_id == account.id)
    else {
        return Ok(false);
    };
    passkey.credential.update_credential(&result);
    if !passkey_store::record_use(connection, &passkey, result.counter(), now)? {
        tracing::warn!(passkey = %passkey.id, "passkey counter went backwards: refused");
        return Ok(false);
    }
    record_use(connection, account, &passkey, origin, now)?;
    Ok(true)
}

pub(super) fn record_use(
    connection: &mut DbConnection,
    account: &Account,
    passkey: &StoredPasskey,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let detail = format!("name: {}", passkey.name);
    Ok(events::record(
        connection,
        &account.id,
        EventKind::PasskeyUsed,
        now,
        origin,
        Some(&detail),
    )?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every privileged use case, by service file and function. Each must go through
    /// [`super::privileged`]; the test below fails when one does not, and when a function calls
    /// it without being listed here (so the list stays the whole truth).
    const PRIVILEGED_USE_CASES: &[(&str, &str)] = &[
        ("account.rs", "change_password"),
        ("api_tokens.rs", "create"),
        ("email.rs", "request_change"),
        ("oidc/authorization.rs", "approve"),
        ("passkeys.rs", "remove"),
        ("passkeys.rs", "start_registration"),
        ("support.rs", "act_on_customer"),
        ("two_factor.rs", "disable"),
        ("two_factor.rs", "enroll"),
        ("two_factor.rs", "regenerate_recovery_codes"),
    ];

    /// Every source file under `src/service`, named by its path there (`oidc/token.rs`).
    fn service_sources() -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
        let mut folders = vec![dir.clone()];
        let mut sources: Vec<(String, String)> = Vec::new();
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("service directory readable") {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    let name = path
                        .strip_prefix(&dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    let source = std::fs::read_to_string(&path).expect("source readable");
                    sources.push((name, source));
                }
            }
        }
        sources.sort();
        assert!(sources.len() > 10, "service sources not found in {dir:?}");
        sources
    }

    /// The top-level functions of a source file with their bodies (up to the next line `}`).
    fn functions(source: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut current: Option<(String, String)> = None;
        for line in source.lines() {
            let declared = [
                "pub async fn ",
                "async fn ",
                "pub fn ",
                "fn ",
                "pub(super) fn ",
            ]
            .iter()
            .find_map(|start| line.strip_prefix(start));
            if let Some(rest) = declared {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                current = Some((name, String::new()));
            }
            if let Some((_, body)) = current.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
            if line == "}" {
                found.extend(current.take());
            }
        }
        found
    }

    #[test]
    fn every_privileged_use_case_goes_through_the_one_call() {
        let mut calling = BTreeSet::new();
        for (file, source) in service_sources() {
            if file == "proof.rs" {
                continue;
            }
            for (name, body) in functions(&source) {
                if body.contains("proof::privileged(") {
                    calling.insert((file.clone(), name));
                }
            }
            // The pieces of the rule are private to proof.rs; the password's counting and
            // settling are also used by sign-in, which is no privileged act.
            if file != "login.rs" {
                for piece in ["count_password_attempt", "settle_password"] {
                    assert!(
                        !source.contains(piece),
                        "{file} uses proof::{piece}: a privileged act must go through proof::privileged"
                    );
                }
            }
        }
        let listed: BTreeSet<(String, String)> = PRIVILEGED_USE_CASES
            .iter()
            .map(|(file, name)| (file.to_string(), name.to_string()))
            .collect();
        assert_eq!(
            calling, listed,
            "the privileged use cases and the functions calling proof::privileged differ"
        );
    }
}
