//! What of a ticket the portal shows each role (P2): the MSP hides parts of tickets (priority,
//! category, site, who raised it, the timeline's changes) and custom fields from portal roles.
//! Each portal principal carries its role's [`TicketView`]; the store leaves what it hides out
//! of what it hands that principal (the ticket page, the list's rows, the submission form).

use portico_core::{Action, PortalRole, TicketItem, TicketView};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

/// One part of a ticket, or one custom field (by id), and the roles it is hidden from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityRule {
    pub item: String,
    pub hidden_from: Vec<PortalRole>,
}

fn roles_of(text: &str) -> Vec<PortalRole> {
    text.split(',').filter_map(PortalRole::parse).collect()
}

/// The view of `role` from the workspace's kept rules (`item`, `hidden_from`).
pub(crate) fn view_for(role: PortalRole, rules: &[(String, String)]) -> TicketView {
    let mut view = TicketView::everything();
    for (item, hidden_from) in rules {
        if !roles_of(hidden_from).contains(&role) {
            continue;
        }
        match TicketItem::parse(item) {
            Some(item) => view.hide(item),
            None => view.hide_field(item),
        }
    }
    view
}

/// A custom field of one of the workspace's forms, for the visibility settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormFieldName {
    pub id: String,
    pub label: String,
    /// The company whose own form it is on; `None` for the workspace's form.
    pub company_name: Option<String>,
}

impl ScopedTx<'_> {
    /// Every custom field of the workspace's form and of companies' own forms, the workspace's
    /// first, each form in its order.
    pub async fn form_field_names(&mut self) -> Result<Vec<FormFieldName>, StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let mut query = self.select_joined(
            "f.id, f.label, c.name",
            &fence::TICKET_FORM_FIELDS,
            "f",
            " LEFT JOIN companies c ON c.id = f.company_id",
        );
        query.sql(" ORDER BY c.name IS NOT NULL, c.name, f.position");
        let rows: Vec<(String, String, Option<String>)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|(id, label, company_name)| FormFieldName {
                id,
                label,
                company_name,
            })
            .collect())
    }

    /// The workspace's rules: every part or field hidden from some role.
    pub async fn ticket_visibility(&mut self) -> Result<Vec<VisibilityRule>, StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let mut query = self.select("v.item, v.hidden_from", &fence::TICKET_VISIBILITY, "v");
        query.sql(" ORDER BY v.item");
        let rows: Vec<(String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|(item, hidden_from)| VisibilityRule {
                item,
                hidden_from: roles_of(&hidden_from),
            })
            .collect())
    }

    /// What `role` is shown of a ticket under the workspace's rules: for the form designer's
    /// preview, which shows the form as that role will see it.
    pub async fn ticket_view_of(&mut self, role: PortalRole) -> Result<TicketView, StoreError> {
        let rules = self
            .ticket_visibility()
            .await?
            .into_iter()
            .map(|r| {
                let roles = r.hidden_from.iter().map(|r| r.as_str()).collect::<Vec<_>>();
                (r.item, roles.join(","))
            })
            .collect::<Vec<_>>();
        Ok(view_for(role, &rules))
    }

    /// Replaces the workspace's rules. Items are the parts of [`TicketItem`] or the ids of
    /// custom fields of the workspace's forms; anything else is refused.
    pub async fn set_ticket_visibility(
        &mut self,
        rules: &[VisibilityRule],
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let fields = self.select("f.id", &fence::TICKET_FORM_FIELDS, "f");
        let fields: Vec<(String,)> = self.tx.all(fields).await?;
        for rule in rules {
            let known = TicketItem::parse(&rule.item).is_some()
                || fields.iter().any(|(id,)| *id == rule.item);
            if !known {
                return Err(StoreError::Invalid(
                    "One of the fields is no longer on any form: reload the page and try again."
                        .into(),
                ));
            }
        }
        let delete = self.delete(&fence::TICKET_VISIBILITY);
        self.tx.exec(delete).await?;
        for rule in rules.iter().filter(|r| !r.hidden_from.is_empty()) {
            let roles = rule
                .hidden_from
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(",");
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_visibility (workspace_id, item, hidden_from) VALUES ($1, $2, $3)",
                    self.scope.workspace(),
                    rule.item.as_str(),
                    roles
                ))
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_sees_what_no_rule_hides_from_it() {
        let rules = vec![
            ("priority".to_owned(), "viewer,member".to_owned()),
            ("field-1".to_owned(), "viewer".to_owned()),
            ("site".to_owned(), "client_admin".to_owned()),
        ];
        let viewer = view_for(PortalRole::Viewer, &rules);
        assert!(!viewer.shows(TicketItem::Priority) && !viewer.shows_field("field-1"));
        assert!(viewer.shows(TicketItem::Site));
        let admin = view_for(PortalRole::ClientAdmin, &rules);
        assert!(admin.shows(TicketItem::Priority) && admin.shows_field("field-1"));
        assert!(!admin.shows(TicketItem::Site));
    }
}
