//! `custadmin backup` and `custadmin restore` for the SQLite default: a consistent copy of the
//! database taken while servers run, with the key files beside it in `<FILE>.keys/` (the
//! database alone cannot open the TOTP secrets or check recovery codes), and its restoration
//! into an empty data folder. PostgreSQL is backed up with its own tools (docs/deploy.md).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::auth::keys::KeyFiles;
use crate::config::{DatabaseKind, Settings};
use crate::db::backup::{check_sqlite_copy, copy_sqlite};

#[derive(Debug, thiserror::Error)]
pub enum BackupFailure {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] crate::db::backup::BackupError),
    #[error(transparent)]
    Keys(#[from] crate::auth::keys::KeyError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupFailure + '_ {
    move |source| BackupFailure::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where the key files of the backup `file` go: `<file>.keys/`.
pub fn keys_folder_of(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".keys");
    PathBuf::from(name)
}

fn sqlite_path(settings: &Settings) -> Result<PathBuf, BackupFailure> {
    match DatabaseKind::from_url(&settings.database_url) {
        Ok(DatabaseKind::Sqlite) => Ok(PathBuf::from(
            settings.database_url.trim_start_matches("sqlite://"),
        )),
        _ => Err(BackupFailure::Refused(
            "the database is PostgreSQL: back it up with pg_dump and restore it with pg_restore \
             (docs/deploy.md, \"Backups\"), and keep the key files too"
                .into(),
        )),
    }
}

#[derive(Debug)]
pub struct BackupReport {
    pub file: PathBuf,
    pub accounts: i64,
    /// The folder the key files were copied to, unless left out.
    pub keys_folder: Option<PathBuf>,
    /// Key files not copied: public keys named by `CUSTADMIN_JWT_RETIRED_KEY_FILES`.
    pub keys_left_out: Vec<PathBuf>,
}

/// Copies the database to `file` (which must not exist) consistently, even while servers
/// write, then (with `with_keys`) the key files to `<file>.keys/`. Both owner-only. On
/// failure nothing half-made is left behind.
pub fn backup(
    settings: &Settings,
    file: &Path,
    with_keys: bool,
) -> Result<BackupReport, BackupFailure> {
    let database = sqlite_path(settings)?;
    let keys_folder = keys_folder_of(file);
    if with_keys && keys_folder.exists() {
        return Err(BackupFailure::Refused(format!(
            "{} exists already; choose another backup file",
            keys_folder.display()
        )));
    }
    // Created empty and owner-only first: VACUUM INTO fills an empty file and never replaces
    // one with content, and the copy holds password hashes.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(io(file))?;
    let result = copy_and_check(settings, &database, file, &keys_folder, with_keys);
    if result.is_err() {
        let _ = std::fs::remove_file(file);
        if with_keys {
            let _ = std::fs::remove_dir_all(&keys_folder);
        }
    }
    result
}

fn copy_and_check(
    settings: &Settings,
    database: &Path,
    file: &Path,
    keys_folder: &Path,
    with_keys: bool,
) -> Result<BackupReport, BackupFailure> {
    copy_sqlite(&database.display().to_string(), &file.display().to_string())?;
    let accounts = check_sqlite_copy(&file.display().to_string())?;
    std::fs::File::open(file)
        .and_then(|copy| copy.sync_all())
        .map_err(io(file))?;
    let mut report = BackupReport {
        file: file.to_path_buf(),
        accounts,
        keys_folder: None,
        keys_left_out: Vec::new(),
    };
    if with_keys {
        let loaded = KeyFiles::from_settings(settings).load()?;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(keys_folder)
            .map_err(io(keys_folder))?;
        // Under the names a fresh data folder reads: a key a setting named becomes key 1.
        let mut copies = Vec::new();
        for key in &loaded.encryption {
            let name = if key.configured {
                "secret-encryption.key".into()
            } else {
                file_name(&key.path)?
            };
            copies.push((key.path.clone(), name));
        }
        for key in &loaded.signing {
            match (key.number, key.configured) {
                (0, _) => report.keys_left_out.push(key.path.clone()),
                (_, true) => copies.push((key.path.clone(), "jwt-signing-key.pem".into())),
                (_, false) => copies.push((key.path.clone(), file_name(&key.path)?)),
            }
        }
        for key in &loaded.rsa_signing {
            copies.push((key.path.clone(), file_name(&key.path)?));
        }
        for (from, name) in copies {
            let contents = std::fs::read(&from).map_err(io(&from))?;
            write_new_owner_only(&keys_folder.join(name), &contents)?;
        }
        report.keys_folder = Some(keys_folder.to_path_buf());
    }
    Ok(report)
}

fn file_name(path: &Path) -> Result<String, BackupFailure> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_string)
        .ok_or_else(|| BackupFailure::Refused(format!("{} has no file name", path.display())))
}

fn write_new_owner_only(path: &Path, contents: &[u8]) -> Result<(), BackupFailure> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(io(path))
}

#[derive(Debug)]
pub struct RestoreReport {
    pub database: PathBuf,
    pub accounts: i64,
    /// Key files put into the keys folder; empty when the backup had none beside it.
    pub keys_restored: Vec<PathBuf>,
}

fn is_empty_or_absent(folder: &Path) -> Result<bool, BackupFailure> {
    match std::fs::read_dir(folder) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(io(folder)(error)),
    }
}

/// Restores the backup `file` (and the key files in `<file>.keys/`, when there) into the
/// data folder, which must be empty: a restore never mixes with or replaces live data.
pub fn restore(settings: &Settings, file: &Path) -> Result<RestoreReport, BackupFailure> {
    let database = sqlite_path(settings)?;
    let keys_dir = settings.keys_dir();
    let keys_from = keys_folder_of(file);
    for folder in [&settings.data_dir, &keys_dir] {
        if !is_empty_or_absent(folder)? {
            return Err(BackupFailure::Refused(format!(
                "{} is not empty: restore into an empty data folder (move the old one aside)",
                folder.display()
            )));
        }
    }
    if database.exists() {
        return Err(BackupFailure::Refused(format!(
            "{} exists already: restore never replaces a database",
            database.display()
        )));
    }
    let accounts = check_sqlite_copy(&file.display().to_string())?;
    let folder = database
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for folder in [folder, &keys_dir] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(io(folder))?;
    }
    // Copied aside, synced, then renamed: a crash never leaves half a database under its name.
    let staging = folder.join(format!(".restore-{}.tmp", uuid::Uuid::new_v4()));
    let contents = std::fs::read(file).map_err(io(file))?;
    write_new_owner_only(&staging, &contents)?;
    std::fs::rename(&staging, &database).map_err(io(&database))?;
    let mut keys_restored = Vec::new();
    if keys_from.is_dir() {
        for entry in std::fs::read_dir(&keys_from).map_err(io(&keys_from))? {
            let path = entry.map_err(io(&keys_from))?.path();
            let name = file_name(&path)?;
            let contents = std::fs::read(&path).map_err(io(&path))?;
            let target = keys_dir.join(name);
            write_new_owner_only(&target, &contents)?;
            keys_restored.push(target);
        }
        keys_restored.sort();
    }
    Ok(RestoreReport {
        database,
        accounts,
        keys_restored,
    })
}
