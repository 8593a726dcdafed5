use serde_json::json;

use crate::helpers::NOBODY;
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
    let other = session_from(&app.api.login("alice", PASSWORD).await);
    let reply = app
        .api
        .change_password(
            &this.access_token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(reply.status, 204);
    app.api.account(&this.access_token).await.assert_ok();
    app.api
        .account(&other.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .login("alice", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    session_from(&app.api.login("alice", "a brand new password").await);
    app.api
        .change_password(
            &this.access_token,
            json!({"current_password": "a brand new password", "new_password": "short"}),
        )
        .await
        .assert_problem(422, "validation_failed");
}

async fn a_wrong_current_password_is_refused_and_counted(app: TestApp) {
    let session = app.signed_in_customer("bob").await;
    app.api
        .change_password(
            &session.access_token,
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
    app.api.login("carol", "wrong password").await;
    let session = session_from(&app.api.login("carol", PASSWORD).await);
    let token = Some(session.access_token.as_str());
    let all = app.api.events(token).await;
    let events = all.assert_ok()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["kind"], "login_succeeded");
    assert_eq!(events[1]["kind"], "login_failed");
    assert!(events[0]["id"].as_i64() > events[1]["id"].as_i64());
    assert!(events[0]["at"].as_str().unwrap().ends_with('Z'));

    let first_page = app.api.events_page(token, "limit=1").await;
    assert_eq!(first_page.body["events"].as_array().unwrap().len(), 1);
    let before = first_page.body["events"][0]["id"].as_i64().unwrap();
    let second_page = app
        .api
        .events_page(token, &format!("limit=1&before={before}"))
        .await;
    assert_eq!(second_page.body["events"][0]["kind"], "login_failed");
}

async fn a_revoked_session_is_refused_on_every_endpoint_at_once(app: TestApp) {
    let session = app.signed_in_customer("dave").await;
    app.api.log_out(&session.access_token).await;
    let token = Some(session.access_token.as_str());
    app.api
        .account(token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .events(token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .enroll_two_factor(token, json!({}))
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .search_customers(token, "")
        .await
        .assert_problem(401, "invalid_token");
}

on_both_databases!(housekeeping_removes_only_rows_that_no_longer_matter);

async fn housekeeping_removes_only_rows_that_no_longer_matter(app: TestApp) {
    let ended = app.signed_in_customer("erin").await;
    app.api.log_out(&ended.access_token).await;
    app.api.login("ghost", "wrong password").await;
    app.clock.advance(chrono::TimeDelta::days(2));
    let live = session_from(&app.api.login("erin", PASSWORD).await);

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
    app.api.refresh(json!(live.refresh_token)).await.assert_ok();
}

async fn a_password_change_ends_open_login_challenges(app: TestApp) {
    let session = app.signed_in_customer("frank").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let full = app.login_with_code("frank", &secret).await;
    let challenge = app.api.login("frank", PASSWORD).await.body["challenge_token"].clone();
    app.api
        .change_password(
            &full.access_token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    app.next_step();
    app.api
        .verify_otp(&challenge, app.code_now(&secret, 0))
        .await
        .assert_problem(401, "invalid_challenge");
}

on_both_databases!(the_language_is_remembered_on_the_account);

async fn the_language_is_remembered_on_the_account(app: TestApp) {
    let session = app.signed_in_customer("zdenek").await;
    let token = Some(session.access_token.as_str());
    let account = app.api.account(token).await;
    assert_eq!(account.assert_ok()["language"], serde_json::Value::Null);
    let updated = app
        .api
        .update_account(token, json!({"language": "cs"}))
        .await;
    assert_eq!(updated.assert_ok()["language"], "cs");
    assert_eq!(app.api.account(token).await.body["language"], "cs");
    let unknown = app
        .api
        .update_account(token, json!({"language": "de"}))
        .await;
    unknown.assert_problem(422, "invalid_body");
    app.api
        .update_account(NOBODY, json!({"language": "en"}))
        .await
        .assert_problem(401, "invalid_token");
}
