//! A4 for the MSP's owners: the whole workspace's audit log (every company's chain and the
//! workspace's own), filtered by company, action, who and date, exported, and a company's
//! chain as the same proof bundle its client admins can download.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId};

use crate::AppState;
use crate::audit_view::{AuditList, AuditQuery, bundle_download, public_key};
use crate::auth::Auth;
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    list: AuditList,
    public_key: String,
    /// The company chosen in the filter: its proof bundle is offered.
    bundle_company: Option<CompanyId>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ViewAudit)?;
    let zone = auth.principal.zone().clone();
    let filter = query.filter(&zone)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.audit_entries(&filter).await?;
    // Current companies, then archived ones: their entries stay in the log.
    let mut companies: Vec<(CompanyId, String)> = Vec::new();
    for archived in [false, true] {
        companies.extend(
            tx.companies(archived)
                .await?
                .into_iter()
                .map(|c| (c.id, c.name)),
        );
    }
    tx.commit().await?;
    Ok(render::ok(&AuditPage {
        chrome: Chrome::signed_in(&auth, "Audit log", "/audit"),
        bundle_company: filter.company,
        list: AuditList::new("/audit", query, page, zone, false, companies),
        public_key: public_key(&state, &auth),
    }))
}

pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ViewAudit)?;
    crate::audit_view::export(&state, &auth, &query).await
}

/// A company's chain as its proof bundle.
pub(crate) async fn bundle(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let bundle = tx.audit_bundle(Some(company)).await?;
    tx.commit().await?;
    bundle_download(&state, &auth, company, &bundle)
}
