//! Serving: graceful shutdown with a request in flight, and the SPA next to the API.

use std::time::{Duration, Instant};

use custadmin_blackbox::{Customers, Launch, TempDir, PASSWORD};
use custadmin_client::{Method, NOBODY};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn sigterm_lets_an_in_flight_login_finish_and_exits_with_status_zero() {
    // Arrange: production-cost hashing, a registered customer, and a connection the server has
    // already accepted (it answered a first request on it).
    let dir = TempDir::new("graceful");
    let server = Launch::new(dir.path()).production_hashing().serve();
    let api = server.api();
    api.register_customer("frank", None).await;
    let address = format!("127.0.0.1:{}", server.port());
    let mut connection = TcpStream::connect(&address).await.unwrap();
    connection
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: custadmin\r\n\r\n")
        .await
        .unwrap();
    let health = read_one_response(&mut connection).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Act: start the login (all of it but the body's last byte), then SIGTERM. The server
    // must have read the request's head first: a connection whose bytes are still unread is
    // idle to it, and shutdown closes idle connections at once. Its `100 Continue` says so.
    let body = json!({"username": "frank", "password": PASSWORD}).to_string();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: custadmin\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (body_start, body_end) = body.split_at(body.len() - 1);
    connection.write_all(head.as_bytes()).await.unwrap();
    connection.flush().await.unwrap();
    let interim = read_interim_response(&mut connection).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    connection.write_all(body_start.as_bytes()).await.unwrap();
    connection.flush().await.unwrap();
    server.send_sigterm();
    // The server is shutting down once it no longer takes new connections.
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Ok(probe) = TcpStream::connect(&address).await {
        drop(probe);
        assert!(
            Instant::now() < deadline,
            "the server still takes connections 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    connection.write_all(body_end.as_bytes()).await.unwrap();
    let mut response = String::new();
    connection.read_to_string(&mut response).await.unwrap();

    // Assert: the login still got its answer, and the process ended cleanly.
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"authenticated\""), "{response}");
    let (status, stderr) = server.wait_for_exit();
    assert_eq!(status.code(), Some(0), "{status}: {stderr}");
}

/// Reads an interim response (a head without a body, such as `100 Continue`).
async fn read_interim_response(connection: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        let read = connection.read(&mut byte).await.unwrap();
        assert!(read > 0, "the connection closed early: {bytes:?}");
        bytes.push(byte[0]);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads one response with a Content-Length body from a kept-alive connection.
async fn read_one_response(connection: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = connection.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the connection closed early: {bytes:?}");
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end_of_head) = text.find("\r\n\r\n") {
            let length: usize = text[..end_of_head]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a Content-Length header");
            if bytes.len() >= end_of_head + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn the_spa_is_served_with_client_side_routes_falling_back_to_index_html_but_api_paths_never()
{
    // Arrange: a built SPA.
    let dir = TempDir::new("spa");
    let static_dir = dir.path().join("dist");
    std::fs::create_dir_all(static_dir.join("assets")).unwrap();
    let index = "<!doctype html><title>custadmin test SPA</title><div id=app></div>\n";
    let script = "console.log('custadmin test SPA');\n";
    std::fs::write(static_dir.join("index.html"), index).unwrap();
    std::fs::write(static_dir.join("assets/app.js"), script).unwrap();
    let server = Launch::new(dir.path())
        .env("CUSTADMIN_STATIC_DIR", static_dir.to_str().unwrap())
        .serve();
    let api = server.api();

    // Act
    let root = api.send(Method::GET, "/", NOBODY, None).await;
    let client_route = api
        .send(Method::GET, "/account/settings", NOBODY, None)
        .await;
    let asset = api.send(Method::GET, "/assets/app.js", NOBODY, None).await;
    let unknown_api_route = api
        .send(Method::GET, "/api/v1/no-such-thing", NOBODY, None)
        .await;
    let unknown_api_path = api.send(Method::GET, "/api/nope", NOBODY, None).await;

    // Assert
    assert_eq!(root.status, 200, "{root:?}");
    assert_eq!(root.text, index);
    assert!(root.content_type().starts_with("text/html"), "{root:?}");
    assert_eq!(client_route.status, 200, "{client_route:?}");
    assert_eq!(client_route.text, index);
    assert_eq!(asset.status, 200, "{asset:?}");
    assert_eq!(asset.text, script);
    unknown_api_route.assert_problem(404, "not_found");
    unknown_api_path.assert_problem(404, "not_found");
}
