//! Change requests through HTTP: a client admin asks for a change to an asset from its page (the
//! form prefilled with it; a refused form keeps what was typed), a member sees their own requests
//! only, a purchase waits for the company's purchase approver, and staff assign, reject with a
//! reason, approve and mark done; the requester and the client admins are told each step by mail.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

fn request_of(location: &str) -> String {
    location
        .strip_prefix("/changes/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("no request in {location:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_request_goes_from_the_portal_through_the_approver_to_the_desk_and_back() {
    let app = TestApp::spawn().await;
    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let admin_csrf = app.csrf(Who::ClientAdmin, Some(&admin)).await;
    let asset = app.fx.assets[0];

    // From the asset's page, prefilled with the asset and the kind of change.
    let page = app
        .get(PORTAL, &format!("/assets/{asset}"))
        .session(Some(&admin))
        .send()
        .await;
    let link = format!("/changes/new?target=asset&amp;id={asset}&amp;kind=update");
    assert!(page.body.contains(&link), "{}", page.body);
    let form = app
        .get(
            PORTAL,
            &format!("/changes/new?target=asset&id={asset}&kind=update"),
        )
        .session(Some(&admin))
        .send()
        .await;
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains("value=\"Change the details of CANARY-ASSET-A1\"")
    );
    let asset_text = asset.to_string();
    let fields = |details: &'static str| {
        vec![
            ("csrf", admin_csrf.clone()),
            ("kind", "update".to_owned()),
            ("target", "asset".to_owned()),
            ("target_id", asset_text.clone()),
            ("title", "Move the laptop to Dana".to_owned()),
            ("details", details.to_owned()),
        ]
    };
    let refused = app
        .post(PORTAL, "/changes")
        .session(Some(&admin))
        .form(
            &fields("")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"Move the laptop to Dana\""));
    assert!(refused.body.contains("id=\"details-error\""));
    let raised = app
        .post(PORTAL, "/changes")
        .session(Some(&admin))
        .form(
            &fields("Dana starts Monday; Sam hands it back.")
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .send()
        .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let change = request_of(raised.location());

    // The member does not see the admin's request; the admin sees the member's (fixture).
    let member = app.session_for(Who::Member).await.unwrap();
    let theirs = app
        .get(PORTAL, &format!("/changes/{change}"))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(theirs.status, 404);
    let list = app
        .get(PORTAL, "/changes")
        .session(Some(&admin))
        .send()
        .await;
    assert!(list.body.contains("Move the laptop to Dana"));
    assert!(list.body.contains("CANARY-CR-A-MEMBER"));
    // The viewer may read the list but not ask.
    let viewer = app.session_for(Who::Viewer).await.unwrap();
    let refused = app
        .get(PORTAL, "/changes/new")
        .session(Some(&viewer))
        .send()
        .await;
    assert_eq!(refused.status, 403);

    // A purchase: the member is the company's purchase approver (a contact at their address).
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.add_contact(
        app.fx.ws1,
        app.fx.company_a,
        "Morgan Member",
        "member@a.test",
        "",
        "Office manager",
        &[portico_core::ContactRole::PurchaseApprover],
    )
    .await
    .unwrap();
    sys.commit().await.unwrap();
    let purchase = app
        .post(PORTAL, "/changes")
        .session(Some(&admin))
        .form(&[
            ("csrf", admin_csrf.as_str()),
            ("kind", "purchase"),
            ("target", "general"),
            ("title", "Purchase: two docking stations"),
            ("details", "For the new starters."),
        ])
        .send()
        .await;
    assert_eq!(purchase.status, 303);
    let purchase = request_of(purchase.location());
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let queue = app
        .get(CONSOLE, "/changes")
        .session(Some(&tech))
        .send()
        .await;
    assert!(queue.body.contains("Move the laptop to Dana"));
    let waiting = app
        .get(CONSOLE, &format!("/changes/{purchase}"))
        .session(Some(&tech))
        .send()
        .await;
    assert!(waiting.body.contains("awaits the client"));
    let member_csrf = app.csrf(Who::Member, Some(&member)).await;
    let page = app
        .get(PORTAL, &format!("/changes/{purchase}"))
        .session(Some(&member))
        .send()
        .await;
    assert!(page.body.contains("Approve the purchase"), "{}", page.body);
    let approved = app
        .post(PORTAL, &format!("/changes/{purchase}/approval"))
        .session(Some(&member))
        .form(&[
            ("csrf", member_csrf.as_str()),
            ("decision", "approve"),
            ("note", "Within budget."),
        ])
        .send()
        .await;
    assert_eq!(approved.status, 303);

    // The desk: assign, a rejection without a reason is refused, approve, then done.
    let tech_csrf = app.csrf(Who::TechnicianAssigned, Some(&tech)).await;
    let me = app
        .fx
        .staff_users
        .iter()
        .find(|(w, _)| *w == Who::TechnicianAssigned)
        .unwrap()
        .1
        .to_string();
    let assigned = app
        .post(CONSOLE, &format!("/changes/{change}/assign"))
        .session(Some(&tech))
        .form(&[("csrf", tech_csrf.as_str()), ("assignee", me.as_str())])
        .send()
        .await;
    assert_eq!(assigned.status, 303);
    let mine = app
        .get(CONSOLE, "/changes?assignee=mine")
        .session(Some(&tech))
        .send()
        .await;
    assert!(mine.body.contains("Move the laptop to Dana"));
    assert!(!mine.body.contains("two docking stations"));
    let refused = app
        .post(CONSOLE, &format!("/changes/{change}/decision"))
        .session(Some(&tech))
        .form(&[
            ("csrf", tech_csrf.as_str()),
            ("decision", "reject"),
            ("note", ""),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 422);
    for decision in ["approve", "done"] {
        let decided = app
            .post(CONSOLE, &format!("/changes/{change}/decision"))
            .session(Some(&tech))
            .form(&[
                ("csrf", tech_csrf.as_str()),
                ("decision", decision),
                ("note", "Reassigned in the RMM and relabelled."),
            ])
            .send()
            .await;
        assert_eq!(decided.status, 303, "{decision}: {}", decided.body);
    }
    let page = app
        .get(PORTAL, &format!("/changes/{change}"))
        .session(Some(&admin))
        .send()
        .await;
    assert!(page.body.contains("badge ok\">Done"), "{}", page.body);
    assert!(page.body.contains("Reassigned in the RMM"));

    // Each step reached the client admin by mail, with a link built from the portal's hostname.
    let mut sys = app.store().system_unscoped().await.unwrap();
    let mails = sys.mails_to("admin@a.test").await.unwrap();
    sys.commit().await.unwrap();
    let subjects: Vec<&str> = mails.iter().map(|(s, _)| s.as_str()).collect();
    for subject in [
        "With the MSP: Move the laptop to Dana",
        "Approved: Move the laptop to Dana",
        "Done: Move the laptop to Dana",
        "Awaiting purchase approval: Purchase: two docking stations",
        "With the MSP: Purchase: two docking stations",
    ] {
        assert!(subjects.contains(&subject), "{subject} not in {subjects:?}");
    }
    assert!(
        mails
            .iter()
            .any(|(_, body)| body.contains(&format!("/changes/{change}")))
    );
}

/// A client admin restricted to one site sees (and hears of) requests about that site's assets
/// and about no site, not those about another site's asset.
#[tokio::test]
async fn a_site_restricted_client_admin_sees_only_their_sites_requests() {
    use portico_store::{NewSession, SessionUser, SurfaceKind};
    let app = TestApp::spawn().await;
    let mut sys = app.store().system_unscoped().await.unwrap();
    let restricted = sys
        .add_portal_user(
            app.fx.ws1,
            &portico_store::system::SeedPortalUser {
                company: app.fx.company_a,
                email: "site-admin@a.test",
                name: "Site Admin",
                role: portico_core::PortalRole::ClientAdmin,
                own_only: false,
                billing_access: false,
                password_hash: Some("not-used-sessions-are-made-directly"),
                sites: &[app.fx.site_a1],
            },
        )
        .await
        .unwrap();
    sys.commit().await.unwrap();
    let mut auth = app.store().auth(app.fx.ws1).await.unwrap();
    let token = auth
        .create_session(&NewSession {
            surface: SurfaceKind::Portal,
            user: SessionUser::Portal(restricted),
            ip: "127.0.0.1",
            user_agent: "test",
            lifetime_secs: 3600,
        })
        .await
        .unwrap();
    auth.commit().await.unwrap();

    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let csrf = app.csrf(Who::ClientAdmin, Some(&admin)).await;
    let mut raised = Vec::new();
    for (asset, title) in [
        (app.fx.assets[0], "About the site-1 laptop"),
        (app.fx.assets[1], "About the site-2 laptop"),
    ] {
        let asset = asset.to_string();
        let response = app
            .post(PORTAL, "/changes")
            .session(Some(&admin))
            .form(&[
                ("csrf", csrf.as_str()),
                ("kind", "update"),
                ("target", "asset"),
                ("target_id", asset.as_str()),
                ("title", title),
                ("details", "Please."),
            ])
            .send()
            .await;
        assert_eq!(response.status, 303);
        raised.push(request_of(response.location()));
    }
    let list = app
        .get(PORTAL, "/changes")
        .session(Some(&token))
        .send()
        .await;
    assert!(list.body.contains("About the site-1 laptop"));
    assert!(!list.body.contains("About the site-2 laptop"));
    assert!(
        list.body.contains("CANARY-CR-A-MEMBER"),
        "a request about no site"
    );
    let hidden = app
        .get(PORTAL, &format!("/changes/{}", raised[1]))
        .session(Some(&token))
        .send()
        .await;
    assert_eq!(hidden.status, 404);
    let mut sys = app.store().system_unscoped().await.unwrap();
    let mails = sys.mails_to("site-admin@a.test").await.unwrap();
    sys.commit().await.unwrap();
    assert!(mails.iter().any(|(s, _)| s.contains("site-1 laptop")));
    assert!(!mails.iter().any(|(s, _)| s.contains("site-2 laptop")));
}
