//! Every endpoint's method and path, written once. `every_path_in_openapi_yaml_has_an_endpoint`
//! fails when `openapi.yaml` gains an operation this list (and so the client) lacks.

use reqwest::Method;

/// One operation of the API: its method and its path (`{id}` where the path has one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
}

impl Endpoint {
    pub fn method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).expect("an HTTP method")
    }
}

const fn endpoint(method: &'static str, path: &'static str) -> Endpoint {
    Endpoint { method, path }
}

pub const JWKS: Endpoint = endpoint("GET", "/.well-known/jwks.json");
pub const AUTHORIZE: Endpoint = endpoint("GET", "/oauth2/authorize");
pub const AUTHORIZE_POST: Endpoint = endpoint("POST", "/oauth2/authorize");
pub const OIDC_LOGOUT: Endpoint = endpoint("GET", "/oauth2/logout");
pub const OIDC_LOGOUT_POST: Endpoint = endpoint("POST", "/oauth2/logout");
pub const OIDC_REVOKE: Endpoint = endpoint("POST", "/oauth2/revoke");
pub const OIDC_TOKEN: Endpoint = endpoint("POST", "/oauth2/token");
pub const USERINFO: Endpoint = endpoint("GET", "/oauth2/userinfo");
pub const USERINFO_POST: Endpoint = endpoint("POST", "/oauth2/userinfo");
pub const OPENID_CONFIGURATION: Endpoint = endpoint("GET", "/.well-known/openid-configuration");
pub const ACCOUNT: Endpoint = endpoint("GET", "/api/v1/account");
pub const UPDATE_ACCOUNT: Endpoint = endpoint("PATCH", "/api/v1/account");
pub const APPS: Endpoint = endpoint("GET", "/api/v1/account/apps");
pub const REMOVE_APP: Endpoint = endpoint("DELETE", "/api/v1/account/apps/{client_id}");
pub const API_TOKENS: Endpoint = endpoint("GET", "/api/v1/account/api-tokens");
pub const CREATE_API_TOKEN: Endpoint = endpoint("POST", "/api/v1/account/api-tokens");
pub const REVOKE_API_TOKEN: Endpoint = endpoint("DELETE", "/api/v1/account/api-tokens/{id}");
pub const DEVICES: Endpoint = endpoint("GET", "/api/v1/account/devices");
pub const FORGET_DEVICE: Endpoint = endpoint("DELETE", "/api/v1/account/devices/{id}");
pub const CHANGE_EMAIL: Endpoint = endpoint("POST", "/api/v1/account/email");
pub const EVENTS: Endpoint = endpoint("GET", "/api/v1/account/events");
pub const PASSKEYS: Endpoint = endpoint("GET", "/api/v1/account/passkeys");
pub const FINISH_PASSKEY_REGISTRATION: Endpoint =
    endpoint("POST", "/api/v1/account/passkeys/register/finish");
pub const START_PASSKEY_REGISTRATION: Endpoint =
    endpoint("POST", "/api/v1/account/passkeys/register/start");
pub const REMOVE_PASSKEY: Endpoint = endpoint("DELETE", "/api/v1/account/passkeys/{id}");
pub const RENAME_PASSKEY: Endpoint = endpoint("PATCH", "/api/v1/account/passkeys/{id}");
pub const CHANGE_PASSWORD: Endpoint = endpoint("POST", "/api/v1/account/password");
pub const SESSIONS: Endpoint = endpoint("GET", "/api/v1/account/sessions");
pub const REVOKE_OTHER_SESSIONS: Endpoint =
    endpoint("POST", "/api/v1/account/sessions/revoke-others");
pub const END_SESSION: Endpoint = endpoint("DELETE", "/api/v1/account/sessions/{id}");
pub const CONFIRM_TWO_FACTOR: Endpoint = endpoint("POST", "/api/v1/account/two-factor/confirm");
pub const DISABLE_TWO_FACTOR: Endpoint = endpoint("POST", "/api/v1/account/two-factor/disable");
pub const ENROLL_TWO_FACTOR: Endpoint = endpoint("POST", "/api/v1/account/two-factor/enroll");
pub const REGENERATE_RECOVERY_CODES: Endpoint =
    endpoint("POST", "/api/v1/account/two-factor/recovery-codes");
pub const REAUTHENTICATION_OPTIONS: Endpoint = endpoint("POST", "/api/v1/account/webauthn/options");
pub const VERIFY_EMAIL: Endpoint = endpoint("POST", "/api/v1/auth/email/verify");
pub const LOG_IN: Endpoint = endpoint("POST", "/api/v1/auth/login");
pub const LOG_OUT: Endpoint = endpoint("POST", "/api/v1/auth/logout");
pub const REPORT_NOT_ME: Endpoint = endpoint("POST", "/api/v1/auth/not-me");
pub const VERIFY_OTP: Endpoint = endpoint("POST", "/api/v1/auth/otp");
pub const SIGN_IN_WITH_PASSKEY: Endpoint = endpoint("POST", "/api/v1/auth/passkey");
pub const PASSWORDLESS_OPTIONS: Endpoint = endpoint("POST", "/api/v1/auth/passkey/options");
pub const REQUEST_PASSWORD_RESET: Endpoint = endpoint("POST", "/api/v1/auth/password-reset");
pub const CONFIRM_PASSWORD_RESET: Endpoint =
    endpoint("POST", "/api/v1/auth/password-reset/confirm");
pub const PASSWORD_RESET_OPTIONS: Endpoint =
    endpoint("POST", "/api/v1/auth/password-reset/webauthn/options");
pub const REFRESH: Endpoint = endpoint("POST", "/api/v1/auth/refresh");
pub const REGISTER: Endpoint = endpoint("POST", "/api/v1/auth/register");
pub const SIGN_IN_OPTIONS: Endpoint = endpoint("POST", "/api/v1/auth/webauthn/options");
pub const BRAND_FILE: Endpoint = endpoint("GET", "/api/v1/brand/{file}");
pub const PUBLIC_SETTINGS: Endpoint = endpoint("GET", "/api/v1/config");
pub const HEALTH: Endpoint = endpoint("GET", "/api/v1/health");
pub const LIVENESS: Endpoint = endpoint("GET", "/api/v1/health/live");
pub const READINESS: Endpoint = endpoint("GET", "/api/v1/health/ready");
pub const OPENAPI: Endpoint = endpoint("GET", "/api/v1/openapi.json");
pub const AUTHORIZATION_REQUEST: Endpoint =
    endpoint("GET", "/api/v1/oidc/authorization-requests/{id}");
pub const APPROVE_AUTHORIZATION_REQUEST: Endpoint =
    endpoint("POST", "/api/v1/oidc/authorization-requests/{id}/approve");
pub const DENY_AUTHORIZATION_REQUEST: Endpoint =
    endpoint("POST", "/api/v1/oidc/authorization-requests/{id}/deny");
pub const SEARCH_CUSTOMERS: Endpoint = endpoint("GET", "/api/v1/support/customers");
pub const CUSTOMER_APPS: Endpoint = endpoint("GET", "/api/v1/support/customers/{id}/apps");
pub const CUSTOMER_EVENTS: Endpoint = endpoint("GET", "/api/v1/support/customers/{id}/events");
pub const REQUIRE_CUSTOMER_TWO_FACTOR: Endpoint =
    endpoint("POST", "/api/v1/support/customers/{id}/require-two-factor");
pub const LIFT_CUSTOMER_TWO_FACTOR_REQUIREMENT: Endpoint = endpoint(
    "POST",
    "/api/v1/support/customers/{id}/require-two-factor/lift",
);
pub const RESET_CUSTOMER_TWO_FACTOR: Endpoint =
    endpoint("POST", "/api/v1/support/customers/{id}/two-factor/reset");
pub const UNLOCK_CUSTOMER: Endpoint = endpoint("POST", "/api/v1/support/customers/{id}/unlock");

/// All of them, in `openapi.yaml`'s order.
pub const ALL: &[Endpoint] = &[
    JWKS,
    OPENID_CONFIGURATION,
    ACCOUNT,
    UPDATE_ACCOUNT,
    APPS,
    REMOVE_APP,
    API_TOKENS,
    CREATE_API_TOKEN,
    REVOKE_API_TOKEN,
    DEVICES,
    FORGET_DEVICE,
    CHANGE_EMAIL,
    EVENTS,
    PASSKEYS,
    FINISH_PASSKEY_REGISTRATION,
    START_PASSKEY_REGISTRATION,
    REMOVE_PASSKEY,
    RENAME_PASSKEY,
    CHANGE_PASSWORD,
    SESSIONS,
    REVOKE_OTHER_SESSIONS,
    END_SESSION,
    CONFIRM_TWO_FACTOR,
    DISABLE_TWO_FACTOR,
    ENROLL_TWO_FACTOR,
    REGENERATE_RECOVERY_CODES,
    REAUTHENTICATION_OPTIONS,
    VERIFY_EMAIL,
    LOG_IN,
    LOG_OUT,
    REPORT_NOT_ME,
    VERIFY_OTP,
    SIGN_IN_WITH_PASSKEY,
    PASSWORDLESS_OPTIONS,
    REQUEST_PASSWORD_RESET,
    CONFIRM_PASSWORD_RESET,
    PASSWORD_RESET_OPTIONS,
    REFRESH,
    REGISTER,
    SIGN_IN_OPTIONS,
    BRAND_FILE,
    PUBLIC_SETTINGS,
    HEALTH,
    LIVENESS,
    READINESS,
    OPENAPI,
    AUTHORIZATION_REQUEST,
    APPROVE_AUTHORIZATION_REQUEST,
    DENY_AUTHORIZATION_REQUEST,
    SEARCH_CUSTOMERS,
    CUSTOMER_APPS,
    CUSTOMER_EVENTS,
    REQUIRE_CUSTOMER_TWO_FACTOR,
    LIFT_CUSTOMER_TWO_FACTOR_REQUIREMENT,
    RESET_CUSTOMER_TWO_FACTOR,
    UNLOCK_CUSTOMER,
    AUTHORIZE,
    AUTHORIZE_POST,
    OIDC_LOGOUT,
    OIDC_LOGOUT_POST,
    OIDC_REVOKE,
    OIDC_TOKEN,
    USERINFO,
    USERINFO_POST,
];

#[cfg(test)]
mod tests {
    use super::ALL;

    /// The operations `openapi.yaml` declares, read from its text: a path is a line indented
    /// two spaces that starts with `/` and ends with `:`, and its methods the lines below it
    /// indented four.
    fn operations_in_openapi_yaml() -> Vec<(String, String)> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
            .expect("openapi.yaml at the workspace root");
        let mut path = None;
        let mut operations = Vec::new();
        let mut in_paths = false;
        for line in text.lines() {
            if !line.starts_with(' ') {
                in_paths = line == "paths:";
                continue;
            }
            if !in_paths {
                continue;
            }
            if let Some(rest) = line.strip_prefix("  /") {
                path = Some(format!(
                    "/{}",
                    rest.trim_end_matches(':').trim_matches('\'')
                ));
            } else if let (Some(path), Some(method)) = (&path, line.strip_prefix("    ")) {
                let method = method.trim_end_matches(':');
                if ["get", "post", "put", "patch", "delete"].contains(&method) {
                    operations.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        operations
    }

    #[test]
    fn every_path_in_openapi_yaml_has_an_endpoint() {
        let declared = operations_in_openapi_yaml();
        assert!(declared.len() > 30, "read {} operations", declared.len());
        for (method, path) in &declared {
            assert!(
                ALL.iter().any(|e| e.method == method && e.path == path),
                "{method} {path} is in openapi.yaml but has no client method"
            );
        }
        for endpoint in ALL {
            assert!(
                declared
                    .iter()
                    .any(|(method, path)| endpoint.method == method && endpoint.path == path),
                "{endpoint:?} is not in openapi.yaml"
            );
        }
    }
}
