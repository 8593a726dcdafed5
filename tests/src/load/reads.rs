//! Authenticated reads against the cheapest endpoint: `GET /account` (token check, session
//! lookup, account query) against `GET /health` (a database ping), same clients, same run.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::accounts::{sign_in, Tokens};
use super::http::{closed_loop, round, Client, Latency, Tally};
use super::logins::verdict;

pub const GOAL: f64 = 0.5;

pub async fn run(http: &Client, names: &[String], clients: usize, duration: Duration) -> Value {
    let mut tokens: Vec<Tokens> = Vec::new();
    for name in names.iter().take(clients.max(1)) {
        tokens.push(
            sign_in(http, name)
                .await
                .expect("a login for the read test"),
        );
    }
    let tokens = Arc::new(tokens);

    let health = {
        let http = http.clone();
        move |_: usize, _: u64| {
            let http = http.clone();
            async move { http.health().outcome().await }
        }
    };
    let account = {
        let (http, tokens) = (http.clone(), tokens.clone());
        move |worker: usize, _: u64| {
            let (http, tokens) = (http.clone(), tokens.clone());
            async move {
                let token = &tokens[worker % tokens.len()].access;
                http.account(token).outcome().await
            }
        }
    };
    let warm_up = Duration::from_secs(1);
    closed_loop(clients, warm_up, u64::MAX, health.clone()).await;
    let (health_tally, health_elapsed) = closed_loop(clients, duration, u64::MAX, health).await;
    closed_loop(clients, warm_up, u64::MAX, account.clone()).await;
    let (account_tally, account_elapsed) = closed_loop(clients, duration, u64::MAX, account).await;

    let rate = |tally: &Tally, elapsed: Duration| tally.count("2xx") as f64 / elapsed.as_secs_f64();
    let health_rate = rate(&health_tally, health_elapsed);
    let account_rate = rate(&account_tally, account_elapsed);
    let ratio = account_rate / health_rate;
    let (health_latency, account_latency) = (health_tally.latency(), account_tally.latency());
    println!(
        "reads: {clients} clients, {:.0} s each: GET /health {health_rate:.0}/s, GET /account \
         {account_rate:.0}/s → ratio {ratio:.3} (goal ≥ {GOAL}) {}",
        duration.as_secs_f64(),
        verdict(ratio >= GOAL)
    );
    println!(
        "  GET /health  {}; answers {:?}",
        health_latency.line(),
        health_tally.counts
    );
    println!(
        "  GET /account {}; answers {:?}",
        account_latency.line(),
        account_tally.counts
    );
    let side = |tally: &Tally, rate: f64, latency: Latency| json!({"answers": tally.counts_json(), "per_second": round(rate), "latency": latency.json()});
    json!({
        "clients": clients,
        "seconds_each": duration.as_secs_f64(),
        "health": side(&health_tally, health_rate, health_latency),
        "account": side(&account_tally, account_rate, account_latency),
        "ratio": round(ratio),
        "goal": GOAL,
        "met": ratio >= GOAL,
    })
}
