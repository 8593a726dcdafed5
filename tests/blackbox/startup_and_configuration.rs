//! Start-up: key files and database on first start, what survives a restart, and how bad keys
//! or bad configuration stop the server before it serves anything.

use std::os::unix::fs::PermissionsExt;

use custadmin_blackbox::{Customers, Launch, TempDir};
use serde_json::json;

const KEY_FILES: [&str; 2] = ["jwt-signing-key.pem", "secret-encryption.key"];

#[tokio::test]
async fn first_start_creates_owner_only_keys_and_the_database_and_a_restart_keeps_keys_and_accounts(
) {
    // Arrange: an empty working folder; the data folder does not exist yet.
    let dir = TempDir::new("first-start");
    let launch = Launch::new(dir.path());
    let data_dir = launch.data_dir();

    // Act: first start.
    let server = launch.serve();
    let api = server.api();

    // Assert: both keys, owner-only, and the SQLite database exist; the server is healthy.
    for name in KEY_FILES {
        let mode = std::fs::metadata(data_dir.join(name))
            .unwrap_or_else(|error| panic!("{name} was not created: {error}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} has mode {:o}", mode & 0o777);
    }
    assert!(data_dir.join("custadmin.sqlite3").is_file());
    let health = api.health().await;
    assert_eq!(
        health.assert_status(200),
        &json!({"status": "ok", "database": "ok"})
    );
    let jwks = api.jwks().await;
    let kid = jwks.assert_status(200)["keys"][0]["kid"].clone();
    assert!(kid.is_string(), "{jwks:?}");
    api.register_customer("alice", None).await;
    let keys_before: Vec<Vec<u8>> = KEY_FILES
        .iter()
        .map(|name| std::fs::read(data_dir.join(name)).unwrap())
        .collect();

    // Act: stop and start again on the same data folder.
    server.stop();
    let server = launch.serve();
    let api = server.api();

    // Assert: same keys (same kid), and the account is still there.
    let keys_after: Vec<Vec<u8>> = KEY_FILES
        .iter()
        .map(|name| std::fs::read(data_dir.join(name)).unwrap())
        .collect();
    assert_eq!(keys_before, keys_after, "the key files changed on restart");
    let jwks = api.jwks().await;
    assert_eq!(jwks.assert_status(200)["keys"][0]["kid"], kid);
    let token = api.access_token("alice").await;
    let account = api.account(&token).await;
    assert_eq!(account.assert_status(200)["username"], "alice");
}

#[test]
fn a_malformed_secret_key_file_stops_start_up_naming_the_file_and_is_left_unchanged() {
    // Arrange
    let dir = TempDir::new("malformed-key");
    let launch = Launch::new(dir.path());
    let key_file = launch.data_dir().join("secret-encryption.key");
    std::fs::create_dir_all(launch.data_dir()).unwrap();
    std::fs::write(&key_file, "garbage").unwrap();

    // Act
    let finished = launch.run(&["serve"], None);

    // Assert
    assert!(!finished.status.success(), "{finished:?}");
    assert!(
        finished.stderr.contains(key_file.to_str().unwrap()),
        "stderr does not name {}: {finished:?}",
        key_file.display()
    );
    assert!(!finished.stderr.contains("panicked"), "{finished:?}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), "garbage");
}

#[test]
fn a_named_jwt_key_file_that_does_not_exist_stops_start_up_naming_the_file() {
    // Arrange
    let dir = TempDir::new("missing-key");
    let missing = dir.path().join("keys").join("missing-signing-key.pem");
    let launch = Launch::new(dir.path()).env("CUSTADMIN_JWT_KEY_FILE", missing.to_str().unwrap());

    // Act
    let finished = launch.run(&["serve"], None);

    // Assert: refused, named, and not silently created.
    assert!(!finished.status.success(), "{finished:?}");
    assert!(
        finished.stderr.contains(missing.to_str().unwrap()),
        "stderr does not name {}: {finished:?}",
        missing.display()
    );
    assert!(!finished.stderr.contains("panicked"), "{finished:?}");
    assert!(!missing.exists(), "a named key file must not be created");
}

#[test]
fn bad_configuration_values_and_unknown_settings_stop_start_up_naming_the_variable() {
    let dir = TempDir::new("bad-config");
    let cases = [
        ("CUSTADMIN_BIND", "nonsense"),
        ("CUSTADMIN_SIGNUP", "maybe"),
        ("CUSTADMIN_NO_SUCH_SETTING", "1"),
        // Passkeys need a host name as relying party id; browsers refuse an IP address.
        ("CUSTADMIN_PUBLIC_URL", "http://192.0.2.7:8080"),
        // Revocations must reach every instance within seconds.
        ("CUSTADMIN_SESSION_CHECK_REUSE_MS", "60000"),
        // White text on the brand colour must stay readable (4.5:1).
        ("CUSTADMIN_BRAND_COLOR", "#777777"),
        // Neither PNG nor SVG.
        (
            "CUSTADMIN_LOGO_FILE",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ),
        ("CUSTADMIN_SITE_NAME", "Example: Hosting"),
    ];
    for (variable, value) in cases {
        // Arrange
        let launch = Launch::new(dir.path()).env(variable, value);

        // Act
        let finished = launch.run(&["serve"], None);

        // Assert
        assert!(
            !finished.status.success(),
            "{variable}={value}: {finished:?}"
        );
        assert!(
            finished
                .stderr
                .contains(&format!("custadmin: configuration error: {variable}")),
            "{variable}={value}: {finished:?}"
        );
        assert!(
            !finished.stderr.contains("panicked"),
            "{variable}={value}: {finished:?}"
        );
    }
}
