//! The registered OpenID Connect clients. A confidential client's secret is kept as its
//! SHA-256 (hex); the redirect URIs as JSON arrays.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    oidc_authorization_requests, oidc_clients, oidc_codes, oidc_consents, oidc_grants,
    oidc_refresh_tokens,
};
use super::{DbConnection, DbError};
use crate::auth::oidc_tokens::IdTokenAlgorithm;
use crate::domain::clock::{db_time, from_db_time};
use crate::domain::OidcClient;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = oidc_clients)]
struct OidcClientRecord {
    id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    require_two_factor: bool,
    offer_two_factor_setup: bool,
    id_token_signed_response_alg: String,
    created_at: NaiveDateTime,
}

impl OidcClientRecord {
    /// The client, and its secret's hash (`None` for a public client).
    fn into_client(self) -> Result<(OidcClient, Option<String>), DbError> {
        let uris = |text: &str, column: &str| {
            serde_json::from_str::<Vec<String>>(text).map_err(|error| {
                DbError::other(format!("oidc client {}: {column}: {error}", self.id))
            })
        };
        let client = OidcClient {
            redirect_uris: uris(&self.redirect_uris, "redirect_uris")?,
            post_logout_redirect_uris: uris(
                &self.post_logout_redirect_uris,
                "post_logout_redirect_uris",
            )?,
            id_token_algorithm: IdTokenAlgorithm::parse(&self.id_token_signed_response_alg)
                .ok_or_else(|| {
                    DbError::other(format!(
                        "oidc client {}: unknown id_token_signed_response_alg {:?}",
                        self.id, self.id_token_signed_response_alg
                    ))
                })?,
            is_public: self.secret_hash.is_none(),
            require_two_factor: self.require_two_factor,
            offer_two_factor_setup: self.offer_two_factor_setup,
            created_at: from_db_time(self.created_at),
            name: self.name,
            id: self.id,
        };
        Ok((client, self.secret_hash))
    }
}

fn json(uris: &[String]) -> Result<String, DbError> {
    serde_json::to_string(uris).map_err(|error| DbError::other(error.to_string()))
}

/// Registers `client`; `secret_hash` is `None` exactly for a public client.
pub fn insert(
    connection: &mut DbConnection,
    client: &OidcClient,
    secret_hash: Option<&str>,
) -> Result<(), DbError> {
    diesel::insert_into(oidc_clients::table)
        .values((
            oidc_clients::id.eq(&client.id),
            oidc_clients::name.eq(&client.name),
            oidc_clients::secret_hash.eq(secret_hash),
            oidc_clients::redirect_uris.eq(json(&client.redirect_uris)?),
            oidc_clients::post_logout_redirect_uris.eq(json(&client.post_logout_redirect_uris)?),
            oidc_clients::require_two_factor.eq(client.require_two_factor),
            oidc_clients::offer_two_factor_setup.eq(client.offer_two_factor_setup),
            oidc_clients::id_token_signed_response_alg.eq(client.id_token_algorithm.as_str()),
            oidc_clients::created_at.eq(db_time(client.created_at)),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn find(connection: &mut DbConnection, client_id: &str) -> Result<Option<OidcClient>, DbError> {
    Ok(find_with_secret_hash(connection, client_id)?.map(|(client, _)| client))
}

/// The client and its secret's hash (`None` for a public client).
pub fn find_with_secret_hash(
    connection: &mut DbConnection,
    client_id: &str,
) -> Result<Option<(OidcClient, Option<String>)>, DbError> {
    oidc_clients::table
        .find(client_id)
        .select(OidcClientRecord::as_select())
        .first(connection)
        .optional()?
        .map(OidcClientRecord::into_client)
        .transpose()
}

/// Every client, oldest first.
pub fn list(connection: &mut DbConnection) -> Result<Vec<OidcClient>, DbError> {
    oidc_clients::table
        .order((oidc_clients::created_at.asc(), oidc_clients::id.asc()))
        .select(OidcClientRecord::as_select())
        .load(connection)?
        .into_iter()
        .map(|record| record.into_client().map(|(client, _)| client))
        .collect()
}

/// Replaces a confidential client's secret; `false` when there is no such confidential
/// client (a public client has no secret to replace).
pub fn replace_secret(
    connection: &mut DbConnection,
    client_id: &str,
    secret_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbError> {
    let replaced = diesel::update(
        oidc_clients::table
            .find(client_id)
            .filter(oidc_clients::secret_hash.is_not_null()),
    )
    .set((
        oidc_clients::secret_hash.eq(Some(secret_hash)),
        oidc_clients::secret_rotated_at.eq(Some(db_time(now))),
    ))
    .execute(connection)?;
    Ok(replaced == 1)
}

/// Deletes the client with everything it was given: refresh tokens, grants, codes, pending
/// authorization requests and consents (explicitly, not trusting every SQLite connection to
/// enforce the foreign keys' cascade). `false` when there is no such client. Run it in a
/// transaction.
pub fn delete(connection: &mut DbConnection, client_id: &str) -> Result<bool, DbError> {
    let grants = oidc_grants::table
        .filter(oidc_grants::client_id.eq(client_id))
        .select(oidc_grants::id);
    diesel::delete(oidc_refresh_tokens::table.filter(oidc_refresh_tokens::grant_id.eq_any(grants)))
        .execute(connection)?;
    diesel::delete(oidc_grants::table.filter(oidc_grants::client_id.eq(client_id)))
        .execute(connection)?;
    diesel::delete(oidc_codes::table.filter(oidc_codes::client_id.eq(client_id)))
        .execute(connection)?;
    diesel::delete(
        oidc_authorization_requests::table
            .filter(oidc_authorization_requests::client_id.eq(client_id)),
    )
    .execute(connection)?;
    diesel::delete(oidc_consents::table.filter(oidc_consents::client_id.eq(client_id)))
        .execute(connection)?;
    let deleted = diesel::delete(oidc_clients::table.find(client_id)).execute(connection)?;
    Ok(deleted == 1)
}
