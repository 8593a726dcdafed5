//! Who must have a second factor, and by when: the one place that decides.
//!
//! A requirement reaches an account through the operator's rule (`CUSTADMIN_REQUIRE_TWO_FACTOR`:
//! support agents, or everybody) or through support, for one customer. The account's deadline
//! is stored the first time a requirement is seen to reach it (at sign-up, sign-in or any
//! signed-in request), `CUSTADMIN_TWO_FACTOR_GRACE_DAYS` later, and cleared when no requirement
//! reaches it any more. It stays while the account has a second factor, so a factor lost later
//! (support reset it after a lost phone) is due again at once once the grace has passed.
//!
//! Past the deadline without a second factor, a password opens only a set-up session: it may
//! read the account, set up TOTP or a passkey, and sign out (the routes' `SettingUp` callers);
//! everything else, API tokens included, answers `two_factor_setup_required`. Switching the
//! last factor off is allowed (it is how TOTP moves to a new phone): past the deadline, the
//! session that did it is a set-up session at once.

use chrono::{DateTime, Utc};

use crate::config::{Settings, TwoFactorRule};
use crate::db::accounts::{self, Account};
use crate::db::{DbConnection, DbError};
use crate::domain::Role;

use super::error::ServiceError;
use super::notifications::{self, LinkMail};
use super::AppState;

/// Where an account stands against the requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No requirement reaches the account.
    Free,
    /// Required, and the account has a second factor.
    Met,
    /// Required and missing: full sign-ins until `by`.
    Due { by: DateTime<Utc> },
    /// Required, missing, and past the deadline `since`: set-up sessions only.
    Overdue { since: DateTime<Utc> },
}

impl Standing {
    /// The deadline the customer is shown: only while a factor is missing.
    pub fn required_by(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Due { by } | Self::Overdue { since: by } => Some(by),
            Self::Free | Self::Met => None,
        }
    }

    /// Past the deadline without a second factor: set-up sessions only.
    pub fn is_overdue(self) -> bool {
        matches!(self, Self::Overdue { .. })
    }

    pub fn is_required(self) -> bool {
        self != Self::Free
    }

    /// Whether what acts for the holder without them present (an integrator's API token, a
    /// relying party's grant at refresh and UserInfo) may act now. Past the deadline only the
    /// holder, signed in with the password, may act, and only to set up a second factor.
    pub fn admits_delegates(self) -> bool {
        !self.is_overdue()
    }
}

/// Whether a requirement reaches the account.
pub fn reaches(settings: &Settings, account: &Account) -> bool {
    let by_rule = match settings.two_factor_rule {
        TwoFactorRule::Off => false,
        TwoFactorRule::Support => account.role == Role::Support,
        TwoFactorRule::All => true,
    };
    by_rule || account.two_factor_required_by_support_at.is_some()
}

/// The account's standing at `now`. A requirement not yet stored counts from `now`, as
/// [`settle`] is about to store it.
pub fn standing(settings: &Settings, account: &Account, now: DateTime<Utc>) -> Standing {
    if !reaches(settings, account) {
        return Standing::Free;
    }
    if account.two_factor_enabled() {
        return Standing::Met;
    }
    match account.two_factor_deadline {
        Some(deadline) if deadline <= now => Standing::Overdue { since: deadline },
        Some(deadline) => Standing::Due { by: deadline },
        None => Standing::Due {
            by: deadline_from(settings, now),
        },
    }
}

/// Whether the stored deadline disagrees with the requirement, so [`settle`] has work to do.
pub fn unsettled(settings: &Settings, account: &Account) -> bool {
    reaches(settings, account) != account.two_factor_deadline.is_some()
}

/// Stores the deadline of an account a requirement newly reaches, or clears that of one it
/// no longer reaches; updates `account` to match. Of instances doing this at once, the first
/// deadline stored stands.
pub fn settle(
    connection: &mut DbConnection,
    settings: &Settings,
    account: &mut Account,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if !unsettled(settings, account) {
        return Ok(());
    }
    if reaches(settings, account) {
        let deadline = deadline_from(settings, now);
        if !accounts::start_two_factor_deadline(connection, &account.id, deadline)? {
            // Another instance stored one first: take it.
            if let Some(stored) = accounts::find_by_id(connection, &account.id)? {
                account.two_factor_deadline = stored.two_factor_deadline;
            }
            return Ok(());
        }
        account.two_factor_deadline = Some(deadline);
    } else {
        accounts::set_two_factor_deadline(connection, &account.id, None)?;
        account.two_factor_deadline = None;
    }
    Ok(())
}

/// The account a delegate (an API token, an app's grant) acts for, read inside the caller's
/// transaction, if the delegate may act for it now (see [`Standing::admits_delegates`]):
/// `None` for an account deleted, or past its deadline for a required second factor without
/// one. The requirement is settled first, as at any signed-in request.
pub fn account_admitting_delegates(
    connection: &mut DbConnection,
    settings: &Settings,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Account>, DbError> {
    let Some(mut account) = accounts::find_by_id(connection, account_id)? else {
        return Ok(None);
    };
    settle(connection, settings, &mut account, now)?;
    Ok(standing(settings, &account, now)
        .admits_delegates()
        .then_some(account))
}

/// [`settle`]s the account, when it needs it, in a run of its own (the request path reads
/// accounts without a transaction; this writes once per account and requirement), and answers
/// its standing.
pub async fn standing_now(
    state: &AppState,
    account: &mut Account,
    now: DateTime<Utc>,
) -> Result<Standing, DbError> {
    if unsettled(&state.settings, account) {
        let (settings, mut settled) = (state.settings.clone(), account.clone());
        *account = state
            .database
            .run(move |connection| {
                settle(connection, &settings, &mut settled, now)?;
                Ok::<_, DbError>(settled)
            })
            .await?;
    }
    Ok(standing(&state.settings, account, now))
}

fn deadline_from(settings: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    let grace =
        chrono::TimeDelta::from_std(settings.two_factor_grace).unwrap_or(chrono::TimeDelta::MAX);
    now.checked_add_signed(grace)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The reminders mailed before a deadline, in days left; each goes once.
pub const REMINDER_DAYS: [i32; 2] = [7, 1];

/// How many reminders one housekeeping round queues at most, per kind.
const REMINDERS_PER_ROUND: i64 = 500;

/// Queues the reminder mails owed: to each account still without a second factor whose
/// deadline is at most 7 days (then 1 day) away, once each, in the account's language. An
/// account whose deadline is already that close when it starts gets only the nearest one.
/// Each reminder is claimed under a conditional update in the transaction that queues it, so
/// instances running this at once send it once. Answers how many were queued.
pub async fn queue_reminders(state: &AppState) -> Result<usize, ServiceError> {
    let now = state.now();
    let link = format!("{}/account", state.settings.public_url);
    let state_for_db = state.clone();
    state
        .database
        .transaction(move |connection| -> Result<usize, ServiceError> {
            let mut queued = 0;
            // Nearest first: whoever is a day away gets the 1-day reminder, not both.
            for days in REMINDER_DAYS.into_iter().rev() {
                let until = now + chrono::TimeDelta::days(i64::from(days));
                let owed = accounts::owed_two_factor_reminder(
                    connection,
                    now,
                    until,
                    days,
                    REMINDERS_PER_ROUND,
                )?;
                for account in owed {
                    let Some(by) = account.two_factor_deadline else {
                        continue;
                    };
                    // Claimed (and so never sent twice) even without an address to send to.
                    if !accounts::claim_two_factor_reminder(connection, &account.id, days)? {
                        continue;
                    }
                    if !reaches(&state_for_db.settings, &account) {
                        continue;
                    }
                    let Some(recipient) = account.verified_email() else {
                        continue;
                    };
                    let mail = LinkMail::TwoFactorDeadline {
                        by,
                        link: link.clone(),
                    };
                    notifications::queue_link(
                        &state_for_db,
                        connection,
                        &account,
                        recipient,
                        &mail,
                        now,
                    )?;
                    queued += 1;
                }
            }
            Ok(queued)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn account(role: Role) -> Account {
        Account {
            id: "a".into(),
            username: "alice".into(),
            username_key: "alice".into(),
            email: None,
            password_hash: String::new(),
            role,
            created_at: Utc::now(),
            totp_secret_ciphertext: None,
            totp_enabled_at: None,
            totp_last_used_step: 0,
            totp_pending_ciphertext: None,
            totp_pending_created_at: None,
            language: None,
            email_verified_at: None,
            pending_email: None,
            two_factor_enabled_at: None,
            two_factor_deadline: None,
            two_factor_required_by_support_at: None,
        }
    }

    fn settings(rule: TwoFactorRule) -> Settings {
        let mut settings = Settings::defaults();
        settings.two_factor_rule = rule;
        settings.two_factor_grace = std::time::Duration::from_secs(14 * 24 * 3600);
        settings
    }

    #[test]
    fn the_rule_reaches_support_agents_everybody_or_nobody_and_support_reaches_one() {
        let (customer, agent) = (account(Role::Customer), account(Role::Support));
        assert!(!reaches(&settings(TwoFactorRule::Off), &agent));
        assert!(reaches(&settings(TwoFactorRule::Support), &agent));
        assert!(!reaches(&settings(TwoFactorRule::Support), &customer));
        assert!(reaches(&settings(TwoFactorRule::All), &customer));
        let required = Account {
            two_factor_required_by_support_at: Some(Utc::now()),
            ..customer
        };
        assert!(reaches(&settings(TwoFactorRule::Off), &required));
    }

    #[test]
    fn a_missing_factor_is_due_until_the_deadline_then_overdue() {
        let settings = settings(TwoFactorRule::All);
        let now = Utc::now();
        let fresh = account(Role::Customer);
        assert_eq!(
            standing(&settings, &fresh, now),
            Standing::Due {
                by: now + TimeDelta::days(14)
            }
        );
        let stored = Account {
            two_factor_deadline: Some(now + TimeDelta::days(3)),
            ..fresh.clone()
        };
        assert_eq!(
            standing(&settings, &stored, now).required_by(),
            Some(now + TimeDelta::days(3))
        );
        assert!(standing(&settings, &stored, now + TimeDelta::days(3)).is_overdue());
        let with_factor = Account {
            two_factor_enabled_at: Some(now),
            ..stored
        };
        assert_eq!(
            standing(&settings, &with_factor, now + TimeDelta::days(30)),
            Standing::Met
        );
        assert_eq!(
            standing(&self::settings(TwoFactorRule::Off), &fresh, now),
            Standing::Free
        );
    }
}
