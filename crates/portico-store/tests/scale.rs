//! The benchmark's seeder on a small scale: the counts it promises, and the schema left exactly
//! as the migrations made it (indexes and triggers dropped for the bulk load are back).

use portico_store::scale::{ScaleSpec, seed};
use portico_store::test_support::TestDatabase;

#[tokio::test]
async fn the_scale_seeder_fills_what_it_promises_and_restores_every_index_and_trigger() {
    // Shared locking, as `portico bench-seed` opens the file: the load may then leave WAL mode.
    let db = TestDatabase::create_with(portico_store::SqliteLocking::Shared).await;
    let indexes = |db: &TestDatabase| {
        let url = db.owner_url.clone();
        async move {
            use sqlx::Connection;
            if url.starts_with("sqlite:") {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let mut v: Vec<String> = sqlx::query_scalar(
                    "SELECT type || ' ' || name FROM sqlite_master WHERE type IN ('index', 'trigger') \
                     ORDER BY name",
                )
                .fetch_all(&mut c)
                .await
                .unwrap();
                v.sort();
                v
            } else {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query_scalar(
                    "SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public' \
                     UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal \
                     ORDER BY 1",
                )
                .fetch_all(&mut c)
                .await
                .unwrap()
            }
        }
    };
    let before = indexes(&db).await;
    let logins = seed(
        &db.store,
        ScaleSpec {
            companies: 20,
            tickets: 500,
            replies_per_ticket: 3,
            focus_tickets: 50,
            mix_users: 5,
            assets: 400,
            focus_assets: 40,
            time_entries_per_ticket: 2,
            invoices_per_company: 3,
        },
    )
    .await
    .unwrap();
    assert_eq!(logins.portal_email, "member@measured.test");
    assert_eq!(indexes(&db).await, before);
    if let Some(path) = &db.sqlite_path {
        // The load may leave WAL mode for speed; the file is back in it afterwards (header
        // bytes 18 and 19, the file format's read and write versions, are 2 in WAL mode).
        let header = std::fs::read(path).unwrap();
        assert_eq!(
            &header[18..20],
            &[2, 2],
            "{} is not in WAL mode",
            path.display()
        );
    }

    // Statistics and (on PostgreSQL) the visibility map, as the tables' owner.
    let owner = portico_store::Store::connect(&db.owner_url, 2)
        .await
        .unwrap();
    portico_store::scale::settle(&owner).await.unwrap();
    let settled = {
        use sqlx::Connection;
        if db.sqlite_path.is_some() {
            let mut c = sqlx::SqliteConnection::connect(&db.owner_url)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sqlite_stat1 WHERE idx = 'tickets_company_page'",
            )
            .fetch_one(&mut c)
            .await
            .unwrap()
        } else {
            // -1 until the table is first analysed or vacuumed (which of its pages VACUUM may
            // mark all-visible depends on other transactions of the cluster, so not that).
            let mut c = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
            sqlx::query_scalar::<_, f32>(
                "SELECT reltuples FROM pg_class WHERE relname = 'tickets' AND relkind = 'r'",
            )
            .fetch_one(&mut c)
            .await
            .unwrap() as i64
        }
    };
    assert!(settled > 0, "settle left no planner statistics");

    let mut tx = db.store.system_unscoped().await.unwrap();
    assert_eq!(tx.count_rows("companies").await.unwrap(), 20);
    assert_eq!(tx.count_rows("tickets").await.unwrap(), 500);
    // The measured member and client admin, and the mix's five.
    assert_eq!(tx.count_rows("portal_users").await.unwrap(), 7);
    assert_eq!(tx.count_rows("ticket_messages").await.unwrap(), 1500);
    assert_eq!(tx.count_rows("assets").await.unwrap(), 400);
    // Two on each of the other companies' 450 tickets, one on each of the measured company's
    // first 300 (all 50 here).
    assert_eq!(tx.count_rows("time_entries").await.unwrap(), 950);
    assert_eq!(tx.count_rows("invoices").await.unwrap(), 60);
    assert_eq!(tx.count_rows("invoice_lines").await.unwrap(), 180);
    // A Microsoft 365 tenant and a Huntress one for each company, five products each; forty
    // directory users of each other company, two thousand of the measured one.
    assert_eq!(tx.count_rows("connector_tenants").await.unwrap(), 40);
    // Each company's Security and Backup: three alerts, its identities watched, a published
    // test, five backup jobs; the measured company's computers' agents.
    assert_eq!(tx.count_rows("security_alerts").await.unwrap(), 60);
    assert_eq!(tx.count_rows("identity_protection").await.unwrap(), 20);
    assert_eq!(tx.count_rows("pentests").await.unwrap(), 20);
    assert_eq!(tx.count_rows("backup_jobs").await.unwrap(), 100);
    assert!(tx.count_rows("edr_agents").await.unwrap() > 0);
    // The measured company's endpoint coverage, kept as a run keeps it.
    assert_eq!(tx.count_rows("edr_coverage").await.unwrap(), 1);
    // An Essential Eight assessment of each of the 19 other companies (30 requirements each),
    // and the measured company's Essential Eight and CIS IG1 recorded from its records.
    assert_eq!(tx.count_rows("compliance_assessments").await.unwrap(), 21);
    assert_eq!(
        tx.count_rows("compliance_findings").await.unwrap(),
        19 * 30 + 30 + 56
    );
    assert_eq!(tx.count_rows("licences").await.unwrap(), 100);
    assert_eq!(
        tx.count_rows("directory_users").await.unwrap(),
        19 * 40 + 2_000
    );
    // Every ticket has its search document (on PostgreSQL also one of internal notes, since
    // every third reply is one).
    if db.sqlite_path.is_some() {
        assert_eq!(tx.count_rows("ticket_search_rows").await.unwrap(), 500);
        assert_eq!(tx.count_rows("ticket_search").await.unwrap(), 500);
    } else {
        assert_eq!(tx.count_rows("ticket_search").await.unwrap(), 1000);
    }
    tx.commit().await.unwrap();
}

/// SQLite's full-text index merged into one segment once fragmented, with writes between the
/// steps (their segments stay out of the merge), with the same matches before and after; a
/// no-op on PostgreSQL, whose index needs no such upkeep.
#[tokio::test]
async fn a_fragmented_search_index_is_merged_into_one_segment_with_the_same_matches() {
    let db = TestDatabase::create_with(portico_store::SqliteLocking::Shared).await;
    seed(
        &db.store,
        ScaleSpec {
            companies: 4,
            tickets: 200,
            replies_per_ticket: 1,
            focus_tickets: 20,
            mix_users: 2,
            assets: 10,
            focus_assets: 5,
            time_entries_per_ticket: 0,
            invoices_per_company: 0,
        },
    )
    .await
    .unwrap();
    let Some(path) = db.sqlite_path.clone() else {
        let done = db.store.compact_search_index(8, || true).await.unwrap();
        assert_eq!(done, Default::default());
        return;
    };
    // Plain statements of a connection of their own, as another writer's.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let segments = |c: &rusqlite::Connection| -> usize {
        c.query_row(
            "SELECT COUNT(DISTINCT segid) FROM ticket_search_idx",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
    };
    let matches = |c: &rusqlite::Connection, query: &str| -> Vec<i64> {
        let mut s = c
            .prepare("SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?1 ORDER BY rowid")
            .unwrap();
        s.query_map([query], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let retitle = |c: &rusqlite::Connection, row: i64, word: &str| {
        c.execute(
            "UPDATE tickets SET title = title || ' ' || ?2 WHERE rowid = ?1",
            rusqlite::params![row, word],
        )
        .unwrap();
    };
    // FTS5's own merging off, then twelve writes, each committing a segment (FTS5 still folds
    // some of them together).
    c.execute(
        "INSERT INTO ticket_search (ticket_search, rank) VALUES ('automerge', 0)",
        [],
    )
    .unwrap();
    for n in 1..=12 {
        retitle(&c, n * 7, "printer");
    }
    let fragmented = segments(&c);
    assert!(fragmented >= 3, "{fragmented} segments");
    let printers = matches(&c, "printer");
    let vpn = matches(&c, "\"vp\"*");
    assert!(
        printers.len() >= 12 && !vpn.is_empty(),
        "{printers:?} {vpn:?}"
    );
    let leaf_pages: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM ticket_search_data WHERE rowid > 10",
            [],
            |r| r.get(0),
        )
        .unwrap();

    // Small steps, so that the merge takes several, and a write after each of the first three
    // (a word every match below already has).
    let mut writes = 0;
    let done = db
        .store
        .compact_search_index(4, || {
            if writes < 3 {
                writes += 1;
                retitle(&c, writes * 7, "printer");
            }
            true
        })
        .await
        .unwrap();
    assert!(done.merged && done.steps > 3, "{done:?}");
    assert_eq!(done.segments_before, fragmented);
    assert!(
        done.pages_before >= fragmented as i64 && done.pages_before <= leaf_pages,
        "{done:?}, {leaf_pages} pages"
    );
    // The merged segment, and what is left of the three writes' segments.
    assert!((2..=4).contains(&done.segments_after), "{done:?}");
    assert_eq!(segments(&c), done.segments_after);
    assert_eq!(matches(&c, "printer"), printers);
    assert_eq!(matches(&c, "\"vp\"*"), vpn);

    // Merged whole by FTS5 itself: nothing left for a compaction.
    c.execute(
        "INSERT INTO ticket_search (ticket_search) VALUES ('optimize')",
        [],
    )
    .unwrap();
    assert_eq!(segments(&c), 1);
    assert_eq!(matches(&c, "printer"), printers);

    // Nothing left to merge.
    let last = db.store.compact_search_index(4, || true).await.unwrap();
    assert_eq!((last.segments_before, last.steps), (1, 0));
    assert!(last.merged);
}
