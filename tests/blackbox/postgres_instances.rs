//! Two instances on one PostgreSQL database, as behind a load balancer: sessions, revocation
//! and TOTP replay protection hold across them. Runs only when TEST_DATABASE_URL is set.

use custadmin_blackbox::{totp_code, unix_now, Customers, Launch, PgDatabase, TempDir, PASSWORD};
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
    let health = b.health().await;
    assert_eq!(
        health.assert_status(200),
        &json!({"status": "ok", "database": "ok"})
    );
    assert!(
        !launch.data_dir().join("custadmin.sqlite3").exists(),
        "PostgreSQL was asked for, yet a SQLite file appeared"
    );

    // Act + assert: registered on A, signed in on B, the token works on A.
    a.register_customer("grace", None).await;
    let token_b = b.access_token("grace").await;
    a.account(&token_b).await.assert_status(200);

    // Act + assert: logging out on B revokes the session for A at once (on PostgreSQL no
    // instance reuses a session check unless CUSTADMIN_SESSION_CHECK_REUSE_MS says so).
    b.log_out(&token_b).await.assert_status(204);
    a.account(&token_b)
        .await
        .assert_problem(401, "invalid_token");

    // Arrange: two-factor on, enrolled through A.
    let token_a = a.access_token("grace").await;
    let enrolment = a.enroll_two_factor(&token_a, json!({})).await;
    let secret = enrolment.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let confirmed_at = unix_now();
    a.confirm_two_factor(&token_a, json!({"code": totp_code(&secret, confirmed_at)}))
        .await
        .assert_status(200);
    let challenge_a = a.challenge_token("grace").await;
    let challenge_b = b.challenge_token("grace").await;
    let code = totp_code(&secret, confirmed_at + 30);

    // Act: the same code on A, then on B.
    let on_a = a.verify_otp(&challenge_a, &code).await;
    let on_b = b.verify_otp(&challenge_b, &code).await;

    // Assert: accepted once, refused as a replay on the other instance.
    assert_eq!(on_a.assert_status(200)["status"], "authenticated");
    on_b.assert_problem(400, "invalid_code");

    server_a.stop();
    server_b.stop();
}

#[tokio::test]
async fn failures_split_across_two_instances_lock_the_account() {
    let Some(database) =
        PgDatabase::create_if_configured("failures_split_across_two_instances_lock_the_account")
    else {
        return;
    };
    let dir = TempDir::new("postgres-lock");
    let launch = Launch::new(dir.path()).env("CUSTADMIN_DATABASE_URL", database.url());
    let (server_a, server_b) = (launch.serve(), launch.serve());
    let (a, b) = (server_a.api(), server_b.api());
    a.register_customer("heidi", None).await;
    for attempt in 0..10 {
        let instance = if attempt % 2 == 0 { &a } else { &b };
        instance
            .login("heidi", "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // Ten failures in all, five on each: both instances refuse even the right password.
    for instance in [&a, &b] {
        let locked = instance.login("heidi", PASSWORD).await;
        locked.assert_problem(429, "too_many_attempts");
        assert!(locked.headers.get("retry-after").is_some());
    }
}

#[tokio::test]
async fn killing_one_instance_during_sign_ups_loses_no_acknowledged_account() {
    let Some(database) = PgDatabase::create_if_configured(
        "killing_one_instance_during_sign_ups_loses_no_acknowledged_account",
    ) else {
        return;
    };
    let dir = TempDir::new("postgres-kill");
    let launch = Launch::new(dir.path()).env("CUSTADMIN_DATABASE_URL", database.url());
    let (server_a, server_b) = (launch.serve(), launch.serve());
    let (a, b) = (server_a.api(), server_b.api());

    // A burst of sign-ups on A; A is killed (SIGKILL) once the first twenty are acknowledged.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut sign_ups = tokio::task::JoinSet::new();
    for index in 0..150 {
        let (a, acknowledged) = (a.clone(), acknowledged.clone());
        sign_ups.spawn(async move {
            let username = format!("burst-{index}");
            let body = json!({"username": username, "password": custadmin_blackbox::PASSWORD});
            if let Ok(response) = a.register(body).outcome().await {
                if response.status == 201 {
                    acknowledged.lock().unwrap().push(username);
                }
            }
        });
    }
    while acknowledged.lock().unwrap().len() < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-KILL", &server_a.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    while sign_ups.join_next().await.is_some() {}

    // B keeps serving, and every acknowledged account is there.
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 20);
    b.health().await.assert_status(200);
    for username in &acknowledged {
        let reply = b.login(username, PASSWORD).await;
        assert_eq!(
            reply.body["status"], "authenticated",
            "{username}: {reply:?}"
        );
    }
    drop(server_a);
}

/// A PostgreSQL server of this test's own (initdb in a temp folder, a free port), so stopping
/// it never touches the machine's shared server.
struct OwnPostgres {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl OwnPostgres {
    fn start(dir: &std::path::Path) -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql")
            .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
            .find(|bin| bin.join("initdb").exists())
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).unwrap();
        // PostgreSQL refuses to run as root: hand the folder to the postgres user.
        let as_postgres_user = std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
            .unwrap_or(false);
        if as_postgres_user {
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres", dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let postgres = Self {
            bin,
            data,
            port,
            as_postgres_user,
        };
        postgres.run(
            "initdb",
            &[
                "-D",
                postgres.data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        postgres.resume();
        postgres
    }

    fn command(&self, program: &str) -> std::process::Command {
        let program = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            std::process::Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .expect("run a PostgreSQL tool");
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-l",
                self.data.join("log").to_str().unwrap(),
                "start",
            ],
        );
    }

    fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test]
async fn a_stopped_database_gives_503_answers_and_service_resumes_when_it_returns() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        println!("a_stopped_database_gives_503_answers_and_service_resumes_when_it_returns: skipped: TEST_DATABASE_URL not set");
        return;
    }
    let dir = TempDir::new("postgres-fault");
    let postgres = OwnPostgres::start(dir.path());
    let launch = Launch::new(dir.path())
        .env("CUSTADMIN_DATABASE_URL", &postgres.url())
        .env(
            "CUSTADMIN_DATA_DIR",
            dir.path().join("custadmin").to_str().unwrap(),
        );
    let server = launch.serve();
    let api = server.api();
    api.register_customer("ivan", None).await;
    let token = api.access_token("ivan").await;

    postgres.stop();
    let health = api.health().await;
    assert_eq!(health.status, 503);
    assert_eq!(health.body["database"], "unavailable");
    api.login("ivan", PASSWORD)
        .await
        .assert_problem(503, "database_unavailable");
    api.account(&token)
        .await
        .assert_problem(503, "database_unavailable");

    postgres.resume();
    let mut healthy = false;
    for _ in 0..40 {
        if api.health().await.status == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(healthy, "the server reconnects by itself");
    api.account(&token).await.assert_status(200);
    assert_eq!(
        api.login("ivan", PASSWORD).await.body["status"],
        "authenticated"
    );
    server.stop();
}
