//! What a change of a sign-in credential ends: one table, and the one function every use case
//! that changes a credential calls inside its transaction.
//!
//! The rule behind the table: a change that removes or replaces a credential (or the owner's
//! "sign out everywhere") ends everything the old credential could have been used to get, since
//! the owner may be reacting to a thief; a change that only adds a factor or an address ends
//! the half-finished things (trust, pending changes, links, ceremonies) but keeps the owner's
//! other sessions and API tokens, since ending those would help a thief inside the privileged
//! window more than it hurts one. The caller's own session always stays.

use chrono::{DateTime, Utc};

use super::error::ServiceError;
use crate::db::email_tokens::{self, LinkPurpose};
use crate::db::{
    accounts, api_tokens, ceremonies, devices, oidc_grants, sessions as session_store,
    two_factor as code_store, DbConnection,
};

/// A change of one of the account's sign-in credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialChange {
    /// The holder changed the password (proving the old one).
    PasswordChanged,
    /// The password was set through a mailed reset link.
    PasswordReset,
    /// The first second factor (TOTP or a passkey) switched two-factor on.
    TwoFactorSwitchedOn,
    /// A further second factor: a passkey, or TOTP beside passkeys.
    SecondFactorAdded,
    /// Two-factor switched off by the holder (disable, or the last passkey removed). TOTP
    /// re-enrolment is this followed by [`Self::TwoFactorSwitchedOn`].
    TwoFactorSwitchedOff,
    /// A passkey removed while another second factor remains.
    PasskeyRemoved,
    /// New recovery codes; the old ones stop working.
    RecoveryCodesRegenerated,
    /// A new address was verified in place of another verified one.
    EmailChanged,
    /// Support staff reset the second factor.
    SupportReset,
    /// The holder ended every other session ("sign out everywhere").
    SignOutEverywhere,
    /// The holder confirmed "this wasn't me" from a notice's link: nobody is signed in, and
    /// whoever did it may hold anything the account had.
    NotMe,
}

impl CredentialChange {
    pub const ALL: [Self; 11] = [
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::TwoFactorSwitchedOn,
        Self::SecondFactorAdded,
        Self::TwoFactorSwitchedOff,
        Self::PasskeyRemoved,
        Self::RecoveryCodesRegenerated,
        Self::EmailChanged,
        Self::SupportReset,
        Self::SignOutEverywhere,
        Self::NotMe,
    ];

    /// The revocation reason recorded on the sessions this change ends.
    pub fn reason(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::TwoFactorSwitchedOn => "two_factor_enabled",
            Self::SecondFactorAdded => "second_factor_added",
            Self::TwoFactorSwitchedOff => "two_factor_disabled",
            Self::PasskeyRemoved => "passkey_removed",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::EmailChanged => "email_changed",
            Self::SupportReset => "two_factor_reset_by_support",
            Self::SignOutEverywhere => "ended_by_user",
            Self::NotMe => "not_me_reported",
        }
    }

    /// The table: what this change ends.
    pub const fn ends(self) -> Ends {
        use Trust::*;
        const ALL_BUT_CALLER: Ends = Ends {
            other_sessions: true,
            trust: EveryDevice,
            api_tokens: true,
            pending_email_change: true,
            open_links: true,
            webauthn_ceremonies: true,
            sign_in_challenges: true,
            app_grants: true,
        };
        match self {
            Self::PasswordChanged
            | Self::TwoFactorSwitchedOn
            | Self::TwoFactorSwitchedOff
            | Self::PasskeyRemoved
            | Self::RecoveryCodesRegenerated
            | Self::SupportReset => ALL_BUT_CALLER,
            // Nobody is signed in: trust starts over from nothing.
            Self::PasswordReset | Self::NotMe => Ends {
                trust: ForgetEveryDevice,
                ..ALL_BUT_CALLER
            },
            Self::SecondFactorAdded => Ends {
                other_sessions: false,
                api_tokens: false,
                sign_in_challenges: false,
                app_grants: false,
                ..ALL_BUT_CALLER
            },
            // The address is a way back in (reset links), not a way in: what was mailed to
            // the old one dies, the rest stays.
            Self::EmailChanged => Ends {
                other_sessions: false,
                trust: Keep,
                api_tokens: false,
                sign_in_challenges: false,
                app_grants: false,
                ..ALL_BUT_CALLER
            },
            // The owner's own device stays trusted: it is the one pressing the button.
            Self::SignOutEverywhere => Ends {
                trust: EveryDeviceButCallers,
                ..ALL_BUT_CALLER
            },
        }
    }
}

/// What happens to remembered devices ("don't ask for a code on this device").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    Keep,
    /// Every device's trust ends, with the sessions it opened without a code.
    EveryDevice,
    /// As [`Self::EveryDevice`], but the device of the caller's session stays trusted.
    EveryDeviceButCallers,
    /// Every known device is forgotten (and so its trust and sessions end).
    ForgetEveryDevice,
}

/// One row of the table: each field says whether the change ends that kind of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends {
    /// Every session but the caller's.
    pub other_sessions: bool,
    /// Remembered devices, and the sessions their trust opened.
    pub trust: Trust,
    /// Integrators' API tokens.
    pub api_tokens: bool,
    /// An address waiting for its verification link.
    pub pending_email_change: bool,
    /// Unused password reset and e-mail verification links.
    pub open_links: bool,
    /// Passkey ceremonies started and not finished (registrations, proofs, sign-in steps).
    pub webauthn_ceremonies: bool,
    /// Sign-ins past the password step and waiting for their code.
    pub sign_in_challenges: bool,
    /// What relying parties were granted through OpenID Connect: their refresh tokens, and
    /// (through the grant check at UserInfo) their access tokens. The consents stay: the
    /// customer signs in to the app again without being asked.
    pub app_grants: bool,
}

/// Ends what `change` ends for the account, inside the caller's transaction (which holds the
/// account row's lock). `caller_session` is the session making the change, which stays.
pub fn apply(
    connection: &mut DbConnection,
    account_id: &str,
    change: CredentialChange,
    caller_session: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let ends = change.ends();
    match ends.trust {
        Trust::Keep => {}
        Trust::EveryDevice => {
            end_device_trust(connection, account_id, Devices::All, caller_session, now)?
        }
        Trust::EveryDeviceButCallers => {
            let own_device = match caller_session {
                Some(session) => {
                    session_store::find(connection, session)?.and_then(|session| session.device_id)
                }
                None => None,
            };
            let devices = match &own_device {
                Some(own) => Devices::AllBut(own),
                None => Devices::All,
            };
            end_device_trust(connection, account_id, devices, caller_session, now)?;
        }
        Trust::ForgetEveryDevice => {
            end_device_trust(connection, account_id, Devices::All, caller_session, now)?;
            devices::delete_all_for_account(connection, account_id)?;
        }
    }
    if ends.other_sessions {
        session_store::revoke_all_for_account(
            connection,
            account_id,
            caller_session,
            change.reason(),
            now,
        )?;
    }
    if ends.api_tokens {
        api_tokens::revoke_all_for_account(connection, account_id, now)?;
    }
    if ends.app_grants {
        oidc_grants::revoke_all_for_account(connection, account_id, change.reason(), now)?;
    }
    if ends.pending_email_change {
        accounts::clear_pending_email(connection, account_id)?;
    }
    if ends.open_links || ends.pending_email_change {
        email_tokens::void_all(connection, account_id, LinkPurpose::VerifyEmail, now)?;
    }
    // Not-me links stay: one in a "password changed" notice must still work after a thief
    // changed the password.
    if ends.open_links {
        email_tokens::void_all(connection, account_id, LinkPurpose::ResetPassword, now)?;
    }
    if ends.webauthn_ceremonies {
        ceremonies::delete_for_account(connection, account_id)?;
    }
    if ends.sign_in_challenges {
        code_store::consume_all_challenges(connection, account_id, now)?;
    }
    Ok(())
}

/// Which of the account's devices lose their trust.
#[derive(Debug, Clone, Copy)]
pub enum Devices<'a> {
    All,
    One(&'a str),
    AllBut(&'a str),
}

/// Ends the trust of the account's `which` devices and, at once, every session that trust
/// opened without a code (`amr` `mfa`), but `keep`: what trust let in ends with it. Inside the
/// caller's transaction; the revocation reaches every instance through the session check.
pub fn end_device_trust(
    connection: &mut DbConnection,
    account_id: &str,
    which: Devices<'_>,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    match which {
        Devices::All => devices::end_trust_for_account(connection, account_id)?,
        Devices::One(device) => devices::end_trust(connection, account_id, device)?,
        Devices::AllBut(device) => devices::end_trust_except(connection, account_id, device)?,
    }
    let (only, except) = match which {
        Devices::All => (None, None),
        Devices::One(device) => (Some(device), None),
        Devices::AllBut(device) => (None, Some(device)),
    };
    session_store::revoke_trusted_device_sessions(connection, account_id, only, except, keep, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_adding_a_factor_or_an_address_keeps_other_sessions_and_api_tokens() {
        for change in CredentialChange::ALL {
            let ends = change.ends();
            let additive = matches!(
                change,
                CredentialChange::SecondFactorAdded | CredentialChange::EmailChanged
            );
            assert_eq!(ends.other_sessions, !additive, "{change:?}");
            assert_eq!(ends.api_tokens, !additive, "{change:?}");
            // Apps lose their grants exactly when the account's own sessions end.
            assert_eq!(ends.app_grants, ends.other_sessions, "{change:?}");
            // Whatever changed, nothing half-finished survives it.
            assert!(ends.pending_email_change, "{change:?}");
            assert!(ends.open_links, "{change:?}");
            assert!(ends.webauthn_ceremonies, "{change:?}");
        }
    }
}
