//! Prometheus metrics: the series this server exports, named once here, and the recorder that
//! holds them.
//!
//! Recording goes through the `metrics` facade, which costs next to nothing while no recorder is
//! installed (`CUSTADMIN_METRICS_BIND` unset); `metrics-exporter-prometheus` renders the text
//! format. That pair rather than `actix-web-prom`: the series are recorded deep in the use cases
//! (throttling, hashing, the outbox), not only around HTTP, and the facade keeps those layers
//! free of any exporter or web type.
//!
//! Labels only ever carry a fixed vocabulary (route templates, methods, statuses, outcomes,
//! kinds): never a username, address, token or raw path, which would leak and would let
//! clients blow up the number of series.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "custadmin_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "custadmin_http_request_duration_seconds";
pub const SIGN_INS: &str = "custadmin_sign_ins_total";
pub const SECOND_FACTORS_USED: &str = "custadmin_second_factors_used_total";
pub const THROTTLE_REFUSALS: &str = "custadmin_throttle_refusals_total";
pub const HASHING_QUEUE: &str = "custadmin_password_hashing_queue_length";
pub const HASHING_RUNNING: &str = "custadmin_password_hashing_running";
pub const HASHING_WAIT: &str = "custadmin_password_hashing_wait_seconds";
pub const HASHING_REFUSALS: &str = "custadmin_password_hashing_refusals_total";
pub const OUTBOX_BACKLOG: &str = "custadmin_outbox_backlog";
pub const OUTBOX_OLDEST_AGE: &str = "custadmin_outbox_oldest_age_seconds";
pub const OUTBOX_FAILURES: &str = "custadmin_outbox_failures_total";
pub const OUTBOX_SENT: &str = "custadmin_outbox_sent_total";
pub const HOUSEKEEPING_PRUNED: &str = "custadmin_housekeeping_rows_pruned_total";
pub const DATABASE_POOL_CONNECTIONS: &str = "custadmin_database_pool_connections";
pub const DATABASE_POOL_MAX: &str = "custadmin_database_pool_max_connections";
pub const BREACHED_PASSWORDS_UNAVAILABLE: &str =
    "custadmin_breached_password_checks_unavailable_total";

/// Every series above, for the check that the Grafana dashboard asks for no other.
pub const ALL_SERIES: [&str; 17] = [
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
    SIGN_INS,
    SECOND_FACTORS_USED,
    THROTTLE_REFUSALS,
    HASHING_QUEUE,
    HASHING_RUNNING,
    HASHING_WAIT,
    HASHING_REFUSALS,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_FAILURES,
    OUTBOX_SENT,
    HOUSEKEEPING_PRUNED,
    DATABASE_POOL_CONNECTIONS,
    DATABASE_POOL_MAX,
    BREACHED_PASSWORDS_UNAVAILABLE,
];

/// Request latencies: from a cached read (milliseconds) to a queued Argon2 hash (seconds).
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Waits for a hashing slot: none at all normally, up to `HASHING_MAX_WAIT_MS` under load.
const HASHING_WAIT_BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process-wide recorder (once; servers started later in the same process share
/// it) and answers the handle that renders it.
pub fn install() -> Result<PrometheusHandle, String> {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_REQUEST_DURATION.into()),
                    &LATENCY_BUCKETS,
                )
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(HASHING_WAIT.into()),
                        &HASHING_WAIT_BUCKETS,
                    )
                })
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|error| format!("cannot install the metrics recorder: {error}"))?;
            describe();
            Ok(handle)
        })
        .clone()
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    describe_counter!(
        SIGN_INS,
        "Sign-in steps by outcome: success, second_factor_required, wrong_password, wrong_code, \
         locked, throttled, blocked, challenge_invalid, busy, error"
    );
    describe_counter!(
        SECOND_FACTORS_USED,
        "Second factors that completed a sign-in, by method (totp, recovery_code, passkey)"
    );
    describe_counter!(
        THROTTLE_REFUSALS,
        "Attempts refused by a throttle or lock-out, by the kind of counter that refused"
    );
    describe_gauge!(
        HASHING_QUEUE,
        "Password hashes waiting for a hashing slot (sampled at scrape)"
    );
    describe_gauge!(
        HASHING_RUNNING,
        "Password hashes running (sampled at scrape)"
    );
    describe_histogram!(
        HASHING_WAIT,
        Unit::Seconds,
        "Time a password hash waited for a hashing slot"
    );
    describe_counter!(
        HASHING_REFUSALS,
        "Password hashes refused (503) because the queue's wait was too long"
    );
    describe_gauge!(
        OUTBOX_BACKLOG,
        "Mails neither sent nor given up (sampled at scrape)"
    );
    describe_gauge!(
        OUTBOX_OLDEST_AGE,
        Unit::Seconds,
        "Age of the oldest mail neither sent nor given up; 0 when none (sampled at scrape)"
    );
    describe_counter!(
        OUTBOX_FAILURES,
        "Failed mail deliveries by this instance, by result (retry, given_up)"
    );
    describe_counter!(OUTBOX_SENT, "Mails sent by this instance");
    describe_counter!(
        HOUSEKEEPING_PRUNED,
        "Rows pruned by housekeeping on this instance, by table"
    );
    describe_gauge!(
        DATABASE_POOL_CONNECTIONS,
        "Database pool connections by state (in_use, idle), sampled at scrape"
    );
    describe_gauge!(
        DATABASE_POOL_MAX,
        "Most connections the database pool opens"
    );
    describe_counter!(
        BREACHED_PASSWORDS_UNAVAILABLE,
        "Breached-password checks that could not be made (the password was accepted unchecked)"
    );
}

/// How a sign-in step (password, code, passkey) ended, as `SIGN_INS` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Signed in fully.
    Success,
    /// The password was right; a second factor is still to come.
    SecondFactorRequired,
    /// Wrong or unknown username, or wrong password (one outcome: no enumeration here either).
    WrongPassword,
    /// A wrong code, recovery code or passkey answer.
    WrongCode,
    /// Refused by a lock-out after consecutive failures.
    Locked,
    /// Refused by a windowed limit (per network, per account ceiling).
    Throttled,
    /// A right password whose sign-in the holder blocked ("this wasn't me").
    Blocked,
    /// A spent, expired or unknown challenge.
    ChallengeInvalid,
    /// Password hashing was saturated (`503`).
    Busy,
    /// Anything else (a fault).
    Error,
}

impl SignInOutcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::SecondFactorRequired => "second_factor_required",
            Self::WrongPassword => "wrong_password",
            Self::WrongCode => "wrong_code",
            Self::Locked => "locked",
            Self::Throttled => "throttled",
            Self::Blocked => "blocked",
            Self::ChallengeInvalid => "challenge_invalid",
            Self::Busy => "busy",
            Self::Error => "error",
        }
    }
}

pub fn sign_in(outcome: SignInOutcome) {
    metrics::counter!(SIGN_INS, "outcome" => outcome.label()).increment(1);
}

/// `method`: `totp`, `recovery_code` or `passkey`.
pub fn second_factor_used(method: &'static str) {
    metrics::counter!(SECOND_FACTORS_USED, "method" => method).increment(1);
}

/// `kind`: the throttle counter's kind (`password_from_network`, `second_factor`, ...).
pub fn throttle_refusal(kind: &'static str) {
    metrics::counter!(THROTTLE_REFUSALS, "kind" => kind).increment(1);
}

pub fn hashing_waited(wait: Duration) {
    metrics::histogram!(HASHING_WAIT).record(wait.as_secs_f64());
}

pub fn hashing_refused() {
    metrics::counter!(HASHING_REFUSALS).increment(1);
}

pub fn hashing_load(queued: usize, running: usize) {
    metrics::gauge!(HASHING_QUEUE).set(queued as f64);
    metrics::gauge!(HASHING_RUNNING).set(running as f64);
}

pub fn mail_sent() {
    metrics::counter!(OUTBOX_SENT).increment(1);
}

/// `result`: `retry` or `given_up`.
pub fn mail_failed(result: &'static str) {
    metrics::counter!(OUTBOX_FAILURES, "result" => result).increment(1);
}

pub fn outbox_state(backlog: u64, oldest_age: Duration) {
    metrics::gauge!(OUTBOX_BACKLOG).set(backlog as f64);
    metrics::gauge!(OUTBOX_OLDEST_AGE).set(oldest_age.as_secs_f64());
}

pub fn rows_pruned(table: &'static str, rows: usize) {
    if rows > 0 {
        metrics::counter!(HOUSEKEEPING_PRUNED, "table" => table).increment(rows as u64);
    }
}

pub fn database_pool(in_use: u32, idle: u32, max: u32) {
    metrics::gauge!(DATABASE_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    metrics::gauge!(DATABASE_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(DATABASE_POOL_MAX).set(f64::from(max));
}

pub fn breached_password_checks_unavailable(total: u64) {
    metrics::counter!(BREACHED_PASSWORDS_UNAVAILABLE).absolute(total);
}

pub fn http_request(method: &str, route: String, status: u16, elapsed: Duration) {
    let method = known_method(method);
    metrics::counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// A client may send any method name; only the standard ones become label values.
fn known_method(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
}

#[cfg(test)]
mod tests {
    use super::ALL_SERIES;

    /// The dashboard in deploy/ is only as good as the names it queries: each must be one this
    /// server exports (a histogram's `_bucket`, `_sum` and `_count` included), and it must show
    /// every series.
    #[test]
    fn the_grafana_dashboard_queries_exactly_the_exported_series() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/grafana/dashboards/custadmin.json"
        );
        let dashboard: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut queried = std::collections::BTreeSet::new();
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expression = target["expr"].as_str().unwrap();
                for (start, _) in expression.match_indices("custadmin_") {
                    let name: String = expression[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    let series = ["_bucket", "_sum", "_count"]
                        .into_iter()
                        .find_map(|suffix| name.strip_suffix(suffix))
                        .filter(|series| ALL_SERIES.contains(series))
                        .map_or(name.clone(), str::to_string);
                    assert!(
                        ALL_SERIES.contains(&series.as_str()),
                        "{name} is not exported"
                    );
                    queried.insert(series);
                }
            }
        }
        for series in ALL_SERIES {
            assert!(
                queried.contains(series),
                "the dashboard does not show {series}"
            );
        }
    }
}
