//! Argon2id password hashing on a bounded pool: at most `concurrency` hashes run at once and at
//! most `queue_limit` wait, so a login flood costs bounded memory and gets `503` beyond that.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::PasswordHashingSettings;
use crate::domain::Password;
use crate::error::ApiError;

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    slots: Semaphore,
    /// Requests hashing now or waiting for a slot.
    in_flight: AtomicUsize,
    /// Most requests that may be in flight: running plus queued.
    max_in_flight: usize,
    /// Verified against when the username is unknown, so that costs the same time.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(settings: PasswordHashingSettings) -> Result<Self, ApiError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|error| ApiError::internal(format!("argon2 parameters: {error}")))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon2, "dummy password for unknown users")?;
        Ok(Self {
            inner: Arc::new(Inner {
                argon2,
                slots: Semaphore::new(settings.concurrency),
                in_flight: AtomicUsize::new(0),
                max_in_flight: settings.concurrency + settings.queue_limit,
                dummy_hash,
            }),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let password = password.expose().to_owned();
        self.run(move |argon2| hash_with(argon2, &password)).await?
    }

    /// Checks a password against a stored hash; `None` checks it against the dummy hash and
    /// always fails, taking the same time.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<String>,
    ) -> Result<bool, ApiError> {
        let password = password.expose().to_owned();
        let is_real = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.inner.dummy_hash.clone());
        let matches = self
            .run(move |argon2| match PasswordHash::new(&stored) {
                Ok(parsed) => argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
                Err(error) => {
                    tracing::error!(%error, "stored password hash cannot be parsed");
                    false
                }
            })
            .await?;
        Ok(matches && is_real)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let inner = self.inner.clone();
        // Counted before waiting so that the bound holds however many arrive at once; the guard
        // uncounts even when the request is dropped while it waits.
        let _in_flight = InFlight::enter(&inner).ok_or(ApiError::Overloaded {
            retry_after_secs: 1,
        })?;
        let _slot = inner
            .slots
            .acquire()
            .await
            .map_err(|_| ApiError::internal("hashing pool closed"))?;
        let worker = inner.clone();
        tokio::task::spawn_blocking(move || work(&worker.argon2))
            .await
            .map_err(|error| ApiError::internal(format!("hashing task failed: {error}")))
    }
}

struct InFlight<'a>(&'a Inner);

impl<'a> InFlight<'a> {
    fn enter(inner: &'a Inner) -> Option<Self> {
        let ahead = inner.in_flight.fetch_add(1, Ordering::SeqCst);
        if ahead >= inner.max_in_flight {
            inner.in_flight.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self(inner))
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn hash_with(argon2: &Argon2<'static>, password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::internal(format!("argon2 hashing failed: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashingSettings {
        PasswordHashingSettings {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
            concurrency: 2,
            queue_limit: 4,
        }
    }

    fn password(text: &str) -> Password {
        Password::parse_new(text.into(), "password").unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let hash = hasher.hash(&password("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(hasher
            .verify(&password("correct horse"), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify(&password("correct horsf"), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn production_parameters_are_the_owasp_ones() {
        let hasher = PasswordHasher::new(PasswordHashingSettings::default()).unwrap();
        let hash = hasher.hash(&password("correct horse")).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        assert!(!hasher
            .verify(&password("dummy password for unknown users"), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_fails_closed() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        assert!(!hasher
            .verify(&password("whatever1"), Some("not a hash".into()))
            .await
            .unwrap());
    }
}
