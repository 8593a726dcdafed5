//! custadmin as an OpenID Connect provider: the authorization request and the customer's
//! answer to it in the SPA ([`authorization`]), the token endpoint ([`token`]), UserInfo
//! ([`userinfo`]), revocation ([`revocation`]), RP-initiated logout ([`logout`]) and the
//! customer's list of apps with access ([`apps`]). The relying parties themselves, the keys
//! and the tokens' signing live in `service::oidc_clients` and `auth::oidc_tokens`.

pub mod apps;
pub mod authorization;

/// How long an authorization request waits for the customer.
pub const REQUEST_LIFETIME_MINS: i64 = 30;
/// How long a code may take from the redirect to the token endpoint.
pub const CODE_LIFETIME_SECS: i64 = 60;
/// How long a refresh token lives (each use issues the next).
pub const REFRESH_TOKEN_LIFETIME_DAYS: i64 = 30;
/// The longest parameter value kept from a request (`state`, `nonce`, `login_hint`, ...).
pub const MAX_PARAMETER_CHARS: usize = 2048;

/// `uri` with these query parameters added (after any it has). `uri` is a registered
/// redirect URI, so it parses; one that does not gets them appended by hand.
pub fn with_query(uri: &str, parameters: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in parameters {
                    query.append_pair(name, value);
                }
            }
            url.to_string()
        }
        Err(_) => {
            let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(parameters.iter())
                .finish();
            let separator = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{separator}{encoded}")
        }
    }
}

/// Whether a value may be kept and echoed: not too long, no control characters (PostgreSQL
/// text cannot even hold NUL).
pub fn is_storable(value: &str) -> bool {
    value.chars().count() <= MAX_PARAMETER_CHARS && !value.chars().any(char::is_control)
}

/// A client id as it could be one of ours (looked up only then).
pub fn is_plausible_client_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 256 && !value.chars().any(char::is_control)
}

/// PKCE (RFC 7636 4.1): 43 to 128 unreserved characters, as the verifier and the S256
/// challenge (43 base64url characters) both are.
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
}

/// The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)).
pub fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s_example() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_pkce_value("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!is_pkce_value("short"));
        assert!(!is_pkce_value(&"a+".repeat(30)));
    }

    #[test]
    fn parameters_go_after_the_ones_the_uri_has() {
        assert_eq!(
            with_query(
                "https://rp.example/cb?x=1",
                &[("code", "a b"), ("state", "s")]
            ),
            "https://rp.example/cb?x=1&code=a+b&state=s"
        );
        assert_eq!(
            with_query("com.example.app:/cb", &[("error", "access_denied")]),
            "com.example.app:/cb?error=access_denied"
        );
    }
}
