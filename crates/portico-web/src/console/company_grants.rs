//! Client groups from the console: granting a portal user further companies of the workspace,
//! each with a role (and billing access, from those who hold it), and taking them away.

use axum::extract::State;
use axum::response::Response;
use portico_core::{CompanyId, PortalRole, PortalUserId};
use portico_store::StoreError;

use crate::auth::SignedForm;
use crate::console::portal_users::{Shown, edit_page};
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::{AppState, see_other};

pub(crate) async fn grant(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, user),
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.portal_user(company, user).await?;
    auth.scope.may(portico_core::Action::ManageCompanies)?;
    let mut refusals = Vec::new();
    let to = CompanyId::parse(form.get("grant_company"));
    if to.is_none() {
        refusals.push((
            "grant_company".to_owned(),
            "Choose one of the listed companies.".to_owned(),
        ));
    }
    let role = PortalRole::parse(form.get("grant_role"));
    if role.is_none() {
        refusals.push(("grant_role".to_owned(), "Choose a role.".to_owned()));
    }
    let result = match (to, role) {
        (Some(to), Some(role)) if refusals.is_empty() => {
            tx.grant_company(company, user, to, role, form.checked("grant_billing"))
                .await
        }
        _ => Err(StoreError::InvalidFields(refusals)),
    };
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/users/{user}?done=granted"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let shown = Shown {
                grant_errors: FieldErrors(errors),
                ..Shown::default()
            };
            let page = edit_page(&state, &auth, company, user, shown).await?;
            Ok(page.refused())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, user),
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.portal_user(company, user).await?;
    auth.scope.may(portico_core::Action::ManageCompanies)?;
    let from = CompanyId::parse(form.get("grant_company"))
        .ok_or_else(|| WebError::BadRequest("Choose a granted company.".into()))?;
    tx.revoke_company(company, user, from).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/users/{user}?done=revoked"
    )))
}
