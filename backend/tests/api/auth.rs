use serde_json::json;

use crate::helpers::{
    assert_session_ended, claims_of, session_from, times_recorded, Reply, TestApp, NOBODY, PASSWORD,
};
use crate::on_both_databases;
use custadmin_client::endpoints;

on_both_databases!(
    registration_creates_an_account_that_can_sign_in,
    usernames_are_unique_regardless_of_case,
    registration_refuses_invalid_usernames_passwords_and_emails,
    unknown_user_and_wrong_password_get_the_same_answer,
    access_tokens_carry_the_documented_claims_and_verify_with_the_jwks,
    refresh_rotates_and_a_reused_refresh_token_revokes_the_session,
    refresh_accepts_the_cookie_instead_of_the_body,
    the_spa_gets_its_tokens_only_as_cookies,
    two_tabs_refreshing_at_once_both_stay_signed_in,
    a_replay_within_the_grace_cannot_fork_the_session,
    logout_by_cookie_needs_a_json_request,
    logout_revokes_the_access_and_refresh_token_at_once,
    ten_failed_passwords_lock_the_username_with_doubling_back_off,
    an_unknown_username_is_throttled_exactly_like_a_real_one,
    a_client_ip_with_a_hundred_failures_is_throttled,
    concurrent_failed_logins_are_all_counted,
    expired_access_tokens_are_refused,
    taken_usernames_at_sign_up_count_against_the_client_ip,
);

async fn registration_creates_an_account_that_can_sign_in(app: TestApp) {
    let reply = app
        .api
        .register(json!({"username": "Alice", "password": PASSWORD, "email": "alice@example.com"}))
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["username"], "Alice");
    let id = reply.body["id"].as_str().unwrap().to_string();

    let session = session_from(&app.api.login("alice", PASSWORD).await);
    let account = app.api.account(&session.access_token).await;
    let body = account.assert_ok();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["role"], "customer");
    assert_eq!(body["two_factor"]["enabled"], false);
}

async fn usernames_are_unique_regardless_of_case(app: TestApp) {
    app.register("bob").await;
    let reply = app
        .api
        .register(json!({"username": "BOB", "password": PASSWORD}))
        .await;
    reply.assert_problem(409, "username_taken");
}

async fn registration_refuses_invalid_usernames_passwords_and_emails(app: TestApp) {
    for (body, field) in [
        (json!({"username": "ab", "password": PASSWORD}), "username"),
        (
            json!({"username": "bad name", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x".repeat(65), "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "carol", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "carol", "password": "x".repeat(1025)}),
            "password",
        ),
        (
            json!({"username": "carol", "password": PASSWORD, "email": "not-an-email"}),
            "email",
        ),
    ] {
        let reply = app.api.register(body).await;
        reply.assert_problem(422, "validation_failed");
        assert_eq!(reply.body["field"], field);
    }
}

async fn unknown_user_and_wrong_password_get_the_same_answer(app: TestApp) {
    app.register("dave").await;
    let wrong_password = app.api.login("dave", "wrong password").await;
    let unknown_user = app.api.login("nobody-here", "wrong password").await;
    wrong_password.assert_problem(401, "invalid_credentials");
    unknown_user.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_user.body);
}

async fn access_tokens_carry_the_documented_claims_and_verify_with_the_jwks(app: TestApp) {
    let id = app.register("erin").await;
    let session = session_from(&app.api.login("erin", PASSWORD).await);
    let claims = claims_of(&session.access_token);
    assert_eq!(claims["iss"], "custadmin");
    assert_eq!(claims["aud"], "custadmin");
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["role"], "customer");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert!(claims["jti"].is_string() && claims["sid"].is_string() && claims["auth_time"].is_i64());

    let jwks = app.api.jwks().await;
    let key = &jwks.assert_ok()["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    let decoding_key =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let header = jsonwebtoken::decode_header(&session.access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["custadmin"]);
    validation.set_issuer(&["custadmin"]);
    validation.validate_exp = false; // the test clock may differ from the wall clock
    jsonwebtoken::decode::<serde_json::Value>(&session.access_token, &decoding_key, &validation)
        .expect("the token verifies offline with the published key");
}

async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_session(app: TestApp) {
    let first = app.signed_in_customer("frank").await;
    let second = session_from(&app.api.refresh(json!(first.refresh_token)).await);
    assert_ne!(second.refresh_token, first.refresh_token);
    app.api.account(&second.access_token).await.assert_ok();

    // The old refresh token again, after the grace for racing tabs: theft is assumed and the
    // whole session ends.
    app.clock.advance(chrono::TimeDelta::seconds(11));
    app.api
        .refresh(json!(first.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.api
        .account(&second.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .refresh(json!(second.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.api
        .refresh(json!("made-up"))
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.api
        .call(endpoints::REFRESH, NOBODY, Some(json!({})))
        .await
        .assert_problem(401, "invalid_refresh_token");
}

async fn refresh_accepts_the_cookie_instead_of_the_body(app: TestApp) {
    app.register("grace").await;
    let response = app.api.login("grace", PASSWORD).await;
    let cookies = set_cookies(&response);
    let cookie = cookies
        .iter()
        .find(|cookie| cookie.starts_with("refresh_token="))
        .expect("refresh cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    let pair = cookie.split(';').next().unwrap().to_string();

    // A form post (no JSON content type, no custom header) cannot use the cookie.
    let refresh_by_cookie = || {
        app.api
            .call(endpoints::REFRESH, NOBODY, None)
            .header("cookie", &pair)
    };
    let forged = refresh_by_cookie()
        .header("content-type", "application/x-www-form-urlencoded")
        .await;
    assert_eq!(forged.status, 403);
    let problem = &forged.body;
    assert_eq!(problem["code"], "csrf_check_failed");

    let refreshed = refresh_by_cookie()
        .header("x-requested-with", "custadmin")
        .await;
    assert_eq!(refreshed.status, 200);
    let rotated = set_cookies(&refreshed);
    assert!(rotated.iter().any(|c| c.starts_with("refresh_token=")));
    let body = &refreshed.body;
    assert_eq!(body["status"], "authenticated");
    assert!(
        body.get("refresh_token").is_none(),
        "a cookie client never sees the refresh token in a body: {body}"
    );
}

async fn the_spa_gets_its_tokens_only_as_cookies(app: TestApp) {
    app.register("gwen").await;
    let response = app
        .api
        .login("gwen", PASSWORD)
        .header("sec-fetch-site", "same-origin")
        .await;
    let cookies = set_cookies(&response);
    let device = cookies
        .iter()
        .find(|cookie| cookie.starts_with("__Host-custadmin_device="))
        .expect("device cookie");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/;",
        "Max-Age=31536000",
    ] {
        assert!(
            format!("{device};").contains(attribute),
            "{attribute} missing in {device}"
        );
    }
    assert!(!device.contains("Domain="), "host-only: {device}");
    // The cookie of earlier versions, which any sibling subdomain could set, is cleared.
    assert!(
        cookies
            .iter()
            .any(|cookie| cookie.starts_with("custadmin_device=;") && cookie.contains("Max-Age=0")),
        "{cookies:?}"
    );
    let body = &response.body;
    assert!(body["access_token"].is_string());
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("device_token").is_none(), "{body}");

    // API clients get both in the body.
    let api = app.api.login("gwen", PASSWORD).await;
    assert!(api.body["refresh_token"].is_string());
    assert!(api.body["device_token"].is_string());
}

async fn two_tabs_refreshing_at_once_both_stay_signed_in(app: TestApp) {
    let first = app.signed_in_customer("tabitha").await;
    // Tab one rotates; tab two presents the same token (the shared cookie) a moment later.
    let tab_one = session_from(&app.api.refresh(json!(first.refresh_token)).await);
    app.clock.advance(chrono::TimeDelta::seconds(3));
    let tab_two = session_from(&app.api.refresh(json!(first.refresh_token)).await);
    assert_ne!(tab_one.refresh_token, tab_two.refresh_token);
    for tab in [&tab_one, &tab_two] {
        app.api.account(&tab.access_token).await.assert_ok();
        let claims = claims_of(&tab.access_token);
        assert_eq!(claims["sid"], claims_of(&first.access_token)["sid"]);
    }
    // The cookie now holds the last answer's token, and the session goes on with it.
    let next = session_from(&app.api.refresh(json!(tab_two.refresh_token)).await);
    app.api.account(&next.access_token).await.assert_ok();

    // The sibling nobody used is dead now: presenting it is a replay, and the session ends.
    app.api
        .refresh(json!(tab_one.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
    app.api
        .account(&next.access_token)
        .await
        .assert_problem(401, "invalid_token");
}

async fn a_replay_within_the_grace_cannot_fork_the_session(app: TestApp) {
    let stolen = app.signed_in_customer("victor").await;
    // The thief uses the stolen token first; the owner's browser presents it a moment later.
    let thief = session_from(&app.api.refresh(json!(stolen.refresh_token)).await);
    let owner = session_from(&app.api.refresh(json!(stolen.refresh_token)).await);
    // Only one chain can go on: the thief's next refresh supersedes the owner's token, and
    // the owner's next refresh then reveals the replay and ends the session for both.
    let thief_next = session_from(&app.api.refresh(json!(thief.refresh_token)).await);
    app.api
        .refresh(json!(owner.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
    assert_session_ended(&app, &thief_next).await;
}

async fn logout_by_cookie_needs_a_json_request(app: TestApp) {
    app.register("logan").await;
    let login = app.api.login("logan", PASSWORD).await;
    let session = session_from(&login);
    let pair = format!("refresh_token={}", session.refresh_token);
    let forged = app
        .api
        .log_out(NOBODY)
        .header("cookie", &pair)
        .raw_body(Some("text/plain"), "{}")
        .await;
    assert_eq!(forged.status, 403);
    app.api.account(&session.access_token).await.assert_ok();
    let signed_out = app
        .api
        .call(endpoints::LOG_OUT, NOBODY, Some(json!({})))
        .header("cookie", &pair)
        .await;
    assert_eq!(signed_out.status, 204);
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
}

fn set_cookies(response: &Reply) -> Vec<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect()
}

async fn logout_revokes_the_access_and_refresh_token_at_once(app: TestApp) {
    let session = app.signed_in_customer("heidi").await;
    let reply = app.api.log_out(&session.access_token).await;
    assert_eq!(reply.status, 204);
    assert!(reply
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .refresh(json!(session.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
}

async fn ten_failed_passwords_lock_the_username_with_doubling_back_off(app: TestApp) {
    let id = app.register("ivan").await;
    for _ in 0..9 {
        app.api
            .login("ivan", "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.api
        .login("ivan", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    // Locked now: even the right password is refused, without saying it was right.
    let locked = app.api.login("ivan", PASSWORD).await;
    locked.assert_problem(429, "too_many_attempts");
    assert_eq!(locked.retry_after(), Some(30));

    app.clock.advance(chrono::TimeDelta::seconds(31));
    app.api
        .login("ivan", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    let doubled = app.api.login("ivan", PASSWORD).await;
    doubled.assert_problem(429, "too_many_attempts");
    assert_eq!(doubled.retry_after(), Some(60));

    app.clock.advance(chrono::TimeDelta::seconds(61));
    session_from(&app.api.login("ivan", PASSWORD).await);
    // A full sign-in resets the count: one failure does not lock again.
    app.api
        .login("ivan", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    session_from(&app.api.login("ivan", PASSWORD).await);

    let session = session_from(&app.api.login("ivan", PASSWORD).await);
    let events = app
        .api
        .events_page(&session.access_token, "limit=200")
        .await;
    assert_eq!(times_recorded(&events, "account_locked"), 2);
    assert_eq!(times_recorded(&events, "login_failed"), 12);
    assert!(!id.is_empty());
}

async fn an_unknown_username_is_throttled_exactly_like_a_real_one(app: TestApp) {
    for _ in 0..10 {
        app.api
            .login("ghost", "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let locked = app.api.login("ghost", "wrong password").await;
    locked.assert_problem(429, "too_many_attempts");
    assert_eq!(locked.retry_after(), Some(30));
}

async fn a_client_ip_with_a_hundred_failures_is_throttled(app: TestApp) {
    app.register("judy").await;
    // Spread over many usernames so no single username locks first.
    for attempt in 0..100 {
        let reply = app
            .api
            .login(&format!("user{}", attempt % 20), "wrong password")
            .await;
        reply.assert_problem(401, "invalid_credentials");
    }
    let throttled = app.api.login("judy", PASSWORD).await;
    throttled.assert_problem(429, "too_many_attempts");
    let retry_after = throttled.retry_after().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    app.clock.advance(chrono::TimeDelta::seconds(901));
    session_from(&app.api.login("judy", PASSWORD).await);
}

async fn concurrent_failed_logins_are_all_counted(app: TestApp) {
    app.register("mallory").await;
    let attempts = (0..50).map(|_| app.api.login("mallory", "wrong password"));
    let replies = futures::future::join_all(attempts).await;
    let unauthorized = replies.iter().filter(|reply| reply.status == 401).count();
    let throttled = replies.iter().filter(|reply| reply.status == 429).count();
    assert_eq!(unauthorized + throttled, 50, "only 401 and 429 answers");
    assert_eq!(
        unauthorized, 10,
        "the tenth failure locks before any other is checked"
    );

    let failures = app.consecutive_failures("pwd:mallory@127.0.0.1").await;
    assert_eq!(
        failures as usize, unauthorized,
        "every evaluated failure is counted exactly once"
    );
}

async fn expired_access_tokens_are_refused(app: TestApp) {
    let session = app.signed_in_customer("oscar").await;
    app.clock.advance(chrono::TimeDelta::seconds(899));
    app.api.account(&session.access_token).await.assert_ok();
    app.clock.advance(chrono::TimeDelta::seconds(1));
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    // The refresh token still works and yields a fresh access token.
    let refreshed = session_from(&app.api.refresh(json!(session.refresh_token)).await);
    app.api.account(&refreshed.access_token).await.assert_ok();
}

async fn taken_usernames_at_sign_up_count_against_the_client_ip(app: TestApp) {
    app.register("victor").await;
    for _ in 0..100 {
        app.api
            .register(json!({"username": "victor", "password": PASSWORD}))
            .await
            .assert_problem(409, "username_taken");
    }
    app.api
        .register(json!({"username": "someone-new", "password": PASSWORD}))
        .await
        .assert_problem(429, "too_many_attempts");
}
