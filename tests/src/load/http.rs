//! The load driver's side of the shared client: every request becomes an [`Outcome`] (never a
//! panic), timed from send to the last body byte, and is tallied by class in a [`Tally`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use custadmin_client::{Client, Reply};

/// The outcome of one request: a reply (timed from send to the last body byte), or the
/// transport error and the time until it. Sent with [`custadmin_client::Call::outcome`].
pub type Outcome = Result<Reply, custadmin_client::TransportError>;

/// A client of `base_urls`, taken in turn request by request (as a round-robin load balancer
/// does), that gives up on a request after `timeout`.
pub fn client(base_urls: &[String], timeout: Duration) -> Client {
    Client::with(
        reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("an HTTP client"),
        base_urls.to_vec(),
    )
}

/// The class an outcome is counted under.
pub fn class_of(outcome: &Outcome) -> &'static str {
    match outcome {
        Err(_) => "transport_error",
        Ok(answer) => match answer.status.as_u16() {
            200..=299 => "2xx",
            401 => "401",
            429 => "429",
            503 => "503",
            500..=599 => "5xx_other",
            _ => "4xx_other",
        },
    }
}

/// Counts by class and the latencies (µs) of the requests that were counted as timed.
#[derive(Default, Clone)]
pub struct Tally {
    pub counts: BTreeMap<&'static str, u64>,
    pub latencies_us: Vec<u64>,
}

impl Tally {
    /// Counts the outcome; records its latency too.
    pub fn record(&mut self, outcome: &Outcome) {
        *self.counts.entry(class_of(outcome)).or_default() += 1;
        let elapsed = match outcome {
            Ok(answer) => answer.elapsed,
            Err(error) => error.elapsed,
        };
        self.latencies_us
            .push(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn merge(&mut self, other: Tally) {
        for (class, count) in other.counts {
            *self.counts.entry(class).or_default() += count;
        }
        self.latencies_us.extend(other.latencies_us);
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    pub fn count(&self, class: &str) -> u64 {
        self.counts.get(class).copied().unwrap_or(0)
    }

    pub fn latency(&self) -> Latency {
        Latency::of(&self.latencies_us)
    }

    pub fn counts_json(&self) -> Value {
        json!(self.counts)
    }
}

/// Latency percentiles in milliseconds (nearest rank).
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(samples_us: &[u64]) -> Self {
        if samples_us.is_empty() {
            return Self::default();
        }
        let mut sorted = samples_us.to_vec();
        sorted.sort_unstable();
        let at = |percent: f64| {
            let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
        };
        Self {
            p50_ms: at(50.0),
            p90_ms: at(90.0),
            p99_ms: at(99.0),
            max_ms: *sorted.last().unwrap() as f64 / 1000.0,
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "p50_ms": round(self.p50_ms),
            "p90_ms": round(self.p90_ms),
            "p99_ms": round(self.p99_ms),
            "max_ms": round(self.max_ms),
        })
    }

    pub fn line(&self) -> String {
        format!(
            "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}

/// Three decimals are plenty for a report.
pub fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Runs `clients` closed-loop workers until `duration` has passed or `max_requests` were sent
/// in all; worker `i`'s `n`-th request is `request(i, n)`. Returns the tally and the elapsed time.
pub async fn closed_loop<F, Fut>(
    clients: usize,
    duration: Duration,
    max_requests: u64,
    request: F,
) -> (Tally, Duration)
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Outcome> + Send,
{
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (request, sent) = (request.clone(), sent.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut n = 0;
                while Instant::now() < deadline
                    && sent.fetch_add(1, Ordering::Relaxed) < max_requests
                {
                    let outcome = request(worker, n).await;
                    tally.record(&outcome);
                    n += 1;
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        tally.merge(worker.await.expect("a load worker"));
    }
    (tally, started.elapsed())
}
