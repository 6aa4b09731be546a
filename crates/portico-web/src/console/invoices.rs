//! A company's invoices in the console: owners and billing staff draft them line by line, send
//! them (which numbers them and shows them on the portal), and mark them paid or void.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, InvoiceId, InvoiceStatus};
use portico_store::StoreError;
use portico_store::scoped::invoices::{Invoice, InvoiceAction, InvoiceDraft, LineDraft};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::invoice_view::{InvoiceDetailView, InvoiceListView, InvoiceQuery, quantity_text};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// Empty line rows a draft's form offers beyond its lines.
const BLANK_LINES: usize = 3;

#[derive(Template)]
#[template(path = "console/invoices.html")]
struct InvoicesPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    list: InvoiceListView,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<InvoiceQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let filter = query.filter()?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let page = tx.invoices(company, &filter, auth.principal.zone()).await?;
    tx.commit().await?;
    let title = format!("Invoices — {}", summary.name);
    Ok(render::ok(&InvoicesPage {
        chrome: Chrome::signed_in(&auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        list: InvoiceListView {
            base: format!("/companies/{company}/invoices"),
            page,
            filter,
            shows_drafts: true,
        },
    }))
}

/// A company's invoices matching the list's filter, as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<InvoiceQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let filter = query.filter()?;
    crate::audited::exported(&state, &auth, Some(company), "Invoices (CSV)", "")?;
    crate::csv_export::invoices(&state, &auth.scope, company, filter, auth.principal.zone()).await
}

#[derive(Template)]
#[template(path = "console/invoice.html")]
struct InvoicePage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    /// `None` while drafting a new one.
    invoice_id: Option<InvoiceId>,
    status: InvoiceStatus,
    /// Owners and billing staff: draft, send, mark paid or void.
    may_manage: bool,
    title: String,
    done: String,
    /// The stored invoice, shown as the portal shows it once sent.
    detail: Option<InvoiceDetailView>,
    /// The draft's form (new invoices and drafts).
    draft: Option<InvoiceDraft>,
    errors: FieldErrors,
}

fn draft_of(form: &FormData) -> InvoiceDraft {
    let descriptions = form.all("line_description");
    let quantities = form.all("line_quantity");
    let prices = form.all("line_unit_price");
    let taxes = form.all("line_tax_rate");
    let at = |list: &[&str], i: usize| list.get(i).copied().unwrap_or("").to_owned();
    InvoiceDraft {
        issued_on: form.get("issued_on").to_owned(),
        due_on: form.get("due_on").to_owned(),
        notes: form.get("notes").to_owned(),
        lines: (0..descriptions
            .len()
            .min(portico_store::scoped::invoices::MAX_LINES + 1))
            .map(|i| LineDraft {
                description: at(&descriptions, i),
                quantity: at(&quantities, i),
                unit_price: at(&prices, i),
                tax_rate: at(&taxes, i),
            })
            .collect(),
    }
}

fn draft_from(invoice: &Invoice) -> InvoiceDraft {
    InvoiceDraft {
        issued_on: invoice.summary.issued_on.clone(),
        due_on: invoice.summary.due_on.clone(),
        notes: invoice.notes.clone(),
        lines: invoice
            .lines
            .iter()
            .map(|l| LineDraft {
                description: l.description.clone(),
                quantity: quantity_text(&l.quantity_milli),
                unit_price: format!("{}.{:02}", l.unit_cents / 100, l.unit_cents % 100),
                tax_rate: crate::invoice_view::rate_text(&l.tax_basis_points)
                    .trim_end_matches('%')
                    .to_owned(),
            })
            .collect(),
    }
}

/// The draft with blank rows to add lines in.
fn with_blank_lines(mut draft: InvoiceDraft) -> InvoiceDraft {
    let filled = draft
        .lines
        .iter()
        .filter(|l| !l.description.trim().is_empty())
        .count();
    draft.lines.truncate(draft.lines.len().max(filled));
    let blanks = draft
        .lines
        .iter()
        .rev()
        .take_while(|l| l.description.trim().is_empty() && l.unit_price.trim().is_empty())
        .count();
    for _ in blanks..BLANK_LINES {
        draft.lines.push(LineDraft::default());
    }
    draft
}

async fn invoice_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    invoice: Option<InvoiceId>,
    draft: Option<InvoiceDraft>,
    errors: FieldErrors,
    done: &str,
) -> Result<InvoicePage, WebError> {
    let zone = auth.principal.zone().clone();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let stored = match invoice {
        Some(id) => {
            let stored = tx.invoice(company, id, &zone).await?;
            let target = portico_core::AuditTarget::new(
                "invoice",
                id,
                format!("Invoice {}", stored.summary.number_text()),
            );
            // A draft is the MSP's own until sent: its views stay off the client's chain.
            if stored.summary.status == portico_core::InvoiceStatus::Draft {
                tx.audit_viewed_internally(company, target)?;
            } else {
                tx.audit_viewed(company, target)?;
            }
            Some(stored)
        }
        None => None,
    };
    tx.commit().await?;
    auth.scope.may(Action::ViewInvoices)?;
    if !auth.scope.billing() {
        return Err(StoreError::Forbidden.into());
    }
    let status = stored
        .as_ref()
        .map(|s| s.summary.status)
        .unwrap_or(InvoiceStatus::Draft);
    // An invoice the accounting tool issued is changed there, never here.
    let issued_elsewhere = stored
        .as_ref()
        .is_some_and(|s| s.summary.issued_by.is_some());
    let may_manage = auth.scope.may(Action::ManageInvoices).is_ok() && !issued_elsewhere;
    let may_edit = status == InvoiceStatus::Draft && may_manage;
    let draft = match (draft, &stored) {
        (Some(draft), _) => Some(draft),
        (None, Some(stored)) if may_edit => Some(draft_from(stored)),
        (None, Some(_)) => None,
        (None, None) => {
            let today = zone.date_after(portico_store::now(), 0).unwrap_or_default();
            let due = zone
                .date_after(portico_store::now(), 14)
                .unwrap_or_default();
            Some(InvoiceDraft {
                issued_on: today,
                due_on: due,
                ..InvoiceDraft::default()
            })
        }
    }
    .map(with_blank_lines);
    let title = match &stored {
        Some(s) => match (s.summary.number, s.summary.issued_by) {
            (Some(_), _) | (None, Some(_)) => format!("Invoice {}", s.summary.number_text()),
            (None, None) => "Draft invoice".to_owned(),
        },
        None => "Draft an invoice".to_owned(),
    };
    let done = match done {
        "created" => "The draft was saved. Send it when it is ready: it then reaches the portal.",
        "saved" => "The draft was saved.",
        "send" => "The invoice was sent: it is numbered and on the portal.",
        "paid" => "The invoice was marked paid.",
        "unpaid" => "The invoice was marked unpaid.",
        "void" => "The invoice was voided.",
        _ => "",
    };
    Ok(InvoicePage {
        chrome: Chrome::signed_in(auth, &format!("{title} — {}", summary.name), "/companies"),
        company_id: company,
        company_name: summary.name,
        invoice_id: invoice,
        status,
        may_manage,
        title,
        done: done.to_owned(),
        detail: stored.map(|s| InvoiceDetailView {
            pdf_href: format!("/companies/{company}/invoices/{}/pdf", s.summary.id),
            invoice: s,
        }),
        draft,
        errors,
    })
}

pub(crate) async fn new_invoice(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let page = invoice_page(
        &state,
        &auth,
        company,
        None,
        None,
        FieldErrors::default(),
        "",
    )
    .await?;
    Ok(render::ok(&page))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let draft = draft_of(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.create_invoice(company, &draft).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/invoices/{id}?done=created"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = invoice_page(
                &state,
                &auth,
                company,
                None,
                Some(draft),
                FieldErrors(errors),
                "",
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<crate::forms::DoneQuery>,
    IdPath((company, invoice)): IdPath<(CompanyId, InvoiceId)>,
) -> Result<Response, WebError> {
    let page = invoice_page(
        &state,
        &auth,
        company,
        Some(invoice),
        None,
        FieldErrors::default(),
        &done.done,
    )
    .await?;
    Ok(render::ok(&page))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, invoice),
    }: SignedForm<(CompanyId, InvoiceId)>,
) -> Result<Response, WebError> {
    let draft = draft_of(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.update_invoice(company, invoice, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/invoices/{invoice}?done=saved"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = invoice_page(
                &state,
                &auth,
                company,
                Some(invoice),
                Some(draft),
                FieldErrors(errors),
                "",
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn set_status(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, invoice),
    }: SignedForm<(CompanyId, InvoiceId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.invoice(company, invoice, auth.principal.zone()).await?;
    let action = InvoiceAction::parse(form.get("action"))
        .ok_or_else(|| WebError::BadRequest("Choose what to do with the invoice.".into()))?;
    tx.set_invoice_status(company, invoice, action).await?;
    tx.commit().await?;
    if action == InvoiceAction::Discard {
        return Ok(see_other(&format!("/companies/{company}/invoices")));
    }
    Ok(see_other(&format!(
        "/companies/{company}/invoices/{invoice}?done={}",
        form.get("action")
    )))
}

pub(crate) async fn pdf(
    State(state): State<AppState>,
    auth: Auth,
    IdPath((company, invoice)): IdPath<(CompanyId, InvoiceId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let stored = tx.invoice(company, invoice, auth.principal.zone()).await?;
    tx.commit().await?;
    crate::invoice_view::pdf(&state, &auth, stored).await
}
