//! A company's portal users (C5): invite, change, disable, resend.

use portico_core::{Action, Actor, CompanyId, PortalRole, PortalUserId, Scope, SiteId};

use crate::auth::{OneTimePurpose, SessionUser, issue_token};
use crate::scoped::record_history::{RecordEdit, RecordKind, Values};
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// How long an invitation link stays valid.
pub const INVITE_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone)]
pub struct PortalUser {
    pub id: PortalUserId,
    pub email: String,
    pub name: String,
    pub role: PortalRole,
    pub own_only: bool,
    pub billing_access: bool,
    pub disabled: bool,
    /// False until the invitation was accepted and a password chosen.
    pub activated: bool,
    pub sites: Vec<SiteId>,
}

/// What an invitation did. Callers answer both alike, so that nobody learns that an address
/// belongs to a portal user of a company they cannot see.
#[derive(Debug)]
pub enum Invitation {
    /// A new portal user and their invitation token.
    Created { id: PortalUserId, token: String },
    /// The address already belongs to a portal user of another company of the workspace:
    /// nothing was created; the address's owner may be told that they already have an account.
    AddressTaken,
}

/// At most this many e-mail domains per company.
pub const MAX_DOMAINS: usize = 20;

/// Parses a list of e-mail domains typed one per line or separated by commas or spaces:
/// lower-cased, a leading `@` dropped, duplicates removed, each checked for a domain's shape.
pub fn parse_domains(text: &str) -> Result<Vec<String>, StoreError> {
    let mut domains: Vec<String> = Vec::new();
    for word in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let domain = word.trim().trim_start_matches('@').to_lowercase();
        if domain.is_empty() {
            continue;
        }
        let shaped = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !shaped {
            return Err(StoreError::Invalid(format!(
                "\"{}\" is not a domain name like example.com.",
                word.trim()
            )));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > MAX_DOMAINS {
        return Err(StoreError::Invalid(format!(
            "Enter at most {MAX_DOMAINS} domains."
        )));
    }
    Ok(domains)
}

/// The domain of an address, lower-cased.
fn domain_of(email: &str) -> String {
    email
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .unwrap_or_default()
}

/// What an invitation or an edit sets.
#[derive(Debug, Clone)]
pub struct PortalUserFields {
    pub name: String,
    pub email: String,
    pub role: PortalRole,
    pub sites: Vec<SiteId>,
    pub own_only: bool,
    pub billing_access: bool,
}

struct Row {
    id: String,
    email: String,
    name: String,
    role: String,
    own_only: bool,
    billing_access: bool,
    disabled: bool,
    activated: bool,
    sites: Option<String>,
}
crate::sql::db_row!(Row {
    id,
    email,
    name,
    role,
    own_only,
    billing_access,
    disabled,
    activated,
    sites
});

/// Checks an e-mail address's shape, enough to catch typing mistakes.
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    // One `@` only: the domain a technician is held to is the address's one domain.
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

/// Whether the caller may manage `user`: staff who manage users may manage anyone; a client
/// admin only others whose rights do not exceed their own (no sites beyond theirs, no billing
/// access unless they hold it, own tickets only if they are).
pub fn within_rights(scope: &Scope, user: &PortalUser) -> bool {
    if !scope.is_portal() {
        return true;
    }
    if scope.actor() == Actor::Portal(user.id) {
        return false;
    }
    let sites_ok = match scope.sites() {
        None => true,
        Some(mine) => !user.sites.is_empty() && user.sites.iter().all(|s| mine.contains(s)),
    };
    sites_ok
        && (scope.billing() || !user.billing_access)
        && (scope.requester().is_none() || user.own_only)
}

/// Refuses what a client admin may not grant: sites beyond theirs (or every site when they
/// have some only), and seeing all of the company's tickets when they see their own only.
fn grantable(scope: &Scope, fields: &PortalUserFields) -> Result<(), StoreError> {
    if !scope.is_portal() {
        return Ok(());
    }
    if let Some(mine) = scope.sites()
        && (fields.sites.is_empty() || fields.sites.iter().any(|s| !mine.contains(s)))
    {
        return Err(StoreError::Invalid(
            "Choose one or more of your own sites: you manage the people of your sites only."
                .into(),
        ));
    }
    if scope.requester().is_some() && !fields.own_only {
        return Err(StoreError::Invalid(
            "Tick \"Own tickets only\": you cannot give anyone more than you see yourself.".into(),
        ));
    }
    Ok(())
}

fn yes_no(value: bool) -> String {
    if value { "Yes" } else { "No" }.to_owned()
}

fn validate(fields: &PortalUserFields) -> Result<(), StoreError> {
    if fields.name.trim().is_empty()
        || fields.name.chars().count() > 120
        || fields.name.chars().any(char::is_control)
    {
        return Err(StoreError::Invalid(
            "Enter a name of at most 120 characters.".into(),
        ));
    }
    if !valid_email(&fields.email) {
        return Err(StoreError::Invalid("Enter a valid e-mail address.".into()));
    }
    Ok(())
}

impl ScopedTx<'_> {
    /// Checks the company is visible (else `NotFound`) and its users may be managed (else
    /// `Forbidden`), before any input is looked at.
    pub async fn require_user_admin(&mut self, company: CompanyId) -> Result<(), StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManagePortalUsers)?;
        Ok(())
    }

    /// Checks that every site belongs to the company (foreign sites read as not found).
    async fn check_sites(
        &mut self,
        company: CompanyId,
        sites: &[SiteId],
    ) -> Result<(), StoreError> {
        if sites.is_empty() {
            return Ok(());
        }
        let mut query = self.select("COUNT(*)", &fence::SITES, "s");
        query.sql(" AND s.company_id = ").arg(company).sql(" AND ");
        query.in_list("s.id", sites);
        if self.tx.count(query).await? as usize != sites.len() {
            return Err(StoreError::Invalid("Choose sites of this company.".into()));
        }
        Ok(())
    }

    /// A company's portal users, by name.
    pub async fn portal_users(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<PortalUser>, StoreError> {
        self.visible_company(company).await?;
        if self.scope.is_portal() {
            // The company's people are its client admins' business (the Users section).
            self.scope.may(Action::ManagePortalUsers)?;
        } else {
            self.scope.may(Action::ViewCompanies)?;
        }
        let agg = if self.tx.is_postgres() {
            "string_agg(s.site_id, ',')"
        } else {
            "group_concat(s.site_id, ',')"
        };
        let mut query = self.select_joined(
            &format!(
                "u.id, u.email, u.name, u.role, u.own_only, u.billing_access, u.disabled, \
                 (u.password_hash IS NOT NULL) AS activated, {agg} AS sites"
            ),
            &fence::PORTAL_USERS,
            "u",
            " LEFT JOIN portal_user_sites s ON s.workspace_id = u.workspace_id AND s.portal_user_id = u.id",
        );
        query.sql(" AND u.company_id = ").arg(company);
        query.sql(
            " GROUP BY u.id, u.email, u.name, u.role, u.own_only, u.billing_access, u.disabled, u.password_hash \
             ORDER BY u.name",
        );
        let rows: Vec<Row> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(PortalUser {
                    id: PortalUserId::parse(&r.id)?,
                    email: r.email,
                    name: r.name,
                    role: PortalRole::parse(&r.role)?,
                    own_only: r.own_only,
                    billing_access: r.billing_access,
                    disabled: r.disabled,
                    activated: r.activated,
                    sites: r
                        .sites
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(SiteId::parse)
                        .collect(),
                })
            })
            .collect())
    }

    /// Creates an invited portal user and returns their id and invitation token, or
    /// [`Invitation::AddressTaken`] when the address belongs to a user of another company.
    /// Staff other than owners may invite only addresses at the company's e-mail domains.
    pub async fn invite_portal_user(
        &mut self,
        company: CompanyId,
        fields: &PortalUserFields,
    ) -> Result<Invitation, StoreError> {
        self.require_user_admin(company).await?;
        validate(fields)?;
        self.check_sites(company, &fields.sites).await?;
        grantable(self.scope, fields)?;
        let email = fields.email.trim().to_lowercase();
        if self.scope.may(Action::ManageCompanyDomains).is_err() {
            let domains = self.company_email_domains(company).await?;
            let portal = self.scope.is_portal();
            if domains.is_empty() {
                return Err(StoreError::Invalid(if portal {
                    "Your company's e-mail domains are not set up yet, so new users cannot be \
                     invited here. Ask your IT provider to add them, or to invite the person."
                        .into()
                } else {
                    "This company has no e-mail domains yet. An owner adds them on this page; \
                     until then only owners can invite its people."
                        .into()
                }));
            }
            if !domains.contains(&domain_of(&email)) {
                return Err(StoreError::Invalid(format!(
                    "Invite addresses at {} domains ({}); {} can invite anyone else.",
                    if portal {
                        "your company's"
                    } else {
                        "this company's"
                    },
                    domains.join(", "),
                    if portal {
                        "your IT provider"
                    } else {
                        "an owner"
                    }
                )));
            }
        }
        // Only a caller who may see financial fields may grant seeing them.
        let billing_access = fields.billing_access && self.scope.billing();
        let invited_by = match self.scope.actor() {
            Actor::Staff(staff) => Some(staff),
            Actor::Portal(_) => None,
        };
        let id = PortalUserId::new();
        // `ON CONFLICT DO NOTHING` rather than catching the violation: the address may belong
        // to a company outside the scope (hidden by row-level security too), and the
        // transaction must go on to answer as for a new address.
        let inserted = self
            .tx
            .exec(q!(
                "INSERT INTO portal_users (workspace_id, company_id, id, email, name, phone, role, own_only, \
                 billing_access, disabled, password_hash, created_at, invited_by) \
                 VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8, FALSE, NULL, $9, $10) \
                 ON CONFLICT (workspace_id, email) DO NOTHING",
                self.scope.workspace(),
                company,
                id,
                email.clone(),
                fields.name.trim(),
                fields.role.as_str(),
                fields.own_only,
                billing_access,
                now(),
                invited_by
            ))
            .await?;
        if inserted == 0 {
            // A user of this very company is listed on the caller's page anyway.
            let mut same = self.select("COUNT(*)", &fence::PORTAL_USERS, "u");
            same.sql(" AND u.company_id = ")
                .arg(company)
                .sql(" AND u.email = ")
                .arg(email);
            if self.tx.count(same).await? > 0 {
                return Err(StoreError::Conflict("portal user e-mail address"));
            }
            return Ok(Invitation::AddressTaken);
        }
        self.set_sites(company, id, &fields.sites).await?;
        let invited = self.portal_user(company, id).await?;
        let after = self.user_values(company, &invited).await?;
        self.keep_edit(
            company,
            RecordKind::PortalUser,
            &id.to_string(),
            &Vec::new(),
            &after,
        )
        .await?;
        let token = issue_token(
            &mut self.tx,
            self.scope.workspace(),
            OneTimePurpose::Invite,
            SessionUser::Portal(id),
            INVITE_TTL_SECS,
        )
        .await?;
        self.audit(
            portico_core::AuditAction::InvitationSent,
            Some(company),
            portico_core::AuditTarget::new("portal_user", id, fields.email.trim()),
            &format!("invited as {}", fields.role.label()),
        )
        .await?;
        Ok(Invitation::Created { id, token })
    }

    /// Checks the company is visible (else `NotFound`) and its domains may be set (else
    /// `Forbidden`), before the typed domains are looked at.
    pub async fn visible_company_for_domains(
        &mut self,
        company: CompanyId,
    ) -> Result<(), StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManageCompanyDomains)?;
        Ok(())
    }

    /// The e-mail domains of a company in scope, sorted.
    pub async fn company_email_domains(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<String>, StoreError> {
        self.visible_company(company).await?;
        let mut query = self.select("d.domain", &fence::COMPANY_EMAIL_DOMAINS, "d");
        query.sql(" AND d.company_id = ").arg(company);
        query.sql(" ORDER BY d.domain");
        let rows: Vec<(String,)> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(|(d,)| d).collect())
    }

    /// Replaces a company's e-mail domains (owners only).
    pub async fn set_company_email_domains(
        &mut self,
        company: CompanyId,
        domains: &[String],
    ) -> Result<(), StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManageCompanyDomains)?;
        let mut delete = self.delete(&fence::COMPANY_EMAIL_DOMAINS);
        delete.sql(" AND company_id = ").arg(company);
        self.tx.exec(delete).await?;
        for domain in domains {
            self.tx
                .exec(q!(
                    "INSERT INTO company_email_domains (workspace_id, company_id, domain) VALUES ($1, $2, $3)",
                    self.scope.workspace(),
                    company,
                    domain
                ))
                .await?;
        }
        self.audit(
            portico_core::AuditAction::SettingsChanged,
            Some(company),
            portico_core::AuditTarget::new("company", company, "E-mail domains"),
            &domains.join(", "),
        )
        .await?;
        Ok(())
    }

    /// The addresses of a company's client admins who can sign in (enabled, invitation
    /// accepted), to be told of each new portal user.
    pub async fn client_admin_addresses(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<String>, StoreError> {
        let mut query = self.select("u.email", &fence::PORTAL_USERS, "u");
        query
            .sql(
                " AND u.role = 'client_admin' AND NOT u.disabled AND u.password_hash IS NOT NULL \
                 AND u.company_id = ",
            )
            .arg(company);
        query.sql(" ORDER BY u.email");
        let rows: Vec<(String,)> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    async fn set_sites(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
        sites: &[SiteId],
    ) -> Result<(), StoreError> {
        let mut delete = self.delete(&fence::PORTAL_USER_SITES);
        delete
            .sql(" AND portal_user_id = ")
            .arg(user)
            .sql(" AND company_id = ")
            .arg(company);
        self.tx.exec(delete).await?;
        for site in sites {
            self.tx
                .exec(q!(
                    "INSERT INTO portal_user_sites (workspace_id, company_id, portal_user_id, site_id) \
                     VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    company,
                    user,
                    *site
                ))
                .await?;
        }
        Ok(())
    }

    /// A portal user of a company in scope; `NotFound` for anyone else's.
    pub async fn portal_user(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<PortalUser, StoreError> {
        self.portal_users(company)
            .await?
            .into_iter()
            .find(|u| u.id == user)
            .ok_or(StoreError::NotFound)
    }

    /// Changes a portal user's name, role, sites and restrictions (the e-mail stays).
    pub async fn update_portal_user(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
        fields: &PortalUserFields,
    ) -> Result<(), StoreError> {
        self.require_user_admin(company).await?;
        let current = self.manageable_user(company, user).await?;
        validate(&PortalUserFields {
            email: current.email.clone(),
            ..fields.clone()
        })?;
        self.check_sites(company, &fields.sites).await?;
        grantable(self.scope, fields)?;
        // Only a caller who may see financial fields may change who sees them.
        let billing_access = if self.scope.billing() {
            fields.billing_access
        } else {
            current.billing_access
        };
        let mut query = self.update(&fence::PORTAL_USERS, |set| {
            set.sql("name = ")
                .arg(fields.name.trim())
                .sql(", role = ")
                .arg(fields.role.as_str())
                .sql(", own_only = ")
                .arg(fields.own_only)
                .sql(", billing_access = ")
                .arg(billing_access);
        });
        query
            .sql(" AND id = ")
            .arg(user)
            .sql(" AND company_id = ")
            .arg(company);
        self.tx.exec(query).await?;
        self.set_sites(company, user, &fields.sites).await?;
        let before = self.user_values(company, &current).await?;
        let updated = self.portal_user(company, user).await?;
        let after = self.user_values(company, &updated).await?;
        self.keep_edit(
            company,
            RecordKind::PortalUser,
            &user.to_string(),
            &before,
            &after,
        )
        .await
    }

    /// A portal user the caller may manage: `NotFound` when not visible, `Forbidden` when
    /// their rights exceed a client admin's own (or they are the admin themselves).
    pub async fn manageable_user(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<PortalUser, StoreError> {
        let target = self.portal_user(company, user).await?;
        if !within_rights(self.scope, &target) {
            return Err(StoreError::Forbidden);
        }
        Ok(target)
    }

    /// A portal user's values as their history records them.
    async fn user_values(
        &mut self,
        company: CompanyId,
        user: &PortalUser,
    ) -> Result<Values, StoreError> {
        let sites = self.sites(company).await?;
        let site_names = if user.sites.is_empty() {
            "All sites".to_owned()
        } else {
            user.sites
                .iter()
                .map(|id| {
                    sites
                        .iter()
                        .find(|s| s.id == id.to_string())
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|| "An archived site".to_owned())
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(vec![
            ("name".into(), user.name.clone()),
            ("email".into(), user.email.clone()),
            ("role".into(), user.role.label().to_owned()),
            ("sites".into(), site_names),
            ("own_only".into(), yes_no(user.own_only)),
            ("billing_access".into(), yes_no(user.billing_access)),
            (
                "status".into(),
                if user.disabled {
                    "Disabled"
                } else if user.activated {
                    "Active"
                } else {
                    "Invited"
                }
                .to_owned(),
            ),
        ])
    }

    /// A portal user's edits, latest first (after reading the user through the caller's
    /// fence).
    pub async fn portal_user_history(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<Vec<RecordEdit>, StoreError> {
        self.portal_user(company, user).await?;
        self.record_history(company, RecordKind::PortalUser, &user.to_string(), None)
            .await
    }

    /// Disables (ending every session at once) or re-enables a portal user.
    pub async fn set_portal_user_disabled(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.require_user_admin(company).await?;
        let current = self.manageable_user(company, user).await?;
        let before = self.user_values(company, &current).await?;
        let mut query = self.update(&fence::PORTAL_USERS, |set| {
            set.sql("disabled = ").arg(disabled);
        });
        query
            .sql(" AND id = ")
            .arg(user)
            .sql(" AND company_id = ")
            .arg(company);
        self.tx.exec(query).await?;
        if disabled {
            let mut sessions = self.delete(&fence::SESSIONS);
            sessions.sql(" AND portal_user_id = ").arg(user);
            self.tx.exec(sessions).await?;
        }
        let updated = self.portal_user(company, user).await?;
        let after = self.user_values(company, &updated).await?;
        self.keep_edit(
            company,
            RecordKind::PortalUser,
            &user.to_string(),
            &before,
            &after,
        )
        .await
    }

    /// Issues a fresh invitation link (the previous one stops working) for a user who has not
    /// chosen a password yet.
    pub async fn resend_invite(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<(PortalUser, String), StoreError> {
        self.require_user_admin(company).await?;
        let target = self.manageable_user(company, user).await?;
        if target.activated {
            return Err(StoreError::Invalid(
                "This user has already accepted the invitation; they can reset their password from the sign-in page."
                    .into(),
            ));
        }
        if target.disabled {
            return Err(StoreError::Invalid(
                "Enable this user before sending a new invitation.".into(),
            ));
        }
        let token = issue_token(
            &mut self.tx,
            self.scope.workspace(),
            OneTimePurpose::Invite,
            SessionUser::Portal(user),
            INVITE_TTL_SECS,
        )
        .await?;
        self.audit(
            portico_core::AuditAction::InvitationSent,
            Some(company),
            portico_core::AuditTarget::new("portal_user", user, target.email.clone()),
            "invitation sent again",
        )
        .await?;
        Ok((target, token))
    }
}
