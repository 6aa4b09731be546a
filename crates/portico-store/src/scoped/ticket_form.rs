//! The ticket submission form: the workspace's categories and custom fields, and per-company
//! override forms that replace the workspace's fields for one company.

use portico_core::{Action, CompanyId, FieldKind, FormField};

use crate::StoreError;
use crate::scoped::ScopedTx;
use crate::sql::{Q, q};

/// What a company's clients fill in when they raise a ticket.
#[derive(Debug, Clone, Default)]
pub struct TicketForm {
    pub categories: Vec<String>,
    pub fields: Vec<FormField>,
    /// The company has its own fields instead of the workspace's.
    pub company_override: bool,
}

struct FieldRow {
    id: String,
    label: String,
    kind: String,
    required: bool,
    help: String,
    options: String,
}
crate::sql::db_row!(FieldRow {
    id,
    label,
    kind,
    required,
    help,
    options
});

impl FieldRow {
    fn into_field(self) -> Option<FormField> {
        Some(FormField {
            kind: FieldKind::parse(&self.kind)?,
            id: self.id,
            label: self.label,
            required: self.required,
            help: self.help,
            options: self
                .options
                .lines()
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

impl ScopedTx<'_> {
    /// The form `company`'s clients see: its override fields if it has any, else the
    /// workspace's; categories are workspace-wide.
    pub async fn ticket_form(&mut self, company: CompanyId) -> Result<TicketForm, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        self.visible_company(company).await?;
        let mut categories = Q::new("SELECT name FROM ticket_categories WHERE 1 = 1");
        self.fence_workspace(&mut categories, "workspace_id");
        categories.sql(" ORDER BY position, name");
        let categories: Vec<(String,)> = self.tx.all(categories).await?;
        let own = self
            .tx
            .count(q!(
                "SELECT COUNT(*) FROM ticket_form_fields WHERE workspace_id = $1 AND company_id = $2",
                self.scope.workspace(),
                company
            ))
            .await?;
        let mut fields = Q::new(
            "SELECT id, label, kind, required, help, options FROM ticket_form_fields WHERE workspace_id = ",
        );
        fields.arg(self.scope.workspace());
        if own > 0 {
            fields.sql(" AND company_id = ").arg(company);
        } else {
            fields.sql(" AND company_id IS NULL");
        }
        fields.sql(" ORDER BY position");
        let rows: Vec<FieldRow> = self.tx.all(fields).await?;
        Ok(TicketForm {
            categories: categories.into_iter().map(|(c,)| c).collect(),
            fields: rows.into_iter().filter_map(FieldRow::into_field).collect(),
            company_override: own > 0,
        })
    }
}

impl ScopedTx<'_> {
    /// Sites a ticket of `company` may be filed under by this scope: a site-restricted user's
    /// own sites; none for an own-tickets-only user, who is not shown the company's other
    /// sites anywhere else either.
    pub async fn ticket_sites(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<(portico_core::SiteId, String)>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        if self.scope.requester().is_some() && self.scope.sites().is_none() {
            return Ok(Vec::new());
        }
        let mut query = Q::new("SELECT s.id, s.name FROM sites s WHERE s.company_id = ");
        query.arg(company);
        self.fence(&mut query, "s.workspace_id", "s.company_id");
        if let Some(sites) = self.scope.sites() {
            query.sql(" AND ");
            query.in_list("s.id", sites);
        }
        query.sql(" ORDER BY s.name");
        let rows: Vec<(String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Some((portico_core::SiteId::parse(&id)?, name)))
            .collect())
    }
}
