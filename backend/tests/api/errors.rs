//! Bad input of every kind gets a clear problem document, never a 500, HTML or an empty body.

use custadmin_client::{endpoints, Method};
use serde_json::json;

use crate::helpers::{Backend, Reply, TestApp, NOBODY};

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    app.api
        .send(method, path, NOBODY, None)
        .raw_body(content_type, body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_get_problem_documents() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let json = Some("application/json");
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (json, b"{\"username\":".to_vec(), 400, "malformed_request"),
        (json, b"not json".to_vec(), 400, "malformed_request"),
        (json, b"".to_vec(), 400, "malformed_request"),
        (
            json,
            b"{\"username\": 5, \"password\": \"x\"}".to_vec(),
            422,
            "invalid_body",
        ),
        (
            json,
            b"{\"username\": \"alice\"}".to_vec(),
            422,
            "invalid_body",
        ),
        (json, b"[]".to_vec(), 422, "invalid_body"),
        (
            json,
            b"{\"username\": \"a\\u0000\", \"password\": \"\xff\"}".to_vec(),
            400,
            "malformed_request",
        ),
        (
            Some("text/plain"),
            b"{}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (None, b"{}".to_vec(), 415, "unsupported_media_type"),
        (
            json,
            format!(
                "{{\"username\": \"{}\", \"password\": \"x\"}}",
                "a".repeat(20_000)
            )
            .into_bytes(),
            413,
            "payload_too_large",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let reply = raw(
            &app,
            Method::POST,
            endpoints::LOG_IN.path,
            content_type,
            body,
        )
        .await;
        reply.assert_problem(status, code);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_wrong_methods_get_problem_documents() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    app.api
        .send(Method::GET, "/api/v1/no-such-thing", NOBODY, None)
        .await
        .assert_problem(404, "not_found");
    app.api
        .send(Method::GET, "/api/elsewhere", NOBODY, None)
        .await
        .assert_problem(404, "not_found");
    let wrong_method = app
        .api
        .send(Method::GET, endpoints::LOG_IN.path, NOBODY, None)
        .await;
    wrong_method.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong_method.headers.get("allow").unwrap(), "POST");
    app.api
        .send(
            Method::DELETE,
            endpoints::RESET_CUSTOMER_TWO_FACTOR
                .path
                .replace("{id}", "some-id"),
            NOBODY,
            None,
        )
        .await
        .assert_problem(405, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_strings_and_tokens_get_problem_documents() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let session = app.signed_in_customer("quinn").await;
    let token = Some(session.access_token.as_str());
    app.api
        .events_page(token, "limit=abc")
        .await
        .assert_problem(400, "invalid_query");
    app.api
        .events_page(token, "limit=0")
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .events_page(token, "limit=201")
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .events_page(token, "before=-1")
        .await
        .assert_problem(422, "validation_failed");
    for bad_token in [
        "",
        "garbage",
        "a.b.c",
        &format!("{}x", session.access_token),
    ] {
        let reply = app.api.account(bad_token).await;
        reply.assert_problem(401, "invalid_token");
        assert!(reply.headers.get("www-authenticate").is_some());
    }
    let no_header = app.api.account(NOBODY).await;
    no_header.assert_problem(401, "invalid_token");
    let basic = app
        .api
        .account(NOBODY)
        .header("authorization", "Basic YWxpY2U6cGFzcw==")
        .await;
    assert_eq!(basic.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_bodies_must_still_be_json_when_present() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let session = app.signed_in_customer("rita").await;
    let enroll = |content_type: &'static str, body: &'static str| {
        app.api
            .call(endpoints::ENROLL_TWO_FACTOR, &session.access_token, None)
            .raw_body(Some(content_type), body)
    };
    assert_eq!(enroll("text/plain", "hello").await.status, 415);
    assert_eq!(enroll("application/json", "{").await.status, 400);
    assert_eq!(
        enroll("application/json", "{\"password\": 1}").await.status,
        422
    );
    assert_eq!(enroll("application/json", "").await.status, 200);
    let json_body = app.api.refresh(json!(42)).await;
    json_body.assert_problem(422, "invalid_body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_settings_tell_clients_whether_sign_up_is_open() {
    let open = crate::helpers::spawn_app(Backend::Sqlite).await;
    assert_eq!(
        open.api.public_settings().await.assert_ok(),
        &json!({"signup_enabled": true, "issuer": "custadmin", "support_contact": null, "site_name": "custadmin", "logo_url": null, "brand_color": null})
    );
    let closed = crate::helpers::spawn_app_with(
        Backend::Sqlite,
        &[
            ("CUSTADMIN_SIGNUP", "false"),
            ("CUSTADMIN_ISSUER", "Example Hosting"),
            ("CUSTADMIN_SUPPORT_CONTACT", " mailto:help@example.com "),
        ],
    )
    .await;
    assert_eq!(
        closed.api.public_settings().await.assert_ok(),
        &json!({"signup_enabled": false, "issuer": "Example Hosting", "support_contact": "mailto:help@example.com", "site_name": "Example Hosting", "logo_url": null, "brand_color": null})
    );
    closed
        .api
        .register(json!({"username": "alice", "password": crate::helpers::PASSWORD}))
        .await
        .assert_problem(403, "signup_disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let reply = app.api.health().await;
    assert_eq!(
        reply.assert_ok(),
        &json!({"status": "ok", "database": "ok"})
    );
}

crate::on_both_databases!(
    text_no_database_column_can_hold_is_refused_before_it_reaches_one,
    every_answer_to_an_authenticated_request_is_not_stored,
);

/// PostgreSQL text cannot hold NUL; SQLite can, so only the PostgreSQL run shows a 500 here.
async fn text_no_database_column_can_hold_is_refused_before_it_reaches_one(app: TestApp) {
    app.api
        .login("\u{0}alice", "whatever password")
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .register(json!({"username": "al\u{0}ice", "password": "correct horse battery"}))
        .await
        .assert_problem(422, "validation_failed");
    app.api
        .log_in(json!({"username": "alice", "password": "x\u{0}y", "device_token": "\u{0}"}))
        .await
        .assert_problem(401, "invalid_credentials");
    app.api
        .refresh(json!("\u{0}"))
        .await
        .assert_problem(401, "invalid_refresh_token");
    let session = app.signed_in_customer("nul-tester").await;
    let token = Some(session.access_token.as_str());
    // An id that is no UUID names no account, and never reaches the database.
    app.api
        .customer_events(token, "%00", "")
        .await
        .assert_problem(404, "not_found");
    app.api
        .events_page(token, "before=%00")
        .await
        .assert_problem(400, "invalid_query");
}

async fn every_answer_to_an_authenticated_request_is_not_stored(app: TestApp) {
    let session = app.signed_in_customer("cache-tester").await;
    let token = Some(session.access_token.as_str());
    for read in [app.api.account(token), app.api.events(token)] {
        let request = read.describe();
        let reply = read.await;
        assert_eq!(
            reply
                .headers
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{request}"
        );
    }
    // Refused authenticated requests too.
    let refused = app.api.account("not-a-token").await;
    assert_eq!(refused.headers.get("cache-control").unwrap(), "no-store");
}

crate::on_both_databases!(
    liveness_and_readiness_answer_while_all_is_well,
    readiness_names_an_outbox_stuck_past_its_limit,
    readiness_names_a_database_without_this_binarys_migrations,
);

async fn liveness_and_readiness_answer_while_all_is_well(app: TestApp) {
    assert_eq!(
        app.api.liveness().await.assert_ok(),
        &json!({"status": "live"})
    );
    assert_eq!(
        app.api.readiness().await.assert_ok(),
        &json!({"status": "ready"})
    );
}

async fn readiness_names_an_outbox_stuck_past_its_limit(app: TestApp) {
    // A verification mail is queued, and no sender runs in these tests.
    app.api
        .register(json!({"username": "queued", "password": crate::helpers::PASSWORD, "email": "queued@example.com"}))
        .await
        .assert_status(201);
    app.clock.advance(chrono::TimeDelta::seconds(900));
    app.api.readiness().await.assert_ok();

    app.clock.advance(chrono::TimeDelta::seconds(2));
    let reply = app.api.readiness().await;

    reply.assert_problem(503, "not_ready");
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("not ready: outbox: the oldest unsent mail is 902 s old"),
        "{detail}"
    );
    // Only readiness: the process is alive and `/health` as it was.
    app.api.liveness().await.assert_ok();
    app.api.health().await.assert_ok();
}

async fn readiness_names_a_database_without_this_binarys_migrations(app: TestApp) {
    // As if the database were an older binary's (or restored from an old backup).
    app.state
        .database
        .run(|connection| {
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "DELETE FROM __diesel_schema_migrations WHERE version = \
                 (SELECT MAX(version) FROM __diesel_schema_migrations)",
            )
            .execute(connection)
            .map_err(custadmin::db::DbError::from)
        })
        .await
        .unwrap();

    let reply = app.api.readiness().await;

    reply.assert_problem(503, "not_ready");
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("not ready: migrations: the database lacks migrations"),
        "{detail}"
    );
}
