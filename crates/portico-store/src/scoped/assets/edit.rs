//! Adding, editing, archiving and restoring assets: owners and the company's technicians.

use portico_core::{
    Action, AssetField, AssetFieldId, AssetId, AssetKind, CompanyId, Section, SiteId, parse_date,
};

use super::fields::ShownFields;
use super::read::Asset;
use crate::scoped::record_history::{RecordEdit, RecordKind, Values};
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

const MAX_LINE: usize = 120;
const MAX_NOTES: usize = 4_000;

/// An asset as its form submits it.
#[derive(Debug, Clone, Default)]
pub struct AssetDraft {
    pub name: String,
    pub kind: String,
    /// A site id, or empty for none.
    pub site: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub os: String,
    /// `YYYY-MM-DD` or empty.
    pub warranty_end: String,
    pub purchased_on: String,
    pub assigned_user: String,
    pub notes: String,
    /// Values of the workspace's own fields, by field id.
    pub custom: Vec<(String, String)>,
}

impl AssetDraft {
    /// The form of an existing asset, as its edit page starts.
    pub fn of(asset: &Asset, custom: Vec<(String, String)>) -> Self {
        AssetDraft {
            name: asset.name.clone(),
            kind: asset.kind.as_str().to_owned(),
            site: asset.site_id.map(|s| s.to_string()).unwrap_or_default(),
            manufacturer: asset.manufacturer.clone(),
            model: asset.model.clone(),
            serial: asset.serial.clone(),
            os: asset.os.clone(),
            warranty_end: asset.warranty_end.clone().unwrap_or_default(),
            purchased_on: asset.purchased_on.clone().unwrap_or_default(),
            assigned_user: asset.assigned_user.clone(),
            notes: asset.notes.clone(),
            custom,
        }
    }

    /// The value typed for a custom field.
    pub fn custom_value(&self, field: &str) -> &str {
        self.custom
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// An asset's stored details, every field whatever the reader is shown (to merge a client
/// admin's edit into, and to compare before and after).
struct StoredAsset {
    name: String,
    kind: String,
    site_id: Option<String>,
    site_name: Option<String>,
    manufacturer: String,
    model: String,
    serial: String,
    os: String,
    warranty_end: Option<String>,
    purchased_on: Option<String>,
    assigned_user: String,
    notes: String,
}
crate::sql::db_row!(StoredAsset {
    name,
    kind,
    site_id,
    site_name,
    manufacturer,
    model,
    serial,
    os,
    warranty_end,
    purchased_on,
    assigned_user,
    notes
});

impl StoredAsset {
    fn draft(&self, custom: Vec<(String, String)>) -> AssetDraft {
        AssetDraft {
            name: self.name.clone(),
            kind: self.kind.clone(),
            site: self.site_id.clone().unwrap_or_default(),
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            serial: self.serial.clone(),
            os: self.os.clone(),
            warranty_end: self.warranty_end.clone().unwrap_or_default(),
            purchased_on: self.purchased_on.clone().unwrap_or_default(),
            assigned_user: self.assigned_user.clone(),
            notes: self.notes.clone(),
            custom,
        }
    }

    /// The values an asset's history compares: what a reader sees (the type's and the site's
    /// names, not their codes).
    fn values(&self, custom: &[(String, String)]) -> Values {
        let mut values: Values = vec![
            ("name".into(), self.name.clone()),
            (
                "kind".into(),
                AssetKind::parse(&self.kind)
                    .map(|k| k.label().to_owned())
                    .unwrap_or_default(),
            ),
            ("site".into(), self.site_name.clone().unwrap_or_default()),
            ("manufacturer".into(), self.manufacturer.clone()),
            ("model".into(), self.model.clone()),
            ("serial".into(), self.serial.clone()),
            ("os".into(), self.os.clone()),
            (
                "warranty_end".into(),
                self.warranty_end.clone().unwrap_or_default(),
            ),
            (
                "purchased_on".into(),
                self.purchased_on.clone().unwrap_or_default(),
            ),
            ("assigned_user".into(), self.assigned_user.clone()),
            ("notes".into(), self.notes.clone()),
        ];
        values.extend(
            custom
                .iter()
                .map(|(id, value)| (format!("custom:{id}"), value.clone())),
        );
        values
    }
}

/// A client admin's edit merged into the stored asset: the name, the workspace's own fields
/// the portal shows, and the built-in fields a client may correct where the portal shows them.
/// Everything else stays as stored, whatever the form sent.
fn merge_client_edit(stored: AssetDraft, typed: &AssetDraft, shown: &ShownFields) -> AssetDraft {
    let mut merged = stored;
    merged.name = typed.name.clone();
    if shown.shows(&AssetField::AssignedUser) && AssetField::AssignedUser.client_editable() {
        merged.assigned_user = typed.assigned_user.clone();
    }
    if shown.shows(&AssetField::Notes) && AssetField::Notes.client_editable() {
        merged.notes = typed.notes.clone();
    }
    for field in &shown.custom {
        let id = field.id.to_string();
        let value = typed.custom_value(&id).to_owned();
        match merged.custom.iter_mut().find(|(f, _)| *f == id) {
            Some((_, stored)) => *stored = value,
            None => merged.custom.push((id, value)),
        }
    }
    merged
}

/// An asset's details as checked: `lines` are the manufacturer, model, serial, OS and assigned
/// user.
pub(crate) struct CheckedAsset {
    pub(crate) name: String,
    pub(crate) kind: AssetKind,
    pub(crate) site: Option<SiteId>,
    pub(crate) lines: [String; 5],
    pub(crate) warranty_end: Option<String>,
    pub(crate) purchased_on: Option<String>,
    pub(crate) notes: String,
}

/// Checks an asset's details, refusing each bad field by name.
pub(crate) fn check(draft: &AssetDraft) -> Result<CheckedAsset, StoreError> {
    let mut refusals = Vec::new();
    let mut line = |field: &str, label: &str, text: &str, required: bool| -> String {
        let text = text.trim();
        if (required && text.is_empty())
            || text.chars().count() > MAX_LINE
            || text.chars().any(char::is_control)
        {
            refusals.push((
                field.to_owned(),
                if required {
                    format!("Enter the {label} (one line, at most {MAX_LINE} characters).")
                } else {
                    format!("Keep the {label} to one line of at most {MAX_LINE} characters.")
                },
            ));
        }
        text.to_owned()
    };
    let name = line("name", "asset's name", &draft.name, true);
    let lines = [
        line("manufacturer", "manufacturer", &draft.manufacturer, false),
        line("model", "model", &draft.model, false),
        line("serial", "serial number", &draft.serial, false),
        line("os", "operating system", &draft.os, false),
        line(
            "assigned_user",
            "assigned user",
            &draft.assigned_user,
            false,
        ),
    ];
    let kind = AssetKind::parse(&draft.kind);
    if kind.is_none() {
        refusals.push(("kind".to_owned(), "Choose the asset's type.".to_owned()));
    }
    let site = match draft.site.trim() {
        "" => None,
        text => {
            let site = SiteId::parse(text);
            if site.is_none() {
                refusals.push((
                    "site".to_owned(),
                    "Choose one of the company's sites.".to_owned(),
                ));
            }
            site
        }
    };
    let mut date = |field: &str, label: &str, text: &str| -> Option<String> {
        if text.trim().is_empty() {
            return None;
        }
        let date = parse_date(text);
        if date.is_none() {
            refusals.push((
                field.to_owned(),
                format!("Enter the {label} as a date such as 2027-06-30, or leave it empty."),
            ));
        }
        date
    };
    let warranty_end = date("warranty_end", "warranty end", &draft.warranty_end);
    let purchased_on = date("purchased_on", "purchase date", &draft.purchased_on);
    let notes = draft.notes.trim().to_owned();
    let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    if notes.chars().count() > MAX_NOTES || !notes.chars().all(allowed) {
        refusals.push((
            "notes".to_owned(),
            format!("Keep the notes to at most {MAX_NOTES} characters."),
        ));
    }
    match kind {
        Some(kind) if refusals.is_empty() => Ok(CheckedAsset {
            name,
            kind,
            site,
            lines,
            warranty_end,
            purchased_on,
            notes,
        }),
        _ => Err(StoreError::InvalidFields(refusals)),
    }
}

impl ScopedTx<'_> {
    /// The form's site is one of the company's current sites.
    async fn check_asset_site(
        &mut self,
        company: CompanyId,
        site: Option<SiteId>,
    ) -> Result<(), StoreError> {
        if let Some(site) = site
            && !self
                .sites(company)
                .await?
                .iter()
                .any(|s| s.id == site.to_string())
        {
            return Err(StoreError::InvalidFields(vec![(
                "site".to_owned(),
                "Choose one of the company's sites.".to_owned(),
            )]));
        }
        Ok(())
    }

    /// Values of the workspace's own fields, only for fields that exist.
    async fn write_custom_values(
        &mut self,
        company: CompanyId,
        asset: AssetId,
        values: &[(String, String)],
    ) -> Result<(), StoreError> {
        let fields = self.custom_asset_fields().await?;
        let mut delete = self.delete(&fence::ASSET_FIELD_VALUES);
        delete.sql(" AND asset_id = ").arg(asset);
        self.tx.exec(delete).await?;
        for field in fields {
            let id = field.id.to_string();
            let Some((_, value)) = values.iter().find(|(f, _)| *f == id) else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > MAX_LINE || value.chars().any(char::is_control) {
                return Err(StoreError::InvalidFields(vec![(
                    format!("custom_{id}"),
                    format!(
                        "Keep “{}” to one line of at most {MAX_LINE} characters.",
                        field.label
                    ),
                )]));
            }
            self.tx
                .exec(q!(
                    "INSERT INTO asset_field_values (workspace_id, company_id, asset_id, field_id, value) \
                     VALUES ($1, $2, $3, $4, $5)",
                    self.scope.workspace(),
                    company,
                    asset,
                    AssetFieldId::from_stored(&id),
                    value
                ))
                .await?;
        }
        Ok(())
    }

    /// Adds an asset to a company in scope that takes work.
    pub async fn add_asset(
        &mut self,
        company: CompanyId,
        draft: &AssetDraft,
    ) -> Result<AssetId, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        let checked = check(draft)?;
        self.check_asset_site(company, checked.site).await?;
        let id = AssetId::new();
        let at = now();
        let [manufacturer, model, serial, os, assigned_user] = &checked.lines;
        self.tx
            .exec(q!(
                "INSERT INTO assets (workspace_id, company_id, id, site_id, name, kind, manufacturer, model, serial, os, \
                 warranty_end, purchased_on, last_seen_at, assigned_user, notes, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $14, $15, $15)",
                self.scope.workspace(),
                company,
                id,
                checked.site,
                checked.name.as_str(),
                checked.kind.as_str(),
                manufacturer.as_str(),
                model.as_str(),
                serial.as_str(),
                os.as_str(),
                checked.warranty_end.clone(),
                checked.purchased_on.clone(),
                assigned_user.as_str(),
                checked.notes.as_str(),
                at
            ))
            .await?;
        self.write_custom_values(company, id, &draft.custom).await?;
        self.audit(
            portico_core::AuditAction::RecordCreated,
            Some(company),
            portico_core::AuditTarget::new("asset", id, draft.name.trim()),
            "",
        )
        .await?;
        Ok(id)
    }

    /// An asset's stored details and its own fields' values by field id, through the asset's
    /// fence (site restriction included).
    async fn stored_asset(
        &mut self,
        company: CompanyId,
        asset: AssetId,
    ) -> Result<(StoredAsset, Vec<(String, String)>), StoreError> {
        let mut query = self.select_joined(
            "a.name, a.kind, a.site_id, s.name AS site_name, a.manufacturer, a.model, a.serial, a.os, \
             a.warranty_end, a.purchased_on, a.assigned_user, a.notes",
            &fence::ASSETS,
            "a",
            " LEFT JOIN sites s ON s.workspace_id = a.workspace_id AND s.company_id = a.company_id AND s.id = a.site_id",
        );
        query
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(" AND a.id = ")
            .arg(asset);
        let stored: StoredAsset = self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        let mut values = self.select("v.field_id, v.value", &fence::ASSET_FIELD_VALUES, "v");
        values
            .sql(" AND v.asset_id = ")
            .arg(asset)
            .sql(" ORDER BY v.field_id");
        let custom: Vec<(String, String)> = self.tx.all(values).await?;
        Ok((stored, custom))
    }

    /// Checks an asset is visible (else `NotFound`: on the portal, a current one) and its
    /// details may be edited by the caller (else `Forbidden`), before any input is looked at.
    pub async fn editable_asset(
        &mut self,
        company: CompanyId,
        asset: AssetId,
    ) -> Result<(Asset, ShownFields), StoreError> {
        let (current, shown) = self.asset_as_shown(company, asset).await?;
        if self.scope.is_portal() && current.archived_at.is_some() {
            return Err(StoreError::NotFound);
        }
        self.scope.may(Action::EditRecordDetails(Section::Assets))?;
        Ok((current, shown))
    }

    /// Rewrites an asset's details (on the portal: only what a client admin may correct, see
    /// [`AssetField::client_editable`]), keeping the edit on the asset's history.
    pub async fn update_asset(
        &mut self,
        company: CompanyId,
        asset: AssetId,
        typed: &AssetDraft,
    ) -> Result<(), StoreError> {
        let (_, shown) = self.editable_asset(company, asset).await?;
        let (before, before_custom) = self.stored_asset(company, asset).await?;
        let merged;
        let draft = if self.scope.is_portal() {
            merged = merge_client_edit(before.draft(before_custom.clone()), typed, &shown);
            &merged
        } else {
            typed
        };
        let checked = check(draft)?;
        // An asset staying at a site since archived keeps it; a move must be to a current one.
        if checked.site.map(|s| s.to_string()) != before.site_id {
            self.check_asset_site(company, checked.site).await?;
        }
        let [manufacturer, model, serial, os, assigned_user] = &checked.lines;
        let mut update = self.update(&fence::ASSETS, |set| {
            set.sql("name = ")
                .arg(checked.name.as_str())
                .sql(", kind = ")
                .arg(checked.kind.as_str())
                .sql(", site_id = ")
                .arg(checked.site)
                .sql(", manufacturer = ")
                .arg(manufacturer.as_str())
                .sql(", model = ")
                .arg(model.as_str())
                .sql(", serial = ")
                .arg(serial.as_str())
                .sql(", os = ")
                .arg(os.as_str())
                .sql(", warranty_end = ")
                .arg(checked.warranty_end.clone())
                .sql(", purchased_on = ")
                .arg(checked.purchased_on.clone())
                .sql(", assigned_user = ")
                .arg(assigned_user.as_str())
                .sql(", notes = ")
                .arg(checked.notes.as_str())
                .sql(", updated_at = ")
                .arg(now());
        });
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(asset);
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::NotFound);
        }
        // Maintenance that names the asset follows it to its new site, so that each site's
        // readers see the asset's history where the asset is.
        let mut moved = self.update(&fence::MAINTENANCE_TARGETS, |set| {
            set.sql("site_id = ").arg(checked.site);
        });
        moved
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND asset_id = ")
            .arg(asset);
        self.tx.exec(moved).await?;
        self.write_custom_values(company, asset, &draft.custom)
            .await?;
        let (after, after_custom) = self.stored_asset(company, asset).await?;
        self.keep_edit(
            company,
            RecordKind::Asset,
            &asset.to_string(),
            &before.values(&before_custom),
            &after.values(&after_custom),
        )
        .await
    }

    /// An asset's edits, latest first, with the changes to fields the reader is shown (after
    /// reading the asset itself through its fence).
    pub async fn asset_history(
        &mut self,
        company: CompanyId,
        asset: AssetId,
    ) -> Result<Vec<RecordEdit>, StoreError> {
        let (_, shown) = self.asset_as_shown(company, asset).await?;
        if !self.scope.is_portal() {
            return self
                .record_history(company, RecordKind::Asset, &asset.to_string(), None)
                .await;
        }
        // An own-tickets-only reader is shown no site anywhere.
        let sites_shown = self.scope.requester().is_none();
        let visible = |key: &str| match key {
            "name" | "kind" => true,
            "site" => sites_shown,
            key => match key.strip_prefix("custom:") {
                Some(id) => shown.custom.iter().any(|f| f.id.to_string() == id),
                None => AssetField::parse(key).is_some_and(|f| shown.shows(&f)),
            },
        };
        self.record_history(
            company,
            RecordKind::Asset,
            &asset.to_string(),
            Some(&visible),
        )
        .await
    }

    /// Archives an asset (`archived`: retired, kept with its tickets) or restores it.
    pub async fn set_asset_archived(
        &mut self,
        company: CompanyId,
        asset: AssetId,
        archived: bool,
    ) -> Result<(), StoreError> {
        self.asset(company, asset).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        if !archived {
            self.company_taking_work(company).await?;
        }
        self.set_record_archived(&fence::ASSETS, company, asset, archived)
            .await
    }

    /// The stored values of an asset's own fields, by field id (the console's edit form).
    pub async fn asset_custom_values(
        &mut self,
        asset: AssetId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.scope.may(Action::ManageCompanyRecords)?;
        let mut query = self.select("v.field_id, v.value", &fence::ASSET_FIELD_VALUES, "v");
        query.sql(" AND v.asset_id = ").arg(asset);
        self.tx.all(query).await
    }
}
