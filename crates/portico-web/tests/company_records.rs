//! Companies, sites and contacts through the console's forms, and the roster on the portal:
//! refused forms keep what was typed and mark each field, an archived company's portal is
//! closed, and the portal's Contacts section shows the company's own people with their roles.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

async fn owner(app: &TestApp) -> (String, String) {
    let token = app.session_for(Who::Owner).await.unwrap();
    let csrf = app.csrf(Who::Owner, Some(&token)).await;
    (token, csrf)
}

/// The id in a `/companies/<id>?…` location.
fn company_in(location: &str) -> String {
    location
        .strip_prefix("/companies/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("no company in {location:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_refused_company_form_keeps_what_was_typed_and_marks_each_field() {
    let app = TestApp::spawn().await;
    let (token, csrf) = owner(&app).await;
    let refused = app
        .post(CONSOLE, "/companies")
        .session(Some(&token))
        .form(&[
            ("csrf", &csrf),
            ("name", "Zed Logistics"),
            ("plan_name", "Managed"),
            ("included_hours", "ten"),
            ("currency", "AUD"),
            ("monthly_fee", "1,500.00"),
            ("hourly_rate", "abc"),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 422);
    let body = &refused.body;
    assert!(body.contains(r#"value="Zed Logistics""#), "name kept");
    assert!(body.contains(r#"value="1,500.00""#), "fee kept");
    assert!(
        body.contains(r#"value="ten""#),
        "the wrong value is shown to correct"
    );
    assert!(body.contains(r#"id="included_hours-error""#));
    assert!(body.contains(r#"id="hourly_rate-error""#));
    assert!(body.contains(r#"aria-describedby="included_hours-error""#));
    assert_eq!(body.matches("autofocus").count(), 1, "focus on the first");
    assert!(
        !body.contains(r#"id="name-error""#),
        "a good field is not marked"
    );

    let added = app
        .post(CONSOLE, "/companies")
        .session(Some(&token))
        .form(&[
            ("csrf", &csrf),
            ("name", "Zed Logistics"),
            ("plan_name", "Managed"),
            ("included_hours", "10"),
            ("currency", "aud"),
            ("monthly_fee", "1,500.00"),
            ("hourly_rate", "150"),
        ])
        .send()
        .await;
    assert_eq!(added.status, 303);
    let company = company_in(added.location());
    let page = app
        .get(CONSOLE, added.location())
        .session(Some(&token))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Company added."));
    assert!(page.body.contains("10 hours included a month"));
    assert!(page.body.contains("AUD 1,500.00 a month"));

    // A site and a contact, the contact refused first for its address.
    let site = app
        .post(CONSOLE, &format!("/companies/{company}/sites"))
        .session(Some(&token))
        .form(&[("csrf", &csrf), ("name", "Depot"), ("address", "1 Quay St")])
        .send()
        .await;
    assert_eq!(site.status, 303, "{}", site.body);
    let contact_form = [
        ("csrf", csrf.as_str()),
        ("name", "Quinn Ode"),
        ("title", "Director"),
        ("email", "not an address"),
        ("phone", "+61 2 5550 9999"),
        ("roles", "primary"),
        ("roles", "purchase_approver"),
    ];
    let refused = app
        .post(CONSOLE, &format!("/companies/{company}/contacts"))
        .session(Some(&token))
        .form(&contact_form)
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(r#"value="Quinn Ode""#));
    assert!(refused.body.contains(r#"id="email-error""#));
    assert_eq!(
        refused.body.matches(" checked").count(),
        2,
        "the ticked roles stay ticked"
    );
    let mut good = contact_form;
    good[3] = ("email", "quinn@zed.test");
    let added = app
        .post(CONSOLE, &format!("/companies/{company}/contacts"))
        .session(Some(&token))
        .form(&good)
        .send()
        .await;
    assert_eq!(added.status, 303);
    let page = app
        .get(CONSOLE, &format!("/companies/{company}"))
        .session(Some(&token))
        .send()
        .await;
    assert!(page.body.contains("Depot") && page.body.contains("Quinn Ode"));
    assert!(page.body.contains("Purchase approver"));
}

#[tokio::test]
async fn archiving_a_company_closes_its_portal_until_restored_and_switched_on() {
    let app = TestApp::spawn().await;
    let (token, csrf) = owner(&app).await;
    let member = app.session_for(Who::Member).await.unwrap();
    assert_eq!(
        app.get(PORTAL, "/tickets")
            .session(Some(&member))
            .send()
            .await
            .status,
        200
    );
    let company = app.fx.company_a.to_string();
    let unclear = app
        .post(CONSOLE, &format!("/companies/{company}/archive"))
        .session(Some(&token))
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(unclear.status, 400, "neither archive nor restore");
    let archived = app
        .post(CONSOLE, &format!("/companies/{company}/archive"))
        .session(Some(&token))
        .form(&[("csrf", &csrf), ("action", "archive")])
        .send()
        .await;
    assert_eq!(archived.status, 303);
    let portal = app
        .get(PORTAL, "/tickets")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(
        portal.status, 303,
        "the member's session ends with the portal"
    );
    assert!(portal.location().starts_with("/login"));

    let list = app
        .get(CONSOLE, "/companies")
        .session(Some(&token))
        .send()
        .await;
    assert!(
        !list.body.contains("CANARY-NAME-A"),
        "out of the current list"
    );
    let list = app
        .get(CONSOLE, "/companies?archived=1")
        .session(Some(&token))
        .send()
        .await;
    assert!(list.body.contains("CANARY-NAME-A"), "on the archived list");
    // History stays reachable, and no new work is taken.
    let page = app
        .get(CONSOLE, &format!("/companies/{company}"))
        .session(Some(&token))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("This company is archived"));
    assert!(!page.body.contains("Log a ticket"));
    let site = app
        .post(CONSOLE, &format!("/companies/{company}/sites"))
        .session(Some(&token))
        .form(&[("csrf", &csrf), ("name", "New"), ("address", "")])
        .send()
        .await;
    assert_eq!(site.status, 400, "no new site at an archived company");
    assert!(
        site.body
            .contains("The company is archived: restore it first.")
    );

    let restored = app
        .post(CONSOLE, &format!("/companies/{company}/archive"))
        .session(Some(&token))
        .form(&[("csrf", &csrf), ("action", "restore")])
        .send()
        .await;
    assert_eq!(restored.status, 303);
    assert!(restored.location().ends_with("done=restored"));
    let member = app.session_for(Who::Member).await.unwrap();
    let portal = app
        .get(PORTAL, "/tickets")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(
        portal.status, 303,
        "the portal stays off after a restore until an owner switches it on"
    );
}

#[tokio::test]
async fn the_portal_roster_shows_the_company_own_contacts_with_their_roles() {
    let app = TestApp::spawn().await;
    let viewer = app.session_for(Who::Viewer).await.unwrap();
    let page = app
        .get(PORTAL, "/contacts")
        .session(Some(&viewer))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("CANARY-CONTACT-A"));
    assert!(page.body.contains("Primary"));
    assert!(!page.body.contains("CANARY-CONTACT-B"));
    // Archived in the console, gone from the portal.
    let (token, csrf) = owner(&app).await;
    let contact = app.fx.contacts[0];
    let archived = app
        .post(
            CONSOLE,
            &format!("/companies/{}/contacts/{contact}/archive", app.fx.company_a),
        )
        .session(Some(&token))
        .form(&[("csrf", &csrf), ("action", "archive")])
        .send()
        .await;
    assert_eq!(archived.status, 303);
    let page = app
        .get(PORTAL, "/contacts")
        .session(Some(&viewer))
        .send()
        .await;
    assert!(!page.body.contains("CANARY-CONTACT-A"));
    assert!(page.body.contains("No contacts are recorded yet."));
}

#[tokio::test]
async fn an_owner_grants_a_portal_user_another_company_and_takes_it_away() {
    let app = TestApp::spawn().await;
    let (token, csrf) = owner(&app).await;
    let member_id = app.fx.portal(Who::Member);
    let (company_a, company_b) = (app.fx.company_a, app.fx.company_b);
    let page = format!("/companies/{company_a}/users/{member_id}");

    // A technician may not widen anyone's access to another client.
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let tech_csrf = app.csrf(Who::TechnicianAssigned, Some(&tech)).await;
    let refused = app
        .post(CONSOLE, &format!("{page}/grants"))
        .session(Some(&tech))
        .form(&[
            ("csrf", tech_csrf.as_str()),
            ("grant_company", &company_b.to_string()),
            ("grant_role", "viewer"),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 403);
    // The user's own company is not a further one.
    let own = app
        .post(CONSOLE, &format!("{page}/grants"))
        .session(Some(&token))
        .form(&[
            ("csrf", csrf.as_str()),
            ("grant_company", &company_a.to_string()),
            ("grant_role", "viewer"),
        ])
        .send()
        .await;
    assert_eq!(own.status, 422);
    assert!(
        own.body.contains("That is the user&#x27;s own company")
            || own.body.contains("own company")
    );

    let granted = app
        .post(CONSOLE, &format!("{page}/grants"))
        .session(Some(&token))
        .form(&[
            ("csrf", csrf.as_str()),
            ("grant_company", &company_b.to_string()),
            ("grant_role", "viewer"),
        ])
        .send()
        .await;
    assert_eq!(granted.status, 303);
    let shown = app
        .get(CONSOLE, granted.location())
        .session(Some(&token))
        .send()
        .await;
    assert!(shown.body.contains("Company granted"));
    assert!(shown.body.contains("CANARY-NAME-B") && shown.body.contains("Viewer"));

    // The member switches to B and reads B's tickets there, as a viewer.
    let member = app.session_for(Who::Member).await.unwrap();
    let member_csrf = app.csrf(Who::Member, Some(&member)).await;
    let switched = app
        .post(PORTAL, "/switch-company")
        .session(Some(&member))
        .form(&[
            ("csrf", member_csrf.as_str()),
            ("company", &company_b.to_string()),
        ])
        .send()
        .await;
    assert_eq!(switched.status, 303);
    let tickets = app
        .get(PORTAL, "/tickets?status=all")
        .session(Some(&member))
        .send()
        .await;
    assert!(tickets.body.contains("CANARY-TICKET-B"));
    assert!(!tickets.body.contains("CANARY-TICKET-A2"));

    // Taken away: the session acting for B ends.
    let revoked = app
        .post(CONSOLE, &format!("{page}/grants/revoke"))
        .session(Some(&token))
        .form(&[
            ("csrf", csrf.as_str()),
            ("grant_company", &company_b.to_string()),
        ])
        .send()
        .await;
    assert_eq!(revoked.status, 303);
    let after = app
        .get(PORTAL, "/tickets?status=all")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(after.status, 303, "no access to B once it is taken away");
}

/// P5 penetration tests: staff record one with its report (refused forms keep their values;
/// only a PDF is taken), publish it to the portal's Security section, where the client admins
/// read it and download the report; a draft never reaches the portal, and a deleted test's
/// report is gone.
#[tokio::test]
async fn staff_record_a_penetration_test_and_publish_it_with_its_report() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let (token, csrf) = owner(&app).await;
    let fields = |tested_on: &'static str| {
        vec![
            ("vendor", "Redline Security"),
            ("tested_on", tested_on),
            ("scope", "External perimeter and the Microsoft 365 tenant"),
            ("critical", "0"),
            ("high", "2"),
            ("medium", "5"),
            ("low", ""),
            ("summary", "Two exposed admin panels; both closed since."),
        ]
    };
    let post = |fields: Vec<(&'static str, &'static str)>,
                file: Option<(&'static str, &'static [u8])>| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let token = token.clone();
        let app = &app;
        async move {
            app.post(CONSOLE, &format!("/companies/{a}/pentests"))
                .session(Some(&token))
                .multipart(&all, file.map(|(name, bytes)| ("attachments", name, bytes)))
                .send()
                .await
        }
    };
    // A day in the future and a report that is no PDF: refused, the values kept.
    let refused = post(
        fields("2999-01-01"),
        Some(("report.pdf", b"just text, not a PDF")),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("must be a PDF"), "{}", refused.body);
    assert!(refused.body.contains("Two exposed admin panels"));
    let refused = post(fields("2999-01-01"), None).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("not in the future"));
    assert!(refused.body.contains("value=\"Redline Security\""));

    let pdf: &'static [u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
    let added = post(fields("2026-11-20"), Some(("Acme pentest 2026.pdf", pdf))).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let list = app
        .get(CONSOLE, &format!("/companies/{a}/pentests"))
        .session(Some(&token))
        .send()
        .await;
    assert!(list.body.contains("Acme pentest 2026.pdf"));
    assert!(list.body.contains("Draft"));
    let href = |body: &str| -> String {
        let at = body
            .find("External perimeter and the Microsoft 365 tenant")
            .unwrap();
        let start = body[..at].rfind("/pentests/").unwrap();
        body[start + "/pentests/".len()..]
            .split(['"', '/'])
            .next()
            .unwrap()
            .to_owned()
    };
    let id = href(&list.body);
    // A draft: not on the portal, its report not there either.
    let portal = app.get_as(Who::ClientAdmin, "/protection").await;
    assert!(
        !portal
            .body
            .contains("External perimeter and the Microsoft 365")
    );
    assert_eq!(
        app.get_as(
            Who::ClientAdmin,
            &format!("/protection/pentests/{id}/report")
        )
        .await
        .status,
        404
    );

    // Nor in the client's audit log: a draft is the MSP's own business until published.
    let audit = app.get_as(Who::ClientAdmin, "/audit").await;
    assert_eq!(audit.status, 200);
    assert!(
        !audit.body.contains("Redline Security (2026-11-20)"),
        "{}",
        audit.body
    );

    // Published: the client admins read it and download the report.
    let published = app
        .post(CONSOLE, &format!("/companies/{a}/pentests/{id}/publish"))
        .session(Some(&token))
        .form(&[("csrf", csrf.as_str()), ("published", "1")])
        .send()
        .await;
    assert_eq!(published.status, 303);
    let portal = app.get_as(Who::ClientAdmin, "/protection").await;
    for text in [
        "Penetration test",
        "External perimeter and the Microsoft 365 tenant",
        "2 high",
        "5 medium",
        "Read the report",
    ] {
        assert!(portal.body.contains(text), "{text}:\n{}", portal.body);
    }
    let audit = app.get_as(Who::ClientAdmin, "/audit").await;
    assert!(
        audit.body.contains("published to the portal"),
        "{}",
        audit.body
    );
    // The label the draft's entries would have carried, now on the client's chain.
    assert!(audit.body.contains("Redline Security (2026-11-20)"));
    let report = app
        .get_as(
            Who::ClientAdmin,
            &format!("/protection/pentests/{id}/report"),
        )
        .await;
    assert_eq!(report.status, 200);
    assert!(report.body.starts_with("%PDF-1.7"));
    assert!(
        report.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    // The Security section is the client admins': a member does not reach the report.
    assert_eq!(
        app.get_as(Who::Member, &format!("/protection/pentests/{id}/report"))
            .await
            .status,
        404
    );

    // Deleted: gone from both surfaces, its report too.
    let deleted = app
        .post(CONSOLE, &format!("/companies/{a}/pentests/{id}/delete"))
        .session(Some(&token))
        .form(&[("csrf", csrf.as_str()), ("confirm", "delete")])
        .send()
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(
        app.get(CONSOLE, &format!("/companies/{a}/pentests/{id}/report"))
            .session(Some(&token))
            .send()
            .await
            .status,
        404
    );
    assert!(
        !app.get_as(Who::ClientAdmin, "/protection")
            .await
            .body
            .contains("External perimeter and the Microsoft 365")
    );
}

/// P6 Compliance: the records judge what they can (MFA from the Microsoft 365 directory), staff
/// judge the rest with evidence (a refused form keeps its values; an expired judgement no longer
/// counts), and an assessment records the scorecard the portal's client admins read, with the
/// assessments before it; the Overview shows the latest score. Judgements' evidence stays on the
/// console.
#[tokio::test]
async fn staff_judge_compliance_and_record_assessments_the_portal_shows() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let (token, csrf) = owner(&app).await;
    let console = |path: String| {
        let token = token.clone();
        let app = &app;
        async move { app.get(CONSOLE, &path).session(Some(&token)).send().await }
    };

    let page = console(format!("/companies/{a}/compliance")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "Essential Eight",
        "CIS Controls v8 IG1",
        "Record as an assessment",
        // The records judge MFA: A's one directory user has not registered.
        "From the records: 0 of 1 users registered for MFA",
        // The fixture's judgement of macros, in force.
        "CANARY-JUDGED-A",
    ] {
        assert!(page.body.contains(text), "{text}:\n{}", page.body);
    }

    // A refused judgement keeps what was typed.
    let path = format!("/companies/{a}/compliance/e8.appctl.1a");
    let post = |fields: Vec<(&'static str, &'static str)>,
                file: Option<(&'static str, &'static [u8])>| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let token = token.clone();
        let app = &app;
        let path = path.clone();
        async move {
            app.post(CONSOLE, &path)
                .session(Some(&token))
                .multipart(&all, file.map(|(name, bytes)| ("attachments", name, bytes)))
                .send()
                .await
        }
    };
    let refused = post(
        vec![
            ("status", "met"),
            ("note", "WDAC enforced on every workstation"),
            ("expires_on", "2001-01-01"),
        ],
        None,
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("cannot be in the past"));
    assert!(refused.body.contains("WDAC enforced on every workstation"));
    assert!(refused.body.contains("value=\"met\" checked"));
    let refused = post(vec![("status", "perhaps"), ("note", "")], None).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("Choose met, not met or not applicable.")
    );

    let judged = post(
        vec![
            ("status", "met"),
            ("note", "WDAC enforced on every workstation"),
            ("expires_on", ""),
        ],
        Some(("wdac-report.txt", b"WDAC policy report")),
    )
    .await;
    assert_eq!(judged.status, 303, "{}", judged.body);
    let shown = console(path.clone()).await;
    assert!(shown.body.contains("In force"));
    assert!(shown.body.contains("Judged by"));
    let evidence_href = shown
        .body
        .split("href=\"")
        .find(|s| s.contains("/compliance/evidence/"))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let evidence = console(evidence_href).await;
    assert_eq!(evidence.status, 200);
    assert_eq!(evidence.body, "WDAC policy report");
    // Not a requirement of the catalogue: not found.
    assert_eq!(
        console(format!("/companies/{a}/compliance/e8.nope"))
            .await
            .status,
        404
    );

    // The portal shows the recorded assessment, not the working view.
    let portal = app.get_as(Who::ClientAdmin, "/compliance").await;
    assert_eq!(portal.status, 200);
    assert!(portal.body.contains("CANARY-JUDGED-A"));
    assert!(!portal.body.contains("WDAC enforced"));
    assert!(!portal.body.contains("wdac-report.txt"));
    let assessed = app
        .post(CONSOLE, &format!("/companies/{a}/compliance/assessments"))
        .session(Some(&token))
        .form(&[("csrf", csrf.as_str()), ("framework", "e8")])
        .send()
        .await;
    assert_eq!(assessed.status, 303, "{}", assessed.body);
    let portal = app.get_as(Who::ClientAdmin, "/compliance").await;
    for text in [
        "WDAC enforced on every workstation",
        "Maturity level 0",
        "Earlier assessments (1)",
        "0 of 1 users registered for MFA",
    ] {
        assert!(portal.body.contains(text), "{text}:\n{}", portal.body);
    }
    assert!(!portal.body.contains("wdac-report.txt"));
    // CIS has not been assessed: not on the portal.
    assert!(!portal.body.contains("CIS Controls"));
    let overview = app.get_as(Who::ClientAdmin, "/").await;
    assert!(
        overview.body.contains("Essential Eight maturity ("),
        "{}",
        overview.body
    );
    // With the backup health and the open alerts, for the client admin (Security is theirs).
    assert!(overview.body.contains("Open security alerts"));
    let member = app.get_as(Who::Member, "/").await;
    assert!(!member.body.contains("Open security alerts"));
    assert!(!member.body.contains("Essential Eight"));
    // A framework the catalogue does not hold is a bad request.
    let unknown = app
        .post(CONSOLE, &format!("/companies/{a}/compliance/assessments"))
        .session(Some(&token))
        .form(&[("csrf", csrf.as_str()), ("framework", "iso27001")])
        .send()
        .await;
    assert_eq!(unknown.status, 400);
    // The section is the client admins'.
    assert_eq!(app.get_as(Who::Member, "/compliance").await.status, 404);

    // A judgement past its last day no longer counts.
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.add_compliance_judgement(
        app.fx.ws1,
        &portico_store::system::SeedJudgement {
            company: a,
            requirement: "e8.harden.1a",
            status: portico_core::compliance::Status::Met,
            note: "Browser policy checked",
            evidence: None,
            expires_on: Some("2020-01-01"),
            staff_name: "Fixture Owner",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let expired = console(format!("/companies/{a}/compliance/e8.harden.1a")).await;
    assert!(expired.body.contains("Expired"), "{}", expired.body);
    assert!(expired.body.contains("Not assessed"));
}
