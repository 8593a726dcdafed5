//! Stand-in for branch `oidc-keys`'s `OidcClient` (the interface fixed in the design), so the
//! SPA-facing API compiles before that branch is merged; replaced by theirs at the merge.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct OidcClient {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub require_two_factor: bool,
    pub offer_two_factor_setup: bool,
    pub is_public: bool,
    pub created_at: DateTime<Utc>,
}

impl OidcClient {
    pub fn allows_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    pub fn allows_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }
}
