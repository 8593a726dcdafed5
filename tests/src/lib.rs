//! Helpers for the black-box tests: they run the real `custadmin` binary as a child process and
//! talk to it over HTTP, so each test file can read as a story.
//!
//! - [`Launch`] describes one invocation (clean environment, fresh data folder, cheap hashing).
//! - [`Server`] is a running `custadmin serve`, killed on drop.
//! - [`Server::api`] is the API's client ([`custadmin_client::Client`]), [`Customers`] what
//!   the tests do with it over and over.
//! - [`totp_code`], [`jwt_part`] compute what an authenticator app and an integrator would.
//! - [`PgDatabase`] creates and drops a throw-away PostgreSQL database.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// A password every test account uses; long enough for the server's rules.
pub const PASSWORD: &str = "correct horse battery staple";

/// How long a process may take to start or to stop before a test gives up on it.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// The `custadmin` binary: `CUSTADMIN_BIN`, else `target/debug/custadmin` next to the test
/// executable (which lives in `target/debug/deps/`).
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CUSTADMIN_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CUSTADMIN_BIN names {}, which is not a file",
            path.display()
        );
        return path;
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|folder| folder.join("custadmin"))
        .collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the custadmin binary was not found (looked at {candidates:?}); build it with \
                 `cargo build -p custadmin` or `cargo test --workspace`, or set CUSTADMIN_BIN"
            )
        })
}

/// A fresh folder under the system temp folder, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "custadmin-bb-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("create a temp folder");
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One way of running the binary: the working folder, and exactly the environment it gets
/// (`PATH` plus what is set here; nothing is inherited).
#[derive(Clone, Debug)]
pub struct Launch {
    work_dir: PathBuf,
    env: BTreeMap<String, String>,
}

impl Launch {
    /// Runs in `work_dir` (so no stray `custadmin.toml` is picked up) with the data folder
    /// `work_dir/data`, an ephemeral port and cheap password hashing.
    pub fn new(work_dir: &Path) -> Self {
        let launch = Self {
            work_dir: work_dir.to_path_buf(),
            env: BTreeMap::new(),
        };
        launch
            .env(
                "CUSTADMIN_DATA_DIR",
                work_dir.join("data").to_str().unwrap(),
            )
            .env("CUSTADMIN_BIND", "127.0.0.1:0")
            // What the tests read the port (and log lines) from.
            .env("CUSTADMIN_LOG_FORMAT", "json")
            .env("CUSTADMIN_ARGON2_MEMORY_KIB", "8")
            .env("CUSTADMIN_ARGON2_ITERATIONS", "1")
    }

    /// Sets (or replaces) one environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    /// Removes one environment variable this launch would otherwise set.
    pub fn without(mut self, key: &str) -> Self {
        self.env.remove(key);
        self
    }

    /// The production Argon2 cost (the server's defaults).
    pub fn production_hashing(self) -> Self {
        self.without("CUSTADMIN_ARGON2_MEMORY_KIB")
            .without("CUSTADMIN_ARGON2_ITERATIONS")
    }

    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(&self.env["CUSTADMIN_DATA_DIR"])
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .current_dir(&self.work_dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(&self.env);
        command
    }

    /// Runs a command that is expected to end by itself (it is killed after a minute).
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Finished {
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn custadmin");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let stdout = read_all_in_background(child.stdout.take().unwrap());
        let stderr = read_all_in_background(child.stderr.take().unwrap());
        let status = wait_with_timeout(&mut child, PROCESS_TIMEOUT).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("custadmin {args:?} did not exit within {PROCESS_TIMEOUT:?}")
        });
        Finished {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// Starts `custadmin serve` and waits for its "custadmin is serving" line.
    pub fn serve(&self) -> Server {
        let mut child = self
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn custadmin serve");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (port_sender, port_receiver) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stdout_logs = Arc::clone(&logs);
        // Keeps draining stdout for the server's whole life, so logging never blocks it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("custadmin is serving") {
                    let _ = port_sender.send(serving_ports(&line));
                }
                stdout_logs.lock().unwrap().push(line);
            }
        });
        let stderr = read_all_in_background(child.stderr.take().unwrap());
        match port_receiver.recv_timeout(PROCESS_TIMEOUT) {
            Ok((port, metrics_port)) => Server {
                child,
                port,
                metrics_port,
                logs,
                stderr: Some(stderr),
            },
            Err(error) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "custadmin serve did not report its port ({error}); status {status:?}\n\
                     stdout:\n{}\nstderr:\n{}",
                    logs.lock().unwrap().join("\n"),
                    stderr.join().unwrap()
                )
            }
        }
    }
}

/// The public port and the metrics port (if any) of the serving line, a JSON object or, with
/// `CUSTADMIN_LOG_FORMAT=text`, a line ending in `port=... metrics_port=...`.
fn serving_ports(line: &str) -> (u16, Option<u16>) {
    let field = |name: &str| -> Option<u16> {
        match serde_json::from_str::<Value>(line) {
            Ok(value) => value[name]
                .as_u64()
                .and_then(|port| u16::try_from(port).ok()),
            Err(_) => line
                .split_whitespace()
                .find_map(|word| word.strip_prefix(&format!("{name}=")))
                .and_then(|port| port.parse().ok()),
        }
    };
    let port = field("port").unwrap_or_else(|| panic!("the serving line has no port: {line}"));
    (port, field("metrics_port"))
}

fn read_all_in_background(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for custadmin") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A command that ran to its end.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// A running `custadmin serve`; killed (SIGKILL) on drop unless stopped first.
pub struct Server {
    child: Child,
    port: u16,
    metrics_port: Option<u16>,
    logs: Arc<Mutex<Vec<String>>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port; panics when `CUSTADMIN_METRICS_BIND` was not set.
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
            .expect("the server has no metrics listener (set CUSTADMIN_METRICS_BIND)")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn api(&self) -> Client {
        client_of(self.base_url())
    }

    /// The JSON log lines printed so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as an init system would.
    pub fn send_sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits for the process to exit by itself; returns its status and standard error.
    pub fn wait_for_exit(mut self) -> (ExitStatus, String) {
        let status = wait_with_timeout(&mut self.child, PROCESS_TIMEOUT)
            .unwrap_or_else(|| panic!("custadmin serve did not exit within {PROCESS_TIMEOUT:?}"));
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, stderr)
    }

    /// SIGTERM, then wait; asserts a clean exit.
    pub fn stop(self) {
        self.send_sigterm();
        let (status, stderr) = self.wait_for_exit();
        assert!(
            status.success(),
            "custadmin serve exited with {status}: {stderr}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub use custadmin_client::{Client, Reply, NOBODY};

/// A client of the server at `base_url` that waits at most a minute for an answer.
pub fn client_of(base_url: String) -> Client {
    Client::with(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        vec![base_url],
    )
}

/// What the black-box tests do over and over, with [`PASSWORD`].
#[allow(async_fn_in_trait)]
pub trait Customers {
    /// Registers `username` with [`PASSWORD`]; returns the new account's id.
    async fn register_customer(&self, username: &str, email: Option<&str>) -> String;
    /// Logs in an account without two-factor; returns the access token.
    async fn access_token(&self, username: &str) -> String;
    /// Logs in an account with two-factor on; returns the challenge token.
    async fn challenge_token(&self, username: &str) -> String;
}

impl Customers for Client {
    async fn register_customer(&self, username: &str, email: Option<&str>) -> String {
        let mut body = serde_json::json!({"username": username, "password": PASSWORD});
        if let Some(email) = email {
            body["email"] = email.into();
        }
        let reply = self.register(body).await;
        reply.assert_status(201)["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{reply:?}"))
            .to_string()
    }

    async fn access_token(&self, username: &str) -> String {
        let reply = self.login(username, PASSWORD).await;
        assert_eq!(reply.body["status"], "authenticated", "{reply:?}");
        reply.body["access_token"].as_str().unwrap().to_string()
    }

    async fn challenge_token(&self, username: &str) -> String {
        let reply = self.login(username, PASSWORD).await;
        assert_eq!(reply.body["status"], "otp_required", "{reply:?}");
        reply.body["challenge_token"].as_str().unwrap().to_string()
    }
}

/// Seconds since the epoch, by the real clock (the server uses the same).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) an authenticator app shows at `unix_time` for a
/// base32 secret without padding.
pub fn totp_code(secret_base32: &str, unix_time: u64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_base32.as_bytes())
        .unwrap_or_else(|error| panic!("the secret {secret_base32:?} is not base32: {error}"));
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, unix_time)
}

/// Part `index` of a JWT (0 header, 1 payload), decoded as JSON.
pub fn jwt_part(token: &str, index: usize) -> Value {
    let part = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(part.as_bytes())
        .unwrap_or_else(|error| panic!("JWT part {index} is not base64url ({error}): {token}"));
    serde_json::from_slice(&bytes).expect("a JWT part is JSON")
}

/// A PostgreSQL database made for one test (`custadmin_bb_<uuid>`), dropped with `FORCE` on drop.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// `None` (after saying so) when `TEST_DATABASE_URL` is unset: the test did not run.
    pub fn create_if_configured(test: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            println!("{test}: skipped: TEST_DATABASE_URL not set");
            return None;
        };
        let name = format!("custadmin_bb_{}", uuid::Uuid::new_v4().simple());
        // No TLS to the local test server (see the API tests' helpers for why).
        let url = with_sslmode_disabled(&with_database_name(&admin_url, &name));
        execute(&admin_url, &format!("CREATE DATABASE {name}"));
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Makes the database unreachable, as an outage would: no new connection is accepted and
    /// every open one is ended.
    pub fn refuse_connections(&self) {
        execute(
            &self.admin_url,
            &format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", self.name),
        );
        execute(
            &self.admin_url,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            ),
        );
    }

    /// Ends the outage of [`PgDatabase::refuse_connections`].
    pub fn allow_connections(&self) {
        execute(
            &self.admin_url,
            &format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self.name),
        );
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        execute(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn execute(url: &str, sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let mut connection = diesel::PgConnection::establish(url)
        .unwrap_or_else(|error| panic!("cannot connect to TEST_DATABASE_URL: {error}"));
    diesel::sql_query(sql)
        .execute(&mut connection)
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

fn with_sslmode_disabled(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// The same server URL with another database name (the path), keeping any `?query`.
fn with_database_name(url: &str, name: &str) -> String {
    let (without_query, query) = match url.split_once('?') {
        Some((head, query)) => (head, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = without_query.find("://").map_or(0, |index| index + 3);
    let server = match without_query[authority_start..].find('/') {
        Some(index) => &without_query[..authority_start + index],
        None => without_query,
    };
    format!("{server}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_gets_the_new_name_and_keeps_its_query() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database_name("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database_name("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn the_totp_code_matches_the_rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 → 94287082 (8 digits).
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        assert_eq!(totp_code(&secret, 59), "287082");
    }
}
