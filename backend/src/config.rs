//! Configuration: one typed struct, read once at start-up from `CUSTADMIN_*` environment
//! variables, with an optional `custadmin.toml` underneath (the environment wins).
//!
//! Each key is declared once, in [`KEYS`]: its name, its default, what it is for and how its
//! value is read into [`Settings`]. Reading walks that table; unknown keys are those not in
//! it, and a test holds README.md's table to it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::domain::{BrandColor, Logo, TrustedProxies, MAX_LOGO_BYTES};
use crate::telemetry::LogFormat;

/// Every setting the server reads. Built once by [`Settings::load`] and shared read-only.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    /// Where the key files are, rotated ones included; `None` is the data folder.
    pub keys_dir: Option<PathBuf>,
    pub jwt_key_file: Option<PathBuf>,
    /// Keys that signed tokens before a rotation: still accepted and published, not used.
    pub jwt_retired_key_files: Vec<PathBuf>,
    pub secret_key_file: Option<PathBuf>,
    /// The `iss` of every token this server signs; integrators pin it.
    pub issuer: String,
    /// What customers see: the header, the OTP app's entry, mails, passkeys' relying party.
    pub site_name: String,
    /// The operator's logo, checked and held in memory.
    pub logo: Option<Logo>,
    /// The primary colour of the header and buttons; `None` keeps the SPA's own.
    pub brand_color: Option<BrandColor>,
    pub signup_enabled: bool,
    /// Whose accounts must have a second factor (support can also require it of one customer).
    pub two_factor_rule: TwoFactorRule,
    /// How long an account the requirement reaches may still sign in fully without a factor.
    pub two_factor_grace: Duration,
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
    /// The sender of every mail: the site name with the configured address, e.g.
    /// `Example Hosting <noreply@example.com>`.
    pub mail_from: lettre::message::Mailbox,
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
    /// A range API like Have I Been Pwned's that new passwords are checked against (no
    /// trailing slash); `None`: no check.
    pub breached_passwords_url: Option<String>,
    /// How long a breached-password check may take before the password is accepted unchecked.
    pub breached_passwords_timeout: Duration,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// Where `/metrics` is served (a listener of its own); `None`: nowhere.
    pub metrics_bind: Option<SocketAddr>,
    /// The age of the oldest unsent mail past which the instance is not ready; `None`: the
    /// outbox does not count for readiness.
    pub ready_outbox_max_age: Option<Duration>,
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

/// Whose accounts must have a second factor (`CUSTADMIN_REQUIRE_TWO_FACTOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactorRule {
    /// Nobody's by rule (support agents still need one for the desk's actions).
    Off,
    /// Support agents'.
    Support,
    /// Everybody's.
    All,
}

impl FromStr for TwoFactorRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "off" => Ok(Self::Off),
            "support" => Ok(Self::Support),
            "all" => Ok(Self::All),
            other => Err(format!("{other:?} is not one of off, support, all")),
        }
    }
}

/// The longest `CUSTADMIN_TWO_FACTOR_GRACE_DAYS` may be: a year.
pub const MAX_TWO_FACTOR_GRACE_DAYS: u32 = 365;

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
    /// The keys' fallbacks: the OWASP parameters, one hash at a time per core.
    fn default() -> Self {
        Settings::defaults().password_hashing
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

/// One configuration key: the variable `CUSTADMIN_<name>`, or `<name in lower case>` in the
/// configuration file.
pub struct Key {
    /// Without the `CUSTADMIN_` prefix.
    pub name: &'static str,
    /// What applies when neither the environment nor the file sets the key.
    pub fallback: Fallback,
    /// What the key is for, as the operators' table in README.md says it.
    pub doc: &'static str,
    /// Reads a value (given or fallback) into the settings, checking the key's rule.
    read: fn(&mut Settings, &str) -> Result<(), Refusal>,
}

pub enum Fallback {
    /// Read as if it had been given.
    Value(&'static str),
    /// Worked out from keys above this one in [`KEYS`]; `shown` is what the docs say.
    Derived {
        shown: &'static str,
        value: fn(&Settings) -> String,
    },
    /// Nothing is read: the setting stays empty (off).
    Unset,
}

/// Why a value was not taken.
enum Refusal {
    /// It does not parse; the message quotes it and it is named where it came from.
    Unparsable(String),
    /// It parses but breaks the key's rule; named by its `CUSTADMIN_` variable wherever the
    /// value came from.
    Rule(String),
}

/// Every key the server knows, in the order they are read (and documented).
pub static KEYS: &[Key] = &[
    Key {
        name: "CONFIG",
        fallback: Fallback::Unset,
        doc: "a TOML file setting these keys in lower case without the prefix (the environment \
              wins); without it, `custadmin.toml` in the working folder if there is one",
        // The file it names was read before any key.
        read: |_, _| Ok(()),
    },
    Key {
        name: "BIND",
        fallback: Fallback::Value("127.0.0.1:8080"),
        doc: "`127.0.0.1:0` picks a free port (logged)",
        read: |settings, value| store(&mut settings.bind, parse(value)),
    },
    Key {
        name: "DATA_DIR",
        fallback: Fallback::Value("./data"),
        doc: "keys are created here (mode 0600) unless given",
        read: |settings, value| store(&mut settings.data_dir, parse(value)),
    },
    Key {
        name: "KEYS_DIR",
        fallback: Fallback::Unset,
        doc: "where `custadmin keys` keeps rotated keys and every instance reads them (a \
              folder all instances share); unset, the data folder",
        read: |settings, value| store(&mut settings.keys_dir, parse(value).map(Some)),
    },
    Key {
        name: "DATABASE_URL",
        fallback: Fallback::Derived {
            shown: "`sqlite://<data dir>/custadmin.sqlite3`",
            value: |settings| {
                format!(
                    "sqlite://{}",
                    settings.data_dir.join("custadmin.sqlite3").display()
                )
            },
        },
        doc: "`postgres://...` selects PostgreSQL",
        read: |settings, value| {
            let url: String = parse(value)?;
            DatabaseKind::from_url(&url).map_err(Refusal::Rule)?;
            settings.database_url = url;
            Ok(())
        },
    },
    Key {
        name: "JWT_KEY_FILE",
        fallback: Fallback::Unset,
        doc: "Ed25519 private key, PKCS#8 PEM",
        read: |settings, value| store(&mut settings.jwt_key_file, parse(value).map(Some)),
    },
    Key {
        name: "JWT_RETIRED_KEY_FILES",
        fallback: Fallback::Unset,
        doc: "comma-separated keys of earlier signing keys (private or public PEM): their \
              tokens still verify and they stay in the JWKS",
        read: |settings, value| {
            settings.jwt_retired_key_files = list(value).map(PathBuf::from).collect();
            Ok(())
        },
    },
    Key {
        name: "SECRET_KEY_FILE",
        fallback: Fallback::Unset,
        doc: "32 bytes, base64",
        read: |settings, value| store(&mut settings.secret_key_file, parse(value).map(Some)),
    },
    Key {
        name: "ISSUER",
        fallback: Fallback::Value("custadmin"),
        doc: "the JWT `iss` (integrators pin it when verifying tokens offline); also the \
              default of `CUSTADMIN_SITE_NAME`",
        read: |settings, value| {
            let issuer: String = parse(value)?;
            if issuer.trim().is_empty() {
                return Err(Refusal::Rule("must not be empty".into()));
            }
            settings.issuer = issuer;
            Ok(())
        },
    },
    Key {
        name: "SITE_NAME",
        fallback: Fallback::Derived {
            shown: "the value of `CUSTADMIN_ISSUER`",
            value: |settings| settings.issuer.clone(),
        },
        doc: "the hosting company's name, what customers see: the header and page titles, the \
              OTP app's entry (the otpauth issuer) and the code step's hint, the recovery-code \
              file, the passkeys' relying-party name, every mail's sender name, subject and \
              signature; at most 64 characters, no `:`",
        read: |settings, value| {
            let name = value.trim();
            if name.is_empty() || name.chars().count() > MAX_SITE_NAME_CHARS {
                return Err(Refusal::Rule(format!(
                    "must be 1 to {MAX_SITE_NAME_CHARS} characters"
                )));
            }
            // The otpauth label is `issuer:account`: a colon would cut the name short there.
            if name.contains(':') || name.chars().any(char::is_control) {
                return Err(Refusal::Rule(format!(
                    "{name:?} cannot be the name authenticator apps show: no `:` or control \
                     characters (set CUSTADMIN_SITE_NAME to the company's name)"
                )));
            }
            settings.site_name = name.to_string();
            Ok(())
        },
    },
    Key {
        name: "LOGO_FILE",
        fallback: Fallback::Unset,
        doc: "the company's logo, an SVG or PNG file of at most 512 KiB, shown in the header \
              with the site name as its text; served under a name that changes with its \
              content, so browsers cache it for good",
        read: |settings, value| {
            let Some(path) = text(value) else {
                return Ok(());
            };
            settings.logo = Some(read_logo(Path::new(&path)).map_err(Refusal::Rule)?);
            Ok(())
        },
    },
    Key {
        name: "BRAND_COLOR",
        fallback: Fallback::Unset,
        doc: "the header's and primary buttons' colour, `#rrggbb`; white text on it must have \
              a contrast of at least 4.5:1 (WCAG AA)",
        read: |settings, value| {
            let Some(color) = text(value) else {
                return Ok(());
            };
            let color =
                BrandColor::parse(&color).map_err(|error| Refusal::Rule(error.to_string()))?;
            settings.brand_color = Some(color);
            Ok(())
        },
    },
    Key {
        name: "SIGNUP",
        fallback: Fallback::Value("true"),
        doc: "self-service sign-up",
        read: |settings, value| store(&mut settings.signup_enabled, flag(value)),
    },
    Key {
        name: "REQUIRE_TWO_FACTOR",
        fallback: Fallback::Value("support"),
        doc: "whose accounts must have a second factor: `off`, `support` (support agents) or \
              `all`; after the grace period the password opens only a set-up session",
        read: |settings, value| store(&mut settings.two_factor_rule, parse(value)),
    },
    Key {
        name: "TWO_FACTOR_GRACE_DAYS",
        fallback: Fallback::Value("14"),
        doc: "days from when the requirement first reaches an account until it must have a \
              second factor, 0 to 365 (reminder mails 7 days and 1 day before)",
        read: |settings, value| {
            let days: i64 = parse(value)?;
            if !(0..=i64::from(MAX_TWO_FACTOR_GRACE_DAYS)).contains(&days) {
                return Err(Refusal::Rule(format!(
                    "must be a number of days from 0 to {MAX_TWO_FACTOR_GRACE_DAYS}"
                )));
            }
            settings.two_factor_grace = Duration::from_secs(days.unsigned_abs() * 24 * 60 * 60);
            Ok(())
        },
    },
    Key {
        name: "PRIVILEGED_WINDOW_SECS",
        fallback: Fallback::Value("600"),
        doc: "how long after a full sign-in privileged actions need no proof",
        read: |settings, value| {
            store(
                &mut settings.privileged_window,
                parse(value).map(Duration::from_secs),
            )
        },
    },
    Key {
        name: "SESSION_CHECK_REUSE_MS",
        fallback: Fallback::Derived {
            shown: "`500` on SQLite, `0` on PostgreSQL",
            value: |settings| match DatabaseKind::from_url(&settings.database_url) {
                Ok(DatabaseKind::Postgresql) => "0".into(),
                _ => "500".into(),
            },
        },
        doc: "how long an instance may reuse its read of a session while it runs nothing on \
              the database (at most 5000): the most a revocation made by *another* instance \
              can lag",
        read: |settings, value| {
            let millis: u64 = parse(value)?;
            if millis > 5_000 {
                return Err(Refusal::Rule(
                    "must be at most 5000 (revocations must reach every instance within seconds)"
                        .into(),
                ));
            }
            settings.session_check_reuse = Duration::from_millis(millis);
            Ok(())
        },
    },
    Key {
        name: "STATIC_DIR",
        fallback: Fallback::Value("frontend/dist"),
        doc: "the built SPA",
        read: |settings, value| store(&mut settings.static_dir, parse(value)),
    },
    Key {
        name: "DATABASE_POOL_SIZE",
        fallback: Fallback::Value("10"),
        doc: "connections per instance",
        read: |settings, value| {
            store(
                &mut settings.database_pool_size,
                parse(value).and_then(at_least_one),
            )
        },
    },
    Key {
        name: "ARGON2_MEMORY_KIB",
        fallback: Fallback::Value("19456"),
        doc: "argon2id memory per hash (OWASP's); tests use cheaper values",
        read: |settings, value| store(&mut settings.password_hashing.memory_kib, parse(value)),
    },
    Key {
        name: "ARGON2_ITERATIONS",
        fallback: Fallback::Value("2"),
        doc: "argon2id passes (OWASP's)",
        read: |settings, value| store(&mut settings.password_hashing.iterations, parse(value)),
    },
    Key {
        name: "ARGON2_PARALLELISM",
        fallback: Fallback::Value("1"),
        doc: "argon2id lanes (OWASP's)",
        read: |settings, value| store(&mut settings.password_hashing.parallelism, parse(value)),
    },
    Key {
        name: "HASHING_CONCURRENCY",
        fallback: Fallback::Derived {
            shown: "cores",
            value: |_| num_cpus::get().max(1).to_string(),
        },
        doc: "hashes running at once",
        read: |settings, value| {
            store(
                &mut settings.password_hashing.concurrency,
                parse(value).and_then(at_least_one),
            )
        },
    },
    Key {
        name: "HASHING_MAX_WAIT_MS",
        fallback: Fallback::Value("10000"),
        doc: "a password hash is refused (`503` + `Retry-After`) only when the wait it would \
              face (queue ahead ÷ slots × recent median hash time) is longer; bursts are queued",
        read: |settings, value| {
            store(
                &mut settings.password_hashing.max_wait,
                parse(value).map(Duration::from_millis),
            )
        },
    },
    Key {
        name: "HASHING_QUEUE_LIMIT",
        fallback: Fallback::Value("4096"),
        doc: "hard cap on waiting hashes, a memory safety net behind the wait rule",
        read: |settings, value| store(&mut settings.password_hashing.queue_limit, parse(value)),
    },
    Key {
        name: "TRUSTED_PROXIES",
        fallback: Fallback::Unset,
        doc: "comma-separated IPs/CIDRs whose `X-Forwarded-For` is believed",
        read: |settings, value| store(&mut settings.trusted_proxies, parse(value)),
    },
    Key {
        name: "PUBLIC_URL",
        // Passkeys need a host name, so a server on a loopback or wildcard address is reached
        // as localhost unless told otherwise.
        fallback: Fallback::Derived {
            shown: "`http://localhost:<port>` for a loopback or wildcard bind, else \
                    `http://<bind address>`",
            value: |settings| {
                let bind = settings.bind;
                if bind.ip().is_loopback() || bind.ip().is_unspecified() {
                    format!("http://localhost:{}", bind.port())
                } else {
                    format!("http://{bind}")
                }
            },
        },
        doc: "the origin customers reach: links in mails (`/verify-email`, \
              `/reset-password`); its host is the passkeys' relying party id (a host name, \
              never an IP address: browsers refuse one), and passkeys work only on exactly \
              this origin",
        read: |settings, value| {
            let url: String = parse(value)?;
            let url = url.trim().trim_end_matches('/').to_string();
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(char::is_whitespace)
            {
                return Err(Refusal::Rule(
                    "must be an http:// or https:// origin".into(),
                ));
            }
            settings.public_url = url;
            Ok(())
        },
    },
    Key {
        name: "MAIL_FROM",
        fallback: Fallback::Value("noreply@localhost"),
        doc: "the address every mail is sent from; its sender name is the site name (a name \
              written here, as in `Example Hosting <noreply@example.com>`, must be that name)",
        read: |settings, value| {
            let Ok(mailbox) = value.trim().parse::<lettre::message::Mailbox>() else {
                return Err(Refusal::Rule(
                    "must be an address such as `noreply@example.com`".into(),
                ));
            };
            // One name for the company: a second one here would drift from the site's.
            if let Some(name) = mailbox
                .name
                .as_deref()
                .filter(|name| *name != settings.site_name)
            {
                return Err(Refusal::Rule(format!(
                    "names the sender {name:?}, but mails go out under the site name {:?}: give \
                     the address alone, or set CUSTADMIN_SITE_NAME to {name:?}",
                    settings.site_name
                )));
            }
            settings.mail_from =
                lettre::message::Mailbox::new(Some(settings.site_name.clone()), mailbox.email);
            Ok(())
        },
    },
    Key {
        name: "SMTP_URL",
        fallback: Fallback::Unset,
        doc: "lettre's URL form: `smtp://host:25` (plain, a local relay), \
              `smtp://user:pass@host:587?tls=required`, `smtps://host:465`; without it every \
              mail is an `.eml` file under `<data dir>/mail/` (its path is logged)",
        read: |settings, value| {
            let Some(url) = text(value) else {
                return Ok(());
            };
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(Refusal::Rule("must be an smtp:// or smtps:// URL".into()));
            }
            settings.smtp_url = Some(SmtpUrl(url));
            Ok(())
        },
    },
    Key {
        name: "MAIL_LEASE_SECS",
        fallback: Fallback::Value("120"),
        doc: "how long one instance holds a mail it is sending before another may send it \
              (longer than any SMTP exchange)",
        read: |settings, value| {
            store(
                &mut settings.mail_lease,
                parse(value).and_then(at_least_one).map(Duration::from_secs),
            )
        },
    },
    Key {
        name: "CORS_ORIGINS",
        fallback: Fallback::Unset,
        doc: "comma-separated browser origins (`https://portal.example`) that may call the API \
              with bearer tokens; the JWKS, the OpenAPI document and `/config` are readable \
              from any origin",
        read: |settings, value| {
            let origins: Vec<String> = list(value)
                .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
                .filter(|origin| !origin.is_empty())
                .collect();
            if let Some(bad) = origins.iter().find(|origin| {
                !(origin.starts_with("https://") || origin.starts_with("http://"))
                    || origin[origin.find("://").map_or(0, |i| i + 3)..].contains('/')
                    || origin.contains(['*', '?', '#'])
                    || origin.ends_with(":443")
                    || origin.ends_with(":80")
            }) {
                return Err(Refusal::Rule(format!(
                    "{bad:?} is not an origin such as https://portal.example"
                )));
            }
            settings.cors_origins = origins;
            Ok(())
        },
    },
    Key {
        name: "SUPPORT_CONTACT",
        fallback: Fallback::Unset,
        doc: "shown to customers who lost their second factor (`GET /config`) and in mails",
        read: |settings, value| {
            settings.support_contact = text(value);
            Ok(())
        },
    },
    Key {
        name: "HOUSEKEEPING_INTERVAL_SECS",
        fallback: Fallback::Value("300"),
        doc: "how often every `serve` process prunes ended sessions, expired challenges, idle \
              counters, old known devices and security events past their retention, and sends \
              the verification mails sign-ups owe (logged at `info`)",
        read: |settings, value| {
            store(
                &mut settings.housekeeping_interval,
                parse(value).and_then(at_least_one).map(Duration::from_secs),
            )
        },
    },
    Key {
        name: "HOUSEKEEPING_RETENTION_SECS",
        fallback: Fallback::Value("2592000"),
        doc: "30 days: the longest an ended session is kept for the record; expired challenges \
              go after at most 1 h; idle failure counters always after 1 day (never sooner, so \
              pruning cannot shorten a back-off)",
        read: |settings, value| {
            store(
                &mut settings.housekeeping_retention,
                parse(value).map(Duration::from_secs),
            )
        },
    },
    Key {
        name: "EVENT_RETENTION_DAYS",
        fallback: Fallback::Value("400"),
        doc: "how long the security log (`GET /account/events`, the support desk's view) keeps \
              an event, 1 to 3650 days; counted from the last time a repeated failure happened",
        read: |settings, value| {
            let days: i64 = parse(value)?;
            if !(1..=i64::from(MAX_EVENT_RETENTION_DAYS)).contains(&days) {
                return Err(Refusal::Rule(format!(
                    "must be a number of days from 1 to {MAX_EVENT_RETENTION_DAYS}"
                )));
            }
            settings.event_retention = Duration::from_secs(days.unsigned_abs() * 24 * 60 * 60);
            Ok(())
        },
    },
    Key {
        name: "BREACHED_PASSWORDS_URL",
        fallback: Fallback::Unset,
        doc: "a range API compatible with Have I Been Pwned's (`https://api.pwnedpasswords.com`, \
              or your own mirror) that new passwords are checked against: only the first five \
              hex characters of the password's SHA-1 are sent, with padding; a known password \
              is refused (`password_breached`); when the service fails the password is accepted \
              and a warning logged; unset: no check",
        read: |settings, value| {
            let Some(url) = text(value) else {
                return Ok(());
            };
            let url = url.trim_end_matches('/').to_string();
            let parsed = url::Url::parse(&url)
                .map_err(|error| Refusal::Unparsable(format!("cannot use {value:?}: {error}")))?;
            if !matches!(parsed.scheme(), "https" | "http") || parsed.query().is_some() {
                return Err(Refusal::Rule(
                    "must be an https:// (or http://) URL without a query; `/range/XXXXX` is \
                     appended"
                        .into(),
                ));
            }
            settings.breached_passwords_url = Some(url);
            Ok(())
        },
    },
    Key {
        name: "BREACHED_PASSWORDS_TIMEOUT_MS",
        fallback: Fallback::Value("2000"),
        doc: "how long a breached-password check may take (100 to 10000 ms) before the \
              password is accepted unchecked",
        read: |settings, value| {
            let millis: u64 = parse(value)?;
            if !(100..=10_000).contains(&millis) {
                return Err(Refusal::Rule("must be 100 to 10000 milliseconds".into()));
            }
            settings.breached_passwords_timeout = Duration::from_millis(millis);
            Ok(())
        },
    },
    Key {
        name: "LOG_FORMAT",
        fallback: Fallback::Value("text"),
        doc: "`text` (lines for people) or `json` (one JSON object a line for log shippers; a \
              request's lines carry its `request_id`, the `X-Request-Id` it was answered with)",
        read: |settings, value| store(&mut settings.log_format, parse(value)),
    },
    Key {
        name: "METRICS_BIND",
        fallback: Fallback::Unset,
        doc: "an address (`127.0.0.1:9464`) where a second listener serves Prometheus metrics \
              at `/metrics`, and nothing else; never the public port, so keep it off the \
              internet; unset: no metrics",
        read: |settings, value| {
            let Some(address) = text(value) else {
                return Ok(());
            };
            let address: SocketAddr = parse(&address)?;
            if address == settings.bind && address.port() != 0 {
                return Err(Refusal::Rule(
                    "must not be CUSTADMIN_BIND: metrics are never served on the public port"
                        .into(),
                ));
            }
            settings.metrics_bind = Some(address);
            Ok(())
        },
    },
    Key {
        name: "READY_OUTBOX_MAX_AGE_SECS",
        fallback: Fallback::Value("900"),
        doc: "`/api/v1/health/ready` answers `503` while the oldest mail still unsent is older \
              than this (the outbox is stuck: SMTP refuses or no instance delivers); `0` leaves \
              the outbox out of readiness",
        read: |settings, value| {
            let seconds: u64 = parse(value)?;
            settings.ready_outbox_max_age = (seconds > 0).then(|| Duration::from_secs(seconds));
            Ok(())
        },
    },
];

/// The longest site name: it has to fit a phone's header and a mail's sender line.
pub const MAX_SITE_NAME_CHARS: usize = 64;

/// Reads and checks a logo file; the message says what is wrong with it.
fn read_logo(path: &Path) -> Result<Logo, String> {
    use std::io::Read;
    let cannot_read = |error: std::io::Error| format!("cannot read {}: {error}", path.display());
    let mut bytes = Vec::new();
    // One byte past the limit at most, so a huge file (or a device) is never read whole.
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_LOGO_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot_read)?;
    Logo::from_bytes(bytes).map_err(|error| format!("{} {error}", path.display()))
}

/// The declared key of this name (without the prefix), if there is one.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// Puts a value read into its field.
fn store<T>(field: &mut T, value: Result<T, Refusal>) -> Result<(), Refusal> {
    *field = value?;
    Ok(())
}

/// A value as its type parses it, surrounding blanks ignored.
fn parse<T: FromStr>(value: &str) -> Result<T, Refusal>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|error| Refusal::Unparsable(format!("cannot use {value:?}: {error}")))
}

fn flag(value: &str) -> Result<bool, Refusal> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Refusal::Unparsable(format!(
            "cannot use {value:?}: expected true or false"
        ))),
    }
}

fn at_least_one<T: Default + PartialEq>(number: T) -> Result<T, Refusal> {
    if number == T::default() {
        return Err(Refusal::Rule("must be at least 1".into()));
    }
    Ok(number)
}

/// The non-blank entries of a comma-separated list.
fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}

/// Text, trimmed; blank is none.
fn text(value: &str) -> Option<String> {
    Some(value.trim().to_string()).filter(|text| !text.is_empty())
}

impl Settings {
    /// The folder of the key files: `CUSTADMIN_KEYS_DIR`, else the data folder.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.clone())
    }

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
        Self::read(&Source {
            environment,
            file: file_values,
        })
    }

    /// Every key at its fallback, as if nothing were configured.
    pub fn defaults() -> Self {
        Self::read(&Source {
            environment: &HashMap::new(),
            file: HashMap::new(),
        })
        .expect("every fallback is a valid value")
    }

    fn read(source: &Source) -> Result<Self, ConfigError> {
        source.reject_unknown_variables()?;
        let mut settings = Settings::unread(source.environment);
        for key in KEYS {
            let given = source.raw(key.name);
            let value = match (&given, &key.fallback) {
                (Some((value, _)), _) => value.to_string(),
                (None, Fallback::Value(value)) => value.to_string(),
                (None, Fallback::Derived { value, .. }) => value(&settings),
                (None, Fallback::Unset) => continue,
            };
            let variable = format!("{ENV_PREFIX}{}", key.name);
            (key.read)(&mut settings, &value).map_err(|refusal| match refusal {
                Refusal::Unparsable(message) => ConfigError::Invalid {
                    variable: given.map_or(variable, |(_, named)| named),
                    message,
                },
                Refusal::Rule(message) => ConfigError::Invalid { variable, message },
            })?;
        }
        // The one rule over several keys.
        let hashing = settings.password_hashing;
        argon2::Params::new(
            hashing.memory_kib,
            hashing.iterations,
            hashing.parallelism,
            None,
        )
        .map_err(|error| ConfigError::Invalid {
            variable: "CUSTADMIN_ARGON2_MEMORY_KIB/ITERATIONS/PARALLELISM".into(),
            message: error.to_string(),
        })?;
        Ok(settings)
    }

    /// The settings before any key is read: every key with a fallback overwrites its field,
    /// so only the unset keys' empties remain. `RUST_LOG` is no key of ours: read here.
    fn unread(environment: &HashMap<String, String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: String::new(),
            data_dir: PathBuf::new(),
            keys_dir: None,
            jwt_key_file: None,
            jwt_retired_key_files: Vec::new(),
            secret_key_file: None,
            issuer: String::new(),
            site_name: String::new(),
            logo: None,
            brand_color: None,
            signup_enabled: false,
            two_factor_rule: TwoFactorRule::Off,
            two_factor_grace: Duration::ZERO,
            privileged_window: Duration::ZERO,
            session_check_reuse: Duration::ZERO,
            static_dir: PathBuf::new(),
            database_pool_size: 0,
            password_hashing: PasswordHashingSettings {
                memory_kib: 0,
                iterations: 0,
                parallelism: 0,
                concurrency: 0,
                queue_limit: 0,
                max_wait: Duration::ZERO,
            },
            log_filter: environment
                .get("RUST_LOG")
                .cloned()
                .unwrap_or_else(|| "info".into()),
            trusted_proxies: TrustedProxies::default(),
            public_url: String::new(),
            mail_from: lettre::message::Mailbox::new(
                None,
                lettre::Address::new("noreply", "localhost").expect("a valid address"),
            ),
            smtp_url: None,
            mail_lease: Duration::ZERO,
            cors_origins: Vec::new(),
            support_contact: None,
            housekeeping_interval: Duration::ZERO,
            housekeeping_retention: Duration::ZERO,
            event_retention: Duration::ZERO,
            breached_passwords_url: None,
            breached_passwords_timeout: Duration::ZERO,
            log_format: LogFormat::Text,
            metrics_bind: None,
            ready_outbox_max_age: None,
        }
    }
}

struct Source<'a> {
    environment: &'a HashMap<String, String>,
    /// Keys from the file, upper-cased without prefix (`bind` → `BIND`).
    file: HashMap<String, String>,
}

impl Source<'_> {
    /// The value set for `key` and how to name where it was set.
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

    /// A misspelt variable would otherwise be ignored silently.
    fn reject_unknown_variables(&self) -> Result<(), ConfigError> {
        let unknown_env = self
            .environment
            .keys()
            .filter_map(|key| key.strip_prefix(ENV_PREFIX))
            .find(|name| key(name).is_none());
        if let Some(name) = unknown_env {
            return Err(ConfigError::Invalid {
                variable: format!("{ENV_PREFIX}{name}"),
                message: "unknown setting".into(),
            });
        }
        if let Some(name) = self.file.keys().find(|name| key(name).is_none()) {
            return Err(ConfigError::Invalid {
                variable: format!("{} in the configuration file", name.to_lowercase()),
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
    fn the_site_name_follows_the_issuer_unless_set() {
        let defaults = Settings::from_sources(&env(&[])).unwrap();
        assert_eq!(defaults.site_name, "custadmin");
        assert_eq!(
            defaults.mail_from.to_string(),
            "custadmin <noreply@localhost>"
        );
        assert_eq!((defaults.logo, defaults.brand_color), (None, None));

        let renamed_issuer =
            Settings::from_sources(&env(&[("CUSTADMIN_ISSUER", "Example Hosting")])).unwrap();
        assert_eq!(renamed_issuer.site_name, "Example Hosting");
        assert_eq!(
            renamed_issuer.mail_from.to_string(),
            "Example Hosting <noreply@localhost>"
        );

        let both = Settings::from_sources(&env(&[
            ("CUSTADMIN_ISSUER", "https://auth.example.com"),
            ("CUSTADMIN_SITE_NAME", " Example Hosting "),
        ]))
        .unwrap();
        assert_eq!(both.issuer, "https://auth.example.com");
        assert_eq!(both.site_name, "Example Hosting");
    }

    #[test]
    fn a_site_name_an_otp_app_cannot_show_is_refused() {
        for bad in ["", "   ", "Example: Hosting", "Tab\there", &"x".repeat(65)] {
            let error = Settings::from_sources(&env(&[("CUSTADMIN_SITE_NAME", bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("CUSTADMIN_SITE_NAME:"),
                "{bad:?}: {error}"
            );
        }
        // An issuer that is a URL needs a site name of its own, and the message says so.
        let error = Settings::from_sources(&env(&[("CUSTADMIN_ISSUER", "https://a.example")]))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("CUSTADMIN_SITE_NAME:") && error.contains("set CUSTADMIN_SITE_NAME"),
            "{error}"
        );
        assert!(Settings::from_sources(&env(&[("CUSTADMIN_SITE_NAME", &"ž".repeat(64))])).is_ok());
    }

    #[test]
    fn the_mail_sender_s_name_is_the_site_name() {
        let settings = Settings::from_sources(&env(&[
            ("CUSTADMIN_SITE_NAME", "Example Hosting"),
            ("CUSTADMIN_MAIL_FROM", "noreply@example.com"),
        ]))
        .unwrap();
        assert_eq!(
            settings.mail_from.to_string(),
            "Example Hosting <noreply@example.com>"
        );
        let same = Settings::from_sources(&env(&[
            ("CUSTADMIN_SITE_NAME", "Example Hosting"),
            (
                "CUSTADMIN_MAIL_FROM",
                "Example Hosting <noreply@example.com>",
            ),
        ]))
        .unwrap();
        assert_eq!(same.mail_from, settings.mail_from);
        let error = Settings::from_sources(&env(&[
            ("CUSTADMIN_SITE_NAME", "Example Hosting"),
            ("CUSTADMIN_MAIL_FROM", "Other Name <noreply@example.com>"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("CUSTADMIN_MAIL_FROM:") && error.contains("\"Example Hosting\""),
            "{error}"
        );
        let error = Settings::from_sources(&env(&[("CUSTADMIN_MAIL_FROM", "not an address")]))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("CUSTADMIN_MAIL_FROM:"), "{error}");
    }

    #[test]
    fn a_brand_colour_too_light_for_white_text_stops_start_up() {
        let settings =
            Settings::from_sources(&env(&[("CUSTADMIN_BRAND_COLOR", "#767676")])).unwrap();
        assert_eq!(settings.brand_color.unwrap().to_string(), "#767676");
        for bad in ["#777777", "767676", "blue"] {
            let error = Settings::from_sources(&env(&[("CUSTADMIN_BRAND_COLOR", bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("CUSTADMIN_BRAND_COLOR:"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn a_logo_file_is_read_and_checked_at_start_up() {
        let dir = std::env::temp_dir().join(format!("custadmin-logo-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let svg = dir.join("logo.svg");
        std::fs::write(&svg, r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#).unwrap();
        let settings =
            Settings::from_sources(&env(&[("CUSTADMIN_LOGO_FILE", svg.to_str().unwrap())]))
                .unwrap();
        let logo = settings.logo.expect("a logo");
        assert!(logo.file_name().ends_with(".svg"), "{logo:?}");

        let text = dir.join("logo.txt");
        std::fs::write(&text, "hello").unwrap();
        let big = dir.join("big.png");
        std::fs::write(&big, vec![0; MAX_LOGO_BYTES as usize + 1]).unwrap();
        for (bad, says) in [
            (text.clone(), "neither a PNG image nor an SVG document"),
            (big, "larger than 512 KiB"),
            (dir.join("missing.svg"), "cannot read"),
            (dir.clone(), "cannot read"),
        ] {
            let error =
                Settings::from_sources(&env(&[("CUSTADMIN_LOGO_FILE", bad.to_str().unwrap())]))
                    .unwrap_err()
                    .to_string();
            assert!(
                error.starts_with("CUSTADMIN_LOGO_FILE:") && error.contains(says),
                "{bad:?}: {error}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// README.md's row for a key: what operators read.
    fn documented_row(key: &Key) -> String {
        let fallback = match &key.fallback {
            Fallback::Value(value) => format!("`{value}`"),
            Fallback::Derived { shown, .. } => shown.to_string(),
            Fallback::Unset => "none".to_string(),
        };
        format!("| `{ENV_PREFIX}{}` | {fallback} | {} |", key.name, key.doc)
    }

    #[test]
    fn the_readme_documents_every_key_as_declared() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
                .unwrap();
        let documented: Vec<&str> = readme
            .lines()
            .filter(|line| line.starts_with(&format!("| `{ENV_PREFIX}")))
            .collect();
        let declared: Vec<String> = KEYS.iter().map(documented_row).collect();
        assert_eq!(
            documented,
            declared,
            "README.md's configuration table should list, in this order:\n{}",
            declared.join("\n")
        );
    }

    #[test]
    fn every_fallback_is_a_valid_value_and_every_key_is_declared_once() {
        let defaults = Settings::defaults();
        assert_eq!(defaults.password_hashing.memory_kib, 19_456);
        for declared in KEYS {
            let same_name = KEYS.iter().filter(|key| key.name == declared.name);
            assert_eq!(same_name.count(), 1, "{}", declared.name);
        }
        assert!(key("NO_SUCH_KEY").is_none());
    }

    #[test]
    fn operating_keys_are_read_and_checked() {
        let defaults = Settings::from_sources(&env(&[])).unwrap();
        assert_eq!(defaults.log_format, LogFormat::Text);
        assert_eq!(defaults.metrics_bind, None);
        assert_eq!(
            defaults.ready_outbox_max_age,
            Some(Duration::from_secs(900))
        );
        let set = Settings::from_sources(&env(&[
            ("CUSTADMIN_LOG_FORMAT", "json"),
            ("CUSTADMIN_METRICS_BIND", "0.0.0.0:9464"),
            ("CUSTADMIN_READY_OUTBOX_MAX_AGE_SECS", "0"),
        ]))
        .unwrap();
        assert_eq!(set.log_format, LogFormat::Json);
        assert_eq!(set.metrics_bind, Some("0.0.0.0:9464".parse().unwrap()));
        assert_eq!(set.ready_outbox_max_age, None);
        for (key, value) in [
            ("CUSTADMIN_LOG_FORMAT", "xml"),
            ("CUSTADMIN_METRICS_BIND", "127.0.0.1:8080"),
            ("CUSTADMIN_METRICS_BIND", "localhost"),
        ] {
            let error = Settings::from_sources(&env(&[(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(error.starts_with(&format!("{key}:")), "{error}");
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
