//! P2 Raising a ticket: the MSP's form (the company's own or the workspace's, as the reader's
//! role is shown it), every refusal reported at once beside its field, files kept across a
//! refusal.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, AssetId, SiteId, TicketItem, TicketPriority};
use portico_store::StoreError;
use portico_store::scoped::ticket_workflow::NewTicket;

use super::tickets::{acting_company, label};
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::ticket_form_fields::{FieldView, SubmitForm, TicketFormFields, form_rank};
use crate::uploads::FormWithFiles;
use crate::{AppState, mail_links, see_other};

#[derive(Template)]
#[template(path = "portal/new_ticket.html")]
struct NewTicketPage {
    chrome: Chrome,
    heading: String,
    /// The asset the ticket is about: its id and name.
    asset: Option<(AssetId, String)>,
    body: TicketFormFields,
}

async fn new_ticket_page(
    state: &AppState,
    auth: &Auth,
    form: SubmitForm,
    errors: Vec<(String, String)>,
) -> Result<NewTicketPage, WebError> {
    auth.scope
        .may(Action::ContributeTickets)
        .map_err(|d| match d {
            portico_core::Denied::Forbidden => {
                WebError::Forbidden("Your account can read tickets but not raise them.".into())
            }
            portico_core::Denied::NotVisible => WebError::NotFound,
        })?;
    let company = acting_company(auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let ticket_form = tx.ticket_form(company).await?;
    let sites = tx.ticket_sites(company).await?;
    let asset = match AssetId::parse(&form.asset) {
        Some(id) => match tx.asset_ref(id).await {
            Ok((owner, name)) if owner == company => Some((id, name)),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    tx.commit().await?;
    let fields = ticket_form
        .fields
        .into_iter()
        .map(|f| {
            let entered = form.answers.get(&f.id).cloned().unwrap_or_default();
            FieldView::answered(f, &entered)
        })
        .collect();
    let heading = label(auth);
    Ok(NewTicketPage {
        chrome: Chrome::signed_in(auth, "Raise a ticket", "/tickets"),
        heading,
        asset,
        body: TicketFormFields {
            categories: ticket_form.categories,
            // A role not shown priorities is not asked for one.
            priorities: if ticket_form.view.shows(TicketItem::Priority) {
                TicketPriority::ALL
            } else {
                &[]
            },
            site_required: auth.scope.sites().is_some(),
            sites,
            fields,
            form,
            errors,
        },
    })
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct NewQuery {
    /// "Report an issue" on an asset's page: the ticket is about that asset.
    #[serde(default)]
    asset: Option<String>,
}

pub(crate) async fn new_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    let mut form = SubmitForm {
        priority: TicketPriority::Normal.as_str().to_owned(),
        ..SubmitForm::default()
    };
    if let Some(asset) = query.asset.as_deref().and_then(AssetId::parse) {
        let company = acting_company(&auth)?;
        let mut tx = state.store.scoped(&auth.scope).await?;
        // An asset the reader does not see is not found, like its page.
        let reported = tx.asset(company, asset).await?;
        tx.commit().await?;
        form.asset = asset.to_string();
        form.title = format!("Problem with {}", reported.name);
        form.site = reported.site_id.map(|s| s.to_string()).unwrap_or_default();
    }
    let page = new_ticket_page(&state, &auth, form, Vec::new()).await?;
    Ok(render::ok(&page))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Auth,
    mut upload: FormWithFiles,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut submitted = SubmitForm::from_form(&upload.form);
    // Files kept from an earlier, refused try of this form, attached along with any new ones.
    let mut tx = state.store.scoped(&auth.scope).await?;
    submitted.kept = tx.kept_uploads(&submitted.kept_tokens).await?;
    drop(tx);
    let mut attachments: Vec<_> = submitted.kept.iter().map(|k| k.file.clone()).collect();
    attachments.extend(upload.attachments());
    let new = NewTicket {
        title: submitted.title.clone(),
        description: submitted.description.clone(),
        category: submitted.category.clone(),
        priority: TicketPriority::parse(&submitted.priority),
        site: if submitted.site.is_empty() {
            None
        } else {
            SiteId::parse(&submitted.site)
        },
        asset: AssetId::parse(&submitted.asset),
        answers: submitted.answers.clone(),
        attachments,
    };
    let mut early: Vec<(String, String)> = Vec::new();
    if let Some(message) = upload.file_error.take() {
        early.push(("attachments".into(), message));
    }
    if !submitted.site.is_empty() && new.site.is_none() {
        early.push(("site".into(), "Choose one of the listed sites.".into()));
    }
    if !early.is_empty() {
        // The form's own checks too, so that every problem is reported at once.
        let mut tx = state.store.scoped(&auth.scope).await?;
        match tx.check_new_ticket(company, &new).await {
            Ok(()) => {}
            Err(StoreError::InvalidFields(more)) => {
                let seen: Vec<String> = early.iter().map(|(f, _)| f.clone()).collect();
                early.extend(more.into_iter().filter(|(f, _)| !seen.contains(f)));
            }
            Err(StoreError::Invalid(message)) => early.push((String::new(), message)),
            Err(e) => return Err(e.into()),
        }
        drop(tx);
        return refuse_new_ticket(&state, &auth, submitted, &mut upload, early).await;
    }
    let links = mail_links(&state, auth.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.submit_ticket(company, &new, &links).await {
        Ok(id) => {
            upload.commit_files().await?;
            tx.forget_kept_uploads(&submitted.kept_tokens).await?;
            tx.commit().await?;
            Ok(see_other(&format!("/tickets/{id}?done=created")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            refuse_new_ticket(&state, &auth, submitted, &mut upload, errors).await
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let errors = vec![(String::new(), message)];
            refuse_new_ticket(&state, &auth, submitted, &mut upload, errors).await
        }
        Err(StoreError::Forbidden) => Err(WebError::Forbidden(
            "Your account can read tickets but not raise them.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The form again, as typed, with every refusal beside its field (422). Files that came with
/// it are stored and kept for the user, so that the form shown again still carries them.
async fn refuse_new_ticket(
    state: &AppState,
    auth: &Auth,
    mut submitted: SubmitForm,
    upload: &mut FormWithFiles,
    mut errors: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let fresh = upload.attachments();
    if !fresh.is_empty() && upload.file_error.is_none() {
        upload.commit_files().await?;
        let mut tx = state.store.scoped_write(&auth.scope).await?;
        let kept = tx.keep_uploads(&fresh).await?;
        tx.commit().await?;
        submitted.kept.extend(kept);
    }
    errors.sort_by_key(|(field, _)| form_rank(field));
    let page = new_ticket_page(state, auth, submitted, errors).await?;
    Ok(render::refused(&page))
}
