use super::InvalidInput;

/// A six-digit TOTP code. Surrounding ASCII spaces are ignored; anything else that is not
/// exactly six ASCII digits (inner spaces, full-width digits, signs) is refused.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let code = raw.trim_matches(' ');
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(code.to_string()))
        } else {
            Err(InvalidInput::CodeFormat)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TotpCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrounding_spaces_are_ignored() {
        assert_eq!(TotpCode::parse(" 012345 ").unwrap().as_str(), "012345");
        assert_eq!(TotpCode::parse("012345").unwrap().as_str(), "012345");
    }

    #[test]
    fn everything_else_is_a_format_error() {
        for bad in [
            "",
            "12345",
            "1234567",
            "123 456",
            "12345a",
            "+12345",
            "-12345",
            "１２３４５６",
            "\t123456",
            "123456\n",
            "١٢٣٤٥٦",
        ] {
            assert!(
                matches!(TotpCode::parse(bad), Err(InvalidInput::CodeFormat)),
                "{bad:?} should be refused"
            );
        }
    }
}
