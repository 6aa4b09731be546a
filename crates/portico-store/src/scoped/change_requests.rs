//! Change requests (P14, C7): a client asks for a change to something the portal shows (an
//! asset, a contact, a portal user) or for a purchase; the request enters the console's queue;
//! staff assign it, approve it, reject it with a reason or mark it done. Nothing changes until
//! staff carry it out. A purchase first needs the company's purchase approver (a contact with
//! that role, signed in to the portal at the contact's address). The requester and the company's
//! client admins follow every step in the portal and by mail.

use portico_core::{
    Action, Actor, AssetId, ChangeKind, ChangeRequestId, ChangeStatus, ChangeTarget, CompanyId,
    ContactId, PortalRole, PortalUserId, Section, StaffUserId,
};

use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};
use crate::{StoreError, now};

const MAX_TITLE: usize = 120;
const MAX_DETAILS: usize = 4_000;
const MAX_NOTE: usize = 2_000;
/// Requests a list page shows.
pub const CHANGE_PAGE: i64 = 50;

/// One step in a request's history.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    pub at: i64,
    pub actor_name: String,
    pub status: ChangeStatus,
    pub note: String,
}

/// A change request as its reader may see it.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    pub id: ChangeRequestId,
    pub company_id: CompanyId,
    pub company_name: String,
    pub kind: ChangeKind,
    pub target: ChangeTarget,
    pub target_id: Option<String>,
    /// The target's name when the request was raised.
    pub target_label: String,
    /// The site of the asset it is about, as raised (never shown; it decides who is told).
    pub site_id: Option<String>,
    pub title: String,
    pub details: String,
    pub status: ChangeStatus,
    pub requested_by: PortalUserId,
    pub requester_name: String,
    /// Staff only: who is carrying it out.
    pub assignee: Option<(StaffUserId, String)>,
    /// The reason given with a rejection, or a note with a decision.
    pub decision_note: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Filled in for one request's page.
    pub events: Vec<ChangeEvent>,
}

/// What the request form submits.
#[derive(Debug, Clone, Default)]
pub struct ChangeDraft {
    pub kind: String,
    pub target: String,
    pub target_id: String,
    pub title: String,
    pub details: String,
}

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// `None`: every request still to be acted on (awaiting approval, with the MSP, approved).
    pub status: Option<ChangeStatus>,
    pub all: bool,
    pub company: Option<CompanyId>,
    /// Staff: only those assigned to the reader.
    pub mine: bool,
    pub unassigned: bool,
    pub page: i64,
    /// Keyset paging instead (the API): up to this many requests (at most 201) after `after`.
    pub limit: Option<i64>,
    /// The creation time and id a page before ended at.
    pub after: Option<(i64, ChangeRequestId)>,
}

#[derive(Debug, Clone, Default)]
pub struct ChangePage {
    pub requests: Vec<ChangeRequest>,
    pub more: bool,
}

/// What staff do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeDecision {
    Approve,
    Reject,
    Done,
}

struct RequestRow {
    id: String,
    company_id: String,
    company_name: String,
    kind: String,
    target_kind: String,
    target_id: Option<String>,
    target_label: String,
    site_id: Option<String>,
    title: String,
    details: String,
    status: String,
    requested_by: String,
    requester_name: String,
    assignee_id: Option<String>,
    assignee_name: Option<String>,
    decision_note: String,
    created_at: i64,
    updated_at: i64,
}
crate::sql::db_row!(RequestRow {
    id,
    company_id,
    company_name,
    kind,
    target_kind,
    target_id,
    target_label,
    site_id,
    title,
    details,
    status,
    requested_by,
    requester_name,
    assignee_id,
    assignee_name,
    decision_note,
    created_at,
    updated_at
});

impl RequestRow {
    fn into_request(self, staff: bool) -> ChangeRequest {
        ChangeRequest {
            id: ChangeRequestId::from_stored(&self.id),
            company_id: CompanyId::from_stored(&self.company_id),
            company_name: self.company_name,
            kind: ChangeKind::parse(&self.kind).unwrap_or(ChangeKind::Other),
            target: ChangeTarget::parse(&self.target_kind).unwrap_or(ChangeTarget::General),
            target_id: self.target_id,
            target_label: self.target_label,
            site_id: self.site_id,
            title: self.title,
            details: self.details,
            status: ChangeStatus::parse(&self.status).unwrap_or(ChangeStatus::Open),
            requested_by: PortalUserId::from_stored(&self.requested_by),
            requester_name: self.requester_name,
            assignee: if staff {
                self.assignee_id
                    .zip(self.assignee_name)
                    .map(|(id, name)| (StaffUserId::from_stored(&id), name))
            } else {
                None
            },
            decision_note: self.decision_note,
            created_at: self.created_at,
            updated_at: self.updated_at,
            events: Vec::new(),
        }
    }
}

const REQUEST_COLUMNS: &str = "r.id, r.company_id, c.name AS company_name, r.kind, r.target_kind, r.target_id, r.target_label, r.site_id, \
     r.title, r.details, r.status, r.requested_by, r.requester_name, r.assignee_id, s.name AS assignee_name, r.decision_note, \
     r.created_at, r.updated_at";
const REQUEST_JOINS: &str = " JOIN companies c ON c.workspace_id = r.workspace_id AND c.id = r.company_id \
     LEFT JOIN staff_users s ON s.workspace_id = r.workspace_id AND s.id = r.assignee_id";

fn one_line(text: &str, max: usize) -> bool {
    !text.is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

fn text_block(text: &str, max: usize) -> bool {
    let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    text.chars().count() <= max && text.chars().all(allowed)
}

/// `r`'s request still open. Written as equalities, not `IN (…)`: SQLite builds a temporary
/// index for an `IN` list of more than two constants on every execution (the Overview counts
/// these on every view).
pub(crate) const OPEN_REQUEST: &str =
    " AND (r.status = 'awaiting_approval' OR r.status = 'open' OR r.status = 'approved')";

impl ScopedTx<'_> {
    fn may_read_changes(&self) -> Result<(), StoreError> {
        if self.scope.is_portal() {
            self.scope
                .may(Action::ViewSection(Section::ChangeRequests))?;
        } else {
            self.scope.may(Action::ViewCompanies)?;
        }
        Ok(())
    }

    fn request_select(&self) -> Q {
        // The staff join names the assignee for the console; the portal is never shown who.
        self.select_joined(REQUEST_COLUMNS, &fence::CHANGE_REQUESTS, "r", REQUEST_JOINS)
    }

    /// Requests as the reader may see them, latest first.
    pub async fn change_requests(
        &mut self,
        filter: &ChangeFilter,
    ) -> Result<ChangePage, StoreError> {
        self.may_read_changes()?;
        let mut query = self.request_select();
        if let Some(company) = filter.company {
            query.sql(" AND r.company_id = ").arg(company);
        }
        match (filter.status, filter.all) {
            (Some(status), _) => {
                query.sql(" AND r.status = ").arg(status.as_str());
            }
            (None, true) => {}
            (None, false) => {
                query.sql(OPEN_REQUEST);
            }
        }
        if !self.scope.is_portal() {
            if let (true, Actor::Staff(me)) = (filter.mine, self.scope.actor()) {
                query.sql(" AND r.assignee_id = ").arg(me);
            }
            if filter.unassigned {
                query.sql(" AND r.assignee_id IS NULL");
            }
        }
        if let Some((created, id)) = filter.after {
            let (c, i) = (query.placeholder(created), query.placeholder(id));
            query.sql(&format!(
                " AND (r.created_at < {c} OR (r.created_at = {c} AND r.id < {i}))"
            ));
        }
        query.sql(" ORDER BY r.created_at DESC, r.id DESC LIMIT ");
        let page = match filter.limit {
            Some(limit) => {
                query.arg(limit.clamp(1, 201));
                limit.clamp(1, 201)
            }
            None => {
                query
                    .arg(CHANGE_PAGE + 1)
                    .offset(filter.page.clamp(0, 10_000) * CHANGE_PAGE);
                CHANGE_PAGE
            }
        };
        let mut rows: Vec<RequestRow> = self.tx.all(query).await?;
        let more = rows.len() as i64 > page;
        if filter.limit.is_none() {
            rows.truncate(CHANGE_PAGE as usize);
        }
        let staff = !self.scope.is_portal();
        Ok(ChangePage {
            requests: rows.into_iter().map(|r| r.into_request(staff)).collect(),
            more,
        })
    }

    /// One request with its history.
    pub async fn change_request(
        &mut self,
        id: ChangeRequestId,
    ) -> Result<ChangeRequest, StoreError> {
        self.may_read_changes()?;
        let mut query = self.request_select();
        query.sql(" AND r.id = ").arg(id);
        let row: RequestRow = self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        // In the console a request's page is the desk's: those who work requests (out of
        // sight is missing before it is forbidden).
        if !self.scope.is_portal() {
            self.scope.may(Action::WorkChangeRequests)?;
        }
        let mut request = row.into_request(!self.scope.is_portal());
        let mut query = self.select(
            "e.at, e.actor_name, e.status, e.note",
            &fence::CHANGE_REQUEST_EVENTS,
            "e",
        );
        query
            .sql(" AND e.company_id = ")
            .arg(request.company_id)
            .sql(" AND e.request_id = ")
            .arg(id)
            .sql(" ORDER BY e.at, e.status");
        let events: Vec<(i64, String, String, String)> = self.tx.all(query).await?;
        request.events = events
            .into_iter()
            .map(|(at, actor_name, status, note)| ChangeEvent {
                at,
                actor_name,
                status: ChangeStatus::parse(&status).unwrap_or(ChangeStatus::Open),
                note,
            })
            .collect();
        Ok(request)
    }

    /// A request as its change left it, through the fence alone (the change was allowed): for
    /// the event it makes ([`ScopedTx::emit_webhook`]). No staff-only field.
    pub(crate) async fn changed_request(
        &mut self,
        id: ChangeRequestId,
    ) -> Result<ChangeRequest, StoreError> {
        let mut query = self.request_select();
        query.sql(" AND r.id = ").arg(id);
        let row: RequestRow = self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        Ok(row.into_request(false))
    }

    /// The name of what a request is about, read through that record's own fence (a target
    /// the reader may not see is not found).
    async fn target_label(
        &mut self,
        company: CompanyId,
        target: ChangeTarget,
        id: &str,
    ) -> Result<Option<(String, String, Option<String>)>, StoreError> {
        let id = id.trim();
        // Named only through a section the reader may open (the roster, the asset list, the
        // company's users for client admins).
        let section = match target {
            ChangeTarget::General => None,
            ChangeTarget::Asset => Some(Section::Assets),
            ChangeTarget::Contact => Some(Section::Contacts),
            ChangeTarget::PortalUser | ChangeTarget::DirectoryUser => Some(Section::Users),
        };
        if let (Some(section), true) = (section, self.scope.is_portal()) {
            self.scope
                .may(Action::ViewSection(section))
                .map_err(|_| StoreError::NotFound)?;
        }
        Ok(match target {
            ChangeTarget::General => None,
            ChangeTarget::Asset => {
                let asset = AssetId::parse(id).ok_or(StoreError::NotFound)?;
                let mut query = self.select("a.name, a.site_id", &fence::ASSETS, "a");
                query
                    .sql(" AND a.company_id = ")
                    .arg(company)
                    .sql(" AND a.id = ")
                    .arg(asset)
                    .sql(" AND a.archived_at IS NULL");
                let (name, site): (String, Option<String>) =
                    self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
                Some((asset.to_string(), name, site))
            }
            ChangeTarget::Contact => {
                let contact = ContactId::parse(id).ok_or(StoreError::NotFound)?;
                let mut query = self.select("ct.name", &fence::CONTACTS, "ct");
                query
                    .sql(" AND ct.company_id = ")
                    .arg(company)
                    .sql(" AND ct.id = ")
                    .arg(contact)
                    .sql(" AND ct.archived_at IS NULL");
                let (name,): (String,) =
                    self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
                Some((contact.to_string(), name, None))
            }
            ChangeTarget::PortalUser => {
                let user = PortalUserId::parse(id).ok_or(StoreError::NotFound)?;
                let mut query = self.select("u.name", &fence::PORTAL_USERS, "u");
                query
                    .sql(" AND u.company_id = ")
                    .arg(company)
                    .sql(" AND u.id = ")
                    .arg(user);
                let (name,): (String,) =
                    self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
                Some((user.to_string(), name, None))
            }
            ChangeTarget::DirectoryUser => {
                let user = self.directory_user(company, id).await?;
                Some((
                    user.external_id,
                    format!("{} ({})", user.display_name, user.user_principal_name),
                    None,
                ))
            }
        })
    }

    /// What a form about `target` shows: the target's name, if the reader may see it.
    pub async fn change_target_label(
        &mut self,
        company: CompanyId,
        target: ChangeTarget,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.may_read_changes()?;
        Ok(self
            .target_label(company, target, id)
            .await?
            .map(|(_, label, _)| label))
    }

    /// Raises a request for the portal user's company. A purchase waits for the purchase
    /// approver; anything else goes to the MSP's queue at once.
    pub async fn raise_change_request(
        &mut self,
        company: CompanyId,
        draft: &ChangeDraft,
        portal_link: &str,
    ) -> Result<ChangeRequestId, StoreError> {
        self.scope.may(Action::RequestChanges)?;
        let Actor::Portal(me) = self.scope.actor() else {
            return Err(StoreError::Forbidden);
        };
        let mut refusals = Vec::new();
        let kind = ChangeKind::parse(draft.kind.trim());
        if kind.is_none() {
            refusals.push(("kind".to_owned(), "Choose what kind of change.".to_owned()));
        }
        let target = ChangeTarget::parse(draft.target.trim()).unwrap_or(ChangeTarget::General);
        let title = draft.title.trim();
        if !one_line(title, MAX_TITLE) {
            refusals.push((
                "title".to_owned(),
                format!("Say in a line what should change (at most {MAX_TITLE} characters)."),
            ));
        }
        let details = draft.details.trim();
        if details.is_empty() || !text_block(details, MAX_DETAILS) {
            refusals.push((
                "details".to_owned(),
                format!("Describe the change (at most {MAX_DETAILS} characters)."),
            ));
        }
        let (target_id, target_label, site) =
            match self.target_label(company, target, &draft.target_id).await {
                Ok(Some((id, label, site))) => (Some(id), label, site),
                Ok(None) => (None, String::new(), None),
                // What the request names must be the reader's to see.
                Err(StoreError::NotFound) => {
                    refusals.push((
                        "target".to_owned(),
                        "What this request is about is no longer there.".to_owned(),
                    ));
                    (None, String::new(), None)
                }
                Err(e) => return Err(e),
            };
        let Some(kind) = kind.filter(|_| refusals.is_empty()) else {
            return Err(StoreError::InvalidFields(refusals));
        };
        // The purchase approver's own purchase needs no second approval of theirs.
        let status = if kind == ChangeKind::Purchase && !self.is_purchase_approver(company).await? {
            ChangeStatus::AwaitingApproval
        } else {
            ChangeStatus::Open
        };
        let id = ChangeRequestId::new();
        let at = now();
        self.tx
            .exec(q!(
                "INSERT INTO change_requests (workspace_id, company_id, id, kind, target_kind, target_id, target_label, site_id, \
                 title, details, status, requested_by, requester_name, assignee_id, decision_note, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $14, $8, $9, $10, $11, $12, NULL, '', $13, $13)",
                self.scope.workspace(),
                company,
                id,
                kind.as_str(),
                target.as_str(),
                target_id,
                target_label.as_str(),
                title,
                details,
                status.as_str(),
                me,
                self.scope.actor_name(),
                at,
                site
            ))
            .await?;
        self.record_change_event(company, id, status, "").await?;
        let request = self.change_request(id).await?;
        self.audit(
            portico_core::AuditAction::ChangeRequested,
            Some(company),
            portico_core::AuditTarget::new("change_request", id, request.title.clone()),
            &format!("{}; {}", request.kind.label(), status.label()),
        )
        .await?;
        self.mail_change(&request, portal_link).await?;
        Ok(id)
    }

    async fn record_change_event(
        &mut self,
        company: CompanyId,
        id: ChangeRequestId,
        status: ChangeStatus,
        note: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO change_request_events (workspace_id, company_id, request_id, at, actor_name, status, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                self.scope.workspace(),
                company,
                id,
                now(),
                self.scope.actor_name(),
                status.as_str(),
                note
            ))
            .await?;
        Ok(())
    }

    /// Moves a request from `from` to `to` with a note; a concurrent change makes it change
    /// nothing and says so.
    async fn move_change(
        &mut self,
        request: &ChangeRequest,
        to: ChangeStatus,
        note: &str,
    ) -> Result<(), StoreError> {
        let mut update = self.update(&fence::CHANGE_REQUESTS, |set| {
            set.sql("status = ")
                .arg(to.as_str())
                .sql(", decision_note = ")
                .arg(note)
                .sql(", updated_at = ")
                .arg(now());
        });
        update
            .sql(" AND company_id = ")
            .arg(request.company_id)
            .sql(" AND id = ")
            .arg(request.id)
            .sql(" AND status = ")
            .arg(request.status.as_str());
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::Invalid(
                "The request was changed meanwhile: look at it again.".into(),
            ));
        }
        self.record_change_event(request.company_id, request.id, to, note)
            .await?;
        let action = if to == ChangeStatus::Done {
            portico_core::AuditAction::ChangeDone
        } else {
            portico_core::AuditAction::ChangeDecided
        };
        let detail = if note.is_empty() {
            format!("{} → {}", request.status.label(), to.label())
        } else {
            format!("{} → {}: {note}", request.status.label(), to.label())
        };
        self.audit(
            action,
            Some(request.company_id),
            portico_core::AuditTarget::new("change_request", request.id, request.title.clone()),
            &detail,
        )
        .await
    }

    /// Whether the portal reader is the purchase approver of `company`.
    pub async fn is_purchase_approver(&mut self, company: CompanyId) -> Result<bool, StoreError> {
        let Actor::Portal(me) = self.scope.actor() else {
            return Ok(false);
        };
        let mut query = self.select_joined(
            "ct.id",
            &fence::CONTACTS,
            "ct",
            " JOIN contact_roles cr ON cr.contact_id = ct.id AND cr.role = 'purchase_approver'",
        );
        query
            .sql(" AND ct.company_id = ")
            .arg(company)
            .sql(" AND ct.archived_at IS NULL AND lower(ct.email) = (SELECT lower(pu.email) FROM portal_users pu WHERE pu.id = ")
            .arg(me)
            .sql(") LIMIT 1");
        Ok(self.tx.optional::<(String,)>(query).await?.is_some())
    }

    /// The purchase approver approves a purchase (it goes to the MSP) or declines it.
    pub async fn decide_purchase(
        &mut self,
        id: ChangeRequestId,
        approve: bool,
        note: &str,
        portal_link: &str,
    ) -> Result<(), StoreError> {
        // Being the company's named approver is the right to decide, whatever the portal role
        // (a viewer named approver decides, though they raise no requests).
        let request = self.change_request(id).await?;
        if request.kind != ChangeKind::Purchase
            || !self.is_purchase_approver(request.company_id).await?
        {
            return Err(StoreError::Forbidden);
        }
        if request.status != ChangeStatus::AwaitingApproval {
            return Err(StoreError::Invalid(
                "This purchase is no longer awaiting approval.".into(),
            ));
        }
        let note = note.trim();
        if !text_block(note, MAX_NOTE) || (!approve && note.is_empty()) {
            return Err(StoreError::InvalidFields(vec![(
                "note".to_owned(),
                format!("Say why the purchase is declined (at most {MAX_NOTE} characters)."),
            )]));
        }
        let to = if approve {
            ChangeStatus::Open
        } else {
            ChangeStatus::Declined
        };
        self.move_change(&request, to, note).await?;
        let request = self.change_request(id).await?;
        self.mail_change(&request, portal_link).await
    }

    /// Staff approve, reject (with a reason) or mark done a request of a company they work.
    pub async fn decide_change_request(
        &mut self,
        id: ChangeRequestId,
        decision: ChangeDecision,
        note: &str,
        portal_link: &str,
    ) -> Result<(), StoreError> {
        let request = self.change_request(id).await?;
        self.scope.may(Action::WorkChangeRequests)?;
        let note = note.trim();
        if !text_block(note, MAX_NOTE) || (decision == ChangeDecision::Reject && note.is_empty()) {
            return Err(StoreError::InvalidFields(vec![(
                "note".to_owned(),
                format!(
                    "Give the client the reason for the rejection (at most {MAX_NOTE} characters)."
                ),
            )]));
        }
        let (allowed, to) = match decision {
            ChangeDecision::Approve => {
                (request.status == ChangeStatus::Open, ChangeStatus::Approved)
            }
            ChangeDecision::Reject => (
                matches!(request.status, ChangeStatus::Open | ChangeStatus::Approved),
                ChangeStatus::Rejected,
            ),
            ChangeDecision::Done => (
                matches!(request.status, ChangeStatus::Open | ChangeStatus::Approved),
                ChangeStatus::Done,
            ),
        };
        if !allowed {
            return Err(StoreError::Invalid(format!(
                "The request is {}: that cannot be done to it now.",
                request.status.label().to_lowercase()
            )));
        }
        self.move_change(&request, to, note).await?;
        let request = self.change_request(id).await?;
        self.mail_change(&request, portal_link).await
    }

    /// Assigns a request to a staff member who works tickets for its company, or to nobody.
    pub async fn assign_change_request(
        &mut self,
        id: ChangeRequestId,
        assignee: Option<StaffUserId>,
    ) -> Result<(), StoreError> {
        let request = self.change_request(id).await?;
        self.scope.may(Action::WorkChangeRequests)?;
        if !request.status.is_open() {
            return Err(StoreError::Invalid(
                "The request is closed: there is nothing left to assign.".into(),
            ));
        }
        if let Some(staff) = assignee {
            let candidates = self.assignable_staff(request.company_id).await?;
            if !candidates.iter().any(|(id, _)| *id == staff) {
                return Err(StoreError::InvalidFields(vec![(
                    "assignee".to_owned(),
                    "Choose someone who works for this company.".to_owned(),
                )]));
            }
        }
        let mut update = self.update(&fence::CHANGE_REQUESTS, |set| {
            set.sql("assignee_id = ")
                .arg(assignee)
                .sql(", updated_at = ")
                .arg(now());
        });
        update
            .sql(" AND company_id = ")
            .arg(request.company_id)
            .sql(" AND id = ")
            .arg(id);
        self.tx.exec(update).await?;
        Ok(())
    }

    /// Tells the requester and the company's client admins (and, while a purchase awaits
    /// approval, its approvers) where the request stands, in this transaction.
    async fn mail_change(
        &mut self,
        request: &ChangeRequest,
        portal_link: &str,
    ) -> Result<(), StoreError> {
        // Those who could open the request themselves: its requester, and the client admins
        // (not own-only ones) and, while a purchase awaits them, the purchase approvers, in
        // both cases only where a site restriction of theirs takes in the request's site; never
        // while the company's portal is off.
        let mut query = self.select("u.email, u.name, u.id", &fence::PORTAL_USERS, "u");
        let site = query.placeholder(request.site_id.clone());
        query
            .sql(" AND u.company_id = ")
            .arg(request.company_id)
            .sql(" AND u.disabled = ")
            .arg(false)
            .sql(
                " AND u.password_hash IS NOT NULL AND EXISTS (SELECT 1 FROM companies pc \
                 WHERE pc.id = u.company_id AND pc.portal_enabled) AND (u.id = ",
            )
            .arg(request.requested_by)
            .sql(&format!(
                " OR (({site} IS NULL OR NOT EXISTS (SELECT 1 FROM portal_user_sites ps WHERE ps.portal_user_id = u.id) \
                 OR EXISTS (SELECT 1 FROM portal_user_sites ps WHERE ps.portal_user_id = u.id AND ps.site_id = {site})) AND ((u.role = "
            ))
            .arg(PortalRole::ClientAdmin.as_str())
            .sql(" AND u.own_only = ")
            .arg(false)
            .sql(")");
        if request.status == ChangeStatus::AwaitingApproval {
            query.sql(
                " OR EXISTS (SELECT 1 FROM contacts ct JOIN contact_roles cr ON cr.contact_id = ct.id \
                 AND cr.role = 'purchase_approver' WHERE ct.company_id = u.company_id AND ct.archived_at IS NULL \
                 AND lower(ct.email) = lower(u.email))",
            );
        }
        query.sql(")))");
        let recipients: Vec<(String, String, String)> = self.tx.all(query).await?;
        let subject = format!("{}: {}", request.status.label(), request.title);
        let about = if request.target_label.is_empty() {
            String::new()
        } else {
            format!(
                "It is about {} ({}).\n",
                request.target_label,
                request.target.label().to_lowercase()
            )
        };
        let note = if request.decision_note.is_empty() {
            String::new()
        } else {
            format!("\nNote: {}\n", request.decision_note)
        };
        let next = match request.status {
            ChangeStatus::AwaitingApproval => {
                "The company's purchase approver must approve it before it reaches the MSP."
            }
            ChangeStatus::Declined => "The purchase approver declined it; nothing will change.",
            ChangeStatus::Open => "The MSP has it and will look at it.",
            ChangeStatus::Approved => "The MSP approved it and will carry it out.",
            ChangeStatus::Rejected => "The MSP rejected it; nothing will change.",
            ChangeStatus::Done => "The MSP carried it out.",
        };
        for (email, name, _) in recipients {
            let body = format!(
                "Hello {name},\n\nThe change request \u{201c}{}\u{201d}, raised by {}, is now: {}.\n{about}{next}\n{note}\nFollow it in the portal: {portal_link}/changes/{}\n",
                request.title,
                request.requester_name,
                request.status.label().to_lowercase(),
                request.id
            );
            self.queue_mail(Some(request.company_id), &email, &subject, &body)
                .await?;
        }
        Ok(())
    }
}
