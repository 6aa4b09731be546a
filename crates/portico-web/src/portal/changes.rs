//! P14 Change requests on the portal: asking for a change to an asset, a contact or a user (or
//! a purchase), following each request, and the purchase approver's approval. Nothing changes
//! until the MSP carries a request out.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{
    Action, ChangeKind, ChangeRequestId, ChangeStatus, ChangeTarget, Principal, Section,
};
use portico_store::StoreError;
use portico_store::scoped::change_requests::{ChangeDraft, ChangePage, ChangeRequest};

use super::tickets::acting_company;
use crate::auth::{Auth, SignedForm};
use crate::change_view::{ChangeQuery, ChangeView};
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, mail_links, see_other};

fn heading(auth: &Auth) -> Result<String, WebError> {
    match &*auth.principal {
        Principal::Portal(p) => Ok(p
            .section_label(Section::ChangeRequests)
            .unwrap_or(Section::ChangeRequests.label())
            .to_owned()),
        Principal::Staff(_) => Err(WebError::NotFound),
    }
}

/// Where a request's target opens on the portal.
fn target_href(request: &ChangeRequest) -> Option<String> {
    match (request.target, &request.target_id) {
        (ChangeTarget::Asset, Some(id)) => Some(format!("/assets/{id}")),
        (ChangeTarget::Contact, Some(_)) => Some("/contacts".into()),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "portal/changes.html")]
struct ChangesPage {
    chrome: Chrome,
    heading: String,
    page: ChangePage,
    status: String,
    can_request: bool,
    statuses: &'static [ChangeStatus],
}

/// The list as CSV: its status filter, every page.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ChangeQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut filter = query.filter()?;
    filter.company = Some(company);
    crate::audited::exported(&state, &auth, None, "Change requests (CSV)", "")?;
    Ok(crate::csv_export::change_requests(
        &state,
        auth.scope.clone(),
        filter,
        auth.principal.zone().clone(),
    ))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ChangeQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth)?;
    let mut filter = query.filter()?;
    filter.company = Some(company);
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.change_requests(&filter).await?;
    tx.commit().await?;
    Ok(render::ok(&ChangesPage {
        chrome: Chrome::signed_in(&auth, &heading, "/changes"),
        heading,
        page,
        status: query.status().to_owned(),
        can_request: auth.scope.may(Action::RequestChanges).is_ok(),
        statuses: ChangeStatus::ALL,
    }))
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct NewChange {
    #[serde(default)]
    target: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    kind: String,
}

#[derive(Template)]
#[template(path = "portal/change_form.html")]
struct ChangeForm {
    chrome: Chrome,
    heading: String,
    draft: ChangeDraft,
    /// The name of what the request is about, shown above the form.
    target_label: Option<String>,
    target: ChangeTarget,
    kinds: &'static [ChangeKind],
    errors: FieldErrors,
}

async fn form_page(
    state: &AppState,
    auth: &Auth,
    draft: ChangeDraft,
    errors: FieldErrors,
) -> Result<ChangeForm, WebError> {
    let company = acting_company(auth)?;
    let heading = heading(auth)?;
    auth.scope.may(Action::RequestChanges)?;
    let target = ChangeTarget::parse(&draft.target).unwrap_or(ChangeTarget::General);
    let mut tx = state.store.scoped(&auth.scope).await?;
    let target_label = match tx
        .change_target_label(company, target, &draft.target_id)
        .await
    {
        Ok(label) => label,
        // A target that is not the reader's: the form is for a general request instead.
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let title = format!("Request a change — {heading}");
    Ok(ChangeForm {
        chrome: Chrome::signed_in(auth, &title, "/changes"),
        heading,
        target: if target_label.is_some() {
            target
        } else {
            ChangeTarget::General
        },
        draft,
        target_label,
        kinds: ChangeKind::ALL,
        errors,
    })
}

pub(crate) async fn new_change(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<NewChange>,
) -> Result<Response, WebError> {
    let kind = ChangeKind::parse(&query.kind).unwrap_or(ChangeKind::Update);
    let draft = ChangeDraft {
        kind: kind.as_str().to_owned(),
        target: query.target.clone(),
        target_id: query.id.clone(),
        title: String::new(),
        details: String::new(),
    };
    let mut page = form_page(&state, &auth, draft, FieldErrors::default()).await?;
    // Prefilled with the target and the kind of change, as the page that offered it said.
    if let Some(label) = &page.target_label {
        page.draft.title = match kind {
            ChangeKind::Remove => format!("Remove {label}"),
            ChangeKind::Update => format!("Change the details of {label}"),
            _ => format!("{}: {label}", kind.label()),
        };
    } else if kind == ChangeKind::Purchase {
        page.draft.title = "Purchase: ".to_owned();
    }
    Ok(render::ok(&page))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let draft = ChangeDraft {
        kind: form.get("kind").to_owned(),
        target: form.get("target").to_owned(),
        target_id: form.get("target_id").to_owned(),
        title: form.get("title").to_owned(),
        details: form.get("details").to_owned(),
    };
    let links = mail_links(&state, auth.site.workspace_id).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .raise_change_request(company, &draft, &links.portal)
        .await
    {
        Ok(id) => {
            tx.commit().await?;
            Ok(see_other(&format!("/changes/{id}?done=raised")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = form_page(&state, &auth, draft, FieldErrors(errors)).await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "portal/change.html")]
struct ChangePageView {
    chrome: Chrome,
    heading: String,
    title: String,
    done: String,
    /// The purchase approver, while the purchase awaits them.
    decides: bool,
    note: String,
    errors: FieldErrors,
    id: ChangeRequestId,
    view: ChangeView,
}

async fn change_page(
    state: &AppState,
    auth: &Auth,
    id: ChangeRequestId,
    done: &str,
    note: String,
    errors: FieldErrors,
) -> Result<ChangePageView, WebError> {
    let heading = heading(auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let request = tx.change_request(id).await?;
    tx.audit_viewed(
        request.company_id,
        portico_core::AuditTarget::new("change_request", id, request.title.clone()),
    )?;
    let decides = request.status == ChangeStatus::AwaitingApproval
        && tx.is_purchase_approver(request.company_id).await?;
    tx.commit().await?;
    let done = match done {
        "raised" if request.status == ChangeStatus::AwaitingApproval => {
            "Your request was sent to your company's purchase approver."
        }
        "raised" => "Your request was sent. You will hear by e-mail as it moves on.",
        "decided" => "Your decision was recorded.",
        _ => "",
    };
    Ok(ChangePageView {
        chrome: Chrome::signed_in(auth, &request.title, "/changes"),
        heading,
        title: request.title.clone(),
        done: done.to_owned(),
        decides,
        note,
        errors,
        id,
        view: ChangeView {
            target_href: target_href(&request),
            request,
            zone: auth.principal.zone().clone(),
        },
    })
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<crate::forms::DoneQuery>,
    IdPath(id): IdPath<ChangeRequestId>,
) -> Result<Response, WebError> {
    let page = change_page(
        &state,
        &auth,
        id,
        &done.done,
        String::new(),
        FieldErrors::default(),
    )
    .await?;
    Ok(render::ok(&page))
}

pub(crate) async fn approval(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ChangeRequestId>,
) -> Result<Response, WebError> {
    let links = mail_links(&state, auth.site.workspace_id).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.change_request(id).await?;
    let approve = match form.get("decision") {
        "approve" => true,
        "decline" => false,
        _ => {
            return Err(WebError::BadRequest(
                "Approve or decline the purchase.".into(),
            ));
        }
    };
    let note = form.get("note").to_owned();
    match tx.decide_purchase(id, approve, &note, &links.portal).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/changes/{id}?done=decided")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = change_page(&state, &auth, id, "", note, FieldErrors(errors)).await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
