//! custadmin as an OpenID Connect provider, through the real server: the code flow with
//! PKCE from the authorization request to UserInfo, refresh, revocation and logout, and every
//! hostile input the design names.

use std::collections::HashMap;

use chrono::TimeDelta;
use custadmin::service::oidc_clients::{self, OidcClientRegistration};
use serde_json::json;

use crate::helpers::{claims_of, Session, TestApp, PASSWORD};
use crate::on_both_databases;

const REDIRECT: &str = "https://rp.example/callback";
const LOGOUT_REDIRECT: &str = "https://rp.example/signed-out";
/// RFC 7636's example pair.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const ALL_SCOPES: &str = "openid profile email offline_access";

/// A registered relying party.
struct Rp {
    id: String,
    secret: Option<String>,
}

impl Rp {
    /// Form fields authenticating the client (`client_secret_post`, or `none`).
    fn auth(&self) -> Vec<(&str, &str)> {
        let mut fields = vec![("client_id", self.id.as_str())];
        if let Some(secret) = &self.secret {
            fields.push(("client_secret", secret.as_str()));
        }
        fields
    }
}

async fn register_client(app: &TestApp, is_public: bool, algorithm: &str) -> Rp {
    register(app, is_public, algorithm, false).await
}

async fn register(app: &TestApp, is_public: bool, algorithm: &str, two_factor: bool) -> Rp {
    register_with(app, is_public, algorithm, two_factor, false).await
}

async fn register_with(
    app: &TestApp,
    is_public: bool,
    algorithm: &str,
    require_two_factor: bool,
    offer_two_factor_setup: bool,
) -> Rp {
    let created = oidc_clients::create(
        &app.state,
        OidcClientRegistration {
            name: "Webmail".to_string(),
            redirect_uris: vec![REDIRECT.to_string()],
            post_logout_redirect_uris: vec![LOGOUT_REDIRECT.to_string()],
            is_public,
            require_two_factor,
            offer_two_factor_setup,
            id_token_algorithm: algorithm.to_string(),
        },
    )
    .await
    .expect("client registered");
    Rp {
        id: created.client.id,
        secret: created.secret.map(|secret| secret.0),
    }
}

fn query_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).expect("an absolute URL");
    url.query_pairs().into_owned().collect()
}

fn location(reply: &custadmin_client::Reply) -> String {
    reply
        .headers
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

fn authorize_query(rp: &Rp, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("response_type", "code"),
        ("client_id", rp.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    fields.extend_from_slice(extra);
    custadmin_client::form_encoded(&fields)
}

/// Sends the authorization request; answers the SPA's request id.
async fn start(app: &TestApp, rp: &Rp, scope: &str) -> String {
    let reply = app.api.authorize(&authorize_query(rp, scope, &[])).await;
    reply.assert_status(303);
    let to = location(&reply);
    assert!(
        to.starts_with(&format!("{}/authorize?request=", app.public_url())),
        "{to}"
    );
    query_of(&to)["request"].clone()
}

/// The whole front channel: request, consent, approval; answers the code.
async fn code_for(app: &TestApp, session: &Session, rp: &Rp, scope: &str) -> String {
    let request = start(app, rp, scope).await;
    let approved = app
        .api
        .approve_authorization_request(&session.access_token, &request, json!({"consent": true}))
        .await;
    let to = approved.assert_ok()["redirect_to"]
        .as_str()
        .unwrap()
        .to_string();
    let parameters = query_of(&to);
    assert_eq!(parameters["state"], "af0ifjsldkj");
    assert_eq!(parameters["iss"], app.public_url());
    parameters["code"].clone()
}

async fn exchange(app: &TestApp, rp: &Rp, code: &str, verifier: &str) -> custadmin_client::Reply {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    fields.extend(rp.auth());
    app.api.oidc_token(&fields).await
}

async fn refresh(app: &TestApp, rp: &Rp, refresh_token: &str) -> custadmin_client::Reply {
    let mut fields = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    fields.extend(rp.auth());
    app.api.oidc_token(&fields).await
}

#[track_caller]
fn assert_oauth_error(reply: &custadmin_client::Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.body["error"], error, "{}", reply.text);
    assert_eq!(reply.headers["cache-control"], "no-store");
}

#[track_caller]
fn assert_error_page(reply: &custadmin_client::Reply) {
    assert_eq!(reply.status.as_u16(), 400, "{}", reply.text);
    assert!(reply.headers.get("location").is_none(), "no redirect");
    assert!(
        reply.content_type().starts_with("text/html"),
        "{}",
        reply.content_type()
    );
}

on_both_databases!(
    the_code_flow_signs_in_refreshes_revokes_and_logs_out,
    an_unregistered_redirect_uri_or_unknown_client_gets_a_page_never_a_redirect,
    bad_requests_go_back_to_the_relying_party_with_the_error_and_iss,
    a_replayed_code_revokes_the_grant_its_first_redemption_opened,
    a_code_is_bound_to_its_client_verifier_redirect_uri_and_minute,
    a_reused_refresh_token_revokes_the_grant,
    a_client_revokes_only_its_own_grants_by_refresh_or_access_token,
    a_refresh_token_is_not_spent_by_bad_client_auth_or_another_client,
    tokens_of_one_kind_never_work_where_another_is_expected,
    removing_the_app_or_changing_the_password_ends_its_grants_at_once,
    logout_refuses_a_forged_hint_and_ends_the_session,
    prompt_none_and_required_second_factor_answer_the_relying_party,
    max_age_is_measured_to_the_request_not_to_the_approval,
    a_code_redeemed_as_its_session_or_consent_ends_leaves_no_live_grant,
    the_authorization_request_may_be_posted_as_a_form,
    a_remembered_device_is_no_second_factor_in_the_id_token,
    this_wasnt_me_ends_every_apps_grant,
    the_customer_is_mailed_when_an_app_gains_or_loses_access,
    a_remembered_device_steps_up_with_a_code_inside_approve,
    a_relying_party_in_a_browser_calls_the_token_endpoints_from_any_origin,
    one_address_makes_at_most_sixty_authorization_requests_a_minute,
    a_deleted_accounts_apps_are_refused,
);

on_both_databases!(
    with &[
        ("CUSTADMIN_REQUIRE_TWO_FACTOR", "all"),
        ("CUSTADMIN_TWO_FACTOR_GRACE_DAYS", "14"),
    ];
    an_account_past_its_deadline_for_a_second_factor_loses_its_apps_as_its_api_tokens,
    a_set_up_session_is_answered_through_the_redirect_never_with_a_code,
);

async fn the_code_flow_signs_in_refreshes_revokes_and_logs_out(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let request = start(&app, &rp, ALL_SCOPES).await;

    // The SPA's view: anonymous first, then signed in.
    let anonymous = app
        .api
        .authorization_request(custadmin_client::NOBODY, &request)
        .await;
    assert_eq!(anonymous.assert_ok()["next"], "sign_in");
    let view = app
        .api
        .authorization_request(&session.access_token, &request)
        .await;
    let view = view.assert_ok();
    assert_eq!(view["next"], "consent");
    assert_eq!(view["client"]["name"], "Webmail");
    assert_eq!(
        view["scopes"],
        json!(["openid", "profile", "email", "offline_access"])
    );
    app.api
        .approve_authorization_request(&session.access_token, &request, json!({}))
        .await
        .assert_problem(409, "consent_required");
    let approved = app
        .api
        .approve_authorization_request(&session.access_token, &request, json!({"consent": true}))
        .await;
    let code = query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())["code"].clone();
    // Answered once.
    app.api
        .approve_authorization_request(&session.access_token, &request, json!({"consent": true}))
        .await
        .assert_problem(404, "not_found");

    // client_secret_basic this time.
    let tokens = app
        .api
        .oidc_token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .basic_auth(&rp.id, rp.secret.as_deref().unwrap())
        .await;
    let body = tokens.assert_ok().clone();
    assert_eq!(tokens.headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    let id_token = claims_of(body["id_token"].as_str().unwrap());
    let account_id = app.account_id(&session).await;
    assert_eq!(id_token["sub"], account_id);
    assert_eq!(id_token["aud"], json!([rp.id]));
    assert_eq!(id_token["iss"], app.public_url());
    assert_eq!(id_token["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id_token["acr"], "urn:custadmin:acr:pwd");
    assert_eq!(id_token["sid"], claims_of(&session.access_token)["sid"]);
    // at_hash (OIDC Core 3.1.3.6, RS256: SHA-256) binds the access token issued beside it.
    {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(body["access_token"].as_str().unwrap().as_bytes());
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
        assert_eq!(id_token["at_hash"], expected.as_str());
    }

    let info = app
        .api
        .userinfo(body["access_token"].as_str().unwrap())
        .await;
    let info = info.assert_ok();
    assert_eq!(info["sub"], account_id);
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email_verified"], false);

    // A consent remembered: the next request is ready at once.
    let again = start(&app, &rp, "openid profile").await;
    let view = app
        .api
        .authorization_request(&session.access_token, &again)
        .await;
    assert_eq!(view.assert_ok()["next"], "ready");
    let apps = app.api.apps(&session.access_token).await;
    assert_eq!(apps.assert_ok()[0]["client_id"], rp.id);

    // Refresh rotates; the ID token keeps sub and auth_time, without a nonce.
    let first_refresh = body["refresh_token"].as_str().unwrap();
    let refreshed = refresh(&app, &rp, first_refresh).await;
    let refreshed = refreshed.assert_ok().clone();
    assert_ne!(refreshed["refresh_token"], body["refresh_token"]);
    let renewed = claims_of(refreshed["id_token"].as_str().unwrap());
    assert_eq!(renewed["auth_time"], id_token["auth_time"]);
    assert!(renewed.get("nonce").is_none());

    // Revocation ends the grant: the refresh token and the access token stop.
    let mut fields = vec![("token", refreshed["refresh_token"].as_str().unwrap())];
    fields.extend(rp.auth());
    app.api.oidc_revoke(&fields).await.assert_status(200);
    assert_oauth_error(
        &refresh(&app, &rp, refreshed["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    let stopped = app
        .api
        .userinfo(refreshed["access_token"].as_str().unwrap())
        .await;
    assert_oauth_error(&stopped, 401, "invalid_token");
    assert!(stopped.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    // Unknown tokens are answered the same; a wrong secret is invalid_client.
    app.api
        .oidc_revoke(&[
            ("token", "nonsense"),
            ("client_id", &rp.id),
            ("client_secret", rp.secret.as_deref().unwrap()),
        ])
        .await
        .assert_status(200);
    let wrong = app
        .api
        .oidc_revoke(&[
            ("token", "x"),
            ("client_id", &rp.id),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(wrong.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));

    // RP-initiated logout ends the custadmin session it names.
    let hint = body["id_token"].as_str().unwrap();
    let query = custadmin_client::form_encoded(&[
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ("state", "bye"),
    ]);
    let out = app.api.oidc_logout(&query).await;
    out.assert_status(303);
    assert_eq!(location(&out), format!("{LOGOUT_REDIRECT}?state=bye"));
    crate::helpers::assert_session_ended(&app, &session).await;
}

async fn an_unregistered_redirect_uri_or_unknown_client_gets_a_page_never_a_redirect(app: TestApp) {
    let rp = register_client(&app, false, "RS256").await;
    for query in [
        authorize_query(&rp, "openid", &[])
            .replace("rp.example%2Fcallback", "evil.example%2Fcallback"),
        authorize_query(&rp, "openid", &[]).replace("callback", "callback%2Fextra"),
        authorize_query(
            &Rp {
                id: "ca_unknown".into(),
                secret: None,
            },
            "openid",
            &[],
        ),
        authorize_query(
            &Rp {
                id: "ca\u{0}x".into(),
                secret: None,
            },
            "openid",
            &[],
        ),
        format!(
            "{}&redirect_uri=https%3A%2F%2Frp.example%2Fcallback",
            authorize_query(&rp, "openid", &[])
        ),
        String::new(),
        "%zz=%ff&client_id=%00".to_string(),
    ] {
        assert_error_page(&app.api.authorize(&query).await);
    }
}

async fn bad_requests_go_back_to_the_relying_party_with_the_error_and_iss(app: TestApp) {
    let rp = register_client(&app, false, "RS256").await;
    let public = register_client(&app, true, "RS256").await;
    let cases: Vec<(String, &str)> = vec![
        (
            authorize_query(&rp, "openid", &[]).replace("S256", "plain"),
            "invalid_request",
        ),
        (authorize_query(&rp, "profile email", &[]), "invalid_scope"),
        (
            authorize_query(&rp, "openid", &[])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_query(&rp, "openid", &[("response_mode", "fragment")]),
            "invalid_request",
        ),
        (
            authorize_query(&rp, "openid", &[("prompt", "none login")]),
            "invalid_request",
        ),
        (
            authorize_query(&rp, "openid", &[("max_age", "-1")]),
            "invalid_request",
        ),
        (
            authorize_query(&rp, "openid", &[("request", "eyJ")]),
            "request_not_supported",
        ),
        (
            authorize_query(&rp, "openid", &[("nonce", "\u{0}")])
                .replace("nonce=n-0S6_WzA2Mj&", ""),
            "invalid_request",
        ),
        (
            custadmin_client::form_encoded(&[
                ("response_type", "code"),
                ("client_id", &public.id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s"),
            ]),
            "invalid_request",
        ),
    ];
    for (query, error) in cases {
        let reply = app.api.authorize(&query).await;
        reply.assert_status(303);
        let to = location(&reply);
        assert!(to.starts_with(REDIRECT), "{to}");
        let parameters = query_of(&to);
        assert_eq!(parameters["error"], error, "{query}");
        assert_eq!(parameters["iss"], app.public_url());
    }
}

async fn a_replayed_code_revokes_the_grant_its_first_redemption_opened(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "EdDSA").await;
    let code = code_for(&app, &session, &rp, ALL_SCOPES).await;
    let first = exchange(&app, &rp, &code, VERIFIER).await;
    let tokens = first.assert_ok().clone();
    assert_eq!(
        claims_of(tokens["id_token"].as_str().unwrap())["aud"],
        json!([rp.id])
    );
    assert_oauth_error(
        &exchange(&app, &rp, &code, VERIFIER).await,
        400,
        "invalid_grant",
    );
    // The first redemption's grant is gone with its tokens.
    assert_oauth_error(
        &refresh(&app, &rp, tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &app.api
            .userinfo(tokens["access_token"].as_str().unwrap())
            .await,
        401,
        "invalid_token",
    );
}

async fn a_code_is_bound_to_its_client_verifier_redirect_uri_and_minute(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let other = register_client(&app, false, "RS256").await;
    // A wrong verifier spends the code: the right one no longer helps.
    let code = code_for(&app, &session, &rp, "openid").await;
    let wrong = "x".repeat(43);
    assert_oauth_error(
        &exchange(&app, &rp, &code, &wrong).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &exchange(&app, &rp, &code, VERIFIER).await,
        400,
        "invalid_grant",
    );
    // Another client's code.
    let code = code_for(&app, &session, &rp, "openid").await;
    assert_oauth_error(
        &exchange(&app, &other, &code, VERIFIER).await,
        400,
        "invalid_grant",
    );
    // A redirect URI other than the request's.
    let code = code_for(&app, &session, &rp, "openid").await;
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://rp.example/other"),
        ("code_verifier", VERIFIER),
    ];
    fields.extend(rp.auth());
    assert_oauth_error(&app.api.oidc_token(&fields).await, 400, "invalid_grant");
    // Expired after 60 seconds.
    let code = code_for(&app, &session, &rp, "openid").await;
    app.clock.advance(TimeDelta::seconds(61));
    assert_oauth_error(
        &exchange(&app, &rp, &code, VERIFIER).await,
        400,
        "invalid_grant",
    );
    // Without offline_access, no refresh token; hostile forms are OAuth errors, not 500s.
    let code = code_for(&app, &session, &rp, "openid").await;
    let tokens = exchange(&app, &rp, &code, VERIFIER).await;
    assert!(tokens.assert_ok().get("refresh_token").is_none());
    assert_oauth_error(
        &app.api.oidc_token(&[("grant_type", "password")]).await,
        401,
        "invalid_client",
    );
    let mut fields = vec![("grant_type", "password")];
    fields.extend(rp.auth());
    assert_oauth_error(
        &app.api.oidc_token(&fields).await,
        400,
        "unsupported_grant_type",
    );
    let json_body = app
        .api
        .oidc_token(&[])
        .raw_body(Some("application/json"), "{}")
        .await;
    assert_oauth_error(&json_body, 400, "invalid_request");
    let mut fields = vec![("grant_type", "authorization_code"), ("code", "\u{0}")];
    fields.extend(rp.auth());
    assert_oauth_error(&app.api.oidc_token(&fields).await, 400, "invalid_grant");
}

async fn a_reused_refresh_token_revokes_the_grant(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, true, "RS256").await;
    let code = code_for(&app, &session, &rp, ALL_SCOPES).await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let first = tokens["refresh_token"].as_str().unwrap();
    let second = refresh(&app, &rp, first).await.assert_ok().clone();
    // The stolen copy of the first comes back: the whole grant ends, the thief's and ours.
    assert_oauth_error(&refresh(&app, &rp, first).await, 400, "invalid_grant");
    assert_oauth_error(
        &refresh(&app, &rp, second["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &app.api
            .userinfo(second["access_token"].as_str().unwrap())
            .await,
        401,
        "invalid_token",
    );
}

async fn a_refresh_token_is_not_spent_by_bad_client_auth_or_another_client(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let owner = register_client(&app, false, "RS256").await;
    let other = register_client(&app, false, "RS256").await;
    let code = code_for(&app, &session, &owner, ALL_SCOPES).await;
    let tokens = exchange(&app, &owner, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let token = tokens["refresh_token"].as_str().unwrap();
    // A stale secret (say, after rotate-secret) is invalid_client, and spends nothing.
    let stale = Rp {
        id: owner.id.clone(),
        secret: Some("a secret from before the rotation".to_string()),
    };
    let refused = refresh(&app, &stale, token).await;
    assert_oauth_error(&refused, 401, "invalid_client");
    // Another client, properly authenticated, is told the token is no grant of its own.
    assert_oauth_error(&refresh(&app, &other, token).await, 400, "invalid_grant");
    // The owner's use is the first one: no reuse detected, the grant lives on.
    let renewed = refresh(&app, &owner, token).await.assert_ok().clone();
    refresh(&app, &owner, renewed["refresh_token"].as_str().unwrap())
        .await
        .assert_ok();
}

async fn a_client_revokes_only_its_own_grants_by_refresh_or_access_token(app: TestApp) {
    async fn revoke(app: &TestApp, rp: &Rp, token: &str) {
        let mut fields = vec![("token", token)];
        fields.extend(rp.auth());
        app.api.oidc_revoke(&fields).await.assert_status(200);
    }
    let session = app.signed_in_customer("alice").await;
    let owner = register_client(&app, false, "RS256").await;
    let other = register_client(&app, false, "RS256").await;
    let code = code_for(&app, &session, &owner, ALL_SCOPES).await;
    let tokens = exchange(&app, &owner, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let (refresh_token, access_token) = (
        tokens["refresh_token"].as_str().unwrap(),
        tokens["access_token"].as_str().unwrap(),
    );
    // Another client's revocation is answered alike and ends nothing, by either token.
    revoke(&app, &other, refresh_token).await;
    revoke(&app, &other, access_token).await;
    app.api.userinfo(access_token).await.assert_ok();
    let renewed = refresh(&app, &owner, refresh_token)
        .await
        .assert_ok()
        .clone();
    // The owner's revocation by the access token ends the grant behind it.
    let access_token = renewed["access_token"].as_str().unwrap();
    revoke(&app, &owner, access_token).await;
    assert_oauth_error(&app.api.userinfo(access_token).await, 401, "invalid_token");
    assert_oauth_error(
        &refresh(&app, &owner, renewed["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
}

async fn tokens_of_one_kind_never_work_where_another_is_expected(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let code = code_for(&app, &session, &rp, "openid profile").await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    // Our API's access token at UserInfo, and the relying party's at+jwt and ID token at our API.
    assert_oauth_error(
        &app.api.userinfo(&session.access_token).await,
        401,
        "invalid_token",
    );
    for token in [
        tokens["access_token"].as_str().unwrap(),
        tokens["id_token"].as_str().unwrap(),
    ] {
        app.api
            .account(token)
            .await
            .assert_problem(401, "invalid_token");
    }
    assert_oauth_error(
        &app.api.userinfo(tokens["id_token"].as_str().unwrap()).await,
        401,
        "invalid_token",
    );
    // POST with the form field works; both ways at once is refused.
    let access = tokens["access_token"].as_str().unwrap();
    app.api
        .userinfo_post(custadmin_client::NOBODY, &[("access_token", access)])
        .await
        .assert_ok();
    assert_oauth_error(
        &app.api
            .userinfo_post(access, &[("access_token", access)])
            .await,
        400,
        "invalid_request",
    );
}

async fn removing_the_app_or_changing_the_password_ends_its_grants_at_once(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let code = code_for(&app, &session, &rp, ALL_SCOPES).await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    app.api
        .remove_app(&session.access_token, &rp.id)
        .await
        .assert_status(204);
    assert_oauth_error(
        &refresh(&app, &rp, tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    app.api
        .remove_app(&session.access_token, &rp.id)
        .await
        .assert_problem(404, "not_found");
    let events = app.api.events(&session.access_token).await;
    let kinds = crate::helpers::event_kinds(&events);
    assert!(
        kinds.contains(&"app_access_revoked") && kinds.contains(&"app_access_granted"),
        "{kinds:?}"
    );

    // A password change ends the grants; the consent stays (no new consent asked).
    let code = code_for(&app, &session, &rp, ALL_SCOPES).await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await
        .assert_ok();
    assert_oauth_error(
        &refresh(&app, &rp, tokens["refresh_token"].as_str().unwrap()).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &app.api
            .userinfo(tokens["access_token"].as_str().unwrap())
            .await,
        401,
        "invalid_token",
    );
    let apps = app.api.apps(&session.access_token).await;
    assert_eq!(apps.assert_ok().as_array().unwrap().len(), 1);
}

async fn logout_refuses_a_forged_hint_and_ends_the_session(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let code = code_for(&app, &session, &rp, "openid").await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let id_token = tokens["id_token"].as_str().unwrap();
    // The same claims under alg=none: no signature to check, refused.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = id_token.split('.').nth(1).unwrap();
    let forged = format!("{header}.{payload}.");
    for hint in [forged.as_str(), "not-a-jwt"] {
        let query = custadmin_client::form_encoded(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ]);
        assert_error_page(&app.api.oidc_logout(&query).await);
    }
    // An unregistered URI, or a URI without a hint.
    let query = custadmin_client::form_encoded(&[
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", "https://evil.example/"),
    ]);
    assert_error_page(&app.api.oidc_logout(&query).await);
    let query = custadmin_client::form_encoded(&[("post_logout_redirect_uri", LOGOUT_REDIRECT)]);
    assert_error_page(&app.api.oidc_logout(&query).await);
    // No hint at all: nothing ends; the SPA asks the customer, with no way back to the app.
    let asked = app
        .api
        .oidc_logout(&custadmin_client::form_encoded(&[("state", "bye")]))
        .await;
    asked.assert_status(303);
    assert_eq!(location(&asked), format!("{}/sign-out", app.public_url()));
    app.api.account(&session.access_token).await.assert_ok();
    // An expired hint still names the session; POST works as GET does.
    app.clock.advance(TimeDelta::minutes(10));
    let out = app
        .api
        .oidc_logout_post(&[("id_token_hint", id_token)])
        .await;
    out.assert_status(303);
    assert_eq!(location(&out), format!("{}/sign-in", app.public_url()));
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    // A hint older than a session can live is refused, even with nothing else wrong.
    let later = app.signed_in_customer("bob").await;
    let code = code_for(&app, &later, &rp, "openid").await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let old_hint = tokens["id_token"].as_str().unwrap();
    let query = custadmin_client::form_encoded(&[
        ("id_token_hint", old_hint),
        ("post_logout_redirect_uri", LOGOUT_REDIRECT),
    ]);
    app.clock.advance(TimeDelta::days(29));
    app.api.oidc_logout(&query).await.assert_status(303);
    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    assert_error_page(&app.api.oidc_logout(&query).await);
}

async fn prompt_none_and_required_second_factor_answer_the_relying_party(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    // prompt=none without consent: consent_required, sent back, the request completed.
    let reply = app
        .api
        .authorize(&authorize_query(&rp, "openid", &[("prompt", "none")]))
        .await;
    let request = query_of(&location(&reply))["request"].clone();
    let approved = app
        .api
        .approve_authorization_request(&session.access_token, &request, json!({}))
        .await;
    let to = query_of(approved.assert_ok()["redirect_to"].as_str().unwrap());
    assert_eq!(to["error"], "consent_required");
    // Nobody signed in: the SPA denies with no_session.
    let reply = app
        .api
        .authorize(&authorize_query(&rp, "openid", &[("prompt", "none")]))
        .await;
    let request = query_of(&location(&reply))["request"].clone();
    let denied = app
        .api
        .deny_authorization_request(&request, "no_session")
        .await;
    assert_eq!(
        query_of(denied.assert_ok()["redirect_to"].as_str().unwrap())["error"],
        "login_required"
    );
    app.api
        .deny_authorization_request(&request, "denied")
        .await
        .assert_problem(404, "not_found");

    // acr mfa: a password-only account gets access_denied; with a second factor, a step-up.
    let mfa = [("acr_values", "urn:custadmin:acr:mfa")];
    let reply = app
        .api
        .authorize(&authorize_query(&rp, "openid", &mfa))
        .await;
    let request = query_of(&location(&reply))["request"].clone();
    let view = app
        .api
        .authorization_request(&session.access_token, &request)
        .await;
    assert_eq!(view.assert_ok()["acr_required"], "mfa");
    let approved = app
        .api
        .approve_authorization_request(&session.access_token, &request, json!({"consent": true}))
        .await;
    assert_eq!(
        query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())["error"],
        "access_denied"
    );

    let (secret, _) = app.enable_two_factor(&session).await;
    // Signed in with the code: the second factor is proved already, so no step-up.
    let with_code = app.login_with_code("alice", &secret).await;
    let reply = app
        .api
        .authorize(&authorize_query(&rp, "openid", &mfa))
        .await;
    let request = query_of(&location(&reply))["request"].clone();
    let view = app
        .api
        .authorization_request(&with_code.access_token, &request)
        .await;
    assert_eq!(view.assert_ok()["next"], "consent");
    let approved = app
        .api
        .approve_authorization_request(&with_code.access_token, &request, json!({"consent": true}))
        .await;
    let code = query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())["code"].clone();
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    assert_eq!(
        claims_of(tokens["id_token"].as_str().unwrap())["acr"],
        "urn:custadmin:acr:mfa"
    );
    // hwk: no passkey, no set-up offered: access_denied at once.
    let reply = app
        .api
        .authorize(&authorize_query(
            &rp,
            "openid",
            &[("acr_values", "urn:custadmin:acr:hwk")],
        ))
        .await;
    let request = query_of(&location(&reply))["request"].clone();
    let approved = app
        .api
        .approve_authorization_request(&with_code.access_token, &request, json!({}))
        .await;
    assert_eq!(
        query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())["error"],
        "access_denied"
    );
}

async fn max_age_is_measured_to_the_request_not_to_the_approval(app: TestApp) {
    let earlier = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    app.clock.advance(TimeDelta::seconds(5));
    let query = authorize_query(&rp, "openid", &[("max_age", "0")]);
    let reply = app.api.authorize(&query).await;
    let request = query_of(&location(&reply))["request"].clone();
    // A sign-in from before the request is too old for max_age=0.
    let view = app
        .api
        .authorization_request(&earlier.access_token, &request)
        .await;
    assert_eq!(view.assert_ok()["next"], "sign_in");
    // Signed in for it, the customer may take their time over the consent card.
    app.clock.advance(TimeDelta::seconds(5));
    let fresh = crate::helpers::session_from(&app.api.login("alice", PASSWORD).await);
    let view = app
        .api
        .authorization_request(&fresh.access_token, &request)
        .await;
    assert_eq!(view.assert_ok()["next"], "consent");
    app.clock.advance(TimeDelta::minutes(3));
    let approved = app
        .api
        .approve_authorization_request(&fresh.access_token, &request, json!({"consent": true}))
        .await;
    let code = query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())["code"].clone();
    exchange(&app, &rp, &code, VERIFIER).await.assert_ok();
    // max_age=300 with a sign-in 210 s before the request: still fresh five minutes on.
    app.clock.advance(TimeDelta::seconds(30));
    let query = authorize_query(&rp, "openid", &[("max_age", "300")]);
    let reply = app.api.authorize(&query).await;
    let request = query_of(&location(&reply))["request"].clone();
    app.clock.advance(TimeDelta::minutes(5));
    let view = app
        .api
        .authorization_request(&fresh.access_token, &request)
        .await;
    assert_eq!(view.assert_ok()["next"], "ready");
}

async fn a_code_redeemed_as_its_session_or_consent_ends_leaves_no_live_grant(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    // The app removed while its code is redeemed: whichever comes first, no grant survives.
    for _ in 0..4 {
        let code = code_for(&app, &session, &rp, ALL_SCOPES).await;
        let (redeemed, removed) = futures::join!(
            exchange(&app, &rp, &code, VERIFIER),
            app.api.remove_app(&session.access_token, &rp.id)
        );
        removed.assert_status(204);
        if redeemed.status.is_success() {
            let token = redeemed.body["refresh_token"].as_str().unwrap();
            assert_oauth_error(&refresh(&app, &rp, token).await, 400, "invalid_grant");
        } else {
            assert_oauth_error(&redeemed, 400, "invalid_grant");
        }
    }
    // The session ended by the app's logout while its code is redeemed: the same (a grant
    // without offline_access does not outlive its session).
    for _ in 0..4 {
        let session = crate::helpers::session_from(&app.api.login("alice", PASSWORD).await);
        let first = code_for(&app, &session, &rp, "openid profile").await;
        let first = exchange(&app, &rp, &first, VERIFIER)
            .await
            .assert_ok()
            .clone();
        let hint = custadmin_client::form_encoded(&[(
            "id_token_hint",
            first["id_token"].as_str().unwrap(),
        )]);
        let code = code_for(&app, &session, &rp, "openid profile").await;
        let (redeemed, logged_out) = futures::join!(
            exchange(&app, &rp, &code, VERIFIER),
            app.api.oidc_logout(&hint)
        );
        logged_out.assert_status(303);
        if redeemed.status.is_success() {
            let access = redeemed.body["access_token"].as_str().unwrap();
            assert_oauth_error(&app.api.userinfo(access).await, 401, "invalid_token");
        } else {
            assert_oauth_error(&redeemed, 400, "invalid_grant");
        }
    }
}

async fn the_authorization_request_may_be_posted_as_a_form(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let fields = [
        ("response_type", "code"),
        ("client_id", rp.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let reply = app.api.authorize_post(&fields).await;
    reply.assert_status(303);
    let request = query_of(&location(&reply))["request"].clone();
    let approved = app
        .api
        .approve_authorization_request(&session.access_token, &request, json!({"consent": true}))
        .await;
    let code = query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())["code"].clone();
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    assert_eq!(
        claims_of(tokens["id_token"].as_str().unwrap())["nonce"],
        "n-0S6_WzA2Mj"
    );
    // The same checks as the GET: an unregistered redirect URI is a page, never a redirect;
    // anything else wrong goes back with the error.
    let mut wrong = fields.to_vec();
    wrong[2] = ("redirect_uri", "https://evil.example/");
    assert_error_page(&app.api.authorize_post(&wrong).await);
    let mut wrong = fields.to_vec();
    wrong[0] = ("response_type", "token");
    let reply = app.api.authorize_post(&wrong).await;
    reply.assert_status(303);
    assert_eq!(
        query_of(&location(&reply))["error"],
        "unsupported_response_type"
    );
    // A body that is no form cannot say where to go back to.
    let not_a_form = app
        .api
        .authorize_post(&[])
        .raw_body(Some("application/json"), "{}".to_string())
        .await;
    assert_error_page(&not_a_form);
}

async fn a_set_up_session_is_answered_through_the_redirect_never_with_a_code(app: TestApp) {
    app.signed_in_customer("alice").await;
    let plain = register_client(&app, false, "RS256").await;
    let offering = register_with(&app, false, "RS256", false, true).await;
    // Past the deadline, the password opens only a session that may set up a second factor.
    app.clock.advance(TimeDelta::days(15));
    let set_up = crate::helpers::session_from(&app.api.login("alice", PASSWORD).await);
    let token = set_up.access_token.as_str();
    let request_of = |rp: &Rp, extra: &[(&str, &str)]| authorize_query(rp, "openid", extra);
    // prompt=none: the app hears that the customer must act, whichever the app.
    for rp in [&plain, &offering] {
        let reply = app
            .api
            .authorize(&request_of(rp, &[("prompt", "none")]))
            .await;
        let request = query_of(&location(&reply))["request"].clone();
        let to = approved_redirect(&app, token, &request).await;
        assert_eq!(to["error"], "interaction_required");
        assert!(!to.contains_key("code"));
    }
    // An app that does not offer the set-up is told no, with a reason.
    let reply = app.api.authorize(&request_of(&plain, &[])).await;
    let request = query_of(&location(&reply))["request"].clone();
    let view = app.api.authorization_request(token, &request).await;
    assert_eq!(view.assert_ok()["next"], "ready");
    let to = approved_redirect(&app, token, &request).await;
    assert_eq!(to["error"], "access_denied");
    assert!(to["error_description"].contains("second factor"), "{to:?}");
    // One that offers it: the customer is led to set it up, as the view says.
    let reply = app.api.authorize(&request_of(&offering, &[])).await;
    let request = query_of(&location(&reply))["request"].clone();
    let view = app.api.authorization_request(token, &request).await;
    assert_eq!(view.assert_ok()["next"], "set_up_two_factor");
    app.api
        .approve_authorization_request(token, &request, json!({"consent": true}))
        .await
        .assert_problem(403, "two_factor_required");
}

/// Approves with consent; answers the redirect's query.
async fn approved_redirect(app: &TestApp, token: &str, request: &str) -> HashMap<String, String> {
    let approved = app
        .api
        .approve_authorization_request(token, request, json!({"consent": true}))
        .await;
    query_of(approved.assert_ok()["redirect_to"].as_str().unwrap())
}

async fn a_remembered_device_is_no_second_factor_in_the_id_token(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let rp = register_client(&app, false, "RS256").await;
    // Signed in with a code: the ID token says the second factor, and mfa.
    let with_code = app.login_with_code("alice", &secret).await;
    let code = code_for(&app, &with_code, &rp, "openid").await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    // The device remembered, then a sign-in where it stands in for the code (session amr
    // ["pwd","mfa"]): the ID token says the password only.
    let challenge = app.api.login("alice", PASSWORD).await;
    app.next_step();
    let remembered = app
        .api
        .otp(json!({
            "challenge_token": challenge.body["challenge_token"],
            "code": app.code_now(&secret, 0),
            "remember_device": true,
        }))
        .await;
    let device_token = remembered.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let via_device = crate::helpers::session_from(
        &app.api
            .log_in(
                json!({"username": "alice", "password": PASSWORD, "device_token": device_token}),
            )
            .await,
    );
    assert_eq!(
        claims_of(&via_device.access_token)["amr"],
        json!(["pwd", "mfa"])
    );
    let code = code_for(&app, &via_device, &rp, "openid").await;
    let tokens = exchange(&app, &rp, &code, VERIFIER)
        .await
        .assert_ok()
        .clone();
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["acr"], "urn:custadmin:acr:pwd");
}

/// A grant's tokens (with `offline_access`) for the signed-in customer.
async fn grant_tokens(app: &TestApp, session: &Session, rp: &Rp) -> serde_json::Value {
    let code = code_for(app, session, rp, ALL_SCOPES).await;
    exchange(app, rp, &code, VERIFIER).await.assert_ok().clone()
}

#[track_caller]
fn text<'a>(tokens: &'a serde_json::Value, name: &str) -> &'a str {
    tokens[name].as_str().expect("a token")
}

/// Both ways a relying party reaches the account without the customer are refused.
async fn assert_grant_refused(app: &TestApp, rp: &Rp, tokens: &serde_json::Value) {
    assert_oauth_error(
        &refresh(app, rp, text(tokens, "refresh_token")).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &app.api.userinfo(text(tokens, "access_token")).await,
        401,
        "invalid_token",
    );
}

async fn an_account_past_its_deadline_for_a_second_factor_loses_its_apps_as_its_api_tokens(
    app: TestApp,
) {
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, false, "RS256").await;
    let api_token = app
        .api
        .create_api_token(
            &session.access_token,
            json!({"name": "script", "scopes": ["account:read"], "expires_in_days": 30}),
        )
        .await;
    let api_token = api_token.body["token"].as_str().unwrap().to_string();
    // Five minutes before the deadline: a full sign-in, an app granted, its tokens working.
    app.clock
        .advance(TimeDelta::days(14) - TimeDelta::minutes(5));
    let session = crate::helpers::session_from(&app.api.login("alice", PASSWORD).await);
    let tokens = grant_tokens(&app, &session, &rp).await;
    let renewed = refresh(&app, &rp, text(&tokens, "refresh_token"))
        .await
        .assert_ok()
        .clone();
    app.api
        .userinfo(text(&renewed, "access_token"))
        .await
        .assert_ok();
    app.api.account(&api_token).await.assert_ok();

    // Past it, with the access token not yet expired: the app is refused as the API token is.
    app.clock.advance(TimeDelta::minutes(6));
    app.api
        .account(&api_token)
        .await
        .assert_problem(403, "two_factor_setup_required");
    assert_grant_refused(&app, &rp, &renewed).await;
}

async fn the_customer_is_mailed_when_an_app_gains_or_loses_access(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let account_id = app.account_id(&session).await;
    app.verify_address(&account_id, "alice@example.com").await;
    let rp = register_client(&app, false, "RS256").await;
    grant_tokens(&app, &session, &rp).await;
    // A second sign-in to the same app, within the consent, mails nothing new.
    grant_tokens(&app, &session, &rp).await;
    app.api
        .remove_app(&session.access_token, &rp.id)
        .await
        .assert_status(204);
    let subjects: Vec<String> = app
        .mails()
        .await
        .iter()
        .map(|mail| mail.subject.clone())
        .filter(|subject| subject.starts_with("Webmail"))
        .collect();
    assert_eq!(subjects.len(), 2, "one notice each: {subjects:?}");
    for expected in [
        "Webmail can now see your account",
        "Webmail no longer has access",
    ] {
        assert!(
            subjects.iter().any(|subject| subject.starts_with(expected)),
            "{expected}: {subjects:?}"
        );
    }
}

async fn this_wasnt_me_ends_every_apps_grant(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let account_id = app.account_id(&session).await;
    app.verify_address(&account_id, "alice@example.com").await;
    let rp = register_client(&app, false, "RS256").await;
    let tokens = grant_tokens(&app, &session, &rp).await;
    app.api
        .userinfo(text(&tokens, "access_token"))
        .await
        .assert_ok();
    // The notice of the new app carries the "this wasn't me" link.
    let mails = app.mails().await;
    let notice = mails
        .iter()
        .find(|mail| mail.subject.starts_with("Webmail can now see your account"))
        .expect("the notice of the app's access");
    app.api
        .not_me(json!({ "token": notice.not_me_token() }))
        .await
        .assert_ok();

    assert_grant_refused(&app, &rp, &tokens).await;
    // What the credential-change table decides: NotMe ends app grants.
    assert!(
        custadmin::service::credential_change::CredentialChange::NotMe
            .ends()
            .app_grants
    );
}

async fn a_deleted_accounts_apps_are_refused(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let account_id = app.account_id(&session).await;
    let rp = register_client(&app, false, "RS256").await;
    let tokens = grant_tokens(&app, &session, &rp).await;
    // The product has no deletion yet; an operator removing the row is what it would do.
    app.state
        .database
        .run(move |connection| {
            use diesel::RunQueryDsl;
            // A uuid, so safe to write into the statement.
            diesel::sql_query(format!("DELETE FROM accounts WHERE id = '{account_id}'"))
                .execute(connection)
                .map_err(custadmin::db::DbError::from)
        })
        .await
        .unwrap();

    assert_grant_refused(&app, &rp, &tokens).await;
}

async fn a_remembered_device_steps_up_with_a_code_inside_approve(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    // "Don't ask for a code on this device": the next sign-in there proves no second factor.
    let challenge = app.api.login("alice", PASSWORD).await;
    app.next_step();
    let remembered = app
        .api
        .otp(json!({"challenge_token": challenge.body["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true}))
        .await;
    let device_token = remembered.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let trusted = app
        .api
        .log_in(json!({"username": "alice", "password": PASSWORD, "device_token": device_token}))
        .await;
    let trusted = crate::helpers::session_from(&trusted);
    assert_eq!(
        claims_of(&trusted.access_token)["amr"],
        json!(["pwd", "mfa"])
    );

    let requiring = register(&app, false, "RS256", true).await;
    let asking = register(&app, false, "RS256", false).await;
    for (rp, extra) in [
        (&requiring, vec![]),
        (
            &asking,
            vec![("acr_values", "urn:custadmin:acr:pwd urn:custadmin:acr:mfa")],
        ),
    ] {
        let reply = app
            .api
            .authorize(&authorize_query(rp, "openid", &extra))
            .await;
        let request = query_of(&location(&reply))["request"].clone();
        let view = app
            .api
            .authorization_request(&trusted.access_token, &request)
            .await;
        let view = view.assert_ok();
        assert_eq!(view["next"], "step_up");
        assert_eq!(view["acr_required"], "mfa");

        let approve = |body: serde_json::Value| {
            app.api
                .approve_authorization_request(&trusted.access_token, &request, body)
        };
        approve(json!({"consent": true}))
            .await
            .assert_problem(403, "step_up_required");
        // A wrong code is counted before it is refused, as every proof is.
        let failures = app.reauth_failures(&trusted).await;
        approve(json!({"consent": true, "code": app.wrong_code(&secret)}))
            .await
            .assert_problem(400, "invalid_code");
        assert_eq!(app.reauth_failures(&trusted).await, failures + 1);

        app.next_step();
        let code = app.code_now(&secret, 0);
        let approved = approve(json!({"consent": true, "code": code})).await;
        let to = query_of(approved.assert_ok()["redirect_to"].as_str().unwrap());
        let tokens = exchange(&app, rp, &to["code"], VERIFIER)
            .await
            .assert_ok()
            .clone();
        let id_token = claims_of(text(&tokens, "id_token"));
        assert_eq!(id_token["acr"], "urn:custadmin:acr:mfa");
        // The device's own mfa is dropped; mfa stands for the code proved here.
        assert_eq!(id_token["amr"], json!(["pwd", "otp", "mfa"]));

        // The same step's code once more, for another request: refused, as a replay.
        let reply = app
            .api
            .authorize(&authorize_query(rp, "openid", &extra))
            .await;
        let again = query_of(&location(&reply))["request"].clone();
        app.api
            .approve_authorization_request(
                &trusted.access_token,
                &again,
                json!({"consent": true, "code": code}),
            )
            .await
            .assert_problem(400, "invalid_code");
    }
}

#[track_caller]
fn header_text(reply: &custadmin_client::Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap().to_string())
}

/// Answered to any origin, never with credentials.
#[track_caller]
fn assert_open_to_any_origin(reply: &custadmin_client::Reply, what: &str) {
    assert_eq!(
        header_text(reply, "access-control-allow-origin").as_deref(),
        Some("*"),
        "{what}: {:?}",
        reply.headers
    );
    assert!(
        reply
            .headers
            .get("access-control-allow-credentials")
            .is_none(),
        "{what}"
    );
}

async fn a_relying_party_in_a_browser_calls_the_token_endpoints_from_any_origin(app: TestApp) {
    use custadmin_client::Method;
    const ORIGIN: &str = "https://spa.rp.example";
    let preflight = |path: &str, method: &str| {
        app.api
            .send(Method::OPTIONS, path, custadmin_client::NOBODY, None)
            .header("origin", ORIGIN)
            .header("access-control-request-method", method)
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
    };
    for (path, method) in [
        ("/oauth2/token", "POST"),
        ("/oauth2/userinfo", "GET"),
        ("/oauth2/userinfo", "POST"),
        ("/oauth2/revoke", "POST"),
        ("/.well-known/jwks.json", "GET"),
    ] {
        let reply = preflight(path, method).await;
        assert!(reply.status.is_success(), "{path}: {}", reply.status);
        assert_open_to_any_origin(&reply, path);
        let methods = header_text(&reply, "access-control-allow-methods").unwrap();
        assert!(
            methods.contains("GET") && methods.contains("POST"),
            "{methods}"
        );
        let headers = header_text(&reply, "access-control-allow-headers")
            .unwrap()
            .to_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
    }

    // The actual answers, refusals included (the browser code must read the error).
    let session = app.signed_in_customer("alice").await;
    let rp = register_client(&app, true, "RS256").await;
    let code = code_for(&app, &session, &rp, ALL_SCOPES).await;
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    fields.extend(rp.auth());
    let tokens = app.api.oidc_token(&fields).header("origin", ORIGIN).await;
    assert_open_to_any_origin(&tokens, "token");
    let tokens = tokens.assert_ok().clone();
    let info = app
        .api
        .userinfo(text(&tokens, "access_token"))
        .header("origin", ORIGIN)
        .await;
    assert_open_to_any_origin(&info, "userinfo");
    info.assert_ok();
    let refused = app.api.userinfo("nonsense").header("origin", ORIGIN).await;
    assert_open_to_any_origin(&refused, "userinfo refused");
    assert_oauth_error(&refused, 401, "invalid_token");
    let mut fields = vec![("token", text(&tokens, "refresh_token"))];
    fields.extend(rp.auth());
    let revoked = app.api.oidc_revoke(&fields).header("origin", ORIGIN).await;
    assert_open_to_any_origin(&revoked, "revoke");
    revoked.assert_status(200);
    let keys = app.api.jwks().header("origin", ORIGIN).await;
    assert_open_to_any_origin(&keys, "jwks");

    // Browser navigations, and the API (its allow-list is empty here), stay closed.
    let query = authorize_query(&rp, "openid", &[]);
    for path in ["/oauth2/authorize", "/oauth2/logout"] {
        let reply = preflight(path, "GET").await;
        assert!(
            reply.headers.get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
    let navigation = app.api.authorize(&query).header("origin", ORIGIN).await;
    navigation.assert_status(303);
    assert!(navigation
        .headers
        .get("access-control-allow-origin")
        .is_none());
    let account = app
        .api
        .account(&session.access_token)
        .header("origin", ORIGIN)
        .await;
    account.assert_ok();
    assert!(account.headers.get("access-control-allow-origin").is_none());
    let preflight_api = preflight("/api/v1/account", "GET").await;
    assert!(preflight_api
        .headers
        .get("access-control-allow-origin")
        .is_none());
}

async fn one_address_makes_at_most_sixty_authorization_requests_a_minute(app: TestApp) {
    let rp = register_client(&app, false, "RS256").await;
    let query = authorize_query(&rp, "openid", &[]);
    // Invalid ones count too: each costs a lookup, and the limit is read before the request.
    let unregistered = query.replace("callback", "elsewhere");
    assert_error_page(&app.api.authorize(&unregistered).await);
    for _ in 1..60 {
        app.api.authorize(&query).await.assert_status(303);
    }
    let refused = app.api.authorize(&query).await;
    assert_eq!(refused.status.as_u16(), 429, "{}", refused.text);
    assert!(
        refused.headers.get("location").is_none(),
        "never a redirect"
    );
    assert!(refused.content_type().starts_with("text/html"));
    let retry_after: i64 = header_text(&refused, "retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Refused ones are not stored, nor counted: a minute on, the address may ask again.
    app.clock.advance(TimeDelta::seconds(retry_after));
    app.api.authorize(&query).await.assert_status(303);
}
