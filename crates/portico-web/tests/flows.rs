//! Sign-in, sessions, CSRF, throttling, invitations, resets, section toggles, branding and logo
//! checks, end to end through the real router.

mod common;

use common::{CONSOLE, PASSWORD, PORTAL, PORTAL_TWO, TestApp, Who};

fn session_cookie(response: &common::Response, name: &str) -> String {
    response
        .cookie(name)
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", response.headers))
}

async fn outbox_link(app: &TestApp, to: &str, path: &str) -> String {
    let mut sys = app.store().system_unscoped().await.unwrap();
    let body = sys
        .latest_mail_to(to)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no mail to {to}"));
    sys.commit().await.unwrap();
    let begin = body
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in mail to {to}"));
    let rest = &body[begin..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..end].to_owned()
}

#[tokio::test]
async fn signing_in_opens_a_new_session_and_signing_out_ends_it() {
    let app = TestApp::spawn().await;
    let planted = "a".repeat(64);
    let page = app
        .get(PORTAL, "/login")
        .cookie("portico_portal", &planted)
        .send()
        .await;
    let form_token = page.cookie("portico_form").unwrap();
    let response = app
        .post(PORTAL, "/login")
        .cookie("portico_form", &form_token)
        .cookie("portico_portal", &planted)
        .form(&[
            ("form_token", &form_token),
            ("email", "MEMBER@a.test"),
            ("password", PASSWORD),
            ("next", "/tickets"),
        ])
        .send()
        .await;
    assert_eq!(response.status, 303);
    assert_eq!(response.location(), "/tickets");
    let set_cookie = response
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let token = session_cookie(&response, "portico_portal");
    assert_ne!(token, planted, "a planted session id is never adopted");
    assert_eq!(token.len(), 64, "256-bit token");
    let tickets = app
        .get(PORTAL, "/tickets")
        .session(Some(&token))
        .send()
        .await;
    assert_eq!(tickets.status, 200);
    // The same session means nothing on the console host.
    assert_eq!(
        app.get(CONSOLE, "/companies")
            .session(Some(&token))
            .send()
            .await
            .status,
        303
    );
    let csrf = tickets.hidden("csrf");
    let out = app
        .post(PORTAL, "/logout")
        .session(Some(&token))
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(
        app.get(PORTAL, "/tickets")
            .session(Some(&token))
            .send()
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn an_unknown_account_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let unknown = app.sign_in(PORTAL, "nobody@a.test", PASSWORD).await;
    let wrong = app
        .sign_in(PORTAL, "member@a.test", "not-the-password")
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, unknown.status);
    let message = |r: &common::Response| {
        r.body
            .split("role=\"alert\">")
            .nth(1)
            .unwrap_or("")
            .split('<')
            .next()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(message(&unknown), message(&wrong));
    assert!(
        wrong.body.contains("value=\"member@a.test\""),
        "the typed address is kept"
    );
    // Staff cannot sign in on the portal host, nor portal users on the console.
    assert_eq!(
        app.sign_in(PORTAL, "owner@msp.test", PASSWORD).await.status,
        401
    );
    assert_eq!(
        app.sign_in(CONSOLE, "member@a.test", PASSWORD).await.status,
        401
    );
    assert_eq!(
        app.sign_in(CONSOLE, "owner@msp.test", PASSWORD)
            .await
            .status,
        303
    );
    // A workspace's users do not exist on another workspace's host.
    assert_eq!(
        app.sign_in(PORTAL_TWO, "member@a.test", PASSWORD)
            .await
            .status,
        401
    );
    // A disabled user cannot sign in, with the same answer.
    assert_eq!(
        app.sign_in(PORTAL, "disabled@a.test", PASSWORD)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_across_instances() {
    let mut app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(
            app.sign_in(PORTAL, "member@a.test", "wrong-password-x")
                .await
                .status,
            401
        );
    }
    let locked = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(
        locked.status, 429,
        "the right password is refused while throttled"
    );
    assert!(locked.body.contains("Too many"));
    // A second instance over the same database sees the same counter.
    app.router = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig::default(),
    );
    assert_eq!(
        app.sign_in(PORTAL, "member@a.test", PASSWORD).await.status,
        429
    );
    // Other accounts are unaffected.
    assert_eq!(
        app.sign_in(PORTAL, "admin@a.test", PASSWORD).await.status,
        303
    );
}

#[tokio::test]
async fn an_office_signing_in_from_one_address_is_never_locked_out_by_its_successes() {
    let app = TestApp::spawn().await;
    // More good sign-ins from one address than the address may fail (30 in a window).
    let people = ["member@a.test", "admin@a.test", "viewer@a.test"];
    for round in 0..12 {
        for email in people {
            let signed_in = app.sign_in(PORTAL, email, PASSWORD).await;
            assert_eq!(signed_in.status, 303, "sign-in {round} of {email}");
        }
    }
    // Failures still count: a few do not lock the address either…
    for _ in 0..4 {
        assert_eq!(
            app.sign_in(PORTAL, "viewer@a.test", "wrong-password-x")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        app.sign_in(PORTAL, "member@a.test", PASSWORD).await.status,
        303
    );
    // …but thirty failures from the address do, whoever they name.
    for i in 0..30 {
        app.sign_in(PORTAL, &format!("nobody{i}@a.test"), "wrong-password-x")
            .await;
    }
    assert_eq!(
        app.sign_in(PORTAL, "admin@a.test", PASSWORD).await.status,
        429
    );
}

#[tokio::test]
async fn error_pages_wear_the_workspaces_brand() {
    let app = TestApp::spawn().await;
    let missing = app
        .get_as(Who::Member, "/tickets/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        .await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page not found"));
    assert!(
        missing
            .body
            .contains(r#"<span class="brand-name">Fixture MSP One</span>"#)
    );
    assert!(missing.body.contains("/brand.css?v="));
    assert!(!missing.body.contains("Fixture MSP Two"));
    // The other workspace's host wears its own, signed in or not.
    let other = app.get(PORTAL_TWO, "/no-such-page").send().await;
    assert!(other.body.contains("Fixture MSP Two") && !other.body.contains("Fixture MSP One"));
    // The portal names no brand but the MSP's.
    let list = app.get_as(Who::Member, "/tickets").await;
    assert!(
        !list.body.contains("Portico"),
        "the portal is white-labelled"
    );
    // A console error too, with the console's tag.
    let forbidden = app.get_as(Who::TechnicianAssigned, "/staff").await;
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.body.contains("Fixture MSP One") && forbidden.body.contains(">Console<"));
}

#[tokio::test]
async fn a_sign_in_form_without_its_token_is_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .post(PORTAL, "/login")
        .form(&[("email", "member@a.test"), ("password", PASSWORD)])
        .send()
        .await;
    assert_eq!(response.status, 403);
    let cross = app
        .post(PORTAL, "/login")
        .header("origin", "http://evil.example")
        .form(&[("email", "member@a.test"), ("password", PASSWORD)])
        .send()
        .await;
    assert_eq!(cross.status, 403);
}

#[tokio::test]
async fn an_invitation_is_sent_with_a_link_on_the_configured_portal_host_and_works_once() {
    let app = TestApp::spawn().await;
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let path = format!("/companies/{}/users", app.fx.company_a);
    // A bad address: refused, nothing created, what was typed is kept.
    let refused = app
        .post(CONSOLE, &path)
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("name", "New Person"),
            ("email", "not-an-address"),
            ("role", "viewer"),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("Enter a valid e-mail address.")
            && refused.body.contains("value=\"New Person\"")
    );
    let invited = app
        .post(CONSOLE, &path)
        .session(owner.as_deref())
        // A forged forwarding header must not steer the link.
        .header("x-forwarded-host", "evil.example")
        .form(&[
            ("csrf", &csrf),
            ("name", "New Person"),
            ("email", "new@a.test"),
            ("role", "viewer"),
            ("sites", &app.fx.site_a2.to_string()),
        ])
        .send()
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let link = outbox_link(&app, "new@a.test", "http://").await;
    assert!(
        link.starts_with("http://portal.one.test:8080/setup?token="),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let setup_path = format!("/setup?token={token}");
    assert_eq!(app.get(PORTAL, &setup_path).send().await.status, 200);
    let form = app.get(PORTAL, &setup_path).send().await;
    let form_token = form
        .cookie("portico_form")
        .unwrap_or_else(|| form.hidden("form_token"));
    let choose = |password: &'static str, confirm: &'static str| {
        let token = token.clone();
        let form_token = form_token.clone();
        let app = &app;
        async move {
            app.post(PORTAL, "/setup")
                .cookie("portico_form", &form_token)
                .form(&[
                    ("form_token", &form_token),
                    ("token", &token),
                    ("password", password),
                    ("confirm", confirm),
                ])
                .send()
                .await
        }
    };
    let short = choose("short", "short").await;
    assert_eq!(
        short.status, 422,
        "a weak password is refused and the link stays usable"
    );
    let mismatch = choose("a-long-new-password", "another-long-password").await;
    assert_eq!(mismatch.status, 422);
    let done = choose("a-long-new-password", "a-long-new-password").await;
    assert_eq!(done.status, 303);
    let session = session_cookie(&done, "portico_portal");
    let home = app
        .get(PORTAL, "/tickets?status=all")
        .session(Some(&session))
        .send()
        .await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("CANARY-TICKET-A2") && !home.body.contains("CANARY-TICKET-A1-OTHER"),
        "the site restriction chosen at invitation holds"
    );
    let again = choose("a-second-password-x", "a-second-password-x").await;
    assert_eq!(again.status, 400, "the link works once");
    assert_eq!(app.get(PORTAL, &setup_path).send().await.status, 400);
    assert_eq!(
        app.sign_in(PORTAL, "new@a.test", "a-long-new-password")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn a_technician_invites_only_at_the_companys_domains_and_loses_the_invitation_with_the_company()
 {
    let app = TestApp::spawn().await;
    let path = format!("/companies/{}/users", app.fx.company_a);
    let invite = |who: Who, email: &'static str, role: &'static str| {
        let (app, path) = (&app, path.clone());
        async move {
            app.post_as(
                who,
                &path,
                &[("name", "Invited Person"), ("email", email), ("role", role)],
            )
            .await
        }
    };
    // An address with a second `@` is not an address at the company's domain.
    let sneaky = invite(
        Who::TechnicianAssigned,
        "me@msp-private.test@a.test",
        "viewer",
    )
    .await;
    assert_eq!(sneaky.status, 422);
    assert!(sneaky.body.contains("Enter a valid e-mail address."));
    // An address outside the company's domains: refused for a technician, the form kept.
    let refused = invite(
        Who::TechnicianAssigned,
        "me@msp-private.test",
        "client_admin",
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("domains (a.test)"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"me@msp-private.test\""));
    assert!(
        !app.get_as(Who::Owner, &path)
            .await
            .body
            .contains("me@msp-private.test")
    );
    // An owner may invite anyone.
    assert_eq!(
        invite(Who::Owner, "consultant@elsewhere.test", "viewer")
            .await
            .status,
        303
    );
    // At the company's domain: invited, and the company's client admins are told.
    let invited = invite(Who::TechnicianAssigned, "newadmin@a.test", "client_admin").await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let mut sys = app.store().system_unscoped().await.unwrap();
    let told = sys.mails_to("admin@a.test").await.unwrap();
    sys.commit().await.unwrap();
    assert!(
        told.iter()
            .any(|(subject, body)| subject.contains("New portal user")
                && body.contains("newadmin@a.test")
                && body.contains("Client admin")),
        "{told:?}"
    );
    // An address that belongs to another company's user gets the same answer as a new one,
    // and nothing is created; the address's owner is told to sign in.
    // (Someone at A's domain who is a portal user of company B, which the technician cannot see.)
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.add_portal_user(
        app.fx.ws1,
        &portico_store::system::SeedPortalUser {
            company: app.fx.company_b,
            email: "moved@a.test",
            name: "Moved Person",
            role: portico_core::PortalRole::Member,
            own_only: false,
            billing_access: false,
            password_hash: None,
            sites: &[],
        },
    )
    .await
    .unwrap();
    sys.commit().await.unwrap();
    let taken = invite(Who::TechnicianAssigned, "moved@a.test", "client_admin").await;
    assert_eq!(taken.status, 303);
    assert_eq!(taken.location(), invited.location());
    assert!(
        !app.get_as(Who::Owner, &path)
            .await
            .body
            .contains("moved@a.test")
    );
    let notice = outbox_link(&app, "moved@a.test", "http://").await;
    assert!(notice.ends_with("/login"), "{notice}");

    // The technician loses company A: the invitation they issued stops working.
    let link = outbox_link(&app, "newadmin@a.test", "http://").await;
    let setup = format!("/setup?token={}", link.split("token=").nth(1).unwrap());
    assert_eq!(app.get(PORTAL, &setup).send().await.status, 200);
    let tech = app.fx.staff(Who::TechnicianAssigned);
    let moved = app
        .post_as(
            Who::Owner,
            &format!("/staff/{tech}"),
            &[
                ("role", "technician"),
                ("companies", &app.fx.company_b.to_string()),
            ],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    assert_eq!(app.get(PORTAL, &setup).send().await.status, 400);
    // Nor can "forgot your password" take the account up: it was never activated.
    let page = app.get(PORTAL, "/forgot").send().await;
    let form_token = page.cookie("portico_form").unwrap();
    let asked = app
        .post(PORTAL, "/forgot")
        .cookie("portico_form", &form_token)
        .form(&[("form_token", &form_token), ("email", "newadmin@a.test")])
        .send()
        .await;
    assert_eq!(asked.location(), "/login?done=reset", "the usual answer");
    let mut sys = app.store().system_unscoped().await.unwrap();
    let mails = sys.mails_to("newadmin@a.test").await.unwrap();
    sys.commit().await.unwrap();
    assert!(
        mails
            .iter()
            .all(|(_, body)| !body.contains("/reset?token=")),
        "{mails:?}"
    );
    // The owner's invitation is untouched.
    let link = outbox_link(&app, "consultant@elsewhere.test", "http://").await;
    let setup = format!("/setup?token={}", link.split("token=").nth(1).unwrap());
    assert_eq!(app.get(PORTAL, &setup).send().await.status, 200);
}

#[tokio::test]
async fn owners_set_a_companys_email_domains_and_technicians_only_read_them() {
    let app = TestApp::spawn().await;
    let domains = format!("/companies/{}/domains", app.fx.company_a);
    let refused = app
        .post_as(Who::Owner, &domains, &[("domains", "a.test, not a domain")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"a.test, not a domain\""));
    let saved = app
        .post_as(
            Who::Owner,
            &domains,
            &[("domains", "@A.test\nbranch.a.test, a.test")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let users = format!("/companies/{}/users", app.fx.company_a);
    let page = app.get_as(Who::TechnicianAssigned, &users).await;
    assert!(page.body.contains("a.test, branch.a.test"), "{}", page.body);
    assert!(!page.body.contains("name=\"domains\""));
    let forbidden = app
        .post_as(
            Who::TechnicianAssigned,
            &domains,
            &[("domains", "evil.test")],
        )
        .await;
    assert_eq!(forbidden.status, 403);
}

#[tokio::test]
async fn an_expired_invitation_and_a_used_reset_link_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let resend = format!(
        "/companies/{}/users/{}/resend",
        app.fx.company_a, app.fx.target_a
    );
    assert_eq!(
        app.post(CONSOLE, &resend)
            .session(owner.as_deref())
            .form(&[("csrf", &csrf)])
            .send()
            .await
            .status,
        303
    );
    let link = outbox_link(&app, "target@a.test", "http://").await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.expire_tokens(app.fx.ws1).await.unwrap();
    sys.commit().await.unwrap();
    assert_eq!(
        app.get(PORTAL, &format!("/setup?token={token}"))
            .send()
            .await
            .status,
        400
    );

    // Reset: same answer for known and unknown addresses; the link works once and ends sessions.
    let member_session = app.session_for(Who::Member).await;
    for email in ["member@a.test", "nobody@a.test"] {
        let page = app.get(PORTAL, "/forgot").send().await;
        let form_token = page.cookie("portico_form").unwrap();
        let response = app
            .post(PORTAL, "/forgot")
            .cookie("portico_form", &form_token)
            .form(&[("form_token", &form_token), ("email", email)])
            .send()
            .await;
        assert_eq!(response.status, 303);
        assert_eq!(response.location(), "/login?done=reset");
    }
    let link = outbox_link(&app, "member@a.test", "http://").await;
    assert!(
        link.starts_with("http://portal.one.test:8080/reset?token="),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let page = app
        .get(PORTAL, &format!("/reset?token={token}"))
        .send()
        .await;
    assert_eq!(page.status, 200);
    let form_token = page.cookie("portico_form").unwrap();
    let reset = |password: &'static str| {
        let (token, form_token, app) = (token.clone(), form_token.clone(), &app);
        async move {
            app.post(PORTAL, "/reset")
                .cookie("portico_form", &form_token)
                .form(&[
                    ("form_token", &form_token),
                    ("token", &token),
                    ("password", password),
                    ("confirm", password),
                ])
                .send()
                .await
        }
    };
    assert_eq!(reset("a-brand-new-password").await.status, 303);
    assert_eq!(
        app.get(PORTAL, "/")
            .session(member_session.as_deref())
            .send()
            .await
            .status,
        303,
        "old sessions end"
    );
    assert_eq!(
        reset("yet-another-password").await.status,
        400,
        "single use"
    );
    assert_eq!(
        app.sign_in(PORTAL, "member@a.test", "a-brand-new-password")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn with_the_overview_off_sign_in_lands_on_the_first_section_and_preferences_follow_their_switch()
 {
    let app = TestApp::spawn().await;
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let settings = format!("/companies/{}/portal", app.fx.company_a);
    let saved = app
        .post(CONSOLE, &settings)
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("portal_enabled", "1"),
            ("state_overview", "off"),
            ("state_email_preferences", "on"),
            ("label_email_preferences", "Mail settings"),
        ])
        .send()
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // The console lists E-mail preferences and Profile as sections the portal has, and shows
    // no internal capability ids.
    let page = app
        .get(CONSOLE, &settings)
        .session(owner.as_deref())
        .send()
        .await;
    let row = |name: &str| {
        page.body
            .split("<tr")
            .find(|r| r.contains(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(!row("Email preferences").contains("not available"));
    assert!(!row("Profile").contains("not available"));
    assert!(row("Roadmap").contains("not available"));
    assert!(!page.body.contains(">P16<") && !page.body.contains(" P2<"));

    let signed_in = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    let session = signed_in.cookie("portico_portal");
    let front = app
        .get(PORTAL, "/")
        .session(session.as_deref())
        .send()
        .await;
    assert_eq!(front.status, 303);
    assert_eq!(front.location(), "/tickets");
    let tickets = app
        .get(PORTAL, "/tickets")
        .session(session.as_deref())
        .send()
        .await;
    assert!(tickets.body.contains(">Mail settings</a>"));
    let prefs = app
        .get(PORTAL, "/preferences")
        .session(session.as_deref())
        .send()
        .await;
    assert!(prefs.body.contains("<h1>Mail settings</h1>"));

    // E-mail preferences switched off: gone from the navigation, and the page is not found.
    let saved = app
        .post(CONSOLE, &settings)
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("portal_enabled", "1"),
            ("state_overview", "off"),
            ("state_tickets", "off"),
            ("state_work", "off"),
            ("state_maintenance", "off"),
            ("state_assets", "off"),
            ("state_invoices", "off"),
            ("state_contacts", "off"),
            ("state_licences", "off"),
            ("state_security", "off"),
            ("state_backup", "off"),
            ("state_change_requests", "off"),
            ("state_users", "off"),
            ("state_email_preferences", "off"),
        ])
        .send()
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let front = app
        .get(PORTAL, "/")
        .session(session.as_deref())
        .send()
        .await;
    assert_eq!(front.location(), "/profile", "the profile is always on");
    let profile = app
        .get(PORTAL, "/profile")
        .session(session.as_deref())
        .send()
        .await;
    assert!(!profile.body.contains("href=\"/preferences\""));
    let prefs = app
        .get(PORTAL, "/preferences")
        .session(session.as_deref())
        .send()
        .await;
    assert_eq!(prefs.status, 404);
}

#[tokio::test]
async fn section_toggles_and_labels_take_effect_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let member = app.session_for(Who::Member).await;
    let settings = format!("/companies/{}/portal", app.fx.company_a);
    let save = |pairs: Vec<(&'static str, String)>| {
        let (app, owner, csrf, settings) = (&app, owner.clone(), csrf.clone(), settings.clone());
        async move {
            let mut form: Vec<(&str, String)> =
                vec![("csrf", csrf), ("portal_enabled", "1".into())];
            form.extend(pairs);
            let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post(CONSOLE, &settings)
                .session(owner.as_deref())
                .form(&refs)
                .send()
                .await
        }
    };
    assert_eq!(
        save(vec![("state_tickets", "off".into())]).await.status,
        303
    );
    assert_eq!(
        app.get(PORTAL, "/tickets")
            .session(member.as_deref())
            .send()
            .await
            .status,
        404
    );
    let ticket = format!("/tickets/{}", app.fx.own_ticket(Who::Member).unwrap());
    assert_eq!(
        app.get(PORTAL, &ticket)
            .session(member.as_deref())
            .send()
            .await
            .status,
        404
    );
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert!(
        !overview.body.contains("href=\"/tickets\""),
        "the navigation drops a disabled section"
    );
    assert_eq!(
        save(vec![
            ("state_tickets", "on".into()),
            ("label_tickets", "Support requests".into())
        ])
        .await
        .status,
        303
    );
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert!(overview.body.contains(">Support requests</a>"));
    assert_eq!(
        app.get(PORTAL, &ticket)
            .session(member.as_deref())
            .send()
            .await
            .status,
        200
    );
    // A label that is too long is refused, the form keeps it, nothing changes.
    let long = "x".repeat(60);
    let refused = save(vec![
        ("state_tickets", "off".into()),
        ("label_tickets", long.clone()),
    ])
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(&long));
    assert_eq!(
        app.get(PORTAL, &ticket)
            .session(member.as_deref())
            .send()
            .await
            .status,
        200
    );
    // Switching the portal off ends access for the company's users.
    let off = {
        let refs = [("csrf", csrf.as_str())];
        app.post(CONSOLE, &settings)
            .session(owner.as_deref())
            .form(&refs)
            .send()
            .await
    };
    assert_eq!(off.status, 303);
    assert_eq!(
        app.get(PORTAL, "/")
            .session(member.as_deref())
            .send()
            .await
            .status,
        303
    );
    assert_eq!(
        app.sign_in(PORTAL, "member@a.test", PASSWORD).await.status,
        401
    );
}

#[tokio::test]
async fn disabling_a_portal_user_ends_their_sessions() {
    let app = TestApp::spawn().await;
    let member = app.session_for(Who::Member).await;
    assert_eq!(
        app.get(PORTAL, "/")
            .session(member.as_deref())
            .send()
            .await
            .status,
        200
    );
    let tech = app.session_for(Who::TechnicianAssigned).await;
    let csrf = app.csrf(Who::TechnicianAssigned, tech.as_deref()).await;
    let path = format!(
        "/companies/{}/users/{}/disable",
        app.fx.company_a,
        app.fx.portal(Who::Member)
    );
    assert_eq!(
        app.post(CONSOLE, &path)
            .session(tech.as_deref())
            .form(&[("csrf", &csrf)])
            .send()
            .await
            .status,
        303
    );
    assert_eq!(
        app.get(PORTAL, "/")
            .session(member.as_deref())
            .send()
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn profile_changes_the_password_and_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let first = app.session_for(Who::Viewer).await;
    let second = app.session_for(Who::Viewer).await;
    let csrf = app.csrf(Who::Viewer, first.as_deref()).await;
    let profile = app
        .get(PORTAL, "/profile")
        .session(first.as_deref())
        .send()
        .await;
    assert!(profile.body.contains("This browser"));
    let wrong = app
        .post(PORTAL, "/profile/password")
        .session(first.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("current_password", "nope"),
            ("new_password", "a-new-password-1"),
            ("confirm", "a-new-password-1"),
        ])
        .send()
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("The current password is not correct."));
    assert_eq!(
        app.get(PORTAL, "/")
            .session(second.as_deref())
            .send()
            .await
            .status,
        200,
        "nothing changed"
    );
    let out = app
        .post(PORTAL, "/profile/sessions/end-others")
        .session(first.as_deref())
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(
        app.get(PORTAL, "/")
            .session(second.as_deref())
            .send()
            .await
            .status,
        303
    );
    assert_eq!(
        app.get(PORTAL, "/")
            .session(first.as_deref())
            .send()
            .await
            .status,
        200
    );
    let changed = app
        .post(PORTAL, "/profile/password")
        .session(first.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("current_password", PASSWORD),
            ("new_password", "a-new-password-1"),
            ("confirm", "a-new-password-1"),
        ])
        .send()
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(
        app.sign_in(PORTAL, "viewer@a.test", "a-new-password-1")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn a_two_company_user_switches_but_never_into_a_foreign_company() {
    let app = TestApp::spawn().await;
    let user = app.session_for(Who::TwoCompanyUser).await;
    let csrf = app.csrf(Who::TwoCompanyUser, user.as_deref()).await;
    let home = app
        .get(PORTAL, "/tickets?status=all")
        .session(user.as_deref())
        .send()
        .await;
    assert!(home.body.contains("CANARY-TICKET-A2") && !home.body.contains("CANARY-TICKET-B"));
    let to_b = app
        .post(PORTAL, "/switch-company")
        .session(user.as_deref())
        .form(&[("csrf", &csrf), ("company", &app.fx.company_b.to_string())])
        .send()
        .await;
    assert_eq!(to_b.status, 303);
    let in_b = app
        .get(PORTAL, "/tickets?status=all")
        .session(user.as_deref())
        .send()
        .await;
    assert!(
        in_b.body.contains("CANARY-TICKET-B") && !in_b.body.contains("CANARY-TICKET-A2"),
        "one company at a time, never a mix"
    );
    let to_c = app
        .post(PORTAL, "/switch-company")
        .session(user.as_deref())
        .form(&[("csrf", &csrf), ("company", &app.fx.company_c.to_string())])
        .send()
        .await;
    assert_eq!(to_c.status, 404);
    let member = app.session_for(Who::Member).await;
    let member_csrf = app.csrf(Who::Member, member.as_deref()).await;
    let sneaky = app
        .post(PORTAL, "/switch-company")
        .session(member.as_deref())
        .form(&[
            ("csrf", &member_csrf),
            ("company", &app.fx.company_b.to_string()),
        ])
        .send()
        .await;
    assert_eq!(sneaky.status, 404, "a single-company user cannot switch");
}

#[tokio::test]
async fn branding_is_applied_with_readable_text_and_unsafe_svg_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let saved = app
        .post(CONSOLE, "/settings/branding")
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("action", "save"),
            ("name", "Brand New MSP"),
            ("primary", "#FFEE00"),
            ("secondary", "#123"),
            ("welcome", "Hello clients"),
        ])
        .send()
        .await;
    assert_eq!(saved.status, 303);
    let css = app.get(PORTAL, "/brand.css").send().await;
    assert!(
        css.body
            .contains("--brand-primary: #ffee00; --brand-on-primary: #000000"),
        "{}",
        css.body
    );
    assert!(
        css.body
            .contains("--brand-secondary: #112233; --brand-on-secondary: #ffffff"),
        "{}",
        css.body
    );
    let member = app.session_for(Who::Member).await;
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert!(overview.body.contains("Brand New MSP") && overview.body.contains("Hello clients"));
    // The other workspace keeps its own brand.
    assert!(
        !app.get(PORTAL_TWO, "/login")
            .send()
            .await
            .body
            .contains("Brand New MSP")
    );
    // Bad colour: refused, typed values kept.
    let bad = app
        .post(CONSOLE, "/settings/branding")
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("action", "save"),
            ("name", "Typed Name"),
            ("primary", "red;}body{"),
            ("secondary", "#123"),
            ("welcome", ""),
        ])
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"Typed Name\"") && bad.body.contains("red;}body{"));
    // A preview renders the header in the typed colours without saving them.
    let preview = app
        .post(CONSOLE, "/settings/branding")
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("action", "preview"),
            ("name", "Preview Name"),
            ("primary", "#000000"),
            ("secondary", "#ffffff"),
            ("welcome", ""),
        ])
        .send()
        .await;
    assert_eq!(preview.status, 200);
    assert!(
        preview
            .body
            .contains("/brand.css?primary=%23000000&#38;secondary=%23ffffff"),
        "{}",
        preview.body
    );
    assert!(
        app.get(PORTAL, "/brand.css")
            .send()
            .await
            .body
            .contains("#ffee00"),
        "a preview saves nothing"
    );

    let evil = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>"#;
    let refused = app
        .post(CONSOLE, "/settings/branding/logo")
        .session(owner.as_deref())
        .multipart(&[("csrf", &csrf)], Some(("logo", "logo.svg", evil)))
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("active content"));
    assert_eq!(
        app.get(PORTAL, "/brand/logo").send().await.status,
        404,
        "nothing was stored"
    );
    let plain = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 1"><rect width="2" height="1" fill="#1d4ed8"/></svg>"##;
    let stored = app
        .post(CONSOLE, "/settings/branding/logo")
        .session(owner.as_deref())
        .multipart(&[("csrf", &csrf)], Some(("logo", "logo.svg", plain)))
        .send()
        .await;
    assert_eq!(stored.status, 303);
    let logo = app.get(PORTAL, "/brand/logo").send().await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.headers.get("content-type").unwrap(), "image/svg+xml");
    assert!(
        logo.headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(
        app.get(PORTAL_TWO, "/brand/logo").send().await.status,
        404,
        "another workspace's logo is its own"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for (host, path) in [
        (PORTAL, "/login"),
        (CONSOLE, "/login"),
        (PORTAL, "/nowhere"),
        ("unknown.example", "/"),
        (PORTAL, "/healthz"),
    ] {
        let response = app.get(host, path).send().await;
        let csp = response
            .headers
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{host}{path}: {csp}"
        );
        assert_eq!(
            response.headers.get("x-content-type-options").unwrap(),
            "nosniff"
        );
        assert!(response.headers.get("referrer-policy").is_some());
        assert!(
            response.headers.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    assert_eq!(app.get("unknown.example", "/").send().await.status, 404);
    assert_eq!(
        app.get("unknown.example", "/healthz").send().await.status,
        200
    );
    let secure = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig {
            secure_cookies: true,
            ..Default::default()
        },
    );
    let mut app = app;
    app.router = secure;
    let page = app.get(PORTAL, "/login").send().await;
    let form_token = page
        .cookie("__Host-portico_form")
        .expect("__Host- form cookie over TLS");
    let login = app
        .post(PORTAL, "/login")
        .cookie("__Host-portico_form", &form_token)
        .form(&[
            ("form_token", &form_token),
            ("email", "member@a.test"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await;
    let set_cookie = login
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.starts_with("__Host-portico_portal=") && set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    assert!(login.headers.get("strict-transport-security").is_some());
}

#[tokio::test]
async fn workspace_defaults_apply_to_companies_without_an_override() {
    let app = TestApp::spawn().await;
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let member = app.session_for(Who::Member).await;
    // Overview on, Tickets off, relabelled, for the whole workspace.
    let saved = app
        .post(CONSOLE, "/settings/portal")
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("enabled_overview", "1"),
            ("label_overview", "Home"),
            ("label_tickets", "Requests"),
        ])
        .send()
        .await;
    assert_eq!(saved.status, 303);
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert!(overview.body.contains(">Home</a>") && !overview.body.contains("href=\"/tickets\""));
    assert_eq!(
        app.get(PORTAL, "/tickets")
            .session(member.as_deref())
            .send()
            .await
            .status,
        404
    );
    // A company override wins over the default.
    let settings = format!("/companies/{}/portal", app.fx.company_a);
    let over = app
        .post(CONSOLE, &settings)
        .session(owner.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("portal_enabled", "1"),
            ("state_tickets", "on"),
        ])
        .send()
        .await;
    assert_eq!(over.status, 303);
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert!(
        overview.body.contains(">Requests</a>"),
        "the default label still applies"
    );
    assert_eq!(
        app.get(PORTAL, "/tickets")
            .session(member.as_deref())
            .send()
            .await
            .status,
        200
    );
    // The other workspace's portal is untouched.
    let other = app.get(PORTAL_TWO, "/login").send().await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn an_idle_session_ends_and_a_session_is_worthless_on_another_workspace() {
    let mut app = TestApp::spawn().await;
    let member = app.session_for(Who::Member).await;
    assert_eq!(
        app.get(PORTAL, "/")
            .session(member.as_deref())
            .send()
            .await
            .status,
        200
    );
    // The same token presented to another workspace's portal and console hosts.
    assert_eq!(
        app.get(PORTAL_TWO, "/")
            .session(member.as_deref())
            .send()
            .await
            .status,
        303
    );
    assert_eq!(
        app.get(common::CONSOLE_TWO, "/companies")
            .session(member.as_deref())
            .send()
            .await
            .status,
        303
    );
    // An instance configured with no idle allowance treats the session as idle.
    app.router = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig {
            session_idle_secs: 0,
            ..Default::default()
        },
    );
    assert_eq!(
        app.get(PORTAL, "/")
            .session(member.as_deref())
            .send()
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn only_billing_entitled_staff_can_let_a_portal_user_see_rates() {
    let app = TestApp::spawn().await;
    let tech = app.session_for(Who::TechnicianAssigned).await;
    let csrf = app.csrf(Who::TechnicianAssigned, tech.as_deref()).await;
    let users = format!("/companies/{}/users", app.fx.company_a);
    let page = app
        .get(CONSOLE, &users)
        .session(tech.as_deref())
        .send()
        .await;
    assert!(
        !page.body.contains("name=\"billing_access\""),
        "no checkbox for a technician"
    );
    let invited = app
        .post(CONSOLE, &users)
        .session(tech.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("name", "Tech Pick"),
            ("email", "pick@a.test"),
            ("role", "member"),
            ("billing_access", "1"),
        ])
        .send()
        .await;
    assert_eq!(invited.status, 303);
    let edit = format!(
        "/companies/{}/users/{}",
        app.fx.company_a,
        app.fx.portal(Who::Member)
    );
    let updated = app
        .post(CONSOLE, &edit)
        .session(tech.as_deref())
        .form(&[
            ("csrf", &csrf),
            ("name", "Member"),
            ("role", "member"),
            ("billing_access", "1"),
        ])
        .send()
        .await;
    assert_eq!(updated.status, 303);
    let member = app.session_for(Who::Member).await;
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert!(
        !overview.body.contains(&common::fee_canary('A')),
        "a technician cannot grant billing access"
    );
    let owner = app.session_for(Who::Owner).await;
    let list = app
        .get(CONSOLE, &users)
        .session(owner.as_deref())
        .send()
        .await;
    assert!(
        list.body.contains("name=\"billing_access\""),
        "owners may grant it"
    );
    assert!(!list.body.contains("Member · billing"));
}

#[tokio::test]
async fn sign_in_only_redirects_to_local_paths() {
    let app = TestApp::spawn().await;
    for next in [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "https://evil.example",
        "/ok?x=1",
    ] {
        let page = app.get(PORTAL, "/login").send().await;
        let form_token = page.cookie("portico_form").unwrap();
        let response = app
            .post(PORTAL, "/login")
            .cookie("portico_form", &form_token)
            .form(&[
                ("form_token", &form_token),
                ("email", "member@a.test"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await;
        assert_eq!(response.status, 303);
        let expected = if next == "/ok?x=1" { "/ok?x=1" } else { "/" };
        assert_eq!(response.location(), expected, "next = {next:?}");
    }
}

#[tokio::test]
async fn the_outbox_hides_reset_links_from_staff() {
    let app = TestApp::spawn().await;
    let page = app.get(PORTAL, "/forgot").send().await;
    let form_token = page.cookie("portico_form").unwrap();
    app.post(PORTAL, "/forgot")
        .cookie("portico_form", &form_token)
        .form(&[("form_token", &form_token), ("email", "member@a.test")])
        .send()
        .await;
    let link = outbox_link(&app, "member@a.test", "http://").await;
    let token = link.split("token=").nth(1).unwrap();
    let owner = app.session_for(Who::Owner).await;
    let outbox = app
        .get(CONSOLE, "/outbox")
        .session(owner.as_deref())
        .send()
        .await;
    assert!(outbox.body.contains("member@a.test") && !outbox.body.contains(token));
}

#[tokio::test]
async fn a_change_made_through_another_instance_reaches_a_signed_in_user_at_once() {
    let app = TestApp::spawn().await;
    let member = app.session_for(Who::Member).await;
    let tickets = || async {
        app.get(PORTAL, "/tickets")
            .session(member.as_deref())
            .send()
            .await
            .status
    };
    // This instance has now resolved (and keeps) the member's principal.
    assert_eq!(tickets().await, 200);
    // A second instance over the same database, with its own memory, makes the changes. (Several
    // instances are a PostgreSQL deployment; on SQLite the second store shares this process,
    // since a serving process holds its file against others, but not this store's memory.)
    let other = app.db.another_instance().await;
    let mut tx = other.system_unscoped().await.unwrap();
    tx.set_company_section(
        app.fx.ws1,
        app.fx.company_a,
        portico_core::Section::Tickets,
        Some(false),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(tickets().await, 404, "a section switched off elsewhere");
    let mut tx = other.system_unscoped().await.unwrap();
    tx.set_company_section(
        app.fx.ws1,
        app.fx.company_a,
        portico_core::Section::Tickets,
        Some(true),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(tickets().await, 200);
    let mut tx = other.system_unscoped().await.unwrap();
    tx.set_portal_user_disabled_flag(app.fx.portal(Who::Member), true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        tickets().await,
        303,
        "a user disabled elsewhere is signed out"
    );
}
