//! Login throughput against the Argon2 limit, measured so the client does not compete with the
//! server (issue 22): `wrk`, a C client, posts the logins from one thread over 8 connections
//! with a Lua script (`login.lua`), and slices of logins alternate with slices of the limit,
//! so both sides of the ratio see the same neighbours on a shared machine. Correct passwords
//! over a pool of accounts, so nothing is throttled.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use super::accounts::PASSWORD;
use super::argon2_limit::{self, AllCores, Budget};
use super::http::round;

/// Login slices, each after a limit slice (and one more limit slice at the end).
const ROUNDS: usize = 6;
const SLICE: Duration = Duration::from_secs(3);
/// Not counted: fills the hashing pool, the connection pool and the caches.
const WARM_UP: Duration = Duration::from_secs(2);
const SCRIPT: &str = include_str!("login.lua");

/// Login throughput ÷ the all-cores Argon2 limit (issues 13 and 22): SQLite keeps every write
/// local, PostgreSQL adds a network round trip per statement.
pub const GOAL_SQLITE: f64 = 0.93;
pub const GOAL_POSTGRES: f64 = 0.9;

/// How the logins are driven.
pub struct Driver<'a> {
    /// The `wrk` executable.
    pub wrk: &'a Path,
    pub base_url: &'a str,
    pub connections: usize,
    pub cores: usize,
    /// The server's process, whose CPU time is read around each login slice.
    pub pid: u32,
}

/// What `wrk` reported of one slice (its `done` line).
#[derive(Debug, Default, Clone, Copy)]
struct Slice {
    requests: u64,
    duration_us: u64,
    non_2xx_3xx: u64,
    socket_errors: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
}

impl Slice {
    /// Logins answered with success (wrk counts the rest as non-2xx/3xx).
    fn signed_in(&self) -> u64 {
        self.requests.saturating_sub(self.non_2xx_3xx)
    }

    fn seconds(&self) -> f64 {
        self.duration_us as f64 / 1e6
    }
}

pub async fn run(driver: &Driver<'_>, names: &[String], postgres: bool) -> Value {
    let goal = if postgres { GOAL_POSTGRES } else { GOAL_SQLITE };
    let script = ScriptFile::write();
    if let Err(problem) = wrk_slice(driver, &script.0, names, WARM_UP).await {
        println!("login throughput: {problem}");
        return json!({"error": problem});
    }
    let mut limit = AllCores::default();
    let mut limit_slices = Vec::new();
    let mut logins = Vec::new();
    let mut cpu = CpuShares::default();
    // Limit, logins, limit, logins, …, limit: every login slice lies between two limit slices.
    for round in 0..=ROUNDS {
        let cores = driver.cores;
        let hashing = tokio::task::spawn_blocking(move || {
            argon2_limit::all_cores(cores, Budget::Time(SLICE))
        })
        .await
        .expect("the argon2 timing");
        limit_slices.push(hashing.per_second());
        limit.merge(hashing);
        if round == ROUNDS {
            break;
        }
        let before = CpuTimes::read(driver.pid);
        let slice = wrk_slice(driver, &script.0, names, SLICE).await;
        cpu.add(before, CpuTimes::read(driver.pid));
        match slice {
            Ok(slice) => logins.push(slice),
            Err(problem) => {
                println!("login throughput: {problem}");
                return json!({"error": problem});
            }
        }
    }
    let refused: u64 = logins.iter().map(|slice| slice.non_2xx_3xx).sum();
    let socket_errors: u64 = logins.iter().map(|slice| slice.socket_errors).sum();
    let seconds: f64 = logins.iter().map(Slice::seconds).sum();
    let signed_in: u64 = logins.iter().map(Slice::signed_in).sum();
    let throughput = signed_in as f64 / seconds;
    let limit_per_second = limit.per_second();
    let ratio = throughput / limit_per_second;
    // Each login slice against the mean of the limit slices either side of it: on a machine
    // whose speed drifts, the spread of these says how far to trust the ratio.
    let mut round_ratios: Vec<f64> = logins
        .iter()
        .enumerate()
        .map(|(index, slice)| {
            let rate = slice.signed_in() as f64 / slice.seconds();
            round(rate / ((limit_slices[index] + limit_slices[index + 1]) / 2.0))
        })
        .collect();
    let rounds_in_order = round_ratios.clone();
    round_ratios.sort_by(f64::total_cmp);
    let median_round_ratio = round_ratios[round_ratios.len() / 2];
    let per_thread: Vec<f64> = limit
        .threads
        .iter()
        .map(|(hashes, time)| round(*hashes as f64 / time.as_secs_f64()))
        .collect();
    // wrk keeps percentiles per run; the worst slice's are reported (no slice is hidden).
    let worst = |field: fn(&Slice) -> u64| logins.iter().map(field).max().unwrap_or(0) as f64 / 1e3;
    println!(
        "argon2 limit in {} slices of {} s around the login slices: {} hashes, each thread's \
         rate {per_thread:?} summed → {limit_per_second:.1} hashes/s",
        ROUNDS + 1,
        SLICE.as_secs(),
        limit.hashes(),
    );
    println!(
        "login throughput: wrk, {} connections, {ROUNDS} slices for {seconds:.1} s: {signed_in} \
         logins ({refused} refused, {socket_errors} socket errors), {throughput:.2}/s against the \
         argon2 limit {limit_per_second:.2}/s → ratio {ratio:.3} (goal ≥ {goal}) {}",
        driver.connections,
        verdict(ratio >= goal && refused == 0 && socket_errors == 0),
    );
    // Where the machine's time went while logins ran, per login: the server's CPU (of which
    // the limit's own hash time is the part the ratio wants), everything else, and idle.
    let per_login_ms = |seconds: f64| round(seconds * 1000.0 / signed_in.max(1) as f64);
    let hash_ms = 1000.0 * driver.cores as f64 / limit_per_second;
    println!(
        "  each login slice against the limit slices either side: {rounds_in_order:?} (median \
         {median_round_ratio:.3}); the limit slices: {:?} hashes/s",
        limit_slices
            .iter()
            .map(|rate| round(*rate))
            .collect::<Vec<_>>()
    );
    println!(
        "  per login: {:.2} ms of machine time ({} cores), of which the server's CPU {:.2} ms \
         (a hash at the limit's pace: {hash_ms:.2} ms), other processes {:.2} ms, idle {:.2} ms",
        per_login_ms(cpu.machine_seconds),
        driver.cores,
        per_login_ms(cpu.server_seconds),
        per_login_ms(cpu.other_seconds()),
        per_login_ms(cpu.idle_seconds),
    );
    println!(
        "  login latency (worst slice): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        worst(|slice| slice.p50_us),
        worst(|slice| slice.p90_us),
        worst(|slice| slice.p99_us),
        worst(|slice| slice.max_us),
    );
    json!({
        "client": "wrk",
        "connections": driver.connections,
        "rounds": ROUNDS,
        "slice_seconds": SLICE.as_secs(),
        "seconds": round(seconds),
        "logins": signed_in,
        "refused": refused,
        "socket_errors": socket_errors,
        "logins_per_second": round(throughput),
        "argon2_limit_per_second": round(limit_per_second),
        "argon2_thread_rates": per_thread,
        "per_login_ms": {
            "machine": per_login_ms(cpu.machine_seconds),
            "server_cpu": per_login_ms(cpu.server_seconds),
            "hash_at_limit_pace": round(hash_ms),
            "other_processes": per_login_ms(cpu.other_seconds()),
            "idle": per_login_ms(cpu.idle_seconds),
        },
        "ratio": round(ratio),
        "round_ratios": rounds_in_order,
        "median_round_ratio": median_round_ratio,
        "limit_slices_per_second": limit_slices.iter().map(|rate| round(*rate)).collect::<Vec<_>>(),
        "goal": goal,
        "met": ratio >= goal && refused == 0 && socket_errors == 0,
        "latency_worst_slice": {
            "p50_ms": round(worst(|slice| slice.p50_us)),
            "p90_ms": round(worst(|slice| slice.p90_us)),
            "p99_ms": round(worst(|slice| slice.p99_us)),
            "max_ms": round(worst(|slice| slice.max_us)),
        },
    })
}

/// One run of `wrk` for `duration`, read from the `wrk-summary` line its script prints.
async fn wrk_slice(
    driver: &Driver<'_>,
    script: &Path,
    names: &[String],
    duration: Duration,
) -> Result<Slice, String> {
    let output = tokio::process::Command::new(driver.wrk)
        .arg("--threads=1")
        .arg(format!("--connections={}", driver.connections))
        .arg(format!("--duration={}s", duration.as_secs()))
        .arg("--timeout=30s")
        .arg(format!("--script={}", script.display()))
        .arg(driver.base_url)
        .arg("--")
        .arg(PASSWORD)
        .args(names)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|error| {
            format!(
                "cannot run {} ({error}); install wrk (Debian: apt-get install wrk) or pass --wrk",
                driver.wrk.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "wrk failed ({}): {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("wrk-summary "))
        .ok_or_else(|| format!("wrk printed no summary: {stdout}"))?;
    let summary: Value =
        serde_json::from_str(line).map_err(|error| format!("wrk's summary {line}: {error}"))?;
    let field = |name: &str| summary[name].as_u64().unwrap_or(0);
    Ok(Slice {
        requests: field("requests"),
        duration_us: field("duration_us"),
        non_2xx_3xx: field("non_2xx_3xx"),
        socket_errors: field("connect_errors")
            + field("read_errors")
            + field("write_errors")
            + field("timeouts"),
        p50_us: field("p50_us"),
        p90_us: field("p90_us"),
        p99_us: field("p99_us"),
        max_us: field("max_us"),
    })
}

/// Linux reports CPU times in clock ticks of 1/100 s (`USER_HZ`) in `/proc`.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU times at one moment: the server's (user + system) and the machine's, from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
struct CpuTimes {
    server_ticks: u64,
    busy_ticks: u64,
    idle_ticks: u64,
}

impl CpuTimes {
    fn read(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<u64> = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .map(|field| field.parse().unwrap_or(0))
            .collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        let server_ticks = fields.get(11)? + fields.get(12)?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = machine
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .map(|field| field.parse().unwrap_or(0))
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is within user).
        let idle_ticks = cpu.get(3)? + cpu.get(4)?;
        let busy_ticks = cpu.iter().take(8).sum::<u64>() - idle_ticks;
        Some(Self {
            server_ticks,
            busy_ticks,
            idle_ticks,
        })
    }
}

/// The machine's time over the login slices: the server's CPU, all busy time, and idle.
#[derive(Debug, Default)]
struct CpuShares {
    server_seconds: f64,
    busy_seconds: f64,
    idle_seconds: f64,
    machine_seconds: f64,
}

impl CpuShares {
    fn add(&mut self, before: Option<CpuTimes>, after: Option<CpuTimes>) {
        let (Some(before), Some(after)) = (before, after) else {
            return;
        };
        let seconds = |from: u64, to: u64| to.saturating_sub(from) as f64 / TICKS_PER_SECOND;
        self.server_seconds += seconds(before.server_ticks, after.server_ticks);
        self.busy_seconds += seconds(before.busy_ticks, after.busy_ticks);
        self.idle_seconds += seconds(before.idle_ticks, after.idle_ticks);
        self.machine_seconds = self.busy_seconds + self.idle_seconds;
    }

    /// Busy time that was not the server's: the client, the kernel's loopback, neighbours.
    fn other_seconds(&self) -> f64 {
        (self.busy_seconds - self.server_seconds).max(0.0)
    }
}

/// The Lua script in a file of its own for `wrk`, removed when dropped.
struct ScriptFile(PathBuf);

impl ScriptFile {
    fn write() -> Self {
        let path = std::env::temp_dir().join(format!("custadmin-load-{}.lua", std::process::id()));
        std::fs::write(&path, SCRIPT).expect("the wrk script in the temp folder");
        Self(path)
    }
}

impl Drop for ScriptFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub fn verdict(met: bool) -> &'static str {
    if met {
        "[goal met]"
    } else {
        "[GOAL MISSED]"
    }
}
