//! The values sealed under the secret-encryption keys, found by the key they name, for a key
//! rotation to count and seal anew. Every sealed value is bound to its row's id (the associated
//! data), so a value and its row id are all the rotation needs.

use diesel::prelude::*;

use super::schema::{accounts, outbox, recovery_codes};
use super::{DbConnection, DbError};
use crate::auth::secret_box::{key_prefix_pattern, ORIGINAL_KEY_ID};

/// Where sealed values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `accounts.totp_secret_ciphertext`, bound to the account id.
    TotpSecret,
    /// `accounts.totp_pending_ciphertext`: an enrolment awaiting its first code.
    PendingTotpSecret,
    /// `outbox.body_ciphertext`: mails not sent yet, bound to the mail id.
    MailBody,
}

impl SealedColumn {
    pub const ALL: [Self; 3] = [Self::TotpSecret, Self::PendingTotpSecret, Self::MailBody];

    /// As `keys status` says it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TotpSecret => "TOTP secrets",
            Self::PendingTotpSecret => "pending TOTP enrolments",
            Self::MailBody => "queued mail bodies",
        }
    }
}

/// A sealed value and the id of its row (its associated data).
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub row_id: String,
    pub sealed: String,
}

/// Applies `$body` to the column's table and column (one arm per column, diesel's columns
/// being types).
macro_rules! with_column {
    ($column:expr, |$table:ident, $id:ident, $value:ident| $body:expr) => {
        match $column {
            SealedColumn::TotpSecret => {
                #[allow(unused_imports)]
                use accounts::id as $id;
                use accounts::table as $table;
                use accounts::totp_secret_ciphertext as $value;
                $body
            }
            SealedColumn::PendingTotpSecret => {
                #[allow(unused_imports)]
                use accounts::id as $id;
                use accounts::table as $table;
                use accounts::totp_pending_ciphertext as $value;
                $body
            }
            SealedColumn::MailBody => {
                use outbox::body_ciphertext as $value;
                #[allow(unused_imports)]
                use outbox::id as $id;
                use outbox::table as $table;
                $body
            }
        }
    };
}

/// How many values of the column key `key_id` sealed (with its prefix, or bare for key 1).
pub fn count_under_key(
    connection: &mut DbConnection,
    column: SealedColumn,
    key_id: u32,
) -> Result<i64, DbError> {
    let pattern = key_prefix_pattern(key_id);
    let prefixed: i64 = with_column!(column, |table, id, value| table
        .filter(value.like(&pattern))
        .count()
        .get_result(connection)?);
    let bare: i64 = if key_id == ORIGINAL_KEY_ID {
        with_column!(column, |table, id, value| table
            .filter(value.not_like("%:%"))
            .count()
            .get_result(connection)?)
    } else {
        0
    };
    Ok(prefixed + bare)
}

/// Up to `limit` values of the column not sealed under key `current`, in row id order after
/// `after`: a pass walks the table once, whatever it cannot change.
pub fn not_under_key(
    connection: &mut DbConnection,
    column: SealedColumn,
    current: u32,
    after: &str,
    limit: i64,
) -> Result<Vec<SealedValue>, DbError> {
    let pattern = key_prefix_pattern(current);
    let rows: Vec<(String, Option<String>)> = with_column!(column, |table, id, value| table
        .filter(value.is_not_null())
        .filter(value.not_like(&pattern))
        .filter(id.gt(after))
        .order(id.asc())
        .limit(limit)
        .select((id, value))
        .load(connection)?);
    Ok(rows
        .into_iter()
        .filter_map(|(row_id, sealed)| sealed.map(|sealed| SealedValue { row_id, sealed }))
        .collect())
}

/// Puts `new` in place of `old`, only if the row still holds `old` (it may have changed since
/// it was read: a new secret, a mail sent). `true` when it did.
pub fn replace_if_unchanged(
    connection: &mut DbConnection,
    column: SealedColumn,
    row_id: &str,
    old: &str,
    new: &str,
) -> Result<bool, DbError> {
    let updated = with_column!(column, |table, id, value| diesel::update(
        table.filter(id.eq(row_id)).filter(value.eq(old))
    )
    .set(value.eq(new))
    .execute(connection)?);
    Ok(updated == 1)
}

/// How many unused recovery codes were hashed with key `key_id`'s hashing part.
pub fn count_recovery_codes_under_key(
    connection: &mut DbConnection,
    key_id: u32,
) -> Result<i64, DbError> {
    let unused = || recovery_codes::table.filter(recovery_codes::used_at.is_null());
    let prefixed: i64 = unused()
        .filter(recovery_codes::code_hash.like(key_prefix_pattern(key_id)))
        .count()
        .get_result(connection)?;
    let bare: i64 = if key_id == ORIGINAL_KEY_ID {
        unused()
            .filter(recovery_codes::code_hash.not_like("%:%"))
            .count()
            .get_result(connection)?
    } else {
        0
    };
    Ok(prefixed + bare)
}
