//! Authentication primitives: password hashing, TOTP, QR codes, tokens, keys, encryption and
//! the WebAuthn relying party.
//! Each is plain code that knows nothing of HTTP or the database.

pub mod device_tokens;
#[cfg(test)]
mod jws_test_support;
pub mod keys;
pub mod oidc_tokens;
pub mod opaque_token;
pub mod password;
pub mod password_strength;
pub mod qr;
pub mod secret_box;
pub mod tokens;
pub mod totp;
pub mod webauthn;
