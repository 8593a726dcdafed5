//! A consistent copy of a SQLite database while servers use it (`VACUUM INTO` reads one
//! snapshot, so writes that go on meanwhile are either wholly in the copy or not at all), and
//! the check a copy must pass before it is restored.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::SqliteConnection;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot open the SQLite database {path}: {message}")]
    Open { path: String, message: String },
    #[error("copying the database failed: {0}")]
    Copy(String),
    #[error("{path} is not a sound custadmin database: {message}")]
    NotSound { path: String, message: String },
}

#[derive(QueryableByName)]
struct CheckRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

fn open(path: &str) -> Result<SqliteConnection, BackupError> {
    let mut connection = SqliteConnection::establish(path).map_err(|error| BackupError::Open {
        path: path.to_string(),
        message: error.to_string(),
    })?;
    // Waits for a server's write rather than failing on it.
    connection
        .batch_execute("PRAGMA busy_timeout = 10000;")
        .map_err(|error| BackupError::Open {
            path: path.to_string(),
            message: error.to_string(),
        })?;
    Ok(connection)
}

/// Writes a consistent copy of the database at `database` to `copy`, which must not exist
/// or be empty (the caller creates it empty and owner-only).
pub fn copy_sqlite(database: &str, copy: &str) -> Result<(), BackupError> {
    if !std::path::Path::new(database).is_file() {
        return Err(BackupError::Open {
            path: database.to_string(),
            message: "no such file".into(),
        });
    }
    let mut connection = open(database)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(copy)
        .execute(&mut connection)
        .map_err(|error| BackupError::Copy(error.to_string()))?;
    Ok(())
}

/// Checks that `path` is a SQLite database that passes `PRAGMA integrity_check` and has
/// custadmin's tables; answers how many accounts it holds.
pub fn check_sqlite_copy(path: &str) -> Result<i64, BackupError> {
    let not_sound = |message: String| BackupError::NotSound {
        path: path.to_string(),
        message,
    };
    let mut connection = open(path)?;
    let rows: Vec<CheckRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut connection)
        .map_err(|error| not_sound(error.to_string()))?;
    let verdict: Vec<&str> = rows
        .iter()
        .map(|row| row.integrity_check.as_str())
        .collect();
    if verdict != ["ok"] {
        return Err(not_sound(verdict.join("; ")));
    }
    let accounts: Vec<CountRow> = diesel::sql_query("SELECT COUNT(*) AS count FROM accounts")
        .load(&mut connection)
        .map_err(|error| not_sound(format!("no accounts table: {error}")))?;
    Ok(accounts.first().map_or(0, |row| row.count))
}
