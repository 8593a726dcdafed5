use super::InvalidInput;

/// A username: 3 to 64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
/// Unique regardless of case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let name = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.len() < Self::MIN_CHARS || name.len() > Self::MAX_CHARS {
            return Err(InvalidInput::field(
                "username",
                "the username must be 3 to 64 characters long",
            ));
        }
        if !name.chars().all(allowed) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(InvalidInput::field(
                "username",
                "the username may contain letters, digits, '.', '_' and '-', and must start with a letter or digit",
            ));
        }
        Ok(Self(name.to_string()))
    }

    /// A login name as submitted, valid or not (unknown names are throttled like real ones).
    /// Refused only for control characters: no real name has one, and database text cannot
    /// hold NUL.
    pub fn candidate(raw: &str) -> Result<&str, InvalidInput> {
        if raw.chars().any(char::is_control) {
            return Err(InvalidInput::field(
                "username",
                "the username cannot contain control characters",
            ));
        }
        Ok(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form under which the name is unique.
    pub fn key(&self) -> String {
        Self::key_of(&self.0)
    }

    /// The case-folded form of any submitted name, valid or not: the throttle key for logins.
    /// Cut just past the longest valid name, so junk input cannot store large keys, while every
    /// over-long name still maps to a key no real account has.
    pub fn key_of(raw: &str) -> String {
        raw.trim()
            .chars()
            .take(Self::MAX_CHARS + 1)
            .collect::<String>()
            .to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet_and_folds_case() {
        let name = Username::parse(" Alice.Smith_2-x ").unwrap();
        assert_eq!(name.as_str(), "Alice.Smith_2-x");
        assert_eq!(name.key(), "alice.smith_2-x");
    }

    #[test]
    fn refuses_short_long_and_odd_names() {
        for bad in [
            "ab",
            "",
            "-alice",
            "al ice",
            "alïce",
            "a/b/c",
            &"x".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Username::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn throttle_keys_are_bounded() {
        assert_eq!(Username::key_of(&"Y".repeat(10_000)).len(), 65);
        assert_eq!(Username::key_of(" Bob "), "bob");
    }
}
