//! Stand-in for branch `oidc-keys`'s `db::oidc_clients::find` (the interface fixed in the
//! design); replaced by theirs at the merge.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::oidc_clients;
use super::{DbConnection, DbError};
use crate::domain::clock::from_db_time;
use crate::domain::oidc_client::OidcClient;

pub fn find(connection: &mut DbConnection, client_id: &str) -> Result<Option<OidcClient>, DbError> {
    type Row = (
        String,
        String,
        Option<String>,
        String,
        String,
        bool,
        bool,
        NaiveDateTime,
    );
    let row: Option<Row> = oidc_clients::table
        .find(client_id)
        .select((
            oidc_clients::id,
            oidc_clients::name,
            oidc_clients::secret_hash,
            oidc_clients::redirect_uris,
            oidc_clients::post_logout_redirect_uris,
            oidc_clients::require_two_factor,
            oidc_clients::offer_two_factor_setup,
            oidc_clients::created_at,
        ))
        .first(connection)
        .optional()?;
    Ok(row.map(
        |(id, name, secret, uris, logout_uris, require, offer, created_at)| OidcClient {
            id,
            name,
            redirect_uris: serde_json::from_str(&uris).unwrap_or_default(),
            post_logout_redirect_uris: serde_json::from_str(&logout_uris).unwrap_or_default(),
            require_two_factor: require,
            offer_two_factor_setup: offer,
            is_public: secret.is_none(),
            created_at: from_db_time(created_at),
        },
    ))
}
