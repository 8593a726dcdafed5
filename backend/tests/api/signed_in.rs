//! Where the account is signed in: sessions and known devices, and remembered devices that
//! skip the code until any factor changes.

use chrono::TimeDelta;
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
    app.api.account(&session.access_token).await.assert_ok();
    revoke_elsewhere(&app, &session.access_token).await;
    let reuse = app.state.settings.session_check_reuse;
    let reply = app.api.account(&session.access_token).await;
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

async fn sessions_are_listed_and_ended_one_by_one_or_all_but_this_one(app: TestApp) {
    let laptop = app.signed_in_customer("sonia").await;
    let phone = session_from(&app.api.login("sonia", PASSWORD).await);
    let tablet = session_from(&app.api.login("sonia", PASSWORD).await);
    let listed = app.api.sessions(&laptop.access_token).await;
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
        app.api
            .end_session(&laptop.access_token, &phone_id)
            .await
            .status,
        204
    );
    app.api
        .account(&phone.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .end_session(&laptop.access_token, &phone_id)
        .await
        .assert_problem(404, "not_found");
    // Another account's session is not this account's to end.
    let stranger = app.signed_in_customer("stan").await;
    let laptop_id = claims_of(&laptop.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    app.api
        .end_session(&stranger.access_token, &laptop_id)
        .await
        .assert_problem(404, "not_found");
    app.api
        .end_session(&laptop.access_token, "not-an-id")
        .await
        .assert_problem(404, "not_found");

    let others = app.api.revoke_other_sessions(&laptop.access_token).await;
    assert_eq!(others.status, 204);
    app.api
        .account(&tablet.access_token)
        .await
        .assert_problem(401, "invalid_token");
    let left = app.api.sessions(&laptop.access_token).await;
    assert_eq!(left.body["sessions"].as_array().unwrap().len(), 1);
    let events = app.api.events(&laptop.access_token).await;
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
    let first = app.api.login("rene", PASSWORD).await;
    app.next_step();
    let full = app
        .api.otp(json!({"challenge_token": first.body["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true}))
        .await;
    let device_token = full.body["device_token"].as_str().unwrap().to_string();
    let full = session_from(&full);
    let devices = app.api.devices(&full.access_token).await;
    let device = &devices.assert_ok()["devices"][0];
    assert_eq!(device["current"], true);
    assert!(device["trusted_until"].is_string(), "{device}");

    let login_from_device = |device_token: &str| {
        app.api
            .log_in(json!({"username": "rene", "password": PASSWORD, "device_token": device_token}))
    };
    let trusted = login_from_device(&device_token).await;
    let trusted = session_from(&trusted);
    assert_eq!(
        claims_of(&trusted.access_token)["amr"],
        json!(["pwd", "mfa"])
    );
    app.api.account(&trusted.access_token).await.assert_ok();
    // A remembered device opens no privileged window: removing the factor still needs it.
    app.api
        .disable_two_factor(&trusted.access_token, json!({}))
        .await
        .assert_problem(403, "reauthentication_required");
    // Another browser still needs the code.
    assert_eq!(
        app.api.login("rene", PASSWORD).await.body["status"],
        "otp_required"
    );

    // New recovery codes end every trust at once.
    app.api
        .regenerate_recovery_codes(&full.access_token, json!({}))
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
        .api.otp(json!({"challenge_token": again.body["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true}))
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
    let first = app.api.login("fay", PASSWORD).await;
    let device_token = first.body["device_token"].as_str().unwrap().to_string();
    let session = session_from(&first);
    let devices = app.api.devices(&session.access_token).await;
    let id = devices.body["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.api
            .forget_device(&session.access_token, &id)
            .await
            .status,
        204
    );
    app.api
        .forget_device(&session.access_token, &id)
        .await
        .assert_problem(404, "not_found");
    // The next sign-in with the old token makes a new device.
    let again = app
        .api
        .log_in(json!({"username": "fay", "password": PASSWORD, "device_token": device_token}))
        .await;
    assert!(again.body["device_token"].is_string(), "{}", again.body);
    let events = app.api.events(&session.access_token).await;
    assert!(crate::helpers::event_kinds(&events).contains(&"device_forgotten"));
}

/// Signs in with the code and "don't ask again"; answers the device token and the session.
async fn trusted_device(
    app: &TestApp,
    username: &str,
    password: &str,
    secret: &custadmin::auth::totp::TotpSecret,
) -> (String, crate::helpers::Session) {
    let challenge = app.api.login(username, password).await;
    app.next_step();
    let reply = app
        .api.otp(json!({"challenge_token": challenge.body["challenge_token"], "code": app.code_now(secret, 0), "remember_device": true}))
        .await;
    let token = reply.body["device_token"].as_str().unwrap().to_string();
    (token, session_from(&reply))
}

async fn a_password_change_or_a_new_factor_ends_every_trust(app: TestApp) {
    let session = app.signed_in_customer("tess").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let login_with = |device: String, password: &'static str| {
        app.api
            .log_in(json!({"username": "tess", "password": password, "device_token": device}))
    };
    // A password change ends it.
    let (device, full) = trusted_device(&app, "tess", PASSWORD, &secret).await;
    assert_eq!(
        login_with(device.clone(), PASSWORD).await.body["status"],
        "authenticated"
    );
    app.api
        .change_password(
            &full.access_token,
            json!({"current_password": PASSWORD, "new_password": "a newer password"}),
        )
        .await;
    assert_eq!(
        login_with(device, "a newer password").await.body["status"],
        "otp_required"
    );
    // Switching two-factor off and on again ends it too.
    let (device, full) = trusted_device(&app, "tess", "a newer password", &secret).await;
    app.api
        .disable_two_factor(&full.access_token, json!({}))
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
        app.api
            .log_in(json!({"username": "ursula", "password": PASSWORD, "device_token": device}))
    };
    let stolen = session_from(&from_laptop().await);
    // From the phone: "sign out everywhere else".
    let phone = app.login_with_code("ursula", &secret).await;
    let reply = app.api.revoke_other_sessions(&phone.access_token).await;
    assert_eq!(reply.status, 204);
    for ended in [&laptop, &stolen] {
        app.api
            .account(&ended.access_token)
            .await
            .assert_problem(401, "invalid_token");
    }
    assert_eq!(from_laptop().await.body["status"], "otp_required");
}

async fn a_session_ended_on_this_instance_stops_at_once_even_right_after_use(app: TestApp) {
    let laptop = app.signed_in_customer("ursula").await;
    let phone = session_from(&app.api.login("ursula", PASSWORD).await);
    // Each just checked (and so remembered for a moment), then ended here.
    app.api.account(&phone.access_token).await.assert_ok();
    let phone_id = claims_of(&phone.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    app.api
        .end_session(&laptop.access_token, &phone_id)
        .await
        .assert_ok();
    app.api
        .account(&phone.access_token)
        .await
        .assert_problem(401, "invalid_token");

    app.api.account(&laptop.access_token).await.assert_ok();
    let logout = app.api.log_out(&laptop.access_token).await;
    assert_eq!(logout.status, 204);
    app.api
        .account(&laptop.access_token)
        .await
        .assert_problem(401, "invalid_token");
}

async fn a_revocation_by_another_instance_takes_effect_here_within_the_reuse(app: TestApp) {
    let session = app.signed_in_customer("vera").await;
    app.api.account(&session.access_token).await.assert_ok();
    // Another instance on the same database signs the session out: this one ran nothing.
    revoke_elsewhere(&app, &session.access_token).await;

    // The check read just before may serve for under half a second; then the database rules.
    let reuse = TimeDelta::from_std(app.state.settings.session_check_reuse).unwrap();
    app.clock.advance(reuse - TimeDelta::milliseconds(1));
    app.api.account(&session.access_token).await.assert_ok();
    app.clock.advance(TimeDelta::milliseconds(1));
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
}
