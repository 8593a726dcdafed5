use std::collections::HashMap;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use custadmin::auth::totp::{step_of, TotpSecret};
use custadmin::config::Settings;
use custadmin::domain::clock::ManualClock;
use custadmin::service::AppState;
use custadmin::startup::Application;
use custadmin_client::StatusCode;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";

/// Runs each named test body once on SQLite and once on PostgreSQL, optionally with extra
/// settings (`with &[("CUSTADMIN_...", "...")]; name, ...`).
#[macro_export]
macro_rules! on_both_databases {
    (with $settings:expr; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                // The settings expression is written in the calling module.
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app_with(
                        $crate::helpers::Backend::Sqlite,
                        $settings,
                    )
                    .await;
                    super::$name(app).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match $crate::helpers::spawn_postgres_app_with($settings).await {
                        Some(app) => super::$name(app).await,
                        None => eprintln!("skipped: TEST_DATABASE_URL not set"),
                    }
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_databases!(with &[]; $($name),*);
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub seen_mails: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
    pub address: String,
    /// The API's client, as the SPA and integrators use it (`app.api.account(token)`).
    pub api: Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    _database: DatabaseGuard,
}

/// Removes the test's database (PostgreSQL) or folder (SQLite) when the test ends.
enum DatabaseGuard {
    Folder(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        match self {
            Self::Folder(path) => {
                let _ = std::fs::remove_dir_all(path);
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(mut connection) = PgConnection::establish(admin_url) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut connection);
                }
            }
        }
    }
}

pub async fn spawn_postgres_app_with(extra: &[(&str, &str)]) -> Option<TestApp> {
    std::env::var("TEST_DATABASE_URL").ok()?;
    Some(spawn_app_with(Backend::Postgres, extra).await)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the server with cheap password hashing, a fresh data folder and database, and a
/// clock the test moves.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let folder = std::env::temp_dir().join(format!("custadmin-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).expect("temp folder");
    let (database_url, guard) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", folder.join("test.sqlite3").display()),
            DatabaseGuard::Folder(folder.clone()),
        ),
        Backend::Postgres => {
            let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
            let name = format!("custadmin_test_{}", uuid::Uuid::new_v4().simple());
            let mut connection =
                PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut connection)
                .expect("create test database");
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("database URL has a database name");
            (
                // No TLS to the local test server: libpq's OpenSSL state must not be in use
                // by a pool's background reconnect while the test process exits.
                format!("{base}/{name}?sslmode=disable"),
                DatabaseGuard::Postgres { admin_url, name },
            )
        }
    };
    let mut environment: HashMap<String, String> = [
        ("CUSTADMIN_CONFIG", "/dev/null".to_string()),
        ("CUSTADMIN_BIND", "127.0.0.1:0".to_string()),
        ("CUSTADMIN_DATA_DIR", folder.display().to_string()),
        ("CUSTADMIN_DATABASE_URL", database_url),
        ("CUSTADMIN_ARGON2_MEMORY_KIB", "8".to_string()),
        ("CUSTADMIN_ARGON2_ITERATIONS", "1".to_string()),
        ("CUSTADMIN_DATABASE_POOL_SIZE", "8".to_string()),
        (
            "CUSTADMIN_STATIC_DIR",
            folder.join("no-spa").display().to_string(),
        ),
        ("RUST_LOG", "warn".to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect();
    for (key, value) in extra {
        environment.insert(key.to_string(), value.to_string());
    }
    let settings = Settings::from_sources(&environment).expect("test settings");
    custadmin::telemetry::init(
        &settings.log_filter,
        settings.log_format,
        custadmin::telemetry::LogOutput::Stderr,
    );
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let application = Application::build(settings, clock.clone())
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let state = application.state().clone();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        seen_mails: Default::default(),
        api: Client::new(&address).strict_json(),
        address,
        clock,
        state,
        _database: guard,
    }
}

pub use custadmin_client::{Client, Reply, NOBODY};

/// A signed-in user as tests hold it.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub async fn register(&self, username: &str) -> String {
        let reply = self
            .api
            .register(json!({"username": username, "password": PASSWORD}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_string()
    }

    /// `POST /auth/login` as a client at `ip` (the server trusts the test's proxy address),
    /// from the known device `device_token` if given.
    pub async fn login_from(
        &self,
        ip: &str,
        username: &str,
        password: &str,
        device_token: Option<&str>,
    ) -> Reply {
        let mut body = json!({"username": username, "password": password});
        if let Some(token) = device_token {
            body["device_token"] = json!(token);
        }
        self.api.log_in(body).from_ip(ip).await
    }

    /// Registers and signs in a password-only customer.
    pub async fn signed_in_customer(&self, username: &str) -> Session {
        self.register(username).await;
        let reply = self.api.login(username, PASSWORD).await;
        session_from(&reply)
    }

    /// Switches two-factor on for a signed-in user; answers the secret and recovery codes.
    pub async fn enable_two_factor(&self, session: &Session) -> (TotpSecret, Vec<String>) {
        let token = &session.access_token;
        let enrollment = self.api.enroll_two_factor(token, json!({})).await;
        let secret = secret_of(enrollment.assert_ok());
        let code = self.code_now(&secret, 0);
        let confirmed = self
            .api
            .confirm_two_factor(token, json!({"code": code}))
            .await;
        let codes = confirmed.assert_ok()["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_string())
            .collect();
        (secret, codes)
    }

    /// The code for the current step plus `offset` steps, by the test clock.
    pub fn code_now(&self, secret: &TotpSecret, offset: i64) -> String {
        secret.code_at_step(step_of(self.clock.now_unix()) + offset)
    }

    /// A six-digit code that is not the current one for `secret`.
    pub fn wrong_code(&self, secret: &TotpSecret) -> &'static str {
        if self.code_now(secret, 0) == "000000" {
            "111111"
        } else {
            "000000"
        }
    }

    /// Delivers every due mail (as the server's worker would) and answers the ones delivered
    /// since the last call: with no SMTP relay configured they land as `.eml` files.
    pub async fn mails(&self) -> Vec<Mail> {
        let mailer = custadmin::mail::Mailer::from_settings(&self.state.settings).unwrap();
        custadmin::service::outbox::deliver_due(&self.state, &mailer)
            .await
            .unwrap();
        let folder = self.state.settings.data_dir.join("mail");
        let mut seen = self.seen_mails.lock().unwrap();
        let mut new: Vec<Mail> = std::fs::read_dir(&folder)
            .map(|entries| entries.filter_map(Result::ok).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| seen.insert(entry.path()))
            .map(|entry| Mail::parse(&std::fs::read(entry.path()).unwrap()))
            .collect();
        new.sort_by(|a, b| a.subject.cmp(&b.subject));
        new
    }

    /// Gives the account a verified address, as following the sign-up link would.
    pub async fn verify_address(&self, account_id: &str, address: &str) {
        let (id, address, now) = (
            account_id.to_string(),
            address.to_string(),
            self.state.now(),
        );
        self.state
            .database
            .run(move |connection| {
                custadmin::db::accounts::set_pending_email(connection, &id, &address)?;
                custadmin::db::accounts::verify_email(connection, &id, &address, now)
            })
            .await
            .unwrap();
    }

    /// A second server on this one's database, keys and clock, as another instance behind
    /// the same load balancer would be. Answers a client of it; it runs until the test ends.
    pub async fn second_instance(&self) -> Client {
        let settings = (*self.state.settings).clone();
        let application = Application::build(settings, self.clock.clone())
            .await
            .expect("second instance starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        self.api.at(address)
    }

    /// Another server on the same database and keys folder, and its state (its own keys in
    /// memory, read again from the folder as it needs).
    pub async fn second_instance_with_state(&self) -> (Client, AppState) {
        let settings = (*self.state.settings).clone();
        let application = Application::build(settings, self.clock.clone())
            .await
            .expect("second instance starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        let state = application.state().clone();
        tokio::spawn(application.run_until_stopped());
        (self.api.at(address), state)
    }

    pub fn public_url(&self) -> String {
        self.state.settings.public_url.clone()
    }

    /// The signed-in account's id.
    pub async fn account_id(&self, session: &Session) -> String {
        let account = self.api.account(&session.access_token).await;
        account.assert_ok()["id"].as_str().unwrap().to_string()
    }

    /// The consecutive failures counted for a throttle subject (`pwd:<username>@<network>`,
    /// `otp:<account id>`, `reauth:<account id>/<session id>`, ...), read from the database.
    pub async fn consecutive_failures(&self, subject: &str) -> i32 {
        let key = subject.to_string();
        self.state
            .database
            .run(move |connection| custadmin::db::throttle::find(connection, &key))
            .await
            .unwrap()
            .map_or(0, |row| row.consecutive_failures)
    }

    /// The consecutive wrong proofs counted for the signed-in session.
    pub async fn reauth_failures(&self, session: &Session) -> i32 {
        let claims = claims_of(&session.access_token);
        let (account, session) = (claims["sub"].as_str(), claims["sid"].as_str());
        let key = format!("reauth:{}/{}", account.unwrap(), session.unwrap());
        self.consecutive_failures(&key).await
    }

    /// Moves the clock to the start of the next TOTP step, so a fresh code exists.
    pub fn next_step(&self) {
        let now = self.clock.now_unix();
        let next = (step_of(now) + 1) * 30;
        self.clock.advance(TimeDelta::seconds(next - now));
    }

    /// Full sign-in of a two-factor account with a fresh code.
    pub async fn login_with_code(&self, username: &str, secret: &TotpSecret) -> Session {
        let challenge = self.api.login(username, PASSWORD).await;
        assert_eq!(challenge.assert_ok()["status"], "otp_required");
        self.next_step();
        let reply = self
            .api
            .verify_otp(&challenge.body["challenge_token"], self.code_now(secret, 0))
            .await;
        session_from(&reply)
    }
}

trait UnixNow {
    fn now_unix(&self) -> i64;
}

impl UnixNow for ManualClock {
    fn now_unix(&self) -> i64 {
        use custadmin::domain::clock::Clock;
        self.now().timestamp()
    }
}

#[track_caller]
pub fn session_from(reply: &Reply) -> Session {
    let body = reply.assert_ok();
    assert_eq!(body["status"], "authenticated", "{body}");
    Session {
        access_token: body["access_token"].as_str().unwrap().to_string(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
    }
}

pub fn secret_of(enrollment: &Value) -> TotpSecret {
    let text = enrollment["secret"].as_str().expect("secret");
    TotpSecret::from_bytes(
        data_encoding::BASE32_NOPAD
            .decode(text.as_bytes())
            .expect("base32"),
    )
}

/// The claims of a JWT, unverified (the server verifies; tests read).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// The `kind` of each event in a `GET /account/events` reply, newest first.
pub fn event_kinds(events: &Reply) -> Vec<&str> {
    events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["kind"].as_str().expect("kind"))
        .collect()
}

/// How many times events of `kind` happened, by a `GET /account/events` reply: repeated
/// failures are one event each per network and hour, with a `count`.
pub fn times_recorded(events: &Reply, kind: &str) -> i64 {
    events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["kind"] == kind)
        .map(|event| event["count"].as_i64().expect("count"))
        .sum()
}

/// A delivered mail, reduced to what tests read.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    fn parse(raw: &[u8]) -> Self {
        let parsed = mailparse::parse_mail(raw).expect("a MIME mail");
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|header| header.get_key().eq_ignore_ascii_case(name))
                .map(|header| header.get_value())
                .unwrap_or_default()
        };
        let part = |mime: &str| {
            parsed
                .subparts
                .iter()
                .find(|part| part.ctype.mimetype == mime)
                .map(|part| part.get_body().unwrap())
                .unwrap_or_default()
        };
        Self {
            from: header("From"),
            to: header("To"),
            subject: header("Subject"),
            text: part("text/plain"),
            html: part("text/html"),
        }
    }

    /// The `token` of the mail's "this wasn't me" link, which every security notice has.
    pub fn not_me_token(&self) -> String {
        let start =
            self.text.find("/not-me?token=").expect("a not-me link") + "/not-me?token=".len();
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The `token` of the link in the mail.
    pub fn link_token(&self) -> String {
        let start = self.text.find("token=").expect("a link") + "token=".len();
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// The session is over: its access token and its refresh token are both refused.
pub async fn assert_session_ended(app: &TestApp, session: &Session) {
    app.api
        .account(&session.access_token)
        .await
        .assert_problem(401, "invalid_token");
    app.api
        .refresh(json!(session.refresh_token))
        .await
        .assert_problem(401, "invalid_refresh_token");
}
