use serde::Serialize;
use utoipa::ToSchema;

/// A way an account can pass the second step of a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A six-digit code from an authenticator app.
    Totp,
    /// A passkey or security key (`POST /auth/webauthn/options`).
    Webauthn,
    /// One of the ten single-use recovery codes.
    RecoveryCode,
}

impl SecondFactorMethod {
    /// The methods of an account with these factors, in the order the SPA offers them.
    pub fn of(totp: bool, passkeys: bool) -> Vec<Self> {
        let mut methods = Vec::with_capacity(3);
        if passkeys {
            methods.push(Self::Webauthn);
        }
        if totp {
            methods.push(Self::Totp);
        }
        if totp || passkeys {
            methods.push(Self::RecoveryCode);
        }
        methods
    }
}
