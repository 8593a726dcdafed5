//! The hosting company's brand: its name, logo and colour in `GET /config`, the logo served by
//! content, and the name where customers meet it outside the SPA (their OTP app, their mail).
//! The JWT `iss` stays what `CUSTADMIN_ISSUER` says.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{claims_of, spawn_app_with, Backend, Mail, TestApp, PASSWORD};
use crate::on_both_databases;

const SVG_LOGO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/logo.svg");
const PNG_LOGO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/logo.png");

/// A company whose token issuer is a URL (as integrators often pin) and whose name is not.
const BRANDED: &[(&str, &str)] = &[
    ("CUSTADMIN_ISSUER", "https://auth.example.com"),
    ("CUSTADMIN_SITE_NAME", "Example Hosting"),
    ("CUSTADMIN_LOGO_FILE", SVG_LOGO),
    ("CUSTADMIN_BRAND_COLOR", "#0B5CAD"),
    ("CUSTADMIN_MAIL_FROM", "noreply@example.com"),
];

on_both_databases!(with BRANDED;
    the_otp_app_shows_the_site_name_and_tokens_keep_the_issuer,
    passkey_dialogs_name_the_site,
    mails_come_from_the_site_name_say_it_in_the_subject_and_sign_with_it,
);

/// `logo-<first 16 hex digits of the file's SHA-256>.<ext>`, worked out here independently.
fn logo_file_name(path: &str, extension: &str) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("logo-{}.{extension}", &hex[..16])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_brand_the_config_names_custadmin_and_no_logo_is_served() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let config = app.api.public_settings().await;
    assert_eq!(config.body["site_name"], "custadmin");
    assert_eq!(config.body["issuer"], "custadmin");
    assert_eq!(config.body["logo_url"], json!(null));
    assert_eq!(config.body["brand_color"], json!(null));
    app.api
        .brand_file(&logo_file_name(SVG_LOGO, "svg"))
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_names_the_brand_and_the_logo_is_served_by_its_content() {
    let app = spawn_app_with(Backend::Sqlite, BRANDED).await;
    let config = app.api.public_settings().await;
    let file = logo_file_name(SVG_LOGO, "svg");
    assert_eq!(
        config.assert_ok(),
        &json!({
            "signup_enabled": true,
            "issuer": "https://auth.example.com",
            "support_contact": null,
            "site_name": "Example Hosting",
            "logo_url": format!("/api/v1/brand/{file}"),
            "brand_color": "#0b5cad",
        })
    );

    let logo = app.api.brand_file(&file).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.bytes, std::fs::read(SVG_LOGO).unwrap());
    assert_eq!(logo.content_type(), "image/svg+xml");
    let header = |name: &str| {
        logo.headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    // Opened on its own, the SVG's script must not run: no script source, and sandboxed.
    assert_eq!(
        header("content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    );

    // An older logo's name, another extension, anything else: a 404 problem.
    for wrong in [
        "logo-0000000000000000.svg".to_string(),
        file.replace(".svg", ".png"),
        file.to_uppercase(),
        "..%2Fconfig".to_string(),
    ] {
        app.api
            .brand_file(&wrong)
            .await
            .assert_problem(404, "not_found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_png_logo_is_served_as_png() {
    let app = spawn_app_with(Backend::Sqlite, &[("CUSTADMIN_LOGO_FILE", PNG_LOGO)]).await;
    let file = logo_file_name(PNG_LOGO, "png");
    let config = app.api.public_settings().await;
    assert_eq!(config.body["logo_url"], format!("/api/v1/brand/{file}"));
    let logo = app.api.brand_file(&file).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.content_type(), "image/png");
    assert_eq!(logo.bytes, std::fs::read(PNG_LOGO).unwrap());
    assert_eq!(
        logo.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

async fn the_otp_app_shows_the_site_name_and_tokens_keep_the_issuer(app: TestApp) {
    let session = app.signed_in_customer("alice").await;
    assert_eq!(
        claims_of(&session.access_token)["iss"],
        "https://auth.example.com",
        "integrators pin the issuer"
    );
    let enrollment = app
        .api
        .enroll_two_factor(&session.access_token, json!({}))
        .await;
    let secret = enrollment.assert_ok()["secret"].as_str().unwrap();
    assert_eq!(
        enrollment.body["otpauth_uri"],
        format!("otpauth://totp/Example%20Hosting:alice?secret={secret}&issuer=Example%20Hosting&algorithm=SHA1&digits=6&period=30")
    );
}

async fn passkey_dialogs_name_the_site(app: TestApp) {
    let session = app.signed_in_customer("pia").await;
    let started = app
        .api
        .start_passkey_registration(&session.access_token, json!({"name": "Laptop"}))
        .await;
    let rp = &started.assert_ok()["options"]["publicKey"]["rp"];
    assert_eq!(rp["name"], "Example Hosting", "{rp}");
    assert_eq!(
        rp["id"], "localhost",
        "the relying party itself is the public URL's host"
    );
}

async fn mails_come_from_the_site_name_say_it_in_the_subject_and_sign_with_it(app: TestApp) {
    app.api
        .register(json!({"username": "vera", "password": PASSWORD, "email": "vera@example.com"}))
        .await
        .assert_ok();
    let link = single_mail(&app).await;
    assert_eq!(link.from, "\"Example Hosting\" <noreply@example.com>");
    assert_eq!(link.subject, "Confirm your email address · Example Hosting");
    assert!(
        signed_by(&link, "Kind regards,\nExample Hosting"),
        "{}",
        link.text
    );
    app.api
        .verify_email(json!({"token": link.link_token()}))
        .await
        .assert_ok();

    // A notice, in the account's language.
    let session = crate::helpers::session_from(&app.api.login("vera", PASSWORD).await);
    app.api
        .update_account(&session.access_token, json!({"language": "cs"}))
        .await
        .assert_ok();
    app.api
        .change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await
        .assert_ok();
    let notice = single_mail(&app).await;
    assert_eq!(notice.from, "\"Example Hosting\" <noreply@example.com>");
    assert_eq!(notice.subject, "Vaše heslo bylo změněno · Example Hosting");
    assert!(
        signed_by(&notice, "S pozdravem\nExample Hosting"),
        "{}",
        notice.text
    );
    assert!(
        notice.html.contains("Example Hosting</p>"),
        "{}",
        notice.html
    );
}

/// Whether the mail's text ends with `signature` (mail lines end in CRLF on the wire).
fn signed_by(mail: &Mail, signature: &str) -> bool {
    mail.text
        .replace("\r\n", "\n")
        .trim_end()
        .ends_with(signature)
}

async fn single_mail(app: &TestApp) -> Mail {
    let mut mails = crate::email::mails_within_two_seconds(app, 1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    mails.remove(0)
}
