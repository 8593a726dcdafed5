use reqwest::Method;
use serde_json::json;

use crate::helpers::{session_from, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    changing_the_password_signs_out_other_sessions_and_keeps_this_one,
    a_wrong_current_password_is_refused_and_counted,
    events_are_listed_newest_first_and_page_with_before,
    a_revoked_session_is_refused_on_every_endpoint_at_once,
    a_password_change_ends_open_login_challenges,
);

async fn changing_the_password_signs_out_other_sessions_and_keeps_this_one(app: TestApp) {
    let this = app.signed_in_customer("alice").await;
    let other = session_from(&app.login("alice", PASSWORD).await);
    let reply = app
        .post(
            "/account/password",
            Some(&this.access_token),
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(reply.status, 204);
    app.get("/account", Some(&this.access_token))
        .await
        .assert_ok();
    app.get("/account", Some(&other.access_token))
        .await
        .assert_problem(401, "invalid_token");
    app.login("alice", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    session_from(&app.login("alice", "a brand new password").await);
    app.post(
        "/account/password",
        Some(&this.access_token),
        json!({"current_password": "a brand new password", "new_password": "short"}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

async fn a_wrong_current_password_is_refused_and_counted(app: TestApp) {
    let session = app.signed_in_customer("bob").await;
    app.post(
        "/account/password",
        Some(&session.access_token),
        json!({"current_password": "wrong password", "new_password": "a brand new password"}),
    )
    .await
    .assert_problem(400, "invalid_password");
    // Counted apart from sign-ins: someone keeping the username locked does not stop the
    // signed-in owner from changing the password.
    assert_eq!(app.reauth_failures(&session).await, 1);
    assert_eq!(app.consecutive_failures("login:bob").await, 0);
}

async fn events_are_listed_newest_first_and_page_with_before(app: TestApp) {
    app.register("carol").await;
    app.login("carol", "wrong password").await;
    let session = session_from(&app.login("carol", PASSWORD).await);
    let token = Some(session.access_token.as_str());
    let all = app.get("/account/events", token).await;
    let events = all.assert_ok()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["kind"], "login_succeeded");
    assert_eq!(events[1]["kind"], "login_failed");
    assert!(events[0]["id"].as_i64() > events[1]["id"].as_i64());
    assert!(events[0]["at"].as_str().unwrap().ends_with('Z'));

    let first_page = app.get("/account/events?limit=1", token).await;
    assert_eq!(first_page.body["events"].as_array().unwrap().len(), 1);
    let before = first_page.body["events"][0]["id"].as_i64().unwrap();
    let second_page = app
        .get(&format!("/account/events?limit=1&before={before}"), token)
        .await;
    assert_eq!(second_page.body["events"][0]["kind"], "login_failed");
}

async fn a_revoked_session_is_refused_on_every_endpoint_at_once(app: TestApp) {
    let session = app.signed_in_customer("dave").await;
    app.request(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&session.access_token),
        None,
    )
    .await;
    let token = Some(session.access_token.as_str());
    app.get("/account", token)
        .await
        .assert_problem(401, "invalid_token");
    app.get("/account/events", token)
        .await
        .assert_problem(401, "invalid_token");
    app.post("/account/two-factor/enroll", token, json!({}))
        .await
        .assert_problem(401, "invalid_token");
    app.get("/support/customers", token)
        .await
        .assert_problem(401, "invalid_token");
}

on_both_databases!(housekeeping_removes_only_rows_that_no_longer_matter);

async fn housekeeping_removes_only_rows_that_no_longer_matter(app: TestApp) {
    let ended = app.signed_in_customer("erin").await;
    app.request(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&ended.access_token),
        None,
    )
    .await;
    app.login("ghost", "wrong password").await;
    app.clock.advance(chrono::TimeDelta::days(2));
    let live = session_from(&app.login("erin", PASSWORD).await);

    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.sessions, 0, "ended sessions are kept 30 days");
    assert_eq!(
        pruned.throttles, 2,
        "the idle counters of 'ghost': per network and the ceiling's"
    );
    assert_eq!(
        pruned.throttle_entries, 2,
        "ghost's failure in the ceiling's and the network's windows"
    );

    app.clock.advance(chrono::TimeDelta::days(29));
    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.sessions, 1, "the session ended 31 days ago");
    app.refresh(json!(live.refresh_token)).await.assert_ok();
}

async fn a_password_change_ends_open_login_challenges(app: TestApp) {
    let session = app.signed_in_customer("frank").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let full = app.login_with_code("frank", &secret).await;
    let challenge = app.login("frank", PASSWORD).await.body["challenge_token"].clone();
    app.post(
        "/account/password",
        Some(&full.access_token),
        json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
    )
    .await;
    app.next_step();
    app.otp(json!({"challenge_token": challenge, "code": app.code_now(&secret, 0)}))
        .await
        .assert_problem(401, "invalid_challenge");
}

on_both_databases!(the_language_is_remembered_on_the_account);

async fn the_language_is_remembered_on_the_account(app: TestApp) {
    let session = app.signed_in_customer("zdenek").await;
    let token = Some(session.access_token.as_str());
    let account = app.get("/account", token).await;
    assert_eq!(account.assert_ok()["language"], serde_json::Value::Null);
    let updated = app
        .request(
            Method::PATCH,
            "/api/v1/account",
            token,
            Some(json!({"language": "cs"})),
        )
        .await;
    assert_eq!(updated.assert_ok()["language"], "cs");
    assert_eq!(app.get("/account", token).await.body["language"], "cs");
    let unknown = app
        .request(
            Method::PATCH,
            "/api/v1/account",
            token,
            Some(json!({"language": "de"})),
        )
        .await;
    unknown.assert_problem(422, "invalid_body");
    app.request(
        Method::PATCH,
        "/api/v1/account",
        None,
        Some(json!({"language": "en"})),
    )
    .await
    .assert_problem(401, "invalid_token");
}
