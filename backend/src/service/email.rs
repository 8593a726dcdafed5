//! E-mail addresses and forgotten passwords: verification links, changing the address, and
//! resetting the password with a mailed link (which still asks the second factor).

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::credential_change::{self, CredentialChange};
use super::error::{Refusal, ServiceError};
use super::notifications::{self, LinkMail, Notice};
use super::proof::{self, Admitted, Proof, Required, Rule, SecondFactor, Verdict};
use super::throttle::{self, Subject};
use super::{AppState, Principal};
use crate::auth::opaque_token;
use crate::db::accounts::{self, Account};
use crate::db::ceremonies::CeremonyKey;
use crate::db::email_tokens::{self, LinkPurpose};
use crate::db::events::{self, EventKind};
use crate::db::{in_transaction, DbConnection};
use crate::domain::InvalidInput;
use crate::domain::{Email, Password, RequestOrigin, Username};

pub const VERIFICATION_LINK_HOURS: i64 = 24;
pub const RESET_LINK_MINUTES: i64 = 30;
/// Live reset links an account may have at once. The allowance (3 an hour, links live 30
/// minutes) keeps below it anyway; should the limits ever change, a request beyond it sends
/// nothing rather than voiding a link the holder may be about to use.
pub const MAX_LIVE_RESET_LINKS: i64 = 3;
/// A held-back verification mail is sent at most this long after sign-up; later, the
/// customer asks again from Account Settings.
pub const OWED_VERIFICATION_HOURS: i64 = VERIFICATION_LINK_HOURS;

/// A password reset link is void once the password changes: it remembers a digest of the
/// hash it was made under.
fn password_fingerprint(password_hash: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(password_hash.as_bytes()))
}

fn link(state: &AppState, page: &str, token: &str) -> String {
    format!("{}/{page}?token={token}", state.settings.public_url)
}

/// What a verification mail counts against: 5 an hour per account and 3 an hour per address
/// (whichever account asks), so nobody can use the server to flood an address.
fn verification_allowance(account: &Account, email: &str) -> [Subject; 2] {
    [
        Subject::VerificationMails {
            account_id: account.id.clone(),
        },
        Subject::MailsToAddress {
            address: email.to_string(),
        },
    ]
}

/// Mails a verification link for `email` to `email`, inside the caller's transaction, when
/// the customer asks: `429` beyond the allowance.
pub fn send_verification(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    throttle::begin(connection, &verification_allowance(account, email), now)?.kept(connection)?;
    mail_verification_link(state, connection, account, email, now)
}

/// A new account's verification mail, never refused: beyond the allowance (a stranger may
/// have used up the address's) the account owes it, and [`mail_owed_verifications`] sends it
/// once the allowance frees up, so nobody can stop the holder's sign-up.
pub fn send_or_owe_verification(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    match throttle::begin(connection, &verification_allowance(account, email), now) {
        Ok(attempt) => {
            attempt.kept(connection)?;
            mail_verification_link(state, connection, account, email, now)
        }
        Err(ServiceError::Refused(Refusal::TooManyAttempts { .. })) => Ok(
            accounts::owe_verification_mail(connection, &account.id, now)?,
        ),
        Err(error) => Err(error),
    }
}

/// The link itself, once the allowance is taken: it replaces every earlier one.
fn mail_verification_link(
    state: &AppState,
    connection: &mut DbConnection,
    account: &Account,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    email_tokens::void_all(connection, &account.id, LinkPurpose::VerifyEmail, now)?;
    accounts::settle_verification_mail(connection, &account.id)?;
    let token = opaque_token::generate();
    email_tokens::insert(
        connection,
        &token.hash,
        &account.id,
        LinkPurpose::VerifyEmail,
        Some(email),
        None,
        now,
        now + TimeDelta::hours(VERIFICATION_LINK_HOURS),
    )?;
    let mail = LinkMail::VerifyEmail {
        email: email.to_string(),
        link: link(state, "verify-email", &token.token),
    };
    notifications::queue_link(state, connection, account, email, &mail, now)
}

/// Sends the verification mails sign-ups owe whose allowance has freed up (housekeeping runs
/// it). A debt older than [`OWED_VERIFICATION_HOURS`], or whose address is verified or
/// gone, is dropped. Answers how many mails were queued.
pub async fn mail_owed_verifications(state: &AppState) -> Result<usize, ServiceError> {
    const PAGE: i64 = 100;
    let now = state.now();
    let mut sent = 0;
    // Addresses found full in this pass: their other debtors wait for the next one.
    let mut full = std::collections::HashSet::new();
    let mut after = None;
    loop {
        let page = state
            .database
            .run(move |connection| accounts::owing_verification_mail(connection, after, PAGE))
            .await?;
        let Some(last) = page.last().cloned() else {
            break;
        };
        for (_, account_id) in &page {
            let (state, account_id, skip) = (state.clone(), account_id.clone(), full.clone());
            let outcome = state
                .database
                .clone()
                .transaction(move |connection| {
                    pay_owed_verification(&state, connection, &account_id, &skip, now)
                })
                .await?;
            match outcome {
                Owed::Sent => sent += 1,
                Owed::AddressFull(address) => {
                    full.insert(address);
                }
                Owed::Waiting | Owed::Dropped => {}
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
        after = Some(last);
    }
    Ok(sent)
}

enum Owed {
    Sent,
    /// The allowance is still used up (for this lower-cased address).
    AddressFull(String),
    Waiting,
    Dropped,
}

fn pay_owed_verification(
    state: &AppState,
    connection: &mut DbConnection,
    account_id: &str,
    full: &std::collections::HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Owed, ServiceError> {
    if !accounts::lock(connection, account_id)? {
        return Ok(Owed::Dropped);
    }
    let Some(owed_since) = accounts::verification_mail_owed_since(connection, account_id)? else {
        return Ok(Owed::Dropped);
    };
    let account = accounts::find_by_id(connection, account_id)?.ok_or(Refusal::NotFound)?;
    let address = match account.address_awaiting_verification() {
        Some(address) if now - owed_since <= TimeDelta::hours(OWED_VERIFICATION_HOURS) => {
            address.to_string()
        }
        _ => {
            accounts::settle_verification_mail(connection, account_id)?;
            return Ok(Owed::Dropped);
        }
    };
    if full.contains(&address.to_lowercase()) {
        return Ok(Owed::Waiting);
    }
    match throttle::begin(connection, &verification_allowance(&account, &address), now) {
        Ok(attempt) => {
            attempt.kept(connection)?;
            mail_verification_link(state, connection, &account, &address, now)?;
            Ok(Owed::Sent)
        }
        Err(ServiceError::Refused(Refusal::TooManyAttempts { .. })) => {
            Ok(Owed::AddressFull(address.to_lowercase()))
        }
        Err(error) => Err(error),
    }
}

/// Asks for a new address (a privileged action): it is kept pending, gets its link, and the
/// old verified address hears of it.
pub async fn request_change(
    state: &AppState,
    principal: &Principal,
    email: Email,
    proof: Option<Proof>,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let (account, email) = (principal.account.clone(), email.into_inner());
    proof::privileged(
        state,
        principal,
        proof,
        Rule::Privileged,
        Required::Account,
        origin,
        move |connection, admitted| {
            let Admitted { state, origin, .. } = admitted;
            accounts::set_pending_email(connection, &account.id, &email)?;
            send_verification(&state, connection, &account, &email, now)?;
            let detail = format!("new address {email} awaits verification");
            events::record(
                connection,
                &account.id,
                EventKind::EmailChanged,
                now,
                &origin,
                Some(&detail),
            )?;
            notifications::queue_notice(
                &state,
                connection,
                &account,
                Notice::EmailChangeRequested { new_email: email },
                &origin,
                now,
            )
        },
    )
    .await
}

/// Follows a verification link: the address it names is the account's, verified.
pub async fn verify(
    state: &AppState,
    token: &str,
    origin: &RequestOrigin,
) -> Result<String, ServiceError> {
    let now = state.now();
    let token_hash = opaque_token::hash(token);
    let origin = origin.clone();
    state
        .database
        .transaction(move |connection| {
            let link =
                email_tokens::find_live(connection, &token_hash, LinkPurpose::VerifyEmail, now)?
                    .ok_or(Refusal::InvalidLink)?;
            let email = link.email.ok_or(Refusal::InvalidLink)?;
            // The account row first, as every change of the address takes it.
            if !accounts::lock(connection, &link.account_id)? {
                return Err(Refusal::InvalidLink.into());
            }
            if !email_tokens::use_up(connection, &token_hash, LinkPurpose::VerifyEmail, now)? {
                return Err(Refusal::InvalidLink.into());
            }
            let replaced = accounts::find_by_id(connection, &link.account_id)?
                .and_then(|account| account.verified_email().map(str::to_string))
                .filter(|old| !old.eq_ignore_ascii_case(&email));
            // The account moved on to another address since: this link proves nothing now.
            if !accounts::verify_email(connection, &link.account_id, &email, now)? {
                return Err(Refusal::InvalidLink.into());
            }
            if replaced.is_some() {
                credential_change::apply(
                    connection,
                    &link.account_id,
                    CredentialChange::EmailChanged,
                    None,
                    now,
                )?;
            }
            events::record(
                connection,
                &link.account_id,
                EventKind::EmailVerified,
                now,
                &origin,
                Some(&email),
            )?;
            Ok(email)
        })
        .await
}

/// A forgotten password: answers the same, at once, whether or not the login names an
/// account. Only the client network's hourly limit can refuse (and it says nothing about
/// accounts); the lookup and the mail happen in the background.
pub async fn request_password_reset(
    state: &AppState,
    login: String,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    if login.chars().any(char::is_control) || login.trim().is_empty() {
        return Err(InvalidInput::field("login", "send a username or an e-mail address").into());
    }
    if let Some(ip) = origin.ip.as_deref() {
        let network = throttle::client_network(ip);
        let subject = Subject::ResetRequests { network };
        state
            .database
            .run(move |connection| throttle::begin(connection, &[subject], now)?.kept(connection))
            .await?;
    }
    let (state, origin) = (state.clone(), origin.clone());
    tokio::spawn(async move {
        if let Err(error) = mail_reset_links(&state, &login, &origin).await {
            tracing::warn!(%error, "password reset request failed");
        }
    });
    Ok(())
}

async fn mail_reset_links(
    state: &AppState,
    login: &str,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let login = login.trim().to_string();
    let by_address = login.contains('@');
    // Looked up outside the transaction, so each account's transaction begins with a write
    // (its row's lock): on SQLite a read first would fail, not wait, when requests race.
    let account_ids: Vec<String> = {
        let login = login.clone();
        state
            .database
            .run(move |connection| -> Result<_, ServiceError> {
                let accounts = if by_address {
                    accounts::find_by_verified_email(connection, &login)?
                } else {
                    accounts::find_by_username_key(connection, &Username::key_of(&login))?
                        .into_iter()
                        .collect()
                };
                Ok(accounts.into_iter().map(|account| account.id).collect())
            })
            .await?
    };
    for account_id in account_ids {
        let (state, login, origin) = (state.clone(), login.clone(), origin.clone());
        state
            .database
            .clone()
            .transaction(move |connection| -> Result<_, ServiceError> {
                if !accounts::lock(connection, &account_id)? {
                    return Ok(());
                }
                let Some(account) = accounts::find_by_id(connection, &account_id)? else {
                    return Ok(());
                };
                // Only a verified address receives reset links (read again under the lock: the
                // address may have changed since the lookup).
                let Some(recipient) = account.verified_email().map(str::to_string) else {
                    return Ok(());
                };
                if by_address && !recipient.eq_ignore_ascii_case(&login) {
                    return Ok(());
                }
                if !reset_mail_allowed(connection, &account, &origin, now)? {
                    return Ok(());
                }
                let token = opaque_token::generate();
                email_tokens::insert(
                    connection,
                    &token.hash,
                    &account.id,
                    LinkPurpose::ResetPassword,
                    None,
                    Some(&password_fingerprint(&account.password_hash)),
                    now,
                    now + TimeDelta::minutes(RESET_LINK_MINUTES),
                )?;
                let mail = LinkMail::ResetPassword {
                    link: link(&state, "reset-password", &token.token),
                };
                notifications::queue_link(&state, connection, &account, &recipient, &mail, now)?;
                tracing::info!(account = %account.id, ip = ?origin.ip, "password reset link queued");
                Ok(())
            })
            .await?;
    }
    Ok(())
}

/// Where a reset link's passkey ceremony waits: one per link, named by the hash of its token.
fn reset_ceremony(token_hash: &str) -> CeremonyKey {
    CeremonyKey::PasswordReset {
        link_hash: token_hash.to_string(),
    }
}

/// The request options for proving a password reset with a passkey, for the account of a live
/// reset link; the answer goes to [`confirm_password_reset`] as its second factor. A new call
/// replaces the link's earlier options. Every call counts against the client site's ceremonies
/// (kept whether or not the link is live), as passwordless sign-ins do: nobody signed in asks,
/// and each call is a row until it expires.
pub async fn password_reset_options(
    state: &AppState,
    token: &str,
    origin: &RequestOrigin,
) -> Result<serde_json::Value, ServiceError> {
    let now = state.now();
    let token_hash = opaque_token::hash(token);
    if let Some(site) = origin.ip.as_deref().map(throttle::client_site) {
        let subject = Subject::PasskeyCeremonies { site };
        state
            .database
            .run(move |connection| throttle::begin(connection, &[subject], now)?.kept(connection))
            .await?;
    }
    let state = state.clone();
    state
        .database
        .clone()
        .transaction(move |connection| {
            let account = live_reset_account(connection, &token_hash, now)?;
            // Ordered after any change of password or factors meanwhile, as the reset is.
            if !accounts::lock(connection, &account.id)? {
                return Err(Refusal::InvalidLink.into());
            }
            let account = live_reset_account(connection, &token_hash, now)?;
            let expires_at = now + TimeDelta::seconds(super::proof::CEREMONY_LIFETIME_SECS);
            super::proof::open_assertion(
                &state,
                connection,
                &account.id,
                &reset_ceremony(&token_hash),
                expires_at,
            )
        })
        .await
}

/// Whether a reset mail may go to the account now, counted if so: within its allowance (per
/// network, and from all networks together per hour and per day), and below
/// [`MAX_LIVE_RESET_LINKS`]. A new link never voids a live one, so however many strangers
/// ask, the holder's own link keeps working; using any one of them voids the others.
fn reset_mail_allowed(
    connection: &mut DbConnection,
    account: &Account,
    origin: &RequestOrigin,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let account_id = account.id.clone();
    let network = origin
        .ip
        .as_deref()
        .map_or_else(|| "unknown".to_string(), throttle::client_network);
    let allowance = [
        Subject::ResetMails {
            account_id: account_id.clone(),
            network,
        },
        Subject::ResetMailsToAccountHourly {
            account_id: account_id.clone(),
        },
        Subject::ResetMailsToAccountDaily { account_id },
    ];
    let attempt = match throttle::begin(connection, &allowance, now) {
        Ok(attempt) => attempt,
        Err(ServiceError::Refused(Refusal::TooManyAttempts { .. })) => return Ok(false),
        Err(error) => return Err(error),
    };
    // Counted while the allowance's rows are held, so racing requests see each other's links.
    let fingerprint = password_fingerprint(&account.password_hash);
    let live = email_tokens::count_live(
        connection,
        &account.id,
        LinkPurpose::ResetPassword,
        Some(&fingerprint),
        now,
    )?;
    if live >= MAX_LIVE_RESET_LINKS {
        attempt.released(connection)?;
        return Ok(false);
    }
    attempt.kept(connection)?;
    Ok(true)
}

/// Sets a new password with a reset link. With two-factor on, the code, a passkey's answer to
/// [`password_reset_options`] or a recovery code is required, counted like at sign-in; then
/// what [`CredentialChange::PasswordReset`] ends, ends.
pub async fn confirm_password_reset(
    state: &AppState,
    token: &str,
    new_password: &Password,
    factor: Option<SecondFactor>,
    origin: &RequestOrigin,
) -> Result<(), ServiceError> {
    let now = state.now();
    let token_hash = opaque_token::hash(token);
    let account = {
        let token_hash = token_hash.clone();
        state
            .database
            .run(move |connection| live_reset_account(connection, &token_hash, now))
            .await?
    };
    if account.two_factor_enabled() && factor.is_none() {
        return Err(Refusal::SecondFactorRequired.into());
    }
    super::password_policy::check_new_password(
        state,
        new_password,
        &account.username,
        account.email.as_deref(),
    )
    .await?;
    let new_hash = state.password_hasher.hash(new_password).await?;
    let (state, origin) = (state.clone(), origin.clone());
    state
        .database
        .clone()
        .transaction_committing_refusals(move |connection| {
            if !accounts::lock(connection, &account.id)? {
                return Err(Refusal::InvalidLink.into());
            }
            // Read again under the lock: two-factor may have been switched on, or the
            // password changed, while the new one was hashed.
            let account = live_reset_account(connection, &token_hash, now)?;
            if account.two_factor_enabled() && factor.is_none() {
                return Err(Refusal::SecondFactorRequired.into());
            }
            if let (Some(factor), true) = (&factor, account.two_factor_enabled()) {
                let mut subjects = vec![Subject::SecondFactor {
                    account_id: account.id.clone(),
                }];
                subjects.extend(proof::network_subject(&origin));
                let ceremony = reset_ceremony(&token_hash);
                match proof::verify_second_factor(
                    &state,
                    connection,
                    &account,
                    factor,
                    Some(&ceremony),
                    &subjects,
                    &origin,
                    now,
                )? {
                    Verdict::Accepted(attempt) => attempt.succeeded(connection)?,
                    Verdict::Refused(refusal) => {
                        // Someone holds the link but not the factor: the holder hears.
                        super::login::tell_of_wrong_code(
                            &state, connection, &account, &origin, now,
                        )?;
                        return Err(refusal.into());
                    }
                }
            }
            // The reset lands whole or not at all (a savepoint): a refusal below undoes it,
            // and keeps only what the proof counted.
            in_transaction(connection, |connection| {
                if !email_tokens::use_up(connection, &token_hash, LinkPurpose::ResetPassword, now)?
                {
                    return Err(Refusal::InvalidLink.into());
                }
                // Conditional on the hash the link was checked against: a change meanwhile
                // wins.
                if !accounts::replace_password_hash(
                    connection,
                    &account.id,
                    &account.password_hash,
                    &new_hash,
                )? {
                    return Err(Refusal::InvalidLink.into());
                }
                // Reset through the verified address (and the second factor): the holder's
                // again.
                accounts::clear_password_sign_in_block(connection, &account.id)?;
                credential_change::apply(
                    connection,
                    &account.id,
                    CredentialChange::PasswordReset,
                    None,
                    now,
                )?;
                notifications::record_and_notify(
                    &state,
                    connection,
                    &account,
                    EventKind::PasswordReset,
                    None,
                    Notice::PasswordReset,
                    &origin,
                    now,
                )
            })
        })
        .await
}

/// The account of a live reset link made under its current password.
fn live_reset_account(
    connection: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Account, ServiceError> {
    let link = email_tokens::find_live(connection, token_hash, LinkPurpose::ResetPassword, now)?
        .ok_or(Refusal::InvalidLink)?;
    let account =
        accounts::find_by_id(connection, &link.account_id)?.ok_or(Refusal::InvalidLink)?;
    let current = password_fingerprint(&account.password_hash);
    let made_under = link.password_fingerprint.unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        current.as_bytes(),
        made_under.as_bytes(),
    )) {
        return Err(Refusal::InvalidLink.into());
    }
    Ok(account)
}
