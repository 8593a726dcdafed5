//! Limits a stranger must not turn against the holder (issue 17): reset mails from many
//! networks, an address's verification mails used up by others' sign-ups, support-scoped API
//! tokens, and wrong proofs from a stolen session. Clients at many addresses come through a
//! trusted proxy.

use chrono::TimeDelta;
use custadmin::auth::totp::TotpSecret;
use serde_json::{json, Value};

use crate::helpers::{session_from, Session, TestApp, PASSWORD};
use crate::on_both_databases;

const BEHIND_PROXY: &[(&str, &str)] = &[
    ("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32"),
    ("CUSTADMIN_HASHING_QUEUE_LIMIT", "1000"),
];

on_both_databases!(
    with BEHIND_PROXY;
    a_thief_s_wrong_proofs_lock_the_thief_s_session_not_the_owner_s,
    wrong_proofs_from_many_sessions_reach_the_account_s_ceiling_until_support_unlocks,
);

const OWNER_HOME: &str = "192.0.2.10";

fn stranger_network(n: usize) -> String {
    format!("198.51.100.{}", n + 1)
}

/// A support agent signed in with both factors a moment ago (inside the privileged window).
async fn fresh_support_agent(app: &TestApp, username: &str) -> (Session, TotpSecret, Vec<String>) {
    use custadmin::domain::{Password, Role, Username};
    use custadmin::service::registration::{create_account, NewAccountRequest};
    create_account(
        &app.state,
        NewAccountRequest {
            username: Username::parse(username).unwrap(),
            password: Password::parse_new(PASSWORD.into(), "password").unwrap(),
            email: None,
            role: Role::Support,
        },
    )
    .await
    .unwrap();
    let first = session_from(&app.login(username, PASSWORD).await);
    let (secret, recovery_codes) = app.enable_two_factor(&first).await;
    let session = app.login_with_code(username, &secret).await;
    (session, secret, recovery_codes)
}

fn token_request(scopes: Value, days: i64, proof: Value) -> Value {
    let mut body = json!({"name": "desk script", "scopes": scopes, "expires_in_days": days});
    body.as_object_mut()
        .unwrap()
        .extend(proof.as_object().unwrap().clone());
    body
}

/// A privileged action with `proof` in the body: an account-only API token.
async fn prove(app: &TestApp, session: &Session, ip: &str, proof: Value) -> crate::helpers::Reply {
    app.send_from(
        ip,
        "/api/v1/account/api-tokens",
        Some(&session.access_token),
        token_request(json!(["account:read"]), 1, proof),
    )
    .await
}

async fn a_thief_s_wrong_proofs_lock_the_thief_s_session_not_the_owner_s(app: TestApp) {
    let first = app.signed_in_customer("olivia").await;
    let (secret, _) = app.enable_two_factor(&first).await;
    let owner = app.login_with_code("olivia", &secret).await;
    let thief = app.login_with_code("olivia", &secret).await;
    // Outside the privileged window, so every action needs a proof; at the start of a step,
    // so the thief's first lock (30 s) outlasts it.
    app.clock.advance(TimeDelta::minutes(11));
    app.next_step();
    let wrong = json!({"code": app.wrong_code(&secret)});
    for attempt in 1..=10 {
        let reply = prove(&app, &thief, "203.0.113.66", wrong.clone()).await;
        assert_eq!(reply.status, 400, "attempt {attempt}: {}", reply.body);
    }
    prove(&app, &thief, "203.0.113.66", wrong.clone())
        .await
        .assert_problem(429, "too_many_attempts");

    // The owner's session proves and acts.
    let made = prove(
        &app,
        &owner,
        OWNER_HOME,
        json!({"code": app.code_now(&secret, 0)}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(app.reauth_failures(&owner).await, 0);
    // Its success clears its own count, not the thief's lock.
    prove(&app, &thief, "203.0.113.66", wrong)
        .await
        .assert_problem(429, "too_many_attempts");
    assert_eq!(app.reauth_failures(&thief).await, 10);

    // Switching two-factor off forgets what the codes' counters held.
    app.next_step();
    let disabled = app
        .send_from(
            OWNER_HOME,
            "/api/v1/account/two-factor/disable",
            Some(&owner.access_token),
            json!({"code": app.code_now(&secret, 0)}),
        )
        .await;
    assert!(disabled.status.is_success(), "{}", disabled.body);
    assert_eq!(app.reauth_failures(&thief).await, 0);
}

async fn wrong_proofs_from_many_sessions_reach_the_account_s_ceiling_until_support_unlocks(
    app: TestApp,
) {
    let customer_id = app.register("rita").await;
    let owner = session_from(&app.login_from(OWNER_HOME, "rita", PASSWORD, None).await);
    app.clock.advance(TimeDelta::minutes(11));
    // Ten strangers who know the password, each signed in once from its own network, each
    // failing until its session locks: 100 wrong proofs, the account's ceiling.
    for n in 0..10 {
        let ip = stranger_network(n);
        let session = session_from(&app.login_from(&ip, "rita", PASSWORD, None).await);
        for _ in 0..10 {
            let reply = prove(&app, &session, &ip, json!({"password": "wrong guess"})).await;
            assert_eq!(reply.status, 400, "{}", reply.body);
        }
        prove(&app, &session, &ip, json!({"password": "wrong guess"}))
            .await
            .assert_problem(429, "too_many_attempts");
        if n == 8 {
            // 90 so far: the owner still acts (and gives that entry back).
            let made = prove(&app, &owner, OWNER_HOME, json!({"password": PASSWORD})).await;
            assert_eq!(made.status, 201, "{}", made.body);
        }
    }
    prove(&app, &owner, OWNER_HOME, json!({"password": PASSWORD}))
        .await
        .assert_problem(429, "too_many_attempts");

    // Support's unlock clears the ceiling and every session's count.
    let (agent, _, _) = fresh_support_agent(&app, "sam-support").await;
    let unlocked = app
        .post(
            &format!("/support/customers/{customer_id}/unlock"),
            Some(&agent.access_token),
            json!({"reason": "customer called from the number on file"}),
        )
        .await;
    assert_eq!(unlocked.status, 204, "{}", unlocked.body);
    let made = prove(&app, &owner, OWNER_HOME, json!({"password": PASSWORD})).await;
    assert_eq!(made.status, 201, "{}", made.body);
}
