//! The Argon2 limit of this machine: how many production-cost hashes per second its cores can do
//! at most, measured here rather than assumed: one thread per core hashing at the same time,
//! each reusing one working buffer, as the server's hashing pool does (issue 13), and each
//! thread's own rate summed (issue 22). One core's
//! rate times the cores (the earlier definition) is reported beside it: on a VM whose memory
//! bandwidth does not scale with the cores it is higher.
//!
//! The hash is timed with its 19 MiB of working memory allocated once and reused, so the figure
//! is the cost of hashing itself. For comparison the same hash is also timed allocating its
//! memory afresh each time (`Argon2::hash_password_into`, as the `password-hash` API the server
//! uses does): the difference is what page faults and the allocator add.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde_json::{json, Value};

use super::http::round;

/// The server's production parameters (`PasswordHashingSettings::default`).
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;
const PASSWORD: &[u8] = b"correct horse battery staple";

pub struct Argon2Limit {
    pub cores: usize,
    pub samples: usize,
    /// Median of one hash with reused memory: the basis of the limit.
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
    /// Median of one hash that allocates its memory each time.
    pub median_fresh_memory: Duration,
    /// `cores / median`, in hashes per second.
    pub one_core_times_cores_per_second: f64,
    /// Hashes per second with every core hashing at once, each thread's own rate summed: the
    /// limit.
    pub per_second: f64,
    /// How long the all-cores measurement ran.
    pub all_cores_seconds: f64,
}

impl Argon2Limit {
    pub fn json(&self) -> Value {
        let ms = |time: Duration| round(time.as_secs_f64() * 1000.0);
        json!({
            "cores": self.cores,
            "samples": self.samples,
            "params": {"memory_kib": MEMORY_KIB, "iterations": ITERATIONS, "parallelism": PARALLELISM},
            "hash_median_ms": ms(self.median),
            "hash_min_ms": ms(self.min),
            "hash_max_ms": ms(self.max),
            "hash_median_fresh_memory_ms": ms(self.median_fresh_memory),
            "one_core_times_cores_per_second": round(self.one_core_times_cores_per_second),
            "all_cores_seconds": round(self.all_cores_seconds),
            "limit_per_second": round(self.per_second),
        })
    }
}

/// Times `samples` hashes one after another on the calling thread (after a warm-up hash), with
/// reused memory and then with fresh memory.
pub fn measure(samples: usize) -> Argon2Limit {
    let samples = samples.max(1);
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(32)).expect("parameters");
    let block_count = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut output = [0u8; 32];
    let mut memory = vec![Block::default(); block_count];
    let mut reused = |index: usize| {
        let started = Instant::now();
        argon2
            .hash_password_into_with_memory(PASSWORD, &[index as u8; 16], &mut output, &mut memory)
            .expect("argon2 hashing");
        started.elapsed()
    };
    reused(usize::MAX);
    let times = sorted((0..samples).map(&mut reused).collect());
    drop(memory);
    let fresh = |index: usize| {
        let mut output = [0u8; 32];
        let started = Instant::now();
        argon2
            .hash_password_into(PASSWORD, &[index as u8; 16], &mut output)
            .expect("argon2 hashing");
        started.elapsed()
    };
    let fresh_times = sorted((0..samples).map(fresh).collect());
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let median = times[times.len() / 2];
    let all_cores = all_cores(cores, Budget::Hashes(samples));
    Argon2Limit {
        cores,
        samples,
        median,
        min: times[0],
        max: *times.last().unwrap(),
        median_fresh_memory: fresh_times[fresh_times.len() / 2],
        one_core_times_cores_per_second: cores as f64 / median.as_secs_f64(),
        per_second: all_cores.per_second(),
        all_cores_seconds: all_cores.seconds(),
    }
}

/// What `cores` threads hashing at once did: each thread's hashes and its own time.
#[derive(Debug, Default, Clone)]
pub struct AllCores {
    /// `(hashes, time)` per thread, from the common start to that thread's last hash.
    pub threads: Vec<(usize, Duration)>,
}

impl AllCores {
    pub fn hashes(&self) -> usize {
        self.threads.iter().map(|(hashes, _)| hashes).sum()
    }

    /// The limit: the sum of each thread's own rate. A thread slowed by a neighbour on a
    /// shared machine lowers only its own term, as it would lower only its own share of the
    /// server's hashing pool, whose threads hash independently.
    pub fn per_second(&self) -> f64 {
        self.threads
            .iter()
            .map(|(hashes, time)| *hashes as f64 / time.as_secs_f64().max(f64::EPSILON))
            .sum()
    }

    /// The longest thread's time.
    pub fn seconds(&self) -> f64 {
        self.threads
            .iter()
            .map(|(_, time)| time.as_secs_f64())
            .fold(0.0, f64::max)
    }

    /// Adds another measurement thread by thread (slices of one interleaved run).
    pub fn merge(&mut self, other: AllCores) {
        if self.threads.is_empty() {
            self.threads = other.threads;
            return;
        }
        for (mine, (hashes, time)) in self.threads.iter_mut().zip(other.threads) {
            mine.0 += hashes;
            mine.1 += time;
        }
    }
}

/// How long each all-cores thread hashes.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    Hashes(usize),
    /// Hashes until this much time has passed (the last hash is finished, then counted).
    Time(Duration),
}

/// `cores` threads, each with its own reused working memory (as the server's hashing pool
/// keeps one per thread), hash at the same time after a warm-up hash each and a common start.
pub fn all_cores(cores: usize, budget: Budget) -> AllCores {
    let start = std::sync::Arc::new(std::sync::Barrier::new(cores + 1));
    let threads: Vec<_> = (0..cores)
        .map(|thread| {
            let start = start.clone();
            std::thread::spawn(move || {
                let params =
                    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(32)).expect("parameters");
                let mut memory = vec![Block::default(); params.block_count()];
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let mut output = [0u8; 32];
                let mut hash = |salt: u8| {
                    argon2
                        .hash_password_into_with_memory(
                            PASSWORD,
                            &[salt; 16],
                            &mut output,
                            &mut memory,
                        )
                        .expect("argon2 hashing");
                };
                hash(thread as u8);
                start.wait();
                let started = Instant::now();
                let mut hashes = 0;
                loop {
                    let done = match budget {
                        Budget::Hashes(count) => hashes >= count,
                        Budget::Time(time) => started.elapsed() >= time,
                    };
                    if done {
                        break;
                    }
                    hash(hashes as u8);
                    hashes += 1;
                }
                (hashes, started.elapsed())
            })
        })
        .collect();
    start.wait();
    AllCores {
        threads: threads
            .into_iter()
            .map(|thread| thread.join().expect("a hashing thread"))
            .collect(),
    }
}

fn sorted(mut times: Vec<Duration>) -> Vec<Duration> {
    times.sort_unstable();
    times
}

pub fn report(limit: &Argon2Limit) {
    let ms = |time: Duration| time.as_secs_f64() * 1000.0;
    println!(
        "argon2 limit: one hash (m={MEMORY_KIB} KiB, t={ITERATIONS}, p={PARALLELISM}) takes \
         {:.1} ms median of {} (min {:.1}, max {:.1}; {:.1} ms allocating its memory afresh); \
         × {} cores = {:.1} hashes/s; measured with every core hashing at once, each thread's \
         rate summed: {:.1} hashes/s (the limit)",
        ms(limit.median),
        limit.samples,
        ms(limit.min),
        ms(limit.max),
        ms(limit.median_fresh_memory),
        limit.cores,
        limit.one_core_times_cores_per_second,
        limit.per_second
    );
}
