//! A4 for the client: the company's own audit chain — what its people did, and what the MSP's
//! staff saw and did with its records — filtered, exported, and taken away as a proof bundle
//! that checks offline against the workspace's public key.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Principal, Section};

use super::tickets::acting_company;
use crate::AppState;
use crate::audit_view::{AuditList, AuditQuery, bundle_download, public_key};
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "portal/audit.html")]
struct AuditPage {
    chrome: Chrome,
    heading: String,
    list: AuditList,
    /// The workspace's public key, in groups of eight hex digits.
    public_key: String,
}

fn heading(auth: &Auth) -> Result<String, WebError> {
    match &*auth.principal {
        Principal::Portal(p) => Ok(p
            .section_label(Section::AuditLog)
            .unwrap_or(Section::AuditLog.label())
            .to_owned()),
        Principal::Staff(_) => Err(WebError::NotFound),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let heading = heading(&auth)?;
    let zone = auth.principal.zone().clone();
    let filter = query.filter(&zone)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.audit_entries(&filter).await?;
    tx.commit().await?;
    Ok(render::ok(&AuditPage {
        chrome: Chrome::signed_in(&auth, &heading, "/audit"),
        heading,
        list: AuditList::new("/audit", query, page, zone, true, Vec::new()),
        public_key: public_key(&state, &auth),
    }))
}

pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    crate::audit_view::export(&state, &auth, &query).await
}

pub(crate) async fn bundle(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let bundle = tx.audit_bundle(None).await?;
    tx.commit().await?;
    bundle_download(&state, &auth, company, &bundle)
}
