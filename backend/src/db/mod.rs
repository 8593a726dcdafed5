//! All database access. One connection type serves SQLite and PostgreSQL; the backend is chosen
//! from the URL. Diesel is blocking, so every query runs on the blocking pool via [`Database::run`].

pub mod accounts;
pub mod api_tokens;
pub mod backup;
pub mod ceremonies;
pub mod devices;
pub mod email_tokens;
pub mod events;
pub mod housekeeping;
pub mod oidc_authorization_requests;
pub mod oidc_clients;
pub mod oidc_codes;
pub mod oidc_consents;
pub mod oidc_grants;
pub mod outbox;
pub mod passkeys;
pub mod passwordless_challenges;
pub mod schema;
pub mod sealed_values;
pub mod sessions;
pub mod throttle;
pub mod two_factor;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseKind;

/// A connection to whichever database the URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// What can go wrong in a database call, in the database's own words. The use cases decide
/// what a failure means to the caller (a duplicate may be their refusal; the rest is a fault):
/// `db` knows nothing of HTTP.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The connection is lost or none is free, or a lock timed out: worth retrying shortly.
    #[error("the database is unavailable or busy")]
    Unavailable,
    /// A unique constraint refused the write (a username or credential taken, a race lost).
    #[error("a row with this key exists already: {0}")]
    Duplicate(String),
    /// Anything else, including a stored row this code cannot read. Logged, never shown.
    #[error("{0}")]
    Other(String),
}

impl DbError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }
}

/// Diesel errors are sorted in one place: lost connections and lock time-outs are
/// `Unavailable` (retryable), unique violations `Duplicate`, everything else `Other`.
impl From<DieselError> for DbError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                tracing::error!(%error, "database connection lost");
                DbError::Unavailable
            }
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                DbError::Duplicate(error.to_string())
            }
            DieselError::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database is busy")
                    || info.message().contains("deadlock detected") =>
            {
                // Retryable conflicts: the client is told to come back shortly.
                tracing::warn!(%error, "database busy");
                DbError::Unavailable
            }
            _ => DbError::Other(format!("database error: {error}")),
        }
    }
}

/// How a caller's error tells [`Database::transaction_committing_refusals`] what to do with
/// the work done before it: a refusal (the rules said no) commits it, anything else (a fault)
/// rolls it back. The use cases' error implements it; `db` knows nothing more of that type.
pub trait Answer {
    fn is_refusal(&self) -> bool;
}

/// How committed work ended: done, or refused after what it counted.
enum Ending<T, E> {
    Done(T),
    Refused(E),
}

/// Errors while opening the database at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseSetupError {
    #[error("cannot create the SQLite database or its folder {path}: {source}")]
    CreateFolder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("cannot apply database migrations: {0}")]
    Migrate(String),
}

/// The pooled database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: DbPool,
    kind: DatabaseKind,
    /// Counts finished [`Database::run`]s, which are all the writes this instance makes
    /// (reads too: counting every one is simpler than telling them apart, and only errs on
    /// the safe side). A cached read taken before the count moved may be out of date.
    runs: Arc<AtomicU64>,
    /// Recent session checks, see `service::sessions::authenticate`.
    session_checks: sessions::SessionCheckCache,
}

/// Pragmas that every SQLite connection needs; PostgreSQL needs none.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, connection: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(sqlite) = connection {
            // WAL lets readers run beside the single writer; the busy timeout makes writers queue
            // instead of failing at once; foreign keys are off by default in SQLite.
            sqlite
                .batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

impl Database {
    /// Opens the pool and applies pending migrations.
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, DatabaseSetupError> {
        let kind = DatabaseKind::from_url(url).map_err(DatabaseSetupError::Connect)?;
        let connection_url = match kind {
            DatabaseKind::Sqlite => {
                let path = url.trim_start_matches("sqlite://");
                create_owner_only_sqlite_file(std::path::Path::new(path))?;
                path.to_string()
            }
            DatabaseKind::Postgresql => url.to_string(),
        };
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            // A SQLite connection is a file handle and cannot drop; PostgreSQL's can.
            .test_on_check_out(kind == DatabaseKind::Postgresql)
            .connection_customizer(Box::new(ConnectionSetup))
            .build(ConnectionManager::<DbConnection>::new(connection_url))
            .map_err(|error| DatabaseSetupError::Connect(error.to_string()))?;
        let database = Self {
            pool,
            kind,
            runs: Arc::new(AtomicU64::new(0)),
            session_checks: sessions::SessionCheckCache::new(),
        };
        database.migrate()?;
        Ok(database)
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    fn migrate(&self) -> Result<(), DatabaseSetupError> {
        let mut connection = self
            .pool
            .get()
            .map_err(|error| DatabaseSetupError::Connect(error.to_string()))?;
        let applied = match &mut *connection {
            DbConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConnection::Postgresql(postgres) => {
                postgres.run_pending_migrations(POSTGRES_MIGRATIONS)
            }
        }
        .map_err(|error| DatabaseSetupError::Migrate(error.to_string()))?;
        for migration in applied {
            tracing::info!(%migration, "applied database migration");
        }
        Ok(())
    }

    /// Runs blocking database work on the blocking pool, never on the async workers.
    /// `work` returns the caller's own error type, so a use case can refuse inside it; database
    /// failures reach that type through `From<DbError>`.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let runs = self.runs.clone();
        self.run_uncounted(move |connection| {
            let result = work(connection);
            // Counted once the work (and its commit) is done, here on the blocking thread, so
            // the count moves even when the request that asked for it has gone away.
            runs.fetch_add(1, Ordering::SeqCst);
            result
        })
        .await
    }

    /// How many [`Database::run`]s have finished on this instance so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    pub fn session_checks(&self) -> &sessions::SessionCheckCache {
        &self.session_checks
    }

    /// [`Database::run`] for work that changes nothing a cached read depends on: the session
    /// check itself (it only notes when a session was last used) and the health ping.
    pub async fn run_uncounted<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection: PooledConnection<ConnectionManager<DbConnection>> =
                pool.get().map_err(|error| {
                    tracing::error!(%error, "no database connection available");
                    DbError::Unavailable
                })?;
            work(&mut connection)
        })
        .await
        .map_err(|error| DbError::other(format!("database task failed: {error}")))?
    }

    /// Like [`Database::run`], inside one transaction: all of `work` lands or none of it.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.run(|connection| in_transaction(connection, work))
            .await
    }

    /// Like [`Database::transaction`], for work whose refusals must keep what it counted on
    /// the way (an attempt, a failure event): when `work` answers a refusal (see [`Answer`])
    /// the transaction commits and the refusal is answered; a fault rolls it all back. A write
    /// that must not outlive a refusal shares a savepoint ([`in_transaction`]) with the check
    /// that may refuse.
    pub async fn transaction_committing_refusals<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Answer + Send + 'static,
    {
        self.run(|connection| {
            let ending = in_transaction(connection, |connection| match work(connection) {
                Ok(value) => Ok(Ending::Done(value)),
                Err(answer) if answer.is_refusal() => Ok(Ending::Refused(answer)),
                Err(fault) => Err(fault),
            })?;
            match ending {
                Ending::Done(value) => Ok(value),
                Ending::Refused(refusal) => Err(refusal),
            }
        })
        .await
    }

    /// The pool's connections now: in use, idle, and the most it opens.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections.saturating_sub(state.idle_connections),
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// Whether every migration this binary knows has been applied: another instance of an
    /// older binary may share the database, or it may have been restored from an old backup.
    pub async fn is_migrated(&self) -> Result<bool, DbError> {
        self.run_uncounted(|connection| {
            let pending = match connection {
                DbConnection::Sqlite(sqlite) => sqlite.has_pending_migration(SQLITE_MIGRATIONS),
                DbConnection::Postgresql(postgres) => {
                    postgres.has_pending_migration(POSTGRES_MIGRATIONS)
                }
            }
            .map_err(|error| DbError::other(format!("cannot read the migrations: {error}")))?;
            Ok::<_, DbError>(!pending)
        })
        .await
    }

    /// `SELECT 1`, for the health check.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run_uncounted(|connection| {
            connection.batch_execute("SELECT 1")?;
            Ok::<_, DbError>(())
        })
        .await
    }
}

/// Creates the SQLite database's folder and file owner-only before SQLite opens it (SQLite
/// would use the umask, and its WAL files copy the database file's mode): the database holds
/// password hashes and encrypted secrets, whether or not the keys live beside it.
fn create_owner_only_sqlite_file(path: &std::path::Path) -> Result<(), DatabaseSetupError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        if !folder.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(folder)
                .map_err(|source| DatabaseSetupError::CreateFolder {
                    path: folder.display().to_string(),
                    source,
                })?;
        }
    }
    if path.as_os_str() != ":memory:" && !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|source| DatabaseSetupError::CreateFolder {
                path: path.display().to_string(),
                source,
            })?;
    }
    Ok(())
}

/// Runs `work` in a transaction (a savepoint when one is already open). On SQLite, the
/// transaction should begin with a write so it takes the write lock at once, rather than
/// failing on a later read-to-write upgrade; this process's transactions queue for that lock
/// on [`SQLITE_WRITER`] first.
pub fn in_transaction<T, E: From<DbError>>(
    connection: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection;
    let _writer = sqlite_writer_turn(connection);
    connection
        .transaction(|connection| work(connection).map_err(Failed::Work))
        .map_err(|failed| match failed {
            Failed::Work(error) => error,
            Failed::Database(error) => E::from(DbError::from(error)),
        })
}

/// SQLite lets one connection write at a time. A writer that finds the database locked
/// polls it from its busy handler with sleeps of 1, 2, 5, 10… ms, while a transaction here
/// holds the lock for about a millisecond: under load, writers slept far longer than they
/// waited, and requests asleep there left the password-hashing threads without work (issue
/// 22: some 4 sleeps and 7 % of the machine idle per login). So the transactions of this
/// process queue on this mutex instead, each woken the moment the one before it ends. One per
/// process, as a process serves one database (tests that run several in one process only
/// have their transactions queued together). Other processes (the CLI) and single statements
/// outside a transaction still wait under the busy timeout.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This process's turn to write to SQLite, for a transaction about to begin (none is needed
/// for a savepoint inside one, nor on PostgreSQL, whose writers lock rows, not the database).
fn sqlite_writer_turn(connection: &mut DbConnection) -> Option<std::sync::MutexGuard<'static, ()>> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = connection else {
        return None;
    };
    let depth = AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth();
    if !matches!(depth, Ok(None)) {
        return None;
    }
    // A panic in another transaction poisons the mutex but leaves nothing to protect: the
    // database rolled that transaction back.
    Some(
        SQLITE_WRITER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

/// The work's own error, or the database's while beginning or ending the transaction.
enum Failed<E> {
    Work(E),
    Database(DieselError),
}

impl<E> From<DieselError> for Failed<E> {
    fn from(error: DieselError) -> Self {
        Self::Database(error)
    }
}
