//! Registering OpenID Connect clients (the `custadmin oidc-client` commands), and client
//! authentication at the token and revocation endpoints.
//!
//! Client ids and secrets are 256 random bits from the OS, base64url; a secret is shown once
//! and kept as its SHA-256 (hex), compared in constant time.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{Refusal, ServiceError};
use super::AppState;
use crate::auth::oidc_tokens::IdTokenAlgorithm;
use crate::db::{oidc_clients, DbConnection};
use crate::domain::{parse_redirect_uri, InvalidInput, Label, OidcClient};

/// Every client id starts so: recognisable in logs and configuration.
pub const CLIENT_ID_PREFIX: &str = "ca_";
/// Redirect URIs (and post-logout redirect URIs) one client may register.
pub const MAX_REDIRECT_URIS: usize = 20;
/// Longer client ids or secrets are never ours: refused before any lookup.
const MAX_PRESENTED_CHARS: usize = 256;

/// What the operator asks to register, as given.
#[derive(Debug, Clone)]
pub struct OidcClientRegistration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// No secret: a native or browser app, PKCE alone.
    pub is_public: bool,
    pub require_two_factor: bool,
    pub offer_two_factor_setup: bool,
    /// `RS256` or `EdDSA`.
    pub id_token_algorithm: String,
}

/// A client secret, shown once.
pub struct ClientSecret(pub String);

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ClientSecret(<redacted>)")
    }
}

/// A client just registered, with its secret (confidential clients only).
#[derive(Debug)]
pub struct CreatedOidcClient {
    pub client: OidcClient,
    pub secret: Option<ClientSecret>,
}

fn random_base64url() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a client secret.
pub fn hash_secret(secret: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(secret.as_bytes()))
}

/// A new secret and its stored form.
fn new_secret() -> (ClientSecret, String) {
    let secret = random_base64url();
    let hash = hash_secret(&secret);
    (ClientSecret(secret), hash)
}

fn parse_uris(
    field: &'static str,
    uris: &[String],
    is_public: bool,
) -> Result<Vec<String>, InvalidInput> {
    let mut parsed: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris {
        let uri = parse_redirect_uri(field, uri, is_public)?;
        if !parsed.contains(&uri) {
            parsed.push(uri);
        }
    }
    if parsed.len() > MAX_REDIRECT_URIS {
        return Err(InvalidInput::field(
            field,
            format!("a client registers at most {MAX_REDIRECT_URIS} of these"),
        ));
    }
    Ok(parsed)
}

impl OidcClientRegistration {
    /// The client this registration describes, checked: a name of 1 to 100 characters, at
    /// least one redirect URI, every URI allowed ([`parse_redirect_uri`]), a known algorithm.
    pub fn parse(
        &self,
        id: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<OidcClient, InvalidInput> {
        let name = Label::parse("name", &self.name)?.into_string();
        let redirect_uris = parse_uris("redirect_uri", &self.redirect_uris, self.is_public)?;
        if redirect_uris.is_empty() {
            return Err(InvalidInput::field(
                "redirect_uri",
                "register at least one redirect URI",
            ));
        }
        let post_logout_redirect_uris = parse_uris(
            "post_logout_redirect_uri",
            &self.post_logout_redirect_uris,
            self.is_public,
        )?;
        let id_token_algorithm =
            IdTokenAlgorithm::parse(&self.id_token_algorithm).ok_or_else(|| {
                InvalidInput::field(
                    "id_token_alg",
                    format!(
                        "{:?} is not an ID token algorithm: RS256 or EdDSA",
                        self.id_token_algorithm
                    ),
                )
            })?;
        Ok(OidcClient {
            id,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            require_two_factor: self.require_two_factor,
            offer_two_factor_setup: self.offer_two_factor_setup,
            id_token_algorithm,
            is_public: self.is_public,
            created_at: now,
        })
    }
}

/// Registers a client; a confidential one gets a secret, answered here once.
pub async fn create(
    state: &AppState,
    registration: OidcClientRegistration,
) -> Result<CreatedOidcClient, ServiceError> {
    let id = format!("{CLIENT_ID_PREFIX}{}", random_base64url());
    let client = registration.parse(id, state.now())?;
    let secret = (!client.is_public).then(new_secret);
    let hash = secret.as_ref().map(|(_, hash)| hash.clone());
    let stored = client.clone();
    state
        .database
        .run(move |connection| {
            oidc_clients::insert(connection, &stored, hash.as_deref()).map_err(ServiceError::from)
        })
        .await?;
    tracing::info!(client_id = %client.id, name = %client.name, "registered an OpenID Connect client");
    Ok(CreatedOidcClient {
        client,
        secret: secret.map(|(secret, _)| secret),
    })
}

/// Every registered client, oldest first (no secrets: they are not kept).
pub async fn list(state: &AppState) -> Result<Vec<OidcClient>, ServiceError> {
    state
        .database
        .run(|connection| oidc_clients::list(connection).map_err(ServiceError::from))
        .await
}

/// Deletes the client and everything it was given (consents, grants and their refresh
/// tokens, codes, pending requests), at once. `NotFound` when there is no such client.
pub async fn delete(state: &AppState, client_id: &str) -> Result<(), ServiceError> {
    let client_id = client_id.to_string();
    let logged = client_id.clone();
    let deleted = state
        .database
        .transaction(move |connection| {
            oidc_clients::delete(connection, &client_id).map_err(ServiceError::from)
        })
        .await?;
    if !deleted {
        return Err(Refusal::NotFound.into());
    }
    tracing::info!(client_id = %logged, "deleted an OpenID Connect client");
    Ok(())
}

/// Gives a confidential client a new secret (the old one stops working at once), answered
/// here once. `NotFound` for no such client; a public client has no secret to rotate.
pub async fn rotate_secret(
    state: &AppState,
    client_id: &str,
) -> Result<ClientSecret, ServiceError> {
    let client_id = client_id.to_string();
    let logged = client_id.clone();
    let now = state.now();
    let (secret, hash) = new_secret();
    state
        .database
        .transaction(move |connection| {
            let client = oidc_clients::find(connection, &client_id)?.ok_or(Refusal::NotFound)?;
            if client.is_public {
                return Err(InvalidInput::field(
                    "client_id",
                    format!("{client_id} is a public client: it has no secret to rotate"),
                )
                .into());
            }
            if !oidc_clients::replace_secret(connection, &client_id, &hash, now)? {
                return Err(Refusal::NotFound.into());
            }
            Ok::<_, ServiceError>(())
        })
        .await?;
    tracing::info!(client_id = %logged, "rotated an OpenID Connect client's secret");
    Ok(secret)
}

/// A hash no secret has, compared against when the client is unknown, so an unknown client
/// costs what a known one does.
const NO_CLIENT_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Client authentication at the token and revocation endpoints. `secret` is None for method
/// `none`. A confidential client without a secret, a public client with one, an unknown
/// client or a wrong secret (constant-time) are all `Refusal::InvalidClient`.
pub fn authenticate(
    connection: &mut DbConnection,
    client_id: &str,
    secret: Option<&str>,
) -> Result<OidcClient, ServiceError> {
    if client_id.len() > MAX_PRESENTED_CHARS
        || secret.is_some_and(|s| s.len() > MAX_PRESENTED_CHARS)
    {
        return Err(Refusal::InvalidClient.into());
    }
    let presented = secret.map(hash_secret);
    match oidc_clients::find_with_secret_hash(connection, client_id)? {
        Some((client, None)) if secret.is_none() => Ok(client),
        Some((client, Some(stored))) => {
            let matches = presented
                .as_deref()
                .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(stored.as_bytes())));
            if matches {
                Ok(client)
            } else {
                Err(Refusal::InvalidClient.into())
            }
        }
        Some((_, None)) => Err(Refusal::InvalidClient.into()),
        None => {
            let presented = presented.as_deref().unwrap_or(NO_CLIENT_HASH);
            let _ = bool::from(presented.as_bytes().ct_eq(NO_CLIENT_HASH.as_bytes()));
            Err(Refusal::InvalidClient.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> OidcClientRegistration {
        OidcClientRegistration {
            name: "  Forum ".into(),
            redirect_uris: vec![
                "https://forum.example.com/cb".into(),
                "https://forum.example.com/cb".into(),
            ],
            post_logout_redirect_uris: vec!["https://forum.example.com/bye".into()],
            is_public: false,
            require_two_factor: true,
            offer_two_factor_setup: false,
            id_token_algorithm: "EdDSA".into(),
        }
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_registration_is_checked_and_normalised() {
        let client = registration().parse("ca_x".into(), now()).unwrap();
        assert_eq!(client.name, "Forum");
        assert_eq!(client.redirect_uris, vec!["https://forum.example.com/cb"]);
        assert_eq!(client.id_token_algorithm, IdTokenAlgorithm::EdDsa);
        assert!(!client.is_public);
        assert!(client.require_two_factor);
    }

    #[test]
    fn a_bad_registration_names_its_field() {
        let field = |registration: OidcClientRegistration| match registration
            .parse("ca_x".into(), now())
            .unwrap_err()
        {
            InvalidInput::Field { field, .. } => field,
            other => panic!("{other:?}"),
        };
        let mut no_uri = registration();
        no_uri.redirect_uris.clear();
        assert_eq!(field(no_uri), "redirect_uri");
        let mut plain_http = registration();
        plain_http.redirect_uris = vec!["http://forum.example.com/cb".into()];
        assert_eq!(field(plain_http), "redirect_uri");
        let mut bad_logout = registration();
        bad_logout.post_logout_redirect_uris = vec!["https://x.example/#a".into()];
        assert_eq!(field(bad_logout), "post_logout_redirect_uri");
        let mut bad_alg = registration();
        bad_alg.id_token_algorithm = "HS256".into();
        assert_eq!(field(bad_alg), "id_token_alg");
        let mut no_name = registration();
        no_name.name = "  ".into();
        assert_eq!(field(no_name), "name");
        let mut too_many = registration();
        too_many.redirect_uris = (0..=MAX_REDIRECT_URIS)
            .map(|n| format!("https://forum.example.com/cb{n}"))
            .collect();
        assert_eq!(field(too_many), "redirect_uri");
    }

    #[test]
    fn secrets_are_256_random_bits_kept_as_their_sha256() {
        let (first, hash) = new_secret();
        let (second, _) = new_secret();
        assert_ne!(first.0, second.0);
        assert_eq!(first.0.len(), 43);
        assert_eq!(hash, hash_secret(&first.0));
        assert_eq!(hash.len(), 64);
        assert!(!format!("{first:?}").contains(&first.0));
    }
}
