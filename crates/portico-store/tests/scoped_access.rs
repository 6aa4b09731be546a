//! The scoped store, called directly as each kind of principal (every staff role, every portal
//! role and restriction), over a world of two workspaces: each method returns exactly the rows
//! the scope may see, and a write to anything outside it answers `NotFound` like a missing
//! record. The web's authorization matrix checks the same through HTTP; this checks the store
//! on its own, so that a store method is safe whoever calls it. Runs on SQLite, and on
//! PostgreSQL as the application role when PORTICO_TEST_POSTGRES_URL is set.

use std::collections::BTreeSet;

use portico_core::{AssetField, AssetKind};
use portico_core::{
    CompanyId, ContactRole, PortalRole, Scope, SiteId, StaffRole, StaffUserId, TicketId,
    TicketPriority, TicketStatus, WorkspaceId,
};
use portico_store::connector_sync::DueTenant;
use portico_store::scoped::assets::{AssetDraft, AssetQuery, WarrantyFilter};
use portico_store::scoped::companies::{CompanyDraft, ContactDraft, SiteDraft};
use portico_store::scoped::connectors::ConnectorKind;
use portico_store::scoped::ticket_workflow::{Links, TicketChange};
use portico_store::scoped::tickets::{StatusFilter, TicketQuery};
use portico_store::scoped::time::TimeDraft;
use portico_store::system::{SeedPortalUser, SeedTicket};
use portico_store::test_support::TestDatabase;
use portico_store::{NewSession, SessionUser, Store, StoreError, SurfaceKind};

/// Every kind of principal the store scopes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Owner,
    Billing,
    TechnicianA,
    TechnicianB,
    Sales,
    ClientAdmin,
    Member,
    Viewer,
    OwnOnly,
    SiteRestricted,
    GrantedFromB,
}

const KINDS: [Kind; 11] = [
    Kind::Owner,
    Kind::Billing,
    Kind::TechnicianA,
    Kind::TechnicianB,
    Kind::Sales,
    Kind::ClientAdmin,
    Kind::Member,
    Kind::Viewer,
    Kind::OwnOnly,
    Kind::SiteRestricted,
    Kind::GrantedFromB,
];

struct World {
    db: TestDatabase,
    ws1: WorkspaceId,
    ws2: WorkspaceId,
    company_a: CompanyId,
    company_b: CompanyId,
    company_c: CompanyId,
    principals: Vec<(Kind, SessionUser)>,
    /// Tickets by name: A1 (member's, site 1), A2 (member's, site 2), OWN (own-only user's,
    /// site 1), CC (member's, site 2, own-only user copied), B, C (the other workspace).
    tickets: Vec<(&'static str, TicketId)>,
}

impl World {
    fn ticket(&self, name: &str) -> TicketId {
        self.tickets.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn store(&self) -> &Store {
        &self.db.store
    }

    /// The scope of `kind`, built the only way there is: a session resolved by the store.
    async fn scope(&self, kind: Kind) -> Scope {
        let (user, surface) = self.user(kind);
        let token = self.session(kind).await;
        if let (Kind::GrantedFromB, SessionUser::Portal(id)) = (kind, user) {
            let mut auth = self.store().auth(self.ws1).await.unwrap();
            auth.switch_company(&token, id, self.company_a)
                .await
                .unwrap();
            auth.commit().await.unwrap();
        }
        let mut auth = self.store().auth(self.ws1).await.unwrap();
        let resolved = auth
            .resolve_session(&token, surface, 3600)
            .await
            .unwrap()
            .unwrap();
        auth.commit().await.unwrap();
        Scope::of(&resolved.principal)
    }

    /// `kind`'s user and the surface it signs in on.
    fn user(&self, kind: Kind) -> (SessionUser, SurfaceKind) {
        let user = self.principals.iter().find(|(k, _)| *k == kind).unwrap().1;
        let surface = match user {
            SessionUser::Staff(_) => SurfaceKind::Console,
            SessionUser::Portal(_) => SurfaceKind::Portal,
        };
        (user, surface)
    }

    /// A new session of `kind`'s user, not yet resolved.
    async fn session(&self, kind: Kind) -> String {
        let (user, surface) = self.user(kind);
        self.session_in(self.ws1, user, surface).await
    }

    /// A new session of `user` in `ws` on `surface`, not yet resolved.
    async fn session_in(&self, ws: WorkspaceId, user: SessionUser, surface: SurfaceKind) -> String {
        let mut auth = self.store().auth(ws).await.unwrap();
        let token = auth
            .create_session(&NewSession {
                surface,
                user,
                ip: "127.0.0.1",
                user_agent: "scoped-access test",
                lifetime_secs: 3600,
            })
            .await
            .unwrap();
        auth.commit().await.unwrap();
        token
    }

    /// The tickets `kind` may read, by name.
    fn visible(&self, kind: Kind) -> BTreeSet<&'static str> {
        let names: &[&str] = match kind {
            Kind::Owner => &["A1", "A2", "OWN", "CC", "B"],
            Kind::TechnicianA => &["A1", "A2", "OWN", "CC"],
            Kind::TechnicianB => &["B"],
            Kind::Billing | Kind::Sales => &[],
            Kind::ClientAdmin | Kind::Member | Kind::Viewer | Kind::GrantedFromB => {
                &["A1", "A2", "OWN", "CC"]
            }
            Kind::OwnOnly => &["OWN", "CC"],
            Kind::SiteRestricted => &["A1", "OWN"],
        };
        names.iter().copied().collect()
    }
}

async fn world() -> World {
    let db = TestDatabase::create().await;
    let mut tx = db.store.system_unscoped().await.unwrap();
    let ws1 = tx
        .create_workspace("One", "#1a73e8", "#333333", "")
        .await
        .unwrap();
    let ws2 = tx
        .create_workspace("Two", "#1a73e8", "#333333", "")
        .await
        .unwrap();
    let company = async |tx: &mut portico_store::SystemTx, ws, name| {
        tx.add_company(ws, name, "Plan", Some(100), Some(10), "AUD", true)
            .await
            .unwrap()
    };
    let company_a = company(&mut tx, ws1, "A").await;
    let company_b = company(&mut tx, ws1, "B").await;
    let company_c = company(&mut tx, ws2, "C").await;
    let site_a1 = tx.add_site(ws1, company_a, "A1", "1 A St").await.unwrap();
    let site_a2 = tx.add_site(ws1, company_a, "A2", "2 A St").await.unwrap();
    let site_b = tx.add_site(ws1, company_b, "B1", "1 B St").await.unwrap();
    let site_c = tx.add_site(ws2, company_c, "C1", "1 C St").await.unwrap();

    let mut principals = Vec::new();
    for (kind, email, role, assigned) in [
        (Kind::Owner, "owner@msp.test", StaffRole::Owner, vec![]),
        (
            Kind::Billing,
            "billing@msp.test",
            StaffRole::Billing,
            vec![],
        ),
        (
            Kind::TechnicianA,
            "tech-a@msp.test",
            StaffRole::Technician,
            vec![company_a],
        ),
        (
            Kind::TechnicianB,
            "tech-b@msp.test",
            StaffRole::Technician,
            vec![company_b],
        ),
        (
            Kind::Sales,
            "sales@msp.test",
            StaffRole::Sales,
            vec![company_a],
        ),
    ] {
        let id: StaffUserId = tx
            .add_staff_user(ws1, email, email, role, None, &assigned)
            .await
            .unwrap();
        principals.push((kind, SessionUser::Staff(id)));
    }
    let portal = async |tx: &mut portico_store::SystemTx,
                        ws,
                        company,
                        email: &'static str,
                        role,
                        own_only,
                        sites: &[SiteId]| {
        tx.add_portal_user(
            ws,
            &SeedPortalUser {
                company,
                email,
                name: email,
                role,
                own_only,
                billing_access: false,
                password_hash: None,
                sites,
            },
        )
        .await
        .unwrap()
    };
    let admin = portal(
        &mut tx,
        ws1,
        company_a,
        "admin@a.test",
        PortalRole::ClientAdmin,
        false,
        &[],
    )
    .await;
    let member = portal(
        &mut tx,
        ws1,
        company_a,
        "member@a.test",
        PortalRole::Member,
        false,
        &[],
    )
    .await;
    let viewer = portal(
        &mut tx,
        ws1,
        company_a,
        "viewer@a.test",
        PortalRole::Viewer,
        false,
        &[],
    )
    .await;
    let own = portal(
        &mut tx,
        ws1,
        company_a,
        "own@a.test",
        PortalRole::Member,
        true,
        &[],
    )
    .await;
    let site = portal(
        &mut tx,
        ws1,
        company_a,
        "site@a.test",
        PortalRole::Member,
        false,
        &[site_a1],
    )
    .await;
    let granted = portal(
        &mut tx,
        ws1,
        company_b,
        "two@b.test",
        PortalRole::Member,
        false,
        &[],
    )
    .await;
    tx.grant_company(ws1, granted, company_a, PortalRole::Member, false)
        .await
        .unwrap();
    let user_b = portal(
        &mut tx,
        ws1,
        company_b,
        "user@b.test",
        PortalRole::Member,
        false,
        &[],
    )
    .await;
    let user_c = portal(
        &mut tx,
        ws2,
        company_c,
        "user@c.test",
        PortalRole::Member,
        false,
        &[],
    )
    .await;
    for (kind, id) in [
        (Kind::ClientAdmin, admin),
        (Kind::Member, member),
        (Kind::Viewer, viewer),
        (Kind::OwnOnly, own),
        (Kind::SiteRestricted, site),
        (Kind::GrantedFromB, granted),
    ] {
        principals.push((kind, SessionUser::Portal(id)));
    }

    let now = portico_store::now();
    let mut tickets = Vec::new();
    for (name, ws, company, site, requester) in [
        ("A1", ws1, company_a, site_a1, member),
        ("A2", ws1, company_a, site_a2, member),
        ("OWN", ws1, company_a, site_a1, own),
        ("CC", ws1, company_a, site_a2, member),
        ("B", ws1, company_b, site_b, user_b),
        ("C", ws2, company_c, site_c, user_c),
    ] {
        let id = tx
            .add_ticket(
                ws,
                &SeedTicket {
                    company,
                    site: Some(site),
                    requester: Some(requester),
                    title: name,
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
            &format!("{name}-REPLY"),
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
            &format!("{name}-NOTE"),
            true,
            now - 2000,
        )
        .await
        .unwrap();
        tickets.push((name, id));
    }
    tx.commit().await.unwrap();
    let world = World {
        db,
        ws1,
        ws2,
        company_a,
        company_b,
        company_c,
        principals,
        tickets,
    };
    // The own-only user is copied on CC, through the scoped store like any cc.
    let member_scope = world.scope(Kind::Member).await;
    let mut tx = world.store().scoped_write(&member_scope).await.unwrap();
    tx.set_cc(world.ticket("CC"), &[own]).await.unwrap();
    tx.commit().await.unwrap();
    world
}

fn links() -> Links {
    Links {
        portal: "http://portal.one.test".into(),
        console: "http://console.one.test".into(),
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

#[tokio::test]
async fn each_principal_reads_exactly_the_tickets_and_messages_its_scope_allows() {
    let world = world().await;
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let visible = world.visible(kind);
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let listed = tx
            .tickets(&TicketQuery {
                status: StatusFilter::All,
                limit: 100,
                ..TicketQuery::default()
            })
            .await;
        match listed {
            Ok(list) => {
                let titles: BTreeSet<&str> = list
                    .iter()
                    .map(|t| {
                        world
                            .tickets
                            .iter()
                            .find(|(_, id)| *id == t.id)
                            .map(|(n, _)| *n)
                            .unwrap_or("?")
                    })
                    .collect();
                assert_eq!(titles, visible, "{kind:?}: the list");
            }
            Err(e) => assert!(
                visible.is_empty() && matches!(e, StoreError::Forbidden),
                "{kind:?}: {e:?}"
            ),
        }
        for (name, id) in &world.tickets {
            let detail = tx.ticket(*id).await;
            if visible.contains(name) {
                let detail = detail.unwrap_or_else(|e| panic!("{kind:?} reads {name}: {e:?}"));
                let bodies: Vec<&str> = detail.messages.iter().map(|m| m.body.as_str()).collect();
                assert!(
                    bodies.contains(&format!("{name}-REPLY").as_str()),
                    "{kind:?} {name}"
                );
                let staff = matches!(kind, Kind::Owner | Kind::TechnicianA | Kind::TechnicianB);
                assert_eq!(
                    bodies.contains(&format!("{name}-NOTE").as_str()),
                    staff,
                    "{kind:?} {name}: internal notes only for staff"
                );
                // Nothing of another ticket rides along.
                assert!(
                    bodies.iter().all(|b| b.starts_with(name)),
                    "{kind:?} {name}: {bodies:?}"
                );
            } else {
                assert!(is_not_found(detail), "{kind:?} must not read {name}");
                assert!(
                    is_not_found(tx.ticket_stamp(*id).await),
                    "{kind:?} stamp {name}"
                );
            }
        }
        if scope.may(portico_core::Action::ViewTickets).is_ok() {
            let page = tx
                .portal_tickets(
                    &TicketQuery {
                        status: StatusFilter::All,
                        limit: 100,
                        ..TicketQuery::default()
                    },
                    None,
                )
                .await
                .unwrap();
            assert_eq!(
                page.tickets().len(),
                visible.len(),
                "{kind:?}: the portal list"
            );
            let kpis = tx.ticket_kpis(None).await.unwrap();
            assert_eq!(kpis.open as usize, visible.len(), "{kind:?}: the figures");
        }
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn each_principal_sees_only_its_companies_and_their_people() {
    let world = world().await;
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let expected: BTreeSet<CompanyId> = match kind {
            Kind::Owner | Kind::Billing => [world.company_a, world.company_b].into(),
            Kind::TechnicianB => [world.company_b].into(),
            _ => [world.company_a].into(),
        };
        let staff = scope.may(portico_core::Action::ViewCompanies).is_ok();
        match tx.companies(false).await {
            Ok(list) => {
                let ids: BTreeSet<CompanyId> = list.iter().map(|c| c.id).collect();
                assert!(staff, "{kind:?}: the portal lists no companies");
                assert_eq!(ids, expected, "{kind:?}: companies");
            }
            Err(e) => assert!(
                !staff && matches!(e, StoreError::NotFound),
                "{kind:?}: {e:?}"
            ),
        }
        for company in [world.company_a, world.company_b, world.company_c] {
            let inside = expected.contains(&company);
            let sites = tx.sites(company).await.unwrap();
            assert_eq!(!sites.is_empty(), inside, "{kind:?}: sites of {company}");
            let users = tx.portal_users(company).await;
            // Staff, and on the portal the company's client admins (its Users section).
            if inside && (staff || kind == Kind::ClientAdmin) {
                assert!(!users.unwrap().is_empty(), "{kind:?}: its company's users");
            } else {
                assert!(is_not_found(users), "{kind:?}: users of {company}");
            }
            let domains = tx.company_email_domains(company).await;
            assert_eq!(domains.is_ok(), inside, "{kind:?}: domains of {company}");
        }
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn writes_to_anything_outside_the_scope_answer_not_found_and_change_nothing() {
    let world = world().await;
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let visible = world.visible(kind);
        for (name, id) in world.tickets.clone() {
            if visible.contains(name) {
                continue;
            }
            let mut tx = world.store().scoped_write(&scope).await.unwrap();
            assert!(
                is_not_found(tx.reply(id, "INTRUDER", false, &[], None, &links()).await),
                "{kind:?} replies on {name}"
            );
            assert!(
                is_not_found(tx.resolve_ticket(id, &links()).await),
                "{kind:?} resolves {name}"
            );
            assert!(
                is_not_found(tx.set_cc(id, &[]).await),
                "{kind:?} changes the cc of {name}"
            );
            assert!(
                is_not_found(
                    tx.change_ticket(
                        id,
                        &TicketChange {
                            status: TicketStatus::Closed,
                            priority: TicketPriority::Urgent,
                            assignee: None,
                        },
                        &links(),
                    )
                    .await
                ),
                "{kind:?} changes {name}"
            );
            assert!(
                is_not_found(tx.rate_ticket(id, 1, "").await),
                "{kind:?} rates {name}"
            );
            drop(tx);
        }
        // A foreign company's users and settings are not found either.
        for company in [world.company_b, world.company_c] {
            let sees_b = matches!(kind, Kind::Owner | Kind::Billing | Kind::TechnicianB);
            if sees_b && company == world.company_b {
                continue;
            }
            let mut tx = world.store().scoped_write(&scope).await.unwrap();
            assert!(
                is_not_found(tx.require_user_admin(company).await),
                "{kind:?} manages users of {company}"
            );
            assert!(
                is_not_found(tx.set_company_email_domains(company, &[]).await),
                "{kind:?} sets domains of {company}"
            );
            drop(tx);
        }
    }
    // Nothing above changed a thing: every ticket is still open, with its two messages.
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped(&owner).await.unwrap();
    for name in ["A1", "A2", "OWN", "CC", "B"] {
        let detail = tx.ticket(world.ticket(name)).await.unwrap();
        assert_eq!(detail.ticket.status, TicketStatus::Open, "{name}");
        assert_eq!(detail.messages.len(), 2, "{name}");
        assert!(detail.rating.is_none(), "{name}");
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn personal_records_belong_to_the_acting_person_alone() {
    let world = world().await;
    let owner = world.scope(Kind::Owner).await;
    let tech = world.scope(Kind::TechnicianA).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.save_view("Owner's view", &[("status".into(), "open".into())])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped(&owner).await.unwrap();
    let view = tx.saved_views().await.unwrap().remove(0);
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped_write(&tech).await.unwrap();
    assert!(
        tx.saved_views().await.unwrap().is_empty(),
        "another's views are not listed"
    );
    assert!(is_not_found(tx.delete_view(&view.id).await), "nor deleted");
    drop(tx);

    let member = world.scope(Kind::Member).await;
    let own = world.scope(Kind::OwnOnly).await;
    let mut tx = world.store().scoped_write(&member).await.unwrap();
    tx.set_notification_preferences(
        portico_store::scoped::ticket_workflow::NotificationPreferences {
            ticket_updates: false,
            ticket_resolved: false,
            satisfaction_survey: false,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped(&own).await.unwrap();
    assert!(
        tx.notification_preferences().await.unwrap().ticket_updates,
        "a colleague's preferences are not read as one's own"
    );
    tx.commit().await.unwrap();
}

/// PostgreSQL's fence on its own (the store's predicates left out): a client's transaction, as
/// the store begins it, sees no staff user, no one else's session or one-time token, no grant to
/// a company outside its scope, no saved view and no internal note; staff see them as before.
#[tokio::test]
async fn the_database_fence_hides_staff_records_from_client_transactions() {
    if !TestDatabase::postgres_requested() {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: row-level security is checked in CI");
        return;
    }
    let world = world().await;
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.save_view("Owner's view", &[("status".into(), "open".into())])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let SessionUser::Staff(owner_id) = world.principals[0].1 else {
        unreachable!("the owner comes first");
    };
    let mut auth = world.store().auth(world.ws1).await.unwrap();
    auth.invite_staff(owner_id).await.unwrap();
    auth.commit().await.unwrap();
    // Every principal has a session by now (`scope` signs each in); the grant is to A.
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let (user_column, me) = match world.principals.iter().find(|(k, _)| *k == kind).unwrap().1 {
            SessionUser::Staff(id) => ("staff_user_id", id.as_text()),
            SessionUser::Portal(id) => ("portal_user_id", id.as_text()),
        };
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let mut count = async |from: String| tx.count_under_database_fence(&from).await.unwrap();
        let staff = count("staff_users".into()).await;
        let others_sessions = count(format!(
            "sessions WHERE {user_column} IS DISTINCT FROM '{me}'"
        ))
        .await;
        let own_sessions = count(format!("sessions WHERE {user_column} = '{me}'")).await;
        let tokens = count("one_time_tokens".into()).await;
        let grants_elsewhere = count(format!(
            "portal_user_companies WHERE company_id <> '{}'",
            world.company_a.as_text()
        ))
        .await;
        let views = count("saved_views".into()).await;
        let notes = count("ticket_messages WHERE internal".into()).await;
        let foreign_workspace = count(format!(
            "companies WHERE id = '{}'",
            world.company_c.as_text()
        ))
        .await;
        // Sessions of anyone but the company's own portal users (a client admin may end those).
        let outside_sessions = count(format!(
            "sessions WHERE portal_user_id IS NULL OR portal_user_id NOT IN \
             (SELECT u.id FROM portal_users u WHERE u.company_id = '{}')",
            world.company_a.as_text()
        ))
        .await;
        assert!(own_sessions >= 1, "{kind:?} sees its own session");
        assert_eq!(foreign_workspace, 0, "{kind:?}: another workspace");
        if scope.is_portal() {
            // A client admin manages the company's users: their sessions (to end them) are
            // visible to it, nobody else's; everyone else on the portal sees only their own.
            let others_sessions = if kind == Kind::ClientAdmin {
                outside_sessions
            } else {
                others_sessions
            };
            assert_eq!(
                (
                    staff,
                    others_sessions,
                    tokens,
                    grants_elsewhere,
                    views,
                    notes
                ),
                (0, 0, 0, 0, 0, 0),
                "{kind:?}: staff users, others' sessions, tokens, grants elsewhere, views, notes"
            );
        } else {
            assert!(staff >= 5, "{kind:?} sees the workspace's staff");
            assert!(others_sessions >= 1, "{kind:?} sees other sessions");
            assert!(tokens >= 1, "{kind:?} sees the invitation");
        }
        drop(tx);
    }
    let mut tx = world.store().scoped(&owner).await.unwrap();
    assert!(
        tx.count_under_database_fence("ticket_messages WHERE internal")
            .await
            .unwrap()
            >= 5,
        "staff read internal notes"
    );
    assert_eq!(
        tx.count_under_database_fence("saved_views").await.unwrap(),
        1
    );
}

/// The desk's lists keep the names of companies, sites and people per reader (`desk_names.rs`)
/// while the workspace's principal version stands: a renamed site shows under its new name on
/// the very next list, to every staff reader, although the list before it was served from the
/// kept names.
#[tokio::test]
async fn the_desk_lists_name_a_renamed_site_at_once() {
    let world = world().await;
    let a1 = world.ticket("A1");
    let site = {
        let scope = world.scope(Kind::Owner).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        tx.ticket(a1).await.unwrap().ticket.site_id.unwrap()
    };
    for name in ["Harbour Site Before", "Harbour Site After"] {
        let mut tx = world.store().system_unscoped().await.unwrap();
        tx.rename_site(site, name).await.unwrap();
        tx.commit().await.unwrap();
        for kind in [Kind::Owner, Kind::TechnicianA] {
            let scope = world.scope(kind).await;
            // Twice: the second from the kept names.
            for _ in 0..2 {
                let mut tx = world.store().scoped(&scope).await.unwrap();
                let list = tx
                    .tickets(&TicketQuery {
                        status: StatusFilter::All,
                        limit: 100,
                        ..TicketQuery::default()
                    })
                    .await
                    .unwrap();
                let shown = list.iter().find(|t| t.id == a1).unwrap();
                assert_eq!(shown.site_name.as_deref(), Some(name), "{kind:?}");
            }
        }
    }
}

/// PostgreSQL: a read-only transaction's connection is kept aside still inside the transaction,
/// and the next one begun on it sends the ROLLBACK with its BEGIN (`pg_reads`). That next
/// transaction reads what was committed since, not the old snapshot; and a connection kept for
/// a while is rolled back by the sweeper.
#[tokio::test]
async fn a_read_transaction_left_open_is_ended_by_the_next_or_the_sweeper() {
    use sqlx::Connection;
    let world = world().await;
    if !TestDatabase::postgres_requested() {
        return;
    }
    let a1 = world.ticket("A1");
    let scope = world.scope(Kind::Owner).await;
    let site_shown = async || {
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let detail = tx.ticket(a1).await.unwrap();
        let list = tx
            .tickets(&TicketQuery {
                status: StatusFilter::All,
                limit: 100,
                ..TicketQuery::default()
            })
            .await
            .unwrap();
        let shown = list.iter().find(|t| t.id == a1).unwrap().site_name.clone();
        (detail.ticket.site_id.unwrap(), shown)
    };
    let (site, _) = site_shown().await;
    for name in ["Harbour Site Before", "Harbour Site After"] {
        let mut tx = world.store().system_unscoped().await.unwrap();
        tx.rename_site(site, name).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(site_shown().await.1.as_deref(), Some(name));
    }
    // The connection kept last serves the next read, so each scope in turn reads on the same
    // one: a transaction on it has its own database fence, whatever the one before it left.
    let fenced = async |kind| {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        tx.count_under_database_fence("tickets").await.unwrap()
    };
    let all = fenced(Kind::Owner).await;
    let company_b = fenced(Kind::TechnicianB).await;
    assert!(0 < company_b && company_b < all, "{company_b} of {all}");
    assert_eq!(fenced(Kind::Owner).await, all);
    assert_eq!(fenced(Kind::TechnicianB).await, company_b);

    let mut owner = sqlx::PgConnection::connect(&world.db.owner_url)
        .await
        .unwrap();
    let app: sqlx::postgres::PgConnectOptions = world.db.app_url.parse().unwrap();
    let left_open = async |owner: &mut sqlx::PgConnection| {
        // A backend's state shows to its own role only; the share locks of the tables its
        // transaction read show to everyone, and outlast only a transaction left open.
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE a.datname = current_database() AND a.usename = $1 AND l.locktype = 'relation'",
        )
        .bind(app.get_username())
        .fetch_one(owner)
        .await
        .unwrap();
        n
    };
    site_shown().await;
    assert!(
        left_open(&mut owner).await >= 1,
        "the connection went back inside its transaction"
    );
    let waited = std::time::Instant::now();
    while left_open(&mut owner).await > 0 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(5),
            "the sweeper rolls back a connection left open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A read-only transaction begun while another is open takes a connection of its own from the
/// pool (on PostgreSQL, where a kept connection would otherwise serve it), without waiting for
/// the first: a request holding a read transaction while it begins another never waits for
/// itself.
#[tokio::test]
async fn two_read_transactions_at_once_each_have_a_connection() {
    let world = world().await;
    let scope = world.scope(Kind::Owner).await;
    let mut first = world.store().scoped(&scope).await.unwrap();
    let tickets = first.count_under_database_fence("tickets").await.unwrap();
    let mut second = world.store().scoped(&scope).await.unwrap();
    let counted = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        second.count_under_database_fence("tickets"),
    )
    .await
    .expect("the second transaction did not wait for the first's connection")
    .unwrap();
    assert_eq!(counted, tickets);
    drop(first);
    drop(second);
}

/// A picker of companies is not offered past a number of them, and that there are too many is
/// kept with the desk's names: a company added is counted on the very next page.
#[tokio::test]
async fn the_company_picker_follows_a_company_added() {
    let world = world().await;
    let scope = world.scope(Kind::Owner).await;
    let picker = async |max: i64| {
        let mut tx = world.store().scoped(&scope).await.unwrap();
        tx.company_picker(max).await.unwrap()
    };
    let names: Vec<String> = picker(2)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["A", "B"]);
    for _ in 0..2 {
        assert!(picker(1).await.is_none(), "two companies are more than one");
    }
    let mut tx = world.store().system_unscoped().await.unwrap();
    tx.add_company(world.ws1, "D", "Plan", None, None, "AUD", true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..2 {
        assert!(
            picker(2).await.is_none(),
            "three companies are more than two"
        );
    }
    let names: Vec<String> = picker(3)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["A", "B", "D"]);
}

/// What a store call answered, in the terms the tests compare.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Done,
    Forbidden,
    NotFound,
    Refused,
}

fn answer<T>(result: Result<T, StoreError>) -> Answer {
    match result {
        Ok(_) => Answer::Done,
        Err(StoreError::Forbidden) => Answer::Forbidden,
        Err(StoreError::NotFound) => Answer::NotFound,
        Err(StoreError::InvalidFields(_) | StoreError::Invalid(_)) => Answer::Refused,
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

fn a_company() -> CompanyDraft {
    CompanyDraft {
        name: "New client".into(),
        plan_name: "Managed".into(),
        included_hours: "7.5".into(),
        currency: "AUD".into(),
        monthly_fee: "1,200.00".into(),
        hourly_rate: "160".into(),
    }
}

fn a_site() -> SiteDraft {
    SiteDraft {
        name: "Warehouse".into(),
        address: "9 Dock Rd".into(),
    }
}

fn a_contact() -> ContactDraft {
    ContactDraft {
        name: "Pat Lee".into(),
        email: "pat@a.test".into(),
        phone: "+61 2 5550 1234".into(),
        title: "Office manager".into(),
        roles: vec![ContactRole::Technical, ContactRole::Primary],
    }
}

/// Companies and plans are the owners'; sites and contacts the owners' and the company's
/// technicians'; a company out of scope is not found; the portal changes none of it. Every
/// attempt is rolled back, so each kind starts from the same world.
#[tokio::test]
async fn each_principal_edits_only_the_company_records_its_role_allows() {
    let world = world().await;
    let mut tx = world.store().system_unscoped().await.unwrap();
    let site_b2 = tx
        .add_site(world.ws1, world.company_b, "B2", "2 B St")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let portal = scope.is_portal();
        let sees_a = !matches!(kind, Kind::TechnicianB);
        let staff_answer = |allowed: bool, visible: bool| match (portal, visible, allowed) {
            (true, _, _) | (false, false, _) => Answer::NotFound,
            (false, true, false) => Answer::Forbidden,
            (false, true, true) => Answer::Done,
        };
        let owner = kind == Kind::Owner;
        let records = matches!(kind, Kind::Owner | Kind::TechnicianA);
        let (company_a, company_c) = (world.company_a, world.company_c);
        // Each attempt in a transaction of its own, dropped (rolled back) after.
        macro_rules! attempt {
            (|$tx:ident| $call:expr) => {{
                let mut $tx = world.store().scoped_write(&scope).await.unwrap();
                answer($call.await)
            }};
        }
        let want_add = if portal {
            Answer::NotFound
        } else if owner {
            Answer::Done
        } else {
            Answer::Forbidden
        };
        assert_eq!(
            attempt!(|tx| tx.add_company(&a_company())),
            want_add,
            "{kind:?} adds a company"
        );
        // A portal user's own company is not a record they can edit: not found.
        let want = staff_answer(owner, sees_a);
        assert_eq!(
            attempt!(|tx| tx.update_company(company_a, &a_company())),
            want,
            "{kind:?} edits company A"
        );
        assert_eq!(
            attempt!(|tx| tx.archive_company(company_a)),
            want,
            "{kind:?} archives company A"
        );
        assert_eq!(
            attempt!(|tx| tx.add_site(company_a, &a_site())),
            staff_answer(records, sees_a),
            "{kind:?} adds a site to A"
        );
        assert_eq!(
            attempt!(|tx| tx.add_contact(company_a, &a_contact())),
            staff_answer(records, sees_a),
            "{kind:?} adds a contact to A"
        );
        // The other workspace's company, and a site under the wrong company, are not found.
        for result in [
            attempt!(|tx| tx.add_site(company_c, &a_site())),
            attempt!(|tx| tx.add_contact(company_c, &a_contact())),
            attempt!(|tx| tx.update_site(company_a, site_b2, &a_site())),
            attempt!(|tx| tx.set_site_archived(company_a, site_b2, true)),
        ] {
            assert_eq!(
                result,
                Answer::NotFound,
                "{kind:?} reaches outside its scope"
            );
        }
    }
    // Nothing above was committed.
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped(&owner).await.unwrap();
    assert_eq!(tx.companies(false).await.unwrap().len(), 2);
    assert_eq!(tx.sites(world.company_a).await.unwrap().len(), 2);
}

/// A company, its plan, a site and a contact go through their lives: added, refused field by
/// field when wrong, edited, archived (kept, out of lists and pickers, portal off) and restored.
#[tokio::test]
async fn company_records_are_archived_and_restored_never_deleted() {
    let world = world().await;
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let refused = tx
        .add_company(&CompanyDraft {
            name: " ".into(),
            included_hours: "lots".into(),
            currency: "dollars".into(),
            monthly_fee: "-5".into(),
            ..a_company()
        })
        .await;
    match refused {
        Err(StoreError::InvalidFields(fields)) => {
            let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
            assert_eq!(names, ["name", "included_hours", "currency", "monthly_fee"]);
        }
        other => panic!("{other:?}"),
    }
    let duplicate = tx
        .add_company(&CompanyDraft {
            name: "a".into(),
            ..a_company()
        })
        .await;
    assert!(
        matches!(&duplicate, Err(StoreError::InvalidFields(f)) if f[0].0 == "name"),
        "{duplicate:?}"
    );
    let id = tx.add_company(&a_company()).await.unwrap();
    let added = tx.company(id).await.unwrap();
    assert_eq!(added.included_minutes, Some(450));
    let billing = added.billing.unwrap();
    assert_eq!(billing.monthly_fee_cents, Some(120_000));
    assert_eq!(billing.hourly_rate_cents, Some(16_000));
    assert!(!added.portal_enabled, "a new company's portal starts off");
    let contact = tx.add_contact(id, &a_contact()).await.unwrap();
    let site = tx.add_site(id, &a_site()).await.unwrap();
    let stored = tx.contact(id, contact).await.unwrap();
    assert_eq!(
        stored.roles,
        [ContactRole::Primary, ContactRole::Technical],
        "roles in the product's order"
    );
    tx.update_contact(
        id,
        contact,
        &ContactDraft {
            roles: vec![ContactRole::PurchaseApprover],
            ..a_contact()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        tx.contact(id, contact).await.unwrap().roles,
        [ContactRole::PurchaseApprover]
    );
    tx.set_contact_archived(id, contact, true).await.unwrap();
    assert!(tx.contacts(id).await.unwrap().is_empty());
    assert_eq!(tx.contacts_with_archived(id).await.unwrap().len(), 1);
    tx.set_site_archived(id, site, true).await.unwrap();
    assert!(tx.sites(id).await.unwrap().is_empty());
    assert!(tx.ticket_sites(id).await.unwrap().is_empty());
    tx.archive_company(world.company_a).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let current: Vec<CompanyId> = tx
        .companies(false)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert!(!current.contains(&world.company_a));
    let archived = tx.companies(true).await.unwrap();
    assert_eq!(archived.len(), 1);
    assert!(
        !archived[0].portal_enabled,
        "archiving switches the portal off"
    );
    assert!(
        !tx.company_names(100)
            .await
            .unwrap()
            .iter()
            .any(|(c, _)| *c == world.company_a),
        "an archived company leaves the pickers"
    );
    // Its history stays: its tickets are still there.
    assert!(tx.ticket(world.ticket("A1")).await.is_ok());
    assert!(matches!(
        answer(tx.add_site(world.company_a, &a_site()).await),
        Answer::Refused
    ));
    assert!(matches!(
        answer(
            tx.save_portal_settings(world.company_a, true, false, &[])
                .await
        ),
        Answer::Refused
    ));
    tx.restore_company(world.company_a).await.unwrap();
    tx.commit().await.unwrap();

    // The company's portal users lost their access with the portal, and stay out after the
    // restore until an owner switches the portal on again.
    let token = world.session(Kind::ClientAdmin).await;
    let mut auth = world.store().auth(world.ws1).await.unwrap();
    assert!(
        auth.resolve_session(&token, SurfaceKind::Portal, 3600)
            .await
            .unwrap()
            .is_none(),
        "no portal for a company whose portal is off"
    );
}

/// The portal's roster is the company's own contacts, archived ones left out.
#[tokio::test]
async fn the_portal_roster_is_the_company_own() {
    let world = world().await;
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let kept = tx.add_contact(world.company_a, &a_contact()).await.unwrap();
    let gone = tx
        .add_contact(
            world.company_a,
            &ContactDraft {
                name: "Gone Person".into(),
                ..a_contact()
            },
        )
        .await
        .unwrap();
    tx.set_contact_archived(world.company_a, gone, true)
        .await
        .unwrap();
    tx.add_contact(world.company_b, &a_contact()).await.unwrap();
    tx.commit().await.unwrap();
    for kind in [
        Kind::ClientAdmin,
        Kind::Viewer,
        Kind::OwnOnly,
        Kind::SiteRestricted,
    ] {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let ids: Vec<String> = tx
            .contacts(world.company_a)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, [kept.to_string()], "{kind:?}");
        assert!(
            is_not_found(tx.contacts(world.company_b).await),
            "{kind:?}: another company's roster is not found"
        );
    }
}

/// Assets seeded by the owner: at A's two sites and at none, and one of B's.
async fn seed_assets(world: &World) -> Vec<(&'static str, portico_core::AssetId)> {
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let sites = tx.sites(world.company_a).await.unwrap();
    let site = |name: &str| sites.iter().find(|s| s.name == name).unwrap().id.clone();
    tx.set_custom_asset_fields(&["Asset tag"]).await.unwrap();
    let tag = tx.custom_asset_fields().await.unwrap()[0].id.to_string();
    let mut assets = Vec::new();
    for (name, company, site, warranty) in [
        ("laptop-a1", world.company_a, site("A1"), "2026-12-20"),
        ("server-a2", world.company_a, site("A2"), "2030-01-01"),
        ("phone-none", world.company_a, String::new(), ""),
        ("laptop-b", world.company_b, String::new(), "2026-12-20"),
    ] {
        let id = tx
            .add_asset(
                company,
                &AssetDraft {
                    name: name.into(),
                    kind: "laptop".into(),
                    site,
                    serial: format!("SN-{name}"),
                    warranty_end: warranty.into(),
                    notes: format!("note of {name}"),
                    custom: vec![(tag.clone(), format!("TAG-{name}"))],
                    ..AssetDraft::default()
                },
            )
            .await
            .unwrap();
        assets.push((name, id));
    }
    tx.commit().await.unwrap();
    assets
}

fn names(page: &portico_store::scoped::assets::AssetPage) -> Vec<String> {
    page.assets.iter().map(|a| a.name.clone()).collect()
}

/// Each principal lists exactly the assets its scope holds: its companies', and for a
/// site-restricted user those at its sites only; another company's asset is not found.
#[tokio::test]
async fn each_principal_lists_the_assets_its_scope_holds() {
    let world = world().await;
    let assets = seed_assets(&world).await;
    let id = |name: &str| assets.iter().find(|(n, _)| *n == name).unwrap().1;
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let listed = tx.assets(world.company_a, &AssetQuery::default()).await;
        let want: &[&str] = match kind {
            Kind::TechnicianB => &[],
            Kind::SiteRestricted => &["laptop-a1"],
            _ => &["laptop-a1", "phone-none", "server-a2"],
        };
        assert_eq!(names(&listed.unwrap()), want, "{kind:?}");
        assert!(
            is_not_found(tx.asset(world.company_a, id("laptop-b")).await),
            "{kind:?} reads B's asset under A"
        );
        let sees_b = matches!(kind, Kind::Owner | Kind::Billing | Kind::TechnicianB);
        assert_eq!(
            tx.asset(world.company_b, id("laptop-b")).await.is_ok(),
            sees_b,
            "{kind:?} reads B's asset"
        );
        if kind == Kind::SiteRestricted {
            assert!(is_not_found(
                tx.asset(world.company_a, id("server-a2")).await
            ));
            assert!(is_not_found(
                tx.asset(world.company_a, id("phone-none")).await
            ));
        }
        // An own-tickets-only user is shown no site: not its name, not which assets share one.
        if kind == Kind::OwnOnly {
            let page = tx
                .assets(world.company_a, &AssetQuery::default())
                .await
                .unwrap();
            assert!(
                page.assets
                    .iter()
                    .all(|a| a.site_id.is_none() && a.site_name.is_none())
            );
        }
    }
}

/// A list's count of matches, summed from the tallies the database keeps, is the number of
/// assets the reader is listed, for every principal, filter and change: a new asset, one moved
/// to another site and kind, one archived and restored.
#[tokio::test]
async fn asset_counts_follow_every_change() {
    let world = world().await;
    let assets = seed_assets(&world).await;
    let owner = world.scope(Kind::Owner).await;
    let sites = {
        let mut tx = world.store().scoped(&owner).await.unwrap();
        tx.sites(world.company_a).await.unwrap()
    };
    let site = |name: &str| sites.iter().find(|s| s.name == name).unwrap().id.clone();
    let check = async |when: &str| {
        for kind in KINDS {
            let scope = world.scope(kind).await;
            let mut tx = world.store().scoped(&scope).await.unwrap();
            let mut queries = vec![AssetQuery::default()];
            for archived in [false, true] {
                for asset_kind in [None, Some(AssetKind::Laptop), Some(AssetKind::Server)] {
                    for at in [None, Some(site("A1")), Some(site("A2"))] {
                        queries.push(AssetQuery {
                            archived,
                            kind: asset_kind,
                            site: at.map(|s| portico_core::SiteId::parse(&s).unwrap()),
                            ..AssetQuery::default()
                        });
                    }
                }
            }
            for query in queries {
                let Ok(page) = tx.assets(world.company_a, &query).await else {
                    continue;
                };
                // Every match: the same query searched for what every name holds ("-").
                let every = tx
                    .assets(
                        world.company_a,
                        &AssetQuery {
                            search: "-".into(),
                            ..query.clone()
                        },
                    )
                    .await
                    .unwrap();
                // The search counts its matches itself, and lists the first page of them.
                assert_eq!(
                    every.total.min(portico_store::scoped::assets::PAGE_SIZE),
                    every.assets.len() as i64,
                    "{when}, {kind:?}, {query:?}"
                );
                assert_eq!(page.total, every.total, "{when}, {kind:?}, {query:?}");
            }
        }
    };
    check("as seeded").await;
    // Searches ignore case, in every field searched.
    let mut tx = world.store().scoped(&owner).await.unwrap();
    for (words, want) in [("LAPTOP-A1", 1), ("sn-SERVER", 1), ("Sn-", 3)] {
        let page = tx
            .assets(
                world.company_a,
                &AssetQuery {
                    search: words.into(),
                    ..AssetQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (page.assets.len(), page.total),
            (want, want as i64),
            "{words}"
        );
    }
    drop(tx);
    let laptop = assets[0].1;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let mut draft = AssetDraft {
        name: "laptop-a1".into(),
        kind: "server".into(),
        site: site("A2"),
        ..AssetDraft::default()
    };
    tx.update_asset(world.company_a, laptop, &draft)
        .await
        .unwrap();
    draft.name = "desk-a1".into();
    draft.site = site("A1");
    draft.kind = "laptop".into();
    tx.add_asset(world.company_a, &draft).await.unwrap();
    tx.commit().await.unwrap();
    check("after a move and an addition").await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.set_asset_archived(world.company_a, assets[1].1, true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    check("after archiving").await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.set_asset_archived(world.company_a, assets[1].1, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    check("after restoring").await;
    // An import writes its assets many to a statement (and PostgreSQL tallies them once per
    // statement): 1,100 rows over three kinds and three sites are three statements.
    let table = portico_store::scoped::imports::ImportTable {
        headers: vec!["name".into(), "type".into(), "site".into()],
        rows: (0..1100u64)
            .map(|n| portico_store::scoped::imports::ImportRow {
                line: n + 2,
                cells: vec![
                    format!("imported-{n}"),
                    ["laptop", "server", "phone"][n as usize % 3].into(),
                    ["A1", "A2", ""][n as usize / 3 % 3].into(),
                ],
            })
            .collect(),
    };
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let outcome = tx
        .run_import(
            portico_core::ImportKind::Assets,
            &table,
            Some(world.company_a),
            false,
        )
        .await
        .unwrap();
    assert_eq!((outcome.created, outcome.problems), (1100, vec![]));
    tx.commit().await.unwrap();
    check("after an import").await;
}

/// A retired (archived) asset cannot be reported on, and is restored only with its company.
#[tokio::test]
async fn a_retired_asset_takes_no_new_tickets() {
    let world = world().await;
    let assets = seed_assets(&world).await;
    let laptop = assets[0].1;
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.set_asset_archived(world.company_a, laptop, true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let member = world.scope(Kind::Member).await;
    let mut tx = world.store().scoped_write(&member).await.unwrap();
    assert!(is_not_found(tx.asset_ref(laptop).await));
    drop(tx);
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.archive_company(world.company_a).await.unwrap();
    assert!(matches!(
        tx.set_asset_archived(world.company_a, laptop, false).await,
        Err(StoreError::Invalid(_))
    ));
}

/// The portal is sent only the fields the company shows: notes and the workspace's own fields
/// are hidden by default, searching a hidden field finds nothing, and a company's own choice
/// overrides the workspace's.
#[tokio::test]
async fn hidden_asset_fields_never_reach_the_portal() {
    let world = world().await;
    let assets = seed_assets(&world).await;
    let laptop = assets[0].1;
    let member = world.scope(Kind::Member).await;
    let owner = world.scope(Kind::Owner).await;
    let read = async |scope: &Scope| {
        let mut tx = world.store().scoped(scope).await.unwrap();
        tx.asset(world.company_a, laptop).await.unwrap()
    };
    let shown = read(&member).await;
    assert_eq!(shown.serial, "SN-laptop-a1");
    assert_eq!(shown.notes, "", "notes are hidden by default");
    assert!(shown.custom.is_empty(), "own fields are hidden by default");
    let staff = read(&owner).await;
    assert_eq!(staff.notes, "note of laptop-a1");
    assert_eq!(
        staff.custom,
        [("Asset tag".to_owned(), "TAG-laptop-a1".to_owned())]
    );

    // The workspace hides serial numbers and shows its asset tag.
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let tag = format!("custom:{}", tx.custom_asset_fields().await.unwrap()[0].id);
    tx.set_shown_asset_fields(None, Some(&["model", "warranty_end", tag.as_str()]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let shown = read(&member).await;
    assert_eq!(shown.serial, "", "hidden by the workspace");
    assert_eq!(
        shown.custom,
        [("Asset tag".to_owned(), "TAG-laptop-a1".to_owned())]
    );
    let mut tx = world.store().scoped(&member).await.unwrap();
    let search = AssetQuery {
        search: "SN-laptop".into(),
        ..AssetQuery::default()
    };
    assert!(
        tx.assets(world.company_a, &search)
            .await
            .unwrap()
            .assets
            .is_empty(),
        "a hidden field is not searched"
    );
    drop(tx);
    // Company A's own choice shows serials again and hides warranties, whose filter then does
    // nothing (it would reveal them).
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.set_shown_asset_fields(Some(world.company_a), Some(&["serial"]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let shown = read(&member).await;
    assert_eq!(shown.serial, "SN-laptop-a1");
    assert_eq!(shown.warranty_end, None);
    let mut tx = world.store().scoped(&member).await.unwrap();
    assert_eq!(
        names(&tx.assets(world.company_a, &search).await.unwrap()),
        ["laptop-a1"]
    );
    let ending = AssetQuery {
        warranty: Some(WarrantyFilter::EndingBy {
            today: "2026-12-01".into(),
            until: "2026-12-31".into(),
        }),
        ..AssetQuery::default()
    };
    assert_eq!(
        tx.assets(world.company_a, &ending)
            .await
            .unwrap()
            .assets
            .len(),
        3,
        "no warranty filter where warranties are hidden"
    );
    drop(tx);
    let mut tx = world.store().scoped(&owner).await.unwrap();
    assert_eq!(
        names(&tx.assets(world.company_a, &ending).await.unwrap()),
        ["laptop-a1"],
        "staff filter by warranty"
    );
}

/// Two owners saving a company's shown fields at the same moment leave one choice per field:
/// the later save waits for the earlier one and writes over it (on PostgreSQL both delete
/// nothing the other can see, then insert).
#[tokio::test]
async fn shown_asset_fields_saved_at_once_are_stored_once() {
    let world = world().await;
    let owner = world.scope(Kind::Owner).await;
    let mut first = world.store().scoped_write(&owner).await.unwrap();
    first
        .set_shown_asset_fields(Some(world.company_a), Some(&["serial"]))
        .await
        .unwrap();
    let second = {
        let store = world.store().clone();
        let owner = owner.clone();
        let company = world.company_a;
        tokio::spawn(async move {
            let mut tx = store.scoped_write(&owner).await.unwrap();
            tx.set_shown_asset_fields(Some(company), Some(&["model"]))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
    };
    // Long enough for the second save to reach its wait (SQLite's write lock, or PostgreSQL's
    // unique key); a slower machine only makes the saves run one after the other.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    second.await.unwrap();
    let fields = AssetField::ALL.len() as i64;
    let mut tx = world.store().system_unscoped().await.unwrap();
    assert_eq!(
        tx.count_rows("asset_field_visibility").await.unwrap(),
        fields,
        "one row per built-in field for company A, none for the workspace"
    );
    drop(tx);
    // The later save is the one kept, whole.
    let mut tx = world.store().scoped(&owner).await.unwrap();
    let shown: Vec<String> = tx
        .asset_field_settings(Some(world.company_a))
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.shown)
        .map(|f| f.key)
        .collect();
    assert_eq!(shown, ["model"]);
}

/// A PSA connector's statuses are the workspace's administration: owners read and map them;
/// other staff are refused, to the portal and another workspace the connector is not found, and a meaning no PSA
/// status can have, or a status the PSA no longer lists, changes nothing.
#[tokio::test]
async fn psa_statuses_are_mapped_by_owners_alone() {
    let world = world().await;
    let at = portico_store::now();
    let found = || {
        [
            ("2", "In Progress"),
            ("4", "With User"),
            ("21", "Waiting for Parts"),
        ]
        .map(|(id, name)| (id.to_owned(), name.to_owned()))
    };
    let mut sys = world.store().system_unscoped().await.unwrap();
    let mut connector_in = async |ws| {
        let id = sys
            .add_connector_with_records(world.store(), ws, ConnectorKind::HaloPsa, "Halo", &[], at)
            .await
            .unwrap();
        let due = DueTenant {
            workspace_id: ws,
            connector_id: id,
            connector_name: "Halo".into(),
            kind: ConnectorKind::HaloPsa,
            auth_url: String::new(),
            api_url: String::new(),
            home_tenant: String::new(),
            client_id: String::new(),
            secret: String::new(),
            external_id: "12".into(),
            tenant_name: "Acme".into(),
            company_id: world.company_a,
            sync_every_minutes: 60,
            inactive_after_days: 30,
            started_by: "schedule".into(),
            failures: 0,
            alerts_watermark: String::new(),
        };
        assert!(
            sys.psa_statuses_seen(&due, &found())
                .await
                .unwrap()
                .is_empty()
        );
        (id, due)
    };
    let (ours, due) = connector_in(world.ws1).await;
    let (theirs, _) = connector_in(world.ws2).await;
    sys.commit().await.unwrap();

    let parts = vec![("21".to_owned(), Some(TicketStatus::OnHold))];
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped_write(&scope).await.unwrap();
        // Staff who are not owners are refused; to the portal, the console's things do not
        // exist.
        let expected = match kind {
            Kind::Owner => Answer::Done,
            Kind::Billing | Kind::TechnicianA | Kind::TechnicianB | Kind::Sales => {
                Answer::Forbidden
            }
            _ => Answer::NotFound,
        };
        assert_eq!(answer(tx.psa_statuses(ours).await), expected, "{kind:?}");
        assert_eq!(
            answer(tx.set_psa_status_meanings(ours, &parts).await),
            expected,
            "{kind:?}"
        );
        drop(tx);
    }
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    assert_eq!(answer(tx.psa_statuses(theirs).await), Answer::NotFound);
    assert_eq!(
        answer(tx.set_psa_status_meanings(theirs, &parts).await),
        Answer::NotFound
    );
    for refused in [
        // No PSA status means Closed (a closed ticket is a resolved one there).
        vec![("21".to_owned(), Some(TicketStatus::Closed))],
        // Not a status the PSA listed.
        vec![("99".to_owned(), Some(TicketStatus::Open))],
        // Nothing would be left meaning Open.
        vec![
            ("2".to_owned(), Some(TicketStatus::OnHold)),
            ("21".to_owned(), Some(TicketStatus::OnHold)),
        ],
    ] {
        assert_eq!(
            answer(tx.set_psa_status_meanings(ours, &refused).await),
            Answer::Refused
        );
    }
    tx.set_psa_status_meanings(ours, &parts).await.unwrap();
    tx.commit().await.unwrap();

    // The run reads the owner's choice. A status gone from the PSA is forgotten, unless an
    // owner chose its meaning.
    let mut sys = world.store().system_unscoped().await.unwrap();
    let chosen = sys.psa_statuses_seen(&due, &found()).await.unwrap();
    assert_eq!(chosen.get("21"), Some(&TicketStatus::OnHold));
    assert_eq!(chosen.len(), 1);
    let chosen = sys.psa_statuses_seen(&due, &found()[..1]).await.unwrap();
    assert_eq!(chosen.get("21"), Some(&TicketStatus::OnHold));
    sys.commit().await.unwrap();
    let mut tx = world.store().scoped(&owner).await.unwrap();
    let listed: Vec<(String, TicketStatus)> = tx
        .psa_statuses(ours)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name.clone(), s.meaning()))
        .collect();
    assert_eq!(
        listed,
        [
            ("In Progress".to_owned(), TicketStatus::Open),
            ("Waiting for Parts".to_owned(), TicketStatus::OnHold)
        ]
    );
}

/// Work logged on tickets adds up against the plan: included hours used, billable beyond them,
/// an amount only for billing-entitled readers; the portal's month is its client admins'.
#[tokio::test]
async fn logged_time_adds_up_against_the_plan() {
    let world = world().await;
    let tech = world.scope(Kind::TechnicianA).await;
    // The plan includes one hour a month and bills 10.00 an hour beyond.
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.update_company(
        world.company_a,
        &CompanyDraft {
            name: "A".into(),
            plan_name: "Plan".into(),
            included_hours: "1".into(),
            currency: "AUD".into(),
            monthly_fee: "1".into(),
            hourly_rate: "10".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped_write(&tech).await.unwrap();
    let refused = tx
        .log_time(
            world.ticket("A1"),
            &TimeDraft {
                spent: "all day long".into(),
                worked_on: "2026-02-30".into(),
                ..TimeDraft::default()
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(StoreError::InvalidFields(f)) if f.len() == 2),
        "{refused:?}"
    );
    for (ticket, spent, day, billable) in [
        ("A1", "45", "2026-11-03", false),
        ("A2", "1:00", "2026-11-20", false),
        ("A1", "30m", "2026-11-21", true),
        ("A1", "2h", "2026-10-31", false),
    ] {
        tx.log_time(
            world.ticket(ticket),
            &TimeDraft {
                spent: spent.into(),
                worked_on: day.into(),
                note: format!("{ticket} {spent}"),
                billable,
            },
        )
        .await
        .unwrap();
    }
    assert!(
        is_not_found(tx.log_time(world.ticket("B"), &TimeDraft::default()).await),
        "another company's ticket"
    );
    tx.commit().await.unwrap();

    let world = &world;
    let month = async |scope: Scope| {
        let mut tx = world.store().scoped(&scope).await.unwrap();
        tx.work_month(world.company_a, "2026-11").await
    };
    let staff = month(owner.clone()).await.unwrap();
    assert_eq!(staff.entries.len(), 3, "October's entry is another month");
    assert_eq!(staff.allowance_minutes, Some(60));
    assert_eq!(staff.included_minutes, 105);
    assert_eq!(staff.over_allowance_minutes, 45);
    assert_eq!(
        staff.billable_minutes, 75,
        "30 billable and 45 beyond the hour"
    );
    assert_eq!(staff.amount, Some((1_250, "AUD".into())), "1.25 h at 10.00");
    let admin = month(world.scope(Kind::ClientAdmin).await).await.unwrap();
    assert_eq!(admin.billable_minutes, 75);
    assert_eq!(admin.amount, None, "this admin has no billing access");
    assert!(
        is_not_found(month(world.scope(Kind::Member).await).await),
        "the Work section is the client admins'"
    );
    let mut tx = world.store().scoped(&tech).await.unwrap();
    let mine = tx.my_time("2026-11").await.unwrap();
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|e| e.staff_name == "tech-a@msp.test"));
    assert_eq!(tx.ticket_time(world.ticket("A1")).await.unwrap().len(), 3);
}

/// Each principal reads the maintenance its scope holds: a site-restricted user the records at
/// its sites and the company-wide ones, with only its sites' assets; an own-only user no sites.
/// Only owners and the company's technicians record it.
#[tokio::test]
async fn each_principal_reads_and_records_the_maintenance_its_scope_allows() {
    use portico_store::scoped::maintenance::{MaintenanceDraft, MaintenanceFilter};
    let world = world().await;
    let assets = seed_assets(&world).await;
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let sites = tx.sites(world.company_a).await.unwrap();
    let site = |name: &str| sites.iter().find(|s| s.name == name).unwrap().id.clone();
    let zone = portico_core::Zone::utc();
    let yesterday = zone.local_input(portico_store::now() - 24 * 3600);
    let draft = |title: &str, sites: Vec<String>, assets: &str| MaintenanceDraft {
        kind: "patching".into(),
        outcome: "succeeded".into(),
        title: title.into(),
        summary: String::new(),
        starts_at: yesterday.clone(),
        ends_at: String::new(),
        sites,
        assets: assets.into(),
    };
    for (title, sites, assets) in [
        ("at-a1", vec![site("A1")], ""),
        ("at-a2", vec![], "server-a2"),
        ("company-wide", vec![], ""),
        // An asset at no site: beyond a site-restricted reader, like the asset itself.
        ("phone-only", vec![], "phone-none"),
    ] {
        tx.add_maintenance(world.company_a, &draft(title, sites, assets), &zone)
            .await
            .unwrap();
    }
    let b_record = tx
        .add_maintenance(world.company_b, &draft("at-b", vec![], "laptop-b"), &zone)
        .await
        .unwrap();
    // An asset of another company cannot be named.
    assert!(matches!(
        tx.add_maintenance(world.company_a, &draft("x", vec![], "laptop-b"), &zone)
            .await,
        Err(StoreError::InvalidFields(_))
    ));
    tx.commit().await.unwrap();
    let server = assets.iter().find(|(n, _)| *n == "server-a2").unwrap().1;

    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let listed = tx
            .maintenance(world.company_a, &MaintenanceFilter::default())
            .await;
        if kind == Kind::TechnicianB {
            assert!(is_not_found(listed), "{kind:?} reads A's maintenance");
        } else {
            let list = listed.unwrap();
            let titles: BTreeSet<&str> = list.history.iter().map(|r| r.title.as_str()).collect();
            let want: BTreeSet<&str> = match kind {
                Kind::SiteRestricted => ["at-a1", "company-wide"].into(),
                _ => ["at-a1", "at-a2", "company-wide", "phone-only"].into(),
            };
            assert_eq!(titles, want, "{kind:?}");
            let a1 = list.history.iter().find(|r| r.title == "at-a1").unwrap();
            assert_eq!(a1.sites.is_empty(), kind == Kind::OwnOnly, "{kind:?}");
            // The own-only reader is told more was touched than it is shown.
            assert_eq!(a1.more_targets(), kind == Kind::OwnOnly, "{kind:?}");
            let wide = list
                .history
                .iter()
                .find(|r| r.title == "company-wide")
                .unwrap();
            assert_eq!(wide.target_count, 0);
            if let Some(a2) = list.history.iter().find(|r| r.title == "at-a2") {
                assert_eq!(a2.assets.first().map(|a| a.0), Some(server), "{kind:?}");
            }
        }
        assert!(
            is_not_found(tx.maintenance_record(world.company_a, b_record).await),
            "{kind:?} reads B's record under A"
        );
        drop(tx);
        let mut tx = world.store().scoped_write(&scope).await.unwrap();
        let added = tx
            .add_maintenance(world.company_a, &draft("new", vec![], ""), &zone)
            .await;
        assert_eq!(
            added.is_ok(),
            matches!(kind, Kind::Owner | Kind::TechnicianA),
            "{kind:?} records maintenance"
        );
    }
}

/// Invoices are read by owners and billing staff only (technicians and sales are refused; a
/// portal user without billing access finds no such section); drafts are edited, sent ones not.
#[tokio::test]
async fn only_billing_principals_read_invoices_and_a_sent_one_is_never_changed() {
    use portico_store::scoped::invoices::{InvoiceAction, InvoiceDraft, InvoiceFilter, LineDraft};
    let world = world().await;
    let owner = world.scope(Kind::Owner).await;
    let zone = portico_core::Zone::utc();
    let draft = InvoiceDraft {
        issued_on: "2026-12-01".into(),
        due_on: "2026-12-15".into(),
        notes: String::new(),
        lines: vec![LineDraft {
            description: "Managed services".into(),
            quantity: "1".into(),
            unit_price: "1,200".into(),
            tax_rate: "10".into(),
        }],
    };
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    let sent = tx.create_invoice(world.company_a, &draft).await.unwrap();
    tx.set_invoice_status(world.company_a, sent, InvoiceAction::Send)
        .await
        .unwrap();
    let kept_draft = tx.create_invoice(world.company_a, &draft).await.unwrap();
    assert!(matches!(
        tx.update_invoice(world.company_a, sent, &draft).await,
        Err(StoreError::Invalid(_))
    ));
    tx.update_invoice(world.company_a, kept_draft, &draft)
        .await
        .unwrap();
    // Paying or voiding a draft is refused (a draft is discarded: deleted, never numbered).
    for action in [InvoiceAction::MarkPaid, InvoiceAction::Void] {
        assert!(
            tx.set_invoice_status(world.company_a, kept_draft, action)
                .await
                .is_err()
        );
    }
    let thrown = tx.create_invoice(world.company_a, &draft).await.unwrap();
    tx.set_invoice_status(world.company_a, thrown, InvoiceAction::Discard)
        .await
        .unwrap();
    assert!(is_not_found(
        tx.invoice(world.company_a, thrown, &zone).await
    ));
    let invoice = tx.invoice(world.company_a, sent, &zone).await.unwrap();
    assert_eq!(invoice.summary.total_cents, 132_000);
    assert!(invoice.summary.number.is_some());
    tx.commit().await.unwrap();

    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let listed = tx
            .invoices(world.company_a, &InvoiceFilter::default(), &zone)
            .await;
        match kind {
            Kind::Owner | Kind::Billing => {
                assert_eq!(listed.unwrap().invoices.len(), 2, "{kind:?}");
            }
            Kind::TechnicianA | Kind::Sales => {
                assert!(matches!(listed, Err(StoreError::Forbidden)), "{kind:?}");
            }
            _ => assert!(is_not_found(listed), "{kind:?}"),
        }
        let read = tx.invoice(world.company_a, sent, &zone).await;
        assert_eq!(
            read.is_ok(),
            matches!(kind, Kind::Owner | Kind::Billing),
            "{kind:?} reads the invoice"
        );
    }
}

/// A change request is its requester's and the client admins'; staff who work tickets act on
/// it; a purchase waits for the purchase approver; viewers may not raise one.
#[tokio::test]
async fn change_requests_are_seen_and_moved_by_those_their_rules_allow() {
    use portico_store::scoped::change_requests::{ChangeDecision, ChangeDraft, ChangeFilter};
    let world = world().await;
    let draft = |kind: &str, title: &str| ChangeDraft {
        kind: kind.into(),
        target: "general".into(),
        target_id: String::new(),
        title: title.into(),
        details: "Please.".into(),
    };
    let member = world.scope(Kind::Member).await;
    let mut tx = world.store().scoped_write(&member).await.unwrap();
    let mine = tx
        .raise_change_request(
            world.company_a,
            &draft("update", "member's"),
            "http://portal",
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let admin = world.scope(Kind::ClientAdmin).await;
    let mut tx = world.store().scoped_write(&admin).await.unwrap();
    let purchase = tx
        .raise_change_request(
            world.company_a,
            &draft("purchase", "admin's purchase"),
            "http://portal",
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let viewer = world.scope(Kind::Viewer).await;
    let mut tx = world.store().scoped_write(&viewer).await.unwrap();
    assert!(matches!(
        tx.raise_change_request(world.company_a, &draft("update", "x"), "http://portal")
            .await,
        Err(StoreError::Forbidden)
    ));
    drop(tx);

    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped(&scope).await.unwrap();
        let titles: BTreeSet<String> = tx
            .change_requests(&ChangeFilter {
                all: true,
                ..ChangeFilter::default()
            })
            .await
            .map(|p| p.requests.into_iter().map(|r| r.title).collect())
            .unwrap_or_default();
        let want: BTreeSet<String> = match kind {
            Kind::Owner | Kind::Billing | Kind::Sales | Kind::TechnicianA | Kind::ClientAdmin => {
                ["member's", "admin's purchase"].map(String::from).into()
            }
            Kind::Member => ["member's"].map(String::from).into(),
            _ => BTreeSet::new(),
        };
        assert_eq!(titles, want, "{kind:?}");
    }

    // The desk cannot act on a purchase before its approver; the member is made the approver.
    let tech = world.scope(Kind::TechnicianA).await;
    let mut tx = world.store().scoped_write(&tech).await.unwrap();
    assert!(
        tx.decide_change_request(purchase, ChangeDecision::Approve, "", "http://portal")
            .await
            .is_err()
    );
    tx.decide_change_request(mine, ChangeDecision::Done, "Done it.", "http://portal")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped_write(&member).await.unwrap();
    assert!(matches!(
        tx.decide_purchase(purchase, true, "", "http://portal")
            .await,
        Err(StoreError::NotFound)
    ));
    drop(tx);
    let owner = world.scope(Kind::Owner).await;
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    tx.add_contact(
        world.company_a,
        &ContactDraft {
            name: "Approver".into(),
            email: "member@a.test".into(),
            roles: vec![ContactRole::PurchaseApprover],
            ..a_contact()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped_write(&member).await.unwrap();
    tx.decide_purchase(purchase, true, "", "http://portal")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = world.store().scoped(&admin).await.unwrap();
    let moved = tx.change_request(purchase).await.unwrap();
    assert_eq!(moved.status, portico_core::ChangeStatus::Open);
    assert_eq!(moved.events.len(), 2);
    drop(tx);

    // Whoever the company names its purchase approver decides, a viewer (who raises nothing)
    // and a user of another company of the group granted this one included.
    let mut tx = world.store().scoped_write(&owner).await.unwrap();
    for email in ["viewer@a.test", "two@b.test"] {
        tx.add_contact(
            world.company_a,
            &ContactDraft {
                name: "Approver".into(),
                email: email.into(),
                roles: vec![ContactRole::PurchaseApprover],
                ..a_contact()
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    for (kind, approve) in [(Kind::Viewer, false), (Kind::GrantedFromB, true)] {
        let mut tx = world.store().scoped_write(&admin).await.unwrap();
        let purchase = tx
            .raise_change_request(
                world.company_a,
                &draft("purchase", &format!("for {kind:?}")),
                "http://portal",
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let approver = world.scope(kind).await;
        let mut tx = world.store().scoped_write(&approver).await.unwrap();
        assert!(
            tx.is_purchase_approver(world.company_a).await.unwrap(),
            "{kind:?}"
        );
        tx.decide_purchase(purchase, approve, "Not this quarter.", "http://portal")
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        tx.commit().await.unwrap();
        let mut tx = world.store().scoped(&admin).await.unwrap();
        let status = tx.change_request(purchase).await.unwrap().status;
        let want = if approve {
            portico_core::ChangeStatus::Open
        } else {
            portico_core::ChangeStatus::Declined
        };
        assert_eq!(status, want, "{kind:?}");
    }
}

/// A request abandoned while its transaction begins (a client that disconnects, a timeout)
/// leaves nothing behind on its connection: the writes after it still run in transactions of
/// their own. (On PostgreSQL a cancelled BEGIN once returned the connection to the pool inside
/// a read-only transaction, and the next request's writes failed in it.)
#[tokio::test]
async fn a_transaction_abandoned_while_it_begins_leaves_its_connection_clean() {
    let world = world().await;
    let member = world.scope(Kind::Member).await;
    let owner = world.scope(Kind::Owner).await;
    for attempt in 0..120u64 {
        let read = async {
            let mut tx = world.store().scoped(&member).await?;
            tx.tickets(&TicketQuery::default()).await
        };
        // Cut off at a different point of the BEGIN's round trip each time.
        let _ = tokio::time::timeout(std::time::Duration::from_micros(attempt * 15), read).await;
        let mut tx = world.store().scoped_write(&owner).await.unwrap();
        tx.set_custom_asset_fields(&["Asset tag", &format!("Attempt {attempt}")])
            .await
            .unwrap_or_else(|e| panic!("write after abandoned read {attempt}: {e:?}"));
        tx.commit().await.unwrap();
    }
}

/// A read or a session lookup abandoned midway (a client that disconnects, a load generator
/// that stops with requests in flight) gives its connection back once the server has finished
/// answering, rather than closing it: a burst of them opens no new server processes, each of
/// which would plan every statement it runs anew. PostgreSQL only: SQLite has no connections
/// to lose.
#[tokio::test]
async fn abandoned_reads_and_lookups_keep_their_connections() {
    use sqlx::Connection;
    if !TestDatabase::postgres_requested() {
        return;
    }
    let world = world().await;
    let member = world.scope(Kind::Member).await;
    let token = world.session(Kind::Member).await;
    let read = async || {
        let mut tx = world.store().scoped(&member).await?;
        tx.tickets(&TicketQuery::default()).await
    };
    let lookup = async || {
        let mut auth = world.store().auth_read(world.ws1).await?;
        let resolved = auth
            .resolve_session(&token, SurfaceKind::Portal, 3600)
            .await?;
        auth.commit().await?;
        Ok::<_, StoreError>(resolved.is_some())
    };
    // Both lanes hold connections before the count starts.
    let page = read().await.unwrap().len();
    assert!(page > 0);
    assert!(lookup().await.unwrap());
    let before = sessions_begun(&world.db).await;
    let mut owner = sqlx::PgConnection::connect(&world.db.owner_url)
        .await
        .unwrap();
    let within = std::time::Duration::from_millis(100);
    for _ in 0..10 {
        // The tables locked, each statement waits in the server until it is abandoned.
        sqlx::raw_sql("BEGIN; LOCK TABLE tickets, sessions IN ACCESS EXCLUSIVE MODE")
            .execute(&mut owner)
            .await
            .unwrap();
        assert!(tokio::time::timeout(within, read()).await.is_err());
        assert!(tokio::time::timeout(within, lookup()).await.is_err());
        sqlx::raw_sql("COMMIT").execute(&mut owner).await.unwrap();
        // The abandoned statements finish, their connections drained in the background.
        tokio::time::sleep(2 * within).await;
    }
    owner.close().await.unwrap();
    assert_eq!(read().await.unwrap().len(), page);
    assert!(lookup().await.unwrap());
    // A session's start is counted once its server process reports it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let begun = sessions_begun(&world.db).await - before;
    // The count's own two and the owner's, at most the store's own four (a pool that grows to
    // its size while some are drained), and one to spare (a session reports its start late on a
    // busy server); 20 abandoned statements closed their connections before.
    assert!(
        begun <= 8,
        "{begun} sessions begun for 20 abandoned statements"
    );
}

/// How many sessions the test database's server has begun so far (each a server process),
/// this count's own included.
async fn sessions_begun(db: &TestDatabase) -> i64 {
    use sqlx::Connection;
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let (sessions,): (i64,) =
        sqlx::query_as("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            .fetch_one(&mut owner)
            .await
            .unwrap();
    owner.close().await.unwrap();
    sessions
}

/// Files a technician adds in the PSA to a reply brought in earlier are written by a
/// connector's scope alone: every principal is refused, and a connector reaches neither
/// another company's ticket nor a message it did not bring in.
#[tokio::test]
async fn only_a_connector_adds_files_to_the_replies_it_brought_in() {
    let world = world().await;
    let missing = ["kept-in-the-psa.pdf".to_owned()];
    let message = portico_core::MessageId::new();
    for kind in KINDS {
        let scope = world.scope(kind).await;
        let mut tx = world.store().scoped_write(&scope).await.unwrap();
        let added = tx
            .add_files_to_tool_reply(world.ticket("A1"), message, &[], &missing)
            .await;
        assert!(
            matches!(added, Err(StoreError::Forbidden)),
            "{kind:?}: {added:?}"
        );
    }
    let connector = Scope::for_connector(world.ws1, world.company_a, "HaloPSA");
    for name in ["B", "A1"] {
        let mut tx = world.store().scoped_write(&connector).await.unwrap();
        assert!(
            is_not_found(
                tx.add_files_to_tool_reply(world.ticket(name), message, &[], &missing)
                    .await
            ),
            "{name}"
        );
    }
}

/// Ends every connection of the application role to the test database (PostgreSQL; waits until
/// each backend is gone). False when the test role may not (it lacks `pg_signal_backend`) and
/// on SQLite, which has nothing to end.
async fn end_app_connections(db: &TestDatabase) -> bool {
    use sqlx::Connection;
    if !TestDatabase::postgres_requested() {
        return false;
    }
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let (may_end,): (bool,) = sqlx::query_as(
        "SELECT pg_has_role(current_user, 'pg_signal_backend', 'USAGE') \
         OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    if !may_end {
        eprintln!("the test role may not end other roles' backends (pg_signal_backend): skipped");
        return false;
    }
    let app: sqlx::postgres::PgConnectOptions = db.app_url.parse().unwrap();
    let pids: Vec<(i32,)> = sqlx::query_as(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = $1",
    )
    .bind(app.get_username())
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let mut ended = 0;
    for (pid,) in pids {
        let (done,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1, 5000)")
            .bind(pid)
            .fetch_one(&mut owner)
            .await
            .unwrap();
        ended += i32::from(done);
    }
    assert!(ended > 0, "the store's connections were ended");
    true
}

/// On PostgreSQL a lookup connection keeps the sign-in fence of the workspace it last served
/// (`pg_lane`): sessions of two workspaces looked up in turn each resolve on the connection the
/// other just used, and a session never resolves in a workspace not its own.
#[tokio::test]
async fn sessions_of_two_workspaces_resolve_in_turn() {
    let world = world().await;
    let ours = world.session(Kind::Member).await;
    let mut tx = world.store().system_unscoped().await.unwrap();
    let user = tx
        .add_portal_user(
            world.ws2,
            &SeedPortalUser {
                company: world.company_c,
                email: "lookup@c.test",
                name: "lookup@c.test",
                role: PortalRole::Member,
                own_only: false,
                billing_access: false,
                password_hash: None,
                sites: &[],
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let theirs = world
        .session_in(world.ws2, SessionUser::Portal(user), SurfaceKind::Portal)
        .await;
    let resolves = async |ws: WorkspaceId, token: &str| {
        let mut auth = world.store().auth_read(ws).await.unwrap();
        let resolved = auth
            .resolve_session(token, SurfaceKind::Portal, 3600)
            .await
            .unwrap();
        auth.commit().await.unwrap();
        resolved.is_some()
    };
    for _ in 0..3 {
        assert!(resolves(world.ws1, &ours).await, "ours, in our workspace");
        assert!(resolves(world.ws2, &theirs).await, "theirs, in theirs");
        assert!(!resolves(world.ws2, &ours).await, "ours, in theirs");
        assert!(!resolves(world.ws1, &theirs).await, "theirs, in ours");
    }
}

/// A request's session lookup runs on connections of its own, which on PostgreSQL are lent
/// again without a round trip to test them (`pg_lane`), as the pool lends one used in the last
/// few seconds: a connection that the server closed while it sat idle is replaced, and the
/// lookup, a read outside a transaction and a transaction still run.
#[tokio::test]
async fn a_session_lookup_outlives_its_closed_connection() {
    let world = world().await;
    let token = world.session(Kind::Member).await;
    let resolve = || async {
        let mut auth = world.store().auth_read(world.ws1).await.unwrap();
        let resolved = auth
            .resolve_session(&token, SurfaceKind::Portal, 3600)
            .await
            .unwrap();
        auth.commit().await.unwrap();
        resolved.map(|r| r.id_hash)
    };
    let first = resolve().await;
    assert!(first.is_some(), "the session resolves");
    let ended = end_app_connections(&world.db).await;
    assert_eq!(
        resolve().await,
        first,
        "the lookup answers on a new connection"
    );
    assert_eq!(resolve().await, first, "and again on the one it kept");
    // The pool's connections were ended too, and are lent untested when used moments before.
    let public = world.store().public().await.unwrap();
    assert!(
        public.resolve_host("nowhere.test").await.unwrap().is_none(),
        "a read outside a transaction runs on another connection"
    );
    if ended {
        end_app_connections(&world.db).await;
    }
    // The sign-in's transactions begin on other connections (`sql::begin_with`).
    let member = world.scope(Kind::Member).await;
    let mut tx = world.store().scoped(&member).await.unwrap();
    // Another company's: its own company is known visible without a statement.
    assert!(is_not_found(tx.visible_company(world.company_b).await));
}
