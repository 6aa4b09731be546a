//! The ticket submission form: the workspace's categories and custom fields, and per-company
//! override forms that replace the workspace's fields for one company.

use portico_core::{Action, CompanyId, FieldKind, FormField, TicketItem, TicketView};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

/// What a company's clients fill in when they raise a ticket.
#[derive(Debug, Clone, Default)]
pub struct TicketForm {
    pub categories: Vec<String>,
    pub fields: Vec<FormField>,
    /// The company has its own fields instead of the workspace's.
    pub company_override: bool,
    /// What of a ticket the reader is shown: fields and categories it hides are left out
    /// above; the form leaves out the priority and site by it.
    pub view: TicketView,
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
            options: portico_core::option_lines(&self.options),
        })
    }
}

/// The columns a [`FieldRow`] reads, from `ticket_form_fields f`.
const FIELD_COLUMNS: &str = "f.id, f.label, f.kind, f.required, f.help, f.options";

impl ScopedTx<'_> {
    /// The form `company`'s clients see: its override fields if it has any, else the
    /// workspace's; categories are workspace-wide.
    pub async fn ticket_form(&mut self, company: CompanyId) -> Result<TicketForm, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        self.visible_company(company).await?;
        let mut categories = self.select("k.name", &fence::TICKET_CATEGORIES, "k");
        categories.sql(" ORDER BY k.position, k.name");
        let categories: Vec<(String,)> = self.tx.all(categories).await?;
        let mut own = self.select("COUNT(*)", &fence::TICKET_FORM_FIELDS, "f");
        own.sql(" AND f.company_id = ").arg(company);
        let own = self.tx.count(own).await?;
        let mut fields = self.select(FIELD_COLUMNS, &fence::TICKET_FORM_FIELDS, "f");
        if own > 0 {
            fields.sql(" AND f.company_id = ").arg(company);
        } else {
            fields.sql(" AND f.company_id IS NULL");
        }
        fields.sql(" ORDER BY f.position");
        let rows: Vec<FieldRow> = self.tx.all(fields).await?;
        // A portal role asked nothing it is not shown.
        let view = self.scope.ticket_view().clone();
        Ok(TicketForm {
            categories: categories
                .into_iter()
                .map(|(c,)| c)
                .filter(|_| view.shows(TicketItem::Category))
                .collect(),
            fields: rows
                .into_iter()
                .filter(|f| view.shows_field(&f.id))
                .filter_map(FieldRow::into_field)
                .collect(),
            company_override: own > 0,
            view,
        })
    }
}

impl ScopedTx<'_> {
    /// Sites a ticket of `company` may be filed under by this scope: a site-restricted user's
    /// own sites (they must choose one); none for an own-tickets-only user, who is not shown
    /// the company's other sites anywhere else either, nor for a role not shown sites.
    pub async fn ticket_sites(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<(portico_core::SiteId, String)>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let unrestricted = self.scope.sites().is_none();
        if unrestricted
            && (self.scope.requester().is_some()
                || !self.scope.ticket_view().shows(TicketItem::Site))
        {
            return Ok(Vec::new());
        }
        let mut query = self.select("s.id, s.name", &fence::SITES, "s");
        query
            .sql(" AND s.company_id = ")
            .arg(company)
            .sql(" AND s.archived_at IS NULL");
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

/// One field as the form designer submits it.
#[derive(Debug, Clone, Default)]
pub struct FieldDraft {
    /// The field's id when it is already on the form, kept across saves: answers and the
    /// visibility rules refer to it. Empty for a new field.
    pub id: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub help: String,
    /// One option per line, for choice fields.
    pub options: String,
}

const MAX_FIELDS: usize = 30;
const MAX_OPTIONS: usize = 50;
const MAX_CATEGORIES: usize = 50;

fn short_text(text: &str, max: usize, what: &str) -> Result<String, StoreError> {
    let text = text.trim();
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{what} must be one line of at most {max} characters."
        )));
    }
    Ok(text.to_owned())
}

impl ScopedTx<'_> {
    /// Replaces the workspace form's fields (and, with it, the category list), or a company's
    /// override fields when `company` is given; an override with no fields is removed, and the
    /// company uses the workspace form again.
    pub async fn save_ticket_form(
        &mut self,
        company: Option<CompanyId>,
        categories: &str,
        fields: &[FieldDraft],
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        if let Some(company) = company {
            self.visible_company(company).await?;
        }
        if fields.len() > MAX_FIELDS {
            return Err(StoreError::Invalid(format!(
                "A form has at most {MAX_FIELDS} custom fields."
            )));
        }
        let mut checked = Vec::new();
        for (n, f) in fields.iter().enumerate() {
            let label = short_text(&f.label, 80, &format!("The label of field {}", n + 1))?;
            if label.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "Field {} needs a label.",
                    n + 1
                )));
            }
            let kind = FieldKind::parse(&f.kind)
                .ok_or_else(|| StoreError::Invalid(format!("Choose a kind for “{label}”.")))?;
            let help = short_text(&f.help, 200, &format!("The help text of “{label}”"))?;
            let options: Vec<String> = f
                .options
                .lines()
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| short_text(o, 80, &format!("Each option of “{label}”")))
                .collect::<Result<_, _>>()?;
            if kind.has_options() && (options.is_empty() || options.len() > MAX_OPTIONS) {
                return Err(StoreError::Invalid(format!(
                    "“{label}” needs between 1 and {MAX_OPTIONS} options, one per line."
                )));
            }
            checked.push((label, kind, f.required, help, options));
        }
        // Fields already on the form keep their ids (hidden fields stay hidden, answers stay
        // tied to them); fields left out are removed; new ones get new ids.
        let mut existing = self.select("f.id", &fence::TICKET_FORM_FIELDS, "f");
        match company {
            Some(c) => existing.sql(" AND f.company_id = ").arg(c),
            None => existing.sql(" AND f.company_id IS NULL"),
        };
        let existing: Vec<(String,)> = self.tx.all(existing).await?;
        let mut kept: Vec<&str> = Vec::new();
        for f in fields.iter().filter(|f| !f.id.is_empty()) {
            if kept.contains(&f.id.as_str()) || !existing.iter().any(|(id,)| *id == f.id) {
                return Err(StoreError::Invalid(
                    "The form was changed elsewhere meanwhile: reload the page and make your changes again."
                        .into(),
                ));
            }
            kept.push(&f.id);
        }
        for (gone,) in existing.iter().filter(|(id,)| !kept.contains(&id.as_str())) {
            let mut delete = self.delete(&fence::TICKET_FORM_FIELDS);
            delete.sql(" AND id = ").arg(gone.as_str());
            self.tx.exec(delete).await?;
        }
        let workspace = self.scope.workspace();
        for (position, (draft, (label, kind, required, help, options))) in
            fields.iter().zip(&checked).enumerate()
        {
            if draft.id.is_empty() {
                self.tx
                    .exec(q!(
                        "INSERT INTO ticket_form_fields (workspace_id, company_id, id, position, label, kind, required, help, options) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        workspace,
                        company,
                        portico_core::MessageId::new().as_text(),
                        position as i64,
                        label.as_str(),
                        kind.as_str(),
                        *required,
                        help.as_str(),
                        options.join("\n")
                    ))
                    .await?;
            } else {
                let options = options.join("\n");
                let mut update = self.update(&fence::TICKET_FORM_FIELDS, |set| {
                    set.sql("position = ")
                        .arg(position as i64)
                        .sql(", label = ")
                        .arg(label.as_str())
                        .sql(", kind = ")
                        .arg(kind.as_str())
                        .sql(", required = ")
                        .arg(*required)
                        .sql(", help = ")
                        .arg(help.as_str())
                        .sql(", options = ")
                        .arg(options.as_str());
                });
                update.sql(" AND id = ").arg(draft.id.as_str());
                self.tx.exec(update).await?;
            }
        }
        if company.is_none() {
            let mut names: Vec<String> = Vec::new();
            for line in categories.lines() {
                let name = short_text(line, 80, "Each category")?;
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
            if names.len() > MAX_CATEGORIES {
                return Err(StoreError::Invalid(format!(
                    "At most {MAX_CATEGORIES} categories."
                )));
            }
            let delete = self.delete(&fence::TICKET_CATEGORIES);
            self.tx.exec(delete).await?;
            for (position, name) in names.iter().enumerate() {
                self.tx
                    .exec(q!(
                        "INSERT INTO ticket_categories (workspace_id, name, position) VALUES ($1, $2, $3)",
                        workspace,
                        name.as_str(),
                        position as i64
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    /// The fields of the workspace form, or of `company`'s override (possibly none), for the
    /// designer; unlike [`ScopedTx::ticket_form`] it does not fall back.
    pub async fn form_fields_of(
        &mut self,
        company: Option<CompanyId>,
    ) -> Result<Vec<FormField>, StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        if let Some(company) = company {
            self.visible_company(company).await?;
        }
        let mut query = self.select(FIELD_COLUMNS, &fence::TICKET_FORM_FIELDS, "f");
        match company {
            Some(c) => query.sql(" AND f.company_id = ").arg(c),
            None => query.sql(" AND f.company_id IS NULL"),
        };
        query.sql(" ORDER BY f.position");
        let rows: Vec<FieldRow> = self.tx.all(query).await?;
        Ok(rows.into_iter().filter_map(FieldRow::into_field).collect())
    }

    /// The workspace's categories, in order.
    pub async fn ticket_categories(&mut self) -> Result<Vec<String>, StoreError> {
        // Those who design the form, and those who file tickets under its categories.
        if self.scope.may(Action::ManageTicketForm).is_err() {
            self.scope.may(Action::WorkTickets)?;
        }
        let mut query = self.select("k.name", &fence::TICKET_CATEGORIES, "k");
        query.sql(" ORDER BY k.position, k.name");
        let rows: Vec<(String,)> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }
}
