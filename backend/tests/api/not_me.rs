//! "This wasn't me": the link every security notice carries, what confirming it ends, the
//! password blocked until a mailed reset or support's unlock (passkeys still sign in), the
//! link's single use and expiry; and the notice of a sign-in from a new device.

use chrono::TimeDelta;
use custadmin_client::{Client, Method};
use serde_json::{json, Value};

use crate::helpers::{
    assert_session_ended, event_kinds, session_from, Mail, Session, TestApp, PASSWORD,
};
use crate::on_both_databases;
use crate::passkeys::{customer_with_passkey, sign_in_with_passkey_alone};
use crate::support::support_agent;

on_both_databases!(
    every_security_notice_carries_its_own_not_me_link,
    confirming_ends_every_session_api_token_device_and_the_pending_address,
    only_the_right_password_learns_of_the_block,
    a_passkey_still_signs_in_and_the_blocked_password_proves_nothing,
    support_unlock_lifts_the_block_and_the_holder_hears,
    a_link_works_once_and_not_on_get_nor_after_seven_days,
    of_confirmations_at_once_exactly_one_wins_on_any_instance,
);

const BEHIND_PROXY: &[(&str, &str)] = &[("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32")];

on_both_databases!(
    with BEHIND_PROXY;
    a_sign_in_from_a_new_device_is_mailed_but_not_from_the_first_or_a_known_one,
);

const NEW_PASSWORD: &str = "a brand new password";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// A signed-in customer whose address is verified; answers the session, the account id and
/// the address.
async fn customer_with_address(app: &TestApp, username: &str) -> (Session, String, String) {
    let session = app.signed_in_customer(username).await;
    let id = app.account_id(&session).await;
    let address = format!("{username}@example.com");
    app.verify_address(&id, &address).await;
    (session, id, address)
}

/// Creates an API token (a privileged action inside the window): its notice is a mail with a
/// not-me link. Answers the token.
async fn create_api_token(app: &TestApp, session: &Session) -> String {
    let created = app
        .api
        .create_api_token(
            &session.access_token,
            json!({"name": "script", "scopes": ["account:read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["token"].as_str().unwrap().to_string()
}

/// The one delivered mail with `subject` (every subject ends in the site's name).
fn only<'a>(mails: &'a [Mail], subject: &str) -> &'a Mail {
    let subject = format!("{subject} · custadmin");
    let found: Vec<&Mail> = mails.iter().filter(|m| m.subject == subject).collect();
    assert_eq!(found.len(), 1, "one mail {subject:?} in {mails:#?}");
    found[0]
}

async fn confirm(app: &TestApp, token: &str) -> Value {
    let reply = app.api.not_me(json!({ "token": token })).await;
    assert_eq!(
        reply.headers.get("cache-control").unwrap(),
        "no-store",
        "{:?}",
        reply.headers
    );
    reply.assert_ok().clone()
}

/// A fresh reset link mailed to the account's verified address.
async fn reset_link(app: &TestApp, username: &str) -> String {
    app.mails().await;
    app.api
        .request_password_reset(json!({ "login": username }))
        .await
        .assert_status(202);
    let mails = crate::email::mails_within_two_seconds(app, 1).await;
    only(&mails, "Reset your password").link_token()
}

async fn every_security_notice_carries_its_own_not_me_link(app: TestApp) {
    let (session, _, address) = customer_with_address(&app, "nora").await;
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await
        .assert_status(204);
    create_api_token(&app, &session).await;
    let mails = app.mails().await;
    let notices = [
        only(&mails, "Your password was changed"),
        only(&mails, "An API token was created"),
    ];
    let link_start = format!("{}/not-me?token=", app.public_url());
    let mut tokens = Vec::new();
    for notice in notices {
        assert_eq!(notice.to, address);
        assert!(notice.text.contains(&link_start), "{}", notice.text);
        assert!(
            notice.text.contains("If this was not you and you want to stop whoever did it at once, open this link (it works once, for 7 days)."),
            "{}",
            notice.text
        );
        let token = notice.not_me_token();
        assert!(token.len() >= 32, "{token}");
        // The HTML twin makes it a link the holder can press.
        assert!(
            notice
                .html
                .contains(&format!("<a href=\"{link_start}{token}\">")),
            "{}",
            notice.html
        );
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1], "each notice has a link of its own");

    // In the account's language.
    app.api
        .update_account(&session.access_token, json!({"language": "cs"}))
        .await
        .assert_ok();
    create_api_token(&app, &session).await;
    let mails = app.mails().await;
    let czech = only(&mails, "Byl vytvořen API token");
    assert!(
        czech.text.contains("Pokud jste to nebyli vy a chcete toho, kdo to udělal, hned zastavit, otevřete tento odkaz"),
        "{}",
        czech.text
    );
    assert!(czech.text.contains(&link_start), "{}", czech.text);
    // The link is the holder's, not a secret of the mail's: confirming it works.
    confirm(&app, &czech.not_me_token()).await;
}

async fn confirming_ends_every_session_api_token_device_and_the_pending_address(app: TestApp) {
    let (session, _, address) = customer_with_address(&app, "olga").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    // A remembered device, and a session its trust opened without a code.
    let challenge = app.api.login("olga", PASSWORD).await;
    app.next_step();
    let remembered = app
        .api
        .otp(json!({"challenge_token": challenge.body["challenge_token"], "code": app.code_now(&secret, 0), "remember_device": true}))
        .await;
    let device_token = remembered.body["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let remembered = session_from(&remembered);
    let via_trust = app
        .api
        .log_in(json!({"username": "olga", "password": PASSWORD, "device_token": device_token}))
        .await;
    let via_trust = session_from(&via_trust);
    let api_token = create_api_token(&app, &session).await;
    app.api
        .change_email(&session.access_token, json!({"email": "olga@new.example"}))
        .await
        .assert_status(202);
    let mails = app.mails().await;
    let pending_link = mails
        .iter()
        .find(|mail| mail.to == "olga@new.example")
        .expect("the new address's link")
        .link_token();
    // The holder presses the link in the notice the old address got.
    let notice = only(&mails, "Your email address is being changed");
    assert_eq!(notice.to, address);

    let report = confirm(&app, &notice.not_me_token()).await;
    assert_eq!(
        report,
        json!({
            "sessions_ended": 3,
            "api_tokens_revoked": 1,
            "devices_forgotten": 2,
            "email_change_cancelled": true,
            "password_sign_in_blocked": true,
            "can_reset_by_email": true,
            "passkeys": 0,
        })
    );
    for ended in [&session, &remembered, &via_trust] {
        assert_session_ended(&app, ended).await;
    }
    app.api
        .account(&api_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .verify_email(json!({ "token": pending_link }))
        .await
        .assert_problem(400, "invalid_token");
    // The trusted device stands in for nothing: the password is refused first.
    app.api
        .log_in(json!({"username": "olga", "password": PASSWORD, "device_token": device_token}))
        .await
        .assert_problem(403, "password_sign_in_blocked");

    // The holder hears what happened and what to do; that mail offers no second report.
    let mails = app.mails().await;
    let told = only(&mails, "You reported that it was not you");
    assert_eq!(told.to, address);
    assert!(
        told.text
            .contains(&format!("open {}/forgot-password", app.public_url())),
        "{}",
        told.text
    );
    assert!(!told.text.contains("/not-me?token="), "{}", told.text);

    // A reset through the verified address, which still asks the code, gives the account back.
    let link = reset_link(&app, "olga").await;
    app.api
        .confirm_password_reset(json!({"token": link, "new_password": NEW_PASSWORD}))
        .await
        .assert_problem(403, "second_factor_required");
    app.next_step();
    let reset = app
        .api
        .confirm_password_reset(
            json!({"token": link, "new_password": NEW_PASSWORD, "code": app.code_now(&secret, 0)}),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.body);
    // The remembered device was forgotten: its token asks for the code again.
    let again = app
        .api
        .log_in(json!({"username": "olga", "password": NEW_PASSWORD, "device_token": device_token}))
        .await;
    assert_eq!(
        again.assert_ok()["status"],
        "otp_required",
        "{}",
        again.body
    );
    app.next_step();
    let fresh = session_from(
        &app.api
            .verify_otp(&again.body["challenge_token"], app.code_now(&secret, 0))
            .await,
    );
    let events = app.api.events(&fresh.access_token).await;
    let kinds = event_kinds(&events);
    let reported = kinds.iter().position(|kind| *kind == "not_me_reported");
    let reset = kinds.iter().position(|kind| *kind == "password_reset");
    assert!(
        reset.is_some() && reported > reset,
        "newest first: the reset after the report: {kinds:?}"
    );
    let account = app.api.account(&fresh.access_token).await;
    assert!(account.assert_ok()["pending_email"].is_null());
}

async fn only_the_right_password_learns_of_the_block(app: TestApp) {
    let (session, _, _) = customer_with_address(&app, "pola").await;
    create_api_token(&app, &session).await;
    let token = only(&app.mails().await, "An API token was created").not_me_token();
    confirm(&app, &token).await;
    app.api
        .login("pola", "not the password at all")
        .await
        .assert_problem(401, "invalid_credentials");
    app.api
        .login("nobody-here", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    let blocked = app.api.login("pola", PASSWORD).await;
    blocked.assert_problem(403, "password_sign_in_blocked");
    assert!(blocked.body.get("access_token").is_none());
    // A right password refused this way is no failure: it does not count towards a lock-out.
    let subject = "pwd:pola@127.0.0.1";
    let before = app.consecutive_failures(subject).await;
    assert_eq!(before, 1, "the wrong password counted");
    for _ in 0..3 {
        app.api
            .login("pola", PASSWORD)
            .await
            .assert_problem(403, "password_sign_in_blocked");
    }
    assert_eq!(app.consecutive_failures(subject).await, before);
}

async fn a_passkey_still_signs_in_and_the_blocked_password_proves_nothing(app: TestApp) {
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "pia").await;
    app.verify_address(&account_id, "pia@example.com").await;
    // A passkey sign-in from a new device: its notice carries a link like any other.
    sign_in_with_passkey_alone(&app, &mut authenticator, &account_id).await;
    let token = only(&app.mails().await, "New sign-in to your account").not_me_token();
    let report = confirm(&app, &token).await;
    assert_eq!(report["passkeys"], 1);
    app.api
        .login("pia", PASSWORD)
        .await
        .assert_problem(403, "password_sign_in_blocked");
    // What a thief cannot have learnt still signs in...
    let session = sign_in_with_passkey_alone(&app, &mut authenticator, &account_id).await;
    app.api.account(&session.access_token).await.assert_ok();
    // ...but the blocked password proves nothing there either: the reset is by mail.
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await
        .assert_problem(403, "password_sign_in_blocked");
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": "a wrong guess!", "new_password": NEW_PASSWORD}),
        )
        .await
        .assert_problem(400, "invalid_password");
}

async fn support_unlock_lifts_the_block_and_the_holder_hears(app: TestApp) {
    let (session, customer_id, address) = customer_with_address(&app, "quin").await;
    create_api_token(&app, &session).await;
    let token = only(&app.mails().await, "An API token was created").not_me_token();
    confirm(&app, &token).await;
    app.mails().await;
    app.api
        .login("quin", PASSWORD)
        .await
        .assert_problem(403, "password_sign_in_blocked");
    let agent = support_agent(&app, "sam-support").await;
    let unlocked = app
        .api
        .unlock_customer(
            &agent.access_token,
            &customer_id,
            json!({"reason": "Customer called from the number on file"}),
        )
        .await;
    assert_eq!(unlocked.status, 204, "{}", unlocked.body);
    session_from(&app.api.login("quin", PASSWORD).await);
    let mails = app.mails().await;
    let told = only(
        &mails,
        "Customer support allowed signing in with your password again",
    );
    assert_eq!(told.to, address);
    assert!(
        told.text.contains("Reset your password now"),
        "{}",
        told.text
    );
    assert!(told.text.contains("/not-me?token="), "{}", told.text);
    // An unlock with no block to lift tells nobody anything new.
    app.api
        .unlock_customer(
            &agent.access_token,
            &customer_id,
            json!({"reason": "Second call"}),
        )
        .await
        .assert_status(204);
    assert!(app.mails().await.is_empty());
}

async fn a_link_works_once_and_not_on_get_nor_after_seven_days(app: TestApp) {
    let (session, _, _) = customer_with_address(&app, "rita").await;
    create_api_token(&app, &session).await;
    let first = only(&app.mails().await, "An API token was created").not_me_token();
    create_api_token(&app, &session).await;
    let second = only(&app.mails().await, "An API token was created").not_me_token();

    // Opening the link, as a mail scanner does, changes nothing: only the page's button POSTs.
    let plain = Client::new(&app.address);
    let opened = plain
        .send(
            Method::GET,
            format!("/not-me?token={first}"),
            custadmin_client::NOBODY,
            None,
        )
        .await;
    // The SPA's page where it is built (here: no SPA, so not found); never a report.
    assert!(
        opened.body.get("sessions_ended").is_none(),
        "{}",
        opened.text
    );
    app.api
        .send(
            Method::GET,
            format!("/api/v1/auth/not-me?token={first}"),
            custadmin_client::NOBODY,
            None,
        )
        .await
        .assert_problem(405, "method_not_allowed");
    app.api.account(&session.access_token).await.assert_ok();

    // Hostile or empty tokens name no link.
    for token in [json!(""), json!("x".repeat(300)), json!("not-a-token")] {
        app.api
            .not_me(json!({ "token": token }))
            .await
            .assert_problem(400, "invalid_token");
    }
    app.api
        .not_me(json!({}))
        .await
        .assert_problem(422, "invalid_body");

    confirm(&app, &first).await;
    app.api
        .not_me(json!({ "token": first }))
        .await
        .assert_problem(400, "invalid_token");
    // The other notices' links went with the report.
    app.api
        .not_me(json!({ "token": second }))
        .await
        .assert_problem(400, "invalid_token");

    // A link of another kind is no not-me link, and a not-me link no reset link.
    let (session, _, _) = customer_with_address(&app, "sara").await;
    let reset = reset_link(&app, "sara").await;
    app.api
        .not_me(json!({ "token": reset }))
        .await
        .assert_problem(400, "invalid_token");
    create_api_token(&app, &session).await;
    let late = only(&app.mails().await, "An API token was created").not_me_token();
    app.api
        .confirm_password_reset(json!({"token": late, "new_password": NEW_PASSWORD}))
        .await
        .assert_problem(400, "invalid_token");
    // Seven days it works; after that it is refused and nothing happens.
    app.clock
        .advance(TimeDelta::days(7) + TimeDelta::seconds(1));
    app.api
        .not_me(json!({ "token": late }))
        .await
        .assert_problem(400, "invalid_token");
    session_from(&app.api.login("sara", PASSWORD).await);
}

async fn of_confirmations_at_once_exactly_one_wins_on_any_instance(app: TestApp) {
    let (session, _, _) = customer_with_address(&app, "tina").await;
    create_api_token(&app, &session).await;
    let token = only(&app.mails().await, "An API token was created").not_me_token();
    let other = app.second_instance().await;
    let body = json!({ "token": token });
    let replies = futures::future::join_all((0..6).map(|n| {
        let api = if n % 2 == 0 { &app.api } else { &other };
        api.not_me(body.clone())
    }))
    .await;
    let won = replies.iter().filter(|reply| reply.status == 200).count();
    assert_eq!(
        won,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|reply| reply.status != 200) {
        reply.assert_problem(400, "invalid_token");
    }
    // One report: one mail about it.
    only(&app.mails().await, "You reported that it was not you");
}

async fn a_sign_in_from_a_new_device_is_mailed_but_not_from_the_first_or_a_known_one(app: TestApp) {
    let id = app.register("uma").await;
    app.verify_address(&id, "uma@example.com").await;
    // The account's first device is the one that just made it: no mail.
    let first = app.login_from("198.51.100.7", "uma", PASSWORD, None).await;
    let device_token = first.assert_ok()["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(app.mails().await.is_empty());
    // A known device: no mail.
    session_from(
        &app.login_from("198.51.100.7", "uma", PASSWORD, Some(&device_token))
            .await,
    );
    assert!(app.mails().await.is_empty());
    // Another device: when, where from, with what, and the link to stop it.
    let elsewhere = app
        .api
        .log_in(json!({"username": "uma", "password": PASSWORD}))
        .from_ip("203.0.113.9")
        .header("user-agent", FIREFOX)
        .await;
    session_from(&elsewhere);
    let mails = app.mails().await;
    let notice = only(&mails, "New sign-in to your account");
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(notice.to, "uma@example.com");
    for line in [
        "from a device or browser it was not used on before",
        "IP address: 203.0.113.9",
        "Browser: Mozilla/5.0 (X11; Linux x86_64; rv:133.0)",
        "/not-me?token=",
    ] {
        assert!(notice.text.contains(line), "{line:?} in {}", notice.text);
    }
    // The first device is still known: no mail.
    session_from(
        &app.login_from("198.51.100.7", "uma", PASSWORD, Some(&device_token))
            .await,
    );
    assert!(app.mails().await.is_empty());
    // A reset forgets every device, not that the account was ever used: a sign-in from the
    // forgotten device is a new device's, and mailed.
    let link = reset_link(&app, "uma").await;
    app.api
        .confirm_password_reset(json!({"token": link, "new_password": NEW_PASSWORD}))
        .await
        .assert_status(204);
    only(&app.mails().await, "Your password was reset");
    session_from(
        &app.login_from("198.51.100.7", "uma", NEW_PASSWORD, Some(&device_token))
            .await,
    );
    only(&app.mails().await, "New sign-in to your account");
}
