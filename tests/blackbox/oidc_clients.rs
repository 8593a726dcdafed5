//! The OpenID Connect provider's operator side, through the real binary: `custadmin
//! oidc-client` registering, listing, rotating and deleting clients (on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set), and the RSA signing key ring that `custadmin
//! keys` rotates, lists and retires with the Ed25519 one.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use custadmin_blackbox::{Finished, Launch, PgDatabase, TempDir};
use serde_json::Value;

fn json_of(finished: &Finished) -> Value {
    assert!(finished.status.success(), "{finished:?}");
    serde_json::from_str(&finished.stdout)
        .unwrap_or_else(|error| panic!("JSON on stdout: {error}: {finished:?}"))
}

fn assert_bad_input(finished: &Finished, says: &str) {
    assert_eq!(finished.status.code(), Some(2), "{finished:?}");
    assert!(finished.stderr.contains(says), "{finished:?}");
    assert!(finished.stdout.is_empty(), "{finished:?}");
}

/// Registers, lists, rotates and deletes clients as an operator does.
fn client_life_cycle(launch: &Launch) {
    // Act: a confidential client, and a native public one.
    let forum = json_of(&launch.run(
        &[
            "oidc-client",
            "create",
            "--name",
            "Forum",
            "--redirect-uri",
            "https://forum.example.com/cb",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--post-logout-redirect-uri",
            "https://forum.example.com/bye",
            "--require-two-factor",
        ],
        None,
    ));
    let app = json_of(&launch.run(
        &[
            "oidc-client",
            "create",
            "--name",
            "Phone app",
            "--public",
            "--redirect-uri",
            "com.example.app:/cb",
            "--id-token-alg",
            "EdDSA",
            "--offer-two-factor-setup",
        ],
        None,
    ));

    // Assert: the secret is shown once, for the confidential client only.
    let forum_id = forum["client_id"].as_str().unwrap().to_string();
    let secret = forum["client_secret"].as_str().unwrap().to_string();
    assert!(forum_id.starts_with("ca_"), "{forum}");
    assert_eq!(secret.len(), 43, "256 bits, base64url");
    assert_eq!(forum["public"], false);
    assert_eq!(forum["require_two_factor"], true);
    assert_eq!(forum["id_token_signed_response_alg"], "RS256");
    assert_eq!(
        forum["redirect_uris"],
        serde_json::json!(["https://forum.example.com/cb", "http://localhost:3000/cb"])
    );
    assert_eq!(
        forum["post_logout_redirect_uris"],
        serde_json::json!(["https://forum.example.com/bye"])
    );
    let app_id = app["client_id"].as_str().unwrap().to_string();
    assert!(app.get("client_secret").is_none(), "{app}");
    assert_eq!(app["public"], true);
    assert_eq!(app["offer_two_factor_setup"], true);
    assert_eq!(app["id_token_signed_response_alg"], "EdDSA");

    // Bad input: a clear message and exit code 2; nothing registered.
    for (args, says) in [
        (
            vec![
                "--name",
                "X",
                "--redirect-uri",
                "http://forum.example.com/cb",
            ],
            "loopback",
        ),
        (
            vec!["--name", "X", "--redirect-uri", "https://x.example/cb#f"],
            "fragment",
        ),
        (
            vec!["--name", "X", "--redirect-uri", "com.example.app:/cb"],
            "public client",
        ),
        (
            vec!["--name", "X", "--redirect-uri", "javascript:alert(1)"],
            "private-use scheme",
        ),
        (
            vec![
                "--name",
                "X",
                "--redirect-uri",
                "https://x.example/cb",
                "--id-token-alg",
                "HS256",
            ],
            "RS256 or EdDSA",
        ),
        (
            vec!["--name", " ", "--redirect-uri", "https://x.example/cb"],
            "name",
        ),
    ] {
        let mut command = vec!["oidc-client", "create"];
        command.extend(args);
        assert_bad_input(&launch.run(&command, None), says);
    }
    let missing = launch.run(&["oidc-client", "create", "--name", "X"], None);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");

    // The listing has both, and no secret.
    let listing = launch.run(&["oidc-client", "list"], None);
    let listed = json_of(&listing);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|client| client["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(ids.contains(&forum_id.as_str()) && ids.contains(&app_id.as_str()));
    assert!(!listing.stdout.contains(&secret));
    assert!(!listing.stdout.contains("client_secret"));

    // A new secret for the confidential client; none for the public one or an unknown id.
    let rotated = json_of(&launch.run(&["oidc-client", "rotate-secret", &forum_id], None));
    assert_eq!(rotated["client_id"], forum_id.as_str());
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(new_secret.len(), 43);
    assert_bad_input(
        &launch.run(&["oidc-client", "rotate-secret", &app_id], None),
        "public client",
    );
    assert_bad_input(
        &launch.run(&["oidc-client", "rotate-secret", "ca_nope"], None),
        "no OpenID Connect client",
    );

    // Deleting: gone from the listing; a second delete is bad input.
    let deleted = json_of(&launch.run(&["oidc-client", "delete", &forum_id], None));
    assert_eq!(deleted["deleted"], true);
    let listed = json_of(&launch.run(&["oidc-client", "list"], None));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["client_id"], app_id.as_str());
    assert_bad_input(
        &launch.run(&["oidc-client", "delete", &forum_id], None),
        "no OpenID Connect client",
    );
}

#[test]
fn an_operator_registers_lists_rotates_and_deletes_clients_on_sqlite() {
    let dir = TempDir::new("oidc-clients");
    client_life_cycle(&Launch::new(dir.path()));
}

#[test]
fn an_operator_registers_lists_rotates_and_deletes_clients_on_postgresql() {
    let Some(database) = PgDatabase::create_if_configured(
        "an_operator_registers_lists_rotates_and_deletes_clients_on_postgresql",
    ) else {
        return;
    };
    let dir = TempDir::new("oidc-clients-pg");
    client_life_cycle(&Launch::new(dir.path()).env("CUSTADMIN_DATABASE_URL", database.url()));
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn kids_of_type(jwks: &Value, kty: &str) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["kty"] == kty)
        .map(|key| key["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rsa_key_ring_is_made_on_first_start_and_rotates_with_the_ed25519_one() {
    // Arrange: a deployment from before the OpenID Connect provider: its keys folder has the
    // Ed25519 and encryption keys only.
    let dir = TempDir::new("oidc-keys");
    let launch = Launch::new(dir.path());
    let folder = launch.data_dir();
    let first = launch.run(&["keys", "status"], None);
    assert!(first.status.success(), "{first:?}");
    std::fs::remove_file(folder.join("oidc-rsa-signing-key.pem")).unwrap();
    let ed25519_key = std::fs::read(folder.join("jwt-signing-key.pem")).unwrap();

    // Act: it starts.
    let server = launch.serve();
    let api = server.api();

    // Assert: RSA key 1 was made (owner-only), the other keys left as they were, and the
    // JWKS and the discovery document serve it.
    let rsa_key = folder.join("oidc-rsa-signing-key.pem");
    assert_eq!(mode_of(&rsa_key), 0o600);
    let pem = std::fs::read_to_string(&rsa_key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
    assert_eq!(
        std::fs::read(folder.join("jwt-signing-key.pem")).unwrap(),
        ed25519_key
    );
    let jwks = api.jwks().await.assert_status(200).clone();
    let (ed_kids, rsa_kids) = (kids_of_type(&jwks, "OKP"), kids_of_type(&jwks, "RSA"));
    assert_eq!((ed_kids.len(), rsa_kids.len()), (1, 1), "{jwks}");
    let discovery = api.openid_configuration().await.assert_status(200).clone();
    assert_eq!(
        discovery["jwks_uri"],
        format!(
            "{}/.well-known/jwks.json",
            discovery["issuer"].as_str().unwrap()
        )
    );

    // Act: rotate the signing keys while it serves.
    let rotated = launch.run(&["keys", "rotate-signing"], None);

    // Assert: one new key of each kind, both listed by status.
    assert!(rotated.status.success(), "{rotated:?}");
    assert!(
        rotated.stdout.contains("OpenID Connect RSA key 2"),
        "{rotated:?}"
    );
    assert_eq!(mode_of(&folder.join("oidc-rsa-signing-key-2.pem")), 0o600);
    assert_eq!(mode_of(&folder.join("jwt-signing-key-2.pem")), 0o600);
    let status = launch.run(&["keys", "status"], None);
    assert!(status.status.success(), "{status:?}");
    let rsa_section = status
        .stdout
        .split("OpenID Connect RSA signing keys")
        .nth(1)
        .unwrap_or_else(|| panic!("{status:?}"));
    assert!(
        rsa_section.contains(&format!("kid {} verifies only", rsa_kids[0])),
        "{status:?}"
    );
    assert!(
        rsa_section.contains("current") && rsa_section.contains("oidc-rsa-signing-key-2.pem"),
        "{status:?}"
    );

    // Retiring is refused while tokens of the old keys may live, then drops both old keys.
    let refused = launch.run(&["keys", "retire-signing"], None);
    assert!(
        !refused.status.success() && refused.stderr.contains("retire after"),
        "{refused:?}"
    );
    let retired = launch.run(&["keys", "retire-signing", "--immediately"], None);
    assert!(retired.status.success(), "{retired:?}");
    assert!(!rsa_key.exists());
    assert!(!folder.join("jwt-signing-key.pem").exists());
    let status = launch.run(&["keys", "status"], None);
    assert!(!status.stdout.contains(&rsa_kids[0]), "{status:?}");
    assert!(!status.stdout.contains("verifies only"), "{status:?}");
    server.stop();
}
