//! Two instances on one PostgreSQL database, as behind a load balancer: sessions, revocation
//! and TOTP replay protection hold across them. Runs only when TEST_DATABASE_URL is set.

use custadmin_blackbox::{totp_code, unix_now, Launch, PgDatabase, TempDir};
use serde_json::json;

#[tokio::test]
async fn two_instances_on_one_postgres_database_share_sessions_revocation_and_used_codes() {
    let Some(database) = PgDatabase::create_if_configured(
        "two_instances_on_one_postgres_database_share_sessions_revocation_and_used_codes",
    ) else {
        return;
    };
    // Arrange: A starts first and creates the keys; B shares the data folder, so the keys.
    let dir = TempDir::new("postgres");
    let launch = Launch::new(dir.path()).env("CUSTADMIN_DATABASE_URL", database.url());
    let server_a = launch.serve();
    let server_b = launch.serve();
    let (a, b) = (server_a.api(), server_b.api());
    let health = b.get("/health", None).await;
    assert_eq!(
        health.assert_status(200),
        &json!({"status": "ok", "database": "ok"})
    );
    assert!(
        !launch.data_dir().join("custadmin.sqlite3").exists(),
        "PostgreSQL was asked for, yet a SQLite file appeared"
    );

    // Act + assert: registered on A, signed in on B, the token works on A.
    a.register("grace", None).await;
    let token_b = b.access_token("grace").await;
    a.get("/account", Some(&token_b)).await.assert_status(200);

    // Act + assert: logging out on B revokes the session for A at once.
    b.post("/auth/logout", None, Some(&token_b))
        .await
        .assert_status(204);
    a.get("/account", Some(&token_b))
        .await
        .assert_problem(401, "invalid_token");

    // Arrange: two-factor on, enrolled through A.
    let token_a = a.access_token("grace").await;
    let enrolment = a
        .post(
            "/account/two-factor/enroll",
            Some(json!({})),
            Some(&token_a),
        )
        .await;
    let secret = enrolment.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let confirmed_at = unix_now();
    a.post(
        "/account/two-factor/confirm",
        Some(json!({"code": totp_code(&secret, confirmed_at)})),
        Some(&token_a),
    )
    .await
    .assert_status(200);
    let challenge_a = a.challenge_token("grace").await;
    let challenge_b = b.challenge_token("grace").await;
    let code = totp_code(&secret, confirmed_at + 30);

    // Act: the same code on A, then on B.
    let on_a = a
        .post(
            "/auth/otp",
            Some(json!({"challenge_token": challenge_a, "code": code})),
            None,
        )
        .await;
    let on_b = b
        .post(
            "/auth/otp",
            Some(json!({"challenge_token": challenge_b, "code": code})),
            None,
        )
        .await;

    // Assert: accepted once, refused as a replay on the other instance.
    assert_eq!(on_a.assert_status(200)["status"], "authenticated");
    on_b.assert_problem(400, "invalid_code");

    server_a.stop();
    server_b.stop();
}
