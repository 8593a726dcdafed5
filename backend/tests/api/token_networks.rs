//! API tokens bound to networks: usable only from the networks named when they were made,
//! refused elsewhere with `403 network_not_allowed`, each refusal recorded once an hour per
//! token and network. The server trusts the test's proxy, so `from_ip` sets the client.

use chrono::TimeDelta;
use serde_json::{json, Value};

use crate::helpers::{event_kinds, session_from, times_recorded, Session, TestApp, PASSWORD};
use crate::on_both_databases;

const BEHIND_PROXY: &[(&str, &str)] = &[("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32")];

on_both_databases!(with BEHIND_PROXY;
    a_bound_token_works_inside_its_networks_and_is_refused_outside,
    refusals_are_recorded_once_an_hour_per_token_and_network,
    networks_are_checked_when_the_token_is_made,
    an_unbound_token_works_from_anywhere,
);

async fn make_token(app: &TestApp, session: &Session, networks: Value) -> Value {
    let reply = app
        .api
        .create_api_token(
            &session.access_token,
            json!({
                "name": "Deploy server",
                "scopes": ["account:read"],
                "expires_in_days": 30,
                "allowed_networks": networks,
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

fn secret(made: &Value) -> String {
    made["token"].as_str().unwrap().to_string()
}

async fn a_bound_token_works_inside_its_networks_and_is_refused_outside(app: TestApp) {
    let session = app.signed_in_customer("nadia").await;
    let made = make_token(
        &app,
        &session,
        json!(["203.0.113.7/24", "2001:db8:42::/48", "198.51.100.9"]),
    )
    .await;
    // Kept canonical: host bits dropped, a single address is its /32.
    let canonical = json!(["198.51.100.9/32", "203.0.113.0/24", "2001:db8:42::/48"]);
    assert_eq!(made["allowed_networks"], canonical);
    let listed = app.api.api_tokens(&session.access_token).await;
    assert_eq!(
        listed.assert_ok()["tokens"][0]["allowed_networks"],
        canonical
    );

    let token = secret(&made);
    for inside in [
        "203.0.113.200",
        "198.51.100.9",
        "2001:db8:42:ffff::1",
        "::ffff:203.0.113.5",
    ] {
        app.api.account(&token).from_ip(inside).await.assert_ok();
    }
    for outside in [
        "203.0.114.1",
        "198.51.100.10",
        "2001:db8:43::1",
        "127.0.0.1",
    ] {
        app.api
            .account(&token)
            .from_ip(outside)
            .await
            .assert_problem(403, "network_not_allowed");
    }
    // The session of the account is not bound: only the token is.
    app.api
        .account(&session.access_token)
        .from_ip("192.0.2.1")
        .await
        .assert_ok();
}

async fn refusals_are_recorded_once_an_hour_per_token_and_network(app: TestApp) {
    let session = app.signed_in_customer("otto").await;
    let token = secret(&make_token(&app, &session, json!(["203.0.113.0/24"])).await);
    let other = secret(&make_token(&app, &session, json!(["203.0.113.0/24"])).await);
    for _ in 0..3 {
        app.api
            .events(&token)
            .from_ip("192.0.2.10")
            .await
            .assert_problem(403, "network_not_allowed");
    }
    // The same IPv6 /64 is one network; another token is counted on its own.
    for ip in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
        app.api
            .events(&token)
            .from_ip(ip)
            .await
            .assert_problem(403, "network_not_allowed");
    }
    app.api
        .events(&other)
        .from_ip("192.0.2.10")
        .await
        .assert_problem(403, "network_not_allowed");

    let events = app.api.events(&session.access_token).await;
    let refused: Vec<&Value> = events.assert_ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["kind"] == "api_token_network_refused")
        .collect();
    assert_eq!(
        refused.len(),
        3,
        "one row per token and network: {refused:?}"
    );
    assert_eq!(
        times_recorded(&events, "api_token_network_refused"),
        6,
        "every refusal counted"
    );
    let counts: Vec<i64> = refused
        .iter()
        .map(|event| event["count"].as_i64().unwrap())
        .collect();
    assert!(counts.contains(&3) && counts.contains(&2), "{counts:?}");
    assert!(refused.iter().any(|event| event["detail"]
        .as_str()
        .unwrap()
        .contains("2001:db8:1:2::/64")));

    // The next hour starts a new row for the same token and network.
    app.clock.advance(TimeDelta::hours(1));
    app.api
        .events(&token)
        .from_ip("192.0.2.10")
        .await
        .assert_problem(403, "network_not_allowed");
    // The access token has expired meanwhile: sign in again to read the log.
    let session = session_from(&app.api.login("otto", PASSWORD).await);
    let events = app.api.events(&session.access_token).await;
    assert_eq!(
        event_kinds(&events)
            .iter()
            .filter(|kind| **kind == "api_token_network_refused")
            .count(),
        4
    );
    // A refused call is no use of the token.
    let listed = app.api.api_tokens(&session.access_token).await;
    assert!(listed.assert_ok()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .all(|token| token["last_used_at"].is_null()));
}

async fn networks_are_checked_when_the_token_is_made(app: TestApp) {
    let session = app.signed_in_customer("petr").await;
    let create = |networks: Value| {
        app.api.create_api_token(
            &session.access_token,
            json!({
                "name": "Deploy server",
                "scopes": ["account:read"],
                "expires_in_days": 30,
                "allowed_networks": networks,
            }),
        )
    };
    let twenty: Vec<String> = (0..20).map(|i| format!("10.0.{i}.0/24")).collect();
    let mut twenty_one = twenty.clone();
    twenty_one.push("10.0.99.0/24".into());
    let too_many = create(json!(twenty_one)).await;
    too_many.assert_problem(422, "validation_failed");
    assert_eq!(too_many.body["field"], "allowed_networks");
    for bad in [
        json!(["10.0.0.0/33"]),
        json!(["example.com"]),
        json!(["2001:db8::/129"]),
        json!([]),
    ] {
        let refused = create(bad.clone()).await;
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.body["field"], "allowed_networks", "{bad}");
    }
    create(json!(twenty)).await.assert_status(201);
}

async fn an_unbound_token_works_from_anywhere(app: TestApp) {
    let session = app.signed_in_customer("quinn").await;
    let reply = app
        .api
        .create_api_token(
            &session.access_token,
            json!({"name": "Anywhere", "scopes": ["account:read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["allowed_networks"], Value::Null);
    let token = secret(&reply.body);
    for ip in ["192.0.2.1", "2001:db8::1"] {
        app.api.account(&token).from_ip(ip).await.assert_ok();
    }
}
