//! Authorization codes: stored as their SHA-256, redeemed once. The redemption claims the
//! code by one conditional `UPDATE ... WHERE used_at IS NULL` before anything about it is
//! checked, so a code is spent by its first presentation on any instance, right or wrong.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::oidc_codes as codes;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::oidc::{AuthorizationCode, OidcScopes};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = codes)]
struct CodeRecord {
    client_id: String,
    redirect_uri: String,
    account_id: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    session_id: String,
    auth_time: NaiveDateTime,
    amr: String,
    acr: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    grant_id: Option<String>,
}

impl From<CodeRecord> for AuthorizationCode {
    fn from(record: CodeRecord) -> Self {
        Self {
            client_id: record.client_id,
            redirect_uri: record.redirect_uri,
            account_id: record.account_id,
            scopes: OidcScopes::parse_lenient(&record.scope),
            nonce: record.nonce,
            code_challenge: record.code_challenge,
            session_id: record.session_id,
            auth_time: from_db_time(record.auth_time),
            amr: record.amr.split_whitespace().map(str::to_string).collect(),
            acr: record.acr,
            created_at: from_db_time(record.created_at),
            expires_at: from_db_time(record.expires_at),
        }
    }
}

pub fn insert(
    connection: &mut DbConnection,
    code_hash: &str,
    code: &AuthorizationCode,
) -> Result<(), DbError> {
    diesel::insert_into(codes::table)
        .values((
            codes::code_hash.eq(code_hash),
            codes::client_id.eq(&code.client_id),
            codes::redirect_uri.eq(&code.redirect_uri),
            codes::account_id.eq(&code.account_id),
            codes::scope.eq(code.scopes.to_text()),
            codes::nonce.eq(&code.nonce),
            codes::code_challenge.eq(&code.code_challenge),
            codes::session_id.eq(&code.session_id),
            codes::auth_time.eq(db_time(code.auth_time)),
            codes::amr.eq(code.amr.join(" ")),
            codes::acr.eq(&code.acr),
            codes::created_at.eq(db_time(code.created_at)),
            codes::expires_at.eq(db_time(code.expires_at)),
        ))
        .execute(connection)?;
    Ok(())
}

/// What presenting a code came to.
#[derive(Debug)]
pub enum CodeClaim {
    /// This presentation spent the code; it is to be checked now.
    Claimed(AuthorizationCode),
    /// Spent before: the grant its first redemption opened, if that redemption succeeded.
    Replayed {
        grant_id: Option<String>,
    },
    Unknown,
}

/// Spends the code (whatever it turns out to be worth) and answers it.
pub fn claim(
    connection: &mut DbConnection,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<CodeClaim, DbError> {
    let claimed = diesel::update(
        codes::table
            .find(code_hash)
            .filter(codes::used_at.is_null()),
    )
    .set(codes::used_at.eq(db_time(now)))
    .execute(connection)?;
    let Some(record) = codes::table
        .find(code_hash)
        .select(CodeRecord::as_select())
        .first(connection)
        .optional()?
    else {
        return Ok(CodeClaim::Unknown);
    };
    Ok(if claimed == 1 {
        CodeClaim::Claimed(record.into())
    } else {
        debug_assert!(record.used_at.is_some());
        CodeClaim::Replayed {
            grant_id: record.grant_id,
        }
    })
}

/// Notes the grant a redemption opened, for a replay to find.
pub fn set_grant(
    connection: &mut DbConnection,
    code_hash: &str,
    grant_id: &str,
) -> Result<(), DbError> {
    diesel::update(codes::table.find(code_hash))
        .set(codes::grant_id.eq(grant_id))
        .execute(connection)?;
    Ok(())
}

/// Deletes codes that expired before `before`. A replay after that finds nothing to revoke,
/// which is why `before` lies well past the codes' minute.
pub fn delete_expired(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(codes::table.filter(codes::expires_at.lt(db_time(before))))
            .execute(connection)?,
    )
}
