//! Which asset fields a company's portal shows, and the fields a workspace adds to its assets.
//! The workspace sets a default and a company may override it; a field hidden from a company is
//! never selected for its portal users, so it cannot reach them by any page or export.

use portico_core::{Action, AssetField, AssetFieldId, CompanyId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};

const MAX_LABEL: usize = 60;
const MAX_CUSTOM_FIELDS: usize = 30;

/// A field a workspace added to its assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    pub id: AssetFieldId,
    pub label: String,
}

/// The asset fields one reader is shown: every field for staff, the company's choice for its
/// portal users.
#[derive(Debug, Clone)]
pub struct ShownFields {
    builtin: Vec<AssetField>,
    pub custom: Vec<CustomField>,
}

impl ShownFields {
    pub fn shows(&self, field: &AssetField) -> bool {
        self.builtin.contains(field)
    }
}

/// One field's setting on a visibility page: whether the portal shows it, and whether that
/// comes from this level (a company's own choice, or the workspace's) or is inherited.
#[derive(Debug, Clone)]
pub struct FieldSetting {
    /// A built-in field's name or `custom:<id>`.
    pub key: String,
    pub label: String,
    pub shown: bool,
}

/// The stored key of a custom field.
fn custom_key(id: AssetFieldId) -> String {
    format!("custom:{id}")
}

impl ScopedTx<'_> {
    /// The workspace's own asset fields, in order.
    pub async fn custom_asset_fields(&mut self) -> Result<Vec<CustomField>, StoreError> {
        let mut query = self.select("f.id, f.label", &fence::ASSET_FIELDS, "f");
        query.sql(" ORDER BY f.position, f.label");
        let rows: Vec<(String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|(id, label)| CustomField {
                id: AssetFieldId::from_stored(&id),
                label,
            })
            .collect())
    }

    /// Replaces the workspace's own asset fields with `labels`, in order: a label already in
    /// use keeps its field (and every value stored in it); a field whose label is gone is
    /// removed with its values. Owners only.
    pub async fn set_custom_asset_fields(&mut self, labels: &[&str]) -> Result<(), StoreError> {
        self.scope.may(Action::ManageCompanies)?;
        let mut wanted: Vec<String> = Vec::new();
        for label in labels.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
            if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
                return Err(StoreError::InvalidFields(vec![(
                    "fields".to_owned(),
                    format!("Each field's name is one line of at most {MAX_LABEL} characters."),
                )]));
            }
            if wanted.iter().any(|w| w.eq_ignore_ascii_case(label)) {
                return Err(StoreError::InvalidFields(vec![(
                    "fields".to_owned(),
                    format!("“{label}” is listed twice."),
                )]));
            }
            wanted.push(label.to_owned());
        }
        if wanted.len() > MAX_CUSTOM_FIELDS {
            return Err(StoreError::InvalidFields(vec![(
                "fields".to_owned(),
                format!("At most {MAX_CUSTOM_FIELDS} fields."),
            )]));
        }
        let existing = self.custom_asset_fields().await?;
        for field in &existing {
            if !wanted.iter().any(|w| w.eq_ignore_ascii_case(&field.label)) {
                let mut values = self.delete(&fence::ASSET_FIELD_VALUES);
                values.sql(" AND field_id = ").arg(field.id);
                self.tx.exec(values).await?;
                let mut shown = self.delete(&fence::ASSET_FIELD_VISIBILITY);
                shown.sql(" AND field = ").arg(custom_key(field.id));
                self.tx.exec(shown).await?;
                let mut delete = self.delete(&fence::ASSET_FIELDS);
                delete.sql(" AND id = ").arg(field.id);
                self.tx.exec(delete).await?;
            }
        }
        for (position, label) in wanted.iter().enumerate() {
            match existing
                .iter()
                .find(|f| f.label.eq_ignore_ascii_case(label))
            {
                Some(field) => {
                    let mut update = self.update(&fence::ASSET_FIELDS, |set| {
                        set.sql("label = ")
                            .arg(label.as_str())
                            .sql(", position = ")
                            .arg(position as i64);
                    });
                    update.sql(" AND id = ").arg(field.id);
                    self.tx.exec(update).await?;
                }
                None => {
                    self.tx
                        .exec(q!(
                            "INSERT INTO asset_fields (workspace_id, id, label, position) VALUES ($1, $2, $3, $4)",
                            self.scope.workspace(),
                            AssetFieldId::new(),
                            label.as_str(),
                            position as i64
                        ))
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The stored choices of one level: the workspace's (`None`) or a company's.
    async fn visibility_rows(
        &mut self,
        company: Option<CompanyId>,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let mut query = self.select("v.field, v.shown", &fence::ASSET_FIELD_VISIBILITY, "v");
        match company {
            Some(company) => query.sql(" AND v.company_id = ").arg(company),
            None => query.sql(" AND v.company_id IS NULL"),
        };
        self.tx.all(query).await
    }

    /// What the portal shows of a company's assets (its own choice, else the workspace's, else
    /// the defaults); everything for staff.
    pub async fn shown_asset_fields(
        &mut self,
        company: CompanyId,
    ) -> Result<ShownFields, StoreError> {
        let custom = self.custom_asset_fields().await?;
        if !self.scope.is_portal() {
            return Ok(ShownFields {
                builtin: AssetField::ALL.to_vec(),
                custom,
            });
        }
        let settings = self.settings_of(Some(company), &custom).await?;
        let shown = |key: &str| settings.iter().any(|s| s.key == key && s.shown);
        Ok(ShownFields {
            builtin: AssetField::ALL
                .iter()
                .copied()
                .filter(|f| shown(f.as_str()))
                .collect(),
            custom: custom
                .into_iter()
                .filter(|f| shown(&custom_key(f.id)))
                .collect(),
        })
    }

    /// Appends whether the portal shows `field` to `company`'s users, as an expression (NULL:
    /// nothing stored, the field's default): the company's own choice where it has made any,
    /// else the workspace's, as [`ScopedTx::shown_asset_fields`] decides. Each owner stores one
    /// row per field (a unique key since migration 0064).
    pub(crate) fn field_shown_in(&self, query: &mut Q, company: CompanyId, field: AssetField) {
        let table = &fence::ASSET_FIELD_VISIBILITY;
        query.sql("CASE WHEN EXISTS ");
        self.sub_select(query, "1", table, "v");
        query
            .sql(" AND v.company_id = ")
            .arg(company)
            .sql(") THEN ");
        self.sub_select(query, "v.shown", table, "v");
        query
            .sql(" AND v.company_id = ")
            .arg(company)
            .sql(" AND v.field = ")
            .arg(field.as_str())
            .sql(" LIMIT 1) ELSE ");
        self.sub_select(query, "v.shown", table, "v");
        query
            .sql(" AND v.company_id IS NULL AND v.field = ")
            .arg(field.as_str())
            .sql(" LIMIT 1) END");
    }

    /// Every field with whether the portal shows it at this level: a company's (falling back
    /// to the workspace's choice) or the workspace's (falling back to the defaults).
    pub async fn asset_field_settings(
        &mut self,
        company: Option<CompanyId>,
    ) -> Result<Vec<FieldSetting>, StoreError> {
        let custom = self.custom_asset_fields().await?;
        self.settings_of(company, &custom).await
    }

    /// The settings at a level, both levels' stored choices read in one statement.
    async fn settings_of(
        &mut self,
        company: Option<CompanyId>,
        custom: &[CustomField],
    ) -> Result<Vec<FieldSetting>, StoreError> {
        let mut query = self.select(
            "v.company_id IS NOT NULL, v.field, v.shown",
            &fence::ASSET_FIELD_VISIBILITY,
            "v",
        );
        match company {
            Some(company) => query
                .sql(" AND (v.company_id IS NULL OR v.company_id = ")
                .arg(company)
                .sql(")"),
            None => query.sql(" AND v.company_id IS NULL"),
        };
        let rows: Vec<(bool, String, bool)> = self.tx.all(query).await?;
        // A company's own choice, where it has one, else the workspace's.
        let own = rows.iter().any(|(of_company, _, _)| *of_company);
        let stored = |key: &str| {
            rows.iter()
                .find(|(of_company, k, _)| *of_company == own && k == key)
                .map(|(_, _, shown)| *shown)
        };
        let mut settings: Vec<FieldSetting> = AssetField::ALL
            .iter()
            .map(|f| FieldSetting {
                key: f.as_str().to_owned(),
                label: f.label().to_owned(),
                shown: stored(f.as_str()).unwrap_or(f.shown_by_default()),
            })
            .collect();
        for field in custom {
            let key = custom_key(field.id);
            settings.push(FieldSetting {
                shown: stored(&key).unwrap_or(false),
                key,
                label: field.label.clone(),
            });
        }
        Ok(settings)
    }

    /// Whether a company has its own choice of shown fields (rather than the workspace's).
    pub async fn company_has_own_asset_fields(
        &mut self,
        company: CompanyId,
    ) -> Result<bool, StoreError> {
        Ok(!self.visibility_rows(Some(company)).await?.is_empty())
    }

    /// Sets which fields the portal shows, for the workspace (`None`) or one company; a
    /// company's `shown` of `None` drops its own choice (it follows the workspace again).
    /// Owners only.
    pub async fn set_shown_asset_fields(
        &mut self,
        company: Option<CompanyId>,
        shown: Option<&[&str]>,
    ) -> Result<(), StoreError> {
        if let Some(company) = company {
            self.company(company).await?;
        }
        self.scope.may(Action::ManageCompanies)?;
        let custom = self.custom_asset_fields().await?;
        let known = |key: &str| {
            AssetField::parse(key).is_some() || custom.iter().any(|f| custom_key(f.id) == key)
        };
        if let Some(keys) = shown
            && let Some(unknown) = keys.iter().find(|k| !known(k))
        {
            return Err(StoreError::Invalid(format!(
                "“{unknown}” is not an asset field."
            )));
        }
        let mut delete = self.delete(&fence::ASSET_FIELD_VISIBILITY);
        match company {
            Some(company) => delete.sql(" AND company_id = ").arg(company),
            None => delete.sql(" AND company_id IS NULL"),
        };
        self.tx.exec(delete).await?;
        let Some(keys) = shown else {
            return Ok(());
        };
        let every: Vec<String> = AssetField::ALL
            .iter()
            .map(|f| f.as_str().to_owned())
            .chain(custom.iter().map(|f| custom_key(f.id)))
            .collect();
        // An upsert on the one-choice-per-field key: an owner saving the same page at the same
        // moment waits for this one and then writes over it, rather than adding a second row.
        for key in every {
            self.tx
                .exec(q!(
                    "INSERT INTO asset_field_visibility (workspace_id, company_id, field, shown) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (workspace_id, COALESCE(company_id, ''), field) DO UPDATE SET shown = excluded.shown",
                    self.scope.workspace(),
                    company,
                    key.as_str(),
                    keys.contains(&key.as_str())
                ))
                .await?;
        }
        Ok(())
    }
}
