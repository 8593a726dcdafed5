//! The load driver: command line, the server under load, and one module per scenario.
//!
//! - [`argon2_limit`]: the machine's Argon2 limit, measured here.
//! - [`logins`]: login throughput against that limit.
//! - [`reads`]: authenticated `GET /account` against `GET /health`.
//! - [`burst`]: many simultaneous logins, with retries, and the server's peak memory.
//! - [`soak`]: paced mixed traffic for minutes, memory and errors over time.
//! - [`seed`]: fills a database with a million accounts and ten million events.
//! - [`scale`]: the same requests on that database and on an almost empty one, and the ratios.
//!
//! Every scenario prints human-readable lines; the run ends with one JSON summary.

mod accounts;
mod argon2_limit;
mod burst;
mod http;
mod logins;
mod reads;
mod scale;
mod seed;
mod soak;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use target::{Target, TargetOptions};

/// Drives a running custadmin server over loopback and reports throughput, latency and memory.
#[derive(Parser)]
#[command(name = "custadmin-load")]
struct Cli {
    #[command(flatten)]
    target: TargetArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct TargetArgs {
    /// The server binary to start (default: `custadmin` next to this executable). It gets a
    /// fresh data folder, production Argon2, `RUST_LOG=warn` and an ephemeral loopback port.
    #[arg(long, conflicts_with_all = ["url", "pid"])]
    server: Option<PathBuf>,
    /// Use an already running server instead (`http://127.0.0.1:PORT`); needs --pid.
    #[arg(long, requires = "pid")]
    url: Option<String>,
    /// The running server's process id, for its memory.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// `CUSTADMIN_HASHING_QUEUE_LIMIT` for the started server (default: the server's).
    #[arg(long, conflicts_with = "url")]
    queue_limit: Option<usize>,
    /// `CUSTADMIN_DATABASE_URL` for the started server (default: SQLite in the data folder).
    #[arg(long, conflicts_with = "url")]
    database_url: Option<String>,
    /// The started server's data folder, kept afterwards (default: a fresh temp folder). `seed`
    /// fills it (the SQLite database and the server's key files live there); `scale` measures
    /// the server started on it.
    #[arg(long, conflicts_with = "url")]
    data_dir: Option<PathBuf>,
    /// Extra environment for the started server, `KEY=VALUE`, repeatable (for experiments such
    /// as `MALLOC_ARENA_MAX=2`; `CUSTADMIN_*` names the server does not know make it refuse).
    #[arg(long = "server-env", conflicts_with = "url")]
    server_env: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Argon2 limit, a login burst, login throughput and reads, in that order, on one server.
    Bench(BenchArgs),
    /// Only the Argon2 limit of this machine (no server is started).
    Argon2 {
        #[arg(long, default_value_t = 20)]
        samples: usize,
    },
    /// Only the login burst (e.g. to compare queue limits).
    Burst {
        /// Simultaneous clients, one account each.
        #[arg(long, default_value_t = 500)]
        clients: usize,
        /// All clients behind one address (a company's NAT, a reseller's server) instead of
        /// one address each.
        #[arg(long)]
        one_address: bool,
    },
    /// Mixed traffic for a while, reporting memory and errors periodically.
    Soak(SoakArgs),
    /// Fills an empty database for `scale`: starts the server once on --data-dir (migrations
    /// and key files; PostgreSQL with --database-url, the database must exist and be empty),
    /// stops it, then inserts the accounts (all with one production Argon2 hash of the driver's
    /// password; every tenth with two-factor, its TOTP secret sealed with the server's
    /// `secret-encryption.key`) and the events (per account, plus a deep log of 5 000 for 18
    /// of the accounts `scale` uses).
    Seed(SeedArgs),
    /// Login, `POST /auth/otp`, `GET /account`, `GET /account/events` (first page, and a page
    /// 4 000 events deep with `before`) and the support search, on a database seeded with only
    /// the 2 000 accounts these requests use (spread evenly over the big one's numbers, with the
    /// same events each) and on the database `seed` filled (--data-dir, and --database-url for
    /// PostgreSQL), both servers up at once and the measurements alternating between them in
    /// slices; prints seeded ÷ empty of each median latency (goal ≤ 1.5). The empty database is a temp folder (SQLite) or `<name>_empty` on
    /// the same PostgreSQL server (created and dropped here).
    Scale(ScaleArgs),
}

#[derive(Args)]
struct SeedArgs {
    #[arg(long, default_value_t = 1_000_000)]
    accounts: u64,
    /// Events every account gets.
    #[arg(long, default_value_t = 10)]
    events_per_account: u64,
    /// Events each of 18 probe accounts without two-factor gets in addition (the deep log).
    #[arg(long, default_value_t = 5_000)]
    heavy_events: u64,
}

#[derive(Args)]
struct ScaleArgs {
    /// As given to `seed` (the empty database gets the same events per account).
    #[arg(long, default_value_t = 10)]
    events_per_account: u64,
    /// As given to `seed`.
    #[arg(long, default_value_t = 5_000)]
    heavy_events: u64,
    /// Closed-loop clients for logins and codes.
    #[arg(long, default_value_t = 4)]
    login_clients: usize,
    /// Closed-loop clients for the reads.
    #[arg(long, default_value_t = 16)]
    read_clients: usize,
    /// Seconds each request kind is measured on each server (after a warm-up).
    #[arg(long, default_value_t = 6)]
    seconds: u64,
    /// Slices those seconds are cut into, alternating between the two servers.
    #[arg(long, default_value_t = 6)]
    rounds: usize,
}

#[derive(Args)]
struct BenchArgs {
    /// Hashes timed for the Argon2 limit (the median is used).
    #[arg(long, default_value_t = 20)]
    argon2_samples: usize,
    /// Simultaneous clients in the login burst (0 skips it).
    #[arg(long, default_value_t = 500)]
    burst: usize,
    /// Connections `wrk` logs in over for login throughput (8 keep both hashing slots of a
    /// 2-core machine busy without reaching the queue limit).
    #[arg(long, default_value_t = 8)]
    login_connections: usize,
    /// The `wrk` executable that drives the logins (Debian: `apt-get install wrk`).
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// Accounts the throughput clients log in to, round robin.
    #[arg(long, default_value_t = 16)]
    users: usize,
    /// Closed-loop clients for the read comparison.
    #[arg(long, default_value_t = 32)]
    read_clients: usize,
    /// Seconds each of `GET /health` and `GET /account` are measured (after 1 s of warm-up).
    #[arg(long, default_value_t = 10)]
    read_seconds: u64,
}

#[derive(Args)]
struct SoakArgs {
    /// Servers on one PostgreSQL database (--database-url), sharing one data folder (the key
    /// files), the traffic spread over them in turn (round robin); memory is the first one's.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// How long the soak runs.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Seconds between reports.
    #[arg(long, default_value_t = 30)]
    report_secs: u64,
    #[arg(long, default_value_t = 2.0)]
    logins_per_second: f64,
    #[arg(long, default_value_t = 50.0)]
    accounts_per_second: f64,
    #[arg(long, default_value_t = 5.0)]
    refreshes_per_second: f64,
    #[arg(long, default_value_t = 10.0)]
    health_per_second: f64,
    /// Seconds between failed logins (at least 10: the per-IP throttle allows 100 per 15 min).
    #[arg(long, default_value_t = 12)]
    failed_login_every_secs: u64,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let options = TargetOptions {
        server: cli.target.server,
        url: cli.target.url,
        pid: cli.target.pid,
        queue_limit: cli.target.queue_limit,
        database_url: cli.target.database_url,
        data_dir: cli.target.data_dir,
        server_env: cli.target.server_env,
    };
    if let Command::Soak(soak) = &cli.command {
        if soak.instances > 1 && (options.database_url.is_none() || options.url.is_some()) {
            eprintln!(
                "--instances above 1 needs --database-url (a PostgreSQL database they share)"
            );
            return ExitCode::from(2);
        }
        if soak.failed_login_every_secs < 10 {
            eprintln!("--failed-login-every-secs below 10 would trip the per-IP throttle");
            return ExitCode::from(2);
        }
    }
    let machine = machine();
    println!("machine: {}", machine);
    if let Command::Argon2 { samples } = cli.command {
        let limit = argon2_limit::measure(samples);
        argon2_limit::report(&limit);
        let summary = json!({"machine": machine, "results": {"argon2_limit": limit.json()}});
        println!(
            "summary: {}",
            serde_json::to_string_pretty(&summary).unwrap()
        );
        return ExitCode::SUCCESS;
    }
    match &cli.command {
        Command::Seed(args) => return seed_command(&options, args, &machine),
        Command::Scale(args) => return scale_command(&options, args, &machine),
        _ => {}
    }
    let target = match Target::open(&options) {
        Ok(target) => target,
        Err(error) => {
            eprintln!("custadmin-load: {error}");
            return ExitCode::from(2);
        }
    };
    println!(
        "server: pid {} at {} ({})",
        target.pid, target.base_url, target.settings
    );
    // More instances of the same server, on the first one's data folder (the same keys).
    let mut others = Vec::new();
    if let Command::Soak(soak) = &cli.command {
        for _ in 1..soak.instances {
            let shared = TargetOptions {
                data_dir: target.data_dir.clone(),
                ..options.clone()
            };
            match Target::open(&shared) {
                Ok(other) => {
                    println!("server: pid {} at {}", other.pid, other.base_url);
                    others.push(other);
                }
                Err(error) => {
                    eprintln!("custadmin-load: {error}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let base_urls: Vec<String> = std::iter::once(&target)
        .chain(&others)
        .map(|target| target.base_url.clone())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let results = runtime.block_on(run(&cli.command, &target, &base_urls));
    let summary = json!({
        "machine": machine,
        "server": target.settings,
        "results": results,
    });
    for other in others {
        other.stop();
    }
    target.stop();
    println!(
        "summary: {}",
        serde_json::to_string_pretty(&summary).unwrap()
    );
    ExitCode::SUCCESS
}

async fn run(command: &Command, target: &Target, base_urls: &[String]) -> Value {
    // Generous: queued logins in a 500-client burst wait several seconds by design.
    let http = http::client(base_urls, Duration::from_secs(120));
    let run = accounts::run_id();
    match command {
        Command::Bench(args) => {
            let limit = tokio::task::spawn_blocking({
                let samples = args.argon2_samples;
                move || argon2_limit::measure(samples)
            })
            .await
            .expect("the argon2 timing");
            argon2_limit::report(&limit);

            let pool: Vec<String> = (0..args.users.max(args.read_clients).max(1))
                .map(|i| accounts::username("user", &run, i))
                .collect();
            let crowd: Vec<String> = (0..args.burst)
                .map(|i| accounts::username("burst", &run, i))
                .collect();
            println!("registering {} accounts…", pool.len() + crowd.len());
            accounts::register_all(&http, &[pool.clone(), crowd.clone()].concat(), 8).await;

            let burst = if crowd.is_empty() {
                Value::Null
            } else {
                burst::run(&http, target.pid, &crowd, burst::Addresses::OnePerClient).await
            };
            let driver = logins::Driver {
                wrk: &args.wrk,
                base_url: &target.base_url,
                connections: args.login_connections,
                cores: limit.cores,
                pid: target.pid,
            };
            let logins = logins::run(
                &driver,
                &pool[..args.users.max(1).min(pool.len())],
                target.settings["database"] == "postgres",
            )
            .await;
            let reads = reads::run(
                &http,
                &pool,
                args.read_clients,
                Duration::from_secs(args.read_seconds),
            )
            .await;
            let end = target::memory(target.pid).unwrap_or_default();
            json!({
                "argon2_limit": limit.json(),
                "burst": burst,
                "login_throughput": logins,
                "reads": reads,
                "server_vm_hwm_mib": http::round(target::mib(end.hwm_kib)),
            })
        }
        Command::Argon2 { .. } | Command::Seed(_) | Command::Scale(_) => {
            unreachable!("handled before a server is started")
        }
        Command::Burst {
            clients,
            one_address,
        } => {
            let crowd: Vec<String> = (0..*clients)
                .map(|i| accounts::username("burst", &run, i))
                .collect();
            println!("registering {} accounts…", crowd.len());
            accounts::register_all(&http, &crowd, 8).await;
            let addresses = if *one_address {
                burst::Addresses::Shared
            } else {
                burst::Addresses::OnePerClient
            };
            json!({"burst": burst::run(&http, target.pid, &crowd, addresses).await})
        }
        Command::Soak(args) => {
            let options = soak::SoakOptions {
                duration: Duration::from_secs_f64(args.minutes * 60.0),
                report_every: Duration::from_secs(args.report_secs.max(1)),
                logins_per_second: args.logins_per_second,
                accounts_per_second: args.accounts_per_second,
                refreshes_per_second: args.refreshes_per_second,
                health_per_second: args.health_per_second,
                failed_login_every: Duration::from_secs(args.failed_login_every_secs),
            };
            json!({"soak": soak::run(&http, target.pid, &options).await, "instances": base_urls.len()})
        }
    }
}

fn seed_command(options: &TargetOptions, args: &SeedArgs, machine: &Value) -> ExitCode {
    if options.data_dir.is_none() || options.url.is_some() {
        eprintln!("custadmin-load seed: needs --data-dir (and --database-url for PostgreSQL)");
        return ExitCode::from(2);
    }
    let plan = seed::SeedPlan::full(args.accounts, args.events_per_account, args.heavy_events);
    let seeded = target::launch(options).and_then(|(launch, _work_dir, _)| {
        seed::seed(&launch, options.database_url.as_deref(), &plan)
    });
    match seeded {
        Ok(seeded) => {
            let summary = json!({"machine": machine, "results": {"seed": seeded}});
            println!(
                "summary: {}",
                serde_json::to_string_pretty(&summary).unwrap()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("custadmin-load seed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn scale_command(options: &TargetOptions, args: &ScaleArgs, machine: &Value) -> ExitCode {
    let Some(data_dir) = &options.data_dir else {
        eprintln!("custadmin-load scale: needs --data-dir (a folder `seed` filled)");
        return ExitCode::from(2);
    };
    let scale_options = scale::ScaleOptions {
        rounds: args.rounds,
        login_clients: args.login_clients,
        read_clients: args.read_clients,
        seconds: Duration::from_secs(args.seconds),
    };
    // The seeded database's size decides where its probe accounts are.
    let size = match seed::size(&options.database_url, data_dir) {
        Ok(size) => size,
        Err(error) => {
            eprintln!("custadmin-load scale: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Minus the support agent.
    let full_accounts = size["accounts"].as_u64().unwrap_or(1).saturating_sub(1);
    let plan = seed::SeedPlan::probes_of(full_accounts, args.events_per_account, args.heavy_events);
    println!(
        "seeded database: {size}; probes every {} accounts",
        plan.probe_stride
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The empty database: only the accounts the measurements use, seeded the same way.
    let empty_dir = custadmin_blackbox::TempDir::new("scale-empty");
    let empty_database = options
        .database_url
        .as_deref()
        .map(scale::EmptyPostgres::create)
        .transpose();
    let empty_database = match empty_database {
        Ok(database) => database,
        Err(error) => {
            eprintln!("custadmin-load scale: {error}");
            return ExitCode::FAILURE;
        }
    };
    let empty_options = TargetOptions {
        data_dir: Some(empty_dir.path().join("data")),
        database_url: empty_database.as_ref().map(|database| database.url.clone()),
        url: None,
        pid: None,
        server: options.server.clone(),
        queue_limit: options.queue_limit,
        server_env: options.server_env.clone(),
    };
    let outcome = target::launch(&empty_options)
        .and_then(|(launch, _work_dir, _)| {
            seed::seed(&launch, empty_options.database_url.as_deref(), &plan)
        })
        .and_then(|empty_size| {
            // Both servers at once: the measurements alternate between them.
            let empty_target = Target::open(&empty_options)?;
            let seeded_target = Target::open(options)?;
            println!(
                "servers: empty pid {} at {}, seeded pid {} at {}",
                empty_target.pid, empty_target.base_url, seeded_target.pid, seeded_target.base_url
            );
            let empty_http = http::client(
                std::slice::from_ref(&empty_target.base_url),
                Duration::from_secs(120),
            );
            let seeded_http = http::client(
                std::slice::from_ref(&seeded_target.base_url),
                Duration::from_secs(120),
            );
            let [empty, seeded] = runtime.block_on(scale::measure_both(
                [&empty_http, &seeded_http],
                plan.probe_stride,
                &scale_options,
            ));
            let memory = target::memory(seeded_target.pid).unwrap_or_default();
            empty_target.stop();
            seeded_target.stop();
            let mut comparison = scale::compare(&empty, &seeded, &size);
            comparison["empty_database"] = empty_size;
            comparison["seeded_server_vm_hwm_mib"] =
                json!(http::round(target::mib(memory.hwm_kib)));
            Ok(comparison)
        });
    drop(empty_database);
    match outcome {
        Ok(comparison) => {
            let summary = json!({"machine": machine, "results": {"scale": comparison}});
            println!(
                "summary: {}",
                serde_json::to_string_pretty(&summary).unwrap()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("custadmin-load scale: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Cores, CPU model and memory of this machine, from `/proc`.
fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown", |(_, model)| model.trim())
        .to_string();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_total_kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0);
    json!({
        "cores": std::thread::available_parallelism().map_or(1, |cores| cores.get()),
        "cpu_model": model,
        "mem_total_mib": mem_total_kib / 1024,
    })
}
