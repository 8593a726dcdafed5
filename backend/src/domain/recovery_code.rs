use super::InvalidInput;

/// A recovery code: ten characters of lower-case RFC 4648 base32 (50 random bits), shown as
/// `xxxxx-xxxxx`. Input is accepted in either case, with or without the hyphen.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

pub const RECOVERY_CODE_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
pub const RECOVERY_CODE_CHARS: usize = 10;

impl RecoveryCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let trimmed = raw.trim_matches(' ').to_ascii_lowercase();
        let compact = match trimmed.split_once('-') {
            Some((head, tail)) if head.len() == 5 => format!("{head}{tail}"),
            Some(_) => return Err(InvalidInput::RecoveryCodeFormat),
            None => trimmed,
        };
        if compact.len() == RECOVERY_CODE_CHARS
            && compact.bytes().all(|b| RECOVERY_CODE_ALPHABET.contains(&b))
        {
            Ok(Self(compact))
        } else {
            Err(InvalidInput::RecoveryCodeFormat)
        }
    }

    /// A fresh random code.
    pub fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::rngs::OsRng;
        let code = (0..RECOVERY_CODE_CHARS)
            .map(|_| RECOVERY_CODE_ALPHABET[rng.gen_range(0..32)] as char)
            .collect();
        Self(code)
    }

    /// The normalised form that is hashed.
    pub fn normalised(&self) -> &str {
        &self.0
    }

    /// The form shown to people: `xxxxx-xxxxx`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("RecoveryCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_round_trip_through_their_display_form() {
        for _ in 0..100 {
            let code = RecoveryCode::generate();
            let shown = code.display();
            assert_eq!(shown.len(), 11);
            assert_eq!(RecoveryCode::parse(&shown).unwrap(), code);
            assert_eq!(RecoveryCode::parse(&shown.to_uppercase()).unwrap(), code);
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "abcde-fghi",
            "abcdefghijk",
            "abcd-efghij",
            "abcde-fgh1j",
            "abcde fghij",
        ] {
            assert!(RecoveryCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
