//! Configuration: one typed struct, read once at start-up from `CUSTADMIN_*` environment
//! variables, with an optional `custadmin.toml` underneath (the environment wins).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::domain::TrustedProxies;

/// Every setting the server reads. Built once by [`Settings::load`] and shared read-only.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub jwt_key_file: Option<PathBuf>,
    /// Keys that signed tokens before a rotation: still accepted and published, not used.
    pub jwt_retired_key_files: Vec<PathBuf>,
    pub secret_key_file: Option<PathBuf>,
    pub issuer: String,
    pub signup_enabled: bool,
    pub privileged_window: Duration,
    /// How long an instance may reuse its check of a session while it runs nothing on the
    /// database: the most a revocation made by another instance can lag here. Default 500 ms
    /// on SQLite (one instance: its own revocations void reuse at once), 0 on PostgreSQL
    /// (several instances: every request reads the session row).
    pub session_check_reuse: Duration,
    pub static_dir: PathBuf,
    pub database_pool_size: u32,
    pub password_hashing: PasswordHashingSettings,
    pub log_filter: String,
    /// Proxies whose `X-Forwarded-For` is believed for the client IP.
    pub trusted_proxies: TrustedProxies,
    /// The origin customers reach (links in mails); no trailing slash.
    pub public_url: String,
    /// The sender of every mail, e.g. `Example Hosting <noreply@example.com>`.
    pub mail_from: String,
    /// Where mails go, in lettre's URL form; `None` writes them as `.eml` files under
    /// `<data dir>/mail/`.
    pub smtp_url: Option<SmtpUrl>,
    /// How long a sender holds a mail before another instance may send it; longer than any
    /// SMTP exchange takes.
    pub mail_lease: Duration,
    /// Browser origins (`https://portal.example`) allowed to call the API cross-origin.
    pub cors_origins: Vec<String>,
    /// Shown to customers who lost their second factor (an e-mail address or URL).
    pub support_contact: Option<String>,
    /// How often each `serve` process prunes rows that no longer matter.
    pub housekeeping_interval: Duration,
    /// The longest an ended row (session, challenge, idle counter) is kept before pruning.
    pub housekeeping_retention: Duration,
    /// How long security events are kept (whole days, at most [`MAX_EVENT_RETENTION_DAYS`]).
    pub event_retention: Duration,
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgresql,
}

impl DatabaseKind {
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgresql)
        } else if url.starts_with("sqlite://") {
            Ok(Self::Sqlite)
        } else {
            Err("expected a sqlite:// or postgres:// URL".into())
        }
    }
}

/// The longest `CUSTADMIN_EVENT_RETENTION_DAYS` may be: ten years. Anything longer is a typo.
pub const MAX_EVENT_RETENTION_DAYS: u32 = 3650;

/// An SMTP URL; it may hold the relay's password, so `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SmtpUrl(<redacted>)")
    }
}

/// Argon2id cost. Production uses the OWASP parameters; tests may ask for cheaper ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashingSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// How many hashes may run at once (defaults to the number of cores).
    pub concurrency: usize,
    /// A hard cap on how many may wait for a slot (memory safety net); admission is decided
    /// by the wait, below.
    pub queue_limit: usize,
    /// Work is refused (`503` + `Retry-After`) only when the wait it would face, estimated
    /// from the queue and the recent median hash time, exceeds this.
    pub max_wait: std::time::Duration,
}

impl Default for PasswordHashingSettings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            concurrency: num_cpus::get().max(1),
            queue_limit: 4096,
            max_wait: std::time::Duration::from_millis(10_000),
        }
    }
}

/// A configuration value that could not be used; names the variable so operators can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable}: {message}")]
    Invalid { variable: String, message: String },
    #[error("cannot read configuration file {path}: {message}")]
    File { path: String, message: String },
}

const ENV_PREFIX: &str = "CUSTADMIN_";

impl Settings {
    /// Reads the process environment and `CUSTADMIN_CONFIG` (default `./custadmin.toml`, if present).
    pub fn load() -> Result<Self, ConfigError> {
        let environment: HashMap<String, String> = std::env::vars()
            .filter(|(key, _)| key.starts_with(ENV_PREFIX) || key == "RUST_LOG")
            .collect();
        Self::from_sources(&environment)
    }

    /// Builds settings from a map of environment variables (and the file they may name).
    pub fn from_sources(environment: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let file_values = match environment.get("CUSTADMIN_CONFIG") {
            Some(path) => read_config_file(Path::new(path), true)?,
            None => read_config_file(Path::new("custadmin.toml"), false)?,
        };
        let source = Source {
            environment,
            file: file_values,
        };
        source.reject_unknown_variables()?;

        let data_dir: PathBuf = source.parse_or("DATA_DIR", PathBuf::from("./data"))?;
        let default_hashing = PasswordHashingSettings::default();
        let password_hashing = PasswordHashingSettings {
            memory_kib: source.parse_or("ARGON2_MEMORY_KIB", default_hashing.memory_kib)?,
            iterations: source.parse_or("ARGON2_ITERATIONS", default_hashing.iterations)?,
            parallelism: source.parse_or("ARGON2_PARALLELISM", default_hashing.parallelism)?,
            concurrency: source.parse_or("HASHING_CONCURRENCY", default_hashing.concurrency)?,
            queue_limit: source.parse_or("HASHING_QUEUE_LIMIT", default_hashing.queue_limit)?,
            max_wait: std::time::Duration::from_millis(
                source.parse_or("HASHING_MAX_WAIT_MS", 10_000u64)?,
            ),
        };
        argon2::Params::new(
            password_hashing.memory_kib,
            password_hashing.iterations,
            password_hashing.parallelism,
            None,
        )
        .map_err(|error| ConfigError::Invalid {
            variable: "CUSTADMIN_ARGON2_MEMORY_KIB/ITERATIONS/PARALLELISM".into(),
            message: error.to_string(),
        })?;
        if password_hashing.concurrency == 0 {
            return Err(source.invalid("HASHING_CONCURRENCY", "must be at least 1"));
        }

        let issuer: String = source.parse_or("ISSUER", "custadmin".to_string())?;
        if issuer.trim().is_empty() {
            return Err(source.invalid("ISSUER", "must not be empty"));
        }
        let database_url = source.parse_or(
            "DATABASE_URL",
            format!("sqlite://{}", data_dir.join("custadmin.sqlite3").display()),
        )?;
        let database_kind = DatabaseKind::from_url(&database_url)
            .map_err(|message| source.invalid("DATABASE_URL", &message))?;
        let default_reuse_ms: u64 = match database_kind {
            DatabaseKind::Sqlite => 500,
            DatabaseKind::Postgresql => 0,
        };
        let session_check_reuse_ms: u64 =
            source.parse_or("SESSION_CHECK_REUSE_MS", default_reuse_ms)?;
        if session_check_reuse_ms > 5_000 {
            return Err(source.invalid(
                "SESSION_CHECK_REUSE_MS",
                "must be at most 5000 (revocations must reach every instance within seconds)",
            ));
        }
        let privileged_window_secs: u64 = source.parse_or("PRIVILEGED_WINDOW_SECS", 600)?;
        let database_pool_size: u32 = source.parse_or("DATABASE_POOL_SIZE", 10)?;
        let bind: SocketAddr = source.parse_or("BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        // Passkeys need a host name, so a server on a loopback or wildcard address is reached
        // as localhost unless told otherwise.
        let default_public_url = if bind.ip().is_loopback() || bind.ip().is_unspecified() {
            format!("http://localhost:{}", bind.port())
        } else {
            format!("http://{bind}")
        };
        let public_url: String = source.parse_or("PUBLIC_URL", default_public_url)?;
        let public_url = public_url.trim().trim_end_matches('/').to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || public_url.contains(char::is_whitespace)
        {
            return Err(source.invalid("PUBLIC_URL", "must be an http:// or https:// origin"));
        }
        let mail_from: String =
            source.parse_or("MAIL_FROM", "custadmin <noreply@localhost>".to_string())?;
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(source.invalid(
                "MAIL_FROM",
                "must be a mailbox such as `Example Hosting <noreply@example.com>`",
            ));
        }
        let smtp_url: Option<String> = source
            .parse_optional::<String>("SMTP_URL")?
            .map(|url| url.trim().to_string())
            .filter(|url| !url.is_empty());
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(source.invalid("SMTP_URL", "must be an smtp:// or smtps:// URL"));
            }
        }
        let cors_origins: Vec<String> = source
            .parse_optional::<String>("CORS_ORIGINS")?
            .map(|list| {
                list.split(',')
                    .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|origin| !origin.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_origins.iter().find(|origin| {
            !(origin.starts_with("https://") || origin.starts_with("http://"))
                || origin[origin.find("://").map_or(0, |i| i + 3)..].contains('/')
                || origin.contains(['*', '?', '#'])
                || origin.ends_with(":443")
                || origin.ends_with(":80")
        }) {
            return Err(source.invalid(
                "CORS_ORIGINS",
                &format!("{bad:?} is not an origin such as https://portal.example"),
            ));
        }
        let mail_lease_secs: u64 = source.parse_or("MAIL_LEASE_SECS", 120)?;
        if mail_lease_secs == 0 {
            return Err(source.invalid("MAIL_LEASE_SECS", "must be at least 1"));
        }
        let housekeeping_interval_secs: u64 = source.parse_or("HOUSEKEEPING_INTERVAL_SECS", 300)?;
        if housekeeping_interval_secs == 0 {
            return Err(source.invalid("HOUSEKEEPING_INTERVAL_SECS", "must be at least 1"));
        }
        let housekeeping_retention_secs: u64 =
            source.parse_or("HOUSEKEEPING_RETENTION_SECS", 30 * 24 * 60 * 60)?;
        let event_retention_days: i64 = source.parse_or("EVENT_RETENTION_DAYS", 400)?;
        if !(1..=i64::from(MAX_EVENT_RETENTION_DAYS)).contains(&event_retention_days) {
            return Err(source.invalid(
                "EVENT_RETENTION_DAYS",
                &format!("must be a number of days from 1 to {MAX_EVENT_RETENTION_DAYS}"),
            ));
        }
        if database_pool_size == 0 {
            return Err(source.invalid("DATABASE_POOL_SIZE", "must be at least 1"));
        }

        Ok(Self {
            bind,
            database_url,
            jwt_key_file: source.parse_optional("JWT_KEY_FILE")?,
            jwt_retired_key_files: source
                .parse_optional::<String>("JWT_RETIRED_KEY_FILES")?
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|path| !path.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            secret_key_file: source.parse_optional("SECRET_KEY_FILE")?,
            issuer,
            signup_enabled: source.parse_bool_or("SIGNUP", true)?,
            privileged_window: Duration::from_secs(privileged_window_secs),
            session_check_reuse: Duration::from_millis(session_check_reuse_ms),
            static_dir: source.parse_or("STATIC_DIR", PathBuf::from("frontend/dist"))?,
            database_pool_size,
            password_hashing,
            log_filter: environment
                .get("RUST_LOG")
                .cloned()
                .unwrap_or_else(|| "info".into()),
            trusted_proxies: source.parse_or("TRUSTED_PROXIES", TrustedProxies::default())?,
            public_url,
            mail_from,
            smtp_url: smtp_url.map(SmtpUrl),
            mail_lease: Duration::from_secs(mail_lease_secs),
            cors_origins,
            support_contact: source
                .parse_optional::<String>("SUPPORT_CONTACT")?
                .map(|contact| contact.trim().to_string())
                .filter(|contact| !contact.is_empty()),
            housekeeping_interval: Duration::from_secs(housekeeping_interval_secs),
            housekeeping_retention: Duration::from_secs(housekeeping_retention_secs),
            event_retention: Duration::from_secs(
                event_retention_days.unsigned_abs() * 24 * 60 * 60,
            ),
            data_dir,
        })
    }
}

/// The keys this configuration knows, without the `CUSTADMIN_` prefix.
pub const KNOWN_KEYS: &[&str] = &[
    "CONFIG",
    "BIND",
    "DATABASE_URL",
    "DATA_DIR",
    "JWT_KEY_FILE",
    "JWT_RETIRED_KEY_FILES",
    "SECRET_KEY_FILE",
    "ISSUER",
    "SIGNUP",
    "PRIVILEGED_WINDOW_SECS",
    "SESSION_CHECK_REUSE_MS",
    "STATIC_DIR",
    "DATABASE_POOL_SIZE",
    "ARGON2_MEMORY_KIB",
    "ARGON2_ITERATIONS",
    "ARGON2_PARALLELISM",
    "HASHING_CONCURRENCY",
    "HASHING_QUEUE_LIMIT",
    "HASHING_MAX_WAIT_MS",
    "TRUSTED_PROXIES",
    "SUPPORT_CONTACT",
    "CORS_ORIGINS",
    "PUBLIC_URL",
    "MAIL_FROM",
    "SMTP_URL",
    "MAIL_LEASE_SECS",
    "HOUSEKEEPING_INTERVAL_SECS",
    "HOUSEKEEPING_RETENTION_SECS",
    "EVENT_RETENTION_DAYS",
];

struct Source<'a> {
    environment: &'a HashMap<String, String>,
    /// Keys from the file, upper-cased without prefix (`bind` → `BIND`).
    file: HashMap<String, String>,
}

impl Source<'_> {
    fn raw(&self, key: &str) -> Option<(&str, String)> {
        if let Some(value) = self.environment.get(&format!("{ENV_PREFIX}{key}")) {
            return Some((value.as_str(), format!("{ENV_PREFIX}{key}")));
        }
        self.file.get(key).map(|value| {
            (
                value.as_str(),
                format!("{} in the configuration file", key.to_lowercase()),
            )
        })
    }

    fn invalid(&self, key: &str, message: &str) -> ConfigError {
        ConfigError::Invalid {
            variable: format!("{ENV_PREFIX}{key}"),
            message: message.to_string(),
        }
    }

    fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.parse_optional(key)?.unwrap_or(default))
    }

    fn parse_optional<T: FromStr>(&self, key: &str) -> Result<Option<T>, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(key) {
            None => Ok(None),
            Some((value, variable)) => {
                value
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|error: T::Err| ConfigError::Invalid {
                        variable,
                        message: format!("cannot use {value:?}: {error}"),
                    })
            }
        }
    }

    fn parse_bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(key) {
            None => Ok(default),
            Some((value, variable)) => match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::Invalid {
                    variable,
                    message: format!("cannot use {value:?}: expected true or false"),
                }),
            },
        }
    }

    /// A misspelt variable would otherwise be ignored silently.
    fn reject_unknown_variables(&self) -> Result<(), ConfigError> {
        let unknown_env = self
            .environment
            .keys()
            .filter_map(|key| key.strip_prefix(ENV_PREFIX))
            .find(|key| !KNOWN_KEYS.contains(key));
        if let Some(key) = unknown_env {
            return Err(ConfigError::Invalid {
                variable: format!("{ENV_PREFIX}{key}"),
                message: "unknown setting".into(),
            });
        }
        if let Some(key) = self
            .file
            .keys()
            .find(|key| !KNOWN_KEYS.contains(&key.as_str()))
        {
            return Err(ConfigError::Invalid {
                variable: format!("{} in the configuration file", key.to_lowercase()),
                message: "unknown setting".into(),
            });
        }
        Ok(())
    }
}

fn read_config_file(path: &Path, required: bool) -> Result<HashMap<String, String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(HashMap::new())
        }
        Err(error) => {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                message: error.to_string(),
            })
        }
    };
    let table: toml::Table = text
        .parse()
        .map_err(|error: toml::de::Error| ConfigError::File {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
    table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(number) => number.to_string(),
                toml::Value::Boolean(flag) => flag.to_string(),
                other => {
                    return Err(ConfigError::File {
                        path: path.display().to_string(),
                        message: format!(
                            "{key}: expected a string, number or boolean, got {other}"
                        ),
                    })
                }
            };
            Ok((key.to_uppercase(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        // Keep a developer's own custadmin.toml out of these tests.
        map.entry("CUSTADMIN_CONFIG".into())
            .or_insert_with(|| "/dev/null".into());
        map
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let settings = Settings::from_sources(&env(&[])).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database_url, "sqlite://./data/custadmin.sqlite3");
        assert_eq!(settings.issuer, "custadmin");
        assert!(settings.signup_enabled);
        assert_eq!(settings.privileged_window, Duration::from_secs(600));
        assert_eq!(settings.password_hashing.memory_kib, 19_456);
        assert_eq!(settings.password_hashing.iterations, 2);
        assert_eq!(settings.log_filter, "info");
        assert_eq!(
            settings.event_retention,
            Duration::from_secs(400 * 24 * 60 * 60)
        );
    }

    #[test]
    fn environment_overrides_are_parsed() {
        let settings = Settings::from_sources(&env(&[
            ("CUSTADMIN_BIND", "0.0.0.0:9000"),
            ("CUSTADMIN_SIGNUP", "false"),
            ("CUSTADMIN_DATABASE_URL", "postgres://localhost/custadmin"),
            ("CUSTADMIN_PRIVILEGED_WINDOW_SECS", "30"),
        ]))
        .unwrap();
        assert_eq!(settings.bind.port(), 9000);
        assert!(!settings.signup_enabled);
        assert_eq!(settings.privileged_window, Duration::from_secs(30));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let error = Settings::from_sources(&env(&[("CUSTADMIN_BIND", "not-an-address")]))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("CUSTADMIN_BIND:"), "{error}");
        let error = Settings::from_sources(&env(&[("CUSTADMIN_SIGNUP", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("CUSTADMIN_SIGNUP:"), "{error}");
    }

    #[test]
    fn an_unknown_variable_or_database_scheme_is_refused() {
        let error = Settings::from_sources(&env(&[("CUSTADMIN_BINDD", "x")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("CUSTADMIN_BINDD"), "{error}");
        let error = Settings::from_sources(&env(&[("CUSTADMIN_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("CUSTADMIN_DATABASE_URL"), "{error}");
    }

    #[test]
    fn the_file_supplies_values_the_environment_does_not() {
        let dir = std::env::temp_dir().join(format!("custadmin-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("custadmin.toml");
        std::fs::write(
            &file,
            "issuer = \"Example Hosting\"\nsignup = false\nbind = \"127.0.0.1:1\"\n",
        )
        .unwrap();
        let settings = Settings::from_sources(&env(&[
            ("CUSTADMIN_CONFIG", file.to_str().unwrap()),
            ("CUSTADMIN_BIND", "127.0.0.1:2"),
        ]))
        .unwrap();
        assert_eq!(settings.issuer, "Example Hosting");
        assert!(!settings.signup_enabled);
        assert_eq!(
            settings.bind.port(),
            2,
            "the environment wins over the file"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_event_retention_is_whole_days_within_reason() {
        let settings =
            Settings::from_sources(&env(&[("CUSTADMIN_EVENT_RETENTION_DAYS", "30")])).unwrap();
        assert_eq!(
            settings.event_retention,
            Duration::from_secs(30 * 24 * 60 * 60)
        );
        for bad in ["0", "-1", "3651", "99999999999999999999", "1.5", "a year"] {
            let error = Settings::from_sources(&env(&[("CUSTADMIN_EVENT_RETENTION_DAYS", bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("CUSTADMIN_EVENT_RETENTION_DAYS:"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn too_cheap_argon2_parameters_are_refused() {
        let error = Settings::from_sources(&env(&[("CUSTADMIN_ARGON2_MEMORY_KIB", "1")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("ARGON2"), "{error}");
    }
}
