//! Connectors (I2) end to end against a server on 127.0.0.1 that replays Microsoft Graph's
//! documented answers (`crates/portico-connectors/tests/fixtures/graph`, sources in its
//! `SOURCES.md`): an owner connects Microsoft 365 with the server's addresses, the partner's
//! customers are listed, tenants are mapped, and a sync fills the portal's Licences and Users
//! through paging, throttling (429 with Retry-After), an expired token and a server error; a
//! tenant that keeps failing does not stop another, a repeat writes nothing, a user gone upstream
//! is retired, and the client's Refresh is throttled. On SQLite, and on PostgreSQL when
//! PORTICO_TEST_POSTGRES_URL is set.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::{TestApp, Who};
use portico_connectors::{VendorClient, run_due};

const PARTNER: &str = "99999999-9999-4999-8999-999999999999";
const ACME: &str = "11111111-1111-4111-8111-111111111111";
const BIRCHWOOD: &str = "22222222-2222-4222-8222-222222222222";
const CLIENT_ID: &str = "5c0f1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
const SECRET: &str = "Fx8Q~replay-secret-never-shown";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../portico-connectors/tests/fixtures/graph/",
            $name
        ))
    };
}

/// What the replay server does, and what it saw.
#[derive(Default)]
struct Replay {
    base: String,
    /// Tokens handed out: token → tenant.
    tokens: HashMap<String, String>,
    issued: usize,
    /// The next request of each kind answers with these statuses first (then as documented).
    throttle_users: usize,
    expire_organization: usize,
    fail_skus: usize,
    /// Users whose ids are left out of the listing (removed upstream).
    removed: Vec<String>,
    /// Generated users (for a large tenant) instead of the fixture's.
    generated_users: usize,
    /// Alerts read so far (the first read is served as documented, in two pages).
    alert_reads: usize,
    /// Alerts changed upstream since the first read.
    alerts_changed: bool,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Replay>>;

fn json(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

fn graph_error(status: StatusCode, body: &str, retry_after: Option<&str>) -> Response {
    let mut response = json(status, body.to_owned());
    if let Some(after) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    response
}

async fn token(State(replay): State<Shared>, Path(tenant): Path<String>, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut r = replay.lock().unwrap();
    r.requests.push(format!("token {tenant}"));
    let good = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(SECRET)
        && form.get("scope").map(String::as_str) == Some("https://graph.microsoft.com/.default");
    if !good {
        return json(
            StatusCode::UNAUTHORIZED,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#.into(),
        );
    }
    r.issued += 1;
    let token = format!("replay-token-{}", r.issued);
    r.tokens.insert(token.clone(), tenant);
    let mut answer: serde_json::Value = serde_json::from_str(fixture!("token.json")).unwrap();
    answer["access_token"] = token.into();
    json(StatusCode::OK, answer.to_string())
}

/// A page of `n` generated users (for the large tenant), 500 to a page.
fn generated_users(base: &str, total: usize, page: usize) -> String {
    let from = page * 500;
    let to = (from + 500).min(total);
    let value: Vec<serde_json::Value> = (from..to)
        .map(|i| {
            serde_json::json!({
                "id": format!("b2000000-0000-4000-8000-{i:012}"),
                "displayName": format!("Person {i:05}"),
                "userPrincipalName": format!("person{i}@acmedental.example"),
                "mail": format!("person{i}@acmedental.example"),
                "accountEnabled": i % 50 != 0,
                "assignedLicenses": [{"disabledPlans": [], "skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965"}],
                "signInActivity": {"lastSignInDateTime": if i % 7 == 0 { "2026-01-01T00:00:00Z" } else { "2026-11-30T00:00:00Z" }}
            })
        })
        .collect();
    let mut answer = serde_json::json!({ "value": value });
    if to < total {
        answer["@odata.nextLink"] =
            format!("{base}/v1.0/users?$top=500&$skiptoken=page{}", page + 1).into();
    }
    answer.to_string()
}

async fn graph(
    State(replay): State<Shared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("v1.0/{path}");
    let mut r = replay.lock().unwrap();
    let query = query.unwrap_or_default();
    r.requests.push(format!("GET /{path}?{query}"));
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(tenant) = r.tokens.get(bearer).cloned() else {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            fixture!("error_401_expired.json"),
            None,
        );
    };
    let base = r.base.clone();
    let with_base = |text: &str| text.replace("{{base}}", &base);
    match (path.as_str(), tenant.as_str()) {
        ("v1.0/tenantRelationships/delegatedAdminCustomers", PARTNER) => json(
            StatusCode::OK,
            fixture!("delegated_admin_customers.json").into(),
        ),
        ("v1.0/tenantRelationships/delegatedAdminCustomers", _) => graph_error(
            StatusCode::FORBIDDEN,
            r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges."}}"#,
            None,
        ),
        ("v1.0/organization", ACME) => {
            if r.expire_organization > 0 {
                r.expire_organization -= 1;
                // The token "expired": it is refused from now on.
                r.tokens.remove(bearer);
                return graph_error(
                    StatusCode::UNAUTHORIZED,
                    fixture!("error_401_expired.json"),
                    None,
                );
            }
            json(StatusCode::OK, fixture!("organization_acme.json").into())
        }
        // Birchwood's tenant is having a bad day: every read fails.
        (_, BIRCHWOOD) => graph_error(
            StatusCode::SERVICE_UNAVAILABLE,
            fixture!("error_503.json"),
            Some("0"),
        ),
        ("v1.0/subscribedSkus", ACME) => {
            if r.fail_skus > 0 {
                r.fail_skus -= 1;
                return graph_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    fixture!("error_503.json"),
                    None,
                );
            }
            json(StatusCode::OK, fixture!("subscribed_skus_acme.json").into())
        }
        ("v1.0/directory/subscriptions", ACME) => {
            json(StatusCode::OK, fixture!("subscriptions_acme.json").into())
        }
        ("v1.0/users", ACME) => {
            if r.throttle_users > 0 {
                r.throttle_users -= 1;
                return graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    fixture!("error_429.json"),
                    Some("1"),
                );
            }
            if r.generated_users > 0 {
                let page = query
                    .split("skiptoken=page")
                    .nth(1)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                return json(
                    StatusCode::OK,
                    generated_users(&base, r.generated_users, page),
                );
            }
            let page = if query.contains("skiptoken") {
                fixture!("users_acme_page2.json")
            } else {
                fixture!("users_acme_page1.json")
            };
            let mut answer: serde_json::Value = serde_json::from_str(&with_base(page)).unwrap();
            let removed = r.removed.clone();
            answer["value"]
                .as_array_mut()
                .unwrap()
                .retain(|u| !removed.iter().any(|id| u["id"] == *id));
            json(StatusCode::OK, answer.to_string())
        }
        ("v1.0/security/alerts_v2", ACME) => {
            if query.contains("$skip=2") {
                return json(StatusCode::OK, fixture!("alerts_v2_acme_page2.json").into());
            }
            r.alert_reads += 1;
            if r.alert_reads == 1 && !r.alerts_changed {
                return json(
                    StatusCode::OK,
                    with_base(fixture!("alerts_v2_acme_page1.json")),
                );
            }
            // Later reads are incremental: what changed since the time asked for.
            let since = query
                .split("ge%20")
                .nth(1)
                .map(|s| s.split('&').next().unwrap_or(s).to_owned())
                .unwrap();
            let mut all: Vec<serde_json::Value> = Vec::new();
            let mut pages = vec![
                fixture!("alerts_v2_acme_page1.json"),
                fixture!("alerts_v2_acme_page2.json"),
            ];
            if r.alerts_changed {
                pages.push(fixture!("alerts_v2_acme_updated.json"));
            }
            for page in pages {
                let page: serde_json::Value = serde_json::from_str(page).unwrap();
                for alert in page["value"].as_array().unwrap() {
                    all.retain(|a| a["id"] != alert["id"]);
                    all.push(alert.clone());
                }
            }
            let stamp = |a: &serde_json::Value| {
                a["lastUpdateDateTime"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::Timestamp>()
                    .unwrap()
            };
            let since: jiff::Timestamp = since.parse().unwrap();
            all.retain(|a| stamp(a) >= since);
            json(
                StatusCode::OK,
                serde_json::json!({ "value": all }).to_string(),
            )
        }
        ("v1.0/reports/authenticationMethods/userRegistrationDetails", ACME) => {
            if r.generated_users > 0 {
                return json(StatusCode::OK, r#"{"value":[]}"#.into());
            }
            json(
                StatusCode::OK,
                fixture!("user_registration_details_acme.json").into(),
            )
        }
        _ => graph_error(
            StatusCode::NOT_FOUND,
            r#"{"error":{"code":"Request_ResourceNotFound","message":"Resource not found."}}"#,
            None,
        ),
    }
}

/// Starts the replay server on loopback; returns its state and base address.
async fn start_replay() -> (Shared, String) {
    let replay: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token))
        .route("/v1.0/{*path}", axum::routing::get(graph))
        .with_state(replay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    replay.lock().unwrap().base = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (replay, base)
}

/// Pauses of the retry schedule in thousandths (a test waits milliseconds, not seconds), and
/// pages of three, as the fixtures are written.
fn client() -> VendorClient {
    // The replay servers are on loopback: private addresses allowed, as an operator would for
    // a proxy inside the network.
    VendorClient::new(true)
        .unwrap()
        .with_pause_scale(0.001)
        .with_page_size(3)
}

/// Connects Microsoft 365 as the owner with the replay server's addresses; returns the
/// connector's page address.
async fn connect(app: &TestApp, base: &str) -> String {
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("name", "Microsoft 365 (replay)"),
                ("home_tenant", PARTNER),
                ("client_id", CLIENT_ID),
                ("secret", SECRET),
                ("sync_every_minutes", "60"),
                ("inactive_after_days", "30"),
                ("auth_url", base),
                ("api_url", base),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.headers.get("location").unwrap().to_str().unwrap();
    location.split('?').next().unwrap().to_owned()
}

/// Maps a tenant on a connector's page as the owner.
async fn map(app: &TestApp, page: &str, tenant: &str, company: &str) -> common::Response {
    app.post_as(
        Who::Owner,
        &format!("{page}/map"),
        &[("tenant", tenant), ("company", company)],
    )
    .await
}

#[tokio::test]
async fn microsoft_365_feeds_the_portals_licences_and_users() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_replay().await;
    let client = client();
    // Refused field by field, keeping what was typed but never the secret.
    let refused = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("name", "M365"),
                ("home_tenant", "not a tenant"),
                ("client_id", CLIENT_ID),
                ("secret", SECRET),
                ("sync_every_minutes", "1"),
                ("inactive_after_days", "30"),
                ("auth_url", "http://example.com"),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("partner tenant"));
    assert!(refused.body.contains("Sync every 15 to 1440 minutes"));
    assert!(refused.body.contains("must start with https://"));
    assert!(refused.body.contains("value=\"M365\""));
    assert!(!refused.body.contains(SECRET));
    for who in [Who::TechnicianAssigned, Who::Billing] {
        assert_eq!(app.get_as(who, "/settings/connectors").await.status, 403);
    }

    let page = connect(&app, &base).await;
    // The customers are listed (discovery runs first), each with the domains its own token read.
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    assert_eq!(round.discoveries, 1);
    let shown = app.get_as(Who::Owner, &page).await;
    assert_eq!(shown.status, 200);
    for name in [
        "Acme Dental",
        "Birchwood Legal",
        "Unmapped Holdings",
        "acmedental.example",
    ] {
        assert!(shown.body.contains(name), "{name} listed");
    }
    assert!(
        !shown.body.contains(SECRET),
        "the secret is never shown again"
    );

    // A company is fed by one tenant per vendor: A is the fixture's tenant A's until unmapped.
    let a = app.fx.company_a.to_string();
    let b = app.fx.company_b.to_string();
    let taken = map(&app, &page, ACME, &a).await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("already fed by"), "{}", taken.body);
    let fixture_page = format!("/settings/connectors/{}", app.fx.connectors[0]);
    for tenant in ["tenant-a", "tenant-b"] {
        assert_eq!(map(&app, &fixture_page, tenant, "").await.status, 303);
    }
    // Unmapped, what tenant A fed company A left it: its licences, users and alerts.
    let a_security = app
        .get_as(Who::Owner, &format!("/companies/{a}/security"))
        .await;
    assert!(!a_security.body.contains("CANARY-ALERT-A"));
    assert!(
        !app.get_as(Who::ClientAdmin, "/users/directory?show=removed")
            .await
            .body
            .contains("CANARY-DIRUSER-A")
    );
    assert_eq!(map(&app, &page, ACME, &a).await.status, 303);
    assert_eq!(map(&app, &page, BIRCHWOOD, &b).await.status, 303);

    // The owners want to hear of a failing sync: a receiver on loopback takes the event.
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let receiver = {
        let got = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: String| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push(body);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://127.0.0.1:{port}/hook")
    };
    let subscribed = app
        .post_as(
            Who::Owner,
            "/settings/webhooks",
            &[
                ("url", receiver.as_str()),
                ("events", "connector.sync_failed"),
            ],
        )
        .await;
    assert_eq!(subscribed.status, 200, "{}", subscribed.body);

    // The first sync meets an expired token, a throttled read and a passing server error, and
    // comes through; Birchwood's tenant fails throughout, and does not hold Acme up.
    {
        let mut r = replay.lock().unwrap();
        r.expire_organization = 1;
        r.throttle_users = 1;
        r.fail_skus = 1;
    }
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let outcome = |round: &portico_connectors::Round, tenant: &str| {
        round
            .tenants
            .iter()
            .find(|t| t.external_id == tenant)
            .and_then(|t| t.result.clone())
            .unwrap_or_else(|| panic!("{tenant} ran"))
    };
    let acme = outcome(&round, ACME).expect("Acme synced");
    assert_eq!(
        (acme.added, acme.changed, acme.retired),
        (12, 0, 0),
        "3 products, 6 users, 3 alerts"
    );
    let birchwood = outcome(&round, BIRCHWOOD).expect_err("Birchwood failed");
    assert!(birchwood.contains("503"), "{birchwood}");
    let sender = portico_hooks::Sender::new(true).unwrap();
    portico_hooks::deliver_due(app.store(), &sender, portico_store::now())
        .await
        .unwrap();
    let events = got.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let event: serde_json::Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(event["type"], "connector.sync_failed");
    assert_eq!(event["data"]["object"]["tenant"]["id"], BIRCHWOOD);
    assert_eq!(event["data"]["object"]["company"]["id"], b.as_str());
    assert!(!events[0].contains(SECRET));
    {
        let r = replay.lock().unwrap();
        let users_reads = r
            .requests
            .iter()
            .filter(|q| q.starts_with("GET /v1.0/users"))
            .count();
        assert_eq!(
            users_reads, 3,
            "the throttled read, then two pages: {:?}",
            r.requests
        );
        assert!(
            r.requests
                .iter()
                .filter(|q| q.starts_with(&format!("token {ACME}")))
                .count()
                >= 3,
            "a token for discovery, one for the run, one after the expired one"
        );
    }

    // The portal: licences for everyone of A, with unused ones found; no price without billing.
    let licences = app.get_as(Who::Member, "/licences").await;
    assert_eq!(licences.status, 200);
    for text in [
        "Microsoft 365 E3",
        "Microsoft 365 Business Standard",
        "Exchange Online (Plan 1)",
        "on disabled users",
        "Updated",
        "Refresh",
        "2027-01-15",
    ] {
        assert!(licences.body.contains(text), "{text} on the Licences page");
    }
    assert!(!licences.body.contains("Cost per user"));
    // The MSP prices a product; the client admin (with billing access) sees it, the member not.
    let priced = app
        .post_as(
            Who::Billing,
            &format!("/companies/{a}/licences/price"),
            &[("sku", "SPE_E3"), ("price", "39.60"), ("currency", "AUD")],
        )
        .await;
    assert_eq!(priced.status, 303, "{}", priced.body);
    // A price that is not one is refused on the page, the row's form open with what was typed.
    let refused = app
        .post_as(
            Who::Billing,
            &format!("/companies/{a}/licences/price"),
            &[("sku", "SPE_E3"), ("price", "forty"), ("currency", "AUD")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("value=\"forty\""), "{}", refused.body);
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(refused.body.contains("class=\"inline-edit\" open"));
    assert!(
        app.get_as(Who::ClientAdmin, "/licences")
            .await
            .body
            .contains("39.60")
    );
    assert!(
        !app.get_as(Who::Member, "/licences")
            .await
            .body
            .contains("39.60")
    );
    // Directory users: the client admins', with MFA and sign-ins, and Request change.
    let directory = app.get_as(Who::ClientAdmin, "/users/directory").await;
    assert_eq!(directory.status, 200);
    for text in [
        "Dana Whitfield",
        "tom.becker@acmedental.example",
        "Not registered",
        "Request change",
    ] {
        assert!(directory.body.contains(text), "{text} in the directory");
    }
    // Counted by the run: six users, some of them enabled without a second factor.
    assert!(directory.body.contains("6 users"), "{}", directory.body);
    assert!(directory.body.contains("without MFA"));
    // A search that finds nobody still gives the company's totals (read on their own then).
    let nobody = app
        .get_as(Who::ClientAdmin, "/users/directory?q=nobody-by-this-name")
        .await;
    assert!(nobody.body.contains("6 users"), "{}", nobody.body);
    assert!(!nobody.body.contains("Dana Whitfield"));
    assert_eq!(
        app.get_as(Who::Member, "/users/directory").await.status,
        404
    );
    let ask = app
        .get_as(
            Who::ClientAdmin,
            "/changes/new?target=directory_user&id=a1000001-0000-4000-8000-000000000004&kind=remove",
        )
        .await;
    assert_eq!(ask.status, 200);
    assert!(
        ask.body.contains("Remove Tom Becker"),
        "prefilled: {}",
        ask.body
    );

    // The same records over the API, in the token's scope.
    let token = app.api_token(Some(app.fx.company_a), "read").await;
    let listed = app
        .api("GET", &format!("/api/v1/companies/{a}/licences"), &token)
        .send()
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let e3 = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku_part_number"] == "SPE_E3")
        .unwrap()
        .clone();
    assert_eq!(
        (e3["purchased"].as_i64(), e3["assigned"].as_i64()),
        (Some(25), Some(22))
    );
    assert_eq!(e3["unused_disabled"], 1);
    assert_eq!(e3["monthly_price_cents"], 3960);
    let mut names = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(c) => format!("/api/v1/companies/{a}/directory-users?limit=4&cursor={c}"),
            None => format!("/api/v1/companies/{a}/directory-users?limit=4"),
        };
        let page = app.api("GET", &path, &token).send().await;
        assert_eq!(page.status, 200, "{}", page.body);
        let page: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        names.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["display_name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "by name: {names:?}");
    let b_users = app
        .api(
            "GET",
            &format!("/api/v1/companies/{b}/directory-users"),
            &token,
        )
        .send()
        .await;
    assert_eq!(b_users.status, 404, "another company's users are not found");

    // The console's history: one run each, Acme's with its counts, Birchwood's with its error.
    let shown = app.get_as(Who::Owner, &page).await;
    assert!(shown.body.contains("12 added"));
    assert!(shown.body.contains("Failed"));
    // Defender's alerts, on the company's page in the console.
    let alerts = app
        .get_as(Who::TechnicianAssigned, &format!("/companies/{a}/security"))
        .await;
    assert_eq!(alerts.status, 200);
    assert!(alerts.body.contains("Suspicious PowerShell command line"));
    assert!(alerts.body.contains("Atypical travel"));

    // Nothing changed upstream: a repeat writes nothing.
    assert_eq!(
        app.post_as(Who::Owner, &format!("{page}/sync"), &[("tenant", ACME)])
            .await
            .status,
        303
    );
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let again = outcome(&round, ACME).expect("Acme synced again");
    assert!(again.wrote_nothing(), "{again:?}");
    // The alerts are read from the last change on: the latest one again, not all three.
    assert_eq!(again.seen, 9 + 1);

    // A user removed upstream is retired, not deleted; an alert resolved since is updated and
    // a new one added, read incrementally.
    {
        let mut r = replay.lock().unwrap();
        r.removed
            .push("a1000001-0000-4000-8000-000000000006".into());
        r.alerts_changed = true;
    }
    app.post_as(Who::Owner, &format!("{page}/sync"), &[("tenant", ACME)])
        .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let changed = outcome(&round, ACME).unwrap();
    assert_eq!(
        (changed.retired, changed.added, changed.changed),
        (1, 1, 1),
        "a user retired (one without licences), an alert added and one updated"
    );
    let alerts = app
        .get_as(Who::TechnicianAssigned, &format!("/companies/{a}/security"))
        .await;
    assert!(alerts.body.contains("Unfamiliar sign-in properties"));
    let removed = app
        .get_as(Who::ClientAdmin, "/users/directory?show=removed")
        .await;
    assert!(removed.body.contains("Leo Park"), "{}", removed.body);
    assert!(
        !app.get_as(Who::ClientAdmin, "/users/directory")
            .await
            .body
            .contains("Leo Park")
    );

    // The client's Refresh: once, then throttled for a few minutes; only A's tenant runs.
    let refreshed = app.post_as(Who::Member, "/licences/refresh", &[]).await;
    assert_eq!(refreshed.status, 303);
    assert!(
        refreshed.headers["location"]
            .to_str()
            .unwrap()
            .contains("refreshing")
    );
    let again = app.post_as(Who::Member, "/licences/refresh", &[]).await;
    assert!(
        again.headers["location"]
            .to_str()
            .unwrap()
            .contains("too-soon")
    );
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    assert_eq!(
        round
            .tenants
            .iter()
            .map(|t| t.external_id.as_str())
            .collect::<Vec<_>>(),
        vec![ACME],
        "only the asking company's tenant"
    );
    let runs = app.get_as(Who::Owner, &page).await;
    assert!(
        runs.body.contains("portal,"),
        "a run started from the portal"
    );

    // The stored secret is never sent to a new address unless typed again.
    let moved = app
        .post_as(
            Who::Owner,
            &page,
            &[
                ("name", "Microsoft 365 (replay)"),
                ("home_tenant", PARTNER),
                ("client_id", CLIENT_ID),
                ("secret", ""),
                ("sync_every_minutes", "60"),
                ("inactive_after_days", "30"),
                ("auth_url", "https://login.example.net"),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(moved.status, 422);
    assert!(moved.body.contains("Enter the client secret again"));

    // Wrong credentials: the run fails with the vendor's words, and says so.
    let saved = app
        .post_as(
            Who::Owner,
            &page,
            &[
                ("name", "Microsoft 365 (replay)"),
                ("home_tenant", PARTNER),
                ("client_id", CLIENT_ID),
                ("secret", "a-wrong-secret"),
                ("sync_every_minutes", "60"),
                ("inactive_after_days", "30"),
                ("auth_url", &base),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    app.post_as(Who::Owner, &format!("{page}/sync"), &[("tenant", ACME)])
        .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let refused = outcome(&round, ACME).expect_err("refused credentials");
    assert!(refused.contains("AADSTS7000215"), "{refused}");
    let shown = app.get_as(Who::Owner, &page).await;
    assert!(!shown.body.contains("a-wrong-secret"));
}

/// Issue 16's figure: a tenant of 10,000 users syncs in well under five seconds from the
/// replay server (printed, not asserted: `cargo test` keeps no clocks), and a repeat with
/// nothing changed writes nothing.
#[tokio::test]
async fn a_tenant_of_ten_thousand_users_syncs_and_a_repeat_writes_nothing() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_replay().await;
    replay.lock().unwrap().generated_users = 10_000;
    let client = client();
    let page = connect(&app, &base).await;
    run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let fixture_page = format!("/settings/connectors/{}", app.fx.connectors[0]);
    map(&app, &fixture_page, "tenant-a", "").await;
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &page, ACME, &a).await.status, 303);
    let started = std::time::Instant::now();
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let first = started.elapsed();
    let counts = round.tenants[0].result.clone().unwrap().unwrap();
    // Ten thousand users, three products, three alerts.
    assert_eq!(counts.added, 10_000 + 3 + 3);
    app.post_as(Who::Owner, &format!("{page}/sync"), &[("tenant", ACME)])
        .await;
    let started = std::time::Instant::now();
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let second = started.elapsed();
    let counts = round.tenants[0].result.clone().unwrap().unwrap();
    assert!(counts.wrote_nothing(), "{counts:?}");
    eprintln!(
        "10,000-user tenant on {}: first sync {:.2} s, repeat {:.2} s",
        if portico_store::test_support::TestDatabase::postgres_requested() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        first.as_secs_f64(),
        second.as_secs_f64()
    );
    // The directory pages through them, 50 at a time.
    let directory = app.get_as(Who::ClientAdmin, "/users/directory").await;
    assert!(directory.body.contains("Person 00000"));
    assert!(directory.body.contains("Next page"));
}

macro_rules! ninja_fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../portico-connectors/tests/fixtures/ninjaone/",
            $name
        ))
    };
}

const NINJA_CLIENT: &str = "ninja-client-7f3a";
const NINJA_SECRET: &str = "ninja-secret-never-shown";

/// What the NinjaOne replay server does, and what it saw.
#[derive(Default)]
struct NinjaReplay {
    token: Option<String>,
    /// The next devices read answers 429 first.
    throttle_devices: usize,
    /// Devices left out of the listing (removed upstream).
    removed: Vec<i64>,
    /// When set, the organisation's devices are this many made from the fixture's first,
    /// instead of the fixture's pages.
    generated_devices: usize,
    /// Patch pages served under the current cursor.
    patch_pages: usize,
    /// Seconds the fixtures' patch times are moved by: fixed when the server starts, so that
    /// every read of the same installs answers the same times.
    shift: f64,
    requests: Vec<String>,
}

type NinjaShared = Arc<Mutex<NinjaReplay>>;

async fn ninja_token(State(replay): State<NinjaShared>, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let good = form.get("client_id").map(String::as_str) == Some(NINJA_CLIENT)
        && form.get("client_secret").map(String::as_str) == Some(NINJA_SECRET)
        && form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("scope").map(String::as_str) == Some("monitoring");
    if !good {
        return json(
            StatusCode::UNAUTHORIZED,
            ninja_fixture!("error_401.json").into(),
        );
    }
    let answer: serde_json::Value = serde_json::from_str(ninja_fixture!("token.json")).unwrap();
    replay.lock().unwrap().token = answer["access_token"].as_str().map(str::to_owned);
    json(StatusCode::OK, answer.to_string())
}

async fn ninja(
    State(replay): State<NinjaShared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut r = replay.lock().unwrap();
    let query = query.unwrap_or_default();
    r.requests.push(format!("GET /v2/{path}?{query}"));
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_none() || bearer.map(str::to_owned) != r.token {
        return json(
            StatusCode::UNAUTHORIZED,
            ninja_fixture!("error_401.json").into(),
        );
    }
    let after = query
        .split('&')
        .find_map(|p| p.strip_prefix("after="))
        .map(|a| a.parse::<i64>().unwrap());
    match path.as_str() {
        "organizations" => json(
            StatusCode::OK,
            if after.is_some() {
                "[]".into()
            } else {
                ninja_fixture!("organizations.json").into()
            },
        ),
        "organization/101/locations" => {
            json(StatusCode::OK, ninja_fixture!("locations_101.json").into())
        }
        "devices-detailed" => {
            assert!(query.contains("df=org%3D101"), "{query}");
            if r.throttle_devices > 0 {
                r.throttle_devices -= 1;
                return graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    ninja_fixture!("error_429.json"),
                    Some("1"),
                );
            }
            if r.generated_devices > 0 {
                let size = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("pageSize="))
                    .map_or(1000, |s| s.parse::<i64>().unwrap());
                return json(
                    StatusCode::OK,
                    generated_devices(r.generated_devices as i64, after, size),
                );
            }
            let page = match after {
                None => ninja_fixture!("devices_101_page1.json"),
                Some(5003) => ninja_fixture!("devices_101_page2.json"),
                Some(_) => "[]",
            };
            let mut devices: serde_json::Value = serde_json::from_str(page).unwrap();
            let removed = r.removed.clone();
            devices
                .as_array_mut()
                .unwrap()
                .retain(|d| !removed.iter().any(|id| d["id"] == *id));
            json(StatusCode::OK, devices.to_string())
        }
        "queries/os-patch-installs" => {
            if !query.contains("cursor=") {
                r.patch_pages = 0;
            }
            r.patch_pages += 1;
            let page = match r.patch_pages {
                1 => ninja_fixture!("patch_installs_101_page1.json"),
                2 => ninja_fixture!("patch_installs_101_page2.json"),
                _ => ninja_fixture!("patch_installs_101_empty.json"),
            };
            // The fixtures' times moved so that they stay as recent as when they were
            // written (2 December 2026), whenever the test runs.
            let shift = r.shift;
            let mut page: serde_json::Value = serde_json::from_str(page).unwrap();
            for install in page["results"].as_array_mut().unwrap() {
                for field in ["installedAt", "timestamp"] {
                    if let Some(at) = install[field].as_f64() {
                        install[field] = (at + shift).into();
                    }
                }
            }
            json(StatusCode::OK, page.to_string())
        }
        _ => json(StatusCode::NOT_FOUND, "{}".into()),
    }
}

/// A page of `total` devices made from the fixture's first (ids from 100,000, each its own
/// name and serial), after the id `after`, `size` at a time, as NinjaOne pages them.
fn generated_devices(total: i64, after: Option<i64>, size: i64) -> String {
    let fixture: serde_json::Value =
        serde_json::from_str(ninja_fixture!("devices_101_page1.json")).unwrap();
    let template = &fixture[0];
    let from = after.map_or(0, |a| a - 100_000 + 1).max(0);
    let to = (from + size).min(total);
    let devices: Vec<serde_json::Value> = (from..to)
        .map(|i| {
            let mut device = template.clone();
            device["id"] = (100_000 + i).into();
            device["uid"] = format!("c0ffee02-0000-4000-8000-{i:012}").into();
            device["displayName"] = format!("Generated PC {i:05}").into();
            device["systemName"] = format!("GEN-PC-{i:05}").into();
            device["system"]["serialNumber"] = format!("GEN-SN-{i:05}").into();
            device["system"]["biosSerialNumber"] = format!("GEN-SN-{i:05}").into();
            device
        })
        .collect();
    serde_json::Value::from(devices).to_string()
}

async fn start_ninja() -> (NinjaShared, String) {
    let replay: NinjaShared = Arc::new(Mutex::new(NinjaReplay {
        // Whole days, so that each install keeps its time of day: a shift by hours would carry
        // some of one day's installs past midnight (a third day of patching, at some hours).
        shift: ((portico_store::now() - 1_796_200_000) as f64 / 86_400.0).round() * 86_400.0,
        ..NinjaReplay::default()
    }));
    let app = axum::Router::new()
        .route("/ws/oauth/token", axum::routing::post(ninja_token))
        .route("/v2/{*path}", axum::routing::get(ninja))
        .with_state(replay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (replay, base)
}

#[tokio::test]
async fn ninjaone_feeds_assets_matched_to_those_entered_by_hand_and_patching_into_maintenance() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_ninja().await;
    let client = client();
    // Assets entered by hand before the RMM came: one with the server's serial, one with a
    // workstation's name; the sites are named as NinjaOne's locations.
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.rename_site(app.fx.site_a1, "Main Surgery")
        .await
        .unwrap();
    tx.rename_site(app.fx.site_a2, "Harbour St").await.unwrap();
    let mut entered = Vec::new();
    for (name, serial) in [
        ("Server (entered by hand)", "sn-acme-0002"),
        ("Surgery 2", ""),
    ] {
        entered.push(
            tx.add_asset(
                app.fx.ws1,
                &portico_store::system::SeedAsset {
                    company: app.fx.company_a,
                    site: Some(app.fx.site_a1),
                    name,
                    kind: portico_core::AssetKind::Workstation,
                    manufacturer: "",
                    model: "",
                    serial,
                    os: "",
                    warranty_end: Some("2028-01-31"),
                    purchased_on: None,
                    last_seen_at: None,
                    assigned_user: "",
                    notes: "",
                },
            )
            .await
            .unwrap(),
        );
    }
    tx.commit().await.unwrap();

    // NinjaOne needs no partner tenant; its form is its own.
    let page = app.get_as(Who::Owner, "/settings/connectors").await;
    assert!(page.body.contains("Connect NinjaOne"));
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "ninjaone"),
                ("name", "NinjaOne"),
                ("client_id", NINJA_CLIENT),
                ("secret", NINJA_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &base),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let shown = app.get_as(Who::Owner, &connector).await;
    for org in ["Acme Dental", "Birchwood Legal", "Unmapped Holdings"] {
        assert!(shown.body.contains(org), "{org} listed");
    }
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, "101", &a).await.status, 303);

    // The first read is throttled once, then pages through the devices and the patching.
    replay.lock().unwrap().throttle_devices = 1;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let counts = round.tenants[0].result.clone().unwrap().expect("synced");
    // Three devices added, two matched (by serial, by name), two days of patching.
    assert_eq!(
        (counts.added, counts.changed, counts.retired),
        (5, 2, 0),
        "{counts:?}"
    );

    let assets = app.get_as(Who::Member, "/assets").await;
    assert_eq!(assets.status, 200);
    for text in [
        "Reception PC",
        "Practice Manager MacBook",
        "Server (entered by hand)",
        "Updated",
        "Refresh",
    ] {
        assert!(assets.body.contains(text), "{text} on the assets page");
    }
    assert!(
        !assets.body.contains(">Practice Server<"),
        "the server was matched by serial, not added again"
    );
    let server = app
        .get_as(Who::Member, &format!("/assets/{}", entered[0]))
        .await;
    assert!(
        server.body.contains("Windows Server 2022 Standard Edition"),
        "{}",
        server.body
    );
    assert!(
        server.body.contains("2028-01-31") || server.body.contains("31 Jan 2028"),
        "the warranty entered stays"
    );
    let maintenance = app.get_as(Who::Member, "/maintenance").await;
    assert!(
        maintenance.body.contains("Patching:"),
        "{}",
        maintenance.body
    );
    assert!(maintenance.body.contains("KB5072031"));
    // The member restricted to site A1 sees its devices, not Harbour St's.
    let restricted = app.get_as(Who::SiteRestricted, "/assets").await;
    assert!(restricted.body.contains("Reception PC"));
    assert!(!restricted.body.contains("Harbour St Front Desk"));

    // Nothing changed upstream: a repeat writes nothing.
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "101")],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let again = round.tenants[0].result.clone().unwrap().unwrap();
    assert!(again.wrote_nothing(), "{again:?}");

    // A device gone from NinjaOne is archived, its history kept.
    replay.lock().unwrap().removed.push(5004);
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "101")],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    assert_eq!(round.tenants[0].result.clone().unwrap().unwrap().retired, 1);
    assert!(
        !app.get_as(Who::Member, "/assets")
            .await
            .body
            .contains("Practice Manager MacBook")
    );
    // Wrong credentials are the vendor's words in the history, never the secret.
    assert!(
        !app.get_as(Who::Owner, &connector)
            .await
            .body
            .contains(NINJA_SECRET)
    );
    let requests = replay.lock().unwrap().requests.clone();
    assert!(
        requests.iter().any(|r| r.contains("after=5003")),
        "paged by after: {requests:?}"
    );
}

/// Issue 16's figure for an RMM: an organisation of 10,000 devices syncs in well under five
/// seconds from the replay server (printed, not asserted), and a repeat with nothing changed
/// writes nothing.
#[tokio::test]
async fn an_organisation_of_ten_thousand_devices_syncs_and_a_repeat_writes_nothing() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_ninja().await;
    replay.lock().unwrap().generated_devices = 10_000;
    // Pages of NinjaOne's own default size, as the worker reads them.
    let client = VendorClient::new(true).unwrap().with_pause_scale(0.001);
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "ninjaone"),
                ("name", "NinjaOne"),
                ("client_id", NINJA_CLIENT),
                ("secret", NINJA_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &base),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, "101", &a).await.status, 303);
    let started = std::time::Instant::now();
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let first = started.elapsed();
    let counts = round.tenants[0].result.clone().unwrap().expect("synced");
    // Ten thousand devices; the fixture's patching is of devices this organisation does not
    // have, so none of it is kept.
    assert_eq!((counts.added, counts.retired), (10_000, 0), "{counts:?}");
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "101")],
    )
    .await;
    let started = std::time::Instant::now();
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let second = started.elapsed();
    let again = round.tenants[0].result.clone().unwrap().unwrap();
    assert!(again.wrote_nothing(), "{again:?}");
    eprintln!(
        "10,000-device organisation on {}: first sync {:.2} s, repeat {:.2} s",
        if portico_store::test_support::TestDatabase::postgres_requested() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        first.as_secs_f64(),
        second.as_secs_f64()
    );
    let assets = app.get_as(Who::Member, "/assets?q=GEN-SN-09999").await;
    assert!(
        assets.body.contains("Generated PC 09999"),
        "{}",
        assets.body
    );
}

/// A tool Portico has no connector for pushes a tenant's licences and users over the API:
/// each push the tenant's whole list, a repeat changing nothing, products and users no longer
/// named retired; the portal shows them as a connector's, without a Refresh that could not run.
#[tokio::test]
async fn a_tool_pushes_the_licences_and_users_of_a_tenant_no_connector_reads() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    // Company A's fixture tenant unmapped: a second Microsoft 365 tenant would double its
    // licences, so the push is refused until then.
    let token = app.api_token(Some(a), "read_write").await;
    let licences = format!("/api/v1/companies/{a}/licences");
    let users = format!("/api/v1/companies/{a}/directory-users");
    let two_products = serde_json::json!({
        "tenant": "contoso.example",
        "licences": [
            { "sku_id": "sku-e3", "sku_part_number": "SPE_E3", "product_name": "Pushed E3", "purchased": 20, "assigned": 18, "renews_on": "2027-03-31" },
            { "sku_id": "sku-visio", "sku_part_number": "VISIOCLIENT", "product_name": "Pushed Visio", "purchased": 2, "assigned": 1, "unused_disabled": 1 },
        ],
    });
    let doubled = app
        .api("PUT", &licences, &token)
        .json(&two_products)
        .send()
        .await;
    assert_eq!(doubled.status, 422, "{}", doubled.body);
    assert!(doubled.body.contains("already fed"), "{}", doubled.body);
    let fixture_page = format!("/settings/connectors/{}", app.fx.connectors[0]);
    assert_eq!(map(&app, &fixture_page, "tenant-a", "").await.status, 303);

    // Every problem at once, under the body's names; nothing is kept.
    let refused = app
        .api("PUT", &licences, &token)
        .json(&serde_json::json!({
            "tenant": "contoso.example",
            "licences": [
                { "sku_id": "sku-e3", "sku_part_number": "SPE_E3", "product_name": "", "purchased": -1, "assigned": 0 },
                { "sku_id": "sku-e3", "sku_part_number": "SPE_E3", "product_name": "Twice", "purchased": 1, "assigned": 0, "renews_on": "soon" },
            ],
        }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in [
        "licences[0].product_name",
        "licences[0].purchased",
        "licences[1].sku_id",
        "licences[1].renews_on",
    ] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let read_only = app.api_token(Some(a), "read").await;
    let forbidden = app
        .api("PUT", &licences, &read_only)
        .json(&two_products)
        .send()
        .await;
    assert_eq!(forbidden.status, 403);

    let pushed = app
        .api("PUT", &licences, &token)
        .json(&two_products)
        .send()
        .await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let outcome: serde_json::Value = serde_json::from_str(&pushed.body).unwrap();
    assert_eq!(outcome["added"], 2, "{outcome}");
    let again = app
        .api("PUT", &licences, &token)
        .json(&two_products)
        .send()
        .await;
    let outcome: serde_json::Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(
        (&outcome["added"], &outcome["changed"], &outcome["retired"]),
        (&0.into(), &0.into(), &0.into()),
        "a repeat changes nothing: {outcome}"
    );
    let pushed = app
        .api("PUT", &users, &token)
        .json(&serde_json::json!({
            "tenant": "contoso.example",
            "users": [
                { "id": "u-1", "display_name": "Pat Pushed", "user_principal_name": "pat@contoso.example", "enabled": true, "licence_sku_ids": ["sku-e3"], "mfa_registered": true, "last_sign_in_at": "2026-12-01T09:00:00Z" },
                { "id": "u-2", "display_name": "Robin Pushed", "user_principal_name": "robin@contoso.example", "enabled": true, "licence_sku_ids": ["sku-e3", "sku-visio"], "mfa_registered": false },
                { "id": "u-3", "display_name": "Sam Left", "user_principal_name": "sam@contoso.example", "enabled": false },
            ],
        }))
        .send()
        .await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);

    // The portal: the pushed products and users, updated just now, with no Refresh to press.
    let page = app.get_as(Who::ClientAdmin, "/licences").await;
    for text in ["Pushed E3", "Pushed Visio", "2027-03-31", "Updated"] {
        assert!(page.body.contains(text), "{text} on the Licences page");
    }
    assert!(!page.body.contains(">Refresh<"), "nothing would run");
    let directory = app.get_as(Who::ClientAdmin, "/users/directory").await;
    for text in [
        "Pat Pushed",
        "robin@contoso.example",
        "Pushed Visio",
        "3 users",
    ] {
        assert!(directory.body.contains(text), "{text} in the directory");
    }
    // A product no longer named is retired, kept and marked.
    let one_product = serde_json::json!({
        "tenant": "contoso.example",
        "licences": [
            { "sku_id": "sku-e3", "sku_part_number": "SPE_E3", "product_name": "Pushed E3", "purchased": 20, "assigned": 18, "renews_on": "2027-03-31" },
        ],
    });
    let pushed = app
        .api("PUT", &licences, &token)
        .json(&one_product)
        .send()
        .await;
    let outcome: serde_json::Value = serde_json::from_str(&pushed.body).unwrap();
    assert_eq!(outcome["retired"], 1, "{outcome}");
    let read = app.api("GET", &licences, &token).send().await;
    let list: serde_json::Value = serde_json::from_str(&read.body).unwrap();
    let visio = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku_id"] == "sku-visio")
        .expect("kept");
    assert!(visio["retired_at"].is_string(), "{visio}");

    // The tenant is company A's: another company cannot take it, nor another token's reach.
    let owner_token = app.api_token(None, "read_write").await;
    let taken = app
        .api(
            "PUT",
            &format!("/api/v1/companies/{}/licences", app.fx.company_b),
            &owner_token,
        )
        .json(&one_product)
        .send()
        .await;
    // B's own tenant of that name would double its licences; A's is never in its way.
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert!(taken.body.contains("already fed"), "{}", taken.body);
    let foreign = app
        .api(
            "PUT",
            &format!("/api/v1/companies/{}/licences", app.fx.company_b),
            &token,
        )
        .json(&one_product)
        .send()
        .await;
    assert_eq!(foreign.status, 404);

    // The console lists the pushed connector with its runs; nothing there reads a vendor.
    let connectors = app.get_as(Who::Owner, "/settings/connectors").await;
    assert!(connectors.body.contains("Pushed over the API"));
    let id = connectors
        .body
        .split("/settings/connectors/")
        .filter_map(|rest| rest.split('"').next())
        .find(|id| *id != app.fx.connectors[0].to_string() && id.len() == 36)
        .expect("the pushed connector's link")
        .to_owned();
    let page = app
        .get_as(Who::Owner, &format!("/settings/connectors/{id}"))
        .await;
    assert!(page.body.contains("Last push"), "{}", page.body);
    assert!(page.body.contains("contoso.example"));
    assert!(!page.body.contains("Switch on"));
    let switched = app
        .post_as(
            Who::Owner,
            &format!("/settings/connectors/{id}/switch"),
            &[("enabled", "1")],
        )
        .await;
    assert_eq!(switched.status, 400, "{}", switched.body);
    // The tenant is shown by its name over the API; unmapped by an owner, its pushes stop.
    let read = app.api("GET", &users, &token).send().await;
    assert!(
        read.body.contains("\"tenant\":\"contoso.example\""),
        "{}",
        read.body
    );
    let unmapped = map(
        &app,
        &format!("/settings/connectors/{id}"),
        &format!("{a}/contoso.example"),
        "",
    )
    .await;
    assert_eq!(unmapped.status, 303, "{}", unmapped.body);
    let stopped = app
        .api("PUT", &licences, &token)
        .json(&one_product)
        .send()
        .await;
    assert_eq!(stopped.status, 422, "{}", stopped.body);
    assert!(
        stopped.body.contains("unmapped or moved"),
        "{}",
        stopped.body
    );
    assert!(
        !app.get_as(Who::ClientAdmin, "/licences")
            .await
            .body
            .contains("Pushed E3"),
        "what it fed went with the mapping"
    );
}

/// A tool Portico has no connector for (a SIEM, another EDR) pushes a tenant's security alerts
/// over the API as they change: new ones added, changed ones changed, a repeat changing
/// nothing; the console's Security alerts page and the API's list show them, newest first,
/// open ones by default, page by page.
#[tokio::test]
async fn a_tool_pushes_the_security_alerts_of_a_tenant_no_connector_reads() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let token = app.api_token(Some(a), "read_write").await;
    let alerts = format!("/api/v1/companies/{a}/security-alerts");
    // Company A's fixture tenant unmapped, so that the pushed tenant may feed it.
    let fixture_page = format!("/settings/connectors/{}", app.fx.connectors[0]);
    assert_eq!(map(&app, &fixture_page, "tenant-a", "").await.status, 303);

    // Every problem at once, under the body's names; nothing is kept.
    let refused = app
        .api("POST", &alerts, &token)
        .json(&serde_json::json!({
            "tenant": "contoso.example",
            "alerts": [
                { "id": "al-1", "title": "", "severity": "severe", "status": "open", "created_at": "yesterday" },
                { "id": "al-1", "title": "Twice", "severity": "low", "status": "new", "created_at": "2026-12-02T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z" },
            ],
        }))
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for field in [
        "alerts[0].title",
        "alerts[0].severity",
        "alerts[0].status",
        "alerts[0].created_at",
        "alerts[1].id",
        "alerts[1].updated_at",
    ] {
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let read_only = app.api_token(Some(a), "read").await;
    let two = serde_json::json!({
        "tenant": "contoso.example",
        "alerts": [
            { "id": "al-1", "title": "Ransomware behaviour blocked on FRONT-DESK", "severity": "high", "status": "new", "service_source": "sentinelOne", "category": "Ransomware", "subject": "FRONT-DESK", "created_at": "2026-12-02T10:00:00Z" },
            { "id": "al-2", "title": "Suspicious inbox rule", "severity": "medium", "status": "inProgress", "subject": "pat@contoso.example", "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-01T09:00:00Z" },
        ],
    });
    let forbidden = app.api("POST", &alerts, &read_only).json(&two).send().await;
    assert_eq!(forbidden.status, 403);

    let pushed = app
        .api("POST", &alerts, &token)
        .header("Idempotency-Key", "alerts-1")
        .json(&two)
        .send()
        .await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let outcome: serde_json::Value = serde_json::from_str(&pushed.body).unwrap();
    assert_eq!(
        (&outcome["added"], &outcome["changed"]),
        (&2.into(), &0.into())
    );
    // The same key and body: the first answer again, nothing done twice.
    let replayed = app
        .api("POST", &alerts, &token)
        .header("Idempotency-Key", "alerts-1")
        .json(&two)
        .send()
        .await;
    assert_eq!(replayed.status, 200);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    // Without a key, a repeat changes nothing either.
    let again = app.api("POST", &alerts, &token).json(&two).send().await;
    let outcome: serde_json::Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(
        (&outcome["added"], &outcome["changed"]),
        (&0.into(), &0.into()),
        "a repeat changes nothing: {outcome}"
    );
    // Resolved later: only that alert is named, the other stays as it was.
    let resolved = app
        .api("POST", &alerts, &token)
        .json(&serde_json::json!({
            "tenant": "contoso.example",
            "alerts": [
                { "id": "al-2", "title": "Suspicious inbox rule", "severity": "medium", "status": "resolved", "subject": "pat@contoso.example", "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-02T11:00:00Z" },
            ],
        }))
        .send()
        .await;
    let outcome: serde_json::Value = serde_json::from_str(&resolved.body).unwrap();
    assert_eq!(
        (&outcome["added"], &outcome["changed"]),
        (&0.into(), &1.into())
    );

    let open = app.api("GET", &alerts, &token).send().await;
    assert_eq!(open.status, 200, "{}", open.body);
    let open: serde_json::Value = serde_json::from_str(&open.body).unwrap();
    let ids: Vec<&str> = open["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["al-1"], "{open}");
    assert_eq!(open["data"][0]["tenant"], "contoso.example");
    assert!(open["updated_at"].is_string(), "{open}");
    // All of them, one a page, newest first.
    let first = app
        .api("GET", &format!("{alerts}?show=all&limit=1"), &token)
        .send()
        .await;
    let first: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(first["data"][0]["id"], "al-1");
    let next = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .api(
            "GET",
            &format!("{alerts}?show=all&limit=1&cursor={next}"),
            &token,
        )
        .send()
        .await;
    let second: serde_json::Value = serde_json::from_str(&second.body).unwrap();
    assert_eq!(second["data"][0]["id"], "al-2");
    assert_eq!(second["data"][0]["resolved_at"], "2026-12-02T11:00:00Z");
    assert!(second["next_cursor"].is_null(), "{second}");
    // A cursor of the open list is not one of the whole list's.
    let crossed = app
        .api("GET", &format!("{alerts}?limit=1&cursor={next}"), &token)
        .send()
        .await;
    assert_eq!(crossed.status, 400);

    let page = app
        .get_as(Who::Owner, &format!("/companies/{a}/security"))
        .await;
    for text in [
        "Ransomware behaviour blocked on FRONT-DESK",
        "Suspicious inbox rule",
    ] {
        assert!(page.body.contains(text), "{text} on the console's page");
    }
    // Another company's token, and a token of another company's reach, see none of it.
    let b = app.fx.company_b;
    let token_b = app.api_token(Some(b), "read_write").await;
    let foreign = app.api("GET", &alerts, &token_b).send().await;
    assert_eq!(foreign.status, 404);
    let pushed_elsewhere = app.api("POST", &alerts, &token_b).json(&two).send().await;
    assert_eq!(pushed_elsewhere.status, 404);
    let theirs = app
        .api(
            "GET",
            &format!("/api/v1/companies/{b}/security-alerts?show=all"),
            &token_b,
        )
        .send()
        .await;
    assert!(!theirs.body.contains("FRONT-DESK"), "{}", theirs.body);
}

macro_rules! huntress_fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../portico-connectors/tests/fixtures/huntress/",
            $name
        ))
    };
}

const HUNTRESS_KEY: &str = "hk_2f9c1d7e5a3b";
const HUNTRESS_SECRET: &str = "huntress-secret-never-shown";

/// What the Huntress replay server does, and what it saw.
#[derive(Default)]
struct HuntressReplay {
    /// The next agents read answers 429 first.
    throttle_agents: usize,
    /// Agents left out of the listing (removed upstream).
    removed: Vec<i64>,
    /// Identities answered 404, as for an account without Managed ITDR.
    no_itdr: bool,
    /// Incident reports left out of the listing (deleted upstream).
    removed_incidents: Vec<i64>,
    /// Every request refused, as for a revoked key.
    revoked: bool,
    requests: Vec<String>,
}

type HuntressShared = Arc<Mutex<HuntressReplay>>;

async fn huntress(
    State(replay): State<HuntressShared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    use base64::Engine;
    let mut r = replay.lock().unwrap();
    let query = query.unwrap_or_default();
    r.requests.push(format!("GET /v1/{path}?{query}"));
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{HUNTRESS_KEY}:{HUNTRESS_SECRET}"))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !authorized || r.revoked {
        return json(
            StatusCode::UNAUTHORIZED,
            huntress_fixture!("error_401.json").into(),
        );
    }
    assert!(
        query.contains("limit="),
        "a page size is asked for: {query}"
    );
    let token = query
        .split('&')
        .find_map(|p| p.strip_prefix("page_token="))
        .map(str::to_owned);
    match path.as_str() {
        "organizations" => json(
            StatusCode::OK,
            huntress_fixture!("organizations.json").into(),
        ),
        "agents" => {
            assert!(query.contains("organization_id=7001"), "{query}");
            if r.throttle_agents > 0 {
                r.throttle_agents -= 1;
                return graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    huntress_fixture!("error_429.json"),
                    Some("1"),
                );
            }
            let page = match token.as_deref() {
                None => huntress_fixture!("agents_7001_page1.json"),
                Some("eyJpZCI6OTAwMDJ9") => huntress_fixture!("agents_7001_page2.json"),
                Some(other) => panic!("unknown page token {other}"),
            };
            let mut page: serde_json::Value = serde_json::from_str(page).unwrap();
            let removed = r.removed.clone();
            page["agents"]
                .as_array_mut()
                .unwrap()
                .retain(|a| !removed.iter().any(|id| a["id"] == *id));
            json(StatusCode::OK, page.to_string())
        }
        "incident_reports" => {
            let mut page: serde_json::Value =
                serde_json::from_str(huntress_fixture!("incident_reports_7001.json")).unwrap();
            let removed = r.removed_incidents.clone();
            page["incident_reports"]
                .as_array_mut()
                .unwrap()
                .retain(|i| !removed.iter().any(|id| i["id"] == *id));
            json(StatusCode::OK, page.to_string())
        }
        "identities" if r.no_itdr => json(
            StatusCode::NOT_FOUND,
            huntress_fixture!("error_403.json").into(),
        ),
        "identities" => json(
            StatusCode::OK,
            huntress_fixture!("identities_7001.json").into(),
        ),
        _ => json(StatusCode::NOT_FOUND, "{}".into()),
    }
}

async fn start_huntress() -> (HuntressShared, String) {
    let replay: HuntressShared = Arc::default();
    let app = axum::Router::new()
        .route("/v1/{*path}", axum::routing::get(huntress))
        .with_state(replay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (replay, base)
}

/// Issue 17's EDR/MDR connector: Huntress's organisations mapped to companies, its agents
/// matched to the company's computers (by serial, then host name) for the Security section's
/// coverage, its incident reports as alerts (EDR or ITDR by platform) and the identities its
/// ITDR watches; through paging, a 429, a repeat that writes nothing, an agent removed upstream,
/// an account without ITDR and a revoked key.
#[tokio::test]
async fn huntress_feeds_the_security_sections_coverage_incidents_and_identities() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_huntress().await;
    let client = client();
    let mut tx = app.store().system_unscoped().await.unwrap();
    for (name, serial, kind) in [
        (
            "Reception PC",
            "HNT-SN-0001",
            portico_core::AssetKind::Workstation,
        ),
        ("practice-server", "", portico_core::AssetKind::Server),
        ("Front Desk", "", portico_core::AssetKind::Workstation),
    ] {
        tx.add_asset(
            app.fx.ws1,
            &portico_store::system::SeedAsset {
                company: app.fx.company_a,
                site: Some(app.fx.site_a1),
                name,
                kind,
                manufacturer: "",
                model: "",
                serial,
                os: "",
                warranty_end: None,
                purchased_on: None,
                last_seen_at: None,
                assigned_user: "",
                notes: "",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let page = app.get_as(Who::Owner, "/settings/connectors").await;
    assert!(page.body.contains("Connect Huntress"));
    assert!(page.body.contains("API secret"));
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "huntress"),
                ("name", "Huntress"),
                ("client_id", HUNTRESS_KEY),
                ("secret", HUNTRESS_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &base),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let shown = app.get_as(Who::Owner, &connector).await;
    for org in ["Acme Dental", "Birchwood Legal"] {
        assert!(shown.body.contains(org), "{org} listed");
    }
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, "7001", &a).await.status, 303);

    // The first read is throttled once, then pages through the agents.
    replay.lock().unwrap().throttle_agents = 1;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let counts = round.tenants[0].result.clone().unwrap().expect("synced");
    // Three agents, two incident reports, the identities' counts.
    assert_eq!(
        (counts.added, counts.changed, counts.retired),
        (6, 0, 0),
        "{counts:?}"
    );

    let security = app.get_as(Who::ClientAdmin, "/protection").await;
    assert_eq!(security.status, 200);
    let body = &security.body;
    for text in [
        "Endpoint detection and response",
        "Identity threat detection",
        "Huntress",
        "without an agent",
        "Front Desk",
        "<strong>2</strong> of 3 identities protected",
        "1 identity without multi-factor sign-in",
        "1 rated at risk",
        "HIGH - Incident on ACME-RECEPTION",
        "Updated",
    ] {
        assert!(body.contains(text), "{text} on the Security page:\n{body}");
    }
    // Matched by serial and by host name: not listed as unprotected.
    assert!(!body.contains("Reception PC"), "{body}");
    assert!(!body.contains(">practice-server"), "{body}");
    // A closed incident is not an open alert.
    assert!(!body.contains("Suspicious inbox rule"));
    // The console lists every alert, closed ones too.
    let console = app
        .get_as(Who::Owner, &format!("/companies/{a}/security"))
        .await;
    assert!(console.body.contains("Suspicious inbox rule"));
    assert!(console.body.contains("Huntress Managed ITDR"));
    // The Security section is its client admins'.
    assert_eq!(app.get_as(Who::Member, "/protection").await.status, 404);

    // The figures were kept by the run; a computer added since marks them stale, and the page
    // counts it at once (computed live) until the next run keeps them again.
    let kept = |app: &TestApp| {
        let store = app.store().clone();
        let company = app.fx.company_a;
        async move {
            let mut tx = store.system_unscoped().await.unwrap();
            tx.edr_coverage_stale(company).await.unwrap()
        }
    };
    assert_eq!(kept(&app).await, Some(false));
    assert!(!body.contains("Spare Laptop"));
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.add_asset(
        app.fx.ws1,
        &portico_store::system::SeedAsset {
            company: app.fx.company_a,
            site: None,
            name: "Spare Laptop",
            kind: portico_core::AssetKind::Laptop,
            manufacturer: "",
            model: "",
            serial: "",
            os: "",
            warranty_end: None,
            purchased_on: None,
            last_seen_at: None,
            assigned_user: "",
            notes: "",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept(&app).await, Some(true));
    let live = app.get_as(Who::ClientAdmin, "/protection").await.body;
    assert!(live.contains("Spare Laptop"), "{live}");

    // Nothing changed upstream: a repeat writes nothing.
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "7001")],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let again = round.tenants[0].result.clone().unwrap().unwrap();
    assert!(again.wrote_nothing(), "{again:?}");
    assert_eq!(kept(&app).await, Some(false));
    let security = app.get_as(Who::ClientAdmin, "/protection").await.body;
    assert!(security.contains("Spare Laptop"), "{security}");
    assert!(security.contains("Front Desk"), "{security}");

    // An agent gone upstream is retired; an account without ITDR loses its identity card's
    // coverage (the closed ITDR incident keeps the card, without figures).
    {
        let mut r = replay.lock().unwrap();
        r.removed.push(90003);
        r.no_itdr = true;
    }
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "7001")],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    assert_eq!(round.tenants[0].result.clone().unwrap().unwrap().retired, 2);
    let security = app.get_as(Who::ClientAdmin, "/protection").await;
    assert!(!security.body.contains("identities protected"));
    assert!(security.body.contains("Coverage is not reported"));

    // An incident report deleted upstream is no longer an open alert.
    replay.lock().unwrap().removed_incidents.push(41001);
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "7001")],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    assert_eq!(round.tenants[0].result.clone().unwrap().unwrap().retired, 1);
    assert!(
        !app.get_as(Who::ClientAdmin, "/protection")
            .await
            .body
            .contains("HIGH - Incident on ACME-RECEPTION")
    );

    // A revoked key: the run fails with Huntress's refusal, the secret never shown.
    replay.lock().unwrap().revoked = true;
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", "7001")],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let failed = round.tenants[0].result.clone().unwrap().unwrap_err();
    assert!(failed.contains("refused the API key"), "{failed}");
    let shown = app.get_as(Who::Owner, &connector).await;
    assert!(!shown.body.contains(HUNTRESS_SECRET));
    let requests = replay.lock().unwrap().requests.clone();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("page_token=eyJpZCI6OTAwMDJ9")),
        "paged by token: {requests:?}"
    );
}

macro_rules! acronis_fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../portico-connectors/tests/fixtures/acronis/",
            $name
        ))
    };
}

const ACRONIS_CLIENT: &str = "a4d1c7e0-5b2f-4e8a-9c3d-1f6b8e2a7c90";
const ACRONIS_SECRET: &str = "acronis-replay-secret-never-shown";
const ACRONIS_PARTNER: &str = "d2f0a9c4-7e31-4b58-9a60-3c8e5f1b2a7d";
const ACRONIS_ACME: &str = "3f8a2c6e-9d14-4b7a-8e25-6c0f1a3b5d79";

/// The Acronis replay's state: what it answers, and what it was asked.
#[derive(Default)]
struct AcronisReplay {
    /// Application listings answered 429 before the real answer.
    throttle_applications: u32,
    /// Access tokens refused once (as if expired), before the real answer.
    expire_token: u32,
    /// Backup policies whose applications are left out (plans removed upstream).
    removed_policies: Vec<String>,
    /// Every request refused, as for a deleted API client.
    revoked: bool,
    requests: Vec<String>,
}

type AcronisShared = Arc<Mutex<AcronisReplay>>;

async fn acronis_token(
    State(replay): State<AcronisShared>,
    headers: HeaderMap,
    body: String,
) -> Response {
    use base64::Engine;
    let mut r = replay.lock().unwrap();
    r.requests.push("POST /api/2/idp/token".into());
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{ACRONIS_CLIENT}:{ACRONIS_SECRET}"))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    assert_eq!(body, "grant_type=client_credentials");
    if !authorized || r.revoked {
        return json(
            StatusCode::UNAUTHORIZED,
            acronis_fixture!("error_401.json").into(),
        );
    }
    json(StatusCode::OK, acronis_fixture!("token.json").into())
}

async fn acronis(
    State(replay): State<AcronisShared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut r = replay.lock().unwrap();
    let query = query.unwrap_or_default();
    r.requests.push(format!("GET /api/{path}?{query}"));
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Bearer acronis-replay-access-token-1");
    if !bearer || r.revoked {
        return json(
            StatusCode::UNAUTHORIZED,
            acronis_fixture!("error_401.json").into(),
        );
    }
    if r.expire_token > 0 {
        r.expire_token -= 1;
        return json(
            StatusCode::UNAUTHORIZED,
            acronis_fixture!("error_401.json").into(),
        );
    }
    let after = query
        .split('&')
        .find_map(|p| p.strip_prefix("after="))
        .map(str::to_owned);
    let tenant = format!("tenant_id={ACRONIS_ACME}");
    match path.as_str() {
        p if p == format!("2/clients/{ACRONIS_CLIENT}") => {
            json(StatusCode::OK, acronis_fixture!("client.json").into())
        }
        "2/tenants" => {
            assert!(
                query.contains(&format!("subtree_root_id={ACRONIS_PARTNER}")),
                "{query}"
            );
            json(
                StatusCode::OK,
                match after.as_deref() {
                    None => acronis_fixture!("tenants_page1.json"),
                    Some("dGVuYW50czoz") => acronis_fixture!("tenants_page2.json"),
                    Some(other) => panic!("unknown cursor {other}"),
                }
                .into(),
            )
        }
        "resource_management/v4/resources" => {
            assert!(query.contains(&tenant), "{query}");
            json(
                StatusCode::OK,
                match after.as_deref() {
                    None => acronis_fixture!("resources_page1.json"),
                    Some("cmVzb3VyY2VzOjM") => acronis_fixture!("resources_page2.json"),
                    Some(other) => panic!("unknown cursor {other}"),
                }
                .into(),
            )
        }
        "policy_management/v4/policies" => {
            assert!(query.contains(&tenant), "{query}");
            assert!(query.contains("include_settings=true"), "{query}");
            json(StatusCode::OK, acronis_fixture!("policies.json").into())
        }
        "policy_management/v4/applications" => {
            assert!(query.contains(&tenant), "{query}");
            if r.throttle_applications > 0 {
                r.throttle_applications -= 1;
                return graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    acronis_fixture!("error_429.json"),
                    Some("1"),
                );
            }
            let page = match after.as_deref() {
                None => acronis_fixture!("applications_page1.json"),
                Some("YXBwbGljYXRpb25zOjM") => acronis_fixture!("applications_page2.json"),
                Some(other) => panic!("unknown cursor {other}"),
            };
            let mut page: serde_json::Value = serde_json::from_str(page).unwrap();
            let removed = r.removed_policies.clone();
            for composite in page["items"].as_array_mut().unwrap() {
                composite
                    .as_array_mut()
                    .unwrap()
                    .retain(|a| !removed.iter().any(|p| a["policy"]["id"] == *p));
            }
            json(StatusCode::OK, page.to_string())
        }
        _ => json(StatusCode::NOT_FOUND, "{}".into()),
    }
}

async fn start_acronis() -> (AcronisShared, String) {
    let replay: AcronisShared = Arc::default();
    let app = axum::Router::new()
        .route("/api/2/idp/token", axum::routing::post(acronis_token))
        .route("/api/{*path}", axum::routing::get(acronis))
        .with_state(replay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (replay, base)
}

/// Issue 17's backup connector: Acronis Cyber Protect Cloud's customers (under the API client's
/// partner tenant, folders included, disabled ones left out) mapped to companies; each backup
/// policy of a plan applied to a machine or a Microsoft 365 organisation a job in the Backup
/// section, with its result, last success, retention and the interval past which it is stale;
/// through paging, a 429, an expired token, a repeat that writes nothing, a plan removed
/// upstream (its jobs retired), a Refresh from the portal and a deleted API client.
#[tokio::test]
async fn acronis_feeds_the_backup_section() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_acronis().await;
    let client = client();
    let page = app.get_as(Who::Owner, "/settings/connectors").await;
    assert!(page.body.contains("Connect Acronis"), "{}", page.body);
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "acronis"),
                ("name", "Acronis"),
                ("client_id", ACRONIS_CLIENT),
                ("secret", ACRONIS_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &base),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let shown = app.get_as(Who::Owner, &connector).await;
    for customer in ["Acme Dental", "Birchwood Legal"] {
        assert!(shown.body.contains(customer), "{customer} listed");
    }
    for not_a_customer in ["Healthcare clients", "Former Client Pty Ltd"] {
        assert!(!shown.body.contains(not_a_customer), "{not_a_customer}");
    }
    assert!(!shown.body.contains(ACRONIS_SECRET));
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, ACRONIS_ACME, &a).await.status, 303);

    // Throttled once, the token expired once: the run waits, signs in again and reads on.
    {
        let mut r = replay.lock().unwrap();
        r.throttle_applications = 1;
        r.expire_token = 1;
    }
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let counts = round.tenants[0].result.clone().unwrap().expect("synced");
    // Two machines on the nightly plan and the Microsoft 365 organisation; the antimalware
    // policy is no backup.
    assert_eq!(
        (counts.seen, counts.added, counts.changed, counts.retired),
        (3, 3, 0, 0),
        "{counts:?}"
    );
    let backup = app.get_as(Who::Member, "/backup").await;
    assert_eq!(backup.status, 200);
    for text in [
        "Practice machines nightly",
        "ACME-RECEPTION",
        "Practice server",
        "Microsoft 365 mailboxes",
        "acmedental.onmicrosoft.com",
        "daily: 7 days; weekly: 4 weeks",
        "90 backups",
        "Failing",
        "Updated",
        "Refresh",
    ] {
        assert!(
            backup.body.contains(text),
            "{text} on Backup:\n{}",
            backup.body
        );
    }

    // Nothing changed upstream: a repeat writes nothing.
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", ACRONIS_ACME)],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let again = round.tenants[0].result.clone().unwrap().unwrap();
    assert!(again.wrote_nothing(), "{again:?}");

    // The Microsoft 365 plan removed upstream: its job is retired, the others kept. The
    // portal's Refresh asks for the run.
    replay
        .lock()
        .unwrap()
        .removed_policies
        .push("d6f8a0b2-4c6e-4d8f-a1b3-7e9c1d3f5a69".into());
    let refreshed = app.post_as(Who::Member, "/backup/refresh", &[]).await;
    assert_eq!(refreshed.status, 303, "{}", refreshed.body);
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let counts = round.tenants[0].result.clone().unwrap().unwrap();
    assert_eq!((counts.added, counts.retired), (0, 1), "{counts:?}");

    // The API client deleted: the run fails with Acronis's refusal, the secret never shown.
    replay.lock().unwrap().revoked = true;
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", ACRONIS_ACME)],
    )
    .await;
    let round = run_due(app.store(), &client, &app.blobs, 10).await.unwrap();
    let failed = round.tenants[0].result.clone().unwrap().unwrap_err();
    assert!(failed.contains("refused"), "{failed}");
    let shown = app.get_as(Who::Owner, &connector).await;
    assert!(!shown.body.contains(ACRONIS_SECRET));
    // Every request stayed within the customer's tenant or the partner's own records.
    let requests = replay.lock().unwrap().requests.clone();
    assert!(
        requests
            .iter()
            .filter(|r| r.contains("_management/"))
            .all(|r| r.contains(&format!("tenant_id={ACRONIS_ACME}"))),
        "{requests:?}"
    );
}

macro_rules! halo_fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../portico-connectors/tests/fixtures/halopsa/",
            $name
        ))
    };
}

const HALO_CLIENT: &str = "portico-halo-replay-client";
const HALO_SECRET: &str = "halo-replay-secret-never-shown";
const HALO_TENANT: &str = "portico";
const HALO_ACME: &str = "12";

/// The HaloPSA replay: an instance's tickets and actions kept as HaloPSA keeps them, and what
/// the test makes go wrong.
#[derive(Default)]
struct HaloReplay {
    tickets: Vec<serde_json::Value>,
    actions: Vec<serde_json::Value>,
    next_id: i64,
    /// The next create is made, but its answer lost (a 502 after the work).
    lose_next_create: bool,
    /// The next reply is added, but its answer lost.
    lose_next_action: bool,
    /// The next create is refused (a 400, nothing made).
    refuse_next_create: bool,
    /// Files as HaloPSA keeps them (with their bytes, as base64).
    attachments: Vec<serde_json::Value>,
    /// The next file is kept, but its answer lost.
    lose_next_attachment: bool,
    /// So many files are refused next (a 400, nothing kept).
    refuse_attachments: usize,
    /// The list of a reply's files answers a server error.
    files_list_unavailable: bool,
    requests: Vec<String>,
}

type HaloShared = Arc<Mutex<HaloReplay>>;

impl HaloReplay {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        1000 + self.next_id
    }

    fn touch(&mut self, ticket: i64) {
        let now = jiff::Timestamp::now().as_second();
        if let Some(t) = self.tickets.iter_mut().find(|t| t["id"] == ticket) {
            t["_updated"] = now.into();
            t["last_update"] = halo_time(now).into();
        }
    }

    fn ticket_for(&self, portico_id: &str) -> Vec<serde_json::Value> {
        self.tickets
            .iter()
            .filter(|t| t["third_party_id_string"] == portico_id)
            .cloned()
            .collect()
    }

    /// A technician attaches `name` to action `action` of ticket `ticket`, for the user to see
    /// or not.
    fn technician_attaches(
        &mut self,
        ticket: i64,
        action: i64,
        name: &str,
        bytes: &[u8],
        shown: bool,
    ) {
        use base64::Engine;
        let id = self.id();
        self.attachments.push(serde_json::json!({
            "id": id, "ticket_id": ticket, "action_id": action, "filename": name,
            "filesize": bytes.len(), "showforusers": shown,
            "data_base64": base64::prelude::BASE64_STANDARD.encode(bytes),
        }));
    }

    /// A technician writes on ticket `ticket` in HaloPSA.
    fn technician_writes(&mut self, ticket: i64, note: &str, hidden: bool) {
        let id = self.id();
        self.actions.push(serde_json::json!({
            "id": id, "ticket_id": ticket, "note": note, "outcome": if hidden { "Private Note" } else { "Email User" },
            "who": "Dana Tech", "hiddenfromuser": hidden, "actionby_agent_id": 7, "actionby_user_id": 0,
            "datetime": halo_time(jiff::Timestamp::now().as_second()),
        }));
        self.touch(ticket);
    }

    fn set_status(&mut self, ticket: i64, status: i64) {
        if let Some(t) = self.tickets.iter_mut().find(|t| t["id"] == ticket) {
            t["status_id"] = status.into();
        }
        self.touch(ticket);
    }
}

fn halo_time(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn query_map(query: &str) -> HashMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

async fn halo_token(
    State(replay): State<HaloShared>,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    replay
        .lock()
        .unwrap()
        .requests
        .push("POST /auth/token".into());
    let form = query_map(&body);
    let tenant = query_map(&query.unwrap_or_default());
    let good = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("client_id").map(String::as_str) == Some(HALO_CLIENT)
        && form.get("client_secret").map(String::as_str) == Some(HALO_SECRET)
        && form.get("scope").map(String::as_str) == Some("all")
        && tenant.get("tenant").map(String::as_str) == Some(HALO_TENANT);
    if !good {
        return json(
            StatusCode::UNAUTHORIZED,
            halo_fixture!("error_401.json").into(),
        );
    }
    json(StatusCode::OK, halo_fixture!("token.json").into())
}

fn halo_authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "Bearer halo-replay-access-token-1")
}

async fn halo_get(
    State(replay): State<HaloShared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut r = replay.lock().unwrap();
    let query = query.unwrap_or_default();
    r.requests.push(format!("GET /api/{path}?{query}"));
    if !halo_authorized(&headers) {
        return json(
            StatusCode::UNAUTHORIZED,
            halo_fixture!("error_401.json").into(),
        );
    }
    let q = query_map(&query);
    let page = |items: Vec<serde_json::Value>, key: &str| {
        let size: usize = q
            .get("page_size")
            .and_then(|s| s.parse().ok())
            .unwrap_or(50);
        let no: usize = q.get("page_no").and_then(|s| s.parse().ok()).unwrap_or(1);
        let count = items.len();
        let slice: Vec<_> = items.into_iter().skip((no - 1) * size).take(size).collect();
        json(
            StatusCode::OK,
            serde_json::json!({ "record_count": count, key: slice }).to_string(),
        )
    };
    match path.as_str() {
        "Client" => json(StatusCode::OK, halo_fixture!("clients.json").into()),
        "Status" => json(StatusCode::OK, halo_fixture!("statuses.json").into()),
        "Tickets" => {
            let client: i64 = q["client_id"].parse().unwrap();
            let since = q.get("lastupdatefromdate").map(|s| {
                s.parse::<jiff::civil::DateTime>()
                    .unwrap()
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .as_second()
            });
            let mut found: Vec<_> = r
                .tickets
                .iter()
                .filter(|t| t["client_id"] == client)
                .filter(|t| since.is_none_or(|s| t["_updated"].as_i64().unwrap() >= s))
                .cloned()
                .collect();
            if q.get("orderdesc").map(String::as_str) == Some("true") {
                found.reverse();
            }
            page(found, "tickets")
        }
        "Actions" => {
            let ticket: i64 = q["ticket_id"].parse().unwrap();
            // Private actions are answered even with `excludeprivate=true`: the connector's
            // own check must keep them in HaloPSA.
            assert_eq!(q.get("excludeprivate").map(String::as_str), Some("true"));
            // Each with its `attachment_count`, as HaloPSA's `Actions` schema gives it.
            let found: Vec<_> = r
                .actions
                .iter()
                .filter(|a| a["ticket_id"] == ticket)
                .map(|a| {
                    let mut a = a.clone();
                    a["attachment_count"] = r
                        .attachments
                        .iter()
                        .filter(|f| f["action_id"] == a["id"])
                        .count()
                        .into();
                    a
                })
                .collect();
            page(found, "actions")
        }
        "Attachment" if r.files_list_unavailable => {
            json(StatusCode::BAD_GATEWAY, r#"{"error":"unavailable"}"#.into())
        }
        "Attachment" => {
            let ticket: i64 = q["ticket_id"].parse().unwrap();
            let action: Option<i64> = q.get("action_id").map(|a| a.parse().unwrap());
            // Listed without their bytes, as HaloPSA's list is.
            let found: Vec<_> = r
                .attachments
                .iter()
                .filter(|a| a["ticket_id"] == ticket)
                .filter(|a| action.is_none_or(|action| a["action_id"] == action))
                .map(|a| {
                    serde_json::json!({
                        "id": a["id"], "ticket_id": a["ticket_id"], "action_id": a["action_id"],
                        "filename": a["filename"], "filesize": a["filesize"],
                        "showforusers": a["showforusers"],
                    })
                })
                .collect();
            page(found, "attachments")
        }
        other if other.starts_with("Attachment/") => {
            use base64::Engine;
            let id: i64 = other["Attachment/".len()..].parse().unwrap();
            match r
                .attachments
                .iter()
                .find(|a| a["id"] == id && a["gone"] != true)
            {
                // One HaloPSA cannot give just now: a server error on every try.
                Some(a) if a["unavailable"] == true => json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"error":"unavailable"}"#.into(),
                ),
                Some(a) => {
                    let bytes = base64::prelude::BASE64_STANDARD
                        .decode(a["data_base64"].as_str().unwrap())
                        .unwrap();
                    (StatusCode::OK, bytes).into_response()
                }
                None => json(StatusCode::NOT_FOUND, "{}".into()),
            }
        }
        other if other.starts_with("Tickets/") => {
            let id: i64 = other["Tickets/".len()..].parse().unwrap();
            match r.tickets.iter().find(|t| t["id"] == id) {
                Some(t) => json(StatusCode::OK, t.to_string()),
                None => json(StatusCode::NOT_FOUND, "{}".into()),
            }
        }
        _ => json(StatusCode::NOT_FOUND, "{}".into()),
    }
}

async fn halo_post(
    State(replay): State<HaloShared>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut r = replay.lock().unwrap();
    r.requests.push(format!("POST /api/{path} {body}"));
    if !halo_authorized(&headers) {
        return json(
            StatusCode::UNAUTHORIZED,
            halo_fixture!("error_401.json").into(),
        );
    }
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let mut item = list.into_iter().next().unwrap();
    let now = jiff::Timestamp::now().as_second();
    match path.as_str() {
        "Tickets" => {
            if let Some(id) = item.get("id").and_then(|i| i.as_i64()) {
                let status = item["status_id"].as_i64().unwrap();
                r.set_status(id, status);
                let t = r.tickets.iter().find(|t| t["id"] == id).unwrap().clone();
                return json(StatusCode::OK, t.to_string());
            }
            if r.refuse_next_create {
                r.refuse_next_create = false;
                return json(
                    StatusCode::BAD_REQUEST,
                    r#"{"error": "validation", "error_description": "Summary is too long"}"#.into(),
                );
            }
            let id = r.id();
            item["id"] = id.into();
            item["status_id"] = 1.into();
            item["_updated"] = now.into();
            item["last_update"] = halo_time(now).into();
            r.tickets.push(item.clone());
            if r.lose_next_create {
                r.lose_next_create = false;
                return json(StatusCode::BAD_GATEWAY, "{}".into());
            }
            json(StatusCode::OK, item.to_string())
        }
        "Actions" => {
            let id = r.id();
            item["id"] = id.into();
            item["datetime"] = halo_time(now).into();
            let ticket = item["ticket_id"].as_i64().unwrap();
            r.actions.push(item.clone());
            r.touch(ticket);
            if r.lose_next_action {
                r.lose_next_action = false;
                return json(StatusCode::BAD_GATEWAY, "{}".into());
            }
            json(StatusCode::OK, item.to_string())
        }
        "Attachment" => {
            use base64::Engine;
            if r.refuse_attachments > 0 {
                r.refuse_attachments -= 1;
                return json(
                    StatusCode::BAD_REQUEST,
                    r#"{"error": "validation", "error_description": "File too large"}"#.into(),
                );
            }
            let data = base64::prelude::BASE64_STANDARD
                .decode(item["data_base64"].as_str().unwrap())
                .unwrap();
            let id = r.id();
            item["id"] = id.into();
            item["filesize"] = data.len().into();
            r.attachments.push(item.clone());
            if r.lose_next_attachment {
                r.lose_next_attachment = false;
                return json(StatusCode::BAD_GATEWAY, "{}".into());
            }
            item.as_object_mut().unwrap().remove("data_base64");
            json(StatusCode::OK, item.to_string())
        }
        _ => json(StatusCode::NOT_FOUND, "{}".into()),
    }
}

async fn start_halo() -> (HaloShared, String) {
    let replay: HaloShared = Arc::default();
    let app = axum::Router::new()
        .route("/auth/token", axum::routing::post(halo_token))
        .route("/api/{*path}", axum::routing::get(halo_get).post(halo_post))
        .with_state(replay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (replay, base)
}

/// Asks for the HaloPSA tenant's sync on the connector page, as an owner does, and runs it.
async fn halo_sync_now(
    app: &TestApp,
    connector: &str,
) -> portico_store::connector_sync::SyncCounts {
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    halo_round(app).await
}

/// Runs whatever is due and returns the HaloPSA tenant's outcome.
/// Runs whatever is due, as the worker's rounds do, until the HaloPSA tenant has run (a change
/// in the second its last run began waits for that second to pass); returns its outcome.
async fn halo_round(app: &TestApp) -> portico_store::connector_sync::SyncCounts {
    for _ in 0..40 {
        let round = run_due(app.store(), &client(), &app.blobs, 10)
            .await
            .unwrap();
        if let Some(outcome) = round.tenants.iter().find(|t| t.external_id == HALO_ACME) {
            return outcome.result.clone().unwrap().expect("synced");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the HaloPSA tenant never became due");
}

/// Adds a HaloPSA connector for the replay at `base` and lists its clients; returns the
/// connector page's path.
async fn add_halo(app: &TestApp, base: &str) -> String {
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "halopsa"),
                ("name", "HaloPSA"),
                ("home_tenant", HALO_TENANT),
                ("client_id", HALO_CLIENT),
                ("secret", HALO_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &format!("{base}/auth")),
                ("api_url", &format!("{base}/api")),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    connector
}

/// Files cross to HaloPSA with what they belong to, each once: a new ticket's on the HaloPSA
/// ticket, a reply's on its action; an internal note's never; a file whose answer was lost is
/// found instead of sent again; a repeat sends nothing.
#[tokio::test]
async fn halopsa_receives_files_once() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_halo().await;
    let connector = add_halo(&app, &base).await;
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, HALO_ACME, &a).await.status, 303);
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    let send = async |who: Who, path: &str, fields: &[(&str, &str)], file: (&str, &[u8])| {
        let host = if who.is_staff() {
            common::CONSOLE
        } else {
            common::PORTAL
        };
        let token = app.session_for(who).await;
        let csrf = app.csrf(who, token.as_deref()).await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let answer = app
            .post(host, path)
            .session(token.as_deref())
            .multipart(&all, Some(("attachments", file.0, file.1)))
            .send()
            .await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        answer
    };
    let raised = send(
        Who::Member,
        "/tickets",
        &[
            ("title", "FILES-1 Error on screen"),
            ("priority", "normal"),
            ("description", "See the screenshot."),
        ],
        ("screen.png", png),
    )
    .await;
    let ticket = common::ticket_of(raised.location());
    let path = format!("/tickets/{ticket}");
    halo_round(&app).await;
    let halo_id = replay.lock().unwrap().ticket_for(&ticket.to_string())[0]["id"]
        .as_i64()
        .unwrap();
    {
        let r = replay.lock().unwrap();
        // The company's open tickets of before went over too, each with its own files.
        let files: Vec<_> = r
            .attachments
            .iter()
            .filter(|f| f["ticket_id"] == halo_id)
            .collect();
        assert_eq!(files.len(), 1, "{:?}", r.attachments);
        let file = files[0];
        assert_eq!(file["ticket_id"], halo_id);
        assert!(
            file["action_id"].is_null(),
            "the first message's file is the ticket's"
        );
        assert_eq!(file["filename"], "screen.png");
        assert_eq!(file["isimage"], true);
        assert_eq!(file["showforusers"], true);
        use base64::Engine;
        let bytes = base64::prelude::BASE64_STANDARD
            .decode(file["data_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, png);
    }

    // A reply's file goes on its action; the desk's internal note's file never goes.
    send(
        Who::Member,
        &format!("{path}/replies"),
        &[("body", "FILES-2 The log.")],
        ("app.log", b"line one\n"),
    )
    .await;
    send(
        Who::Owner,
        &format!("{path}/replies"),
        &[("kind", "note"), ("body", "FILES-NOTE internal")],
        ("internal.txt", b"for the desk only"),
    )
    .await;
    halo_round(&app).await;
    {
        let r = replay.lock().unwrap();
        let action = r
            .actions
            .iter()
            .find(|a| a["note"] == "FILES-2 The log.")
            .unwrap()["id"]
            .clone();
        let log: Vec<_> = r
            .attachments
            .iter()
            .filter(|f| f["filename"] == "app.log")
            .collect();
        assert_eq!(log.len(), 1, "{:?}", r.attachments);
        assert_eq!(log[0]["action_id"], action);
        assert_eq!(log[0]["isimage"], false);
        assert!(
            !r.attachments
                .iter()
                .any(|f| f["filename"] == "internal.txt")
        );
        assert!(!r.requests.iter().any(|q| q.contains("internal.txt")));
    }

    // A technician's reply in HaloPSA brings the files it shows the user into the portal; a
    // file HaloPSA keeps from the user stays there, and Portico's own files do not come back.
    let huge = {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "FILES-T Here is the guide.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "guide.pdf", b"%PDF-1.4 the guide", true);
        r.technician_attaches(
            halo_id,
            action,
            "tech-notes.txt",
            b"not for the user",
            false,
        );
        // One HaloPSA lists but will not give: the reply still comes, saying so.
        r.technician_attaches(halo_id, action, "lost.pdf", b"%PDF-1.4 lost", true);
        r.attachments.last_mut().unwrap()["gone"] = true.into();
        // One over the limit is not fetched at all.
        r.technician_attaches(halo_id, action, "huge.bin", b"big", true);
        r.attachments.last_mut().unwrap()["filesize"] = (11 * 1024 * 1024).into();
        let huge = r.attachments.last().unwrap()["id"].as_i64().unwrap();
        // One listed without its size and over the limit: refused by its answer's length,
        // never read whole.
        r.technician_attaches(
            halo_id,
            action,
            "unlisted.bin",
            &vec![7u8; 11 * 1024 * 1024],
            true,
        );
        r.attachments.last_mut().unwrap()["filesize"] = serde_json::Value::Null;
        huge
    };
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    halo_round(&app).await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal.body.contains("FILES-T Here is the guide."),
        "{}",
        portal.body
    );
    assert!(portal.body.contains(">guide.pdf</a>"), "{}", portal.body);
    assert!(!portal.body.contains("tech-notes.txt"));
    assert!(
        !replay
            .lock()
            .unwrap()
            .requests
            .iter()
            .any(|q| q.starts_with(&format!("GET /api/Attachment/{huge}"))),
        "a file over the limit is not fetched"
    );
    assert!(
        portal
            .body
            .contains("(Attached in HaloPSA, not copied here: lost.pdf, huge.bin, unlisted.bin.)"),
        "{}",
        portal.body
    );
    assert_eq!(
        portal.body.matches(">app.log</a>").count(),
        1,
        "not brought back"
    );
    let end = portal.body.find(">guide.pdf</a>").unwrap();
    let start = portal.body[..end].rfind("href=\"").unwrap() + 6;
    let href = portal.body[start..end]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let downloaded = app.get_as(Who::Member, &href.replace("&amp;", "&")).await;
    assert_eq!(downloaded.status, 200);
    assert_eq!(downloaded.body, "%PDF-1.4 the guide");

    // Files alone, without a note, are a reply too, saying what they are; an action whose only
    // files HaloPSA keeps from the user brings in nothing.
    {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "photo.png", b"\x89PNG the photo", true);
        r.technician_attaches(halo_id, action, "secret.txt", b"kept in HaloPSA", false);
        r.technician_writes(halo_id, "  ", false);
        let hidden_only = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, hidden_only, "internal.cfg", b"kept too", false);
    }
    halo_sync_now(&app, &connector).await;
    let portal = app.get_as(Who::Member, &path).await;
    assert_eq!(
        portal.body.matches("Shared files").count(),
        1,
        "{}",
        portal.body
    );
    assert!(
        portal.body.contains("Shared files: photo.png."),
        "{}",
        portal.body
    );
    assert!(portal.body.contains(">photo.png</a>"), "{}", portal.body);
    assert!(!portal.body.contains("secret.txt"));
    assert!(!portal.body.contains("internal.cfg"));

    // A file HaloPSA cannot give just now (a server error on every try) holds its reply back,
    // and the ticket is read again at the next run even though HaloPSA lists it as unchanged
    // by then: the reply comes with its file.
    let halo_sync = async || halo_sync_now(&app, &connector).await;
    let unchanged_since_now = || {
        let mut r = replay.lock().unwrap();
        for t in r.tickets.iter_mut().filter(|t| t["id"] == halo_id) {
            t["_updated"] = 0.into();
        }
    };
    {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "FILES-T2 First this.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "first.txt", b"first", true);
        r.technician_writes(halo_id, "FILES-U The report.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "report.pdf", b"%PDF-1.4 report", true);
        r.attachments.last_mut().unwrap()["unavailable"] = true.into();
    }
    halo_sync().await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal.body.contains("FILES-T2 First this.") && portal.body.contains(">first.txt</a>"),
        "the reply before the one held back comes in: {}",
        portal.body
    );
    assert!(!portal.body.contains("FILES-U The report."), "held back");
    let history = app.get_as(Who::Owner, &connector).await;
    assert!(
        history
            .body
            .contains("the reply with report.pdf is read again at the next run"),
        "{}",
        history.body
    );
    unchanged_since_now();
    for f in replay.lock().unwrap().attachments.iter_mut() {
        f["unavailable"] = false.into();
    }
    halo_sync().await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal.body.contains("FILES-U The report."),
        "{}",
        portal.body
    );
    assert!(portal.body.contains(">report.pdf</a>"), "{}", portal.body);
    assert_eq!(portal.body.matches("FILES-T2 First this.").count(), 1);
    assert!(!portal.body.contains("not copied here: report.pdf"));
    assert_eq!(portal.body.matches("FILES-U The report.").count(), 1);

    // One that keeps failing holds its reply back for three runs, then the reply comes in
    // naming it as not copied.
    {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "FILES-V The scan.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "scan.pdf", b"%PDF-1.4 scan", true);
        r.attachments.last_mut().unwrap()["unavailable"] = true.into();
    }
    for run in 1..=3 {
        halo_sync().await;
        unchanged_since_now();
        let portal = app.get_as(Who::Member, &path).await;
        assert!(!portal.body.contains("FILES-V The scan."), "run {run}");
    }
    halo_sync().await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal
            .body
            .contains("(Attached in HaloPSA, not copied here: scan.pdf.)"),
        "{}",
        portal.body
    );
    for f in replay.lock().unwrap().attachments.iter_mut() {
        f["unavailable"] = false.into();
    }

    // A ticket failing for another reason (say, a status HaloPSA has no match for) still holds
    // a reply back for a passing file error rather than giving the file up at once.
    {
        let mut sys = app.store().system_unscoped().await.unwrap();
        sys.set_psa_failures(ticket, 5).await.unwrap();
        sys.commit().await.unwrap();
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "FILES-X The quote.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "quote.pdf", b"%PDF-1.4 quote", true);
        r.attachments.last_mut().unwrap()["unavailable"] = true.into();
    }
    halo_sync().await;
    unchanged_since_now();
    let portal = app.get_as(Who::Member, &path).await;
    assert!(!portal.body.contains("FILES-X The quote."), "held back");
    for f in replay.lock().unwrap().attachments.iter_mut() {
        f["unavailable"] = false.into();
    }
    halo_sync().await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(portal.body.contains(">quote.pdf</a>"), "{}", portal.body);
    assert!(!portal.body.contains("not copied here: quote.pdf"));

    // The same when HaloPSA cannot list a reply's files.
    {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "FILES-W The invoice.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "invoice.pdf", b"%PDF-1.4 invoice", true);
        r.files_list_unavailable = true;
    }
    for run in 1..=3 {
        halo_sync().await;
        unchanged_since_now();
        let portal = app.get_as(Who::Member, &path).await;
        assert!(!portal.body.contains("FILES-W The invoice."), "run {run}");
    }
    halo_sync().await;
    replay.lock().unwrap().files_list_unavailable = false;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal
            .body
            .contains("(Attached in HaloPSA, not copied here: the files of this reply.)"),
        "{}",
        portal.body
    );

    // A technician adds files to a reply already brought in: the one HaloPSA shows the user
    // joins that reply, once; the one it keeps from the user stays there. While HaloPSA's count
    // of the reply's files stays the same, they are not listed again.
    let later = {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "FILES-L The manual.", false);
        let action = r.actions.last().unwrap()["id"].as_i64().unwrap();
        r.technician_attaches(halo_id, action, "manual.pdf", b"%PDF-1.4 manual", true);
        action
    };
    let listings = || {
        replay
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|q| {
                q.starts_with("GET /api/Attachment?") && q.contains(&format!("action_id={later}&"))
            })
            .count()
    };
    halo_sync().await;
    assert_eq!(listings(), 1);
    {
        let mut r = replay.lock().unwrap();
        r.technician_attaches(halo_id, later, "manual-2.pdf", b"%PDF-1.4 part two", true);
        r.technician_attaches(halo_id, later, "tech-only.txt", b"kept in HaloPSA", false);
        r.touch(halo_id);
    }
    halo_sync().await;
    let portal = app.get_as(Who::Member, &path).await;
    assert_eq!(portal.body.matches("FILES-L The manual.").count(), 1);
    assert_eq!(portal.body.matches(">manual.pdf</a>").count(), 1);
    assert_eq!(
        portal.body.matches(">manual-2.pdf</a>").count(),
        1,
        "{}",
        portal.body
    );
    // On that reply (the ticket's last message), not one of its own.
    assert!(
        portal.body.find("FILES-L The manual.") < portal.body.find(">manual-2.pdf</a>"),
        "{}",
        portal.body
    );
    assert!(!portal.body.contains("Shared files: manual"));
    assert!(!portal.body.contains("tech-only.txt"));
    assert_eq!(listings(), 2);
    let history = app.get_as(Who::Owner, &connector).await;
    assert!(
        history
            .body
            .contains("1 files added to replies brought in before"),
        "{}",
        history.body
    );
    replay.lock().unwrap().touch(halo_id);
    halo_sync().await;
    assert_eq!(listings(), 2, "the same count is not read again");

    // One HaloPSA cannot give just now fails the ticket's run; the next run, though HaloPSA
    // lists the ticket as unchanged by then, reads the reply's files again and brings it.
    {
        let mut r = replay.lock().unwrap();
        r.technician_attaches(halo_id, later, "manual-3.pdf", b"%PDF-1.4 part three", true);
        r.attachments.last_mut().unwrap()["unavailable"] = true.into();
        r.touch(halo_id);
    }
    halo_sync().await;
    unchanged_since_now();
    let portal = app.get_as(Who::Member, &path).await;
    assert!(!portal.body.contains("manual-3.pdf"));
    for f in replay.lock().unwrap().attachments.iter_mut() {
        f["unavailable"] = false.into();
    }
    halo_sync().await;
    let portal = app.get_as(Who::Member, &path).await;
    assert_eq!(
        portal.body.matches(">manual-3.pdf</a>").count(),
        1,
        "{}",
        portal.body
    );
    assert_eq!(portal.body.matches(">manual-2.pdf</a>").count(), 1);

    // A reply brought in before counts were kept is left as it came: its files are not read
    // again, which would bring them in a second time.
    {
        let mut sys = app.store().system_unscoped().await.unwrap();
        sys.forget_psa_file_counts(ticket).await.unwrap();
        sys.commit().await.unwrap();
        let mut r = replay.lock().unwrap();
        r.technician_attaches(halo_id, later, "manual-4.pdf", b"%PDF-1.4 part four", true);
        r.touch(halo_id);
    }
    let listed = listings();
    halo_sync().await;
    assert_eq!(listings(), listed);
    let portal = app.get_as(Who::Member, &path).await;
    assert_eq!(portal.body.matches(">manual.pdf</a>").count(), 1);
    assert!(!portal.body.contains("manual-4.pdf"));

    // HaloPSA keeps a file but its answer is lost: the next run finds it rather than sending
    // it again; then a repeat sends nothing.
    let sync_now = async || halo_sync_now(&app, &connector).await;
    replay.lock().unwrap().lose_next_attachment = true;
    send(
        Who::Member,
        &format!("{path}/replies"),
        &[("body", "FILES-3 Another.")],
        ("again.txt", b"twice?"),
    )
    .await;
    halo_round(&app).await;
    sync_now().await;
    let copies = |name: &str| {
        replay
            .lock()
            .unwrap()
            .attachments
            .iter()
            .filter(|f| f["filename"] == name)
            .count()
    };
    assert_eq!(copies("again.txt"), 1, "not sent twice");
    let again = sync_now().await;
    assert_eq!((again.added, again.changed), (0, 0), "{again:?}");

    // A file HaloPSA refuses holds up nothing else: the technician's answer still comes in;
    // it is tried three times, then left, and the run says so.
    replay.lock().unwrap().refuse_attachments = 3;
    send(
        Who::Member,
        &format!("{path}/replies"),
        &[("body", "FILES-4 Big one.")],
        ("huge.iso", b"pretend this is large"),
    )
    .await;
    replay
        .lock()
        .unwrap()
        .technician_writes(halo_id, "FILES-5 Got the log, thanks.", false);
    halo_round(&app).await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(portal.body.contains("FILES-5 Got the log, thanks."));
    sync_now().await;
    sync_now().await;
    assert_eq!(copies("huge.iso"), 0);
    assert_eq!(replay.lock().unwrap().refuse_attachments, 0, "three tries");
    let history = app.get_as(Who::Owner, &connector).await;
    assert!(
        history.body.contains("the file huge.iso was not sent"),
        "{}",
        history.body
    );
    let before = replay.lock().unwrap().requests.len();
    sync_now().await;
    assert!(
        !replay.lock().unwrap().requests[before..]
            .iter()
            .any(|q| q.contains("huge.iso")),
        "not tried a fourth time"
    );

    // A ticket a technician moved to another client in HaloPSA gets none of this company's
    // files, not even one looked for after a lost answer.
    replay.lock().unwrap().lose_next_attachment = true;
    send(
        Who::Member,
        &format!("{path}/replies"),
        &[("body", "FILES-6 One more.")],
        ("moved.txt", b"for Acme only"),
    )
    .await;
    halo_round(&app).await;
    {
        let mut r = replay.lock().unwrap();
        if let Some(t) = r.tickets.iter_mut().find(|t| t["id"] == halo_id) {
            t["client_id"] = 14.into();
        }
    }
    let before = replay.lock().unwrap().requests.len();
    sync_now().await;
    assert!(
        !replay.lock().unwrap().requests[before..]
            .iter()
            .any(|q| q.contains("Attachment")),
        "{:?}",
        &replay.lock().unwrap().requests[before..]
    );
}

/// Issue 17's PSA two-way: HaloPSA's clients mapped to companies; a ticket raised in the
/// portal created in HaloPSA, a portal reply sent as an action the user sees (within the next
/// round, not the interval), a technician's public reply in HaloPSA shown in the portal (their
/// private note never), status changes both ways, a conflict settled and shown, a create whose
/// answer was lost found instead of made twice, a refused create shown on the desk's page and
/// tried again, an internal note never sent, and a repeat that writes nothing.
#[tokio::test]
async fn halopsa_tickets_cross_both_ways() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_halo().await;
    let connector = add_halo(&app, &base).await;
    let shown = app.get_as(Who::Owner, &connector).await;
    assert!(shown.body.contains("Acme Dental") && shown.body.contains("Birchwood Legal"));
    assert!(!shown.body.contains("Former Client Pty Ltd"));
    assert!(!shown.body.contains(HALO_SECRET));
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, HALO_ACME, &a).await.status, 303);

    // A ticket raised in the portal: created in HaloPSA with its text, requester and id.
    let raised = app
        .post_as(
            Who::Member,
            "/tickets",
            &[
                ("title", "HALO-1 Scanner offline"),
                ("priority", "normal"),
                ("description", "The scanner at reception shows offline."),
            ],
        )
        .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let ticket = common::ticket_of(raised.location());
    let path = format!("/tickets/{ticket}");
    let first = halo_round(&app).await;
    assert!(first.added >= 1, "{first:?}");
    let halo_id = {
        let r = replay.lock().unwrap();
        let made = r.ticket_for(&ticket.to_string());
        assert_eq!(made.len(), 1, "{:?}", r.tickets);
        assert_eq!(made[0]["summary"], "HALO-1 Scanner offline");
        assert_eq!(made[0]["client_id"], 12);
        let details = made[0]["details"].as_str().unwrap();
        assert!(
            details.contains("The scanner at reception shows offline."),
            "{details}"
        );
        made[0]["id"].as_i64().unwrap()
    };
    let desk = app.get_as(Who::Owner, &path).await;
    assert!(
        desk.body
            .contains(&format!("HaloPSA ticket <strong>{halo_id}</strong>")),
        "{}",
        desk.body
    );

    // The client replies in the portal: the ticket changed, so the tenant is due now; the
    // reply goes out once, as an action the user sees. The desk's internal note never does.
    let replied = app
        .post_as(
            Who::Member,
            &format!("{path}/replies"),
            &[("body", "HALO-2 It is the one by the door.")],
        )
        .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let noted = app
        .post_as(
            Who::Owner,
            &format!("{path}/replies"),
            &[("kind", "note"), ("body", "HALO-SECRET-NOTE do not send")],
        )
        .await;
    assert_eq!(noted.status, 303, "{}", noted.body);
    halo_round(&app).await;
    {
        let r = replay.lock().unwrap();
        let sent: Vec<_> = r
            .actions
            .iter()
            .filter(|a| a["note"] == "HALO-2 It is the one by the door.")
            .collect();
        assert_eq!(sent.len(), 1, "{:?}", r.actions);
        assert_eq!(sent[0]["hiddenfromuser"], false);
        assert_eq!(sent[0]["ticket_id"], halo_id);
        assert!(!r.requests.iter().any(|q| q.contains("HALO-SECRET-NOTE")));
    }

    // A technician answers in HaloPSA and notes something privately, and puts the ticket
    // with the user: the portal shows the answer and the status, never the note.
    {
        let mut r = replay.lock().unwrap();
        r.technician_writes(halo_id, "HALO-3 Please power-cycle it.", false);
        r.technician_writes(halo_id, "HALO-PRIVATE user broke it", true);
        r.set_status(halo_id, 4);
    }
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    let counts = halo_round(&app).await;
    assert_eq!(counts.added, 1, "one reply brought in: {counts:?}");
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal.body.contains("HALO-3 Please power-cycle it."),
        "{}",
        portal.body
    );
    assert!(portal.body.contains("Dana Tech"));
    assert!(!portal.body.contains("HALO-PRIVATE"));
    assert!(portal.body.contains("Awaiting your reply"));
    let desk = app.get_as(Who::Owner, &path).await;
    assert!(desk.body.contains("HALO-3 Please power-cycle it."));
    assert!(
        desk.body.contains("Staff reply"),
        "a technician's reply is the desk's"
    );
    assert!(!desk.body.contains("HALO-PRIVATE"));

    // Nothing new on either side: a repeat writes nothing and sends nothing.
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    let before = replay.lock().unwrap().actions.len();
    let again = halo_round(&app).await;
    assert_eq!((again.added, again.changed), (0, 0), "{again:?}");
    assert_eq!(replay.lock().unwrap().actions.len(), before);

    // The desk resolves it in Portico: HaloPSA's ticket is closed.
    let resolved = app
        .post_as(
            Who::Owner,
            &format!("{path}/update"),
            &[
                ("status", "resolved"),
                ("priority", "normal"),
                ("assignee", ""),
            ],
        )
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    halo_round(&app).await;
    assert_eq!(
        replay.lock().unwrap().ticket_for(&ticket.to_string())[0]["status_id"],
        9
    );

    // Both sides change it before the next run: HaloPSA's is kept, and the desk is told.
    let held = app
        .post_as(
            Who::Owner,
            &format!("{path}/update"),
            &[
                ("status", "on_hold"),
                ("priority", "normal"),
                ("assignee", ""),
            ],
        )
        .await;
    assert_eq!(held.status, 303, "{}", held.body);
    replay.lock().unwrap().set_status(halo_id, 2);
    halo_round(&app).await;
    let desk = app.get_as(Who::Owner, &path).await;
    assert!(
        desk.body.contains("Status changed on both sides"),
        "{}",
        desk.body
    );
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal.body.contains(">Open<"),
        "HaloPSA's status kept: {}",
        portal.body
    );

    // The instance's statuses are on the connector page, each read by its name until an owner
    // says otherwise: "Waiting for Parts" reads as open. A value that is no status changes
    // nothing; mapped to On hold, a ticket HaloPSA puts there is on hold in the portal.
    let page = app.get_as(Who::Owner, &connector).await;
    assert!(page.body.contains("Waiting for Parts"), "{}", page.body);
    assert!(page.body.contains("By its name: Open"), "{}", page.body);
    let refused = app
        .post_as(
            Who::Owner,
            &format!("{connector}/statuses"),
            &[("status_21", "lost")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("is not a ticket status"));
    // A choice that leaves no status meaning Open is refused, and the form shows what was
    // chosen, for the owner to mend.
    let refused = app
        .post_as(
            Who::Owner,
            &format!("{connector}/statuses"),
            &[
                ("status_2", "on_hold"),
                ("status_3", "on_hold"),
                ("status_21", "on_hold"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("No status would mean “Open”"),
        "{}",
        refused.body
    );
    assert_eq!(
        refused
            .body
            .matches(r#"<option value="on_hold" selected>"#)
            .count(),
        3,
        "{}",
        refused.body
    );
    let page = app.get_as(Who::Owner, &connector).await;
    assert!(!page.body.contains(r#"<option value="on_hold" selected>"#));
    let saved = app
        .post_as(
            Who::Owner,
            &format!("{connector}/statuses"),
            &[("status_21", "on_hold"), ("status_9", "")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = app.get_as(Who::Owner, &connector).await;
    assert!(
        page.body.contains(r#"<option value="on_hold" selected>"#),
        "{}",
        page.body
    );
    replay.lock().unwrap().set_status(halo_id, 21);
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    halo_round(&app).await;
    let portal = app.get_as(Who::Member, &path).await;
    assert!(
        portal.body.contains(">On hold<"),
        "the owner's meaning: {}",
        portal.body
    );
    let audit = app.get_as(Who::Owner, "/audit").await;
    assert!(
        audit.body.contains("“Waiting for Parts” means On hold"),
        "{}",
        audit.body
    );

    // A create whose answer is lost: the ticket is made in HaloPSA, Portico does not know;
    // the desk's page says the sync failed, and the next run finds it instead of making another.
    replay.lock().unwrap().lose_next_create = true;
    let raised = app
        .post_as(
            Who::Member,
            "/tickets",
            &[
                ("title", "HALO-4 Printer jams"),
                ("priority", "normal"),
                ("description", "Every page."),
            ],
        )
        .await;
    let lost = common::ticket_of(raised.location());
    halo_round(&app).await;
    let desk = app.get_as(Who::Owner, &format!("/tickets/{lost}")).await;
    assert!(desk.body.contains("of this ticket failed"), "{}", desk.body);
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    halo_round(&app).await;
    let made = replay.lock().unwrap().ticket_for(&lost.to_string());
    assert_eq!(made.len(), 1, "no duplicate after the retry: {made:?}");
    let desk = app.get_as(Who::Owner, &format!("/tickets/{lost}")).await;
    assert!(
        !desk.body.contains("of this ticket failed"),
        "{}",
        desk.body
    );

    // A reply whose answer is lost: found by its text next time, not sent twice.
    replay.lock().unwrap().lose_next_action = true;
    app.post_as(
        Who::Member,
        &format!("/tickets/{lost}/replies"),
        &[("body", "HALO-5 Still jamming.")],
    )
    .await;
    halo_round(&app).await;
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    halo_round(&app).await;
    let copies = replay
        .lock()
        .unwrap()
        .actions
        .iter()
        .filter(|a| a["note"] == "HALO-5 Still jamming.")
        .count();
    assert_eq!(copies, 1);

    // HaloPSA refuses a create: the others go on; the desk sees why; it is tried again.
    replay.lock().unwrap().refuse_next_create = true;
    let raised = app
        .post_as(
            Who::Member,
            "/tickets",
            &[
                ("title", "HALO-6 New starter"),
                ("priority", "normal"),
                ("description", "Laptop for Monday."),
            ],
        )
        .await;
    let refused = common::ticket_of(raised.location());
    let counts = halo_round(&app).await;
    assert_eq!(counts.retired, 0);
    let desk = app.get_as(Who::Owner, &format!("/tickets/{refused}")).await;
    assert!(desk.body.contains("Summary is too long"), "{}", desk.body);
    let history = app.get_as(Who::Owner, &connector).await;
    assert!(history.body.contains("1 failing"), "{}", history.body);
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    halo_round(&app).await;
    assert_eq!(
        replay
            .lock()
            .unwrap()
            .ticket_for(&refused.to_string())
            .len(),
        1
    );

    // A connector whose stored secret no longer opens (the key file replaced) stops itself
    // only, with the reason on its page: another connector's tenant still runs.
    let second = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "halopsa"),
                ("name", "HaloPSA (second desk)"),
                ("home_tenant", HALO_TENANT),
                ("client_id", HALO_CLIENT),
                ("secret", HALO_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &format!("{base}/auth")),
                ("api_url", &format!("{base}/api")),
            ],
        )
        .await;
    let second = second.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let b = app.fx.company_b.to_string();
    assert_eq!(map(&app, &second, "14", &b).await.status, 303);
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.spoil_connector_secret(connector.rsplit('/').next().unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", HALO_ACME)],
    )
    .await;
    let round = run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let ran: Vec<&str> = round
        .tenants
        .iter()
        .map(|t| t.external_id.as_str())
        .collect();
    assert_eq!(ran, ["14"], "{round:?}");
    assert!(round.tenants[0].result.clone().unwrap().is_ok());
    let page = app.get_as(Who::Owner, &connector).await;
    assert!(
        page.body.contains("enter the secret again"),
        "{}",
        page.body
    );
}

macro_rules! xero_fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../portico-connectors/tests/fixtures/xero/",
            $name
        ))
    };
}

const XERO_CLIENT: &str = "A7C2E9F04B1D4E6A8C3B5D7F9E1A2C4B";
const XERO_SECRET: &str = "xero-replay-secret-never-shown";
const XERO_ORG: &str = "70784a63-d24b-46a9-a4db-0e70a274b056";
const XERO_ACME: &str = "bd2270c3-8706-4c11-9cfb-000b551c3f51";
const XERO_OPEN_INVOICE: &str = "4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b71";

/// The Xero replay: the organisation's invoices (changed by the test as Xero would), and what
/// it was asked.
struct XeroReplay {
    invoices: Vec<serde_json::Value>,
    pdf_reads: usize,
    modified_since: Vec<Option<String>>,
}

type XeroShared = Arc<Mutex<XeroReplay>>;

/// Microsoft JSON's milliseconds.
fn ms_of(date: &serde_json::Value) -> i64 {
    let text = date.as_str().unwrap();
    text.trim_start_matches("/Date(")
        .split(['+', ')'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn xero_token(headers: HeaderMap, body: String) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{XERO_CLIENT}:{XERO_SECRET}"))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !authorized || body != "grant_type=client_credentials" {
        return json(
            StatusCode::UNAUTHORIZED,
            xero_fixture!("error_401.json").into(),
        );
    }
    json(StatusCode::OK, xero_fixture!("token.json").into())
}

async fn xero_api(
    State(replay): State<XeroShared>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if header("authorization").as_deref() != Some("Bearer xero-replay-access-token-1") {
        return json(
            StatusCode::UNAUTHORIZED,
            xero_fixture!("error_401.json").into(),
        );
    }
    if path == "connections" {
        return json(StatusCode::OK, xero_fixture!("connections.json").into());
    }
    assert_eq!(header("xero-tenant-id").as_deref(), Some(XERO_ORG));
    let q = query_map(&query.unwrap_or_default());
    let mut r = replay.lock().unwrap();
    match path.as_str() {
        "api.xro/2.0/Contacts" => {
            assert_eq!(q["where"], "IsCustomer==true");
            json(StatusCode::OK, xero_fixture!("contacts.json").into())
        }
        "api.xro/2.0/Invoices" => {
            assert_eq!(q["where"], "Type==\"ACCREC\"");
            let since = header("if-modified-since");
            r.modified_since.push(since.clone());
            let since_ms = since.map(|s| {
                s.parse::<jiff::civil::DateTime>()
                    .unwrap()
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .as_millisecond()
            });
            let contact = q["ContactIDs"].clone();
            // Xero filters by type itself: the bill is answered too, for the connector to skip.
            let found: Vec<_> = r
                .invoices
                .iter()
                .filter(|i| i["Contact"]["ContactID"] == contact.as_str())
                .filter(|i| since_ms.is_none_or(|s| ms_of(&i["UpdatedDateUTC"]) >= s))
                .cloned()
                .collect();
            json(
                StatusCode::OK,
                serde_json::json!({
                    "pagination": { "page": 1, "pageSize": 100, "pageCount": 1, "itemCount": found.len() },
                    "Invoices": found,
                })
                .to_string(),
            )
        }
        other if other.starts_with("api.xro/2.0/Invoices/") => {
            assert_eq!(header("accept").as_deref(), Some("application/pdf"));
            r.pdf_reads += 1;
            (
                StatusCode::OK,
                [("content-type", "application/pdf")],
                xero_fixture!("invoice.pdf"),
            )
                .into_response()
        }
        _ => json(StatusCode::NOT_FOUND, "{}".into()),
    }
}

async fn start_xero() -> (XeroShared, String) {
    let fixture: serde_json::Value = serde_json::from_str(xero_fixture!("invoices.json")).unwrap();
    let replay: XeroShared = Arc::new(Mutex::new(XeroReplay {
        invoices: fixture["Invoices"].as_array().unwrap().clone(),
        pdf_reads: 0,
        modified_since: Vec::new(),
    }));
    let app = axum::Router::new()
        .route("/connect/token", axum::routing::post(xero_token))
        .route("/{*path}", axum::routing::get(xero_api))
        .with_state(replay.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (replay, base)
}

/// Issue 17's accounting: the invoices Xero issued a customer (a contact mapped to a company)
/// in that company's Invoices — sent, paid and void ones with their lines and what is still
/// due, never drafts or bills — for billing readers only, with Xero's own PDF; never changed in
/// Portico; read again only as they change (`If-Modified-Since`, PDFs fetched once per
/// change); gone from the company when the contact is unmapped.
#[tokio::test]
async fn xero_invoices_reach_billing_readers() {
    let app = TestApp::spawn().await;
    let (replay, base) = start_xero().await;
    let created = app
        .post_as(
            Who::Owner,
            "/settings/connectors",
            &[
                ("kind", "xero"),
                ("name", "Xero"),
                ("home_tenant", ""),
                ("client_id", XERO_CLIENT),
                ("secret", XERO_SECRET),
                ("sync_every_minutes", "60"),
                ("auth_url", &base),
                ("api_url", &base),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let connector = created.headers["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let shown = app.get_as(Who::Owner, &connector).await;
    assert!(shown.body.contains("Acme Dental") && shown.body.contains("Birchwood Legal"));
    assert!(!shown.body.contains("Former Client Pty Ltd"), "archived");
    assert!(!shown.body.contains(XERO_SECRET));
    let a = app.fx.company_a.to_string();
    assert_eq!(map(&app, &connector, XERO_ACME, &a).await.status, 303);

    let round = run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let counts = round.tenants[0].result.clone().unwrap().expect("synced");
    // Sent, paid and void; not the draft, not the bill.
    assert_eq!((counts.added, counts.changed), (3, 0), "{counts:?}");
    assert_eq!(replay.lock().unwrap().pdf_reads, 3);

    let list = app.get_as(Who::ClientAdmin, "/invoices").await;
    assert_eq!(list.status, 200, "{}", list.body);
    for number in ["INV-0042", "INV-0037", "INV-0039"] {
        assert!(list.body.contains(number), "{number}: {}", list.body);
    }
    assert!(!list.body.contains("INV-0043") && !list.body.contains("BILL-SUPPLIER"));
    let invoice = list
        .body
        .split("href=\"/invoices/")
        .skip(1)
        .find(|chunk| chunk.contains("INV-0042"))
        .map(|chunk| chunk[..36].to_owned())
        .expect("INV-0042 linked");
    let page = app
        .get_as(Who::ClientAdmin, &format!("/invoices/{invoice}"))
        .await;
    for text in [
        "Managed services — 25 seats",
        "Backup storage, 1 TB",
        "Still due",
        "650.00",
        "1,650.00",
        "November managed services",
    ] {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    assert!(
        !page.body.contains("Xero"),
        "the portal names the MSP, not its tools"
    );
    // Xero's own PDF, as Xero made it.
    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let (status, body) = app
        .get(common::PORTAL, &format!("/invoices/{invoice}/pdf"))
        .session(Some(&admin))
        .stream()
        .await;
    assert_eq!(status, 200);
    let pdf = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    assert_eq!(&pdf[..], xero_fixture!("invoice.pdf").as_bytes());
    // Without billing rights: not there at all.
    assert_eq!(
        app.get_as(Who::Member, &format!("/invoices/{invoice}"))
            .await
            .status,
        404
    );

    // The desk reads it but cannot change it: Xero owns it.
    let console = app
        .get_as(Who::Owner, &format!("/companies/{a}/invoices/{invoice}"))
        .await;
    assert!(console.body.contains("Issued in Xero"), "{}", console.body);
    assert!(!console.body.contains("Mark paid"));
    let refused = app
        .post_as(
            Who::Owner,
            &format!("/companies/{a}/invoices/{invoice}/status"),
            &[("action", "paid")],
        )
        .await;
    assert_ne!(refused.status, 303, "{}", refused.body);
    assert!(refused.body.contains("issued in Xero"), "{}", refused.body);

    // Nothing changed in Xero: the next read asks only for changes, and fetches no PDF.
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", XERO_ACME)],
    )
    .await;
    let round = run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let again = round.tenants[0].result.clone().unwrap().unwrap();
    assert!(again.wrote_nothing(), "{again:?}");
    {
        let r = replay.lock().unwrap();
        assert_eq!(r.pdf_reads, 3);
        assert!(r.modified_since.last().unwrap().is_some(), "incremental");
    }

    // Paid in Xero: the invoice follows, its PDF read again once.
    {
        let mut r = replay.lock().unwrap();
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let open = r
            .invoices
            .iter_mut()
            .find(|i| i["InvoiceID"] == XERO_OPEN_INVOICE)
            .unwrap();
        open["Status"] = "PAID".into();
        open["AmountDue"] = 0.0.into();
        open["UpdatedDateUTC"] = format!("/Date({now_ms}+0000)/").into();
    }
    app.post_as(
        Who::Owner,
        &format!("{connector}/sync"),
        &[("tenant", XERO_ACME)],
    )
    .await;
    let round = run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let paid = round.tenants[0].result.clone().unwrap().unwrap();
    assert_eq!((paid.added, paid.changed), (0, 1), "{paid:?}");
    assert_eq!(replay.lock().unwrap().pdf_reads, 4);
    let page = app
        .get_as(Who::ClientAdmin, &format!("/invoices/{invoice}"))
        .await;
    assert!(page.body.contains(">Paid<"), "{}", page.body);
    assert!(!page.body.contains("Still due"));

    // The contact unmapped: its invoices leave the company.
    let unmapped = app
        .post_as(
            Who::Owner,
            &format!("{connector}/map"),
            &[("tenant", XERO_ACME), ("company", "")],
        )
        .await;
    assert_eq!(unmapped.status, 303, "{}", unmapped.body);
    let list = app.get_as(Who::ClientAdmin, "/invoices").await;
    assert!(!list.body.contains("INV-0042"), "{}", list.body);

    // Mapped again: read whole again (not only what changed since), its invoices are back.
    assert_eq!(map(&app, &connector, XERO_ACME, &a).await.status, 303);
    let round = run_due(app.store(), &client(), &app.blobs, 10)
        .await
        .unwrap();
    let back = round.tenants[0].result.clone().unwrap().unwrap();
    assert_eq!(back.added, 3, "{back:?}");
    assert!(
        replay
            .lock()
            .unwrap()
            .modified_since
            .last()
            .unwrap()
            .is_none()
    );
    let list = app.get_as(Who::ClientAdmin, "/invoices").await;
    assert!(list.body.contains("INV-0042"), "{}", list.body);
}
