//! The committed `openapi.yaml` is what the code generates, and what the server serves.

use reqwest::Method;

use crate::helpers::Backend;

fn committed() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    std::fs::read_to_string(&path).expect("openapi.yaml at the repository root")
}

#[test]
fn the_committed_openapi_yaml_matches_the_code() {
    let generated = custadmin::openapi::document_yaml().unwrap();
    assert!(
        generated == committed(),
        "openapi.yaml is stale: regenerate it with `cargo run -p custadmin -- openapi > openapi.yaml`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_the_same_document() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let served = app
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let generated = serde_json::to_value(custadmin::openapi::document()).unwrap();
    assert_eq!(served.assert_ok(), &generated);
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/otp",
        "/api/v1/account/two-factor/enroll",
        "/api/v1/support/customers/{id}/two-factor/reset",
        "/.well-known/jwks.json",
    ] {
        assert!(served.body["paths"][path].is_object(), "{path} documented");
    }
}
