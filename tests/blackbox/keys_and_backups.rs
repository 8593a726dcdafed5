//! Running it for years, through the real binary: `custadmin backup` while customers sign up
//! and sign in, `custadmin restore` into a fresh folder and a server on it; `custadmin keys`
//! rotating both keys while a server serves, which reads them without a restart.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use custadmin_blackbox::{
    jwt_part, totp_code, unix_now, Client, Customers, Finished, Launch, PgDatabase, TempDir,
    PASSWORD,
};
use serde_json::{json, Value};

/// A customer with two-factor on: the secret, the recovery codes, and the step last used.
struct TwoFactorCustomer {
    username: String,
    secret: String,
    recovery_codes: Vec<String>,
}

async fn two_factor_customer(api: &Client, username: &str) -> TwoFactorCustomer {
    api.register_customer(username, None).await;
    let token = api.access_token(username).await;
    let enrolment = api.enroll_two_factor(&token, json!({})).await;
    let secret = enrolment.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let confirmation = api
        .confirm_two_factor(&token, json!({"code": totp_code(&secret, unix_now())}))
        .await;
    let recovery_codes = confirmation.assert_status(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_string())
        .collect();
    TwoFactorCustomer {
        username: username.to_string(),
        secret,
        recovery_codes,
    }
}

/// Waits for the next TOTP step, so its code is unused, and signs in with it.
async fn sign_in_with_next_code(api: &Client, customer: &TwoFactorCustomer) -> Value {
    let now = unix_now();
    tokio::time::sleep(Duration::from_secs(30 - now % 30)).await;
    let challenge = api.challenge_token(&customer.username).await;
    let reply = api
        .verify_otp(&challenge, totp_code(&customer.secret, unix_now()))
        .await;
    reply.assert_status(200).clone()
}

async fn run(launch: &Launch, args: &[&str]) -> Finished {
    let (launch, args) = (
        launch.clone(),
        args.iter().map(|arg| arg.to_string()).collect::<Vec<_>>(),
    );
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        launch.run(&args, None)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_sign_ups_and_sign_ins_restores_and_serves() {
    // Arrange: a server with a two-factor customer, and customers signing up and in
    // meanwhile.
    let dir = TempDir::new("backup");
    let launch = Launch::new(dir.path());
    let server = launch.serve();
    let api = server.api();
    let erin = two_factor_customer(&api, "erin").await;
    api.register_customer("before", None).await;
    let stop = Arc::new(AtomicBool::new(false));
    let signed_up = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for worker in 0..3 {
        let (api, stop, signed_up) = (api.clone(), stop.clone(), signed_up.clone());
        load.push(tokio::spawn(async move {
            let mut round = 0;
            while !stop.load(Ordering::SeqCst) {
                let username = format!("load{worker}x{round}");
                api.register_customer(&username, None).await;
                api.access_token(&username).await;
                api.access_token("before").await;
                signed_up.fetch_add(1, Ordering::SeqCst);
                round += 1;
            }
        }));
    }
    while signed_up.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: back up while they write.
    let backup = dir.path().join("nightly.sqlite3");
    let backed_up = run(&launch, &["backup", "--to", backup.to_str().unwrap()]).await;
    let during = signed_up.load(Ordering::SeqCst);
    while signed_up.load(Ordering::SeqCst) < during + 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for worker in load {
        worker.await.unwrap();
    }

    // Assert: a copy and the key files beside it, owner-only.
    assert!(backed_up.status.success(), "{backed_up:?}");
    assert!(
        backed_up.stdout.contains("backed up the database"),
        "{backed_up:?}"
    );
    let keys = dir.path().join("nightly.sqlite3.keys");
    use std::os::unix::fs::PermissionsExt;
    for path in [backup.clone(), keys.join("secret-encryption.key")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{}", path.display());
    }
    // A second backup to the same file is refused rather than overwriting it.
    let again = run(&launch, &["backup", "--to", backup.to_str().unwrap()]).await;
    assert!(!again.status.success(), "{again:?}");

    // Act: restore into a fresh folder and serve it.
    let fresh_dir = TempDir::new("restored");
    let restored_launch = Launch::new(fresh_dir.path());
    let restored = run(
        &restored_launch,
        &["restore", "--from", backup.to_str().unwrap()],
    )
    .await;
    assert!(restored.status.success(), "{restored:?}");
    let again = run(
        &restored_launch,
        &["restore", "--from", backup.to_str().unwrap()],
    )
    .await;
    assert!(
        !again.status.success() && again.stderr.contains("not empty"),
        "a restore never mixes with data: {again:?}"
    );
    let restored_server = restored_launch.serve();
    let restored_api = restored_server.api();

    // Assert: the restored server signs in with password and code, and with a recovery code;
    // what was there before the backup is there, whole.
    let session = sign_in_with_next_code(&restored_api, &erin).await;
    assert_eq!(session["status"], "authenticated");
    assert_eq!(
        jwt_part(session["access_token"].as_str().unwrap(), 1)["amr"],
        json!(["pwd", "otp"])
    );
    let challenge = restored_api.challenge_token("erin").await;
    restored_api
        .otp(json!({"challenge_token": challenge, "recovery_code": erin.recovery_codes[0]}))
        .await
        .assert_status(200);
    restored_api.access_token("before").await;
    restored_api.access_token("load0x0").await;
    // Every account in the copy is whole: each signs in.
    let accounts: usize = restored
        .stdout
        .split("database (")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("{restored:?}"));
    assert!(accounts >= 2 + 5, "{restored:?}");
    let mut signed_in = 0;
    for worker in 0..3 {
        for round in 0.. {
            let username = format!("load{worker}x{round}");
            let reply = restored_api.login(&username, PASSWORD).await;
            if reply.status != 200 {
                break;
            }
            signed_in += 1;
        }
    }
    assert_eq!(
        signed_in + 2,
        accounts,
        "accounts in the copy: {restored:?}"
    );
    restored_server.stop();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_rotate_while_a_server_serves_and_it_reads_them_without_a_restart() {
    // Arrange: a serving server and a two-factor customer.
    let dir = TempDir::new("keys");
    let launch = Launch::new(dir.path());
    let server = launch.serve();
    let api = server.api();
    let erin = two_factor_customer(&api, "erin").await;
    let old_kid = api.jwks().await.assert_status(200)["keys"][0]["kid"].clone();
    assert_eq!(
        api.jwks().await.body["keys"][0]["kty"],
        "OKP",
        "Ed25519 keys come first"
    );

    // Act: rotate the encryption key (the command waits for the server to read it).
    let rotated = run(&launch, &["keys", "rotate-encryption"]).await;

    // Assert: everything sealed anew, and the old key readable until retired.
    assert!(rotated.status.success(), "{rotated:?}");
    assert!(
        rotated
            .stdout
            .contains("made k2 the current encryption key"),
        "{rotated:?}"
    );
    assert!(
        rotated.stdout.contains("nothing sealed uses k1 any more"),
        "{rotated:?}"
    );
    let status = run(&launch, &["keys", "status"]).await;
    assert!(status.status.success(), "{status:?}");
    assert!(status.stdout.contains("k2 current"), "{status:?}");
    assert!(
        status.stdout.contains("protects: 0 TOTP secrets, 0 pending TOTP enrolments, 0 queued mail bodies, 10 unused recovery codes"),
        "k1 keeps only the recovery codes it hashed: {status:?}"
    );
    sign_in_with_next_code(&api, &erin).await;
    let refused = run(&launch, &["keys", "retire-encryption"]).await;
    assert!(
        !refused.status.success() && refused.stderr.contains("retire after"),
        "too soon after the rotation: {refused:?}"
    );

    // Act: rotate the signing key; the server signs with it once it has read the folder.
    let rotated = run(&launch, &["keys", "rotate-signing"]).await;
    assert!(rotated.status.success(), "{rotated:?}");
    tokio::time::sleep(Duration::from_secs(11)).await;

    // Assert: new tokens carry the new kid, and the JWKS lists both keys.
    let session = sign_in_with_next_code(&api, &erin).await;
    let new_kid = jwt_part(session["access_token"].as_str().unwrap(), 0)["kid"].clone();
    assert_ne!(new_kid, old_kid);
    let jwks = api.jwks().await;
    // The Ed25519 keys; the OpenID Connect RSA keys rotated with them follow.
    let kids: Vec<Value> = jwks.assert_status(200)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["kty"] == "OKP")
        .map(|key| key["kid"].clone())
        .collect();
    assert_eq!(kids, vec![new_kid, old_kid]);
    let rsa_keys = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| key["kty"] == "RSA")
        .count();
    assert_eq!(rsa_keys, 2);
    let refused = run(&launch, &["keys", "retire-signing"]).await;
    assert!(!refused.status.success(), "{refused:?}");
    let retired = run(&launch, &["keys", "retire-signing", "--immediately"]).await;
    assert!(retired.status.success(), "{retired:?}");
    server.stop();
}

#[test]
fn a_postgresql_backup_is_pg_dumps_to_make() {
    let dir = TempDir::new("pg-backup");
    let launch = Launch::new(dir.path()).env(
        "CUSTADMIN_DATABASE_URL",
        "postgres://nobody@127.0.0.1:1/none",
    );
    let finished = launch.run(&["backup", "--to", "x.sqlite3"], None);
    assert!(!finished.status.success());
    assert!(finished.stderr.contains("pg_dump"), "{finished:?}");
    assert!(!dir.path().join("x.sqlite3").exists());
}

/// Signs each customer in with a code once per TOTP step, on the two instances in turn, until
/// told to stop; answers (sign-ins, failures as text).
async fn sign_in_with_codes_until(
    instances: [Client; 2],
    customers: Arc<Vec<TwoFactorCustomer>>,
    first_steps: Vec<u64>,
    stop: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let mut last_steps = first_steps;
    let (mut signed_in, mut failures) = (0, Vec::new());
    let mut turn = 0;
    while !stop.load(Ordering::SeqCst) {
        for (index, customer) in customers.iter().enumerate() {
            let now = unix_now();
            if now / 30 <= last_steps[index] {
                continue;
            }
            let api = &instances[turn % 2];
            turn += 1;
            let challenge = api.challenge_token(&customer.username).await;
            let reply = api
                .verify_otp(&challenge, totp_code(&customer.secret, now))
                .await;
            last_steps[index] = now / 30;
            if reply.status == 200 {
                signed_in += 1;
            } else {
                failures.push(format!(
                    "{} on instance {}: {reply:?}",
                    customer.username,
                    turn % 2
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (signed_in, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_encryption_key_rotates_under_code_sign_ins_on_two_postgresql_instances() {
    let Some(database) = PgDatabase::create_if_configured(
        "the_encryption_key_rotates_under_code_sign_ins_on_two_postgresql_instances",
    ) else {
        return;
    };
    // Arrange: two instances sharing the database and the keys folder, customers with
    // two-factor on, signing in with codes on both all along.
    let dir = TempDir::new("rotation");
    let launch = Launch::new(dir.path()).env("CUSTADMIN_DATABASE_URL", database.url());
    let (server_a, server_b) = (launch.serve(), launch.serve());
    let (a, b) = (server_a.api(), server_b.api());
    let mut customers = Vec::new();
    let mut first_steps = Vec::new();
    for index in 0..12 {
        let api = if index % 2 == 0 { &a } else { &b };
        customers.push(two_factor_customer(api, &format!("customer{index}")).await);
        first_steps.push(unix_now() / 30);
    }
    let customers = Arc::new(customers);
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(sign_in_with_codes_until(
        [a.clone(), b.clone()],
        customers.clone(),
        first_steps,
        stop.clone(),
    ));

    // Act: rotate on one instance's host while both serve.
    let rotated = run(&launch, &["keys", "rotate-encryption"]).await;
    let finished_step = unix_now() / 30;
    // Every customer signs in at least once more after the rotation, on either instance.
    while unix_now() / 30 <= finished_step + 1 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::SeqCst);
    let (signed_in, failures) = load.await.unwrap();

    // Assert: no sign-in failed, and nothing is left under the old key.
    assert!(rotated.status.success(), "{rotated:?}");
    assert!(
        rotated.stdout.contains("nothing sealed uses k1 any more"),
        "{rotated:?}"
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        signed_in >= 2 * customers.len(),
        "only {signed_in} sign-ins"
    );
    let status = run(&launch, &["keys", "status"]).await;
    assert!(
        status.stdout.contains("k1 retired, still readable")
            && status.stdout.contains("protects: 0 TOTP secrets"),
        "{status:?}"
    );
    // Nothing stored needs k1 any more: retiring it waits only for passwordless sign-ins
    // that may carry state sealed under it.
    let refused = run(&launch, &["keys", "retire-encryption"]).await;
    assert!(refused.stderr.contains("retire after"), "{refused:?}");
    server_a.stop();
    server_b.stop();
}
