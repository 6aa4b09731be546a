//! What was changed on a contact, an asset or a portal user (§1, item 8 of the records work):
//! every edit, from either surface, keeps who made it, when, and each changed field's value
//! before and after, as the reader saw them (labels and names, not ids). A record's page shows
//! its history; a portal reader is shown the changes to fields their portal shows only.

use portico_core::{AssetField, CompanyId, RecordEditId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// The edits a record's page lists at most (latest first).
const MAX_EDITS_SHOWN: i64 = 100;

/// What kind of record an edit was made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Contact,
    Asset,
    PortalUser,
}

impl RecordKind {
    fn as_str(self) -> &'static str {
        match self {
            RecordKind::Contact => "contact",
            RecordKind::Asset => "asset",
            RecordKind::PortalUser => "portal_user",
        }
    }
}

/// One field's change within an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field's stable key (`name`, `warranty_end`, `custom:<id>`).
    pub field: String,
    /// What the reader calls the field.
    pub label: String,
    pub before: String,
    pub after: String,
}

/// One edit: who, when, from which surface, and what changed.
#[derive(Debug, Clone)]
pub struct RecordEdit {
    pub at: i64,
    pub actor_name: String,
    /// Made by a portal user (a client admin) rather than the MSP's staff.
    pub via_portal: bool,
    pub changes: Vec<FieldChange>,
}

/// A record's values by field key, in the order its form lists them, to compare before and
/// after an edit.
pub(crate) type Values = Vec<(String, String)>;

/// The fields whose values differ between `before` and `after` (a field only one side has
/// counts as empty on the other).
pub(crate) fn differences(before: &Values, after: &Values) -> Vec<(String, String, String)> {
    let value = |values: &Values, key: &str| {
        values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut keys: Vec<&str> = after.iter().map(|(k, _)| k.as_str()).collect();
    for (k, _) in before {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .filter_map(|key| {
            let (old, new) = (value(before, key), value(after, key));
            (old != new).then(|| (key.to_owned(), old, new))
        })
        .collect()
}

/// What a reader calls a field of a record.
fn label_of(kind: RecordKind, key: &str, custom: &[(String, String)]) -> String {
    let fixed = match (kind, key) {
        (_, "name") => "Name",
        (RecordKind::Contact, "email") | (RecordKind::PortalUser, "email") => "E-mail",
        (RecordKind::Contact, "phone") => "Phone",
        (RecordKind::Contact, "title") => "Job title",
        (RecordKind::Contact, "roles") => "Roles",
        (RecordKind::Asset, "kind") => "Type",
        (RecordKind::Asset, "site") => "Site",
        (RecordKind::PortalUser, "role") => "Role",
        (RecordKind::PortalUser, "sites") => "Sites",
        (RecordKind::PortalUser, "own_only") => "Own tickets only",
        (RecordKind::PortalUser, "billing_access") => "Billing access",
        (RecordKind::PortalUser, "status") => "Status",
        (RecordKind::Asset, key) => {
            if let Some(field) = AssetField::parse(key) {
                return field.label().to_owned();
            }
            if let Some(id) = key.strip_prefix("custom:") {
                return custom
                    .iter()
                    .find(|(f, _)| f == id)
                    .map(|(_, label)| label.clone())
                    .unwrap_or_else(|| "A field since removed".to_owned());
            }
            key
        }
        _ => key,
    };
    fixed.to_owned()
}

struct ChangeRow {
    edit_id: String,
    changed_at: i64,
    actor_name: String,
    via_portal: bool,
    field: String,
    old_value: String,
    new_value: String,
}
crate::sql::db_row!(ChangeRow {
    edit_id,
    changed_at,
    actor_name,
    via_portal,
    field,
    old_value,
    new_value
});

impl ScopedTx<'_> {
    /// Keeps one edit of a record: the fields that differ between `before` and `after`, by the
    /// acting person. Nothing is written when nothing changed.
    pub(crate) async fn keep_edit(
        &mut self,
        company: CompanyId,
        kind: RecordKind,
        record: &str,
        before: &Values,
        after: &Values,
    ) -> Result<(), StoreError> {
        let changes = differences(before, after);
        if changes.is_empty() {
            return Ok(());
        }
        // The audit names the fields changed, not their values: the record's own history
        // shows those to whoever may see each field.
        let access = ["role", "sites", "own_only", "billing_access", "status"];
        let action = if kind == RecordKind::PortalUser
            && changes.iter().any(|(f, _, _)| access.contains(&f.as_str()))
        {
            portico_core::AuditAction::AccessChanged
        } else {
            portico_core::AuditAction::RecordUpdated
        };
        let name = after
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let fields: Vec<&str> = changes.iter().map(|(f, _, _)| f.as_str()).collect();
        self.audit(
            action,
            Some(company),
            portico_core::AuditTarget::new(kind.as_str(), record, name),
            &format!("changed: {}", fields.join(", ")),
        )
        .await?;
        let edit = RecordEditId::new();
        let at = now();
        let via_portal = self.scope.is_portal();
        let actor = self.scope.actor_name().to_owned();
        for (position, (field, old, new)) in changes.into_iter().enumerate() {
            self.tx
                .exec(q!(
                    "INSERT INTO record_changes (workspace_id, company_id, record_kind, record_id, edit_id, \
                     position, changed_at, actor_name, via_portal, field, old_value, new_value) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    self.scope.workspace(),
                    company,
                    kind.as_str(),
                    record,
                    edit,
                    position as i64,
                    at,
                    actor.as_str(),
                    via_portal,
                    field,
                    old,
                    new
                ))
                .await?;
        }
        Ok(())
    }

    /// A record's edits, latest first, with the changes the reader may see (`shown` says
    /// which field keys; `None`: all). The caller has read the record itself through its own
    /// fence first; this reads its history through the company's.
    pub(crate) async fn record_history(
        &mut self,
        company: CompanyId,
        kind: RecordKind,
        record: &str,
        shown: Option<&(dyn Fn(&str) -> bool + Sync)>,
    ) -> Result<Vec<RecordEdit>, StoreError> {
        let mut query = self.select(
            "r.edit_id, r.changed_at, r.actor_name, r.via_portal, r.field, r.old_value, r.new_value",
            &fence::RECORD_CHANGES,
            "r",
        );
        query
            .sql(" AND r.company_id = ")
            .arg(company)
            .sql(" AND r.record_kind = ")
            .arg(kind.as_str())
            .sql(" AND r.record_id = ")
            .arg(record)
            .sql(" ORDER BY r.changed_at DESC, r.edit_id DESC, r.position LIMIT ")
            .arg(MAX_EDITS_SHOWN * 20);
        let rows: Vec<ChangeRow> = self.tx.all(query).await?;
        let custom: Vec<(String, String)> = if kind == RecordKind::Asset {
            self.custom_asset_fields()
                .await?
                .into_iter()
                .map(|f| (f.id.to_string(), f.label))
                .collect()
        } else {
            Vec::new()
        };
        let mut edits: Vec<(String, RecordEdit)> = Vec::new();
        for row in rows {
            if shown.is_some_and(|shown| !shown(&row.field)) {
                continue;
            }
            let change = FieldChange {
                label: label_of(kind, &row.field, &custom),
                field: row.field,
                before: row.old_value,
                after: row.new_value,
            };
            match edits.last_mut() {
                Some((id, edit)) if *id == row.edit_id => edit.changes.push(change),
                _ => {
                    if edits.len() as i64 == MAX_EDITS_SHOWN {
                        break;
                    }
                    edits.push((
                        row.edit_id,
                        RecordEdit {
                            at: row.changed_at,
                            actor_name: row.actor_name,
                            via_portal: row.via_portal,
                            changes: vec![change],
                        },
                    ))
                }
            }
        }
        Ok(edits.into_iter().map(|(_, e)| e).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_changed_fields_are_kept_in_the_forms_order() {
        let before = values(&[("name", "PC-1"), ("notes", "old"), ("custom:x", "1")]);
        let after = values(&[("name", "PC-1"), ("notes", "new"), ("serial", "S9")]);
        assert_eq!(
            differences(&before, &after),
            vec![
                ("notes".into(), "old".into(), "new".into()),
                ("serial".into(), "".into(), "S9".into()),
                ("custom:x".into(), "1".into(), "".into()),
            ]
        );
        assert!(differences(&after, &after).is_empty());
    }

    #[test]
    fn asset_fields_are_labelled_as_the_reader_knows_them() {
        let custom = vec![("f1".to_owned(), "Cost centre".to_owned())];
        assert_eq!(
            label_of(RecordKind::Asset, "warranty_end", &custom),
            "Warranty end"
        );
        assert_eq!(
            label_of(RecordKind::Asset, "custom:f1", &custom),
            "Cost centre"
        );
        assert_eq!(
            label_of(RecordKind::Asset, "custom:gone", &custom),
            "A field since removed"
        );
        assert_eq!(label_of(RecordKind::Contact, "title", &[]), "Job title");
    }
}
