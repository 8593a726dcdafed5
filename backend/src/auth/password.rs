//! Argon2id password hashing on a bounded pool: at most `concurrency` hashes run at once; the
//! rest wait their turn, admitted by the wait they would face (the queue ahead divided by the
//! slots, times the recent median hash time): a burst is queued, not refused, and only work
//! that would wait longer than `max_wait` gets `503` with `Retry-After`. `queue_limit` is a
//! hard cap behind that.
//! Each hash needs 19 MiB of working memory; the pool reuses one buffer per slot instead of
//! allocating afresh, because glibc keeps freed buffers of that size in per-thread arenas and
//! the process would grow by 19 MiB for every blocking thread that ever hashed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::PasswordHashingSettings;
use crate::domain::Password;

const HASH_BYTES: usize = 32;
/// How many recent hash durations the median is taken over.
const RECENT_DURATIONS: usize = 31;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Too many hashes queued already: the caller should come back later.
    #[error("too many password hashes queued; retry in {retry_after_secs} seconds")]
    Overloaded { retry_after_secs: u64 },
    /// Bad parameters or a failed worker: a server fault.
    #[error("{0}")]
    Failed(String),
}

impl HashingError {
    fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    slots: Arc<Semaphore>,
    concurrency: usize,
    /// Working memory of finished hashes, for the next ones (at most one per slot).
    spare_memory: Mutex<Vec<Vec<Block>>>,
    /// Requests hashing now or waiting for a slot.
    in_flight: AtomicUsize,
    /// Most requests that may be in flight: running plus queued.
    max_in_flight: usize,
    /// The longest wait a request is admitted to.
    max_wait: std::time::Duration,
    /// The last hashes' durations, for the median the wait is estimated with.
    recent_durations: Mutex<std::collections::VecDeque<std::time::Duration>>,
    /// Verified against when the username is unknown, so that costs the same time.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(settings: PasswordHashingSettings) -> Result<Self, HashingError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            Some(HASH_BYTES),
        )
        .map_err(|error| HashingError::failed(format!("argon2 parameters: {error}")))?;
        let mut memory = Vec::new();
        let dummy_hash = hash_with(&params, "dummy password for unknown users", &mut memory)?;
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                slots: Arc::new(Semaphore::new(settings.concurrency)),
                concurrency: settings.concurrency,
                spare_memory: Mutex::new(vec![memory]),
                in_flight: AtomicUsize::new(0),
                max_in_flight: settings.concurrency + settings.queue_limit,
                max_wait: settings.max_wait,
                recent_durations: Mutex::new(std::collections::VecDeque::with_capacity(
                    RECENT_DURATIONS,
                )),
                dummy_hash,
            }),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &Password) -> Result<String, HashingError> {
        let password = password.expose().to_owned();
        let params = self.inner.params.clone();
        self.run(move |memory| hash_with(&params, &password, memory))
            .await?
    }

    /// Checks a password against a stored hash; `None` checks it against the dummy hash and
    /// always fails, taking the same time.
    ///
    /// The normalised (NFKC) form is tried first; when the text as typed differs, it is tried
    /// too, because hashes stored before passwords were normalised were made of it: nobody is
    /// locked out by the change. Such a hash stays as it is until the password next changes.
    /// The dummy hash is tried with the same forms, so an unknown username costs the same.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        let forms: Vec<String> = password.forms().map(str::to_owned).collect();
        let is_real = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.inner.dummy_hash.clone());
        let ceiling = self.inner.params.clone();
        let matches = self
            .run(move |memory| {
                forms
                    .iter()
                    .any(|form| match verify_with(&stored, form, &ceiling, memory) {
                        Ok(matches) => matches,
                        Err(error) => {
                            tracing::error!(%error, "stored password hash cannot be checked");
                            false
                        }
                    })
            })
            .await?;
        Ok(matches && is_real)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        // Counted before waiting so that the bound holds however many arrive at once; the guard
        // uncounts even when the request is dropped while it waits.
        let in_flight = InFlight::enter(self.inner.clone()).inspect_err(|_| {
            crate::monitoring::hashing_refused();
        })?;
        let waiting_since = std::time::Instant::now();
        let slot = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashingError::failed("hashing pool closed"))?;
        crate::monitoring::hashing_waited(waiting_since.elapsed());
        let worker = self.inner.clone();
        // The slot and the count go with the hash, not the request: a request dropped
        // meanwhile must not free a slot while its hash still runs.
        tokio::task::spawn_blocking(move || {
            let mut memory = worker.take_memory();
            let started = std::time::Instant::now();
            let result = work(&mut memory);
            worker.note_duration(started.elapsed());
            worker.return_memory(memory);
            drop((slot, in_flight));
            result
        })
        .await
        .map_err(|error| HashingError::failed(format!("hashing task failed: {error}")))
    }
}

impl PasswordHasher {
    /// Hashes waiting for a slot and hashes running, right now.
    pub fn load(&self) -> (usize, usize) {
        let in_flight = self.inner.in_flight.load(Ordering::SeqCst);
        let running = self.inner.concurrency - self.inner.slots.available_permits();
        (in_flight.saturating_sub(running), running)
    }
}

impl Inner {
    fn note_duration(&self, duration: std::time::Duration) {
        if let Ok(mut recent) = self.recent_durations.lock() {
            if recent.len() == RECENT_DURATIONS {
                recent.pop_front();
            }
            recent.push_back(duration);
        }
    }

    /// The median of the recent hashes (none yet: assume nothing to wait).
    fn median_duration(&self) -> std::time::Duration {
        let Ok(recent) = self.recent_durations.lock() else {
            return std::time::Duration::ZERO;
        };
        let mut sorted: Vec<_> = recent.iter().copied().collect();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }

    /// The wait a request arriving with `ahead` others in flight would face.
    fn estimated_wait(&self, ahead: usize) -> std::time::Duration {
        let rounds = (ahead / self.concurrency.max(1)) as u32;
        self.median_duration().saturating_mul(rounds)
    }

    fn take_memory(&self) -> Vec<Block> {
        self.spare_memory
            .lock()
            .map(|mut spare| spare.pop())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Keeps the buffer for the next hash: one per slot, and only of the configured size (a
    /// larger one, for an old costlier hash, is let go).
    fn return_memory(&self, memory: Vec<Block>) {
        if memory.len() > self.params.block_count() {
            return;
        }
        if let Ok(mut spare) = self.spare_memory.lock() {
            if spare.len() < self.concurrency {
                spare.push(memory);
            }
        }
    }
}

struct InFlight(Arc<Inner>);

impl InFlight {
    /// Counts the request in, or refuses it: when the estimated wait is too long (or the hard
    /// cap is reached), with the seconds after which the queue should have drained enough.
    fn enter(inner: Arc<Inner>) -> Result<Self, HashingError> {
        let ahead = inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let wait = inner.estimated_wait(ahead);
        if ahead >= inner.max_in_flight || wait > inner.max_wait {
            inner.in_flight.fetch_sub(1, Ordering::SeqCst);
            let excess = wait.saturating_sub(inner.max_wait).as_secs() + 1;
            return Err(HashingError::Overloaded {
                retry_after_secs: excess.min(60),
            });
        }
        Ok(Self(inner))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The working memory for `params`, grown (never shrunk) as needed.
fn memory_for<'a>(memory: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    &mut memory[..params.block_count()]
}

fn hash_with(
    params: &Params,
    password: &str,
    memory: &mut Vec<Block>,
) -> Result<String, HashingError> {
    let failed = |error: String| HashingError::failed(format!("argon2 hashing failed: {error}"));
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| failed(e.to_string()))?;
    let mut output = [0u8; HASH_BYTES];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut output,
            memory_for(memory, params),
        )
        .map_err(|e| failed(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| failed(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(|e| failed(e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Recomputes the stored hash with the parameters and salt it records (so hashes made with
/// older costs keep working) and compares in constant time.
/// Recomputing a stored hash costs what its parameters say; a hash in the database asking for
/// far more than the configured cost (corruption or tampering) is refused, not computed.
fn within_ceiling(params: &Params, configured: &Params) -> bool {
    params.m_cost() <= (configured.m_cost() * 4).max(65_536)
        && params.t_cost() <= 16
        && params.p_cost() <= 8
}

fn verify_with(
    stored: &str,
    password: &str,
    configured: &Params,
    memory: &mut Vec<Block>,
) -> Result<bool, String> {
    let parsed = PasswordHash::new(stored).map_err(|error| error.to_string())?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|error| error.to_string())?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).map_err(|error| error.to_string())?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|error| error.to_string())?;
    if !within_ceiling(&params, configured) {
        return Err(format!("stored hash asks for too much: {params:?}"));
    }
    let salt = parsed.salt.ok_or("no salt")?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|error| error.to_string())?;
    let expected = parsed.hash.ok_or("no hash")?;
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut computed,
            memory_for(memory, &params),
        )
        .map_err(|error| error.to_string())?;
    Ok(computed.ct_eq(expected.as_bytes()).into())
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
            max_wait: std::time::Duration::from_secs(10),
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
    async fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let ours = hasher.hash(&password("correct horse")).await.unwrap();
        let reference = Argon2::default();
        assert!(reference
            .verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap())
            .is_ok());
        // A hash made elsewhere, with other costs, still verifies here.
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(16, 2, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &salt)
        .unwrap()
        .to_string();
        assert!(hasher
            .verify(&password("correct horse"), Some(theirs.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify(&password("correct horsf"), Some(theirs))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn passwords_are_hashed_normalised_and_verified_in_any_form() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        // Stored under the ligature "ﬁ": the hash is of "fi", so either spelling signs in.
        let hash = hasher.hash(&password("ﬁsh and chips")).await.unwrap();
        for typed in ["ﬁsh and chips", "fish and chips"] {
            let candidate = Password::candidate(typed.into(), "password").unwrap();
            assert!(hasher.verify(&candidate, Some(hash.clone())).await.unwrap());
        }
    }

    #[tokio::test]
    async fn a_hash_made_before_normalisation_still_verifies_its_password_as_typed() {
        use argon2::password_hash::PasswordHasher as _;
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let legacy = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password("ﬁsh and chips".as_bytes(), &salt)
        .unwrap()
        .to_string();
        let as_typed = Password::candidate("ﬁsh and chips".into(), "password").unwrap();
        assert!(hasher
            .verify(&as_typed, Some(legacy.clone()))
            .await
            .unwrap());
        // Typed the other way, it never was the stored text.
        let other = Password::candidate("fish and chips".into(), "password").unwrap();
        assert!(!hasher.verify(&other, Some(legacy)).await.unwrap());
    }

    #[tokio::test]
    async fn a_stored_hash_asking_for_absurd_cost_is_refused_not_computed() {
        let hasher = PasswordHasher::new(cheap()).unwrap();
        let absurd = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!hasher
            .verify(&password("whatever1"), Some(absurd.into()))
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

    #[tokio::test]
    async fn work_is_refused_only_when_its_wait_would_be_too_long() {
        let settings = PasswordHashingSettings {
            concurrency: 1,
            queue_limit: 1000,
            max_wait: std::time::Duration::from_millis(50),
            ..cheap()
        };
        let hasher = PasswordHasher::new(settings).unwrap();
        // A median of 40 ms: one waiter ahead is fine, two are beyond 50 ms.
        for _ in 0..RECENT_DURATIONS {
            hasher
                .inner
                .note_duration(std::time::Duration::from_millis(40));
        }
        assert_eq!(
            hasher.inner.estimated_wait(1),
            std::time::Duration::from_millis(40)
        );
        let first = InFlight::enter(hasher.inner.clone()).unwrap();
        let second = InFlight::enter(hasher.inner.clone()).unwrap();
        let refused = InFlight::enter(hasher.inner.clone());
        assert!(matches!(
            refused,
            Err(HashingError::Overloaded {
                retry_after_secs: 1
            })
        ));
        drop((first, second));
        assert!(InFlight::enter(hasher.inner.clone()).is_ok());
    }
}
