//! RFC 6238 time-based one-time passwords: SHA-1, six digits, 30-second steps.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use subtle::ConstantTimeEq;
use totp_lite::{totp_custom, Sha1};

use crate::domain::TotpCode;

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: u32 = 6;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Steps accepted either side of the current one, for clock drift and typing time.
const ALLOWED_DRIFT_STEPS: i64 = 1;

/// A TOTP shared secret. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Base32 (RFC 4648) without padding, as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// The code for a given step (used by tests and by nothing else at run time).
    pub fn code_at_step(&self, step: i64) -> String {
        let time = u64::try_from(step).unwrap_or(0) * STEP_SECONDS;
        totp_custom::<Sha1>(STEP_SECONDS, DIGITS, &self.0, time)
    }

    /// Checks a code against the steps around `unix_time` and answers the step it matched.
    /// Every candidate is compared, in constant time, so timing does not tell which matched.
    pub fn matching_step(&self, code: &TotpCode, unix_time: i64) -> Option<i64> {
        let current = step_of(unix_time);
        let mut matched = None;
        for step in (current - ALLOWED_DRIFT_STEPS)..=(current + ALLOWED_DRIFT_STEPS) {
            if step < 0 {
                continue;
            }
            let expected = self.code_at_step(step);
            if bool::from(expected.as_bytes().ct_eq(code.as_str().as_bytes())) && matched.is_none()
            {
                matched = Some(step);
            }
        }
        matched
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TotpSecret(<redacted>)")
    }
}

pub fn step_of(unix_time: i64) -> i64 {
    unix_time.div_euclid(STEP_SECONDS as i64)
}

/// Everything but RFC 3986 unreserved characters is escaped in the label and parameters.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The Key URI that authenticator apps read from the QR code; `issuer` is the name their entry
/// shows (the site name, never a token's `iss`).
pub fn otpauth_uri(issuer: &str, username: &str, secret: &TotpSecret) -> String {
    let issuer = utf8_percent_encode(issuer, URI_COMPONENT).to_string();
    let username = utf8_percent_encode(username, URI_COMPONENT);
    format!(
        "otpauth://totp/{issuer}:{username}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret = secret.to_base32()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows, truncated to six digits.
    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        for (time, eight_digits) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let expected = &eight_digits[2..];
            assert_eq!(secret.code_at_step(step_of(time)), expected, "time {time}");
            let code = TotpCode::parse(expected).unwrap();
            assert_eq!(secret.matching_step(&code, time), Some(step_of(time)));
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_no_further() {
        let secret = TotpSecret::generate();
        let now = 1_700_000_000;
        let current = step_of(now);
        for offset in -1..=1 {
            let code = TotpCode::parse(&secret.code_at_step(current + offset)).unwrap();
            assert_eq!(secret.matching_step(&code, now), Some(current + offset));
        }
        for offset in [-3, -2, 2, 3] {
            let code = TotpCode::parse(&secret.code_at_step(current + offset)).unwrap();
            let matched = secret.matching_step(&code, now);
            // A code of a far step can collide with a near one by chance (1 in a million).
            assert!(matched.is_none() || matched.unwrap().abs_diff(current) <= 1);
        }
    }

    #[test]
    fn secrets_are_160_bits_of_unpadded_base32() {
        let secret = TotpSecret::generate();
        let text = secret.to_base32();
        assert_eq!(text.len(), 32);
        assert!(!text.contains('='));
        assert_eq!(
            data_encoding::BASE32_NOPAD.decode(text.as_bytes()).unwrap(),
            secret.as_bytes()
        );
        assert_ne!(TotpSecret::generate(), secret);
    }

    #[test]
    fn the_uri_escapes_issuer_and_username() {
        let secret = TotpSecret::from_bytes(vec![0; 20]);
        assert_eq!(
            otpauth_uri("Example Hosting", "bob@x", &secret),
            "otpauth://totp/Example%20Hosting:bob%40x?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&issuer=Example%20Hosting&algorithm=SHA1&digits=6&period=30"
        );
    }
}
