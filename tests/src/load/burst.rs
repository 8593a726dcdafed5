//! A login burst: N clients (one account each) all send `POST /auth/login` at the same moment
//! and keep retrying, honouring `Retry-After`, until each has logged in. Server RSS is sampled
//! throughout; `503 server_busy` (the bounded hashing queue) is counted apart from other 5xx.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::accounts::PASSWORD;
use super::http::{round, Client, Latency, Tally};
use super::logins::verdict;
use super::target::{memory, mib, MemorySampler};

pub const GOAL_MIB: f64 = 256.0;
/// Retries per client before it gives up (each waits at least a second).
const MAX_ATTEMPTS: u32 = 120;

/// Where the burst's clients come from, as the server sees it (`X-Forwarded-For`, the driver
/// being its trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addresses {
    /// Customers from many networks: each client its own address.
    OnePerClient,
    /// Everyone behind one address: a company's NAT, a reseller's server.
    Shared,
}

pub async fn run(http: &Client, pid: u32, names: &[String], addresses: Addresses) -> Value {
    let clients = names.len();
    let before = memory(pid).unwrap_or_default();
    let barrier = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let tasks: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let (http, name, barrier) = (http.clone(), name.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let address = match addresses {
                    Addresses::OnePerClient => client_address(index),
                    Addresses::Shared => client_address(0),
                };
                one_client(&http, &name, &address, index).await
            })
        })
        .collect();
    let sampler = MemorySampler::start(pid, Duration::from_millis(10));
    barrier.wait().await;
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut first_attempt = Tally::default();
    let mut time_to_login_us = Vec::new();
    let mut logged_in = 0;
    for task in tasks {
        let client = task.await.expect("a burst client");
        if client.logged_in {
            logged_in += 1;
            time_to_login_us.push(client.time_to_login.as_micros() as u64);
        }
        first_attempt.merge(client.first);
        tally.merge(client.tally);
    }
    let elapsed = started.elapsed();
    let (peak_rss_kib, after) = sampler.finish().await;
    let other_5xx = tally.count("5xx_other") + tally.count("transport_error");
    let peak_mib = mib(peak_rss_kib);
    let met = peak_mib < GOAL_MIB && other_5xx == 0 && logged_in == clients;
    let to_login = Latency::of(&time_to_login_us);
    println!(
        "burst: {clients} concurrent logins from {}: {logged_in} logged in within {:.1} s; {} \
         attempts ({} retries): {} × 503 server_busy, {} × 429 too_many_attempts, {other_5xx} \
         other 5xx/transport; first answers: {} × 200, {} × 429, {} × 503",
        match addresses {
            Addresses::OnePerClient => "an address each",
            Addresses::Shared => "one address",
        },
        elapsed.as_secs_f64(),
        tally.total(),
        tally.total() - first_attempt.total(),
        tally.count("503"),
        tally.count("429"),
        first_attempt.count("2xx"),
        first_attempt.count("429"),
        first_attempt.count("503"),
    );
    println!(
        "  server RSS {:.1} MiB before, peak {:.1} MiB during (goal < {GOAL_MIB} MiB) {}, \
         VmHWM {:.1} MiB, {:.1} MiB after",
        mib(before.rss_kib),
        peak_mib,
        verdict(met),
        mib(after.hwm_kib),
        mib(after.rss_kib),
    );
    println!("  time to log in (with retries): {}", to_login.line());
    println!("  single attempt: {}", tally.latency().line());
    json!({
        "clients": clients,
        "one_address": addresses == Addresses::Shared,
        "logged_in": logged_in,
        "retries": tally.total() - first_attempt.total(),
        "seconds": round(elapsed.as_secs_f64()),
        "attempts": tally.counts_json(),
        "first_attempts": first_attempt.counts_json(),
        "server_busy_503": tally.count("503"),
        "other_5xx_or_transport": other_5xx,
        "rss_before_mib": round(mib(before.rss_kib)),
        "peak_rss_mib": round(peak_mib),
        "vm_hwm_mib": round(mib(after.hwm_kib)),
        "rss_after_mib": round(mib(after.rss_kib)),
        "goal_mib": GOAL_MIB,
        "met": met,
        "time_to_login": to_login.json(),
        "attempt_latency": tally.latency().json(),
    })
}

/// What one burst client went through.
struct Attempts {
    logged_in: bool,
    time_to_login: Duration,
    first: Tally,
    tally: Tally,
}

async fn one_client(http: &Client, name: &str, address: &str, index: usize) -> Attempts {
    let started = Instant::now();
    let mut client = Attempts {
        logged_in: false,
        time_to_login: Duration::ZERO,
        first: Tally::default(),
        tally: Tally::default(),
    };
    for attempt in 0..MAX_ATTEMPTS {
        let outcome = http.login(name, PASSWORD).from_ip(address).outcome().await;
        client.tally.record(&outcome);
        if attempt == 0 {
            client.first.record(&outcome);
        }
        let wait_secs = match &outcome {
            Ok(answer) if answer.status == 200 => {
                client.logged_in = true;
                client.time_to_login = started.elapsed();
                return client;
            }
            Ok(answer) if answer.status == 503 || answer.status == 429 => {
                answer.retry_after().unwrap_or(1)
            }
            Ok(answer) if answer.status.is_server_error() => 1,
            Ok(_) => return client,
            Err(_) => 1,
        };
        // Honour Retry-After, plus a per-client jitter of up to 250 ms so retries spread out.
        let jitter = Duration::from_millis((index as u64 * 37) % 250);
        tokio::time::sleep(Duration::from_secs(wait_secs) + jitter).await;
    }
    client
}

/// Client `index`'s address, from the range set aside for benchmarks (RFC 2544,
/// 198.18.0.0/15); it only ever appears in a header, no packet goes there.
fn client_address(index: usize) -> String {
    format!("198.18.{}.{}", index / 250, index % 250 + 1)
}
