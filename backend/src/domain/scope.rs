use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an API token may do. Customers may grant `account:read`; support agents also the
/// support scopes. No scope reaches password, factor, session, device or token management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    /// `GET /account`, `/account/events`, `/account/sessions`.
    #[serde(rename = "account:read")]
    AccountRead,
    /// The support desk's search and a customer's events.
    #[serde(rename = "support:read")]
    SupportRead,
    /// Support resets and unlocks.
    #[serde(rename = "support:reset")]
    SupportReset,
}

impl Scope {
    pub const ALL: [Self; 3] = [Self::AccountRead, Self::SupportRead, Self::SupportReset];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountRead => "account:read",
            Self::SupportRead => "support:read",
            Self::SupportReset => "support:reset",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    /// Scopes only support staff may hold.
    pub fn is_support(self) -> bool {
        matches!(self, Self::SupportRead | Self::SupportReset)
    }
}
