//! The test application: the real router over a fresh database (SQLite, or PostgreSQL as the
//! unprivileged app role when PORTICO_TEST_POSTGRES_URL is set), driven in-process, and a
//! fixture world with two workspaces, every kind of principal, and canary strings in every
//! record so that a leak shows up as text.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, header};
use http_body_util::BodyExt;
use portico_core::{
    AssetId, ChangeRequestId, CompanyId, ContactId, ContactRole, InvoiceId, MaintenanceId,
    PortalRole, PortalUserId, SiteId, StaffRole, StaffUserId, TicketId, TicketPriority,
    TicketStatus, WorkspaceId,
};
use portico_store::system::{SeedAsset, SeedPortalUser, SeedTicket};
use portico_store::test_support::TestDatabase;
use portico_store::{NewSession, SessionUser, Store, SurfaceKind, password};
use portico_web::{Resource, RouteSpec, WebConfig};
use tower::ServiceExt;

pub const CONSOLE: &str = "console.one.test";
pub const PORTAL: &str = "portal.one.test";
pub const CONSOLE_TWO: &str = "console.two.test";
pub const PORTAL_TWO: &str = "portal.two.test";
pub const PASSWORD: &str = "fixture-password-1";

/// Every kind of caller the matrix asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Anonymous,
    Expired,
    DisabledPortalUser,
    Viewer,
    Member,
    ClientAdmin,
    OwnTicketsOnly,
    SiteRestricted,
    TwoCompanyUser,
    TechnicianAssigned,
    TechnicianNotAssigned,
    Sales,
    Billing,
    Owner,
}

impl Who {
    pub const ALL: [Who; 14] = [
        Who::Anonymous,
        Who::Expired,
        Who::DisabledPortalUser,
        Who::Viewer,
        Who::Member,
        Who::ClientAdmin,
        Who::OwnTicketsOnly,
        Who::SiteRestricted,
        Who::TwoCompanyUser,
        Who::TechnicianAssigned,
        Who::TechnicianNotAssigned,
        Who::Sales,
        Who::Billing,
        Who::Owner,
    ];

    /// A live portal principal acting for company A.
    pub fn is_portal(self) -> bool {
        matches!(
            self,
            Who::Viewer
                | Who::Member
                | Who::ClientAdmin
                | Who::OwnTicketsOnly
                | Who::SiteRestricted
                | Who::TwoCompanyUser
        )
    }

    /// A live staff principal of workspace one.
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Who::TechnicianAssigned
                | Who::TechnicianNotAssigned
                | Who::Sales
                | Who::Billing
                | Who::Owner
        )
    }
}

/// Which record a request addresses, relative to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Object {
    Own,
    SameCompanyOtherSite,
    SameCompanyOtherRequester,
    OtherCompanySameWorkspace,
    OtherWorkspace,
    NonExistent,
    Malformed,
}

impl Object {
    pub const ALL: [Object; 7] = [
        Object::Own,
        Object::SameCompanyOtherSite,
        Object::SameCompanyOtherRequester,
        Object::OtherCompanySameWorkspace,
        Object::OtherWorkspace,
        Object::NonExistent,
        Object::Malformed,
    ];
}

/// A ticket of the fixture and who it belongs to.
#[derive(Debug, Clone)]
pub struct FixtureTicket {
    pub id: TicketId,
    pub company: CompanyId,
    pub site: SiteId,
    pub requester: PortalUserId,
    pub canary: String,
    /// A file on the ticket's public reply, named `<canary>-FILE.txt`; another, on the internal
    /// note, is named `<canary>-NOTEFILE.txt`.
    pub file: String,
}

pub struct Fixture {
    pub ws1: WorkspaceId,
    pub ws2: WorkspaceId,
    pub company_a: CompanyId,
    pub company_b: CompanyId,
    pub company_c: CompanyId,
    pub site_a1: SiteId,
    pub site_a2: SiteId,
    pub site_b1: SiteId,
    pub site_c1: SiteId,
    /// The contact of A, B and C (named `CANARY-CONTACT-<company>`).
    pub contacts: [ContactId; 3],
    /// Assets: A's at site A1, at A2 and at no site; B's; C's. Named `CANARY-ASSET-<tag>`, with
    /// notes `CANARY-ASSETNOTE-<tag>` (notes are hidden from the portal by default).
    pub assets: [AssetId; 5],
    /// Maintenance records: A's at site 1 (planned ahead), at site 2 and company-wide; B's; C's.
    pub maintenance: [MaintenanceId; 5],
    /// Invoices: A's sent one, A's draft, B's, C's.
    pub invoices: [InvoiceId; 4],
    /// Change requests: A's member's, A's client admin's, B's, C's.
    pub changes: [ChangeRequestId; 4],
    /// A file the owner uploaded for import (that does not apply).
    pub import: portico_core::ImportId,
    /// A connector of each workspace: ws1's feeds A and B (and lists an unmapped tenant named
    /// `CANARY-TENANT-UNMAPPED`), ws2's feeds C. Licences are `CANARY-SKU-<company>` with a
    /// price (billing), directory users `CANARY-DIRUSER-<company>`.
    pub connectors: [portico_core::ConnectorId; 2],
    /// Penetration tests, each with a report: A's published (`CANARY-PENTEST-A`), A's draft
    /// (`CANARY-PENTESTDRAFT-A`, never on the portal), B's and C's published.
    pub pentests: [portico_core::PentestId; 4],
    /// Staff's compliance judgements of A, B and C, each with a note `CANARY-JUDGED-<tag>` and
    /// an evidence file `CANARY-EVIDENCE-<tag>.txt` (staff's working papers, never on the
    /// portal); each company's Essential Eight assessed from them, so that its scorecard on the
    /// portal carries the note.
    pub attestations: [portico_core::AttestationId; 3],
    pub portal_users: Vec<(Who, PortalUserId)>,
    pub staff_users: Vec<(Who, StaffUserId)>,
    /// A not-yet-activated portal user of A and one of B and C: objects of portal-user routes.
    pub target_a: PortalUserId,
    pub requester_x: PortalUserId,
    pub user_b: PortalUserId,
    pub user_c: PortalUserId,
    pub target_staff: StaffUserId,
    pub staff_two: StaffUserId,
    pub tickets: Vec<FixtureTicket>,
    pub own_tickets: Vec<(Who, TicketId)>,
    pub ticket_a2: TicketId,
    pub ticket_a1_other: TicketId,
    pub ticket_b: TicketId,
    pub ticket_c: TicketId,
}

/// The money a company's monthly fee renders as: a canary for billing fields.
pub fn fee_canary(company: char) -> String {
    match company {
        'A' => "1,111,111.11".into(),
        'B' => "2,222,222.22".into(),
        _ => "3,333,333.33".into(),
    }
}

pub struct TestApp {
    pub db: TestDatabase,
    pub router: Router,
    pub fx: Fixture,
    pub blobs: portico_files::BlobStore,
    pub files: std::path::PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.files);
    }
}

pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The value of a `Set-Cookie` for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
            })
    }
    /// The value of a hidden input.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        self.body
            .split(&marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("")
            .to_owned()
    }
}

/// A request being built.
pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    host: String,
    path: String,
    cookies: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    headers: Vec<(String, String)>,
}

impl<'a> Req<'a> {
    /// Sends `token` as the session cookie of both surfaces: a session is only honoured on
    /// the host it was opened on.
    pub fn session(mut self, token: Option<&str>) -> Self {
        if let Some(token) = token {
            self.cookies
                .push(("portico_console".into(), token.to_owned()));
            self.cookies
                .push(("portico_portal".into(), token.to_owned()));
        }
        self
    }
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Some((
            "application/x-www-form-urlencoded".into(),
            body.into_bytes(),
        ));
        self
    }
    /// A JSON body.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.body = Some(("application/json".into(), value.to_string().into_bytes()));
        self
    }
    /// A multipart body of text fields and at most one file.
    pub fn multipart(mut self, fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Self {
        let boundary = "portico-test-boundary";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        if let Some((name, filename, bytes)) = file {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.body = Some((format!("multipart/form-data; boundary={boundary}"), body));
        self
    }
    /// Sends the request and returns the status and the body as a stream of frames.
    pub async fn stream(self) -> (u16, axum::body::Body) {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header(header::HOST, &self.host);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            builder = builder.header(header::COOKIE, cookie);
        }
        let request = builder.body(Body::empty()).unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        (response.status().as_u16(), response.into_body())
    }

    pub async fn send(self) -> Response {
        let mut builder = Request::builder()
            .method(self.method)
            .uri(&self.path)
            .header(header::HOST, &self.host);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            builder = builder.header(header::COOKIE, cookie);
        }
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let request = match self.body {
            Some((content_type, bytes)) => builder
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(bytes)),
            None => builder.body(Body::empty()),
        }
        .unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // An event stream does not end by itself: only its head is of interest here (the
        // live-update tests read streams with `stream`).
        let streaming = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let bytes = if streaming {
            Default::default()
        } else {
            response.into_body().collect().await.unwrap().to_bytes()
        };
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(WebConfig::default()).await
    }

    /// The same with `config` in place of the defaults.
    pub async fn spawn_with(config: WebConfig) -> TestApp {
        let db = TestDatabase::create().await;
        let mut fx = seed(&db.store).await;
        let files = std::env::temp_dir().join(format!(
            "portico-test-files-{}",
            portico_core::TicketId::new()
        ));
        let blobs = portico_files::BlobStore::local(&files).expect("attachment store");
        attach_files(&db.store, &blobs, &mut fx).await;
        add_pentests(&db.store, &blobs, &mut fx).await;
        add_compliance(&db.store, &blobs, &mut fx).await;
        let router = portico_web::app(db.store.clone(), blobs.clone(), config);
        TestApp {
            db,
            router,
            fx,
            blobs,
            files,
        }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub fn request(&self, method: &str, host: &str, path: &str) -> Req<'_> {
        Req {
            app: self,
            method: method.parse().unwrap(),
            host: format!("{host}:8080"),
            path: path.to_owned(),
            cookies: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn get(&self, host: &str, path: &str) -> Req<'_> {
        self.request("GET", host, path)
    }

    pub fn post(&self, host: &str, path: &str) -> Req<'_> {
        self.request("POST", host, path)
    }

    /// An API token the owner makes on the tokens page: for `company` (`None`: every company),
    /// `read` or `read_write`.
    pub async fn api_token(&self, company: Option<CompanyId>, access: &str) -> String {
        let company = company.map(|c| c.to_string()).unwrap_or_default();
        let made = self
            .post_as(
                Who::Owner,
                "/settings/api-tokens",
                &[
                    ("name", &format!("{access} token {company}")),
                    ("company", &company),
                    ("access", access),
                    ("lifetime", "30"),
                ],
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
        let start = made.body.find("portico_").expect("the token, once");
        made.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    }

    /// An API request with `token` as its bearer.
    pub fn api(&self, method: &str, path: &str, token: &str) -> Req<'_> {
        self.request(method, CONSOLE, path)
            .header("authorization", &format!("Bearer {token}"))
    }

    /// Opens a fresh session for `who`, as sign-in would, and returns its token.
    pub async fn session_for(&self, who: Who) -> Option<String> {
        let fx = &self.fx;
        let (surface, user) = match who {
            Who::Anonymous => return None,
            Who::Expired => (
                SurfaceKind::Portal,
                SessionUser::Portal(fx.portal(Who::Member)),
            ),
            Who::DisabledPortalUser => (
                SurfaceKind::Portal,
                SessionUser::Portal(fx.portal(Who::DisabledPortalUser)),
            ),
            w if w.is_portal() => (SurfaceKind::Portal, SessionUser::Portal(fx.portal(w))),
            w => (SurfaceKind::Console, SessionUser::Staff(fx.staff(w))),
        };
        let mut tx = self.store().auth(fx.ws1).await.unwrap();
        let token = tx
            .create_session(&NewSession {
                surface,
                user,
                ip: "127.0.0.1",
                user_agent: "test",
                lifetime_secs: 3600,
            })
            .await
            .unwrap();
        if who == Who::TwoCompanyUser {
            tx.switch_company(&token, fx.portal(who), fx.company_a)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        if who == Who::Expired {
            let mut sys = self.store().system_unscoped().await.unwrap();
            sys.expire_session(&token).await.unwrap();
            sys.commit().await.unwrap();
        }
        Some(token)
    }

    /// The CSRF token of a live session (read from a page that carries it).
    pub async fn csrf(&self, who: Who, token: Option<&str>) -> String {
        let host = if who.is_staff() { CONSOLE } else { PORTAL };
        let path = if who.is_staff() {
            "/companies"
        } else {
            "/profile"
        };
        let page = self.get(host, path).session(token).send().await;
        let csrf = page.hidden("csrf");
        if csrf.is_empty() {
            "no-session".into()
        } else {
            csrf
        }
    }

    /// Gets a page as `who`, signed in on its surface.
    pub async fn get_as(&self, who: Who, path: &str) -> Response {
        let host = if who.is_staff() { CONSOLE } else { PORTAL };
        let token = self.session_for(who).await;
        self.get(host, path).session(token.as_deref()).send().await
    }

    /// Posts a form as `who`, signed in on its surface, with a valid CSRF token.
    pub async fn post_as(&self, who: Who, path: &str, pairs: &[(&str, &str)]) -> Response {
        let host = if who.is_staff() { CONSOLE } else { PORTAL };
        let token = self.session_for(who).await;
        let csrf = self.csrf(who, token.as_deref()).await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post(host, path)
            .session(token.as_deref())
            .form(&all)
            .send()
            .await
    }

    /// Signs in through the real form and returns the session token.
    pub async fn sign_in(&self, host: &str, email: &str, password: &str) -> Response {
        let page = self.get(host, "/login").send().await;
        let form_token = page.cookie("portico_form").unwrap();
        self.post(host, "/login")
            .cookie("portico_form", &form_token)
            .form(&[
                ("form_token", &form_token),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
    }
}

impl Fixture {
    pub fn portal(&self, who: Who) -> PortalUserId {
        self.portal_users
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, id)| *id)
            .unwrap()
    }
    pub fn staff(&self, who: Who) -> StaffUserId {
        self.staff_users
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, id)| *id)
            .unwrap()
    }
    pub fn own_ticket(&self, who: Who) -> Option<TicketId> {
        self.own_tickets
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, t)| *t)
    }
}

async fn seed(store: &Store) -> Fixture {
    let hash = password::hash(PASSWORD).unwrap();
    let h = Some(hash.as_str());
    let mut tx = store.system_unscoped().await.unwrap();
    let ws1 = tx
        .create_workspace(
            "Fixture MSP One",
            "#1d4ed8",
            "#0f766e",
            "Welcome, fixture one",
        )
        .await
        .unwrap();
    let ws2 = tx
        .create_workspace(
            "Fixture MSP Two",
            "#7c3aed",
            "#be123c",
            "Welcome, fixture two",
        )
        .await
        .unwrap();
    tx.add_hostname(ws1, CONSOLE, SurfaceKind::Console)
        .await
        .unwrap();
    tx.add_hostname(ws1, PORTAL, SurfaceKind::Portal)
        .await
        .unwrap();
    tx.add_hostname(ws2, CONSOLE_TWO, SurfaceKind::Console)
        .await
        .unwrap();
    tx.add_hostname(ws2, PORTAL_TWO, SurfaceKind::Portal)
        .await
        .unwrap();
    let company_a = tx
        .add_company(
            ws1,
            "Company CANARY-NAME-A",
            "CANARY-PLAN-A",
            Some(111_111_111),
            Some(4_444),
            "AUD",
            true,
        )
        .await
        .unwrap();
    // A's client admins edit contacts and assets themselves (B's request changes).
    tx.set_client_admin_edits(company_a, true).await.unwrap();
    let company_b = tx
        .add_company(
            ws1,
            "Company CANARY-NAME-B",
            "CANARY-PLAN-B",
            Some(222_222_222),
            Some(5_555),
            "AUD",
            true,
        )
        .await
        .unwrap();
    let company_c = tx
        .add_company(
            ws2,
            "Company CANARY-NAME-C",
            "CANARY-PLAN-C",
            Some(333_333_333),
            Some(6_666),
            "AUD",
            true,
        )
        .await
        .unwrap();
    tx.set_company_email_domains(ws1, company_a, &["a.test"])
        .await
        .unwrap();
    tx.set_company_email_domains(ws1, company_b, &["b.test"])
        .await
        .unwrap();
    let site_a1 = tx
        .add_site(ws1, company_a, "CANARY-SITE-A1", "1 A St")
        .await
        .unwrap();
    let site_a2 = tx
        .add_site(ws1, company_a, "CANARY-SITE-A2", "2 A St")
        .await
        .unwrap();
    let site_b1 = tx
        .add_site(ws1, company_b, "CANARY-SITE-B1", "1 B St")
        .await
        .unwrap();
    let site_c1 = tx
        .add_site(ws2, company_c, "CANARY-SITE-C1", "1 C St")
        .await
        .unwrap();
    let mut contacts = Vec::new();
    for (ws, company, tag) in [
        (ws1, company_a, "A"),
        (ws1, company_b, "B"),
        (ws2, company_c, "C"),
    ] {
        let contact = tx
            .add_contact(
                ws,
                company,
                &format!("CANARY-CONTACT-{tag}"),
                "c@example.test",
                "1",
                "Manager",
                &[ContactRole::Primary],
            )
            .await
            .unwrap();
        contacts.push(contact);
    }
    let contacts: [ContactId; 3] = contacts.try_into().unwrap();
    let mut assets = Vec::new();
    for (ws, company, site, tag) in [
        (ws1, company_a, Some(site_a1), "A1"),
        (ws1, company_a, Some(site_a2), "A2"),
        (ws1, company_a, None, "A0"),
        (ws1, company_b, Some(site_b1), "B"),
        (ws2, company_c, Some(site_c1), "C"),
    ] {
        let (name, serial, notes) = (
            format!("CANARY-ASSET-{tag}"),
            format!("SERIAL-{tag}"),
            format!("CANARY-ASSETNOTE-{tag}"),
        );
        let asset = tx
            .add_asset(
                ws,
                &SeedAsset {
                    company,
                    site,
                    name: &name,
                    kind: portico_core::AssetKind::Laptop,
                    manufacturer: "",
                    model: "",
                    serial: &serial,
                    os: "",
                    warranty_end: None,
                    purchased_on: None,
                    last_seen_at: None,
                    assigned_user: "",
                    notes: &notes,
                },
            )
            .await
            .unwrap();
        assets.push(asset);
    }
    let assets: [AssetId; 5] = assets.try_into().unwrap();
    // Maintenance: A's at its two sites (the first planned ahead) and company-wide; B's, C's.
    let mut maintenance = Vec::new();
    let day = 24 * 3600;
    for (ws, company, site, tag, ahead) in [
        (ws1, company_a, Some(site_a1), "A1", true),
        (ws1, company_a, Some(site_a2), "A2", false),
        (ws1, company_a, None, "A0", false),
        (ws1, company_b, Some(site_b1), "B", false),
        (ws2, company_c, Some(site_c1), "C", false),
    ] {
        let title = format!("CANARY-MAINT-{tag}");
        let sites: Vec<SiteId> = site.into_iter().collect();
        let at = portico_store::now();
        let record = tx
            .add_maintenance(
                ws,
                &portico_store::system::SeedMaintenance {
                    company,
                    kind: portico_core::MaintenanceKind::Patching,
                    outcome: if ahead {
                        portico_core::MaintenanceOutcome::Planned
                    } else {
                        portico_core::MaintenanceOutcome::Succeeded
                    },
                    title: &title,
                    summary: "Monthly patches.",
                    starts_at: if ahead { at + day } else { at - day },
                    ends_at: None,
                    staff_name: "Fixture Staff",
                    sites: &sites,
                    assets: &[],
                },
            )
            .await
            .unwrap();
        maintenance.push(record);
    }
    let maintenance: [MaintenanceId; 5] = maintenance.try_into().unwrap();
    // Invoices: A's sent one and its draft (never on the portal); B's; C's.
    let mut invoices = Vec::new();
    for (ws, company, tag, status) in [
        (
            ws1,
            company_a,
            "INVOICE-A",
            portico_core::InvoiceStatus::Sent,
        ),
        (
            ws1,
            company_a,
            "DRAFT-A",
            portico_core::InvoiceStatus::Draft,
        ),
        (
            ws1,
            company_b,
            "INVOICE-B",
            portico_core::InvoiceStatus::Sent,
        ),
        (
            ws2,
            company_c,
            "INVOICE-C",
            portico_core::InvoiceStatus::Sent,
        ),
    ] {
        let description = format!("CANARY-{tag} support");
        let invoice = tx
            .add_invoice(
                ws,
                &portico_store::system::SeedInvoice {
                    company,
                    status,
                    issued_on: "2026-11-01",
                    due_on: "2099-11-15",
                    currency: "AUD",
                    notes: "",
                    lines: &[(description.as_str(), 1_000, 12_000, 1_000)],
                },
            )
            .await
            .unwrap();
        invoices.push(invoice);
    }
    let invoices: [InvoiceId; 4] = invoices.try_into().unwrap();

    let mut portal_users = Vec::new();
    let user =
        |company, email, role, own_only, billing_access, sites, password_hash| SeedPortalUser {
            company,
            email,
            name: email,
            role,
            own_only,
            billing_access,
            password_hash,
            sites,
        };
    let a1 = [site_a1];
    for (who, email, role, own, billing, sites) in [
        (
            Who::Viewer,
            "viewer@a.test",
            PortalRole::Viewer,
            false,
            false,
            &[][..],
        ),
        (
            Who::Member,
            "member@a.test",
            PortalRole::Member,
            false,
            false,
            &[][..],
        ),
        (
            Who::ClientAdmin,
            "admin@a.test",
            PortalRole::ClientAdmin,
            false,
            true,
            &[][..],
        ),
        (
            Who::OwnTicketsOnly,
            "own@a.test",
            PortalRole::Member,
            true,
            false,
            &[][..],
        ),
        (
            Who::SiteRestricted,
            "site@a.test",
            PortalRole::Member,
            false,
            false,
            &a1[..],
        ),
        (
            Who::DisabledPortalUser,
            "disabled@a.test",
            PortalRole::Member,
            false,
            false,
            &[][..],
        ),
    ] {
        let id = tx
            .add_portal_user(ws1, &user(company_a, email, role, own, billing, sites, h))
            .await
            .unwrap();
        portal_users.push((who, id));
    }
    // A session opened before the user was disabled must stop working.
    tx.set_portal_user_disabled_flag(
        portal_users
            .iter()
            .find(|(w, _)| *w == Who::DisabledPortalUser)
            .unwrap()
            .1,
        true,
    )
    .await
    .unwrap();
    // Home in B, granted A: acts for A in the matrix.
    // Sees billing at home (B) but was granted A without it: billing must not follow into A.
    let two = tx
        .add_portal_user(
            ws1,
            &user(
                company_b,
                "two@b.test",
                PortalRole::Member,
                false,
                true,
                &[],
                h,
            ),
        )
        .await
        .unwrap();
    tx.grant_company(ws1, two, company_a, PortalRole::Member, false)
        .await
        .unwrap();
    portal_users.push((Who::TwoCompanyUser, two));
    // Change requests: the member's and the client admin's of A, B's user's, C's user's.
    let who_id = |who: Who| portal_users.iter().find(|(w, _)| *w == who).unwrap().1;
    let mut changes = Vec::new();
    for (ws, company, by, tag) in [
        (ws1, company_a, Some(Who::Member), "A-MEMBER"),
        (ws1, company_a, Some(Who::ClientAdmin), "A-ADMIN"),
        (ws1, company_b, None, "B"),
        (ws2, company_c, None, "C"),
    ] {
        // B's and C's by people who sign in nowhere in the matrix.
        let requested_by = by.map(who_id).unwrap_or_else(PortalUserId::new);
        let title = format!("CANARY-CR-{tag}");
        let change = tx
            .add_change_request(
                ws,
                &portico_store::system::SeedChange {
                    company,
                    kind: portico_core::ChangeKind::Update,
                    target: portico_core::ChangeTarget::General,
                    target_id: None,
                    target_label: "",
                    title: &title,
                    details: "Please change it.",
                    status: portico_core::ChangeStatus::Open,
                    requested_by,
                    requester_name: "Fixture Requester",
                    decision_note: "",
                    created_at: portico_store::now(),
                },
            )
            .await
            .unwrap();
        changes.push(change);
    }
    let changes: [ChangeRequestId; 4] = changes.try_into().unwrap();
    let target_a = tx
        .add_portal_user(
            ws1,
            &user(
                company_a,
                "target@a.test",
                PortalRole::Member,
                false,
                false,
                &[],
                None,
            ),
        )
        .await
        .unwrap();
    let requester_x = tx
        .add_portal_user(
            ws1,
            &user(
                company_a,
                "x@a.test",
                PortalRole::Member,
                false,
                false,
                &[],
                None,
            ),
        )
        .await
        .unwrap();
    let user_b = tx
        .add_portal_user(
            ws1,
            &user(
                company_b,
                "user@b.test",
                PortalRole::Member,
                false,
                false,
                &[],
                h,
            ),
        )
        .await
        .unwrap();
    let user_c = tx
        .add_portal_user(
            ws2,
            &user(
                company_c,
                "user@c.test",
                PortalRole::Member,
                false,
                false,
                &[],
                h,
            ),
        )
        .await
        .unwrap();

    let mut staff_users = Vec::new();
    for (who, email, role, assigned) in [
        (Who::Owner, "owner@msp.test", StaffRole::Owner, vec![]),
        (
            Who::TechnicianAssigned,
            "tech-a@msp.test",
            StaffRole::Technician,
            vec![company_a],
        ),
        (
            Who::TechnicianNotAssigned,
            "tech-b@msp.test",
            StaffRole::Technician,
            vec![company_b],
        ),
        (
            Who::Sales,
            "sales@msp.test",
            StaffRole::Sales,
            vec![company_a],
        ),
        (Who::Billing, "billing@msp.test", StaffRole::Billing, vec![]),
    ] {
        staff_users.push((
            who,
            tx.add_staff_user(ws1, email, email, role, h, &assigned)
                .await
                .unwrap(),
        ));
    }
    let target_staff = tx
        .add_staff_user(
            ws1,
            "target@msp.test",
            "Target Staff",
            StaffRole::Technician,
            None,
            &[],
        )
        .await
        .unwrap();
    let staff_two = tx
        .add_staff_user(ws2, "owner@two.test", "Owner Two", StaffRole::Owner, h, &[])
        .await
        .unwrap();
    // A file the owner uploaded for import, which names no column the import reads: applying
    // it is refused, changing nothing.
    let owner_id = staff_users
        .iter()
        .find(|(w, _)| *w == Who::Owner)
        .map(|(_, id)| *id)
        .unwrap();
    let import = tx
        .add_pending_import(
            ws1,
            owner_id,
            portico_core::ImportKind::Sites,
            "nonsense\nA,B\n",
        )
        .await
        .unwrap();

    let connectors =
        seed_connectors(&mut tx, store, ws1, ws2, company_a, company_b, company_c).await;

    let now = portico_store::now();
    let mut tickets = Vec::new();
    let mut add =
        async |tx: &mut portico_store::SystemTx, ws, company, site, requester, canary: String| {
            let id = tx
                .add_ticket(
                    ws,
                    &SeedTicket {
                        company,
                        site: Some(site),
                        requester: Some(requester),
                        title: &canary,
                        status: TicketStatus::Open,
                        priority: TicketPriority::Normal,
                        created_at: now - 3600,
                    },
                )
                .await
                .unwrap();
            tx.add_message(
                ws,
                company,
                id,
                None,
                Some(requester),
                "Client",
                &format!("{canary}-REPLY"),
                false,
                now - 3000,
            )
            .await
            .unwrap();
            tx.add_message(
                ws,
                company,
                id,
                None,
                None,
                "Staff",
                &format!("{canary}-NOTE"),
                true,
                now - 2000,
            )
            .await
            .unwrap();
            tickets.push(FixtureTicket {
                id,
                company,
                site,
                requester,
                canary,
                file: String::new(),
            });
            id
        };
    let mut own_tickets = Vec::new();
    for (who, id) in portal_users.clone() {
        let t = add(
            &mut tx,
            ws1,
            company_a,
            site_a1,
            id,
            format!("CANARY-TICKET-{who:?}"),
        )
        .await;
        own_tickets.push((who, t));
    }
    let ticket_a2 = add(
        &mut tx,
        ws1,
        company_a,
        site_a2,
        requester_x,
        "CANARY-TICKET-A2".into(),
    )
    .await;
    let ticket_a1_other = add(
        &mut tx,
        ws1,
        company_a,
        site_a1,
        requester_x,
        "CANARY-TICKET-A1-OTHER".into(),
    )
    .await;
    let ticket_b = add(
        &mut tx,
        ws1,
        company_b,
        site_b1,
        user_b,
        "CANARY-TICKET-B".into(),
    )
    .await;
    let ticket_c = add(
        &mut tx,
        ws2,
        company_c,
        site_c1,
        user_c,
        "CANARY-TICKET-WS2".into(),
    )
    .await;
    tx.commit().await.unwrap();

    Fixture {
        ws1,
        ws2,
        company_a,
        company_b,
        company_c,
        site_a1,
        site_a2,
        site_b1,
        site_c1,
        contacts,
        assets,
        maintenance,
        invoices,
        changes,
        import,
        connectors,
        // Filled once the blob store is open (`add_pentests`).
        pentests: [portico_core::PentestId::new(); 4],
        // Filled once the blob store is open (`add_compliance`).
        attestations: [portico_core::AttestationId::new(); 3],
        portal_users,
        staff_users,
        target_a,
        requester_x,
        user_b,
        user_c,
        target_staff,
        staff_two,
        tickets,
        own_tickets,
        ticket_a2,
        ticket_a1_other,
        ticket_b,
        ticket_c,
    }
}

/// Disables a portal user without ending their sessions (a leftover session must still fail).
pub async fn disable_leaving_sessions(app: &TestApp, user: PortalUserId) {
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.set_portal_user_disabled_flag(user, true).await.unwrap();
    tx.commit().await.unwrap();
}

/// The concrete path for a route, caller and object.
pub fn path_for(app: &TestApp, route: &RouteSpec, who: Who, object: Object) -> String {
    let fx = &app.fx;
    let company = match object {
        Object::OtherCompanySameWorkspace => fx.company_b.to_string(),
        Object::OtherWorkspace => fx.company_c.to_string(),
        Object::NonExistent => portico_core::CompanyId::new().to_string(),
        Object::Malformed => "not-an-id".into(),
        _ => fx.company_a.to_string(),
    };
    let portal_user = match object {
        Object::Own => fx.target_a.to_string(),
        Object::SameCompanyOtherSite => fx.requester_x.to_string(),
        // A visible company's path with another company's user: must not be found.
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.user_b.to_string()
        }
        Object::OtherWorkspace => fx.user_c.to_string(),
        Object::NonExistent => portico_core::PortalUserId::new().to_string(),
        Object::Malformed => "1".into(),
    };
    let ticket = match object {
        Object::Own => fx.own_ticket(who).unwrap_or(fx.ticket_a1_other).to_string(),
        Object::SameCompanyOtherSite => fx.ticket_a2.to_string(),
        Object::SameCompanyOtherRequester => fx.ticket_a1_other.to_string(),
        Object::OtherCompanySameWorkspace => fx.ticket_b.to_string(),
        Object::OtherWorkspace => fx.ticket_c.to_string(),
        Object::NonExistent => portico_core::TicketId::new().to_string(),
        Object::Malformed => "../../etc/passwd".replace('/', "%2F"),
    };
    let staff = match object {
        Object::OtherWorkspace => fx.staff_two.to_string(),
        Object::NonExistent => portico_core::StaffUserId::new().to_string(),
        Object::Malformed => "0".into(),
        _ => fx.target_staff.to_string(),
    };
    // A record of a company: A's, then B's under A's path (must not be found), B's, C's.
    let site = match object {
        Object::Own => fx.site_a1.to_string(),
        Object::SameCompanyOtherSite => fx.site_a2.to_string(),
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.site_b1.to_string()
        }
        Object::OtherWorkspace => fx.site_c1.to_string(),
        Object::NonExistent => portico_core::SiteId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    let contact = match object {
        Object::Own | Object::SameCompanyOtherSite => fx.contacts[0].to_string(),
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.contacts[1].to_string()
        }
        Object::OtherWorkspace => fx.contacts[2].to_string(),
        Object::NonExistent => portico_core::ContactId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    // The portal's assets are the acting company's: A's at its own site, at the other site, at
    // none; then B's and C's. The console's are under a company's path, as sites are.
    let asset = match (route.resource, object) {
        (_, Object::Own) => fx.assets[0].to_string(),
        (_, Object::SameCompanyOtherSite) => fx.assets[1].to_string(),
        (Resource::Asset, Object::SameCompanyOtherRequester) => fx.assets[2].to_string(),
        (_, Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace) => {
            fx.assets[3].to_string()
        }
        (_, Object::OtherWorkspace) => fx.assets[4].to_string(),
        (_, Object::NonExistent) => portico_core::AssetId::new().to_string(),
        (_, Object::Malformed) => "x".into(),
    };
    let maintenance = match object {
        Object::Own => fx.maintenance[0].to_string(),
        Object::SameCompanyOtherSite => fx.maintenance[1].to_string(),
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.maintenance[3].to_string()
        }
        Object::OtherWorkspace => fx.maintenance[4].to_string(),
        Object::NonExistent => portico_core::MaintenanceId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    // A's sent invoice, then A's draft in place of "another site's" record.
    let invoice = match object {
        Object::Own => fx.invoices[0].to_string(),
        Object::SameCompanyOtherSite => fx.invoices[1].to_string(),
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.invoices[2].to_string()
        }
        Object::OtherWorkspace => fx.invoices[3].to_string(),
        Object::NonExistent => portico_core::InvoiceId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    // The member's request of A, then its client admin's (same company, another requester).
    let change = match object {
        Object::Own => fx.changes[0].to_string(),
        Object::SameCompanyOtherSite | Object::SameCompanyOtherRequester => {
            fx.changes[1].to_string()
        }
        Object::OtherCompanySameWorkspace => fx.changes[2].to_string(),
        Object::OtherWorkspace => fx.changes[3].to_string(),
        Object::NonExistent => portico_core::ChangeRequestId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    // The owner's own upload; anything else is no upload of the caller's.
    let import = match object {
        Object::Own => fx.import.to_string(),
        Object::Malformed => "x".into(),
        _ => portico_core::ImportId::new().to_string(),
    };
    let connector = match object {
        Object::OtherWorkspace => fx.connectors[1].to_string(),
        Object::NonExistent => portico_core::ConnectorId::new().to_string(),
        Object::Malformed => "x".into(),
        _ => fx.connectors[0].to_string(),
    };
    let attachment = match object {
        Object::Malformed => "x".to_owned(),
        _ => file_of(fx, &ticket),
    };
    // A's published test, then A's draft in place of "another site's" record, B's and C's.
    let pentest = match object {
        Object::Own => fx.pentests[0].to_string(),
        Object::SameCompanyOtherSite => fx.pentests[1].to_string(),
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.pentests[2].to_string()
        }
        Object::OtherWorkspace => fx.pentests[3].to_string(),
        Object::NonExistent => portico_core::PentestId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    // A's judgement, then B's under A's path (must not be found), B's, C's.
    let attestation = match object {
        Object::Own | Object::SameCompanyOtherSite => fx.attestations[0].to_string(),
        Object::SameCompanyOtherRequester | Object::OtherCompanySameWorkspace => {
            fx.attestations[1].to_string()
        }
        Object::OtherWorkspace => fx.attestations[2].to_string(),
        Object::NonExistent => portico_core::AttestationId::new().to_string(),
        Object::Malformed => "x".into(),
    };
    // Requirements are the catalogue's, the same for every company: the company decides.
    let requirement = match object {
        Object::NonExistent => "e8.none",
        Object::Malformed => "x",
        _ => "e8.macros.1a",
    };
    route
        .path
        .replace("{attestation}", &attestation)
        .replace("{requirement}", requirement)
        .replace("{attachment}", &attachment)
        .replace("{company}", &company)
        .replace("{user}", &portal_user)
        .replace("{ticket}", &ticket)
        .replace("{staff}", &staff)
        .replace("{site}", &site)
        .replace("{contact}", &contact)
        .replace("{asset}", &asset)
        .replace("{maintenance}", &maintenance)
        .replace("{invoice}", &invoice)
        .replace("{change}", &change)
        .replace("{import}", &import)
        .replace("{connector}", &connector)
        .replace("{pentest}", &pentest)
}

/// A penetration test of A (published and a draft), B and C, each with a small report.
async fn add_pentests(store: &Store, blobs: &portico_files::BlobStore, fx: &mut Fixture) {
    let mut tx = store.system_unscoped().await.unwrap();
    for (i, (ws, company, tag, published)) in [
        (fx.ws1, fx.company_a, "PENTEST-A", true),
        (fx.ws1, fx.company_a, "PENTESTDRAFT-A", false),
        (fx.ws1, fx.company_b, "PENTEST-B", true),
        (fx.ws2, fx.company_c, "PENTEST-C", true),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("CANARY-{tag}.pdf");
        let mut upload = blobs.upload(portico_files::Limits::default());
        let mut writer = upload.begin_file(&name).await.unwrap();
        writer
            .write(format!("%PDF-1.7\n% report {tag}\n%%EOF\n").as_bytes())
            .await
            .unwrap();
        let stored = writer.finish().await.unwrap();
        upload.commit().await.unwrap();
        let scope = format!("CANARY-{tag}");
        fx.pentests[i] = tx
            .add_pentest(
                ws,
                &portico_store::system::SeedPentest {
                    company,
                    tested_on: "2026-11-20",
                    vendor: "Redline Security",
                    scope: &scope,
                    summary: "",
                    findings: [0, 1, 2, 3],
                    report: Some((stored.key.as_str(), &stored.file_name, stored.size as i64)),
                    published,
                },
            )
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A judgement of A, B and C with its evidence, and each company's Essential Eight assessed.
async fn add_compliance(store: &Store, blobs: &portico_files::BlobStore, fx: &mut Fixture) {
    let owner = fx
        .staff_users
        .iter()
        .find(|(w, _)| *w == Who::Owner)
        .map(|(_, id)| *id)
        .unwrap();
    for (i, (ws, company, staff, tag)) in [
        (fx.ws1, fx.company_a, owner, "A"),
        (fx.ws1, fx.company_b, owner, "B"),
        (fx.ws2, fx.company_c, fx.staff_two, "C"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("CANARY-EVIDENCE-{tag}.txt");
        let mut upload = blobs.upload(portico_files::Limits::default());
        let mut writer = upload.begin_file(&name).await.unwrap();
        writer
            .write(format!("evidence of {tag}").as_bytes())
            .await
            .unwrap();
        let stored = writer.finish().await.unwrap();
        upload.commit().await.unwrap();
        let note = format!("CANARY-JUDGED-{tag}");
        let mut tx = store.system_unscoped().await.unwrap();
        fx.attestations[i] = tx
            .add_compliance_judgement(
                ws,
                &portico_store::system::SeedJudgement {
                    company,
                    requirement: "e8.macros.1a",
                    status: portico_core::compliance::Status::Met,
                    note: &note,
                    evidence: Some((stored.key.as_str(), &stored.file_name, stored.size as i64)),
                    expires_on: None,
                    staff_name: "Fixture Owner",
                },
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store
            .record_assessment_as(ws, staff, company, "e8")
            .await
            .unwrap();
    }
}

/// Stores two small files per fixture ticket, public and internal, named after its canary.
async fn attach_files(store: &Store, blobs: &portico_files::BlobStore, fx: &mut Fixture) {
    let mut tx = store.system_unscoped().await.unwrap();
    for t in &mut fx.tickets {
        for internal in [false, true] {
            let name = if internal {
                format!("{}-NOTEFILE.txt", t.canary)
            } else {
                format!("{}-FILE.txt", t.canary)
            };
            let mut upload = blobs.upload(portico_files::Limits::default());
            let mut writer = upload.begin_file(&name).await.unwrap();
            writer
                .write(format!("contents of {name}").as_bytes())
                .await
                .unwrap();
            let stored = writer.finish().await.unwrap();
            upload.commit().await.unwrap();
            let id = tx
                .add_attachment(
                    t.id,
                    internal,
                    stored.key.as_str(),
                    &stored.file_name,
                    &stored.content_type,
                    stored.size as i64,
                    stored.inline,
                )
                .await
                .unwrap();
            if !internal {
                t.file = id;
            }
        }
    }
    tx.commit().await.unwrap();
}

/// The public attachment of a fixture ticket, or a random id for tickets that do not exist.
fn file_of(fx: &Fixture, ticket: &str) -> String {
    fx.tickets
        .iter()
        .find(|t| t.id.to_string() == ticket)
        .map(|t| t.file.clone())
        .unwrap_or_else(|| portico_core::MessageId::new().to_string())
}

/// The object kinds a route is asked about: one for routes without a record in the path.
pub fn objects(route: &RouteSpec) -> &'static [Object] {
    match route.resource {
        Resource::Public | Resource::Page => &[Object::Own],
        _ => &Object::ALL,
    }
}

/// The ticket a "raise a ticket" answer sends the browser to (`/tickets/<id>?…`).
pub fn ticket_of(location: &str) -> portico_core::TicketId {
    let id = location
        .strip_prefix("/tickets/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_default();
    portico_core::TicketId::parse(id).unwrap_or_else(|| panic!("no ticket in {location:?}"))
}

/// The single sign-on tests' OpenID Connect provider (node-oidc-provider, `tests/oidc`), killed
/// when dropped.
pub struct OidcProvider(std::process::Child);

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the provider on a free loopback port, accepting `redirect_uris`; returns it with its
/// issuer URL. `None` (the test skipped) without Node.js, unless `PORTICO_OIDC_TESTS=required`.
pub fn start_oidc_provider(redirect_uris: &[String]) -> Option<(OidcProvider, String)> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let required = std::env::var("PORTICO_OIDC_TESTS").as_deref() == Ok("required");
    if Command::new("node").arg("--version").output().is_err() {
        assert!(
            !required,
            "Node.js is required (PORTICO_OIDC_TESTS=required) but not installed"
        );
        eprintln!("skipping the single sign-on test: Node.js is not installed");
        return None;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    // Several test binaries may start at once: one installs, the others wait for it.
    let lock = dir.join(".installing");
    if !dir.join("node_modules/oidc-provider/package.json").exists() {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => {
                let status = Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                    .current_dir(&dir)
                    .status()
                    .expect("run npm");
                let _ = std::fs::remove_file(&lock);
                assert!(status.success(), "npm ci in {} failed", dir.display());
            }
            Err(_) => {
                for _ in 0..600 {
                    if !lock.exists() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        }
    }
    // A port free when asked may be taken (by another test's connection) before the provider
    // listens on it: a start that does not come up is tried again on another port.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .arg(port.to_string())
            .args(redirect_uris)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the provider");
        let stdout = child.stdout.take().unwrap();
        let process = OidcProvider(child);
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() == "ready" {
            return Some((process, format!("http://127.0.0.1:{port}")));
        }
    }
    panic!("the provider did not start in five attempts");
}

/// Saves company `company`'s portal settings as the owner through the console's form: the
/// boxes in `checked` ticked (`portal_enabled` among them for the portal to stay on), each
/// section at the workspace default unless `sections` names it (`("assets", "off")`).
pub async fn save_portal_settings(
    app: &TestApp,
    company: CompanyId,
    checked: &[&str],
    sections: &[(&str, &str)],
) -> Response {
    let token = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, token.as_deref()).await;
    let page = app
        .get(CONSOLE, &format!("/companies/{company}/portal"))
        .session(token.as_deref())
        .send()
        .await;
    let mut form = vec![("csrf".to_owned(), csrf)];
    form.extend(checked.iter().map(|c| ((*c).to_owned(), "1".to_owned())));
    for state in page.body.split("name=\"state_").skip(1) {
        let slug = state.split('"').next().unwrap();
        let value = sections
            .iter()
            .find(|(s, _)| *s == slug)
            .map_or("default", |(_, v)| *v);
        form.push((format!("state_{slug}"), value.to_owned()));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post(CONSOLE, &format!("/companies/{company}/portal"))
        .session(token.as_deref())
        .form(&pairs)
        .send()
        .await
}

/// Schemathesis (PyPI), installed on first use into `tests/schemathesis/.venv` from its pinned
/// requirements with the machine's Python; `None` (the test skips) when Python cannot make a
/// virtual environment, unless `PORTICO_SCHEMATHESIS_TESTS=required`.
pub fn schemathesis() -> Option<std::path::PathBuf> {
    use std::process::Command;
    let required = std::env::var("PORTICO_SCHEMATHESIS_TESTS").as_deref() == Ok("required");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let venv = dir.join(".venv");
    let program = venv.join("bin/schemathesis");
    if program.exists() {
        return Some(program);
    }
    let python = ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-m", "venv", "--help"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(python) = python else {
        assert!(
            !required,
            "Python with venv is required (PORTICO_SCHEMATHESIS_TESTS=required) but not installed"
        );
        eprintln!("skipping the API fuzzing test: Python's venv is not installed");
        return None;
    };
    // Several test binaries may start at once: one installs, the others wait for it.
    let lock = dir.join(".installing");
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
    {
        Ok(_) => {
            let made = Command::new(python)
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("run python -m venv");
            let installed = made.success()
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                    .arg(dir.join("requirements.txt"))
                    .status()
                    .expect("run pip")
                    .success();
            let _ = std::fs::remove_file(&lock);
            if !installed {
                let _ = std::fs::remove_dir_all(&venv);
                panic!("installing schemathesis into {} failed", venv.display());
            }
        }
        Err(_) => {
            for _ in 0..1500 {
                if !lock.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    }
    assert!(program.exists(), "schemathesis was not installed");
    Some(program)
}

/// The price a licence of company `A`/`B`/`C` has (billing): a canary like the fee.
pub fn licence_price_canary(company: char) -> String {
    match company {
        'A' => "4,444.44".into(),
        'B' => "5,555.55".into(),
        _ => "6,666.66".into(),
    }
}

/// One connector per workspace with records read for A and B (ws1) and C (ws2).
async fn seed_connectors(
    tx: &mut portico_store::SystemTx,
    store: &portico_store::Store,
    ws1: WorkspaceId,
    ws2: WorkspaceId,
    a: CompanyId,
    b: CompanyId,
    c: CompanyId,
) -> [portico_core::ConnectorId; 2] {
    use portico_store::connector_sync::{
        DirectoryUserRecord, Microsoft365Snapshot, SeedSnapshot, SeedTenant, SkuRecord,
    };
    use portico_store::scoped::connectors::ConnectorKind;
    let snapshot = |tag: char| Microsoft365Snapshot {
        name: format!("Tenant {tag}"),
        domains: vec![format!("{}.test", tag.to_ascii_lowercase())],
        skus: vec![SkuRecord {
            sku_id: format!("sku-{tag}"),
            sku_part_number: format!("CANARY-SKU-{tag}"),
            product_name: format!("CANARY-SKU-{tag}"),
            capability_status: "Enabled".into(),
            purchased: 10,
            assigned: 1,
            suspended: 0,
            warning: 0,
            renews_on: Some("2099-01-01".into()),
        }],
        users: vec![DirectoryUserRecord {
            external_id: format!("diruser-{tag}"),
            display_name: format!("CANARY-DIRUSER-{tag}"),
            user_principal_name: format!("diruser@{}.test", tag.to_ascii_lowercase()),
            mail: String::new(),
            enabled: true,
            licence_skus: vec![format!("sku-{tag}")],
            mfa_registered: Some(false),
            is_admin: false,
            last_sign_in_at: Some(portico_store::now() - 3600),
        }],
        sign_ins_known: true,
        alerts: Some(vec![portico_store::connector_sync::AlertRecord {
            external_id: format!("alert-{tag}"),
            title: format!("CANARY-ALERT-{tag}"),
            severity: "high".into(),
            status: "new".into(),
            service_source: "microsoftDefenderForEndpoint".into(),
            category: "Execution".into(),
            subject: format!("device-{tag}"),
            created_at: portico_store::now() - 7200,
            updated_at: portico_store::now() - 7200,
            resolved_at: None,
        }]),
        alerts_watermark: None,
    };
    let (sa, sb, sc) = (snapshot('A'), snapshot('B'), snapshot('C'));
    let read_at = portico_store::now() - 600;
    let one = tx
        .add_connector_with_records(
            store,
            ws1,
            ConnectorKind::Microsoft365,
            "Microsoft 365",
            &[
                SeedTenant {
                    external_id: "tenant-a",
                    name: "Tenant A",
                    domains: &["a.test"],
                    company: Some(a),
                    snapshot: Some(SeedSnapshot::Microsoft365(&sa)),
                },
                SeedTenant {
                    external_id: "tenant-b",
                    name: "Tenant B",
                    domains: &["b.test"],
                    company: Some(b),
                    snapshot: Some(SeedSnapshot::Microsoft365(&sb)),
                },
                SeedTenant {
                    external_id: "tenant-unmapped",
                    name: "CANARY-TENANT-UNMAPPED",
                    domains: &[],
                    company: None,
                    snapshot: None,
                },
            ],
            read_at,
        )
        .await
        .unwrap();
    let two = tx
        .add_connector_with_records(
            store,
            ws2,
            ConnectorKind::Microsoft365,
            "Microsoft 365",
            &[SeedTenant {
                external_id: "tenant-c",
                name: "Tenant C",
                domains: &["c.test"],
                company: Some(c),
                snapshot: Some(SeedSnapshot::Microsoft365(&sc)),
            }],
            read_at,
        )
        .await
        .unwrap();
    for (ws, tag) in [(ws1, 'A'), (ws1, 'B'), (ws2, 'C')] {
        let cents: i64 = licence_price_canary(tag)
            .replace([',', '.'], "")
            .parse()
            .unwrap();
        tx.set_licence_price(ws, &format!("CANARY-SKU-{tag}"), cents, "AUD")
            .await
            .unwrap();
    }
    [one, two]
}
