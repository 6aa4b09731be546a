//! Staff users, their roles and company assignments.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{CompanyId, StaffRole, StaffUserId};
use portico_store::scoped::companies::CompanySummary;
use portico_store::scoped::staff::StaffUser;
use portico_store::{StoreError, SurfaceKind};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/staff.html")]
struct StaffPage {
    chrome: Chrome,
    staff: Vec<StaffUser>,
    companies: Vec<CompanySummary>,
    roles: &'static [StaffRole],
    name: String,
    email: String,
    role: String,
    error: String,
    notice: String,
    /// Every staff member must use two-step verification.
    mfa_required: bool,
    /// Who has it on, since when.
    mfa: Vec<(StaffUserId, i64)>,
    me: Option<StaffUserId>,
}

impl StaffPage {
    fn assigned(&self, user: &StaffUser, company: &CompanySummary) -> bool {
        user.assigned.contains(&company.id)
    }

    fn is_me(&self, user: &StaffUser) -> bool {
        self.me == Some(user.id)
    }

    fn mfa_since(&self, user: &StaffUser) -> Option<i64> {
        self.mfa
            .iter()
            .find(|(id, _)| *id == user.id)
            .map(|(_, at)| *at)
    }
}

async fn staff_page(
    state: &AppState,
    auth: &Auth,
    form: Option<&FormData>,
    error: String,
    notice: &str,
) -> Result<StaffPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let staff = tx.staff_users().await?;
    let companies = tx.companies(false).await?;
    let mfa_required = tx.staff_mfa_required().await?;
    let mfa = tx.staff_mfa().await?;
    tx.commit().await?;
    Ok(StaffPage {
        mfa_required,
        mfa,
        me: match auth.scope.actor() {
            portico_core::Actor::Staff(id) => Some(id),
            _ => None,
        },
        chrome: Chrome::signed_in(auth, "Staff", "/staff"),
        staff,
        companies,
        roles: StaffRole::ALL,
        name: form.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        email: form.map(|f| f.get("email").to_owned()).unwrap_or_default(),
        role: form
            .map(|f| f.get("role").to_owned())
            .unwrap_or_else(|| "technician".into()),
        error,
        notice: notice.to_owned(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let notice = match query.as_deref() {
        Some("added") => "Staff member added; their invitation is in the outbox.",
        Some("saved") => "Saved.",
        Some("mfa-reset") => {
            "Two-step verification was reset: they sign in with their password and set up their app again."
        }
        Some("mfa-required") => {
            "Two-step verification is now required: staff without it set it up at their next sign-in."
        }
        Some("mfa-optional") => "Two-step verification is now optional for staff.",
        _ => "",
    };
    Ok(render::ok(
        &staff_page(&state, &auth, None, String::new(), notice).await?,
    ))
}

/// The staff list as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let staff = tx.staff_users().await?;
    let companies = tx.companies(false).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, None, "Staff (CSV)", "")?;
    Ok(crate::csv_export::staff(&staff, &companies))
}

pub(crate) async fn add(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.staff_users().await?;
    let error = match StaffRole::parse(form.get("role")) {
        None => "Choose a role.".to_owned(),
        Some(role) => match tx
            .add_staff_user(form.get("name"), form.get("email"), role)
            .await
        {
            Ok((_, token)) => {
                let hostname = state
                    .store
                    .public()
                    .await?
                    .hostname(auth.site.workspace_id, SurfaceKind::Console)
                    .await?
                    .ok_or_else(|| {
                        WebError::BadRequest(
                            "This workspace has no console hostname configured.".into(),
                        )
                    })?;
                let brand = &auth.site.branding.name;
                let link = format!("{}/setup?token={token}", state.config.base_url(&hostname));
                let body = format!(
                    "Hello {},\n\nYou have been added to the {brand} console. Choose your password here (the link \
                     works once, for 7 days):\n\n{link}\n",
                    form.get("name").trim()
                );
                tx.queue_mail(
                    None,
                    form.get("email").trim(),
                    &format!("Your {brand} console account"),
                    &body,
                )
                .await?;
                tx.commit().await?;
                return Ok(see_other("/staff?added"));
            }
            Err(StoreError::Invalid(m)) => m,
            Err(StoreError::Conflict(_)) => {
                "A staff member with this e-mail address already exists.".into()
            }
            Err(e) => return Err(e.into()),
        },
    };
    drop(tx);
    Ok(render::refused(
        &staff_page(&state, &auth, Some(&form), error, "").await?,
    ))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: staff,
    }: SignedForm<StaffUserId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.staff_user(staff).await?;
    let role = StaffRole::parse(form.get("role"));
    let assigned: Option<Vec<CompanyId>> = form
        .all("companies")
        .into_iter()
        .map(CompanyId::parse)
        .collect();
    let error = match (role, assigned) {
        (None, _) => "Choose a role.".to_owned(),
        (_, None) => "Choose companies of this workspace.".to_owned(),
        (Some(role), Some(assigned)) => {
            match tx
                .update_staff_user(staff, role, &assigned, form.checked("disabled"))
                .await
            {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(see_other("/staff?saved"));
                }
                Err(StoreError::Invalid(m)) => m,
                Err(e) => return Err(e.into()),
            }
        }
    };
    drop(tx);
    Ok(render::refused(
        &staff_page(&state, &auth, None, error, "").await?,
    ))
}

/// Requires (or stops requiring) two-step verification of every staff member.
pub(crate) async fn set_mfa_required(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let required = form.checked("mfa_required");
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_staff_mfa_required(required).await?;
    tx.commit().await?;
    Ok(see_other(if required {
        "/staff?mfa-required"
    } else {
        "/staff?mfa-optional"
    }))
}

/// Resets a staff member's two-step verification (a lost phone).
pub(crate) async fn reset_mfa(
    State(state): State<AppState>,
    SignedForm {
        auth, path: staff, ..
    }: SignedForm<StaffUserId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.reset_staff_mfa(staff).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other("/staff?mfa-reset"))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            Ok(render::refused(
                &staff_page(&state, &auth, None, message, "").await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
