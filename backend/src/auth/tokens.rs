//! JWTs: access tokens for the API, challenge tokens between password and code, and the
//! state tokens of passwordless passkey sign-ins. All are EdDSA-signed; each kind has its own
//! `typ` and audience, so one can never pass for another. Expiry is checked against the
//! injected clock, not the library's system time.

use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use std::sync::{Arc, RwLock};

use crate::auth::secret_box::{ReloadKeys, SecretBox};
use crate::domain::Role;

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
pub const ACCESS_TOKEN_AUDIENCE: &str = "custadmin";
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 15 * 60;
pub const CHALLENGE_TOKEN_TYPE: &str = "otp-challenge+jwt";
pub const CHALLENGE_TOKEN_AUDIENCE: &str = "custadmin:otp-challenge";
pub const CHALLENGE_TOKEN_LIFETIME_SECS: i64 = 5 * 60;
/// Carries a passwordless passkey ceremony, sealed, between its options and its answer
/// (5 minutes).
pub const PASSKEY_STATE_TOKEN_TYPE: &str = "passkey-state+jwt";
pub const PASSKEY_STATE_TOKEN_AUDIENCE: &str = "custadmin:passkey-state";

/// Why a token was not accepted, or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// An access token that is malformed, not signed by a key of ours, of another kind, or
    /// expired.
    #[error("the access token is invalid or expired")]
    InvalidAccess,
    /// A sign-in step token (a challenge or a passkey state) that is malformed, not ours, of
    /// another step, or expired.
    #[error("the sign-in step token is invalid or expired")]
    InvalidStep,
    /// An ID token (an `id_token_hint`) that is malformed, not signed by a key of ours with
    /// RS256 or EdDSA, not an ID token, or not issued by us.
    #[error("the ID token is invalid")]
    InvalidIdToken,
    /// A key that cannot be encoded or a token that cannot be signed: a server fault.
    #[error("{0}")]
    Keys(String),
}

/// RFC 8176 authentication method references.
pub const AMR_PASSWORD: &str = "pwd";
pub const AMR_OTP: &str = "otp";
/// A passkey or security key: proof of possession of a hardware-bound key.
pub const AMR_HARDWARE_KEY: &str = "hwk";
/// The authenticator verified the user (PIN or biometrics): with a passkey alone, the second
/// factor of a passwordless sign-in.
pub const AMR_USER_PRESENCE: &str = "user";
/// A remembered (trusted) device stood in for the second factor (RFC 8176 "mfa").
pub const AMR_TRUSTED_DEVICE: &str = "mfa";

/// Whether a sign-in with these methods proved a second factor itself (a code or a passkey);
/// a remembered device standing in does not count.
pub fn proved_second_factor(amr: &[String]) -> bool {
    amr.iter()
        .any(|method| method == AMR_OTP || method == AMR_HARDWARE_KEY)
}

/// Whether a sign-in with these methods passed a second factor, or a trusted device stood in.
pub fn has_second_factor(amr: &[String]) -> bool {
    proved_second_factor(amr) || amr.iter().any(|method| method == AMR_TRUSTED_DEVICE)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub role: Role,
    pub sid: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChallengeClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The challenge's row id; attempts and single use are tracked there.
    pub jti: String,
}

/// A passwordless state token's claims: a step token whose ceremony state travels in it,
/// sealed, instead of waiting in a row (nothing is stored before the browser answers).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct PasskeyStateClaims {
    #[serde(flatten)]
    step: ChallengeClaims,
    /// The ceremony state, sealed by [`SecretBox`] under [`passkey_state_binding`].
    sealed: String,
}

/// A passwordless ceremony as its state token carried it, checked and opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyState {
    /// What the token was issued for: the ceremony's WebAuthn challenge, base64url.
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
    /// The ceremony state, as it was given to [`TokenKeys::issue_passkey_state`].
    pub state: Vec<u8>,
}

/// The associated data a ceremony state is sealed under: the token's kind, issuer, challenge
/// and expiry. The signature already covers them; the seal repeats the binding so a sealed
/// state cannot be opened as anything else (another kind of token, another ceremony) or with
/// a later expiry even if it were lifted into other signed content.
fn passkey_state_binding(issuer: &str, challenge: &str, expires_at: i64) -> Vec<u8> {
    format!("custadmin {PASSKEY_STATE_TOKEN_TYPE} v1\n{issuer}\n{challenge}\n{expires_at}")
        .into_bytes()
}

/// The claims of a step token (challenge or passkey state) that expire.
trait StepClaims {
    fn exp(&self) -> i64;
}

impl StepClaims for ChallengeClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl StepClaims for PasskeyStateClaims {
    fn exp(&self) -> i64 {
        self.step.exp
    }
}

/// A public key that verifies tokens: the current signing key's, or a retired one kept until
/// the tokens it signed have expired.
#[derive(Clone)]
struct VerificationKey {
    kid: String,
    public_key_base64url: String,
    decoding_key: DecodingKey,
}

impl VerificationKey {
    fn new(public_key: &VerifyingKey) -> Result<Self, TokenError> {
        let public_key_base64url =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_key.to_bytes());
        let decoding_key = DecodingKey::from_ed_components(&public_key_base64url)
            .map_err(|error| TokenError::Keys(format!("verifying key: {error}")))?;
        Ok(Self {
            kid: jwk_thumbprint(&public_key_base64url),
            public_key_base64url,
            decoding_key,
        })
    }
}

/// The keys at one moment: the one that signs, and all that verify (it first).
struct SigningSet {
    encoding_key: EncodingKey,
    verification_keys: Vec<VerificationKey>,
}

impl SigningSet {
    fn new(signing_key: &SigningKey, retired: &[VerifyingKey]) -> Result<Self, TokenError> {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let der = signing_key
            .to_pkcs8_der()
            .map_err(|error| TokenError::Keys(format!("signing key encoding: {error}")))?;
        let mut verification_keys = vec![VerificationKey::new(&signing_key.verifying_key())?];
        for key in retired {
            let key = VerificationKey::new(key)?;
            if verification_keys.iter().all(|known| known.kid != key.kid) {
                verification_keys.push(key);
            }
        }
        Ok(Self {
            encoding_key: EncodingKey::from_ed_der(der.as_bytes()),
            verification_keys,
        })
    }
}

/// Signs tokens with the server's Ed25519 key and verifies them with it or a retired key.
/// Cheap to clone; clones share the keys, so a reload (a key rotated by `custadmin keys`)
/// reaches every holder at once.
#[derive(Clone)]
pub struct TokenKeys {
    keys: Arc<RwLock<Arc<SigningSet>>>,
    issuer: String,
    /// Access tokens whose signature and claims were checked, by the SHA-256 of the whole
    /// token: an EdDSA verification costs more than the rest of a `GET /account`. Only `exp`
    /// is checked again on a hit (against the injected clock); the session row is still read
    /// on every request, so revocation stays immediate. Bounded, and no entry outlives the
    /// tokens' lifetime.
    verified_access: moka::sync::Cache<[u8; 32], std::sync::Arc<AccessClaims>>,
    /// Asked to read the key files again when a token names a `kid` these keys lack: another
    /// instance may already sign with a key this one has not read yet.
    reload: Option<Arc<dyn ReloadKeys>>,
}

/// How many verified access tokens one process remembers.
const VERIFIED_ACCESS_CACHE_ENTRIES: u64 = 100_000;

impl TokenKeys {
    pub fn new(signing_key: &SigningKey, issuer: &str) -> Result<Self, TokenError> {
        Self::with_retired_keys(signing_key, &[], issuer)
    }

    pub fn with_retired_keys(
        signing_key: &SigningKey,
        retired: &[VerifyingKey],
        issuer: &str,
    ) -> Result<Self, TokenError> {
        Ok(Self {
            keys: Arc::new(RwLock::new(Arc::new(SigningSet::new(
                signing_key,
                retired,
            )?))),
            issuer: issuer.to_string(),
            verified_access: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_ACCESS_CACHE_ENTRIES)
                .time_to_live(std::time::Duration::from_secs(
                    ACCESS_TOKEN_LIFETIME_SECS.unsigned_abs(),
                ))
                .build(),
            reload: None,
        })
    }

    /// These keys, asking `reload` for the key files again on a token of an unknown `kid`.
    pub fn with_reloader(mut self, reload: Arc<dyn ReloadKeys>) -> Self {
        self.reload = Some(reload);
        self
    }

    /// Puts other keys in place for every clone.
    pub fn replace_keys(
        &self,
        signing_key: &SigningKey,
        retired: &[VerifyingKey],
    ) -> Result<(), TokenError> {
        let set = SigningSet::new(signing_key, retired)?;
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let dropped_a_key = keys
            .verification_keys
            .iter()
            .any(|old| set.verification_keys.iter().all(|new| new.kid != old.kid));
        *keys = Arc::new(set);
        if dropped_a_key {
            // Tokens of a retired key must stop verifying now, cached or not.
            self.verified_access.invalidate_all();
        }
        Ok(())
    }

    fn keys(&self) -> Arc<SigningSet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The `kid` of the key that signs new tokens.
    pub fn kid(&self) -> String {
        self.keys().verification_keys[0].kid.clone()
    }

    /// The `kid`s of every key that verifies, the signing key's first.
    pub fn kids(&self) -> Vec<String> {
        self.keys()
            .verification_keys
            .iter()
            .map(|key| key.kid.clone())
            .collect()
    }

    /// The JSON Web Key Set integrators use to verify access tokens offline.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys()
            .verification_keys
            .iter()
            .map(|key| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": key.public_key_base64url,
                    "kid": key.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    pub fn issue_access(
        &self,
        account_id: &str,
        role: Role,
        session_id: &str,
        auth_time: DateTime<Utc>,
        amr: &[String],
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: account_id.to_string(),
            aud: ACCESS_TOKEN_AUDIENCE.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TOKEN_LIFETIME_SECS,
            jti: uuid::Uuid::new_v4().to_string(),
            auth_time: auth_time.timestamp(),
            amr: amr.to_vec(),
            role,
            sid: session_id.to_string(),
        };
        self.sign(ACCESS_TOKEN_TYPE, &claims)
    }

    pub fn issue_challenge(
        &self,
        account_id: &str,
        challenge_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = ChallengeClaims {
            iss: self.issuer.clone(),
            sub: account_id.to_string(),
            aud: CHALLENGE_TOKEN_AUDIENCE.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + CHALLENGE_TOKEN_LIFETIME_SECS,
            jti: challenge_id.to_string(),
        };
        self.sign(CHALLENGE_TOKEN_TYPE, &claims)
    }

    /// The token carrying a passwordless ceremony: `state` (webauthn-rs's, serialised) sealed
    /// with the server's secret key, bound to this token's kind, `challenge` and expiry.
    pub fn issue_passkey_state(
        &self,
        secret_box: &SecretBox,
        challenge: &str,
        state: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let exp = now.timestamp() + CHALLENGE_TOKEN_LIFETIME_SECS;
        let binding = passkey_state_binding(&self.issuer, challenge, exp);
        let claims = PasskeyStateClaims {
            step: ChallengeClaims {
                iss: self.issuer.clone(),
                sub: challenge.to_string(),
                aud: PASSKEY_STATE_TOKEN_AUDIENCE.to_string(),
                iat: now.timestamp(),
                exp,
                jti: challenge.to_string(),
            },
            sealed: secret_box
                .seal(state, &binding)
                .map_err(|error| TokenError::Keys(error.to_string()))?,
        };
        self.sign(PASSKEY_STATE_TOKEN_TYPE, &claims)
    }

    /// Checks a passwordless state token (signature, kind, issuer, audience, expiry by the
    /// server's clock) and opens the ceremony state it carries. Anything wrong, a state that
    /// does not open included, is `InvalidChallenge`. Whether the challenge was already
    /// answered is the caller's to check.
    pub fn verify_passkey_state(
        &self,
        secret_box: &SecretBox,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<PasskeyState, TokenError> {
        let claims: PasskeyStateClaims = self.verify_step_token(
            token,
            PASSKEY_STATE_TOKEN_TYPE,
            PASSKEY_STATE_TOKEN_AUDIENCE,
            now,
        )?;
        let ChallengeClaims { jti, exp, .. } = claims.step;
        let binding = passkey_state_binding(&self.issuer, &jti, exp);
        let state = secret_box.open(&claims.sealed, &binding).map_err(|_| {
            // Signed by a key of ours yet sealed under another secret key: instances that
            // share the signing key but not the secret key.
            tracing::warn!("a signed passkey state token does not open: secret keys differ?");
            TokenError::InvalidStep
        })?;
        let expires_at = DateTime::from_timestamp(exp, 0).ok_or(TokenError::InvalidStep)?;
        Ok(PasskeyState {
            challenge: jti,
            expires_at,
            state,
        })
    }

    pub fn verify_access(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessClaims, TokenError> {
        use sha2::{Digest, Sha256};
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let claims = match self.verified_access.get(&key) {
            Some(claims) => claims,
            None => {
                let claims = std::sync::Arc::new(self.verify_access_signature(token)?);
                self.verified_access.insert(key, claims.clone());
                claims
            }
        };
        if claims.exp <= now.timestamp() {
            return Err(TokenError::InvalidAccess);
        }
        Ok((*claims).clone())
    }

    /// The full check of an access token's signature, header and claims but `exp`, without
    /// the cache (what a cache miss costs).
    pub fn verify_access_signature(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify(token, ACCESS_TOKEN_TYPE, ACCESS_TOKEN_AUDIENCE, || {
            TokenError::InvalidAccess
        })
    }

    pub fn verify_challenge(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<ChallengeClaims, TokenError> {
        self.verify_step_token(token, CHALLENGE_TOKEN_TYPE, CHALLENGE_TOKEN_AUDIENCE, now)
    }

    /// A token of one step of a sign-in, of the given kind and not expired by the server's
    /// clock; anything else is `InvalidChallenge`.
    fn verify_step_token<T: DeserializeOwned + StepClaims>(
        &self,
        token: &str,
        token_type: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<T, TokenError> {
        let claims: T = self.verify(token, token_type, audience, || TokenError::InvalidStep)?;
        if claims.exp() <= now.timestamp() {
            return Err(TokenError::InvalidStep);
        }
        Ok(claims)
    }

    /// Signs `claims` with the current Ed25519 key (`alg: EdDSA`, its `kid`) under `typ`
    /// `token_type`; the OpenID Connect keys sign EdDSA ID tokens through it.
    pub(crate) fn sign<T: Serialize>(
        &self,
        token_type: &str,
        claims: &T,
    ) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(token_type.to_string());
        let keys = self.keys();
        header.kid = Some(keys.verification_keys[0].kid.clone());
        jsonwebtoken::encode(&header, claims, &keys.encoding_key)
            .map_err(|error| TokenError::Keys(format!("token signing failed: {error}")))
    }

    /// Checks, in order: header alg (EdDSA only), typ and kid; then signature, iss and aud.
    fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        expected_type: &str,
        audience: &str,
        rejection: fn() -> TokenError,
    ) -> Result<T, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| rejection())?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(expected_type) {
            return Err(rejection());
        }
        let kid = header.kid.as_deref().ok_or_else(rejection)?;
        let decoding_key = self.decoding_key(kid).ok_or_else(rejection)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        jsonwebtoken::decode::<T>(token, &decoding_key, &validation)
            .map(|data| data.claims)
            .map_err(|_| rejection())
    }

    /// The Ed25519 key of `kid` (current or retired), reading the key files again first when
    /// it is unknown; the OpenID Connect keys verify EdDSA ID tokens with it.
    pub(crate) fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let mut keys = self.keys();
        if !keys.verification_keys.iter().any(|key| key.kid == kid) {
            if let Some(reload) = &self.reload {
                if reload.reload_on_miss() {
                    keys = self.keys();
                }
            }
        }
        keys.verification_keys
            .iter()
            .find(|key| key.kid == kid)
            .map(|key| key.decoding_key.clone())
    }
}

/// The `kid` tokens signed by the key of `public_key` carry.
pub fn kid_of(public_key: &VerifyingKey) -> String {
    jwk_thumbprint(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_key.to_bytes()))
}

/// RFC 7638 thumbprint of the public key: a stable `kid` that changes with the key.
fn jwk_thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jws_test_support::{b64, parts};
    use chrono::TimeDelta;

    fn keys() -> TokenKeys {
        TokenKeys::new(&SigningKey::from_bytes(&[1; 32]), "custadmin").unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn access_token(keys: &TokenKeys) -> String {
        keys.issue_access(
            "acc",
            Role::Customer,
            "sid",
            now(),
            &[AMR_PASSWORD.into()],
            now(),
        )
        .unwrap()
    }

    #[test]
    fn a_cached_access_token_still_expires_and_a_changed_one_is_checked_afresh() {
        let keys = keys();
        let token = access_token(&keys);
        keys.verify_access(&token, now()).unwrap();
        keys.verify_access(&token, now()).unwrap();
        let expired = now() + chrono::TimeDelta::seconds(ACCESS_TOKEN_LIFETIME_SECS);
        assert!(matches!(
            keys.verify_access(&token, expired),
            Err(TokenError::InvalidAccess)
        ));
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(
            keys.verify_access(&forged, now()),
            Err(TokenError::InvalidAccess)
        ));
    }

    #[test]
    fn access_tokens_carry_the_documented_header_and_claims() {
        let keys = keys();
        let token = access_token(&keys);
        let (header, claims) = parts(&token);
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], keys.kid());
        assert_eq!(claims["iss"], "custadmin");
        assert_eq!(claims["aud"], "custadmin");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            900
        );
        assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
        assert_eq!(claims["role"], "customer");
        let verified = keys.verify_access(&token, now()).unwrap();
        assert_eq!(verified.sid, "sid");
    }

    #[test]
    fn expired_tokens_are_refused_by_the_injected_clock() {
        let keys = keys();
        let token = access_token(&keys);
        assert!(keys
            .verify_access(&token, now() + TimeDelta::seconds(899))
            .is_ok());
        assert!(keys
            .verify_access(&token, now() + TimeDelta::seconds(900))
            .is_err());
    }

    #[test]
    fn a_challenge_token_is_not_an_access_token_and_vice_versa() {
        let keys = keys();
        let challenge = keys.issue_challenge("acc", "challenge-1", now()).unwrap();
        assert!(matches!(
            keys.verify_access(&challenge, now()),
            Err(TokenError::InvalidAccess)
        ));
        assert!(keys.verify_challenge(&challenge, now()).is_ok());
        assert!(keys.verify_challenge(&access_token(&keys), now()).is_err());
    }

    fn sealing() -> SecretBox {
        SecretBox::new(&[7; 32])
    }

    #[test]
    fn a_passkey_state_token_carries_its_state_sealed_and_works_only_as_one() {
        let (keys, sealing) = (keys(), sealing());
        let state = br#"{"ast":{"challenge":"secret-ish"}}"#;
        let token = keys
            .issue_passkey_state(&sealing, "challenge-1", state, now())
            .unwrap();
        let (header, claims) = parts(&token);
        assert_eq!(header["typ"], PASSKEY_STATE_TOKEN_TYPE);
        assert_eq!(claims["aud"], PASSKEY_STATE_TOKEN_AUDIENCE);
        assert_eq!(claims["jti"], "challenge-1");
        assert!(
            !claims.to_string().contains("secret-ish"),
            "sealed, not signed only"
        );
        let opened = keys.verify_passkey_state(&sealing, &token, now()).unwrap();
        assert_eq!(opened.challenge, "challenge-1");
        assert_eq!(opened.state, state);
        assert_eq!(
            opened.expires_at,
            now() + TimeDelta::seconds(CHALLENGE_TOKEN_LIFETIME_SECS)
        );

        assert!(keys.verify_challenge(&token, now()).is_err());
        assert!(keys.verify_access(&token, now()).is_err());
        let challenge = keys.issue_challenge("acc", "challenge-1", now()).unwrap();
        assert!(keys
            .verify_passkey_state(&sealing, &challenge, now())
            .is_err());
        assert!(keys
            .verify_passkey_state(&sealing, &access_token(&keys), now())
            .is_err());
        let later = now() + TimeDelta::seconds(CHALLENGE_TOKEN_LIFETIME_SECS);
        assert!(matches!(
            keys.verify_passkey_state(&sealing, &token, later),
            Err(TokenError::InvalidStep)
        ));
    }

    #[test]
    fn a_sealed_state_opens_only_in_its_own_token_under_the_same_secret_key() {
        let (keys, sealing) = (keys(), sealing());
        let token = keys
            .issue_passkey_state(&sealing, "challenge-1", b"state", now())
            .unwrap();
        let (_, claims) = parts(&token);
        let sealed = claims["sealed"].as_str().unwrap().to_string();
        let resign = |changes: serde_json::Value| {
            let mut forged = claims.clone();
            forged
                .as_object_mut()
                .unwrap()
                .extend(changes.as_object().unwrap().clone());
            keys.sign(PASSKEY_STATE_TOKEN_TYPE, &forged).unwrap()
        };
        // Signed by us all the same, the seal refuses what it was not made for: a later
        // expiry, another challenge, a changed byte.
        let exp = claims["exp"].as_i64().unwrap();
        let other_first = if sealed.starts_with('A') { "B" } else { "A" };
        for changes in [
            serde_json::json!({"exp": exp + 3600}),
            serde_json::json!({"jti": "challenge-2"}),
            serde_json::json!({"sealed": format!("{other_first}{}", &sealed[1..])}),
            serde_json::json!({"sealed": "not base64!"}),
            serde_json::json!({"sealed": ""}),
        ] {
            assert!(
                matches!(
                    keys.verify_passkey_state(&sealing, &resign(changes.clone()), now()),
                    Err(TokenError::InvalidStep)
                ),
                "{changes}"
            );
        }
        assert!(keys
            .verify_passkey_state(&sealing, &resign(serde_json::json!({})), now())
            .is_ok());
        // Under another secret key it does not open; without the claim it is no state token.
        assert!(matches!(
            keys.verify_passkey_state(&SecretBox::new(&[8; 32]), &token, now()),
            Err(TokenError::InvalidStep)
        ));
        let mut bare = claims.clone();
        bare.as_object_mut().unwrap().remove("sealed");
        let bare = keys.sign(PASSKEY_STATE_TOKEN_TYPE, &bare).unwrap();
        assert!(keys.verify_passkey_state(&sealing, &bare, now()).is_err());
        // A state sealed for a state token does not open as a TOTP secret of an account
        // named like its challenge.
        assert!(sealing.open(&sealed, b"challenge-1").is_err());
    }

    #[test]
    fn a_state_token_stays_small() {
        // webauthn-rs's discoverable authentication state is about 150 bytes of JSON; the
        // token is about 830 characters (the API test prints the real one).
        let token = keys()
            .issue_passkey_state(&sealing(), &"c".repeat(43), &[b'x'; 150], now())
            .unwrap();
        assert!(token.len() < 900, "{}", token.len());
    }

    #[test]
    fn forged_headers_and_foreign_keys_are_refused() {
        let keys = keys();
        let token = access_token(&keys);
        let (header, claims) = parts(&token);
        let signature = token.rsplit('.').next().unwrap();

        let mut none = header.clone();
        none["alg"] = "none".into();
        assert!(keys
            .verify_access(&format!("{}.{}.", b64(&none), b64(&claims)), now())
            .is_err());

        let hs256 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(
                keys.keys().verification_keys[0]
                    .public_key_base64url
                    .as_bytes(),
            ),
        )
        .unwrap();
        assert!(keys.verify_access(&hs256, now()).is_err());

        for (field, value) in [("typ", "JWT"), ("kid", "other")] {
            let mut changed = header.clone();
            changed[field] = value.into();
            let forged = format!("{}.{}.{signature}", b64(&changed), b64(&claims));
            assert!(keys.verify_access(&forged, now()).is_err(), "{field}");
        }

        let mut elevated = claims.clone();
        elevated["role"] = "support".into();
        let forged = format!("{}.{}.{signature}", b64(&header), b64(&elevated));
        assert!(keys.verify_access(&forged, now()).is_err());

        let other = TokenKeys::new(&SigningKey::from_bytes(&[2; 32]), "custadmin").unwrap();
        assert!(keys.verify_access(&access_token(&other), now()).is_err());
        let other_issuer = TokenKeys::new(&SigningKey::from_bytes(&[1; 32]), "elsewhere").unwrap();
        assert!(keys
            .verify_access(&access_token(&other_issuer), now())
            .is_err());
    }

    #[test]
    fn tokens_of_a_retired_key_verify_until_they_expire_and_new_ones_use_the_new_key() {
        let old = keys();
        let old_token = access_token(&old);
        let old_public = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let rotated = TokenKeys::with_retired_keys(
            &SigningKey::from_bytes(&[5; 32]),
            &[old_public],
            "custadmin",
        )
        .unwrap();
        assert_ne!(rotated.kid(), old.kid());
        assert!(rotated.verify_access(&old_token, now()).is_ok());
        assert!(rotated
            .verify_access(&old_token, now() + TimeDelta::seconds(900))
            .is_err());
        let jwks = rotated.jwks();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kid"], rotated.kid());
        assert_eq!(jwks["keys"][1]["kid"], old.kid());
        assert!(old.verify_access(&access_token(&rotated), now()).is_err());
    }

    #[test]
    fn the_jwks_publishes_the_verifying_key() {
        let keys = keys();
        let jwks = keys.jwks();
        assert_eq!(jwks["keys"][0]["kid"], keys.kid());
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        let from_jwks =
            DecodingKey::from_ed_components(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["custadmin"]);
        validation.validate_exp = false;
        assert!(jsonwebtoken::decode::<AccessClaims>(
            &access_token(&keys),
            &from_jwks,
            &validation
        )
        .is_ok());
    }
}
