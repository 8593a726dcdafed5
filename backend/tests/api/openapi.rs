//! The committed `openapi.yaml` is what the code generates, and what the server serves.

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
    let served = app.api.openapi().await;
    let generated = serde_json::to_value(custadmin::openapi::document()).unwrap();
    assert_eq!(served.assert_ok(), &generated);
    // Every endpoint the client knows, so the served document and the client agree.
    for endpoint in custadmin_client::endpoints::ALL {
        let method = endpoint.method.to_lowercase();
        assert!(
            served.body["paths"][endpoint.path][&method].is_object(),
            "{endpoint:?} documented"
        );
    }
}

#[test]
fn problem_codes_and_event_kinds_are_enums_clients_can_check_exhaustively() {
    let document: serde_json::Value =
        serde_json::from_str(&custadmin::openapi::document().to_json().unwrap()).unwrap();
    let schemas = &document["components"]["schemas"];
    let codes: Vec<&str> = schemas["ProblemCode"]["enum"]
        .as_array()
        .expect("ProblemCode is an enum")
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    for code in [
        "invalid_credentials",
        "too_many_attempts",
        "challenge_exhausted",
        "two_factor_required",
        "csrf_check_failed",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    assert_eq!(
        schemas["Problem"]["properties"]["code"]["$ref"],
        "#/components/schemas/ProblemCode"
    );
    let kinds = schemas["EventKind"]["enum"]
        .as_array()
        .expect("EventKind is an enum");
    assert_eq!(kinds.len(), custadmin::domain::EventKind::ALL.len());
}
