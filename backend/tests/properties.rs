//! Properties over many generated inputs: parsing never panics and accepts exactly what the
//! contract says; secrets round-trip; no mutation of a token verifies.

use base64::Engine;
use chrono::{DateTime, Utc};
use custadmin::auth::tokens::{TokenKeys, AMR_PASSWORD};
use custadmin::auth::totp::{otpauth_uri, step_of, TotpSecret};
use custadmin::domain::{RecoveryCode, Role, TotpCode, Username};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

proptest! {
    #[test]
    fn totp_code_parsing_accepts_exactly_six_ascii_digits_between_spaces(raw in "\\PC{0,12}") {
        let expected = {
            let inner = raw.trim_matches(' ');
            inner.len() == 6 && inner.bytes().all(|b| b.is_ascii_digit())
        };
        prop_assert_eq!(TotpCode::parse(&raw).is_ok(), expected);
    }

    #[test]
    fn six_digits_with_any_surrounding_spaces_parse_to_the_digits(
        digits in "[0-9]{6}", left in 0usize..4, right in 0usize..4
    ) {
        let raw = format!("{}{digits}{}", " ".repeat(left), " ".repeat(right));
        let parsed = TotpCode::parse(&raw).unwrap();
        prop_assert_eq!(parsed.as_str(), digits.as_str());
    }

    #[test]
    fn recovery_and_username_parsing_never_panic(raw in "\\PC{0,80}") {
        let _ = RecoveryCode::parse(&raw);
        let _ = Username::parse(&raw);
        prop_assert!(Username::key_of(&raw).chars().count() <= Username::MAX_CHARS + 1);
    }

    #[test]
    fn secrets_round_trip_through_base32_and_the_otpauth_uri(
        bytes in proptest::collection::vec(any::<u8>(), 20),
        username in "[a-zA-Z0-9][a-zA-Z0-9._-]{2,20}",
        issuer in "\\PC{1,20}",
    ) {
        let secret = TotpSecret::from_bytes(bytes.clone());
        let uri = otpauth_uri(&issuer, &username, &secret);
        let query = uri.split_once('?').unwrap().1;
        let base32 = query.split('&').find_map(|pair| pair.strip_prefix("secret=")).unwrap();
        prop_assert_eq!(data_encoding::BASE32_NOPAD.decode(base32.as_bytes()).unwrap(), bytes);
        let label = uri.strip_prefix("otpauth://totp/").unwrap().split('?').next().unwrap();
        let suffix = format!(":{}", username);
        prop_assert!(label.ends_with(&suffix));
        prop_assert!(!label.contains(' ') && !query.contains(' '));
    }

    #[test]
    fn a_code_verifies_for_its_own_step(bytes in proptest::collection::vec(any::<u8>(), 20), time in 0i64..4_000_000_000) {
        let secret = TotpSecret::from_bytes(bytes);
        let code = TotpCode::parse(&secret.code_at_step(step_of(time))).unwrap();
        prop_assert!(secret.matching_step(&code, time).is_some());
    }

    #[test]
    fn no_mutation_of_an_access_token_verifies(position in any::<prop::sample::Index>(), replacement in any::<u8>()) {
        let keys = TokenKeys::new(&ed25519_dalek::SigningKey::from_bytes(&[3; 32]), "custadmin").unwrap();
        let token = keys
            .issue_access("account", Role::Customer, "session", now(), &[AMR_PASSWORD.to_string()], now())
            .unwrap();
        let mut bytes = token.clone().into_bytes();
        let index = position.index(bytes.len());
        let replacement = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."[replacement as usize % 65];
        prop_assume!(bytes[index] != replacement);
        bytes[index] = replacement;
        let mutated = String::from_utf8(bytes).unwrap();
        // A changed base64url character can decode to the same bytes (unused low bits of the
        // last character); such a token is the same token, not a forgery.
        let same_content = mutated.split('.').zip(token.split('.')).all(|(a, b)| {
            let decode = |part: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok();
            decode(a).is_some() && decode(a) == decode(b)
        }) && mutated.matches('.').count() == 2;
        prop_assume!(!same_content);
        prop_assert!(keys.verify_access(&mutated, now()).is_err());
    }
}
