//! `custadmin keys`: the secret-encryption key rotated while customers sign in with codes on
//! two instances (each batch of the re-sealing its own transaction, interrupted and resumed),
//! recovery codes hashed under the old key still accepted after it is retired, and the signing
//! key rotated and retired without signing anyone out early. The instances share the keys
//! folder; the one that did not rotate reads it again when a value or token names a key it
//! lacks.

use std::time::SystemTime;

use custadmin::auth::totp::TotpSecret;
use custadmin::db::sealed_values::SealedColumn;
use custadmin::service::keys::{self, KeyCommandError, RotationStart};
use custadmin::service::AppState;
use custadmin_client::{Client, StatusCode};
use serde_json::json;

use crate::helpers::{session_from, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    the_encryption_key_rotates_while_customers_sign_in_on_two_instances,
    the_signing_key_rotates_and_retires_without_a_restart,
);

/// A customer with two-factor on.
struct Customer {
    username: String,
    secret: TotpSecret,
    recovery_codes: Vec<String>,
}

async fn customers(app: &TestApp, count: usize) -> Vec<Customer> {
    let mut customers = Vec::new();
    for index in 0..count {
        let username = format!("rotating{index}");
        let session = app.signed_in_customer(&username).await;
        // With an address, switching two-factor on queues a notice: a sealed mail body.
        let id = app.account_id(&session).await;
        app.verify_address(&id, &format!("{username}@example.com"))
            .await;
        let (secret, recovery_codes) = app.enable_two_factor(&session).await;
        customers.push(Customer {
            username,
            secret,
            recovery_codes,
        });
    }
    customers
}

/// Signs in with password and the current code on `api` (the step must be unused).
async fn sign_in_with_code(app: &TestApp, api: &Client, customer: &Customer) -> StatusCode {
    let challenge = api.login(&customer.username, PASSWORD).await;
    assert_eq!(challenge.assert_ok()["status"], "otp_required");
    let reply = api
        .verify_otp(
            &challenge.body["challenge_token"],
            app.code_now(&customer.secret, 0),
        )
        .await;
    reply.status
}

async fn sign_in_with_recovery_code(api: &Client, customer: &Customer, code: &str) {
    let challenge = api.login(&customer.username, PASSWORD).await;
    let reply = api
        .otp(json!({
            "challenge_token": challenge.assert_ok()["challenge_token"],
            "recovery_code": code,
        }))
        .await;
    session_from(&reply);
}

async fn sealed_under(state: &AppState, id: u32) -> (i64, i64) {
    let status = keys::status(state, SystemTime::now()).await.unwrap();
    let key = status
        .encryption
        .iter()
        .find(|key| key.id == id)
        .unwrap_or_else(|| panic!("k{id} in {:?}", status.encryption));
    (key.uses.sealed_total(), key.uses.recovery_codes)
}

async fn the_encryption_key_rotates_while_customers_sign_in_on_two_instances(app: TestApp) {
    let (other, other_state) = app.second_instance_with_state().await;
    let customers = customers(&app, 6).await;
    // One enrolment left pending: its secret is sealed too.
    let pending = app.signed_in_customer("pending").await;
    app.api
        .enroll_two_factor(&pending.access_token, json!({}))
        .await
        .assert_ok();
    let (sealed, codes) = sealed_under(&app.state, 1).await;
    let status = keys::status(&app.state, SystemTime::now()).await.unwrap();
    let uses = &status.encryption[0].uses;
    assert_eq!(uses.sealed[0], (SealedColumn::TotpSecret, 6));
    assert_eq!(uses.sealed[1], (SealedColumn::PendingTotpSecret, 1));
    assert!(uses.sealed[2].1 > 0, "queued mails are sealed: {uses:?}");
    assert_eq!(codes, 60);

    // A new key, then a re-sealing that stops after one batch of two (a crash).
    let started = keys::start_encryption_rotation(&app.state).await.unwrap();
    assert_eq!(started, RotationStart::NewKey(2));
    assert_eq!(app.state.secret_box.current_key_id(), 2);
    assert_eq!(other_state.secret_box.current_key_id(), 1, "not read yet");
    let report = keys::reseal_all(&app.state, 2, |_, _| false).await.unwrap();
    assert_eq!((report.resealed, report.batches), (2, 1));
    assert_eq!(sealed_under(&app.state, 1).await.0, sealed - 2);
    assert_eq!(sealed_under(&app.state, 2).await.0, 2);
    // Running the command again finishes this rotation rather than making k3.
    assert_eq!(
        keys::start_encryption_rotation(&app.state).await.unwrap(),
        RotationStart::Unfinished(2)
    );
    assert_eq!(app.state.secret_box.key_ids(), vec![(1, true), (2, true)]);

    // Half way: every customer signs in with a code on either instance. The other instance
    // meets secrets sealed under k2 and reads the folder again.
    for api in [&other, &app.api] {
        app.next_step();
        for customer in &customers {
            assert_eq!(sign_in_with_code(&app, api, customer).await, StatusCode::OK);
        }
    }
    assert_eq!(other_state.secret_box.current_key_id(), 2);

    // Run again (what re-running the command does) with one value a batch, while customers
    // keep signing in on both instances.
    let rotating = {
        let state = app.state.clone();
        tokio::spawn(async move { keys::reseal_all(&state, 1, |_, _| true).await })
    };
    let mut rounds = 0;
    while !rotating.is_finished() || rounds < 2 {
        app.next_step();
        for (index, customer) in customers.iter().enumerate() {
            let api = if (index + rounds) % 2 == 0 {
                &other
            } else {
                &app.api
            };
            assert_eq!(
                sign_in_with_code(&app, api, customer).await,
                StatusCode::OK,
                "round {rounds}, {}",
                customer.username
            );
        }
        rounds += 1;
    }
    let report = rotating.await.unwrap().unwrap();
    assert!(report.unreadable.is_empty(), "{report:?}");
    assert_eq!(
        sealed_under(&app.state, 1).await.0,
        0,
        "nothing sealed uses k1"
    );
    // Sign-ins queued notices meanwhile, sealed under k2 by both instances.
    assert!(sealed_under(&app.state, 2).await.0 >= sealed);
    assert_eq!(
        sealed_under(&app.state, 1).await.1,
        60,
        "codes stay hashed under k1"
    );

    // Retiring waits for tokens sealed under k1 to expire, then keeps k1's hashing part.
    let refused = keys::retire_encryption(&app.state, SystemTime::now()).await;
    assert!(
        matches!(refused, Err(KeyCommandError::Refused(_))),
        "{refused:?}"
    );
    let later = SystemTime::now() + keys::encryption_retirement_wait();
    let retired = keys::retire_encryption(&app.state, later).await.unwrap();
    assert_eq!(retired.hashing_parts_kept, vec![("k1".to_string(), 60)]);
    let folder = app.state.settings.keys_dir();
    assert!(!folder.join("secret-encryption.key").exists());
    assert!(folder.join("recovery-hashing-k1.key").exists());
    assert_eq!(app.state.secret_box.key_ids(), vec![(1, false), (2, true)]);

    // Both instances (the other reads the folder now, as it does every few seconds) still
    // accept codes, and recovery codes hashed under k1.
    other_state.key_reloader.reload().unwrap();
    assert_eq!(
        other_state.secret_box.key_ids(),
        vec![(1, false), (2, true)]
    );
    app.next_step();
    for (index, customer) in customers.iter().enumerate() {
        let api = if index % 2 == 0 { &other } else { &app.api };
        assert_eq!(sign_in_with_code(&app, api, customer).await, StatusCode::OK);
        sign_in_with_recovery_code(api, customer, &customer.recovery_codes[0]).await;
    }
    assert_eq!(sealed_under(&app.state, 1).await.1, 54);

    // New recovery codes are hashed under k2; once no code of k1's is unused, the next
    // retirement drops its hashing part too.
    for customer in &customers {
        let session = app
            .login_with_code(&customer.username, &customer.secret)
            .await;
        app.api
            .regenerate_recovery_codes(&session.access_token, json!({}))
            .await
            .assert_ok();
    }
    assert_eq!(sealed_under(&app.state, 1).await.1, 0);
    assert_eq!(sealed_under(&app.state, 2).await.1, 60);
    let retired = keys::retire_encryption(&app.state, later).await.unwrap();
    assert_eq!(retired.dropped, vec!["k1".to_string()]);
    assert!(!folder.join("recovery-hashing-k1.key").exists());
    assert_eq!(app.state.secret_box.key_ids(), vec![(2, true)]);
}

async fn the_signing_key_rotates_and_retires_without_a_restart(app: TestApp) {
    let (other, other_state) = app.second_instance_with_state().await;
    let before = app.signed_in_customer("signing").await;
    let old_kid = app.state.token_keys.kid();
    let old_rsa_kid = app.state.oidc_keys.rsa_kid();

    // Both rings rotate together: the Ed25519 key and the OpenID Connect RSA key.
    let rotation = keys::rotate_signing(&app.state).await.unwrap();
    let (number, new_kid) = rotation.ed25519.clone();
    assert_eq!(number, 2);
    assert_ne!(new_kid, old_kid);
    let (rsa_number, new_rsa_kid) = rotation.rsa.clone();
    assert_eq!(rsa_number, 2);
    assert_ne!(new_rsa_kid, old_rsa_kid);
    assert_eq!(app.state.oidc_keys.rsa_kid(), new_rsa_kid);
    assert_eq!(other_state.token_keys.kid(), old_kid, "not read yet");
    let after = session_from(&app.api.login("signing", PASSWORD).await);
    // The other instance verifies a token of the key it has not read yet by reading it.
    other.account(&after.access_token).await.assert_ok();
    assert_eq!(other_state.token_keys.kid(), new_kid);
    for api in [&app.api, &other] {
        api.account(&before.access_token).await.assert_ok();
        let jwks = api.jwks().await;
        let kids: Vec<&str> = jwks.assert_ok()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap())
            .collect();
        assert_eq!(
            kids,
            vec![
                new_kid.as_str(),
                old_kid.as_str(),
                new_rsa_kid.as_str(),
                old_rsa_kid.as_str()
            ]
        );
    }
    assert_eq!(other_state.oidc_keys.rsa_kid(), new_rsa_kid);

    // Retiring waits out the access tokens of the old key, unless told to end them now.
    let refused = keys::retire_signing(&app.state, SystemTime::now(), false).await;
    assert!(
        matches!(refused, Err(KeyCommandError::Refused(_))),
        "{refused:?}"
    );
    let later = SystemTime::now() + keys::signing_retirement_wait();
    let retired = keys::retire_signing(&app.state, later, false)
        .await
        .unwrap();
    assert_eq!(retired.dropped.len(), 2, "one key of each ring");
    other_state.key_reloader.reload().unwrap();
    for api in [&app.api, &other] {
        // Verified (and cached) before, refused now.
        assert_eq!(
            api.account(&before.access_token).await.status,
            StatusCode::UNAUTHORIZED
        );
        api.account(&after.access_token).await.assert_ok();
        assert_eq!(
            api.jwks().await.assert_ok()["keys"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
    // The refresh token is opaque: the customer signed in before carries on.
    let refreshed = session_from(&app.api.refresh(json!(before.refresh_token)).await);
    other.account(&refreshed.access_token).await.assert_ok();
}
