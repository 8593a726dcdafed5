use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use super::{network_contains, Scope};

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The networks it may be used from; `None`: any.
    pub allowed_networks: Option<Vec<IpNet>>,
}

impl ApiToken {
    /// Whether a call from `client` (unknown: `None`) may use the token.
    pub fn allows_client(&self, client: Option<IpAddr>) -> bool {
        let Some(networks) = &self.allowed_networks else {
            return true;
        };
        client.is_some_and(|client| {
            networks
                .iter()
                .any(|network| network_contains(network, client))
        })
    }
}
