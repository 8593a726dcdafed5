//! The OpenID Provider's discovery document (OpenID Connect Discovery 1.0), as the
//! `openidconnect` crate's [`ProviderMetadata`] types: what this provider does, and where.
//!
//! Core's metadata has no field for `revocation_endpoint` (RFC 8414),
//! `code_challenge_methods_supported` (RFC 8414), `authorization_response_iss_parameter_supported`
//! (RFC 9207) or `prompt_values_supported` (Initiating User Registration 1.0): they are the
//! additional metadata below; `end_session_endpoint` is the crate's own
//! [`LogoutProviderMetadata`].

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, AuthenticationContextClass, EndSessionUrl, IssuerUrl,
    JsonWebKeySetUrl, LanguageTag, LogoutProviderMetadata, PkceCodeChallengeMethod,
    ProviderMetadata, ResponseTypes, RevocationUrl, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use super::error::ServiceError;
use crate::auth::oidc_tokens::{ACR_HARDWARE_KEY, ACR_MFA, ACR_PASSWORD};

/// Where the protocol endpoints are, under the issuer (the public URL).
pub const AUTHORIZATION_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const REVOCATION_PATH: &str = "/oauth2/revoke";
pub const END_SESSION_PATH: &str = "/oauth2/logout";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The scopes a client may ask for; others are dropped from a request.
pub const SCOPES_SUPPORTED: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// The claims ID tokens and UserInfo may carry.
pub const CLAIMS_SUPPORTED: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "azp",
    "preferred_username",
    "locale",
    "email",
    "email_verified",
];
pub const UI_LOCALES_SUPPORTED: [&str; 2] = ["en", "cs"];

/// The discovery metadata Core's [`ProviderMetadata`] has no field for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtraProviderMetadata {
    pub revocation_endpoint: RevocationUrl,
    pub revocation_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    pub code_challenge_methods_supported: Vec<PkceCodeChallengeMethod>,
    pub authorization_response_iss_parameter_supported: bool,
    pub prompt_values_supported: Vec<CoreAuthPrompt>,
}

impl AdditionalProviderMetadata for ExtraProviderMetadata {}

/// Core's provider metadata with RP-initiated logout's and [`ExtraProviderMetadata`].
pub type CustadminProviderMetadata = ProviderMetadata<
    LogoutProviderMetadata<ExtraProviderMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The discovery document of the provider whose issuer is `issuer` (the public URL).
pub fn provider_metadata(issuer: &str) -> Result<CustadminProviderMetadata, ServiceError> {
    let base = issuer.trim_end_matches('/');
    let at = |path: &str| format!("{base}{path}");
    let invalid = |error: openidconnect::url::ParseError| {
        ServiceError::internal(format!(
            "the public URL {issuer:?} makes no endpoint URL: {error}"
        ))
    };
    let client_auth_methods = vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
        CoreClientAuthMethod::None,
    ];
    let extra = ExtraProviderMetadata {
        revocation_endpoint: RevocationUrl::new(at(REVOCATION_PATH)).map_err(invalid)?,
        revocation_endpoint_auth_methods_supported: client_auth_methods.clone(),
        code_challenge_methods_supported: vec![PkceCodeChallengeMethod::new("S256".into())],
        authorization_response_iss_parameter_supported: true,
        prompt_values_supported: vec![
            CoreAuthPrompt::None,
            CoreAuthPrompt::Login,
            CoreAuthPrompt::Consent,
        ],
    };
    let metadata = CustadminProviderMetadata::new(
        IssuerUrl::new(issuer.to_string()).map_err(invalid)?,
        AuthUrl::new(at(AUTHORIZATION_PATH)).map_err(invalid)?,
        JsonWebKeySetUrl::new(at(JWKS_PATH)).map_err(invalid)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ],
        LogoutProviderMetadata {
            end_session_endpoint: Some(EndSessionUrl::new(at(END_SESSION_PATH)).map_err(invalid)?),
            additional_metadata: extra,
        },
    )
    .set_token_endpoint(Some(TokenUrl::new(at(TOKEN_PATH)).map_err(invalid)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(at(USERINFO_PATH)).map_err(invalid)?))
    .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
    .set_grant_types_supported(Some(vec![
        CoreGrantType::AuthorizationCode,
        CoreGrantType::RefreshToken,
    ]))
    .set_scopes_supported(Some(
        SCOPES_SUPPORTED
            .iter()
            .map(|scope| Scope::new(scope.to_string()))
            .collect(),
    ))
    .set_token_endpoint_auth_methods_supported(Some(client_auth_methods))
    .set_claims_supported(Some(
        CLAIMS_SUPPORTED
            .iter()
            .map(|claim| CoreClaimName::new(claim.to_string()))
            .collect(),
    ))
    .set_acr_values_supported(Some(
        [ACR_PASSWORD, ACR_MFA, ACR_HARDWARE_KEY]
            .iter()
            .map(|acr| AuthenticationContextClass::new(acr.to_string()))
            .collect(),
    ))
    .set_ui_locales_supported(Some(
        UI_LOCALES_SUPPORTED
            .iter()
            .map(|tag| LanguageTag::new(tag.to_string()))
            .collect(),
    ))
    .set_claims_parameter_supported(Some(false))
    .set_request_parameter_supported(Some(false))
    .set_request_uri_parameter_supported(Some(false));
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_the_endpoints_under_the_issuer_and_what_is_supported() {
        let document =
            serde_json::to_value(provider_metadata("https://id.example.com").unwrap()).unwrap();
        assert_eq!(document["issuer"], "https://id.example.com");
        for (field, path) in [
            ("authorization_endpoint", "/oauth2/authorize"),
            ("token_endpoint", "/oauth2/token"),
            ("userinfo_endpoint", "/oauth2/userinfo"),
            ("revocation_endpoint", "/oauth2/revoke"),
            ("end_session_endpoint", "/oauth2/logout"),
            ("jwks_uri", "/.well-known/jwks.json"),
        ] {
            assert_eq!(
                document[field],
                format!("https://id.example.com{path}"),
                "{field}"
            );
        }
        let list = |field: &str| document[field].clone();
        assert_eq!(
            list("response_types_supported"),
            serde_json::json!(["code"])
        );
        assert_eq!(
            list("response_modes_supported"),
            serde_json::json!(["query"])
        );
        assert_eq!(
            list("id_token_signing_alg_values_supported"),
            serde_json::json!(["RS256", "EdDSA"])
        );
        assert_eq!(
            list("token_endpoint_auth_methods_supported"),
            serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(
            list("revocation_endpoint_auth_methods_supported"),
            list("token_endpoint_auth_methods_supported")
        );
        assert_eq!(
            list("code_challenge_methods_supported"),
            serde_json::json!(["S256"])
        );
        assert_eq!(
            list("prompt_values_supported"),
            serde_json::json!(["none", "login", "consent"])
        );
        assert_eq!(list("authorization_response_iss_parameter_supported"), true);
        assert_eq!(list("request_uri_parameter_supported"), false);
        // A trailing slash on the public URL makes no double slash.
        let document =
            serde_json::to_value(provider_metadata("http://localhost:8080/").unwrap()).unwrap();
        assert_eq!(
            document["token_endpoint"],
            "http://localhost:8080/oauth2/token"
        );
    }
}
