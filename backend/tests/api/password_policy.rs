//! New passwords as NIST SP 800-63B asks: normalised (NFKC), hard to guess for this account
//! (zxcvbn), and not known from breaches, checked against a local fake of the k-anonymity
//! range API that each test starts and scripts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{
    session_from, spawn_app_with, spawn_postgres_app_with, Backend, TestApp, PASSWORD,
};
use crate::on_both_databases;

/// Runs each test on both databases with a fake range API configured (and a short timeout,
/// so the test of a hanging service waits 300 ms, not the 2 s of production).
macro_rules! on_both_databases_with_range {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let range = FakeRange::start().await;
                    let app = spawn_app_with(Backend::Sqlite, &range.settings()).await;
                    super::$name(app, range).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let range = FakeRange::start().await;
                    match spawn_postgres_app_with(&range.settings()).await {
                        Some(app) => super::$name(app, range).await,
                        None => eprintln!("skipped: TEST_DATABASE_URL not set"),
                    }
                }
            }
        )*
    };
}

on_both_databases!(
    sign_up_refuses_a_guessable_password_and_says_why_in_keys,
    passwords_are_compared_in_their_normalised_form,
    without_a_range_api_configured_nothing_is_asked,
);

on_both_databases_with_range!(
    sign_up_refuses_a_breached_password_and_sends_only_five_characters,
    padding_lines_are_no_hit,
    a_service_that_fails_or_hangs_lets_the_password_through_and_is_counted,
    a_password_change_is_checked_too,
    a_password_reset_is_checked_too_and_keeps_its_link,
);

const BREACHED: &str = "Tr0ub4dor&3 horse battery";
const PADDED_ONLY: &str = "marigold quillbert lantern";

/// How the fake answers a range.
#[derive(Clone)]
enum Answer {
    /// `200` with this body.
    Range(String),
    /// This status and no body.
    Status(u16),
    /// Never answers: the client's timeout must end it.
    Hang,
}

/// What the fake was asked: the path and the `Add-Padding` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Asked {
    path: String,
    add_padding: Option<String>,
}

/// A range API on a local port: answers scripted per five-character prefix, an empty range
/// for the rest, and remembers every request.
struct FakeRange {
    url: String,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    asked: Arc<Mutex<Vec<Asked>>>,
}

fn sha1_hex(password: &str) -> String {
    data_encoding::HEXUPPER.encode(&Sha1::digest(password.as_bytes()))
}

impl FakeRange {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let asked: Arc<Mutex<Vec<Asked>>> = Arc::default();
        let (answers_for_server, asked_for_server) = (answers.clone(), asked.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (answers, asked) = (answers_for_server.clone(), asked_for_server.clone());
                tokio::spawn(serve_one(socket, answers, asked));
            }
        });
        Self {
            url,
            answers,
            asked,
        }
    }

    fn settings(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("CUSTADMIN_BREACHED_PASSWORDS_URL", self.url.as_str()),
            ("CUSTADMIN_BREACHED_PASSWORDS_TIMEOUT_MS", "300"),
        ]
    }

    /// Scripts the answer for the range `password` falls in.
    fn answer(&self, password: &str, answer: Answer) {
        let prefix = sha1_hex(password)[..5].to_string();
        self.answers.lock().unwrap().insert(prefix, answer);
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }
}

/// A padded range that lists `password` `count` times, among padding and other suffixes.
fn range_listing(password: &str, count: u64) -> String {
    let suffix = &sha1_hex(password)[5..];
    format!(
        "0018A45C4D1DEF81644B54AB7F969B88D65:10\r\n\
         00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n\
         {}:{count}\r\n\
         011053FD0102E94D6AE2F8B83D76FAF94F6:0\r\n",
        suffix.to_lowercase()
    )
}

async fn serve_one(
    mut socket: tokio::net::TcpStream,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    asked: Arc<Mutex<Vec<Asked>>>,
) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_string();
    let add_padding = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("add-padding")
            .then(|| value.trim().to_string())
    });
    asked.lock().unwrap().push(Asked {
        path: path.clone(),
        add_padding,
    });
    let prefix = path.trim_start_matches("/range/").to_string();
    let answer = answers.lock().unwrap().get(&prefix).cloned();
    let (status, body) = match answer {
        Some(Answer::Hang) => {
            // Held open until the test ends; the server's timeout gives up long before.
            std::future::pending::<()>().await;
            return;
        }
        Some(Answer::Status(status)) => (status, String::new()),
        Some(Answer::Range(body)) => (200, body),
        None => (200, String::new()),
    };
    let response = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

fn unavailable_count(app: &TestApp) -> u64 {
    app.state
        .breached_passwords
        .as_ref()
        .expect("a range API configured")
        .unavailable_count()
}

async fn sign_up_refuses_a_guessable_password_and_says_why_in_keys(app: TestApp) {
    let common = app
        .api
        .register(json!({"username": "ursula", "password": "password1"}))
        .await;
    common.assert_problem(422, "password_too_weak");
    assert_eq!(common.body["field"], "password");
    assert_eq!(common.body["feedback"]["warning"], "common_password");
    assert!(common.body["feedback"]["suggestions"]
        .as_array()
        .unwrap()
        .contains(&json!("add_another_word")));
    // Strong for anyone else, weak for the account whose name it leans on.
    let personal = app
        .api
        .register(json!({"username": "quillbertson", "password": "quillbertson2024"}))
        .await;
    personal.assert_problem(422, "password_too_weak");
    assert_eq!(
        personal.body["feedback"]["warning"],
        "contains_personal_info"
    );
    let by_address = app
        .api
        .register(json!({
            "username": "qbert",
            "password": "quillbertson2024",
            "email": "zephyrine.quillbertson@example.com",
        }))
        .await;
    by_address.assert_problem(422, "password_too_weak");
    app.api
        .register(json!({"username": "someone", "password": "quillbertson2024"}))
        .await
        .assert_status(201);
    // Nothing was created for the refused ones.
    app.api
        .login("quillbertson", "quillbertson2024")
        .await
        .assert_problem(401, "invalid_credentials");
    // A long passphrase is welcome: 128 characters and more.
    let long = "horse ".repeat(30) + "staple battery correct";
    assert!(long.chars().count() > 128);
    app.api
        .register(json!({"username": "longwinded", "password": long}))
        .await
        .assert_status(201);
}

async fn passwords_are_compared_in_their_normalised_form(app: TestApp) {
    // Set with the ligature "ﬁ" and a combining accent; typed later with plain letters and
    // the precomposed "é": the same password.
    app.api
        .register(json!({"username": "fiona", "password": "ﬁsh cafe\u{301} lantern"}))
        .await
        .assert_status(201);
    let reply = app.api.login("fiona", "fish caf\u{e9} lantern").await;
    assert_eq!(reply.body["status"], "authenticated", "{}", reply.body);
}

async fn without_a_range_api_configured_nothing_is_asked(app: TestApp) {
    assert!(app.state.breached_passwords.is_none());
    app.api
        .register(json!({"username": "ulrich", "password": BREACHED}))
        .await
        .assert_status(201);
}

async fn sign_up_refuses_a_breached_password_and_sends_only_five_characters(
    app: TestApp,
    range: FakeRange,
) {
    range.answer(BREACHED, Answer::Range(range_listing(BREACHED, 3_861_493)));
    let reply = app
        .api
        .register(json!({"username": "bertha", "password": BREACHED}))
        .await;
    reply.assert_problem(422, "password_breached");
    assert_eq!(reply.body["field"], "password");
    let asked = range.asked();
    assert_eq!(
        asked,
        [Asked {
            path: format!("/range/{}", &sha1_hex(BREACHED)[..5]),
            add_padding: Some("true".into()),
        }]
    );
    // A guessable password is refused before anything is asked.
    app.api
        .register(json!({"username": "bertha", "password": "password1"}))
        .await
        .assert_problem(422, "password_too_weak");
    assert_eq!(range.asked().len(), 1);
    app.api
        .register(json!({"username": "bertha", "password": PASSWORD}))
        .await
        .assert_status(201);
    assert_eq!(unavailable_count(&app), 0);
}

async fn padding_lines_are_no_hit(app: TestApp, range: FakeRange) {
    range.answer(PADDED_ONLY, Answer::Range(range_listing(PADDED_ONLY, 0)));
    app.api
        .register(json!({"username": "petra", "password": PADDED_ONLY}))
        .await
        .assert_status(201);
    assert_eq!(range.asked().len(), 1);
    assert_eq!(unavailable_count(&app), 0);
}

async fn a_service_that_fails_or_hangs_lets_the_password_through_and_is_counted(
    app: TestApp,
    range: FakeRange,
) {
    let cases = [
        ("failing", "lantern marigold quill one", Answer::Status(500)),
        ("hanging", "lantern marigold quill two", Answer::Hang),
        (
            "garbled",
            "lantern marigold quill three",
            Answer::Range("<html>maintenance</html>".into()),
        ),
    ];
    for (count, (username, password, answer)) in cases.into_iter().enumerate() {
        range.answer(password, answer);
        let started = std::time::Instant::now();
        app.api
            .register(json!({"username": username, "password": password}))
            .await
            .assert_status(201);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{username}: the timeout bounds the wait"
        );
        assert_eq!(unavailable_count(&app), count as u64 + 1, "{username}");
    }
}

async fn a_password_change_is_checked_too(app: TestApp, range: FakeRange) {
    let session = app.signed_in_customer("carmen").await;
    let change = |new: &str| {
        app.api.change_password(
            &session.access_token,
            json!({"current_password": PASSWORD, "new_password": new}),
        )
    };
    let weak = change("carmen2024").await;
    weak.assert_problem(422, "password_too_weak");
    assert_eq!(weak.body["field"], "new_password");
    assert_eq!(weak.body["feedback"]["warning"], "contains_personal_info");
    range.answer(BREACHED, Answer::Range(range_listing(BREACHED, 12)));
    let breached = change(BREACHED).await;
    breached.assert_problem(422, "password_breached");
    assert_eq!(breached.body["field"], "new_password");
    // Nothing changed: the old password still signs in.
    assert_eq!(
        app.api.login("carmen", PASSWORD).await.body["status"],
        "authenticated"
    );
    change(PADDED_ONLY).await.assert_status(204);
    assert_eq!(
        app.api.login("carmen", PADDED_ONLY).await.body["status"],
        "authenticated"
    );
}

async fn a_password_reset_is_checked_too_and_keeps_its_link(app: TestApp, range: FakeRange) {
    let session = app.signed_in_customer("rosa").await;
    let id = app.account_id(&session).await;
    app.verify_address(&id, "rosa@example.com").await;
    app.mails().await;
    app.api
        .request_password_reset(json!({"login": "rosa"}))
        .await
        .assert_status(202);
    let mails = crate::email::mails_within_two_seconds(&app, 1).await;
    let token = mails[0].link_token();
    let confirm = |password: &str| {
        app.api
            .confirm_password_reset(json!({"token": token, "new_password": password}))
    };
    range.answer(BREACHED, Answer::Range(range_listing(BREACHED, 7)));
    let breached = confirm(BREACHED).await;
    breached.assert_problem(422, "password_breached");
    assert_eq!(breached.body["field"], "new_password");
    confirm("rosa@example.com")
        .await
        .assert_problem(422, "password_too_weak");
    // The refusals did not use the link up.
    confirm(PADDED_ONLY).await.assert_status(204);
    let fresh = session_from(&app.api.login("rosa", PADDED_ONLY).await);
    assert!(!fresh.access_token.is_empty());
}
