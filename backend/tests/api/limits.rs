//! Limits a stranger must not turn against the holder (issue 17): reset mails from many
//! networks, an address's verification mails used up by others' sign-ups, support-scoped API
//! tokens, and wrong proofs from a stolen session. Clients at many addresses come through a
//! trusted proxy.

use chrono::TimeDelta;
use custadmin::auth::totp::TotpSecret;
use serde_json::{json, Value};

use crate::helpers::{session_from, Mail, Session, TestApp, PASSWORD};
use crate::on_both_databases;
use crate::support::support_agent_without_two_factor;

const BEHIND_PROXY: &[(&str, &str)] = &[
    ("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32"),
    ("CUSTADMIN_HASHING_QUEUE_LIMIT", "1000"),
];

on_both_databases!(
    with BEHIND_PROXY;
    a_reset_flood_from_twenty_networks_sends_three_mails_an_hour_and_ten_a_day,
    the_first_of_several_live_reset_links_works_and_voids_the_others,
    two_live_reset_links_used_at_once_reset_the_password_once,
    strangers_using_up_an_address_s_mails_cannot_stop_the_owner_s_sign_up,
    a_support_scoped_token_needs_a_fresh_second_factor_every_time,
    a_support_scoped_token_lives_at_most_thirty_days,
    making_a_support_scoped_token_is_one_of_the_agent_s_thirty_actions_an_hour,
    a_thief_s_wrong_proofs_lock_the_thief_s_session_not_the_owner_s,
    wrong_proofs_from_many_sessions_reach_the_account_s_ceiling_until_support_unlocks,
);

const OWNER_HOME: &str = "192.0.2.10";

fn stranger_network(n: usize) -> String {
    format!("198.51.100.{}", n + 1)
}

async fn customer_with_verified_address(app: &TestApp, username: &str) -> (Session, String) {
    let session = app.signed_in_customer(username).await;
    let id = app.account_id(&session).await;
    let address = format!("{username}@example.com");
    app.verify_address(&id, &address).await;
    app.mails().await;
    (session, address)
}

/// `POST /auth/password-reset` from `ip`: always `202` and an empty body, whatever happens.
async fn ask_reset_from(app: &TestApp, ip: &str, login: &str) {
    let reply = app
        .api
        .request_password_reset(json!({"login": login}))
        .from_ip(ip)
        .await;
    assert_eq!(
        (reply.status.as_u16(), &reply.body),
        (202, &Value::Null),
        "the answer never differs"
    );
}

/// The mails delivered once the background lookups have settled: at least `expected`, then
/// quiet for half a second.
async fn settled_mails(app: &TestApp, expected: usize) -> Vec<Mail> {
    let mut mails = Vec::new();
    let mut quiet = 0;
    for _ in 0..100 {
        let new = app.mails().await;
        quiet = if new.is_empty() { quiet + 1 } else { 0 };
        mails.extend(new);
        if mails.len() >= expected && quiet >= 10 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    mails
}

fn reset_links(mails: &[Mail]) -> Vec<String> {
    mails
        .iter()
        .filter(|mail| mail.subject == "Reset your password · custadmin")
        .map(Mail::link_token)
        .collect()
}

async fn confirm_reset(app: &TestApp, token: &str, new_password: &str) -> crate::helpers::Reply {
    app.api
        .confirm_password_reset(json!({"token": token, "new_password": new_password}))
        .await
}

/// Every one of 20 networks asks `rounds` times for the login's reset link.
async fn flood(app: &TestApp, login: &str, rounds: usize) {
    for _ in 0..rounds {
        let asks = (0..20).map(|n| {
            let ip = stranger_network(n);
            async move { ask_reset_from(app, &ip, login).await }
        });
        futures::future::join_all(asks).await;
    }
}

async fn a_reset_flood_from_twenty_networks_sends_three_mails_an_hour_and_ten_a_day(app: TestApp) {
    let (_, address) = customer_with_verified_address(&app, "olga").await;
    // 60 requests from 20 networks (3 each, within every network's own limits).
    flood(&app, "olga", 3).await;
    let first_hour = settled_mails(&app, 3).await;
    assert_eq!(reset_links(&first_hour).len(), 3, "{first_hour:?}");
    assert!(first_hour.iter().all(|mail| mail.to == address));
    // Hour after hour the account gets 3, until 10 in the day.
    let mut day = first_hour.len();
    for expected in [3, 3, 1, 0] {
        app.clock.advance(TimeDelta::minutes(61));
        flood(&app, &address, 1).await;
        let mails = settled_mails(&app, expected).await;
        assert_eq!(reset_links(&mails).len(), expected, "after {day} today");
        day += mails.len();
    }
    assert_eq!(day, 10);
    // A day after the first ones, the first hour's mails no longer count.
    app.clock
        .advance(TimeDelta::hours(24) - TimeDelta::minutes(4 * 61) + TimeDelta::minutes(1));
    flood(&app, "olga", 1).await;
    assert_eq!(reset_links(&settled_mails(&app, 3).await).len(), 3);
}

async fn the_first_of_several_live_reset_links_works_and_voids_the_others(app: TestApp) {
    customer_with_verified_address(&app, "pia").await;
    // The owner asks first; then strangers flood.
    ask_reset_from(&app, OWNER_HOME, "pia").await;
    let owners = reset_links(&settled_mails(&app, 1).await);
    assert_eq!(owners.len(), 1);
    flood(&app, "pia", 3).await;
    let strangers = reset_links(&settled_mails(&app, 2).await);
    assert_eq!(strangers.len(), 2, "3 an hour in all");
    // The flood voided nothing: the owner's link works, and using it ends the others.
    let done = confirm_reset(&app, &owners[0], "the owner's new password").await;
    assert_eq!(done.status, 204, "{}", done.body);
    for token in &strangers {
        confirm_reset(&app, token, "a stranger's password")
            .await
            .assert_problem(400, "invalid_token");
    }
    session_from(&app.api.login("pia", "the owner's new password").await);
}

async fn two_live_reset_links_used_at_once_reset_the_password_once(app: TestApp) {
    customer_with_verified_address(&app, "quinn").await;
    for _ in 0..3 {
        ask_reset_from(&app, OWNER_HOME, "quinn").await;
    }
    let links = reset_links(&settled_mails(&app, 3).await);
    assert_eq!(links.len(), 3);
    let (first, second) = futures::future::join(
        confirm_reset(&app, &links[0], "raced password one"),
        confirm_reset(&app, &links[1], "raced password two"),
    )
    .await;
    let statuses = [first.status.as_u16(), second.status.as_u16()];
    assert!(
        statuses == [204, 400] || statuses == [400, 204],
        "{first:?} {second:?}"
    );
    let loser = if first.status == 400 { first } else { second };
    loser.assert_problem(400, "invalid_token");
    confirm_reset(&app, &links[2], "a third password")
        .await
        .assert_problem(400, "invalid_token");
}

async fn strangers_using_up_an_address_s_mails_cannot_stop_the_owner_s_sign_up(app: TestApp) {
    let sign_up = |username: &'static str| {
        app.api.register(
            json!({"username": username, "password": PASSWORD, "email": "victim@example.com"}),
        )
    };
    for stranger in ["mallory1", "mallory2", "mallory3"] {
        assert_eq!(sign_up(stranger).await.status, 201);
    }
    assert_eq!(
        app.mails().await.len(),
        3,
        "the address's allowance is used up"
    );

    let owner = sign_up("victor").await;
    assert_eq!(owner.status, 201, "{}", owner.body);
    let session = session_from(&app.api.login("victor", PASSWORD).await);
    let token = Some(session.access_token.as_str());
    let account = app.api.account(token).await;
    assert_eq!(account.assert_ok()["email"], "victim@example.com");
    assert_eq!(account.body["email_verified"], false);
    assert!(app.mails().await.is_empty(), "nothing beyond the allowance");
    // Asking again explicitly is the customer's own request: refused while the limit holds.
    app.api
        .change_email(token, json!({"email": "victim@example.com"}))
        .await
        .assert_problem(429, "too_many_attempts");
    let owed = custadmin::service::email::mail_owed_verifications(&app.state)
        .await
        .unwrap();
    assert_eq!(owed, 0, "still within the hour");
    assert!(app.mails().await.is_empty());

    // Once the hour has passed, housekeeping sends the mail the sign-up owes, once.
    app.clock.advance(TimeDelta::minutes(61));
    let owed = custadmin::service::email::mail_owed_verifications(&app.state)
        .await
        .unwrap();
    assert_eq!(owed, 1);
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Confirm your email address · custadmin");
    let owed = custadmin::service::email::mail_owed_verifications(&app.state)
        .await
        .unwrap();
    assert_eq!(owed, 0, "paid once");
    let verified = app
        .api
        .verify_email(json!({"token": mails[0].link_token()}))
        .await;
    assert_eq!(verified.assert_ok()["email"], "victim@example.com");
    let session = session_from(&app.api.login("victor", PASSWORD).await);
    let account = app.api.account(&session.access_token).await;
    assert_eq!(account.body["email_verified"], true);
}

/// A support agent signed in with both factors a moment ago (inside the privileged window).
async fn fresh_support_agent(app: &TestApp, username: &str) -> (Session, TotpSecret, Vec<String>) {
    let first = support_agent_without_two_factor(app, username).await;
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

async fn a_support_scoped_token_needs_a_fresh_second_factor_every_time(app: TestApp) {
    let (agent, secret, recovery_codes) = fresh_support_agent(&app, "sam-support").await;
    let token = Some(agent.access_token.as_str());
    let create = |scopes: Value, proof: Value| {
        app.api
            .create_api_token(token, token_request(scopes, 30, proof))
    };
    // Inside the privileged window an account-only token needs nothing more...
    assert_eq!(create(json!(["account:read"]), json!({})).await.status, 201);
    // ...but a support scope does, every time, and a password is no second factor.
    for scopes in [
        json!(["support:read"]),
        json!(["account:read", "support:reset"]),
    ] {
        create(scopes.clone(), json!({}))
            .await
            .assert_problem(403, "reauthentication_required");
        create(scopes, json!({"password": PASSWORD}))
            .await
            .assert_problem(403, "reauthentication_required");
    }
    // A wrong code is counted like any proof.
    app.next_step();
    create(
        json!(["support:reset"]),
        json!({"code": app.wrong_code(&secret)}),
    )
    .await
    .assert_problem(400, "invalid_code");
    assert_eq!(app.reauth_failures(&agent).await, 1);
    let made = create(
        json!(["support:reset"]),
        json!({"code": app.code_now(&secret, 0)}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(app.reauth_failures(&agent).await, 0);
    // The same code again is a replay.
    create(
        json!(["support:reset"]),
        json!({"code": app.code_now(&secret, 0)}),
    )
    .await
    .assert_problem(400, "invalid_code");
    let made = create(
        json!(["support:read"]),
        json!({"recovery_code": recovery_codes[0]}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);

    // An agent without a second factor gets none.
    use custadmin::domain::{Password, Role, Username};
    use custadmin::service::registration::{create_account, NewAccountRequest};
    create_account(
        &app.state,
        NewAccountRequest {
            username: Username::parse("new-agent").unwrap(),
            password: Password::parse_new(PASSWORD.into(), "password").unwrap(),
            email: None,
            role: Role::Support,
        },
    )
    .await
    .unwrap();
    let novice = session_from(&app.api.login("new-agent", PASSWORD).await);
    app.api
        .create_api_token(
            &novice.access_token,
            token_request(json!(["support:read"]), 30, json!({"password": PASSWORD})),
        )
        .await
        .assert_problem(403, "two_factor_required");
}

async fn a_support_scoped_token_lives_at_most_thirty_days(app: TestApp) {
    let (agent, secret, _) = fresh_support_agent(&app, "sam-support").await;
    let token = Some(agent.access_token.as_str());
    app.next_step();
    let code = app.code_now(&secret, 0);
    let refused = app
        .api
        .create_api_token(
            token,
            token_request(json!(["support:read"]), 31, json!({"code": code})),
        )
        .await;
    refused.assert_problem(422, "validation_failed");
    assert_eq!(refused.body["field"], "expires_in_days");
    // Refused before the proof was looked at: the code still works.
    let made = app
        .api
        .create_api_token(
            token,
            token_request(json!(["support:read"]), 30, json!({"code": code})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let expires_at: chrono::DateTime<chrono::Utc> =
        made.body["expires_at"].as_str().unwrap().parse().unwrap();
    let now = custadmin::domain::clock::Clock::now(&*app.clock);
    let off_by = expires_at - now - TimeDelta::days(30);
    assert!(off_by.abs() < TimeDelta::seconds(1), "{expires_at}");
    // An account-only token may still live a year.
    let made = app
        .api
        .create_api_token(
            token,
            token_request(json!(["account:read"]), 365, json!({})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
}

async fn making_a_support_scoped_token_is_one_of_the_agent_s_thirty_actions_an_hour(app: TestApp) {
    let (agent, secret, _) = fresh_support_agent(&app, "sam-support").await;
    let token = Some(agent.access_token.as_str());
    let customer_id = app.register("vera").await;
    let unlock = |reason| {
        app.api
            .unlock_customer(token, &customer_id, json!({"reason": reason}))
    };
    for _ in 0..29 {
        let reply = unlock("testing the allowance").await;
        assert_eq!(reply.status, 204, "{}", reply.body);
    }
    let create_with_fresh_code = || {
        app.next_step();
        let code = app.code_now(&secret, 0);
        app.api.create_api_token(
            token,
            token_request(json!(["support:reset"]), 7, json!({"code": code})),
        )
    };
    let made = create_with_fresh_code().await;
    assert_eq!(made.status, 201, "the 30th action: {}", made.body);
    unlock("the 31st")
        .await
        .assert_problem(429, "too_many_attempts");
    create_with_fresh_code()
        .await
        .assert_problem(429, "too_many_attempts");
    // Account-only tokens are no support action.
    let made = app
        .api
        .create_api_token(token, token_request(json!(["account:read"]), 7, json!({})))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
}

/// A privileged action with `proof` in the body: an account-only API token.
async fn prove(app: &TestApp, session: &Session, ip: &str, proof: Value) -> crate::helpers::Reply {
    app.api
        .create_api_token(
            &session.access_token,
            token_request(json!(["account:read"]), 1, proof),
        )
        .from_ip(ip)
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
        .api
        .disable_two_factor(
            &owner.access_token,
            json!({"code": app.code_now(&secret, 0)}),
        )
        .from_ip(OWNER_HOME)
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
        .api
        .unlock_customer(
            &agent.access_token,
            &customer_id,
            json!({"reason": "customer called from the number on file"}),
        )
        .await;
    assert_eq!(unlocked.status, 204, "{}", unlocked.body);
    let made = prove(&app, &owner, OWNER_HOME, json!({"password": PASSWORD})).await;
    assert_eq!(made.status, 201, "{}", made.body);
}
