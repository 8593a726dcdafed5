//! Authorization requests waiting for the customer in the SPA. Stored under the SHA-256 of
//! their id (the id is a bearer secret in the SPA's URL) and completed once: approve and deny
//! both claim the request by one conditional `UPDATE ... WHERE completed_at IS NULL`, so two
//! answers racing on any instance cannot both issue a code.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::oidc_authorization_requests as requests;
use super::DbConnection;
use super::DbError;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::oidc::{AcrRequirement, AuthorizationRequest, OidcScopes, Prompt};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = requests)]
struct RequestRecord {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Option<String>,
    max_age: Option<i64>,
    login_hint: Option<String>,
    ui_locales: Option<String>,
    acr: Option<String>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl From<RequestRecord> for AuthorizationRequest {
    fn from(record: RequestRecord) -> Self {
        Self {
            client_id: record.client_id,
            redirect_uri: record.redirect_uri,
            scopes: OidcScopes::parse_lenient(&record.scope),
            state: record.state,
            nonce: record.nonce,
            code_challenge: record.code_challenge,
            // Written by `insert` from a parsed prompt.
            prompt: record
                .prompt
                .as_deref()
                .and_then(Prompt::parse)
                .unwrap_or_default(),
            max_age: record.max_age,
            login_hint: record.login_hint,
            ui_locales: record.ui_locales,
            acr: record.acr.as_deref().and_then(AcrRequirement::from_acr),
            created_at: from_db_time(record.created_at),
            expires_at: from_db_time(record.expires_at),
        }
    }
}

pub fn insert(
    connection: &mut DbConnection,
    id_hash: &str,
    request: &AuthorizationRequest,
) -> Result<(), DbError> {
    diesel::insert_into(requests::table)
        .values((
            requests::id_hash.eq(id_hash),
            requests::client_id.eq(&request.client_id),
            requests::redirect_uri.eq(&request.redirect_uri),
            requests::scope.eq(request.scopes.to_text()),
            requests::state.eq(&request.state),
            requests::nonce.eq(&request.nonce),
            requests::code_challenge.eq(&request.code_challenge),
            requests::prompt.eq(request.prompt.to_text()),
            requests::max_age.eq(request.max_age),
            requests::login_hint.eq(&request.login_hint),
            requests::ui_locales.eq(&request.ui_locales),
            requests::acr.eq(request.acr.map(AcrRequirement::as_acr)),
            requests::created_at.eq(db_time(request.created_at)),
            requests::expires_at.eq(db_time(request.expires_at)),
        ))
        .execute(connection)?;
    Ok(())
}

/// The request with this id hash, if it is neither completed nor expired.
pub fn find_open(
    connection: &mut DbConnection,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<AuthorizationRequest>, DbError> {
    Ok(requests::table
        .find(id_hash)
        .filter(requests::completed_at.is_null())
        .filter(requests::expires_at.gt(db_time(now)))
        .select(RequestRecord::as_select())
        .first(connection)
        .optional()?
        .map(AuthorizationRequest::from))
}

/// Completes the request if it is still open: `false` when it was completed (on any
/// instance) or expired meanwhile.
pub fn complete(
    connection: &mut DbConnection,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let now = db_time(now);
    let claimed = diesel::update(
        requests::table
            .find(id_hash)
            .filter(requests::completed_at.is_null())
            .filter(requests::expires_at.gt(now)),
    )
    .set(requests::completed_at.eq(now))
    .execute(connection)?;
    Ok(claimed == 1)
}

/// Deletes requests that expired before `before` (completed ones too).
pub fn delete_expired(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(
        diesel::delete(requests::table.filter(requests::expires_at.lt(db_time(before))))
            .execute(connection)?,
    )
}
