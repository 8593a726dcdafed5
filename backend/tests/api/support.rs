use serde_json::json;

use crate::helpers::{session_from, Session, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    support_finds_customers_and_sees_who_has_two_factor,
    customers_cannot_use_the_support_desk,
    support_resets_a_lost_second_factor_and_both_accounts_record_it,
    a_reset_needs_a_reason_and_a_customer_with_two_factor,
);

async fn support_agent(app: &TestApp, username: &str) -> Session {
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
    session_from(&app.login(username, PASSWORD).await)
}

async fn support_finds_customers_and_sees_who_has_two_factor(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let alice = app.signed_in_customer("alice").await;
    app.enable_two_factor(&alice).await;
    app.post(
        "/auth/register",
        None,
        json!({"username": "alfred", "password": PASSWORD, "email": "Alfred@Example.com"}),
    )
    .await
    .assert_ok();
    app.register("bob").await;

    let reply = app
        .get("/support/customers?query=AL", Some(&agent.access_token))
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
        .get(
            "/support/customers?query=example.COM",
            Some(&agent.access_token),
        )
        .await;
    assert_eq!(by_email.body["customers"][0]["username"], "alfred");
    let everyone = app
        .get("/support/customers", Some(&agent.access_token))
        .await;
    assert_eq!(
        everyone.body["customers"].as_array().unwrap().len(),
        3,
        "support staff are not listed"
    );
    let wildcard = app
        .get("/support/customers?query=%25", Some(&agent.access_token))
        .await;
    assert_eq!(
        wildcard.body["customers"].as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
}

async fn customers_cannot_use_the_support_desk(app: TestApp) {
    let customer = app.signed_in_customer("carol").await;
    let other = app.register("dave").await;
    app.get("/support/customers", Some(&customer.access_token))
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &format!("/support/customers/{other}/two-factor/reset"),
        Some(&customer.access_token),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
}

async fn support_resets_a_lost_second_factor_and_both_accounts_record_it(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let customer = app.signed_in_customer("erin").await;
    let (secret, _) = app.enable_two_factor(&customer).await;
    let customer_id = app.get("/account", Some(&customer.access_token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let phone_session = app.login_with_code("erin", &secret).await;

    let reply = app
        .post(
            &format!("/support/customers/{customer_id}/two-factor/reset"),
            Some(&agent.access_token),
            json!({"reason": "Lost phone; identity checked by callback"}),
        )
        .await;
    assert_eq!(reply.assert_ok(), &json!({"enabled": false}));

    // Every session of the customer ends; the password alone signs in again.
    app.get("/account", Some(&phone_session.access_token))
        .await
        .assert_problem(401, "invalid_token");
    let fresh = session_from(&app.login("erin", PASSWORD).await);
    let events = app.get("/account/events", Some(&fresh.access_token)).await;
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

    let agent_events = app.get("/account/events", Some(&agent.access_token)).await;
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
    let path = format!("/support/customers/{customer_id}/two-factor/reset");
    app.post(&path, token, json!({"reason": "   "}))
        .await
        .assert_problem(422, "validation_failed");
    app.post(&path, token, json!({}))
        .await
        .assert_problem(422, "invalid_body");
    app.post(&path, token, json!({"reason": "x".repeat(501)}))
        .await
        .assert_problem(422, "validation_failed");
    app.post(&path, token, json!({"reason": "lost phone"}))
        .await
        .assert_problem(409, "two_factor_not_enabled");
    app.post(
        "/support/customers/no-such-id/two-factor/reset",
        token,
        json!({"reason": "lost phone"}),
    )
    .await
    .assert_problem(404, "not_found");
    let agent_id = app.get("/account", token).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/support/customers/{agent_id}/two-factor/reset"),
        token,
        json!({"reason": "lost phone"}),
    )
    .await
    .assert_problem(404, "not_found");
}
