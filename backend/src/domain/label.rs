use super::InvalidInput;

/// A name a holder gives something of theirs (an API token, a passkey) to tell it apart:
/// 1 to 100 characters once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidInput> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::Field {
                field,
                message: format!("the {field} is 1 to 100 characters"),
            });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidInput::Field {
                field,
                message: format!("the {field} cannot contain control characters"),
            });
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_bounded_and_printable() {
        assert_eq!(
            Label::parse("name", "  Laptop  ").unwrap().as_str(),
            "Laptop"
        );
        assert!(Label::parse("name", "   ").is_err());
        assert!(Label::parse("name", &"x".repeat(101)).is_err());
        assert!(Label::parse("name", &"ž".repeat(100)).is_ok());
        assert!(Label::parse("name", "a\u{7}b").is_err());
    }
}
