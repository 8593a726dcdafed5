//! For the token modules' tests: a token's header and claims read without checking anything,
//! and JSON encoded as a JWS segment, to forge the tokens those tests must see refused.

use base64::Engine;

/// `value` as a base64url JWS segment (no padding).
pub fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A compact JWS's header and claims, decoded and not verified.
pub fn parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    let mut pieces = token.split('.');
    let decode = |piece: &str| {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(piece)
                .unwrap(),
        )
        .unwrap()
    };
    (
        decode(pieces.next().unwrap()),
        decode(pieces.next().unwrap()),
    )
}
