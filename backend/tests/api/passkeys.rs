//! Passkeys and security keys, driven by a software authenticator (webauthn-authenticator-rs's
//! soft passkey, which signs like a security key with user verification): adding them,
//! the passkey step of a sign-in, signing in with a passkey alone, and what is refused.

use serde_json::{json, Value};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

use crate::helpers::{claims_of, event_kinds, session_from, Reply, Session, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(
    the_first_passkey_switches_two_factor_on_and_answers_the_sign_in_step,
    a_passkey_alone_signs_in_once_per_ceremony,
    an_answer_for_another_site_is_refused,
    a_counter_going_backwards_and_another_accounts_key_are_refused,
    passkeys_are_renamed_and_the_last_one_removed_switches_two_factor_off,
    passkeys_sit_beside_totp_and_go_with_disable,
    hostile_passkey_input_gets_clear_problems,
    one_answer_sent_many_times_at_once_signs_in_once,
    a_ceremony_started_on_one_instance_finishes_on_another,
    a_passkey_serves_the_support_desk_and_support_reset_removes_passkeys,
    a_passkey_proves_a_privileged_action_once,
    expired_ceremonies_and_hostile_names_are_refused,
    a_state_token_is_answered_once_whatever_the_answer,
    forged_and_foreign_state_tokens_are_refused,
    answered_challenges_are_forgotten_after_their_tokens_expire,
);

const BEHIND_PROXY: &[(&str, &str)] = &[("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32")];

on_both_databases!(
    with BEHIND_PROXY;
    passwordless_options_store_nothing_however_many_networks_ask,
    passwordless_limits_stay_per_network,
);

/// A software authenticator on a browser at `origin` (the server's public URL, unless a test
/// plays another site).
pub(crate) struct Authenticator {
    device: WebauthnAuthenticator<SoftPasskey>,
    origin: Url,
    /// The credential ids it made, base64url, newest last.
    pub(crate) credentials: Vec<String>,
}

impl Authenticator {
    pub(crate) fn new(app: &TestApp) -> Self {
        Self::at(&app.public_url())
    }

    fn at(origin: &str) -> Self {
        Self {
            // `true`: it reports user verification, as a key with a PIN or a platform
            // passkey with biometrics does.
            device: WebauthnAuthenticator::new(SoftPasskey::new(true)),
            origin: Url::parse(origin).unwrap(),
            credentials: Vec::new(),
        }
    }

    /// `navigator.credentials.create()` for the server's creation options.
    fn create(&mut self, options: &Value) -> Value {
        let options: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        let answer = self
            .device
            .do_registration(self.origin.clone(), options)
            .expect("the authenticator makes a credential");
        let answer = serde_json::to_value(answer).unwrap();
        self.credentials
            .push(answer["id"].as_str().unwrap().to_string());
        answer
    }

    /// `navigator.credentials.get()` for options that list this authenticator's credential.
    pub(crate) fn get(&mut self, options: &Value) -> Value {
        let options: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        let answer = self
            .device
            .do_authentication(self.origin.clone(), options)
            .expect("the authenticator signs");
        serde_json::to_value(answer).unwrap()
    }

    /// `navigator.credentials.get()` for passwordless options (no credentials listed): a
    /// discoverable credential answers with the user handle it was made for. The soft passkey
    /// keeps no resident keys, so the test names its credential and adds the handle, which
    /// are what a resident key contributes (neither is signed).
    fn get_discoverable(&mut self, options: &Value, user_handle: &str) -> Value {
        let mut options = options.clone();
        let credential = self.credentials.last().expect("a credential");
        options["publicKey"]["allowCredentials"] =
            json!([{"type": "public-key", "id": credential}]);
        let mut answer = self.get(&options);
        let handle = uuid::Uuid::parse_str(user_handle).unwrap();
        answer["response"]["userHandle"] =
            json!(data_encoding::BASE64URL_NOPAD.encode(handle.as_bytes()));
        answer
    }
}

/// Adds a passkey for a signed-in session (inside the privileged window); answers the reply.
pub(crate) async fn add_passkey(
    app: &TestApp,
    session: &Session,
    authenticator: &mut Authenticator,
    name: &str,
) -> Reply {
    let started = app
        .api
        .start_passkey_registration(&session.access_token, json!({"name": name}))
        .await;
    let options = started.assert_ok()["options"].clone();
    let answer = authenticator.create(&options);
    app.api
        .finish_passkey_registration(&session.access_token, json!({"credential": answer}))
        .await
}

/// A customer with one passkey: answers the session, the authenticator and the account id.
pub(crate) async fn customer_with_passkey(
    app: &TestApp,
    username: &str,
) -> (Session, Authenticator, String) {
    let session = app.signed_in_customer(username).await;
    let mut authenticator = Authenticator::new(app);
    let added = add_passkey(app, &session, &mut authenticator, "YubiKey").await;
    assert_eq!(added.status, 201, "{}", added.body);
    let account_id = app.account_id(&session).await;
    (session, authenticator, account_id)
}

/// Signs in with the passkey alone (`amr ["hwk","user"]`), as the sign-in page's passkey
/// button does, with the authenticator's newest credential of `account_id`.
pub(crate) async fn sign_in_with_passkey_alone(
    app: &TestApp,
    authenticator: &mut Authenticator,
    account_id: &str,
) -> Session {
    let (options, state_token) = passwordless_options(app).await;
    let answer = authenticator.get_discoverable(&options, account_id);
    let reply = app
        .api
        .sign_in_with_passkey(json!({"state_token": state_token, "credential": answer}))
        .await;
    session_from(&reply)
}

/// The password step of a two-factor account; answers the challenge token.
pub(crate) async fn challenge(app: &TestApp, username: &str) -> Value {
    let reply = app.api.login(username, PASSWORD).await;
    assert_eq!(
        reply.assert_ok()["status"],
        "otp_required",
        "{}",
        reply.body
    );
    reply.body["challenge_token"].clone()
}

pub(crate) async fn sign_in_options(app: &TestApp, challenge_token: &Value) -> Value {
    let reply = app
        .api
        .sign_in_options(json!({"challenge_token": challenge_token}))
        .await;
    reply.assert_ok()["options"].clone()
}

async fn passwordless_options(app: &TestApp) -> (Value, Value) {
    let reply = app.api.passwordless_options().await;
    let body = reply.assert_ok();
    (body["options"].clone(), body["state_token"].clone())
}

/// Rows kept for WebAuthn ceremonies, and challenges recorded as answered.
async fn stored_rows(app: &TestApp) -> (i64, i64) {
    use custadmin::db::schema::{used_passwordless_challenges, webauthn_ceremonies};
    use diesel::prelude::*;
    app.state
        .database
        .run(|connection| -> Result<_, custadmin::db::DbError> {
            let ceremonies = webauthn_ceremonies::table
                .count()
                .get_result::<i64>(connection)?;
            let answered = used_passwordless_challenges::table
                .count()
                .get_result::<i64>(connection)?;
            Ok((ceremonies, answered))
        })
        .await
        .unwrap()
}

/// A passwordless answer without a user handle: refused once its token is checked, and
/// counted as a failure of the network.
fn answer_without_user_handle() -> Value {
    json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}})
}

async fn the_first_passkey_switches_two_factor_on_and_answers_the_sign_in_step(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    let other_session = session_from(&app.api.login("alice", PASSWORD).await);
    let mut authenticator = Authenticator::new(&app);
    let added = add_passkey(&app, &session, &mut authenticator, "  YubiKey 5  ").await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["name"], "YubiKey 5");
    assert_eq!(added.body["recovery_codes"].as_array().unwrap().len(), 10);
    let account = app.api.account(&session.access_token).await;
    let two_factor = &account.assert_ok()["two_factor"];
    assert_eq!(two_factor["enabled"], true);
    assert_eq!(two_factor["methods"], json!(["webauthn", "recovery_code"]));
    assert_eq!(two_factor["recovery_codes_remaining"], 10);
    // Switching two-factor on ends every other session, as with TOTP.
    app.api
        .account(&other_session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    let events = app.api.events(&session.access_token).await;
    let kinds = event_kinds(&events);
    assert!(kinds.contains(&"passkey_added") && kinds.contains(&"two_factor_enabled"));

    let reply = app.api.login("alice", PASSWORD).await;
    assert_eq!(reply.body["methods"], json!(["webauthn", "recovery_code"]));
    let challenge_token = reply.body["challenge_token"].clone();
    let options = sign_in_options(&app, &challenge_token).await;
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let answer = authenticator.get(&options);
    let signed_in = app
        .api
        .otp(json!({"challenge_token": challenge_token, "webauthn": answer}))
        .await;
    let signed_in_session = session_from(&signed_in);
    assert_eq!(
        claims_of(&signed_in_session.access_token)["amr"],
        json!(["pwd", "hwk"])
    );
    // The same answer again: the challenge is used up.
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": answer}))
        .await
        .assert_problem(401, "invalid_challenge");
    // Replayed on a new challenge (whose options carry another challenge): refused, counted.
    let next = challenge(&app, "alice").await;
    sign_in_options(&app, &next).await;
    app.api
        .otp(json!({"challenge_token": next, "webauthn": answer}))
        .await
        .assert_problem(400, "invalid_code");

    let listed = app.api.passkeys(&signed_in_session.access_token).await;
    let passkeys = listed.assert_ok()["passkeys"].as_array().unwrap().clone();
    assert_eq!(passkeys.len(), 1);
    assert!(passkeys[0]["last_used_at"].is_string());
    let events = app.api.events(&signed_in_session.access_token).await;
    let kinds = event_kinds(&events);
    assert!(kinds.contains(&"passkey_used") && kinds.contains(&"otp_failed"));
    // A passkey sign-in counts as both factors: a privileged action needs no further proof.
    app.api
        .create_api_token(
            &signed_in_session.access_token,
            json!({"name": "script", "scopes": ["account:read"], "expires_in_days": 1}),
        )
        .await
        .assert_ok();
}

async fn a_passkey_alone_signs_in_once_per_ceremony(app: TestApp) {
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "bea").await;
    let (options, state_token) = passwordless_options(&app).await;
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(options.get("mediation").is_none());
    let answer = authenticator.get_discoverable(&options, &account_id);
    let reply = app
        .api
        .sign_in_with_passkey(json!({"state_token": state_token, "credential": answer}))
        .await;
    let session = session_from(&reply);
    let claims = claims_of(&session.access_token);
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(claims["sub"], account_id.as_str());
    assert!(reply.body["device_token"].is_string(), "a known device now");
    // Replayed: the ceremony is used up.
    app.api
        .sign_in_with_passkey(json!({"state_token": state_token, "credential": answer}))
        .await
        .assert_problem(401, "invalid_challenge");
    // Replayed into a new ceremony: its challenge differs.
    let (_, other_state) = passwordless_options(&app).await;
    app.api
        .sign_in_with_passkey(json!({"state_token": other_state, "credential": answer}))
        .await
        .assert_problem(400, "passkey_refused");
    // A state token is no challenge token and vice versa.
    app.api
        .verify_otp(&other_state, "123456")
        .await
        .assert_problem(401, "invalid_challenge");
    // A support agent's session signed in so has a second factor; so does this one.
    let events = app.api.events(&session.access_token).await;
    let kinds = event_kinds(&events);
    assert!(kinds.contains(&"passkey_used") && kinds.contains(&"login_succeeded"));
}

async fn an_answer_for_another_site_is_refused(app: TestApp) {
    let session = app.signed_in_customer("cleo").await;
    // The same host on another port is another origin: a phishing page's answer.
    let mut phished = Authenticator::at("http://localhost:1");
    add_passkey(&app, &session, &mut phished, "phished")
        .await
        .assert_problem(400, "passkey_refused");
    // The refused answer used up the ceremony.
    let answer = phished.create(
        &app.api
            .start_passkey_registration(&session.access_token, json!({"name": "again"}))
            .await
            .body["options"],
    );
    let mut genuine = Authenticator::new(&app);
    let started = app
        .api
        .start_passkey_registration(&session.access_token, json!({"name": "genuine"}))
        .await;
    // An answer to earlier options does not fit the newest ones.
    app.api
        .finish_passkey_registration(&session.access_token, json!({"credential": answer}))
        .await
        .assert_problem(400, "passkey_refused");
    let fresh = genuine.create(&started.body["options"]);
    app.api
        .finish_passkey_registration(&session.access_token, json!({"credential": fresh}))
        .await
        .assert_problem(409, "no_pending_enrollment");
    // Only the session that started a registration may finish it.
    let started = app
        .api
        .start_passkey_registration(&session.access_token, json!({"name": "genuine"}))
        .await;
    let answer = genuine.create(&started.body["options"]);
    let other_session = session_from(&app.api.login("cleo", PASSWORD).await);
    app.api
        .finish_passkey_registration(&other_session.access_token, json!({"credential": answer}))
        .await
        .assert_problem(409, "no_pending_enrollment");
    assert_eq!(
        add_passkey(&app, &session, &mut genuine, "genuine")
            .await
            .status,
        201
    );

    // At sign-in, an answer given to another site is refused too.
    let challenge_token = challenge(&app, "cleo").await;
    let options = sign_in_options(&app, &challenge_token).await;
    let mut elsewhere = Authenticator::at("http://localhost:1");
    elsewhere.device = genuine.device;
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": elsewhere.get(&options)}))
        .await
        .assert_problem(400, "invalid_code");
}

async fn a_counter_going_backwards_and_another_accounts_key_are_refused(app: TestApp) {
    let (_, mut dana_key, dana_id) = customer_with_passkey(&app, "dana").await;
    // Two ceremonies answered in order (counters 1 and 2), sent in the other order: the
    // older answer's counter is behind the stored one, as a cloned key's would be.
    let (first_options, first_state) = passwordless_options(&app).await;
    let (second_options, second_state) = passwordless_options(&app).await;
    let older = dana_key.get_discoverable(&first_options, &dana_id);
    let newer = dana_key.get_discoverable(&second_options, &dana_id);
    let signed_in = app
        .api
        .sign_in_with_passkey(json!({"state_token": second_state, "credential": newer}))
        .await;
    let session = session_from(&signed_in);
    app.api
        .sign_in_with_passkey(json!({"state_token": first_state, "credential": older}))
        .await
        .assert_problem(400, "passkey_refused");
    let events = app.api.events(&session.access_token).await;
    let failed = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "login_failed")
        .expect("the refusal is recorded");
    assert!(failed["detail"].as_str().unwrap().contains("counter"));

    // Erik's key answering for Dana: not hers, refused at both steps.
    let (_, mut erik_key, _) = customer_with_passkey(&app, "erik").await;
    let (options, state) = passwordless_options(&app).await;
    let claimed = erik_key.get_discoverable(&options, &dana_id);
    app.api
        .sign_in_with_passkey(json!({"state_token": state, "credential": claimed}))
        .await
        .assert_problem(400, "passkey_refused");
    let challenge_token = challenge(&app, "dana").await;
    let mut options = sign_in_options(&app, &challenge_token).await;
    options["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": erik_key.credentials[0]}]);
    let answer = erik_key.get(&options);
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": answer}))
        .await
        .assert_problem(400, "invalid_code");
}

async fn passkeys_are_renamed_and_the_last_one_removed_switches_two_factor_off(app: TestApp) {
    let (session, mut authenticator, account_id) = customer_with_passkey(&app, "fay").await;
    app.verify_address(&account_id, "fay@example.com").await;
    let second = add_passkey(&app, &session, &mut authenticator, "Phone").await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert!(
        second.body.get("recovery_codes").is_none(),
        "codes come with the first factor only"
    );
    assert!(app
        .mails()
        .await
        .iter()
        .any(|mail| mail.subject == "A passkey was added · custadmin"));
    let id = second.body["id"].as_str().unwrap();
    let token = &session.access_token;
    let renamed = app
        .api
        .rename_passkey(token, id, json!({"name": "Work phone"}))
        .await;
    assert_eq!(renamed.assert_ok()["name"], "Work phone");
    app.api
        .rename_passkey(token, id, json!({"name": " \u{7} "}))
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .rename_passkey(&session.access_token, "not-an-id", json!({"name": "x"}))
        .await
        .assert_problem(404, "not_found");

    // Outside the privileged window a removal needs a proof: with two-factor on, a code.
    app.clock.advance(chrono::TimeDelta::minutes(11));
    app.api
        .remove_passkey(token, id, None)
        .await
        .assert_problem(403, "reauthentication_required");
    // A six-digit code proves nothing on an account without an authenticator app: refused
    // before it is counted.
    app.api
        .remove_passkey(token, id, Some(json!({"code": "123456"})))
        .await
        .assert_problem(403, "reauthentication_required");
    assert_eq!(app.reauth_failures(&session).await, 0);
    let codes = {
        // Recovery codes came with the first passkey; sign in again to see how many are left.
        let account = app.api.account(&session.access_token).await;
        account.assert_ok()["two_factor"]["recovery_codes_remaining"].clone()
    };
    assert_eq!(codes, 10);
    let listed = app.api.passkeys(&session.access_token).await;
    assert_eq!(listed.body["passkeys"].as_array().unwrap().len(), 2);

    // A fresh passkey sign-in is within the window again.
    let (options, state) = passwordless_options(&app).await;
    let fresh = session_from(
        &app.api.sign_in_with_passkey(json!({"state_token": state, "credential": authenticator.get_discoverable(&options, &account_id)}))
        .await,
    );
    let removed = app.api.remove_passkey(&fresh.access_token, id, None).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let account = app.api.account(&fresh.access_token).await;
    assert_eq!(account.body["two_factor"]["enabled"], true);
    // The key may be lost: every other session, however it signed in, is signed out.
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    assert!(app
        .mails()
        .await
        .iter()
        .any(|mail| mail.subject == "A passkey was removed · custadmin"));

    let last = app.api.passkeys(&fresh.access_token).await;
    let last_id = last.body["passkeys"][0]["id"].as_str().unwrap().to_string();
    app.api
        .remove_passkey(&fresh.access_token, &last_id, None)
        .await;
    let account = app.api.account(&fresh.access_token).await;
    let two_factor = &account.assert_ok()["two_factor"];
    assert_eq!(two_factor["enabled"], false);
    assert_eq!(two_factor["methods"], json!([]));
    assert_eq!(two_factor["recovery_codes_remaining"], 0);
    let events = app.api.events(&fresh.access_token).await;
    let kinds = event_kinds(&events);
    assert!(kinds.contains(&"passkey_removed") && kinds.contains(&"two_factor_disabled"));
    // The password alone signs in again.
    assert_eq!(
        app.api.login("fay", PASSWORD).await.body["status"],
        "authenticated"
    );
}

async fn passkeys_sit_beside_totp_and_go_with_disable(app: TestApp) {
    let session = app.signed_in_customer("gus").await;
    let (secret, _) = app.enable_two_factor(&session).await;
    let mut authenticator = Authenticator::new(&app);
    let added = add_passkey(&app, &session, &mut authenticator, "Laptop").await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(added.body.get("recovery_codes").is_none());
    let reply = app.api.login("gus", PASSWORD).await;
    assert_eq!(
        reply.body["methods"],
        json!(["webauthn", "totp", "recovery_code"])
    );
    // Either factor answers the step.
    let code_session = app.login_with_code("gus", &secret).await;
    assert_eq!(
        claims_of(&code_session.access_token)["amr"],
        json!(["pwd", "otp"])
    );
    // Disable keeps its meaning: every second factor goes.
    let disabled = app
        .api
        .disable_two_factor(&code_session.access_token, json!({}))
        .await;
    assert_eq!(disabled.assert_ok()["enabled"], false);
    let listed = app.api.passkeys(&code_session.access_token).await;
    assert_eq!(listed.body["passkeys"], json!([]));
    // Its passkey no longer signs in alone.
    let account_id = app.account_id(&code_session).await;
    let (options, state) = passwordless_options(&app).await;
    app.api.sign_in_with_passkey(json!({"state_token": state, "credential": authenticator.get_discoverable(&options, &account_id)}))
    .await
    .assert_problem(400, "passkey_refused");
    // A passkey as the first factor, then an authenticator app beside it: both are mailed,
    // and TOTP confirmed answers no recovery codes (they came with the passkey).
    let again = app.signed_in_customer("hana").await;
    let hana_id = app.account_id(&again).await;
    app.verify_address(&hana_id, "hana@example.com").await;
    let mut key = Authenticator::new(&app);
    assert_eq!(
        add_passkey(&app, &again, &mut key, "Blue key").await.status,
        201
    );
    let mails = app.mails().await;
    let switched_on = mails
        .iter()
        .find(|mail| mail.subject == "Two-factor authentication was switched on · custadmin")
        .expect("the first factor is mailed");
    assert!(
        switched_on.text.contains("Blue key"),
        "{}",
        switched_on.text
    );
    assert!(
        !switched_on.text.contains("six-digit"),
        "{}",
        switched_on.text
    );
    let enrollment = app
        .api
        .enroll_two_factor(&again.access_token, json!({}))
        .await;
    let secret = crate::helpers::secret_of(enrollment.assert_ok());
    let confirmed = app
        .api
        .confirm_two_factor(
            &again.access_token,
            json!({"code": app.code_now(&secret, 0)}),
        )
        .await;
    assert_eq!(confirmed.assert_ok()["enabled"], true);
    assert!(confirmed.body.get("recovery_codes").is_none());
    assert!(app
        .mails()
        .await
        .iter()
        .any(|mail| mail.subject == "An OTP application was added · custadmin"));
    let events = app.api.events(&again.access_token).await;
    assert_eq!(events.body["events"][0]["kind"], "two_factor_enabled");
    assert_eq!(
        events.body["events"][0]["detail"],
        "authenticator app added beside passkeys"
    );
}

async fn hostile_passkey_input_gets_clear_problems(app: TestApp) {
    let session = app.signed_in_customer("ivo").await;
    let token = Some(session.access_token.as_str());
    app.api
        .finish_passkey_registration(token, json!({"credential": {"id": "x"}}))
        .await
        .assert_problem(422, "validation_failed");
    app.api.finish_passkey_registration(token, json!({"credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}}}))
    .await
    .assert_problem(409, "no_pending_enrollment");
    for name in ["", &"n".repeat(101), "tab\tname"] {
        app.api
            .start_passkey_registration(token, json!({"name": name}))
            .await
            .assert_problem(422, "validation_failed");
    }
    // Garbage where the browser's answer belongs, after a real start.
    app.api
        .start_passkey_registration(token, json!({"name": "key"}))
        .await
        .assert_ok();
    app.api.finish_passkey_registration(token, json!({"credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}}}))
    .await
    .assert_problem(400, "passkey_refused");

    app.api
        .sign_in_with_passkey(json!({"state_token": "nonsense", "credential": {}}))
        .await
        .assert_problem(422, "validation_failed");
    let (_, state) = passwordless_options(&app).await;
    app.api.sign_in_with_passkey(json!({"state_token": state, "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}}}))
    .await
    .assert_problem(400, "passkey_refused");
    app.api.sign_in_with_passkey(json!({"state_token": session.access_token, "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA"}}}))
    .await
    .assert_problem(401, "invalid_challenge");

    // An account with TOTP only has no passkey options; a bad answer shape is a 422.
    let (secret, _) = app.enable_two_factor(&session).await;
    let _ = secret;
    let challenge_token = challenge(&app, "ivo").await;
    app.api
        .sign_in_options(json!({"challenge_token": challenge_token}))
        .await
        .assert_problem(409, "no_passkeys");
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": "nonsense"}))
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .otp(json!({"challenge_token": challenge_token, "webauthn": {}, "code": "123456"}))
        .await
        .assert_problem(422, "validation_failed");
    // A passkey answer without options asked for: refused and counted like a wrong code.
    app.api.otp(json!({"challenge_token": challenge_token, "webauthn": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA"}}}))
        .await
        .assert_problem(400, "invalid_code");
    app.api
        .sign_in_options(json!({"challenge_token": "nonsense"}))
        .await
        .assert_problem(401, "invalid_challenge");
}

async fn one_answer_sent_many_times_at_once_signs_in_once(app: TestApp) {
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "jan").await;
    let other = app.second_instance().await;
    let (options, state) = passwordless_options(&app).await;
    let answer = authenticator.get_discoverable(&options, &account_id);
    let body = json!({"state_token": state, "credential": answer});
    // Ten at once, half of them to another instance.
    let replies = futures::future::join_all((0..10).map(|n| {
        let api = if n % 2 == 0 { &app.api } else { &other };
        api.sign_in_with_passkey(body.clone())
    }))
    .await;
    let replies: Vec<(u16, Value)> = replies
        .into_iter()
        .map(|reply| (reply.status.as_u16(), reply.body))
        .collect();
    let signed_in = replies.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(signed_in, 1, "{replies:?}");
    assert!(
        replies.iter().all(|(status, body)| *status == 200
            || (*status == 401 && body["code"] == "invalid_challenge")),
        "{replies:?}"
    );
    assert_eq!(stored_rows(&app).await, (0, 1));
}

async fn a_ceremony_started_on_one_instance_finishes_on_another(app: TestApp) {
    let session = app.signed_in_customer("kim").await;
    let other = app.second_instance().await;
    let mut authenticator = Authenticator::new(&app);
    let started = app
        .api
        .start_passkey_registration(&session.access_token, json!({"name": "key"}))
        .await;
    let answer = authenticator.create(&started.body["options"]);
    let finished = other
        .finish_passkey_registration(&session.access_token, json!({"credential": answer}))
        .await;
    assert_eq!(finished.status, 201, "{}", finished.body);
    let account_id = app.account_id(&session).await;

    // Passwordless: options here, answer there.
    let (options, state) = passwordless_options(&app).await;
    let answer = authenticator.get_discoverable(&options, &account_id);
    let signed_in = other
        .sign_in_with_passkey(json!({"state_token": state, "credential": answer}))
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);

    // The sign-in step: password and options there, answer here.
    let login = other.login("kim", PASSWORD).await.body;
    let challenge_token = login["challenge_token"].clone();
    let options = other
        .sign_in_options(json!({"challenge_token": challenge_token}))
        .await
        .body;
    let answer = authenticator.get(&options["options"]);
    let signed_in = app
        .api
        .otp(json!({"challenge_token": challenge_token, "webauthn": answer}))
        .await;
    assert_eq!(signed_in.assert_ok()["status"], "authenticated");
}

async fn a_passkey_serves_the_support_desk_and_support_reset_removes_passkeys(app: TestApp) {
    use custadmin::domain::{Password, Role, Username};
    use custadmin::service::registration::{create_account, NewAccountRequest};
    create_account(
        &app.state,
        NewAccountRequest {
            username: Username::parse("sam-support").unwrap(),
            password: Password::parse_new(PASSWORD.into(), "password").unwrap(),
            email: None,
            role: Role::Support,
        },
    )
    .await
    .unwrap();
    let agent = session_from(&app.api.login("sam-support", PASSWORD).await);
    app.api
        .search_customers(&agent.access_token, "query=a")
        .await
        .assert_problem(403, "two_factor_required");
    // A passkey is the agent's second factor: the session that added it may use the desk.
    let mut agent_key = Authenticator::new(&app);
    assert_eq!(
        add_passkey(&app, &agent, &mut agent_key, "Agent key")
            .await
            .status,
        201
    );
    app.api
        .search_customers(&agent.access_token, "query=lin")
        .await
        .assert_ok();

    let (customer, mut customer_key, customer_id) = customer_with_passkey(&app, "linda").await;
    let reset = app
        .api
        .reset_customer_two_factor(
            &agent.access_token,
            &customer_id,
            json!({"reason": "Lost the key; identity checked by callback"}),
        )
        .await;
    assert_eq!(reset.assert_ok(), &json!({"enabled": false}));
    app.api
        .account(&customer.access_token)
        .await
        .assert_problem(401, "invalid_token");
    let fresh = session_from(&app.api.login("linda", PASSWORD).await);
    let listed = app.api.passkeys(&fresh.access_token).await;
    assert_eq!(listed.assert_ok()["passkeys"], json!([]));
    let (options, state) = passwordless_options(&app).await;
    app.api.sign_in_with_passkey(json!({"state_token": state, "credential": customer_key.get_discoverable(&options, &customer_id)}))
    .await
    .assert_problem(400, "passkey_refused");
}

async fn a_passkey_proves_a_privileged_action_once(app: TestApp) {
    let (session, mut authenticator, _) = customer_with_passkey(&app, "mia").await;
    let token = Some(session.access_token.as_str());
    app.clock.advance(chrono::TimeDelta::minutes(11));
    let create_token = |proof: Value| {
        let mut body = json!({"name": "script", "scopes": ["account:read"], "expires_in_days": 1});
        body.as_object_mut()
            .unwrap()
            .extend(proof.as_object().unwrap().clone());
        body
    };
    app.api
        .create_api_token(token, create_token(json!({})))
        .await
        .assert_problem(403, "reauthentication_required");
    let options = app.api.reauthentication_options(token).await;
    let answer = authenticator.get(&options.assert_ok()["options"]);
    let made = app
        .api
        .create_api_token(token, create_token(json!({"webauthn": answer})))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    // The same answer again: its ceremony is used up; refused like a wrong code, and counted.
    app.api
        .create_api_token(token, create_token(json!({"webauthn": answer})))
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(app.reauth_failures(&session).await, 1);
    let account_id = app.account_id(&session).await;
    // Options asked by one session do not prove another session's action.
    let other = {
        let (options, state) = passwordless_options(&app).await;
        session_from(
            &app.api.sign_in_with_passkey(json!({"state_token": state, "credential": authenticator.get_discoverable(&options, &account_id)}))
            .await,
        )
    };
    // (A proof sent inside the window is checked all the same.)
    let options = app.api.reauthentication_options(token).await;
    let answer = authenticator.get(&options.body["options"]);
    app.api
        .create_api_token(
            &other.access_token,
            create_token(json!({"webauthn": answer})),
        )
        .await
        .assert_problem(400, "invalid_code");
    // A passkey proves removing the last passkey too, which switches two-factor off.
    let options = app.api.reauthentication_options(token).await;
    let answer = authenticator.get(&options.body["options"]);
    let listed = app.api.passkeys(token).await;
    let id = listed.body["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let removed = app
        .api
        .remove_passkey(token, &id, Some(json!({"webauthn": answer})))
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    // Without passkeys there are no options to ask for.
    app.api
        .reauthentication_options(token)
        .await
        .assert_problem(409, "no_passkeys");
    // And a malformed answer is the caller's 422.
    app.api
        .create_api_token(token, create_token(json!({"webauthn": "nonsense"})))
        .await
        .assert_problem(422, "validation_failed");
}

async fn expired_ceremonies_and_hostile_names_are_refused(app: TestApp) {
    let session = app.signed_in_customer("nils").await;
    let token = Some(session.access_token.as_str());
    for name in ["a\u{0}b", &"x".repeat(10 * 1024)] {
        app.api
            .start_passkey_registration(token, json!({"name": name}))
            .await
            .assert_problem(422, "validation_failed");
    }
    // A registration answered after its 5 minutes is refused, and cannot be tried again.
    let mut authenticator = Authenticator::new(&app);
    let started = app
        .api
        .start_passkey_registration(token, json!({"name": "late"}))
        .await;
    let answer = authenticator.create(&started.assert_ok()["options"]);
    app.clock.advance(chrono::TimeDelta::minutes(6));
    app.api
        .finish_passkey_registration(token, json!({"credential": answer}))
        .await
        .assert_problem(409, "no_pending_enrollment");

    // A passwordless answer after its 5 minutes: the state token has expired.
    let fresh = session_from(&app.api.login("nils", PASSWORD).await);
    assert_eq!(
        add_passkey(&app, &fresh, &mut authenticator, "key")
            .await
            .status,
        201
    );
    let account_id = app.account_id(&fresh).await;
    let (options, state) = passwordless_options(&app).await;
    let answer = authenticator.get_discoverable(&options, &account_id);
    app.clock.advance(chrono::TimeDelta::minutes(6));
    app.api
        .sign_in_with_passkey(json!({"state_token": state, "credential": answer}))
        .await
        .assert_problem(401, "invalid_challenge");
}

async fn passwordless_options_store_nothing_however_many_networks_ask(app: TestApp) {
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "olga").await;
    let (ceremonies_before, _) = stored_rows(&app).await;
    // Options asked 4 times by each of 60 networks, all at once: each is counted against its
    // site, and nothing else is stored (the state travels in the token).
    let networks: Vec<String> = (1..=60).map(|n| format!("198.51.100.{n}")).collect();
    let replies = futures::future::join_all(
        networks
            .iter()
            .flat_map(|ip| (0..4).map(|_| app.api.passwordless_options().from_ip(ip))),
    )
    .await;
    for reply in &replies {
        reply.assert_ok();
    }
    assert_eq!(stored_rows(&app).await, (ceremonies_before, 0));
    assert_eq!(
        ceremonies_before, 0,
        "the passkey was added and its ceremony taken"
    );

    // The next network gets options and signs in; its answered challenge is the one row.
    let newcomer = "203.0.113.7";
    let started = app.api.passwordless_options().from_ip(newcomer).await;
    let (options, state) = (
        started.assert_ok()["options"].clone(),
        started.body["state_token"].clone(),
    );
    let length = state.as_str().unwrap().len();
    eprintln!("passwordless state token: {length} characters");
    assert!(length < 1024, "{length}");
    let answer = authenticator.get_discoverable(&options, &account_id);
    let reply = app
        .api
        .sign_in_with_passkey(json!({"state_token": state, "credential": answer}))
        .from_ip(newcomer)
        .await;
    assert_eq!(
        claims_of(&session_from(&reply).access_token)["sub"],
        account_id.as_str()
    );
    assert_eq!(stored_rows(&app).await, (0, 1));
}

async fn passwordless_limits_stay_per_network(app: TestApp) {
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "pia").await;
    // Options: 300 per site in 15 minutes; the next is refused there, not elsewhere.
    let busy = "192.0.2.50";
    for _ in 0..6 {
        let replies = futures::future::join_all(
            (0..50).map(|_| app.api.passwordless_options().from_ip(busy)),
        )
        .await;
        for reply in &replies {
            reply.assert_ok();
        }
    }
    let refused = app.api.passwordless_options().from_ip(busy).await;
    refused.assert_problem(429, "too_many_attempts");
    assert!(refused.retry_after().is_some());
    app.api
        .passwordless_options()
        .from_ip("192.0.2.51")
        .await
        .assert_ok();

    // Finishing: refused answers count against the network (100 in 15 minutes); replaying
    // an answered token does not.
    let failing = "192.0.2.60";
    for _ in 0..100 {
        let started = app.api.passwordless_options().from_ip(failing).await;
        app.api.sign_in_with_passkey(json!({"state_token": started.assert_ok()["state_token"], "credential": answer_without_user_handle()}))
.from_ip(failing)
        .await
        .assert_problem(400, "passkey_refused");
    }
    let started = app.api.passwordless_options().from_ip(failing).await;
    let (options, state) = (
        started.assert_ok()["options"].clone(),
        started.body["state_token"].clone(),
    );
    let answer = authenticator.get_discoverable(&options, &account_id);
    let body = json!({"state_token": state, "credential": answer});
    app.api
        .sign_in_with_passkey(body.clone())
        .from_ip(failing)
        .await
        .assert_problem(429, "too_many_attempts");
    // The refusal at the limit used nothing up: the same token signs in from elsewhere.
    session_from(
        &app.api
            .sign_in_with_passkey(body.clone())
            .from_ip("192.0.2.61")
            .await,
    );
    app.api
        .sign_in_with_passkey(body)
        .from_ip("192.0.2.61")
        .await
        .assert_problem(401, "invalid_challenge");
}

async fn a_state_token_is_answered_once_whatever_the_answer(app: TestApp) {
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "quinn").await;
    let (options, state) = passwordless_options(&app).await;
    let (other_options, _) = passwordless_options(&app).await;
    // A wrong answer (to other options) is refused and uses the token up ...
    let wrong = authenticator.get_discoverable(&other_options, &account_id);
    app.api
        .sign_in_with_passkey(json!({"state_token": state, "credential": wrong}))
        .await
        .assert_problem(400, "passkey_refused");
    // ... so the right answer, which would verify, is refused too.
    let right = authenticator.get_discoverable(&options, &account_id);
    app.api
        .sign_in_with_passkey(json!({"state_token": state, "credential": right}))
        .await
        .assert_problem(401, "invalid_challenge");
    // A fresh ceremony still signs in.
    let (options, state) = passwordless_options(&app).await;
    let right = authenticator.get_discoverable(&options, &account_id);
    session_from(
        &app.api
            .sign_in_with_passkey(json!({"state_token": state, "credential": right}))
            .await,
    );
    assert_eq!(stored_rows(&app).await, (0, 2));
}

async fn forged_and_foreign_state_tokens_are_refused(app: TestApp) {
    use base64::Engine;
    use custadmin::auth::secret_box::SecretBox;
    let (session, mut authenticator, account_id) = customer_with_passkey(&app, "rosa").await;
    let (options, state) = passwordless_options(&app).await;
    let state = state.as_str().unwrap().to_string();
    let answer = authenticator.get_discoverable(&options, &account_id);
    let send = |token: String| {
        app.api
            .sign_in_with_passkey(json!({"state_token": token, "credential": answer.clone()}))
    };
    // The sealed state changed in the payload (the signature no longer matches).
    let pieces: Vec<&str> = state.split('.').collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&engine.decode(pieces[1]).unwrap()).unwrap();
    let sealed = payload["sealed"].as_str().unwrap().to_string();
    let other_first = if sealed.starts_with('A') { "B" } else { "A" };
    payload["sealed"] = json!(format!("{other_first}{}", &sealed[1..]));
    let tampered = format!(
        "{}.{}.{}",
        pieces[0],
        engine.encode(payload.to_string()),
        pieces[2]
    );
    send(tampered)
        .await
        .assert_problem(401, "invalid_challenge");
    // Signed by the server's key but sealed under another secret key.
    let opened = app
        .state
        .token_keys
        .verify_passkey_state(&app.state.secret_box, &state, app.state.now())
        .unwrap();
    let foreign = app
        .state
        .token_keys
        .issue_passkey_state(
            &SecretBox::new(&[9; 32]),
            &opened.challenge,
            &opened.state,
            app.state.now(),
        )
        .unwrap();
    send(foreign).await.assert_problem(401, "invalid_challenge");
    // Tokens of other kinds: a challenge token, an access token, a refresh token.
    let login = challenge(&app, "rosa").await;
    let challenge_token = login.as_str().unwrap().to_string();
    send(challenge_token.clone())
        .await
        .assert_problem(401, "invalid_challenge");
    send(session.access_token.clone())
        .await
        .assert_problem(401, "invalid_challenge");
    send(session.refresh_token.clone())
        .await
        .assert_problem(401, "invalid_challenge");
    // And a state token is no challenge token at the sign-in step.
    app.api
        .sign_in_options(json!({"challenge_token": state}))
        .await
        .assert_problem(401, "invalid_challenge");
    // None of that used the ceremony up: the genuine token signs in, once.
    assert_eq!(stored_rows(&app).await, (0, 0));
    session_from(&send(state.clone()).await);
    send(state).await.assert_problem(401, "invalid_challenge");
}

async fn answered_challenges_are_forgotten_after_their_tokens_expire(app: TestApp) {
    use custadmin::service::housekeeping::prune;
    let (_, mut authenticator, account_id) = customer_with_passkey(&app, "sven").await;
    let (options, state) = passwordless_options(&app).await;
    let answer = authenticator.get_discoverable(&options, &account_id);
    let body = json!({"state_token": state, "credential": answer});
    session_from(&app.api.sign_in_with_passkey(body.clone()).await);
    assert_eq!(stored_rows(&app).await, (0, 1));
    // Past the token's 5 minutes the record stays a while (instances' clocks may differ) ...
    app.clock.advance(chrono::TimeDelta::minutes(6));
    assert_eq!(prune(&app.state).await.unwrap().used_challenges, 0);
    app.api
        .sign_in_with_passkey(body.clone())
        .await
        .assert_problem(401, "invalid_challenge");
    // ... and goes once the token is long dead, which still refuses it by its expiry.
    app.clock.advance(chrono::TimeDelta::minutes(5));
    assert_eq!(prune(&app.state).await.unwrap().used_challenges, 1);
    assert_eq!(stored_rows(&app).await, (0, 0));
    app.api
        .sign_in_with_passkey(body)
        .await
        .assert_problem(401, "invalid_challenge");
}
