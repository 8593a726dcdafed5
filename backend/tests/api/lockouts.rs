//! Lock-outs a stranger cannot cause: known devices, per-network password counters, the
//! account-wide ceiling, and the per-network limit, played from many addresses through a
//! trusted proxy.

use crate::helpers::{session_from, TestApp, PASSWORD};
use crate::on_both_databases;

const BEHIND_PROXY: &[(&str, &str)] = &[
    ("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32"),
    // Bursts here test the counters, not the hashing queue's overload answer.
    ("CUSTADMIN_HASHING_QUEUE_LIMIT", "1000"),
];

on_both_databases!(
    with BEHIND_PROXY;
    a_stranger_cannot_lock_the_owner_s_known_device_out,
    wrong_passwords_from_one_network_lock_only_that_network,
    a_known_device_has_its_own_counter,
    the_network_limit_holds_exactly_under_a_parallel_burst,
    one_browser_stays_a_known_device_of_each_of_its_accounts,
    a_known_device_is_exempt_from_its_network_s_limit_at_both_steps,
);

const OWNER_HOME: &str = "192.0.2.10";
const STRANGER_ELSEWHERE: &str = "203.0.113.99";

/// The owner signs in once at home, so the browser (here: the API client) is a known device.
async fn owner_with_known_device(app: &TestApp, username: &str) -> (String, String) {
    app.register(username).await;
    let first = app.login_from(OWNER_HOME, username, PASSWORD, None).await;
    let session = session_from(&first);
    let device_token = first.body["device_token"]
        .as_str()
        .expect("a full sign-in makes the client a known device")
        .to_string();
    (device_token, session.access_token)
}

async fn a_stranger_cannot_lock_the_owner_s_known_device_out(app: TestApp) {
    let (device_token, access_token) = owner_with_known_device(&app, "olivia").await;
    let (secret, _) = app
        .enable_two_factor(&crate::helpers::Session {
            access_token,
            refresh_token: String::new(),
        })
        .await;
    // The attacker: 200 wrong passwords from 20 addresses (10 each, the per-network limit).
    let mut refused_by_ceiling = 0;
    let mut checked = 0;
    for attempt in 0..200 {
        let address = format!("198.51.100.{}", attempt % 20 + 1);
        let reply = app
            .login_from(&address, "olivia", "wrong password", None)
            .await;
        match reply.status.as_u16() {
            401 => checked += 1,
            429 => refused_by_ceiling += 1,
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(
        checked, 100,
        "the ceiling lets 100 wrong passwords be checked"
    );
    assert_eq!(refused_by_ceiling, 100);

    // The owner's known device signs in at once with the right password and code.
    let challenge = app
        .login_from(OWNER_HOME, "olivia", PASSWORD, Some(&device_token))
        .await;
    assert_eq!(
        challenge.assert_ok()["status"],
        "otp_required",
        "{}",
        challenge.body
    );
    app.next_step();
    let signed_in = app
        .api
        .verify_otp(&challenge.body["challenge_token"], app.code_now(&secret, 0))
        .await;
    let session = session_from(&signed_in);
    assert!(
        signed_in.body.get("device_token").is_none(),
        "a known device keeps its token"
    );

    // An unknown device, from yet another address, is held back by the ceiling.
    let stranger = app
        .login_from(STRANGER_ELSEWHERE, "olivia", PASSWORD, None)
        .await;
    stranger.assert_problem(429, "too_many_attempts");
    let retry_after = stranger.retry_after().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    // The account's events show the attack.
    let events = app
        .api
        .events_page(&session.access_token, "limit=200")
        .await;
    assert_eq!(crate::helpers::times_recorded(&events, "login_failed"), 100);

    // When the window has passed, strangers may try again.
    app.clock.advance(chrono::TimeDelta::minutes(16));
    let later = app
        .login_from(STRANGER_ELSEWHERE, "olivia", PASSWORD, None)
        .await;
    assert_eq!(later.assert_ok()["status"], "otp_required");
}

async fn wrong_passwords_from_one_network_lock_only_that_network(app: TestApp) {
    app.register("paul").await;
    for _ in 0..10 {
        app.login_from("198.51.100.1", "paul", "wrong password", None)
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let locked = app.login_from("198.51.100.1", "paul", PASSWORD, None).await;
    locked.assert_problem(429, "too_many_attempts");
    assert_eq!(locked.retry_after(), Some(30));
    // IPv6: the whole /64 is one network.
    for host in 1..=10 {
        app.login_from(&format!("2001:db8:1:2::{host}"), "paul", "wrong", None)
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login_from("2001:db8:1:2::ffff", "paul", PASSWORD, None)
        .await
        .assert_problem(429, "too_many_attempts");
    // Another network is not held back, and its success resets only its own counter.
    session_from(
        &app.login_from("2001:db8:9::1", "paul", PASSWORD, None)
            .await,
    );
    app.login_from("198.51.100.1", "paul", PASSWORD, None)
        .await
        .assert_problem(429, "too_many_attempts");
}

async fn a_known_device_has_its_own_counter(app: TestApp) {
    let (device_token, _) = owner_with_known_device(&app, "quinn").await;
    // The owner's own typos from the known device lock the device, not the username.
    for _ in 0..10 {
        app.login_from(OWNER_HOME, "quinn", "typo", Some(&device_token))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login_from(OWNER_HOME, "quinn", PASSWORD, Some(&device_token))
        .await
        .assert_problem(429, "too_many_attempts");
    // Without the device, the same network still has its own counter untouched.
    session_from(&app.login_from(OWNER_HOME, "quinn", PASSWORD, None).await);
    // A token of another account is no known device of this one.
    let (other_token, _) = owner_with_known_device(&app, "rita").await;
    for _ in 0..10 {
        app.login_from("198.51.100.5", "quinn", "wrong", Some(&other_token))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login_from("198.51.100.5", "quinn", PASSWORD, Some(&other_token))
        .await
        .assert_problem(429, "too_many_attempts");
}

async fn the_network_limit_holds_exactly_under_a_parallel_burst(app: TestApp) {
    // 150 wrong passwords for 150 names (no name reaches its own limit), all at once.
    let attempts = (0..150).map(|n| {
        let app = &app;
        async move {
            app.login_from("198.51.100.77", &format!("nobody{n}"), "wrong", None)
                .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    let checked = replies.iter().filter(|reply| reply.status == 401).count();
    let throttled = replies.iter().filter(|reply| reply.status == 429).count();
    let others: Vec<_> = replies
        .iter()
        .filter(|reply| reply.status != 401 && reply.status != 429)
        .map(|reply| reply.body.to_string())
        .collect();
    assert!(others.is_empty(), "only 401 and 429: {others:?}");
    assert_eq!(checked + throttled, 150);
    assert_eq!(
        checked, 100,
        "exactly 100 failures per network in 15 minutes"
    );
}

async fn one_browser_stays_a_known_device_of_each_of_its_accounts(app: TestApp) {
    let (device_token, _) = owner_with_known_device(&app, "sara").await;
    // A second account signed in on the same browser gets a token of its own: a token is
    // never shared between accounts (the browser's cookie keeps both).
    app.register("sara-work").await;
    let second = app
        .login_from(OWNER_HOME, "sara-work", PASSWORD, Some(&device_token))
        .await;
    session_from(&second);
    let work_token = second.body["device_token"]
        .as_str()
        .expect("a token of its own")
        .to_string();
    assert_ne!(work_token, device_token);
    // Strangers fill the first account's ceiling; the browser still signs in to both.
    for attempt in 0..100 {
        let address = format!("198.51.100.{}", attempt % 20 + 1);
        app.login_from(&address, "sara", "wrong", None).await;
    }
    app.login_from(STRANGER_ELSEWHERE, "sara", PASSWORD, None)
        .await
        .assert_problem(429, "too_many_attempts");
    for (account, token) in [("sara", &device_token), ("sara-work", &work_token)] {
        session_from(
            &app.login_from(OWNER_HOME, account, PASSWORD, Some(token))
                .await,
        );
    }
}

async fn a_known_device_is_exempt_from_its_network_s_limit_at_both_steps(app: TestApp) {
    const SHARED_ADDRESS: &str = "198.51.100.200";
    app.register("tom").await;
    let first = app.login_from(SHARED_ADDRESS, "tom", PASSWORD, None).await;
    let device_token = first.body["device_token"].as_str().unwrap().to_string();
    let (secret, _) = app.enable_two_factor(&session_from(&first)).await;
    // Someone behind the same address spends its failures on made-up names.
    for n in 0..100 {
        app.login_from(SHARED_ADDRESS, &format!("made-up-{n}"), "wrong", None)
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login_from(SHARED_ADDRESS, "tom", PASSWORD, None)
        .await
        .assert_problem(429, "too_many_attempts");
    // The owner's known device gets through the password and the code step.
    let challenge = app
        .login_from(SHARED_ADDRESS, "tom", PASSWORD, Some(&device_token))
        .await;
    app.next_step();
    let reply = app
        .api
        .verify_otp(&challenge.body["challenge_token"], app.code_now(&secret, 0))
        .from_ip(SHARED_ADDRESS)
        .await;
    session_from(&reply);
}
