//! `scale`: the same requests against a seeded database and against a database holding only
//! the accounts the requests use (the "empty" one), in one run, and the ratio of each.
//!
//! Both databases come from [`super::seed`]: the empty one is seeded with [`PROBE_ACCOUNTS`]
//! accounts (among them the deep-log accounts and the support agent), which the big one holds
//! too with the same names, secrets and per-account events. So every request does the same work
//! on both, and only the size of the tables differs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use custadmin_blackbox::{totp_code, unix_now};
use serde_json::{json, Value};

use super::accounts::{tokens_of, PASSWORD};
use super::http::{closed_loop, round, Client, Outcome, Tally};
use super::logins::verdict;
use super::seed::{self, has_two_factor, is_heavy, probes, totp_secret_base32};
/// Seeded p50 ÷ empty p50 at most this (issue 13).
pub const GOAL: f64 = 1.5;
/// How deep the "deep page" of the events starts (events newer than it).
const DEEP: usize = 4_000;

pub struct ScaleOptions {
    /// Slices each server gets per request kind, alternating.
    pub rounds: usize,
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

/// What one server needs for the measurements: the probes' names, challenges waiting for a
/// code, and tokens and paths for each read.
struct Prepared {
    http: Client,
    names: Arc<Vec<String>>,
    challenges: Arc<Vec<(u64, String)>>,
    next_challenge: Arc<AtomicUsize>,
    reads: Vec<Read>,
}

/// One kind of read: client `i` reads `pages[i % len]` with `tokens[i % len]`.
#[derive(Clone)]
struct Read {
    name: &'static str,
    tokens: Arc<Vec<String>>,
    pages: Arc<Vec<Page>>,
}

impl Read {
    fn new(name: &'static str, tokens: Vec<String>, pages: Vec<Page>) -> Self {
        Self {
            name,
            tokens: Arc::new(tokens),
            pages: Arc::new(pages),
        }
    }
}

/// What a read asks for; the strings are query strings.
enum Page {
    Account,
    Events(String),
    Customers(String),
}

impl Page {
    fn read(&self, http: &Client, token: &str) -> custadmin_client::Call {
        match self {
            Self::Account => http.account(token),
            Self::Events(query) => http.events_page(token, query),
            Self::Customers(query) => http.search_customers(token, query),
        }
    }
}

async fn prepare(http: &Client, probe_stride: u64, options: &ScaleOptions) -> Prepared {
    let heavy: Vec<u64> = probes(probe_stride)
        .filter(|n| is_heavy(*n, probe_stride))
        .collect();
    let plain: Vec<u64> = probes(probe_stride)
        .filter(|n| !has_two_factor(*n) && !heavy.contains(n))
        .collect();
    let with_code: Vec<u64> = probes(probe_stride)
        .filter(|n| has_two_factor(*n))
        .collect();
    // The password step of every two-factor probe (not timed); each challenge is answered
    // once, with the current code, later (a code is single use per account).
    let challenges = challenges_for(http, &with_code, options.login_clients).await;
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
    let probe_domain = seed::email(plain[42])
        .split_once('@')
        .unwrap()
        .1
        .to_string();
    let search = |name: &'static str, query: String| {
        Read::new(
            name,
            vec![agent.clone()],
            vec![Page::Customers(format!("query={query}"))],
        )
    };
    let reads = vec![
        Read::new("get_account", plain_tokens, vec![Page::Account]),
        Read::new(
            "events_first_page",
            heavy_tokens.clone(),
            vec![Page::Events("limit=50".into())],
        ),
        Read::new(
            "events_deep_page",
            heavy_tokens,
            deep_before
                .iter()
                .map(|before| Page::Events(format!("limit=50&before={before}")))
                .collect(),
        ),
        search("support_search_username", probe_name),
        search("support_search_email", probe_email),
        search("support_search_domain", probe_domain),
        search("support_search_empty", String::new()),
    ];
    Prepared {
        http: http.clone(),
        names: Arc::new(plain.iter().map(|n| seed::username(*n)).collect()),
        challenges: Arc::new(challenges),
        next_challenge: Arc::new(AtomicUsize::new(0)),
        reads,
    }
}

/// Measures every request kind on both servers (`[empty, seeded]`, each seeded by
/// [`seed::seed`]), alternating between them in slices, so that whatever else the machine
/// does at the time weighs on both alike.
pub async fn measure_both(
    https: [&Client; 2],
    probe_stride: u64,
    options: &ScaleOptions,
) -> [Vec<(&'static str, Value, f64)>; 2] {
    let mut prepared = Vec::new();
    for http in https {
        prepared.push(prepare(http, probe_stride, options).await);
    }
    let mut results: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
    let push = |results: &mut [Vec<Measured>; 2], measured: [Measured; 2]| {
        for (side, measured) in measured.into_iter().enumerate() {
            results[side].push(measured);
        }
    };

    let login = |side: &Prepared| {
        let (http, names) = (side.http.clone(), side.names.clone());
        move |worker: usize, n: u64| {
            let (http, names) = (http.clone(), names.clone());
            async move {
                let name = &names[(worker * 97 + n as usize) % names.len()];
                http.login(name, PASSWORD).outcome().await
            }
        }
    };
    let measured = alternate(
        "login",
        options,
        options.login_clients,
        Duration::from_secs(2),
        u64::MAX,
        [login(&prepared[0]), login(&prepared[1])],
    )
    .await;
    push(&mut results, measured);

    let otp = |side: &Prepared| {
        let (http, challenges, next) = (
            side.http.clone(),
            side.challenges.clone(),
            side.next_challenge.clone(),
        );
        move |_: usize, _: u64| {
            let (http, challenges, next) = (http.clone(), challenges.clone(), next.clone());
            async move {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let (number, token) = &challenges[index % challenges.len()];
                let code = totp_code(&totp_secret_base32(*number), unix_now());
                http.otp(json!({"challenge_token": token, "code": code}))
                    .outcome()
                    .await
            }
        }
    };
    let per_round = (prepared[0].challenges.len() / options.rounds.max(1)) as u64;
    let measured = alternate(
        "auth_otp",
        options,
        options.login_clients,
        Duration::ZERO,
        per_round,
        [otp(&prepared[0]), otp(&prepared[1])],
    )
    .await;
    push(&mut results, measured);

    for index in 0..prepared[0].reads.len() {
        let read = |side: &Prepared| {
            let Read { tokens, pages, .. } = side.reads[index].clone();
            let http = side.http.clone();
            move |worker: usize, _: u64| {
                let (http, tokens, pages) = (http.clone(), tokens.clone(), pages.clone());
                async move {
                    let token = &tokens[worker % tokens.len()];
                    let page = &pages[worker % pages.len()];
                    page.read(&http, token).outcome().await
                }
            }
        };
        let measured = alternate(
            prepared[0].reads[index].name,
            options,
            options.read_clients,
            Duration::from_secs(1),
            u64::MAX,
            [read(&prepared[0]), read(&prepared[1])],
        )
        .await;
        push(&mut results, measured);
    }

    results.map(|side| {
        side.into_iter()
            .map(|measured| {
                let p50 = measured.tally.latency().p50_ms;
                (measured.name, measured.json(), p50)
            })
            .collect()
    })
}

/// One request kind on both servers: a warm-up on each, then `options.rounds` slices of
/// `options.seconds / rounds` (at most `max_per_slice` requests) on each in turn, the first
/// server first in even rounds and second in odd ones.
async fn alternate<F, Fut>(
    name: &'static str,
    options: &ScaleOptions,
    clients: usize,
    warm_up: Duration,
    max_per_slice: u64,
    requests: [F; 2],
) -> [Measured; 2]
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Outcome> + Send,
{
    if !warm_up.is_zero() {
        for request in &requests {
            closed_loop(clients, warm_up, u64::MAX, request.clone()).await;
        }
    }
    let rounds = options.rounds.max(1);
    let slice = if max_per_slice == u64::MAX {
        options.seconds / rounds as u32
    } else {
        Duration::from_secs(60)
    };
    let mut tallies = [Tally::default(), Tally::default()];
    let mut elapsed = [Duration::ZERO; 2];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let (tally, took) =
                closed_loop(clients, slice, max_per_slice, requests[side].clone()).await;
            tallies[side].merge(tally);
            elapsed[side] += took;
        }
    }
    let [empty, seeded] = tallies;
    [
        Measured {
            name,
            tally: empty,
            elapsed: elapsed[0],
        },
        Measured {
            name,
            tally: seeded,
            elapsed: elapsed[1],
        },
    ]
}

/// The ratios seeded ÷ empty of the median latencies, printed and as JSON.
pub fn compare(
    empty: &[(&'static str, Value, f64)],
    seeded: &[(&'static str, Value, f64)],
    seeded_size: &Value,
) -> Value {
    for (label, side) in [("empty", empty), ("seeded", seeded)] {
        println!("scale [{label}]:");
        for (name, json, _) in side {
            println!(
                "  {name:<24} {:>9}/s  p50 {} ms, p99 {} ms; answers {}",
                json["per_second"],
                json["latency"]["p50_ms"],
                json["latency"]["p99_ms"],
                json["answers"]
            );
        }
    }
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

async fn sign_in(http: &Client, number: u64) -> String {
    let outcome = http
        .login(&seed::username(number), PASSWORD)
        .outcome()
        .await;
    match outcome.as_ref().ok().and_then(tokens_of) {
        Some(tokens) => tokens.access,
        None => panic!(
            "signing in {}: {}",
            seed::username(number),
            describe(&outcome)
        ),
    }
}

async fn sign_in_with_code(http: &Client, number: u64) -> String {
    let token = challenge(http, number).await;
    let code = totp_code(&totp_secret_base32(number), unix_now());
    let outcome = http
        .otp(json!({"challenge_token": token, "code": code}))
        .outcome()
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

async fn challenge(http: &Client, number: u64) -> String {
    let outcome = http
        .login(&seed::username(number), PASSWORD)
        .outcome()
        .await;
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

async fn challenges_for(http: &Client, numbers: &[u64], workers: usize) -> Vec<(u64, String)> {
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
async fn deep_event_id(http: &Client, token: &str) -> i64 {
    let mut before: Option<i64> = None;
    let mut seen = 0;
    while seen < DEEP {
        let query = match before {
            Some(id) => format!("limit=200&before={id}"),
            None => "limit=200".to_string(),
        };
        let call = http.events_page(token, &query);
        let path = call.describe();
        let outcome = call.outcome().await;
        let page = outcome.as_ref().ok().map(|answer| answer.body.clone());
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
        Ok(answer) => format!("{} {}", answer.status.as_u16(), answer.text),
        Err(error) => error.message.clone(),
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
