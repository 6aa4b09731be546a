//! The ticket submission form's fields as a client sees them: shared by the portal's "Raise a
//! ticket" page and the console's form designer, whose preview is this very markup.

use std::collections::HashMap;

use askama::Template;
use portico_core::{FieldKind, SiteId, TicketPriority};
use portico_store::scoped::kept_uploads::KeptUpload;

use crate::forms::FormData;

/// One custom field as the form shows it, with what the user entered.
pub(crate) struct FieldView {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub help: String,
    /// (option, chosen)
    pub options: Vec<(String, bool)>,
    pub value: String,
}

impl FieldView {
    /// The field with the answers `entered` for it (several for "choose several").
    pub(crate) fn answered(field: portico_core::FormField, entered: &[String]) -> FieldView {
        FieldView {
            options: field
                .options
                .iter()
                .map(|o| (o.clone(), entered.iter().any(|e| e == o)))
                .collect(),
            value: entered.first().cloned().unwrap_or_default(),
            id: field.id,
            label: field.label,
            kind: field.kind,
            required: field.required,
            help: field.help,
        }
    }
}

/// What the user typed into the submission form, kept across a refusal.
#[derive(Default)]
pub(crate) struct SubmitForm {
    pub title: String,
    pub description: String,
    pub category: String,
    pub priority: String,
    pub site: String,
    /// The asset the ticket is about (an id), when raised from an asset's page.
    pub asset: String,
    pub answers: HashMap<String, Vec<String>>,
    /// Tokens of files kept from an earlier, refused try (`kept` fields), still ticked.
    pub kept_tokens: Vec<String>,
    /// Those files, once looked up: shown again with the form.
    pub kept: Vec<KeptUpload>,
}

impl SubmitForm {
    pub(crate) fn from_form(form: &FormData) -> SubmitForm {
        let mut answers: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in form.pairs() {
            if let Some(id) = name.strip_prefix("field_") {
                answers
                    .entry(id.to_owned())
                    .or_default()
                    .push(value.to_owned());
            }
        }
        SubmitForm {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            category: form.get("category").to_owned(),
            priority: form.get("priority").to_owned(),
            site: form.get("site").to_owned(),
            asset: form.get("asset").to_owned(),
            answers,
            kept_tokens: form
                .all("kept")
                .into_iter()
                .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_owned)
                .collect(),
            kept: Vec::new(),
        }
    }
}

/// The form's controls, from the title to the attachments (not the `<form>` element, its
/// CSRF field or its button), with each refusal beside its field.
#[derive(Template)]
#[template(path = "partials/ticket_form_fields.html")]
pub(crate) struct TicketFormFields {
    pub categories: Vec<String>,
    /// Empty when the reader's role is not shown priorities: it is not asked for one.
    pub priorities: &'static [TicketPriority],
    pub sites: Vec<(SiteId, String)>,
    pub site_required: bool,
    pub fields: Vec<FieldView>,
    pub form: SubmitForm,
    /// Every refusal, (field name, message), in the form's order; a field name of "" is about
    /// the form as a whole.
    pub errors: Vec<(String, String)>,
}

impl TicketFormFields {
    /// The refusal of `field`, shown beside it.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// A custom field's `aria-invalid` and `aria-describedby` attributes: its refusal and its
    /// help text. Built from field ids the store made (hex and dashes), nothing typed.
    fn described(&self, f: &FieldView) -> String {
        let refused = self.error_for(&format!("field_{}", f.id)).is_some();
        let mut ids = Vec::new();
        if refused {
            ids.push(format!("field_{}-error", f.id));
        }
        if !f.help.is_empty() {
            ids.push(format!("help_{}", f.id));
        }
        let mut attributes = String::new();
        if refused {
            attributes.push_str(" aria-invalid=\"true\"");
        }
        if !ids.is_empty() {
            attributes.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
        }
        attributes
    }

    /// Whether `field` is the first refused one: it gets the focus when the page loads.
    fn first_refused(&self, field: &str) -> bool {
        self.errors
            .iter()
            .find(|(f, _)| !f.is_empty())
            .is_some_and(|(f, _)| f == field)
    }
}

/// Where a field's refusal goes in the list: the order of the form.
pub(crate) fn form_rank(field: &str) -> usize {
    match field {
        "title" => 0,
        "category" => 1,
        "priority" => 2,
        "site" => 3,
        "description" => 4,
        "attachments" => 6,
        "" => 7,
        _ => 5,
    }
}
