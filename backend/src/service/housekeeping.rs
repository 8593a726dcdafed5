//! Periodic clean-up of rows that no longer matter, so tables stay bounded, and the sending of
//! owed verification mails. Every `serve` process runs it; each delete is idempotent and each
//! owed mail is paid under its account row's lock, so instances may overlap freely.

use chrono::TimeDelta;

use super::error::ServiceError;
use super::throttle::LONGEST_WINDOW_SECS;
use super::AppState;
use crate::config::MAX_EVENT_RETENTION_DAYS;
use crate::db::housekeeping::{self, Cutoffs, Pruned};

/// Expired challenges are kept this long (at most) to explain late code attempts.
pub const KEEP_EXPIRED_CHALLENGES_SECS: i64 = 60 * 60;
/// A failure counter idle this long (and not locked) starts again from zero anyway. Far longer
/// than the longest lock, so pruning never shortens a back-off.
pub const KEEP_IDLE_THROTTLES_SECS: i64 = 24 * 60 * 60;
/// A known device not used for a year is forgotten (its cookie has expired too).
pub const KEEP_UNUSED_DEVICES_DAYS: i64 = 365;
/// Used or expired mail links are kept a day to explain late clicks.
pub const KEEP_EXPIRED_LINKS_SECS: i64 = 24 * 60 * 60;
/// Sent or abandoned mails are kept a week for the record (their bodies are wiped at once).
pub const KEEP_FINISHED_MAILS_SECS: i64 = 7 * 24 * 60 * 60;
/// Answered passwordless challenges outlive their state tokens by this much, a margin for
/// clocks of instances that disagree.
pub const KEEP_USED_CHALLENGES_SECS: i64 = 5 * 60;

pub async fn prune(state: &AppState) -> Result<Pruned, ServiceError> {
    let now = state.now();
    let retention = TimeDelta::from_std(state.settings.housekeeping_retention)
        .unwrap_or(TimeDelta::MAX)
        .min(TimeDelta::days(3650));
    let kept = |default_secs: i64| now - retention.min(TimeDelta::seconds(default_secs));
    // Not shortened by the retention: a counter must outlive its back-off to escalate it.
    let throttles_idle_since = now - TimeDelta::seconds(KEEP_IDLE_THROTTLES_SECS);
    let cutoffs = Cutoffs {
        sessions_ended_before: now - retention,
        challenges_expired_before: kept(KEEP_EXPIRED_CHALLENGES_SECS),
        throttles_idle_since,
        // Windowed entries older than the longest window count for nothing.
        entries_before: now - TimeDelta::seconds(LONGEST_WINDOW_SECS),
        devices_unused_since: now - TimeDelta::days(KEEP_UNUSED_DEVICES_DAYS),
        links_expired_before: kept(KEEP_EXPIRED_LINKS_SECS),
        mails_finished_before: kept(KEEP_FINISHED_MAILS_SECS),
        tokens_dead_before: now - retention,
        // A ceremony is worthless once expired; nothing to keep it for.
        ceremonies_expired_before: now,
        // Kept a little past their tokens' expiry (not shortened by the retention): a
        // replay must not reach an instance whose clock is behind after the record is gone.
        used_challenges_expired_before: now - TimeDelta::seconds(KEEP_USED_CHALLENGES_SECS),
        // Its own setting: the security log is kept for the record far longer than sessions.
        events_before: now
            - TimeDelta::from_std(state.settings.event_retention)
                .unwrap_or(TimeDelta::MAX)
                .min(TimeDelta::days(MAX_EVENT_RETENTION_DAYS.into())),
    };
    let pruned = state
        .database
        .run(move |connection| housekeeping::prune(connection, &cutoffs))
        .await?;
    for (table, rows) in [
        ("sessions", pruned.sessions),
        ("challenges", pruned.challenges),
        ("throttles", pruned.throttles),
        ("throttle_entries", pruned.throttle_entries),
        ("devices", pruned.devices),
        ("links", pruned.links),
        ("mails", pruned.mails),
        ("api_tokens", pruned.api_tokens),
        ("ceremonies", pruned.ceremonies),
        ("used_challenges", pruned.used_challenges),
        ("events", pruned.events),
        ("oidc_authorization_requests", pruned.oidc_requests),
        ("oidc_codes", pruned.oidc_codes),
        ("oidc_refresh_tokens", pruned.oidc_refresh_tokens),
        ("oidc_grants", pruned.oidc_grants),
    ] {
        crate::monitoring::rows_pruned(table, rows);
    }
    Ok(pruned)
}

/// Deletes `.eml` files (written when no relay is configured) older than a week: they hold
/// links that expired long ago. Answers how many went.
pub async fn prune_mail_files(state: &AppState) -> usize {
    if state.settings.smtp_url.is_some() {
        return 0;
    }
    let folder = state.settings.data_dir.join("mail");
    let keep = std::time::Duration::from_secs(KEEP_FINISHED_MAILS_SECS.unsigned_abs());
    tokio::task::spawn_blocking(move || {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
            .filter(|entry| {
                entry
                    .metadata()
                    .and_then(|meta| meta.modified())
                    .ok()
                    .and_then(|modified| modified.elapsed().ok())
                    .is_some_and(|age| age > keep)
            })
            .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
            .count()
    })
    .await
    .unwrap_or(0)
}

/// Runs [`prune`], and sends the verification mails sign-ups owe, every
/// `housekeeping_interval` for as long as the server runs.
pub async fn run_periodically(state: AppState) {
    let mut interval = tokio::time::interval(state.settings.housekeeping_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let files = prune_mail_files(&state).await;
        if files > 0 {
            tracing::info!(files, "housekeeping removed old mail files");
        }
        match prune(&state).await {
            Ok(pruned) if pruned.is_empty() => tracing::debug!("housekeeping: nothing to prune"),
            Ok(pruned) => tracing::info!(
                sessions = pruned.sessions,
                challenges = pruned.challenges,
                throttles = pruned.throttles,
                throttle_entries = pruned.throttle_entries,
                devices = pruned.devices,
                links = pruned.links,
                mails = pruned.mails,
                api_tokens = pruned.api_tokens,
                ceremonies = pruned.ceremonies,
                used_challenges = pruned.used_challenges,
                events = pruned.events,
                "housekeeping pruned rows"
            ),
            Err(error) => tracing::warn!(%error, "housekeeping failed; will retry"),
        }
        match super::two_factor_requirement::queue_reminders(&state).await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(queued, "housekeeping queued two-factor reminders"),
            Err(error) => tracing::warn!(%error, "two-factor reminders failed; will retry"),
        }
        match super::email::mail_owed_verifications(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "housekeeping sent owed verification mails"),
            Err(error) => tracing::warn!(%error, "owed verification mails failed; will retry"),
        }
    }
}
