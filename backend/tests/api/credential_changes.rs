//! The credential-change table (`service::credential_change`), cell by cell, through the API:
//! for each change, an account holds one of everything a change may end (another session, a
//! remembered device and a session it opened, an API token, a pending address change, an open
//! reset link, an open passkey ceremony, a sign-in waiting for its code); the change is made
//! over HTTP; then each is probed and must be ended exactly when the table says so. After a
//! not-me report the password signs in no more: that probe signs in with a passkey.

use custadmin::auth::totp::TotpSecret;
use custadmin::service::credential_change::{CredentialChange, Trust};
use serde_json::{json, Value};

use crate::email::mails_within_two_seconds;
use crate::helpers::{session_from, Session, TestApp, PASSWORD};
use crate::on_both_databases;
use crate::passkeys::{add_passkey, sign_in_with_passkey_alone, Authenticator};
use crate::support::support_agent;

on_both_databases!(every_credential_change_ends_what_its_row_of_the_table_says);

const NEW_PASSWORD: &str = "a new and longer password";
const OLD_ADDRESS: &str = "owner@example.com";
const NEW_ADDRESS: &str = "owner@new.example";

/// One account holding one of everything a credential change may end.
struct World {
    username: String,
    account_id: String,
    secret: Option<TotpSecret>,
    /// The session that makes the change (signed in moments ago: inside the window).
    actor: Session,
    other: Session,
    device_token: Option<String>,
    /// Opened by the remembered device without a code (`amr` `mfa`).
    via_trust: Option<Session>,
    api_token: String,
    pending_link: String,
    reset_link: String,
    /// The "this wasn't me" link of the notice the old address got of the pending change.
    not_me_link: String,
    /// A sign-in past its password step.
    challenge: Option<Value>,
    passkey: Option<(Authenticator, String)>,
}

async fn every_credential_change_ends_what_its_row_of_the_table_says(app: TestApp) {
    for (n, change) in CredentialChange::ALL.into_iter().enumerate() {
        let mut world = world(&app, &format!("owner{n}"), change).await;
        let password = make(&app, &mut world, change).await;
        probe(&app, &mut world, change, password).await;
    }
}

/// Sets up the account `username` for `change`.
async fn world(app: &TestApp, username: &str, change: CredentialChange) -> World {
    // A new hour: the client network's hourly reset-request allowance starts again.
    app.clock.advance(chrono::TimeDelta::hours(1));
    let address = format!("{username}.{OLD_ADDRESS}");
    let actor = app.signed_in_customer(username).await;
    let account_id = app.account_id(&actor).await;
    app.verify_address(&account_id, &address).await;
    // Every change but switching two-factor on starts from an account that has it.
    let two_factor = change != CredentialChange::TwoFactorSwitchedOn;
    let secret = if two_factor {
        Some(app.enable_two_factor(&actor).await.0)
    } else {
        None
    };
    let passkey = if matches!(
        change,
        CredentialChange::PasskeyRemoved | CredentialChange::NotMe
    ) {
        let mut authenticator = Authenticator::new(app);
        let added = add_passkey(app, &actor, &mut authenticator, "Spare key").await;
        assert_eq!(added.status, 201, "{}", added.body);
        let id = added.body["id"].as_str().unwrap().to_string();
        Some((authenticator, id))
    } else {
        None
    };
    let (other, device_token, via_trust) = match &secret {
        Some(secret) => {
            let other = app.login_with_code(username, secret).await;
            let challenge = app.api.login(username, PASSWORD).await;
            app.next_step();
            let remembered = app
                .api.otp(json!({"challenge_token": challenge.body["challenge_token"], "code": app.code_now(secret, 0), "remember_device": true}))
                .await;
            let device_token = remembered.body["device_token"]
                .as_str()
                .unwrap()
                .to_string();
            let via_trust = app.api.log_in(json!({"username": username, "password": PASSWORD, "device_token": device_token}))
                .await;
            let via_trust = session_from(&via_trust);
            (other, Some(device_token), Some(via_trust))
        }
        None => (
            session_from(&app.api.login(username, PASSWORD).await),
            None,
            None,
        ),
    };
    let api_token = app
        .api
        .create_api_token(
            &actor.access_token,
            json!({"name": "script", "scopes": ["account:read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(api_token.status, 201, "{}", api_token.body);
    let api_token = api_token.body["token"].as_str().unwrap().to_string();
    app.mails().await;
    let pending = app
        .api
        .change_email(
            &actor.access_token,
            json!({"email": format!("{username}.{NEW_ADDRESS}")}),
        )
        .await;
    assert_eq!(pending.status, 202, "{}", pending.body);
    let mails = app.mails().await;
    let pending_link = mails
        .iter()
        .find(|mail| mail.to.ends_with(NEW_ADDRESS))
        .expect("the new address's link")
        .link_token();
    let not_me_link = mails
        .iter()
        .find(|mail| mail.to.ends_with(OLD_ADDRESS))
        .expect("the old address's notice")
        .not_me_token();
    app.api
        .request_password_reset(json!({"login": username}))
        .await;
    let reset_link = mails_within_two_seconds(app, 1).await[0].link_token();
    // A passkey registration started by the other session and not finished.
    let started = app
        .api
        .start_passkey_registration(&other.access_token, json!({"name": "Unfinished"}))
        .await;
    started.assert_ok();
    let challenge = if two_factor {
        let challenge = app.api.login(username, PASSWORD).await;
        Some(challenge.body["challenge_token"].clone())
    } else {
        None
    };
    World {
        username: username.to_string(),
        account_id,
        secret,
        actor,
        other,
        device_token,
        via_trust,
        api_token,
        pending_link,
        reset_link,
        not_me_link,
        challenge,
        passkey,
    }
}

/// Makes the change over HTTP; answers the password the account has afterwards.
async fn make(app: &TestApp, world: &mut World, change: CredentialChange) -> &'static str {
    let actor = Some(world.actor.access_token.as_str());
    let reply = match change {
        CredentialChange::PasswordChanged => {
            let reply = app
                .api
                .change_password(
                    actor,
                    json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
                )
                .await;
            reply.assert_ok();
            return NEW_PASSWORD;
        }
        CredentialChange::PasswordReset => {
            app.next_step();
            let secret = world.secret.as_ref().unwrap();
            let reply = app.api.confirm_password_reset(json!({"token": world.reset_link, "new_password": NEW_PASSWORD, "code": app.code_now(secret, 0)}))
                .await;
            assert_eq!(reply.status, 204, "{}", reply.body);
            return NEW_PASSWORD;
        }
        CredentialChange::TwoFactorSwitchedOn => {
            world.secret = Some(app.enable_two_factor(&world.actor).await.0);
            return PASSWORD;
        }
        CredentialChange::SecondFactorAdded => {
            let mut authenticator = Authenticator::new(app);
            add_passkey(app, &world.actor, &mut authenticator, "New key").await
        }
        CredentialChange::TwoFactorSwitchedOff => {
            app.api.disable_two_factor(actor, json!({})).await
        }
        CredentialChange::PasskeyRemoved => {
            let (_, id) = world.passkey.as_ref().unwrap();
            app.api.remove_passkey(actor, id, Some(json!({}))).await
        }
        CredentialChange::RecoveryCodesRegenerated => {
            app.api.regenerate_recovery_codes(actor, json!({})).await
        }
        CredentialChange::EmailChanged => {
            app.api
                .verify_email(json!({"token": world.pending_link}))
                .await
        }
        CredentialChange::SupportReset => {
            let agent = support_agent(app, &format!("{}-agent", world.username)).await;
            app.api
                .reset_customer_two_factor(
                    &agent.access_token,
                    &world.account_id,
                    json!({"reason": "Lost phone; identity checked by callback"}),
                )
                .await
        }
        CredentialChange::SignOutEverywhere => app.api.revoke_other_sessions(actor).await,
        CredentialChange::NotMe => app.api.not_me(json!({"token": world.not_me_link})).await,
    };
    assert!(
        reply.status.is_success(),
        "{change:?}: {} {}",
        reply.status,
        reply.body
    );
    PASSWORD
}

/// Probes each kind of access and compares with the table's row.
async fn probe(app: &TestApp, world: &mut World, change: CredentialChange, password: &str) {
    let ends = change.ends();
    let alive = |reply: &crate::helpers::Reply| match reply.status.as_u16() {
        200 => true,
        401 => false,
        status => panic!("{change:?}: unexpected {status}: {}", reply.body),
    };

    let other_alive = alive(&app.api.account(&world.other.access_token).await);
    assert_eq!(
        other_alive, !ends.other_sessions,
        "{change:?}: other sessions"
    );

    let api_token_alive = alive(&app.api.account(&world.api_token).await);
    assert_eq!(api_token_alive, !ends.api_tokens, "{change:?}: API tokens");

    // Trust: the session it opened, and what the device list says now.
    if let Some(via_trust) = &world.via_trust {
        let alive = alive(&app.api.account(&via_trust.access_token).await);
        let expected = ends.trust == Trust::Keep && !ends.other_sessions;
        assert_eq!(alive, expected, "{change:?}: sessions opened by trust");
    }
    if change == CredentialChange::NotMe {
        app.api
            .login(&world.username, password)
            .await
            .assert_problem(403, "password_sign_in_blocked");
    }
    let fresh = sign_in(app, world, password).await;
    let devices = app.api.devices(&fresh.access_token).await;
    let devices = devices.assert_ok()["devices"].as_array().unwrap().clone();
    let trusted = devices
        .iter()
        .filter(|device| device["trusted_until"].is_string())
        .count();
    match ends.trust {
        Trust::Keep if world.device_token.is_some() => {
            assert_eq!(trusted, 1, "{change:?}: trust kept")
        }
        Trust::Keep => {}
        Trust::EveryDevice | Trust::EveryDeviceButCallers => {
            // The actor's device was never trusted: none is left.
            assert_eq!(trusted, 0, "{change:?}: trust ended: {devices:?}")
        }
        Trust::ForgetEveryDevice => {
            // Only the probe's own sign-in is known now.
            assert_eq!(
                devices.len(),
                1,
                "{change:?}: devices forgotten: {devices:?}"
            )
        }
    }
    if let (Some(token), true, Some(_)) = (
        &world.device_token,
        ends.trust == Trust::Keep,
        &world.secret,
    ) {
        let reply = app
            .api
            .log_in(
                json!({"username": world.username, "password": password, "device_token": token}),
            )
            .await;
        assert_eq!(reply.body["status"], "authenticated", "{change:?}");
    }

    let overview = app.api.account(&fresh.access_token).await;
    let pending = overview.assert_ok()["pending_email"].is_string();
    assert_eq!(
        pending,
        !ends.pending_email_change && change != CredentialChange::EmailChanged,
        "{change:?}: pending address"
    );
    let verified = app
        .api
        .verify_email(json!({"token": world.pending_link}))
        .await;
    if change != CredentialChange::EmailChanged {
        assert_eq!(
            verified.status.as_u16() == 400,
            ends.pending_email_change,
            "{change:?}: pending address's link: {}",
            verified.body
        );
    }

    let ceremonies = open_ceremonies(app, &world.account_id).await;
    assert_eq!(
        ceremonies == 0,
        ends.webauthn_ceremonies,
        "{change:?}: ceremonies"
    );

    if let (Some(challenge), Some(secret)) = (&world.challenge, &world.secret) {
        app.next_step();
        let reply = app.api.verify_otp(challenge, app.code_now(secret, 0)).await;
        let usable = reply.status == 200;
        let factor_gone = matches!(
            change,
            CredentialChange::TwoFactorSwitchedOff | CredentialChange::SupportReset
        );
        assert_eq!(
            usable,
            !ends.sign_in_challenges && !factor_gone,
            "{change:?}: sign-in waiting for its code: {}",
            reply.body
        );
    }

    // Last, as a live link would reset the password.
    let reset = app.api.confirm_password_reset(json!({"token": world.reset_link, "new_password": "yet another password", "recovery_code": "aaaaa-aaaaa"}))
        .await;
    assert_eq!(
        reset.status.as_u16() == 400 && reset.code() == "invalid_token",
        ends.open_links,
        "{change:?}: reset link: {}",
        reset.body
    );
}

/// A fresh full sign-in of the world's account with `password`; after a not-me report, which
/// blocks the password, with the passkey alone.
async fn sign_in(app: &TestApp, world: &mut World, password: &str) -> Session {
    let reply = app.api.login(&world.username, password).await;
    if reply.status == 403 {
        reply.assert_problem(403, "password_sign_in_blocked");
        let (authenticator, _) = world.passkey.as_mut().expect("a passkey to sign in with");
        return sign_in_with_passkey_alone(app, authenticator, &world.account_id).await;
    }
    if reply.body["status"] == "authenticated" {
        return session_from(&reply);
    }
    let secret = world
        .secret
        .as_ref()
        .expect("a code is asked only with a secret");
    app.next_step();
    session_from(
        &app.api
            .verify_otp(&reply.body["challenge_token"], app.code_now(secret, 0))
            .await,
    )
}

/// Open passkey ceremonies of the account, read from the database (a ceremony has no
/// endpoint that lists it).
async fn open_ceremonies(app: &TestApp, account_id: &str) -> i64 {
    use custadmin::db::schema::webauthn_ceremonies;
    use diesel::prelude::*;
    let account_id = account_id.to_string();
    app.state
        .database
        .run(move |connection| -> Result<_, custadmin::db::DbError> {
            Ok(webauthn_ceremonies::table
                .filter(webauthn_ceremonies::account_id.eq(Some(account_id)))
                .count()
                .get_result::<i64>(connection)?)
        })
        .await
        .unwrap()
}
