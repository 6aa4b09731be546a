//! Password hashing with Argon2id at the OWASP/ASVS floor or above.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::StoreError;

/// 19 MiB of memory, 2 passes, 1 lane: the ASVS minimum for Argon2id.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;

/// Shortest password accepted anywhere.
pub const MIN_LENGTH: usize = 12;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, StoreError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| StoreError::Hash)
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of a real verification, so an unknown account answers as slowly as a wrong
/// password and cannot be told apart by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("portico-dummy-password").unwrap_or_default());
    let _ = verify(password, stored);
}

/// Hashes and verifications of requests running at once, at most. Each holds `MEMORY_KIB`
/// (19 MiB) while it runs: without a bound, sign-ins arriving together multiplied an
/// instance's memory by as many (a flood of them could exhaust it), and each blocked the
/// runtime thread it ran on for its 30–50 ms. One at a time, on a thread for blocking work,
/// checks 20–30 passwords a second, far above what people signing in ask of one instance;
/// the sign-in throttle keeps guessing slower still.
static IN_TURN: Semaphore = Semaphore::const_new(1);

/// Runs `work` (hashing) in its turn, off the runtime's threads.
async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _turn = IN_TURN.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// [`hash`] for a request, in its turn ([`IN_TURN`]).
pub async fn hash_in_turn(password: &str) -> Result<String, StoreError> {
    let password = password.to_owned();
    in_turn(move || hash(&password))
        .await
        .unwrap_or(Err(StoreError::Hash))
}

/// [`verify`] for a request, in its turn ([`IN_TURN`]).
pub async fn verify_in_turn(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    in_turn(move || verify(&password, &stored))
        .await
        .unwrap_or(false)
}

/// [`verify_dummy`] for a request, in its turn ([`IN_TURN`]).
pub async fn verify_dummy_in_turn(password: &str) {
    let password = password.to_owned();
    in_turn(move || verify_dummy(&password)).await;
}

/// Why a new password is refused, in words for the person choosing it.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!(
            "Choose a password of at least {MIN_LENGTH} characters."
        ));
    }
    if password.chars().count() > 256 {
        return Err("Choose a password of at most 256 characters.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_the_asvs_floor_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
    }
}
