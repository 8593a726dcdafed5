//! A password reset proved with a passkey: the mailed link asks for options
//! (`POST /auth/password-reset/webauthn/options`), the passkey's answer goes to
//! `POST /auth/password-reset/confirm` as `webauthn`, counted and checked like a code.

use chrono::TimeDelta;
use diesel::{QueryDsl, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::{
    claims_of, event_kinds, session_from, times_recorded, Reply, Session, TestApp, PASSWORD,
};
use crate::on_both_databases;
use crate::passkeys::{challenge, customer_with_passkey, sign_in_options, Authenticator};

on_both_databases!(
    a_passkey_only_customer_resets_the_password_with_the_passkey,
    an_answer_proves_one_reset_ceremony_once,
    an_answer_to_another_ceremony_is_refused,
    dead_links_and_accounts_without_passkeys_get_no_options,
    wrong_answers_count_with_wrong_codes_and_lock_alike,
    one_answer_sent_many_times_at_once_resets_once,
    hostile_reset_proofs_get_clear_problems,
);

on_both_databases!(
    with &[("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32")];
    options_are_counted_per_client_site_even_for_dead_links,
);

const NEW_PASSWORD: &str = "a brand new password";

/// Asks for a reset link for `login` and answers its token, as the mailed link carries it.
async fn reset_link(app: &TestApp, login: &str) -> String {
    app.mails().await;
    let asked = app
        .api
        .request_password_reset(json!({"login": login}))
        .await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    // The link is mailed in the background.
    for _ in 0..40 {
        if let Some(mail) = app
            .mails()
            .await
            .into_iter()
            .find(|mail| mail.text.contains("/reset-password?token="))
        {
            return mail.link_token();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no reset link mailed for {login}");
}

/// A customer whose only second factor is a passkey, with a verified address and a live
/// reset link: answers the session, the authenticator, the account id and the link's token.
async fn passkey_customer_with_link(
    app: &TestApp,
    username: &str,
) -> (Session, Authenticator, String, String) {
    let (session, authenticator, account_id) = customer_with_passkey(app, username).await;
    app.verify_address(&account_id, &format!("{username}@example.com"))
        .await;
    let token = reset_link(app, username).await;
    (session, authenticator, account_id, token)
}

async fn options(app: &TestApp, token: &str) -> Reply {
    app.api
        .password_reset_options(json!({"token": token}))
        .await
}

async fn confirm(app: &TestApp, token: &str, proof: Value) -> Reply {
    let mut body = json!({"token": token, "new_password": NEW_PASSWORD});
    body.as_object_mut()
        .unwrap()
        .extend(proof.as_object().unwrap().clone());
    app.api.confirm_password_reset(body).await
}

/// The passkey's answer to fresh options for the link.
async fn fresh_answer(app: &TestApp, authenticator: &mut Authenticator, token: &str) -> Value {
    let reply = options(app, token).await;
    authenticator.get(&reply.assert_ok()["options"])
}

/// The same answer with one bit of its signature flipped.
fn forged(answer: &Value) -> Value {
    let mut forged = answer.clone();
    let encoded = answer["response"]["signature"].as_str().unwrap();
    let mut signature = data_encoding::BASE64URL_NOPAD
        .decode(encoded.as_bytes())
        .unwrap();
    let last = signature.len() - 1;
    signature[last] ^= 1;
    forged["response"]["signature"] = json!(data_encoding::BASE64URL_NOPAD.encode(&signature));
    forged
}

/// Every WebAuthn ceremony waiting in the database, by key.
async fn ceremony_keys(app: &TestApp) -> Vec<String> {
    use custadmin::db::schema::webauthn_ceremonies;
    app.state
        .database
        .run(|connection| -> Result<_, custadmin::db::DbError> {
            Ok(webauthn_ceremonies::table
                .select(webauthn_ceremonies::ceremony_key)
                .load::<String>(connection)?)
        })
        .await
        .unwrap()
}

/// Signs in with `password` and then the passkey.
async fn sign_in_with_passkey(
    app: &TestApp,
    username: &str,
    password: &str,
    authenticator: &mut Authenticator,
) -> Reply {
    let reply = app.api.login(username, password).await;
    assert_eq!(
        reply.assert_ok()["status"],
        "otp_required",
        "{}",
        reply.body
    );
    let challenge_token = reply.body["challenge_token"].clone();
    let answer = authenticator.get(&sign_in_options(app, &challenge_token).await);
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": answer}))
        .await
}

async fn a_passkey_only_customer_resets_the_password_with_the_passkey(app: TestApp) {
    let (session, mut authenticator, _, token) = passkey_customer_with_link(&app, "pia").await;
    // Without a second factor the link is not enough.
    confirm(&app, &token, json!({}))
        .await
        .assert_problem(403, "second_factor_required");

    let reply = options(&app, &token).await;
    let offered = reply.assert_ok().clone();
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(
        offered["options"]["publicKey"]["allowCredentials"][0]["id"],
        json!(authenticator.credentials[0])
    );
    // The ceremony waits under the hash of the link's token, never the token itself.
    let keys = ceremony_keys(&app).await;
    let hash = custadmin::auth::opaque_token::hash(&token);
    assert_eq!(keys, vec![format!("reset:{hash}")]);
    assert!(keys.iter().all(|key| !key.contains(&token)));

    let answer = authenticator.get(&offered["options"]);
    let done = confirm(&app, &token, json!({"webauthn": answer})).await;
    assert_eq!(done.status, 204, "{}", done.body);
    assert!(
        ceremony_keys(&app).await.is_empty(),
        "the ceremony is used up"
    );

    // Every session ended; the old password is gone; the new one with the passkey signs in.
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .login("pia", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    let signed_in = sign_in_with_passkey(&app, "pia", NEW_PASSWORD, &mut authenticator).await;
    let fresh = session_from(&signed_in);
    assert_eq!(claims_of(&fresh.access_token)["amr"], json!(["pwd", "hwk"]));
    let kinds_reply = app.api.events(&fresh.access_token).await;
    let kinds = event_kinds(&kinds_reply);
    assert!(kinds.contains(&"password_reset"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|kind| **kind == "passkey_used").count(),
        2,
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"otp_failed"), "{kinds:?}");
}

async fn an_answer_proves_one_reset_ceremony_once(app: TestApp) {
    let (_, mut authenticator, account_id, token) = passkey_customer_with_link(&app, "quin").await;
    let failures = format!("otp:{account_id}");

    // Options asked again replace the earlier ones: an answer to those proves nothing ...
    let stale = fresh_answer(&app, &mut authenticator, &token).await;
    let answer = fresh_answer(&app, &mut authenticator, &token).await;
    confirm(&app, &token, json!({"webauthn": stale}))
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(app.consecutive_failures(&failures).await, 1);
    // ... and that refused try took the ceremony: the answer to it is refused too.
    confirm(&app, &token, json!({"webauthn": answer}))
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(app.consecutive_failures(&failures).await, 2);

    // A forged answer takes its ceremony as well; the genuine one cannot follow it.
    let answer = fresh_answer(&app, &mut authenticator, &token).await;
    confirm(&app, &token, json!({"webauthn": forged(&answer)}))
        .await
        .assert_problem(400, "invalid_code");
    confirm(&app, &token, json!({"webauthn": answer}))
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(app.consecutive_failures(&failures).await, 4);

    // Options answered after their 5 minutes are refused.
    let late = fresh_answer(&app, &mut authenticator, &token).await;
    app.clock
        .advance(TimeDelta::minutes(5) + TimeDelta::seconds(1));
    confirm(&app, &token, json!({"webauthn": late}))
        .await
        .assert_problem(400, "invalid_code");

    // A right answer resets, and starts the count of wrong ones again.
    let answer = fresh_answer(&app, &mut authenticator, &token).await;
    let done = confirm(&app, &token, json!({"webauthn": answer})).await;
    assert_eq!(done.status, 204, "{}", done.body);
    assert_eq!(app.consecutive_failures(&failures).await, 0);

    // Replayed with the same link: the link is used.
    confirm(&app, &token, json!({"webauthn": answer}))
        .await
        .assert_problem(400, "invalid_token");
    // Replayed with a new link: its ceremony is another one, and the replay spends it.
    let next = reset_link(&app, "quin").await;
    let offered = options(&app, &next).await.assert_ok().clone();
    confirm(&app, &next, json!({"webauthn": answer}))
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(app.consecutive_failures(&failures).await, 1);
    confirm(
        &app,
        &next,
        json!({"webauthn": authenticator.get(&offered["options"])}),
    )
    .await
    .assert_problem(400, "invalid_code");
}

async fn an_answer_to_another_ceremony_is_refused(app: TestApp) {
    let (session, mut authenticator, account_id, token) =
        passkey_customer_with_link(&app, "rosa").await;
    options(&app, &token).await.assert_ok();
    // An answer to the sign-in step's options (for whoever knows the password) ...
    let challenge_token = challenge(&app, "rosa").await;
    let for_sign_in = authenticator.get(&sign_in_options(&app, &challenge_token).await);
    confirm(&app, &token, json!({"webauthn": for_sign_in}))
        .await
        .assert_problem(400, "invalid_code");
    // ... or to a signed-in session's options for privileged actions proves no reset.
    let reauth = app
        .api
        .reauthentication_options(&session.access_token)
        .await;
    let for_session = authenticator.get(&reauth.assert_ok()["options"]);
    options(&app, &token).await.assert_ok();
    confirm(&app, &token, json!({"webauthn": for_session}))
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(
        app.consecutive_failures(&format!("otp:{account_id}")).await,
        2
    );

    // And the other way round: an answer to the link's options signs no one in.
    let for_reset = fresh_answer(&app, &mut authenticator, &token).await;
    let challenge_token = challenge(&app, "rosa").await;
    sign_in_options(&app, &challenge_token).await;
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": for_reset}))
        .await
        .assert_problem(400, "invalid_code");

    // Another account's link: this account's key answering its options is refused.
    let (_, _, _, other_token) = passkey_customer_with_link(&app, "sven").await;
    let mut theirs = options(&app, &other_token).await.assert_ok()["options"].clone();
    theirs["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": authenticator.credentials[0]}]);
    let crossed = authenticator.get(&theirs);
    confirm(&app, &other_token, json!({"webauthn": crossed}))
        .await
        .assert_problem(400, "invalid_code");
}

async fn dead_links_and_accounts_without_passkeys_get_no_options(app: TestApp) {
    let (_, mut authenticator, _, first) = passkey_customer_with_link(&app, "tova").await;
    options(&app, &first).await.assert_ok();
    for dead in ["no-such-link".to_string(), String::new(), "x".repeat(300)] {
        options(&app, &dead)
            .await
            .assert_problem(400, "invalid_token");
    }
    app.api
        .password_reset_options(json!({}))
        .await
        .assert_problem(422, "invalid_body");
    // A newer link leaves the older one live (a flood of links cannot kill the holder's).
    let second = reset_link(&app, "tova").await;
    options(&app, &first).await.assert_ok();
    // A used link, and the one it outlived.
    let third = reset_link(&app, "tova").await;
    let answer = fresh_answer(&app, &mut authenticator, &third).await;
    assert_eq!(
        confirm(&app, &third, json!({"webauthn": answer}))
            .await
            .status,
        204
    );
    options(&app, &third)
        .await
        .assert_problem(400, "invalid_token");
    for outlived in [&first, &second] {
        options(&app, outlived)
            .await
            .assert_problem(400, "invalid_token");
    }
    // A link past its 30 minutes (asked an hour later: three links an hour are mailed).
    app.clock.advance(TimeDelta::minutes(61));
    let late = reset_link(&app, "tova").await;
    app.clock.advance(TimeDelta::minutes(31));
    options(&app, &late)
        .await
        .assert_problem(400, "invalid_token");

    // A password-only account and a TOTP-only account have no passkeys to ask.
    for (username, totp) in [("uma", false), ("vito", true)] {
        let session = app.signed_in_customer(username).await;
        if totp {
            app.enable_two_factor(&session).await;
        }
        let id = app.account_id(&session).await;
        app.verify_address(&id, &format!("{username}@example.com"))
            .await;
        let token = reset_link(&app, username).await;
        options(&app, &token)
            .await
            .assert_problem(409, "no_passkeys");
    }
    // The reset ended every open ceremony of the account (the credential-change table), and
    // none were made since.
    assert_eq!(ceremony_keys(&app).await, Vec::<String>::new());
}

async fn wrong_answers_count_with_wrong_codes_and_lock_alike(app: TestApp) {
    let (_, mut authenticator, account_id, token) = passkey_customer_with_link(&app, "wren").await;
    // Five forged answers and five wrong recovery codes: one counter, as for codes alone.
    for _ in 0..5 {
        let answer = fresh_answer(&app, &mut authenticator, &token).await;
        confirm(&app, &token, json!({"webauthn": forged(&answer)}))
            .await
            .assert_problem(400, "invalid_code");
    }
    for _ in 0..5 {
        confirm(&app, &token, json!({"recovery_code": "aaaaa-bbbbb"}))
            .await
            .assert_problem(400, "invalid_code");
    }
    assert_eq!(
        app.consecutive_failures(&format!("otp:{account_id}")).await,
        10
    );
    // Locked: even a right answer waits, unchecked (its ceremony stays for after the wait).
    let answer = fresh_answer(&app, &mut authenticator, &token).await;
    let locked = confirm(&app, &token, json!({"webauthn": answer})).await;
    locked.assert_problem(429, "too_many_attempts");
    assert_eq!(locked.retry_after(), Some(30));
    app.clock.advance(TimeDelta::seconds(31));
    let done = confirm(&app, &token, json!({"webauthn": answer})).await;
    assert_eq!(done.status, 204, "{}", done.body);

    let session =
        session_from(&sign_in_with_passkey(&app, "wren", NEW_PASSWORD, &mut authenticator).await);
    let events = app.api.events(&session.access_token).await;
    let kinds = event_kinds(&events);
    assert_eq!(times_recorded(&events, "otp_failed"), 10, "{kinds:?}");
    assert!(kinds.contains(&"account_locked"), "{kinds:?}");
    // The holder heard of the wrong second factor, once within the hour.
    let mails = app.mails().await;
    let warnings = mails
        .iter()
        .filter(|mail| mail.subject == "Someone knows your password · custadmin")
        .count();
    assert_eq!(warnings, 1, "{mails:?}");
}

async fn one_answer_sent_many_times_at_once_resets_once(app: TestApp) {
    let (_, mut authenticator, _, token) = passkey_customer_with_link(&app, "xavi").await;
    let answer = fresh_answer(&app, &mut authenticator, &token).await;
    let attempts = (0..8).map(|_| confirm(&app, &token, json!({"webauthn": answer})));
    let replies = futures::future::join_all(attempts).await;
    let done = replies.iter().filter(|reply| reply.status == 204).count();
    assert_eq!(done, 1, "{replies:?}");
    // The others found the link used (or, checked before it was, the ceremony taken).
    assert!(
        replies
            .iter()
            .filter(|reply| reply.status != 204)
            .all(|reply| ["invalid_token", "invalid_code"].contains(&reply.code())),
        "{replies:?}"
    );
}

async fn hostile_reset_proofs_get_clear_problems(app: TestApp) {
    let (_, mut authenticator, _, token) = passkey_customer_with_link(&app, "yara").await;
    let answer = fresh_answer(&app, &mut authenticator, &token).await;
    for proof in [
        json!({"webauthn": "nonsense"}),
        json!({"webauthn": {"id": "x"}}),
        json!({"webauthn": answer, "code": "123456"}),
        json!({"webauthn": answer, "recovery_code": "aaaaa-bbbbb"}),
        json!({"code": "123456", "recovery_code": "aaaaa-bbbbb"}),
        json!({"webauthn": answer, "code": "123456", "recovery_code": "aaaaa-bbbbb"}),
    ] {
        confirm(&app, &token, proof)
            .await
            .assert_problem(422, "validation_failed");
    }
    // None of that was an attempt: the answer still proves the reset.
    let done = confirm(&app, &token, json!({"webauthn": answer})).await;
    assert_eq!(done.status, 204, "{}", done.body);
}

async fn options_are_counted_per_client_site_even_for_dead_links(app: TestApp) {
    let ask = |ip: &'static str, n: usize| {
        app.api
            .password_reset_options(json!({"token": format!("dead-link-{n}")}))
            .from_ip(ip)
    };
    let limit = 300;
    for round in 0..limit / 20 {
        let replies =
            futures::future::join_all((0..20).map(|n| ask("203.0.113.7", round * 20 + n))).await;
        for reply in replies {
            reply.assert_problem(400, "invalid_token");
        }
    }
    let full = ask("203.0.113.7", limit).await;
    full.assert_problem(429, "too_many_attempts");
    assert!(full.retry_after().is_some());
    // One budget with passwordless sign-ins from the same site; other sites are not held back.
    app.api
        .passwordless_options()
        .from_ip("203.0.113.7")
        .await
        .assert_problem(429, "too_many_attempts");
    ask("198.51.100.2", 0)
        .await
        .assert_problem(400, "invalid_token");
}
