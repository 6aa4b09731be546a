//! Two-step verification through HTTP (A3, P17): setting up an authenticator from the security
//! page, signing in with a code (each code once), with a recovery code (each once), on a
//! remembered browser; the throttle over wrong codes; a company's requirement making its users
//! set one up at sign-in; a password reset that does not skip the second step; staff resetting
//! a portal user's, audited on the company's chain.

mod common;

use common::{CONSOLE, PASSWORD, PORTAL, Response, TestApp, Who};
use portico_store::SurfaceKind;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The code an authenticator app of `secret` shows at `unix_seconds`.
fn code_at(secret: &str, unix_seconds: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret.replace(' ', "")).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(unix_seconds as u64).to_string()
}

/// The code an authenticator app of `secret` shows `steps` time steps from now.
fn code(secret: &str, steps: i64) -> String {
    code_at(secret, unix_now() + 30 * steps)
}

/// What turning the authenticator on left: its key, the recovery codes, and the instant whose
/// code confirmed it (so that a test can replay exactly that code even when the 30-second step
/// has turned since).
struct Enrolled {
    secret: String,
    codes: Vec<String>,
    confirmed_at: i64,
}

/// The key an enrolment page shows for typing.
fn shown_secret(page: &Response) -> String {
    let marker = "<code class=\"secret\">";
    let start = page.body.find(marker).expect("the key") + marker.len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_owned()
}

fn recovery_codes(page: &Response) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

/// Posts the second step's form with the challenge cookie the password step set.
async fn answer(
    app: &TestApp,
    host: &str,
    challenge: &str,
    code: &str,
    remember: bool,
) -> Response {
    let page = app
        .get(host, "/login/verify")
        .cookie("portico_mfa", challenge)
        .send()
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form_token = page.cookie("portico_form").unwrap();
    let mut form = vec![("form_token", form_token.as_str()), ("code", code)];
    if remember {
        form.push(("remember", "on"));
    }
    app.post(host, "/login/verify")
        .cookie("portico_form", &form_token)
        .cookie("portico_mfa", challenge)
        .form(&form)
        .send()
        .await
}

/// Turns two-step verification on for the member from their security page; returns the key.
async fn enrol_member(app: &TestApp) -> Enrolled {
    let token = app.session_for(Who::Member).await;
    let csrf = app.csrf(Who::Member, token.as_deref()).await;
    let page = app
        .post(PORTAL, "/security/enrol")
        .session(token.as_deref())
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg role=\"img\""), "a QR code");
    assert!(
        page.body.contains("otpauth") || page.body.contains("<path"),
        "the code's drawing"
    );
    let secret = shown_secret(&page);
    let wrong = app
        .post(PORTAL, "/security/enrol/confirm")
        .session(token.as_deref())
        .form(&[("csrf", &csrf), ("code", "000000")])
        .send()
        .await;
    assert_eq!(wrong.status, 422, "a wrong code does not turn it on");
    assert_eq!(shown_secret(&wrong), secret, "the same key is shown again");
    let confirmed_at = unix_now();
    let done = app
        .post(PORTAL, "/security/enrol/confirm")
        .session(token.as_deref())
        .form(&[("csrf", &csrf), ("code", &code_at(&secret, confirmed_at))])
        .send()
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = recovery_codes(&done);
    assert_eq!(codes.len(), 10);
    let status = app
        .get(PORTAL, "/security")
        .session(token.as_deref())
        .send()
        .await;
    assert!(status.body.contains("10 of 10 recovery codes left"));
    Enrolled {
        secret,
        codes,
        confirmed_at,
    }
}

#[tokio::test]
async fn an_authenticator_guards_sign_in_and_each_code_works_once() {
    let app = TestApp::spawn().await;
    let Enrolled {
        secret,
        codes,
        confirmed_at,
    } = enrol_member(&app).await;

    // The password alone opens no session: it leads to the second step.
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(signed.status, 303);
    assert_eq!(signed.location(), "/login/verify");
    assert!(signed.cookie("portico_portal").is_none(), "no session yet");
    let challenge = signed.cookie("portico_mfa").unwrap();

    let wrong = answer(&app, PORTAL, &challenge, "123456", false).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("That code is not right"));
    assert!(wrong.cookie("portico_portal").is_none());

    // The code used at enrolment (this step's) is spent; the next step's is good.
    let replayed = answer(
        &app,
        PORTAL,
        &challenge,
        &code_at(&secret, confirmed_at),
        false,
    )
    .await;
    assert_eq!(replayed.status, 401, "a code is accepted once");
    let next_code = code_at(&secret, confirmed_at + 30);
    let passed = answer(&app, PORTAL, &challenge, &next_code, false).await;
    assert_eq!(passed.status, 303, "{}", passed.body);
    assert_eq!(passed.location(), "/");
    let session = passed.cookie("portico_portal").unwrap();
    let home = app.get(PORTAL, "/").session(Some(&session)).send().await;
    assert_eq!(home.status, 200);
    // The challenge is used up.
    let again = app
        .get(PORTAL, "/login/verify")
        .cookie("portico_mfa", &challenge)
        .send()
        .await;
    assert_eq!(again.location(), "/login?done=expired");

    // A recovery code instead of the app: once.
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    let challenge = signed.cookie("portico_mfa").unwrap();
    let recovered = answer(&app, PORTAL, &challenge, &codes[0].to_uppercase(), false).await;
    assert_eq!(recovered.status, 303, "{}", recovered.body);
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    let challenge = signed.cookie("portico_mfa").unwrap();
    let spent = answer(&app, PORTAL, &challenge, &codes[0], false).await;
    assert_eq!(spent.status, 401, "a recovery code works once");

    // The log says how each sign-in passed.
    app.store().flush_audit().await.unwrap();
    let log = app.get_as(Who::ClientAdmin, "/audit?action=sign_in").await;
    assert!(
        log.body.contains("second step: authenticator code"),
        "{}",
        log.body
    );
    assert!(log.body.contains("second step: a recovery code"));
    let enabled = app
        .get_as(Who::ClientAdmin, "/audit?action=mfa_enabled")
        .await;
    assert!(enabled.body.contains("Turned on two-step verification"));
}

#[tokio::test]
async fn wrong_codes_are_throttled_with_the_password_and_signing_in_again_buys_no_more() {
    let app = TestApp::spawn().await;
    let secret = enrol_member(&app).await.secret;
    let mut statuses = Vec::new();
    // Each round: the password again (a new challenge), then a wrong code.
    for _ in 0..4 {
        let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
        if signed.status != 303 {
            statuses.push(signed.status);
            continue;
        }
        let challenge = signed.cookie("portico_mfa").unwrap();
        statuses.push(
            answer(&app, PORTAL, &challenge, "000000", false)
                .await
                .status,
        );
    }
    assert!(
        statuses.contains(&429),
        "the account's throttle counts the second step: {statuses:?}"
    );
    // Even the right code is refused while throttled.
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(signed.status, 429);
    let _ = secret;
}

#[tokio::test]
async fn a_remembered_browser_skips_the_second_step_until_forgotten() {
    let app = TestApp::spawn().await;
    let secret = enrol_member(&app).await.secret;
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    let challenge = signed.cookie("portico_mfa").unwrap();
    let passed = answer(&app, PORTAL, &challenge, &code(&secret, 1), true).await;
    assert_eq!(passed.status, 303, "{}", passed.body);
    let device = passed.cookie("portico_device_portal").expect("remembered");
    let session = passed.cookie("portico_portal").unwrap();

    let sign_in_on_this_browser = || async {
        let page = app.get(PORTAL, "/login").send().await;
        let form_token = page.cookie("portico_form").unwrap();
        app.post(PORTAL, "/login")
            .cookie("portico_form", &form_token)
            .cookie("portico_device_portal", &device)
            .form(&[
                ("form_token", form_token.as_str()),
                ("email", "member@a.test"),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
    };
    let direct = sign_in_on_this_browser().await;
    assert_eq!(
        direct.location(),
        "/",
        "the remembered browser goes straight in"
    );
    assert!(direct.cookie("portico_portal").is_some());

    // Without the cookie, the code is asked for.
    let other = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(other.location(), "/login/verify");

    // Forgotten from the security page: the code is asked for again.
    let csrf = app
        .get(PORTAL, "/profile")
        .session(Some(&session))
        .send()
        .await
        .hidden("csrf");
    let forgot = app
        .post(PORTAL, "/security/forget-devices")
        .session(Some(&session))
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(forgot.status, 303);
    assert_eq!(sign_in_on_this_browser().await.location(), "/login/verify");
}

#[tokio::test]
async fn a_company_that_requires_it_has_its_users_set_it_up_at_sign_in() {
    let app = TestApp::spawn().await;
    let company = app.fx.company_a;
    // The owner requires it for company A's portal users.
    let saved =
        common::save_portal_settings(&app, company, &["portal_enabled", "mfa_required"], &[]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    // The member signs in: first an authenticator to set up, shown with its QR code.
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(signed.location(), "/login/verify");
    let challenge = signed.cookie("portico_mfa").unwrap();
    let page = app
        .get(PORTAL, "/login/verify")
        .cookie("portico_mfa", &challenge)
        .send()
        .await;
    assert!(page.body.contains("Set up two-step verification"));
    assert!(page.body.contains("<svg role=\"img\""));
    let secret = shown_secret(&page);
    let done = answer(&app, PORTAL, &challenge, &code(&secret, 0), false).await;
    assert_eq!(done.status, 200, "the recovery codes, once: {}", done.body);
    assert_eq!(recovery_codes(&done).len(), 10);
    let session = done.cookie("portico_portal").expect("signed in");
    // Required: it cannot be turned off.
    let csrf = app
        .get(PORTAL, "/profile")
        .session(Some(&session))
        .send()
        .await
        .hidden("csrf");
    let off = app
        .post(PORTAL, "/security/disable")
        .session(Some(&session))
        .form(&[("csrf", csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await;
    assert_eq!(off.status, 422);
    assert!(off.body.contains("required for your account"));

    // A user of company B is not asked.
    let b = app.sign_in(PORTAL, "user@b.test", PASSWORD).await;
    assert_eq!(b.location(), "/", "{}", b.body);

    // A password reset link does not skip the second step.
    let mut tx = app.store().auth(app.fx.ws1).await.unwrap();
    let (token, _, _) = tx
        .start_reset(SurfaceKind::Portal, "member@a.test", 3600)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let page = app
        .get(PORTAL, &format!("/reset?token={token}"))
        .send()
        .await;
    let form_token = page.cookie("portico_form").unwrap();
    let reset = app
        .post(PORTAL, "/reset")
        .cookie("portico_form", &form_token)
        .form(&[
            ("form_token", form_token.as_str()),
            ("token", &token),
            ("password", "a-brand-new-password"),
            ("confirm", "a-brand-new-password"),
        ])
        .send()
        .await;
    assert_eq!(reset.status, 303);
    assert_eq!(reset.location(), "/login/verify");
    assert!(reset.cookie("portico_portal").is_none());
}

#[tokio::test]
async fn staff_reset_a_portal_users_second_factor_on_the_companys_record() {
    let app = TestApp::spawn().await;
    enrol_member(&app).await;
    let user = app.fx.portal(Who::Member);
    let company = app.fx.company_a;
    let page = app
        .get_as(
            Who::TechnicianAssigned,
            &format!("/companies/{company}/users/{user}"),
        )
        .await;
    assert!(page.body.contains("Reset two-step verification"));
    let reset = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("/companies/{company}/users/{user}/mfa-reset"),
            &[],
        )
        .await;
    assert_eq!(reset.status, 303, "{}", reset.body);
    // The password alone signs in again; the client admin reads who reset it.
    let signed = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(signed.location(), "/");
    app.store().flush_audit().await.unwrap();
    let log = app
        .get_as(Who::ClientAdmin, "/audit?action=mfa_reset")
        .await;
    assert!(
        log.body.contains("Reset two-step verification"),
        "{}",
        log.body
    );
    // Client admins manage users but not their second factor: no such route on the portal.
    let portal = app
        .post_as(Who::ClientAdmin, &format!("/users/{user}/mfa-reset"), &[])
        .await;
    assert_eq!(portal.status, 404);
}

#[tokio::test]
async fn owners_require_it_of_staff_and_the_console_sign_in_asks_for_it() {
    let app = TestApp::spawn().await;
    let required = app
        .post_as(Who::Owner, "/settings/staff-mfa", &[("mfa_required", "1")])
        .await;
    assert_eq!(required.status, 303);
    let signed = app.sign_in(CONSOLE, "owner@msp.test", PASSWORD).await;
    assert_eq!(signed.location(), "/login/verify");
    let challenge = signed.cookie("portico_mfa").unwrap();
    let page = app
        .get(CONSOLE, "/login/verify")
        .cookie("portico_mfa", &challenge)
        .send()
        .await;
    let secret = shown_secret(&page);
    let done = answer(&app, CONSOLE, &challenge, &code(&secret, 0), false).await;
    assert_eq!(done.status, 200);
    assert!(done.cookie("portico_console").is_some());
    // The challenge of one surface means nothing on the other.
    let signed = app.sign_in(CONSOLE, "owner@msp.test", PASSWORD).await;
    let challenge = signed.cookie("portico_mfa").unwrap();
    let elsewhere = app
        .get(PORTAL, "/login/verify")
        .cookie("portico_mfa", &challenge)
        .send()
        .await;
    assert_eq!(elsewhere.location(), "/login?done=expired");
}
