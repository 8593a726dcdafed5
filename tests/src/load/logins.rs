//! Login throughput: closed-loop clients log in with correct passwords (so nothing is throttled)
//! over a pool of accounts; compared with the machine's Argon2 limit.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::accounts::PASSWORD;
use super::argon2_limit::{self, Argon2Limit};
use super::http::{closed_loop, round, Client, Tally};

/// Login slices, each after an Argon2-limit slice of [`HASHES_PER_SLICE`] hashes per core.
const ROUNDS: usize = 5;
const HASHES_PER_SLICE: usize = 10;

/// Login throughput ÷ the all-cores Argon2 limit (issue 13): SQLite keeps every write local,
/// PostgreSQL adds a network round trip per statement.
pub const GOAL_SQLITE: f64 = 0.93;
pub const GOAL_POSTGRES: f64 = 0.9;

pub async fn run(
    http: &Client,
    names: &[String],
    limit: &Argon2Limit,
    clients: usize,
    duration: Duration,
    postgres: bool,
) -> Value {
    let goal = if postgres { GOAL_POSTGRES } else { GOAL_SQLITE };
    let names: Arc<Vec<String>> = Arc::new(names.to_vec());
    let request = {
        let (http, names) = (http.clone(), names.clone());
        move |worker: usize, n: u64| {
            let (http, names) = (http.clone(), names.clone());
            async move {
                let name = &names[(worker + n as usize * 7) % names.len()];
                http.login(name, PASSWORD).outcome().await
            }
        }
    };
    // Warm-up: fills the hashing pool and the connection pool; not counted.
    closed_loop(clients, Duration::from_secs(2), u64::MAX, request.clone()).await;
    // The limit is timed again in slices between the login slices (the server idle then), so
    // that other work on the machine weighs on both sides of the ratio alike.
    let mut tally = Tally::default();
    let mut elapsed = Duration::ZERO;
    let (mut hashes, mut hashing) = (0, Duration::ZERO);
    for _ in 0..ROUNDS {
        let cores = limit.cores;
        let (done, took) =
            tokio::task::spawn_blocking(move || argon2_limit::all_cores(cores, HASHES_PER_SLICE))
                .await
                .expect("the argon2 timing");
        hashes += done;
        hashing += took;
        let (slice, took) =
            closed_loop(clients, duration / ROUNDS as u32, u64::MAX, request.clone()).await;
        tally.merge(slice);
        elapsed += took;
    }
    let interleaved_limit = hashes as f64 / hashing.as_secs_f64();
    println!(
        "argon2 limit in {ROUNDS} slices between the login slices: {hashes} hashes in {:.1} s → \
         {interleaved_limit:.1} hashes/s (the ratio's denominator)",
        hashing.as_secs_f64()
    );
    let throughput = tally.count("2xx") as f64 / elapsed.as_secs_f64();
    let ratio = throughput / interleaved_limit;
    let latency = tally.latency();
    println!(
        "login throughput: {clients} clients for {:.1} s: {} logins, {throughput:.2}/s against \
         the argon2 limit {:.2}/s → ratio {ratio:.3} (goal ≥ {goal}) {}",
        elapsed.as_secs_f64(),
        tally.count("2xx"),
        interleaved_limit,
        verdict(ratio >= goal),
    );
    println!(
        "  login latency: {}; answers {:?}",
        latency.line(),
        tally.counts
    );
    json!({
        "clients": clients,
        "seconds": round(elapsed.as_secs_f64()),
        "answers": tally.counts_json(),
        "logins_per_second": round(throughput),
        "argon2_limit_per_second": round(interleaved_limit),
        "argon2_limit_before_per_second": round(limit.per_second),
        "ratio": round(ratio),
        "goal": goal,
        "met": ratio >= goal,
        "latency": latency.json(),
    })
}

pub fn verdict(met: bool) -> &'static str {
    if met {
        "[goal met]"
    } else {
        "[GOAL MISSED]"
    }
}
