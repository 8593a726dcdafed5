//! A relying party registered with custadmin's OpenID Connect provider, and the rules its
//! redirect URIs follow.

use chrono::{DateTime, Utc};

use super::InvalidInput;

/// How a client wants its ID tokens signed (`id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlgorithm {
    Rs256,
    EdDsa,
}

impl IdTokenAlgorithm {
    pub const ALL: [Self; 2] = [Self::Rs256, Self::EdDsa];

    /// The JOSE name, as in the header and the discovery document.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The JOSE name, exactly (JOSE names are case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == s)
    }
}

/// A registered client. Its secret (confidential clients only) never leaves the database
/// except as a hash: it is not part of this type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    /// The `client_id`.
    pub id: String,
    /// Shown to customers on the consent screen and in "Apps with access".
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Every sign-in for this client needs a second factor (acr at least mfa).
    pub require_two_factor: bool,
    /// A customer without a second factor is offered to set one up rather than refused.
    pub offer_two_factor_setup: bool,
    pub id_token_algorithm: IdTokenAlgorithm,
    /// Has no secret: proves itself with PKCE alone (a native or browser app).
    pub is_public: bool,
    pub created_at: DateTime<Utc>,
}

impl OidcClient {
    /// Exactly as registered (OAuth 2.1: no prefix or pattern matching).
    pub fn allows_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|allowed| allowed == uri)
    }

    pub fn allows_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|allowed| allowed == uri)
    }
}

/// The longest redirect URI accepted.
pub const MAX_REDIRECT_URI_CHARS: usize = 2000;

/// A redirect URI a client may register: absolute, without a fragment or credentials; `https`,
/// or `http` only to a loopback host (`localhost`, `127.0.0.1`, `[::1]`: a developer's or a
/// native app's own listener), or, for a public client, a private-use scheme in reverse
/// domain form (`com.example.app:/callback`, RFC 8252 §7.1). Answers the URI as given: it is
/// compared byte for byte later.
pub fn parse_redirect_uri(
    field: &'static str,
    uri: &str,
    public_client: bool,
) -> Result<String, InvalidInput> {
    let refuse = |why: &str| InvalidInput::field(field, format!("{uri:?}: {why}"));
    if uri.is_empty() || uri.chars().count() > MAX_REDIRECT_URI_CHARS {
        return Err(refuse("a redirect URI is 1 to 2000 characters"));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse("a redirect URI has no spaces or control characters"));
    }
    let parsed = url::Url::parse(uri).map_err(|_| refuse("not an absolute URI"))?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(refuse("a redirect URI cannot have a fragment (#...)"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse(
            "a redirect URI cannot carry a user name or password",
        ));
    }
    match parsed.scheme() {
        "https" => {
            if parsed.host_str().map_or(true, str::is_empty) {
                return Err(refuse("an https redirect URI names a host"));
            }
        }
        "http" => {
            let loopback = matches!(
                parsed.host(),
                Some(url::Host::Domain("localhost"))
                    | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                    | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
            );
            if !loopback {
                return Err(refuse(
                    "http is only for loopback hosts (localhost, 127.0.0.1, [::1]); use https",
                ));
            }
        }
        scheme if is_private_use_scheme(scheme) => {
            if !public_client {
                return Err(refuse(
                    "a private-use scheme is for native apps, which are public clients (--public)",
                ));
            }
        }
        _ => {
            return Err(refuse(
                "use https, http to a loopback host, or (for a native public client) a private-use scheme like com.example.app",
            ))
        }
    }
    Ok(uri.to_string())
}

/// A reverse-domain scheme (`com.example.app`): has a dot, so it is never `javascript`,
/// `data`, `file` or another scheme with a meaning of its own.
fn is_private_use_scheme(scheme: &str) -> bool {
    scheme.contains('.') && scheme.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OidcClient {
        OidcClient {
            id: "ca_x".into(),
            name: "Forum".into(),
            redirect_uris: vec!["https://forum.example.com/cb".into()],
            post_logout_redirect_uris: vec!["https://forum.example.com/bye".into()],
            require_two_factor: false,
            offer_two_factor_setup: false,
            id_token_algorithm: IdTokenAlgorithm::Rs256,
            is_public: false,
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let client = client();
        assert!(client.allows_redirect_uri("https://forum.example.com/cb"));
        for other in [
            "https://forum.example.com/cb/",
            "https://forum.example.com/cb?x=1",
            "https://FORUM.example.com/cb",
            "https://forum.example.com/c",
            "https://forum.example.com/bye",
            "",
        ] {
            assert!(!client.allows_redirect_uri(other), "{other}");
        }
        assert!(client.allows_post_logout_redirect_uri("https://forum.example.com/bye"));
        assert!(!client.allows_post_logout_redirect_uri("https://forum.example.com/cb"));
    }

    #[test]
    fn https_loopback_http_and_native_schemes_are_the_redirect_uris_allowed() {
        for (uri, public) in [
            ("https://forum.example.com/cb", false),
            ("https://forum.example.com:8443/cb?tenant=1", false),
            ("http://localhost:3000/cb", false),
            ("http://127.0.0.1:53121/cb", true),
            ("http://[::1]/cb", true),
            ("com.example.app:/oauth2redirect", true),
        ] {
            assert_eq!(
                parse_redirect_uri("redirect_uri", uri, public).unwrap(),
                uri
            );
        }
        for (uri, public, why) in [
            ("http://forum.example.com/cb", false, "loopback"),
            ("http://localhost.example.com/cb", false, "loopback"),
            ("https://forum.example.com/cb#top", false, "fragment"),
            ("https://forum.example.com/cb#", false, "fragment"),
            ("https://user:pw@forum.example.com/cb", false, "password"),
            ("/cb", false, "absolute"),
            ("forum.example.com/cb", false, "absolute"),
            ("javascript:alert(1)", true, "private-use"),
            ("data:text/html,hi", true, "private-use"),
            ("file:///etc/passwd", true, "private-use"),
            ("com.example.app:/cb", false, "public"),
            ("https://forum.example.com/a b", false, "spaces"),
            ("", false, "1 to 2000"),
        ] {
            let error = parse_redirect_uri("redirect_uri", uri, public)
                .unwrap_err()
                .to_string();
            assert!(error.contains(why), "{uri}: {error}");
        }
        let long = format!("https://forum.example.com/{}", "a".repeat(2000));
        assert!(parse_redirect_uri("redirect_uri", &long, false).is_err());
    }
}
