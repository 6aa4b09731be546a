//! P9 Invoices: the company's invoices with their amounts and status, each as a PDF; billing
//! access only (the section's audience), drafts never (the fence).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{InvoiceId, Principal, Section};

use super::tickets::acting_company;
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::invoice_view::{InvoiceDetailView, InvoiceListView, InvoiceQuery};
use crate::render::{self, Chrome};

fn heading(auth: &Auth) -> Result<String, WebError> {
    match &*auth.principal {
        Principal::Portal(p) => Ok(p
            .section_label(Section::Invoices)
            .unwrap_or(Section::Invoices.label())
            .to_owned()),
        Principal::Staff(_) => Err(WebError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "portal/invoices.html")]
struct InvoicesPage {
    chrome: Chrome,
    heading: String,
    list: InvoiceListView,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<InvoiceQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth)?;
    let filter = query.filter()?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.invoices(company, &filter, auth.principal.zone()).await?;
    tx.commit().await?;
    Ok(render::ok(&InvoicesPage {
        chrome: Chrome::signed_in(&auth, &heading, "/invoices"),
        heading,
        list: InvoiceListView {
            base: "/invoices".into(),
            page,
            filter,
            shows_drafts: false,
        },
    }))
}

/// The list's invoices as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<InvoiceQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let filter = query.filter()?;
    crate::audited::exported(&state, &auth, None, "Invoices (CSV)", "")?;
    crate::csv_export::invoices(&state, &auth.scope, company, filter, auth.principal.zone()).await
}

#[derive(Template)]
#[template(path = "portal/invoice.html")]
struct InvoicePage {
    chrome: Chrome,
    heading: String,
    title: String,
    detail: InvoiceDetailView,
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(invoice): IdPath<InvoiceId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let stored = tx.invoice(company, invoice, auth.principal.zone()).await?;
    tx.commit().await?;
    let title = format!("Invoice {}", stored.summary.number_text());
    crate::audited::viewed(
        &state,
        &auth,
        company,
        portico_core::AuditTarget::new("invoice", invoice, title.clone()),
    )?;
    Ok(render::ok(&InvoicePage {
        chrome: Chrome::signed_in(&auth, &title, "/invoices"),
        heading,
        title,
        detail: InvoiceDetailView {
            invoice: stored,
            pdf_href: format!("/invoices/{invoice}/pdf"),
        },
    }))
}

pub(crate) async fn pdf(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(invoice): IdPath<InvoiceId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let stored = tx.invoice(company, invoice, auth.principal.zone()).await?;
    tx.commit().await?;
    crate::invoice_view::pdf(&state, &auth, stored).await
}
