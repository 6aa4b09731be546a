//! Who may work a company's tickets: owners, and technicians assigned to the company, while
//! active. Checked when a ticket is assigned by hand, by a routing rule or when logged.

use portico_core::{Action, CompanyId, StaffRole, StaffUserId};

use crate::StoreError;
use crate::scoped::tickets::TicketSummary;
use crate::scoped::{ScopedTx, fence};
use crate::sql::Q;

/// An active staff user considered for a company's tickets.
pub(super) struct StaffCandidate {
    name: String,
    pub(super) email: String,
    role: Option<StaffRole>,
    /// Assigned to the company in question.
    assigned: bool,
}

impl StaffCandidate {
    /// Owners work every company's tickets; technicians those of companies they are assigned.
    pub(super) fn may_work(&self) -> bool {
        match self.role {
            Some(StaffRole::Owner) => true,
            Some(StaffRole::Technician) => self.assigned,
            _ => false,
        }
    }
}

impl ScopedTx<'_> {
    /// A routing rule's assignee, if they may still work tickets of `company` (an owner, or a
    /// technician assigned to it, not disabled); otherwise the rule's assignment is skipped.
    pub(super) async fn routable_assignee(
        &mut self,
        company: CompanyId,
        assignee: StaffUserId,
    ) -> Result<Option<(StaffUserId, String)>, StoreError> {
        Ok(match self.staff_candidate(company, assignee).await? {
            Some(c) if c.may_work() => Some((assignee, c.email)),
            _ => {
                tracing::info!(%assignee, "staff user cannot take this company's tickets; not assigned or mailed");
                None
            }
        })
    }

    /// An active staff user as a possible assignee of `company`'s tickets.
    pub(super) async fn staff_candidate(
        &mut self,
        company: CompanyId,
        staff: StaffUserId,
    ) -> Result<Option<StaffCandidate>, StoreError> {
        let mut query = Q::new(
            "SELECT u.name, u.email, u.role, (SELECT COUNT(*) FROM staff_assignments s \
             WHERE s.workspace_id = u.workspace_id AND s.staff_user_id = u.id AND s.company_id = ",
        );
        query.arg(company).sql(") FROM staff_users u WHERE 1 = 1");
        self.fenced(&mut query, &fence::STAFF_USERS, "u");
        query
            .sql(" AND u.id = ")
            .arg(staff)
            .sql(" AND NOT u.disabled");
        // The same fenced statement; on PostgreSQL as the system role, since a client's own
        // transaction sees no staff user (row-level security), yet a client's ticket is routed
        // to one and their replies mailed to its assignee.
        let row: Option<(String, String, String, i64)> = match &mut self.system {
            Some(system) => system.optional(query).await?,
            None => self.tx.optional(query).await?,
        };
        Ok(row.map(|(name, email, role, assigned)| StaffCandidate {
            name,
            email,
            role: StaffRole::parse(&role),
            assigned: assigned > 0,
        }))
    }

    /// The assignee's name and address, if they may work this ticket: an owner, or a
    /// technician assigned to the ticket's company.
    pub(super) async fn check_assignee(
        &mut self,
        ticket: &TicketSummary,
        assignee: StaffUserId,
    ) -> Result<(String, String), StoreError> {
        let Some(c) = self.staff_candidate(ticket.company_id, assignee).await? else {
            return Err(StoreError::Invalid("Choose a member of staff.".into()));
        };
        if c.may_work() {
            return Ok((c.name, c.email));
        }
        match c.role {
            Some(StaffRole::Technician) => Err(StoreError::Invalid(format!(
                "{} is not assigned to {}.",
                c.name, ticket.company_name
            ))),
            _ => Err(StoreError::Invalid(
                "Only owners and technicians can be assigned tickets.".into(),
            )),
        }
    }

    /// Staff who may be assigned tickets of `company`: owners and its technicians.
    pub async fn assignable_staff(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<(StaffUserId, String)>, StoreError> {
        self.scope.may(Action::WorkTickets)?;
        self.visible_company(company).await?;
        let mut query = self.select("u.id, u.name", &fence::STAFF_USERS, "u");
        query
            .sql(
                " AND NOT u.disabled AND (u.role = 'owner' OR (u.role = 'technician' AND EXISTS \
                 (SELECT 1 FROM staff_assignments s WHERE s.workspace_id = u.workspace_id \
                 AND s.staff_user_id = u.id AND s.company_id = ",
            )
            .arg(company)
            .sql("))) ORDER BY u.name");
        let rows: Vec<(String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Some((StaffUserId::parse(&id)?, name)))
            .collect())
    }
}
