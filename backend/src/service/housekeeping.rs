//! Periodic clean-up of rows that no longer matter.

use chrono::TimeDelta;

use super::throttle::IP_WINDOW_SECS;
use super::AppState;
use crate::auth::clock::db_time;
use crate::db::housekeeping::{self, Pruned};
use crate::error::ApiError;

/// Ended sessions are kept this long for the record before they are deleted.
pub const KEEP_ENDED_SESSIONS_DAYS: i64 = 30;
/// A failure counter idle this long (and not locked) starts again from zero anyway.
pub const KEEP_IDLE_THROTTLES_DAYS: i64 = 1;
pub const INTERVAL_SECS: u64 = 600;

pub async fn prune(state: &AppState) -> Result<Pruned, ApiError> {
    let now = state.now();
    let sessions_before = db_time(now - TimeDelta::days(KEEP_ENDED_SESSIONS_DAYS));
    let challenges_before = db_time(now - TimeDelta::hours(1));
    let throttles_before = db_time(now - TimeDelta::days(KEEP_IDLE_THROTTLES_DAYS));
    let ip_failures_before = db_time(now - TimeDelta::seconds(IP_WINDOW_SECS));
    state
        .database
        .run(move |connection| {
            housekeeping::prune(
                connection,
                sessions_before,
                challenges_before,
                throttles_before,
                ip_failures_before,
            )
        })
        .await
}

/// Runs [`prune`] every ten minutes for as long as the server runs.
pub async fn run_periodically(state: AppState) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(INTERVAL_SECS));
    loop {
        interval.tick().await;
        match prune(&state).await {
            Ok(pruned) => tracing::debug!(?pruned, "housekeeping done"),
            Err(error) => tracing::warn!(%error, "housekeeping failed; will retry"),
        }
    }
}
