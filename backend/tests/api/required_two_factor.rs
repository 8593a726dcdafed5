//! Required two-factor: the operator's rule (`CUSTADMIN_REQUIRE_TWO_FACTOR`) or support's for
//! one customer, a deadline with a grace period, reminder mails, and set-up sessions past it.

use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{event_kinds, session_from, TestApp, PASSWORD};
use crate::on_both_databases;
use crate::support::support_agent;

const EVERYBODY: &[(&str, &str)] = &[
    ("CUSTADMIN_REQUIRE_TWO_FACTOR", "all"),
    ("CUSTADMIN_TWO_FACTOR_GRACE_DAYS", "14"),
];

on_both_databases!(
    with EVERYBODY;
    a_new_account_is_given_the_grace_period_from_sign_up,
    past_the_deadline_the_password_opens_only_a_set_up_session,
    setting_up_a_factor_turns_the_set_up_session_into_a_full_one,
    an_api_token_of_an_overdue_account_is_refused,
    reminders_are_mailed_a_week_and_a_day_before_once_each,
    switching_the_last_factor_off_past_the_deadline_leaves_a_set_up_session,
);

on_both_databases!(
    support_requires_two_factor_of_one_customer_and_lifts_it,
    by_default_only_support_agents_are_required_and_customers_are_free,
    a_requirement_needs_a_reason_a_customer_and_the_agent_s_second_factor,
);

on_both_databases!(
    with &[("CUSTADMIN_REQUIRE_TWO_FACTOR", "off")];
    with_the_rule_off_an_existing_deadline_is_cleared_at_the_next_request,
);

async fn a_new_account_is_given_the_grace_period_from_sign_up(app: TestApp) {
    let signed_up_at = app.state.now();
    let alice = app.signed_in_customer("alice").await;
    let account = app.api.account(&alice.access_token).await;
    let body = account.assert_ok();
    assert_eq!(body["two_factor"]["required"], true);
    assert_eq!(body["two_factor"]["setup_required"], false);
    let by: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["two_factor_required_by"].clone()).unwrap();
    assert_eq!(by, signed_up_at + TimeDelta::days(14));

    // Before the deadline everything works as today.
    app.clock.advance(TimeDelta::days(13));
    let alice = session_from(&app.api.login("alice", PASSWORD).await);
    app.api.sessions(&alice.access_token).await.assert_ok();
}

async fn past_the_deadline_the_password_opens_only_a_set_up_session(app: TestApp) {
    app.signed_in_customer("alice").await;
    app.clock.advance(TimeDelta::days(14));
    let login = app.api.login("alice", PASSWORD).await;
    let session = session_from(&login);
    let claims = crate::helpers::claims_of(&session.access_token);
    assert_eq!(claims["amr"], json!(["pwd"]));
    let token = &session.access_token;

    let account = app.api.account(token).await;
    assert_eq!(account.assert_ok()["two_factor"]["setup_required"], true);
    for refused in [
        app.api.sessions(token).await,
        app.api.devices(token).await,
        app.api.events(token).await,
        app.api.api_tokens(token).await,
        app.api
            .update_account(token, json!({"language": "cs"}))
            .await,
        app.api
            .change_password(
                token,
                json!({"current_password": PASSWORD, "new_password": "another long password"}),
            )
            .await,
    ] {
        refused.assert_problem(403, "two_factor_setup_required");
    }
    // Setting up a passkey may start; signing out works.
    app.api
        .start_passkey_registration(token, json!({"name": "Laptop"}))
        .await
        .assert_ok();
    app.api.log_out(token).await.assert_status(204);
}

async fn setting_up_a_factor_turns_the_set_up_session_into_a_full_one(app: TestApp) {
    app.signed_in_customer("alice").await;
    app.clock.advance(TimeDelta::days(15));
    let session = session_from(&app.api.login("alice", PASSWORD).await);
    app.api
        .sessions(&session.access_token)
        .await
        .assert_problem(403, "two_factor_setup_required");

    app.enable_two_factor(&session).await;

    let account = app.api.account(&session.access_token).await;
    let body = account.assert_ok();
    assert_eq!(body["two_factor"]["setup_required"], false);
    assert_eq!(body["two_factor"]["enabled"], true);
    assert_eq!(body["two_factor_required_by"], json!(null));
    app.api.sessions(&session.access_token).await.assert_ok();
}

async fn an_api_token_of_an_overdue_account_is_refused(app: TestApp) {
    let alice = app.signed_in_customer("alice").await;
    let created = app
        .api
        .create_api_token(
            &alice.access_token,
            json!({"name": "Portal", "scopes": ["account:read"], "expires_in_days": 30}),
        )
        .await;
    let secret = created.assert_status(201)["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.api.account(&secret).await.assert_ok();

    app.clock.advance(TimeDelta::days(14));
    app.api
        .account(&secret)
        .await
        .assert_problem(403, "two_factor_setup_required");
    app.api
        .events(&secret)
        .await
        .assert_problem(403, "two_factor_setup_required");
}

async fn reminders_are_mailed_a_week_and_a_day_before_once_each(app: TestApp) {
    use custadmin::service::two_factor_requirement::queue_reminders;
    let alice = app.signed_in_customer("alice").await;
    let id = app.account_id(&alice).await;
    app.verify_address(&id, "alice@example.com").await;
    // A customer without an address gets nothing, and nothing fails.
    app.signed_in_customer("bob").await;

    assert_eq!(
        queue_reminders(&app.state).await.unwrap(),
        0,
        "14 days left"
    );
    app.clock.advance(TimeDelta::days(7));
    assert_eq!(queue_reminders(&app.state).await.unwrap(), 1, "7 days left");
    assert_eq!(queue_reminders(&app.state).await.unwrap(), 0, "once");
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "alice@example.com");
    assert_eq!(
        mails[0].subject,
        "Set up two-factor authentication · custadmin"
    );
    assert!(mails[0]
        .text
        .contains(&format!("{}/account", app.public_url())));

    app.clock.advance(TimeDelta::days(6));
    assert_eq!(queue_reminders(&app.state).await.unwrap(), 1, "1 day left");
    app.clock.advance(TimeDelta::hours(12));
    assert_eq!(queue_reminders(&app.state).await.unwrap(), 0, "once");
    // Past the deadline no more reminders: the sign-in says it.
    app.clock.advance(TimeDelta::days(2));
    assert_eq!(queue_reminders(&app.state).await.unwrap(), 0);

    // In the customer's language.
    let carol = app.signed_in_customer("carol").await;
    app.api
        .update_account(&carol.access_token, json!({"language": "cs"}))
        .await
        .assert_ok();
    let carol_id = app.account_id(&carol).await;
    app.verify_address(&carol_id, "carol@example.com").await;
    app.mails().await;
    app.clock.advance(TimeDelta::days(13));
    assert_eq!(queue_reminders(&app.state).await.unwrap(), 1);
    let mails = app.mails().await;
    assert_eq!(
        mails[0].subject,
        "Zapněte si dvoufázové ověření · custadmin"
    );
}

async fn switching_the_last_factor_off_past_the_deadline_leaves_a_set_up_session(app: TestApp) {
    let alice = app.signed_in_customer("alice").await;
    let (secret, _) = app.enable_two_factor(&alice).await;
    app.clock.advance(TimeDelta::days(30));
    app.next_step();
    let session = app.login_with_code("alice", &secret).await;
    app.api.sessions(&session.access_token).await.assert_ok();
    let account = app.api.account(&session.access_token).await;
    assert_eq!(account.assert_ok()["two_factor"]["required"], true);
    assert_eq!(account.body["two_factor_required_by"], json!(null));

    // Moving TOTP to a new phone: off, then straight into set-up.
    app.api
        .disable_two_factor(&session.access_token, json!({}))
        .await
        .assert_ok();
    app.api
        .sessions(&session.access_token)
        .await
        .assert_problem(403, "two_factor_setup_required");
    app.enable_two_factor(&session).await;
    app.api.sessions(&session.access_token).await.assert_ok();
}

async fn support_requires_two_factor_of_one_customer_and_lifts_it(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let alice = app.signed_in_customer("alice").await;
    let alice_id = app.account_id(&alice).await;
    app.verify_address(&alice_id, "alice@example.com").await;
    app.mails().await;
    let account = app.api.account(&alice.access_token).await;
    assert_eq!(account.assert_ok()["two_factor"]["required"], false);
    assert_eq!(account.body["two_factor_required_by"], json!(null));

    let reason = json!({"reason": "Customer asked for it on the phone"});
    let required_at = app.state.now();
    app.api
        .require_customer_two_factor(&agent.access_token, &alice_id, reason.clone())
        .await
        .assert_status(204);
    let account = app.api.account(&alice.access_token).await;
    let by: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(account.assert_ok()["two_factor_required_by"].clone()).unwrap();
    assert_eq!(by, required_at + TimeDelta::days(14));
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject,
        "Two-factor authentication is now required · custadmin"
    );
    let listed = app
        .api
        .search_customers(&agent.access_token, "query=alice")
        .await;
    assert_eq!(
        listed.assert_ok()["customers"][0]["two_factor_required_by_support"],
        true
    );

    // Both sides record it, with the reason.
    let on_customer = app.api.events(&alice.access_token).await;
    assert!(event_kinds(&on_customer).contains(&"two_factor_required_by_support"));
    let on_agent = app.api.events(&agent.access_token).await;
    assert!(event_kinds(&on_agent).contains(&"two_factor_required_by_support"));

    app.clock.advance(TimeDelta::days(14));
    let overdue = session_from(&app.api.login("alice", PASSWORD).await);
    app.api
        .sessions(&overdue.access_token)
        .await
        .assert_problem(403, "two_factor_setup_required");

    // The agent's sign-in is old by now: the desk asks for the agent's code.
    let agent = support_agent(&app, "sue-support").await;
    app.api
        .lift_customer_two_factor_requirement(&agent.access_token, &alice_id, reason)
        .await
        .assert_status(204);
    app.api.sessions(&overdue.access_token).await.assert_ok();
    let account = app.api.account(&overdue.access_token).await;
    assert_eq!(account.assert_ok()["two_factor"]["required"], false);
    let on_customer = app.api.events(&overdue.access_token).await;
    assert!(event_kinds(&on_customer).contains(&"two_factor_requirement_lifted_by_support"));
}

async fn by_default_only_support_agents_are_required_and_customers_are_free(app: TestApp) {
    let alice = app.signed_in_customer("alice").await;
    let account = app.api.account(&alice.access_token).await;
    assert_eq!(account.assert_ok()["two_factor"]["required"], false);
    assert_eq!(account.body["two_factor_required_by"], json!(null));

    let sam = crate::support::support_agent_without_two_factor(&app, "sam-support").await;
    let account = app.api.account(&sam.access_token).await;
    assert_eq!(account.assert_ok()["two_factor"]["required"], true);
    assert!(account.body["two_factor_required_by"].is_string());
    app.clock.advance(TimeDelta::days(15));
    let sam = session_from(&app.api.login("sam-support", PASSWORD).await);
    app.api
        .sessions(&sam.access_token)
        .await
        .assert_problem(403, "two_factor_setup_required");
    let alice = session_from(&app.api.login("alice", PASSWORD).await);
    app.api.sessions(&alice.access_token).await.assert_ok();
}

async fn a_requirement_needs_a_reason_a_customer_and_the_agent_s_second_factor(app: TestApp) {
    let agent = support_agent(&app, "sam-support").await;
    let alice = app.signed_in_customer("alice").await;
    let alice_id = app.account_id(&alice).await;
    let token = &agent.access_token;
    app.api
        .require_customer_two_factor(token, &alice_id, json!({"reason": "  "}))
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .require_customer_two_factor(
            token,
            "7f1c9a52-3a4b-4f7e-9d7e-0c1b2a3d4e5f",
            json!({"reason": "x"}),
        )
        .await
        .assert_problem(404, "not_found");
    let sam_id = app.account_id(&agent).await;
    app.api
        .require_customer_two_factor(token, &sam_id, json!({"reason": "x"}))
        .await
        .assert_problem(404, "not_found");
    app.api
        .require_customer_two_factor(&alice.access_token, &alice_id, json!({"reason": "x"}))
        .await
        .assert_problem(403, "forbidden");
    // Past the privileged window the desk asks for the agent's code.
    app.clock.advance(TimeDelta::minutes(11));
    app.api
        .require_customer_two_factor(token, &alice_id, json!({"reason": "x"}))
        .await
        .assert_problem(403, "reauthentication_required");
}

async fn with_the_rule_off_an_existing_deadline_is_cleared_at_the_next_request(app: TestApp) {
    let alice = app.signed_in_customer("alice").await;
    let id = app.account_id(&alice).await;
    let (account_id, at) = (id.clone(), app.state.now() - TimeDelta::days(1));
    // As if the rule had been `all` until yesterday.
    app.state
        .database
        .run(move |connection| {
            custadmin::db::accounts::set_two_factor_deadline(connection, &account_id, Some(at))
        })
        .await
        .unwrap();
    // The check is computed from the rule, not the stored row.
    app.api.sessions(&alice.access_token).await.assert_ok();
    let stored = app
        .state
        .database
        .run(move |connection| custadmin::db::accounts::find_by_id(connection, &id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.two_factor_deadline, None);
}
