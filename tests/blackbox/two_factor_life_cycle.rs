//! The whole two-factor life cycle through the real binary and the real clock, as a customer
//! with an authenticator app and an integrator verifying tokens offline would see it.

use custadmin_blackbox::{jwt_part, totp_code, unix_now, Customers, Launch, TempDir, PASSWORD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

#[tokio::test]
async fn a_customer_enrols_signs_in_with_codes_and_recovery_codes_and_disables_two_factor() {
    // Arrange: a signed-in customer.
    let dir = TempDir::new("two-factor");
    let server = Launch::new(dir.path()).serve();
    let api = server.api();
    api.register_customer("erin", None).await;
    let token = api.access_token("erin").await;

    // Act: enrol.
    let enrolment = api.enroll_two_factor(&token, json!({})).await;

    // Assert: a 160-bit base32 secret in the documented otpauth URI.
    let enrolment = enrolment.assert_status(200);
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "{enrolment}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "{secret} is not base32 without padding"
    );
    assert_eq!(
        enrolment["otpauth_uri"],
        format!(
            "otpauth://totp/custadmin:erin?secret={secret}&issuer=custadmin&algorithm=SHA1&digits=6&period=30"
        )
    );
    assert!(enrolment["qr_svg"].as_str().unwrap().contains("<svg"));

    // Act: confirm with the code of the current step.
    let confirmed_at = unix_now();
    let confirmation = api
        .confirm_two_factor(&token, json!({"code": totp_code(&secret, confirmed_at)}))
        .await;

    // Assert: on, with ten distinct recovery codes.
    let confirmation = confirmation.assert_status(200);
    assert_eq!(confirmation["enabled"], true);
    let recovery_codes: Vec<String> = confirmation["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recovery_codes.len(), 10, "{confirmation}");
    let distinct: std::collections::BTreeSet<&String> = recovery_codes.iter().collect();
    assert_eq!(distinct.len(), 10, "{recovery_codes:?}");

    // Act: log out; a password alone now only yields a challenge.
    api.log_out(&token).await.assert_status(204);
    let login = api.login("erin", PASSWORD).await;

    // Assert: a challenge, which is not an access token.
    let login = login.assert_status(200);
    assert_eq!(login["status"], "otp_required", "{login}");
    assert!(login.get("access_token").is_none(), "{login}");
    let challenge = login["challenge_token"].as_str().unwrap().to_string();
    api.account(&challenge)
        .await
        .assert_problem(401, "invalid_token");

    // Act: the code of the next step (never reuse the one the confirmation used).
    let next_code = totp_code(&secret, confirmed_at + 30);
    let signed_in = api.verify_otp(&challenge, &next_code).await;

    // Assert: authenticated with both factors, and verifiable offline with the JWKS.
    let signed_in = signed_in.assert_status(200);
    assert_eq!(signed_in["status"], "authenticated", "{signed_in}");
    let access_token = signed_in["access_token"].as_str().unwrap().to_string();
    let payload = jwt_part(&access_token, 1);
    assert_eq!(payload["amr"], json!(["pwd", "otp"]), "{payload}");
    let header = jwt_part(&access_token, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let jwks = api.jwks().await;
    let key = &jwks.assert_status(200)["keys"][0];
    assert_eq!(header["kid"], key["kid"]);
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["custadmin"]);
    validation.set_issuer(&["custadmin"]);
    let decoding_key = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let verified = jsonwebtoken::decode::<Value>(&access_token, &decoding_key, &validation)
        .unwrap_or_else(|error| panic!("the access token does not verify: {error}"));
    assert_eq!(verified.claims["sub"], payload["sub"]);
    assert_eq!(verified.claims["role"], "customer");
    let account = api.account(&access_token).await;
    let account = account.assert_status(200);
    assert_eq!(account["two_factor"]["enabled"], true);
    assert_eq!(account["two_factor"]["recovery_codes_remaining"], 10);

    // Act + assert: the same code on a fresh challenge is a replay.
    let challenge = api.challenge_token("erin").await;
    api.verify_otp(&challenge, &next_code)
        .await
        .assert_problem(400, "invalid_code");

    // Act + assert: a recovery code works once.
    let recovery_code = &recovery_codes[0];
    let challenge = api.challenge_token("erin").await;
    let recovered = api
        .otp(json!({"challenge_token": challenge, "recovery_code": recovery_code}))
        .await;
    let recovered = recovered.assert_status(200);
    assert_eq!(recovered["status"], "authenticated", "{recovered}");
    assert_eq!(
        jwt_part(recovered["access_token"].as_str().unwrap(), 1)["amr"],
        json!(["pwd", "otp"])
    );
    let recovered_token = recovered["access_token"].as_str().unwrap().to_string();
    let account = api.account(&recovered_token).await;
    assert_eq!(
        account.assert_status(200)["two_factor"]["recovery_codes_remaining"],
        9
    );
    let challenge = api.challenge_token("erin").await;
    api.otp(json!({"challenge_token": challenge, "recovery_code": recovery_code}))
        .await
        .assert_problem(400, "invalid_code");

    // Act: disable right after a full login, without further proof.
    let disabled = api.disable_two_factor(&recovered_token, json!({})).await;

    // Assert: off, and the password alone signs in again.
    assert_eq!(disabled.assert_status(200), &json!({"enabled": false}));
    let login = api.login("erin", PASSWORD).await;
    assert_eq!(login.assert_status(200)["status"], "authenticated");
}
