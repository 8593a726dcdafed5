//! Soak: paced, mixed traffic for a while (logins, `GET /account`, refresh-token rotation,
//! failed logins spread over many accounts and kept under the throttles, health checks), with
//! server memory and answers by class printed at every report interval.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::accounts::{self, sign_in, tokens_of, Tokens, PASSWORD};
use super::http::{class_of, round, Client, Outcome, Tally};
use super::target::{memory, mib};

pub struct SoakOptions {
    pub duration: Duration,
    pub report_every: Duration,
    pub logins_per_second: f64,
    pub accounts_per_second: f64,
    pub refreshes_per_second: f64,
    pub health_per_second: f64,
    /// One failed login (wrong password) per this many seconds. The per-IP throttle allows 100
    /// failures in 15 minutes from one address, so this stays above 9 s.
    pub failed_login_every: Duration,
}

/// The most memory may grow from the first report to the last and still count as flat.
const FLAT_TOLERANCE: f64 = 0.10;

#[derive(Default)]
struct Counts {
    /// (traffic kind, class) → answers, since the last report.
    window: BTreeMap<(&'static str, &'static str), u64>,
    window_latencies: BTreeMap<&'static str, Tally>,
    total: BTreeMap<(&'static str, &'static str), u64>,
}

impl Counts {
    fn record(&mut self, kind: &'static str, outcome: &Outcome) {
        let class = class_of(outcome);
        *self.window.entry((kind, class)).or_default() += 1;
        *self.total.entry((kind, class)).or_default() += 1;
        self.window_latencies
            .entry(kind)
            .or_default()
            .record(outcome);
    }
}

/// Whether an answer of this class is what this kind of traffic should get.
fn expected(kind: &str, class: &str) -> bool {
    class == "2xx" || (kind == "failed_login" && class == "401")
}

pub async fn run(http: &Client, pid: u32, options: &SoakOptions) -> Value {
    let run = accounts::run_id();
    let members: Vec<String> = (0..20)
        .map(|i| accounts::username("soak", &run, i))
        .collect();
    let victims: Vec<String> = (0..50)
        .map(|i| accounts::username("soakfail", &run, i))
        .collect();
    accounts::register_all(http, &[members.clone(), victims.clone()].concat(), 4).await;
    let refresh_start = sign_in(http, &members[0]).await.expect("a first login");
    let pool: Arc<Mutex<VecDeque<String>>> =
        Arc::new(Mutex::new(VecDeque::from([refresh_start.access.clone()])));
    let counts = Arc::new(Mutex::new(Counts::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let period = |per_second: f64| Duration::from_secs_f64(1.0 / per_second.max(0.001));

    let mut workers = Vec::new();
    {
        let (http, pool, members) = (http.clone(), pool.clone(), members.clone());
        workers.push(paced(
            "login",
            period(options.logins_per_second),
            &stop,
            &counts,
            move |n| {
                let (http, pool, members) = (http.clone(), pool.clone(), members.clone());
                async move {
                    let outcome = http
                        .login(&members[n as usize % members.len()], PASSWORD)
                        .outcome()
                        .await;
                    if let Some(tokens) = outcome.as_ref().ok().and_then(tokens_of) {
                        let mut pool = pool.lock().unwrap();
                        pool.push_back(tokens.access);
                        if pool.len() > 64 {
                            pool.pop_front();
                        }
                    }
                    outcome
                }
            },
        ));
    }
    {
        let (http, pool) = (http.clone(), pool.clone());
        workers.push(paced(
            "account",
            period(options.accounts_per_second),
            &stop,
            &counts,
            move |n| {
                let http = http.clone();
                let token = {
                    let pool = pool.lock().unwrap();
                    pool[n as usize % pool.len()].clone()
                };
                async move { http.account(&token).outcome().await }
            },
        ));
    }
    {
        let http = http.clone();
        let chain = Arc::new(Mutex::new(refresh_start));
        let member = members[0].clone();
        workers.push(paced(
            "refresh",
            period(options.refreshes_per_second),
            &stop,
            &counts,
            move |_| {
                let (http, chain, member) = (http.clone(), chain.clone(), member.clone());
                async move {
                    let current = chain.lock().unwrap().refresh.clone();
                    let outcome = http.refresh(json!(current)).outcome().await;
                    let next: Option<Tokens> = match outcome.as_ref().ok().and_then(tokens_of) {
                        Some(tokens) => Some(tokens),
                        // The chain broke (should not happen): start a new one.
                        None => sign_in(&http, &member).await,
                    };
                    if let Some(next) = next {
                        *chain.lock().unwrap() = next;
                    }
                    outcome
                }
            },
        ));
    }
    {
        let (http, victims) = (http.clone(), victims.clone());
        workers.push(paced(
            "failed_login",
            options.failed_login_every,
            &stop,
            &counts,
            move |n| {
                let (http, victims) = (http.clone(), victims.clone());
                async move {
                    http.login(
                        &victims[n as usize % victims.len()],
                        "not the password at all",
                    )
                    .outcome()
                    .await
                }
            },
        ));
    }
    {
        let http = http.clone();
        workers.push(paced(
            "health",
            period(options.health_per_second),
            &stop,
            &counts,
            move |_| {
                let http = http.clone();
                async move { http.health().outcome().await }
            },
        ));
    }

    let started = Instant::now();
    let start_memory = memory(pid).unwrap_or_default();
    println!(
        "soak: {:.0} s of mixed traffic; server RSS {:.1} MiB at start; a report every {:.0} s",
        options.duration.as_secs_f64(),
        mib(start_memory.rss_kib),
        options.report_every.as_secs_f64()
    );
    let mut series = Vec::new();
    let mut next_report = options.report_every;
    loop {
        let remaining = options.duration.saturating_sub(started.elapsed());
        let until_report = next_report.saturating_sub(started.elapsed());
        tokio::time::sleep(remaining.min(until_report)).await;
        let done = started.elapsed() >= options.duration;
        if done {
            stop.store(true, Ordering::SeqCst);
            for worker in workers.drain(..) {
                worker.await.expect("a soak worker");
            }
        }
        series.push(report(&counts, pid, started.elapsed()));
        next_report += options.report_every;
        if done {
            break;
        }
    }

    let rss: Vec<f64> = series
        .iter()
        .map(|point| point["rss_mib"].as_f64().unwrap_or(0.0))
        .collect();
    let first = rss.first().copied().unwrap_or(0.0);
    let last = rss.last().copied().unwrap_or(0.0);
    let max = rss.iter().copied().fold(0.0, f64::max);
    let flat = last <= first * (1.0 + FLAT_TOLERANCE);
    let totals = counts.lock().unwrap().total.clone();
    let unexpected: u64 = totals
        .iter()
        .filter(|((kind, class), _)| !expected(kind, class))
        .map(|(_, count)| count)
        .sum();
    println!(
        "soak done: RSS {first:.1} MiB at the first report, {last:.1} MiB at the last, max \
         {max:.1} MiB → {}; {} requests, {unexpected} unexpected answers",
        if flat { "flat" } else { "GROWING" },
        totals.values().sum::<u64>(),
    );
    let totals_json: BTreeMap<String, u64> = totals
        .iter()
        .map(|((kind, class), count)| (format!("{kind} {class}"), *count))
        .collect();
    json!({
        "seconds": round(started.elapsed().as_secs_f64()),
        "rss_start_mib": round(mib(start_memory.rss_kib)),
        "rss_first_report_mib": first,
        "rss_last_mib": last,
        "rss_max_mib": max,
        "flat": flat,
        "flat_tolerance": FLAT_TOLERANCE,
        "unexpected_answers": unexpected,
        "totals": totals_json,
        "series": series,
    })
}

/// Runs `request(n)` every `period` (never two at once) until `stop` is set.
fn paced<F, Fut>(
    kind: &'static str,
    period: Duration,
    stop: &Arc<AtomicBool>,
    counts: &Arc<Mutex<Counts>>,
    request: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Outcome> + Send,
{
    let (stop, counts) = (stop.clone(), counts.clone());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n = 0;
        loop {
            ticks.tick().await;
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let outcome = request(n).await;
            counts.lock().unwrap().record(kind, &outcome);
            n += 1;
        }
    })
}

/// Prints one report line and returns it as a series point; starts a new window.
fn report(counts: &Mutex<Counts>, pid: u32, elapsed: Duration) -> Value {
    let (window, latencies) = {
        let mut counts = counts.lock().unwrap();
        (
            std::mem::take(&mut counts.window),
            std::mem::take(&mut counts.window_latencies),
        )
    };
    let reading = memory(pid).unwrap_or_default();
    let requests: u64 = window.values().sum();
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for ((kind, class), count) in &window {
        *by_kind.entry(kind).or_default() += count;
        if !expected(kind, class) {
            *errors.entry(format!("{kind} {class}")).or_default() += count;
        }
    }
    let p99: BTreeMap<&str, f64> = latencies
        .iter()
        .map(|(kind, tally)| (*kind, round(tally.latency().p99_ms)))
        .collect();
    println!(
        "  t={:>4.0}s RSS {:.1} MiB (HWM {:.1}) | {requests} requests {by_kind:?} | errors {} | \
         p99 ms {p99:?}",
        elapsed.as_secs_f64(),
        mib(reading.rss_kib),
        mib(reading.hwm_kib),
        if errors.is_empty() {
            "none".to_string()
        } else {
            format!("{errors:?}")
        },
    );
    json!({
        "t_s": elapsed.as_secs_f64().round(),
        "rss_mib": round(mib(reading.rss_kib)),
        "hwm_mib": round(mib(reading.hwm_kib)),
        "requests": requests,
        "by_kind": by_kind,
        "errors": errors,
        "p99_ms": p99,
    })
}
