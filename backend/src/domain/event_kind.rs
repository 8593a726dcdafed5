use serde::Serialize;
use utoipa::ToSchema;

/// What happened to an account, as its security log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    OtpFailed,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    TwoFactorResetBySupport,
    PasswordChanged,
    AccountLocked,
    AccountUnlockedBySupport,
    PasswordReset,
    EmailChanged,
    EmailVerified,
    SessionRevoked,
    DeviceForgotten,
    ApiTokenCreated,
    ApiTokenRevoked,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeyUsed,
    TwoFactorRequiredBySupport,
    TwoFactorRequirementLiftedBySupport,

    /// The holder followed a "this wasn't me" link from a notice and confirmed it.
    NotMeReported,
    /// A call with an API token from outside the networks it is bound to (refused).
    ApiTokenNetworkRefused,
    /// The holder allowed a relying party (an app signing in with custadmin) to see the
    /// account, or more of it; the detail names the app.
    AppAccessGranted,
    /// The holder removed an app's access; the detail names the app.
    AppAccessRevoked,
}

impl EventKind {
    pub const ALL: [Self; 27] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::OtpFailed,
        Self::TwoFactorEnabled,
        Self::TwoFactorDisabled,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::TwoFactorResetBySupport,
        Self::PasswordChanged,
        Self::AccountLocked,
        Self::AccountUnlockedBySupport,
        Self::PasswordReset,
        Self::EmailChanged,
        Self::EmailVerified,
        Self::SessionRevoked,
        Self::DeviceForgotten,
        Self::ApiTokenCreated,
        Self::ApiTokenRevoked,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeyUsed,
        Self::TwoFactorRequiredBySupport,
        Self::TwoFactorRequirementLiftedBySupport,
        Self::NotMeReported,
        Self::ApiTokenNetworkRefused,
        Self::AppAccessGranted,
        Self::AppAccessRevoked,
    ];

    /// The stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::OtpFailed => "otp_failed",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::TwoFactorResetBySupport => "two_factor_reset_by_support",
            Self::PasswordChanged => "password_changed",
            Self::AccountLocked => "account_locked",
            Self::AccountUnlockedBySupport => "account_unlocked_by_support",
            Self::PasswordReset => "password_reset",
            Self::EmailChanged => "email_changed",
            Self::EmailVerified => "email_verified",
            Self::SessionRevoked => "session_revoked",
            Self::DeviceForgotten => "device_forgotten",
            Self::ApiTokenCreated => "api_token_created",
            Self::ApiTokenRevoked => "api_token_revoked",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeyUsed => "passkey_used",
            Self::TwoFactorRequiredBySupport => "two_factor_required_by_support",
            Self::TwoFactorRequirementLiftedBySupport => "two_factor_requirement_lifted_by_support",
            Self::NotMeReported => "not_me_reported",
            Self::ApiTokenNetworkRefused => "api_token_network_refused",
            Self::AppAccessGranted => "app_access_granted",
            Self::AppAccessRevoked => "app_access_revoked",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_name_is_the_published_one_and_parses_back() {
        for kind in EventKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("nonsense"), None);
    }
}
