//! The deployment files configure only settings the server knows (it refuses unknown ones, so
//! a typo there would stop every container).

use std::path::Path;

fn custadmin_variables(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("CUSTADMIN_") {
        let tail = &rest[start + "CUSTADMIN_".len()..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name.trim_end_matches('_').to_string());
        }
        rest = tail;
    }
    found
}

#[test]
fn every_setting_in_the_compose_file_and_dockerfile_is_one_the_config_knows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in ["docker-compose.yml", "Dockerfile"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let variables = custadmin_variables(&text);
        assert!(!variables.is_empty(), "{file} sets CUSTADMIN_* variables");
        for variable in variables {
            assert!(
                custadmin::config::key(&variable).is_some(),
                "{file} sets CUSTADMIN_{variable}, which the server does not know"
            );
        }
    }
}

#[test]
fn the_compose_file_runs_two_instances_behind_a_proxy_on_postgres() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let compose = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap();
    for needle in [
        "custadmin-1:",
        "custadmin-2:",
        "postgres:",
        "proxy:",
        "postgres://",
        "jwt_signing_key",
        "secret_encryption_key",
        "CUSTADMIN_TRUSTED_PROXIES",
        "healthcheck:",
        "restart: unless-stopped",
    ] {
        assert!(
            compose.contains(needle),
            "docker-compose.yml lacks {needle}"
        );
    }
    let nginx = std::fs::read_to_string(root.join("deploy/nginx.conf")).unwrap();
    assert!(nginx.contains("custadmin-1:8080") && nginx.contains("custadmin-2:8080"));
    assert!(
        nginx.contains("X-Forwarded-For $remote_addr"),
        "the proxy overwrites, not appends, the client address"
    );
}
