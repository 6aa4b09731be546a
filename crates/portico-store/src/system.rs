//! Unfenced writes for the demo seeder, the command line and test fixtures. Never reachable
//! from request handling: the web layer has no way to obtain a [`SystemTx`].

use portico_core::{
    CompanyId, ContactId, ContactRole, MessageId, PortalRole, PortalUserId, Section, SiteId,
    StaffRole, StaffUserId, TicketId, TicketPriority, TicketStatus, WorkspaceId,
};

use crate::public::SurfaceKind;
use crate::sql::{Tx, q};
use crate::{StoreError, now};

pub struct SystemTx {
    pub(crate) tx: Tx,
}

/// A portal user to create directly (demo data, tests).
pub struct SeedPortalUser<'a> {
    pub company: CompanyId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: PortalRole,
    pub own_only: bool,
    pub billing_access: bool,
    /// An Argon2id hash, or `None` for a user who has not accepted their invitation.
    pub password_hash: Option<&'a str>,
    pub sites: &'a [SiteId],
}

/// An asset to create directly (demo data, tests).
#[derive(Debug, Clone, Copy)]
pub struct SeedAsset<'a> {
    pub company: CompanyId,
    pub site: Option<SiteId>,
    pub name: &'a str,
    pub kind: portico_core::AssetKind,
    pub manufacturer: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    pub os: &'a str,
    /// `YYYY-MM-DD`.
    pub warranty_end: Option<&'a str>,
    pub purchased_on: Option<&'a str>,
    pub last_seen_at: Option<i64>,
    pub assigned_user: &'a str,
    pub notes: &'a str,
}

/// A penetration test to create directly (seeding).
pub struct SeedPentest<'a> {
    pub company: CompanyId,
    pub tested_on: &'a str,
    pub vendor: &'a str,
    pub scope: &'a str,
    pub summary: &'a str,
    /// Critical, high, medium and low findings.
    pub findings: [i64; 4],
    /// The report's blob key, file name and size.
    pub report: Option<(&'a str, &'a str, i64)>,
    pub published: bool,
}

/// Staff's judgement of a compliance requirement to record directly (seeding).
pub struct SeedJudgement<'a> {
    pub company: CompanyId,
    /// A requirement's id in the catalogue (`e8.macros.1a`).
    pub requirement: &'a str,
    pub status: portico_core::compliance::Status,
    pub note: &'a str,
    /// The evidence's blob key, file name and size.
    pub evidence: Option<(&'a str, &'a str, i64)>,
    /// YYYY-MM-DD.
    pub expires_on: Option<&'a str>,
    pub staff_name: &'a str,
}

/// A maintenance record to create directly (seeding).
pub struct SeedMaintenance<'a> {
    pub company: CompanyId,
    pub kind: portico_core::MaintenanceKind,
    pub outcome: portico_core::MaintenanceOutcome,
    pub title: &'a str,
    pub summary: &'a str,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub staff_name: &'a str,
    pub sites: &'a [SiteId],
    /// Each asset with the site it stands at.
    pub assets: &'a [(portico_core::AssetId, Option<SiteId>)],
}

/// An invoice to create directly (seeding); amounts are computed from its lines.
pub struct SeedInvoice<'a> {
    pub company: CompanyId,
    /// `Draft`, `Sent`, `Paid` or `Void` (overdue is a sent invoice past its due date).
    pub status: portico_core::InvoiceStatus,
    pub issued_on: &'a str,
    pub due_on: &'a str,
    pub currency: &'a str,
    pub notes: &'a str,
    /// Description, quantity in thousandths, unit price in cents, tax in basis points.
    pub lines: &'a [(&'a str, i64, i64, i64)],
}

/// A change request to create directly (seeding), as raised by a portal user.
pub struct SeedChange<'a> {
    pub company: CompanyId,
    pub kind: portico_core::ChangeKind,
    pub target: portico_core::ChangeTarget,
    pub target_id: Option<String>,
    pub target_label: &'a str,
    pub title: &'a str,
    pub details: &'a str,
    pub status: portico_core::ChangeStatus,
    pub requested_by: PortalUserId,
    pub requester_name: &'a str,
    pub decision_note: &'a str,
    pub created_at: i64,
}

/// A ticket to create directly.
/// A custom field of a seeded ticket form.
pub struct SeedField<'a> {
    pub label: &'a str,
    pub kind: portico_core::FieldKind,
    pub required: bool,
    pub help: &'a str,
    pub options: &'a [&'a str],
}

pub struct SeedTicket<'a> {
    pub company: CompanyId,
    pub site: Option<SiteId>,
    pub requester: Option<PortalUserId>,
    pub title: &'a str,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub created_at: i64,
}

impl SystemTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }

    /// True when no workspace exists yet (a fresh database).
    pub async fn is_empty(&mut self) -> Result<bool, StoreError> {
        Ok(self.tx.count(q!("SELECT COUNT(*) FROM workspaces")).await? == 0)
    }

    /// The workspace served on a hostname.
    pub async fn workspace_by_host(
        &mut self,
        hostname: &str,
    ) -> Result<Option<WorkspaceId>, StoreError> {
        let row: Option<(String,)> = self
            .tx
            .optional(q!(
                "SELECT workspace_id FROM workspace_hostnames WHERE hostname = $1",
                hostname
            ))
            .await?;
        Ok(row.map(|(w,)| WorkspaceId::from_stored(&w)))
    }

    /// Every workspace with its console hostname, for the command line.
    pub async fn workspaces(&mut self) -> Result<Vec<(WorkspaceId, String)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .tx
            .all(q!("SELECT id, name FROM workspaces ORDER BY name"))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| (WorkspaceId::from_stored(&id), name))
            .collect())
    }

    pub async fn create_workspace(
        &mut self,
        name: &str,
        primary: &str,
        secondary: &str,
        welcome: &str,
    ) -> Result<WorkspaceId, StoreError> {
        let id = WorkspaceId::new();
        self.tx
            .exec(q!(
                "INSERT INTO workspaces (id, name, primary_color, secondary_color, welcome_text, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                id,
                name,
                primary,
                secondary,
                welcome,
                now()
            ))
            .await?;
        self.tx
            .exec(q!(
                "INSERT INTO ticket_counters (workspace_id, last_number) VALUES ($1, 1000)",
                id
            ))
            .await?;
        for section in Section::ALL {
            self.tx
                .exec(q!(
                    "INSERT INTO workspace_section_defaults (workspace_id, section, enabled, label) VALUES ($1, $2, $3, $4)",
                    id,
                    section.as_str(),
                    section.enabled_by_default(),
                    section.label()
                ))
                .await?;
        }
        Ok(id)
    }

    pub async fn add_hostname(
        &mut self,
        workspace: WorkspaceId,
        hostname: &str,
        surface: SurfaceKind,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO workspace_hostnames (hostname, workspace_id, surface) VALUES ($1, $2, $3)",
                hostname.to_ascii_lowercase(),
                workspace,
                surface.as_str()
            ))
            .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn add_company(
        &mut self,
        workspace: WorkspaceId,
        name: &str,
        plan: &str,
        monthly_fee_cents: Option<i64>,
        hourly_rate_cents: Option<i64>,
        currency: &str,
        portal_enabled: bool,
    ) -> Result<CompanyId, StoreError> {
        let id = CompanyId::new();
        self.tx
            .exec(q!(
                "INSERT INTO companies (workspace_id, id, name, plan_name, monthly_fee_cents, hourly_rate_cents, currency, \
                 portal_enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                workspace,
                id,
                name,
                plan,
                monthly_fee_cents,
                hourly_rate_cents,
                currency,
                portal_enabled,
                now()
            ))
            .await?;
        Ok(id)
    }

    /// Adds an asset (seeding).
    pub async fn add_asset(
        &mut self,
        workspace: WorkspaceId,
        asset: &SeedAsset<'_>,
    ) -> Result<portico_core::AssetId, StoreError> {
        let id = portico_core::AssetId::new();
        let at = now();
        self.tx
            .exec(q!(
                "INSERT INTO assets (workspace_id, company_id, id, site_id, name, kind, manufacturer, model, serial, os, \
                 warranty_end, purchased_on, last_seen_at, assigned_user, notes, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
                workspace,
                asset.company,
                id,
                asset.site,
                asset.name,
                asset.kind.as_str(),
                asset.manufacturer,
                asset.model,
                asset.serial,
                asset.os,
                asset.warranty_end.map(str::to_owned),
                asset.purchased_on.map(str::to_owned),
                asset.last_seen_at,
                asset.assigned_user,
                asset.notes,
                at
            ))
            .await?;
        Ok(id)
    }

    /// Adds a change request with its history: raised, then its current status (seeding).
    pub async fn add_change_request(
        &mut self,
        workspace: WorkspaceId,
        change: &SeedChange<'_>,
    ) -> Result<portico_core::ChangeRequestId, StoreError> {
        let id = portico_core::ChangeRequestId::new();
        self.tx
            .exec(q!(
                "INSERT INTO change_requests (workspace_id, company_id, id, kind, target_kind, target_id, target_label, site_id, title, \
                 details, status, requested_by, requester_name, assignee_id, decision_note, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11, $12, NULL, $13, $14, $14)",
                workspace,
                change.company,
                id,
                change.kind.as_str(),
                change.target.as_str(),
                change.target_id.clone(),
                change.target_label,
                change.title,
                change.details,
                change.status.as_str(),
                change.requested_by,
                change.requester_name,
                change.decision_note,
                change.created_at
            ))
            .await?;
        let raised = if change.kind == portico_core::ChangeKind::Purchase {
            portico_core::ChangeStatus::AwaitingApproval
        } else {
            portico_core::ChangeStatus::Open
        };
        let mut steps = vec![(change.created_at, change.requester_name, raised, "")];
        if change.status != raised {
            steps.push((
                change.created_at + 3_600,
                "Tom Tran",
                change.status,
                change.decision_note,
            ));
        }
        for (at, actor, status, note) in steps {
            self.tx
                .exec(q!(
                    "INSERT INTO change_request_events (workspace_id, company_id, request_id, at, actor_name, status, note) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    workspace,
                    change.company,
                    id,
                    at,
                    actor,
                    status.as_str(),
                    note
                ))
                .await?;
        }
        Ok(id)
    }

    /// Adds an invoice with its lines; a sent one takes the workspace's next number (seeding).
    pub async fn add_invoice(
        &mut self,
        workspace: WorkspaceId,
        invoice: &SeedInvoice<'_>,
    ) -> Result<portico_core::InvoiceId, StoreError> {
        use portico_core::InvoiceStatus;
        let id = portico_core::InvoiceId::new();
        let lines: Vec<(i64, i64)> = invoice
            .lines
            .iter()
            .map(|(_, quantity, unit, tax)| {
                let amount = (quantity * unit + 500) / 1000;
                (amount, (amount * tax + 5_000) / 10_000)
            })
            .collect();
        let subtotal: i64 = lines.iter().map(|l| l.0).sum();
        let tax: i64 = lines.iter().map(|l| l.1).sum();
        let status = match invoice.status {
            InvoiceStatus::Overdue => InvoiceStatus::Sent,
            other => other,
        };
        let number: Option<i64> = if status == InvoiceStatus::Draft {
            None
        } else {
            let (number,): (i64,) = self
                .tx
                .one(q!(
                    "INSERT INTO invoice_counters (workspace_id, last_number) VALUES ($1, 1001) \
                     ON CONFLICT (workspace_id) DO UPDATE SET last_number = invoice_counters.last_number + 1 \
                     RETURNING last_number",
                    workspace
                ))
                .await?;
            Some(number)
        };
        let at = now();
        self.tx
            .exec(q!(
                "INSERT INTO invoices (workspace_id, company_id, id, number, status, issued_on, due_on, currency, \
                 subtotal_cents, tax_cents, total_cents, notes, sent_at, paid_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
                workspace,
                invoice.company,
                id,
                number,
                status.as_str(),
                invoice.issued_on,
                invoice.due_on,
                invoice.currency,
                subtotal,
                tax,
                subtotal + tax,
                invoice.notes,
                (status != InvoiceStatus::Draft).then_some(at),
                (status == InvoiceStatus::Paid).then_some(at),
                at
            ))
            .await?;
        for (position, ((description, quantity, unit, rate), (amount, line_tax))) in
            invoice.lines.iter().zip(&lines).enumerate()
        {
            self.tx
                .exec(q!(
                    "INSERT INTO invoice_lines (workspace_id, company_id, invoice_id, position, description, quantity_milli, \
                     unit_cents, tax_basis_points, amount_cents, tax_cents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    workspace,
                    invoice.company,
                    id,
                    position as i64,
                    *description,
                    *quantity,
                    *unit,
                    *rate,
                    *amount,
                    *line_tax
                ))
                .await?;
        }
        Ok(id)
    }

    /// Adds a maintenance record with what it touched (seeding).
    pub async fn add_maintenance(
        &mut self,
        workspace: WorkspaceId,
        record: &SeedMaintenance<'_>,
    ) -> Result<portico_core::MaintenanceId, StoreError> {
        let id = portico_core::MaintenanceId::new();
        self.tx
            .exec(q!(
                "INSERT INTO maintenance_records (workspace_id, company_id, id, kind, outcome, title, summary, starts_at, \
                 ends_at, staff_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                workspace,
                record.company,
                id,
                record.kind.as_str(),
                record.outcome.as_str(),
                record.title,
                record.summary,
                record.starts_at,
                record.ends_at,
                record.staff_name,
                now()
            ))
            .await?;
        let targets = record.sites.iter().map(|site| (Some(*site), None)).chain(
            record
                .assets
                .iter()
                .map(|(asset, site)| (*site, Some(*asset))),
        );
        for (site, asset) in targets {
            self.tx
                .exec(q!(
                    "INSERT INTO maintenance_targets (workspace_id, company_id, record_id, site_id, asset_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                    workspace,
                    record.company,
                    id,
                    site,
                    asset
                ))
                .await?;
        }
        Ok(id)
    }

    /// Adds a penetration test of a company, published or a draft, with its report's stored
    /// file (seeding).
    pub async fn add_pentest(
        &mut self,
        workspace: WorkspaceId,
        test: &SeedPentest<'_>,
    ) -> Result<portico_core::PentestId, StoreError> {
        let id = portico_core::PentestId::new();
        let at = now();
        let [critical, high, medium, low] = test.findings;
        self.tx
            .exec(q!(
                "INSERT INTO pentests (workspace_id, company_id, id, tested_on, vendor, scope, summary, \
                 critical, high, medium, low, report_blob, report_name, report_size, state, \
                 published_at, staff_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                 $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)",
                workspace,
                test.company,
                id,
                test.tested_on,
                test.vendor,
                test.scope,
                test.summary,
                critical,
                high,
                medium,
                low,
                test.report.map(|r| r.0.to_owned()),
                test.report.map(|r| r.1.to_owned()),
                test.report.map(|r| r.2),
                if test.published { "published" } else { "draft" },
                test.published.then_some(at),
                "Olivia Owens",
                at
            ))
            .await?;
        Ok(id)
    }

    /// Records staff's judgement of a compliance requirement (seeding).
    pub async fn add_compliance_judgement(
        &mut self,
        workspace: WorkspaceId,
        judgement: &SeedJudgement<'_>,
    ) -> Result<portico_core::AttestationId, StoreError> {
        if portico_core::compliance::requirement(judgement.requirement).is_none() {
            return Err(StoreError::Invalid(format!(
                "no requirement {} in the catalogue",
                judgement.requirement
            )));
        }
        let id = portico_core::AttestationId::new();
        self.tx
            .exec(q!(
                "INSERT INTO compliance_attestations (workspace_id, company_id, id, requirement, \
                 status, note, evidence_blob, evidence_name, evidence_size, expires_on, staff_name, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                workspace,
                judgement.company,
                id,
                judgement.requirement,
                judgement.status.as_str(),
                judgement.note,
                judgement.evidence.map(|e| e.0.to_owned()),
                judgement.evidence.map(|e| e.1.to_owned()),
                judgement.evidence.map(|e| e.2),
                judgement.expires_on.map(str::to_owned),
                judgement.staff_name,
                now()
            ))
            .await?;
        Ok(id)
    }

    /// Moves a company's compliance assessments and judgements so far `secs` into the past
    /// (seeding a history).
    pub async fn backdate_compliance(
        &mut self,
        company: CompanyId,
        secs: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE compliance_assessments SET assessed_at = assessed_at - $1 WHERE company_id = $2",
                secs,
                company
            ))
            .await?;
        self.tx
            .exec(q!(
                "UPDATE compliance_attestations SET created_at = created_at - $1 WHERE company_id = $2",
                secs,
                company
            ))
            .await?;
        Ok(())
    }

    /// Adds a field of the workspace's own to its assets, shown to clients or not (seeding).
    pub async fn add_asset_field(
        &mut self,
        workspace: WorkspaceId,
        label: &str,
        shown: bool,
    ) -> Result<portico_core::AssetFieldId, StoreError> {
        let id = portico_core::AssetFieldId::new();
        self.tx
            .exec(q!(
                "INSERT INTO asset_fields (workspace_id, id, label, position) \
                 VALUES ($1, $2, $3, (SELECT COUNT(*) FROM asset_fields WHERE workspace_id = $1))",
                workspace,
                id,
                label
            ))
            .await?;
        self.tx
            .exec(q!(
                "INSERT INTO asset_field_visibility (workspace_id, company_id, field, shown) VALUES ($1, NULL, $2, $3)",
                workspace,
                format!("custom:{id}"),
                shown
            ))
            .await?;
        Ok(id)
    }

    /// An asset's value of a field of the workspace's own (seeding).
    pub async fn set_asset_field_value(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        asset: portico_core::AssetId,
        field: portico_core::AssetFieldId,
        value: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO asset_field_values (workspace_id, company_id, asset_id, field_id, value) VALUES ($1, $2, $3, $4, $5)",
                workspace,
                company,
                asset,
                field,
                value
            ))
            .await?;
        Ok(())
    }

    /// Logs work on a ticket (seeding).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_time_entry(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        ticket: TicketId,
        staff: StaffUserId,
        staff_name: &str,
        worked_on: &str,
        minutes: i64,
        note: &str,
        billable: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO time_entries (workspace_id, company_id, id, ticket_id, staff_user_id, staff_name, worked_on, \
                 minutes, note, billable, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                workspace,
                company,
                uuid::Uuid::now_v7().to_string(),
                ticket,
                staff,
                staff_name,
                worked_on,
                minutes,
                note,
                billable,
                now()
            ))
            .await?;
        Ok(())
    }

    /// Sets the work a company's plan includes each month (seeding).
    pub async fn set_included_minutes(
        &mut self,
        company: CompanyId,
        minutes: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE companies SET included_minutes = $1 WHERE id = $2",
                minutes,
                company
            ))
            .await?;
        Ok(())
    }

    /// Sets a company's e-mail domains, already in their stored form (seeding).
    pub async fn set_company_email_domains(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        domains: &[&str],
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "DELETE FROM company_email_domains WHERE workspace_id = $1 AND company_id = $2",
                workspace,
                company
            ))
            .await?;
        for domain in domains {
            self.tx
                .exec(q!(
                    "INSERT INTO company_email_domains (workspace_id, company_id, domain) VALUES ($1, $2, $3)",
                    workspace,
                    company,
                    *domain
                ))
                .await?;
        }
        Ok(())
    }

    /// A portal user's stored password hash (tests).
    #[cfg(feature = "test-hooks")]
    pub async fn password_hash_of(&mut self, email: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = self
            .tx
            .optional(q!(
                "SELECT password_hash FROM portal_users WHERE email = $1",
                email
            ))
            .await?;
        Ok(row.and_then(|(hash,)| hash))
    }

    /// Gives ticket `ticket`'s PSA link so many failed runs in a row (tests: a failure of
    /// another kind, such as a status the PSA has no match for).
    #[cfg(feature = "test-hooks")]
    pub async fn set_psa_failures(
        &mut self,
        ticket: portico_core::TicketId,
        failures: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE psa_ticket_links SET failures = $1 WHERE ticket_id = $2",
                failures,
                ticket
            ))
            .await?;
        Ok(())
    }

    /// Makes the replies brought in from the PSA on ticket `ticket` look as they did before
    /// their actions' file counts were kept (tests: links made before migration 0068).
    #[cfg(feature = "test-hooks")]
    pub async fn forget_psa_file_counts(
        &mut self,
        ticket: portico_core::TicketId,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE psa_message_links SET files_seen = -1 WHERE ticket_id = $1",
                ticket
            ))
            .await?;
        Ok(())
    }

    /// Makes every API token expired a second ago (tests).
    #[cfg(feature = "test-hooks")]
    pub async fn expire_api_tokens(&mut self) -> Result<(), StoreError> {
        self.tx
            .exec(q!("UPDATE api_tokens SET expires_at = $1", now() - 1))
            .await?;
        Ok(())
    }

    /// Renames a site (tests: the console has no site editing yet).
    #[cfg(feature = "test-hooks")]
    pub async fn rename_site(&mut self, site: SiteId, name: &str) -> Result<(), StoreError> {
        self.tx
            .exec(q!("UPDATE sites SET name = $1 WHERE id = $2", name, site))
            .await?;
        Ok(())
    }

    /// Switches a company's portal on or off (tests).
    #[cfg(feature = "test-hooks")]
    pub async fn set_company_portal_enabled(
        &mut self,
        company: CompanyId,
        enabled: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE companies SET portal_enabled = $1 WHERE id = $2",
                enabled,
                company
            ))
            .await?;
        Ok(())
    }

    /// Keeps a file for import as if a staff user had uploaded it (tests).
    #[cfg(feature = "test-hooks")]
    pub async fn add_pending_import(
        &mut self,
        workspace: WorkspaceId,
        staff: portico_core::StaffUserId,
        kind: portico_core::ImportKind,
        content: &str,
    ) -> Result<portico_core::ImportId, StoreError> {
        let id = portico_core::ImportId::new();
        self.tx
            .exec(q!(
                "INSERT INTO pending_imports (workspace_id, id, staff_user_id, kind, file_name, content, created_at) \
                 VALUES ($1, $2, $3, $4, '|fixture.csv', $5, $6)",
                workspace,
                id,
                staff,
                kind.as_str(),
                content,
                crate::now()
            ))
            .await?;
        Ok(id)
    }

    /// Lets a company's client admins edit contact and asset details themselves (demo data,
    /// tests).
    pub async fn set_client_admin_edits(
        &mut self,
        company: CompanyId,
        allowed: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE companies SET client_admin_edits = $1 WHERE id = $2",
                allowed,
                company
            ))
            .await?;
        Ok(())
    }

    pub async fn set_company_section(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        section: Section,
        enabled: Option<bool>,
        label: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO company_section_settings (workspace_id, company_id, section, enabled, label) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id, section) \
                 DO UPDATE SET enabled = excluded.enabled, label = excluded.label",
                workspace,
                company,
                section.as_str(),
                enabled,
                label.map(str::to_owned)
            ))
            .await?;
        Ok(())
    }

    pub async fn add_site(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        name: &str,
        address: &str,
    ) -> Result<SiteId, StoreError> {
        let id = SiteId::new();
        self.tx
            .exec(q!(
                "INSERT INTO sites (workspace_id, company_id, id, name, address) VALUES ($1, $2, $3, $4, $5)",
                workspace,
                company,
                id,
                name,
                address
            ))
            .await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn add_contact(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        name: &str,
        email: &str,
        phone: &str,
        title: &str,
        roles: &[ContactRole],
    ) -> Result<ContactId, StoreError> {
        let id = ContactId::new();
        self.tx
            .exec(q!(
                "INSERT INTO contacts (workspace_id, company_id, id, name, email, phone, title) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                workspace,
                company,
                id,
                name,
                email,
                phone,
                title
            ))
            .await?;
        for role in roles {
            self.tx
                .exec(q!(
                    "INSERT INTO contact_roles (workspace_id, company_id, contact_id, role) VALUES ($1, $2, $3, $4)",
                    workspace,
                    company,
                    id,
                    role.as_str()
                ))
                .await?;
        }
        Ok(id)
    }

    pub async fn add_staff_user(
        &mut self,
        workspace: WorkspaceId,
        email: &str,
        name: &str,
        role: StaffRole,
        password_hash: Option<&str>,
        assigned: &[CompanyId],
    ) -> Result<StaffUserId, StoreError> {
        let id = StaffUserId::new();
        let inserted = self
            .tx
            .exec(q!(
                "INSERT INTO staff_users (workspace_id, id, email, name, role, password_hash, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7)",
                workspace,
                id,
                email.to_lowercase(),
                name,
                role.as_str(),
                password_hash.map(str::to_owned),
                now()
            ))
            .await;
        match inserted {
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict("staff e-mail address"));
            }
            other => other?,
        };
        for company in assigned {
            self.tx
                .exec(q!(
                    "INSERT INTO staff_assignments (workspace_id, staff_user_id, company_id) VALUES ($1, $2, $3)",
                    workspace,
                    id,
                    *company
                ))
                .await?;
        }
        Ok(id)
    }

    pub async fn add_portal_user(
        &mut self,
        workspace: WorkspaceId,
        user: &SeedPortalUser<'_>,
    ) -> Result<PortalUserId, StoreError> {
        let id = PortalUserId::new();
        self.tx
            .exec(q!(
                "INSERT INTO portal_users (workspace_id, company_id, id, email, name, phone, role, own_only, \
                 billing_access, disabled, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, FALSE, $9, $10)",
                workspace,
                user.company,
                id,
                user.email.to_lowercase(),
                user.name,
                user.role.as_str(),
                user.own_only,
                user.billing_access,
                user.password_hash.map(str::to_owned),
                now()
            ))
            .await?;
        for site in user.sites {
            self.tx
                .exec(q!(
                    "INSERT INTO portal_user_sites (workspace_id, company_id, portal_user_id, site_id) VALUES ($1, $2, $3, $4)",
                    workspace,
                    user.company,
                    id,
                    *site
                ))
                .await?;
        }
        Ok(id)
    }

    /// Lets a portal user switch to a further company of the same workspace.
    pub async fn grant_company(
        &mut self,
        workspace: WorkspaceId,
        user: PortalUserId,
        company: CompanyId,
        role: PortalRole,
        billing_access: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO portal_user_companies (workspace_id, portal_user_id, company_id, role, billing_access) \
                 VALUES ($1, $2, $3, $4, $5)",
                workspace,
                user,
                company,
                role.as_str(),
                billing_access
            ))
            .await?;
        Ok(())
    }

    /// Replaces the ticket categories (workspace-wide, when `company` is `None`) and the custom
    /// fields of the workspace form or of `company`'s override form. Returns the field ids.
    pub async fn set_ticket_form(
        &mut self,
        workspace: WorkspaceId,
        company: Option<CompanyId>,
        categories: &[&str],
        fields: &[SeedField<'_>],
    ) -> Result<Vec<String>, StoreError> {
        if company.is_none() {
            self.tx
                .exec(q!(
                    "DELETE FROM ticket_categories WHERE workspace_id = $1",
                    workspace
                ))
                .await?;
            for (position, name) in categories.iter().enumerate() {
                self.tx
                    .exec(q!(
                        "INSERT INTO ticket_categories (workspace_id, name, position) VALUES ($1, $2, $3)",
                        workspace,
                        *name,
                        position as i64
                    ))
                    .await?;
            }
        }
        let mut ids = Vec::new();
        for (position, f) in fields.iter().enumerate() {
            let id = uuid::Uuid::now_v7().to_string();
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_form_fields (workspace_id, company_id, id, position, label, kind, required, help, options) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    workspace,
                    company,
                    id.as_str(),
                    position as i64,
                    f.label,
                    f.kind.as_str(),
                    f.required,
                    f.help,
                    f.options.join("\n")
                ))
                .await?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// Sets a priority's service-level targets, in minutes (demo and benchmark data).
    pub async fn set_sla_target(
        &mut self,
        workspace: WorkspaceId,
        priority: portico_core::TicketPriority,
        first_response_minutes: i64,
        resolution_minutes: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO sla_targets (workspace_id, priority, first_response_minutes, resolution_minutes) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, priority) DO UPDATE SET \
                 first_response_minutes = excluded.first_response_minutes, resolution_minutes = excluded.resolution_minutes",
                workspace,
                priority.as_str(),
                first_response_minutes,
                resolution_minutes
            ))
            .await?;
        Ok(())
    }

    /// Sets the workspace's time zone and its business calendar (demo data).
    pub async fn set_local_time(
        &mut self,
        workspace: WorkspaceId,
        zone: &portico_core::Zone,
        calendar: &portico_core::BusinessHours,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE workspaces SET time_zone = $1 WHERE id = $2",
                zone.name(),
                workspace
            ))
            .await?;
        self.tx
            .exec(q!(
                "INSERT INTO business_calendars (workspace_id, company_id, hours, holidays) VALUES ($1, NULL, $2, $3)",
                workspace,
                calendar.hours_text(),
                calendar.holidays_text()
            ))
            .await?;
        Ok(())
    }

    /// Gives a company its own time zone and, optionally, its own business calendar (demo).
    pub async fn set_company_local_time(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        zone: &portico_core::Zone,
        calendar: Option<&portico_core::BusinessHours>,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE companies SET time_zone = $1 WHERE workspace_id = $2 AND id = $3",
                zone.name(),
                workspace,
                company
            ))
            .await?;
        if let Some(calendar) = calendar {
            self.tx
                .exec(q!(
                    "INSERT INTO business_calendars (workspace_id, company_id, hours, holidays) VALUES ($1, $2, $3, $4)",
                    workspace,
                    company,
                    calendar.hours_text(),
                    calendar.holidays_text()
                ))
                .await?;
        }
        Ok(())
    }

    /// Works out every ticket's due times from the targets and calendars, and stops the clocks
    /// of those awaiting the client, as the desk does when it works them (seeded tickets are
    /// written directly).
    pub async fn plan_service_levels(&mut self, workspace: WorkspaceId) -> Result<(), StoreError> {
        use crate::scoped::sla::{CalendarRow, Calendars, SlaTarget};
        use crate::sql::Parsed;
        let (zone,): (String,) = self
            .tx
            .one(q!(
                "SELECT time_zone FROM workspaces WHERE id = $1",
                workspace
            ))
            .await?;
        let rows: Vec<CalendarRow> = self
            .tx
            .all(q!(
                "SELECT company_id, hours, holidays FROM business_calendars WHERE workspace_id = $1",
                workspace
            ))
            .await?;
        let zones: Vec<(Parsed<CompanyId>, String)> = self
            .tx
            .all(q!(
                "SELECT id, time_zone FROM companies WHERE workspace_id = $1 AND time_zone IS NOT NULL",
                workspace
            ))
            .await?;
        let calendars = Calendars::from_rows(&zone, rows, zones);
        let targets: Vec<(Parsed<TicketPriority>, Option<i64>, Option<i64>)> = self
            .tx
            .all(q!(
                "SELECT priority, first_response_minutes, resolution_minutes FROM sla_targets WHERE workspace_id = $1",
                workspace
            ))
            .await?;
        type Planned = (
            Parsed<TicketId>,
            Parsed<CompanyId>,
            Parsed<TicketPriority>,
            i64,
        );
        let tickets: Vec<Planned> = self
            .tx
            .all(q!(
                "SELECT id, company_id, priority, created_at FROM tickets WHERE workspace_id = $1",
                workspace
            ))
            .await?;
        for (id, company, priority, created_at) in tickets {
            let Some((_, first, resolution)) = targets.iter().find(|t| t.0.0 == priority.0) else {
                continue;
            };
            let target = SlaTarget {
                priority: priority.0,
                first_response_minutes: *first,
                resolution_minutes: *resolution,
            };
            let (calendar, zone) = calendars.of(company.0);
            let (first_due, resolution_due) = target.due_times(calendar, zone, created_at, 0);
            self.tx
                .exec(q!(
                    "UPDATE tickets SET first_response_due_at = $1, resolution_due_at = $2 WHERE id = $3",
                    first_due,
                    resolution_due,
                    id.0
                ))
                .await?;
        }
        self.tx
            .exec(q!(
                "UPDATE tickets SET sla_paused_at = updated_at WHERE workspace_id = $1 \
                 AND status = 'awaiting_client' AND sla_paused_at IS NULL",
                workspace
            ))
            .await?;
        Ok(())
    }

    /// Sets how many days after resolution a client may reopen a ticket.
    #[cfg(feature = "test-hooks")]
    pub async fn set_reopen_days(
        &mut self,
        workspace: WorkspaceId,
        days: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE workspaces SET reopen_days = $1 WHERE id = $2",
                days,
                workspace
            ))
            .await?;
        Ok(())
    }

    pub async fn add_ticket(
        &mut self,
        workspace: WorkspaceId,
        t: &SeedTicket<'_>,
    ) -> Result<TicketId, StoreError> {
        let id = TicketId::new();
        let resolved_at = (!t.status.is_open()).then_some(t.created_at + 3600);
        let (number,): (i64,) = self
            .tx
            .one(q!(
                "UPDATE ticket_counters SET last_number = last_number + 1 WHERE workspace_id = $1 \
                 RETURNING last_number",
                workspace
            ))
            .await?;
        self.tx
            .exec(q!(
                "INSERT INTO tickets (workspace_id, company_id, id, site_id, requester_id, title, status, priority, \
                 created_at, updated_at, resolved_at, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)",
                workspace,
                t.company,
                id,
                t.site,
                t.requester,
                t.title,
                t.status.as_str(),
                t.priority.as_str(),
                t.created_at,
                resolved_at,
                number
            ))
            .await?;
        Ok(id)
    }

    /// Records when the desk first answered a ticket publicly.
    pub async fn set_first_response(
        &mut self,
        workspace: WorkspaceId,
        ticket: TicketId,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE tickets SET first_response_at = $3 WHERE workspace_id = $1 AND id = $2",
                workspace,
                ticket,
                at
            ))
            .await?;
        Ok(())
    }

    /// Adds a canned response to a workspace.
    pub async fn add_canned_response(
        &mut self,
        workspace: WorkspaceId,
        title: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let at = crate::now();
        self.tx
            .exec(q!(
                "INSERT INTO canned_responses (workspace_id, id, title, body, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
                workspace,
                portico_core::CannedResponseId::new(),
                title,
                body,
                at
            ))
            .await?;
        Ok(())
    }

    /// Assigns a ticket to a staff user.
    pub async fn assign_ticket(
        &mut self,
        workspace: WorkspaceId,
        ticket: TicketId,
        staff: StaffUserId,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE tickets SET assignee_id = $3 WHERE workspace_id = $1 AND id = $2",
                workspace,
                ticket,
                staff
            ))
            .await?;
        Ok(())
    }

    /// Adds a reply (or internal note) by staff (`staff`) or by the portal user (`portal`).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_message(
        &mut self,
        workspace: WorkspaceId,
        company: CompanyId,
        ticket: TicketId,
        staff: Option<StaffUserId>,
        portal: Option<PortalUserId>,
        author_name: &str,
        body: &str,
        internal: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO ticket_messages (workspace_id, company_id, ticket_id, id, author_staff_id, author_portal_id, \
                 author_name, body, internal, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                workspace,
                company,
                ticket,
                MessageId::new(),
                staff,
                portal,
                author_name,
                body,
                internal,
                at
            ))
            .await?;
        self.tx
            .exec(q!(
                "UPDATE tickets SET updated_at = $1 WHERE id = $2 AND workspace_id = $3 AND updated_at < $1",
                at,
                ticket,
                workspace
            ))
            .await?;
        Ok(())
    }

    /// Drops every workspace's uploaded import files older than `before` (a second count),
    /// applied or not: a file waits a day to be applied, and each holds the whole CSV. An
    /// uploader's own old files also go at their next upload; this reaches the files of those
    /// who never come back. Returns how many were dropped.
    pub async fn sweep_pending_imports(&mut self, before: i64) -> Result<u64, StoreError> {
        self.tx
            .exec(q!(
                "DELETE FROM pending_imports WHERE created_at < $1",
                before
            ))
            .await
    }

    /// Expires a session at once (tests of expiry).
    #[cfg(feature = "test-hooks")]
    pub async fn expire_session(&mut self, token: &str) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE sessions SET expires_at = $1 WHERE id_hash = $2",
                now() - 1,
                crate::token::hash(token)
            ))
            .await?;
        Ok(())
    }

    /// Backdates every one-time token of the workspace past its expiry (tests of expiry).
    #[cfg(feature = "test-hooks")]
    pub async fn expire_tokens(&mut self, workspace: WorkspaceId) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE one_time_tokens SET expires_at = $1 WHERE workspace_id = $2",
                now() - 1,
                workspace
            ))
            .await?;
        Ok(())
    }

    /// The body of the newest mail queued to `address` (tests, and operators without SMTP).
    #[cfg(feature = "test-hooks")]
    pub async fn latest_mail_to(&mut self, address: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .tx
            .optional(q!(
                "SELECT body FROM outbox WHERE to_address = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
                address
            ))
            .await?;
        Ok(row.map(|(b,)| b))
    }

    /// Every queued mail to `address`, oldest first: (subject, body).
    #[cfg(feature = "test-hooks")]
    pub async fn mails_to(&mut self, address: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.tx
            .all(q!(
                "SELECT subject, body FROM outbox WHERE to_address = $1 ORDER BY created_at, id",
                address
            ))
            .await
    }

    /// Records a stored file on a ticket's first public reply, or first internal note when
    /// `internal` (fixtures). Returns the attachment id.
    #[allow(clippy::too_many_arguments)]
    #[cfg(feature = "test-hooks")]
    pub async fn add_attachment(
        &mut self,
        ticket: TicketId,
        internal: bool,
        blob_key: &str,
        file_name: &str,
        content_type: &str,
        size: i64,
        inline: bool,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let added = self
            .tx
            .exec(q!(
                "INSERT INTO ticket_attachments (workspace_id, company_id, ticket_id, message_id, id, blob_key, \
                 file_name, content_type, size, inline, internal, created_at) \
                 SELECT m.workspace_id, m.company_id, m.ticket_id, m.id, $1, $2, $3, $4, $5, $6, m.internal, m.created_at \
                 FROM ticket_messages m WHERE m.ticket_id = $7 AND m.internal = $8 ORDER BY m.created_at LIMIT 1",
                id.as_str(),
                blob_key,
                file_name,
                content_type,
                size,
                inline,
                ticket,
                internal
            ))
            .await?;
        if added == 1 {
            Ok(id)
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// Moves a ticket's resolution `secs` into the past (tests of the reopen window).
    #[cfg(feature = "test-hooks")]
    pub async fn backdate_resolution(
        &mut self,
        ticket: TicketId,
        secs: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE tickets SET resolved_at = resolved_at - $1 WHERE id = $2",
                secs,
                ticket
            ))
            .await?;
        Ok(())
    }

    /// Moves the moment a ticket's clocks stopped `secs` into the past (tests of the pause).
    #[cfg(feature = "test-hooks")]
    pub async fn backdate_sla_pause(
        &mut self,
        ticket: TicketId,
        secs: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE tickets SET sla_paused_at = sla_paused_at - $1 WHERE id = $2",
                secs,
                ticket
            ))
            .await?;
        Ok(())
    }

    /// Whether a company's kept endpoint coverage is stale (`None`: none kept), for tests that
    /// the page's figures come from the kept row and that changes mark it.
    #[cfg(feature = "test-hooks")]
    pub async fn edr_coverage_stale(
        &mut self,
        company: CompanyId,
    ) -> Result<Option<bool>, StoreError> {
        let row: Option<(i64,)> = self
            .tx
            .optional(q!(
                "SELECT stale FROM edr_coverage WHERE company_id = $1",
                company
            ))
            .await?;
        Ok(row.map(|(stale,)| stale != 0))
    }

    /// Replaces connector `id`'s sealed secret with one no key opens, as if the server's key
    /// file had been replaced since it was stored (tests).
    #[cfg(feature = "test-hooks")]
    pub async fn spoil_connector_secret(&mut self, id: &str) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE connectors SET secret_sealed = 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = $1",
                id
            ))
            .await?;
        Ok(())
    }

    /// Counts rows of a table by name (tests; the name is checked against the schema's tables).
    #[cfg(feature = "test-hooks")]
    pub async fn count_rows(&mut self, table: &str) -> Result<i64, StoreError> {
        if !table.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(StoreError::Invalid("table name".into()));
        }
        self.tx
            .count(crate::sql::Q::new(&format!("SELECT COUNT(*) FROM {table}")))
            .await
    }
}

impl SystemTx {
    /// Flips a portal user's disabled flag without ending sessions, to test that a session left
    /// over from before the user was disabled no longer works.
    #[cfg(feature = "test-hooks")]
    pub async fn set_portal_user_disabled_flag(
        &mut self,
        user: PortalUserId,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE portal_users SET disabled = $1 WHERE id = $2",
                disabled,
                user
            ))
            .await?;
        Ok(())
    }

    /// Flips a staff user's disabled flag alone, to test what hangs on their account (their API
    /// tokens) without the rest of disabling them.
    #[cfg(feature = "test-hooks")]
    pub async fn set_staff_disabled_flag(
        &mut self,
        user: portico_core::StaffUserId,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE staff_users SET disabled = $1 WHERE id = $2",
                disabled,
                user
            ))
            .await?;
        Ok(())
    }
}
