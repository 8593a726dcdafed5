//! The WebAuthn relying party: who we are to authenticators (the host of the public URL) and
//! where ceremonies may come from (exactly that origin). The ceremonies themselves are
//! webauthn-rs's; this module only builds it and checks the setting it needs.

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// Why the public URL cannot serve as a relying party.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct RelyingPartyError(String);

/// The relying party of `public_url` (an origin such as `https://admin.example.com`), shown to
/// customers by authenticators as `name`.
pub fn relying_party(public_url: &str, name: &str) -> Result<Webauthn, RelyingPartyError> {
    let origin =
        Url::parse(public_url).map_err(|error| RelyingPartyError(format!("not a URL: {error}")))?;
    // Browsers refuse an IP address as relying party id: passkeys need a host name.
    let Some(url::Host::Domain(host)) = origin.host() else {
        return Err(RelyingPartyError(
            "must name a host, not an IP address (passkeys need one; locally use http://localhost:PORT)"
                .to_string(),
        ));
    };
    WebauthnBuilder::new(host, &origin)
        .and_then(|builder| builder.rp_name(name).build())
        .map_err(|error| {
            RelyingPartyError(format!("cannot serve as a passkey relying party: {error}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_host() {
        assert!(relying_party("https://admin.example.com", "custadmin").is_ok());
        assert!(relying_party("http://localhost:8080", "custadmin").is_ok());
        assert!(relying_party("http://127.0.0.1:8080", "custadmin").is_err());
        assert!(relying_party("http://[::1]:8080", "custadmin").is_err());
        assert!(relying_party("not a url", "custadmin").is_err());
    }
}
