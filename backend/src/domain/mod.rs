//! Input types that validate once when parsed; code past the HTTP edge only sees valid values.

mod email;
mod ip_network;
mod password;
mod recovery_code;
mod role;
mod totp_code;
mod username;

pub use email::Email;
pub use ip_network::{IpNetwork, TrustedProxies};
pub use password::Password;
pub use recovery_code::RecoveryCode;
pub use role::Role;
pub use totp_code::TotpCode;
pub use username::Username;
