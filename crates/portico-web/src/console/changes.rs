//! The console's change-request queue (C7): what clients asked for, filtered by status, company
//! and assignee; a request's page to assign it, approve it, reject it with a reason or mark it
//! done. Nothing changes in the records by itself: staff carry the change out.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, ChangeRequestId, ChangeStatus, ChangeTarget, StaffUserId};
use portico_store::StoreError;
use portico_store::scoped::change_requests::{ChangeDecision, ChangePage, ChangeRequest};
use portico_store::scoped::companies::CompanySummary;

use crate::auth::{Auth, SignedForm};
use crate::change_view::{ChangeQuery, ChangeView};
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, mail_links, see_other};

#[derive(Template)]
#[template(path = "console/changes.html")]
struct QueuePage {
    chrome: Chrome,
    page: ChangePage,
    companies: Vec<CompanySummary>,
    status: String,
    company: String,
    assignee: String,
    statuses: &'static [ChangeStatus],
}

/// The queue as CSV: its filters, every page.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ChangeQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::WorkChangeRequests)?;
    let filter = query.filter()?;
    crate::audited::exported(&state, &auth, None, "Change requests (CSV)", "")?;
    Ok(crate::csv_export::change_requests(
        &state,
        auth.scope.clone(),
        filter,
        auth.principal.zone().clone(),
    ))
}

pub(crate) async fn queue(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ChangeQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::WorkChangeRequests)?;
    let filter = query.filter()?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.change_requests(&filter).await?;
    let companies = tx.companies(false).await?;
    tx.commit().await?;
    Ok(render::ok(&QueuePage {
        chrome: Chrome::signed_in(&auth, "Change requests", "/changes"),
        page,
        companies,
        status: query.status().to_owned(),
        company: query.company().to_owned(),
        assignee: query.assignee().to_owned(),
        statuses: ChangeStatus::ALL,
    }))
}

/// Where a request's target opens in the console.
fn target_href(request: &ChangeRequest) -> Option<String> {
    let company = request.company_id;
    match (request.target, &request.target_id) {
        (ChangeTarget::Asset, Some(id)) => Some(format!("/companies/{company}/assets/{id}")),
        (ChangeTarget::Contact, Some(id)) => Some(format!("/companies/{company}/contacts/{id}")),
        (ChangeTarget::PortalUser, Some(id)) => Some(format!("/companies/{company}/users/{id}")),
        (ChangeTarget::DirectoryUser, Some(_)) => Some(format!("/companies/{company}/directory")),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "console/change.html")]
struct RequestPage {
    chrome: Chrome,
    id: ChangeRequestId,
    title: String,
    company: (String, String),
    status: ChangeStatus,
    assignee: Option<StaffUserId>,
    staff: Vec<(StaffUserId, String)>,
    done: String,
    note: String,
    errors: FieldErrors,
    view: ChangeView,
}

async fn request_page(
    state: &AppState,
    auth: &Auth,
    id: ChangeRequestId,
    done: &str,
    note: String,
    errors: FieldErrors,
) -> Result<RequestPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let request = tx.change_request(id).await?;
    auth.scope.may(Action::WorkChangeRequests)?;
    tx.audit_viewed(
        request.company_id,
        portico_core::AuditTarget::new("change_request", id, request.title.clone()),
    )?;
    let staff = tx.assignable_staff(request.company_id).await?;
    tx.commit().await?;
    let done = match done {
        "assigned" => "The assignment was saved.",
        "approve" => "Approved: the client was told, and it is yours to carry out.",
        "reject" => "Rejected: the client was told why.",
        "done" => "Marked done: the client was told.",
        _ => "",
    };
    Ok(RequestPage {
        chrome: Chrome::signed_in(auth, &request.title, "/changes"),
        id,
        title: request.title.clone(),
        company: (request.company_id.to_string(), request.company_name.clone()),
        status: request.status,
        assignee: request.assignee.as_ref().map(|(id, _)| *id),
        staff,
        done: done.to_owned(),
        note,
        errors,
        view: ChangeView {
            target_href: target_href(&request),
            request,
            zone: auth.principal.zone().clone(),
        },
    })
}

impl RequestPage {
    fn assigned(&self, id: &StaffUserId) -> bool {
        self.assignee == Some(*id)
    }
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<crate::forms::DoneQuery>,
    IdPath(id): IdPath<ChangeRequestId>,
) -> Result<Response, WebError> {
    let page = request_page(
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

pub(crate) async fn assign(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ChangeRequestId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.change_request(id).await?;
    auth.scope.may(Action::WorkChangeRequests)?;
    let assignee = match form.get("assignee") {
        "" => None,
        text => Some(
            StaffUserId::parse(text)
                .ok_or_else(|| WebError::BadRequest("Choose someone from the list.".into()))?,
        ),
    };
    match tx.assign_change_request(id, assignee).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/changes/{id}?done=assigned")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page =
                request_page(&state, &auth, id, "", String::new(), FieldErrors(errors)).await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn decide(
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
    auth.scope.may(Action::WorkChangeRequests)?;
    let decision = match form.get("decision") {
        "approve" => ChangeDecision::Approve,
        "reject" => ChangeDecision::Reject,
        "done" => ChangeDecision::Done,
        _ => {
            return Err(WebError::BadRequest(
                "Choose what to do with the request.".into(),
            ));
        }
    };
    let note = form.get("note").to_owned();
    match tx
        .decide_change_request(id, decision, &note, &links.portal)
        .await
    {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/changes/{id}?done={}",
                form.get("decision")
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = request_page(&state, &auth, id, "", note, FieldErrors(errors)).await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
