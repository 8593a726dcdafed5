//! Removal of rows that can no longer matter, so tables do not grow without bound.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{known_devices, login_throttles, otp_challenges, sessions, throttle_entries};
use super::DbConnection;
use super::DbError;
use crate::domain::clock::db_time;

/// What to prune: rows that ended, expired or went idle before these times.
#[derive(Debug, Clone)]
pub struct Cutoffs {
    pub sessions_ended_before: DateTime<Utc>,
    pub challenges_expired_before: DateTime<Utc>,
    /// Unlocked failure counters not touched since.
    pub throttles_idle_since: DateTime<Utc>,
    pub entries_before: DateTime<Utc>,
    pub devices_unused_since: DateTime<Utc>,
    pub links_expired_before: DateTime<Utc>,
    pub mails_finished_before: DateTime<Utc>,
    pub tokens_dead_before: DateTime<Utc>,
    pub ceremonies_expired_before: DateTime<Utc>,
    pub used_challenges_expired_before: DateTime<Utc>,
    /// Security events that last happened before this (`CUSTADMIN_EVENT_RETENTION_DAYS`).
    pub events_before: DateTime<Utc>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: usize,
    pub challenges: usize,
    pub throttles: usize,
    pub throttle_entries: usize,
    pub devices: usize,
    pub links: usize,
    pub mails: usize,
    pub api_tokens: usize,
    pub ceremonies: usize,
    pub used_challenges: usize,
    pub events: usize,
    /// OpenID Connect authorization requests and codes past their lifetime.
    pub oidc_requests: usize,
    pub oidc_codes: usize,
    /// Used or expired refresh tokens, and grants revoked long ago.
    pub oidc_refresh_tokens: usize,
    pub oidc_grants: usize,
}

impl Pruned {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Deletes sessions (with their refresh tokens) that ended, challenges that expired, idle
/// unlocked counters, windowed entries past every window, long-unused known devices, and
/// security events past their retention.
pub fn prune(connection: &mut DbConnection, cutoffs: &Cutoffs) -> Result<Pruned, DbError> {
    let sessions_before = db_time(cutoffs.sessions_ended_before);
    let idle_since = db_time(cutoffs.throttles_idle_since);
    let (oidc_refresh_tokens, oidc_grants) =
        super::oidc_grants::delete_dead(connection, cutoffs.sessions_ended_before)?;
    Ok(Pruned {
        sessions: diesel::delete(
            sessions::table.filter(
                sessions::expires_at
                    .lt(sessions_before)
                    .or(sessions::revoked_at.lt(sessions_before)),
            ),
        )
        .execute(connection)?,
        challenges: diesel::delete(
            otp_challenges::table
                .filter(otp_challenges::expires_at.lt(db_time(cutoffs.challenges_expired_before))),
        )
        .execute(connection)?,
        throttles: diesel::delete(
            login_throttles::table
                .filter(login_throttles::updated_at.lt(idle_since))
                .filter(
                    login_throttles::locked_until
                        .is_null()
                        .or(login_throttles::locked_until.lt(idle_since)),
                ),
        )
        .execute(connection)?,
        throttle_entries: diesel::delete(
            throttle_entries::table
                .filter(throttle_entries::at.lt(db_time(cutoffs.entries_before))),
        )
        .execute(connection)?,
        devices: diesel::delete(
            known_devices::table
                .filter(known_devices::last_used_at.lt(db_time(cutoffs.devices_unused_since))),
        )
        .execute(connection)?,
        links: super::email_tokens::prune_expired(connection, cutoffs.links_expired_before)?,
        mails: super::outbox::prune_finished(connection, cutoffs.mails_finished_before)?,
        api_tokens: super::api_tokens::prune_dead(connection, cutoffs.tokens_dead_before)?,
        ceremonies: super::ceremonies::delete_expired(
            connection,
            cutoffs.ceremonies_expired_before,
        )?,
        used_challenges: super::passwordless_challenges::delete_expired(
            connection,
            cutoffs.used_challenges_expired_before,
        )?,
        events: super::events::prune_older_than(connection, cutoffs.events_before)?,
        oidc_requests: super::oidc_authorization_requests::delete_expired(
            connection,
            cutoffs.challenges_expired_before,
        )?,
        // Kept as long as ended sessions are: a replayed code must still find the grant it
        // opened to revoke it.
        oidc_codes: super::oidc_codes::delete_expired(connection, cutoffs.sessions_ended_before)?,
        oidc_refresh_tokens,
        oidc_grants,
    })
}
