use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an account may do: customers manage themselves, support staff help customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Support,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Support => "support",
        }
    }

    pub fn from_db(text: &str) -> Option<Self> {
        match text {
            "customer" => Some(Self::Customer),
            "support" => Some(Self::Support),
            _ => None,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_db(text)
            .ok_or_else(|| format!("unknown role {text:?}: expected customer or support"))
    }
}
