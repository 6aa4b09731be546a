//! The REST API (I1): every `/api/v1` route × every kind of token × records of the token's
//! company, of another company, of another workspace, missing and malformed → the expected
//! status, with no other company's canary in any answer; then paging by cursor, `ETag`s,
//! idempotency keys, problem details, the request budget and the OpenAPI description.

mod common;

use common::{CONSOLE, TestApp, Who};
use portico_core::CompanyId;
use portico_web::WebConfig;
use serde_json::{Value, json};

/// The kinds of token an owner can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    WorkspaceRead,
    WorkspaceWrite,
    CompanyRead,
    CompanyWrite,
}

impl Token {
    fn writes(self) -> bool {
        matches!(self, Token::WorkspaceWrite | Token::CompanyWrite)
    }
    fn whole_workspace(self) -> bool {
        matches!(self, Token::WorkspaceRead | Token::WorkspaceWrite)
    }
}

/// Whose record a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// Company A's: every token reaches it.
    OwnCompany,
    /// Company B's, of the same workspace: only workspace tokens reach it.
    OtherCompany,
    /// Company C's, of the other workspace: no token of this one reaches it.
    OtherWorkspace,
    Missing,
    Malformed,
}

const RECORDS: [Record; 5] = [
    Record::OwnCompany,
    Record::OtherCompany,
    Record::OtherWorkspace,
    Record::Missing,
    Record::Malformed,
];

async fn tokens(app: &TestApp) -> Vec<(Token, String)> {
    let a = Some(app.fx.company_a);
    vec![
        (Token::WorkspaceRead, app.api_token(None, "read").await),
        (
            Token::WorkspaceWrite,
            app.api_token(None, "read_write").await,
        ),
        (Token::CompanyRead, app.api_token(a, "read").await),
        (Token::CompanyWrite, app.api_token(a, "read_write").await),
    ]
}

/// Every canary of a record of company B or C: none may reach a company-A token.
fn foreign_canaries(app: &TestApp) -> Vec<String> {
    let mut canaries: Vec<String> = [
        "CANARY-MAINT-B",
        "CANARY-MAINT-C",
        "CANARY-CR-B",
        "CANARY-CR-C",
        "CANARY-NAME-B",
        "CANARY-NAME-C",
        "CANARY-PLAN-B",
        "CANARY-SITE-B1",
        "CANARY-SITE-C1",
        "CANARY-CONTACT-B",
        "CANARY-CONTACT-C",
        "CANARY-ASSET-B",
        "CANARY-ASSET-C",
        "CANARY-SKU-B",
        "CANARY-SKU-C",
        "CANARY-DIRUSER-B",
        "CANARY-DIRUSER-C",
        "CANARY-TENANT-UNMAPPED",
    ]
    .map(str::to_owned)
    .to_vec();
    canaries.extend(
        app.fx
            .tickets
            .iter()
            .filter(|t| t.company != app.fx.company_a)
            .map(|t| t.canary.clone()),
    );
    canaries
}

/// What one matrix cell sends: method, path and (for a POST) body.
fn request_for(
    app: &TestApp,
    method: &str,
    route: &str,
    record: Record,
) -> (String, Option<Value>) {
    let fx = &app.fx;
    let company = match record {
        Record::OwnCompany => fx.company_a.to_string(),
        Record::OtherCompany => fx.company_b.to_string(),
        Record::OtherWorkspace => fx.company_c.to_string(),
        Record::Missing => CompanyId::new().to_string(),
        Record::Malformed => "not-an-id".to_owned(),
    };
    let ticket = match record {
        Record::OwnCompany => fx.ticket_a2.to_string(),
        Record::OtherCompany => fx.ticket_b.to_string(),
        Record::OtherWorkspace => fx.ticket_c.to_string(),
        Record::Missing => portico_core::TicketId::new().to_string(),
        Record::Malformed => "x".to_owned(),
    };
    // A's asset under A's path; B's under B's; C's under C's.
    let asset = match record {
        Record::OwnCompany => fx.assets[0].to_string(),
        Record::OtherCompany => fx.assets[3].to_string(),
        Record::OtherWorkspace => fx.assets[4].to_string(),
        Record::Missing => portico_core::AssetId::new().to_string(),
        Record::Malformed => "x".to_owned(),
    };
    // A's record under A's path; B's under B's; C's under C's (fixture order: A's first, then
    // B's and C's last two).
    let nth = |ids: &[String]| match record {
        Record::OwnCompany => ids[0].clone(),
        Record::OtherCompany => ids[ids.len() - 2].clone(),
        Record::OtherWorkspace => ids[ids.len() - 1].clone(),
        Record::Missing => CompanyId::new().to_string(),
        Record::Malformed => "x".to_owned(),
    };
    let maintenance = nth(&fx.maintenance.map(|m| m.to_string()));
    let site = nth(&[fx.site_a1, fx.site_b1, fx.site_c1].map(|s| s.to_string()));
    let contact = nth(&fx.contacts.map(|c| c.to_string()));
    let invoice = nth(&fx.invoices.map(|i| i.to_string()));
    let change = nth(&fx.changes.map(|c| c.to_string()));
    let user = match record {
        Record::OwnCompany => fx.requester_x.to_string(),
        Record::OtherCompany => fx.user_b.to_string(),
        Record::OtherWorkspace => fx.user_c.to_string(),
        Record::Missing => portico_core::PortalUserId::new().to_string(),
        Record::Malformed => "x".to_owned(),
    };
    let path = route
        .replace("{user}", &user)
        .replace("{company}", &company)
        .replace("{ticket}", &ticket)
        .replace("{asset}", &asset)
        .replace("{maintenance}", &maintenance)
        .replace("{site}", &site)
        .replace("{contact}", &contact)
        .replace("{invoice}", &invoice)
        .replace("{change}", &change);
    let body = match (method, route) {
        ("POST", "/api/v1/tickets") => {
            let requester = match record {
                Record::OwnCompany => fx.requester_x.to_string(),
                Record::OtherCompany => fx.user_b.to_string(),
                Record::OtherWorkspace => fx.user_c.to_string(),
                _ => portico_core::PortalUserId::new().to_string(),
            };
            Some(json!({
                "company_id": company,
                "requester_id": requester,
                "title": "Printer jammed",
                "description": "Paper stuck in tray 2.",
            }))
        }
        (
            "POST" | "PUT",
            "/api/v1/companies/{company}/assets" | "/api/v1/companies/{company}/assets/{asset}",
        ) => Some(json!({ "name": "Front desk PC", "kind": "workstation", "serial": "FD-1" })),
        (
            "POST" | "PUT",
            "/api/v1/companies/{company}/maintenance"
            | "/api/v1/companies/{company}/maintenance/{maintenance}",
        ) => Some(json!({
            "kind": "patching",
            "outcome": "succeeded",
            "title": "Monthly patching",
            "starts_at": "2026-12-01T22:00:00Z",
            "ends_at": "2026-12-01T23:30:00+00:00",
        })),
        ("PUT", "/api/v1/companies/{company}/licences") => Some(json!({
            "tenant": "pushed.example",
            "licences": [{ "sku_id": "sku-1", "sku_part_number": "SPE_E3", "product_name": "Microsoft 365 E3", "purchased": 5, "assigned": 4 }],
        })),
        ("PUT", "/api/v1/companies/{company}/directory-users") => Some(json!({
            "tenant": "pushed.example",
            "users": [{ "id": "u-1", "display_name": "Pat Pushed", "user_principal_name": "pat@pushed.example", "enabled": true }],
        })),
        // A new address each time (a company's users have one each), at the company's domain
        // (outside it only an owner's workspace token may invite).
        ("POST", "/api/v1/companies/{company}/users") => Some(json!({
            "name": "Nia New",
            "email": format!(
                "nia-{}@{}",
                portico_core::PortalUserId::new(),
                match record {
                    Record::OwnCompany => "a.test",
                    Record::OtherCompany => "b.test",
                    _ => "example.test",
                }
            ),
            "role": "member",
        })),
        (
            "POST",
            "/api/v1/companies/{company}/users/{user}/disable"
            | "/api/v1/companies/{company}/users/{user}/enable",
        ) => None,
        ("PUT", "/api/v1/companies/{company}/backup-jobs") => Some(json!({
            "source": "Veeam",
            "jobs": [{ "id": "job-1", "name": "File server", "kind": "server", "last_result": "success", "last_success_at": "2026-12-04T02:00:00Z" }],
        })),
        ("POST", "/api/v1/companies/{company}/security-alerts") => Some(json!({
            "tenant": "pushed.example",
            "alerts": [{ "id": "a-1", "title": "Malware blocked", "severity": "high", "status": "new", "created_at": "2026-12-01T09:00:00Z" }],
        })),
        (
            "POST" | "PUT",
            "/api/v1/companies/{company}/sites" | "/api/v1/companies/{company}/sites/{site}",
        ) => {
            // A name of its own for each request: a company's sites have one each.
            Some(
                json!({ "name": format!("Site {}", portico_core::SiteId::new()), "address": "1 Main St" }),
            )
        }
        (
            "POST" | "PUT",
            "/api/v1/companies/{company}/contacts"
            | "/api/v1/companies/{company}/contacts/{contact}",
        ) => Some(
            json!({ "name": "Casey Contact", "email": "casey@example.test", "roles": ["technical"] }),
        ),
        ("PATCH", "/api/v1/tickets/{ticket}") => Some(json!({ "priority": "high" })),
        ("POST", "/api/v1/companies") => Some(json!({
            "name": format!("Company {}", CompanyId::new()),
            "plan_name": "Managed",
            "included_minutes": 450,
        })),
        // The fixture's names kept, so that every later row still finds its canaries.
        ("PUT", "/api/v1/companies/{company}") => Some(json!({
            "name": match record {
                Record::OwnCompany => "Company CANARY-NAME-A",
                Record::OtherCompany => "Company CANARY-NAME-B",
                _ => "Company elsewhere",
            },
            "plan_name": "Managed",
        })),
        ("PATCH", "/api/v1/change-requests/{change}") => Some(json!({ "assignee_id": null })),
        ("POST", "/api/v1/companies/{company}/invoices")
        | ("PUT", "/api/v1/companies/{company}/invoices/{invoice}") => Some(json!({
            "issued_on": "2026-12-01",
            "due_on": "2026-12-15",
            "lines": [{ "description": "Support", "quantity_milli": 1500, "unit_cents": 16500, "tax_basis_points": 1000 }],
        })),
        // Paid, then paid again by the next token: a retry answers as the first did.
        ("POST", "/api/v1/companies/{company}/invoices/{invoice}/status") => {
            Some(json!({ "action": "paid" }))
        }
        // Done, then done again by the next token: a retry answers as the first did.
        ("POST", "/api/v1/change-requests/{change}/decisions") => {
            Some(json!({ "decision": "done", "note": "Installed." }))
        }
        ("POST", "/api/v1/tickets/{ticket}/time") => {
            Some(json!({ "minutes": 30, "worked_on": "2026-12-01", "note": "Printer driver" }))
        }
        ("POST", _) => Some(json!({ "body": "Looking at it now." })),
        _ => None,
    };
    (path, body)
}

/// The expected status of one cell.
fn expected(method: &str, route: &str, token: Token, record: Record) -> u16 {
    // Only a token of the whole workspace that may write adds companies or changes one.
    let administers = matches!(
        route,
        "/api/v1/companies"
            | "/api/v1/companies/{company}"
            | "/api/v1/companies/{company}/archive"
            | "/api/v1/companies/{company}/restore"
    );
    if method == "POST" && route == "/api/v1/companies" {
        return if token.writes() && token.whole_workspace() {
            201
        } else {
            403
        };
    }
    let addresses_record = route.contains('{') || (method == "POST" && route == "/api/v1/tickets");
    if !addresses_record {
        return 200;
    }
    let reaches = match record {
        Record::OwnCompany => true,
        Record::OtherCompany => token.whole_workspace(),
        _ => false,
    };
    // A malformed id in the path is refused before anything else, as a missing record.
    if record == Record::Malformed && route.contains('{') {
        return 404;
    }
    // A and B are fed by the fixture's Microsoft 365 tenants, so a push of another tenant is
    // refused on its merits (two would double their licences): 422 where it reaches, never
    // anything but 404 where it does not.
    let pushed = matches!(
        route,
        "/api/v1/companies/{company}/licences"
            | "/api/v1/companies/{company}/directory-users"
            | "/api/v1/companies/{company}/security-alerts"
    );
    match method {
        // A read-only token never opens a write transaction, whatever it names.
        "POST" | "PUT" | "PATCH" if !token.writes() => 403,
        "PUT" | "POST" if administers && reaches && !token.whole_workspace() => 403,
        "PUT" | "POST" if reaches && pushed => 422,
        "PUT" if reaches && route.ends_with("/invoices/{invoice}") => 422,
        // An invitation is on its way; the user is listed once created.
        "POST" if reaches && route.ends_with("/users") => 202,
        // A decision, a status, an archiving change a record; nothing is created.
        "POST"
            if reaches
                && [
                    "/decisions",
                    "/status",
                    "/archive",
                    "/restore",
                    "/disable",
                    "/enable",
                ]
                .iter()
                .any(|end| route.ends_with(end)) =>
        {
            200
        }
        "POST" if reaches => 201,
        "PUT" | "PATCH" if reaches => 200,
        "POST" | "PUT" | "PATCH" => 404,
        _ if reaches => 200,
        _ => 404,
    }
}

/// Every route under `/api/v1` that takes a token: a route registered without a row here
/// fails the test.
const API_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/token"),
    ("GET", "/api/v1/companies"),
    ("POST", "/api/v1/companies"),
    ("GET", "/api/v1/companies/{company}"),
    ("PUT", "/api/v1/companies/{company}"),
    ("GET", "/api/v1/companies/{company}/sites"),
    ("POST", "/api/v1/companies/{company}/sites"),
    ("PUT", "/api/v1/companies/{company}/sites/{site}"),
    ("GET", "/api/v1/companies/{company}/contacts"),
    ("POST", "/api/v1/companies/{company}/contacts"),
    ("PUT", "/api/v1/companies/{company}/contacts/{contact}"),
    ("GET", "/api/v1/companies/{company}/users"),
    ("POST", "/api/v1/companies/{company}/users"),
    ("GET", "/api/v1/companies/{company}/assets"),
    ("GET", "/api/v1/companies/{company}/assets/{asset}"),
    ("POST", "/api/v1/companies/{company}/assets"),
    ("PUT", "/api/v1/companies/{company}/assets/{asset}"),
    ("GET", "/api/v1/tickets"),
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{ticket}"),
    ("PATCH", "/api/v1/tickets/{ticket}"),
    ("POST", "/api/v1/tickets/{ticket}/replies"),
    ("GET", "/api/v1/companies/{company}/maintenance"),
    (
        "GET",
        "/api/v1/companies/{company}/maintenance/{maintenance}",
    ),
    ("POST", "/api/v1/companies/{company}/maintenance"),
    (
        "PUT",
        "/api/v1/companies/{company}/maintenance/{maintenance}",
    ),
    ("GET", "/api/v1/companies/{company}/invoices"),
    ("GET", "/api/v1/companies/{company}/invoices/{invoice}"),
    ("POST", "/api/v1/companies/{company}/invoices"),
    // The fixture's invoices are sent: a draft is what a PUT changes (422 where it reaches).
    ("PUT", "/api/v1/companies/{company}/invoices/{invoice}"),
    (
        "POST",
        "/api/v1/companies/{company}/invoices/{invoice}/status",
    ),
    ("GET", "/api/v1/companies/{company}/licences"),
    ("PUT", "/api/v1/companies/{company}/licences"),
    ("GET", "/api/v1/companies/{company}/directory-users"),
    ("PUT", "/api/v1/companies/{company}/directory-users"),
    ("GET", "/api/v1/companies/{company}/backup-jobs"),
    ("PUT", "/api/v1/companies/{company}/backup-jobs"),
    ("GET", "/api/v1/companies/{company}/security-alerts"),
    ("POST", "/api/v1/companies/{company}/security-alerts"),
    ("GET", "/api/v1/change-requests"),
    ("GET", "/api/v1/change-requests/{change}"),
    // Assigned while the requests are open, before the decisions row closes them.
    ("PATCH", "/api/v1/change-requests/{change}"),
    ("POST", "/api/v1/change-requests/{change}/decisions"),
    ("GET", "/api/v1/companies/{company}/work"),
    ("POST", "/api/v1/tickets/{ticket}/time"),
    // Disabled, then enabled again, so that no row after meets a disabled requester.
    ("POST", "/api/v1/companies/{company}/users/{user}/disable"),
    ("POST", "/api/v1/companies/{company}/users/{user}/enable"),
    // Archived last, each then restored, so that no row above meets an archived record.
    ("POST", "/api/v1/companies/{company}/assets/{asset}/archive"),
    ("POST", "/api/v1/companies/{company}/assets/{asset}/restore"),
    (
        "POST",
        "/api/v1/companies/{company}/contacts/{contact}/archive",
    ),
    (
        "POST",
        "/api/v1/companies/{company}/contacts/{contact}/restore",
    ),
    ("POST", "/api/v1/companies/{company}/sites/{site}/archive"),
    ("POST", "/api/v1/companies/{company}/sites/{site}/restore"),
    ("POST", "/api/v1/companies/{company}/archive"),
    ("POST", "/api/v1/companies/{company}/restore"),
];

#[tokio::test]
async fn every_api_route_answers_each_token_within_its_reach_only() {
    let registered: Vec<(String, String)> = portico_web::registry::route_table()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/") && r.path != "/api/v1/openapi.json")
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    for (method, path) in &registered {
        assert!(
            API_ROUTES.contains(&(method.as_str(), path.as_str())),
            "{method} {path} has no row in the API matrix"
        );
    }
    assert_eq!(
        registered.len(),
        API_ROUTES.len(),
        "a row for a route that is gone"
    );

    // Each token asks more than a minute's budget here; the budget has a test of its own.
    let app = TestApp::spawn_with(WebConfig {
        api_requests_per_minute: 1_000_000,
        ..WebConfig::default()
    })
    .await;
    let tokens = tokens(&app).await;
    let canaries = foreign_canaries(&app);
    let mut failures = Vec::new();
    for (method, route) in API_ROUTES {
        for (token, bearer) in &tokens {
            let records: &[Record] = if route.contains('{') || *method != "GET" {
                &RECORDS
            } else {
                &[Record::OwnCompany]
            };
            for record in records {
                let (path, body) = request_for(&app, method, route, *record);
                let mut req = app.api(method, &path, bearer);
                if let Some(body) = &body {
                    req = req.json(body);
                }
                let got = req.send().await;
                let want = expected(method, route, *token, *record);
                if got.status != want {
                    failures.push(format!(
                        "{method} {route} {token:?} {record:?}: {} (want {want}): {}",
                        got.status,
                        got.body.chars().take(200).collect::<String>()
                    ));
                }
                if got.status >= 400 {
                    assert_eq!(
                        got.headers["content-type"], "application/problem+json",
                        "{method} {path}"
                    );
                }
                if !token.whole_workspace() {
                    for canary in &canaries {
                        assert!(
                            !got.body.contains(canary.as_str()),
                            "{method} {path} {token:?}: {canary} reached a company-A token"
                        );
                    }
                }
            }
        }
        // Without a token, or with a session's cookie, nothing answers but 401.
        let (path, _) = request_for(&app, method, route, Record::OwnCompany);
        let bare = app.request(method, CONSOLE, &path).send().await;
        assert_eq!(bare.status, 401, "{method} {path} without a token");
        let session = app.session_for(Who::Owner).await.unwrap();
        let cookie = app
            .request(method, CONSOLE, &path)
            .session(Some(&session))
            .send()
            .await;
        assert!(
            [401, 403].contains(&cookie.status),
            "{method} {path} with a session: {}",
            cookie.status
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn lists_page_by_cursor_and_answers_carry_etags() {
    let app = TestApp::spawn().await;
    let token = app.api_token(None, "read").await;
    // Company by company, one a page: every company once, in name order.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/companies?limit=1&cursor={c}"),
            None => "/api/v1/companies?limit=1".to_owned(),
        };
        let page = app.api("GET", &path, &token).send().await;
        assert_eq!(page.status, 200, "{}", page.body);
        let json: Value = serde_json::from_str(&page.body).unwrap();
        let data = json["data"].as_array().unwrap();
        assert!(data.len() <= 1);
        names.extend(data.iter().map(|c| c["name"].as_str().unwrap().to_owned()));
        match json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.iter().any(|n| n.contains("CANARY-NAME-A")));
    assert!(names.iter().any(|n| n.contains("CANARY-NAME-B")));
    assert!(!names.iter().any(|n| n.contains("CANARY-NAME-C")));
    // Owners see money: the plan's rates come with it.
    let a = app
        .api(
            "GET",
            &format!("/api/v1/companies/{}", app.fx.company_a),
            &token,
        )
        .send()
        .await;
    let json: Value = serde_json::from_str(&a.body).unwrap();
    assert!(json["plan"]["currency"].is_string(), "{}", a.body);

    // Found by words of the name, in any case.
    let found = app
        .api("GET", "/api/v1/companies?q=canary-name%20B", &token)
        .send()
        .await;
    let json: Value = serde_json::from_str(&found.body).unwrap();
    let data = json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", found.body);
    assert_eq!(data[0]["id"], app.fx.company_b.to_string());
    let none = app
        .api("GET", "/api/v1/companies?q=100%25", &token)
        .send()
        .await;
    assert_eq!(none.status, 200);
    assert!(none.body.contains("\"data\":[]"), "{}", none.body);

    // A cursor of another list, or made up, is refused.
    let tickets = app
        .api("GET", "/api/v1/tickets?status=all&limit=2", &token)
        .send()
        .await;
    let json: Value = serde_json::from_str(&tickets.body).unwrap();
    let ticket_cursor = json["next_cursor"].as_str().unwrap().to_owned();
    for bad in [ticket_cursor.as_str(), "bm9wZQ", "!!"] {
        let refused = app
            .api("GET", &format!("/api/v1/companies?cursor={bad}"), &token)
            .send()
            .await;
        assert_eq!(refused.status, 400, "{bad}");
        assert!(refused.body.contains("cursor"));
    }
    // Tickets page after page without repeats.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = Some(ticket_cursor);
    for t in json["data"].as_array().unwrap() {
        seen.insert(t["id"].as_str().unwrap().to_owned());
    }
    while let Some(c) = cursor {
        let page = app
            .api(
                "GET",
                &format!("/api/v1/tickets?status=all&limit=2&cursor={c}"),
                &token,
            )
            .send()
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let json: Value = serde_json::from_str(&page.body).unwrap();
        for t in json["data"].as_array().unwrap() {
            assert!(
                seen.insert(t["id"].as_str().unwrap().to_owned()),
                "a repeat"
            );
        }
        cursor = json["next_cursor"].as_str().map(str::to_owned);
    }
    let every = app
        .api("GET", "/api/v1/tickets?status=all&limit=200", &token)
        .send()
        .await;
    let json: Value = serde_json::from_str(&every.body).unwrap();
    assert_eq!(json["data"].as_array().unwrap().len(), seen.len());

    // The other lists page the same way, one record a page, every record once.
    let a = app.fx.company_a;
    for (path, expected) in [
        (format!("/api/v1/companies/{a}/invoices?limit=1"), 2),
        (format!("/api/v1/companies/{a}/maintenance?limit=1"), 3),
        ("/api/v1/change-requests?status=all&limit=1".to_owned(), 3),
        (format!("/api/v1/companies/{a}/assets?limit=1"), 3),
    ] {
        let mut ids = std::collections::HashSet::new();
        let mut next = Some(path.clone());
        while let Some(url) = next {
            let page = app.api("GET", &url, &token).send().await;
            assert_eq!(page.status, 200, "{url}: {}", page.body);
            let json: Value = serde_json::from_str(&page.body).unwrap();
            for record in json["data"].as_array().unwrap() {
                assert!(
                    ids.insert(record["id"].as_str().unwrap().to_owned()),
                    "{url}"
                );
            }
            next = json["next_cursor"]
                .as_str()
                .map(|c| format!("{path}&cursor={c}"));
        }
        assert_eq!(ids.len(), expected, "{path}");
    }

    // A cursor belongs to its list: another company's list, or other filters, refuse it.
    let first = app
        .api(
            "GET",
            &format!("/api/v1/companies/{a}/assets?limit=1"),
            &token,
        )
        .send()
        .await;
    let json: Value = serde_json::from_str(&first.body).unwrap();
    let cursor = json["next_cursor"].as_str().unwrap();
    for other in [
        format!(
            "/api/v1/companies/{}/assets?limit=1&cursor={cursor}",
            app.fx.company_b
        ),
        format!("/api/v1/companies/{a}/assets?limit=1&kind=laptop&cursor={cursor}"),
    ] {
        let refused = app.api("GET", &other, &token).send().await;
        assert_eq!(refused.status, 400, "{other}");
    }

    // Filters are checked.
    for bad in [
        "status=lost",
        "priority=whenever",
        "company=x",
        "limit=0",
        "limit=201",
        "limit=ten",
    ] {
        let refused = app
            .api("GET", &format!("/api/v1/tickets?{bad}"), &token)
            .send()
            .await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        assert_eq!(refused.headers["content-type"], "application/problem+json");
    }

    // An unchanged answer is not sent again; a changed one is.
    let path = format!("/api/v1/tickets/{}", app.fx.ticket_a2);
    let first = app.api("GET", &path, &token).send().await;
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""));
    let again = app
        .api("GET", &path, &token)
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let writer = app.api_token(None, "read_write").await;
    let replied = app
        .api("POST", &format!("{path}/replies"), &writer)
        .json(&json!({ "body": "A new reply." }))
        .send()
        .await;
    assert_eq!(replied.status, 201, "{}", replied.body);
    let changed = app
        .api("GET", &path, &token)
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(changed.status, 200);
    assert!(changed.body.contains("A new reply."));

    // Unknown routes under the API answer problem details too.
    let missing = app.api("GET", "/api/v1/nothing-here", &token).send().await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.headers["content-type"], "application/problem+json");
}

#[tokio::test]
async fn a_post_with_an_idempotency_key_is_carried_out_once() {
    let app = TestApp::spawn().await;
    let token = app.api_token(Some(app.fx.company_a), "read_write").await;
    let body = json!({
        "company_id": app.fx.company_a.to_string(),
        "requester_id": app.fx.requester_x.to_string(),
        "title": "New starter on Monday",
        "description": "Laptop and accounts for Sam.",
        "priority": "high",
    });
    let first = app
        .api("POST", "/api/v1/tickets", &token)
        .header("idempotency-key", "3f1c8a52-0d5e-4d8e-9c7a-6c3f6d1f2b10")
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let created: Value = serde_json::from_str(&first.body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first.headers["location"].to_str().unwrap(),
        format!("/api/v1/tickets/{id}")
    );
    assert_eq!(created["priority"], "high");
    assert!(created["number"].as_i64().unwrap() > 0);
    assert_eq!(
        created["messages"][0]["body"],
        "Laptop and accounts for Sam."
    );
    // The retry gets the same answer, and no second ticket.
    let retry = app
        .api("POST", "/api/v1/tickets", &token)
        .header("idempotency-key", "3f1c8a52-0d5e-4d8e-9c7a-6c3f6d1f2b10")
        .json(&body)
        .send()
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    let list = app
        .api("GET", "/api/v1/tickets?status=all&limit=200", &token)
        .send()
        .await;
    assert_eq!(list.body.matches("New starter on Monday").count(), 1);
    // The same key with another body is refused, and changes nothing.
    let mut other = body.clone();
    other["title"] = json!("Something else");
    let reused = app
        .api("POST", "/api/v1/tickets", &token)
        .header("idempotency-key", "3f1c8a52-0d5e-4d8e-9c7a-6c3f6d1f2b10")
        .json(&other)
        .send()
        .await;
    assert_eq!(reused.status, 422);
    assert!(reused.body.contains("Idempotency-Key"));
    // A key of another token is that token's own.
    let second = app.api_token(Some(app.fx.company_a), "read_write").await;
    let theirs = app
        .api("POST", "/api/v1/tickets", &second)
        .header("idempotency-key", "3f1c8a52-0d5e-4d8e-9c7a-6c3f6d1f2b10")
        .json(&other)
        .send()
        .await;
    assert_eq!(theirs.status, 201);
    // Two at once with one key: one is carried out, the other replays it or is told it came
    // second (PostgreSQL), and there is one ticket.
    let mut twin = body.clone();
    twin["title"] = json!("Twin request");
    let send = || {
        app.api("POST", "/api/v1/tickets", &token)
            .header("idempotency-key", "twin-key")
            .json(&twin)
            .send()
    };
    let (one, two) = tokio::join!(send(), send());
    let mut statuses = [one.status, two.status];
    statuses.sort_unstable();
    assert!(
        statuses == [201, 201] || statuses == [201, 409],
        "{statuses:?}: {} / {}",
        one.body,
        two.body
    );
    let list = app
        .api("GET", "/api/v1/tickets?status=all&limit=200", &token)
        .send()
        .await;
    assert_eq!(list.body.matches("Twin request").count(), 1);
    // Malformed keys are refused.
    for bad in ["", &"k".repeat(256)] {
        let refused = app
            .api("POST", "/api/v1/tickets", &token)
            .header("idempotency-key", bad)
            .json(&body)
            .send()
            .await;
        assert_eq!(refused.status, 400, "{bad:?}");
    }
    // The log names the token's owner and the ticket.
    app.store().flush_audit().await.unwrap();
    let log = app.get_as(Who::Owner, "/audit").await;
    assert!(log.body.contains("New starter on Monday"), "{}", log.body);
}

#[tokio::test]
async fn bad_requests_are_refused_with_problem_details_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.api_token(None, "read_write").await;
    let before = app
        .api("GET", "/api/v1/tickets?status=all&limit=200", &token)
        .send()
        .await;
    let count = |body: &str| {
        serde_json::from_str::<Value>(body).unwrap()["data"]
            .as_array()
            .unwrap()
            .len()
    };
    // Every field's problem at once, each named.
    let refused = app
        .api("POST", "/api/v1/tickets", &token)
        .json(&json!({
            "company_id": app.fx.company_a.to_string(),
            "requester_id": "nobody",
            "title": "",
            "description": "",
            "priority": "whenever",
        }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let problem: Value = serde_json::from_str(&refused.body).unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["requester_id", "priority", "title", "description"] {
        assert!(fields.contains(&field), "{field}: {}", refused.body);
    }
    // Not JSON; not declared as JSON; an unknown field; a reply without words.
    let garbled = app
        .api("POST", "/api/v1/tickets", &token)
        .header("content-type", "application/json")
        .send()
        .await;
    assert_eq!(garbled.status, 400);
    let form = app
        .api("POST", "/api/v1/tickets", &token)
        .form(&[("title", "x")])
        .send()
        .await;
    assert_eq!(form.status, 415);
    let unknown = app
        .api("POST", "/api/v1/tickets", &token)
        .json(&json!({ "company_id": app.fx.company_a.to_string(), "requester_id": app.fx.requester_x.to_string(), "title": "t", "description": "d", "secret": true }))
        .send()
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let empty = app
        .api(
            "POST",
            &format!("/api/v1/tickets/{}/replies", app.fx.ticket_a2),
            &token,
        )
        .json(&json!({ "body": "  " }))
        .send()
        .await;
    assert_eq!(empty.status, 422);
    let status = app
        .api(
            "POST",
            &format!("/api/v1/tickets/{}/replies", app.fx.ticket_a2),
            &token,
        )
        .json(&json!({ "body": "ok", "status": "gone" }))
        .send()
        .await;
    assert_eq!(status.status, 422);
    let after = app
        .api("GET", "/api/v1/tickets?status=all&limit=200", &token)
        .send()
        .await;
    assert_eq!(count(&before.body), count(&after.body));
    let ticket = app
        .api(
            "GET",
            &format!("/api/v1/tickets/{}", app.fx.ticket_a2),
            &token,
        )
        .send()
        .await;
    assert!(!ticket.body.contains("\"body\":\"ok\""));

    // An internal note is the desk's: marked as such.
    let note = app
        .api(
            "POST",
            &format!("/api/v1/tickets/{}/replies", app.fx.ticket_a2),
            &token,
        )
        .json(&json!({ "body": "Check the toner order.", "internal": true, "status": "on_hold" }))
        .send()
        .await;
    assert_eq!(note.status, 201, "{}", note.body);
    let json: Value = serde_json::from_str(&note.body).unwrap();
    assert_eq!(json["status"], "on_hold");
    let last = json["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["internal"], true);
    // And the client never reads it.
    let portal = app
        .get_as(Who::Member, &format!("/tickets/{}", app.fx.ticket_a2))
        .await;
    assert!(!portal.body.contains("Check the toner order."));
}

#[tokio::test]
async fn a_token_that_spends_its_budget_is_told_when_to_come_back() {
    let app = TestApp::spawn_with(WebConfig {
        api_requests_per_minute: 60,
        ..WebConfig::default()
    })
    .await;
    let token = app.api_token(None, "read").await;
    let other = app.api_token(None, "read").await;
    // A burst of ten, then one a second.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.api("GET", "/api/v1/token", &token).send().await);
    }
    assert!(statuses[..10].iter().all(|r| r.status == 200));
    let refused = statuses.last().unwrap();
    assert_eq!(refused.status, 429);
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another token's budget is its own.
    assert_eq!(
        app.api("GET", "/api/v1/token", &other).send().await.status,
        200
    );
}

#[tokio::test]
async fn the_description_is_served_and_rendered_for_staff() {
    let app = TestApp::spawn().await;
    let doc = app.get(CONSOLE, "/api/v1/openapi.json").send().await;
    assert_eq!(doc.status, 200);
    let json: Value = serde_json::from_str(&doc.body).unwrap();
    assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
    // Every API route is described, and nothing else is.
    let described: Vec<(String, String)> = json["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.to_ascii_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (method, path) in API_ROUTES {
        assert!(
            described.contains(&(method.to_string(), path.to_string())),
            "{method} {path} is not in the description"
        );
    }
    assert_eq!(described.len(), API_ROUTES.len());
    let etag = doc.headers["etag"].to_str().unwrap().to_owned();
    let again = app
        .get(CONSOLE, "/api/v1/openapi.json")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status, 304);

    let page = app.get_as(Who::TechnicianAssigned, "/api").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("id=\"post-api-v1-tickets--ticket--replies\"")
    );
    assert!(page.body.contains("{ticket}/<wbr>replies"));
    assert!(page.body.contains("Idempotency-Key"));
    assert!(page.body.contains("id=\"schema-NewTicket\""));
    assert_eq!(app.get(CONSOLE, "/api").send().await.status, 303);
}

#[tokio::test]
async fn a_tool_pushes_assets_it_owns() {
    let app = TestApp::spawn().await;
    let token = app.api_token(Some(app.fx.company_a), "read_write").await;
    let path = format!("/api/v1/companies/{}/assets", app.fx.company_a);
    // Every problem at once, under the body's names.
    let refused = app
        .api("POST", &path, &token)
        .json(&json!({ "name": "", "kind": "toaster", "site_id": "elsewhere", "warranty_end": "soon" }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in ["\"name\"", "\"kind\"", "\"site_id\"", "\"warranty_end\""] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let added = app
        .api("POST", &path, &token)
        .header("idempotency-key", "rmm-sync-7f3a")
        .json(&json!({
            "name": "RECEPTION-PC",
            "kind": "workstation",
            "site_id": app.fx.site_a1.to_string(),
            "serial": "SN-API-1",
            "os": "Windows 11",
            "warranty_end": "2028-03-31",
        }))
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let json: Value = serde_json::from_str(&added.body).unwrap();
    let id = json["id"].as_str().unwrap().to_owned();
    assert_eq!(json["site"]["id"], app.fx.site_a1.to_string());
    assert_eq!(json["warranty_end"], "2028-03-31");
    let again = app
        .api("POST", &path, &token)
        .header("idempotency-key", "rmm-sync-7f3a")
        .json(&json!({
            "name": "RECEPTION-PC",
            "kind": "workstation",
            "site_id": app.fx.site_a1.to_string(),
            "serial": "SN-API-1",
            "os": "Windows 11",
            "warranty_end": "2028-03-31",
        }))
        .send()
        .await;
    assert_eq!(again.body, added.body);
    let list = app
        .api("GET", &format!("{path}?search=SN-API-1"), &token)
        .send()
        .await;
    assert_eq!(
        list.body.matches("RECEPTION-PC").count(),
        1,
        "{}",
        list.body
    );
    // The list names the asset's site as its own page does, and a renamed site by its new
    // name at once (names are kept per instance while nothing about them changes).
    let listed: Value = serde_json::from_str(&list.body).unwrap();
    assert!(json["site"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(listed["data"][0]["site"], json["site"], "{}", list.body);
    let renamed = app
        .api(
            "PUT",
            &format!(
                "/api/v1/companies/{}/sites/{}",
                app.fx.company_a, app.fx.site_a1
            ),
            &token,
        )
        .json(&json!({ "name": "Reception Annex" }))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let list = app
        .api("GET", &format!("{path}?search=SN-API-1"), &token)
        .send()
        .await;
    let listed: Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(
        listed["data"][0]["site"]["name"], "Reception Annex",
        "{}",
        list.body
    );
    // An empty site id is no site's (the form's "none" is leaving it out).
    let empty_site = app
        .api("PUT", &format!("{path}/{id}"), &token)
        .json(&json!({ "name": "RECEPTION-PC", "kind": "workstation", "site_id": "" }))
        .send()
        .await;
    assert_eq!(empty_site.status, 422);
    assert!(
        empty_site.body.contains("\"site_id\""),
        "{}",
        empty_site.body
    );
    // Replaced whole: what is left out is emptied.
    let replaced = app
        .api("PUT", &format!("{path}/{id}"), &token)
        .json(&json!({ "name": "RECEPTION-PC-2", "kind": "laptop", "serial": "SN-API-1" }))
        .send()
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let json: Value = serde_json::from_str(&replaced.body).unwrap();
    assert_eq!(json["kind"], "laptop");
    assert!(json["site"].is_null());
    assert_eq!(json["os"], "");
    // Another company's asset is not found; the client sees the new one in the portal.
    let foreign = app
        .api(
            "PUT",
            &format!(
                "/api/v1/companies/{}/assets/{}",
                app.fx.company_a, app.fx.assets[3]
            ),
            &token,
        )
        .json(&json!({ "name": "x", "kind": "other" }))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
    let portal = app.get_as(Who::ClientAdmin, "/assets?q=RECEPTION").await;
    assert!(portal.body.contains("RECEPTION-PC-2"), "{}", portal.body);
}

#[tokio::test]
async fn a_tool_records_maintenance_on_the_assets_it_patched() {
    let app = TestApp::spawn().await;
    let token = app.api_token(Some(app.fx.company_a), "read_write").await;
    let path = format!("/api/v1/companies/{}/maintenance", app.fx.company_a);
    let asset = app
        .api(
            "POST",
            &format!("/api/v1/companies/{}/assets", app.fx.company_a),
            &token,
        )
        .json(&json!({ "name": "PATCHED-PC", "kind": "workstation", "serial": "SN-PATCH-1" }))
        .send()
        .await;
    assert_eq!(asset.status, 201, "{}", asset.body);
    // Every problem at once, under the body's names; nothing is recorded.
    let refused = app
        .api("POST", &path, &token)
        .json(&json!({
            "kind": "defrag",
            "outcome": "succeeded",
            "title": "Patching",
            "starts_at": "yesterday",
            "ends_at": "2026-12-01T23:00:00Z",
            "site_ids": ["elsewhere"],
            "assets": ["NO-SUCH-PC"],
        }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in ["\"kind\"", "\"starts_at\"", "\"site_ids\"", "NO-SUCH-PC"] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let body = json!({
        "kind": "patching",
        "outcome": "partial",
        "title": "December patching",
        "summary": "One update needs a reboot.",
        "starts_at": "2026-12-01T22:00:00Z",
        "ends_at": "2026-12-01T23:30:00+01:00",
        "assets": ["SN-PATCH-1"],
    });
    let added = app
        .api("POST", &path, &token)
        .header("idempotency-key", "patch-run-2026-12")
        .json(&body)
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let again = app
        .api("POST", &path, &token)
        .header("idempotency-key", "patch-run-2026-12")
        .json(&body)
        .send()
        .await;
    assert_eq!(again.body, added.body, "a retry records it once");
    let json: Value = serde_json::from_str(&added.body).unwrap();
    assert_eq!(json["starts_at"], "2026-12-01T22:00:00Z");
    // The end's offset is honoured: 23:30 at +01:00 is 22:30 UTC.
    assert_eq!(json["ends_at"], "2026-12-01T22:30:00Z");
    assert_eq!(json["assets"][0]["name"], "PATCHED-PC");
    let id = json["id"].as_str().unwrap().to_owned();
    // Replaced whole, once the tool knows how it ended.
    let replaced = app
        .api("PUT", &format!("{path}/{id}"), &token)
        .json(&json!({
            "kind": "patching",
            "outcome": "succeeded",
            "title": "December patching",
            "starts_at": "2026-12-01T22:00:00Z",
            "assets": ["PATCHED-PC"],
        }))
        .send()
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let json: Value = serde_json::from_str(&replaced.body).unwrap();
    assert_eq!(json["outcome"], "succeeded");
    assert!(json["ends_at"].is_null());
    // Another company's record is not found; the client reads the record in the portal.
    let foreign = app
        .api(
            "PUT",
            &format!(
                "{path}/{}",
                app.fx.maintenance[app.fx.maintenance.len() - 2]
            ),
            &token,
        )
        .json(&body)
        .send()
        .await;
    assert_eq!(foreign.status, 404);
    let portal = app.get_as(Who::ClientAdmin, "/maintenance").await;
    assert!(portal.body.contains("December patching"), "{}", portal.body);
}

#[tokio::test]
async fn a_workspace_token_adds_and_changes_companies() {
    let app = TestApp::spawn().await;
    let token = app.api_token(None, "read_write").await;
    let body = json!({
        "name": "Harbour Physio",
        "plan_name": "Managed Plus",
        "included_minutes": 450,
        "currency": "AUD",
        "monthly_fee_cents": 120_050,
        "hourly_rate_cents": 16_500,
    });
    let added = app
        .api("POST", "/api/v1/companies", &token)
        .json(&body)
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let company: Value = serde_json::from_str(&added.body).unwrap();
    assert_eq!(company["plan"]["included_minutes"], 450);
    assert_eq!(company["plan"]["monthly_fee_cents"], 120_050);
    assert_eq!(
        company["portal_enabled"], false,
        "its portal waits for an owner"
    );
    let id = company["id"].as_str().unwrap().to_owned();
    let twin = app
        .api("POST", "/api/v1/companies", &token)
        .json(&body)
        .send()
        .await;
    assert_eq!(twin.status, 422, "{}", twin.body);
    assert!(twin.body.contains("\"name\""), "{}", twin.body);
    let negative = app
        .api("POST", "/api/v1/companies", &token)
        .json(&json!({ "name": "Negative Co", "plan_name": "x", "hourly_rate_cents": -1 }))
        .send()
        .await;
    assert_eq!(negative.status, 422, "{}", negative.body);
    assert!(
        negative.body.contains("hourly_rate_cents"),
        "{}",
        negative.body
    );
    let changed = app
        .api("PUT", &format!("/api/v1/companies/{id}"), &token)
        .json(&json!({ "name": "Harbour Physiotherapy", "plan_name": "Managed Plus", "included_minutes": 600 }))
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let company: Value = serde_json::from_str(&changed.body).unwrap();
    assert_eq!(company["name"], "Harbour Physiotherapy");
    assert_eq!(company["plan"]["currency"], "AUD", "kept when left out");
    // A token naming one company adds none and changes not even its own.
    let narrow = app.api_token(Some(app.fx.company_a), "read_write").await;
    let refused = app
        .api("POST", "/api/v1/companies", &narrow)
        .json(&json!({ "name": "Sneaky Pty", "plan_name": "x" }))
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let refused = app
        .api(
            "PUT",
            &format!("/api/v1/companies/{}", app.fx.company_a),
            &narrow,
        )
        .json(&json!({ "name": "Company CANARY-NAME-A", "plan_name": "x" }))
        .send()
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_tool_keeps_sites_and_contacts_in_step() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let token = app.api_token(Some(a), "read_write").await;
    let sites = format!("/api/v1/companies/{a}/sites");
    let added = app
        .api("POST", &sites, &token)
        .header("idempotency-key", "psa-site-41")
        .json(&json!({ "name": "Warehouse", "address": "9 Dock Rd\nPort Melbourne" }))
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let site: Value = serde_json::from_str(&added.body).unwrap();
    let site_id = site["id"].as_str().unwrap().to_owned();
    // A second site of that name is refused, by field; the retry of the first is its answer.
    let twin = app
        .api("POST", &sites, &token)
        .json(&json!({ "name": "Warehouse" }))
        .send()
        .await;
    assert_eq!(twin.status, 422, "{}", twin.body);
    assert!(twin.body.contains("\"name\""), "{}", twin.body);
    let again = app
        .api("POST", &sites, &token)
        .header("idempotency-key", "psa-site-41")
        .json(&json!({ "name": "Warehouse", "address": "9 Dock Rd\nPort Melbourne" }))
        .send()
        .await;
    assert_eq!(again.body, added.body);
    let renamed = app
        .api("PUT", &format!("{sites}/{site_id}"), &token)
        .json(&json!({ "name": "Dock Warehouse" }))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert!(renamed.body.contains("Dock Warehouse"));

    let contacts = format!("/api/v1/companies/{a}/contacts");
    let refused = app
        .api("POST", &contacts, &token)
        .json(&json!({ "name": "", "email": "not an address", "roles": ["primary", "boss"] }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in ["\"name\"", "\"email\"", "\"roles\""] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let added = app
        .api("POST", &contacts, &token)
        .json(&json!({ "name": "Jordan Lee", "email": "jordan@acme.test", "roles": ["billing", "technical"] }))
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let contact: Value = serde_json::from_str(&added.body).unwrap();
    assert_eq!(contact["roles"], json!(["billing", "technical"]));
    let id = contact["id"].as_str().unwrap().to_owned();
    let replaced = app
        .api("PUT", &format!("{contacts}/{id}"), &token)
        .json(&json!({ "name": "Jordan Lee", "phone": "03 9000 0000" }))
        .send()
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let contact: Value = serde_json::from_str(&replaced.body).unwrap();
    assert_eq!(contact["email"], "", "replaced whole");
    assert_eq!(contact["roles"], json!([]));
    // Another company's contact is not found; the console shows the new one.
    let foreign = app
        .api("PUT", &format!("{contacts}/{}", app.fx.contacts[1]), &token)
        .json(&json!({ "name": "x" }))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
    let page = app.get_as(Who::Owner, &format!("/companies/{a}")).await;
    assert!(page.body.contains("Jordan Lee"), "{}", page.body);
    assert!(page.body.contains("Dock Warehouse"), "{}", page.body);
}

#[tokio::test]
async fn a_tool_changes_a_tickets_status_priority_and_assignee() {
    let app = TestApp::spawn().await;
    let token = app.api_token(Some(app.fx.company_a), "read_write").await;
    let path = format!("/api/v1/tickets/{}", app.fx.ticket_a2);
    let technician = app.fx.staff(Who::TechnicianAssigned).to_string();
    let changed = app
        .api("PATCH", &path, &token)
        .json(&json!({ "status": "on_hold", "priority": "urgent", "assignee_id": technician }))
        .send()
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let ticket: Value = serde_json::from_str(&changed.body).unwrap();
    assert_eq!(ticket["status"], "on_hold", "{ticket}");
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["assignee"]["id"], technician.as_str());
    // Left out stays; null unassigns.
    let unassigned = app
        .api("PATCH", &path, &token)
        .json(&json!({ "assignee_id": null }))
        .send()
        .await;
    let ticket: Value = serde_json::from_str(&unassigned.body).unwrap();
    assert!(ticket["assignee"].is_null(), "{ticket}");
    assert_eq!(ticket["priority"], "urgent");
    // A technician not assigned to the company cannot take it; nothing changes.
    let refused = app
        .api("PATCH", &path, &token)
        .json(&json!({
            "status": "stuck",
            "assignee_id": app.fx.staff(Who::TechnicianNotAssigned).to_string(),
        }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("\"status\""), "{}", refused.body);
    let refused = app
        .api("PATCH", &path, &token)
        .json(&json!({ "assignee_id": app.fx.staff(Who::TechnicianNotAssigned).to_string() }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("\"assignee_id\""), "{}", refused.body);
    let foreign = app
        .api(
            "PATCH",
            &format!("/api/v1/tickets/{}", app.fx.ticket_b),
            &token,
        )
        .json(&json!({ "priority": "low" }))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
    // The timeline says who changed it, through which token.
    let page = app
        .get_as(Who::Owner, &format!("/tickets/{}", app.fx.ticket_a2))
        .await;
    assert!(page.body.contains("API token"), "{}", page.body);
}

#[tokio::test]
async fn a_tool_assigns_and_decides_change_requests() {
    let app = TestApp::spawn().await;
    let token = app.api_token(Some(app.fx.company_a), "read_write").await;
    let change = app.fx.changes[0];
    let path = format!("/api/v1/change-requests/{change}");
    let not_theirs = app
        .api("PATCH", &path, &token)
        .json(&json!({ "assignee_id": app.fx.staff(Who::TechnicianNotAssigned).to_string() }))
        .send()
        .await;
    assert_eq!(not_theirs.status, 422, "{}", not_theirs.body);
    assert!(
        not_theirs.body.contains("\"assignee_id\""),
        "{}",
        not_theirs.body
    );
    let technician = app.fx.staff(Who::TechnicianAssigned).to_string();
    let assigned = app
        .api("PATCH", &path, &token)
        .json(&json!({ "assignee_id": technician }))
        .send()
        .await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    // Left out, the assignee stays.
    let kept = app
        .api("PATCH", &path, &token)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert!(kept.body.contains(&technician), "{}", kept.body);
    // A rejection needs its reason; nothing changes without one.
    let decisions = format!("{path}/decisions");
    let bare = app
        .api("POST", &decisions, &token)
        .json(&json!({ "decision": "reject" }))
        .send()
        .await;
    assert_eq!(bare.status, 422, "{}", bare.body);
    assert!(bare.body.contains("\"note\""), "{}", bare.body);
    let approved = app
        .api("POST", &decisions, &token)
        .json(&json!({ "decision": "approve", "note": "Scheduled for Friday." }))
        .send()
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let request: Value = serde_json::from_str(&approved.body).unwrap();
    assert_eq!(request["status"], "approved", "{request}");
    // A retry answers as the first did; done closes it; a closed request is decided no more.
    let again = app
        .api("POST", &decisions, &token)
        .json(&json!({ "decision": "approve", "note": "Scheduled for Friday." }))
        .send()
        .await;
    assert_eq!(again.status, 200);
    let done = app
        .api("POST", &decisions, &token)
        .json(&json!({ "decision": "done" }))
        .send()
        .await;
    let request: Value = serde_json::from_str(&done.body).unwrap();
    assert_eq!(request["status"], "done", "{request}");
    let late = app
        .api("POST", &decisions, &token)
        .json(&json!({ "decision": "reject", "note": "Too late." }))
        .send()
        .await;
    assert_eq!(late.status, 422, "{}", late.body);
    let foreign = app
        .api(
            "POST",
            &format!("/api/v1/change-requests/{}/decisions", app.fx.changes[2]),
            &token,
        )
        .json(&json!({ "decision": "approve" }))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn a_billing_tool_drafts_sends_and_settles_invoices() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let token = app.api_token(Some(a), "read_write").await;
    let path = format!("/api/v1/companies/{a}/invoices");
    let refused = app
        .api("POST", &path, &token)
        .json(&json!({ "issued_on": "yesterday", "due_on": "2026-12-15", "lines": [] }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in ["\"issued_on\"", "\"lines\""] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let body = json!({
        "issued_on": "2026-12-01",
        "due_on": "2026-12-15",
        "notes": "December retainer",
        "lines": [
            { "description": "Managed services", "quantity_milli": 1000, "unit_cents": 120_000, "tax_basis_points": 1000 },
            { "description": "After-hours call-out", "quantity_milli": 1500, "unit_cents": 16_500 },
        ],
    });
    let drafted = app
        .api("POST", &path, &token)
        .header("idempotency-key", "xero-inv-881")
        .json(&body)
        .send()
        .await;
    assert_eq!(drafted.status, 201, "{}", drafted.body);
    let again = app
        .api("POST", &path, &token)
        .header("idempotency-key", "xero-inv-881")
        .json(&body)
        .send()
        .await;
    assert_eq!(again.body, drafted.body, "a retry drafts it once");
    let invoice: Value = serde_json::from_str(&drafted.body).unwrap();
    assert_eq!(invoice["status"], "draft");
    assert!(invoice["number"].is_null());
    assert_eq!(invoice["lines"][1]["amount_cents"], 24_750, "{invoice}");
    let id = invoice["id"].as_str().unwrap().to_owned();
    // The draft replaced whole: a refused line changes nothing, a good body everything.
    let draft = format!("{path}/{id}");
    let refused = app
        .api("PUT", &draft, &token)
        .json(&json!({ "issued_on": "2026-12-01", "due_on": "2026-12-15", "lines": [{ "description": "", "quantity_milli": 1000, "unit_cents": 100 }] }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let unchanged = app.api("GET", &draft, &token).send().await;
    assert_eq!(unchanged.status, 200);
    assert!(
        unchanged.body.contains("After-hours call-out"),
        "{}",
        unchanged.body
    );
    let replaced = app
        .api("PUT", &draft, &token)
        .json(&json!({
            "issued_on": "2026-12-01",
            "due_on": "2026-12-20",
            "notes": "December retainer",
            "lines": [{ "description": "Managed services", "quantity_milli": 1000, "unit_cents": 125_000, "tax_basis_points": 1000 }],
        }))
        .send()
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let invoice: Value = serde_json::from_str(&replaced.body).unwrap();
    assert_eq!(invoice["due_on"], "2026-12-20", "{invoice}");
    assert_eq!(invoice["lines"].as_array().unwrap().len(), 1, "{invoice}");
    assert_eq!(invoice["lines"][0]["amount_cents"], 125_000, "{invoice}");
    // A draft is the MSP's own: the client sees it once sent, with its number.
    assert!(
        !app.get_as(Who::ClientAdmin, "/invoices")
            .await
            .body
            .contains("December retainer")
    );
    let status = format!("{path}/{id}/status");
    let sent = app
        .api("POST", &status, &token)
        .json(&json!({ "action": "send" }))
        .send()
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let invoice: Value = serde_json::from_str(&sent.body).unwrap();
    assert!(invoice["number"].is_i64(), "{invoice}");
    // Sent, it is no longer changed: voided and drafted again instead.
    let late = app
        .api("PUT", &draft, &token)
        .json(&json!({ "issued_on": "2026-12-01", "due_on": "2026-12-31", "lines": [{ "description": "Managed services", "quantity_milli": 1000, "unit_cents": 1 }] }))
        .send()
        .await;
    assert_eq!(late.status, 422, "{}", late.body);
    assert!(late.body.contains("void it"), "{}", late.body);
    let portal = app
        .get_as(Who::ClientAdmin, &format!("/invoices/{id}"))
        .await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    // Sending again changes nothing; paid, it can no longer be voided.
    let resent = app
        .api("POST", &status, &token)
        .json(&json!({ "action": "send" }))
        .send()
        .await;
    assert_eq!(resent.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&resent.body).unwrap()["number"],
        invoice["number"]
    );
    let paid = app
        .api("POST", &status, &token)
        .json(&json!({ "action": "paid" }))
        .send()
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&paid.body).unwrap()["status"],
        "paid"
    );
    let void = app
        .api("POST", &status, &token)
        .json(&json!({ "action": "void" }))
        .send()
        .await;
    assert_eq!(void.status, 422, "{}", void.body);
    let foreign = app
        .api(
            "POST",
            &format!(
                "{path}/{}/status",
                app.fx.invoices[app.fx.invoices.len() - 2]
            ),
            &token,
        )
        .json(&json!({ "action": "paid" }))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn a_tool_logs_time_and_reads_the_month_against_the_plan() {
    let app = TestApp::spawn().await;
    let token = app.api_token(Some(app.fx.company_a), "read_write").await;
    let path = format!("/api/v1/tickets/{}/time", app.fx.ticket_a2);
    let refused = app
        .api("POST", &path, &token)
        .json(&json!({ "minutes": 0, "worked_on": "someday" }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("\"minutes\"") && refused.body.contains("\"worked_on\""));
    let logged = app
        .api("POST", &path, &token)
        .header("idempotency-key", "timesheet-4411")
        .json(&json!({ "minutes": 95, "worked_on": "2026-11-20", "note": "Replaced the fuser", "billable": true }))
        .send()
        .await;
    assert_eq!(logged.status, 201, "{}", logged.body);
    let entry: Value = serde_json::from_str(&logged.body).unwrap();
    assert_eq!(entry["minutes"], 95);
    assert_eq!(entry["billable"], true);
    let again = app
        .api("POST", &path, &token)
        .header("idempotency-key", "timesheet-4411")
        .json(&json!({ "minutes": 95, "worked_on": "2026-11-20", "note": "Replaced the fuser", "billable": true }))
        .send()
        .await;
    assert_eq!(again.body, logged.body);
    let month = app
        .api(
            "GET",
            &format!("/api/v1/companies/{}/work?month=2026-11", app.fx.company_a),
            &token,
        )
        .send()
        .await;
    assert_eq!(month.status, 200, "{}", month.body);
    let work: Value = serde_json::from_str(&month.body).unwrap();
    assert_eq!(
        work["entries"].as_array().unwrap().len(),
        1,
        "{}",
        month.body
    );
    assert!(work["billable_minutes"].as_i64().unwrap() >= 95);
    for bad in ["2026-13", "26-11", "november", "2026-+1", "9999-12"] {
        let refused = app
            .api(
                "GET",
                &format!("/api/v1/companies/{}/work?month={bad}", app.fx.company_a),
                &token,
            )
            .send()
            .await;
        assert_eq!(refused.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn archiving_is_the_consoles_and_a_repeat_changes_nothing() {
    let app = TestApp::spawn().await;
    let fx = &app.fx;
    let token = app.api_token(None, "read_write").await;
    let company = fx.company_a;
    let post = |path: String| {
        let token = token.clone();
        let app = &app;
        async move {
            let got = app.api("POST", &path, &token).send().await;
            let json: Value = serde_json::from_str(&got.body).unwrap_or(Value::Null);
            (got.status, json, got.body)
        }
    };
    let asset = format!("/api/v1/companies/{company}/assets/{}", fx.assets[0]);
    let (status, first, body) = post(format!("{asset}/archive")).await;
    assert_eq!(status, 200, "{body}");
    assert!(first["archived_at"].is_string(), "{body}");
    // Again: the same answer, not a second archiving.
    let (status, again, _) = post(format!("{asset}/archive")).await;
    assert_eq!(status, 200);
    assert_eq!(again["archived_at"], first["archived_at"]);
    let (status, restored, body) = post(format!("{asset}/restore")).await;
    assert_eq!(status, 200, "{body}");
    assert!(restored["archived_at"].is_null(), "{body}");

    // A site archived leaves the company's current sites and comes back when restored.
    let site = format!("/api/v1/companies/{company}/sites/{}", fx.site_a1);
    let (status, archived, body) = post(format!("{site}/archive")).await;
    assert_eq!(status, 200, "{body}");
    assert!(archived["archived_at"].is_string(), "{body}");

    // The company archived, nothing of it is restored until it is.
    let (status, archived_company, body) =
        post(format!("/api/v1/companies/{company}/archive")).await;
    assert_eq!(status, 200, "{body}");
    assert!(archived_company["archived_at"].is_string(), "{body}");
    let (status, _, body) = post(format!("{site}/restore")).await;
    assert_eq!(status, 422, "{body}");
    let (status, back, body) = post(format!("/api/v1/companies/{company}/restore")).await;
    assert_eq!(status, 200, "{body}");
    assert!(back["archived_at"].is_null(), "{body}");
    let (status, site_back, body) = post(format!("{site}/restore")).await;
    assert_eq!(status, 200, "{body}");
    assert!(site_back["archived_at"].is_null(), "{body}");

    // Each change is in the log once: the asset's two archivings made one entry, and with the
    // site's and the company's that is three.
    let log = app
        .get_as(
            Who::Owner,
            &format!("/audit.csv?company={company}&action=record_archived"),
        )
        .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let entries = log.body.lines().skip(1).filter(|l| !l.is_empty()).count();
    assert_eq!(entries, 3, "{}", log.body);
}

/// The mail last queued to `to`, if any.
async fn latest_mail(app: &TestApp, to: &str) -> Option<String> {
    let mut sys = app.store().system_unscoped().await.unwrap();
    let body = sys.latest_mail_to(to).await.unwrap();
    sys.commit().await.unwrap();
    body
}

/// A tool (an onboarding script, an HR system) invites a company's people to its portal and
/// disables those who leave, as the console's Users page does: the same mail, with a link to
/// the configured portal; the same answer for an address that has an account elsewhere; a
/// disabled user's sessions ended at once; a repeat changing nothing.
#[tokio::test]
async fn a_tool_invites_and_disables_portal_users() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let token = app.api_token(Some(a), "read_write").await;
    let users = format!("/api/v1/companies/{a}/users");

    let refused = app
        .api("POST", &users, &token)
        .json(&json!({ "name": "", "email": "not an address", "role": "boss", "sites": ["x"] }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in ["\"role\"", "sites[0]"] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let refused = app
        .api("POST", &users, &token)
        .json(&json!({ "name": "", "email": "not an address", "role": "member" }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    // A company-scoped token invites at the company's own domains only.
    let outside = app
        .api("POST", &users, &token)
        .json(&json!({ "name": "Eve Outside", "email": "eve@elsewhere.test", "role": "member" }))
        .send()
        .await;
    assert_eq!(outside.status, 422, "{}", outside.body);
    assert!(latest_mail(&app, "eve@elsewhere.test").await.is_none());

    let invited = app
        .api("POST", &users, &token)
        .header("Idempotency-Key", "invite-nia")
        .json(&json!({ "name": "Nia New", "email": "nia@a.test", "role": "member", "sites": [app.fx.site_a1.to_string()] }))
        .send()
        .await;
    assert_eq!(invited.status, 202, "{}", invited.body);
    assert!(invited.body.contains("\"status\":\"invited\""));
    let mail = latest_mail(&app, "nia@a.test")
        .await
        .expect("an invitation");
    assert!(
        mail.contains(&format!("http://{}", common::PORTAL)) && mail.contains("/setup?token="),
        "the link goes to the configured portal: {mail}"
    );
    let told = latest_mail(&app, "admin@a.test")
        .await
        .expect("the client admin told");
    assert!(told.contains("Nia New"), "{told}");
    // The same key: the first answer, and no second user or mail.
    let replayed = app
        .api("POST", &users, &token)
        .header("Idempotency-Key", "invite-nia")
        .json(&json!({ "name": "Nia New", "email": "nia@a.test", "role": "member", "sites": [app.fx.site_a1.to_string()] }))
        .send()
        .await;
    assert_eq!(replayed.status, 202);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    let twice = app
        .api("POST", &users, &token)
        .json(&json!({ "name": "Nia Again", "email": "nia@a.test", "role": "member" }))
        .send()
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    let list = app.api("GET", &users, &token).send().await;
    let list: Value = serde_json::from_str(&list.body).unwrap();
    let nia = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "nia@a.test")
        .expect("listed");
    assert_eq!(nia["activated"], false);
    assert_eq!(nia["sites"][0], app.fx.site_a1.to_string());

    // An address with an account at another company: the same answer, and its owner is told
    // to sign in; nothing is created.
    let owner_token = app.api_token(None, "read_write").await;
    let elsewhere = app
        .api("POST", &users, &owner_token)
        .json(&json!({ "name": "Bo B", "email": "user@b.test", "role": "viewer" }))
        .send()
        .await;
    assert_eq!(elsewhere.status, 202, "{}", elsewhere.body);
    assert_eq!(
        elsewhere.body.replace("user@b.test", "x"),
        invited.body.replace("nia@a.test", "x")
    );
    let notice = latest_mail(&app, "user@b.test")
        .await
        .expect("told to sign in");
    assert!(notice.contains("already has an account"), "{notice}");

    // Disabled: the user's sessions end at once; a repeat answers the user as they are.
    let member = app.fx.portal(Who::Member);
    let session = app.session_for(Who::Member).await.unwrap();
    let disable = format!("/api/v1/companies/{a}/users/{member}/disable");
    let disabled = app.api("POST", &disable, &token).send().await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert!(
        disabled.body.contains("\"disabled\":true"),
        "{}",
        disabled.body
    );
    let page = app
        .request("GET", common::PORTAL, "/tickets")
        .session(Some(&session))
        .send()
        .await;
    assert_ne!(page.status, 200, "the session ended");
    let again = app.api("POST", &disable, &token).send().await;
    assert_eq!(again.status, 200);
    let enabled = app
        .api(
            "POST",
            &format!("/api/v1/companies/{a}/users/{member}/enable"),
            &token,
        )
        .send()
        .await;
    assert!(
        enabled.body.contains("\"disabled\":false"),
        "{}",
        enabled.body
    );

    // Another company's user is out of this token's reach, as a missing one is.
    let theirs = app.fx.user_b;
    let foreign = app
        .api(
            "POST",
            &format!(
                "/api/v1/companies/{}/users/{theirs}/disable",
                app.fx.company_b
            ),
            &token,
        )
        .send()
        .await;
    assert_eq!(foreign.status, 404);
    let crossed = app
        .api(
            "POST",
            &format!("/api/v1/companies/{a}/users/{theirs}/disable"),
            &token,
        )
        .send()
        .await;
    assert_eq!(crossed.status, 404);
}

/// A backup tool Portico has no connector for pushes a company's jobs: each push the source's
/// whole list, a repeat changing nothing, jobs no longer named retired; the portal's Backup
/// section shows them, failing and stale ones first.
#[tokio::test]
async fn a_backup_tool_pushes_its_jobs_and_the_portal_shows_which_need_attention() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let token = app.api_token(Some(a), "read_write").await;
    let jobs = format!("/api/v1/companies/{a}/backup-jobs");
    let refused = app
        .api("PUT", &jobs, &token)
        .json(&json!({
            "source": "Veeam",
            "jobs": [{ "id": "1", "name": "", "kind": "tape", "last_result": "ok", "last_run_at": "yesterday" }],
        }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in [
        "jobs[0].last_run_at",
        "jobs[0].name",
        "jobs[0].kind",
        "jobs[0].last_result",
    ] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let now = jiff::Timestamp::now();
    let ago = |hours: i64| {
        now.checked_sub(jiff::SignedDuration::from_hours(hours))
            .unwrap()
            .to_string()
    };
    let three = json!({
        "source": "Veeam",
        "jobs": [
            { "id": "srv", "name": "File server nightly", "kind": "server", "protected_item": "FS01", "last_result": "success", "last_run_at": ago(3), "last_success_at": ago(3), "protected_bytes": 1_288_490_188_800_i64, "retention": "30 days" },
            { "id": "m365", "name": "Microsoft 365 mailboxes", "kind": "microsoft365", "last_result": "failed", "last_run_at": ago(2), "last_success_at": ago(50) },
            { "id": "nas", "name": "NAS weekly", "kind": "nas", "last_result": "success", "last_run_at": ago(200), "last_success_at": ago(200), "expected_every_hours": 168 },
        ],
    });
    let pushed = app.api("PUT", &jobs, &token).json(&three).send().await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    assert!(pushed.body.contains("\"added\":3"), "{}", pushed.body);
    let again = app.api("PUT", &jobs, &token).json(&three).send().await;
    assert!(
        again
            .body
            .contains("\"added\":0,\"changed\":0,\"retired\":0"),
        "a repeat changes nothing: {}",
        again.body
    );
    let list = app.api("GET", &jobs, &token).send().await;
    let list: Value = serde_json::from_str(&list.body).unwrap();
    let health = |id: &str| {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .map(|j| j["health"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(health("srv"), "healthy");
    assert_eq!(health("m365"), "failing");
    assert_eq!(health("nas"), "stale");

    let page = app.get_as(Who::Member, "/backup").await;
    assert_eq!(page.status, 200);
    for text in [
        "2 jobs need attention",
        "Failing",
        "Stale",
        "1.2 TB",
        "30 days",
    ] {
        assert!(page.body.contains(text), "{text} on the Backup page");
    }
    let failing = page.body.find("Microsoft 365 mailboxes").unwrap();
    let healthy = page.body.find("File server nightly").unwrap();
    assert!(failing < healthy, "failing jobs first");
    // The Overview counts them.
    let overview = app.get_as(Who::Member, "/").await;
    assert!(
        overview
            .body
            .contains("2 / 3</span><span class=\"caption\">Backup jobs failing or stale"),
        "{}",
        overview.body
    );

    // The NAS job is no longer reported: retired, kept.
    let two = json!({ "source": "Veeam", "jobs": [three["jobs"][0], three["jobs"][1]] });
    let pushed = app.api("PUT", &jobs, &token).json(&two).send().await;
    assert!(pushed.body.contains("\"retired\":1"), "{}", pushed.body);
    let page = app.get_as(Who::Member, "/backup").await;
    assert!(page.body.contains("No longer reported"));
    // Another company's token sees none of it.
    let other = app.api_token(Some(app.fx.company_b), "read").await;
    assert_eq!(app.api("GET", &jobs, &other).send().await.status, 404);
}
