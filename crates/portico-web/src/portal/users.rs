//! P19 Users: a client admin manages the company's portal users (§1) — invites, edits role,
//! sites and own-tickets-only, disables and re-enables, resends invitations — never above their
//! own rights (the store refuses it), never another company's, never billing access unless they
//! hold it. What they cannot do themselves (another company, billing access) is a change request.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, PortalRole, PortalUserId, Principal, Section, SiteId};
use portico_store::StoreError;
use portico_store::scoped::companies::Site;
use portico_store::scoped::portal_users::{PortalUser, within_rights};
use portico_store::scoped::record_history::RecordEdit;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::user_admin::{UserForm, mail_invitation, queue_invitation};
use crate::{AppState, see_other};

/// The roles a client admin may give (all of them: a client admin is the highest portal role).
const ROLES: &[PortalRole] = PortalRole::ALL;

fn portal(auth: &Auth) -> Result<&portico_core::PortalPrincipal, WebError> {
    match &*auth.principal {
        Principal::Portal(portal) => Ok(portal),
        Principal::Staff(_) => Err(WebError::NotFound),
    }
}

fn heading(portal: &portico_core::PortalPrincipal) -> String {
    portal
        .section_label(Section::Users)
        .unwrap_or(Section::Users.label())
        .to_owned()
}

/// The sites a client admin may give: theirs when they have some, else every site.
fn grantable_sites(auth: &Auth, sites: Vec<Site>) -> Vec<Site> {
    match auth.scope.sites() {
        None => sites,
        Some(mine) => sites
            .into_iter()
            .filter(|s| mine.iter().any(|m| m.to_string() == s.id))
            .collect(),
    }
}

/// One row of the list: the user and whether the reader may manage them.
struct Row {
    user: PortalUser,
    manageable: bool,
    is_me: bool,
}

#[derive(Template)]
#[template(path = "portal/users.html")]
struct ListPage {
    chrome: Chrome,
    heading: String,
    rows: Vec<Row>,
    sites: Vec<Site>,
    notice: &'static str,
    can_request_change: bool,
}

impl ListPage {
    fn site_names(&self, ids: &[SiteId]) -> String {
        site_names(&self.sites, ids)
    }
}

fn site_names(sites: &[Site], ids: &[SiteId]) -> String {
    if ids.is_empty() {
        return "All sites".into();
    }
    ids.iter()
        .filter_map(|id| {
            sites
                .iter()
                .find(|s| s.id == id.to_string())
                .map(|s| s.name.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<DoneQuery>,
) -> Result<Response, WebError> {
    let portal = portal(&auth)?;
    let company = portal.company_id();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let users = tx.portal_users(company).await?;
    let sites = tx.sites(company).await?;
    tx.commit().await?;
    let notice = match query.done.as_str() {
        "invited" => "Invitation sent.",
        _ => "",
    };
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, &heading(portal), "/users"),
        heading: heading(portal),
        rows: users
            .into_iter()
            .map(|user| Row {
                manageable: within_rights(&auth.scope, &user),
                is_me: user.id == portal.user_id(),
                user,
            })
            .collect(),
        sites,
        notice,
        can_request_change: auth.scope.may(Action::RequestChanges).is_ok(),
    }))
}

/// The company's users as CSV (client admins only, like the list).
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let company = portal(&auth)?.company_id();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let users = tx.portal_users(company).await?;
    let sites = tx.sites(company).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, None, "Users (CSV)", "")?;
    Ok(crate::csv_export::portal_users(&users, &sites))
}

#[derive(Template)]
#[template(path = "portal/user_invite.html")]
struct InvitePage {
    chrome: Chrome,
    heading: String,
    sites: Vec<Site>,
    roles: &'static [PortalRole],
    form: UserForm,
    error: String,
    domains: Vec<String>,
    can_grant_billing: bool,
    /// The admin sees their own tickets only: so will everyone they invite.
    own_only_required: bool,
}

async fn invite_page(
    state: &AppState,
    auth: &Auth,
    form: UserForm,
    error: String,
) -> Result<InvitePage, WebError> {
    let portal = portal(auth)?;
    let company = portal.company_id();
    let mut tx = state.store.scoped(&auth.scope).await?;
    tx.require_user_admin(company).await?;
    let sites = grantable_sites(auth, tx.sites(company).await?);
    let domains = tx.company_email_domains(company).await?;
    tx.commit().await?;
    Ok(InvitePage {
        chrome: Chrome::signed_in(auth, "Invite a user", "/users"),
        heading: heading(portal),
        sites,
        roles: ROLES,
        form,
        error,
        domains,
        can_grant_billing: auth.scope.billing(),
        own_only_required: auth.scope.requester().is_some(),
    })
}

pub(crate) async fn new_user(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let form = UserForm {
        role: PortalRole::Member.as_str().into(),
        own_only: auth.scope.requester().is_some(),
        ..UserForm::default()
    };
    Ok(render::ok(
        &invite_page(&state, &auth, form, String::new()).await?,
    ))
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = portal(&auth)?.company_id();
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
                return Ok(see_other("/users?done=invited"));
            }
            Err(StoreError::Invalid(m)) => m,
            Err(StoreError::Conflict(_)) => {
                "A user with this e-mail address already exists.".into()
            }
            Err(e) => return Err(e.into()),
        },
    };
    drop(tx);
    Ok(render::refused(
        &invite_page(&state, &auth, typed, error).await?,
    ))
}

#[derive(Template)]
#[template(path = "portal/user.html")]
struct UserPage {
    chrome: Chrome,
    heading: String,
    user: PortalUser,
    sites: Vec<Site>,
    all_sites: Vec<Site>,
    roles: &'static [PortalRole],
    form: UserForm,
    error: String,
    notice: &'static str,
    manageable: bool,
    is_me: bool,
    can_grant_billing: bool,
    own_only_required: bool,
    can_request_change: bool,
    history: Vec<RecordEdit>,
}

impl UserPage {
    fn site_names(&self, ids: &[SiteId]) -> String {
        site_names(&self.all_sites, ids)
    }
}

async fn user_page(
    state: &AppState,
    auth: &Auth,
    user: PortalUserId,
    form: Option<UserForm>,
    error: String,
    notice: &'static str,
) -> Result<UserPage, WebError> {
    let portal = portal(auth)?;
    let company = portal.company_id();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let target = tx.portal_user(company, user).await?;
    tx.audit_viewed(
        company,
        portico_core::AuditTarget::new("portal_user", user, target.name.clone()),
    )?;
    let all_sites = tx.sites(company).await?;
    let history = tx.portal_user_history(company, user).await?;
    tx.commit().await?;
    Ok(UserPage {
        chrome: Chrome::signed_in(auth, &target.name, "/users"),
        heading: heading(portal),
        form: form.unwrap_or_else(|| UserForm::from_user(&target)),
        manageable: within_rights(&auth.scope, &target),
        is_me: target.id == portal.user_id(),
        user: target,
        sites: grantable_sites(auth, all_sites.clone()),
        all_sites,
        roles: ROLES,
        error,
        notice,
        can_grant_billing: auth.scope.billing(),
        own_only_required: auth.scope.requester().is_some(),
        can_request_change: auth.scope.may(Action::RequestChanges).is_ok(),
        history,
    })
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<DoneQuery>,
    IdPath(user): IdPath<PortalUserId>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_str() {
        "saved" => "Saved.",
        "disabled" => "The user was disabled and signed out everywhere.",
        "enabled" => "The user was enabled.",
        "resent" => "A new invitation was sent; the previous link no longer works.",
        _ => "",
    };
    Ok(render::ok(
        &user_page(&state, &auth, user, None, String::new(), notice).await?,
    ))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: user,
    }: SignedForm<PortalUserId>,
) -> Result<Response, WebError> {
    let company = portal(&auth)?.company_id();
    let typed = UserForm::from_form(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.require_user_admin(company).await?;
    tx.manageable_user(company, user).await?;
    let error = match typed.fields() {
        Err(message) => message,
        Ok(fields) => match tx.update_portal_user(company, user, &fields).await {
            Ok(()) => {
                tx.commit().await?;
                return Ok(see_other(&format!("/users/{user}?done=saved")));
            }
            Err(StoreError::Invalid(m)) => m,
            Err(e) => return Err(e.into()),
        },
    };
    drop(tx);
    Ok(render::refused(
        &user_page(&state, &auth, user, Some(typed), error, "").await?,
    ))
}

async fn set_disabled(
    state: &AppState,
    auth: &Auth,
    user: PortalUserId,
    disabled: bool,
) -> Result<Response, WebError> {
    let company = portal(auth)?.company_id();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_portal_user_disabled(company, user, disabled).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/users/{user}?done={}",
        if disabled { "disabled" } else { "enabled" }
    )))
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    SignedForm {
        auth, path: user, ..
    }: SignedForm<PortalUserId>,
) -> Result<Response, WebError> {
    set_disabled(&state, &auth, user, true).await
}

pub(crate) async fn enable(
    State(state): State<AppState>,
    SignedForm {
        auth, path: user, ..
    }: SignedForm<PortalUserId>,
) -> Result<Response, WebError> {
    set_disabled(&state, &auth, user, false).await
}

pub(crate) async fn resend(
    State(state): State<AppState>,
    SignedForm {
        auth, path: user, ..
    }: SignedForm<PortalUserId>,
) -> Result<Response, WebError> {
    let company = portal(&auth)?.company_id();
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
    Ok(see_other(&format!("/users/{user}?done=resent")))
}
