//! The server under load: started here from a binary (fresh data folder, production hashing), or
//! an already running one given by URL and PID. Memory is read from `/proc/<pid>/status`.

use std::path::PathBuf;
use std::time::Duration;

use custadmin_blackbox::{Launch, Server, TempDir};
use serde_json::{json, Value};

/// `warn`, except the few start-up lines (the driver waits for "custadmin is serving", an info
/// line of the binary's own target); the per-request log lines stay off.
const LOG_FILTER: &str = "warn,custadmin=info,custadmin::telemetry=warn";

/// How the driver gets a server.
#[derive(Clone)]
pub struct TargetOptions {
    pub server: Option<PathBuf>,
    pub url: Option<String>,
    pub pid: Option<u32>,
    pub queue_limit: Option<usize>,
    pub database_url: Option<String>,
    /// The server's data folder (kept); a fresh one in a temp folder when `None`.
    pub data_dir: Option<PathBuf>,
    /// Extra `KEY=VALUE` environment for the started server (e.g. glibc `MALLOC_*` tunables).
    pub server_env: Vec<String>,
}

pub struct Target {
    pub base_url: String,
    pub pid: u32,
    /// The data folder of a server started here (key files), for a second instance.
    pub data_dir: Option<PathBuf>,
    /// What was started (or attached to), for the summary.
    pub settings: Value,
    // Dropped in this order: the server is killed before its data folder is removed.
    server: Option<Server>,
    _work_dir: Option<TempDir>,
}

impl Target {
    pub fn open(options: &TargetOptions) -> Result<Self, String> {
        match (&options.url, options.pid) {
            (Some(url), Some(pid)) => {
                if !url.starts_with("http://127.0.0.1:") {
                    return Err(format!(
                        "--url must be http://127.0.0.1:PORT (loopback), not {url}"
                    ));
                }
                Ok(Self {
                    base_url: url.trim_end_matches('/').to_string(),
                    pid,
                    settings: json!({"attached": true, "url": url, "pid": pid}),
                    data_dir: None,
                    server: None,
                    _work_dir: None,
                })
            }
            (None, None) => Self::start(options),
            _ => Err("--url and --pid go together".into()),
        }
    }

    fn start(options: &TargetOptions) -> Result<Self, String> {
        let (launch, work_dir, binary) = launch(options)?;
        let server = launch.serve();
        let data_dir = Some(launch.data_dir());
        let settings = json!({
            "attached": false,
            "binary": binary.display().to_string(),
            "database": if options.database_url.is_some() { "postgres" } else { "sqlite" },
            "data_dir": options.data_dir.as_ref().map(|dir| dir.display().to_string()),
            "hashing_queue_limit": options.queue_limit.map_or(json!("server default"), |limit| json!(limit)),
            "argon2": "production defaults (m=19456 KiB, t=2, p=1)",
            "extra_env": options.server_env,
        });
        Ok(Self {
            base_url: server.base_url(),
            pid: server.pid(),
            settings,
            data_dir,
            server: Some(server),
            _work_dir: Some(work_dir),
        })
    }

    /// Stops a server this driver started (SIGTERM, then wait); leaves an attached one alone.
    pub fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.send_sigterm();
            let (status, stderr) = server.wait_for_exit();
            if !status.success() {
                eprintln!("the server exited with {status}: {stderr}");
            }
        }
    }
}

/// How the server is started (binary, working folder, environment), without starting it. The
/// working folder is a fresh temp folder; the data folder is `options.data_dir` or inside it.
pub fn launch(options: &TargetOptions) -> Result<(Launch, TempDir, PathBuf), String> {
    let binary = match &options.server {
        Some(path) => path.clone(),
        None => sibling_server_binary()?,
    };
    // Absolute, as the server runs in its own working folder.
    let binary = binary
        .canonicalize()
        .map_err(|error| format!("{}: {error}", binary.display()))?;
    // The shared helpers find the binary through this variable.
    std::env::set_var("CUSTADMIN_BIN", &binary);
    let work_dir = TempDir::new("load");
    // The driver is the server's only proxy: burst clients name distinct addresses in
    // `X-Forwarded-For`, as customers come from many networks (one address alone would
    // meet the per-network limit, not the hashing pool).
    let mut launch = Launch::new(work_dir.path())
        .production_hashing()
        .env("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32")
        .env("RUST_LOG", LOG_FILTER);
    if let Some(dir) = &options.data_dir {
        std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .map_err(|error| format!("{}: {error}", dir.display()))?;
        launch = launch.env("CUSTADMIN_DATA_DIR", &dir.display().to_string());
    }
    if let Some(limit) = options.queue_limit {
        launch = launch.env("CUSTADMIN_HASHING_QUEUE_LIMIT", &limit.to_string());
    }
    if let Some(url) = &options.database_url {
        launch = launch.env("CUSTADMIN_DATABASE_URL", url);
    }
    for pair in &options.server_env {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--server-env wants KEY=VALUE, not {pair}"))?;
        launch = launch.env(key, value);
    }
    Ok((launch, work_dir, binary))
}

/// `custadmin` next to this executable (both live in `target/release/` after a release build).
fn sibling_server_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let candidate = exe.with_file_name("custadmin");
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(format!(
            "no server binary at {}; build it (`cargo build --release -p custadmin`) or pass --server",
            candidate.display()
        ))
    }
}

/// Resident memory of a process, in KiB: now (`VmRSS`) and its peak so far (`VmHWM`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Samples the server's RSS every `period` until dropped; [`MemorySampler::finish`] returns the
/// largest RSS seen and the last reading.
pub struct MemorySampler {
    stop: tokio::sync::watch::Sender<bool>,
    handle: tokio::task::JoinHandle<(u64, Memory)>,
}

impl MemorySampler {
    pub fn start(pid: u32, period: Duration) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let handle = tokio::spawn(async move {
            let mut peak = 0;
            let mut last = Memory::default();
            loop {
                if let Some(reading) = memory(pid) {
                    peak = peak.max(reading.rss_kib);
                    last = reading;
                }
                tokio::select! {
                    _ = tokio::time::sleep(period) => {}
                    _ = stopped.changed() => break,
                }
            }
            if let Some(reading) = memory(pid) {
                peak = peak.max(reading.rss_kib);
                last = reading;
            }
            (peak, last)
        });
        Self { stop, handle }
    }

    pub async fn finish(self) -> (u64, Memory) {
        let _ = self.stop.send(true);
        self.handle.await.unwrap_or_default()
    }
}
