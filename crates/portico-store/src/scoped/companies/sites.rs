//! A company's sites: added, edited, archived and restored by owners and the company's
//! technicians. An archived site keeps its tickets (and later assets) but takes no new ones.

use portico_core::{Action, CompanyId, SiteId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

const MAX_NAME: usize = 80;
const MAX_ADDRESS: usize = 300;

/// A site as its form submits it.
#[derive(Debug, Clone, Default)]
pub struct SiteDraft {
    pub name: String,
    pub address: String,
}

fn check(draft: &SiteDraft) -> Result<(String, String), StoreError> {
    let mut refusals = Vec::new();
    let name = draft.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        refusals.push((
            "name".to_owned(),
            format!("Name the site (one line, at most {MAX_NAME} characters)."),
        ));
    }
    // An address may run over lines; it is shown as written.
    let address = draft.address.trim();
    let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r');
    if address.chars().count() > MAX_ADDRESS || !address.chars().all(allowed) {
        refusals.push((
            "address".to_owned(),
            format!("Keep the address to at most {MAX_ADDRESS} characters."),
        ));
    }
    if refusals.is_empty() {
        Ok((name.to_owned(), address.to_owned()))
    } else {
        Err(StoreError::InvalidFields(refusals))
    }
}

impl ScopedTx<'_> {
    /// Refuses a name another site of the company has (archived ones included).
    async fn site_name_free(
        &mut self,
        company: CompanyId,
        name: &str,
        except: Option<SiteId>,
    ) -> Result<(), StoreError> {
        let mut query = self.select("s.id", &fence::SITES, "s");
        query
            .sql(" AND s.company_id = ")
            .arg(company)
            .sql(" AND lower(s.name) = lower(")
            .arg(name)
            .sql(")");
        if let Some(id) = except {
            query.sql(" AND s.id <> ").arg(id);
        }
        let taken: Option<(String,)> = self.tx.optional(query).await?;
        match taken {
            Some(_) => Err(StoreError::InvalidFields(vec![(
                "name".to_owned(),
                "Another site of the company has that name.".to_owned(),
            )])),
            None => Ok(()),
        }
    }

    /// Adds a site to a company in scope that takes work.
    pub async fn add_site(
        &mut self,
        company: CompanyId,
        draft: &SiteDraft,
    ) -> Result<SiteId, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        let (name, address) = check(draft)?;
        self.site_name_free(company, &name, None).await?;
        let id = SiteId::new();
        self.tx
            .exec(q!(
                "INSERT INTO sites (workspace_id, company_id, id, name, address) VALUES ($1, $2, $3, $4, $5)",
                self.scope.workspace(),
                company,
                id,
                name.as_str(),
                address.as_str()
            ))
            .await?;
        self.audit(
            portico_core::AuditAction::RecordCreated,
            Some(company),
            portico_core::AuditTarget::new("site", id, name.as_str()),
            "",
        )
        .await?;
        Ok(id)
    }

    /// Renames a site or changes its address.
    pub async fn update_site(
        &mut self,
        company: CompanyId,
        site: SiteId,
        draft: &SiteDraft,
    ) -> Result<(), StoreError> {
        self.site(company, site).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let (name, address) = check(draft)?;
        self.site_name_free(company, &name, Some(site)).await?;
        let mut update = self.update(&fence::SITES, |set| {
            set.sql("name = ")
                .arg(name.as_str())
                .sql(", address = ")
                .arg(address.as_str());
        });
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(site);
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::NotFound);
        }
        self.audit(
            portico_core::AuditAction::RecordUpdated,
            Some(company),
            portico_core::AuditTarget::new("site", site, draft.name.trim()),
            "",
        )
        .await
    }

    /// Archives a site (`archived`) or restores it.
    pub async fn set_site_archived(
        &mut self,
        company: CompanyId,
        site: SiteId,
        archived: bool,
    ) -> Result<(), StoreError> {
        self.site(company, site).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        if !archived {
            self.company_taking_work(company).await?;
        }
        self.set_record_archived(&fence::SITES, company, site, archived)
            .await
    }
}
