//! The portal's ticket list pages kept per instance (`ticket_page_cache`, on by default): a kept
//! page follows every change to its company's tickets, copies and names at once, whichever
//! instance made it, and is never shown to a caller whose own query differs. On SQLite and
//! PostgreSQL.

mod common;

use common::{PORTAL, Response, TestApp, Who};
use portico_core::{TicketPriority, TicketStatus};
use portico_store::system::SeedTicket;

async fn list(app: &TestApp, who: Who, path: &str) -> Response {
    let token = app.session_for(who).await;
    let page = app.get(PORTAL, path).session(token.as_deref()).send().await;
    assert_eq!(page.status, 200, "{path} as {who:?}");
    page
}

async fn post(app: &TestApp, who: Who, path: &str, pairs: &[(&str, &str)]) -> Response {
    app.post_as(who, path, pairs).await
}

/// The MSP renames another requester of the member's company.
async fn rename_requester(app: &TestApp, name: &str) {
    let edit = format!(
        "/companies/{}/users/{}",
        app.fx.company_a, app.fx.requester_x
    );
    let renamed = post(
        app,
        Who::Owner,
        &edit,
        &[("name", name), ("role", "member")],
    )
    .await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
}

/// Adds a ticket for the member's company through a second store over the same database, with
/// its own memory: another instance, as far as this one can tell. (Several instances are a
/// PostgreSQL deployment; on SQLite the second store shares this process, since a serving
/// process holds its file against others.)
async fn write_ticket_elsewhere(app: &TestApp, title: &str) {
    let other = app.db.another_instance().await;
    let mut tx = other.system_unscoped().await.unwrap();
    tx.add_ticket(
        app.fx.ws1,
        &SeedTicket {
            company: app.fx.company_a,
            site: Some(app.fx.site_a1),
            requester: Some(app.fx.portal(Who::Member)),
            title,
            status: TicketStatus::New,
            priority: TicketPriority::High,
            created_at: portico_store::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_kept_list_page_follows_every_change_to_its_companys_tickets() {
    let app = TestApp::spawn().await;
    let mine = "CANARY-TICKET-Member";
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    // Read twice: the second is served from the kept page.
    assert!(
        list(&app, Who::Member, "/tickets")
            .await
            .body
            .contains(mine)
    );
    let hits = app.store().ticket_page_hits();
    assert!(
        list(&app, Who::Member, "/tickets")
            .await
            .body
            .contains(mine)
    );
    assert_eq!(
        app.store().ticket_page_hits(),
        hits + 1,
        "served from memory"
    );
    // A search is always read from the database.
    for _ in 0..2 {
        let found = list(&app, Who::Member, "/tickets?q=CANARY").await;
        assert!(found.body.contains(mine));
    }
    assert_eq!(
        app.store().ticket_page_hits(),
        hits + 1,
        "searches are not kept"
    );

    // A status change through this instance.
    let resolved = post(
        &app,
        Who::Owner,
        &format!("/tickets/{ticket}/update"),
        &[("status", "resolved"), ("priority", "normal")],
    )
    .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    assert!(
        !list(&app, Who::Member, "/tickets")
            .await
            .body
            .contains(mine)
    );
    assert!(
        list(&app, Who::Member, "/tickets?status=closed")
            .await
            .body
            .contains(mine)
    );

    // A ticket written through a second instance over the same database.
    write_ticket_elsewhere(&app, "WRITTEN-ELSEWHERE").await;
    assert!(
        list(&app, Who::Member, "/tickets")
            .await
            .body
            .contains("WRITTEN-ELSEWHERE")
    );

    // Another requester's name, changed by the MSP: the kept page names them anew.
    assert!(
        !list(&app, Who::Member, "/tickets?status=all")
            .await
            .body
            .contains("RENAMED-REQUESTER")
    );
    rename_requester(&app, "RENAMED-REQUESTER").await;
    assert!(
        list(&app, Who::Member, "/tickets?status=all")
            .await
            .body
            .contains("RENAMED-REQUESTER")
    );

    // Copies: the own-tickets-only colleague's kept page gains the ticket it is copied on, and
    // loses it again when the copy is removed.
    let colleague = app.fx.portal(Who::OwnTicketsOnly).to_string();
    let open = format!("/tickets/{}", app.fx.ticket_a1_other);
    assert!(
        !list(&app, Who::OwnTicketsOnly, "/tickets?status=all")
            .await
            .body
            .contains("CANARY-TICKET-A1-OTHER")
    );
    let copied = post(
        &app,
        Who::Member,
        &format!("{open}/cc"),
        &[("cc", &colleague)],
    )
    .await;
    assert_eq!(copied.status, 303, "{}", copied.body);
    assert!(
        list(&app, Who::OwnTicketsOnly, "/tickets?status=all")
            .await
            .body
            .contains("CANARY-TICKET-A1-OTHER")
    );
    let uncopied = post(&app, Who::Member, &format!("{open}/cc"), &[]).await;
    assert_eq!(uncopied.status, 303, "{}", uncopied.body);
    assert!(
        !list(&app, Who::OwnTicketsOnly, "/tickets?status=all")
            .await
            .body
            .contains("CANARY-TICKET-A1-OTHER")
    );
}

#[tokio::test]
async fn a_kept_page_is_never_shown_to_a_narrower_scope_of_the_same_company() {
    let app = TestApp::spawn().await;
    // The whole company's page is read (and kept) first…
    let whole = list(&app, Who::Member, "/tickets?status=all").await.body;
    for canary in [
        "CANARY-TICKET-A2",
        "CANARY-TICKET-A1-OTHER",
        "CANARY-TICKET-Member",
    ] {
        assert!(whole.contains(canary), "{canary}");
    }
    // …then the same list by colleagues fenced to their own tickets, or to one site.
    let own = list(&app, Who::OwnTicketsOnly, "/tickets?status=all")
        .await
        .body;
    assert!(own.contains("CANARY-TICKET-OwnTicketsOnly"));
    assert!(!own.contains("CANARY-TICKET-A1-OTHER") && !own.contains("CANARY-TICKET-Member"));
    let site = list(&app, Who::SiteRestricted, "/tickets?status=all")
        .await
        .body;
    assert!(site.contains("CANARY-TICKET-SiteRestricted"));
    assert!(!site.contains("CANARY-TICKET-A2"));
    // And the whole company's page is still whole.
    let again = list(&app, Who::Member, "/tickets?status=all").await.body;
    assert_eq!(
        whole.matches("CANARY-TICKET-").count(),
        again.matches("CANARY-TICKET-").count()
    );
}

/// One session reading the list again and again, as a client's open browser does. Its later
/// requests are served from the page kept at the versions read with the session itself, without
/// a statement; each still shows every change committed before it, whoever made it: a ticket
/// written through a second store, a requester renamed by the MSP, a colleague copied and
/// un-copied.
#[tokio::test]
async fn one_long_lived_session_follows_every_change() {
    let app = TestApp::spawn().await;
    let member = app.session_for(Who::Member).await;
    let colleague = app.session_for(Who::OwnTicketsOnly).await;
    let read = |token: &Option<String>, path: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            let page = app.get(PORTAL, path).session(token.as_deref()).send().await;
            assert_eq!(page.status, 200, "{path}");
            page.body
        }
    };
    let unread = |app: &TestApp| app.store().ticket_page_hits_without_query();

    // Kept at the first read; the second is served without a statement.
    let first = read(&member, "/tickets?status=all").await;
    assert!(!first.contains("WRITTEN-ELSEWHERE"));
    let before = unread(&app);
    assert_eq!(read(&member, "/tickets?status=all").await, first);
    assert_eq!(unread(&app), before + 1, "served without a query");

    // A ticket written through a second store.
    write_ticket_elsewhere(&app, "WRITTEN-ELSEWHERE").await;
    let before = unread(&app);
    assert!(
        read(&member, "/tickets?status=all")
            .await
            .contains("WRITTEN-ELSEWHERE")
    );
    assert_eq!(
        unread(&app),
        before,
        "the kept page was stale, so not served"
    );
    // Kept again at the new versions.
    assert!(
        read(&member, "/tickets?status=all")
            .await
            .contains("WRITTEN-ELSEWHERE")
    );
    assert_eq!(unread(&app), before + 1);

    // A requester renamed by the MSP.
    rename_requester(&app, "RENAMED-REQUESTER").await;
    assert!(
        read(&member, "/tickets?status=all")
            .await
            .contains("RENAMED-REQUESTER")
    );

    // The own-tickets-only colleague, copied on a ticket and then not.
    let open = format!("/tickets/{}", app.fx.ticket_a1_other);
    let copy = app.fx.portal(Who::OwnTicketsOnly).to_string();
    assert!(
        !read(&colleague, "/tickets?status=all")
            .await
            .contains("CANARY-TICKET-A1-OTHER")
    );
    read(&colleague, "/tickets?status=all").await;
    let copied = post(&app, Who::Member, &format!("{open}/cc"), &[("cc", &copy)]).await;
    assert_eq!(copied.status, 303, "{}", copied.body);
    assert!(
        read(&colleague, "/tickets?status=all")
            .await
            .contains("CANARY-TICKET-A1-OTHER")
    );
    let uncopied = post(&app, Who::Member, &format!("{open}/cc"), &[]).await;
    assert_eq!(uncopied.status, 303, "{}", uncopied.body);
    assert!(
        !read(&colleague, "/tickets?status=all")
            .await
            .contains("CANARY-TICKET-A1-OTHER")
    );
}

/// The overview's figures are kept like list pages: shown again from memory, and counted again
/// as soon as a ticket of the company changes, through this instance or another; a narrower
/// scope of the same company gets its own figures.
#[tokio::test]
async fn the_overview_figures_follow_every_change() {
    let app = TestApp::spawn().await;
    let open_count = |body: &str| -> i64 {
        let at = body.find("Open tickets").expect("the open-tickets figure");
        let before = &body[..at];
        let start = before.rfind("class=\"figure\">").expect("figure") + "class=\"figure\">".len();
        before[start..]
            .split('<')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let first = open_count(&list(&app, Who::Member, "/").await.body);
    assert_eq!(open_count(&list(&app, Who::Member, "/").await.body), first);
    write_ticket_elsewhere(&app, "Raised through another instance").await;
    assert_eq!(
        open_count(&list(&app, Who::Member, "/").await.body),
        first + 1,
        "a ticket written elsewhere is counted at once"
    );
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let resolved = post(
        &app,
        Who::Owner,
        &format!("/tickets/{ticket}/update"),
        &[("status", "resolved"), ("priority", "normal")],
    )
    .await;
    assert_eq!(resolved.status, 303);
    assert_eq!(open_count(&list(&app, Who::Member, "/").await.body), first);
    // The own-tickets-only colleague counts only their own, whatever the member's kept figures.
    let own = open_count(&list(&app, Who::OwnTicketsOnly, "/").await.body);
    assert!(own < first, "own-only {own} vs company {first}");
}

/// The desk's lists keep the names they show per workspace and reader (`desk_names.rs`): a
/// renamed client shows under the new name on the very next page, to every reader.
#[tokio::test]
async fn the_desk_names_follow_every_rename() {
    let app = TestApp::spawn().await;
    let company_page = format!("/companies/{}", app.fx.company_a);
    let desk = async |who: Who| {
        let token = app.session_for(who).await;
        let page = app
            .get(common::CONSOLE, &company_page)
            .session(token.as_deref())
            .send()
            .await;
        assert_eq!(page.status, 200, "{who:?}");
        page.body
    };
    rename_requester(&app, "Xavier Before").await;
    for who in [Who::Owner, Who::TechnicianAssigned] {
        // Twice: the second is served from the kept names.
        assert!(desk(who).await.contains("Xavier Before"));
        assert!(desk(who).await.contains("Xavier Before"));
    }
    rename_requester(&app, "Xavier After").await;
    for who in [Who::Owner, Who::TechnicianAssigned] {
        let body = desk(who).await;
        assert!(
            body.contains("Xavier After") && !body.contains("Xavier Before"),
            "{who:?}"
        );
    }
}
