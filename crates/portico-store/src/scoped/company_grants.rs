//! Client groups (PRODUCT.md §1): a portal user of one company granted further companies of the
//! same workspace, each with its own role and billing access; they switch between them in the
//! portal. Granting is the owners' call (an account then reaches another client's records), and
//! billing access is granted only by those who hold it.

use portico_core::{Action, CompanyId, PortalRole, PortalUserId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

/// One further company a portal user may switch to.
#[derive(Debug, Clone)]
pub struct CompanyGrant {
    pub company_id: CompanyId,
    pub company_name: String,
    pub role: PortalRole,
    pub billing_access: bool,
}

impl ScopedTx<'_> {
    /// The further companies granted to a portal user of `company` (those in the caller's
    /// scope), by name.
    pub async fn company_grants(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<Vec<CompanyGrant>, StoreError> {
        self.portal_user(company, user).await?;
        let mut query = self.select_joined(
            "g.company_id, c.name, g.role, g.billing_access",
            &fence::PORTAL_USER_COMPANIES,
            "g",
            " JOIN companies c ON c.workspace_id = g.workspace_id AND c.id = g.company_id",
        );
        query
            .sql(" AND g.portal_user_id = ")
            .arg(user)
            .sql(" ORDER BY c.name");
        let rows: Vec<(String, String, String, bool)> = self.tx.all(query).await?;
        rows.into_iter()
            .map(|(id, name, role, billing_access)| {
                Ok(CompanyGrant {
                    company_id: CompanyId::from_stored(&id),
                    company_name: name,
                    role: PortalRole::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("portal role {role:?}")))?,
                    billing_access,
                })
            })
            .collect()
    }

    /// Grants a portal user of `company` the company `to` as well, or changes that grant's role
    /// and billing access; owners only, both companies in scope.
    pub async fn grant_company(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
        to: CompanyId,
        role: PortalRole,
        billing_access: bool,
    ) -> Result<(), StoreError> {
        self.portal_user(company, user).await?;
        self.scope.may(Action::ManageCompanies)?;
        if to == company {
            return Err(StoreError::InvalidFields(vec![(
                "grant_company".to_owned(),
                "That is the user's own company: choose another.".to_owned(),
            )]));
        }
        let target = match self.company(to).await {
            Ok(target) => target,
            Err(StoreError::NotFound) => {
                return Err(StoreError::InvalidFields(vec![(
                    "grant_company".to_owned(),
                    "Choose one of the listed companies.".to_owned(),
                )]));
            }
            Err(e) => return Err(e),
        };
        if target.archived_at.is_some() {
            return Err(StoreError::InvalidFields(vec![(
                "grant_company".to_owned(),
                "That company is archived.".to_owned(),
            )]));
        }
        // Only a caller who may see financial fields may grant seeing them.
        let billing_access = billing_access && self.scope.billing();
        self.revoke_company(company, user, to).await?;
        self.tx
            .exec(q!(
                "INSERT INTO portal_user_companies (workspace_id, portal_user_id, company_id, role, billing_access) \
                 VALUES ($1, $2, $3, $4, $5)",
                self.scope.workspace(),
                user,
                to,
                role.as_str(),
                billing_access
            ))
            .await?;
        self.audit(
            portico_core::AuditAction::AccessChanged,
            Some(to),
            portico_core::AuditTarget::new("portal_user", user, ""),
            &format!("granted this company as {}", role.label()),
        )
        .await?;
        Ok(())
    }

    /// Takes a further company away from a portal user of `company` (a no-op when it was not
    /// granted); owners only.
    pub async fn revoke_company(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
        from: CompanyId,
    ) -> Result<(), StoreError> {
        self.portal_user(company, user).await?;
        self.scope.may(Action::ManageCompanies)?;
        let mut delete = self.delete(&fence::PORTAL_USER_COMPANIES);
        delete
            .sql(" AND portal_user_id = ")
            .arg(user)
            .sql(" AND company_id = ")
            .arg(from);
        self.tx.exec(delete).await?;
        self.audit(
            portico_core::AuditAction::AccessChanged,
            Some(from),
            portico_core::AuditTarget::new("portal_user", user, ""),
            "grant to this company revoked",
        )
        .await?;
        Ok(())
    }
}
