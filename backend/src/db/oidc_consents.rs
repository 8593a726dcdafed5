//! What customers allowed relying parties to see: one row per account and client, its scopes
//! widened as later requests ask for more.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::oidc_consents as consents;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::oidc::{OidcConsent, OidcScopes};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = consents)]
struct ConsentRecord {
    account_id: String,
    client_id: String,
    scope: String,
    granted_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<ConsentRecord> for OidcConsent {
    fn from(record: ConsentRecord) -> Self {
        Self {
            account_id: record.account_id,
            client_id: record.client_id,
            scopes: OidcScopes::parse_lenient(&record.scope),
            granted_at: from_db_time(record.granted_at),
            updated_at: from_db_time(record.updated_at),
        }
    }
}

pub fn find(
    connection: &mut DbConnection,
    account_id: &str,
    client_id: &str,
) -> Result<Option<OidcConsent>, DbError> {
    Ok(consents::table
        .find((account_id, client_id))
        .select(ConsentRecord::as_select())
        .first(connection)
        .optional()?
        .map(OidcConsent::from))
}

/// The consent, its row locked for the caller's transaction by a no-op update (as sessions
/// are): a removal racing a code's redemption is ordered before it (nothing to redeem
/// against) or after it (and then revokes the grant the redemption opened).
pub fn lock(
    connection: &mut DbConnection,
    account_id: &str,
    client_id: &str,
) -> Result<Option<OidcConsent>, DbError> {
    let touched = diesel::update(consents::table.find((account_id, client_id)))
        .set(consents::account_id.eq(consents::account_id))
        .execute(connection)?;
    if touched == 0 {
        return Ok(None);
    }
    find(connection, account_id, client_id)
}

/// The account's consents, oldest first.
pub fn for_account(
    connection: &mut DbConnection,
    account_id: &str,
) -> Result<Vec<OidcConsent>, DbError> {
    Ok(consents::table
        .filter(consents::account_id.eq(account_id))
        .order((consents::granted_at.asc(), consents::client_id.asc()))
        .select(ConsentRecord::as_select())
        .load(connection)?
        .into_iter()
        .map(OidcConsent::from)
        .collect())
}

/// Records a first consent.
pub fn insert(
    connection: &mut DbConnection,
    account_id: &str,
    client_id: &str,
    scopes: &OidcScopes,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(consents::table)
        .values((
            consents::account_id.eq(account_id),
            consents::client_id.eq(client_id),
            consents::scope.eq(scopes.to_text()),
            consents::granted_at.eq(db_time(now)),
            consents::updated_at.eq(db_time(now)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Replaces the scopes of an existing consent.
pub fn update_scopes(
    connection: &mut DbConnection,
    account_id: &str,
    client_id: &str,
    scopes: &OidcScopes,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(consents::table.find((account_id, client_id)))
        .set((
            consents::scope.eq(scopes.to_text()),
            consents::updated_at.eq(db_time(now)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Deletes the consent; answers whether there was one.
pub fn delete(
    connection: &mut DbConnection,
    account_id: &str,
    client_id: &str,
) -> Result<bool, DbError> {
    Ok(diesel::delete(consents::table.find((account_id, client_id))).execute(connection)? == 1)
}
