//! The audit log (A4): an entry commits or rolls back with its change; views reach the log
//! through the recorder; each reader sees only the chains its scope holds; the application
//! cannot rewrite it; and every way of tampering — modifying, deleting, reordering, inserting,
//! truncating the tail, rebuilding the chain without the key — is caught by the verifier,
//! which names the first bad entry. Pruning keeps the chain verifiable, and a client's proof
//! bundle checks on its own. Runs on SQLite, and on PostgreSQL (as the application role, the
//! tampering as the tables' owner) when PORTICO_TEST_POSTGRES_URL is set.

use portico_core::{
    AuditAction, AuditTarget, CompanyId, Origin, PortalRole, Scope, StaffRole, WorkspaceId,
};
use portico_store::audit::{AuditKey, StoredEntry};
use portico_store::scoped::audit_log::AuditFilter;
use portico_store::system::SeedPortalUser;
use portico_store::test_support::TestDatabase;
use portico_store::{NewSession, SessionUser, Store, StoreError, SurfaceKind};

/// A checkpoint every this many entries in these tests.
const EVERY: i64 = 10;

struct World {
    db: TestDatabase,
    store: Store,
    key: AuditKey,
    ws: WorkspaceId,
    a: CompanyId,
    b: CompanyId,
    owner: SessionUser,
    admin_a: SessionUser,
    member_a: SessionUser,
    admin_b: SessionUser,
}

async fn world() -> World {
    let db = TestDatabase::create().await;
    let key = AuditKey::generate();
    let store = db.store.clone().with_audit_key(key.clone(), EVERY);
    let mut tx = store.system_unscoped().await.unwrap();
    let ws = tx
        .create_workspace("One", "#1a73e8", "#333333", "")
        .await
        .unwrap();
    let a = tx
        .add_company(ws, "Acme", "Plan", Some(100), Some(10), "AUD", true)
        .await
        .unwrap();
    let b = tx
        .add_company(ws, "Birchwood", "Plan", Some(100), Some(10), "AUD", true)
        .await
        .unwrap();
    let owner = tx
        .add_staff_user(ws, "owner@msp.test", "Olivia", StaffRole::Owner, None, &[])
        .await
        .unwrap();
    let portal = async |tx: &mut portico_store::SystemTx, company, email: &'static str, role| {
        tx.add_portal_user(
            ws,
            &SeedPortalUser {
                company,
                email,
                name: email,
                role,
                own_only: false,
                billing_access: false,
                password_hash: None,
                sites: &[],
            },
        )
        .await
        .unwrap()
    };
    let admin_a = portal(&mut tx, a, "admin@acme.test", PortalRole::ClientAdmin).await;
    let member_a = portal(&mut tx, a, "member@acme.test", PortalRole::Member).await;
    let admin_b = portal(&mut tx, b, "admin@birchwood.test", PortalRole::ClientAdmin).await;
    tx.commit().await.unwrap();
    World {
        db,
        store,
        key,
        ws,
        a,
        b,
        owner: SessionUser::Staff(owner),
        admin_a: SessionUser::Portal(admin_a),
        member_a: SessionUser::Portal(member_a),
        admin_b: SessionUser::Portal(admin_b),
    }
}

impl World {
    async fn scope(&self, user: SessionUser) -> Scope {
        let surface = match user {
            SessionUser::Staff(_) => SurfaceKind::Console,
            SessionUser::Portal(_) => SurfaceKind::Portal,
        };
        let mut auth = self.store.auth(self.ws).await.unwrap();
        let token = auth
            .create_session(&NewSession {
                surface,
                user,
                ip: "127.0.0.1",
                user_agent: "audit test",
                lifetime_secs: 3600,
            })
            .await
            .unwrap();
        auth.commit().await.unwrap();
        let mut auth = self.store.auth(self.ws).await.unwrap();
        let resolved = auth
            .resolve_session(&token, surface, 3600)
            .await
            .unwrap()
            .unwrap();
        auth.commit().await.unwrap();
        Scope::of(&resolved.principal).from_origin(Origin::new(
            Some("192.0.2.7".parse().unwrap()),
            "Mozilla/5.0 (audit test)",
        ))
    }

    /// `n` changes on company A's chain, each committed on its own.
    async fn record(&self, n: usize) {
        let scope = self.scope(self.owner).await;
        for i in 0..n {
            let mut tx = self.store.scoped_write(&scope).await.unwrap();
            tx.audit(
                AuditAction::RecordUpdated,
                Some(self.a),
                AuditTarget::new("asset", format!("asset-{i}"), format!("Laptop {i}")),
                "",
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
    }

    async fn verify(&self) -> Vec<portico_store::audit::Problem> {
        let mut tx = self.store.system_unscoped().await.unwrap();
        let report = tx.verify_audit(self.store.audit_log(), None).await.unwrap();
        report.problems
    }

    /// Company A's chain as stored (read as its client admin's proof bundle).
    async fn chain_a(&self) -> Vec<StoredEntry> {
        let scope = self.scope(self.admin_a).await;
        let mut tx = self.store.scoped(&scope).await.unwrap();
        tx.audit_bundle(None).await.unwrap().entries
    }

    /// Runs `statements` against the audit tables as someone holding the database would.
    async fn tamper(&self, statements: &[String]) {
        self.try_tamper(statements).await.unwrap();
    }

    /// [`World::tamper`], telling whether the database took the statements.
    async fn try_tamper(&self, statements: &[String]) -> Result<(), StoreError> {
        let owner = if TestDatabase::postgres_requested() {
            Store::connect(&self.db.owner_url, 1).await.unwrap()
        } else {
            self.store.clone()
        };
        let mut tx = owner.system_unscoped().await.unwrap();
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        tx.tamper_with_audit_log(&statements).await?;
        tx.commit().await
    }

    fn chain(&self) -> String {
        self.a.as_text()
    }
}

/// An SQL literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn insert_sql(e: &StoredEntry, company: &str) -> String {
    format!(
        "INSERT INTO audit_entries (workspace_id, chain, seq, company_id, concerns_company_id, id, \
         at_ms, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_label, \
         detail, ip, user_agent, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, \
         {}, {}, {}, {}, {}, {}, {}, {}, {})",
        lit(&e.workspace_id),
        lit(&e.chain),
        e.seq,
        lit(company),
        lit(&e.concerns_company_id),
        lit(&e.id),
        e.at_ms,
        lit(&e.actor_kind),
        lit(&e.actor_id),
        lit(&e.actor_name),
        lit(&e.action),
        lit(&e.target_kind),
        lit(&e.target_id),
        lit(&e.target_label),
        lit(&e.detail),
        lit(&e.ip),
        lit(&e.user_agent),
        lit(&e.prev_hash),
        lit(&e.hash)
    )
}

#[tokio::test]
async fn a_change_and_its_entry_commit_or_roll_back_together() {
    let w = world().await;
    let scope = w.scope(w.owner).await;
    let mut tx = w.store.scoped_write(&scope).await.unwrap();
    tx.audit(
        AuditAction::SettingsChanged,
        Some(w.a),
        AuditTarget::new("company", w.a, "Acme"),
        "rolled back",
    )
    .await
    .unwrap();
    drop(tx);
    let mut tx = w.store.scoped_write(&scope).await.unwrap();
    tx.audit(
        AuditAction::SettingsChanged,
        Some(w.a),
        AuditTarget::new("company", w.a, "Acme"),
        "committed",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = w.store.scoped(&scope).await.unwrap();
    let page = tx.audit_entries(&AuditFilter::default()).await.unwrap();
    let details: Vec<&str> = page.entries.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["committed"]);
    let entry = &page.entries[0];
    assert_eq!(entry.actor_name, "Olivia");
    assert_eq!(entry.ip, "192.0.2.7");
    assert_eq!(entry.user_agent, "Mozilla/5.0 (audit test)");
    assert_eq!(entry.company_id, Some(w.a));
    assert!(w.verify().await.is_empty());

    // A read transaction cannot hold a change's entry.
    let mut tx = w.store.scoped(&scope).await.unwrap();
    let refused = tx
        .audit(
            AuditAction::SettingsChanged,
            Some(w.a),
            AuditTarget::default(),
            "",
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Invalid(_))));
}

#[tokio::test]
async fn views_reach_the_log_through_the_recorder() {
    let w = world().await;
    let scope = w.scope(w.member_a).await;
    let tx = w.store.scoped(&scope).await.unwrap();
    tx.audit_view(
        AuditAction::RecordViewed,
        Some(w.a),
        AuditTarget::new("ticket", "t1", "#1042 Printer"),
        "",
    )
    .unwrap();
    // Another company's record is refused like a missing one.
    assert!(matches!(
        tx.audit_view(
            AuditAction::RecordViewed,
            Some(w.b),
            AuditTarget::default(),
            ""
        ),
        Err(StoreError::NotFound)
    ));
    drop(tx);
    // Either the recorder appended it already or this does.
    w.store.flush_audit().await.unwrap();
    let admin = w.scope(w.admin_a).await;
    let mut tx = w.store.scoped(&admin).await.unwrap();
    let page = tx.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].action, AuditAction::RecordViewed);
    assert_eq!(page.entries[0].target_label, "#1042 Printer");
    assert_eq!(page.entries[0].actor_name, "member@acme.test");
    assert!(w.verify().await.is_empty());

    // Many views of two chains interleaved, appended in one batch past a checkpoint: each
    // chain stays whole and in order.
    let owner = w.scope(w.owner).await;
    let tx = w.store.scoped(&owner).await.unwrap();
    for i in 0..(2 * EVERY + 3) {
        let company = if i % 3 == 0 { Some(w.b) } else { Some(w.a) };
        tx.audit_view(
            AuditAction::RecordViewed,
            company,
            AuditTarget::new("asset", i, format!("Asset {i}")),
            "",
        )
        .unwrap();
    }
    drop(tx);
    w.store.flush_audit().await.unwrap();
    assert!(w.verify().await.is_empty(), "{:?}", w.verify().await);
    let chain = w.chain_a().await;
    let labels: Vec<&str> = chain.iter().map(|e| e.target_label.as_str()).collect();
    assert_eq!(labels[1..4], ["Asset 1", "Asset 2", "Asset 4"]);
}

#[tokio::test]
async fn a_large_batch_is_appended_whole_and_in_order() {
    // Checkpoints far apart, so that one chain's batch is cut into statements of every size
    // (64, 16, 4 and 1 rows): 250 = 3 × 64 + 3 × 16 + 2 × 4 + 2 × 1.
    let w = world().await;
    let store = w.store.clone().with_audit_key(w.key.clone(), 1000);
    let owner = w.scope(w.owner).await;
    let tx = store.scoped(&owner).await.unwrap();
    for i in 0..250 {
        tx.audit_view(
            AuditAction::RecordViewed,
            Some(w.a),
            AuditTarget::new("asset", i, format!("Asset {i}")),
            "",
        )
        .unwrap();
    }
    drop(tx);
    assert_eq!(store.flush_audit().await.unwrap(), 250);
    let mut tx = store.system_unscoped().await.unwrap();
    let report = tx.verify_audit(store.audit_log(), None).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    drop(tx);
    let chain = w.chain_a().await;
    assert_eq!(chain.len(), 250);
    for (i, entry) in chain.iter().enumerate() {
        assert_eq!(entry.seq, i as i64 + 1);
        assert_eq!(entry.target_label, format!("Asset {i}"));
    }
}

#[tokio::test]
async fn a_batch_over_many_chains_appends_each_whole() {
    // The recorder's batch holds views of many companies at once: chains with entries and
    // chains without (their heads made in the batch), and the workspace's own. Appended twice,
    // so that the second batch starts from the heads the first one wrote.
    let w = world().await;
    w.record(2).await;
    let mut tx = w.store.system_unscoped().await.unwrap();
    let mut companies = vec![Some(w.a), Some(w.b), None];
    for name in ["Cedar", "Dunmore", "Elm Street", "Fairhaven"] {
        let company = tx
            .add_company(w.ws, name, "Plan", Some(100), Some(10), "AUD", true)
            .await
            .unwrap();
        companies.push(Some(company));
    }
    tx.commit().await.unwrap();
    let owner = w.scope(w.owner).await;
    for round in 0..2 {
        let tx = w.store.scoped(&owner).await.unwrap();
        for i in 0..5 {
            for company in &companies {
                tx.audit_view(
                    AuditAction::RecordViewed,
                    *company,
                    AuditTarget::new("asset", i, format!("Asset {round}.{i}")),
                    "",
                )
                .unwrap();
            }
        }
        drop(tx);
        assert_eq!(w.store.flush_audit().await.unwrap(), 35);
        assert!(w.verify().await.is_empty(), "{:?}", w.verify().await);
    }
    let chain = w.chain_a().await;
    assert_eq!(chain.len(), 12);
    for (i, entry) in chain.iter().enumerate() {
        assert_eq!(entry.seq, i as i64 + 1);
    }
    let labels: Vec<&str> = chain[2..].iter().map(|e| e.target_label.as_str()).collect();
    assert_eq!(labels[..2], ["Asset 0.0", "Asset 0.1"]);
    assert_eq!(labels[5..7], ["Asset 1.0", "Asset 1.1"]);
}

#[tokio::test]
async fn each_reader_sees_only_the_chains_its_scope_holds() {
    let w = world().await;
    let owner = w.scope(w.owner).await;
    let mut tx = w.store.scoped_write(&owner).await.unwrap();
    for (action, company, label) in [
        (AuditAction::TicketReplied, Some(w.a), "reply on A"),
        (
            AuditAction::TicketNoteAdded,
            Some(w.a),
            "internal note on A",
        ),
        (AuditAction::TicketReplied, Some(w.b), "reply on B"),
        (AuditAction::SettingsChanged, None, "workspace branding"),
    ] {
        tx.audit(action, company, AuditTarget::new("ticket", "x", label), "")
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let labels = async |user| -> Result<Vec<String>, StoreError> {
        let scope = w.scope(user).await;
        let mut tx = w.store.scoped(&scope).await.unwrap();
        let mut labels: Vec<String> = tx
            .audit_entries(&AuditFilter::default())
            .await?
            .entries
            .into_iter()
            .map(|e| e.target_label)
            .collect();
        labels.sort();
        Ok(labels)
    };
    assert_eq!(
        labels(w.owner).await.unwrap(),
        [
            "internal note on A",
            "reply on A",
            "reply on B",
            "workspace branding"
        ]
    );
    // The client admin reads their company's chain: no internal work, no other company.
    assert_eq!(labels(w.admin_a).await.unwrap(), ["reply on A"]);
    assert_eq!(labels(w.admin_b).await.unwrap(), ["reply on B"]);
    // A member has no Audit log section.
    assert!(matches!(
        labels(w.member_a).await,
        Err(StoreError::NotFound)
    ));
    // The owner's view of one company: both chains' entries concerning it.
    let mut tx = w.store.scoped(&owner).await.unwrap();
    let page = tx
        .audit_entries(&AuditFilter {
            company: Some(w.a),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(page.entries.iter().any(|e| e.internal));
    // A client admin cannot write the workspace's chain or another company's.
    let admin = w.scope(w.admin_a).await;
    let mut tx = w.store.scoped_write(&admin).await.unwrap();
    for company in [None, Some(w.b)] {
        assert!(matches!(
            tx.audit(
                AuditAction::SettingsChanged,
                company,
                AuditTarget::default(),
                ""
            )
            .await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn the_application_cannot_rewrite_the_log() {
    let w = world().await;
    // Past the first checkpoint, so that there is one to change.
    w.record(12).await;
    let scope = w.scope(w.owner).await;
    for sql in [
        "UPDATE audit_entries SET detail = 'rewritten'",
        "DELETE FROM audit_entries",
        "UPDATE audit_checkpoints SET hash = 'x'",
        "DELETE FROM audit_checkpoints",
    ] {
        let mut tx = w.store.scoped_write(&scope).await.unwrap();
        let result = tx.execute_under_database_fence(sql).await;
        assert!(result.is_err(), "{sql} was allowed: {result:?}");
    }
    assert!(w.verify().await.is_empty());
    assert_eq!(w.chain_a().await.len(), 12);
}

/// A chain of 25 entries on company A, checkpoints at 10 and 20, and the first problem the
/// verifier names after `tamper` ran.
async fn tampered(tamper: impl AsyncFnOnce(&World, Vec<StoredEntry>)) -> (i64, String) {
    let w = world().await;
    w.record(25).await;
    assert!(w.verify().await.is_empty(), "the untouched chain verifies");
    let entries = w.chain_a().await;
    assert_eq!(entries.len(), 25);
    tamper(&w, entries).await;
    let problems = w.verify().await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].chain, w.chain());
    (problems[0].seq, problems[0].what.clone())
}

#[tokio::test]
async fn a_modified_entry_is_caught() {
    let (seq, what) = tampered(async |w, _| {
        w.tamper(&[format!(
            "UPDATE audit_entries SET actor_name = 'Someone else' WHERE chain = '{}' AND seq = 7",
            w.chain()
        )])
        .await;
    })
    .await;
    assert_eq!(seq, 7);
    assert!(what.contains("modified"), "{what}");
}

#[tokio::test]
async fn a_deleted_entry_is_caught() {
    let (seq, what) = tampered(async |w, _| {
        w.tamper(&[format!(
            "DELETE FROM audit_entries WHERE chain = '{}' AND seq = 7",
            w.chain()
        )])
        .await;
    })
    .await;
    assert_eq!(seq, 8);
    assert!(what.contains("missing"), "{what}");
}

#[tokio::test]
async fn reordered_entries_are_caught() {
    let (seq, what) = tampered(async |w, _| {
        let c = w.chain();
        w.tamper(&[
            format!("UPDATE audit_entries SET seq = -1 WHERE chain = '{c}' AND seq = 7"),
            format!("UPDATE audit_entries SET seq = 7 WHERE chain = '{c}' AND seq = 8"),
            format!("UPDATE audit_entries SET seq = 8 WHERE chain = '{c}' AND seq = -1"),
        ])
        .await;
    })
    .await;
    assert_eq!(seq, 7);
    assert!(what.contains("does not follow"), "{what}");
}

#[tokio::test]
async fn an_inserted_entry_is_caught() {
    let (seq, what) = tampered(async |w, entries| {
        let c = w.chain();
        // A well-formed entry after entry 12, the rest moved up one.
        let mut forged = entries[12].clone();
        forged.id = "forged".into();
        forged.actor_name = "Nobody".into();
        forged.prev_hash = entries[11].hash.clone();
        forged.hash = forged.computed_hash();
        w.tamper(&[
            format!("UPDATE audit_entries SET seq = seq + 1000 WHERE chain = '{c}' AND seq > 12"),
            format!("UPDATE audit_entries SET seq = seq - 999 WHERE chain = '{c}' AND seq > 1000"),
            insert_sql(&forged, &c),
        ])
        .await;
    })
    .await;
    assert_eq!(seq, 14);
    assert!(what.contains("does not follow"), "{what}");
}

#[tokio::test]
async fn a_truncated_tail_is_caught() {
    // The head still names entry 25.
    let (seq, what) = tampered(async |w, _| {
        w.tamper(&[format!(
            "DELETE FROM audit_entries WHERE chain = '{}' AND seq > 22",
            w.chain()
        )])
        .await;
    })
    .await;
    assert_eq!(seq, 25);
    assert!(what.contains("removed from the end"), "{what}");
    // The head moved back too: the signed checkpoint at 20 still tells.
    let (seq, what) = tampered(async |w, entries| {
        let c = w.chain();
        w.tamper(&[
            format!("DELETE FROM audit_entries WHERE chain = '{c}' AND seq > 15"),
            format!(
                "UPDATE audit_heads SET seq = 15, hash = '{}' WHERE chain = '{c}'",
                entries[14].hash
            ),
        ])
        .await;
    })
    .await;
    assert_eq!(seq, 20);
    assert!(what.contains("removed from the end"), "{what}");
}

/// Rewrites entry 3 and every hash after it, and the head: a consistent chain, but not the
/// one that was signed.
fn rebuilt(entries: &[StoredEntry]) -> Vec<StoredEntry> {
    let mut out = entries.to_vec();
    out[2].detail = "rewritten".into();
    for i in 2..out.len() {
        if i > 0 {
            out[i].prev_hash = out[i - 1].hash.clone();
        }
        out[i].hash = out[i].computed_hash();
    }
    out
}

fn rewrite(w: &World, entries: &[StoredEntry]) -> Vec<String> {
    let c = w.chain();
    let mut sql = vec![format!("DELETE FROM audit_entries WHERE chain = '{c}'")];
    sql.extend(entries.iter().map(|e| insert_sql(e, &c)));
    let last = entries.last().unwrap();
    sql.push(format!(
        "UPDATE audit_heads SET hash = '{}' WHERE chain = '{c}'",
        last.hash
    ));
    sql
}

#[tokio::test]
async fn a_chain_rebuilt_without_the_key_is_caught() {
    // The signed checkpoints left in place disagree with it.
    let (seq, what) = tampered(async |w, entries| {
        w.tamper(&rewrite(w, &rebuilt(&entries))).await;
    })
    .await;
    assert_eq!(seq, 10);
    assert!(what.contains("rewritten"), "{what}");
    // Removed, the checkpoints are missed where they were due.
    let (seq, what) = tampered(async |w, entries| {
        let mut sql = rewrite(w, &rebuilt(&entries));
        sql.push(format!(
            "DELETE FROM audit_checkpoints WHERE chain = '{}'",
            w.chain()
        ));
        w.tamper(&sql).await;
    })
    .await;
    assert_eq!(seq, 10);
    assert!(what.contains("checkpoint due"), "{what}");
    // Signed again with a key of the attacker's own: the signature gives it away.
    let (_, what) = tampered(async |w, entries| {
        let forged = rebuilt(&entries);
        let mut sql = rewrite(w, &forged);
        let c = w.chain();
        sql.push(format!("DELETE FROM audit_checkpoints WHERE chain = '{c}'"));
        let other = AuditKey::generate().signing_key(&w.ws.as_text());
        for seq in [10usize, 20] {
            let e = &forged[seq - 1];
            let cp = portico_store::audit::Checkpoint::sign(
                &other,
                &e.workspace_id,
                &c,
                e.seq,
                &e.hash,
                e.at_ms,
            );
            sql.push(format!(
                "INSERT INTO audit_checkpoints (workspace_id, chain, company_id, seq, hash, \
                 at_ms, public_key, signature) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
                lit(&cp.workspace_id),
                lit(&c),
                lit(&c),
                cp.seq,
                lit(&cp.hash),
                cp.at_ms,
                lit(&cp.public_key),
                lit(&cp.signature)
            ));
        }
        w.tamper(&sql).await;
    })
    .await;
    assert!(what.contains("signature"), "{what}");
}

/// No log outlives its company: even the database's owner cannot delete a company whose chain
/// has begun (its head refers to it on PostgreSQL, each entry on SQLite), though one without a
/// log goes.
#[tokio::test]
async fn a_company_with_a_log_cannot_be_deleted() {
    let w = world().await;
    let mut tx = w.store.system_unscoped().await.unwrap();
    let mut company = async |name| {
        tx.add_company(w.ws, name, "Plan", None, None, "AUD", true)
            .await
            .unwrap()
    };
    let logged = company("Logged").await;
    let quiet = company("Quiet").await;
    tx.commit().await.unwrap();
    let scope = w.scope(w.owner).await;
    let mut tx = w.store.scoped_write(&scope).await.unwrap();
    tx.audit(
        AuditAction::RecordUpdated,
        Some(logged),
        AuditTarget::new("asset", "asset-1", "Laptop 1"),
        "",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let companies = async || {
        let mut tx = w.store.system_unscoped().await.unwrap();
        tx.count_rows("companies").await.unwrap()
    };
    let before = companies().await;
    let delete = |c: CompanyId| {
        let mut statements = Vec::new();
        if TestDatabase::postgres_requested() {
            // The companies' fence holds for their owner too: opened for the workspace.
            statements.push(format!(
                "SELECT set_config('app.workspace_id', {}, true), set_config('app.company_ids', '*', true)",
                lit(&w.ws.as_text())
            ));
        }
        statements.push(format!(
            "DELETE FROM companies WHERE id = {}",
            lit(&c.as_text())
        ));
        statements
    };
    w.try_tamper(&delete(quiet)).await.unwrap();
    assert_eq!(companies().await, before - 1);
    let refused = w.try_tamper(&delete(logged)).await;
    assert!(refused.is_err(), "a company with a log was deleted");
    assert_eq!(companies().await, before - 1);
    assert!(w.verify().await.is_empty(), "{:?}", w.verify().await);
}

#[tokio::test]
async fn pruning_keeps_the_chain_verifiable() {
    let w = world().await;
    // Six entries, then (a few milliseconds on, so that no time is shared) eight more.
    w.record(6).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    w.record(8).await;
    let entries = w.chain_a().await;
    // Everything recorded before entry 7.
    let before = entries[6].at_ms;
    let mut tx = w.store.system_unscoped().await.unwrap();
    let removed = tx.prune_audit(w.store.audit_log(), before).await.unwrap();
    tx.commit().await.unwrap();
    assert!(removed >= 1, "removed {removed}");
    let left = w.chain_a().await;
    assert_eq!(left.len() as u64, 14 - removed);
    assert!(w.verify().await.is_empty(), "{:?}", w.verify().await);
    w.record(12).await;
    assert!(w.verify().await.is_empty(), "{:?}", w.verify().await);
    // The cut itself is on the record.
    let owner = w.scope(w.owner).await;
    let mut tx = w.store.scoped(&owner).await.unwrap();
    let pruned = tx
        .audit_entries(&AuditFilter {
            action: Some(AuditAction::AuditPruned),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(!pruned.entries.is_empty());
    // The client's bundle still checks on its own.
    let admin = w.scope(w.admin_a).await;
    let mut tx = w.store.scoped(&admin).await.unwrap();
    let bundle = tx.audit_bundle(None).await.unwrap();
    assert_eq!(bundle.verify(None), Ok(left.len() as u64 + 12));
}

#[tokio::test]
async fn a_proof_bundle_checks_offline_and_catches_an_edit() {
    let w = world().await;
    w.record(23).await;
    let admin = w.scope(w.admin_a).await;
    let mut tx = w.store.scoped(&admin).await.unwrap();
    let bundle = tx.audit_bundle(None).await.unwrap();
    assert_eq!(bundle.entries.len(), 23);
    assert_eq!(bundle.checkpoints.len(), 2);
    let key = hex::encode(w.key.verifying_key(&w.ws.as_text()).as_bytes());
    assert_eq!(bundle.public_key, key);
    let json = serde_json::to_string(&bundle).unwrap();
    let read: portico_store::scoped::audit_log::ProofBundle = serde_json::from_str(&json).unwrap();
    assert_eq!(read.verify(Some(&key)), Ok(23));
    let mut edited = read.clone();
    edited.entries[4].ip = "203.0.113.9".into();
    assert!(edited.verify(Some(&key)).unwrap_err().contains("entry 5"));
    let other = hex::encode(
        AuditKey::generate()
            .verifying_key(&w.ws.as_text())
            .as_bytes(),
    );
    assert!(read.verify(Some(&other)).is_err());
    // Another company's admin gets their own chain, without A's entries.
    let admin_b = w.scope(w.admin_b).await;
    let mut tx = w.store.scoped(&admin_b).await.unwrap();
    assert!(tx.audit_bundle(Some(w.a)).await.unwrap().entries.is_empty());
}

#[tokio::test]
async fn sign_ins_are_recorded_on_the_account_chain() {
    let w = world().await;
    let origin = Origin::new(Some("198.51.100.4".parse().unwrap()), "curl/8");
    let mut auth = w.store.auth(w.ws).await.unwrap();
    auth.audit_account(w.member_a, AuditAction::SignIn, &origin, "password")
        .await
        .unwrap();
    auth.audit_attempt(
        SurfaceKind::Portal,
        "MEMBER@acme.test ",
        AuditAction::SignInFailed,
        &origin,
        "wrong password",
    )
    .await
    .unwrap();
    auth.audit_attempt(
        SurfaceKind::Portal,
        "nobody@elsewhere.test",
        AuditAction::SignInFailed,
        &origin,
        "",
    )
    .await
    .unwrap();
    auth.audit_account(w.owner, AuditAction::SignIn, &origin, "")
        .await
        .unwrap();
    auth.commit().await.unwrap();
    let admin = w.scope(w.admin_a).await;
    let mut tx = w.store.scoped(&admin).await.unwrap();
    let mut seen: Vec<(AuditAction, String)> = tx
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.action, e.target_label))
        .collect();
    seen.sort_by_key(|(a, _)| a.as_str());
    assert_eq!(
        seen,
        [
            (AuditAction::SignIn, "member@acme.test".to_owned()),
            (AuditAction::SignInFailed, "MEMBER@acme.test".to_owned()),
        ]
    );
    let owner = w.scope(w.owner).await;
    let mut tx = w.store.scoped(&owner).await.unwrap();
    assert_eq!(
        tx.audit_entries(&AuditFilter::default())
            .await
            .unwrap()
            .entries
            .len(),
        4
    );
    assert!(w.verify().await.is_empty());
}
