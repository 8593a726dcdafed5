//! The device tokens a client presents when it signs in: one per account it fully signed in
//! to on this browser (the `__Host-custadmin_device` cookie holds a list), or the one an API
//! client sends as `device_token`. A token only ever stands for the account it was made for.

use super::opaque_token::{self, MAX_TOKEN_CHARS};

/// How many accounts' tokens one browser keeps; the oldest falls off.
pub const MAX_DEVICE_TOKENS: usize = 5;
/// Separates the tokens in the cookie (not a base64url character).
const SEPARATOR: char = '.';

#[derive(Clone, Default, PartialEq, Eq)]
pub struct DeviceTokens {
    tokens: Vec<String>,
}

impl std::fmt::Debug for DeviceTokens {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "DeviceTokens({} redacted)", self.tokens.len())
    }
}

impl DeviceTokens {
    /// What a client sent: the body's token if any (API clients), else the cookie's list.
    /// Malformed entries are dropped, not refused: a stale cookie must never block a sign-in.
    pub fn presented(body_token: Option<&str>, cookie: Option<&str>) -> Self {
        let source = body_token.or(cookie).unwrap_or_default();
        let mut tokens: Vec<String> = Vec::new();
        for token in source.split(SEPARATOR) {
            let well_formed = !token.is_empty()
                && token.len() <= MAX_TOKEN_CHARS
                && token
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
            if well_formed && !tokens.iter().any(|known| known == token) {
                tokens.push(token.to_string());
            }
            if tokens.len() == MAX_DEVICE_TOKENS {
                break;
            }
        }
        Self { tokens }
    }

    /// The stored forms of the tokens, to look their devices up.
    pub fn hashes(&self) -> Vec<String> {
        self.tokens
            .iter()
            .map(|token| opaque_token::hash(token))
            .collect()
    }

    /// The cookie's value after a sign-in handed out `new` for its account (which replaces
    /// that account's earlier token, stored as `replaced_hash`): newest first, at most
    /// [`MAX_DEVICE_TOKENS`].
    pub fn cookie_value_with(&self, new: &str, replaced_hash: Option<&str>) -> String {
        let kept = self
            .tokens
            .iter()
            .filter(|token| Some(opaque_token::hash(token).as_str()) != replaced_hash)
            .map(String::as_str);
        std::iter::once(new)
            .chain(kept)
            .take(MAX_DEVICE_TOKENS)
            .collect::<Vec<_>>()
            .join(&SEPARATOR.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_keeps_each_account_s_token_and_the_newest_first() {
        let (a, b) = (opaque_token::generate(), opaque_token::generate());
        let presented = DeviceTokens::presented(None, Some(&format!("{}.{}", a.token, b.token)));
        assert_eq!(presented.hashes(), vec![a.hash.clone(), b.hash.clone()]);
        let c = opaque_token::generate();
        // c replaces a (the same account's token, rotated when trust was granted).
        let value = presented.cookie_value_with(&c.token, Some(&a.hash));
        assert_eq!(value, format!("{}.{}", c.token, b.token));
    }

    #[test]
    fn junk_is_dropped_and_the_list_is_bounded() {
        let many: Vec<String> = (0..9).map(|_| opaque_token::generate().token).collect();
        let presented =
            DeviceTokens::presented(None, Some(&format!("..x y.\u{0}.{}", many.join("."))));
        assert_eq!(presented.hashes().len(), MAX_DEVICE_TOKENS);
        let body = DeviceTokens::presented(Some(&many[0]), Some(&many[1]));
        assert_eq!(body.hashes(), vec![opaque_token::hash(&many[0])]);
        assert!(!format!("{body:?}").contains(&many[0]));
    }
}
