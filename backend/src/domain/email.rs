use super::InvalidInput;

/// An e-mail address, checked only for shape: delivery is what really validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let address = raw.trim();
        let well_formed = address.len() <= 254
            && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(address.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.contains('@')
                    && !domain.starts_with('.') && !domain.ends_with('.'))
            // What is stored is exactly where mail goes: no display names, quotes or brackets.
            && address.parse::<lettre::Address>().is_ok()
            && !address.contains(['<', '>', '"']);
        if well_formed {
            Ok(Self(address.to_string()))
        } else {
            Err(InvalidInput::field(
                "email",
                "the e-mail address is not valid",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_refuses_broken_ones() {
        assert!(Email::parse("a.b+c@example.com").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a@@example.com",
            "a b@example.com",
            "a@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
