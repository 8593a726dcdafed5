//! The OpenID Connect provider's tokens, issued by the public URL (not `CUSTADMIN_ISSUER`,
//! which stays the `iss` of our own API tokens):
//!
//! - ID tokens (`typ: JWT`): RS256 with the RSA key ring by default, or EdDSA with the Ed25519
//!   ring for a client registered so. The payload is the `openidconnect` crate's
//!   [`IdTokenClaims`], with `sid` as its additional claim.
//! - UserInfo access tokens (RFC 9068, `typ: at+jwt`): RS256, `aud` = the client.
//!
//! Verification pins the algorithm to what the header may say for the kind (never `none` or
//! HS*), the `typ`, and a `kid` of ours; our API access tokens (EdDSA, `aud: custadmin`) never
//! pass for either kind, nor they for ours.

use std::sync::{Arc, RwLock};

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use openidconnect::core::CoreGenderClaim;
use openidconnect::{
    AccessTokenHash, AdditionalClaims, Audience, AuthenticationContextClass,
    AuthenticationMethodReference, ClientId, IdTokenClaims, IssuerUrl, Nonce, StandardClaims,
    SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::secret_box::ReloadKeys;
use crate::auth::tokens::{TokenError, TokenKeys};
/// Declared with the client that chooses it (the domain), used here to sign.
pub use crate::domain::IdTokenAlgorithm;

/// A password alone (or a passkey without user verification).
pub const ACR_PASSWORD: &str = "urn:custadmin:acr:pwd";
/// A second factor proved in this sign-in or step-up: a code or a passkey.
pub const ACR_MFA: &str = "urn:custadmin:acr:mfa";
/// A passkey or security key proved in this sign-in or step-up.
pub const ACR_HARDWARE_KEY: &str = "urn:custadmin:acr:hwk";
pub const ID_TOKEN_LIFETIME_SECS: i64 = 300;
pub const OIDC_ACCESS_TOKEN_LIFETIME_SECS: i64 = 600;
/// The `typ` of our ID tokens.
pub const ID_TOKEN_TYPE: &str = "JWT";
/// The `typ` of the UserInfo access tokens (RFC 9068).
pub const OIDC_ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// What an ID token says: who signed in, for which client, how and when.
pub struct IdTokenContent<'a> {
    /// The account id.
    pub subject: &'a str,
    pub client_id: &'a str,
    /// The authorization request's `nonce`; `None` on refresh.
    pub nonce: Option<&'a str>,
    pub auth_time: DateTime<Utc>,
    /// One of [`ACR_PASSWORD`], [`ACR_MFA`], [`ACR_HARDWARE_KEY`].
    pub acr: &'a str,
    /// RFC 8176 methods.
    pub amr: &'a [String],
    /// The custadmin session the customer approved with.
    pub session_id: &'a str,
    /// The access token issued beside it, if any: its hash goes in as `at_hash`.
    pub access_token: Option<&'a str>,
}

/// What a UserInfo access token carries.
pub struct OidcAccessContent<'a> {
    pub subject: &'a str,
    pub client_id: &'a str,
    /// Space-separated, as granted.
    pub scope: &'a str,
    pub grant_id: &'a str,
}

/// A verified UserInfo access token. Whether its grant is alive is the caller's to check.
#[derive(Debug, Clone)]
pub struct OidcAccessClaims {
    pub subject: String,
    pub client_id: String,
    pub scope: String,
    pub grant_id: String,
    pub expires_at: DateTime<Utc>,
}

/// A verified `id_token_hint`: an ID token of ours, expired or not.
#[derive(Debug, Clone)]
pub struct IdTokenHint {
    pub subject: String,
    /// Its `aud`.
    pub client_id: String,
    pub session_id: String,
    /// Its `iat`: the caller decides how old a hint may be.
    pub issued_at: DateTime<Utc>,
}

/// The ID token's claim beyond OpenID Connect Core: `sid` (Front-/Back-Channel Logout), the
/// session the customer approved with, which RP-initiated logout ends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionIdClaim {
    pub sid: String,
}

impl AdditionalClaims for SessionIdClaim {}

/// The ID token's payload.
pub type CustadminIdTokenClaims = IdTokenClaims<SessionIdClaim, CoreGenderClaim>;

/// A UserInfo access token's payload (RFC 9068; `gid` names the grant).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccessTokenClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    scope: String,
    iat: i64,
    exp: i64,
    jti: String,
    gid: String,
}

/// An RSA private key of the provider, with what the JWKS publishes of it.
#[derive(Clone)]
pub struct RsaSigningKey {
    /// PKCS#8 PEM.
    private_pem: Arc<[u8]>,
    /// Modulus and public exponent, base64url of their big-endian bytes.
    n: String,
    e: String,
    kid: String,
}

impl std::fmt::Debug for RsaSigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "RsaSigningKey(kid {}, <redacted>)", self.kid)
    }
}

/// Keys shorter than this are refused: RS256 with less is not considered safe.
const MIN_RSA_BITS: u32 = 2048;

impl RsaSigningKey {
    /// An RSA private key from PEM (PKCS#8, or PKCS#1 `RSA PRIVATE KEY`); the message says
    /// what is wrong with anything else.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let expected = "expected an RSA private key in PKCS#8 PEM";
        let key = openssl::pkey::PKey::private_key_from_pem(pem)
            .map_err(|error| format!("{expected}: {error}"))?;
        let rsa = key
            .rsa()
            .map_err(|_| format!("{expected}: this is another kind of key"))?;
        let bits = rsa.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "the RSA key has {bits} bits; at least {MIN_RSA_BITS} are needed"
            ));
        }
        if !rsa.check_key().unwrap_or(false) {
            return Err(format!("{expected}: the key is inconsistent"));
        }
        let private_pem = key
            .private_key_to_pem_pkcs8()
            .map_err(|error| format!("cannot encode the RSA key: {error}"))?;
        let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let (n, e) = (b64(rsa.n().to_vec()), b64(rsa.e().to_vec()));
        Ok(Self {
            private_pem: private_pem.into(),
            kid: rsa_thumbprint(&n, &e),
            n,
            e,
        })
    }

    /// The RFC 7638 thumbprint of the public key: the `kid` its tokens carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// RFC 7638 thumbprint of an RSA public key: stable, and changes with the key.
fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

struct RsaVerificationKey {
    kid: String,
    n: String,
    e: String,
    decoding_key: DecodingKey,
}

/// The RSA keys at one moment: the one that signs, and all that verify (it first).
struct RsaSet {
    encoding_key: EncodingKey,
    verification_keys: Vec<RsaVerificationKey>,
}

impl RsaSet {
    fn new(keys: &[RsaSigningKey]) -> Result<Self, TokenError> {
        let current = keys
            .first()
            .ok_or_else(|| TokenError::Keys("no RSA signing key".into()))?;
        let encoding_key = EncodingKey::from_rsa_pem(&current.private_pem)
            .map_err(|error| TokenError::Keys(format!("RSA signing key: {error}")))?;
        let mut verification_keys: Vec<RsaVerificationKey> = Vec::new();
        for key in keys {
            if verification_keys.iter().any(|known| known.kid == key.kid) {
                continue;
            }
            verification_keys.push(RsaVerificationKey {
                kid: key.kid.clone(),
                n: key.n.clone(),
                e: key.e.clone(),
                decoding_key: DecodingKey::from_rsa_components(&key.n, &key.e)
                    .map_err(|error| TokenError::Keys(format!("RSA verifying key: {error}")))?,
            });
        }
        Ok(Self {
            encoding_key,
            verification_keys,
        })
    }
}

/// Signs ID tokens and UserInfo access tokens with issuer = the public URL; cheap to clone,
/// shares the reloaded keys like [`TokenKeys`]. Held in `AppState` as `oidc_keys`.
#[derive(Clone)]
pub struct OidcKeys {
    rsa: Arc<RwLock<Arc<RsaSet>>>,
    /// The Ed25519 ring (shared with the API's token keys): EdDSA ID tokens.
    ed25519: TokenKeys,
    issuer: String,
    issuer_url: IssuerUrl,
    /// Asked to read the key files again when a token names an RSA `kid` these keys lack.
    reload: Option<Arc<dyn ReloadKeys>>,
}

impl OidcKeys {
    /// `rsa_keys`: the current key first, then those that only verify. `ed25519` shares the
    /// server's Ed25519 ring. `issuer`: the public URL.
    pub fn new(
        rsa_keys: &[RsaSigningKey],
        ed25519: TokenKeys,
        issuer: &str,
    ) -> Result<Self, TokenError> {
        let issuer_url = IssuerUrl::new(issuer.to_string())
            .map_err(|error| TokenError::Keys(format!("issuer {issuer:?}: {error}")))?;
        Ok(Self {
            rsa: Arc::new(RwLock::new(Arc::new(RsaSet::new(rsa_keys)?))),
            ed25519,
            issuer: issuer.to_string(),
            issuer_url,
            reload: None,
        })
    }

    /// These keys (and their Ed25519 ring), asking `reload` for the key files again on a
    /// token of an unknown `kid`.
    pub fn with_reloader(mut self, reload: Arc<dyn ReloadKeys>) -> Self {
        self.ed25519 = self.ed25519.with_reloader(reload.clone());
        self.reload = Some(reload);
        self
    }

    /// Puts other RSA keys in place for every clone (the current one first).
    pub fn replace_rsa_keys(&self, rsa_keys: &[RsaSigningKey]) -> Result<(), TokenError> {
        let set = RsaSet::new(rsa_keys)?;
        *self
            .rsa
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(set);
        Ok(())
    }

    fn rsa_keys(&self) -> Arc<RsaSet> {
        self.rsa
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The public URL: `iss` of every token here, and the discovery document's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of the RSA key that signs.
    pub fn rsa_kid(&self) -> String {
        self.rsa_keys().verification_keys[0].kid.clone()
    }

    /// The `kid`s of every RSA key that verifies, the signing key's first.
    pub fn rsa_kids(&self) -> Vec<String> {
        self.rsa_keys()
            .verification_keys
            .iter()
            .map(|key| key.kid.clone())
            .collect()
    }

    /// The JSON Web Key Set: the Ed25519 keys (API access tokens, EdDSA ID tokens), then
    /// the RSA keys (RS256 ID tokens and UserInfo access tokens).
    pub fn jwks(&self) -> serde_json::Value {
        let mut jwks = self.ed25519.jwks();
        let rsa = self.rsa_keys();
        if let Some(keys) = jwks["keys"].as_array_mut() {
            keys.extend(rsa.verification_keys.iter().map(|key| {
                serde_json::json!({
                    "kty": "RSA",
                    "n": key.n,
                    "e": key.e,
                    "kid": key.kid,
                    "alg": "RS256",
                    "use": "sig",
                })
            }));
        }
        jwks
    }

    pub fn issue_id_token(
        &self,
        content: &IdTokenContent<'_>,
        algorithm: IdTokenAlgorithm,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = CustadminIdTokenClaims::new(
            self.issuer_url.clone(),
            vec![Audience::new(content.client_id.to_string())],
            now + TimeDelta::seconds(ID_TOKEN_LIFETIME_SECS),
            now,
            StandardClaims::new(SubjectIdentifier::new(content.subject.to_string())),
            SessionIdClaim {
                sid: content.session_id.to_string(),
            },
        )
        .set_auth_time(Some(content.auth_time))
        .set_nonce(content.nonce.map(|nonce| Nonce::new(nonce.to_string())))
        .set_auth_context_ref(Some(AuthenticationContextClass::new(
            content.acr.to_string(),
        )))
        .set_auth_method_refs(Some(
            content
                .amr
                .iter()
                .map(|method| AuthenticationMethodReference::new(method.clone()))
                .collect(),
        ))
        .set_authorized_party(Some(ClientId::new(content.client_id.to_string())))
        .set_access_token_hash(
            content
                .access_token
                .map(|token| access_token_hash(token, algorithm)),
        );
        match algorithm {
            IdTokenAlgorithm::Rs256 => self.sign_rs256(ID_TOKEN_TYPE, &claims),
            IdTokenAlgorithm::EdDsa => self.ed25519.sign(ID_TOKEN_TYPE, &claims),
        }
    }

    pub fn issue_access_token(
        &self,
        content: &OidcAccessContent<'_>,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: content.subject.to_string(),
            aud: content.client_id.to_string(),
            client_id: content.client_id.to_string(),
            scope: content.scope.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + OIDC_ACCESS_TOKEN_LIFETIME_SECS,
            jti: uuid::Uuid::new_v4().to_string(),
            gid: content.grant_id.to_string(),
        };
        self.sign_rs256(OIDC_ACCESS_TOKEN_TYPE, &claims)
    }

    fn sign_rs256<T: Serialize>(&self, token_type: &str, claims: &T) -> Result<String, TokenError> {
        let keys = self.rsa_keys();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(token_type.to_string());
        header.kid = Some(keys.verification_keys[0].kid.clone());
        jsonwebtoken::encode(&header, claims, &keys.encoding_key)
            .map_err(|error| TokenError::Keys(format!("token signing failed: {error}")))
    }

    /// The RSA key of `kid`, reading the key files again first when it is unknown.
    fn rsa_decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let mut keys = self.rsa_keys();
        if !keys.verification_keys.iter().any(|key| key.kid == kid) {
            if let Some(reload) = &self.reload {
                if reload.reload_on_miss() {
                    keys = self.rsa_keys();
                }
            }
        }
        keys.verification_keys
            .iter()
            .find(|key| key.kid == kid)
            .map(|key| key.decoding_key.clone())
    }

    /// typ at+jwt, our iss, RS256 by one of our RSA keys, not expired at `now`; anything
    /// else is `InvalidAccess`.
    pub fn verify_access_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<OidcAccessClaims, TokenError> {
        let rejection = || TokenError::InvalidAccess;
        let header = jsonwebtoken::decode_header(token).map_err(|_| rejection())?;
        if header.alg != Algorithm::RS256 || header.typ.as_deref() != Some(OIDC_ACCESS_TOKEN_TYPE) {
            return Err(rejection());
        }
        let kid = header.kid.as_deref().ok_or_else(rejection)?;
        let decoding_key = self.rsa_decoding_key(kid).ok_or_else(rejection)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        // The audience is the client, checked against `client_id` below.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, &decoding_key, &validation)
            .map_err(|_| rejection())?
            .claims;
        if claims.aud != claims.client_id || claims.exp <= now.timestamp() {
            return Err(rejection());
        }
        Ok(OidcAccessClaims {
            subject: claims.sub,
            client_id: claims.client_id,
            scope: claims.scope,
            grant_id: claims.gid,
            expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or_else(rejection)?,
        })
    }

    /// An ID token of ours (RS256 or EdDSA; never none/HS*), expiry NOT checked (RP logout).
    /// Anything else is `InvalidIdToken`.
    pub fn verify_id_token_hint(&self, token: &str) -> Result<IdTokenHint, TokenError> {
        let rejection = || TokenError::InvalidIdToken;
        let header = jsonwebtoken::decode_header(token).map_err(|_| rejection())?;
        if header.typ.as_deref() != Some(ID_TOKEN_TYPE) {
            return Err(rejection());
        }
        let kid = header.kid.as_deref().ok_or_else(rejection)?;
        let decoding_key = match header.alg {
            Algorithm::RS256 => self.rsa_decoding_key(kid),
            Algorithm::EdDSA => self.ed25519.decoding_key(kid),
            _ => None,
        }
        .ok_or_else(rejection)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        // Any client's: the caller checks what the hint's audience may do.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims =
            jsonwebtoken::decode::<CustadminIdTokenClaims>(token, &decoding_key, &validation)
                .map_err(|_| rejection())?
                .claims;
        let [audience] = claims.audiences().as_slice() else {
            return Err(rejection());
        };
        let client_id = audience.as_str().to_string();
        if claims
            .authorized_party()
            .is_some_and(|party| party.as_str() != client_id)
        {
            return Err(rejection());
        }
        Ok(IdTokenHint {
            subject: claims.subject().as_str().to_string(),
            client_id,
            session_id: claims.additional_claims().sid.clone(),
            issued_at: claims.issue_time(),
        })
    }
}

/// `at_hash` (OpenID Connect Core 3.1.3.6): the left half of the access token's hash, by the
/// hash of the ID token's algorithm (SHA-256 for RS256; SHA-512 for EdDSA over Ed25519, as
/// Ed25519 itself hashes), base64url.
fn access_token_hash(access_token: &str, algorithm: IdTokenAlgorithm) -> AccessTokenHash {
    let digest = match algorithm {
        IdTokenAlgorithm::Rs256 => Sha256::digest(access_token.as_bytes()).to_vec(),
        IdTokenAlgorithm::EdDsa => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    AccessTokenHash::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jws_test_support::{b64, parts};
    use crate::domain::Role;
    use ed25519_dalek::SigningKey;
    use std::sync::OnceLock;

    const ISSUER: &str = "https://id.example.com";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// RSA keys take a moment to make: made once for every test here.
    fn rsa_key(index: usize) -> RsaSigningKey {
        static KEYS: OnceLock<Vec<RsaSigningKey>> = OnceLock::new();
        KEYS.get_or_init(|| {
            (0..3)
                .map(|_| {
                    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
                    let pem = openssl::pkey::PKey::from_rsa(rsa)
                        .unwrap()
                        .private_key_to_pem_pkcs8()
                        .unwrap();
                    RsaSigningKey::from_pem(&pem).unwrap()
                })
                .collect()
        })[index]
            .clone()
    }

    fn api_keys() -> TokenKeys {
        TokenKeys::new(&SigningKey::from_bytes(&[1; 32]), "custadmin").unwrap()
    }

    fn keys() -> OidcKeys {
        OidcKeys::new(&[rsa_key(0)], api_keys(), ISSUER).unwrap()
    }

    fn amr() -> Vec<String> {
        vec!["pwd".into(), "otp".into()]
    }

    fn id_token(keys: &OidcKeys, algorithm: IdTokenAlgorithm) -> String {
        keys.issue_id_token(
            &IdTokenContent {
                subject: "account-1",
                client_id: "ca_client",
                nonce: Some("n-0S6_WzA2Mj"),
                auth_time: now() - TimeDelta::seconds(60),
                acr: ACR_MFA,
                amr: &amr(),
                session_id: "session-1",
                access_token: None,
            },
            algorithm,
            now(),
        )
        .unwrap()
    }

    fn access_token(keys: &OidcKeys) -> String {
        keys.issue_access_token(
            &OidcAccessContent {
                subject: "account-1",
                client_id: "ca_client",
                scope: "openid email",
                grant_id: "grant-1",
            },
            now(),
        )
        .unwrap()
    }

    #[test]
    fn algorithms_parse_from_their_exact_jose_names() {
        for algorithm in IdTokenAlgorithm::ALL {
            assert_eq!(IdTokenAlgorithm::parse(algorithm.as_str()), Some(algorithm));
        }
        for other in ["rs256", "EDDSA", "HS256", "none", "", "RS256 "] {
            assert_eq!(IdTokenAlgorithm::parse(other), None, "{other}");
        }
    }

    #[test]
    fn an_id_token_carries_the_documented_header_and_claims() {
        let keys = keys();
        let (header, claims) = parts(&id_token(&keys, IdTokenAlgorithm::Rs256));
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], keys.rsa_kid());
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["sub"], "account-1");
        assert_eq!(claims["aud"], serde_json::json!(["ca_client"]));
        assert_eq!(claims["azp"], "ca_client");
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["acr"], ACR_MFA);
        assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp"]));
        assert_eq!(claims["sid"], "session-1");
        assert_eq!(claims["iat"], now().timestamp());
        assert_eq!(claims["exp"], now().timestamp() + ID_TOKEN_LIFETIME_SECS);
        assert_eq!(claims["auth_time"], now().timestamp() - 60);

        let (header, claims) = parts(&id_token(&keys, IdTokenAlgorithm::EdDsa));
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], api_keys().kid());
        assert_eq!(
            claims["iss"], ISSUER,
            "the public URL, not CUSTADMIN_ISSUER"
        );
    }

    #[test]
    fn an_id_token_without_a_nonce_has_no_nonce_claim() {
        let keys = keys();
        let token = keys
            .issue_id_token(
                &IdTokenContent {
                    subject: "account-1",
                    client_id: "ca_client",
                    nonce: None,
                    auth_time: now(),
                    acr: ACR_PASSWORD,
                    amr: &["pwd".to_string()],
                    session_id: "session-1",
                    access_token: None,
                },
                IdTokenAlgorithm::Rs256,
                now(),
            )
            .unwrap();
        let (_, claims) = parts(&token);
        assert!(claims.get("nonce").is_none(), "{claims}");
    }

    #[test]
    fn an_id_token_issued_with_an_access_token_carries_its_at_hash() {
        let keys = keys();
        // OpenID Connect Core A.3's access token and at_hash (SHA-256); the SHA-512 one for
        // EdDSA worked out independently (Python's hashlib).
        let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        for (algorithm, expected) in [
            (IdTokenAlgorithm::Rs256, "77QmUPtjPfzWtF2AnpK9RQ"),
            (
                IdTokenAlgorithm::EdDsa,
                "q7nS86GgvvFaZkzALLWqJYaJIKw2wCDAVfCAsm5CrBM",
            ),
        ] {
            let token = keys
                .issue_id_token(
                    &IdTokenContent {
                        subject: "account-1",
                        client_id: "ca_client",
                        nonce: None,
                        auth_time: now(),
                        acr: ACR_PASSWORD,
                        amr: &["pwd".to_string()],
                        session_id: "session-1",
                        access_token: Some(access),
                    },
                    algorithm,
                    now(),
                )
                .unwrap();
            let (_, claims) = parts(&token);
            assert_eq!(claims["at_hash"], expected, "{algorithm:?}");
        }
        // Without one (the tests above), no claim.
        let (_, claims) = parts(&id_token(&keys, IdTokenAlgorithm::Rs256));
        assert!(claims.get("at_hash").is_none(), "{claims}");
    }

    #[test]
    fn id_tokens_verify_with_the_published_keys() {
        let keys = keys();
        let jwks = keys.jwks();
        let rsa = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["kty"] == "RSA")
            .unwrap();
        assert_eq!(rsa["alg"], "RS256");
        assert_eq!(rsa["use"], "sig");
        assert_eq!(rsa["e"], "AQAB");
        let from_jwks = DecodingKey::from_rsa_components(
            rsa["n"].as_str().unwrap(),
            rsa["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["ca_client"]);
        validation.set_issuer(&[ISSUER]);
        validation.validate_exp = false;
        let token = id_token(&keys, IdTokenAlgorithm::Rs256);
        let decoded =
            jsonwebtoken::decode::<CustadminIdTokenClaims>(&token, &from_jwks, &validation)
                .unwrap();
        assert_eq!(decoded.header.kid.as_deref(), rsa["kid"].as_str());

        let ed = &jwks["keys"][0];
        assert_eq!(ed["kty"], "OKP");
        let from_jwks = DecodingKey::from_ed_components(ed["x"].as_str().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["ca_client"]);
        validation.validate_exp = false;
        assert!(jsonwebtoken::decode::<CustadminIdTokenClaims>(
            &id_token(&keys, IdTokenAlgorithm::EdDsa),
            &from_jwks,
            &validation
        )
        .is_ok());
    }

    #[test]
    fn an_id_token_of_either_algorithm_is_a_hint_even_when_expired() {
        let keys = keys();
        for algorithm in IdTokenAlgorithm::ALL {
            let hint = keys
                .verify_id_token_hint(&id_token(&keys, algorithm))
                .unwrap();
            assert_eq!(hint.subject, "account-1");
            assert_eq!(hint.client_id, "ca_client");
            assert_eq!(hint.session_id, "session-1");
        }
    }

    #[test]
    fn access_tokens_carry_rfc_9068_claims_and_expire_by_the_injected_clock() {
        let keys = keys();
        let token = access_token(&keys);
        let (header, claims) = parts(&token);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], keys.rsa_kid());
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], "ca_client");
        assert_eq!(claims["client_id"], "ca_client");
        assert_eq!(claims["scope"], "openid email");
        assert_eq!(claims["gid"], "grant-1");
        assert!(claims["jti"].is_string());
        let verified = keys.verify_access_token(&token, now()).unwrap();
        assert_eq!(verified.subject, "account-1");
        assert_eq!(verified.grant_id, "grant-1");
        assert_eq!(
            verified.expires_at,
            now() + TimeDelta::seconds(OIDC_ACCESS_TOKEN_LIFETIME_SECS)
        );
        let almost = now() + TimeDelta::seconds(OIDC_ACCESS_TOKEN_LIFETIME_SECS - 1);
        assert!(keys.verify_access_token(&token, almost).is_ok());
        let expired = now() + TimeDelta::seconds(OIDC_ACCESS_TOKEN_LIFETIME_SECS);
        assert!(matches!(
            keys.verify_access_token(&token, expired),
            Err(TokenError::InvalidAccess)
        ));
    }

    #[test]
    fn no_kind_of_token_passes_for_another() {
        let keys = keys();
        let api = keys.ed25519.clone();
        let access = access_token(&keys);
        let api_access = api
            .issue_access(
                "account-1",
                Role::Customer,
                "session-1",
                now(),
                &amr(),
                now(),
            )
            .unwrap();
        let challenge = api
            .issue_challenge("account-1", "challenge-1", now())
            .unwrap();
        // The UserInfo access token is no ID token hint and no API access token.
        assert!(matches!(
            keys.verify_id_token_hint(&access),
            Err(TokenError::InvalidIdToken)
        ));
        assert!(api.verify_access(&access, now()).is_err());
        // Our API's access token (and a sign-in step token) is neither of the OIDC kinds,
        // even when the API's issuer is the public URL.
        let same_issuer_api = TokenKeys::new(&SigningKey::from_bytes(&[1; 32]), ISSUER).unwrap();
        let same_issuer_access = same_issuer_api
            .issue_access(
                "account-1",
                Role::Customer,
                "session-1",
                now(),
                &amr(),
                now(),
            )
            .unwrap();
        for foreign in [&api_access, &challenge, &same_issuer_access] {
            assert!(keys.verify_access_token(foreign, now()).is_err());
            assert!(keys.verify_id_token_hint(foreign).is_err());
        }
        // ID tokens are neither access token.
        for algorithm in IdTokenAlgorithm::ALL {
            let id = id_token(&keys, algorithm);
            assert!(keys.verify_access_token(&id, now()).is_err());
            assert!(api.verify_access(&id, now()).is_err());
            assert!(api.verify_challenge(&id, now()).is_err());
        }
    }

    #[test]
    fn alg_none_hs256_and_forged_headers_are_refused() {
        let keys = keys();
        let rsa_public_n = keys.rsa_keys().verification_keys[0].n.clone();
        for token in [
            id_token(&keys, IdTokenAlgorithm::Rs256),
            access_token(&keys),
        ] {
            let (header, claims) = parts(&token);
            let signature = token.rsplit('.').next().unwrap();

            let mut none = header.clone();
            none["alg"] = "none".into();
            let unsigned = format!("{}.{}.", b64(&none), b64(&claims));
            assert!(keys.verify_id_token_hint(&unsigned).is_err());
            assert!(keys.verify_access_token(&unsigned, now()).is_err());

            // HS256 keyed with the public key: the classic algorithm confusion.
            let mut hs256 = Header::new(Algorithm::HS256);
            hs256.typ = header["typ"].as_str().map(str::to_string);
            hs256.kid = header["kid"].as_str().map(str::to_string);
            for secret in [rsa_public_n.as_bytes(), &keys.rsa_keys_pem_public()] {
                let forged =
                    jsonwebtoken::encode(&hs256, &claims, &EncodingKey::from_secret(secret))
                        .unwrap();
                assert!(keys.verify_id_token_hint(&forged).is_err());
                assert!(keys.verify_access_token(&forged, now()).is_err());
            }

            // The right signature under a changed header or payload.
            let mut other_kid = header.clone();
            other_kid["kid"] = "other".into();
            let mut other_alg = header.clone();
            other_alg["alg"] = "RS512".into();
            let mut elevated = claims.clone();
            elevated["sub"] = "account-2".into();
            for forged in [
                format!("{}.{}.{signature}", b64(&other_kid), b64(&claims)),
                format!("{}.{}.{signature}", b64(&other_alg), b64(&claims)),
                format!("{}.{}.{signature}", b64(&header), b64(&elevated)),
            ] {
                assert!(keys.verify_id_token_hint(&forged).is_err());
                assert!(keys.verify_access_token(&forged, now()).is_err());
            }
        }
    }

    #[test]
    fn tokens_of_other_keys_or_issuers_are_refused() {
        let keys = keys();
        let other_rsa = OidcKeys::new(&[rsa_key(1)], api_keys(), ISSUER).unwrap();
        let other_ed = OidcKeys::new(
            &[rsa_key(0)],
            TokenKeys::new(&SigningKey::from_bytes(&[2; 32]), "custadmin").unwrap(),
            ISSUER,
        )
        .unwrap();
        let other_issuer =
            OidcKeys::new(&[rsa_key(0)], api_keys(), "https://evil.example").unwrap();
        let verifies = |other: &OidcKeys, algorithm| {
            keys.verify_id_token_hint(&id_token(other, algorithm))
                .is_ok()
        };
        // Each key is checked by its own kind: another RSA key fails RS256 only, another
        // Ed25519 key EdDSA only; another issuer fails everything.
        assert!(!verifies(&other_rsa, IdTokenAlgorithm::Rs256));
        assert!(verifies(&other_rsa, IdTokenAlgorithm::EdDsa));
        assert!(verifies(&other_ed, IdTokenAlgorithm::Rs256));
        assert!(!verifies(&other_ed, IdTokenAlgorithm::EdDsa));
        assert!(!verifies(&other_issuer, IdTokenAlgorithm::Rs256));
        assert!(!verifies(&other_issuer, IdTokenAlgorithm::EdDsa));
        assert!(keys
            .verify_access_token(&access_token(&other_rsa), now())
            .is_err());
        assert!(keys
            .verify_access_token(&access_token(&other_ed), now())
            .is_ok());
        assert!(keys
            .verify_access_token(&access_token(&other_issuer), now())
            .is_err());
    }

    #[test]
    fn tokens_of_a_rotated_rsa_key_verify_until_it_is_dropped() {
        let keys = keys();
        let old_kid = keys.rsa_kid();
        let old_id = id_token(&keys, IdTokenAlgorithm::Rs256);
        let old_access = access_token(&keys);
        let held = keys.clone();
        keys.replace_rsa_keys(&[rsa_key(1), rsa_key(0)]).unwrap();
        assert_ne!(held.rsa_kid(), old_kid, "every clone sees the rotation");
        assert_eq!(held.rsa_kids(), vec![rsa_key(1).kid().to_string(), old_kid]);
        let (header, _) = parts(&id_token(&held, IdTokenAlgorithm::Rs256));
        assert_eq!(header["kid"], rsa_key(1).kid());
        assert!(held.verify_id_token_hint(&old_id).is_ok());
        assert!(held.verify_access_token(&old_access, now()).is_ok());
        let rsa_in_jwks = held.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|key| key["kty"] == "RSA")
            .count();
        assert_eq!(rsa_in_jwks, 2);
        keys.replace_rsa_keys(&[rsa_key(1)]).unwrap();
        assert!(held.verify_id_token_hint(&old_id).is_err());
        assert!(held.verify_access_token(&old_access, now()).is_err());
    }

    #[test]
    fn rsa_keys_must_be_rsa_and_long_enough() {
        let short = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap())
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        assert!(RsaSigningKey::from_pem(&short)
            .unwrap_err()
            .contains("1024 bits"));
        let ed = openssl::pkey::PKey::generate_ed25519()
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        assert!(RsaSigningKey::from_pem(&ed).is_err());
        assert!(RsaSigningKey::from_pem(b"junk").is_err());
        let key = rsa_key(0);
        assert_eq!(key.kid(), rsa_thumbprint(&key.n, &key.e));
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    impl OidcKeys {
        /// The current RSA public key as SPKI PEM: what an attacker would try as an HMAC key.
        fn rsa_keys_pem_public(&self) -> Vec<u8> {
            let set = self.rsa_keys();
            let key = &set.verification_keys[0];
            let decode = |text: &str| {
                openssl::bn::BigNum::from_slice(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(text)
                        .unwrap(),
                )
                .unwrap()
            };
            openssl::rsa::Rsa::from_public_components(decode(&key.n), decode(&key.e))
                .unwrap()
                .public_key_to_pem()
                .unwrap()
        }
    }
}
