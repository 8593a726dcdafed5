//! The rules every new password meets (NIST SP 800-63B), wherever it is set: sign-up, the
//! operator's `account create`, a change, a reset. Its length was checked when it was parsed
//! (`Password::parse_new`, which also normalises it); here it must be hard to guess for this
//! account (zxcvbn, the account's own words as a dictionary) and, when a range API is
//! configured, unknown from breaches. Both run before the password is hashed.

use super::AppState;
use crate::auth::password_strength::{self, NewPasswordRefused};
use crate::breached_passwords::Verdict;
use crate::domain::Password;

/// Checks a new password of the account `username` (with `email`, if it has one).
pub async fn check_new_password(
    state: &AppState,
    password: &Password,
    username: &str,
    email: Option<&str>,
) -> Result<(), NewPasswordRefused> {
    let field = password.field();
    let text = password.expose().to_owned();
    let words = password_strength::personal_words(username, email);
    // A few milliseconds of CPU: off the async workers, like hashing.
    let strength = {
        let text = text.clone();
        tokio::task::spawn_blocking(move || password_strength::check(&text, &words)).await
    };
    match strength {
        Ok(Ok(())) => {}
        Ok(Err(feedback)) => return Err(NewPasswordRefused::TooWeak { field, feedback }),
        // The estimate panicked or was cancelled: zxcvbn is advice; the breach check and
        // the length rule still stand.
        Err(error) => tracing::error!(%error, "password strength estimate failed"),
    }
    if let Some(breached) = &state.breached_passwords {
        if breached.check(&text).await == Verdict::Breached {
            return Err(NewPasswordRefused::Breached { field });
        }
    }
    Ok(())
}
