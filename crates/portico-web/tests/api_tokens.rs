//! API tokens (C9): an owner makes one for one company, read-only, sees it once; the token
//! answers for itself at `/api/v1/token` and runs in a scope no wider than the token (its
//! company, read-only); it is refused without the header, on the portal's host, once revoked,
//! and once its owner is no longer an owner; making, using and revoking it are audited.

mod common;

use common::{CONSOLE, PORTAL, Response, TestApp, Who};
use portico_core::{CompanySet, Origin};

async fn api(app: &TestApp, host: &str, bearer: Option<&str>) -> Response {
    let mut req = app.get(host, "/api/v1/token");
    if let Some(token) = bearer {
        req = req.header("authorization", &format!("Bearer {token}"));
    }
    req.send().await
}

/// The ids the list's revoke buttons carry, top to bottom.
fn revoke_ids(body: &str) -> Vec<String> {
    body.split("name=\"token\" value=\"")
        .skip(1)
        .filter_map(|rest| Some(rest.split_once('"')?.0.to_owned()))
        .collect()
}

/// A request's lookup (one statement, no transaction begun) finds a token in its own workspace
/// only, and not once it has expired.
#[tokio::test]
async fn a_token_resolves_only_in_its_workspace_and_only_until_it_expires() {
    let app = TestApp::spawn().await;
    let token = app.api_token(None, "read").await;
    let resolve = async |ws| {
        let mut tx = app.store().auth_read(ws).await.unwrap();
        let caller = tx
            .resolve_api_token(&token, &Origin::default())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        caller.map(|c| c.token_id)
    };
    assert!(resolve(app.fx.ws1).await.is_some());
    assert_eq!(resolve(app.fx.ws2).await, None, "another workspace's token");
    assert_eq!(api(&app, CONSOLE, Some(&token)).await.status, 200);
    let mut system = app.store().system_unscoped().await.unwrap();
    system.expire_api_tokens().await.unwrap();
    system.commit().await.unwrap();
    assert_eq!(resolve(app.fx.ws1).await, None, "expired");
    assert_eq!(api(&app, CONSOLE, Some(&token)).await.status, 401);
}

#[tokio::test]
async fn a_token_reaches_its_company_read_only_until_revoked() {
    let app = TestApp::spawn().await;
    let company = app.fx.company_a.to_string();
    let made = app
        .post_as(
            Who::Owner,
            "/settings/api-tokens",
            &[
                ("name", "Backup reports"),
                ("company", &company),
                ("access", "read"),
                ("lifetime", "30"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(made.headers["cache-control"], "no-store");
    let start = made.body.find("portico_").expect("the token, once");
    let token: String = made.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(token.len(), "portico_".len() + 64);
    let list = app.get_as(Who::Owner, "/settings/api-tokens").await;
    assert!(list.body.contains("Backup reports"));
    assert!(!list.body.contains(&token), "never shown again");

    // The token answers for itself, as problem details when it cannot.
    let info = api(&app, CONSOLE, Some(&token)).await;
    assert_eq!(info.status, 200, "{}", info.body);
    let json: serde_json::Value = serde_json::from_str(&info.body).unwrap();
    assert_eq!(json["name"], "Backup reports");
    assert_eq!(json["access"], "read");
    assert_eq!(json["company"]["id"], company.as_str());
    let missing = api(&app, CONSOLE, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.headers["content-type"], "application/problem+json");
    assert!(missing.headers.contains_key("www-authenticate"));
    let wrong = api(&app, CONSOLE, Some(&format!("portico_{}", "0".repeat(64)))).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(api(&app, PORTAL, Some(&token)).await.status, 404);

    // Its scope: company A only, and no write transaction.
    let mut tx = app.store().auth(app.fx.ws1).await.unwrap();
    let caller = tx
        .resolve_api_token(&token, &Origin::default())
        .await
        .unwrap()
        .expect("a valid token");
    tx.commit().await.unwrap();
    assert_eq!(
        caller.scope.companies(),
        &CompanySet::Only(vec![app.fx.company_a])
    );
    assert!(caller.scope.is_read_only());
    // A token never administers the workspace, whatever its owner may.
    for action in [
        portico_core::Action::ManageApiTokens,
        portico_core::Action::ManageStaff,
        portico_core::Action::ManageSingleSignOn,
        portico_core::Action::ViewAudit,
    ] {
        assert_eq!(
            caller.scope.may(action),
            Err(portico_core::Denied::Forbidden),
            "{action:?}"
        );
    }
    assert!(matches!(
        app.store().scoped_write(&caller.scope).await,
        Err(portico_store::StoreError::Forbidden)
    ));
    let mut read = app.store().scoped(&caller.scope).await.unwrap();
    assert!(
        read.company(app.fx.company_b).await.is_err(),
        "another company is out of sight"
    );
    read.commit().await.unwrap();

    // Revoked: refused at once. Every step is in the audit log.
    let id = revoke_ids(&list.body)[0].clone();
    let revoked = app
        .post_as(Who::Owner, "/settings/api-tokens/revoke", &[("token", &id)])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(api(&app, CONSOLE, Some(&token)).await.status, 401);
    app.store().flush_audit().await.unwrap();
    let log = app.get_as(Who::Owner, "/audit").await;
    for action in [
        "Created an API token",
        "Used an API token",
        "Revoked an API token",
    ] {
        assert!(log.body.contains(action), "{action}");
    }
    // The client's admins read what a token did with their company's records.
    let client = app
        .get_as(Who::ClientAdmin, "/audit?action=api_token_used")
        .await;
    assert!(client.body.contains("Backup reports"), "{}", client.body);
}

#[tokio::test]
async fn a_token_is_refused_field_by_field_and_stops_with_its_owners_rights() {
    let app = TestApp::spawn().await;
    let refused = app
        .post_as(
            Who::Owner,
            "/settings/api-tokens",
            &[("name", ""), ("access", "admin"), ("lifetime", "9999")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Name the token"));
    assert!(refused.body.contains("Choose what the token may do"));
    assert!(refused.body.contains("Choose when the token expires"));
    // A workspace token of the owner, read-write.
    let made = app
        .post_as(
            Who::Owner,
            "/settings/api-tokens",
            &[
                ("name", "PSA sync"),
                ("company", ""),
                ("access", "read_write"),
                ("lifetime", "90"),
            ],
        )
        .await;
    let start = made.body.find("portico_").unwrap();
    let token: String = made.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let info = api(&app, CONSOLE, Some(&token)).await;
    let json: serde_json::Value = serde_json::from_str(&info.body).unwrap();
    assert!(json["company"].is_null());
    assert_eq!(json["access"], "read_write");
    let mut tx = app.store().auth(app.fx.ws1).await.unwrap();
    let caller = tx
        .resolve_api_token(&token, &Origin::default())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(caller.scope.companies(), &CompanySet::All);
    assert!(!caller.scope.is_read_only());
    // The owner's account disabled: the token no longer works.
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.set_staff_disabled_flag(app.fx.staff(Who::Owner), true)
        .await
        .unwrap();
    sys.commit().await.unwrap();
    assert_eq!(api(&app, CONSOLE, Some(&token)).await.status, 401);
}

/// The owners' list shows the tokens in force, newest first, fifty to a page; revoked (and
/// expired) ones are kept under their own filter; a search finds a token by name or prefix,
/// its wildcards taken literally.
#[tokio::test]
async fn the_token_list_pages_filters_and_searches() {
    let app = TestApp::spawn().await;
    let name_of = |n: usize| {
        if n == 7 {
            "Nightly export".to_owned()
        } else {
            format!("Tool {n:02}")
        }
    };
    for n in 1..=52 {
        let made = app
            .post_as(
                Who::Owner,
                "/settings/api-tokens",
                &[
                    ("name", &name_of(n)),
                    ("company", ""),
                    ("access", "read"),
                    ("lifetime", "30"),
                ],
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
    }
    let names = |body: &str| -> Vec<String> {
        body.split("<td><strong>")
            .skip(1)
            .filter_map(|rest| Some(rest.split_once("</strong>")?.0.to_owned()))
            .collect()
    };
    let link = |body: &str, text: &str| -> Option<String> {
        let end = body.find(&format!("\">{text}</a>"))?;
        let start = body[..end].rfind("href=\"")? + 6;
        Some(body[start..end].replace("&amp;", "&"))
    };

    let first = app.get_as(Who::Owner, "/settings/api-tokens").await;
    assert_eq!(first.status, 200);
    let first_names = names(&first.body);
    assert_eq!(first_names.len(), 50, "{first_names:?}");
    assert!(link(&first.body, "Newest").is_none());
    let older = link(&first.body, "Older tokens").expect("a second page");
    let second = app.get_as(Who::Owner, &older).await;
    assert_eq!(second.status, 200);
    let second_names = names(&second.body);
    assert_eq!(second_names.len(), 2, "{second_names:?}");
    assert!(link(&second.body, "Older tokens").is_none());
    assert_eq!(
        link(&second.body, "Newest").as_deref(),
        Some("/settings/api-tokens")
    );
    let mut all: Vec<String> = first_names.iter().chain(&second_names).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 52, "each token on exactly one page");

    // Revoked: gone from those in force, kept under "Revoked or expired".
    let id = revoke_ids(&first.body)[0].clone();
    let revoked_name = first_names[0].clone();
    let revoked = app
        .post_as(Who::Owner, "/settings/api-tokens/revoke", &[("token", &id)])
        .await;
    assert_eq!(revoked.status, 303);
    let active = app.get_as(Who::Owner, "/settings/api-tokens").await;
    assert!(!names(&active.body).contains(&revoked_name));
    let ended = app
        .get_as(Who::Owner, "/settings/api-tokens?state=ended")
        .await;
    assert_eq!(names(&ended.body), vec![revoked_name.clone()]);
    assert!(ended.body.contains("Revoked"));
    let every = app
        .get_as(Who::Owner, "/settings/api-tokens?state=all")
        .await;
    assert!(names(&every.body).contains(&revoked_name));
    // A key given twice counts once (its first value).
    let twice = app
        .get_as(Who::Owner, "/settings/api-tokens?state=ended&state=all")
        .await;
    assert_eq!(twice.status, 200);
    assert_eq!(names(&twice.body), vec![revoked_name.clone()]);
    // Exactly a page in force (51 less one more revoked): no link to an empty older page.
    let second_id = revoke_ids(&active.body)[0].clone();
    let revoked = app
        .post_as(
            Who::Owner,
            "/settings/api-tokens/revoke",
            &[("token", &second_id)],
        )
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(revoked.location(), "/settings/api-tokens?revoked");
    let full = app.get_as(Who::Owner, "/settings/api-tokens").await;
    assert_eq!(names(&full.body).len(), 50);
    // A revocation comes back to the list it was made from, carrying nothing else.
    let last_id = revoke_ids(&full.body).pop().unwrap();
    let from_page = app
        .post_as(
            Who::Owner,
            "/settings/api-tokens/revoke",
            &[
                ("token", &last_id),
                ("list", "state=all&before=17.x&next=//evil.test&q=a b"),
            ],
        )
        .await;
    assert_eq!(
        from_page.location(),
        "/settings/api-tokens?revoked&q=a+b&state=all&before=17.x"
    );
    assert!(link(&full.body, "Older tokens").is_none(), "{}", full.body);

    // A search by name, by the visible prefix, and with a wildcard that matches nothing.
    let found = app
        .get_as(Who::Owner, "/settings/api-tokens?q=NIGHTLY+exp")
        .await;
    assert_eq!(names(&found.body), vec![name_of(7)]);
    // A short word is looked for in names only: "07" is in no name (the seventh is named
    // otherwise), though hex prefixes may hold it.
    let short = app
        .get_as(Who::Owner, "/settings/api-tokens?q=tool+07&state=all")
        .await;
    assert!(names(&short.body).is_empty(), "{:?}", names(&short.body));
    let prefix = full
        .body
        .split("<code class=\"muted\">")
        .nth(1)
        .unwrap()
        .split('…')
        .next()
        .unwrap()
        .to_owned();
    let by_prefix = app
        .get_as(Who::Owner, &format!("/settings/api-tokens?q={prefix}"))
        .await;
    assert_eq!(names(&by_prefix.body), vec![names(&full.body)[0].clone()]);
    let none = app.get_as(Who::Owner, "/settings/api-tokens?q=%25").await;
    assert!(names(&none.body).is_empty());
    assert!(none.body.contains("No tokens match."), "{}", none.body);
    // A hand-edited cursor or state still shows a list.
    let odd = app
        .get_as(Who::Owner, "/settings/api-tokens?before=x.y&state=nonsense")
        .await;
    assert_eq!(odd.status, 200);
    assert_eq!(names(&odd.body).len(), 49);
}
