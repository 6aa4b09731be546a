//! CSV import of companies, sites, contacts and assets (I3, C5). A file is read into a table
//! by the web layer; here its rows are checked and applied inside one transaction, so a file is
//! all or nothing: the caller commits only an outcome without problems (and rolls back a
//! preview). Rows are matched to what exists by a stable key (a company's name; a site's name in
//! its company; a contact's e-mail, else name; an asset's serial number, else name), and only
//! the columns the file has are compared and written, so importing the same file again changes
//! nothing. Every row goes through the same checks and scope as the console's forms; assets,
//! which come by the hundred thousand, are checked in memory and inserted in batches.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use portico_core::{
    Action, Actor, AssetFieldId, AssetId, AssetKind, CompanyId, ContactId, ContactRole, ImportId,
    ImportKind, PortalRole, SiteId,
};

use crate::scoped::assets::AssetDraft;
use crate::scoped::assets::edit::check as check_asset;
use crate::scoped::companies::{CompanyDraft, ContactDraft, SiteDraft};
use crate::scoped::portal_users::{Invitation, PortalUserFields};
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};
use crate::{StoreError, now};

/// The problems an outcome lists at most (the count goes on).
pub const MAX_PROBLEMS_LISTED: usize = 500;
/// Rows one file may hold.
pub const MAX_ROWS: usize = 200_000;
/// How long an uploaded file waits to be applied (then the housekeeping sweep drops it:
/// [`crate::system::SystemTx::sweep_pending_imports`]).
pub const KEPT_FOR_SECS: i64 = 24 * 3600;
/// Assets inserted per statement (17 values each, well under both databases' limits).
const ASSET_BATCH: usize = 500;
const MAX_CUSTOM_VALUE: usize = 120;

/// A file as read: its header row and its rows, each with the line it started on.
#[derive(Debug, Clone, Default)]
pub struct ImportTable {
    pub headers: Vec<String>,
    pub rows: Vec<ImportRow>,
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// Something wrong with one row (or, on line 1, with the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// What a file did, or would do.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The first [`MAX_PROBLEMS_LISTED`] problems, in file order.
    pub problems: Vec<RowProblem>,
    pub problem_count: u64,
    /// Portal users the file invited, for their invitations to be mailed with the commit.
    pub invitations: Vec<ImportedInvitation>,
}

/// A portal user an import invited.
#[derive(Debug, Clone)]
pub struct ImportedInvitation {
    pub company: CompanyId,
    pub name: String,
    pub email: String,
    /// The invitation's token; `None` when the address already has an account elsewhere in the
    /// workspace (its owner is told to sign in, as the invitation form does).
    pub token: Option<String>,
}

impl ImportOutcome {
    fn refuse(&mut self, line: u64, column: &str, message: impl Into<String>) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS_LISTED {
            self.problems.push(RowProblem {
                line,
                column: column.to_owned(),
                message: message.into(),
            });
        }
    }

    /// The store's refusals of a row's fields, under the file's column names.
    fn refuse_fields(&mut self, line: u64, refusals: Vec<(String, String)>) {
        for (field, message) in refusals {
            let column = match field.as_str() {
                "kind" => "type",
                "purchased_on" => "purchase_date",
                "plan_name" => "plan",
                other => other,
            };
            self.refuse(line, column, message);
        }
    }

    pub fn is_clean(&self) -> bool {
        self.problem_count == 0
    }
}

/// A file waiting to be applied.
#[derive(Debug, Clone)]
pub struct PendingImport {
    pub id: ImportId,
    pub kind: ImportKind,
    pub file_name: String,
    pub content: String,
    /// The company rows without a company column go to.
    pub company: Option<CompanyId>,
    pub applied_at: Option<i64>,
}

/// A header as the file wrote it, reduced to the name it is matched by: `E-mail` is `e_mail`.
fn header_key(header: &str) -> String {
    let mut key = String::new();
    for c in header.trim().trim_start_matches('\u{feff}').chars() {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    key.trim_end_matches('_').to_owned()
}

/// What one column of the file is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Known(&'static str),
    /// One of the workspace's own asset fields.
    Custom(AssetFieldId),
    /// Exported by Portico but not imported (set by tools, not people).
    Ignored,
}

/// Other names a column goes by (Portico's own CSV exports among them).
fn alias(kind: ImportKind, key: &str) -> Option<&'static str> {
    Some(match (kind, key) {
        (_, "company_name") => "company",
        (ImportKind::Companies, "plan_name" | "service_plan") => "plan",
        (ImportKind::Contacts, "e_mail" | "email_address") => "email",
        (ImportKind::Contacts, "job_title") => "title",
        (ImportKind::Assets, "kind") => "type",
        (ImportKind::Assets, "serial_number") => "serial",
        (ImportKind::Assets, "operating_system") => "os",
        (ImportKind::Assets, "purchased_on" | "purchased") => "purchase_date",
        (ImportKind::Assets, "assigned_to") => "assigned_user",
        _ => return None,
    })
}

/// A cell's value: trimmed, and a spreadsheet formula guard (`'` before `=`, `+`, `-`, `@`, as
/// Portico's exports write it) taken off again.
fn cell(row: &ImportRow, index: Option<usize>) -> Option<String> {
    let text = row.cells.get(index?).map(|c| c.trim()).unwrap_or("");
    let text = match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => text,
    };
    Some(text.to_owned())
}

/// Which column of the file each of the kind's columns is, with the header's problems.
struct Layout {
    columns: Vec<Column>,
}

impl Layout {
    fn of(
        kind: ImportKind,
        headers: &[String],
        custom: &[(AssetFieldId, String)],
        outcome: &mut ImportOutcome,
    ) -> Layout {
        let mut columns = Vec::new();
        for header in headers {
            let key = header_key(header);
            let known = kind
                .columns()
                .iter()
                .map(|c| c.header)
                .find(|c| *c == key)
                .or_else(|| alias(kind, &key));
            let column = if let Some(known) = known {
                Column::Known(known)
            } else if kind == ImportKind::Assets && key == "last_seen" {
                Column::Ignored
            } else if let Some((id, _)) = (kind == ImportKind::Assets)
                .then(|| custom.iter().find(|(_, label)| header_key(label) == key))
                .flatten()
            {
                Column::Custom(*id)
            } else {
                let names: Vec<&str> = kind.columns().iter().map(|c| c.header).collect();
                outcome.refuse(
                    1,
                    header.trim(),
                    format!(
                        "\"{}\" is not a column this import reads; the columns are {}{}.",
                        header.trim(),
                        names.join(", "),
                        if kind == ImportKind::Assets && !custom.is_empty() {
                            " and your own asset fields"
                        } else {
                            ""
                        }
                    ),
                );
                Column::Ignored
            };
            if column != Column::Ignored && columns.contains(&column) {
                outcome.refuse(1, header.trim(), "This column appears twice.");
            }
            columns.push(column);
        }
        Layout { columns }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| matches!(c, Column::Known(known) if *known == name))
    }

    fn has(&self, name: &str) -> bool {
        self.index(name).is_some()
    }

    fn get(&self, row: &ImportRow, name: &str) -> Option<String> {
        cell(row, self.index(name))
    }

    /// The custom fields the file has, with their column.
    fn custom(&self) -> Vec<(AssetFieldId, usize)> {
        self.columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Column::Custom(id) => Some((*id, i)),
                _ => None,
            })
            .collect()
    }
}

/// A value where the file has the column, else the stored one (an absent column changes
/// nothing).
fn or_stored(value: Option<String>, stored: &str) -> String {
    value.unwrap_or_else(|| stored.to_owned())
}

/// Contact roles as written in a cell: stored names or labels, separated by `;` or `,`.
fn parse_roles(text: &str) -> Result<Vec<ContactRole>, String> {
    let mut roles = Vec::new();
    for word in text.split([';', ',']) {
        let word = word.trim();
        if word.is_empty() {
            continue;
        }
        let key = header_key(word);
        let role = ContactRole::ALL
            .iter()
            .find(|r| r.as_str() == key || header_key(r.label()) == key)
            .ok_or_else(|| {
                format!(
                    "\"{word}\" is not a contact role; the roles are primary, backup, purchase \
                     approver, billing and technical."
                )
            })?;
        if !roles.contains(role) {
            roles.push(*role);
        }
    }
    Ok(roles)
}

/// An existing asset as the import compares it.
struct StoredAsset {
    id: AssetId,
    draft: AssetDraft,
}

struct AssetRow {
    id: String,
    name: String,
    kind: String,
    site_id: Option<String>,
    manufacturer: String,
    model: String,
    serial: String,
    os: String,
    warranty_end: Option<String>,
    purchased_on: Option<String>,
    assigned_user: String,
    notes: String,
}
crate::sql::db_row!(AssetRow {
    id,
    name,
    kind,
    site_id,
    manufacturer,
    model,
    serial,
    os,
    warranty_end,
    purchased_on,
    assigned_user,
    notes
});

/// An asset's key in its company: its serial number, else its name.
fn asset_key(serial: &str, name: &str) -> String {
    if serial.trim().is_empty() {
        format!("name:{}", name.trim().to_lowercase())
    } else {
        format!("serial:{}", serial.trim().to_lowercase())
    }
}

/// What the import knows of one company while it runs.
#[derive(Default)]
struct CompanyAssets {
    /// Current sites by lower-cased name.
    sites: HashMap<String, SiteId>,
    existing: HashMap<String, StoredAsset>,
    /// Keys the file has used so far, with their line.
    seen: HashMap<String, u64>,
}

/// A new asset, checked, waiting for its batch.
struct NewAsset {
    company: CompanyId,
    id: AssetId,
    checked: crate::scoped::assets::edit::CheckedAsset,
    custom: Vec<(AssetFieldId, String)>,
}

impl ScopedTx<'_> {
    /// Checks the caller may import `kind` at all (console staff who manage those records).
    pub fn may_import(&self, kind: ImportKind) -> Result<(), StoreError> {
        if self.scope.is_portal() {
            return Err(StoreError::NotFound);
        }
        self.scope.may(match kind {
            ImportKind::Companies => Action::ManageCompanies,
            ImportKind::PortalUsers => Action::ManagePortalUsers,
            _ => Action::ManageCompanyRecords,
        })?;
        Ok(())
    }

    /// Keeps an uploaded file for its preview and application; the caller's files older than a
    /// day go.
    pub async fn keep_import(
        &mut self,
        kind: ImportKind,
        company: Option<CompanyId>,
        file_name: &str,
        content: &str,
    ) -> Result<ImportId, StoreError> {
        self.may_import(kind)?;
        let Actor::Staff(me) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        let mut old = self.delete(&fence::PENDING_IMPORTS);
        old.sql(" AND created_at < ").arg(now() - KEPT_FOR_SECS);
        self.tx.exec(old).await?;
        let id = ImportId::new();
        // The company is kept in the file's name column's place: `company|name`.
        let kept_name = match company {
            Some(c) => format!("{c}|{file_name}"),
            None => format!("|{file_name}"),
        };
        self.tx
            .exec(q!(
                "INSERT INTO pending_imports (workspace_id, id, staff_user_id, kind, file_name, content, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                self.scope.workspace(),
                id,
                me,
                kind.as_str(),
                kept_name,
                content,
                now()
            ))
            .await?;
        Ok(id)
    }

    /// One of the caller's uploaded files; anyone else's is not found.
    pub async fn pending_import(&mut self, id: ImportId) -> Result<PendingImport, StoreError> {
        if self.scope.is_portal() {
            return Err(StoreError::NotFound);
        }
        let mut query = self.select(
            "p.kind, p.file_name, p.content, p.applied_at",
            &fence::PENDING_IMPORTS,
            "p",
        );
        query.sql(" AND p.id = ").arg(id);
        let (kind, kept_name, content, applied_at): (String, String, String, Option<i64>) =
            self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        let kind = ImportKind::parse(&kind).ok_or(StoreError::NotFound)?;
        let (company, file_name) = kept_name.split_once('|').unwrap_or(("", &kept_name));
        Ok(PendingImport {
            id,
            kind,
            file_name: file_name.to_owned(),
            content,
            company: CompanyId::parse(company),
            applied_at,
        })
    }

    /// Claims a file for applying: `false` when it was applied already. Claimed in the
    /// applying transaction itself, so two clicks at once apply it once (the second waits for
    /// the first's row and then finds it applied); a run that is rolled back unclaims it.
    pub async fn claim_import(&mut self, id: ImportId) -> Result<bool, StoreError> {
        let mut query = self.update(&fence::PENDING_IMPORTS, |set| {
            set.sql("applied_at = ").arg(now());
        });
        query
            .sql(" AND id = ")
            .arg(id)
            .sql(" AND applied_at IS NULL");
        Ok(self.tx.exec(query).await? == 1)
    }

    /// Checks and applies a file's rows in this transaction. The caller commits only a clean
    /// outcome; a preview is the same run, rolled back.
    pub async fn run_import(
        &mut self,
        kind: ImportKind,
        table: &ImportTable,
        company: Option<CompanyId>,
        preview: bool,
    ) -> Result<ImportOutcome, StoreError> {
        self.may_import(kind)?;
        let mut outcome = ImportOutcome {
            rows: table.rows.len() as u64,
            ..ImportOutcome::default()
        };
        if table.rows.len() > MAX_ROWS {
            outcome.refuse(
                1,
                "",
                format!("A file may hold at most {MAX_ROWS} rows; split it in parts."),
            );
            return Ok(outcome);
        }
        let custom: Vec<(AssetFieldId, String)> = if kind == ImportKind::Assets {
            self.custom_asset_fields()
                .await?
                .into_iter()
                .map(|f| (f.id, f.label))
                .collect()
        } else {
            Vec::new()
        };
        let layout = Layout::of(kind, &table.headers, &custom, &mut outcome);
        for column in kind.columns().iter().filter(|c| c.required) {
            let missing =
                !(layout.has(column.header) || column.header == "company" && company.is_some());
            if missing {
                outcome.refuse(
                    1,
                    column.header,
                    if column.header == "company" {
                        "The file has no company column: add one, or choose the company the \
                         rows go to."
                            .to_owned()
                    } else {
                        format!("The file has no \"{}\" column.", column.header)
                    },
                );
            }
        }
        let rates = ["currency", "monthly_fee", "hourly_rate"];
        if kind == ImportKind::Companies
            && !self.scope.billing()
            && rates.iter().any(|c| layout.has(c))
        {
            outcome.refuse(
                1,
                "currency",
                "Only staff with billing access import currencies, fees and rates; leave those \
                 columns out.",
            );
        }
        if !outcome.is_clean() {
            return Ok(outcome);
        }
        if let Some(company) = company.filter(|_| kind != ImportKind::Companies) {
            self.company_for_import(company).await?;
        }
        match kind {
            ImportKind::Companies => self.import_companies(table, &layout, &mut outcome).await?,
            ImportKind::Sites => {
                self.import_sites(table, &layout, company, &mut outcome)
                    .await?
            }
            ImportKind::Contacts => {
                self.import_contacts(table, &layout, company, &mut outcome)
                    .await?
            }
            ImportKind::Assets => {
                self.import_assets(table, &layout, company, preview, &mut outcome)
                    .await?
            }
            ImportKind::PortalUsers => {
                self.import_portal_users(table, &layout, company, &mut outcome)
                    .await?
            }
        }
        if !preview {
            self.audit(
                portico_core::AuditAction::Imported,
                company,
                portico_core::AuditTarget::new("import", "", kind.label()),
                &format!(
                    "{} rows: {} added, {} changed, {} unchanged, {} refused",
                    outcome.rows,
                    outcome.created,
                    outcome.updated,
                    outcome.unchanged,
                    outcome.problem_count
                ),
            )
            .await?;
        }
        Ok(outcome)
    }

    /// A company the rows may go to: in scope and taking work.
    async fn company_for_import(&mut self, company: CompanyId) -> Result<(), StoreError> {
        self.company(company).await?;
        self.company_taking_work(company).await
    }

    /// The companies in scope that take work, by lower-cased name.
    async fn companies_by_name(&mut self) -> Result<HashMap<String, CompanyId>, StoreError> {
        Ok(self
            .company_names(i64::MAX)
            .await?
            .into_iter()
            .map(|(id, name)| (name.to_lowercase(), id))
            .collect())
    }

    /// The company a row names (or the chosen one, for an empty cell or no column).
    fn row_company(
        names: &HashMap<String, CompanyId>,
        layout: &Layout,
        row: &ImportRow,
        chosen: Option<CompanyId>,
        outcome: &mut ImportOutcome,
    ) -> Option<CompanyId> {
        match layout.get(row, "company").filter(|c| !c.is_empty()) {
            Some(name) => {
                let found = names.get(&name.to_lowercase()).copied();
                if found.is_none() {
                    outcome.refuse(
                        row.line,
                        "company",
                        format!(
                            "No company named \"{name}\" that you manage takes work (archived \
                             companies take none)."
                        ),
                    );
                }
                found
            }
            None => {
                if chosen.is_none() {
                    outcome.refuse(row.line, "company", "Name the company.");
                }
                chosen
            }
        }
    }

    async fn import_companies(
        &mut self,
        table: &ImportTable,
        layout: &Layout,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        let mut existing: HashMap<String, crate::scoped::companies::CompanySummary> =
            HashMap::new();
        for archived in [false, true] {
            for company in self.companies(archived).await? {
                existing.insert(company.name.to_lowercase(), company);
            }
        }
        let mut seen: HashMap<String, u64> = HashMap::new();
        for row in &table.rows {
            let name = layout.get(row, "name").unwrap_or_default();
            let key = name.to_lowercase();
            if let Some(first) = seen.insert(key.clone(), row.line) {
                outcome.refuse(
                    row.line,
                    "name",
                    format!("Line {first} imports this company already."),
                );
                continue;
            }
            let mut stored = existing.get(&key).map(CompanyDraft::of).unwrap_or_default();
            // A new company without a currency in the file is billed in the workspace's usual
            // one, as the form does for staff who do not set rates.
            if !existing.contains_key(&key) && self.scope.billing() {
                stored.currency = self.usual_currency().await?;
            }
            let draft = CompanyDraft {
                name: name.clone(),
                plan_name: or_stored(layout.get(row, "plan"), &stored.plan_name),
                included_hours: or_stored(
                    layout.get(row, "included_hours"),
                    &stored.included_hours,
                ),
                currency: or_stored(layout.get(row, "currency"), &stored.currency),
                monthly_fee: or_stored(layout.get(row, "monthly_fee"), &stored.monthly_fee),
                hourly_rate: or_stored(layout.get(row, "hourly_rate"), &stored.hourly_rate),
            };
            let result = match existing.get(&key) {
                Some(company) => {
                    if same_company(&draft, &stored) {
                        outcome.unchanged += 1;
                        continue;
                    }
                    let id = company.id;
                    self.update_company(id, &draft).await.map(|()| false)
                }
                None => self.add_company(&draft).await.map(|_| true),
            };
            match result {
                Ok(true) => outcome.created += 1,
                Ok(false) => outcome.updated += 1,
                Err(StoreError::InvalidFields(refusals)) => {
                    outcome.refuse_fields(row.line, refusals)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn import_sites(
        &mut self,
        table: &ImportTable,
        layout: &Layout,
        chosen: Option<CompanyId>,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        let names = self.companies_by_name().await?;
        let mut existing: HashMap<CompanyId, Vec<crate::scoped::companies::Site>> = HashMap::new();
        let mut seen: HashMap<(CompanyId, String), u64> = HashMap::new();
        for row in &table.rows {
            let Some(company) = Self::row_company(&names, layout, row, chosen, outcome) else {
                continue;
            };
            if let Entry::Vacant(entry) = existing.entry(company) {
                entry.insert(self.sites_with_archived(company).await?);
            }
            let name = layout.get(row, "name").unwrap_or_default();
            let key = name.to_lowercase();
            if let Some(first) = seen.insert((company, key.clone()), row.line) {
                outcome.refuse(
                    row.line,
                    "name",
                    format!("Line {first} imports this site already."),
                );
                continue;
            }
            let stored = existing[&company]
                .iter()
                .find(|s| s.name.to_lowercase() == key)
                .cloned();
            let draft = SiteDraft {
                name,
                address: or_stored(
                    layout.get(row, "address"),
                    stored.as_ref().map_or("", |s| s.address.as_str()),
                ),
            };
            let result = match &stored {
                Some(site)
                    if site.name == draft.name.trim() && site.address == draft.address.trim() =>
                {
                    outcome.unchanged += 1;
                    continue;
                }
                Some(site) => self
                    .update_site(company, SiteId::from_stored(&site.id), &draft)
                    .await
                    .map(|()| false),
                None => self.add_site(company, &draft).await.map(|_| true),
            };
            match result {
                Ok(true) => outcome.created += 1,
                Ok(false) => outcome.updated += 1,
                Err(StoreError::InvalidFields(refusals)) => {
                    outcome.refuse_fields(row.line, refusals)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn import_contacts(
        &mut self,
        table: &ImportTable,
        layout: &Layout,
        chosen: Option<CompanyId>,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        let names = self.companies_by_name().await?;
        let mut existing: HashMap<CompanyId, Vec<crate::scoped::companies::Contact>> =
            HashMap::new();
        let mut seen: HashMap<(CompanyId, String), u64> = HashMap::new();
        for row in &table.rows {
            let Some(company) = Self::row_company(&names, layout, row, chosen, outcome) else {
                continue;
            };
            if let Entry::Vacant(entry) = existing.entry(company) {
                entry.insert(self.contacts_with_archived(company).await?);
            }
            let name = layout.get(row, "name").unwrap_or_default();
            let email = layout.get(row, "email").unwrap_or_default();
            let key = if email.is_empty() {
                format!("name:{}", name.to_lowercase())
            } else {
                format!("email:{}", email.to_lowercase())
            };
            if let Some(first) = seen.insert((company, key.clone()), row.line) {
                outcome.refuse(
                    row.line,
                    if email.is_empty() { "name" } else { "email" },
                    format!("Line {first} imports this contact already."),
                );
                continue;
            }
            let stored = existing[&company]
                .iter()
                .find(|c| {
                    if email.is_empty() {
                        c.email.is_empty() && c.name.to_lowercase() == name.to_lowercase()
                    } else {
                        c.email.to_lowercase() == email.to_lowercase()
                    }
                })
                .cloned();
            let roles = match layout.get(row, "roles") {
                Some(text) => match parse_roles(&text) {
                    Ok(roles) => roles,
                    Err(message) => {
                        outcome.refuse(row.line, "roles", message);
                        continue;
                    }
                },
                None => stored.as_ref().map(|c| c.roles.clone()).unwrap_or_default(),
            };
            let draft = ContactDraft {
                name,
                email: or_stored(
                    layout.get(row, "email"),
                    stored.as_ref().map_or("", |c| &c.email),
                ),
                phone: or_stored(
                    layout.get(row, "phone"),
                    stored.as_ref().map_or("", |c| &c.phone),
                ),
                title: or_stored(
                    layout.get(row, "title"),
                    stored.as_ref().map_or("", |c| &c.title),
                ),
                roles,
            };
            let result = match &stored {
                Some(contact) if same_contact(&draft, contact) => {
                    outcome.unchanged += 1;
                    continue;
                }
                Some(contact) => self
                    .update_contact(company, ContactId::from_stored(&contact.id), &draft)
                    .await
                    .map(|()| false),
                None => self.add_contact(company, &draft).await.map(|_| true),
            };
            match result {
                Ok(true) => outcome.created += 1,
                Ok(false) => outcome.updated += 1,
                Err(StoreError::InvalidFields(refusals)) => {
                    outcome.refuse_fields(row.line, refusals)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn import_portal_users(
        &mut self,
        table: &ImportTable,
        layout: &Layout,
        chosen: Option<CompanyId>,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        let names = self.companies_by_name().await?;
        let mut known: HashMap<
            CompanyId,
            (
                Vec<crate::scoped::portal_users::PortalUser>,
                HashMap<String, SiteId>,
            ),
        > = HashMap::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        let billing = self.scope.billing();
        for row in &table.rows {
            let Some(company) = Self::row_company(&names, layout, row, chosen, outcome) else {
                continue;
            };
            if let Entry::Vacant(entry) = known.entry(company) {
                let users = self.portal_users(company).await?;
                let sites = self
                    .sites(company)
                    .await?
                    .into_iter()
                    .map(|s| (s.name.to_lowercase(), SiteId::from_stored(&s.id)))
                    .collect();
                entry.insert((users, sites));
            }
            let (users, sites) = &known[&company];
            let email = layout.get(row, "email").unwrap_or_default();
            let key = email.to_lowercase();
            if let Some(first) = seen.insert(key.clone(), row.line) {
                outcome.refuse(
                    row.line,
                    "email",
                    format!("Line {first} imports this address already."),
                );
                continue;
            }
            let stored = users
                .iter()
                .find(|u| u.email.to_lowercase() == key)
                .cloned();
            let mut fine = true;
            let role = match layout.get(row, "role").filter(|r| !r.is_empty()) {
                None => stored.as_ref().map_or(PortalRole::Member, |u| u.role),
                Some(text) => {
                    let key = header_key(&text);
                    match PortalRole::ALL
                        .iter()
                        .find(|r| r.as_str() == key || header_key(r.label()) == key)
                    {
                        Some(role) => *role,
                        None => {
                            outcome.refuse(
                                row.line,
                                "role",
                                format!(
                                    "\"{text}\" is not a role; the roles are viewer, member and client admin."
                                ),
                            );
                            fine = false;
                            PortalRole::Member
                        }
                    }
                }
            };
            let site_ids = match layout.get(row, "sites") {
                None => stored.as_ref().map(|u| u.sites.clone()).unwrap_or_default(),
                Some(text) => {
                    let mut ids = Vec::new();
                    for name in text.split(';').map(str::trim).filter(|n| !n.is_empty()) {
                        match sites.get(&name.to_lowercase()) {
                            Some(id) if !ids.contains(id) => ids.push(*id),
                            Some(_) => {}
                            None => {
                                outcome.refuse(
                                    row.line,
                                    "sites",
                                    format!("The company has no current site named \"{name}\"."),
                                );
                                fine = false;
                            }
                        }
                    }
                    ids
                }
            };
            let mut flag = |column: &str, stored_value: bool| match layout.get(row, column) {
                None => Some(stored_value),
                Some(text) => match header_key(&text).as_str() {
                    "" | "no" | "false" | "0" | "n" => Some(false),
                    "yes" | "true" | "1" | "y" => Some(true),
                    _ => {
                        outcome.refuse(row.line, column, "Write yes or no.");
                        None
                    }
                },
            };
            let own_only = flag("own_only", stored.as_ref().is_some_and(|u| u.own_only));
            let billing_access = flag(
                "billing_access",
                stored.as_ref().is_some_and(|u| u.billing_access),
            );
            let (Some(own_only), Some(billing_access)) = (own_only, billing_access) else {
                continue;
            };
            if !fine {
                continue;
            }
            let fields = PortalUserFields {
                name: layout.get(row, "name").unwrap_or_default(),
                email: email.clone(),
                role,
                sites: site_ids,
                own_only,
                // Only a caller who may see financial fields may grant seeing them.
                billing_access: if billing {
                    billing_access
                } else {
                    stored.as_ref().is_some_and(|u| u.billing_access)
                },
            };
            let result = match &stored {
                Some(user) => {
                    let mut stored_sites = user.sites.clone();
                    let mut sites = fields.sites.clone();
                    stored_sites.sort();
                    sites.sort();
                    if user.name == fields.name.trim()
                        && user.role == fields.role
                        && stored_sites == sites
                        && user.own_only == fields.own_only
                        && user.billing_access == fields.billing_access
                    {
                        outcome.unchanged += 1;
                        continue;
                    }
                    self.update_portal_user(company, user.id, &fields)
                        .await
                        .map(|()| false)
                }
                None => match self.invite_portal_user(company, &fields).await {
                    Ok(invitation) => {
                        outcome.invitations.push(ImportedInvitation {
                            company,
                            name: fields.name.trim().to_owned(),
                            email: fields.email.trim().to_owned(),
                            token: match invitation {
                                Invitation::Created { token, .. } => Some(token),
                                Invitation::AddressTaken => None,
                            },
                        });
                        Ok(true)
                    }
                    Err(e) => Err(e),
                },
            };
            match result {
                Ok(true) => outcome.created += 1,
                Ok(false) => outcome.updated += 1,
                Err(StoreError::Invalid(message)) => {
                    let column = if message.starts_with("Enter a name") {
                        "name"
                    } else if message.starts_with("Choose") {
                        "sites"
                    } else {
                        "email"
                    };
                    outcome.refuse(row.line, column, message)
                }
                Err(StoreError::InvalidFields(refusals)) => {
                    outcome.refuse_fields(row.line, refusals)
                }
                Err(StoreError::Conflict(_)) => outcome.refuse(
                    row.line,
                    "email",
                    "A portal user with this address exists already.",
                ),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A company's current sites and assets, for matching rows against.
    async fn company_assets(&mut self, company: CompanyId) -> Result<CompanyAssets, StoreError> {
        let sites = self
            .sites(company)
            .await?
            .into_iter()
            .map(|s| (s.name.to_lowercase(), SiteId::from_stored(&s.id)))
            .collect();
        let mut query = self.select(
            "a.id, a.name, a.kind, a.site_id, a.manufacturer, a.model, a.serial, a.os, \
             a.warranty_end, a.purchased_on, a.assigned_user, a.notes",
            &fence::ASSETS,
            "a",
        );
        query
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(" AND a.archived_at IS NULL");
        let rows: Vec<AssetRow> = self.tx.all(query).await?;
        let mut values = self.select(
            "v.asset_id, v.field_id, v.value",
            &fence::ASSET_FIELD_VALUES,
            "v",
        );
        values.sql(" AND v.company_id = ").arg(company);
        let values: Vec<(String, String, String)> = self.tx.all(values).await?;
        let mut custom: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (asset, field, value) in values {
            custom.entry(asset).or_default().push((field, value));
        }
        let mut existing = HashMap::new();
        for row in rows {
            let key = asset_key(&row.serial, &row.name);
            let draft = AssetDraft {
                custom: custom.remove(&row.id).unwrap_or_default(),
                name: row.name,
                kind: row.kind,
                site: row.site_id.unwrap_or_default(),
                manufacturer: row.manufacturer,
                model: row.model,
                serial: row.serial,
                os: row.os,
                warranty_end: row.warranty_end.unwrap_or_default(),
                purchased_on: row.purchased_on.unwrap_or_default(),
                assigned_user: row.assigned_user,
                notes: row.notes,
            };
            existing.entry(key).or_insert(StoredAsset {
                id: AssetId::from_stored(&row.id),
                draft,
            });
        }
        Ok(CompanyAssets {
            sites,
            existing,
            seen: HashMap::new(),
        })
    }

    async fn import_assets(
        &mut self,
        table: &ImportTable,
        layout: &Layout,
        chosen: Option<CompanyId>,
        preview: bool,
        outcome: &mut ImportOutcome,
    ) -> Result<(), StoreError> {
        let names = self.companies_by_name().await?;
        let custom_columns = layout.custom();
        let mut companies: HashMap<CompanyId, CompanyAssets> = HashMap::new();
        let mut batch: Vec<NewAsset> = Vec::new();
        for row in &table.rows {
            let Some(company) = Self::row_company(&names, layout, row, chosen, outcome) else {
                continue;
            };
            if let Entry::Vacant(entry) = companies.entry(company) {
                entry.insert(self.company_assets(company).await?);
            }
            let known = companies.get_mut(&company).expect("loaded above");
            let name = layout.get(row, "name").unwrap_or_default();
            let serial_cell = layout.get(row, "serial");
            let key = asset_key(serial_cell.as_deref().unwrap_or(""), &name);
            if let Some(first) = known.seen.insert(key.clone(), row.line) {
                outcome.refuse(
                    row.line,
                    if key.starts_with("serial:") {
                        "serial"
                    } else {
                        "name"
                    },
                    format!("Line {first} imports this asset already."),
                );
                continue;
            }
            let stored = known.existing.get(&key);
            let base = stored.map(|s| s.draft.clone()).unwrap_or_default();
            // The site by name; an empty cell means no site.
            let site = match layout.get(row, "site") {
                None => base.site.clone(),
                Some(name) if name.is_empty() => String::new(),
                Some(name) => match known.sites.get(&name.to_lowercase()) {
                    Some(id) => id.to_string(),
                    None => {
                        outcome.refuse(
                            row.line,
                            "site",
                            format!("The company has no current site named \"{name}\"."),
                        );
                        continue;
                    }
                },
            };
            let kind = match layout.get(row, "type") {
                None => base.kind.clone(),
                Some(text) => {
                    let key = header_key(&text);
                    AssetKind::ALL
                        .iter()
                        .find(|k| k.as_str() == key || header_key(k.label()) == key)
                        .map(|k| k.as_str().to_owned())
                        .unwrap_or(text)
                }
            };
            let mut custom = base.custom.clone();
            let mut custom_ok = true;
            for (field, index) in &custom_columns {
                let value = cell(row, Some(*index)).unwrap_or_default();
                if value.chars().count() > MAX_CUSTOM_VALUE || value.chars().any(char::is_control) {
                    outcome.refuse(
                        row.line,
                        &table.headers[*index],
                        format!("Keep this to one line of at most {MAX_CUSTOM_VALUE} characters."),
                    );
                    custom_ok = false;
                }
                let id = field.to_string();
                custom.retain(|(f, _)| *f != id);
                if !value.is_empty() {
                    custom.push((id, value));
                }
            }
            if !custom_ok {
                continue;
            }
            custom.sort();
            let draft = AssetDraft {
                name,
                kind,
                site,
                manufacturer: or_stored(layout.get(row, "manufacturer"), &base.manufacturer),
                model: or_stored(layout.get(row, "model"), &base.model),
                serial: or_stored(serial_cell, &base.serial),
                os: or_stored(layout.get(row, "os"), &base.os),
                warranty_end: or_stored(layout.get(row, "warranty_end"), &base.warranty_end),
                purchased_on: or_stored(layout.get(row, "purchase_date"), &base.purchased_on),
                assigned_user: or_stored(layout.get(row, "assigned_user"), &base.assigned_user),
                notes: or_stored(layout.get(row, "notes"), &base.notes),
                custom,
            };
            let checked = match check_asset(&draft) {
                Ok(checked) => checked,
                Err(StoreError::InvalidFields(refusals)) => {
                    outcome.refuse_fields(row.line, refusals);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match stored {
                Some(stored) => {
                    let mut before = stored.draft.clone();
                    before.custom.sort();
                    if same_asset(&before, &draft) {
                        outcome.unchanged += 1;
                        continue;
                    }
                    // Rare next to new rows: the form's own path, history included.
                    let id = stored.id;
                    match self.update_asset(company, id, &draft).await {
                        Ok(()) => outcome.updated += 1,
                        Err(StoreError::InvalidFields(refusals)) => {
                            outcome.refuse_fields(row.line, refusals)
                        }
                        Err(e) => return Err(e),
                    }
                }
                None => {
                    outcome.created += 1;
                    batch.push(NewAsset {
                        company,
                        id: AssetId::new(),
                        checked,
                        custom: draft
                            .custom
                            .iter()
                            .map(|(f, v)| (AssetFieldId::from_stored(f), v.clone()))
                            .collect(),
                    });
                    if batch.len() == ASSET_BATCH && !preview && outcome.is_clean() {
                        self.insert_assets(&batch).await?;
                        batch.clear();
                    }
                }
            }
        }
        // A preview, or a file with problems, writes nothing new: it is all or nothing.
        if !preview && outcome.is_clean() && !batch.is_empty() {
            self.insert_assets(&batch).await?;
        }
        Ok(())
    }

    /// Inserts new assets and their own fields' values, many rows to a statement.
    async fn insert_assets(&mut self, batch: &[NewAsset]) -> Result<(), StoreError> {
        let at = now();
        let mut insert = Q::new(
            "INSERT INTO assets (workspace_id, company_id, id, site_id, name, kind, manufacturer, model, \
             serial, os, warranty_end, purchased_on, last_seen_at, assigned_user, notes, created_at, \
             updated_at) VALUES ",
        );
        let workspace = insert.placeholder(self.scope.workspace());
        let created = insert.placeholder(at);
        for (i, asset) in batch.iter().enumerate() {
            let c = &asset.checked;
            let [manufacturer, model, serial, os, assigned_user] = &c.lines;
            insert.sql(if i == 0 { "(" } else { ", (" });
            insert.sql(&workspace).sql(", ");
            insert
                .arg(asset.company)
                .sql(", ")
                .arg(asset.id)
                .sql(", ")
                .arg(c.site)
                .sql(", ")
                .arg(c.name.as_str())
                .sql(", ")
                .arg(c.kind.as_str())
                .sql(", ")
                .arg(manufacturer.as_str())
                .sql(", ")
                .arg(model.as_str())
                .sql(", ")
                .arg(serial.as_str())
                .sql(", ")
                .arg(os.as_str())
                .sql(", ")
                .arg(c.warranty_end.clone())
                .sql(", ")
                .arg(c.purchased_on.clone())
                .sql(", NULL, ")
                .arg(assigned_user.as_str())
                .sql(", ")
                .arg(c.notes.as_str())
                .sql(", ");
            insert.sql(&created).sql(", ").sql(&created).sql(")");
        }
        self.tx.exec(insert).await?;
        let values: Vec<(&NewAsset, &(AssetFieldId, String))> = batch
            .iter()
            .flat_map(|a| a.custom.iter().map(move |v| (a, v)))
            .collect();
        for chunk in values.chunks(ASSET_BATCH) {
            let mut insert = Q::new(
                "INSERT INTO asset_field_values (workspace_id, company_id, asset_id, field_id, value) VALUES ",
            );
            let workspace = insert.placeholder(self.scope.workspace());
            for (i, (asset, (field, value))) in chunk.iter().enumerate() {
                insert.sql(if i == 0 { "(" } else { ", (" });
                insert.sql(&workspace).sql(", ");
                insert
                    .arg(asset.company)
                    .sql(", ")
                    .arg(asset.id)
                    .sql(", ")
                    .arg(*field)
                    .sql(", ")
                    .arg(value.as_str())
                    .sql(")");
            }
            self.tx.exec(insert).await?;
        }
        Ok(())
    }
}

fn same_company(draft: &CompanyDraft, stored: &CompanyDraft) -> bool {
    let hours = |text: &str| crate::scoped::companies::edit::parse_hours(text);
    let amount = |text: &str| crate::scoped::companies::edit::parse_amount(text);
    draft.name.trim() == stored.name
        && draft.plan_name.trim() == stored.plan_name
        && hours(&draft.included_hours) == hours(&stored.included_hours)
        && draft.currency.trim().to_ascii_uppercase() == stored.currency
        && amount(&draft.monthly_fee) == amount(&stored.monthly_fee)
        && amount(&draft.hourly_rate) == amount(&stored.hourly_rate)
}

fn same_contact(draft: &ContactDraft, stored: &crate::scoped::companies::Contact) -> bool {
    let mut roles = draft.roles.clone();
    roles.sort_by_key(|r| ContactRole::ALL.iter().position(|a| a == r));
    draft.name.trim() == stored.name
        && draft.email.trim() == stored.email
        && draft.phone.trim() == stored.phone
        && draft.title.trim() == stored.title
        && roles == stored.roles
}

fn same_asset(stored: &AssetDraft, draft: &AssetDraft) -> bool {
    let t = |s: &str| s.trim().to_owned();
    t(&stored.name) == t(&draft.name)
        && stored.kind == draft.kind
        && stored.site == draft.site
        && t(&stored.manufacturer) == t(&draft.manufacturer)
        && t(&stored.model) == t(&draft.model)
        && t(&stored.serial) == t(&draft.serial)
        && t(&stored.os) == t(&draft.os)
        && portico_core::parse_date(&stored.warranty_end)
            == portico_core::parse_date(&draft.warranty_end)
        && portico_core::parse_date(&stored.purchased_on)
            == portico_core::parse_date(&draft.purchased_on)
        && t(&stored.assigned_user) == t(&draft.assigned_user)
        && t(&stored.notes) == t(&draft.notes)
        && stored.custom == draft.custom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_whatever_their_case_and_punctuation() {
        assert_eq!(header_key(" E-mail "), "e_mail");
        assert_eq!(header_key("\u{feff}Serial number"), "serial_number");
        assert_eq!(header_key("Warranty end"), "warranty_end");
        assert_eq!(alias(ImportKind::Assets, "serial_number"), Some("serial"));
    }

    #[test]
    fn an_exports_formula_guard_comes_off_again() {
        let row = ImportRow {
            line: 2,
            cells: vec!["'+61 2 5550 1234".into(), "'quoted".into()],
        };
        assert_eq!(cell(&row, Some(0)).unwrap(), "+61 2 5550 1234");
        assert_eq!(cell(&row, Some(1)).unwrap(), "'quoted");
        assert_eq!(cell(&row, None), None);
    }

    #[test]
    fn roles_are_read_by_name_or_label() {
        assert_eq!(
            parse_roles("Primary; purchase approver ;billing").unwrap(),
            vec![
                ContactRole::Primary,
                ContactRole::PurchaseApprover,
                ContactRole::Billing
            ]
        );
        assert!(parse_roles("boss").is_err());
    }
}
