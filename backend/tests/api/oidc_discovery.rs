//! The OpenID Provider's discovery document and keys, through the real server: what a
//! relying party reads first, and that the JWKS it names verifies the ID tokens and UserInfo
//! access tokens the provider issues. Client registration and client authentication on the
//! database.

use chrono::Utc;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_databases;
use custadmin::auth::oidc_tokens::{
    CustadminIdTokenClaims, IdTokenAlgorithm, IdTokenContent, OidcAccessContent, ACR_MFA,
};
use custadmin::db::schema::oidc_consents;
use custadmin::db::{oidc_clients as client_rows, DbError};
use custadmin::service::error::{Refusal, ServiceError};
use custadmin::service::oidc_clients::{self, OidcClientRegistration};

on_both_databases!(
    the_discovery_document_names_the_endpoints_under_the_public_url,
    the_jwks_it_names_verifies_freshly_issued_id_tokens_of_both_algorithms,
    the_jwks_verifies_userinfo_access_tokens_which_our_api_refuses,
    a_client_authenticates_only_as_it_was_registered,
    deleting_a_client_takes_what_it_was_given_with_it,
);

async fn discovery(app: &TestApp) -> Value {
    let reply = app.api.openid_configuration().await;
    reply.assert_ok().clone()
}

/// The RSA (or, with `kty` OKP, Ed25519) key of `kid` in the JWKS the document names.
async fn published_key(app: &TestApp, kid: &str) -> Value {
    let document = discovery(app).await;
    let jwks_uri = document["jwks_uri"].as_str().unwrap();
    let path = jwks_uri
        .strip_prefix(&app.state.settings.public_url)
        .expect("the JWKS is under the issuer");
    assert_eq!(path, "/.well-known/jwks.json");
    let jwks = app.api.jwks().await;
    jwks.assert_ok()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid)
        .cloned()
        .unwrap_or_else(|| panic!("kid {kid} in {}", jwks.body))
}

fn decoding_key(jwk: &Value) -> (DecodingKey, Algorithm) {
    match jwk["kty"].as_str().unwrap() {
        "RSA" => (
            DecodingKey::from_rsa_components(
                jwk["n"].as_str().unwrap(),
                jwk["e"].as_str().unwrap(),
            )
            .unwrap(),
            Algorithm::RS256,
        ),
        "OKP" => (
            DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap(),
            Algorithm::EdDSA,
        ),
        other => panic!("unexpected key type {other}"),
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn the_discovery_document_names_the_endpoints_under_the_public_url(app: TestApp) {
    let reply = app
        .api
        .openid_configuration()
        .header("origin", "https://rp.example")
        .await;
    let document = reply.assert_ok();
    let issuer = app.state.settings.public_url.clone();
    assert_eq!(document["issuer"], issuer.as_str());
    assert_ne!(
        document["issuer"], app.state.settings.issuer,
        "the public URL, not the API tokens' issuer"
    );
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("revocation_endpoint", "/oauth2/revoke"),
        ("end_session_endpoint", "/oauth2/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(document[field], format!("{issuer}{path}"), "{field}");
    }
    let expected = serde_json::json!({
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["urn:custadmin:acr:pwd", "urn:custadmin:acr:mfa", "urn:custadmin:acr:hwk"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["en", "cs"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    });
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&document[field], value, "{field}");
    }
    for claim in ["sub", "acr", "amr", "sid", "email", "email_verified"] {
        assert!(
            document["claims_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|listed| listed == claim),
            "{claim}"
        );
    }
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(
        header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("*"),
        "any relying party's browser code may read it"
    );
}

async fn the_jwks_it_names_verifies_freshly_issued_id_tokens_of_both_algorithms(app: TestApp) {
    let issuer = discovery(&app).await["issuer"]
        .as_str()
        .unwrap()
        .to_string();
    let amr = vec!["pwd".to_string(), "otp".to_string()];
    for algorithm in [IdTokenAlgorithm::Rs256, IdTokenAlgorithm::EdDsa] {
        let token = app
            .state
            .oidc_keys
            .issue_id_token(
                &IdTokenContent {
                    subject: "account-1",
                    client_id: "ca_forum",
                    nonce: Some("nonce-1"),
                    auth_time: Utc::now(),
                    acr: ACR_MFA,
                    amr: &amr,
                    session_id: "session-1",
                    access_token: None,
                },
                algorithm,
                Utc::now(),
            )
            .unwrap();
        let jwk = published_key(&app, &kid_of(&token)).await;
        let (key, jwk_algorithm) = decoding_key(&jwk);
        assert_eq!(jwk["alg"], algorithm.as_str());
        assert_eq!(jwk["use"], "sig");
        let mut validation = Validation::new(jwk_algorithm);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&["ca_forum"]);
        let claims = jsonwebtoken::decode::<CustadminIdTokenClaims>(&token, &key, &validation)
            .unwrap_or_else(|error| panic!("{algorithm:?}: {error}"))
            .claims;
        assert_eq!(claims.subject().as_str(), "account-1");
        assert_eq!(claims.nonce().unwrap().secret(), "nonce-1");
        assert_eq!(claims.additional_claims().sid, "session-1");
    }
}

async fn the_jwks_verifies_userinfo_access_tokens_which_our_api_refuses(app: TestApp) {
    let token = app
        .state
        .oidc_keys
        .issue_access_token(
            &OidcAccessContent {
                subject: "account-1",
                client_id: "ca_forum",
                scope: "openid",
                grant_id: "grant-1",
            },
            app.state.now(),
        )
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = published_key(&app, &kid_of(&token)).await;
    assert_eq!(jwk["kty"], "RSA");
    let (key, _) = decoding_key(&jwk);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["ca_forum"]);
    validation.set_issuer(&[&app.state.settings.public_url]);
    assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());
    // Not a bearer token of our API, whatever its typ says.
    app.api
        .account(&token)
        .await
        .assert_problem(401, "invalid_token");
}

fn registration(name: &str, public: bool) -> OidcClientRegistration {
    OidcClientRegistration {
        name: name.into(),
        redirect_uris: vec!["https://forum.example.com/cb".into()],
        post_logout_redirect_uris: vec![],
        is_public: public,
        require_two_factor: false,
        offer_two_factor_setup: false,
        id_token_algorithm: "RS256".into(),
    }
}

async fn authenticate(
    app: &TestApp,
    client_id: &str,
    secret: Option<&str>,
) -> Result<String, ServiceError> {
    let (client_id, secret) = (client_id.to_string(), secret.map(str::to_string));
    app.state
        .database
        .run(move |connection| {
            oidc_clients::authenticate(connection, &client_id, secret.as_deref())
                .map(|client| client.id)
        })
        .await
}

fn is_invalid_client(result: Result<String, ServiceError>) -> bool {
    matches!(result, Err(ServiceError::Refused(Refusal::InvalidClient)))
}

async fn a_client_authenticates_only_as_it_was_registered(app: TestApp) {
    let confidential = oidc_clients::create(&app.state, registration("Forum", false))
        .await
        .unwrap();
    let (id, secret) = (
        confidential.client.id.clone(),
        confidential.secret.unwrap().0,
    );
    assert!(id.starts_with("ca_") && id.len() == 46, "{id}");
    app.clock.advance(chrono::TimeDelta::seconds(1));
    let public = oidc_clients::create(&app.state, registration("App", true))
        .await
        .unwrap();
    assert!(public.secret.is_none());
    let public_id = public.client.id;

    assert_eq!(authenticate(&app, &id, Some(&secret)).await.unwrap(), id);
    assert_eq!(
        authenticate(&app, &public_id, None).await.unwrap(),
        public_id
    );
    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    for refused in [
        authenticate(&app, &id, Some(&wrong)).await,
        authenticate(&app, &id, Some("")).await,
        authenticate(&app, &id, None).await,
        authenticate(&app, &public_id, Some(&secret)).await,
        authenticate(&app, &public_id, Some("")).await,
        authenticate(&app, "ca_unknown", Some(&secret)).await,
        authenticate(&app, "ca_unknown", None).await,
        authenticate(&app, &"x".repeat(300), None).await,
    ] {
        assert!(is_invalid_client(refused));
    }

    // A new secret: the old one stops at once; a public client has none to rotate.
    let rotated = oidc_clients::rotate_secret(&app.state, &id)
        .await
        .unwrap()
        .0;
    assert_ne!(rotated, secret);
    assert!(is_invalid_client(
        authenticate(&app, &id, Some(&secret)).await
    ));
    assert_eq!(authenticate(&app, &id, Some(&rotated)).await.unwrap(), id);
    assert!(matches!(
        oidc_clients::rotate_secret(&app.state, &public_id).await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(
        oidc_clients::rotate_secret(&app.state, "ca_unknown").await,
        Err(ServiceError::Refused(Refusal::NotFound))
    ));
    // Only the hash is stored.
    let stored = app
        .state
        .database
        .run(move |connection| client_rows::find_with_secret_hash(connection, &id))
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert_eq!(stored, oidc_clients::hash_secret(&rotated));
    let listed = oidc_clients::list(&app.state).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|client| client.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Forum", "App"]
    );
}

async fn deleting_a_client_takes_what_it_was_given_with_it(app: TestApp) {
    let account = app.register("erin").await;
    let client = oidc_clients::create(&app.state, registration("Forum", false))
        .await
        .unwrap()
        .client;
    let (client_id, now) = (client.id.clone(), app.state.now());
    let count_consents = |client_id: String| {
        move |connection: &mut custadmin::db::DbConnection| {
            oidc_consents::table
                .filter(oidc_consents::client_id.eq(client_id))
                .count()
                .get_result::<i64>(connection)
                .map_err(DbError::from)
        }
    };
    let (account_for_insert, client_for_insert) = (account.clone(), client_id.clone());
    app.state
        .database
        .run(move |connection| {
            diesel::insert_into(oidc_consents::table)
                .values((
                    oidc_consents::account_id.eq(account_for_insert),
                    oidc_consents::client_id.eq(client_for_insert),
                    oidc_consents::scope.eq("openid"),
                    oidc_consents::granted_at.eq(now.naive_utc()),
                    oidc_consents::updated_at.eq(now.naive_utc()),
                ))
                .execute(connection)
                .map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(
        app.state
            .database
            .run(count_consents(client_id.clone()))
            .await
            .unwrap(),
        1
    );

    oidc_clients::delete(&app.state, &client_id).await.unwrap();

    assert_eq!(
        app.state
            .database
            .run(count_consents(client_id.clone()))
            .await
            .unwrap(),
        0
    );
    assert!(oidc_clients::list(&app.state).await.unwrap().is_empty());
    assert!(matches!(
        oidc_clients::delete(&app.state, &client_id).await,
        Err(ServiceError::Refused(Refusal::NotFound))
    ));
}
