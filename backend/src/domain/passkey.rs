use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use webauthn_rs::prelude::Passkey;

/// A passkey as the rest of the code sees it.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// webauthn-rs's credential: public key, algorithm, counter and flags.
    pub credential: Passkey,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredPasskey {
    /// The authenticator's credential id, as stored and looked up.
    pub fn credential_id(&self) -> String {
        credential_id_text(self.credential.cred_id().as_ref())
    }
}

/// The stored form of a raw credential id.
pub fn credential_id_text(raw: &[u8]) -> String {
    BASE64URL_NOPAD.encode(raw)
}
