//! Delivering the outbox: every `serve` process runs [`run_periodically`]. A mail is leased
//! before it is sent and marked sent after, so a sender killed mid-send only delays it (the
//! lease runs out and another pass sends it: at least once). Temporary failures are retried
//! with exponential back-off for a day; permanent ones are given up at once and logged.

use chrono::{DateTime, TimeDelta, Utc};

use super::error::ServiceError;
use super::AppState;
use crate::db::outbox::{self, ClaimedMail};
use crate::mail::{MailBody, Mailer, SendError};

/// Retries stop this long after the mail was written.
pub const GIVE_UP_AFTER_HOURS: i64 = 24;
/// The first retry waits this long, doubling up to [`LONGEST_RETRY_WAIT_SECS`].
pub const FIRST_RETRY_WAIT_SECS: i64 = 5;
pub const LONGEST_RETRY_WAIT_SECS: i64 = 30 * 60;
const BATCH: i64 = 20;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub given_up: usize,
}

/// The wait before retry number `attempts` (1 after the first failure).
pub fn retry_wait(attempts: i32) -> TimeDelta {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let seconds = FIRST_RETRY_WAIT_SECS
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_RETRY_WAIT_SECS);
    TimeDelta::seconds(seconds)
}

/// Sends every mail due now that no one else holds.
pub async fn deliver_due(state: &AppState, mailer: &Mailer) -> Result<Delivery, ServiceError> {
    let now = state.now();
    let due = state
        .database
        .run(move |connection| outbox::due(connection, now, BATCH))
        .await?;
    let mut delivery = Delivery::default();
    for id in due {
        let now = state.now();
        let lease = TimeDelta::from_std(state.settings.mail_lease).unwrap_or(TimeDelta::minutes(2));
        let lease_until = now + lease;
        let claimed = state
            .database
            .run(move |connection| outbox::claim(connection, &id, now, lease_until))
            .await?;
        let Some(mail) = claimed else { continue };
        // Well within the lease, so no other sender takes the mail over while this one sends.
        let patience = (lease / 2)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(30));
        let sent = tokio::time::timeout(patience, send(state, mailer, &mail))
            .await
            .unwrap_or_else(|_| Err(SendError::Temporary("timed out".into())));
        match sent {
            Ok(place) => {
                tracing::info!(mail = %mail.id, to = %mail.recipient, %place, "mail sent");
                finish(state, &mail, Outcome::Sent).await?;
                crate::monitoring::mail_sent();
                delivery.sent += 1;
            }
            Err(SendError::Permanent(error)) => {
                tracing::error!(mail = %mail.id, to = %mail.recipient, %error, "mail refused for good; given up");
                finish(state, &mail, Outcome::GiveUp(error)).await?;
                crate::monitoring::mail_failed("given_up");
                delivery.given_up += 1;
            }
            Err(SendError::Temporary(error)) => {
                let now = state.now();
                if now - mail.created_at >= TimeDelta::hours(GIVE_UP_AFTER_HOURS) {
                    tracing::error!(mail = %mail.id, to = %mail.recipient, %error, "mail undeliverable for a day; given up");
                    finish(state, &mail, Outcome::GiveUp(error)).await?;
                    crate::monitoring::mail_failed("given_up");
                    delivery.given_up += 1;
                } else {
                    let next = now + retry_wait(mail.attempts);
                    tracing::warn!(mail = %mail.id, attempts = mail.attempts, %error, retry_at = %next, "mail not sent; will retry");
                    finish(state, &mail, Outcome::Retry(next, error)).await?;
                    crate::monitoring::mail_failed("retry");
                    delivery.retrying += 1;
                }
            }
        }
    }
    Ok(delivery)
}

async fn send(state: &AppState, mailer: &Mailer, mail: &ClaimedMail) -> Result<String, SendError> {
    let plaintext = state
        .secret_box
        .open(&mail.body_ciphertext, mail.id.as_bytes())
        .map_err(|error| SendError::Permanent(format!("body cannot be decrypted: {error}")))?;
    let body: MailBody = serde_json::from_slice(&plaintext)
        .map_err(|error| SendError::Permanent(format!("body is not a mail: {error}")))?;
    mailer
        .send(
            &state.settings.mail_from,
            &mail.recipient,
            &mail.subject,
            &body,
        )
        .await
}

enum Outcome {
    Sent,
    Retry(DateTime<Utc>, String),
    GiveUp(String),
}

async fn finish(
    state: &AppState,
    mail: &ClaimedMail,
    outcome: Outcome,
) -> Result<(), ServiceError> {
    let (id, lease, now) = (mail.id.clone(), mail.lease_until, state.now());
    Ok(state
        .database
        .run(move |connection| match outcome {
            Outcome::Sent => outbox::mark_sent(connection, &id, lease, now),
            Outcome::Retry(next, error) => outbox::reschedule(connection, &id, lease, next, &error),
            Outcome::GiveUp(error) => outbox::give_up(connection, &id, lease, now, &error),
        })
        .await?)
}

/// Delivers the outbox every second for as long as the server runs.
pub async fn run_periodically(state: AppState, mailer: Mailer) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = deliver_due(&state, &mailer).await {
            tracing::warn!(%error, "outbox delivery failed; will retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_five_seconds_to_half_an_hour() {
        let waits: Vec<i64> = (1..=11).map(|n| retry_wait(n).num_seconds()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800]);
        assert_eq!(retry_wait(i32::MAX).num_seconds(), 1800);
    }
}
