//! Use cases: what custadmin does, as plain async functions over [`AppState`]. They know
//! nothing of HTTP; routes parse requests into domain types, call one of these, map the result.
//! Each answers [`error::ServiceError`] when it does not do what was asked: a
//! [`error::Refusal`] in domain words, input refused, or a fault (`crate::error` alone maps
//! them to HTTP problems). A refusal that must keep what was counted on the way (a wrong
//! code, a failure event) is answered from
//! [`crate::db::Database::transaction_committing_refusals`].

pub mod account;
pub mod api_tokens;
pub mod credential_change;
pub mod devices;
pub mod email;
pub mod error;
pub mod health;
pub mod housekeeping;
pub mod keys;
pub mod login;
pub mod not_me;
pub mod not_me_links;
pub mod notifications;
pub mod oidc;
pub mod outbox;
pub mod passkeys;
pub mod password_policy;
pub mod proof;
pub mod registration;
pub mod sessions;
pub mod support;
pub mod throttle;
pub mod token_networks;
pub mod two_factor;
pub mod two_factor_requirement;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::keys::KeyReloader;
use crate::auth::password::PasswordHasher;
use crate::auth::secret_box::SecretBox;
use crate::auth::tokens::TokenKeys;
use crate::breached_passwords::BreachedPasswords;
use crate::config::Settings;
use crate::db::accounts::Account;
use crate::db::Database;
use crate::domain::clock::{db_time, SharedClock};
use crate::domain::Role;

/// Everything a use case needs, built once at start-up and shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub database: Database,
    pub password_hasher: PasswordHasher,
    pub token_keys: TokenKeys,
    pub secret_box: SecretBox,
    /// Reads the key files again into `token_keys` and `secret_box` (shared with them).
    pub key_reloader: Arc<KeyReloader>,
    /// The passkey relying party of `settings.public_url`.
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// The range API new passwords are checked against, when one is configured.
    pub breached_passwords: Option<Arc<BreachedPasswords>>,
    pub clock: SharedClock,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        // Truncated like the database, so times read back compare equal to times written.
        db_time(self.clock.now()).and_utc()
    }
}

/// The signed-in caller of an account endpoint: a verified access token whose session is live.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: String,
    pub session_id: String,
    pub role: Role,
    /// When the session's sign-in happened, and with which methods (from the session row,
    /// which is authoritative over the token's copy).
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    /// The account as read with the session, in the same query, for this request.
    pub account: Account,
    /// Set when the caller is an integrator's API token rather than a signed-in session
    /// (`session_id` is then empty and `amr` holds no method).
    pub api_token: Option<ApiTokenAccess>,
    /// The account is past its deadline for a required second factor and has none: the
    /// caller may only set one up (see [`two_factor_requirement`]).
    pub two_factor_setup_only: bool,
}

/// What an API token caller may do.
#[derive(Debug, Clone)]
pub struct ApiTokenAccess {
    pub token_id: String,
    pub scopes: Vec<crate::domain::Scope>,
}
