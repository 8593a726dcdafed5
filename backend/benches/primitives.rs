//! Micro-benchmarks of the hot primitives: `cargo bench -p custadmin --bench primitives`.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use custadmin::auth::password::PasswordHasher;
use custadmin::auth::secret_box::SecretBox;
use custadmin::auth::tokens::{TokenKeys, AMR_PASSWORD};
use custadmin::auth::totp::{step_of, TotpSecret};
use custadmin::config::PasswordHashingSettings;
use custadmin::domain::{Password, RecoveryCode, Role, TotpCode};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn totp(c: &mut Criterion) {
    let secret = TotpSecret::generate();
    let code = TotpCode::parse(&secret.code_at_step(step_of(now().timestamp()))).unwrap();
    c.bench_function("totp verify (3 steps, constant time)", |b| {
        b.iter(|| black_box(secret.matching_step(black_box(&code), now().timestamp())))
    });
}

fn tokens(c: &mut Criterion) {
    let keys = TokenKeys::new(
        &ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        "custadmin",
    )
    .unwrap();
    let amr = vec![AMR_PASSWORD.to_string()];
    c.bench_function("access token sign (EdDSA)", |b| {
        b.iter(|| {
            keys.issue_access("account", Role::Customer, "session", now(), &amr, now())
                .unwrap()
        })
    });
    let token = keys
        .issue_access("account", Role::Customer, "session", now(), &amr, now())
        .unwrap();
    c.bench_function("access token verify (EdDSA)", |b| {
        b.iter(|| keys.verify_access_signature(black_box(&token)).unwrap())
    });
    keys.verify_access(&token, now()).unwrap();
    c.bench_function("access token check (cached, exp only)", |b| {
        b.iter(|| keys.verify_access(black_box(&token), now()).unwrap())
    });
}

fn recovery_codes(c: &mut Criterion) {
    let secret_box = SecretBox::new(&[9; 32]);
    let code = RecoveryCode::generate();
    c.bench_function("recovery code parse + keyed hash", |b| {
        b.iter(|| {
            let parsed = RecoveryCode::parse(black_box(&code.display())).unwrap();
            secret_box.keyed_hash(parsed.normalised())
        })
    });
    let sealed = secret_box.seal(&[1; 20], b"account").unwrap();
    c.bench_function("totp secret decrypt (XChaCha20-Poly1305)", |b| {
        b.iter(|| secret_box.open(black_box(&sealed), b"account").unwrap())
    });
}

fn argon2(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hasher = PasswordHasher::new(PasswordHashingSettings::default()).unwrap();
    let password = Password::parse_new("correct horse battery".into(), "password").unwrap();
    let hash = runtime.block_on(hasher.hash(&password)).unwrap();
    let mut group = c.benchmark_group("argon2id (m=19456 KiB, t=2, p=1)");
    group.sample_size(20);
    group.bench_function("verify", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.verify(&password, Some(hash.clone())))
                .unwrap()
        })
    });
    group.finish();
}

/// The support search on a SQLite database of 100 000 customers (made here, in a temp folder):
/// a username prefix that matches one, an e-mail domain that matches 100, and the empty query.
fn support_search(c: &mut Criterion) {
    use custadmin::db::{accounts, Database, DbConnection};
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    const CUSTOMERS: usize = 100_000;
    let folder = std::env::temp_dir().join(format!("custadmin-bench-{}", std::process::id()));
    let path = folder.join("search.sqlite3");
    // Creates the file and applies the migrations (the search indexes among them).
    drop(Database::connect(&format!("sqlite://{}", path.display()), 1).unwrap());
    let mut connection = DbConnection::establish(&path.display().to_string()).unwrap();
    for chunk in (0..CUSTOMERS).collect::<Vec<_>>().chunks(1_000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|n| {
                format!(
                    "('{id}', 'scale-{n:07}', 'scale-{n:07}', 'scale-{n:07}@c{d:03}.example', \
                     'x', 'customer', '2026-01-01 00:00:00')",
                    id = uuid::Uuid::new_v4(),
                    d = n % 1000
                )
            })
            .collect();
        connection
            .batch_execute(&format!(
                "INSERT INTO accounts (id, username, username_key, email, password_hash, role, \
                 created_at) VALUES {}",
                rows.join(", ")
            ))
            .unwrap();
    }
    let mut group = c.benchmark_group("support search (SQLite, 100 000 customers)");
    for (name, query) in [
        ("username prefix, 1 match", "scale-0054321"),
        ("domain, 100 matches, first 50", "c042.example"),
        ("empty query, first 50", ""),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| accounts::search_customers(&mut connection, black_box(query), 50).unwrap())
        });
    }
    group.finish();
    drop(connection);
    let _ = std::fs::remove_dir_all(&folder);
}

criterion_group!(
    benches,
    totp,
    tokens,
    recovery_codes,
    argon2,
    support_search
);
criterion_main!(benches);
