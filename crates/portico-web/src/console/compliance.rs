//! Compliance in the console (P6): each framework judged for a company now — by rules over its
//! records where they hold the facts, otherwise by staff's judgements — a requirement's page to
//! record a judgement with its evidence (a note, a file, the last day it holds), and the button
//! that records a scorecard as an assessment: what the client's portal then shows.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{AttestationId, CompanyId};
use portico_store::StoreError;
use portico_store::scoped::compliance::{Attestation, AttestationForm, Evidence, RequirementView};

use crate::auth::{Auth, SignedForm};
use crate::compliance_view::{ScorecardView, status_tone, view};
use crate::error::WebError;
use crate::forms::{DoneQuery, FieldErrors, FormData};
use crate::id_path::{IdPath, RequirementRef};
use crate::render::{self, Chrome};
use crate::uploads::FormWithFiles;
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/compliance.html")]
struct CompliancePage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    cards: Vec<ScorecardView>,
    requirement_base: String,
    assess: bool,
    notice: &'static str,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let cards = tx.compliance_now(company).await?;
    tx.commit().await?;
    let notice = match done.done.as_str() {
        "assessed" => "The assessment was recorded: the client's portal shows it.",
        _ => "",
    };
    let title = format!("Compliance — {}", summary.name);
    let chrome = Chrome::signed_in(&auth, &title, "/companies");
    let brand = chrome.brand_name.clone();
    Ok(render::ok(&CompliancePage {
        chrome,
        company_id: company,
        company_name: summary.name,
        cards: cards.into_iter().map(|c| view(c, &brand)).collect(),
        requirement_base: format!("/companies/{company}/compliance"),
        assess: true,
        notice,
    }))
}

/// Records a framework's scorecard, as judged now, as an assessment (`framework=e8|cis`).
pub(crate) async fn assess(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.record_assessment(company, form.get("framework")).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/compliance?done=assessed"
    )))
}

#[derive(Template)]
#[template(path = "console/compliance_requirement.html")]
struct RequirementPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    view: RequirementView,
    /// Where the finding stands, in words.
    status: &'static str,
    tone: &'static str,
    judged_by: String,
    rule: Option<String>,
    judgements: Vec<(Attestation, &'static str)>,
    form: AttestationForm,
    errors: FieldErrors,
    notice: &'static str,
}

async fn requirement_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    requirement: RequirementRef,
    form: Option<AttestationForm>,
    errors: FieldErrors,
    notice: &'static str,
) -> Result<RequirementPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let view = tx.compliance_requirement(company, requirement.0).await?;
    tx.commit().await?;
    let today = jiff::Zoned::now().date().to_string();
    let judgements = view
        .judgements
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let standing = if i > 0 {
                "Superseded"
            } else if j.expired(&today) {
                "Expired"
            } else {
                "In force"
            };
            (j.clone(), standing)
        })
        .collect();
    let title = format!("{} — {}", view.requirement.id, summary.name);
    let chrome = Chrome::signed_in(auth, &title, "/companies");
    let judged_by = match view.finding.source {
        portico_core::compliance::Source::Records => "From the records".to_owned(),
        portico_core::compliance::Source::Staff => format!("Judged by {}", chrome.brand_name),
        portico_core::compliance::Source::None => String::new(),
    };
    Ok(RequirementPage {
        company_id: company,
        company_name: summary.name,
        status: view.finding.status.label(),
        tone: status_tone(view.finding.status),
        judged_by,
        rule: view.requirement.rule.as_ref().map(|r| r.describe()),
        judgements,
        form: form.unwrap_or_default(),
        errors,
        notice,
        view,
        chrome,
    })
}

pub(crate) async fn requirement(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
    IdPath((company, requirement)): IdPath<(CompanyId, RequirementRef)>,
) -> Result<Response, WebError> {
    let notice = match done.done.as_str() {
        "judged" => "The judgement was recorded. Record an assessment for the client to see it.",
        _ => "",
    };
    let page = requirement_page(
        &state,
        &auth,
        company,
        requirement,
        None,
        FieldErrors::default(),
        notice,
    )
    .await?;
    Ok(render::ok(&page))
}

fn form_of(form: &FormData) -> AttestationForm {
    AttestationForm {
        status: form.get("status").to_owned(),
        note: form.get("note").to_owned(),
        expires_on: form.get("expires_on").to_owned(),
    }
}

/// Records a judgement of the requirement, with an evidence file if one was attached; a refused
/// form comes back with its values.
pub(crate) async fn attest(
    State(state): State<AppState>,
    auth: Auth,
    mut upload: FormWithFiles<(CompanyId, RequirementRef)>,
) -> Result<Response, WebError> {
    let (company, requirement) = upload.path;
    let form = form_of(&upload.form);
    let refuse = |message: String| FieldErrors(vec![("evidence".to_owned(), message)]);
    let evidence = if let Some(message) = &upload.file_error {
        Err(refuse(format!("{message} Choose the file again.")))
    } else {
        match upload.files.as_slice() {
            [] => Ok(None),
            [file] => Ok(Some(Evidence {
                blob_key: file.key.as_str().to_owned(),
                file_name: file.file_name.clone(),
                size: file.size as i64,
            })),
            _ => Err(refuse("Attach one file. Choose it again.".into())),
        }
    };
    let evidence = match evidence {
        Ok(evidence) => evidence,
        Err(errors) => {
            let page =
                requirement_page(&state, &auth, company, requirement, Some(form), errors, "")
                    .await?;
            return Ok(render::refused(&page));
        }
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .attest(company, requirement.0, &form, evidence.as_ref())
        .await
    {
        Ok(_) => {
            upload.commit_files().await?;
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/compliance/{}?done=judged",
                requirement.0
            )))
        }
        Err(StoreError::InvalidFields(mut errors)) => {
            drop(tx);
            if evidence.is_some() {
                errors.push((
                    "evidence".into(),
                    "Nothing was saved: choose the file again.".into(),
                ));
            }
            let page = requirement_page(
                &state,
                &auth,
                company,
                requirement,
                Some(form),
                FieldErrors(errors),
                "",
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

/// A judgement's evidence file.
pub(crate) async fn evidence(
    State(state): State<AppState>,
    auth: Auth,
    IdPath((company, id)): IdPath<(CompanyId, AttestationId)>,
) -> Result<Response, WebError> {
    crate::attachments::compliance_evidence(&state, &auth, company, id).await
}
