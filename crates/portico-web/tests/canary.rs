//! Canary strings seeded into each company's records, internal notes and billing fields never
//! appear in any response to a principal who may not see them — on any page, for any object.

mod common;

use common::{CONSOLE, Object, PORTAL, TestApp, Who, fee_canary, objects, path_for};
use portico_store::SurfaceKind;

#[derive(Clone, Copy, PartialEq)]
enum Co {
    A,
    B,
    C,
}

fn staff_sees(who: Who, co: Co) -> bool {
    match who {
        Who::Owner | Who::Billing => co != Co::C,
        Who::TechnicianAssigned | Who::Sales => co == Co::A,
        Who::TechnicianNotAssigned => co == Co::B,
        _ => false,
    }
}

fn reads_tickets(who: Who) -> bool {
    matches!(
        who,
        Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned
    )
}

/// Every canary and whether `who` may see it.
fn canaries(app: &TestApp, who: Who) -> Vec<(String, bool)> {
    let fx = &app.fx;
    let co_of = |c| {
        if c == fx.company_a {
            Co::A
        } else if c == fx.company_b {
            Co::B
        } else {
            Co::C
        }
    };
    let mut list = Vec::new();
    for t in &fx.tickets {
        let co = co_of(t.company);
        let portal_may = who.is_portal()
            && co == Co::A
            && (who != Who::OwnTicketsOnly || t.requester == fx.portal(who))
            && (who != Who::SiteRestricted || t.site == fx.site_a1);
        let staff_may = staff_sees(who, co) && reads_tickets(who);
        list.push((t.canary.clone(), portal_may || staff_may));
        list.push((format!("{}-REPLY", t.canary), portal_may || staff_may));
        list.push((format!("{}-FILE", t.canary), portal_may || staff_may));
        // Internal notes and their files: never on the portal.
        list.push((format!("{}-NOTE", t.canary), staff_may));
        list.push((format!("{}-NOTEFILE", t.canary), staff_may));
    }
    for (tag, co) in [("A", Co::A), ("B", Co::B), ("C", Co::C)] {
        let portal_own = who.is_portal() && co == Co::A;
        let name_ok =
            portal_own || (who == Who::TwoCompanyUser && co == Co::B) || staff_sees(who, co);
        list.push((format!("CANARY-NAME-{tag}"), name_ok));
        // The roster is the company's own Contacts section on the portal.
        list.push((
            format!("CANARY-CONTACT-{tag}"),
            staff_sees(who, co) || portal_own,
        ));
        list.push((
            format!("CANARY-PLAN-{tag}"),
            staff_sees(who, co) || (portal_own && who == Who::ClientAdmin),
        ));
        let billing_staff = matches!(who, Who::Owner | Who::Billing) && staff_sees(who, co);
        list.push((
            fee_canary(tag.chars().next().unwrap()),
            billing_staff || (portal_own && who == Who::ClientAdmin),
        ));
    }
    // Connector-fed records: licences for staff who serve or bill the company and everyone on
    // its portal, their price for billing readers only; directory users for staff who serve it
    // and the portal's client admins; an unmapped tenant's name for the owners alone.
    for (tag, co) in [("A", Co::A), ("B", Co::B), ("C", Co::C)] {
        let portal_own = who.is_portal() && co == Co::A;
        let licence_staff = staff_sees(who, co)
            && matches!(
                who,
                Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned | Who::Billing
            );
        list.push((format!("CANARY-SKU-{tag}"), licence_staff || portal_own));
        let billing_staff = matches!(who, Who::Owner | Who::Billing) && staff_sees(who, co);
        list.push((
            common::licence_price_canary(tag.chars().next().unwrap()),
            billing_staff || (portal_own && who == Who::ClientAdmin),
        ));
        // Security alerts and e-mail domain health: staff who serve the company, and the
        // client admins of its portal (the Security section).
        for kind in ["ALERT", "DOMAIN"] {
            list.push((
                format!("CANARY-{kind}-{tag}"),
                (staff_sees(who, co) && reads_tickets(who))
                    || (portal_own && who == Who::ClientAdmin),
            ));
        }
        // Published penetration tests: the same staff and client admins; A's draft: staff only.
        list.push((
            format!("CANARY-PENTEST-{tag}"),
            (staff_sees(who, co) && reads_tickets(who)) || (portal_own && who == Who::ClientAdmin),
        ));
        if tag == "A" {
            list.push((
                "CANARY-PENTESTDRAFT-A".to_owned(),
                staff_sees(who, co) && reads_tickets(who),
            ));
        }
        // Compliance: staff's judgement reaches the client admins through the assessment's
        // findings (the Compliance section); its evidence file stays with staff.
        list.push((
            format!("CANARY-JUDGED-{tag}"),
            (staff_sees(who, co) && reads_tickets(who)) || (portal_own && who == Who::ClientAdmin),
        ));
        list.push((
            format!("CANARY-EVIDENCE-{tag}"),
            staff_sees(who, co) && reads_tickets(who),
        ));
        // Backup jobs: the same staff, and everyone on the company's portal.
        list.push((
            format!("CANARY-BACKUP-{tag}"),
            (staff_sees(who, co) && reads_tickets(who)) || portal_own,
        ));
        list.push((
            format!("CANARY-DIRUSER-{tag}"),
            (staff_sees(who, co) && reads_tickets(who)) || (portal_own && who == Who::ClientAdmin),
        ));
    }
    list.push(("CANARY-TENANT-UNMAPPED".into(), who == Who::Owner));
    let site_a2 = staff_sees(who, Co::A)
        || matches!(
            who,
            Who::Viewer | Who::Member | Who::ClientAdmin | Who::TwoCompanyUser
        );
    list.push(("CANARY-SITE-A2".into(), site_a2));
    list.push(("CANARY-SITE-B1".into(), staff_sees(who, Co::B)));
    list.push(("CANARY-SITE-C1".into(), false));
    // Assets: A's at its two sites and at none, B's, C's; notes are hidden from the portal.
    let portal_a = who.is_portal();
    for (tag, co, site_restricted_sees) in [
        ("A1", Co::A, true),
        ("A2", Co::A, false),
        ("A0", Co::A, false),
        ("B", Co::B, false),
        ("C", Co::C, false),
    ] {
        let portal_sees =
            portal_a && co == Co::A && (who != Who::SiteRestricted || site_restricted_sees);
        list.push((
            format!("CANARY-ASSET-{tag}"),
            staff_sees(who, co) || portal_sees,
        ));
        list.push((format!("CANARY-ASSETNOTE-{tag}"), staff_sees(who, co)));
    }
    // Change requests: staff who work tickets of the company; on the portal, the requester
    // (the member) and the client admin.
    let works = |co| {
        matches!(
            who,
            Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned
        ) && staff_sees(who, co)
    };
    list.push((
        "CANARY-CR-A-MEMBER".into(),
        works(Co::A) || matches!(who, Who::Member | Who::ClientAdmin),
    ));
    list.push((
        "CANARY-CR-A-ADMIN".into(),
        works(Co::A) || who == Who::ClientAdmin,
    ));
    list.push(("CANARY-CR-B".into(), works(Co::B)));
    list.push(("CANARY-CR-C".into(), false));
    // Invoices: billing staff and the billing-entitled client admin; drafts never on the portal.
    let billing_staff = |co| matches!(who, Who::Owner | Who::Billing) && staff_sees(who, co);
    list.push((
        "CANARY-INVOICE-A".into(),
        billing_staff(Co::A) || who == Who::ClientAdmin,
    ));
    list.push(("CANARY-DRAFT-A".into(), billing_staff(Co::A)));
    list.push(("CANARY-INVOICE-B".into(), billing_staff(Co::B)));
    list.push(("CANARY-INVOICE-C".into(), false));
    // Maintenance: a site-restricted user sees their site's and the company-wide records only.
    for (tag, co, site_restricted_sees) in [
        ("A1", Co::A, true),
        ("A2", Co::A, false),
        ("A0", Co::A, true),
        ("B", Co::B, false),
        ("C", Co::C, false),
    ] {
        let portal_sees =
            portal_a && co == Co::A && (who != Who::SiteRestricted || site_restricted_sees);
        list.push((
            format!("CANARY-MAINT-{tag}"),
            staff_sees(who, co) || portal_sees,
        ));
    }
    list
}

#[tokio::test]
async fn no_response_carries_a_canary_its_reader_may_not_see() {
    let app = TestApp::spawn().await;
    // Each company's domains as a check found them, a canary in every finding.
    let mut sys = app.store().system_unscoped().await.unwrap();
    let now = portico_store::now();
    for due in sys
        .claim_due_domain_checks(now, now + 300, 50)
        .await
        .unwrap()
    {
        let tag = if due.domain == "a.test" { "A" } else { "B" };
        let report = format!(
            r#"[{{"check":"spf","level":"bad","summary":"CANARY-DOMAIN-{tag}","fix":"","record":""}}]"#
        );
        sys.save_domain_report(&due, &report, "bad", now)
            .await
            .unwrap();
        let found = std::collections::BTreeMap::from([(
            "someone".to_owned(),
            vec![format!("CANARY-DOMAIN-{tag}-BREACH")],
        )]);
        sys.save_breach_search(&due, &found, now).await.unwrap();
    }
    // Each company's endpoint protection from Huntress: an agent on none of its computers (the
    // card names them all) and an incident report whose title is the alert canary.
    let edr = |tag: char| portico_store::edr_sync::EdrSnapshot {
        agents: vec![portico_store::edr_sync::AgentRecord {
            external_id: format!("agent-{tag}"),
            hostname: format!("host-{tag}"),
            serial: String::new(),
            platform: "windows".into(),
            os: String::new(),
            last_seen_at: Some(now),
        }],
        incidents: vec![portico_store::connector_sync::AlertRecord {
            external_id: format!("incident-{tag}"),
            title: format!("CANARY-ALERT-{tag}-EDR"),
            severity: "critical".into(),
            status: "new".into(),
            service_source: "huntressEdr".into(),
            category: String::new(),
            subject: String::new(),
            created_at: now - 60,
            updated_at: now - 60,
            resolved_at: None,
        }],
        identities: Some(portico_store::edr_sync::IdentityCounts {
            identities: 3,
            protected: 2,
            without_mfa: 1,
            at_risk: 0,
        }),
    };
    let (edr_a, edr_b) = (edr('A'), edr('B'));
    sys.add_connector_with_records(
        app.store(),
        app.fx.ws1,
        portico_store::scoped::connectors::ConnectorKind::Huntress,
        "Huntress",
        &[
            portico_store::connector_sync::SeedTenant {
                external_id: "org-a",
                name: "Org A",
                domains: &[],
                company: Some(app.fx.company_a),
                snapshot: Some(portico_store::connector_sync::SeedSnapshot::Edr(&edr_a)),
            },
            portico_store::connector_sync::SeedTenant {
                external_id: "org-b",
                name: "Org B",
                domains: &[],
                company: Some(app.fx.company_b),
                snapshot: Some(portico_store::connector_sync::SeedSnapshot::Edr(&edr_b)),
            },
        ],
        now,
    )
    .await
    .unwrap();
    sys.commit().await.unwrap();
    // Each company's backup jobs, as a tool pushed them.
    for (company, tag) in [(app.fx.company_a, "A"), (app.fx.company_b, "B")] {
        let owner = app.api_token(None, "read_write").await;
        let pushed = app
            .api("PUT", &format!("/api/v1/companies/{company}/backup-jobs"), &owner)
            .json(&serde_json::json!({
                "source": "Veeam",
                "jobs": [{ "id": "1", "name": format!("CANARY-BACKUP-{tag}"), "kind": "server", "last_result": "failed" }],
            }))
            .send()
            .await;
        assert_eq!(pushed.status, 200, "{}", pushed.body);
    }
    let routes: Vec<_> = portico_web::registry::route_table()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    let mut checked = 0;
    let mut leaks = Vec::new();
    for who in Who::ALL {
        let token = app.session_for(who).await;
        let forbidden: Vec<String> = canaries(&app, who)
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(c, _)| c)
            .collect();
        let mut pages = Vec::new();
        for route in &routes {
            let host = if route.surface == SurfaceKind::Console {
                CONSOLE
            } else {
                PORTAL
            };
            for &object in objects(route) {
                pages.push((host, path_for(&app, route, who, object)));
            }
        }
        for query in [
            "?status=all",
            "?status=closed",
            "?status=awaiting",
            "?status=all&page=2",
        ] {
            pages.push((PORTAL, format!("/tickets{query}")));
        }
        // Each of the caller's own objects, addressed on the other surface too.
        pages.push((
            CONSOLE,
            path_for(
                &app,
                &portico_web::RouteSpec {
                    method: "GET",
                    path: "/tickets/{ticket}",
                    surface: SurfaceKind::Console,
                    resource: portico_web::Resource::Ticket,
                    section: None,
                },
                who,
                Object::OtherWorkspace,
            ),
        ));
        for (host, path) in pages {
            let response = app.get(host, &path).session(token.as_deref()).send().await;
            checked += 1;
            for canary in &forbidden {
                if response.body.contains(canary.as_str())
                    || response
                        .headers
                        .iter()
                        .any(|(_, v)| v.to_str().unwrap_or("").contains(canary.as_str()))
                {
                    leaks.push(format!(
                        "{who:?} GET {host}{path} ({}) shows {canary}",
                        response.status
                    ));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks in {checked} responses:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[tokio::test]
async fn canaries_are_really_on_the_pages_of_those_allowed_to_see_them() {
    // Guards the canary test against passing because nothing renders at all.
    let app = TestApp::spawn().await;
    let admin = app.session_for(Who::ClientAdmin).await;
    let overview = app.get(PORTAL, "/").session(admin.as_deref()).send().await;
    assert!(
        overview.body.contains(&fee_canary('A')),
        "billing-entitled client admin sees the fee"
    );
    assert!(overview.body.contains("CANARY-PLAN-A"));
    let list = app
        .get(PORTAL, "/tickets?status=all")
        .session(admin.as_deref())
        .send()
        .await;
    assert!(list.body.contains("CANARY-TICKET-A2") && list.body.contains("CANARY-TICKET-A1-OTHER"));
    let ticket = app
        .get(PORTAL, &format!("/tickets/{}", app.fx.ticket_a2))
        .session(admin.as_deref())
        .send()
        .await;
    assert!(ticket.body.contains("CANARY-TICKET-A2-REPLY"));
    assert!(!ticket.body.contains("CANARY-TICKET-A2-NOTE"));
    let owner = app.session_for(Who::Owner).await;
    let staff_ticket = app
        .get(CONSOLE, &format!("/tickets/{}", app.fx.ticket_a2))
        .session(owner.as_deref())
        .send()
        .await;
    assert!(
        staff_ticket.body.contains("CANARY-TICKET-A2-NOTE"),
        "staff see internal notes"
    );
    let companies = app
        .get(CONSOLE, "/companies")
        .session(owner.as_deref())
        .send()
        .await;
    assert!(companies.body.contains(&fee_canary('A')) && companies.body.contains(&fee_canary('B')));
    let member = app.session_for(Who::Member).await;
    let overview = app.get(PORTAL, "/").session(member.as_deref()).send().await;
    assert_eq!(overview.status, 200);
    assert!(!overview.body.contains(&fee_canary('A')) && !overview.body.contains("CANARY-PLAN-A"));
}
