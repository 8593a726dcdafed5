//! Two instances on one PostgreSQL database, as behind a load balancer: sessions, revocation,
//! TOTP replay protection and the OpenID Connect provider's state hold across them. Runs only
//! when TEST_DATABASE_URL is set.

use custadmin_blackbox::{
    totp_code, unix_now, Customers, Launch, PgDatabase, Reply, TempDir, PASSWORD,
};
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

const RP_REDIRECT: &str = "https://forum.example.com/cb";
/// RFC 7636's example pair.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A query parameter of a URL whose values need no decoding (codes and ids are base64url).
fn parameter(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_string())
    })
}

/// The relying party as the CLI registered it.
struct RelyingParty {
    id: String,
    secret: String,
}

impl RelyingParty {
    /// An authorization request sent to `server`; answers the SPA's request id.
    async fn request_on(&self, server: &custadmin_blackbox::Server) -> String {
        // Not following the redirect: it goes to the SPA at the public URL.
        let front = custadmin_client::Client::new(server.base_url());
        let query = custadmin_client::form_encoded(&[
            ("response_type", "code"),
            ("client_id", &self.id),
            ("redirect_uri", RP_REDIRECT),
            ("scope", "openid profile offline_access"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        let reply = front.authorize(&query).await;
        assert_eq!(reply.status, 303, "{reply:?}");
        let location = reply.headers["location"].to_str().unwrap();
        parameter(location, "request").unwrap_or_else(|| panic!("{location}"))
    }

    async fn redeem(&self, api: &custadmin_client::Client, code: &str) -> Reply {
        api.oidc_token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &self.id),
            ("client_secret", &self.secret),
        ])
        .await
    }

    async fn refresh(&self, api: &custadmin_client::Client, refresh_token: &str) -> Reply {
        api.oidc_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &self.id),
            ("client_secret", &self.secret),
        ])
        .await
    }
}

/// The customer's yes on `api`: answers the code.
async fn approve(api: &custadmin_client::Client, token: &str, request: &str) -> String {
    let approved = api
        .approve_authorization_request(token, request, json!({"consent": true}))
        .await;
    let to = approved.assert_status(200)["redirect_to"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(to.starts_with(RP_REDIRECT), "{to}");
    parameter(&to, "code").unwrap_or_else(|| panic!("{to}"))
}

#[tokio::test]
async fn two_instances_on_one_postgres_database_share_the_openid_connect_state() {
    let Some(database) = PgDatabase::create_if_configured(
        "two_instances_on_one_postgres_database_share_the_openid_connect_state",
    ) else {
        return;
    };
    let dir = TempDir::new("postgres-oidc");
    // One public URL, as behind a load balancer: it is the issuer of what either one signs.
    let launch = Launch::new(dir.path())
        .env("CUSTADMIN_DATABASE_URL", database.url())
        .env("CUSTADMIN_PUBLIC_URL", "https://admin.example.com");
    let server_a = launch.serve();
    let server_b = launch.serve();
    let (a, b) = (server_a.api(), server_b.api());
    // Registered by the operator's command, on the same database.
    let created = launch.run(
        &[
            "oidc-client",
            "create",
            "--name",
            "Forum",
            "--redirect-uri",
            RP_REDIRECT,
        ],
        None,
    );
    assert!(created.status.success(), "{created:?}");
    let created: serde_json::Value = serde_json::from_str(&created.stdout).unwrap();
    let rp = RelyingParty {
        id: created["client_id"].as_str().unwrap().to_string(),
        secret: created["client_secret"].as_str().unwrap().to_string(),
    };
    a.register_customer("grace", None).await;
    let token = b.access_token("grace").await;

    // Asked on A, approved on B, redeemed on A.
    let request = rp.request_on(&server_a).await;
    let code = approve(&b, &token, &request).await;
    let tokens = rp.redeem(&a, &code).await;
    let tokens = tokens.assert_status(200).clone();
    b.userinfo(tokens["access_token"].as_str().unwrap())
        .await
        .assert_status(200);
    // The same request cannot be answered again on the other instance.
    a.approve_authorization_request(&token, &request, json!({"consent": true}))
        .await
        .assert_problem(404, "not_found");

    // The code replayed on B: refused, and the grant its redemption on A opened is revoked.
    let replayed = rp.redeem(&b, &code).await;
    assert_eq!(replayed.status, 400, "{replayed:?}");
    assert_eq!(replayed.body["error"], "invalid_grant");
    let refused = rp
        .refresh(&a, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refused.body["error"], "invalid_grant", "{refused:?}");
    assert_eq!(
        b.userinfo(tokens["access_token"].as_str().unwrap())
            .await
            .status,
        401
    );

    // A new grant through B; the customer removes the app on A; a refresh on B is refused.
    let request = rp.request_on(&server_b).await;
    let code = approve(&a, &token, &request).await;
    let tokens = rp.redeem(&b, &code).await;
    let tokens = tokens.assert_status(200).clone();
    let renewed = rp
        .refresh(&b, tokens["refresh_token"].as_str().unwrap())
        .await;
    let renewed = renewed.assert_status(200).clone();
    a.remove_app(&token, &rp.id).await.assert_status(204);
    let refused = rp
        .refresh(&b, renewed["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refused.status, 400, "{refused:?}");
    assert_eq!(refused.body["error"], "invalid_grant");

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
