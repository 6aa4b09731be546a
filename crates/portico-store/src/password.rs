//! Password hashing with Argon2id at the OWASP/ASVS floor or above.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::StoreError;

/// 7 MiB of memory, 5 passes, 1 lane: one of the Argon2id settings OWASP's password storage
/// guidance lists as equally strong (19 MiB and 2 passes, 12 MiB and 3, 9 MiB and 4, 7 MiB and
/// 5), at the ASVS floor. Of those, the one that holds least memory while it runs, for about
/// the same time: a server hashing a password holds it whole, and 19 MiB was a third of an
/// instance's memory. Hashes made with other settings still verify (the settings are in each
/// hash) and are made again with these at the next sign-in ([`needs_rehash`]).
pub const MEMORY_KIB: u32 = 7 * 1024;
pub const PASSES: u32 = 5;

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

/// Whether `stored` was made with settings other than today's, and should be made again from
/// the password its owner just gave.
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with(&format!("$argon2id$v=19$m={MEMORY_KIB},t={PASSES},p=1$"))
}

/// Spends the time of a real verification, so an unknown account answers as slowly as a wrong
/// password and cannot be told apart by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("portico-dummy-password").unwrap_or_default());
    let _ = verify(password, stored);
}

/// Hashes and verifications of requests running at once, at most. Each holds `MEMORY_KIB`
/// (7 MiB; 19 MiB for hashes made before) while it runs: without a bound, sign-ins arriving together multiplied an
/// instance's memory by as many (a flood of them could exhaust it), and each blocked the
/// runtime thread it ran on for its 30–50 ms. One at a time checks 20–30 passwords a second,
/// far above what people signing in ask of one instance; the sign-in throttle keeps guessing
/// slower still.
static IN_TURN: Semaphore = Semaphore::const_new(1);

/// Runs `work` (hashing) in its turn, on a thread of its own that ends with it, so that no
/// runtime thread waits for it and no pooled thread keeps a hash's memory in its allocator's
/// cache. Starting one costs tens of microseconds against a hash's tens of milliseconds.
async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _turn = IN_TURN.acquire().await.ok()?;
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("password-hash".into())
        .spawn(move || {
            let _ = done.send(work());
        })
        .ok()?;
    result.await.ok()
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
        assert!(h.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a hash"));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn hashes_of_earlier_settings_verify_and_are_due_for_rehashing() {
        let params = Params::new(19 * 1024, 2, 1, None).unwrap();
        let earlier = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(earlier.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &earlier));
        assert!(needs_rehash(&earlier));
    }
}
