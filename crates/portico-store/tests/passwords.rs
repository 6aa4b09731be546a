//! Passwords stored with earlier Argon2id settings still sign their owners in, and are made
//! again with today's settings as they do. Runs on SQLite, and on PostgreSQL as the application
//! role when PORTICO_TEST_POSTGRES_URL is set.

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Params, Version};
use portico_core::PortalRole;
use portico_store::system::SeedPortalUser;
use portico_store::test_support::TestDatabase;
use portico_store::{Credentials, SignInOutcome, SurfaceKind, password};

#[tokio::test]
async fn a_hash_of_earlier_settings_signs_in_and_is_made_again() {
    let db = TestDatabase::create().await;
    let earlier = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).unwrap(),
    )
    .hash_password(b"correct horse battery")
    .unwrap()
    .to_string();
    let mut tx = db.store.system_unscoped().await.unwrap();
    let ws = tx
        .create_workspace("One", "#1a73e8", "#333333", "")
        .await
        .unwrap();
    let company = tx
        .add_company(ws, "A", "Plan", None, None, "AUD", true)
        .await
        .unwrap();
    tx.add_portal_user(
        ws,
        &SeedPortalUser {
            company,
            email: "ana@a.test",
            name: "Ana",
            role: PortalRole::Member,
            own_only: false,
            billing_access: false,
            password_hash: Some(&earlier),
            sites: &[],
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let sign_in = async |password: &str| {
        let mut auth = db.store.auth(ws).await.unwrap();
        let outcome = auth
            .sign_in(&Credentials {
                surface: SurfaceKind::Portal,
                email: "ana@a.test",
                password,
                ip: "127.0.0.1",
                remembered_device: None,
                next: "/",
            })
            .await
            .unwrap();
        auth.commit().await.unwrap();
        matches!(outcome, SignInOutcome::Success(_))
    };
    let stored = async || {
        let mut tx = db.store.system_unscoped().await.unwrap();
        tx.password_hash_of("ana@a.test").await.unwrap().unwrap()
    };

    // A wrong password changes nothing.
    assert!(!sign_in("wrong horse battery").await);
    assert_eq!(stored().await, earlier);
    // The right one signs in, and the hash is made again with today's settings.
    assert!(sign_in("correct horse battery").await);
    let now = stored().await;
    assert_ne!(now, earlier);
    assert!(!password::needs_rehash(&now), "{now}");
    assert!(password::verify("correct horse battery", &now));
    assert!(sign_in("correct horse battery").await);
    assert_eq!(stored().await, now, "made once");
}
