//! Behaviour at the edge of the server: client addresses behind proxies, and overload.

use custadmin_client::{endpoints, Method};

use crate::helpers::{session_from, spawn_app_with, Backend, Reply, NOBODY, PASSWORD};

async fn last_event_ip(app: &crate::helpers::TestApp, token: &str) -> String {
    let events = app.api.events_page(token, "limit=1").await;
    events.body["events"][0]["ip"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_used_only_when_the_peer_is_a_trusted_proxy() {
    let trusting = spawn_app_with(
        Backend::Sqlite,
        &[("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32")],
    )
    .await;
    trusting.register("alice").await;
    let login = |app: &crate::helpers::TestApp| {
        app.api
            .login("alice", PASSWORD)
            .from_ip("198.51.100.7, 203.0.113.9")
    };
    let body = login(&trusting).await.body;
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(last_event_ip(&trusting, &token).await, "203.0.113.9");

    let direct = crate::helpers::spawn_app(Backend::Sqlite).await;
    direct.register("alice").await;
    let body = login(&direct).await.body;
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        last_event_ip(&direct, &token).await,
        "127.0.0.1",
        "a client cannot choose its address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_beyond_the_hashing_queue_gets_503_with_retry_after() {
    // Real cost hashing, one slot and no queue: parallel logins beyond one are refused at once.
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("CUSTADMIN_ARGON2_MEMORY_KIB", "19456"),
            ("CUSTADMIN_ARGON2_ITERATIONS", "2"),
            ("CUSTADMIN_HASHING_CONCURRENCY", "1"),
            ("CUSTADMIN_HASHING_QUEUE_LIMIT", "0"),
        ],
    )
    .await;
    app.register("bob").await;
    let replies = futures::future::join_all((0..8).map(|_| app.api.login("bob", PASSWORD))).await;
    let busy: Vec<_> = replies.iter().filter(|reply| reply.status == 503).collect();
    assert!(!busy.is_empty(), "some logins are refused");
    for reply in &busy {
        reply.assert_problem(503, "server_busy");
        assert_eq!(reply.retry_after(), Some(1));
    }
    assert!(replies.iter().any(|reply| reply.status == 200));
    // Refused logins are not counted as failures: the account is not locked.
    session_from(&app.api.login("bob", PASSWORD).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allow_listed_origins_may_call_the_api_from_a_browser() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[(
            "CUSTADMIN_CORS_ORIGINS",
            "https://portal.example, https://helpdesk.example/",
        )],
    )
    .await;
    let session = app.signed_in_customer("cora").await;
    let allow_origin = |response: &Reply| {
        response
            .headers
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_string())
    };
    let preflight = app
        .api
        .send(Method::OPTIONS, endpoints::ACCOUNT.path, NOBODY, None)
        .header("origin", "https://portal.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(
        allow_origin(&preflight).as_deref(),
        Some("https://portal.example")
    );

    let listed = app
        .api
        .account(&session.access_token)
        .header("origin", "https://helpdesk.example")
        .await;
    assert_eq!(
        allow_origin(&listed).as_deref(),
        Some("https://helpdesk.example")
    );

    let stranger = app
        .api
        .account(&session.access_token)
        .header("origin", "https://evil.example")
        .await;
    assert_eq!(
        allow_origin(&stranger),
        None,
        "the browser keeps the answer from evil"
    );

    // The API description and the public settings: any origin may read (the keys too, as
    // `*`: see the OpenID Connect tests).
    for read in [app.api.public_settings(), app.api.openapi()] {
        let request = read.describe();
        let public = read.header("origin", "https://anyone.example").await;
        assert_eq!(
            allow_origin(&public).as_deref(),
            Some("https://anyone.example"),
            "{request}"
        );
    }
    // The SPA's own requests are unaffected.
    let own = app
        .api
        .login("cora", PASSWORD)
        .header("origin", &app.address)
        .await;
    assert_eq!(own.status, 200);
}
