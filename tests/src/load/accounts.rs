//! Test accounts: registering many of them (retrying `503` as the server asks) and signing in.

use std::time::Duration;

use serde_json::json;

use super::http::Client;

pub const PASSWORD: &str = custadmin_blackbox::PASSWORD;

/// A run-unique prefix, so that attaching twice to one server never collides.
pub fn username(prefix: &str, run: &str, index: usize) -> String {
    format!("{prefix}-{run}-{index}")
}

pub fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Registers all `names`, `workers` at a time; each registration hashes a password, so this is
/// paced by the server's hashing pool. Panics on anything but `201` after retries.
pub async fn register_all(http: &Client, names: &[String], workers: usize) {
    let chunks: Vec<Vec<String>> = (0..workers)
        .map(|worker| {
            names
                .iter()
                .skip(worker)
                .step_by(workers)
                .cloned()
                .collect()
        })
        .collect();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let http = http.clone();
            tokio::spawn(async move {
                for name in chunk {
                    register(&http, &name).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a registration worker");
    }
}

async fn register(http: &Client, name: &str) {
    for _ in 0..30 {
        let outcome = http
            .register(json!({"username": name, "password": PASSWORD}))
            .outcome()
            .await;
        match outcome {
            Ok(answer) if answer.status == 201 => return,
            Ok(answer) if answer.status == 503 => {
                let wait = answer.retry_after().unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            Ok(answer) => panic!(
                "registering {name}: {} {}",
                answer.status.as_u16(),
                answer.text
            ),
            Err(error) => panic!("registering {name}: {error}"),
        }
    }
    panic!("registering {name}: still busy after 30 tries");
}

/// Tokens from one successful login.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// Signs in (correct password); `None` unless the answer is `200 authenticated`.
pub async fn sign_in(http: &Client, name: &str) -> Option<Tokens> {
    let answer = http.login(name, PASSWORD).outcome().await.ok()?;
    tokens_of(&answer)
}

pub fn tokens_of(answer: &super::http::Reply) -> Option<Tokens> {
    if answer.status != 200 {
        return None;
    }
    Some(Tokens {
        access: answer.string_field("access_token")?,
        refresh: answer.string_field("refresh_token")?,
    })
}
