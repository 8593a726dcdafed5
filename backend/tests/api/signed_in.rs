//! Where the account is signed in: sessions and known devices, and remembered devices that
//! skip the code until any factor changes.

use chrono::TimeDelta;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{claims_of, session_from, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    sessions_are_listed_and_ended_one_by_one_or_all_but_this_one,
    a_remembered_device_skips_the_code_until_a_factor_changes,
    a_forgotten_device_is_a_stranger_again,
    a_password_change_or_a_new_factor_ends_every_trust,
    ending_a_trusted_device_s_session_takes_its_trust_back,
    a_session_ended_on_this_instance_stops_at_once_even_right_after_use,
    by_default_a_revocation_elsewhere_counts_at_once_on_postgresql,
);

on_both_databases!(
    with &[("CUSTADMIN_SESSION_CHECK_REUSE_MS", "500")];
    a_revocation_by_another_instance_takes_effect_here_within_the_reuse,
);

/// Revokes the session as another instance on the same database would: nothing runs here.
async fn revoke_elsewhere(app: &TestApp, access_token: &str) {
    let session_id = claims_of(access_token)["sid"].as_str().unwrap().to_string();
    let now = app.state.now();
    app.state
        .database
        .run_uncounted(move |connection| {
            custadmin::db::sessions::revoke(connection, &session_id, "logout", now)
        })
        .await
        .unwrap();
}

async fn by_default_a_revocation_elsewhere_counts_at_once_on_postgresql(app: TestApp) {
    let session = app.signed_in_customer("walt").await;
    app.get("/account", Some(&session.access_token))
        .await
        .assert_ok();
    revoke_elsewhere(&app, &session.access_token).await;
    let reuse = app.state.settings.session_check_reuse;
    let reply = app.get("/account", Some(&session.access_token)).await;
    if app.state.settings.database_url.starts_with("postgres") {
        // Several instances share PostgreSQL: every request reads the session row.
        assert!(reuse.is_zero());
        reply.assert_problem(401, "invalid_token");
    } else {
        // SQLite serves one instance, whose own revocations void reuse at once.
        assert_eq!(reuse, std::time::Duration::from_millis(500));
        reply.assert_ok();
    }
}

async fn delete(app: &TestApp, path: &str, token: &str) -> crate::helpers::Reply {
    app.request(Method::DELETE, &format!("/api/v1{path}"), Some(token), None)
        .await
}

async fn sessions_are_listed_and_ended_one_by_one_or_all_but_this_one(app: TestApp) {
    let laptop = app.signed_in_customer("sonia").await;
    let phone = session_from(&app.login("sonia", PASSWORD).await);
    let tablet = session_from(&app.login("sonia", PASSWORD).await);
    let listed = app
        .get("/account/sessions", Some(&laptop.access_token))
        .await;
    let sessions = listed.assert_ok()["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 3);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], claims_of(&laptop.access_token)["sid"]);
    assert_eq!(current[0]["amr"], json!(["pwd"]));
    assert_eq!(current[0]["ip"], "127.0.0.1");
    assert!(current[0]["last_used_at"].is_string());

    let phone_id = claims_of(&phone.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        delete(
            &app,
            &format!("/account/sessions/{phone_id}"),
            &laptop.access_token
        )
        .await
        .status,
        204
    );
    app.get("/account", Some(&phone.access_token))
        .await
        .assert_problem(401, "invalid_token");
    delete(
        &app,
        &format!("/account/sessions/{phone_id}"),
        &laptop.access_token,
    )
    .await
    .assert_problem(404, "not_found");
    // Another account's session is not this account's to end.
    let stranger = app.signed_in_customer("stan").await;
    let laptop_id = claims_of(&laptop.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    delete(
        &app,
        &format!("/account/sessions/{laptop_id}"),
        &stranger.access_token,
    )
    .await
    .assert_problem(404, "not_found");
    delete(&app, "/account/sessions/not-an-id", &laptop.access_token)
        .await
        .assert_problem(404, "not_found");

    let others = app
        .post(
            "/account/sessions/revoke-others",
            Some(&laptop.access_token),
            json!({}),
        )
        .await;
    assert_eq!(others.status, 204);
    app.get("/account", Some(&tablet.access_token))
        .await
        .assert_problem(401, "invalid_token");
    let left = app
        .get("/account/sessions", Some(&laptop.access_token))
        .await;
    assert_eq!(left.body["sessions"].as_array().unwrap().len(), 1);
    let events = app.get("/account/events", Some(&laptop.access_token)).await;
    assert_eq!(
        crate::helpers::event_kinds(&events)
            .iter()
            .filter(|kind| **kind == "session_revoked")
            .count(),
        2
    );
}

async fn a_remembered_device_skips_the_code_until_a_factor_changes(app: TestApp) {
    let session = app.signed_in_customer("rene").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    // Sign in with the code and tick "Don't ask for a code on this device for 30 days".
    let first = app.login("rene", PASSWORD).await;
    app.next_step();
    let full = app
        .otp(json!({"challenge_token": first.body["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true}))
        .await;
    let device_token = full.body["device_token"].as_str().unwrap().to_string();
    let full = session_from(&full);
    let devices = app.get("/account/devices", Some(&full.access_token)).await;
    let device = &devices.assert_ok()["devices"][0];
    assert_eq!(device["current"], true);
    assert!(device["trusted_until"].is_string(), "{device}");

    let login_from_device = |device_token: &str| {
        app.post(
            "/auth/login",
            None,
            json!({"username": "rene", "password": PASSWORD, "device_token": device_token}),
        )
    };
    let trusted = login_from_device(&device_token).await;
    let trusted = session_from(&trusted);
    assert_eq!(
        claims_of(&trusted.access_token)["amr"],
        json!(["pwd", "mfa"])
    );
    app.get("/account", Some(&trusted.access_token))
        .await
        .assert_ok();
    // A remembered device opens no privileged window: removing the factor still needs it.
    app.post(
        "/account/two-factor/disable",
        Some(&trusted.access_token),
        json!({}),
    )
    .await
    .assert_problem(403, "reauthentication_required");
    // Another browser still needs the code.
    assert_eq!(
        app.login("rene", PASSWORD).await.body["status"],
        "otp_required"
    );

    // New recovery codes end every trust at once.
    app.post(
        "/account/two-factor/recovery-codes",
        Some(&full.access_token),
        json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(
        login_from_device(&device_token).await.body["status"],
        "otp_required"
    );

    // Trust again: trust always comes with a fresh token, and the old one no longer names
    // the device. Then let 30 days pass: the code is asked again.
    let again = login_from_device(&device_token).await;
    app.next_step();
    let trusted_again = app
        .otp(json!({"challenge_token": again.body["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true}))
        .await;
    session_from(&trusted_again);
    let fresh_token = trusted_again.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(fresh_token, device_token);
    assert_eq!(
        login_from_device(&fresh_token).await.body["status"],
        "authenticated"
    );
    assert_eq!(
        login_from_device(&device_token).await.body["status"],
        "otp_required"
    );
    app.clock.advance(TimeDelta::days(31));
    assert_eq!(
        login_from_device(&fresh_token).await.body["status"],
        "otp_required"
    );
}

async fn a_forgotten_device_is_a_stranger_again(app: TestApp) {
    app.register("fay").await;
    let first = app.login("fay", PASSWORD).await;
    let device_token = first.body["device_token"].as_str().unwrap().to_string();
    let session = session_from(&first);
    let devices = app
        .get("/account/devices", Some(&session.access_token))
        .await;
    let id = devices.body["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        delete(
            &app,
            &format!("/account/devices/{id}"),
            &session.access_token
        )
        .await
        .status,
        204
    );
    delete(
        &app,
        &format!("/account/devices/{id}"),
        &session.access_token,
    )
    .await
    .assert_problem(404, "not_found");
    // The next sign-in with the old token makes a new device.
    let again = app
        .post(
            "/auth/login",
            None,
            json!({"username": "fay", "password": PASSWORD, "device_token": device_token}),
        )
        .await;
    assert!(again.body["device_token"].is_string(), "{}", again.body);
    let events = app
        .get("/account/events", Some(&session.access_token))
        .await;
    assert!(crate::helpers::event_kinds(&events).contains(&"device_forgotten"));
}

/// Signs in with the code and "don't ask again"; answers the device token and the session.
async fn trusted_device(
    app: &TestApp,
    username: &str,
    password: &str,
    secret: &custadmin::auth::totp::TotpSecret,
) -> (String, crate::helpers::Session) {
    let challenge = app.login(username, password).await;
    app.next_step();
    let reply = app
        .otp(json!({"challenge_token": challenge.body["challenge_token"], "code": app.code_now(secret, 0), "remember_device": true}))
        .await;
    let token = reply.body["device_token"].as_str().unwrap().to_string();
    (token, session_from(&reply))
}

async fn a_password_change_or_a_new_factor_ends_every_trust(app: TestApp) {
    let session = app.signed_in_customer("tess").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let login_with = |device: String, password: &'static str| {
        app.post(
            "/auth/login",
            None,
            json!({"username": "tess", "password": password, "device_token": device}),
        )
    };
    // A password change ends it.
    let (device, full) = trusted_device(&app, "tess", PASSWORD, &secret).await;
    assert_eq!(
        login_with(device.clone(), PASSWORD).await.body["status"],
        "authenticated"
    );
    app.post(
        "/account/password",
        Some(&full.access_token),
        json!({"current_password": PASSWORD, "new_password": "a newer password"}),
    )
    .await;
    assert_eq!(
        login_with(device, "a newer password").await.body["status"],
        "otp_required"
    );
    // Switching two-factor off and on again ends it too.
    let (device, full) = trusted_device(&app, "tess", "a newer password", &secret).await;
    app.post(
        "/account/two-factor/disable",
        Some(&full.access_token),
        json!({}),
    )
    .await
    .assert_ok();
    let (secret, _) = app.enable_two_factor(&full).await;
    assert_eq!(
        login_with(device, "a newer password").await.body["status"],
        "otp_required"
    );
    let _ = secret;
}

async fn ending_a_trusted_device_s_session_takes_its_trust_back(app: TestApp) {
    let session = app.signed_in_customer("ursula").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let (device, laptop) = trusted_device(&app, "ursula", PASSWORD, &secret).await;
    let from_laptop = || {
        app.post(
            "/auth/login",
            None,
            json!({"username": "ursula", "password": PASSWORD, "device_token": device}),
        )
    };
    let stolen = session_from(&from_laptop().await);
    // From the phone: "sign out everywhere else".
    let phone = app.login_with_code("ursula", &secret).await;
    let reply = app
        .post(
            "/account/sessions/revoke-others",
            Some(&phone.access_token),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 204);
    for ended in [&laptop, &stolen] {
        app.get("/account", Some(&ended.access_token))
            .await
            .assert_problem(401, "invalid_token");
    }
    assert_eq!(from_laptop().await.body["status"], "otp_required");
}

async fn a_session_ended_on_this_instance_stops_at_once_even_right_after_use(app: TestApp) {
    let laptop = app.signed_in_customer("ursula").await;
    let phone = session_from(&app.login("ursula", PASSWORD).await);
    // Each just checked (and so remembered for a moment), then ended here.
    app.get("/account", Some(&phone.access_token))
        .await
        .assert_ok();
    let phone_id = claims_of(&phone.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    delete(
        &app,
        &format!("/account/sessions/{phone_id}"),
        &laptop.access_token,
    )
    .await
    .assert_ok();
    app.get("/account", Some(&phone.access_token))
        .await
        .assert_problem(401, "invalid_token");

    app.get("/account", Some(&laptop.access_token))
        .await
        .assert_ok();
    let logout = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&laptop.access_token),
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    app.get("/account", Some(&laptop.access_token))
        .await
        .assert_problem(401, "invalid_token");
}

async fn a_revocation_by_another_instance_takes_effect_here_within_the_reuse(app: TestApp) {
    let session = app.signed_in_customer("vera").await;
    app.get("/account", Some(&session.access_token))
        .await
        .assert_ok();
    // Another instance on the same database signs the session out: this one ran nothing.
    revoke_elsewhere(&app, &session.access_token).await;

    // The check read just before may serve for under half a second; then the database rules.
    let reuse = TimeDelta::from_std(app.state.settings.session_check_reuse).unwrap();
    app.clock.advance(reuse - TimeDelta::milliseconds(1));
    app.get("/account", Some(&session.access_token))
        .await
        .assert_ok();
    app.clock.advance(TimeDelta::milliseconds(1));
    app.get("/account", Some(&session.access_token))
        .await
        .assert_problem(401, "invalid_token");
}
