//! A small HTTP client that never panics: every request becomes an [`Answer`] (or a transport
//! error), timed from send to the last body byte, and is tallied by class in a [`Tally`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// One server, or several taken in turn (round robin, request by request).
    base_urls: std::sync::Arc<Vec<String>>,
    next: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// One answer, with the time it took.
pub struct Answer {
    pub status: u16,
    pub elapsed: Duration,
    pub retry_after_secs: Option<u64>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn string_field(&self, name: &str) -> Option<String> {
        self.json()[name].as_str().map(str::to_string)
    }
}

/// The outcome of one request: an answer, or the transport error and the time until it.
pub type Outcome = Result<Answer, (String, Duration)>;

impl Http {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        Self::round_robin(&[base_url.to_string()], timeout)
    }

    /// Spreads requests over `base_urls` in turn, as a round-robin load balancer does.
    pub fn round_robin(base_urls: &[String], timeout: Duration) -> Self {
        assert!(!base_urls.is_empty(), "at least one server");
        Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("an HTTP client"),
            base_urls: std::sync::Arc::new(base_urls.to_vec()),
            next: Default::default(),
        }
    }

    fn base_url(&self) -> &str {
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.base_urls[turn % self.base_urls.len()]
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Outcome {
        let mut request = self.client.get(format!("{}/api/v1{path}", self.base_url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Self::send(request).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Outcome {
        Self::send(
            self.client
                .post(format!("{}/api/v1{path}", self.base_url()))
                .json(body),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Outcome {
        self.post(
            "/auth/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// A login as a client at `address` (the driver is the server's trusted proxy).
    pub async fn login_from(&self, username: &str, password: &str, address: &str) -> Outcome {
        Self::send(
            self.client
                .post(format!("{}/api/v1/auth/login", self.base_url()))
                .header("x-forwarded-for", address)
                .json(&json!({"username": username, "password": password})),
        )
        .await
    }

    async fn send(request: reqwest::RequestBuilder) -> Outcome {
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|error| (error.to_string(), started.elapsed()))?;
        let status = response.status().as_u16();
        let retry_after_secs = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        let body = response
            .bytes()
            .await
            .map_err(|error| (error.to_string(), started.elapsed()))?
            .to_vec();
        Ok(Answer {
            status,
            elapsed: started.elapsed(),
            retry_after_secs,
            body,
        })
    }
}

/// The class an outcome is counted under.
pub fn class_of(outcome: &Outcome) -> &'static str {
    match outcome {
        Err(_) => "transport_error",
        Ok(answer) => match answer.status {
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
            Err((_, elapsed)) => *elapsed,
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
