//! E-mail: verified addresses, forgotten passwords, and notices of every security change. The
//! server writes mails as `.eml` files here (no relay configured); `app.mails()` delivers the
//! outbox as the worker would and reads them.

use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{event_kinds, session_from, Mail, Session, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    a_sign_up_address_is_verified_by_its_link_once,
    a_new_address_needs_proof_tells_the_old_one_and_counts_once_verified,
    a_forgotten_password_is_reset_once_with_the_mailed_link,
    a_reset_of_a_two_factor_account_needs_the_second_factor,
    unknown_logins_and_unverified_addresses_get_the_same_answer_and_no_mail,
    a_password_change_voids_reset_links,
    every_security_change_is_mailed_to_the_verified_address,
    mails_speak_the_account_s_language,
    nobody_can_flood_an_address_with_verification_links,
    a_pending_address_dies_with_the_password_that_asked_for_it,
    a_link_used_many_times_at_once_works_exactly_once,
);

/// Waits (at most 2 s) for the mails a background request queues.
pub(crate) async fn mails_within_two_seconds(app: &TestApp, expected: usize) -> Vec<Mail> {
    let mut mails = Vec::new();
    for _ in 0..40 {
        mails.extend(app.mails().await);
        if mails.len() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    mails
}

async fn customer_with_verified_address(app: &TestApp, username: &str) -> (Session, String) {
    let session = app.signed_in_customer(username).await;
    let id = app.account_id(&session).await;
    let address = format!("{username}@example.com");
    app.verify_address(&id, &address).await;
    (session, address)
}

async fn a_sign_up_address_is_verified_by_its_link_once(app: TestApp) {
    app.api
        .register(json!({"username": "vera", "password": PASSWORD, "email": "Vera@Example.com"}))
        .await
        .assert_ok();
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.to, "Vera@Example.com");
    assert_eq!(mail.subject, "Confirm your email address · custadmin");
    assert!(
        mail.text
            .contains(&format!("{}/verify-email?token=", app.public_url())),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("<a href="), "{}", mail.html);
    let session = session_from(&app.api.login("vera", PASSWORD).await);
    let token = Some(session.access_token.as_str());
    assert_eq!(app.api.account(token).await.body["email_verified"], false);

    let verified = app
        .api
        .verify_email(json!({"token": mail.link_token()}))
        .await;
    assert_eq!(verified.assert_ok(), &json!({"email": "Vera@Example.com"}));
    let account = app.api.account(token).await;
    assert_eq!(account.body["email_verified"], true);
    assert!(event_kinds(&app.api.events(token).await).contains(&"email_verified"));
    // Single use, and nothing else is a link.
    for token in [
        mail.link_token(),
        "made-up".to_string(),
        "\u{0}".to_string(),
    ] {
        app.api
            .verify_email(json!({ "token": token }))
            .await
            .assert_problem(400, "invalid_token");
    }
}

async fn a_new_address_needs_proof_tells_the_old_one_and_counts_once_verified(app: TestApp) {
    let (session, old) = customer_with_verified_address(&app, "wanda").await;
    let token = Some(session.access_token.as_str());
    app.mails().await;
    app.clock.advance(TimeDelta::minutes(11));
    let stale = session_from(&app.api.refresh(json!(session.refresh_token)).await);
    let stale_token = Some(stale.access_token.as_str());
    app.api
        .change_email(stale_token, json!({"email": "w@new.example"}))
        .await
        .assert_problem(403, "reauthentication_required");
    let reply = app
        .api
        .change_email(
            stale_token,
            json!({"email": "w@new.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let account = app.api.account(stale_token).await;
    assert_eq!(account.body["email"], old.as_str(), "in use until verified");
    assert_eq!(account.body["pending_email"], "w@new.example");
    let mails = app.mails().await;
    let to_new = mails
        .iter()
        .find(|m| m.to == "w@new.example")
        .expect("link");
    let to_old = mails.iter().find(|m| m.to == old).expect("notice");
    assert!(to_old.text.contains("w@new.example"), "{}", to_old.text);
    assert!(
        to_old.text.contains("127.0.0.1"),
        "the notice says from where"
    );

    app.api
        .verify_email(json!({"token": to_new.link_token()}))
        .await
        .assert_ok();
    let account = app.api.account(stale_token).await;
    assert_eq!(account.body["email"], "w@new.example");
    assert_eq!(account.body["email_verified"], true);
    assert_eq!(account.body["pending_email"], serde_json::Value::Null);
    let _ = token;
}

async fn a_forgotten_password_is_reset_once_with_the_mailed_link(app: TestApp) {
    let (session, address) = customer_with_verified_address(&app, "xena").await;
    app.mails().await;
    let reply = app
        .api
        .request_password_reset(json!({"login": address.to_uppercase()}))
        .await;
    assert_eq!(reply.status, 202);
    let mails = mails_within_two_seconds(&app, 1).await;
    assert_eq!(mails.len(), 1);
    let link = &mails[0];
    assert_eq!(link.to, address);
    assert!(link.text.contains("/reset-password?token="));

    let confirm = |token: String, password: &'static str| {
        app.api
            .confirm_password_reset(json!({"token": token, "new_password": password}))
    };
    let done = confirm(link.link_token(), "a brand new password").await;
    assert_eq!(done.status, 204, "{}", done.body);
    // Every session ends; the old password no longer works; the new one does.
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .login("xena", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    let fresh = session_from(&app.api.login("xena", "a brand new password").await);
    assert!(event_kinds(&app.api.events(&fresh.access_token).await).contains(&"password_reset"));
    // The reset forgot every device, so the sign-in after it is a new device's too.
    let notices = app.mails().await;
    let subjects: Vec<&str> = notices.iter().map(|mail| mail.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "New sign-in to your account · custadmin",
            "Your password was reset · custadmin"
        ]
    );
    // The link worked once.
    confirm(link.link_token(), "yet another password")
        .await
        .assert_problem(400, "invalid_token");
    // A link expires after 30 minutes.
    app.api
        .request_password_reset(json!({"login": "xena"}))
        .await;
    let late = mails_within_two_seconds(&app, 1).await;
    app.clock.advance(TimeDelta::minutes(31));
    confirm(late[0].link_token(), "yet another password")
        .await
        .assert_problem(400, "invalid_token");
}

async fn a_reset_of_a_two_factor_account_needs_the_second_factor(app: TestApp) {
    let (session, _) = customer_with_verified_address(&app, "yuri").await;
    let (secret, recovery_codes) = app.enable_two_factor(&session).await;
    app.mails().await;
    app.api
        .request_password_reset(json!({"login": "yuri"}))
        .await;
    let token = mails_within_two_seconds(&app, 1).await[0].link_token();
    let confirm = |body: serde_json::Value| app.api.confirm_password_reset(body);
    confirm(json!({"token": token, "new_password": "a brand new password"}))
        .await
        .assert_problem(403, "second_factor_required");
    app.next_step();
    confirm(json!({"token": token, "new_password": "a brand new password", "code": app.wrong_code(&secret)}))
        .await
        .assert_problem(400, "invalid_code");
    let done = confirm(json!({"token": token, "new_password": "a brand new password", "recovery_code": recovery_codes[0]}))
        .await;
    assert_eq!(done.status, 204, "{}", done.body);
    // Two-factor stays on: the new password still needs the code.
    let challenge = app.api.login("yuri", "a brand new password").await;
    assert_eq!(challenge.assert_ok()["status"], "otp_required");
}

async fn unknown_logins_and_unverified_addresses_get_the_same_answer_and_no_mail(app: TestApp) {
    app.api
        .register(json!({"username": "zora", "password": PASSWORD, "email": "zora@example.com"}))
        .await
        .assert_ok();
    app.mails().await; // the sign-up link
    for login in ["nobody", "nobody@example.com", "zora", "zora@example.com"] {
        let reply = app
            .api
            .request_password_reset(json!({ "login": login }))
            .await;
        assert_eq!(reply.status, 202, "{login}");
        assert_eq!(reply.body, serde_json::Value::Null);
    }
    assert!(
        mails_within_two_seconds(&app, 1).await.is_empty(),
        "no account, or no verified address: no mail"
    );
    app.api
        .request_password_reset(json!({"login": "\u{0}"}))
        .await
        .assert_problem(422, "validation_failed");

    // A verified address gets at most three links an hour, whatever is asked.
    let (_, _) = customer_with_verified_address(&app, "zack").await;
    app.mails().await;
    for _ in 0..5 {
        app.api
            .request_password_reset(json!({"login": "zack"}))
            .await;
    }
    assert_eq!(mails_within_two_seconds(&app, 4).await.len(), 3);
}

async fn a_password_change_voids_reset_links(app: TestApp) {
    let (session, _) = customer_with_verified_address(&app, "ada").await;
    app.mails().await;
    app.api
        .request_password_reset(json!({"login": "ada"}))
        .await;
    let token = mails_within_two_seconds(&app, 1).await[0].link_token();
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": "changed meanwhile"}),
        )
        .await;
    app.api
        .confirm_password_reset(json!({"token": token, "new_password": "a brand new password"}))
        .await
        .assert_problem(400, "invalid_token");
}

async fn every_security_change_is_mailed_to_the_verified_address(app: TestApp) {
    let (session, address) = customer_with_verified_address(&app, "bea").await;
    let token = Some(session.access_token.as_str());
    app.mails().await;
    let subjects = |mails: Vec<Mail>| -> Vec<String> {
        assert!(mails.iter().all(|mail| mail.to == address), "{mails:?}");
        mails.into_iter().map(|mail| mail.subject).collect()
    };

    let (secret, codes) = app.enable_two_factor(&session).await;
    assert_eq!(
        subjects(app.mails().await),
        ["Two-factor authentication was switched on · custadmin"]
    );

    let challenge = app.api.login("bea", PASSWORD).await.body["challenge_token"].clone();
    app.api
        .otp(json!({"challenge_token": challenge, "recovery_code": codes[0]}))
        .await
        .assert_ok();
    let used = app.mails().await;
    assert_eq!(used[0].subject, "A recovery code was used · custadmin");
    assert!(
        used[0].text.contains("9 recovery codes are left."),
        "{}",
        used[0].text
    );

    // A right password and a wrong code: one mail an hour however often.
    for _ in 0..2 {
        let challenge = app.api.login("bea", PASSWORD).await.body["challenge_token"].clone();
        app.api
            .verify_otp(&challenge, app.wrong_code(&secret))
            .await
            .assert_problem(400, "invalid_code");
    }
    assert_eq!(
        subjects(app.mails().await),
        ["Someone knows your password · custadmin"]
    );

    app.api
        .regenerate_recovery_codes(token, json!({}))
        .await
        .assert_ok();
    assert_eq!(
        subjects(app.mails().await),
        ["New recovery codes were created · custadmin"]
    );

    app.api
        .change_password(
            token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(
        subjects(app.mails().await),
        ["Your password was changed · custadmin"]
    );

    app.api
        .disable_two_factor(token, json!({}))
        .await
        .assert_ok();
    let disabled = app.mails().await;
    assert_eq!(
        disabled[0].subject,
        "Two-factor authentication was switched off · custadmin"
    );
    assert!(
        disabled[0].text.contains("If this was not you"),
        "{}",
        disabled[0].text
    );
    assert!(!disabled[0].text.contains(PASSWORD), "no secret in mails");
}

async fn mails_speak_the_account_s_language(app: TestApp) {
    let (session, _) = customer_with_verified_address(&app, "cyril").await;
    let token = Some(session.access_token.as_str());
    app.api
        .update_account(token, json!({"language": "cs"}))
        .await
        .assert_ok();
    app.mails().await;
    let (_, codes) = app.enable_two_factor(&session).await;
    assert_eq!(
        app.mails().await[0].subject,
        "Dvoufázové ověření bylo zapnuto · custadmin"
    );
    for code in &codes[..8] {
        let challenge = app.api.login("cyril", PASSWORD).await.body["challenge_token"].clone();
        app.api
            .otp(json!({"challenge_token": challenge, "recovery_code": code}))
            .await
            .assert_ok();
    }
    let mails = app.mails().await;
    let last = mails
        .iter()
        .find(|mail| mail.text.contains("Zbývají 2 záložní kódy."))
        .expect("the notice after the eighth code");
    assert!(
        last.text.contains("vytvořte nové záložní kódy"),
        "{}",
        last.text
    );
}

async fn nobody_can_flood_an_address_with_verification_links(app: TestApp) {
    let session = app.signed_in_customer("mallet").await;
    let token = Some(session.access_token.as_str());
    for _ in 0..3 {
        let reply = app
            .api
            .change_email(token, json!({"email": "victim@example.com"}))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    app.api
        .change_email(token, json!({"email": "victim@example.com"}))
        .await
        .assert_problem(429, "too_many_attempts");
    // Another account cannot add to the victim's mails either, even by signing up (the
    // account is made; its mail waits until the address's allowance frees up).
    let signed_up = app
        .api
        .register(
            json!({"username": "mallet2", "password": PASSWORD, "email": "Victim@Example.com"}),
        )
        .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.body);
    assert_eq!(app.mails().await.len(), 3);
    app.api
        .change_email(token, json!({"email": "\"x\"<victim@example.com>"}))
        .await
        .assert_problem(422, "validation_failed");
}

async fn a_pending_address_dies_with_the_password_that_asked_for_it(app: TestApp) {
    let (session, address) = customer_with_verified_address(&app, "petra").await;
    // A hijacker with a fresh session asks to move the address.
    app.api
        .change_email(
            &session.access_token,
            json!({"email": "hijacker@evil.example"}),
        )
        .await;
    let link = app
        .mails()
        .await
        .into_iter()
        .find(|mail| mail.to == "hijacker@evil.example")
        .unwrap();
    // The holder takes the account back with a reset.
    app.api
        .request_password_reset(json!({"login": address}))
        .await;
    let reset = mails_within_two_seconds(&app, 1)
        .await
        .into_iter()
        .find(|mail| mail.subject == "Reset your password · custadmin")
        .unwrap();
    app.api
        .confirm_password_reset(
            json!({"token": reset.link_token(), "new_password": "taken back for good"}),
        )
        .await;
    app.api
        .verify_email(json!({"token": link.link_token()}))
        .await
        .assert_problem(400, "invalid_token");
    let fresh = session_from(&app.api.login("petra", "taken back for good").await);
    let account = app.api.account(&fresh.access_token).await;
    assert_eq!(account.body["email"], address.as_str());
    assert_eq!(account.body["pending_email"], serde_json::Value::Null);
}

async fn a_link_used_many_times_at_once_works_exactly_once(app: TestApp) {
    let (_, _) = customer_with_verified_address(&app, "rhea").await;
    app.mails().await;
    app.api
        .request_password_reset(json!({"login": "rhea"}))
        .await;
    let token = mails_within_two_seconds(&app, 1).await[0].link_token();
    let attempts = (0..10).map(|n| {
        app.api.confirm_password_reset(
            json!({"token": token, "new_password": format!("raced password {n}")}),
        )
    });
    let replies = futures::future::join_all(attempts).await;
    let done = replies.iter().filter(|reply| reply.status == 204).count();
    let refused = replies
        .iter()
        .filter(|reply| reply.code() == "invalid_token")
        .count();
    assert_eq!((done, refused), (1, 9), "{replies:?}");
}
