//! Whether this instance can do its work, for load balancers and orchestrators; and the
//! gauges sampled when metrics are scraped.

use chrono::TimeDelta;

use super::AppState;
use crate::db::outbox;

/// What the health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// The database answered a trivial query.
    pub database_reachable: bool,
}

impl Health {
    /// Serving makes sense only when every dependency answers.
    pub fn is_ok(&self) -> bool {
        self.database_reachable
    }
}

pub async fn check(state: &AppState) -> Health {
    Health {
        database_reachable: state.database.ping().await.is_ok(),
    }
}

/// One part of readiness that is not as it must be, said for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unready {
    /// `database`, `migrations`, `keys` or `outbox`.
    pub check: &'static str,
    pub problem: String,
}

/// Whether this instance should be sent traffic: the database answers and has every migration
/// this binary expects, the keys seal and sign, and the outbox is not stuck (its oldest unsent
/// mail is younger than `CUSTADMIN_READY_OUTBOX_MAX_AGE_SECS`). Every failed check is named.
pub async fn readiness(state: &AppState) -> Vec<Unready> {
    let mut unready = Vec::new();
    if let Some(problem) = keys_problem(state) {
        unready.push(Unready {
            check: "keys",
            problem,
        });
    }
    if state.database.ping().await.is_err() {
        // Nothing else can be read from it.
        unready.push(Unready {
            check: "database",
            problem: "the database does not answer".into(),
        });
        return unready;
    }
    match state.database.is_migrated().await {
        Ok(true) => {}
        Ok(false) => unready.push(Unready {
            check: "migrations",
            problem: "the database lacks migrations this binary needs; restart an instance of \
                      this version to apply them"
                .into(),
        }),
        Err(error) => unready.push(Unready {
            check: "migrations",
            problem: format!("cannot tell whether the database is migrated: {error}"),
        }),
    }
    if let Some(max_age) = state.settings.ready_outbox_max_age {
        match outbox_backlog(state).await {
            Some((_, Some(oldest_age))) if oldest_age > max_age => unready.push(Unready {
                check: "outbox",
                problem: format!(
                    "the oldest unsent mail is {} s old (more than {} s): mail is not being \
                     delivered",
                    oldest_age.as_secs(),
                    max_age.as_secs()
                ),
            }),
            Some(_) => {}
            None => unready.push(Unready {
                check: "outbox",
                problem: "the outbox cannot be read".into(),
            }),
        }
    }
    unready
}

/// The loaded keys do their work: a challenge token signed verifies, a value sealed opens.
fn keys_problem(state: &AppState) -> Option<String> {
    let now = state.now();
    let signed = state
        .token_keys
        .issue_challenge("readiness", "readiness", now)
        .map_err(|error| error.to_string())
        .and_then(|token| {
            state
                .token_keys
                .verify_challenge(&token, now)
                .map_err(|error| error.to_string())
        });
    if let Err(error) = signed {
        return Some(format!("the signing key cannot sign and verify: {error}"));
    }
    let sealed = state
        .secret_box
        .seal(b"readiness", b"readiness")
        .and_then(|sealed| state.secret_box.open(&sealed, b"readiness"));
    match sealed {
        Ok(plain) if plain == b"readiness" => None,
        Ok(_) => Some("the secret key opens a sealed value to something else".into()),
        Err(error) => Some(format!("the secret key cannot seal and open: {error}")),
    }
}

/// Mails neither sent nor given up, and the oldest one's age; `None` when unreadable.
async fn outbox_backlog(state: &AppState) -> Option<(u64, Option<std::time::Duration>)> {
    let now = state.now();
    let (count, oldest) = state.database.run_uncounted(outbox::backlog).await.ok()?;
    let age = oldest.map(|oldest| {
        (now - oldest)
            .max(TimeDelta::zero())
            .to_std()
            .unwrap_or_default()
    });
    Some((count.unsigned_abs(), age))
}

/// Sets the gauges that are read off the running instance rather than counted as things
/// happen: hashing queue, database pool, outbox backlog, breached-password check failures.
pub async fn sample_gauges(state: &AppState) {
    let (queued, running) = state.password_hasher.load();
    crate::monitoring::hashing_load(queued, running);
    let (in_use, idle, max) = state.database.pool_state();
    crate::monitoring::database_pool(in_use, idle, max);
    if let Some((backlog, oldest_age)) = outbox_backlog(state).await {
        crate::monitoring::outbox_state(backlog, oldest_age.unwrap_or_default());
    }
    if let Some(checker) = &state.breached_passwords {
        crate::monitoring::breached_password_checks_unavailable(checker.unavailable_count());
    }
}
