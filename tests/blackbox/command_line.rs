//! The operator's commands: `account create` makes support staff, `openapi` prints the
//! committed API description.

use custadmin_blackbox::{totp_code, unix_now, Customers, Launch, TempDir, PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn an_account_created_with_the_support_role_can_search_customers_and_a_customer_cannot() {
    // Arrange: a support agent made on the command line, a customer who signs up.
    let dir = TempDir::new("support");
    let launch = Launch::new(dir.path());
    let created = launch.run(
        &[
            "account",
            "create",
            "--username",
            "sam",
            "--email",
            "sam@example.com",
            "--role",
            "support",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(created.status.success(), "{created:?}");
    // Logs go to stderr: stdout is exactly the one JSON result line, for scripts.
    let lines: Vec<&str> = created.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {:?}", created.stdout);
    let result_line = lines[0];
    let printed: Value = serde_json::from_str(result_line).unwrap_or_else(|error| {
        panic!("account create printed no JSON line ({error}): {created:?}")
    });
    assert_eq!(printed["username"], "sam");
    assert_eq!(printed["role"], "support");
    assert!(printed["id"].is_string(), "{printed}");
    let server = launch.serve();
    let api = server.api();
    let customer_id = api
        .register_customer("carol", Some("carol@example.com"))
        .await;

    // Act: the agent signs in (the trailing newline was not part of the password), is sent to
    // switch two-factor on before the desk opens, and does.
    let support_token = api.access_token("sam").await;
    let account = api.account(&support_token).await;
    let before_enrolment = api.search_customers(&support_token, "query=caro").await;
    let enrolment = api.enroll_two_factor(&support_token, json!({})).await;
    let secret = enrolment.assert_status(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    api.confirm_two_factor(
        &support_token,
        json!({"code": totp_code(&secret, unix_now())}),
    )
    .await
    .assert_status(200);
    let search = api.search_customers(&support_token, "query=caro").await;
    let customer_token = api.access_token("carol").await;
    let customer_search = api.search_customers(&customer_token, "query=caro").await;

    // Assert
    before_enrolment.assert_problem(403, "two_factor_required");
    let account = account.assert_status(200);
    assert_eq!(account["role"], "support");
    assert_eq!(account["id"], printed["id"]);
    let customers = search.assert_status(200)["customers"].as_array().unwrap();
    let carol = customers
        .iter()
        .find(|customer| customer["username"] == "carol")
        .unwrap_or_else(|| panic!("carol is not in {customers:?}"));
    assert_eq!(carol["id"], customer_id.as_str());
    assert_eq!(carol["email"], "carol@example.com");
    assert_eq!(carol["two_factor_enabled"], false);
    customer_search.assert_problem(403, "forbidden");
}

#[test]
fn account_create_refuses_a_password_that_is_too_easy_to_guess() {
    // Arrange
    let dir = TempDir::new("weak-password");
    let launch = Launch::new(dir.path());
    let create = |username: &str, password: &str| {
        launch.run(
            &["account", "create", "--username", username],
            Some(&format!("{password}\n")),
        )
    };

    // Act
    let common = create("sam", "password1");
    let personal = create("quillbertson", "quillbertson2024");
    let strong = create("quillbertson", PASSWORD);

    // Assert: the operator hears why, and nothing is made of a refused password.
    assert!(!common.status.success(), "{common:?}");
    assert!(common.stderr.contains("too easy to guess"), "{common:?}");
    assert!(common.stdout.is_empty(), "{common:?}");
    assert!(!personal.status.success(), "{personal:?}");
    assert!(strong.status.success(), "{strong:?}");
}

#[test]
fn the_openapi_command_prints_exactly_the_committed_openapi_yaml() {
    // Arrange
    let committed_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let committed = std::fs::read_to_string(&committed_path)
        .unwrap_or_else(|error| panic!("{}: {error}", committed_path.display()));
    let dir = TempDir::new("openapi");

    // Act
    let finished = Launch::new(dir.path()).run(&["openapi"], None);

    // Assert
    assert!(finished.status.success(), "{finished:?}");
    assert!(
        finished.stdout == committed,
        "`custadmin openapi` differs from {} (regenerate it with `custadmin openapi > openapi.yaml`)",
        committed_path.display()
    );
}
