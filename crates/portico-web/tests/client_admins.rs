//! Client admins manage their company (§1): the portal's Users section within their own rights,
//! direct edits of contacts and asset details where the MSP allows it, and the history every
//! such edit leaves on both surfaces.

mod common;

use common::{PORTAL, TestApp, Who};
use portico_core::{PortalRole, PortalUserId, SiteId};
use portico_store::system::SeedPortalUser;
use portico_store::{NewSession, SessionUser, SurfaceKind};

/// A portal session for any portal user of workspace one.
async fn session_of(app: &TestApp, user: PortalUserId) -> String {
    let mut tx = app.store().auth(app.fx.ws1).await.unwrap();
    let token = tx
        .create_session(&NewSession {
            surface: SurfaceKind::Portal,
            user: SessionUser::Portal(user),
            ip: "127.0.0.1",
            user_agent: "test",
            lifetime_secs: 3600,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    token
}

async fn csrf_of(app: &TestApp, token: &str) -> String {
    app.get(PORTAL, "/profile")
        .session(Some(token))
        .send()
        .await
        .hidden("csrf")
}

/// A client admin of company A who sees site A1 only.
async fn site_admin(app: &TestApp, sites: &[SiteId]) -> PortalUserId {
    let mut tx = app.store().system_unscoped().await.unwrap();
    let id = tx
        .add_portal_user(
            app.fx.ws1,
            &SeedPortalUser {
                company: app.fx.company_a,
                email: "site-admin@a.test",
                name: "Site Admin",
                role: PortalRole::ClientAdmin,
                own_only: false,
                billing_access: false,
                password_hash: None,
                sites,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn a_client_admin_invites_edits_and_disables_the_companys_users() {
    let app = TestApp::spawn().await;
    let fx = &app.fx;
    let list = app.get_as(Who::ClientAdmin, "/users").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("target@a.test") && list.body.contains("member@a.test"));
    assert!(!list.body.contains("user@b.test"), "another company's user");
    // Members and viewers have no Users section at all.
    assert_eq!(app.get_as(Who::Member, "/users").await.status, 404);

    // An address outside the company's domains is refused, and what was typed stays.
    let refused = app
        .post_as(
            Who::ClientAdmin,
            "/users",
            &[
                ("name", "Outsider"),
                ("email", "someone@elsewhere.test"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("domains (a.test)"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("someone@elsewhere.test"));

    let invited = app
        .post_as(
            Who::ClientAdmin,
            "/users",
            &[
                ("name", "New Colleague"),
                ("email", "new.colleague@a.test"),
                ("role", "viewer"),
                ("sites", &fx.site_a1.to_string()),
            ],
        )
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let mut sys = app.store().system_unscoped().await.unwrap();
    let mail = sys
        .latest_mail_to("new.colleague@a.test")
        .await
        .unwrap()
        .expect("the invitation is queued");
    sys.commit().await.unwrap();
    assert!(mail.contains("/setup?token="), "{mail}");
    let list = app.get_as(Who::ClientAdmin, "/users").await;
    assert!(list.body.contains("New Colleague"));

    // Changing a user's role is kept on their history, on both surfaces.
    let target = fx.target_a;
    let saved = app
        .post_as(
            Who::ClientAdmin,
            &format!("/users/{target}"),
            &[("name", "Target Person"), ("role", "viewer")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = app
        .get_as(Who::ClientAdmin, &format!("/users/{target}"))
        .await;
    assert!(page.body.contains("History"), "{}", page.body);
    assert!(page.body.contains("<strong>Role</strong>"));
    assert!(page.body.contains("Viewer"));
    let console = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/users/{target}", fx.company_a),
        )
        .await;
    assert!(
        console.body.contains("<strong>Role</strong>") && console.body.contains(">Portal</span>")
    );

    // Disabling ends the user's sessions at once.
    let their_session = session_of(&app, target).await;
    assert_eq!(
        app.get(PORTAL, "/profile")
            .session(Some(&their_session))
            .send()
            .await
            .status,
        200
    );
    let disabled = app
        .post_as(Who::ClientAdmin, &format!("/users/{target}/disable"), &[])
        .await;
    assert_eq!(disabled.status, 303);
    assert_eq!(
        app.get(PORTAL, "/profile")
            .session(Some(&their_session))
            .send()
            .await
            .status,
        303,
        "signed out everywhere"
    );
    // Another company's user under this portal is not found.
    let foreign = app
        .post_as(
            Who::ClientAdmin,
            &format!("/users/{}/disable", fx.user_b),
            &[],
        )
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn a_client_admin_never_grants_or_manages_beyond_their_own_rights() {
    let app = TestApp::spawn().await;
    let fx = &app.fx;
    let admin = site_admin(&app, &[fx.site_a1]).await;
    let token = session_of(&app, admin).await;
    let csrf = csrf_of(&app, &token).await;
    let post = |path: String, pairs: Vec<(&'static str, String)>| {
        let (app, token, csrf) = (&app, token.clone(), csrf.clone());
        async move {
            let mut form = vec![("csrf", csrf)];
            form.extend(pairs);
            let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post(PORTAL, &path)
                .session(Some(&token))
                .form(&refs)
                .send()
                .await
        }
    };
    // Every site (none ticked) and another site are beyond a one-site admin.
    for sites in [vec![], vec![("sites", fx.site_a2.to_string())]] {
        let mut form = vec![
            ("name", "Wide".to_owned()),
            ("email", "wide@a.test".to_owned()),
            ("role", "member".to_owned()),
        ];
        form.extend(sites);
        let refused = post("/users".into(), form).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
    }
    // Billing access is not theirs to give: the box is ignored.
    let invited = post(
        "/users".into(),
        vec![
            ("name", "Narrow".into()),
            ("email", "narrow@a.test".into()),
            ("role", "member".into()),
            ("sites", fx.site_a1.to_string()),
            ("billing_access", "1".into()),
        ],
    )
    .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let owner_view = app
        .get_as(Who::Owner, &format!("/companies/{}/users", fx.company_a))
        .await;
    let row = owner_view
        .body
        .split("<tr>")
        .find(|r| r.contains("narrow@a.test"))
        .unwrap();
    assert!(!row.contains("billing"), "{row}");
    // A user who sees every site (target), and the admin themselves, are beyond them.
    let page = app
        .get(PORTAL, &format!("/users/{}", fx.target_a))
        .session(Some(&token))
        .send()
        .await;
    assert!(page.body.contains("access beyond yours"));
    assert!(!page.body.contains("/disable"));
    assert_eq!(
        post(format!("/users/{}/disable", fx.target_a), vec![])
            .await
            .status,
        403
    );
    assert_eq!(
        post(
            format!("/users/{admin}"),
            vec![("name", "Me".into()), ("role", "client_admin".into())]
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn client_admins_edit_contacts_directly_only_where_the_msp_allows_it() {
    let app = TestApp::spawn().await;
    let fx = &app.fx;
    let contact = fx.contacts[0];
    let roster = app.get_as(Who::ClientAdmin, "/contacts").await;
    assert!(roster.body.contains(&format!("/contacts/{contact}#edit")));
    // A refused edit keeps what was typed.
    let refused = app
        .post_as(
            Who::ClientAdmin,
            &format!("/contacts/{contact}"),
            &[("name", ""), ("phone", "call me maybe")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("call me maybe"));
    let saved = app
        .post_as(
            Who::ClientAdmin,
            &format!("/contacts/{contact}"),
            &[
                ("name", "CANARY-CONTACT-A"),
                ("email", "c@example.test"),
                ("phone", "+61 2 5550 1234"),
                ("title", "Manager"),
                ("roles", "primary"),
                ("roles", "purchase_approver"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let console = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/contacts/{contact}", fx.company_a),
        )
        .await;
    assert!(console.body.contains("+61 2 5550 1234"));
    assert!(
        console.body.contains("<strong>Phone</strong>") && console.body.contains(">Portal</span>")
    );
    // Making someone the purchase approver (the admin themselves, say) is not the admin's to do.
    assert!(
        !console.body.contains("<strong>Roles</strong>"),
        "the purchase approver role the form sent was not written"
    );

    // Members read the contact but may not edit it.
    assert_eq!(
        app.post_as(
            Who::Member,
            &format!("/contacts/{contact}"),
            &[("name", "X")]
        )
        .await
        .status,
        403
    );

    // Where the MSP does not allow it, the admin requests the change instead.
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.set_client_admin_edits(fx.company_a, false)
        .await
        .unwrap();
    sys.commit().await.unwrap();
    let roster = app.get_as(Who::ClientAdmin, "/contacts").await;
    assert!(!roster.body.contains("#edit"));
    assert!(roster.body.contains("/changes/new?target=contact"));
    assert_eq!(
        app.post_as(
            Who::ClientAdmin,
            &format!("/contacts/{contact}"),
            &[("name", "Renamed")]
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn a_client_admins_asset_edit_touches_only_what_the_portal_lets_them_correct() {
    let app = TestApp::spawn().await;
    let fx = &app.fx;
    let asset = fx.assets[0];
    // Staff change the notes (hidden from this portal) and the assigned user (shown).
    let console_path = format!("/companies/{}/assets/{asset}", fx.company_a);
    let staff_edit = app
        .post_as(
            Who::Owner,
            &console_path,
            &[
                ("name", "CANARY-ASSET-A1"),
                ("kind", "laptop"),
                ("site", &fx.site_a1.to_string()),
                ("serial", "SERIAL-A1"),
                ("assigned_user", "Dana Smith"),
                ("notes", "CANARY-HISTORY-NOTE"),
            ],
        )
        .await;
    assert_eq!(staff_edit.status, 303, "{}", staff_edit.body);
    let page = app
        .get_as(Who::ClientAdmin, &format!("/assets/{asset}"))
        .await;
    assert!(page.body.contains("Dana Smith"), "{}", page.body);
    assert!(
        !page.body.contains("CANARY-HISTORY-NOTE") && !page.body.contains("CANARY-ASSETNOTE-A1"),
        "a hidden field's change never reaches the portal"
    );
    assert!(page.body.contains(&format!("/assets/{asset}/edit")));

    // The client admin's edit: the serial and notes they send are ignored.
    let form = app
        .get_as(Who::ClientAdmin, &format!("/assets/{asset}/edit"))
        .await;
    assert_eq!(form.status, 200);
    assert!(!form.body.contains("name=\"notes\"") && !form.body.contains("name=\"serial\""));
    let saved = app
        .post_as(
            Who::ClientAdmin,
            &format!("/assets/{asset}/edit"),
            &[
                ("name", "Reception laptop"),
                ("assigned_user", "Lee Wong"),
                ("serial", "FORGED"),
                ("notes", "FORGED"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let console = app.get_as(Who::Owner, &console_path).await;
    assert!(console.body.contains("Reception laptop") && console.body.contains("Lee Wong"));
    assert!(console.body.contains("SERIAL-A1") && console.body.contains("CANARY-HISTORY-NOTE"));
    assert!(!console.body.contains("FORGED"));
    // Members may not edit; another site's asset is beyond a site-restricted user.
    assert_eq!(
        app.get_as(Who::Member, &format!("/assets/{asset}/edit"))
            .await
            .status,
        403
    );
    assert_eq!(
        app.get_as(
            Who::SiteRestricted,
            &format!("/assets/{}/edit", fx.assets[1])
        )
        .await
        .status,
        404
    );
}
