use std::fmt;

use super::InvalidInput;

/// A password as submitted for a new account or a change: 8 to 1024 characters.
/// Its `Debug` never shows the text, so it cannot leak into logs.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 1024;

    /// Validates a new password.
    pub fn parse_new(raw: String, field: &'static str) -> Result<Self, InvalidInput> {
        let length = raw.chars().count();
        if length < Self::MIN_CHARS {
            return Err(InvalidInput::field(
                field,
                "the password must be at least 8 characters long",
            ));
        }
        if length > Self::MAX_CHARS {
            return Err(InvalidInput::field(
                field,
                "the password must be at most 1024 characters long",
            ));
        }
        Ok(Self(raw))
    }

    /// Wraps a password offered as proof (login, re-authentication). It is checked against a
    /// hash, not against the rules, except that over-long input is refused before hashing.
    pub fn candidate(raw: String, field: &'static str) -> Result<Self, InvalidInput> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::field(
                field,
                "the password must be at most 1024 characters long",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
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
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::parse_new("hunter2hunter2".into(), "password").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
