//! Whether this instance can do its work, for load balancers.

use super::AppState;

/// What the health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// The database answered a trivial query.
    pub database_reachable: bool,
}

impl Health {
    /// Serving makes sense only when every dependency answers.
    pub fn is_ok(&self) -> bool {
        self.database_reachable
    }
}

pub async fn check(state: &AppState) -> Health {
    Health {
        database_reachable: state.database.ping().await.is_ok(),
    }
}
