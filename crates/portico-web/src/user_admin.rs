//! What both surfaces' user management shares (C5 in the console, §1's client admins in the
//! portal's Users section): the invite/edit form as typed, and the mail an invitation sends.

use portico_core::{CompanyId, PortalRole, Principal, Scope, SiteId};
use portico_store::SurfaceKind;
use portico_store::scoped::portal_users::{PortalUser, PortalUserFields};

use crate::auth::Auth;
use crate::error::WebError;
use crate::forms::FormData;
use crate::{AppState, Site};

/// The invite/edit form's values, kept as typed so a refusal shows them again.
#[derive(Default)]
pub(crate) struct UserForm {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) sites: Vec<String>,
    pub(crate) own_only: bool,
    pub(crate) billing_access: bool,
}

impl UserForm {
    pub(crate) fn from_form(form: &FormData) -> UserForm {
        UserForm {
            name: form.get("name").to_owned(),
            email: form.get("email").to_owned(),
            role: form.get("role").to_owned(),
            sites: form.all("sites").into_iter().map(str::to_owned).collect(),
            own_only: form.checked("own_only"),
            billing_access: form.checked("billing_access"),
        }
    }

    pub(crate) fn from_user(user: &PortalUser) -> UserForm {
        UserForm {
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role.as_str().to_owned(),
            sites: user.sites.iter().map(|s| s.to_string()).collect(),
            own_only: user.own_only,
            billing_access: user.billing_access,
        }
    }

    pub(crate) fn fields(&self) -> Result<PortalUserFields, String> {
        let role = PortalRole::parse(&self.role).ok_or("Choose a role.")?;
        let sites = self
            .sites
            .iter()
            .map(|s| SiteId::parse(s).ok_or("Choose sites of this company."))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PortalUserFields {
            name: self.name.clone(),
            email: self.email.clone(),
            role,
            sites,
            own_only: self.own_only,
            billing_access: self.billing_access,
        })
    }

    pub(crate) fn has_site(&self, id: &str) -> bool {
        self.sites.iter().any(|s| s == id)
    }
}

/// Who invites, as the mail names them: a signed-in person (console or portal) or an API
/// token acting for its owner.
#[derive(Clone, Copy)]
pub(crate) struct Inviter<'a> {
    pub(crate) principal: &'a Principal,
    pub(crate) scope: &'a Scope,
    /// The console or portal the invitation came through: its workspace and brand.
    pub(crate) site: &'a Site,
}

impl<'a> From<&'a Auth> for Inviter<'a> {
    fn from(auth: &'a Auth) -> Inviter<'a> {
        Inviter {
            principal: &auth.principal,
            scope: &auth.scope,
            site: &auth.site,
        }
    }
}

/// The workspace's portal address, from its configured hostname (never the request's).
pub(crate) async fn portal_base_url(state: &AppState, by: Inviter<'_>) -> Result<String, WebError> {
    let hostname = state
        .store
        .public()
        .await?
        .hostname(by.site.workspace_id, SurfaceKind::Portal)
        .await?
        .ok_or_else(|| {
            WebError::BadRequest("This workspace has no portal hostname configured yet.".into())
        })?;
    Ok(state.config.base_url(&hostname))
}

/// Writes the invitation e-mail; the link is built from the workspace's configured portal
/// hostname, never from the request.
pub(crate) async fn queue_invitation(
    state: &AppState,
    by: Inviter<'_>,
    tx: &mut portico_store::ScopedTx<'_>,
    company: CompanyId,
    name: &str,
    email: &str,
    token: &str,
) -> Result<(), WebError> {
    let brand = &by.site.branding.name;
    let link = format!("{}/setup?token={token}", portal_base_url(state, by).await?);
    let body = format!(
        "Hello {name},\n\n{brand} has invited you to its client portal, where you can raise and follow \
         support tickets.\n\nChoose your password here (the link works once, for 7 days):\n\n{link}\n\n{brand}"
    );
    tx.queue_mail(
        Some(company),
        email,
        &format!("Your {brand} portal invitation"),
        &body,
    )
    .await?;
    Ok(())
}

/// Mails what an invitation did, in its transaction: the new user's invitation and a word to
/// the company's client admins, or, for an address with an account elsewhere in the workspace,
/// a note to its owner to sign in (the inviter sees the same answer either way).
pub(crate) async fn mail_invitation(
    state: &AppState,
    by: Inviter<'_>,
    tx: &mut portico_store::ScopedTx<'_>,
    company: CompanyId,
    fields: &PortalUserFields,
    invitation: portico_store::scoped::portal_users::Invitation,
) -> Result<(), WebError> {
    use portico_store::scoped::portal_users::Invitation;
    match invitation {
        Invitation::Created { token, .. } => {
            queue_invitation(
                state,
                by,
                tx,
                company,
                fields.name.trim(),
                fields.email.trim(),
                &token,
            )
            .await?;
            tell_client_admins(by, tx, company, fields).await
        }
        Invitation::AddressTaken => {
            queue_existing_account_notice(state, by, tx, company, fields).await
        }
    }
}

/// Tells the company's client admins of a new portal user, so that an account nobody at the
/// client asked for does not go unnoticed.
async fn tell_client_admins(
    by: Inviter<'_>,
    tx: &mut portico_store::ScopedTx<'_>,
    company: CompanyId,
    fields: &PortalUserFields,
) -> Result<(), WebError> {
    let admins = tx.client_admin_addresses(company).await?;
    let invited = fields.email.trim().to_lowercase();
    // A client admin inviting from the portal knows already; their fellow admins are told.
    let (company_name, inviter, own_address) = match by.principal {
        Principal::Portal(portal) => (
            portal.company_name().to_owned(),
            format!(
                "{} (a client admin at {})",
                portal.name(),
                portal.company_name()
            ),
            portal.email().to_lowercase(),
        ),
        Principal::Staff(_) => (
            tx.company(company).await?.name,
            format!("{} of {}", by.scope.actor_name(), by.site.branding.name),
            String::new(),
        ),
    };
    let brand = &by.site.branding.name;
    let (name, role) = (fields.name.trim(), fields.role.label());
    for admin in admins
        .iter()
        .filter(|a| **a != invited && **a != own_address)
    {
        let body = format!(
            "Hello,\n\n{inviter} has invited {name} ({invited}) to the {company_name} \
             portal, with the role {role}.\n\nIf nobody at {company_name} asked for this, tell \
             {brand} at once, or disable the user from the portal.\n\n{brand}"
        );
        tx.queue_mail(
            Some(company),
            admin,
            &format!("New portal user at {company_name}: {name}"),
            &body,
        )
        .await?;
    }
    Ok(())
}

/// An invitation to an address that already has a portal account elsewhere in the workspace:
/// the address's owner is told to sign in, and the inviter sees the usual answer.
async fn queue_existing_account_notice(
    state: &AppState,
    by: Inviter<'_>,
    tx: &mut portico_store::ScopedTx<'_>,
    company: CompanyId,
    fields: &PortalUserFields,
) -> Result<(), WebError> {
    queue_account_exists(state, by, tx, company, fields.email.trim()).await
}

async fn queue_account_exists(
    state: &AppState,
    by: Inviter<'_>,
    tx: &mut portico_store::ScopedTx<'_>,
    company: CompanyId,
    email: &str,
) -> Result<(), WebError> {
    let brand = &by.site.branding.name;
    let link = format!("{}/login", portal_base_url(state, by).await?);
    let body = format!(
        "Hello,\n\n{brand} tried to invite you to its client portal, but this address already \
         has an account there. Sign in here (if you have forgotten your password, choose \
         \"Forgot your password?\" on that page):\n\n{link}\n\nIf you need to see another \
         company's tickets, ask {brand}.\n\n{brand}"
    );
    tx.queue_mail(
        Some(company),
        email,
        &format!("Your {brand} portal invitation"),
        &body,
    )
    .await?;
    Ok(())
}

/// The mail an imported file of portal users sends, in the import's transaction: each new
/// user's invitation (or, for an address with an account elsewhere, a note to sign in), and
/// one summary per company to its client admins.
pub(crate) async fn queue_imported_invitations(
    state: &AppState,
    by: Inviter<'_>,
    tx: &mut portico_store::ScopedTx<'_>,
    invitations: &[portico_store::scoped::imports::ImportedInvitation],
) -> Result<(), WebError> {
    let mut companies: Vec<CompanyId> = Vec::new();
    for invited in invitations {
        match &invited.token {
            Some(token) => {
                queue_invitation(
                    state,
                    by,
                    tx,
                    invited.company,
                    &invited.name,
                    &invited.email,
                    token,
                )
                .await?
            }
            None => queue_account_exists(state, by, tx, invited.company, &invited.email).await?,
        }
        if !companies.contains(&invited.company) {
            companies.push(invited.company);
        }
    }
    let brand = &by.site.branding.name;
    for company in companies {
        let company_name = tx.company(company).await?.name;
        let list: Vec<String> = invitations
            .iter()
            .filter(|i| i.company == company)
            .map(|i| format!("- {} ({})", i.name, i.email))
            .collect();
        let body = format!(
            "Hello,\n\n{} of {brand} has invited these people to the {company_name} portal:\n\n{}\n\n\
             If nobody at {company_name} asked for this, tell {brand} at once, or disable the users \
             from the portal.\n\n{brand}",
            by.scope.actor_name(),
            list.join("\n")
        );
        for admin in tx.client_admin_addresses(company).await? {
            tx.queue_mail(
                Some(company),
                &admin,
                &format!("New portal users at {company_name}"),
                &body,
            )
            .await?;
        }
    }
    Ok(())
}
