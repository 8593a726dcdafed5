use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::{
    claims_of, event_kinds, secret_of, session_from, times_recorded, TestApp, PASSWORD,
};
use crate::on_both_databases;

on_both_databases!(
    enrolment_returns_a_secret_uri_and_qr_code_and_changes_nothing_until_confirmed,
    a_second_enrolment_replaces_the_pending_secret,
    confirm_switches_two_factor_on_and_login_then_needs_the_code,
    codes_in_every_wrong_spelling_are_refused,
    a_replayed_code_is_refused,
    of_twenty_parallel_requests_with_one_code_exactly_one_wins,
    of_twenty_parallel_requests_with_one_recovery_code_exactly_one_wins,
    a_challenge_allows_five_wrong_codes_even_under_parallel_requests,
    ten_failed_codes_lock_the_account_and_end_open_challenges,
    the_challenge_token_opens_nothing_but_the_code_step,
    a_challenge_is_single_use_and_expires_after_five_minutes,
    recovery_codes_sign_in_once_each,
    privileged_actions_need_fresh_proof_after_ten_minutes,
    disable_wipes_the_secret_and_codes_and_re_enabling_uses_the_new_secret,
    regenerating_recovery_codes_voids_the_old_ones,
    enabling_two_factor_signs_out_other_sessions_and_keeps_this_one_with_both_factors,
    wrong_confirmation_codes_count_toward_the_lock_out,
    a_password_only_session_is_refused_once_the_account_has_two_factor,
);

async fn enrolment_returns_a_secret_uri_and_qr_code_and_changes_nothing_until_confirmed(
    app: TestApp,
) {
    let session = app.signed_in_customer("alice").await;
    let reply = app
        .api
        .enroll_two_factor(&session.access_token, json!({}))
        .await;
    let body = reply.assert_ok();
    let secret = body["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in unpadded base32");
    assert!(secret
        .chars()
        .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
    assert_eq!(
        body["otpauth_uri"],
        format!("otpauth://totp/custadmin:alice?secret={secret}&issuer=custadmin&algorithm=SHA1&digits=6&period=30")
    );
    assert_eq!(
        decode_qr_svg(body["qr_svg"].as_str().unwrap()),
        body["otpauth_uri"].as_str().unwrap()
    );

    let account = app.api.account(&session.access_token).await;
    assert_eq!(account.body["two_factor"]["enabled"], false);
    let login = app.api.login("alice", PASSWORD).await;
    assert_eq!(
        login.body["status"], "authenticated",
        "login is unchanged until confirm"
    );

    // The secret is stored encrypted, not in the clear.
    let stored = app
        .state
        .database
        .run(|connection| custadmin::db::accounts::find_by_username_key(connection, "alice"))
        .await
        .unwrap()
        .unwrap();
    let ciphertext = stored.totp_pending_ciphertext.unwrap();
    assert!(!ciphertext.contains(secret));
    let raw = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    assert!(!ciphertext.contains(&data_encoding::HEXLOWER.encode(&raw)));
}

async fn a_second_enrolment_replaces_the_pending_secret(app: TestApp) {
    let session = app.signed_in_customer("bob").await;
    let token = Some(session.access_token.as_str());
    let first = secret_of(
        app.api
            .enroll_two_factor(token, json!({}))
            .await
            .assert_ok(),
    );
    let second = secret_of(
        app.api
            .enroll_two_factor(token, json!({}))
            .await
            .assert_ok(),
    );
    assert_ne!(first, second);
    app.api
        .confirm_two_factor(token, json!({"code": app.code_now(&first, 0)}))
        .await
        .assert_problem(400, "invalid_code");
    app.api
        .confirm_two_factor(token, json!({"code": app.code_now(&second, 0)}))
        .await
        .assert_ok();
}

async fn confirm_switches_two_factor_on_and_login_then_needs_the_code(app: TestApp) {
    let session = app.signed_in_customer("carol").await;
    let token = Some(session.access_token.as_str());
    app.api
        .confirm_two_factor(token, json!({"code": "123456"}))
        .await
        .assert_problem(409, "no_pending_enrollment");
    let (secret, recovery_codes) = app.enable_two_factor(&session).await;
    assert_eq!(recovery_codes.len(), 10);
    for code in &recovery_codes {
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
    }
    let account = app.api.account(token).await;
    assert_eq!(account.body["two_factor"]["enabled"], true);
    assert_eq!(account.body["two_factor"]["recovery_codes_remaining"], 10);
    assert!(account.body["two_factor"]["enabled_at"].is_string());
    app.api
        .enroll_two_factor(token, json!({}))
        .await
        .assert_problem(409, "two_factor_already_enabled");

    let challenge = app.api.login("carol", PASSWORD).await;
    let body = challenge.assert_ok();
    assert_eq!(body["status"], "otp_required");
    assert_eq!(body["expires_in"], 300);
    assert!(body.get("access_token").is_none());

    app.next_step();
    let signed_in = session_from(
        &app.api
            .verify_otp(
                &body["challenge_token"],
                format!(" {} ", app.code_now(&secret, 0)),
            )
            .await,
    );
    assert_eq!(
        claims_of(&signed_in.access_token)["amr"],
        json!(["pwd", "otp"])
    );
    let events = app.api.events(&signed_in.access_token).await;
    let kinds = event_kinds(&events);
    assert_eq!(kinds[0], "login_succeeded");
    assert!(kinds.contains(&"two_factor_enabled"));
    assert!(events.body["events"][0]["ip"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1"));
}

async fn codes_in_every_wrong_spelling_are_refused(app: TestApp) {
    let session = app.signed_in_customer("dave").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let challenge = app.api.login("dave", PASSWORD).await;
    let token = challenge.body["challenge_token"].clone();
    app.next_step();
    let code = app.code_now(&secret, 0);
    let full_width: String = code
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
        .collect();
    for spelling in [
        format!("{} {}", &code[..3], &code[3..]),
        full_width,
        format!("{code}0"),
        code[..5].to_string(),
        format!("\t{code}"),
        format!("-{}", &code[1..]),
        String::new(),
    ] {
        app.api
            .verify_otp(&token, &spelling)
            .await
            .assert_problem(422, "invalid_code_format");
    }
    app.api
        .otp(json!({"challenge_token": token, "code": 123456}))
        .await
        .assert_problem(422, "invalid_body");
    app.api
        .otp(json!({"challenge_token": token}))
        .await
        .assert_problem(422, "validation_failed");
    // Format errors cost no attempt: the right code still works.
    session_from(&app.api.verify_otp(&token, format!("  {code}")).await);
}

async fn a_replayed_code_is_refused(app: TestApp) {
    let session = app.signed_in_customer("erin").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    app.next_step();
    let code = app.code_now(&secret, 0);
    let first = app.api.login("erin", PASSWORD).await;
    session_from(
        &app.api
            .verify_otp(&first.body["challenge_token"], &code)
            .await,
    );
    let second = app.api.login("erin", PASSWORD).await;
    app.api
        .verify_otp(&second.body["challenge_token"], &code)
        .await
        .assert_problem(400, "invalid_code");
    // An older step inside the window is refused too once a newer one was used.
    app.api
        .verify_otp(&second.body["challenge_token"], app.code_now(&secret, -1))
        .await
        .assert_problem(400, "invalid_code");
}

async fn of_twenty_parallel_requests_with_one_code_exactly_one_wins(app: TestApp) {
    let session = app.signed_in_customer("frank").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let mut challenges = Vec::new();
    for _ in 0..20 {
        challenges.push(app.api.login("frank", PASSWORD).await.body["challenge_token"].clone());
    }
    app.next_step();
    let code = app.code_now(&secret, 0);
    let attempts = challenges
        .iter()
        .map(|challenge| app.api.verify_otp(challenge, &code));
    let replies = futures::future::join_all(attempts).await;
    let winners = replies.iter().filter(|reply| reply.status == 200).count();
    assert_eq!(
        winners,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // Losers are replays, so wrong codes: after ten the account locks, which also ends the
    // challenges still in flight.
    for reply in replies.iter().filter(|reply| reply.status != 200) {
        assert!(
            matches!(
                reply.code(),
                "invalid_code" | "too_many_attempts" | "invalid_challenge"
            ),
            "{}",
            reply.body
        );
    }
}

async fn of_twenty_parallel_requests_with_one_recovery_code_exactly_one_wins(app: TestApp) {
    let session = app.signed_in_customer("grace").await;
    let (_, recovery_codes) = app.enable_two_factor(&session).await;
    let mut challenges = Vec::new();
    for _ in 0..20 {
        challenges.push(app.api.login("grace", PASSWORD).await.body["challenge_token"].clone());
    }
    let attempts = challenges.iter().map(|challenge| {
        app.api
            .otp(json!({"challenge_token": challenge, "recovery_code": recovery_codes[0]}))
    });
    let replies = futures::future::join_all(attempts).await;
    assert_eq!(
        replies.iter().filter(|reply| reply.status == 200).count(),
        1
    );
    let winner = replies.iter().find(|reply| reply.status == 200).unwrap();
    let account = app.api.account(winner.body["access_token"].as_str()).await;
    assert_eq!(account.body["two_factor"]["recovery_codes_remaining"], 9);
}

async fn a_challenge_allows_five_wrong_codes_even_under_parallel_requests(app: TestApp) {
    let session = app.signed_in_customer("heidi").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let challenge = app.api.login("heidi", PASSWORD).await.body["challenge_token"].clone();
    app.next_step();
    let wrong = app.wrong_code(&secret);
    let attempts = (0..50).map(|_| app.api.verify_otp(&challenge, wrong));
    let replies = futures::future::join_all(attempts).await;
    let wrong_code = replies
        .iter()
        .filter(|reply| reply.code() == "invalid_code")
        .count();
    let spent = replies
        .iter()
        .filter(|reply| reply.code() == "challenge_exhausted")
        .count();
    assert_eq!(wrong_code, 5, "exactly five codes are tried per challenge");
    assert_eq!(spent, 45);
    // Even the right code is refused now: the challenge is spent; sign in again.
    app.api
        .verify_otp(&challenge, app.code_now(&secret, 0))
        .await
        .assert_problem(401, "challenge_exhausted");
    let account_id = app.account_id(&session).await;
    let failures = app.consecutive_failures(&format!("otp:{account_id}")).await;
    assert_eq!(
        failures, 5,
        "every wrong code is counted against the account"
    );
}

async fn ten_failed_codes_lock_the_account_and_end_open_challenges(app: TestApp) {
    let session = app.signed_in_customer("ivan").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    app.next_step();
    let wrong = app.wrong_code(&secret);
    let spare = app.api.login("ivan", PASSWORD).await.body["challenge_token"].clone();
    for _ in 0..2 {
        let challenge = app.api.login("ivan", PASSWORD).await.body["challenge_token"].clone();
        for _ in 0..5 {
            app.api
                .verify_otp(&challenge, wrong)
                .await
                .assert_problem(400, "invalid_code");
        }
    }
    // Locked: the spare challenge is dead, and the code step is throttled. The password
    // step is not: wrong codes say nothing about the password.
    app.api
        .verify_otp(&spare, app.code_now(&secret, 0))
        .await
        .assert_problem(401, "invalid_challenge");
    let challenge = app.api.login("ivan", PASSWORD).await.body["challenge_token"].clone();
    let locked = app
        .api
        .verify_otp(&challenge, app.code_now(&secret, 0))
        .await;
    locked.assert_problem(429, "too_many_attempts");
    assert_eq!(locked.retry_after(), Some(30));

    app.clock.advance(TimeDelta::seconds(31));
    let session = app.login_with_code("ivan", &secret).await;
    let events = app
        .api
        .events_page(&session.access_token, "limit=100")
        .await;
    assert_eq!(times_recorded(&events, "otp_failed"), 10);
    assert_eq!(times_recorded(&events, "account_locked"), 1);
    // The spare challenge stays dead after the lock ends.
    app.api
        .verify_otp(&spare, app.code_now(&secret, 1))
        .await
        .assert_problem(401, "invalid_challenge");
}

async fn the_challenge_token_opens_nothing_but_the_code_step(app: TestApp) {
    let session = app.signed_in_customer("judy").await;
    app.enable_two_factor(&session).await;
    let challenge = app.api.login("judy", PASSWORD).await.body["challenge_token"]
        .as_str()
        .unwrap()
        .to_string();
    let token = Some(challenge.as_str());
    app.api
        .account(token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .events(token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .disable_two_factor(token, json!({}))
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .change_password(
            token,
            json!({"current_password": PASSWORD, "new_password": "another password"}),
        )
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .log_out(token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .refresh(json!(challenge))
        .await
        .assert_problem(401, "invalid_refresh_token");
    // And an access token is no challenge.
    app.api
        .verify_otp(&session.access_token, "123456")
        .await
        .assert_problem(401, "invalid_challenge");
}

async fn a_challenge_is_single_use_and_expires_after_five_minutes(app: TestApp) {
    let session = app.signed_in_customer("karl").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let challenge = app.api.login("karl", PASSWORD).await.body["challenge_token"].clone();
    app.next_step();
    session_from(
        &app.api
            .verify_otp(&challenge, app.code_now(&secret, 0))
            .await,
    );
    app.next_step();
    app.api
        .verify_otp(&challenge, app.code_now(&secret, 0))
        .await
        .assert_problem(401, "invalid_challenge");

    let late = app.api.login("karl", PASSWORD).await.body["challenge_token"].clone();
    app.clock.advance(TimeDelta::seconds(301));
    app.api
        .verify_otp(&late, app.code_now(&secret, 0))
        .await
        .assert_problem(401, "invalid_challenge");
}

async fn recovery_codes_sign_in_once_each(app: TestApp) {
    let session = app.signed_in_customer("lena").await;
    let (_, codes) = app.enable_two_factor(&session).await;
    let challenge = app.api.login("lena", PASSWORD).await.body["challenge_token"].clone();
    let signed_in = session_from(
        &app.api
            .otp(json!({"challenge_token": challenge, "recovery_code": codes[3].to_uppercase()}))
            .await,
    );
    assert_eq!(
        claims_of(&signed_in.access_token)["amr"],
        json!(["pwd", "otp"])
    );
    let again = app.api.login("lena", PASSWORD).await.body["challenge_token"].clone();
    app.api
        .otp(json!({"challenge_token": again, "recovery_code": codes[3]}))
        .await
        .assert_problem(400, "invalid_code");
    app.api
        .otp(json!({"challenge_token": again, "recovery_code": "not-a-code"}))
        .await
        .assert_problem(422, "invalid_recovery_code_format");
    session_from(
        &app.api
            .otp(json!({"challenge_token": again, "recovery_code": codes[4].replace('-', "")}))
            .await,
    );
    let events = app.api.events(&signed_in.access_token).await;
    let used = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "recovery_code_used")
        .count();
    assert_eq!(used, 2);
}

async fn privileged_actions_need_fresh_proof_after_ten_minutes(app: TestApp) {
    let session = app.signed_in_customer("mike").await;
    app.clock.advance(TimeDelta::minutes(11));
    let stale = session_from(&app.api.refresh(json!(session.refresh_token)).await);
    let token = Some(stale.access_token.as_str());
    app.api
        .enroll_two_factor(token, json!({}))
        .await
        .assert_problem(403, "reauthentication_required");
    app.api
        .enroll_two_factor(token, json!({"password": "wrong password"}))
        .await
        .assert_problem(400, "invalid_password");
    let enrollment = app
        .api
        .enroll_two_factor(token, json!({"password": PASSWORD}))
        .await;
    let secret = secret_of(enrollment.assert_ok());
    app.api
        .confirm_two_factor(token, json!({"code": app.code_now(&secret, 0)}))
        .await
        .assert_ok();

    // This session signed in with the password only, long ago: disabling needs proof.
    app.api
        .disable_two_factor(token, json!({}))
        .await
        .assert_problem(403, "reauthentication_required");
    app.api
        .regenerate_recovery_codes(token, json!({}))
        .await
        .assert_problem(403, "reauthentication_required");
    app.next_step();
    app.api
        .regenerate_recovery_codes(token, json!({"code": app.code_now(&secret, 0)}))
        .await
        .assert_ok();
    app.api
        .disable_two_factor(token, json!({"code": app.code_now(&secret, 0)}))
        .await
        .assert_problem(400, "invalid_code");
    app.api
        .disable_two_factor(token, json!({"code": "1", "password": PASSWORD}))
        .await
        .assert_problem(422, "validation_failed");
    // With two-factor on, a password alone never proves enough to remove the second factor.
    app.api
        .disable_two_factor(token, json!({"password": PASSWORD}))
        .await
        .assert_problem(403, "reauthentication_required");
    app.next_step();
    let disabled = app
        .api
        .disable_two_factor(token, json!({"code": app.code_now(&secret, 0)}))
        .await;
    assert_eq!(disabled.assert_ok(), &json!({"enabled": false}));

    // A fresh full sign-in opens the window again.
    let fresh = session_from(&app.api.login("mike", PASSWORD).await);
    app.api
        .enroll_two_factor(&fresh.access_token, json!({}))
        .await
        .assert_ok();
}

async fn disable_wipes_the_secret_and_codes_and_re_enabling_uses_the_new_secret(app: TestApp) {
    let session = app.signed_in_customer("nina").await;
    let (old_secret, old_codes) = app.enable_two_factor(&session).await;
    let full = app.login_with_code("nina", &old_secret).await;
    let other = app.login_with_code("nina", &old_secret).await;
    let disabled = app
        .api
        .disable_two_factor(&full.access_token, json!({}))
        .await;
    assert_eq!(disabled.assert_ok(), &json!({"enabled": false}));
    app.api
        .account(&other.access_token)
        .await
        .assert_problem(401, "invalid_token");
    let account = app.api.account(&full.access_token).await;
    assert_eq!(
        account.body["two_factor"],
        json!({"enabled": false, "enabled_at": null, "recovery_codes_remaining": 0, "methods": [], "required": false, "setup_required": false})
    );
    app.api
        .disable_two_factor(&full.access_token, json!({}))
        .await
        .assert_problem(409, "two_factor_not_enabled");
    assert_eq!(
        app.api.login("nina", PASSWORD).await.body["status"],
        "authenticated"
    );

    let (new_secret, _) = app.enable_two_factor(&full).await;
    assert_ne!(new_secret, old_secret);
    let challenge = app.api.login("nina", PASSWORD).await.body["challenge_token"].clone();
    app.next_step();
    app.api
        .otp(json!({"challenge_token": challenge, "recovery_code": old_codes[0]}))
        .await
        .assert_problem(400, "invalid_code");
    app.api
        .verify_otp(&challenge, app.code_now(&old_secret, 0))
        .await
        .assert_problem(400, "invalid_code");
    session_from(
        &app.api
            .verify_otp(&challenge, app.code_now(&new_secret, 0))
            .await,
    );
    let events = app.api.events(&full.access_token).await;
    let kinds = event_kinds(&events);
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "two_factor_enabled")
            .count(),
        2
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == "two_factor_disabled")
            .count(),
        1
    );
}

async fn regenerating_recovery_codes_voids_the_old_ones(app: TestApp) {
    let session = app.signed_in_customer("olga").await;
    let (secret, old_codes) = app.enable_two_factor(&session).await;
    let full = app.login_with_code("olga", &secret).await;
    let reply = app
        .api
        .regenerate_recovery_codes(&full.access_token, json!({}))
        .await;
    let new_codes: Vec<String> = reply.assert_ok()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|code| !old_codes.contains(code)));
    let challenge = app.api.login("olga", PASSWORD).await.body["challenge_token"].clone();
    app.api
        .otp(json!({"challenge_token": challenge, "recovery_code": old_codes[0]}))
        .await
        .assert_problem(400, "invalid_code");
    session_from(
        &app.api
            .otp(json!({"challenge_token": challenge, "recovery_code": new_codes[0]}))
            .await,
    );
}

async fn enabling_two_factor_signs_out_other_sessions_and_keeps_this_one_with_both_factors(
    app: TestApp,
) {
    let first = app.signed_in_customer("pete").await;
    let second = session_from(&app.api.login("pete", PASSWORD).await);
    app.enable_two_factor(&first).await;
    app.api
        .account(&second.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .refresh(json!(second.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
    // The enabling session continues, and its refreshed tokens carry both factors.
    let refreshed = session_from(&app.api.refresh(json!(first.refresh_token)).await);
    assert_eq!(
        claims_of(&refreshed.access_token)["amr"],
        json!(["pwd", "otp"])
    );
}

/// Reads the QR code the way a phone camera would: rasterise the SVG (unit squares on a white
/// field, with the quiet zone) and decode it with an independent decoder.
fn decode_qr_svg(svg: &str) -> String {
    let size: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|number| number.parse().ok())
        .expect("square viewBox");
    let path = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut dark = vec![vec![false; size]; size];
    for square in path.split('M').filter(|part| !part.is_empty()) {
        let (x, y) = square.trim_end_matches("h1v1h-1z").split_once(' ').unwrap();
        dark[y.parse::<usize>().unwrap()][x.parse::<usize>().unwrap()] = true;
    }
    let scale = 4;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(size * scale, size * scale, |x, y| {
            if dark[y / scale][x / scale] {
                0
            } else {
                255
            }
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("decodes").1
}

async fn wrong_confirmation_codes_count_toward_the_lock_out(app: TestApp) {
    let session = app.signed_in_customer("quentin").await;
    let token = Some(session.access_token.as_str());
    let secret = secret_of(
        app.api
            .enroll_two_factor(token, json!({}))
            .await
            .assert_ok(),
    );
    let wrong = app.wrong_code(&secret);
    for _ in 0..10 {
        app.api
            .confirm_two_factor(token, json!({"code": wrong}))
            .await
            .assert_problem(400, "invalid_code");
    }
    let locked = app
        .api
        .confirm_two_factor(token, json!({"code": app.code_now(&secret, 0)}))
        .await;
    locked.assert_problem(429, "too_many_attempts");
    assert!(locked.retry_after().is_some());
}

async fn a_password_only_session_is_refused_once_the_account_has_two_factor(app: TestApp) {
    // A sign-in that raced the switch could leave such a session; it must open nothing.
    let session = app.signed_in_customer("rachel").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let full = app.login_with_code("rachel", &secret).await;
    let session_id = claims_of(&full.access_token)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    app.state
        .database
        .run(move |connection| custadmin::db::sessions::set_amr(connection, &session_id, &["pwd"]))
        .await
        .unwrap();
    app.api
        .account(&full.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .refresh(json!(full.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
}
