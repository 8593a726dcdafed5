use serde_json::json;

use chrono::TimeDelta;
use custadmin::auth::totp::TotpSecret;

use crate::helpers::{event_kinds, session_from, Session, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    support_finds_customers_and_sees_who_has_two_factor,
    the_search_matches_the_start_of_a_username_an_address_or_a_domain,
    the_search_answers_as_a_brute_force_filter_over_many_customers,
    customers_cannot_use_the_support_desk,
    support_resets_a_lost_second_factor_and_both_accounts_record_it,
    a_reset_needs_a_reason_and_a_customer_with_two_factor,
    a_support_agent_without_a_second_factor_cannot_use_the_desk,
    resets_and_unlocks_need_a_recent_sign_in_or_the_agent_s_code,
    support_reads_a_customer_s_events_and_unlocks_a_locked_customer,
    an_agent_may_act_thirty_times_an_hour,
);

/// A support agent, signed in with both factors (the desk demands a second factor).
pub(crate) async fn support_agent(app: &TestApp, username: &str) -> Session {
    support_agent_with_secret(app, username).await.0
}

async fn support_agent_with_secret(app: &TestApp, username: &str) -> (Session, TotpSecret) {
    let password_only = support_agent_without_two_factor(app, username).await;
    let (secret, _) = app.enable_two_factor(&password_only).await;
    (password_only, secret)
}

pub(crate) async fn support_agent_without_two_factor(app: &TestApp, username: &str) -> Session {
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
    session_from(&app.api.login(username, PASSWORD).await)
}

async fn support_finds_customers_and_sees_who_has_two_factor(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let alice = app.signed_in_customer("alice").await;
    app.enable_two_factor(&alice).await;
    app.api
        .register(
            json!({"username": "alfred", "password": PASSWORD, "email": "Alfred@Example.com"}),
        )
        .await
        .assert_ok();
    app.register("bob").await;

    let reply = app
        .api
        .search_customers(&agent.access_token, "query=AL")
        .await;
    let customers = reply.assert_ok()["customers"].as_array().unwrap().clone();
    let names: Vec<&str> = customers
        .iter()
        .map(|c| c["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alfred", "alice"]);
    assert_eq!(customers[1]["two_factor_enabled"], true);
    assert_eq!(customers[0]["two_factor_enabled"], false);

    let by_email = app
        .api
        .search_customers(&agent.access_token, "query=example.COM")
        .await;
    assert_eq!(by_email.body["customers"][0]["username"], "alfred");
    let everyone = app.api.search_customers(&agent.access_token, "").await;
    assert_eq!(
        everyone.body["customers"].as_array().unwrap().len(),
        3,
        "support staff are not listed"
    );
    let wildcard = app
        .api
        .search_customers(&agent.access_token, "query=%25")
        .await;
    assert_eq!(
        wildcard.body["customers"].as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
}

async fn the_search_matches_the_start_of_a_username_an_address_or_a_domain(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    for (username, email) in [
        ("alice", "wonder@Example.com"),
        ("malice", "m@evil.example"),
        ("al_bert", "bert@sub.example.org"),
        ("alb", "100%@percent.test"),
    ] {
        app.api
            .register(json!({"username": username, "password": PASSWORD, "email": email}))
            .await
            .assert_ok();
    }
    let search = |query: &'static str| {
        let (app, token) = (&app, agent.access_token.clone());
        async move {
            let reply = app
                .api
                .search_customers(&token, &format!("query={query}"))
                .await;
            let customers = reply.assert_ok()["customers"].as_array().unwrap().clone();
            customers
                .iter()
                .map(|c| c["username"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search("AL").await,
        ["al_bert", "alb", "alice"],
        "username starts"
    );
    assert_eq!(
        search("al_").await,
        ["al_bert"],
        "_ is an ordinary character"
    );
    assert_eq!(search("lice").await, Vec::<String>::new(), "no infix match");
    assert_eq!(search("WONDER%40").await, ["alice"], "the address starts");
    assert_eq!(
        search("100%25").await,
        ["alb"],
        "% is an ordinary character"
    );
    assert_eq!(search("example.C").await, ["alice"], "the domain starts");
    assert_eq!(search("evil").await, ["malice"], "the domain starts");
    assert_eq!(search("example").await, ["alice"], "only a domain's start");
    assert_eq!(search("sub.ex").await, ["al_bert"]);
    assert_eq!(search("org").await, Vec::<String>::new());
}

/// Enough customers over a few domains that each way the search reads a branch is taken (one
/// domain of more customers than the limit, a prefix of a few domains, a prefix of more than
/// the loose index scan looks at, shared addresses, a username and a domain matching the same
/// account), compared with a filter over every account.
async fn the_search_answers_as_a_brute_force_filter_over_many_customers(app: TestApp) {
    use custadmin::db::accounts::{insert, NewAccount};
    use custadmin::domain::{Role, Username};
    use custadmin::service::support::MAX_SEARCH_RESULTS;

    let agent = support_agent(&app, "sam-support").await;
    // (username, e-mail, role); username order unrelated to the domains.
    let mut accounts: Vec<(String, Option<String>, Role)> = (0..360u32)
        .map(|i| {
            let scrambled = (i * 7919) % 1000;
            let name = ["big", "Amy", "zed", "b1x"][(scrambled % 4) as usize];
            let domain = match i % 4 {
                0 => "Big.Example".to_string(),
                1 => "bigger.example".to_string(),
                2 => format!("b{}.test", i % 24),
                _ => "other.example".to_string(),
            };
            let email = match i {
                _ if i % 25 == 0 => None,
                _ if i % 31 == 0 => Some("shared@big.example".to_string()),
                _ => Some(format!("User{i}@{domain}")),
            };
            (format!("{name}-{scrambled:03}"), email, Role::Customer)
        })
        .collect();
    accounts.push((
        "big-staff".into(),
        Some("staff@big.example".into()),
        Role::Support,
    ));
    let seeded = accounts.clone();
    app.state
        .database
        .run(move |connection| {
            for (username, email, role) in &seeded {
                insert(
                    connection,
                    &NewAccount {
                        id: &uuid::Uuid::new_v4().to_string(),
                        username,
                        username_key: &Username::key_of(username),
                        email: email.as_deref(),
                        password_hash: "not a hash: these accounts never sign in",
                        role: *role,
                        created_at: chrono::Utc::now(),
                    },
                )?;
            }
            Ok::<_, custadmin::db::DbError>(())
        })
        .await
        .unwrap();

    for query in [
        "",
        "big",
        "BIG.EXAMPLE",
        "bigger",
        "b",
        "b1",
        "b2",
        "b1x",
        "bi",
        "user1",
        "user12",
        "shared",
        "amy",
        "o",
        "z",
        "nothing",
        "big-0",
        "big.example",
    ] {
        let lowered = query.to_lowercase();
        let mut expected: Vec<(String, String)> = accounts
            .iter()
            .filter(|(_, _, role)| *role == Role::Customer)
            .filter(|(username, email, _)| {
                let email = email.as_deref().map(str::to_lowercase);
                let domain = email
                    .as_deref()
                    .map(|email| email.split_once('@').map_or("", |(_, domain)| domain));
                Username::key_of(username).starts_with(&lowered)
                    || email.as_deref().is_some_and(|e| e.starts_with(&lowered))
                    || domain.is_some_and(|d| d.starts_with(&lowered))
            })
            .map(|(username, _, _)| (Username::key_of(username), username.clone()))
            .collect();
        expected.sort();
        let expected: Vec<String> = expected
            .into_iter()
            .take(MAX_SEARCH_RESULTS as usize)
            .map(|(_, username)| username)
            .collect();
        let reply = app
            .api
            .search_customers(&agent.access_token, &format!("query={query}"))
            .await;
        let found: Vec<String> = reply.assert_ok()["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|customer| customer["username"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(found, expected, "query {query:?}");
    }
}

async fn customers_cannot_use_the_support_desk(app: TestApp) {
    let customer = app.signed_in_customer("carol").await;
    let other = app.register("dave").await;
    app.api
        .search_customers(&customer.access_token, "")
        .await
        .assert_problem(403, "forbidden");
    app.api
        .reset_customer_two_factor(&customer.access_token, &other, json!({"reason": "x"}))
        .await
        .assert_problem(403, "forbidden");
}

async fn support_resets_a_lost_second_factor_and_both_accounts_record_it(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let customer = app.signed_in_customer("erin").await;
    let (secret, _) = app.enable_two_factor(&customer).await;
    let customer_id = app.api.account(&customer.access_token).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let phone_session = app.login_with_code("erin", &secret).await;

    let reply = app
        .api
        .reset_customer_two_factor(
            &agent.access_token,
            &customer_id,
            json!({"reason": "Lost phone; identity checked by callback"}),
        )
        .await;
    assert_eq!(reply.assert_ok(), &json!({"enabled": false}));

    // Every session of the customer ends; the password alone signs in again.
    app.api
        .account(&phone_session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    let fresh = session_from(&app.api.login("erin", PASSWORD).await);
    let events = app.api.events(&fresh.access_token).await;
    let reset = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "two_factor_reset_by_support")
        .unwrap()
        .clone();
    let detail = reset["detail"].as_str().unwrap();
    assert!(
        detail.contains("sam-support") && detail.contains("Lost phone"),
        "{detail}"
    );

    let agent_events = app.api.events(&agent.access_token).await;
    let on_agent = agent_events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "two_factor_reset_by_support")
        .unwrap()
        .clone();
    assert!(on_agent["detail"].as_str().unwrap().contains("erin"));
}

async fn a_reset_needs_a_reason_and_a_customer_with_two_factor(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let customer_id = app.register("frank").await;
    let token = Some(agent.access_token.as_str());
    let reset = |body| app.api.reset_customer_two_factor(token, &customer_id, body);
    reset(json!({"reason": "   "}))
        .await
        .assert_problem(422, "validation_failed");
    reset(json!({})).await.assert_problem(422, "invalid_body");
    reset(json!({"reason": "x".repeat(501)}))
        .await
        .assert_problem(422, "validation_failed");
    reset(json!({"reason": "lost phone"}))
        .await
        .assert_problem(409, "two_factor_not_enabled");
    app.api
        .reset_customer_two_factor(token, "no-such-id", json!({"reason": "lost phone"}))
        .await
        .assert_problem(404, "not_found");
    let agent_id = app.api.account(token).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.api
        .reset_customer_two_factor(token, &agent_id, json!({"reason": "lost phone"}))
        .await
        .assert_problem(404, "not_found");
}

async fn a_support_agent_without_a_second_factor_cannot_use_the_desk(app: TestApp) {
    let agent = support_agent_without_two_factor(&app, "new-agent").await;
    let customer_id = app.register("sue").await;
    let token = Some(agent.access_token.as_str());
    app.api
        .search_customers(token, "")
        .await
        .assert_problem(403, "two_factor_required");
    app.api
        .customer_events(token, &customer_id, "")
        .await
        .assert_problem(403, "two_factor_required");
    let reason = json!({"reason": "caller says so"});
    for action in [
        app.api
            .reset_customer_two_factor(token, &customer_id, reason.clone()),
        app.api.unlock_customer(token, &customer_id, reason),
    ] {
        action.await.assert_problem(403, "two_factor_required");
    }
    // Enrolment opens the desk in the same session (it has now proved a code).
    let (secret, _) = app.enable_two_factor(&agent).await;
    app.api.search_customers(token, "").await.assert_ok();
    // Switching two-factor off closes it again, even in the session that proved a code.
    app.next_step();
    app.api
        .disable_two_factor(token, json!({"code": app.code_now(&secret, 0)}))
        .await
        .assert_ok();
    app.api
        .search_customers(token, "")
        .await
        .assert_problem(403, "two_factor_required");
}

async fn resets_and_unlocks_need_a_recent_sign_in_or_the_agent_s_code(app: TestApp) {
    let (agent, agent_secret) = support_agent_with_secret(&app, "sam-support").await;
    let customer = app.signed_in_customer("tess").await;
    let (_, _) = app.enable_two_factor(&customer).await;
    let customer_id = app.account_id(&customer).await;
    app.clock.advance(TimeDelta::minutes(11));
    let stale = session_from(
        &app.api
            .refresh(serde_json::json!(agent.refresh_token))
            .await,
    );
    let token = Some(stale.access_token.as_str());
    let reset = |body| app.api.reset_customer_two_factor(token, &customer_id, body);
    let unlock = |body| app.api.unlock_customer(token, &customer_id, body);
    for action in [
        reset(json!({"reason": "lost phone"})),
        unlock(json!({"reason": "lost phone"})),
    ] {
        action
            .await
            .assert_problem(403, "reauthentication_required");
    }
    reset(json!({"reason": "lost phone", "code": app.wrong_code(&agent_secret)}))
        .await
        .assert_problem(400, "invalid_code");
    app.next_step();
    unlock(json!({"reason": "locked out", "code": app.code_now(&agent_secret, 0)})).await;
    // The same code again is a replay.
    reset(json!({"reason": "lost phone", "code": app.code_now(&agent_secret, 0)}))
        .await
        .assert_problem(400, "invalid_code");
    app.next_step();
    let reply =
        reset(json!({"reason": "lost phone", "code": app.code_now(&agent_secret, 0)})).await;
    assert_eq!(reply.assert_ok(), &json!({"enabled": false}));
    // A password is no proof for an agent with two-factor: it is not even read.
    unlock(json!({"reason": "x", "password": PASSWORD}))
        .await
        .assert_problem(403, "reauthentication_required");
}

async fn support_reads_a_customer_s_events_and_unlocks_a_locked_customer(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let customer_id = app.register("uma").await;
    for _ in 0..10 {
        app.api
            .login("uma", "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.api
        .login("uma", PASSWORD)
        .await
        .assert_problem(429, "too_many_attempts");

    let token = Some(agent.access_token.as_str());
    let events = app
        .api
        .customer_events(token, &customer_id, "limit=5")
        .await;
    // Ten wrong passwords from one network within the hour are one event with a count, listed
    // where the first of them happened.
    assert_eq!(event_kinds(&events), ["account_locked", "login_failed"]);
    assert_eq!(events.body["events"][0]["count"], 1);
    assert_eq!(events.body["events"][1]["count"], 10);
    assert_eq!(
        events.headers.get("cache-control").unwrap(),
        "no-store",
        "personal data is never cached"
    );
    for hostile in ["no-such-id", "%00", "00000000-0000-0000-0000-000000000000"] {
        app.api
            .customer_events(token, hostile, "")
            .await
            .assert_problem(404, "not_found");
    }
    app.api
        .search_customers(token, "query=%00")
        .await
        .assert_problem(422, "validation_failed");

    let unlocked = app
        .api
        .unlock_customer(
            token,
            &customer_id,
            json!({"reason": "Customer called from the number on file"}),
        )
        .await;
    assert_eq!(unlocked.status, 204, "{}", unlocked.body);
    let session = session_from(&app.api.login("uma", PASSWORD).await);
    let events = app.api.events(&session.access_token).await;
    assert!(event_kinds(&events).contains(&"account_unlocked_by_support"));
    let agent_events = app.api.events(token).await;
    assert_eq!(event_kinds(&agent_events)[0], "account_unlocked_by_support");
    app.api
        .unlock_customer(token, &customer_id, json!({"reason": "bad\u{0}reason"}))
        .await
        .assert_problem(422, "validation_failed");
}

async fn an_agent_may_act_thirty_times_an_hour(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let customer_id = app.register("vera").await;
    let token = Some(agent.access_token.as_str());
    let attempts = (0..35).map(|_| {
        app.api.unlock_customer(
            token,
            &customer_id,
            json!({"reason": "testing the allowance"}),
        )
    });
    let replies = futures::future::join_all(attempts).await;
    let done = replies.iter().filter(|reply| reply.status == 204).count();
    let refused: Vec<_> = replies.iter().filter(|reply| reply.status == 429).collect();
    assert_eq!(done, 30, "at most 30 actions an hour, even in parallel");
    assert_eq!(refused.len(), 5);
    refused[0].assert_problem(429, "too_many_attempts");
    let retry_after = refused[0].retry_after().unwrap();
    assert!((3500..=3600).contains(&retry_after), "{retry_after}");
}
