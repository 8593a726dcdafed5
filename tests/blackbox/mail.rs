//! Mail through the real binary: `.eml` files without a relay, and a real SMTP server
//! (aiosmtpd from the test virtualenv, `CUSTADMIN_TEST_PYTHON`) that is down, then up; a sender
//! killed mid-send; two instances on one PostgreSQL database sending each mail once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use custadmin_blackbox::{Launch, PgDatabase, Server, TempDir, PASSWORD};
use serde_json::json;

/// A real SMTP server that keeps every mail in a maildir.
struct SmtpSink {
    child: Child,
    maildir: PathBuf,
}

impl SmtpSink {
    /// `None` (after saying so) when the test virtualenv is not configured.
    fn start(test: &str, port: u16, folder: &Path) -> Option<Self> {
        let Ok(python) = std::env::var("CUSTADMIN_TEST_PYTHON") else {
            println!("{test}: skipped: CUSTADMIN_TEST_PYTHON not set (scripts/test sets it)");
            return None;
        };
        let maildir = folder.join("maildir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, maildir })
    }

    fn mails(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits (up to `seconds`) until `count` mails arrived.
    fn wait_for(&self, count: usize, seconds: u64) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let mails = self.mails();
            if mails.len() >= count || Instant::now() >= deadline {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn sign_up(server: &Server, username: &str) {
    let reply = server
        .api()
        .register(json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com")}))
        .await;
    reply.assert_status(201);
}

fn wait_for_log(server: &Server, needle: &str, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !server.logs().iter().any(|line| line.contains(needle)) {
        assert!(
            Instant::now() < deadline,
            "no log line with {needle:?} within {seconds} s:\n{}",
            server.logs().join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn without_a_relay_every_mail_is_an_eml_file_under_the_data_folder() {
    let dir = TempDir::new("mail-files");
    let launch = Launch::new(dir.path()).env("RUST_LOG", "info");
    let server = launch.serve();
    sign_up(&server, "emma").await;
    wait_for_log(&server, "mail sent", 20);
    let folder = launch.data_dir().join("mail");
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let mail = std::fs::read_to_string(&files[0]).unwrap();
    assert!(mail.contains("To: emma@example.com"), "{mail}");
    assert!(mail.contains("verify-email?token="), "{mail}");
    let logged = server.logs().join("\n");
    assert!(
        logged.contains(&files[0].display().to_string()),
        "the path is logged"
    );
    assert!(!logged.contains("token="), "no link token in the logs");
}

#[tokio::test]
async fn a_relay_that_is_down_then_up_gets_every_mail() {
    let dir = TempDir::new("mail-retry");
    let port = free_port();
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_SMTP_URL", &format!("smtp://127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .serve();
    for name in ["fred", "gina", "hank"] {
        sign_up(&server, name).await;
    }
    wait_for_log(&server, "mail not sent; will retry", 20);
    let Some(sink) = SmtpSink::start(
        "a_relay_that_is_down_then_up_gets_every_mail",
        port,
        dir.path(),
    ) else {
        return;
    };
    let mails = sink.wait_for(3, 30);
    assert_eq!(mails.len(), 3, "every mail arrives once the relay is up");
    for name in ["fred", "gina", "hank"] {
        assert!(
            mails
                .iter()
                .any(|mail| mail.contains(&format!("{name}@example.com"))),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_sender_killed_mid_send_loses_no_mail_and_two_instances_send_each_mail_once() {
    let test = "a_sender_killed_mid_send_loses_no_mail_and_two_instances_send_each_mail_once";
    let Some(database) = PgDatabase::create_if_configured(test) else {
        return;
    };
    let dir = TempDir::new("mail-kill");
    // A relay that accepts connections and never answers: the sender hangs mid-send.
    let black_hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let black_hole_port = black_hole.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut connections = Vec::new();
        for connection in black_hole.incoming().take(8).flatten() {
            connections.push(connection);
        }
        connections
    });
    let launch = Launch::new(dir.path())
        .env("CUSTADMIN_DATABASE_URL", database.url())
        .env("CUSTADMIN_MAIL_LEASE_SECS", "2")
        .env("RUST_LOG", "info");
    let doomed = launch
        .clone()
        .env(
            "CUSTADMIN_SMTP_URL",
            &format!("smtp://127.0.0.1:{black_hole_port}"),
        )
        .serve();
    sign_up(&doomed, "ivy").await;
    sign_up(&doomed, "jack").await;
    // Wait until it has taken a mail and is stuck sending it, then kill it hard.
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-KILL", &doomed.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    drop(doomed);

    let port = free_port();
    let Some(sink) = SmtpSink::start(test, port, dir.path()) else {
        return;
    };
    let relay = format!("smtp://127.0.0.1:{port}");
    let first = launch.clone().env("CUSTADMIN_SMTP_URL", &relay).serve();
    let second = launch.clone().env("CUSTADMIN_SMTP_URL", &relay).serve();
    let after_kill = sink.wait_for(2, 30);
    assert_eq!(
        after_kill.len(),
        2,
        "the killed sender's mails are sent by the others"
    );

    // Normal operation: two instances, twenty mails, each sent exactly once.
    for n in 0..20 {
        let server = if n % 2 == 0 { &first } else { &second };
        sign_up(server, &format!("user{n}")).await;
    }
    let mails = sink.wait_for(22, 30);
    std::thread::sleep(Duration::from_secs(3));
    let mails_later = sink.mails();
    assert_eq!(mails.len(), 22);
    assert_eq!(mails_later.len(), 22, "no mail is sent twice");
    drop(held);
}
