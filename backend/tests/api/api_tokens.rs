//! API tokens for integrators: shown once, scoped, never reaching management, and ended by
//! revocation, expiry and support resets.

use chrono::TimeDelta;
use serde_json::{json, Value};

use crate::helpers::{session_from, Session, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    a_token_is_shown_once_and_reads_what_its_scope_allows,
    a_token_never_reaches_any_management,
    making_a_token_is_privileged_and_its_scopes_follow_the_role,
    revoked_expired_and_support_reset_tokens_stop_working,
    a_support_token_acts_within_its_scopes,
    dead_tokens_are_pruned_after_the_retention,
);

async fn make_token(app: &TestApp, session: &Session, scopes: Value, days: i64) -> Value {
    let reply = app
        .api
        .create_api_token(
            &session.access_token,
            json!({"name": "Reseller portal", "scopes": scopes, "expires_in_days": days}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

async fn a_token_is_shown_once_and_reads_what_its_scope_allows(app: TestApp) {
    let session = app.signed_in_customer("ida").await;
    let made = make_token(&app, &session, json!(["account:read"]), 30).await;
    let token = made["token"].as_str().unwrap().to_string();
    assert!(
        token.starts_with("cat_") && token.len() >= 4 + 43,
        "{token}"
    );
    assert_eq!(made["prefix"], &token[..8]);
    let listed = app.api.api_tokens(&session.access_token).await;
    let tokens = listed.assert_ok()["tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].get("token").is_none(), "never listed again");
    assert_eq!(tokens[0]["scopes"], json!(["account:read"]));
    assert_eq!(tokens[0]["last_used_at"], Value::Null);

    for read in [
        app.api.account(&token),
        app.api.events(&token),
        app.api.sessions(&token),
    ] {
        read.await.assert_ok();
    }
    let listed = app.api.api_tokens(&session.access_token).await;
    assert!(listed.body["tokens"][0]["last_used_at"].is_string());
    let events = app.api.events(&token).await;
    assert!(crate::helpers::event_kinds(&events).contains(&"api_token_created"));
}

async fn a_token_never_reaches_any_management(app: TestApp) {
    let session = app.signed_in_customer("jon").await;
    let made = make_token(&app, &session, json!(["account:read"]), 30).await;
    let token = made["token"].as_str().unwrap();
    let id = made["id"].as_str().unwrap();
    let api = &app.api;
    let refused = [
        api.change_password(
            token,
            json!({"current_password": PASSWORD, "new_password": "another password"}),
        ),
        api.enroll_two_factor(token, json!({})),
        api.disable_two_factor(token, json!({})),
        api.regenerate_recovery_codes(token, json!({})),
        api.update_account(token, json!({"language": "cs"})),
        api.change_email(token, json!({"email": "x@example.com"})),
        api.devices(token),
        api.revoke_other_sessions(token),
        api.api_tokens(token),
        api.create_api_token(
            token,
            json!({"name": "more", "scopes": ["account:read"], "expires_in_days": 1}),
        ),
        api.revoke_api_token(token, id),
        api.log_out(token),
        api.search_customers(token, ""),
    ];
    for call in refused {
        let request = call.describe();
        let reply = call.await;
        assert_eq!(reply.code(), "insufficient_scope", "{request}");
        reply.assert_problem(403, "insufficient_scope");
    }
    // Still alive: refusals revoke nothing.
    app.api.account(token).await.assert_ok();
}

async fn making_a_token_is_privileged_and_its_scopes_follow_the_role(app: TestApp) {
    let session = app.signed_in_customer("kim").await;
    let token = Some(session.access_token.as_str());
    let ask = |body: Value| app.api.create_api_token(token, body);
    ask(json!({"name": "x", "scopes": ["support:read"], "expires_in_days": 1}))
        .await
        .assert_problem(403, "insufficient_scope");
    for (body, code) in [
        (
            json!({"name": "x", "scopes": ["account:read"], "expires_in_days": 0}),
            "validation_failed",
        ),
        (
            json!({"name": "x", "scopes": ["account:read"], "expires_in_days": 366}),
            "validation_failed",
        ),
        (
            json!({"name": " ", "scopes": ["account:read"], "expires_in_days": 1}),
            "validation_failed",
        ),
        (
            json!({"name": "x", "scopes": [], "expires_in_days": 1}),
            "validation_failed",
        ),
        (
            json!({"name": "x", "scopes": ["everything"], "expires_in_days": 1}),
            "invalid_body",
        ),
    ] {
        ask(body).await.assert_problem(422, code);
    }
    app.clock.advance(TimeDelta::minutes(11));
    let stale = session_from(&app.api.refresh(json!(session.refresh_token)).await);
    app.api
        .create_api_token(
            &stale.access_token,
            json!({"name": "x", "scopes": ["account:read"], "expires_in_days": 1}),
        )
        .await
        .assert_problem(403, "reauthentication_required");
    let made = app.api.create_api_token(&stale.access_token, json!({"name": "x", "scopes": ["account:read"], "expires_in_days": 1, "password": PASSWORD}))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
}

async fn revoked_expired_and_support_reset_tokens_stop_working(app: TestApp) {
    let session = app.signed_in_customer("lea").await;
    let revoked = make_token(&app, &session, json!(["account:read"]), 30).await;
    let short = make_token(&app, &session, json!(["account:read"]), 1).await;
    let id = revoked["id"].as_str().unwrap();
    let reply = app.api.revoke_api_token(&session.access_token, id).await;
    assert_eq!(reply.status, 204);
    app.api
        .account(revoked["token"].as_str())
        .await
        .assert_problem(401, "invalid_token");
    app.api.account(short["token"].as_str()).await.assert_ok();
    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    app.api
        .account(short["token"].as_str())
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .account("cat_made-up")
        .await
        .assert_problem(401, "invalid_token");
    // A new password ends the tokens made under the old one.
    let session = session_from(&app.api.login("lea", PASSWORD).await);
    let kept = make_token(&app, &session, json!(["account:read"]), 30).await;
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    app.api
        .account(kept["token"].as_str())
        .await
        .assert_problem(401, "invalid_token");
}

async fn a_support_token_acts_within_its_scopes(app: TestApp) {
    use custadmin::domain::{Password, Role, Username};
    use custadmin::service::registration::{create_account, NewAccountRequest};
    create_account(
        &app.state,
        NewAccountRequest {
            username: Username::parse("sam-support").unwrap(),
            password: Password::parse_new(PASSWORD.into(), "password").unwrap(),
            email: None,
            role: Role::Support,
        },
    )
    .await
    .unwrap();
    let agent = session_from(&app.api.login("sam-support", PASSWORD).await);
    let (secret, _) = app.enable_two_factor(&agent).await;
    // A support scope needs a fresh code every time.
    let support_token = |scopes: Value| {
        app.next_step();
        let code = app.code_now(&secret, 0);
        let body =
            json!({"name": "desk script", "scopes": scopes, "expires_in_days": 30, "code": code});
        app.api.create_api_token(&agent.access_token, body)
    };
    let reader = support_token(json!(["support:read"])).await;
    assert_eq!(reader.status, 201, "{}", reader.body);
    let resetter = support_token(json!(["support:read", "support:reset"])).await;
    assert_eq!(resetter.status, 201, "{}", resetter.body);
    let (reader, resetter) = (reader.body, resetter.body);
    let customer = app.signed_in_customer("mia").await;
    app.enable_two_factor(&customer).await;
    let customer_token = make_token(&app, &customer, json!(["account:read"]), 30).await;
    let customer_id = app.account_id(&customer).await;

    let reader = reader["token"].as_str();
    app.api
        .search_customers(reader, "query=mia")
        .await
        .assert_ok();
    app.api
        .customer_events(reader, &customer_id, "")
        .await
        .assert_ok();
    let reset = |token, body| app.api.reset_customer_two_factor(token, &customer_id, body);
    reset(reader, json!({"reason": "lost phone"}))
        .await
        .assert_problem(403, "insufficient_scope");
    let done = reset(
        resetter["token"].as_str(),
        json!({"reason": "lost phone, called back"}),
    )
    .await;
    assert_eq!(done.assert_ok(), &json!({"enabled": false}));
    // The customer's machines lose access with the reset.
    app.api
        .account(customer_token["token"].as_str())
        .await
        .assert_problem(401, "invalid_token");
}

async fn dead_tokens_are_pruned_after_the_retention(app: TestApp) {
    let session = app.signed_in_customer("nils").await;
    make_token(&app, &session, json!(["account:read"]), 1).await;
    make_token(&app, &session, json!(["account:read"]), 365).await;
    app.clock.advance(TimeDelta::days(32));
    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.api_tokens, 1, "the expired one, not the live one");
}
