//! Single sign-on against a real, certified OpenID Connect provider (node-oidc-provider, run
//! with the machine's Node.js on 127.0.0.1 by this harness; see `tests/oidc/provider.mjs`):
//! a sign-in, and each way it must fail — another audience, a bad signature, an expired token,
//! a replayed state, an unverified address, an account whose company does not own its domain,
//! an address at a domain no company owns — plus a first sign-in at a company's domain making a
//! member, and a company that requires single sign-on refusing passwords.
//!
//! Runs when `node` is on the PATH (installing the provider's npm packages on first use);
//! `.ci/run` sets `PORTICO_OIDC_TESTS=required`, which turns a missing Node.js into a failure.

mod common;

use common::{CONSOLE, PASSWORD, PORTAL, Response, TestApp, Who};
use openidconnect::reqwest;

/// The provider, redirecting back to both surfaces at the port the tests' links carry.
fn start_provider() -> Option<(common::OidcProvider, String)> {
    common::start_oidc_provider(&[
        format!("http://{PORTAL}:8080/login/sso/callback"),
        format!("http://{CONSOLE}:8080/login/sso/callback"),
    ])
}

/// The app with the provider configured for both surfaces by an owner, through the console.
async fn app_with_sso(issuer: &str) -> TestApp {
    let app = TestApp::spawn().await;
    let saved = app
        .post_as(
            Who::Owner,
            "/settings/sso",
            &[
                ("display_name", "Test IdP"),
                ("issuer_url", issuer),
                ("client_id", "portico"),
                ("client_secret", "portico-test-secret"),
                ("for_staff", "1"),
                ("for_portal", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    app
}

/// A browser at the provider: follows its redirects with its cookies until it sends the
/// person back to Portico, and returns that callback's path and query.
async fn at_provider(authorize: &str, login_hint: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut url = format!(
        "{authorize}&login_hint={}",
        form_urlencoded::byte_serialize(login_hint.as_bytes()).collect::<String>()
    );
    let mut cookies: Vec<(String, String)> = Vec::new();
    for _ in 0..10 {
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = client
            .get(&url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                cookies.retain(|(name, _)| name != k);
                cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("the provider answered {status} without a redirect"));
        let next = reqwest::Url::parse(&url).unwrap().join(&location).unwrap();
        if next.path() == "/login/sso/callback" {
            return format!("{}?{}", next.path(), next.query().unwrap_or(""));
        }
        url = next.to_string();
    }
    panic!("the provider never sent the browser back");
}

/// Starts a sign-in on `host`: Portico's redirect to the provider, and its state cookie.
async fn begin(app: &TestApp, host: &str) -> (String, String) {
    let start = app.get(host, "/login/sso").send().await;
    assert_eq!(start.status, 303, "{}", start.body);
    let cookie = start.cookie("portico_sso").expect("the state cookie");
    (start.location().to_owned(), cookie)
}

async fn back(app: &TestApp, host: &str, callback: &str, cookie: &str) -> Response {
    app.get(host, callback)
        .cookie("portico_sso", cookie)
        .send()
        .await
}

async fn tamper(issuer: &str, mode: &str) {
    reqwest::Client::new()
        .post(format!("{issuer}/__tamper?mode={mode}"))
        .send()
        .await
        .unwrap();
}

/// One whole sign-in as `login_hint` on `host`, the provider spoiling the token with `mode`.
async fn sign_in_as(
    app: &TestApp,
    issuer: &str,
    host: &str,
    login_hint: &str,
    mode: Option<&str>,
) -> Response {
    let (authorize, cookie) = begin(app, host).await;
    let callback = at_provider(&authorize, login_hint).await;
    if let Some(mode) = mode {
        tamper(issuer, mode).await;
    }
    back(app, host, &callback, &cookie).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_opens_the_right_account_and_nothing_else() {
    let Some((_provider, issuer)) = start_provider() else {
        return;
    };
    let app = app_with_sso(&issuer).await;

    // The sign-in page offers it.
    let login = app.get(PORTAL, "/login").send().await;
    assert!(
        login.body.contains("Sign in with Test IdP"),
        "{}",
        login.body
    );

    // A portal user: the provider's answer, checked, opens their session.
    let (authorize, cookie) = begin(&app, PORTAL).await;
    assert!(authorize.starts_with(&issuer), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256"));
    assert!(authorize.contains("nonce="));
    let callback = at_provider(&authorize, "member@a.test").await;
    let signed = back(&app, PORTAL, &callback, &cookie).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.location(), "/");
    let session = signed.cookie("portico_portal").expect("a session");
    let home = app
        .get(PORTAL, "/profile")
        .session(Some(&session))
        .send()
        .await;
    assert!(home.body.contains("member@a.test"));

    // The same answer again: the state was used up.
    let replayed = back(&app, PORTAL, &callback, &cookie).await;
    assert_eq!(replayed.status, 401);
    assert!(replayed.body.contains("expired or was already used"));
    assert!(replayed.cookie("portico_portal").is_none());
    // An answer carried to another browser (no state cookie) opens nothing either.
    let (authorize, _) = begin(&app, PORTAL).await;
    let callback = at_provider(&authorize, "member@a.test").await;
    let elsewhere = app.get(PORTAL, &callback).send().await;
    assert_eq!(elsewhere.status, 401);
    assert!(elsewhere.body.contains("did not start in this browser"));

    // Tokens the provider did not make for us, or that are broken or stale.
    for mode in ["aud", "signature", "expired"] {
        let refused = sign_in_as(&app, &issuer, PORTAL, "member@a.test", Some(mode)).await;
        assert_eq!(refused.status, 401, "{mode}: {}", refused.body);
        assert!(refused.body.contains("could not be trusted"), "{mode}");
        assert!(refused.cookie("portico_portal").is_none(), "{mode}");
    }

    // An address the provider has not verified.
    let unverified = sign_in_as(&app, &issuer, PORTAL, "unverified.member@a.test", None).await;
    assert_eq!(unverified.status, 401);
    assert!(
        unverified
            .body
            .contains("has not verified your e-mail address")
    );

    // An address at a domain no company owns: no account is made.
    let stranger = sign_in_as(&app, &issuer, PORTAL, "stranger@nowhere.test", None).await;
    assert_eq!(stranger.status, 401);
    assert!(stranger.body.contains("no account for this address"));

    // A user of company A at company B's domain (an owner invited them at any address).
    let company = app.fx.company_a;
    let invited = app
        .post_as(
            Who::Owner,
            &format!("/companies/{company}/users"),
            &[
                ("name", "Guest"),
                ("email", "guest@b.test"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let foreign = sign_in_as(&app, &issuer, PORTAL, "guest@b.test", None).await;
    assert_eq!(foreign.status, 401);

    // A first sign-in at company A's domain makes nobody while A lets its people use
    // passwords (see the next test for a company that signs its people in this way).
    let newcomer = sign_in_as(&app, &issuer, PORTAL, "new.person@a.test", None).await;
    assert_eq!(newcomer.status, 401);

    // An issuer over plain HTTP off this machine is refused: keys and tokens travel over it.
    let plain = app
        .post_as(
            Who::Owner,
            "/settings/sso",
            &[
                ("display_name", "Test IdP"),
                ("issuer_url", "http://idp.example.com"),
                ("client_id", "portico"),
                ("client_secret", "portico-test-secret"),
                ("for_portal", "1"),
            ],
        )
        .await;
    assert_eq!(plain.status, 422);

    // Staff sign in to the console the same way; the console's flow is its own.
    let staff = sign_in_as(&app, &issuer, CONSOLE, "owner@msp.test", None).await;
    assert_eq!(staff.status, 303, "{}", staff.body);
    assert!(staff.cookie("portico_console").is_some());

    // Each outcome is in the audit log: refusals before an address could be trusted on the
    // workspace's chain (the owners'), sign-ins on the company's.
    app.store().flush_audit().await.unwrap();
    let log = app.get_as(Who::Owner, "/audit?action=sign_in_failed").await;
    assert!(
        log.body.contains("single sign-on: ID token"),
        "{}",
        log.body
    );
    assert!(log.body.contains("state unknown, expired or already used"));
    let log = app.get_as(Who::ClientAdmin, "/audit?action=sign_in").await;
    assert!(log.body.contains("single sign-on (Test IdP)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_that_requires_single_sign_on_refuses_passwords() {
    let Some((_provider, issuer)) = start_provider() else {
        return;
    };
    let app = app_with_sso(&issuer).await;
    let company = app.fx.company_a;
    let saved =
        common::save_portal_settings(&app, company, &["portal_enabled", "sso_required"], &[]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let password = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(password.location(), "/login?done=sso");
    assert!(password.cookie("portico_portal").is_none());
    let page = app.get(PORTAL, "/login?done=sso").send().await;
    assert!(page.body.contains("signs in through single sign-on"));
    // Company B's people still use their password.
    let b = app.sign_in(PORTAL, "user@b.test", PASSWORD).await;
    assert_eq!(b.location(), "/");
    // Someone of company B who was granted A: their password would open A too.
    let granted = app.sign_in(PORTAL, "two@b.test", PASSWORD).await;
    assert_eq!(granted.location(), "/login?done=sso");
    // And single sign-on opens the portal for A's member.
    let signed = sign_in_as(&app, &issuer, PORTAL, "member@a.test", None).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    // A first sign-in at A's domain makes a member of A, who sees their own tickets.
    let newcomer = sign_in_as(&app, &issuer, PORTAL, "new.person@a.test", None).await;
    assert_eq!(newcomer.status, 303, "{}", newcomer.body);
    let session = newcomer.cookie("portico_portal").unwrap();
    let profile = app
        .get(PORTAL, "/profile")
        .session(Some(&session))
        .send()
        .await;
    assert!(profile.body.contains("new.person@a.test"));
    assert!(profile.body.contains("Member"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_verification_follows_single_sign_on() {
    let Some((_provider, issuer)) = start_provider() else {
        return;
    };
    let app = app_with_sso(&issuer).await;
    // The owner requires two-step verification of staff: after the provider, the console asks
    // for it (here, to set it up) before any session opens.
    let required = app
        .post_as(Who::Owner, "/settings/staff-mfa", &[("mfa_required", "1")])
        .await;
    assert_eq!(required.status, 303);
    let staff = sign_in_as(&app, &issuer, CONSOLE, "owner@msp.test", None).await;
    assert_eq!(staff.status, 303, "{}", staff.body);
    assert_eq!(staff.location(), "/login/verify");
    assert!(staff.cookie("portico_console").is_none());
}
