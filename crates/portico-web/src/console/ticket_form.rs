//! C2 the ticket-form designer: the workspace's categories and custom fields, and per-company
//! override forms. Fields are rows, in order: "Move up" / "Move down" reorder them (in the
//! page with JavaScript, by a round trip without), blank rows add fields, a ticked "remove"
//! drops one, and "Preview" shows the form, unsaved, exactly as a chosen portal role will see
//! it. Nothing is stored until "Save form".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{
    Action, CompanyId, FieldKind, FormField, PortalRole, SiteId, TicketItem, TicketPriority,
};
use portico_store::StoreError;
use portico_store::scoped::ticket_form::FieldDraft;
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::ticket_form_fields::{FieldView, SubmitForm, TicketFormFields};
use crate::{AppState, see_other};

/// Companies listed in the picker at most.
const MAX_COMPANY_PICKER: i64 = 300;
/// Blank rows offered for new fields.
const NEW_ROWS: usize = 2;
/// Rows a submitted designer may carry: the store's 30 fields, blank rows and some slack.
const MAX_ROWS: usize = 64;
/// Roles that raise tickets, so the ones a preview can be shown as (viewers only read).
const PREVIEW_ROLES: [PortalRole; 2] = [PortalRole::Member, PortalRole::ClientAdmin];

#[derive(Deserialize, Default)]
pub(crate) struct DesignerQuery {
    #[serde(default)]
    company: String,
    #[serde(default)]
    saved: Option<String>,
}

/// One row of the designer: a field (saved or new) and whether it is ticked for removal.
struct DesignerRow {
    draft: FieldDraft,
    remove: bool,
    /// The row's number in the submitted form's field names (`label_<slot>`), which the move
    /// buttons name.
    slot: usize,
}

#[derive(Template)]
#[template(path = "console/ticket_form.html")]
struct DesignerPage {
    chrome: Chrome,
    /// `None`: the workspace form.
    company: Option<(String, String)>,
    companies: Vec<(String, String)>,
    /// More companies than a picker holds: each company's form opens from its page.
    too_many_companies: bool,
    category_lines: String,
    rows: Vec<DesignerRow>,
    kinds: &'static [FieldKind],
    roles: &'static [PortalRole],
    preview_role: PortalRole,
    /// The form as `preview_role` will see it, when asked for.
    preview: Option<TicketFormFields>,
    error: String,
    notice: &'static str,
}

/// What the designer was sent: its rows in their order, the categories and the role to
/// preview the form as.
struct Edited {
    category_lines: String,
    rows: Vec<DesignerRow>,
    preview_role: PortalRole,
}

impl Edited {
    /// Rows come in the order of their `order` fields (the page may have moved them); blank
    /// new rows are dropped.
    fn from_form(form: &FormData) -> Edited {
        let mut seen = Vec::new();
        let rows = form
            .all("order")
            .into_iter()
            .filter_map(|i| i.parse::<usize>().ok())
            .filter(|i| *i < MAX_ROWS)
            .filter(|i| {
                let new = !seen.contains(i);
                seen.push(*i);
                new
            })
            .map(|i| DesignerRow {
                draft: FieldDraft {
                    id: form.get(&format!("id_{i}")).to_owned(),
                    label: form.get(&format!("label_{i}")).to_owned(),
                    kind: form.get(&format!("kind_{i}")).to_owned(),
                    required: form.checked(&format!("required_{i}")),
                    help: form.get(&format!("help_{i}")).to_owned(),
                    options: form.get(&format!("options_{i}")).to_owned(),
                },
                remove: form.checked(&format!("remove_{i}")),
                slot: i,
            })
            .filter(|r| !(r.draft.id.is_empty() && r.draft.label.trim().is_empty()))
            .collect();
        Edited {
            category_lines: form.get("categories").to_owned(),
            rows,
            preview_role: PortalRole::parse(form.get("preview_role")).unwrap_or(PortalRole::Member),
        }
    }

    /// Applies a "Move up" / "Move down" button (`<slot>-up`, `<slot>-down`).
    fn apply_move(&mut self, button: &str) {
        let Some((slot, way)) = button.split_once('-') else {
            return;
        };
        let Some(at) = slot
            .parse::<usize>()
            .ok()
            .and_then(|slot| self.rows.iter().position(|r| r.slot == slot))
        else {
            return;
        };
        let to = match way {
            "up" => at.checked_sub(1),
            "down" => Some(at + 1),
            _ => None,
        };
        if let Some(to) = to.filter(|to| *to < self.rows.len() && at < self.rows.len()) {
            self.rows.swap(at, to);
        }
    }

    /// The fields to keep: rows not ticked for removal.
    fn drafts(&self) -> Vec<FieldDraft> {
        self.rows
            .iter()
            .filter(|r| !r.remove)
            .map(|r| r.draft.clone())
            .collect()
    }
}

impl DesignerRow {
    /// "Choose one · required", beside the field's name while its settings are folded away.
    fn summary(&self) -> String {
        let kind = FieldKind::parse(&self.draft.kind).map_or("Unknown kind", |k| k.label());
        match (self.draft.required, self.remove) {
            (_, true) => format!("{kind} · to be removed"),
            (true, false) => format!("{kind} · required"),
            (false, false) => kind.to_owned(),
        }
    }
}

fn company_of(text: &str) -> Result<Option<CompanyId>, WebError> {
    match text {
        "" => Ok(None),
        c => CompanyId::parse(c).map(Some).ok_or(WebError::NotFound),
    }
}

/// What the preview shows of one drafted field, its options read as the store reads them.
fn draft_field(n: usize, draft: &FieldDraft) -> Option<FormField> {
    Some(FormField {
        // A new field has no id yet; the preview's markup still needs one.
        id: if draft.id.is_empty() {
            format!("new-{n}")
        } else {
            draft.id.clone()
        },
        label: draft.label.trim().to_owned(),
        kind: FieldKind::parse(&draft.kind)?,
        required: draft.required,
        help: draft.help.trim().to_owned(),
        options: portico_core::option_lines(&draft.options),
    })
}

async fn designer(
    state: &AppState,
    auth: &Auth,
    company: Option<CompanyId>,
    edited: Option<Edited>,
    show_preview: bool,
    error: String,
    notice: &'static str,
) -> Result<DesignerPage, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let company_name = match company {
        Some(c) => Some((c.to_string(), tx.company(c).await?.name)),
        None => None,
    };
    let saved_categories = tx.ticket_categories().await?;
    let mut edited = match edited {
        Some(edited) => edited,
        None => Edited {
            category_lines: saved_categories.join("\n"),
            rows: tx
                .form_fields_of(company)
                .await?
                .into_iter()
                .map(|f| DesignerRow {
                    draft: FieldDraft {
                        id: f.id,
                        label: f.label,
                        kind: f.kind.as_str().to_owned(),
                        required: f.required,
                        help: f.help,
                        options: f.options.join("\n"),
                    },
                    remove: false,
                    slot: 0,
                })
                .collect(),
            preview_role: PortalRole::Member,
        },
    };
    let preview = if show_preview {
        let view = tx.ticket_view_of(edited.preview_role).await?;
        // A company's override form is previewed with that company's sites.
        let sites = match company {
            Some(c) if view.shows(TicketItem::Site) => tx
                .sites(c)
                .await?
                .into_iter()
                .filter_map(|s| Some((SiteId::parse(&s.id)?, s.name)))
                .collect(),
            _ => Vec::new(),
        };
        // Categories belong to the workspace form: a company's preview shows the saved ones.
        let categories: Vec<String> = if company.is_none() {
            edited
                .category_lines
                .lines()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            saved_categories
        };
        let drafts = edited.drafts();
        // With no fields of its own a company's clients get the workspace form.
        let drafts = if company.is_some() && drafts.is_empty() {
            tx.form_fields_of(None)
                .await?
                .into_iter()
                .map(|f| FieldDraft {
                    options: f.options.join("\n"),
                    kind: f.kind.as_str().to_owned(),
                    id: f.id,
                    label: f.label,
                    required: f.required,
                    help: f.help,
                })
                .collect()
        } else {
            drafts
        };
        Some(TicketFormFields {
            categories: if view.shows(TicketItem::Category) {
                categories
            } else {
                Vec::new()
            },
            priorities: if view.shows(TicketItem::Priority) {
                TicketPriority::ALL
            } else {
                &[]
            },
            sites,
            site_required: false,
            fields: drafts
                .iter()
                .enumerate()
                .filter_map(|(n, d)| draft_field(n, d))
                .filter(|f| view.shows_field(&f.id))
                .map(|f| FieldView::answered(f, &[]))
                .collect(),
            form: SubmitForm {
                priority: TicketPriority::Normal.as_str().to_owned(),
                ..SubmitForm::default()
            },
            errors: Vec::new(),
        })
    } else {
        None
    };
    // Past a picker's worth of companies, a company's form is opened from its own page; the
    // picker then offers the workspace form and the company being edited.
    let picker = tx.company_picker(MAX_COMPANY_PICKER).await?;
    let too_many_companies = picker.is_none();
    let companies = match picker {
        Some(all) => all
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        None => company_name.iter().cloned().collect(),
    };
    tx.commit().await?;
    edited.rows.extend((0..NEW_ROWS).map(|_| DesignerRow {
        draft: FieldDraft::default(),
        remove: false,
        slot: 0,
    }));
    Ok(DesignerPage {
        chrome: Chrome::signed_in(auth, "Ticket form", "/settings/ticket-form"),
        company: company_name,
        companies,
        too_many_companies,
        category_lines: edited.category_lines,
        rows: edited.rows,
        kinds: FieldKind::ALL,
        roles: &PREVIEW_ROLES,
        preview_role: edited.preview_role,
        preview,
        error,
        notice,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DesignerQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let company = company_of(&query.company)?;
    let notice = if query.saved.is_some() {
        "The form was saved. New tickets use it from now on."
    } else {
        ""
    };
    let page = designer(&state, &auth, company, None, false, String::new(), notice).await?;
    Ok(render::ok(&page))
}

/// Saves the form; or, for "Move up"/"Move down" and "Preview", shows the edited form again,
/// unsaved.
pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let company = company_of(form.get("company"))?;
    let mut edited = Edited::from_form(&form);
    let moved = form.get("move");
    if !moved.is_empty() {
        edited.apply_move(moved);
        let notice = "Moved. Save the form to keep the new order.";
        let page = designer(
            &state,
            &auth,
            company,
            Some(edited),
            false,
            String::new(),
            notice,
        )
        .await?;
        return Ok(render::ok(&page));
    }
    if form.get("intent") == "preview" {
        let notice = "This is a preview: nothing is saved until you save the form.";
        let page = designer(
            &state,
            &auth,
            company,
            Some(edited),
            true,
            String::new(),
            notice,
        )
        .await?;
        return Ok(render::ok(&page));
    }
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .save_ticket_form(company, &edited.category_lines, &edited.drafts())
        .await
    {
        Ok(()) => {
            tx.commit().await?;
            let target = match company {
                Some(c) => format!("/settings/ticket-form?company={c}&saved"),
                None => "/settings/ticket-form?saved".to_owned(),
            };
            Ok(see_other(&target))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = designer(&state, &auth, company, Some(edited), false, message, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
