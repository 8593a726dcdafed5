//! What custadmin as an OpenID Connect provider keeps: scopes, the second factor a relying
//! party may require, authorization requests waiting for the customer, codes, grants and
//! consents. Parsed once here; the protocol's words (`acr`, `amr`) stay those of the specs.

use chrono::{DateTime, Utc};

/// RFC 8176 methods, as sessions record them (`auth::tokens` names them for tokens; the
/// domain may not import it).
const AMR_OTP: &str = "otp";
const AMR_HARDWARE_KEY: &str = "hwk";
/// RFC 8176 "multiple-factor authentication"; in a custadmin session, a remembered device.
const AMR_MULTIPLE_FACTORS: &str = "mfa";

/// The scopes this provider knows, in the order they are stored and shown.
pub const KNOWN_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A normalised set of known scopes: each once, in [`KNOWN_SCOPES`]' order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OidcScopes(Vec<&'static str>);

impl OidcScopes {
    /// The known scopes among a space-separated list; unknown ones are dropped (OIDC Core
    /// 3.1.2.1: scope values that are not understood are ignored).
    pub fn parse_lenient(text: &str) -> Self {
        let asked: Vec<&str> = text.split([' ', '\t', '\n', '\r']).collect();
        Self(
            KNOWN_SCOPES
                .into_iter()
                .filter(|scope| asked.contains(scope))
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_openid(&self) -> bool {
        self.contains("openid")
    }

    pub fn allows_refresh(&self) -> bool {
        self.contains("offline_access")
    }

    /// Whether every scope of `other` is one of these.
    pub fn covers(&self, other: &Self) -> bool {
        other.0.iter().all(|scope| self.0.contains(scope))
    }

    /// These and `other`'s together.
    pub fn union(&self, other: &Self) -> Self {
        Self(
            KNOWN_SCOPES
                .into_iter()
                .filter(|scope| self.contains(scope) || other.contains(scope))
                .collect(),
        )
    }

    pub fn as_slice(&self) -> &[&'static str] {
        &self.0
    }

    /// The stored and published form: space-separated.
    pub fn to_text(&self) -> String {
        self.0.join(" ")
    }
}

pub const ACR_VALUE_PASSWORD: &str = "urn:custadmin:acr:pwd";
pub const ACR_VALUE_MFA: &str = "urn:custadmin:acr:mfa";
pub const ACR_VALUE_HARDWARE_KEY: &str = "urn:custadmin:acr:hwk";

/// The authentication a relying party requires beyond the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AcrRequirement {
    /// A second factor proved (a code or a passkey; a remembered device does not count).
    Mfa,
    /// A passkey proved.
    HardwareKey,
}

impl AcrRequirement {
    pub fn as_acr(self) -> &'static str {
        match self {
            Self::Mfa => ACR_VALUE_MFA,
            Self::HardwareKey => ACR_VALUE_HARDWARE_KEY,
        }
    }

    /// The short name the SPA sees.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mfa => "mfa",
            Self::HardwareKey => "hwk",
        }
    }

    pub fn from_acr(value: &str) -> Option<Self> {
        match value {
            ACR_VALUE_MFA => Some(Self::Mfa),
            ACR_VALUE_HARDWARE_KEY => Some(Self::HardwareKey),
            _ => None,
        }
    }

    /// The strongest of ours among space-separated `acr_values`; others are ignored.
    pub fn strongest_requested(acr_values: &str) -> Option<Self> {
        acr_values
            .split_whitespace()
            .filter_map(Self::from_acr)
            .max()
    }

    pub fn satisfied_by(self, amr: &[String]) -> bool {
        match self {
            Self::Mfa => amr
                .iter()
                .any(|method| method == AMR_OTP || method == AMR_HARDWARE_KEY),
            Self::HardwareKey => amr.iter().any(|method| method == AMR_HARDWARE_KEY),
        }
    }
}

/// The `acr` a sign-in with these methods achieved.
pub fn acr_of(amr: &[String]) -> &'static str {
    if AcrRequirement::HardwareKey.satisfied_by(amr) {
        ACR_VALUE_HARDWARE_KEY
    } else if AcrRequirement::Mfa.satisfied_by(amr) {
        ACR_VALUE_MFA
    } else {
        ACR_VALUE_PASSWORD
    }
}

/// The ID token's `amr` (RFC 8176): the sign-in's methods and a step-up's, with `mfa` exactly
/// when a second factor (a code or a passkey) was proved. A session's own `mfa` says that a
/// remembered device stood in for the second factor, which proves nothing to a relying
/// party, so it is left out.
pub fn id_token_amr(session_amr: &[String], stepped_up_with: Option<&str>) -> Vec<String> {
    let mut amr: Vec<String> = session_amr
        .iter()
        .filter(|method| *method != AMR_MULTIPLE_FACTORS)
        .cloned()
        .collect();
    if let Some(method) = stepped_up_with {
        if !amr.iter().any(|known| known == method) {
            amr.push(method.to_string());
        }
    }
    if AcrRequirement::Mfa.satisfied_by(&amr) {
        amr.push(AMR_MULTIPLE_FACTORS.to_string());
    }
    amr
}

/// `prompt` values (OIDC Core 3.1.2.1) this provider honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

impl Prompt {
    /// `None` for an unknown value or `none` beside another.
    pub fn parse(text: &str) -> Option<Self> {
        let mut prompt = Self::default();
        for value in text.split_whitespace() {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                // Accounts are not chosen between here: one signed-in customer at a time.
                "select_account" => {}
                _ => return None,
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return None;
        }
        Some(prompt)
    }

    pub fn to_text(self) -> Option<String> {
        let values: Vec<&str> = [
            (self.none, "none"),
            (self.login, "login"),
            (self.consent, "consent"),
        ]
        .into_iter()
        .filter_map(|(set, value)| set.then_some(value))
        .collect();
        (!values.is_empty()).then(|| values.join(" "))
    }
}

/// An authorization request waiting for the customer in the SPA.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: OidcScopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr: Option<AcrRequirement>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A single-use code, as issued to the relying party's redirect URI.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub account_id: String,
    pub scopes: OidcScopes,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub session_id: String,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub acr: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a redeemed code opened: the relying party's access to the account.
#[derive(Debug, Clone)]
pub struct OidcGrant {
    pub id: String,
    pub client_id: String,
    pub account_id: String,
    pub scopes: OidcScopes,
    pub session_id: String,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub acr: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl OidcGrant {
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// What a customer allowed a relying party to see.
#[derive(Debug, Clone)]
pub struct OidcConsent {
    pub account_id: String,
    pub client_id: String,
    pub scopes: OidcScopes,
    pub granted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_known_ones_once_in_a_fixed_order() {
        let scopes = OidcScopes::parse_lenient("email openid   admin openid offline_access");
        assert_eq!(scopes.to_text(), "openid email offline_access");
        assert!(scopes.covers(&OidcScopes::parse_lenient("openid email")));
        assert!(!scopes.covers(&OidcScopes::parse_lenient("openid profile")));
        assert!(!OidcScopes::parse_lenient("profile").is_openid());
    }

    #[test]
    fn the_strongest_known_acr_wins_and_a_remembered_device_is_no_second_factor() {
        assert_eq!(
            AcrRequirement::strongest_requested(
                "urn:x urn:custadmin:acr:mfa urn:custadmin:acr:hwk"
            ),
            Some(AcrRequirement::HardwareKey)
        );
        assert_eq!(
            AcrRequirement::strongest_requested("urn:custadmin:acr:pwd"),
            None
        );
        let amr = |methods: &[&str]| methods.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        assert_eq!(acr_of(&amr(&["pwd", "mfa"])), ACR_VALUE_PASSWORD);
        assert_eq!(acr_of(&amr(&["pwd", "otp"])), ACR_VALUE_MFA);
        assert_eq!(acr_of(&amr(&["hwk", "user"])), ACR_VALUE_HARDWARE_KEY);
    }

    #[test]
    fn the_id_token_says_mfa_only_for_a_second_factor_proved_never_for_a_remembered_device() {
        let amr = |methods: &[&str]| methods.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        assert_eq!(id_token_amr(&amr(&["pwd", "mfa"]), None), amr(&["pwd"]));
        assert_eq!(
            id_token_amr(&amr(&["pwd", "mfa"]), Some("otp")),
            amr(&["pwd", "otp", "mfa"])
        );
        assert_eq!(
            id_token_amr(&amr(&["pwd", "otp"]), None),
            amr(&["pwd", "otp", "mfa"])
        );
        assert_eq!(
            id_token_amr(&amr(&["hwk", "user"]), Some("hwk")),
            amr(&["hwk", "user", "mfa"])
        );
        assert_eq!(id_token_amr(&amr(&["pwd"]), None), amr(&["pwd"]));
    }

    #[test]
    fn prompt_none_stands_alone_and_unknown_values_are_refused() {
        assert_eq!(Prompt::parse("none login"), None);
        assert_eq!(Prompt::parse("bogus"), None);
        let prompt = Prompt::parse("login consent").unwrap();
        assert!(prompt.login && prompt.consent && !prompt.none);
        assert_eq!(prompt.to_text().as_deref(), Some("login consent"));
        assert_eq!(Prompt::parse("").unwrap().to_text(), None);
    }
}
