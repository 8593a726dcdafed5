//! What every layer shares: input types that validate once when parsed (code past the HTTP
//! edge only sees valid values), the records use cases hand to routes, where a request came
//! from, and the clock. Nothing here speaks HTTP or SQL.

mod api_token;
mod brand;
pub mod clock;
mod email;
mod event;
mod event_kind;
mod ip_network;
mod label;
mod language;
pub mod oidc;
pub mod oidc_client;
mod passkey;
mod password;
mod recovery_code;
mod request_origin;
mod role;
mod scope;
mod second_factor_method;
mod totp_code;
mod user_agent;
mod username;

pub use api_token::ApiToken;
pub use brand::{BrandColor, Logo, LogoFormat, MAX_LOGO_BYTES};
pub use email::Email;
pub use event::Event;
pub use event_kind::EventKind;
pub use ip_network::{client_network, network_contains, parse_ip_network, TrustedProxies};
pub use label::Label;
pub use language::Language;
pub use passkey::{credential_id_text, StoredPasskey};
pub use password::Password;
pub use recovery_code::RecoveryCode;
pub use request_origin::RequestOrigin;
pub use role::Role;
pub use scope::Scope;
pub use second_factor_method::SecondFactorMethod;
pub use totp_code::TotpCode;
pub use user_agent::{device_name, rough_user_agent, DeviceName};
pub use username::Username;

/// Input that does not parse into a domain type. Plain data: the HTTP edge decides how to
/// answer it (`error.rs` maps it to a `422` problem).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    /// A field's value breaks its rule; `message` says which, for the person who sent it.
    #[error("{message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("the code must be six digits")]
    CodeFormat,
    #[error("the recovery code must look like xxxxx-xxxxx")]
    RecoveryCodeFormat,
}

impl InvalidInput {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Field {
            field,
            message: message.into(),
        }
    }
}
