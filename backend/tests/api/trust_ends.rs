//! Trust ends when the owner acts: attacks on remembered devices and pending changes that
//! used to keep an attacker in after the owner believed them gone.

use serde_json::json;

use custadmin_client::Call;

use crate::helpers::{
    assert_session_ended, claims_of, session_from, Reply, Session, TestApp, PASSWORD,
};
use crate::on_both_databases;

on_both_databases!(
    a_device_token_planted_in_the_browser_never_carries_trust,
    a_planted_cookie_is_replaced_and_the_browser_keeps_each_account_s_token,
    forgetting_a_device_ends_every_session_its_trust_opened,
    ending_one_session_of_a_trusted_device_ends_its_other_trusted_sessions,
    a_thief_s_pending_address_dies_when_the_owner_signs_out_everywhere,
);

const DEVICE_COOKIE: &str = "__Host-custadmin_device";

async fn login_with_device(app: &TestApp, username: &str, device_token: &str) -> Reply {
    app.api
        .log_in(json!({"username": username, "password": PASSWORD, "device_token": device_token}))
        .await
}

/// A full sign-in with the code and "don't ask again", presenting `device_token`; answers the
/// reply.
async fn remember_with(
    app: &TestApp,
    username: &str,
    secret: &custadmin::auth::totp::TotpSecret,
    device_token: Option<&str>,
) -> Reply {
    let challenge = match device_token {
        Some(token) => login_with_device(app, username, token).await,
        None => app.api.login(username, PASSWORD).await,
    };
    assert_eq!(
        challenge.body["status"], "otp_required",
        "{}",
        challenge.body
    );
    app.next_step();
    app.api.otp(json!({"challenge_token": challenge.body["challenge_token"], "code": app.code_now(secret, 0), "remember_device": true}))
        .await
}

async fn a_device_token_planted_in_the_browser_never_carries_trust(app: TestApp) {
    // The attacker's own account hands out a device token...
    app.register("mallory").await;
    let planted = app.api.login("mallory", PASSWORD).await.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    // ...which the victim's browser presents when the victim ticks "don't ask again".
    let victim = app.signed_in_customer("victor").await;
    let (secret, _) = app.enable_two_factor(&victim).await;
    let trusted = remember_with(&app, "victor", &secret, Some(&planted)).await;
    session_from(&trusted);
    let fresh = trusted.body["device_token"]
        .as_str()
        .expect("trust comes with a token made for this account")
        .to_string();
    assert_ne!(fresh, planted);
    // The attacker learns the password: the planted token still asks for the code.
    let attempt = login_with_device(&app, "victor", &planted).await;
    assert_eq!(attempt.body["status"], "otp_required", "{}", attempt.body);
    // The victim's own token is trusted.
    let owner = login_with_device(&app, "victor", &fresh).await;
    assert_eq!(owner.body["status"], "authenticated", "{}", owner.body);
    assert_eq!(
        claims_of(owner.body["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "mfa"])
    );
    // The victim's account knows one device, its own; the planted token stays the attacker's.
    let devices = app.api.devices(&session_from(&owner).access_token).await;
    let devices = devices.assert_ok()["devices"].as_array().unwrap().clone();
    assert_eq!(
        devices
            .iter()
            .filter(|device| device["trusted_until"].is_string())
            .count(),
        1,
        "{devices:?}"
    );
}

/// A request as the SPA sends it from a browser holding the device cookie.
fn in_browser(call: Call, cookie: &str) -> Call {
    call.header("sec-fetch-site", "same-origin")
        .header("cookie", &format!("{DEVICE_COOKIE}={cookie}"))
}

fn device_cookie_of(response: &Reply) -> Option<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix(&format!("{DEVICE_COOKIE}=")))
        .map(|rest| rest.split(';').next().unwrap().to_string())
}

async fn a_planted_cookie_is_replaced_and_the_browser_keeps_each_account_s_token(app: TestApp) {
    app.register("mallory").await;
    let planted = app.api.login("mallory", PASSWORD).await.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let victim = app.signed_in_customer("wendy").await;
    let (secret, _) = app.enable_two_factor(&victim).await;
    let challenge = in_browser(app.api.login("wendy", PASSWORD), &planted).await;
    let challenge = challenge.body;
    app.next_step();
    let signed_in = in_browser(app.api.otp(json!({"challenge_token": challenge["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true})), &planted)
    .await;
    assert_eq!(signed_in.status, 200);
    let cookie = device_cookie_of(&signed_in).expect("a new device cookie");
    let tokens: Vec<&str> = cookie.split('.').collect();
    assert_eq!(
        tokens.len(),
        2,
        "wendy's new token, then mallory's: {cookie}"
    );
    assert_ne!(tokens[0], planted);
    assert_eq!(tokens[1], planted);
    // The planted value alone asks for the code; the browser's cookie signs in without it.
    let with_planted = in_browser(app.api.login("wendy", PASSWORD), &planted).await;
    let body = &with_planted.body;
    assert_eq!(body["status"], "otp_required");
    let with_cookie = in_browser(app.api.login("wendy", PASSWORD), &cookie).await;
    let body = &with_cookie.body;
    assert_eq!(body["status"], "authenticated");
    // Mallory's account still knows the browser by its own token, in the same cookie.
    let mallory = in_browser(app.api.login("mallory", PASSWORD), &cookie).await;
    assert_eq!(mallory.status, 200);
    assert_eq!(
        device_cookie_of(&mallory),
        None,
        "a known device: nothing new"
    );
    // Junk in the cookie is ignored, never an error.
    let junk = in_browser(
        app.api.login("wendy", PASSWORD),
        &format!("..{}.%00.{}", "x".repeat(300), cookie),
    )
    .await;
    assert_eq!(junk.status, 200);
}

/// A two-factor customer with a remembered laptop and two sessions its trust opened; answers
/// the phone's session (signed in with the code) and the trusted sessions.
async fn trusted_laptop(app: &TestApp, username: &str) -> (Session, Session, Session) {
    let session = app.signed_in_customer(username).await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let remembered = remember_with(app, username, &secret, None).await;
    let token = remembered.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let first = session_from(&login_with_device(app, username, &token).await);
    let second = session_from(&login_with_device(app, username, &token).await);
    let phone = app.login_with_code(username, &secret).await;
    (phone, first, second)
}

async fn forgetting_a_device_ends_every_session_its_trust_opened(app: TestApp) {
    let (phone, first, second) = trusted_laptop(&app, "xavier").await;
    let devices = app.api.devices(&phone.access_token).await;
    let laptop = devices.assert_ok()["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|device| device["trusted_until"].is_string())
        .expect("the trusted laptop")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app.api.forget_device(&phone.access_token, &laptop).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_session_ended(&app, &first).await;
    assert_session_ended(&app, &second).await;
    app.api.account(&phone.access_token).await.assert_ok();
}

async fn ending_one_session_of_a_trusted_device_ends_its_other_trusted_sessions(app: TestApp) {
    let (phone, first, second) = trusted_laptop(&app, "yolanda").await;
    let first_id = claims_of(&first.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = app.api.end_session(&phone.access_token, &first_id).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_session_ended(&app, &first).await;
    assert_session_ended(&app, &second).await;
    app.api.account(&phone.access_token).await.assert_ok();
}

async fn a_thief_s_pending_address_dies_when_the_owner_signs_out_everywhere(app: TestApp) {
    let owner = app.signed_in_customer("zoe").await;
    let id = app.account_id(&owner).await;
    app.verify_address(&id, "zoe@example.com").await;
    // The thief, signed in with the stolen password, asks to move the address inside the
    // privileged window.
    let thief = session_from(&app.api.login("zoe", PASSWORD).await);
    app.mails().await;
    let asked = app
        .api
        .change_email(&thief.access_token, json!({"email": "thief@evil.example"}))
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    let mails = app.mails().await;
    let link = mails
        .iter()
        .find(|mail| mail.to == "thief@evil.example")
        .expect("the link")
        .link_token();
    let notice = mails
        .iter()
        .find(|mail| mail.to == "zoe@example.com")
        .expect("the old address hears of it");
    assert!(
        notice.text.contains("End all other sessions"),
        "the notice says how to stop it: {}",
        notice.text
    );
    // The owner signs out every other session.
    let reply = app.api.revoke_other_sessions(&owner.access_token).await;
    assert_eq!(reply.status, 204);
    app.api
        .verify_email(json!({"token": link}))
        .await
        .assert_problem(400, "invalid_token");
    let account = app.api.account(&owner.access_token).await;
    assert_eq!(
        account.assert_ok()["pending_email"],
        serde_json::Value::Null
    );
    assert_eq!(account.body["email"], "zoe@example.com");
    // And a reset asked for the thief's address mails nothing.
    app.api
        .request_password_reset(json!({"login": "thief@evil.example"}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mails().await.is_empty());
}
