//! A company's portal users: invite, edit, disable, enable, resend the invitation.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, CompanyId, PortalRole, PortalUserId, SiteId};
use portico_store::StoreError;
use portico_store::scoped::companies::Site;
use portico_store::scoped::company_grants::CompanyGrant;
use portico_store::scoped::portal_users::{PortalUser, parse_domains};
use portico_store::scoped::view_as::ViewedAs;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::user_admin::{UserForm, mail_invitation, queue_invitation};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/portal_users.html")]
struct ListPage {
    chrome: Chrome,
    company_id: String,
    company_name: String,
    users: Vec<PortalUser>,
    sites: Vec<Site>,
    roles: &'static [PortalRole],
    form: UserForm,
    error: String,
    notice: String,
    can_manage: bool,
    can_grant_billing: bool,
    /// The company's e-mail domains, and the domains form as typed (kept on a refusal).
    domains: Vec<String>,
    domains_text: String,
    domains_error: String,
    can_set_domains: bool,
    /// Viewing the portal as a role: whether the staff member may, the form as typed (kept on a
    /// refusal) and the portal's origin its answer redirects to.
    can_view_as: bool,
    role_view: RoleViewForm,
    portal_origin: String,
}

/// The view-as-a-role form as typed.
#[derive(Default)]
struct RoleViewForm {
    role: String,
    own_only: bool,
    billing: bool,
    reason: String,
    error: String,
}

impl ListPage {
    fn site_names(&self, ids: &[SiteId]) -> String {
        ids.iter()
            .filter_map(|id| {
                self.sites
                    .iter()
                    .find(|s| s.id == id.to_string())
                    .map(|s| s.name.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    form: UserForm,
    error: String,
    notice: String,
) -> Result<ListPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let company_name = tx.company(company).await?.name;
    let users = tx.portal_users(company).await?;
    let sites = tx.sites(company).await?;
    let domains = tx.company_email_domains(company).await?;
    tx.commit().await?;
    let can_view_as = auth.scope.may(Action::ViewAsPortalUser).is_ok();
    let portal_origin = portal_origin(state, auth, can_view_as).await?;
    Ok(ListPage {
        can_view_as,
        role_view: RoleViewForm {
            role: PortalRole::Member.as_str().into(),
            ..RoleViewForm::default()
        },
        portal_origin,
        domains_text: domains.join(", "),
        domains,
        domains_error: String::new(),
        can_set_domains: auth.scope.may(Action::ManageCompanyDomains).is_ok(),
        chrome: Chrome::signed_in(auth, "Portal users", "/companies"),
        company_id: company.to_string(),
        company_name,
        users,
        sites,
        roles: PortalRole::ALL,
        form,
        error,
        notice,
        can_manage: auth.scope.may(Action::ManagePortalUsers).is_ok(),
        can_grant_billing: auth.scope.billing(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let notice = match query.as_deref() {
        Some("invited") => "Invitation sent.",
        Some("resent") => "A new invitation was sent; the previous link no longer works.",
        Some("saved") => "Saved.",
        Some("disabled") => "The user was disabled and signed out everywhere.",
        Some("enabled") => "The user was enabled.",
        Some("domains") => "The company's e-mail domains were saved.",
        _ => "",
    };
    let form = UserForm {
        role: PortalRole::Member.as_str().into(),
        ..UserForm::default()
    };
    let page = list_page(&state, &auth, company, form, String::new(), notice.into()).await?;
    Ok(allow_portal_form_target(
        render::ok(&page),
        &page.portal_origin,
    ))
}

/// A company's portal users as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let users = tx.portal_users(company).await?;
    let sites = tx.sites(company).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, Some(company), "Portal users (CSV)", "")?;
    Ok(crate::csv_export::portal_users(&users, &sites))
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let typed = UserForm::from_form(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.require_user_admin(company).await?;
    let error = match typed.fields() {
        Err(message) => message,
        Ok(fields) => match tx.invite_portal_user(company, &fields).await {
            Ok(invitation) => {
                mail_invitation(
                    &state,
                    (&auth).into(),
                    &mut tx,
                    company,
                    &fields,
                    invitation,
                )
                .await?;
                tx.commit().await?;
                // The same answer whether or not the address was new to the workspace.
                return Ok(see_other(&format!("/companies/{company}/users?invited")));
            }
            Err(StoreError::Invalid(m)) => m,
            Err(StoreError::Conflict(_)) => {
                "A portal user with this e-mail address already exists.".into()
            }
            Err(e) => return Err(e.into()),
        },
    };
    drop(tx);
    let page = list_page(&state, &auth, company, typed, error, String::new()).await?;
    Ok(allow_portal_form_target(
        render::refused(&page),
        &page.portal_origin,
    ))
}

/// Saves a company's e-mail domains (owners only).
pub(crate) async fn set_domains(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.visible_company_for_domains(company).await?;
    let typed = form.get("domains").to_owned();
    let error = match parse_domains(&typed) {
        Ok(domains) => {
            tx.set_company_email_domains(company, &domains).await?;
            tx.commit().await?;
            return Ok(see_other(&format!("/companies/{company}/users?domains")));
        }
        Err(StoreError::Invalid(message)) => message,
        Err(e) => return Err(e.into()),
    };
    drop(tx);
    let form = UserForm {
        role: PortalRole::Member.as_str().into(),
        ..UserForm::default()
    };
    let mut page = list_page(&state, &auth, company, form, String::new(), String::new()).await?;
    page.domains_text = typed;
    page.domains_error = error;
    Ok(allow_portal_form_target(
        render::refused(&page),
        &page.portal_origin,
    ))
}

#[derive(Template)]
#[template(path = "console/portal_user.html")]
pub(crate) struct EditPage {
    chrome: Chrome,
    company_id: String,
    company_name: String,
    user: PortalUser,
    sites: Vec<Site>,
    roles: &'static [PortalRole],
    form: UserForm,
    error: String,
    can_manage: bool,
    can_grant_billing: bool,
    /// Client groups: the further companies the user may switch to, and those that could be
    /// granted (owners only).
    grants: Vec<CompanyGrant>,
    grant_choices: Vec<(CompanyId, String)>,
    can_grant: bool,
    grant_errors: FieldErrors,
    notice: &'static str,
    history: Vec<portico_store::scoped::record_history::RecordEdit>,
    can_view_as: bool,
    view_as_reason: String,
    view_as_error: String,
    /// When the user turned two-step verification on, if they have.
    mfa_since: Option<i64>,
    can_reset_mfa: bool,
    /// The portal's origin, which the view-as form's answer redirects to.
    portal_origin: String,
}

/// A page's response whose policy lets a view-as form's answer go on to the portal's host
/// (browsers hold a form's redirects to the page's `form-action`).
fn allow_portal_form_target(mut response: Response, portal_origin: &str) -> Response {
    if !portal_origin.is_empty()
        && let Some(csp) = crate::headers::csp_with_form_target(portal_origin)
    {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// The portal's origin, for a page offering to view the portal (empty when it does not).
async fn portal_origin(
    state: &AppState,
    auth: &Auth,
    can_view_as: bool,
) -> Result<String, WebError> {
    Ok(if can_view_as {
        crate::mail_links(state, auth.site.workspace_id)
            .await?
            .portal
    } else {
        String::new()
    })
}

impl EditPage {
    /// The page with its status and its policy for the view-as form.
    pub(crate) fn respond(&self, status: axum::http::StatusCode) -> Response {
        allow_portal_form_target(render::page(status, self), &self.portal_origin)
    }

    pub(crate) fn refused(&self) -> Response {
        self.respond(axum::http::StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// How many companies the grant picker offers at most (a client group is a handful).
const GRANT_CHOICES: i64 = 500;

/// What a user's page shows beyond the stored user: a refused form as typed, a message.
#[derive(Default)]
pub(crate) struct Shown {
    pub(crate) form: Option<UserForm>,
    pub(crate) error: String,
    pub(crate) grant_errors: FieldErrors,
    pub(crate) notice: &'static str,
    /// A view-as request refused: the reason typed and why it was refused.
    pub(crate) view_as: Option<(String, String)>,
}

pub(crate) async fn edit_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    user: PortalUserId,
    shown: Shown,
) -> Result<EditPage, WebError> {
    let Shown {
        form,
        error,
        grant_errors,
        notice,
        view_as,
    } = shown;
    let (view_as_reason, view_as_error) = view_as.unwrap_or_default();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let company_name = tx.company(company).await?.name;
    let target = tx.portal_user(company, user).await?;
    tx.audit_viewed(
        company,
        portico_core::AuditTarget::new("portal_user", user, target.name.clone()),
    )?;
    let sites = tx.sites(company).await?;
    let grants = tx.company_grants(company, user).await?;
    let history = tx.portal_user_history(company, user).await?;
    let mfa_since = tx.portal_user_mfa(company, user).await?;
    let can_view_as = auth.scope.may(Action::ViewAsPortalUser).is_ok();
    let can_grant = auth.scope.may(Action::ManageCompanies).is_ok();
    let grant_choices = if can_grant {
        tx.company_names(GRANT_CHOICES)
            .await?
            .into_iter()
            .filter(|(id, _)| *id != company && !grants.iter().any(|g| g.company_id == *id))
            .collect()
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let portal_origin = portal_origin(state, auth, can_view_as).await?;
    Ok(EditPage {
        portal_origin,
        chrome: Chrome::signed_in(auth, &target.name, "/companies"),
        company_id: company.to_string(),
        company_name,
        form: form.unwrap_or_else(|| UserForm::from_user(&target)),
        user: target,
        sites,
        roles: PortalRole::ALL,
        error,
        can_manage: auth.scope.may(Action::ManagePortalUsers).is_ok(),
        can_grant_billing: auth.scope.billing(),
        grants,
        grant_choices,
        can_grant,
        grant_errors,
        notice,
        history,
        can_view_as,
        view_as_reason,
        view_as_error,
        mfa_since,
        can_reset_mfa: auth.scope.may(Action::ResetPortalUserMfa).is_ok(),
    })
}

/// Opens the portal as this user, read-only, for a reason the client will read (C6): checked
/// and audited here, then handed over to the portal's host with a single-use token.
pub(crate) async fn view_as(
    State(state): State<AppState>,
    SignedForm { auth, form, path }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let (company, user) = path;
    let reason = form.get("reason");
    match start_view(&state, &auth, company, ViewedAs::User(user), reason).await? {
        Ok(handover) => Ok(handover),
        Err(message) => refuse_view_as(&state, &auth, company, user, reason, message).await,
    }
}

/// Opens the portal as any user of a role of this company would see it, with the settings
/// chosen (own tickets only, plan and invoices): read-only, audited, like viewing as a user.
pub(crate) async fn view_as_role(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let typed = RoleViewForm {
        role: form.get("role").to_owned(),
        own_only: form.get("own_only") == "1",
        billing: form.get("billing") == "1",
        reason: form.get("reason").to_owned(),
        error: String::new(),
    };
    let refusal = match PortalRole::parse(&typed.role) {
        None => "Choose the role to view the portal as.".to_owned(),
        Some(role) => {
            let viewed = ViewedAs::Role {
                role,
                own_only: typed.own_only,
                billing: typed.billing,
            };
            match start_view(&state, &auth, company, viewed, &typed.reason).await? {
                Ok(handover) => return Ok(handover),
                Err(message) => message,
            }
        }
    };
    let form = UserForm {
        role: PortalRole::Member.as_str().into(),
        ..UserForm::default()
    };
    // A company out of sight is missing (the page says so) before the request is forbidden.
    let mut page = list_page(&state, &auth, company, form, String::new(), String::new()).await?;
    if !page.can_view_as {
        return Err(StoreError::Forbidden.into());
    }
    page.role_view = RoleViewForm {
        error: refusal,
        ..typed
    };
    Ok(allow_portal_form_target(
        render::refused(&page),
        &page.portal_origin,
    ))
}

/// Starts a view: the hand-over to the portal's host, or (inside) why the request was refused.
async fn start_view(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    viewed: ViewedAs,
    reason: &str,
) -> Result<Result<Response, String>, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let token = match tx.start_view_as(company, viewed, reason).await {
        Ok(token) => token,
        Err(StoreError::InvalidFields(fields)) => {
            let message = fields
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join(" ");
            return Ok(Err(message));
        }
        Err(StoreError::Invalid(message)) => return Ok(Err(message)),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let links = crate::mail_links(state, auth.site.workspace_id).await?;
    if links.portal.is_empty() {
        return Err(WebError::Internal(
            "the workspace has no portal hostname to view the portal on".into(),
        ));
    }
    Ok(Ok(see_other(&format!(
        "{}/view-as?token={token}",
        links.portal
    ))))
}

async fn refuse_view_as(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    user: PortalUserId,
    reason: &str,
    message: String,
) -> Result<Response, WebError> {
    let page = edit_page(
        state,
        auth,
        company,
        user,
        Shown {
            form: None,
            error: String::new(),
            grant_errors: FieldErrors::default(),
            notice: "",
            view_as: Some((reason.to_owned(), message)),
        },
    )
    .await?;
    Ok(page.refused())
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct EditQuery {
    #[serde(default)]
    done: Option<String>,
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<EditQuery>,
    IdPath((company, user)): IdPath<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_deref() {
        Some("granted") => "Company granted: the user can switch to it in the portal.",
        Some("revoked") => "Company taken away.",
        Some("mfa-reset") => {
            "Two-step verification was reset: the user signs in with their password and sets up their app again."
        }
        _ => "",
    };
    Ok(edit_page(
        &state,
        &auth,
        company,
        user,
        Shown {
            notice,
            ..Shown::default()
        },
    )
    .await?
    .respond(axum::http::StatusCode::OK))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, user),
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let typed = UserForm::from_form(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.require_user_admin(company).await?;
    tx.portal_user(company, user).await?;
    let error = match typed.fields() {
        Err(message) => message,
        Ok(fields) => match tx.update_portal_user(company, user, &fields).await {
            Ok(()) => {
                tx.commit().await?;
                return Ok(see_other(&format!("/companies/{company}/users?saved")));
            }
            Err(StoreError::Invalid(m)) => m,
            Err(e) => return Err(e.into()),
        },
    };
    drop(tx);
    Ok(edit_page(
        &state,
        &auth,
        company,
        user,
        Shown {
            form: Some(typed),
            error,
            ..Shown::default()
        },
    )
    .await?
    .refused())
}

async fn set_disabled(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    user: PortalUserId,
    disabled: bool,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_portal_user_disabled(company, user, disabled).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/users?{}",
        if disabled { "disabled" } else { "enabled" }
    )))
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: (company, user),
        ..
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    set_disabled(&state, &auth, company, user, true).await
}

pub(crate) async fn enable(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: (company, user),
        ..
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    set_disabled(&state, &auth, company, user, false).await
}

pub(crate) async fn resend(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: (company, user),
        ..
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let (target, token) = tx.resend_invite(company, user).await?;
    queue_invitation(
        &state,
        (&auth).into(),
        &mut tx,
        company,
        &target.name,
        &target.email,
        &token,
    )
    .await?;
    tx.commit().await?;
    Ok(see_other(&format!("/companies/{company}/users?resent")))
}

/// Resets the user's two-step verification (a lost phone), audited on the company's chain.
pub(crate) async fn reset_mfa(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: (company, user),
        ..
    }: SignedForm<(CompanyId, PortalUserId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.reset_portal_user_mfa(company, user).await {
        Ok(()) => {}
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = edit_page(
                &state,
                &auth,
                company,
                user,
                Shown {
                    error: message,
                    ..Shown::default()
                },
            )
            .await?;
            return Ok(page.refused());
        }
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/users/{user}?done=mfa-reset"
    )))
}
