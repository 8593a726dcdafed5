//! Housekeeping runs in every `serve` process: rows that no longer matter are pruned on the
//! configured interval (here 1 s, with a 1 s retention for ended sessions), on SQLite and on
//! PostgreSQL. Idle failure counters are kept a day whatever the retention; the API tests
//! prune them with the injected clock.

use std::time::{Duration, Instant};

use custadmin_blackbox::{Customers, Launch, PgDatabase, Server, TempDir};
use serde_json::Value;

/// Signs a customer in and out: one ended session, a row housekeeping exists to remove.
async fn leave_rows_behind(server: &Server) {
    let api = server.api();
    api.register_customer("erin", None).await;
    let token = api.access_token("erin").await;
    api.log_out(&token).await.assert_status(204);
}

/// Waits (up to 20 s) until the server's logs report pruning of at least one session, and
/// answers the total it reported.
fn wait_for_pruning(server: &Server) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reports: Vec<Value> = server
            .logs()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["message"] == "housekeeping pruned rows")
            .collect();
        let total = |field: &str| -> u64 { reports.iter().filter_map(|r| r[field].as_u64()).sum() };
        let sessions = total("sessions");
        if sessions >= 1 {
            return sessions;
        }
        assert!(
            Instant::now() < deadline,
            "no pruning reported within 20 s; logs:\n{}",
            server.logs().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn with_fast_housekeeping(launch: Launch) -> Launch {
    launch
        .env("CUSTADMIN_HOUSEKEEPING_INTERVAL_SECS", "1")
        .env("CUSTADMIN_HOUSEKEEPING_RETENTION_SECS", "1")
        .env("RUST_LOG", "info")
}

#[tokio::test]
async fn housekeeping_prunes_ended_sessions_on_sqlite() {
    let dir = TempDir::new("housekeeping");
    let server = with_fast_housekeeping(Launch::new(dir.path())).serve();
    leave_rows_behind(&server).await;
    let sessions = wait_for_pruning(&server);
    assert_eq!(sessions, 1, "erin's ended session; the live ones stay");
    // Still serving, and sign-in still works after its rows were pruned.
    server.api().access_token("erin").await;
}

#[tokio::test]
async fn housekeeping_prunes_on_postgresql_with_two_instances_at_once() {
    let Some(database) = PgDatabase::create_if_configured(
        "housekeeping_prunes_on_postgresql_with_two_instances_at_once",
    ) else {
        return;
    };
    let dir = TempDir::new("housekeeping-pg");
    let launch = with_fast_housekeeping(Launch::new(dir.path()))
        .env("CUSTADMIN_DATABASE_URL", database.url());
    let (first, second) = (launch.serve(), launch.serve());
    leave_rows_behind(&first).await;
    // Both instances prune; between them each row goes exactly once.
    let deadline = Instant::now() + Duration::from_secs(20);
    let reported = |server: &Server, field: &str| -> u64 {
        server
            .logs()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["message"] == "housekeeping pruned rows")
            .filter_map(|line| line[field].as_u64())
            .sum()
    };
    loop {
        let sessions = reported(&first, "sessions") + reported(&second, "sessions");
        if sessions >= 1 {
            assert_eq!(sessions, 1, "the ended session is pruned once");
            break;
        }
        assert!(Instant::now() < deadline, "no pruning reported within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    second.api().access_token("erin").await;
}
