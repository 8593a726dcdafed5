use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::InvalidInput;

/// A password as submitted: for a new account or a change (8 to 1024 characters), or offered
/// as proof. Held in Unicode normalisation form NFKC, as NIST SP 800-63B asks, so the same
/// password typed on another keyboard or system (a ligature "ﬁ" or "fi", a composed "é" or
/// "e" + combining accent) is the same password. Its `Debug` never shows the text, so it
/// cannot leak into logs.
#[derive(Clone)]
pub struct Password {
    /// NFKC: what is hashed, checked and compared.
    normalized: String,
    /// The text as typed, kept for a candidate only when it differs from `normalized`:
    /// hashes stored before passwords were normalised were made of it.
    as_typed: Option<String>,
    /// The request field it came from, for the problem that refuses it.
    field: &'static str,
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 1024;

    /// Validates a new password: NFKC, then 8 to 1024 characters (counted in the normalised
    /// form, which is what is stored). Strength and breaches are checked by the use case.
    pub fn parse_new(raw: String, field: &'static str) -> Result<Self, InvalidInput> {
        // Bounded before normalising, which may lengthen the text.
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(too_long(field));
        }
        let normalized: String = raw.nfkc().collect();
        let length = normalized.chars().count();
        if length < Self::MIN_CHARS {
            return Err(InvalidInput::field(
                field,
                "the password must be at least 8 characters long",
            ));
        }
        if length > Self::MAX_CHARS {
            return Err(too_long(field));
        }
        Ok(Self {
            normalized,
            as_typed: None,
            field,
        })
    }

    /// Wraps a password offered as proof (login, re-authentication). It is checked against a
    /// hash, not against the rules, except that over-long input is refused before hashing.
    pub fn candidate(raw: String, field: &'static str) -> Result<Self, InvalidInput> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(too_long(field));
        }
        let normalized: String = raw.nfkc().collect();
        let as_typed = (normalized != raw).then_some(raw);
        Ok(Self {
            normalized,
            as_typed,
            field,
        })
    }

    /// The normalised text: what new hashes are made of and what is checked first.
    pub fn expose(&self) -> &str {
        &self.normalized
    }

    /// The forms a stored hash may have been made of: the normalised one, then, when it
    /// differs, the text as typed (hashes from before normalisation; ASCII never differs).
    pub fn forms(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.normalized.as_str()).chain(self.as_typed.as_deref())
    }

    /// The request field the password came from.
    pub fn field(&self) -> &'static str {
        self.field
    }
}

fn too_long(field: &'static str) -> InvalidInput {
    InvalidInput::field(field, "the password must be at most 1024 characters long")
}

impl fmt::Debug for Password {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules_count_characters_not_bytes() {
        assert!(Password::parse_new("short".into(), "password").is_err());
        assert!(Password::parse_new("ääääääää".into(), "password").is_ok());
        assert!(Password::parse_new("x".repeat(1025), "password").is_err());
        assert!(Password::parse_new("x".repeat(1024), "password").is_ok());
        assert!(Password::parse_new("x".repeat(128), "password").is_ok());
    }

    #[test]
    fn passwords_are_normalised_nfkc() {
        let ligature = Password::parse_new("ﬁsh and chips".into(), "password").unwrap();
        let plain = Password::parse_new("fish and chips".into(), "password").unwrap();
        assert_eq!(ligature.expose(), plain.expose());
        // A precomposed "é" and "e" with a combining acute accent are one character.
        let composed = Password::candidate("caf\u{e9} au lait".into(), "password").unwrap();
        let combining = Password::candidate("cafe\u{301} au lait".into(), "password").unwrap();
        assert_eq!(composed.expose(), combining.expose());
        assert_eq!(plain.field(), "password");
    }

    #[test]
    fn the_length_is_that_of_the_normalised_form() {
        // Seven characters as typed, eight once the ligature is two letters.
        assert!(Password::parse_new("ﬁ234567".into(), "password").is_ok());
        assert!(Password::parse_new("ﬁ23456".into(), "password").is_err());
    }

    #[test]
    fn a_candidate_also_offers_its_form_as_typed_when_that_differs() {
        let ligature = Password::candidate("ﬁsh and chips".into(), "password").unwrap();
        assert_eq!(
            ligature.forms().collect::<Vec<_>>(),
            ["fish and chips", "ﬁsh and chips"]
        );
        let ascii = Password::candidate("fish and chips".into(), "password").unwrap();
        assert_eq!(ascii.forms().collect::<Vec<_>>(), ["fish and chips"]);
        let new = Password::parse_new("ﬁsh and chips".into(), "password").unwrap();
        assert_eq!(
            new.forms().count(),
            1,
            "new passwords are stored normalised"
        );
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::parse_new("hunter2hunter2".into(), "password").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
