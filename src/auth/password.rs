//! Password hashing with argon2id, off the async runtime and with bounded concurrency.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// Hashes and verifies passwords. Each hash takes tens of milliseconds and
/// `memory_kib` of memory, so at most a few run at once.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the e-mail is unknown,
    /// so a wrong e-mail takes as long as a wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new(memory_kib: u32, iterations: u32) -> AppResult<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| AppError::validation("argon2", format!("bad argon2 parameters: {e}")))?;
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
        let mut hasher = Self {
            params,
            permits: Arc::new(Semaphore::new(permits)),
            dummy_hash: Arc::new(String::new()),
        };
        let random = SaltString::generate(&mut OsRng);
        hasher.dummy_hash = Arc::new(hasher.hash_blocking(random.as_str())?);
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_blocking(&self, password: &str) -> AppResult<String> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("hashing failed: {e}")))
    }

    /// The PHC string of a new hash of `password`.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let this = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || this.hash_blocking(&password))
            .await
            .map_err(AppError::internal)?
    }

    /// Does `password` match `hash`? With `None` (no such user, or no password)
    /// the same work is done and the answer is `false`.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> AppResult<bool> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        let argon = self.argon2();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(AppError::internal)?;
        Ok(known && ok)
    }
}

/// A new temporary password, for the secretariat to pass on: 20 letters and
/// digits from the operating system's random source (about 100 bits), in
/// groups of five, without the look-alikes 0/O, 1/l/I.
pub fn temporary_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..5)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn temporary_passwords_differ_and_meet_the_policy() {
        let a = super::temporary_password();
        let b = super::temporary_password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 23);
        assert!(crate::domain::accounts::NewPassword::parse(&a).is_ok());
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
        assert!(!a.contains(['0', 'o', '1', 'l']));
    }

    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let h = PasswordHasher::new(1024, 1).expect("params");
        let a = h.hash("correct horse battery").await.expect("hash");
        let b = h.hash("correct horse battery").await.expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(h
            .verify(Some(&a), "correct horse battery")
            .await
            .expect("verify"));
        assert!(!h
            .verify(Some(&a), "wrong horse battery")
            .await
            .expect("verify"));
        assert!(!h
            .verify(None, "correct horse battery")
            .await
            .expect("verify"));
        assert!(!h
            .verify(Some("not a phc string"), "x")
            .await
            .expect("verify"));
    }
}
