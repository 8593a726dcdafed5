//! Whether a new password is known from breaches, through a k-anonymity range API compatible
//! with Have I Been Pwned's (`GET {url}/range/{first five hex of SHA-1}`): only five hex
//! characters of the password's SHA-1 leave the server, and padding is asked for so the size
//! of the answer says nothing either. The answer lists `SUFFIX:COUNT` lines; the password is
//! breached when its remaining 35 hex characters are among them with a count above zero
//! (padding lines have count 0).
//!
//! The service is advice, not a gate: when it is down, slow or answers nonsense, the password
//! is accepted, a warning logged and [`BreachedPasswords::unavailable_count`] counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha1::{Digest, Sha1};

/// The largest answer read: a padded range is some 40 KB; anything far beyond is not one.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
const PREFIX_CHARS: usize = 5;

/// What the range API said of a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Breached,
    NotFound,
    /// No usable answer (down, timed out, an error status, an unreadable body): accept.
    Unknown,
}

/// The client of one range API, shared by all workers.
pub struct BreachedPasswords {
    client: reqwest::Client,
    /// Without a trailing slash; `/range/XXXXX` is appended.
    base_url: String,
    /// Checks that got no usable answer since start-up (for the metrics to export).
    unavailable: AtomicU64,
}

impl BreachedPasswords {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could take even the five characters elsewhere; a mirror answers itself.
            .redirect(reqwest::redirect::Policy::none())
            // Each check opens its own connection on the runtime that asks: actix's workers are
            // separate runtimes, and new passwords are too rare for a pool to matter.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("custadmin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("cannot build the breached-password client: {error}"))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            unavailable: AtomicU64::new(0),
        })
    }

    /// Asks the range API about `password` (already normalised). Never fails: an unusable
    /// answer is [`Verdict::Unknown`], logged without the password or more of its hash than
    /// the five characters sent, and counted.
    pub async fn check(&self, password: &str) -> Verdict {
        let digest = data_encoding::HEXUPPER.encode(&Sha1::digest(password.as_bytes()));
        let (prefix, suffix) = digest.split_at(PREFIX_CHARS);
        match self.fetch_range(prefix).await {
            Ok(range) => match range_lists(&range, suffix) {
                Ok(true) => Verdict::Breached,
                Ok(false) => Verdict::NotFound,
                Err(reason) => self.unavailable(&reason),
            },
            Err(reason) => self.unavailable(&reason),
        }
    }

    /// How many checks got no usable answer since start-up.
    pub fn unavailable_count(&self) -> u64 {
        self.unavailable.load(Ordering::Relaxed)
    }

    fn unavailable(&self, reason: &str) -> Verdict {
        self.unavailable.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            service = %self.base_url,
            %reason,
            "breached-password check unavailable; the password was accepted unchecked"
        );
        Verdict::Unknown
    }

    async fn fetch_range(&self, prefix: &str) -> Result<String, String> {
        let url = format!("{}/range/{prefix}", self.base_url);
        // `without_url`: the error's text need not repeat where it went.
        let describe = |error: reqwest::Error| {
            if error.is_timeout() {
                "no answer within the timeout".to_string()
            } else {
                let error = error.without_url();
                match std::error::Error::source(&error) {
                    Some(source) => format!("{error}: {source}"),
                    None => error.to_string(),
                }
            }
        };
        let mut response = self
            .client
            .get(url)
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(describe)?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!("answer over {MAX_ANSWER_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "answer is not text".to_string())
    }
}

/// Whether the range lists `suffix` with a count above zero; `Err` when a line is not
/// `35 hex characters:count`, so a wrong endpoint is noticed rather than read as "not found".
fn range_lists(range: &str, suffix: &str) -> Result<bool, String> {
    let mut listed = false;
    for line in range.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let parsed = line.split_once(':').and_then(|(hash, count)| {
            let count: u64 = count.trim().parse().ok()?;
            let is_suffix =
                hash.len() == suffix.len() && hash.bytes().all(|byte| byte.is_ascii_hexdigit());
            is_suffix.then_some((hash, count))
        });
        let Some((hash, count)) = parsed else {
            return Err("answer is not a list of SUFFIX:COUNT lines".into());
        };
        if count > 0 && hash.eq_ignore_ascii_case(suffix) {
            listed = true;
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // SHA-1 of "password": 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8.
    const SUFFIX: &str = "1E4C9B93F3F0682250B6CF8331B7EE68FD8";

    #[test]
    fn a_listed_suffix_with_a_count_is_a_hit_in_any_case() {
        let range = format!("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n{SUFFIX}:3861493\r\n");
        assert_eq!(range_lists(&range, SUFFIX), Ok(true));
        let lower = format!("{}:2", SUFFIX.to_lowercase());
        assert_eq!(range_lists(&lower, SUFFIX), Ok(true));
    }

    #[test]
    fn padding_lines_are_no_hit() {
        let range = format!("{SUFFIX}:0\n0018A45C4D1DEF81644B54AB7F969B88D65:4\n");
        assert_eq!(range_lists(&range, SUFFIX), Ok(false));
        assert_eq!(range_lists("", SUFFIX), Ok(false));
    }

    #[test]
    fn an_answer_that_is_no_range_is_an_error_not_a_miss() {
        assert!(range_lists("<html>Service Unavailable</html>", SUFFIX).is_err());
        assert!(range_lists(&format!("{SUFFIX}:many"), SUFFIX).is_err());
        assert!(range_lists("ABC:1", SUFFIX).is_err());
    }
}
