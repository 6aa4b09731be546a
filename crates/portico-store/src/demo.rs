//! Deterministic demo data: one fictional MSP with four clients, staff and portal users of every
//! role, and about two hundred tickets. Seeded into an empty database by `portico demo` and by
//! `portico serve` on first start.

use portico_core::{
    AssetId, AssetKind, BusinessHours, CompanyId, ContactRole, PortalRole, PortalUserId, Section,
    SiteId, StaffRole, StaffUserId, TicketPriority, TicketStatus, WorkspaceId, Zone,
};

use crate::public::SurfaceKind;
use crate::system::{SeedPortalUser, SeedTicket};
use crate::{Store, StoreError, now, password};

/// Service-level targets: (priority, first response, resolution), in minutes.
const TARGETS: [(TicketPriority, i64, i64); 4] = [
    (TicketPriority::Urgent, 30, 4 * 60),
    (TicketPriority::High, 60, 8 * 60),
    (TicketPriority::Normal, 4 * 60, 3 * 24 * 60),
    (TicketPriority::Low, 8 * 60, 5 * 24 * 60),
];

/// The demo desk's hours: weekdays 08:00 to 18:00.
const DEMO_HOURS: &str = "08:00-18:00,08:00-18:00,08:00-18:00,08:00-18:00,08:00-18:00,,";
/// Birchwood's: weekdays 07:00 to 20:00 and Saturday mornings.
const BIRCHWOOD_HOURS: &str =
    "07:00-20:00,07:00-20:00,07:00-20:00,07:00-20:00,07:00-20:00,08:00-12:00,";
/// Australia's national public holidays, 2026 and 2027.
const DEMO_HOLIDAYS: &str = "2026-01-01 New Year's Day\n2026-01-26 Australia Day\n2026-04-03 Good Friday\n\
     2026-04-06 Easter Monday\n2026-04-25 Anzac Day\n2026-12-25 Christmas Day\n2026-12-28 Boxing Day (observed)\n\
     2027-01-01 New Year's Day\n2027-01-26 Australia Day\n2027-03-26 Good Friday\n2027-03-29 Easter Monday\n\
     2027-04-26 Anzac Day (observed)\n2027-12-27 Christmas Day (observed)\n2027-12-28 Boxing Day (observed)";

/// The demo desk's canned responses.
const CANNED_RESPONSES: [(&str, &str); 3] = [
    (
        "Looking into it",
        "Hello {client_first_name},\n\nThanks for letting us know. I am looking into ticket {ticket_number} now and will update you within the hour.\n\n{my_name}",
    ),
    (
        "Need a remote session",
        "Hello {client_first_name},\n\nCould you tell me a time today when I can connect to your computer to look at \"{ticket_title}\"? It takes about fifteen minutes.\n\n{my_name}",
    ),
    (
        "Resolved, please confirm",
        "Hello {client_first_name},\n\nThis should now be fixed. If anything still is not right, reply here and ticket {ticket_number} reopens.\n\nThank you,\n{my_name}",
    ),
];

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "portico-demo-pass";

/// A sign-in printed at start-up and listed in the README.
#[derive(Debug, Clone)]
pub struct DemoSignIn {
    pub surface: SurfaceKind,
    pub role: &'static str,
    pub company: &'static str,
    pub email: &'static str,
}

/// Every demo sign-in, in the order the README lists them.
pub const SIGN_INS: &[(&str, &str, &str, &str)] = &[
    ("console", "Owner / Admin", "—", "olivia@northwind.test"),
    (
        "console",
        "Technician (Acme, Birchwood)",
        "—",
        "tom@northwind.test",
    ),
    (
        "console",
        "Technician (Cobalt, Dunmore)",
        "—",
        "tara@northwind.test",
    ),
    ("console", "Sales (Acme, Cobalt)", "—", "sam@northwind.test"),
    ("console", "Billing", "—", "bella@northwind.test"),
    (
        "portal",
        "Client admin (billing)",
        "Acme Dental",
        "alice@acme.test",
    ),
    ("portal", "Member", "Acme Dental", "mark@acme.test"),
    ("portal", "Viewer", "Acme Dental", "vera@acme.test"),
    (
        "portal",
        "Member, own tickets only",
        "Acme Dental",
        "oscar@acme.test",
    ),
    (
        "portal",
        "Member, Harbour St site only",
        "Acme Dental",
        "sita@acme.test",
    ),
    (
        "portal",
        "Client admin",
        "Birchwood Legal",
        "ben@birchwood.test",
    ),
    (
        "portal",
        "Client admin, also Dunmore Foods",
        "Cobalt Engineering",
        "carla@cobalt.test",
    ),
    ("portal", "Member", "Dunmore Foods", "dan@dunmore.test"),
];

struct DemoCompany {
    name: &'static str,
    plan: &'static str,
    fee: i64,
    rate: i64,
    /// Hours of work the plan includes each month.
    included_hours: i64,
    sites: &'static [(&'static str, &'static str)],
    contacts: &'static [(&'static str, &'static str, &'static [ContactRole])],
}

const COMPANIES: &[DemoCompany] = &[
    DemoCompany {
        name: "Acme Dental",
        plan: "Managed Complete",
        fee: 450_000,
        included_hours: 20,
        rate: 16_500,
        sites: &[
            ("Main Surgery", "12 King St, Springfield"),
            ("Harbour St", "3 Harbour St, Springfield"),
            ("Hilltop Clinic", "88 Hilltop Rd, Shelbyville"),
        ],
        contacts: &[
            (
                "Alice Archer",
                "Practice manager",
                &[ContactRole::Primary, ContactRole::PurchaseApprover],
            ),
            ("Ravi Patel", "Dentist, partner", &[ContactRole::Backup]),
            ("Nora Quinn", "Accounts", &[ContactRole::Billing]),
            ("Mark Mendes", "Front desk lead", &[ContactRole::Technical]),
        ],
    },
    DemoCompany {
        name: "Birchwood Legal",
        plan: "Managed Essentials",
        fee: 220_000,
        included_hours: 8,
        rate: 18_000,
        sites: &[
            ("Chambers", "1 Court Ln, Capital City"),
            ("Records Office", "7 Archive Way, Capital City"),
        ],
        contacts: &[
            (
                "Ben Birch",
                "Managing partner",
                &[ContactRole::Primary, ContactRole::PurchaseApprover],
            ),
            (
                "Lena Ford",
                "Office manager",
                &[ContactRole::Backup, ContactRole::Billing],
            ),
            ("Ivo Stein", "Paralegal", &[ContactRole::Technical]),
        ],
    },
    DemoCompany {
        name: "Cobalt Engineering",
        plan: "Managed Complete",
        fee: 610_000,
        included_hours: 30,
        rate: 15_000,
        sites: &[
            ("Head Office", "400 Industrial Pde, Ogdenville"),
            ("Workshop", "402 Industrial Pde, Ogdenville"),
            ("Site Office North", "Lot 9, North Haverbrook"),
        ],
        contacts: &[
            ("Carla Cruz", "Operations director", &[ContactRole::Primary]),
            (
                "Hugo Brandt",
                "CFO",
                &[ContactRole::Billing, ContactRole::PurchaseApprover],
            ),
            (
                "Priya Nair",
                "CAD systems lead",
                &[ContactRole::Technical, ContactRole::Backup],
            ),
        ],
    },
    DemoCompany {
        name: "Dunmore Foods",
        plan: "Co-managed",
        fee: 180_000,
        included_hours: 6,
        rate: 17_500,
        sites: &[
            ("Factory", "15 Mill Rd, Brockway"),
            ("Distribution Centre", "2 Depot St, Brockway"),
        ],
        contacts: &[
            (
                "Dan Doyle",
                "IT coordinator",
                &[ContactRole::Primary, ContactRole::Technical],
            ),
            (
                "Fiona Lamb",
                "Finance manager",
                &[ContactRole::Billing, ContactRole::PurchaseApprover],
            ),
            ("Gus Hale", "Plant manager", &[ContactRole::Backup]),
        ],
    },
];

const TITLES: &[&str] = &[
    "Outlook keeps asking for my password",
    "Printer on level 2 shows offline",
    "New starter needs a laptop and accounts",
    "VPN disconnects every few minutes",
    "Shared drive is very slow this morning",
    "Request access to the finance folder",
    "Teams calls drop audio",
    "Laptop battery swelling — replacement needed",
    "Phishing e-mail received, please check",
    "Wi-Fi in meeting room unreliable",
    "Cannot open PDF attachments",
    "Leaver: remove access for departing staff member",
    "Monitor flickering at reception",
    "MFA prompt not arriving on new phone",
    "Scanner sends to e-mail no longer works",
    "Software install request: design package",
];

const STAFF_REPLIES: &[&str] = &[
    "Thanks for reporting this. I've connected remotely and I'm looking into it now.",
    "We've applied a fix on our side. Could you try again and let us know?",
    "I've scheduled a technician visit for tomorrow morning.",
    "This should be resolved now. We'll keep the ticket open for a day in case it recurs.",
];

const CLIENT_REPLIES: &[&str] = &[
    "Thanks — it's still happening for two of us.",
    "That worked, thank you!",
    "Tomorrow morning suits us. Reception will let you in.",
];

const INTERNAL_NOTES: &[&str] = &[
    "Internal: likely the cached credential bug after the tenant migration; check conditional access.",
    "Internal: warranty claim lodged with the vendor, ref pending.",
    "Internal: client on legacy firmware, upgrade during the next maintenance window.",
];

/// Seeds the demo into an empty database. Does nothing (and returns false) if any workspace
/// exists already.
pub async fn seed(store: &Store) -> Result<bool, StoreError> {
    let mut tx = store.system_unscoped().await?;
    if !tx.is_empty().await? {
        return Ok(false);
    }
    // One hash for every demo account keeps first start fast; real accounts each get their own.
    let hash = password::hash(DEMO_PASSWORD)?;
    let ws = tx
        .create_workspace(
            "Northwind IT Services",
            "#1d4ed8",
            "#0f766e",
            "Welcome to your Northwind IT portal. Raise a ticket, follow its progress, and see how your systems are looked after.",
        )
        .await?;
    tx.add_hostname(ws, "localhost", SurfaceKind::Console)
        .await?;
    tx.add_hostname(ws, "portal.localhost", SurfaceKind::Portal)
        .await?;
    use portico_core::FieldKind;
    for (priority, first, resolve) in TARGETS {
        tx.set_sla_target(ws, priority, first, resolve).await?;
    }
    // A Sydney desk, open on weekdays, closed on the national public holidays.
    let sydney = Zone::named("Australia/Sydney").map_err(|e| StoreError::Invalid(e.to_string()))?;
    let office_hours = BusinessHours::parse(DEMO_HOURS, DEMO_HOLIDAYS)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    tx.set_local_time(ws, &sydney, &office_hours).await?;
    for (title, body) in CANNED_RESPONSES {
        tx.add_canned_response(ws, title, body).await?;
    }
    tx.set_ticket_form(
        ws,
        None,
        &[
            "Hardware",
            "Software",
            "Network and Wi-Fi",
            "Accounts and access",
            "Printing",
            "Other",
        ],
        &[
            crate::system::SeedField {
                label: "Affected device",
                kind: FieldKind::Select,
                required: true,
                help: "The kind of device the problem is on.",
                options: &[
                    "Laptop",
                    "Desktop",
                    "Phone",
                    "Printer",
                    "Server",
                    "Not device-specific",
                ],
            },
            crate::system::SeedField {
                label: "Asset tag",
                kind: FieldKind::Text,
                required: false,
                help: "The sticker on the device, e.g. NW-1042. Leave empty if unsure.",
                options: &[],
            },
            crate::system::SeedField {
                label: "How many people are affected?",
                kind: FieldKind::Number,
                required: false,
                help: "",
                options: &[],
            },
            crate::system::SeedField {
                label: "Does this stop you from working?",
                kind: FieldKind::Checkbox,
                required: false,
                help: "",
                options: &[],
            },
        ],
    )
    .await?;

    let mut companies = Vec::new();
    for c in COMPANIES {
        let id = tx
            .add_company(ws, c.name, c.plan, Some(c.fee), Some(c.rate), "AUD", true)
            .await?;
        tx.set_included_minutes(id, c.included_hours * 60).await?;
        let mut sites = Vec::new();
        for (name, address) in c.sites {
            sites.push(tx.add_site(ws, id, name, address).await?);
        }
        for (n, (name, title, roles)) in c.contacts.iter().enumerate() {
            let email = format!(
                "{}@{}.test",
                name.split(' ').next().unwrap_or(name).to_lowercase(),
                c.name.split(' ').next().unwrap_or(c.name).to_lowercase()
            );
            let phone = format!("+61 2 5550 {:04}", 100 + companies.len() * 10 + n);
            tx.add_contact(ws, id, name, &email, &phone, title, roles)
                .await?;
        }
        // The domain the company's people write from: technicians invite only there.
        let domain = format!(
            "{}.test",
            c.name.split(' ').next().unwrap_or(c.name).to_lowercase()
        );
        tx.set_company_email_domains(ws, id, &[&domain]).await?;
        companies.push((id, sites));
    }
    let infrastructure = seed_assets(&mut tx, ws, &companies).await?;
    seed_maintenance(&mut tx, ws, &companies, &infrastructure).await?;
    seed_invoices(&mut tx, ws, &companies).await?;
    seed_microsoft365(&mut tx, store, ws, &companies).await?;
    seed_ninjaone(&mut tx, store, ws, companies[0].0).await?;
    seed_huntress(&mut tx, store, ws, companies[0].0).await?;
    seed_pentests(&mut tx, ws, &companies).await?;
    seed_domain_health(&mut tx, ws, &companies).await?;
    seed_backups(&mut tx, ws, &companies).await?;
    let (acme, acme_sites) = companies[0].clone();
    let (birchwood, _) = companies[1].clone();
    let (cobalt, _) = companies[2].clone();
    let (dunmore, _) = companies[3].clone();
    // Acme's office manager keeps its roster and device details current herself; the others
    // ask through change requests.
    tx.set_client_admin_edits(acme, true).await?;
    // Birchwood works from Perth and is served there until 8 p.m., Saturdays included.
    let perth = Zone::named("Australia/Perth").map_err(|e| StoreError::Invalid(e.to_string()))?;
    let extended = BusinessHours::parse(BIRCHWOOD_HOURS, DEMO_HOLIDAYS)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    tx.set_company_local_time(ws, birchwood, &perth, Some(&extended))
        .await?;
    // Dunmore shows how an MSP relabels sections for one client.
    tx.set_company_section(
        ws,
        dunmore,
        Section::Tickets,
        None,
        Some("Support requests"),
    )
    .await?;

    let h = Some(hash.as_str());
    let olivia = tx
        .add_staff_user(
            ws,
            "olivia@northwind.test",
            "Olivia Owens",
            StaffRole::Owner,
            h,
            &[],
        )
        .await?;
    let tom = tx
        .add_staff_user(
            ws,
            "tom@northwind.test",
            "Tom Tran",
            StaffRole::Technician,
            h,
            &[acme, birchwood],
        )
        .await?;
    let tara = tx
        .add_staff_user(
            ws,
            "tara@northwind.test",
            "Tara Singh",
            StaffRole::Technician,
            h,
            &[cobalt, dunmore],
        )
        .await?;
    tx.add_staff_user(
        ws,
        "sam@northwind.test",
        "Sam Sales",
        StaffRole::Sales,
        h,
        &[acme, cobalt],
    )
    .await?;
    tx.add_staff_user(
        ws,
        "bella@northwind.test",
        "Bella Burke",
        StaffRole::Billing,
        h,
        &[],
    )
    .await?;

    let user = |company, email, name, role, own_only, billing_access, sites| SeedPortalUser {
        company,
        email,
        name,
        role,
        own_only,
        billing_access,
        password_hash: h,
        sites,
    };
    let harbour = [acme_sites[1]];
    let acme_users = vec![
        tx.add_portal_user(
            ws,
            &user(
                acme,
                "alice@acme.test",
                "Alice Archer",
                PortalRole::ClientAdmin,
                false,
                true,
                &[],
            ),
        )
        .await?,
        tx.add_portal_user(
            ws,
            &user(
                acme,
                "mark@acme.test",
                "Mark Mendes",
                PortalRole::Member,
                false,
                false,
                &[],
            ),
        )
        .await?,
        tx.add_portal_user(
            ws,
            &user(
                acme,
                "vera@acme.test",
                "Vera Voss",
                PortalRole::Viewer,
                false,
                false,
                &[],
            ),
        )
        .await?,
        tx.add_portal_user(
            ws,
            &user(
                acme,
                "oscar@acme.test",
                "Oscar Ortiz",
                PortalRole::Member,
                true,
                false,
                &[],
            ),
        )
        .await?,
        tx.add_portal_user(
            ws,
            &user(
                acme,
                "sita@acme.test",
                "Sita Rao",
                PortalRole::Member,
                false,
                false,
                &harbour,
            ),
        )
        .await?,
    ];
    let ben = tx
        .add_portal_user(
            ws,
            &user(
                birchwood,
                "ben@birchwood.test",
                "Ben Birch",
                PortalRole::ClientAdmin,
                false,
                true,
                &[],
            ),
        )
        .await?;
    let carla = tx
        .add_portal_user(
            ws,
            &user(
                cobalt,
                "carla@cobalt.test",
                "Carla Cruz",
                PortalRole::ClientAdmin,
                false,
                true,
                &[],
            ),
        )
        .await?;
    tx.grant_company(ws, carla, dunmore, PortalRole::ClientAdmin, false)
        .await?;
    let dan = tx
        .add_portal_user(
            ws,
            &user(
                dunmore,
                "dan@dunmore.test",
                "Dan Doyle",
                PortalRole::Member,
                false,
                false,
                &[],
            ),
        )
        .await?;

    seed_change_requests(
        &mut tx,
        ws,
        &[
            (acme, acme_users[0], "Alice Archer"),
            (acme, acme_users[1], "Mark Mendes"),
            (birchwood, ben, "Ben Birch"),
            (cobalt, carla, "Carla Cruz"),
            (dunmore, dan, "Dan Doyle"),
        ],
    )
    .await?;
    let requesters = [acme_users.clone(), vec![ben], vec![carla], vec![dan]];
    let names = [
        vec![
            "Alice Archer",
            "Mark Mendes",
            "Vera Voss",
            "Oscar Ortiz",
            "Sita Rao",
        ],
        vec!["Ben Birch"],
        vec!["Carla Cruz"],
        vec!["Dan Doyle"],
    ];
    let per_company = [60usize, 50, 50, 40];
    let statuses = [
        TicketStatus::Open,
        TicketStatus::AwaitingClient,
        TicketStatus::Resolved,
        TicketStatus::New,
        TicketStatus::Closed,
        TicketStatus::OnHold,
        TicketStatus::Resolved,
    ];
    let priorities = [
        TicketPriority::Normal,
        TicketPriority::High,
        TicketPriority::Low,
        TicketPriority::Normal,
        TicketPriority::Urgent,
    ];
    let start = now() - 90 * 24 * 3600;
    let mut n = 0usize;
    for (ci, (company, sites)) in companies.iter().enumerate() {
        let staff = if ci < 2 {
            (tom, "Tom Tran")
        } else {
            (tara, "Tara Singh")
        };
        for i in 0..per_company[ci] {
            n += 1;
            let who = i % requesters[ci].len();
            // A well-run desk: closed work spread over the last ninety days, oldest first;
            // what is still open raised within its resolution target, but for one ticket in
            // eleven, which ran late (as some always do).
            let status = statuses[n % statuses.len()];
            let priority = priorities[n % priorities.len()];
            let created = if status.is_open() {
                // A new ticket still waits for its first response, the others for resolution.
                let resolve_secs = TARGETS.iter().find(|(p, _, _)| *p == priority).map_or(
                    24 * 3600,
                    |(_, first, resolve)| {
                        if status == TicketStatus::New {
                            first * 60
                        } else {
                            resolve * 60
                        }
                    },
                );
                let share = if n.is_multiple_of(11) {
                    1.6
                } else {
                    0.1 + (i % 8) as f64 / 10.0
                };
                now() - (resolve_secs as f64 * share) as i64
            } else {
                start + (i as i64) * (90 * 24 * 3600) / per_company[ci] as i64
            };
            let ticket = tx
                .add_ticket(
                    ws,
                    &SeedTicket {
                        company: *company,
                        site: Some(sites[i % sites.len()]),
                        requester: Some(requesters[ci][who]),
                        title: TITLES[(n * 7) % TITLES.len()],
                        status,
                        priority,
                        created_at: created,
                    },
                )
                .await?;
            let first = format!(
                "{}\n\nReported from {}.",
                TITLES[(n * 7) % TITLES.len()],
                COMPANIES[ci].sites[i % sites.len()].0
            );
            tx.add_message(
                ws,
                *company,
                ticket,
                None,
                Some(requesters[ci][who]),
                names[ci][who],
                &first,
                false,
                created,
            )
            .await?;
            // New tickets wait for the desk; the rest were answered and taken up.
            if status == TicketStatus::New {
                continue;
            }
            tx.add_message(
                ws,
                *company,
                ticket,
                Some(staff.0),
                None,
                staff.1,
                STAFF_REPLIES[n % STAFF_REPLIES.len()],
                false,
                created + 1200,
            )
            .await?;
            // The desk's first response, within every first-response target.
            tx.set_first_response(ws, ticket, created + 1200).await?;
            tx.assign_ticket(ws, ticket, staff.0).await?;
            // The work it took: a quarter of an hour to two hours, one job in seven billable
            // (out of the plan's scope), logged on the day it was done.
            if let Some(day) = Zone::utc().date_after(created, 0) {
                tx.add_time_entry(
                    ws,
                    *company,
                    ticket,
                    staff.0,
                    staff.1,
                    &day,
                    15 + ((n * 13) % 8) as i64 * 15,
                    TIME_NOTES[n % TIME_NOTES.len()],
                    n.is_multiple_of(7),
                )
                .await?;
            }
            if n.is_multiple_of(2) {
                tx.add_message(
                    ws,
                    *company,
                    ticket,
                    None,
                    Some(requesters[ci][who]),
                    names[ci][who],
                    CLIENT_REPLIES[n % CLIENT_REPLIES.len()],
                    false,
                    created + 3600,
                )
                .await?;
            }
            if n.is_multiple_of(3) {
                tx.add_message(
                    ws,
                    *company,
                    ticket,
                    Some(staff.0),
                    None,
                    staff.1,
                    INTERNAL_NOTES[n % INTERNAL_NOTES.len()],
                    true,
                    created + 2400,
                )
                .await?;
            }
        }
    }
    tx.plan_service_levels(ws).await?;
    tx.commit().await?;
    seed_compliance(store, ws, olivia, acme).await?;
    Ok(true)
}

/// Acme's compliance: Olivia's judgements of what its records cannot show, an Essential Eight
/// assessment a quarter ago, and both frameworks assessed today (the records judge the rest).
async fn seed_compliance(
    store: &Store,
    ws: WorkspaceId,
    olivia: StaffUserId,
    acme: CompanyId,
) -> Result<(), StoreError> {
    use portico_core::compliance::Status::{Met, NotApplicable, NotMet};
    let judge = |requirement, status, note| crate::system::SeedJudgement {
        company: acme,
        requirement,
        status,
        note,
        evidence: None,
        expires_on: None,
        staff_name: "Olivia Owens",
    };
    let early = [
        judge(
            "e8.apps.1b",
            Met,
            "Weekly vulnerability scan of the booking site and the practice's Windows fleet (NinjaOne); reports kept in the client folder.",
        ),
        judge(
            "e8.apps.1c",
            Met,
            "Software inventory reviewed in the quarterly business review; nothing unsupported left.",
        ),
        judge(
            "e8.macros.1a",
            Met,
            "Intune policy blocks macros from the internet and for everyone but the two practice managers.",
        ),
        judge(
            "e8.harden.1a",
            Met,
            "Edge managed by Intune: Java and web advertisements blocked, Internet Explorer disabled.",
        ),
        judge(
            "e8.admin.1a",
            Met,
            "Separate admin accounts without mailboxes; requests approved by the practice owner by e-mail.",
        ),
        judge(
            "e8.appctl.1a",
            NotMet,
            "No application control yet: WDAC in audit mode planned for the next quarter.",
        ),
        judge(
            "e8.backup.1b",
            Met,
            "Restore of the practice server tested on 3 September; report in the client folder.",
        ),
    ];
    let mut tx = store.system_unscoped().await?;
    for j in &early {
        tx.add_compliance_judgement(ws, j).await?;
    }
    tx.commit().await?;
    store.record_assessment_as(ws, olivia, acme, "e8").await?;
    let mut tx = store.system_unscoped().await?;
    tx.backdate_compliance(acme, 92 * 86_400).await?;
    let later = [
        judge(
            "e8.appctl.1a",
            Met,
            "WDAC enforced on every workstation since October; exceptions reviewed monthly.",
        ),
        judge(
            "e8.mfa.2b",
            NotMet,
            "Phishing-resistant MFA (passkeys) rolling out; half the practice enrolled.",
        ),
        judge(
            "cis.3.6",
            Met,
            "BitLocker on every laptop and workstation (Intune compliance report).",
        ),
        judge(
            "cis.4.3",
            Met,
            "Screens lock after 10 minutes (Intune configuration profile).",
        ),
        judge(
            "cis.14.1",
            Met,
            "Security awareness training every quarter; the last one on 12 November.",
        ),
        judge(
            "cis.12.1",
            NotApplicable,
            "The building's network is managed by the landlord; Acme owns no network equipment.",
        ),
        judge(
            "cis.17.1",
            Met,
            "Northwind's incident lead is named in the incident response plan.",
        ),
    ];
    for j in &later {
        tx.add_compliance_judgement(ws, j).await?;
    }
    tx.commit().await?;
    store.record_assessment_as(ws, olivia, acme, "e8").await?;
    store.record_assessment_as(ws, olivia, acme, "cis").await?;
    Ok(())
}

/// What the desk writes when it logs its time.
const TIME_NOTES: &[&str] = &[
    "Remote session: diagnosed and fixed.",
    "Reset the account and checked sign-in with the user.",
    "On site: replaced the part and tested.",
    "Reconfigured and confirmed with the client.",
    "Investigated the logs; applied the vendor's fix.",
];

/// What a demo client's desks, servers and phones are: (kind, manufacturer, model, OS).
const DEVICES: &[(AssetKind, &str, &str, &str)] = &[
    (
        AssetKind::Workstation,
        "Dell",
        "OptiPlex 7010",
        "Windows 11 Pro 23H2",
    ),
    (
        AssetKind::Laptop,
        "Lenovo",
        "ThinkPad T14 Gen 4",
        "Windows 11 Pro 23H2",
    ),
    (
        AssetKind::Laptop,
        "Apple",
        "MacBook Air M2",
        "macOS 14 Sonoma",
    ),
    (
        AssetKind::Workstation,
        "HP",
        "EliteDesk 800 G9",
        "Windows 11 Pro 22H2",
    ),
    (
        AssetKind::Laptop,
        "Dell",
        "Latitude 5440",
        "Windows 11 Pro 23H2",
    ),
];
const PEOPLE: &[&str] = &[
    "Amy Nguyen",
    "Ben Carter",
    "Chloe Smith",
    "Daniel Lee",
    "Emma Brown",
    "Farid Khan",
    "Grace Wilson",
    "Henry Taylor",
    "Isla Martin",
    "Jack White",
    "Kira Patel",
    "Liam Jones",
];

/// A few dozen assets per demo company: desks and laptops at each site, a printer and a switch
/// per site, a server at the first, phones at none; warranties spread from lapsed to years
/// ahead, so that "ending soon" has something to show. The asset tag is a field of the
/// workspace's own, shown to clients.
/// Returns each company's servers and switches (with their sites), which maintenance touches.
async fn seed_assets(
    tx: &mut crate::SystemTx,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
) -> Result<Vec<Vec<(AssetId, Option<SiteId>)>>, StoreError> {
    let mut infrastructure = Vec::new();
    let tag_field = tx.add_asset_field(ws, "Asset tag", true).await?;
    let at = now();
    let date = |days: i64| Zone::utc().date_after(at, days);
    let mut n: i64 = 0;
    for (c, (company, sites)) in companies.iter().enumerate() {
        let prefix: String = COMPANIES[c]
            .name
            .chars()
            .take(3)
            .collect::<String>()
            .to_uppercase();
        let mut kit = Vec::new();
        for (s, site) in sites.iter().enumerate() {
            let desks = 7 + (c + s) % 4;
            let mut devices: Vec<(AssetKind, &str, &str, &str, String)> = (0..desks)
                .map(|i| {
                    let (kind, make, model, os) = DEVICES[(i + c) % DEVICES.len()];
                    let label = if kind == AssetKind::Laptop {
                        "LT"
                    } else {
                        "WS"
                    };
                    (
                        kind,
                        make,
                        model,
                        os,
                        format!("{prefix}-{label}-{:02}", s * 20 + i + 1),
                    )
                })
                .collect();
            devices.push((
                AssetKind::Printer,
                "Brother",
                "MFC-L8900CDW",
                "",
                format!("{prefix}-PRN-{:02}", s + 1),
            ));
            devices.push((
                AssetKind::Network,
                "Ubiquiti",
                "UniFi Switch 24 PoE",
                "UniFi OS 3.2",
                format!("{prefix}-SW-{:02}", s + 1),
            ));
            if s == 0 {
                devices.push((
                    AssetKind::Server,
                    "Dell",
                    "PowerEdge T150",
                    "Windows Server 2022",
                    format!("{prefix}-SRV-01"),
                ));
            }
            for (i, (kind, make, model, os, name)) in devices.into_iter().enumerate() {
                n += 1;
                // From 120 days lapsed to three years ahead; one in nine within the month.
                let warranty_days = (n * 97) % 1215 - 120;
                let serial = format!(
                    "{}{:07}",
                    &make[..2].to_uppercase(),
                    1_000_000 + n * 7919 % 9_000_000
                );
                let person = matches!(kind, AssetKind::Laptop | AssetKind::Workstation)
                    .then(|| PEOPLE[(n as usize + i) % PEOPLE.len()])
                    .unwrap_or("");
                let warranty = date(warranty_days);
                let purchased = date(warranty_days - 3 * 365);
                let asset = tx
                    .add_asset(
                        ws,
                        &crate::system::SeedAsset {
                            company: *company,
                            site: Some(*site),
                            name: &name,
                            kind,
                            manufacturer: make,
                            model,
                            serial: &serial,
                            os,
                            warranty_end: warranty.as_deref(),
                            purchased_on: purchased.as_deref(),
                            last_seen_at: Some(at - (n % 50) * 1_700),
                            assigned_user: person,
                            notes: if kind == AssetKind::Server {
                                "Backups to the NAS nightly at 01:00; UPS in the comms cupboard."
                            } else {
                                ""
                            },
                        },
                    )
                    .await?;
                tx.set_asset_field_value(ws, *company, asset, tag_field, &format!("AT-{:04}", n))
                    .await?;
                if matches!(kind, AssetKind::Server | AssetKind::Network) {
                    kit.push((asset, Some(*site)));
                }
            }
        }
        infrastructure.push(kit);
        for p in 0..3 {
            n += 1;
            let name = format!("{prefix}-PH-{:02}", p + 1);
            let serial = format!("IMEI35{:013}", 4_211_000_000_000 + n * 104_729);
            let warranty = date(200 + p * 30);
            tx.add_asset(
                ws,
                &crate::system::SeedAsset {
                    company: *company,
                    site: None,
                    name: &name,
                    kind: AssetKind::Phone,
                    manufacturer: "Apple",
                    model: "iPhone 15",
                    serial: &serial,
                    os: "iOS 17",
                    warranty_end: warranty.as_deref(),
                    purchased_on: date(200 + p * 30 - 365).as_deref(),
                    last_seen_at: Some(at - p * 86_400),
                    assigned_user: PEOPLE[(c * 3 + p as usize) % PEOPLE.len()],
                    notes: "",
                },
            )
            .await?;
        }
    }
    Ok(infrastructure)
}

/// Six months of invoices per demo company, of every status: the plan's fee each month, extra
/// hours at the plan's rate in some, hardware now and then; the oldest paid, one voided and
/// reissued, last month's sent (overdue at one company), this month's a draft.
async fn seed_invoices(
    tx: &mut crate::SystemTx,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
) -> Result<(), StoreError> {
    use portico_core::InvoiceStatus as Status;
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let today = Zone::utc().date_after(now(), 0).unwrap_or_default();
    let (year, month): (i64, i64) = (
        today[..4].parse().unwrap_or(2026),
        today[5..7].parse().unwrap_or(12),
    );
    for (c, (company, _)) in companies.iter().enumerate() {
        let plan = &COMPANIES[c];
        for back in (0..6i64).rev() {
            let index = year * 12 + month - 1 - back;
            let (y, m) = (index / 12, index % 12 + 1);
            let issued = format!("{y:04}-{m:02}-01");
            let due = format!("{y:04}-{m:02}-15");
            let label = format!("{} {y}", MONTHS[(m - 1) as usize]);
            let fee_line = format!("{} — {label}", plan.plan);
            let hours_line = format!("Support beyond the included hours — {label}");
            let mut lines: Vec<(&str, i64, i64, i64)> = vec![(&fee_line, 1_000, plan.fee, 1_000)];
            let extra_hours = (c as i64 * 3 + back * 5) % 7;
            if extra_hours > 2 {
                lines.push((&hours_line, extra_hours * 1_000 + 500, plan.rate, 1_000));
            }
            if (back + c as i64) % 3 == 1 {
                lines.push((
                    "Dell Latitude 5440 laptop, configured and enrolled",
                    2_000,
                    189_900,
                    1_000,
                ));
                lines.push((
                    "Microsoft 365 Business Premium — annual, per user",
                    5_000,
                    39_600,
                    1_000,
                ));
            }
            let status = match back {
                0 => Status::Draft,
                1 if c == 1 => Status::Overdue,
                1 => Status::Sent,
                _ => Status::Paid,
            };
            if back == 3 && c == 0 {
                // Issued with the wrong fee, voided, and issued again.
                tx.add_invoice(
                    ws,
                    &crate::system::SeedInvoice {
                        company: *company,
                        status: Status::Void,
                        issued_on: &issued,
                        due_on: &due,
                        currency: "AUD",
                        notes: "Issued in error: replaced by the next invoice.",
                        lines: &[(&fee_line, 1_000, plan.fee * 2, 1_000)],
                    },
                )
                .await?;
            }
            // Last month's invoices fall due after today, but one fell due three days ago.
            let due = match status {
                Status::Overdue => Zone::utc().date_after(now(), -3).unwrap_or(due),
                Status::Sent => Zone::utc().date_after(now(), 12).unwrap_or(due),
                _ => due,
            };
            tx.add_invoice(
                ws,
                &crate::system::SeedInvoice {
                    company: *company,
                    status,
                    issued_on: &issued,
                    due_on: &due,
                    currency: "AUD",
                    notes: "Payment by bank transfer to Northwind IT Services, BSB 062-000, account 1234 5678, quoting the invoice number.",
                    lines: &lines,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// A demo change request: who of the people raised it, kind, target, its name, title, details,
/// status, the decision's note, and how many days ago.
type DemoChange = (
    usize,
    portico_core::ChangeKind,
    portico_core::ChangeTarget,
    &'static str,
    &'static str,
    &'static str,
    portico_core::ChangeStatus,
    &'static str,
    i64,
);

/// A handful of change requests per demo client, in every state: raised (one purchase awaiting
/// Acme's purchase approver, Alice), approved, rejected with a reason, done.
async fn seed_change_requests(
    tx: &mut crate::SystemTx,
    ws: WorkspaceId,
    people: &[(CompanyId, PortalUserId, &str)],
) -> Result<(), StoreError> {
    use portico_core::{ChangeKind as K, ChangeStatus as S, ChangeTarget as T};
    let day = 86_400;
    let at = now();
    let requests: &[DemoChange] = &[
        (
            1,
            K::Add,
            T::General,
            "",
            "New starter: set up Dana Wu",
            "Dana Wu joins reception on Monday: an e-mail account, a portal login and a laptop, please.",
            S::Open,
            "",
            1,
        ),
        (
            1,
            K::Purchase,
            T::General,
            "",
            "Purchase: two 27-inch monitors for reception",
            "The reception screens are too small for the booking system. Two 27-inch monitors, with stands.",
            S::AwaitingApproval,
            "",
            2,
        ),
        (
            0,
            K::Update,
            T::Contact,
            "Nora Quinn",
            "Update Nora Quinn's mobile number",
            "Nora's new mobile is 0400 555 019.",
            S::Approved,
            "We'll update the roster and her MFA phone today.",
            4,
        ),
        (
            0,
            K::Remove,
            T::PortalUser,
            "Sam Lee",
            "Remove Sam Lee's access",
            "Sam left the practice on Friday. Please remove every account.",
            S::Done,
            "Microsoft 365, the portal and the door badge are disabled; the mailbox is shared with Alice for 30 days.",
            12,
        ),
        (
            1,
            K::Other,
            T::General,
            "",
            "Install Spotify on the front desk PCs",
            "Music for the waiting room.",
            S::Rejected,
            "Not allowed under the practice's software policy; the waiting-room speaker has its own player.",
            20,
        ),
        (
            2,
            K::Add,
            T::General,
            "",
            "Add the Records Office printer to the network",
            "A new Brother printer arrives on Tuesday; it should print from every desk.",
            S::Open,
            "",
            3,
        ),
        (
            3,
            K::Purchase,
            T::General,
            "",
            "Purchase: a laptop for the new drafter",
            "A laptop able to run the CAD software, for Priya from the 15th.",
            S::Done,
            "Delivered and enrolled: COB-LT-07.",
            15,
        ),
        (
            4,
            K::Update,
            T::General,
            "",
            "Move the cold-room sensor alerts to the night shift",
            "Alerts should go to the night supervisor's phone from 6 p.m.",
            S::Open,
            "",
            5,
        ),
    ];
    for (who, kind, target, label, title, details, status, note, ago) in requests {
        let (company, requested_by, name) = people[*who];
        tx.add_change_request(
            ws,
            &crate::system::SeedChange {
                company,
                kind: *kind,
                target: *target,
                target_id: None,
                target_label: label,
                title,
                details,
                status: *status,
                requested_by,
                requester_name: name,
                decision_note: note,
                created_at: at - ago * day,
            },
        )
        .await?;
    }
    Ok(())
}

/// One demo maintenance record: kind, outcome, title, summary, start, sites, assets.
type DemoMaintenance = (
    portico_core::MaintenanceKind,
    portico_core::MaintenanceOutcome,
    String,
    &'static str,
    i64,
    Vec<SiteId>,
    Vec<(AssetId, Option<SiteId>)>,
);

/// Half a year of maintenance per demo company: a monthly patching run over the whole company
/// (one that went partly wrong, one that failed and was rerun), firmware updates on the
/// switches and servers, and two windows planned ahead.
async fn seed_maintenance(
    tx: &mut crate::SystemTx,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
    infrastructure: &[Vec<(AssetId, Option<SiteId>)>],
) -> Result<(), StoreError> {
    use portico_core::{MaintenanceKind as Kind, MaintenanceOutcome as Outcome};
    let day = 86_400;
    // 11:00 UTC: after hours in Sydney (22:00 in summer), where the demo MSP works.
    let evening = now() - now().rem_euclid(day) + 11 * 3600;
    for (c, ((company, sites), kit)) in companies.iter().zip(infrastructure).enumerate() {
        let mut records: Vec<DemoMaintenance> = Vec::new();
        for month in 1..=6i64 {
            let start = evening - month * 30 * day + (c as i64 % 3) * day;
            let (outcome, summary) = match (month + c as i64) % 5 {
                0 => (
                    Outcome::Partial,
                    "Security and quality updates installed on all but two workstations, which were \
                     switched off; they were patched the next morning.",
                ),
                3 if month == 4 => (
                    Outcome::Failed,
                    "The cumulative update failed to install on the server (error 0x800f0922); \
                     rolled back, and rerun two days later once disk space was freed.",
                ),
                _ => (
                    Outcome::Succeeded,
                    "Monthly security and quality updates installed on every workstation and \
                     server; all devices restarted and checked in afterwards.",
                ),
            };
            records.push((
                Kind::Patching,
                outcome,
                "Monthly patching".to_owned(),
                summary,
                start,
                Vec::new(),
                Vec::new(),
            ));
        }
        if let Some(site) = sites.first() {
            records.push((
                Kind::Updates,
                Outcome::Succeeded,
                "Switch and server firmware".to_owned(),
                "Switch firmware to the vendor's current release and the server's BIOS and \
                 iDRAC updated; a 20-minute network outage at the site, as announced.",
                evening - 45 * day,
                vec![*site],
                kit.clone(),
            ));
        }
        records.push((
            Kind::Patching,
            Outcome::Planned,
            "Monthly patching".to_owned(),
            "Security and quality updates; devices restart overnight. Leave them switched on.",
            evening + (5 + c as i64 % 4) * day,
            Vec::new(),
            Vec::new(),
        ));
        records.push((
            Kind::Scheduled,
            Outcome::Planned,
            "Backup appliance replacement".to_owned(),
            "The backup appliance is replaced with a new one; last night's backup is copied across \
             first. No interruption for users expected.",
            evening + (19 + c as i64 % 5) * day,
            sites.first().copied().into_iter().collect(),
            Vec::new(),
        ));
        for (kind, outcome, title, summary, start, sites, assets) in &records {
            tx.add_maintenance(
                ws,
                &crate::system::SeedMaintenance {
                    company: *company,
                    kind: *kind,
                    outcome: *outcome,
                    title,
                    summary,
                    starts_at: *start,
                    ends_at: Some(*start + 4 * 3600),
                    staff_name: "Tom Tran",
                    sites,
                    assets,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The Microsoft 365 products a demo company holds: (SKU id, code, purchased).
const DEMO_SKUS: &[(&str, &str, i64)] = &[
    ("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB", 12),
    (
        "4b9405b0-7788-4568-add1-99614e613b69",
        "EXCHANGESTANDARD",
        4,
    ),
    (
        "3b555118-da6a-4418-894f-7df1e2096870",
        "O365_BUSINESS_ESSENTIALS",
        3,
    ),
];

/// An extra directory user: (name, enabled, days since sign-in, MFA registered, licences by
/// index into [`DEMO_SKUS`]).
type DemoDirectoryUser = (&'static str, bool, Option<i64>, bool, &'static [usize]);

/// Extra directory users beside each company's contacts.
const DEMO_DIRECTORY: &[DemoDirectoryUser] = &[
    ("Reception", true, Some(0), false, &[1]),
    ("Scanner", true, None, false, &[]),
    ("Jordan Lee", true, Some(2), true, &[0]),
    ("Casey Morgan", true, Some(64), true, &[0]),
    ("Riley Chen", false, Some(120), true, &[0]),
    ("Sam Taylor", true, Some(1), true, &[0, 2]),
];

/// Backup jobs of Acme and Birchwood as their backup tool reported them this morning (pushed
/// over the API, as a tool without a connector would): one failing, one stale, the rest fine.
async fn seed_backups(
    tx: &mut crate::system::SystemTx,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
) -> Result<(), StoreError> {
    use crate::sql::q;
    let at = now() - 2 * 3600;
    let hour = 3600;
    let tb = 1024_i64 * 1024 * 1024 * 1024;
    type Job = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<i64>,
        Option<i64>,
        i64,
        &'static str,
        i64,
    );
    let jobs: [(usize, Job); 6] = [
        (
            0,
            (
                "srv",
                "Practice server nightly",
                "server",
                "ACM-SRV-01",
                "success",
                Some(at),
                Some(at),
                tb * 3 / 2,
                "30 daily, 12 monthly",
                24,
            ),
        ),
        (
            0,
            (
                "m365",
                "Microsoft 365 mailboxes and OneDrive",
                "microsoft365",
                "acme.test (42 users)",
                "failed",
                Some(at),
                Some(at - 52 * hour),
                tb / 2,
                "1 year",
                24,
            ),
        ),
        (
            0,
            (
                "ws",
                "Front desk workstations",
                "workstation",
                "ACM-WS-01 … 05",
                "warning",
                Some(at),
                Some(at),
                700 * 1024 * 1024 * 1024,
                "14 days",
                24,
            ),
        ),
        (
            0,
            (
                "cloud",
                "Off-site copy (Wasabi)",
                "cloud",
                "Practice server",
                "success",
                Some(at - 9 * 24 * hour),
                Some(at - 9 * 24 * hour),
                tb * 3 / 2,
                "90 days",
                168,
            ),
        ),
        (
            1,
            (
                "srv",
                "Document server nightly",
                "server",
                "BWL-DC-01",
                "success",
                Some(at),
                Some(at),
                tb,
                "30 daily",
                24,
            ),
        ),
        (
            1,
            (
                "m365",
                "Microsoft 365 mailboxes",
                "microsoft365",
                "birchwood.test",
                "success",
                Some(at),
                Some(at),
                tb / 4,
                "1 year",
                24,
            ),
        ),
    ];
    for (n, (id, name, kind, item, result, run, success, bytes, retention, every)) in jobs {
        tx.tx
            .exec(q!(
                "INSERT INTO backup_jobs (workspace_id, company_id, source, external_id, name, kind, \
                 protected_item, last_result, last_run_at, last_success_at, protected_bytes, retention, \
                 expected_every_hours, synced_at) \
                 VALUES ($1, $2, 'Veeam', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                ws,
                companies[n].0,
                id,
                name,
                kind,
                item,
                result,
                run,
                success,
                bytes,
                retention,
                every,
                at
            ))
            .await?;
    }
    Ok(())
}

/// The demo companies' e-mail domains as the domain health worker would have found them this
/// morning (their `.test` names resolve nowhere: a check asked for on the demo finds them gone).
/// Acme is protected but for a monitoring-only DMARC; Birchwood has no DMARC and too many SPF
/// lookups; the others are left for the worker's first check.
async fn seed_domain_health(
    tx: &mut crate::system::SystemTx,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
) -> Result<(), StoreError> {
    use crate::sql::q;
    let finding = |check: &str, level: &str, summary: &str, fix: &str, record: &str| serde_json::json!({ "check": check, "level": level, "summary": summary, "fix": fix, "record": record });
    let acme = serde_json::json!([
        finding(
            "mx",
            "good",
            "Mail is delivered to acme-test.mail.protection.outlook.com (Microsoft 365).",
            "",
            "0 acme-test.mail.protection.outlook.com."
        ),
        finding(
            "spf",
            "good",
            "Senders are listed and others refused (-all; 1 of 10 DNS lookups).",
            "",
            "v=spf1 include:spf.protection.outlook.com -all"
        ),
        finding(
            "dkim",
            "good",
            "Keys are published at selector1, selector2.",
            "",
            ""
        ),
        finding(
            "dmarc",
            "warn",
            "Policy none: forged mail is still delivered; receivers only report it. Reports go to mailto:dmarc@acme.test.",
            "Once the reports show the domain's own mail passing, move to p=quarantine, then p=reject.",
            "v=DMARC1; p=none; rua=mailto:dmarc@acme.test"
        ),
        finding("expiry", "good", "Registered until 2027-09-14.", "", ""),
    ]);
    let birchwood = serde_json::json!([
        finding(
            "mx",
            "good",
            "Mail is delivered to birchwood-test.mail.protection.outlook.com (Microsoft 365).",
            "",
            "0 birchwood-test.mail.protection.outlook.com."
        ),
        finding(
            "spf",
            "bad",
            "The SPF record needs 12 DNS lookups; past 10 receivers treat it as an error and ignore it.",
            "Remove includes of services no longer used, or list some senders by address (ip4:, ip6:).",
            "v=spf1 include:spf.protection.outlook.com include:sendgrid.net include:mailgun.org include:_spf.salesforce.com include:servers.mcsv.net -all"
        ),
        finding(
            "dkim",
            "unknown",
            "No DKIM selectors are set for this domain, so its signatures cannot be checked.",
            "Add the selectors its mail provider signs with (Microsoft 365: selector1 and selector2; Google Workspace: google).",
            ""
        ),
        finding(
            "dmarc",
            "bad",
            "No DMARC record: mail forged in this domain's name is delivered, and nobody hears of it.",
            "Publish a TXT record at _dmarc.birchwood.test: v=DMARC1; p=none; rua=mailto:dmarc-reports@birchwood.test to collect reports, then move to p=quarantine and p=reject.",
            ""
        ),
        finding(
            "expiry",
            "warn",
            "The registration expires on 2027-01-21, in 47 days.",
            "Renew it at the registrar, and switch on auto-renewal.",
            ""
        ),
    ]);
    let checked = now() - 3 * 3600;
    for ((company, _), (domain, selectors, report, worst)) in companies.iter().zip([
        ("acme.test", "selector1 selector2", acme, "warn"),
        ("birchwood.test", "", birchwood, "bad"),
    ]) {
        tx.tx
            .exec(q!(
                "INSERT INTO domain_health (workspace_id, company_id, domain, dkim_selectors, report, \
                 worst, checked_at, next_check_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                ws,
                *company,
                domain,
                selectors,
                report.to_string(),
                worst,
                checked,
                checked + crate::domain_checks::CHECK_EVERY_SECS
            ))
            .await?;
    }
    // One of Acme's people in a known breach, as a search with the MSP's key found it.
    tx.keep_breach(
        &ws.as_text(),
        "Canva",
        "Canva",
        "2019-05-24",
        "Email addresses, Geographic locations, Names, Passwords, Usernames",
        137_272_116,
        checked,
    )
    .await?;
    let acme = companies[0].0;
    tx.tx
        .exec(q!(
            "UPDATE domain_health SET breaches_checked_at = $1 WHERE workspace_id = $2 AND company_id = $3",
            checked,
            ws,
            acme
        ))
        .await?;
    tx.tx
        .exec(q!(
            "INSERT INTO breached_accounts (workspace_id, company_id, domain, alias, breaches, \
             first_seen_at, changed_at) VALUES ($1, $2, 'acme.test', 'mark', 'Canva', $3, $3)",
            ws,
            acme,
            checked - 9 * 24 * 3600
        ))
        .await?;
    Ok(())
}

/// Licences and directory users of the first three demo companies, as the Microsoft 365
/// connector would have read them an hour ago (the connector itself is switched off: the demo
/// makes no call out). Dunmore's tenant is listed but not mapped, to show the suggestion.
async fn seed_microsoft365(
    tx: &mut crate::system::SystemTx,
    store: &Store,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
) -> Result<(), StoreError> {
    use crate::connector_sync::{
        AlertRecord, DirectoryUserRecord, Microsoft365Snapshot, SeedSnapshot, SeedTenant, SkuRecord,
    };
    let read_at = now() - 47 * 60;
    let day = 24 * 3600;
    let date_in = |days: i64| {
        jiff::Timestamp::from_second(now() + days * day)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
            .unwrap_or_default()
    };
    let mut snapshots = Vec::new();
    for (n, c) in COMPANIES.iter().take(3).enumerate() {
        let slug = c.name.split(' ').next().unwrap_or(c.name).to_lowercase();
        let mut users: Vec<DirectoryUserRecord> = Vec::new();
        let mut add = |name: &str, enabled: bool, days: Option<i64>, mfa: bool, skus: &[usize]| {
            let login = name.to_lowercase().replace(' ', ".");
            let upn = format!("{login}@{slug}.test");
            users.push(DirectoryUserRecord {
                external_id: format!("{:08x}-0000-4000-8000-{:012x}", n + 1, users.len() + 1),
                display_name: name.to_owned(),
                user_principal_name: upn.clone(),
                mail: upn,
                enabled,
                licence_skus: skus.iter().map(|&i| DEMO_SKUS[i].0.to_owned()).collect(),
                mfa_registered: Some(mfa),
                is_admin: users.is_empty(),
                last_sign_in_at: days.map(|d| now() - d * day - 3600),
            });
        };
        for (name, _, _) in c.contacts {
            add(name, true, Some(0), true, &[0]);
        }
        for (name, enabled, days, mfa, skus) in DEMO_DIRECTORY.iter().take(3 + 2 * (2 - n)) {
            add(name, *enabled, *days, *mfa, skus);
        }
        let skus = DEMO_SKUS
            .iter()
            .enumerate()
            .map(|(i, (id, code, purchased))| {
                let assigned = users
                    .iter()
                    .filter(|u| u.licence_skus.iter().any(|s| s == id))
                    .count() as i64;
                SkuRecord {
                    sku_id: (*id).to_owned(),
                    sku_part_number: (*code).to_owned(),
                    product_name: match *code {
                        "SPB" => "Microsoft 365 Business Premium",
                        "EXCHANGESTANDARD" => "Exchange Online (Plan 1)",
                        _ => "Microsoft 365 Business Basic",
                    }
                    .to_owned(),
                    capability_status: "Enabled".to_owned(),
                    purchased: (*purchased - n as i64 * 2).max(assigned),
                    assigned,
                    suspended: 0,
                    warning: 0,
                    renews_on: Some(date_in([40, 200, 330][i] + n as i64 * 11)),
                }
            })
            .collect();
        snapshots.push((
            slug.clone(),
            c.name,
            Microsoft365Snapshot {
                name: c.name.to_owned(),
                domains: vec![format!("{slug}.test")],
                skus,
                users,
                sign_ins_known: true,
                // Acme's Defender has seen something this week; the others are quiet.
                alerts: Some(if n == 0 {
                    let hours = |h: i64| now() - h * 3600;
                    vec![
                        AlertRecord {
                            external_id: "da637000000000000001_-1".into(),
                            title: "Suspicious PowerShell command line".into(),
                            severity: "high".into(),
                            status: "new".into(),
                            service_source: "microsoftDefenderForEndpoint".into(),
                            category: "Execution".into(),
                            subject: "ACM-WS-05".into(),
                            created_at: hours(5),
                            updated_at: hours(5),
                            resolved_at: None,
                        },
                        AlertRecord {
                            external_id: "fa0000000000000000000002".into(),
                            title: "Email messages containing malicious URL removed after delivery"
                                .into(),
                            severity: "medium".into(),
                            status: "resolved".into(),
                            service_source: "microsoftDefenderForOffice365".into(),
                            category: "InitialAccess".into(),
                            subject: "nora.quinn@acme.test".into(),
                            created_at: hours(50),
                            updated_at: hours(30),
                            resolved_at: Some(hours(30)),
                        },
                    ]
                } else {
                    Vec::new()
                }),
                alerts_watermark: None,
            },
        ));
    }
    let domains: Vec<[String; 1]> = snapshots
        .iter()
        .map(|(slug, _, _)| [format!("{slug}.test")])
        .collect();
    let domain_refs: Vec<Vec<&str>> = domains
        .iter()
        .map(|d| d.iter().map(String::as_str).collect())
        .collect();
    let ids: Vec<String> = (1..=4)
        .map(|n| format!("{n}{n}{n}{n}{n}{n}{n}{n}-{n}{n}{n}{n}-4{n}{n}{n}-8{n}{n}{n}-{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}"))
        .collect();
    let mut tenants: Vec<SeedTenant<'_>> = snapshots
        .iter()
        .enumerate()
        .map(|(i, (_, name, snapshot))| SeedTenant {
            external_id: &ids[i],
            name,
            domains: &domain_refs[i],
            company: Some(companies[i].0),
            snapshot: Some(SeedSnapshot::Microsoft365(snapshot)),
        })
        .collect();
    let dunmore = COMPANIES.get(3).map(|c| c.name).unwrap_or("Dunmore");
    let dunmore_domain = [format!(
        "{}.test",
        dunmore.split(' ').next().unwrap_or(dunmore).to_lowercase()
    )];
    let dunmore_domains: Vec<&str> = dunmore_domain.iter().map(String::as_str).collect();
    tenants.push(SeedTenant {
        external_id: &ids[3],
        name: dunmore,
        domains: &dunmore_domains,
        company: None,
        snapshot: None,
    });
    tx.add_connector_with_records(
        store,
        ws,
        crate::scoped::connectors::ConnectorKind::Microsoft365,
        "Microsoft 365 (demo data)",
        &tenants,
        read_at,
    )
    .await?;
    // What Northwind charges per user and month.
    for (code, cents) in [
        ("SPB", 3_300),
        ("EXCHANGESTANDARD", 660),
        ("O365_BUSINESS_ESSENTIALS", 990),
    ] {
        tx.set_licence_price(ws, code, cents, "AUD").await?;
    }
    Ok(())
}

/// Acme's devices as NinjaOne would have reported them twenty minutes ago (the connector is
/// switched off: nothing calls out): each matched by serial to the asset entered for it, kept
/// fresh, and three days of patching in Maintenance.
async fn seed_ninjaone(
    tx: &mut crate::system::SystemTx,
    store: &Store,
    ws: WorkspaceId,
    acme: CompanyId,
) -> Result<(), StoreError> {
    use crate::connector_sync::{DeviceRecord, PatchDay, RmmSnapshot, SeedSnapshot, SeedTenant};
    use crate::sql::q;
    let read_at = now() - 20 * 60;
    let assets: Vec<(String, String, String, String, String, String)> = tx
        .tx
        .all(q!(
            "SELECT a.name, a.kind, a.manufacturer, a.model, a.serial, COALESCE(s.name, '') \
             FROM assets a LEFT JOIN sites s ON s.id = a.site_id WHERE a.workspace_id = $1 \
             AND a.company_id = $2 AND a.kind IN ('workstation', 'laptop', 'server') ORDER BY a.name",
            ws,
            acme
        ))
        .await?;
    let devices: Vec<DeviceRecord> = assets
        .iter()
        .enumerate()
        .map(
            |(i, (name, kind, make, model, serial, site))| DeviceRecord {
                external_id: (5000 + i).to_string(),
                name: name.clone(),
                kind: AssetKind::parse(kind).unwrap_or(AssetKind::Workstation),
                manufacturer: make.clone(),
                model: model.clone(),
                serial: serial.clone(),
                os: if kind == "server" {
                    "Windows Server 2022 Standard Edition".into()
                } else {
                    "Windows 11 Professional Edition".into()
                },
                last_seen_at: Some(read_at - (i as i64 % 7) * 600),
                location: Some(site.clone()).filter(|s| !s.is_empty()),
            },
        )
        .collect();
    let day = 24 * 3600;
    let patch_days: Vec<PatchDay> = (1..=3)
        .map(|back| {
            let starts = now() - back * day - 6 * 3600;
            let touched: Vec<String> = devices
                .iter()
                .skip(back as usize)
                .step_by(2)
                .map(|d| d.external_id.clone())
                .collect();
            let failed = i64::from(back == 2);
            PatchDay {
                day: jiff::Timestamp::from_second(starts)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
                    .unwrap_or_default(),
                installed: touched.len() as i64 * 2 - failed,
                failed,
                starts_at: starts,
                ends_at: starts + 95 * 60,
                devices: touched,
                failures: if failed > 0 {
                    vec!["KB5072033".to_owned()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let snapshot = RmmSnapshot {
        devices,
        patch_days,
    };
    tx.add_connector_with_records(
        store,
        ws,
        crate::scoped::connectors::ConnectorKind::NinjaOne,
        "NinjaOne (demo data)",
        &[SeedTenant {
            external_id: "101",
            name: COMPANIES[0].name,
            domains: &[],
            company: Some(acme),
            snapshot: Some(SeedSnapshot::Rmm(&snapshot)),
        }],
        read_at,
    )
    .await?;
    Ok(())
}

/// Acme's endpoint and identity protection as Huntress would have reported it a quarter of an
/// hour ago (switched off: nothing calls out): an agent on every computer but one, one silent
/// laptop, a high-severity incident under way and one closed, and the Microsoft 365 identities
/// its ITDR watches.
async fn seed_huntress(
    tx: &mut crate::system::SystemTx,
    store: &Store,
    ws: WorkspaceId,
    acme: CompanyId,
) -> Result<(), StoreError> {
    use crate::connector_sync::{AlertRecord, SeedSnapshot, SeedTenant};
    use crate::edr_sync::{AgentRecord, EdrSnapshot, IdentityCounts};
    use crate::sql::q;
    let read_at = now() - 15 * 60;
    let computers: Vec<(String, String, String)> = tx
        .tx
        .all(q!(
            "SELECT name, serial, kind FROM assets WHERE workspace_id = $1 AND company_id = $2 \
             AND kind IN ('workstation', 'laptop', 'server') AND archived_at IS NULL ORDER BY name",
            ws,
            acme
        ))
        .await?;
    // The last computer has no agent: the card names it.
    let covered = computers.len().saturating_sub(1);
    let agents: Vec<AgentRecord> = computers
        .iter()
        .take(covered)
        .enumerate()
        .map(|(i, (name, serial, kind))| AgentRecord {
            external_id: (88_000 + i).to_string(),
            hostname: name.to_ascii_uppercase().replace(' ', "-"),
            serial: serial.clone(),
            platform: "windows".into(),
            os: if kind == "server" {
                "Windows Server 2022".into()
            } else {
                "Windows 11 Pro".into()
            },
            last_seen_at: Some(if i == 1 {
                read_at - 20 * 24 * 3600
            } else {
                read_at - (i as i64 % 5) * 300
            }),
        })
        .collect();
    let host = agents
        .first()
        .map(|a| a.hostname.clone())
        .unwrap_or_default();
    let day = 24 * 3600;
    let incidents = vec![
        AlertRecord {
            external_id: "41001".into(),
            title: "Malicious scheduled task persisting a remote access tool".into(),
            severity: "high".into(),
            status: "new".into(),
            service_source: "huntressEdr".into(),
            category: "footholds".into(),
            subject: host.clone(),
            created_at: read_at - 3 * 3600,
            updated_at: read_at - 2 * 3600,
            resolved_at: None,
        },
        AlertRecord {
            external_id: "41002".into(),
            title: "Sign-in from an unusual country followed by an inbox rule".into(),
            severity: "critical".into(),
            status: "resolved".into(),
            service_source: "huntressItdr".into(),
            category: "managed_identity".into(),
            subject: "Microsoft 365".into(),
            created_at: read_at - 9 * day,
            updated_at: read_at - 8 * day,
            resolved_at: Some(read_at - 8 * day),
        },
    ];
    let snapshot = EdrSnapshot {
        agents,
        incidents,
        identities: Some(IdentityCounts {
            identities: 24,
            protected: 24,
            without_mfa: 2,
            at_risk: 0,
        }),
    };
    tx.add_connector_with_records(
        store,
        ws,
        crate::scoped::connectors::ConnectorKind::Huntress,
        "Huntress (demo data)",
        &[SeedTenant {
            external_id: "7001",
            name: COMPANIES[0].name,
            domains: &[],
            company: Some(acme),
            snapshot: Some(SeedSnapshot::Edr(&snapshot)),
        }],
        read_at,
    )
    .await?;
    Ok(())
}

/// Acme's external test of six weeks ago, published (its report not attached: the demo has no
/// files), and Birchwood's, still a draft.
async fn seed_pentests(
    tx: &mut crate::system::SystemTx,
    ws: WorkspaceId,
    companies: &[(CompanyId, Vec<SiteId>)],
) -> Result<(), StoreError> {
    let day = |back: i64| {
        jiff::Timestamp::from_second(now() - back * 24 * 3600)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
            .unwrap_or_default()
    };
    for (company, back, scope, findings, summary, published) in [
        (
            companies[0].0,
            42,
            "External perimeter, the patient booking site and the Microsoft 365 tenant",
            [0, 1, 3, 6],
            "One high finding (an exposed remote desktop gateway without MFA) was fixed the same week; the medium ones are scheduled for the next maintenance window.",
            true,
        ),
        (
            companies[1].0,
            5,
            "Internal network and Active Directory",
            [1, 2, 4, 2],
            "",
            false,
        ),
    ] {
        let tested_on = day(back);
        tx.add_pentest(
            ws,
            &crate::system::SeedPentest {
                company,
                tested_on: &tested_on,
                vendor: "Redline Security",
                scope,
                summary,
                findings,
                report: None,
                published,
            },
        )
        .await?;
    }
    Ok(())
}
