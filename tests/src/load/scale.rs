//! `scale`: the same requests against a seeded database and against a database holding only
//! the accounts the requests use (the "empty" one), in one run, and the ratio of each.
//!
//! Both databases come from [`super::seed`]: the empty one is seeded with [`PROBE_ACCOUNTS`]
//! accounts (among them the deep-log accounts and the support agent), which the big one holds
//! too with the same names, secrets and per-account events. So every request does the same work
//! on both, and only the size of the tables differs.

use std::sync::Arc;
use std::time::Duration;

use custadmin_blackbox::{totp_code, unix_now};
use serde_json::{json, Value};

use super::accounts::{tokens_of, PASSWORD};
use super::http::{closed_loop, round, Http, Outcome, Tally};
use super::logins::verdict;
use super::seed::{self, has_two_factor, is_heavy, probes, totp_secret_base32};
/// Seeded p50 ÷ empty p50 at most this (issue 13).
pub const GOAL: f64 = 1.5;
/// How deep the "deep page" of the events starts (events newer than it).
const DEEP: usize = 4_000;

pub struct ScaleOptions {
    pub login_clients: usize,
    pub read_clients: usize,
    pub seconds: Duration,
}

/// One measured request kind on one database.
struct Measured {
    name: &'static str,
    tally: Tally,
    elapsed: Duration,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.tally.count("2xx") as f64 / self.elapsed.as_secs_f64()
    }

    fn json(&self) -> Value {
        json!({
            "answers": self.tally.counts_json(),
            "per_second": round(self.rate()),
            "latency": self.tally.latency().json(),
        })
    }
}

/// Measures every request kind against the server at `http`, seeded by [`seed::seed`] with at
/// least [`PROBE_ACCOUNTS`] accounts.
pub async fn measure(
    http: &Http,
    label: &str,
    probe_stride: u64,
    options: &ScaleOptions,
) -> Vec<(&'static str, Value, f64)> {
    let heavy: Vec<u64> = probes(probe_stride)
        .filter(|n| is_heavy(*n, probe_stride))
        .collect();
    let plain: Vec<u64> = probes(probe_stride)
        .filter(|n| !has_two_factor(*n) && !heavy.contains(n))
        .collect();
    let with_code: Vec<u64> = probes(probe_stride)
        .filter(|n| has_two_factor(*n))
        .collect();
    let mut results = Vec::new();

    // Login with a password (Argon2 and the database work around it).
    let names: Arc<Vec<String>> = Arc::new(plain.iter().map(|n| seed::username(*n)).collect());
    let login = {
        let (http, names) = (http.clone(), names.clone());
        move |worker: usize, n: u64| {
            let (http, names) = (http.clone(), names.clone());
            async move {
                let name = &names[(worker * 97 + n as usize) % names.len()];
                http.login(name, PASSWORD).await
            }
        }
    };
    closed_loop(
        options.login_clients,
        Duration::from_secs(2),
        u64::MAX,
        login.clone(),
    )
    .await;
    let (tally, elapsed) =
        closed_loop(options.login_clients, options.seconds, u64::MAX, login).await;
    results.push(Measured {
        name: "login",
        tally,
        elapsed,
    });

    // The code step: one password step per two-factor account first (not timed), then each
    // challenge answered once with the current code (a code is single use per account).
    let challenges = Arc::new(challenges_for(http, &with_code, options.login_clients).await);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let otp = {
        let (http, challenges, next) = (http.clone(), challenges.clone(), next.clone());
        move |_: usize, _: u64| {
            let (http, challenges, next) = (http.clone(), challenges.clone(), next.clone());
            async move {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (number, token) = &challenges[index % challenges.len()];
                let code = totp_code(&totp_secret_base32(*number), unix_now());
                http.post(
                    "/auth/otp",
                    &json!({"challenge_token": token, "code": code}),
                )
                .await
            }
        }
    };
    let (tally, elapsed) = closed_loop(
        options.login_clients,
        Duration::from_secs(60),
        challenges.len() as u64,
        otp,
    )
    .await;
    results.push(Measured {
        name: "auth_otp",
        tally,
        elapsed,
    });

    // Reads with the tokens of signed-in accounts.
    let mut plain_tokens = Vec::new();
    for number in plain.iter().take(options.read_clients) {
        plain_tokens.push(sign_in(http, *number).await);
    }
    let mut heavy_tokens = Vec::new();
    let mut deep_before = Vec::new();
    for number in &heavy {
        let token = sign_in(http, *number).await;
        deep_before.push(deep_event_id(http, &token).await);
        heavy_tokens.push(token);
    }
    let agent = sign_in_with_code(http, seed::SUPPORT_NUMBER).await;
    let probe_name = seed::username(plain[plain.len() / 2]);
    let probe_email = seed::email(plain[plain.len() / 3]);
    // A domain holds 1 000 customers in a million, 2 among the probes: this search returns 50
    // of many more matches on the seeded database (the others return the same on both).
    let probe_domain = seed::email(plain[42]).split_once('@').unwrap().1.to_string();
    let reads: Vec<(&'static str, Vec<String>, Vec<String>)> = vec![
        ("get_account", plain_tokens, vec!["/account".into()]),
        (
            "events_first_page",
            heavy_tokens.clone(),
            vec!["/account/events?limit=50".into()],
        ),
        (
            "events_deep_page",
            heavy_tokens.clone(),
            deep_before
                .iter()
                .map(|before| format!("/account/events?limit=50&before={before}"))
                .collect(),
        ),
        (
            "support_search_username",
            vec![agent.clone()],
            vec![format!("/support/customers?query={probe_name}")],
        ),
        (
            "support_search_email",
            vec![agent.clone()],
            vec![format!("/support/customers?query={probe_email}")],
        ),
        (
            "support_search_domain",
            vec![agent.clone()],
            vec![format!("/support/customers?query={probe_domain}")],
        ),
        (
            "support_search_empty",
            vec![agent],
            vec!["/support/customers".into()],
        ),
    ];
    for (name, tokens, paths) in reads {
        let (tokens, paths) = (Arc::new(tokens), Arc::new(paths));
        let read = {
            let http = http.clone();
            move |worker: usize, _: u64| {
                let (http, tokens, paths) = (http.clone(), tokens.clone(), paths.clone());
                async move {
                    let token = &tokens[worker % tokens.len()];
                    http.get(&paths[worker % paths.len()], Some(token)).await
                }
            }
        };
        closed_loop(
            options.read_clients,
            Duration::from_secs(1),
            u64::MAX,
            read.clone(),
        )
        .await;
        let (tally, elapsed) =
            closed_loop(options.read_clients, options.seconds, u64::MAX, read).await;
        results.push(Measured {
            name,
            tally,
            elapsed,
        });
    }

    println!("scale [{label}]:");
    results
        .into_iter()
        .map(|measured| {
            println!(
                "  {:<24} {:>8.1}/s  {}; answers {:?}",
                measured.name,
                measured.rate(),
                measured.tally.latency().line(),
                measured.tally.counts
            );
            let p50 = measured.tally.latency().p50_ms;
            (measured.name, measured.json(), p50)
        })
        .collect()
}

/// The ratios seeded ÷ empty of the median latencies, printed and as JSON.
pub fn compare(
    empty: &[(&'static str, Value, f64)],
    seeded: &[(&'static str, Value, f64)],
    seeded_size: &Value,
) -> Value {
    println!("scale: seeded ÷ empty, median latency (goal ≤ {GOAL}):");
    let mut rows = serde_json::Map::new();
    let mut all_met = true;
    for ((name, empty_json, empty_p50), (_, seeded_json, seeded_p50)) in empty.iter().zip(seeded) {
        let ratio = seeded_p50 / empty_p50;
        let met = ratio <= GOAL;
        all_met &= met;
        println!(
            "  {name:<24} {empty_p50:>8.2} ms → {seeded_p50:>8.2} ms  ×{ratio:.2} {}",
            verdict(met)
        );
        rows.insert(
            name.to_string(),
            json!({"empty": empty_json, "seeded": seeded_json, "p50_ratio": round(ratio), "met": met}),
        );
    }
    json!({"seeded_database": seeded_size, "goal": GOAL, "all_met": all_met, "requests": rows})
}

async fn sign_in(http: &Http, number: u64) -> String {
    let outcome = http.login(&seed::username(number), PASSWORD).await;
    match outcome.as_ref().ok().and_then(tokens_of) {
        Some(tokens) => tokens.access,
        None => panic!(
            "signing in {}: {}",
            seed::username(number),
            describe(&outcome)
        ),
    }
}

async fn sign_in_with_code(http: &Http, number: u64) -> String {
    let token = challenge(http, number).await;
    let code = totp_code(&totp_secret_base32(number), unix_now());
    let outcome = http
        .post(
            "/auth/otp",
            &json!({"challenge_token": token, "code": code}),
        )
        .await;
    match outcome.as_ref().ok().and_then(tokens_of) {
        Some(tokens) => tokens.access,
        None => panic!(
            "the code step of {}: {}",
            seed::username(number),
            describe(&outcome)
        ),
    }
}

async fn challenge(http: &Http, number: u64) -> String {
    let outcome = http.login(&seed::username(number), PASSWORD).await;
    match outcome
        .as_ref()
        .ok()
        .and_then(|answer| answer.string_field("challenge_token"))
    {
        Some(token) => token,
        None => panic!(
            "the password step of {}: {}",
            seed::username(number),
            describe(&outcome)
        ),
    }
}

async fn challenges_for(http: &Http, numbers: &[u64], workers: usize) -> Vec<(u64, String)> {
    let chunks: Vec<Vec<u64>> = (0..workers.max(1))
        .map(|worker| {
            numbers
                .iter()
                .skip(worker)
                .step_by(workers.max(1))
                .copied()
                .collect()
        })
        .collect();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let http = http.clone();
            tokio::spawn(async move {
                let mut found = Vec::new();
                for number in chunk {
                    found.push((number, challenge(&http, number).await));
                }
                found
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a challenge worker"));
    }
    all
}

/// The id of the account's event [`DEEP`] events back, by paging as a client would.
async fn deep_event_id(http: &Http, token: &str) -> i64 {
    let mut before: Option<i64> = None;
    let mut seen = 0;
    while seen < DEEP {
        let path = match before {
            Some(id) => format!("/account/events?limit=200&before={id}"),
            None => "/account/events?limit=200".to_string(),
        };
        let outcome = http.get(&path, Some(token)).await;
        let page = outcome.as_ref().ok().map(|answer| answer.json());
        let events = page
            .as_ref()
            .and_then(|page| page["events"].as_array().cloned())
            .unwrap_or_else(|| panic!("{path}: {}", describe(&outcome)));
        let Some(last) = events.last().and_then(|event| event["id"].as_i64()) else {
            panic!("{path}: the log ends after {seen} events; seed with more --heavy-events");
        };
        seen += events.len();
        before = Some(last);
    }
    before.expect("at least one page")
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Ok(answer) => format!(
            "{} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ),
        Err((error, _)) => error.clone(),
    }
}

/// The empty database on PostgreSQL: `<name>_empty` beside the seeded one, dropped on drop.
pub struct EmptyPostgres {
    pub url: String,
    seeded_url: String,
    name: String,
}

impl EmptyPostgres {
    pub fn create(seeded_url: &str) -> Result<Self, String> {
        let (head, query) = seeded_url.split_once('?').unwrap_or((seeded_url, ""));
        let (server, database) = head
            .rsplit_once('/')
            .ok_or_else(|| format!("{seeded_url}: no database name"))?;
        let name = format!("{database}_empty");
        let url = if query.is_empty() {
            format!("{server}/{name}")
        } else {
            format!("{server}/{name}?{query}")
        };
        let empty = Self {
            url,
            seeded_url: seeded_url.to_string(),
            name,
        };
        empty.execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            empty.name
        ))?;
        empty.execute(&format!("CREATE DATABASE {}", empty.name))?;
        Ok(empty)
    }

    fn execute(&self, sql: &str) -> Result<(), String> {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let mut connection = diesel::PgConnection::establish(&self.seeded_url)
            .map_err(|error| format!("{}: {error}", self.seeded_url))?;
        connection
            .batch_execute(sql)
            .map_err(|error| format!("{sql}: {error}"))
    }
}

impl Drop for EmptyPostgres {
    fn drop(&mut self) {
        if let Err(error) = self.execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("{error}");
        }
    }
}
