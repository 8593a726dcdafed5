//! Running it for years: Prometheus metrics on their own listener, liveness and readiness (and
//! readiness following the database away and back), the SPA served as a CDN would, HSTS, and
//! logs for people or for log shippers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use custadmin_blackbox::{
    totp_code, unix_now, Customers, Launch, PgDatabase, Server, TempDir, PASSWORD,
};
use custadmin_client::{Method, NOBODY};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// Reads the exposition text with the Prometheus project's own Python parser
/// (`prometheus_client.parser`) and prints each sample as JSON: family, type, name, labels, value.
const PARSE_WITH_PROMETHEUS_CLIENT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": sample.name,
                        "labels": sample.labels, "value": sample.value})
json.dump(samples, sys.stdout)
"#;

/// The samples of `/metrics` as a Prometheus text parser reads them.
struct Scrape {
    text: String,
    samples: Vec<Value>,
}

impl Scrape {
    /// The sample `name` with at least these labels; 0 when there is none (a counter that
    /// never moved is not exported).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Value> = self
            .samples
            .iter()
            .filter(|sample| sample["name"] == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample["labels"][key] == *value)
            })
            .collect();
        assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
        found
            .first()
            .map_or(0.0, |sample| sample["value"].as_f64().unwrap())
    }

    fn type_of(&self, family: &str) -> &str {
        self.samples
            .iter()
            .find(|sample| sample["family"] == family)
            .and_then(|sample| sample["type"].as_str())
            .unwrap_or_else(|| panic!("no family {family}:\n{}", self.text))
    }

    fn label_values(&self) -> impl Iterator<Item = &str> {
        self.samples
            .iter()
            .filter_map(|sample| sample["labels"].as_object())
            .flat_map(|labels| labels.values())
            .filter_map(Value::as_str)
    }
}

/// Scrapes `server`'s metrics listener; `None` (said) without the test virtualenv's Python.
async fn scrape(server: &Server, test: &str) -> Option<Scrape> {
    let Ok(python) = std::env::var("CUSTADMIN_TEST_PYTHON") else {
        println!("{test}: skipped: CUSTADMIN_TEST_PYTHON not set (scripts/test sets it)");
        return None;
    };
    let url = format!("http://127.0.0.1:{}/metrics", server.metrics_port());
    let response = reqwest::get(&url).await.expect("scrape /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let mut parser = Command::new(python)
        .args(["-c", PARSE_WITH_PROMETHEUS_CLIENT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the Prometheus text parser");
    parser
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let parsed = parser.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "not the Prometheus text format: {}\n{text}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let samples: Vec<Value> = serde_json::from_slice(&parsed.stdout).unwrap();
    Some(Scrape { text, samples })
}

#[tokio::test]
async fn metrics_count_sign_ins_factors_throttles_and_requests_on_sqlite() {
    let dir = TempDir::new("metrics");
    let launch = Launch::new(dir.path());
    metrics_count_sign_ins_factors_throttles_and_requests(launch, "metrics_on_sqlite").await;
}

#[tokio::test]
async fn metrics_count_sign_ins_factors_throttles_and_requests_on_postgresql() {
    let test = "metrics_count_sign_ins_factors_throttles_and_requests_on_postgresql";
    let Some(database) = PgDatabase::create_if_configured(test) else {
        return;
    };
    let dir = TempDir::new("metrics-pg");
    let launch = Launch::new(dir.path()).env("CUSTADMIN_DATABASE_URL", database.url());
    metrics_count_sign_ins_factors_throttles_and_requests(launch, test).await;
}

/// Metrics on a listener of their own, scraped after sign-ins of every kind.
async fn metrics_count_sign_ins_factors_throttles_and_requests(launch: Launch, test: &str) {
    // Arrange: metrics on a listener of their own; a customer with two-factor on.
    let server = launch
        .env("CUSTADMIN_METRICS_BIND", "127.0.0.1:0")
        .env("CUSTADMIN_DATABASE_POOL_SIZE", "4")
        .serve();
    assert_ne!(server.metrics_port(), server.port());
    let api = server.api();
    api.register_customer("mia-metrics", Some("mia@example.com"))
        .await;
    let token = api.access_token("mia-metrics").await;
    let enrolment = api.enroll_two_factor(&token, json!({})).await;
    let secret = enrolment.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let confirmation = api
        .confirm_two_factor(&token, json!({"code": totp_code(&secret, unix_now())}))
        .await;
    let recovery_code = confirmation.assert_status(200)["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_string();

    // Act: a wrong password; a right one and a wrong code, then a recovery code; a customer
    // locked out after ten wrong passwords; the session listed by its id.
    api.login("mia-metrics", "not the password at all")
        .await
        .assert_problem(401, "invalid_credentials");
    let challenge = api.challenge_token("mia-metrics").await;
    let right_code = totp_code(&secret, unix_now());
    let wrong_code = if right_code == "123456" {
        "654321"
    } else {
        "123456"
    };
    api.verify_otp(&challenge, wrong_code)
        .await
        .assert_problem(400, "invalid_code");
    let signed_in = api
        .otp(json!({"challenge_token": challenge, "recovery_code": recovery_code}))
        .await;
    let second_token = signed_in.assert_status(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    api.register_customer("lou-locked", None).await;
    for _ in 0..10 {
        api.login("lou-locked", "not the password at all")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    api.login("lou-locked", PASSWORD)
        .await
        .assert_problem(429, "too_many_attempts");
    let sessions = api.sessions(&second_token).await;
    let sessions = sessions.assert_status(200)["sessions"].clone();
    let first_session = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .unwrap_or_else(|| panic!("the first sign-in's session is listed: {sessions}"));
    let session_id = first_session["id"].as_str().unwrap().to_string();
    api.end_session(&second_token, &session_id)
        .await
        .assert_status(204);
    let on_public_port = api.send(Method::GET, "/metrics", NOBODY, None).await;
    let Some(scraped) = scrape(&server, test).await else {
        return;
    };
    let text = &scraped.text;

    // Assert: every sign-in step counted by outcome, the factor by method, the lock-out by kind.
    let sign_ins =
        |outcome: &str| scraped.value("custadmin_sign_ins_total", &[("outcome", outcome)]);
    // mia's sign-in before two-factor, and with the recovery code.
    assert_eq!(sign_ins("success"), 2.0, "{text}");
    assert_eq!(sign_ins("wrong_password"), 11.0, "{text}");
    assert_eq!(sign_ins("second_factor_required"), 1.0, "{text}");
    assert_eq!(sign_ins("wrong_code"), 1.0, "{text}");
    assert_eq!(sign_ins("locked"), 1.0, "{text}");
    assert_eq!(
        scraped.value(
            "custadmin_second_factors_used_total",
            &[("method", "recovery_code")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        scraped.value(
            "custadmin_throttle_refusals_total",
            &[("kind", "password_from_network")]
        ),
        1.0,
        "{text}"
    );
    // Requests by route template and status, with latency histograms.
    assert_eq!(
        scraped.value(
            "custadmin_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/v1/auth/login"),
                ("status", "401")
            ]
        ),
        11.0,
        "{text}"
    );
    assert_eq!(
        scraped.value(
            "custadmin_http_requests_total",
            &[
                ("method", "DELETE"),
                ("route", "/api/v1/account/sessions/{id}"),
                ("status", "204")
            ]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        scraped.type_of("custadmin_http_request_duration_seconds"),
        "histogram"
    );
    assert_eq!(
        scraped.value(
            "custadmin_http_request_duration_seconds_bucket",
            &[("route", "/api/v1/auth/login"), ("le", "+Inf")]
        ),
        14.0,
        "every login request is in the +Inf bucket: {text}"
    );
    // Hashing, outbox, pool: sampled at the scrape.
    assert_eq!(
        scraped.value("custadmin_password_hashing_queue_length", &[]),
        0.0
    );
    assert_eq!(
        scraped.type_of("custadmin_password_hashing_wait_seconds"),
        "histogram"
    );
    assert_eq!(
        scraped.value("custadmin_password_hashing_wait_seconds_count", &[]),
        // Every hash: sign-ups, sign-ins, the recovery code's check.
        scraped.value(
            "custadmin_password_hashing_wait_seconds_bucket",
            &[("le", "+Inf")]
        )
    );
    assert_eq!(
        scraped.value("custadmin_database_pool_max_connections", &[]),
        4.0
    );
    assert_eq!(
        scraped.type_of("custadmin_database_pool_connections"),
        "gauge"
    );
    // The verification mail of mia's sign-up waits for a relay (none is configured: files).
    assert!(
        scraped.value("custadmin_outbox_backlog", &[]) <= 1.0,
        "{text}"
    );
    assert_eq!(
        scraped.type_of("custadmin_outbox_oldest_age_seconds"),
        "gauge"
    );
    // No label names a person, an address, a token or a raw path.
    for secret in [
        "mia-metrics",
        "lou-locked",
        "mia@example.com",
        session_id.as_str(),
        token.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the metrics:\n{text}"
        );
    }
    for label in scraped.label_values() {
        assert!(
            !label.starts_with('/')
                || label.starts_with("/api/v1/")
                || label.starts_with("/.well-known/"),
            "a raw path as a label: {label}"
        );
    }
    // Never on the public port.
    assert_eq!(on_public_port.status, 404, "{on_public_port:?}");
}

/// Polls `/api/v1/health/ready` until it answers `status`; answers the last reply's body.
async fn wait_for_readiness(server: &Server, status: u16, within: Duration) -> Value {
    let api = server.api();
    let deadline = Instant::now() + within;
    loop {
        let reply = api.readiness().await;
        if reply.status == status {
            return reply.body;
        }
        assert!(
            Instant::now() < deadline,
            "readiness did not become {status} within {within:?}; last: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readiness_names_a_stuck_outbox_while_liveness_and_health_stay_up() {
    // Arrange: a relay nobody listens on, and an outbox that counts as stuck after a second.
    let dir = TempDir::new("ready-outbox");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Launch::new(dir.path())
        .env(
            "CUSTADMIN_SMTP_URL",
            &format!("smtp://127.0.0.1:{closed_port}"),
        )
        .env("CUSTADMIN_READY_OUTBOX_MAX_AGE_SECS", "2")
        .serve();
    let api = server.api();
    let ready = wait_for_readiness(&server, 200, Duration::from_secs(10)).await;
    assert_eq!(ready, json!({"status": "ready"}));

    // Act: a sign-up whose verification mail cannot go out.
    api.register_customer("nia-ready", Some("nia@example.com"))
        .await;
    let unready = wait_for_readiness(&server, 503, Duration::from_secs(30)).await;

    // Assert: a problem naming the outbox; the process is alive and the database up.
    assert_eq!(unready["code"], "not_ready", "{unready}");
    let detail = unready["detail"].as_str().unwrap();
    assert!(
        detail.contains("outbox: the oldest unsent mail"),
        "{detail}"
    );
    assert!(!detail.contains("database"), "{detail}");
    let live = api.liveness().await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body, json!({"status": "live"}));
    api.health().await.assert_status(200);
}

#[tokio::test]
async fn readiness_follows_the_database_away_and_back_on_postgresql() {
    let test = "readiness_follows_the_database_away_and_back_on_postgresql";
    let Some(database) = PgDatabase::create_if_configured(test) else {
        return;
    };
    // Arrange
    let dir = TempDir::new("ready-pg");
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_DATABASE_URL", database.url())
        .serve();
    let api = server.api();
    wait_for_readiness(&server, 200, Duration::from_secs(10)).await;

    // Act: the database goes away.
    database.refuse_connections();
    let unready = wait_for_readiness(&server, 503, Duration::from_secs(30)).await;

    // Assert: named as the database; the process still lives.
    assert_eq!(unready["code"], "not_ready", "{unready}");
    let detail = unready["detail"].as_str().unwrap();
    assert!(
        detail.contains("database: the database does not answer"),
        "{detail}"
    );
    let live = api.liveness().await;
    assert_eq!(live.status, 200, "{live:?}");

    // Act: it comes back.
    database.allow_connections();

    // Assert: ready again, and serving.
    let ready = wait_for_readiness(&server, 200, Duration::from_secs(30)).await;
    assert_eq!(ready, json!({"status": "ready"}));
    api.register_customer("olga-back", None).await;
    api.access_token("olga-back").await;
}

/// A GET of `path` with these request headers; answers status, headers and the raw body.
async fn fetch(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base_url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, value) in response.headers() {
        let value = value.to_str().unwrap().to_string();
        seen.entry(name.as_str().to_string())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    let body = response.bytes().await.unwrap().to_vec();
    (status, seen, body)
}

#[tokio::test]
async fn the_spa_is_cached_like_a_cdn_and_sent_precompressed_by_accept_encoding() {
    // Arrange: a build with a hashed asset and its precompressed forms (told apart by content,
    // so the test sees which file was sent), and an unhashed public file without them.
    let dir = TempDir::new("spa-cdn");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    let index =
        "<!doctype html><title>cdn test</title><script src=/assets/app-3f9Ab_c1.js></script>\n";
    std::fs::write(dist.join("index.html"), index).unwrap();
    std::fs::write(
        dist.join("assets/app-3f9Ab_c1.js"),
        "console.log('identity');\n",
    )
    .unwrap();
    std::fs::write(dist.join("assets/app-3f9Ab_c1.js.br"), b"brotli bytes").unwrap();
    std::fs::write(dist.join("assets/app-3f9Ab_c1.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(dist.join("robots.txt"), "User-agent: *\n").unwrap();
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_STATIC_DIR", dist.to_str().unwrap())
        .serve();
    let asset = "/assets/app-3f9Ab_c1.js";

    // Act
    let brotli = fetch(&server, asset, &[("accept-encoding", "gzip, deflate, br")]).await;
    let gzip = fetch(&server, asset, &[("accept-encoding", "gzip")]).await;
    let brotli_refused = fetch(&server, asset, &[("accept-encoding", "br;q=0, gzip;q=0.5")]).await;
    let identity = fetch(&server, asset, &[]).await;
    let root = fetch(&server, "/", &[]).await;
    let client_route = fetch(&server, "/account/security", &[]).await;
    let public_file = fetch(&server, "/robots.txt", &[]).await;
    let traversal = fetch(
        &server,
        "/assets/..%2Findex.html",
        &[("accept-encoding", "br")],
    )
    .await;
    let old_asset = fetch(&server, "/assets/app-0ld0ld00.js", &[]).await;
    let etag = identity.1["etag"].clone();
    let revalidated = fetch(&server, asset, &[("if-none-match", &etag)]).await;
    let api = fetch(&server, "/api/v1/config", &[]).await;

    // Assert: the asset as each client accepts it, cacheable for a year, varying by encoding.
    for (label, (status, headers, body), encoding, expected) in [
        ("brotli", &brotli, Some("br"), b"brotli bytes".as_slice()),
        ("gzip", &gzip, Some("gzip"), b"gzip bytes".as_slice()),
        (
            "brotli refused",
            &brotli_refused,
            Some("gzip"),
            b"gzip bytes".as_slice(),
        ),
        (
            "identity",
            &identity,
            None,
            b"console.log('identity');\n".as_slice(),
        ),
    ] {
        assert_eq!(*status, 200, "{label}: {headers:?}");
        assert_eq!(body, expected, "{label}");
        assert_eq!(
            headers.get("content-encoding").map(String::as_str),
            encoding,
            "{label}"
        );
        assert!(
            headers["content-type"].contains("javascript"),
            "{label}: {headers:?}"
        );
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{label}"
        );
        assert!(
            headers["vary"]
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{label}: {headers:?}"
        );
    }
    // index.html (named or as a client-side route) and unhashed files: revalidated each time.
    for (label, (status, headers, body)) in [("root", &root), ("client route", &client_route)] {
        assert_eq!(*status, 200, "{label}");
        assert_eq!(body, index.as_bytes(), "{label}");
        assert_eq!(headers["cache-control"], "no-cache", "{label}");
    }
    // A revalidation keeps the year; an asset of an older build is gone, not the index.
    assert_eq!(revalidated.0, 304);
    assert_eq!(
        revalidated.1["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(old_asset.0, 404, "{:?}", old_asset.1);
    assert_eq!(old_asset.1["cache-control"], "no-cache");
    assert_eq!(public_file.0, 200);
    assert_eq!(public_file.1["cache-control"], "no-cache");
    // Nothing outside a plain path is looked up, precompressed or not.
    assert_eq!(traversal.0, 404);
    // The API keeps its own caching, and plain http gets no HSTS.
    assert_ne!(
        api.1.get("cache-control").map(String::as_str),
        Some("no-cache"),
        "{:?}",
        api.1
    );
    assert!(!root.1.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn an_https_public_url_gets_strict_transport_security_on_every_answer() {
    let dir = TempDir::new("hsts");
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_PUBLIC_URL", "https://admin.example.com")
        .serve();

    let health = fetch(&server, "/api/v1/health", &[]).await;
    let unknown = fetch(&server, "/api/v1/no-such-thing", &[]).await;

    for (label, (_, headers, _)) in [("health", &health), ("not found", &unknown)] {
        assert_eq!(
            headers.get("strict-transport-security").map(String::as_str),
            Some("max-age=63072000"),
            "{label}: {headers:?}"
        );
    }
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_carrying_the_request_id() {
    // Arrange
    let dir = TempDir::new("json-logs");
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_LOG_FORMAT", "json")
        .serve();

    // Act
    let (status, headers, _) = fetch(&server, "/api/v1/health/live", &[]).await;
    let request_id = headers["x-request-id"].clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    let finished = loop {
        let logs = server.logs();
        if let Some(line) = logs.iter().find(|line| line.contains(&request_id)) {
            break (logs.clone(), line.clone());
        }
        assert!(
            Instant::now() < deadline,
            "no log line names {request_id}: {logs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Assert
    assert_eq!(status, 200);
    let (logs, line) = finished;
    for every in &logs {
        let parsed: Value = serde_json::from_str(every)
            .unwrap_or_else(|error| panic!("not one JSON object ({error}): {every}"));
        assert!(parsed.is_object(), "{every}");
    }
    let line: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["message"], "request finished", "{line}");
    assert_eq!(line["span"]["request_id"], request_id.as_str(), "{line}");
    assert_eq!(line["status"], 200, "{line}");
}

#[tokio::test]
async fn text_logs_are_plain_lines_for_people() {
    let dir = TempDir::new("text-logs");
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_LOG_FORMAT", "text")
        .serve();

    let (_, headers, _) = fetch(&server, "/api/v1/health/live", &[]).await;
    let request_id = headers["x-request-id"].clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        if let Some(line) = server
            .logs()
            .into_iter()
            .find(|line| line.contains(&request_id))
        {
            break line;
        }
        assert!(Instant::now() < deadline, "no log line names {request_id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert!(serde_json::from_str::<Value>(&line).is_err(), "{line}");
    assert!(line.contains("request finished"), "{line}");
    assert!(line.contains(&format!("request_id={request_id}")), "{line}");
    assert!(
        !line.contains('\u{1b}'),
        "no colour codes outside a terminal: {line:?}"
    );
}
