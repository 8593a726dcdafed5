//! The mail outbox: mails written in the transaction of the change they report, delivered
//! later by any instance. A mail is claimed with a lease by one conditional `UPDATE`, so two
//! instances never send the same mail in normal operation; a lease that runs out (the sender
//! died mid-send) makes it due again, so no mail is lost (at least once).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::outbox;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};

/// A mail claimed for sending.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    /// Encrypted under the secret key, with the mail id as associated data.
    pub body_ciphertext: String,
    pub created_at: DateTime<Utc>,
    /// Including this one.
    pub attempts: i32,
    /// The lease this sender holds: finishing is conditional on it, so a sender whose lease
    /// ran out cannot overwrite what the next one did.
    pub lease_until: DateTime<Utc>,
}

pub fn enqueue(
    connection: &mut DbConnection,
    id: &str,
    recipient: &str,
    subject: &str,
    body_ciphertext: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let now = db_time(now);
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(id),
            outbox::recipient.eq(recipient),
            outbox::subject.eq(subject),
            outbox::body_ciphertext.eq(Some(body_ciphertext)),
            outbox::created_at.eq(now),
            outbox::next_attempt_at.eq(now),
        ))
        .execute(connection)?;
    Ok(())
}

/// Mails neither sent nor given up, and when the oldest of them was written.
pub fn backlog(connection: &mut DbConnection) -> Result<(i64, Option<DateTime<Utc>>), DbError> {
    let (count, oldest): (i64, Option<NaiveDateTime>) = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::created_at),
        ))
        .first(connection)?;
    Ok((count, oldest.map(from_db_time)))
}

/// Mails due now and not leased to a live sender, oldest first.
pub fn due(
    connection: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, DbError> {
    let now = db_time(now);
    Ok(outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::lease_until
                .is_null()
                .or(outbox::lease_until.lt(now)),
        )
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(connection)?)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct ClaimedRecord {
    id: String,
    recipient: String,
    subject: String,
    body_ciphertext: Option<String>,
    created_at: NaiveDateTime,
    attempts: i32,
}

/// Leases the mail to this sender until `lease_until`, if nobody holds a live lease and it
/// is still unsent. Of concurrent claims (on any instance) exactly one gets the mail.
pub fn claim(
    connection: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<ClaimedMail>, DbError> {
    let now = db_time(now);
    let lease = db_time(lease_until);
    let claimed = diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::sent_at.is_null())
            .filter(outbox::failed_at.is_null())
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            ),
    )
    .set((
        outbox::lease_until.eq(Some(lease)),
        outbox::attempts.eq(outbox::attempts + 1),
    ))
    .execute(connection)?;
    if claimed != 1 {
        return Ok(None);
    }
    let record: ClaimedRecord = outbox::table
        .find(id)
        .select(ClaimedRecord::as_select())
        .first(connection)?;
    let Some(body_ciphertext) = record.body_ciphertext else {
        return Ok(None);
    };
    Ok(Some(ClaimedMail {
        id: record.id,
        recipient: record.recipient,
        subject: record.subject,
        body_ciphertext,
        created_at: from_db_time(record.created_at),
        attempts: record.attempts,
        lease_until: from_db_time(lease),
    }))
}

/// The mail `id` while this sender's lease on it holds.
fn held(
    id: &str,
    lease: DateTime<Utc>,
) -> diesel::dsl::Filter<
    diesel::dsl::Find<outbox::table, &str>,
    diesel::dsl::Eq<outbox::lease_until, NaiveDateTime>,
> {
    outbox::table
        .find(id)
        .filter(outbox::lease_until.eq(db_time(lease)))
}

/// Sent: the body (which may hold a link) is wiped; the row stays for the record a while.
pub fn mark_sent(
    connection: &mut DbConnection,
    id: &str,
    lease: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(held(id, lease))
        .set((
            outbox::sent_at.eq(Some(db_time(now))),
            outbox::body_ciphertext.eq(None::<String>),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(connection)?;
    Ok(())
}

/// Not delivered this time: try again at `next_attempt_at`.
pub fn reschedule(
    connection: &mut DbConnection,
    id: &str,
    lease: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<(), DbError> {
    diesel::update(held(id, lease))
        .set((
            outbox::next_attempt_at.eq(db_time(next_attempt_at)),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Never deliverable (refused for good, or retried for a day): the body is wiped.
pub fn give_up(
    connection: &mut DbConnection,
    id: &str,
    lease: DateTime<Utc>,
    now: DateTime<Utc>,
    error: &str,
) -> Result<(), DbError> {
    diesel::update(held(id, lease))
        .set((
            outbox::failed_at.eq(Some(db_time(now))),
            outbox::body_ciphertext.eq(None::<String>),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Deletes sent or abandoned mails finished before `before`.
pub fn prune_finished(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, DbError> {
    let before = db_time(before);
    Ok(diesel::delete(
        outbox::table.filter(outbox::sent_at.lt(before).or(outbox::failed_at.lt(before))),
    )
    .execute(connection)?)
}
