//! Changing tickets: raising one through the submission form, public replies and internal
//! notes, resolve and reopen, ratings, cc, and the desk's status, priority and assignment
//! changes. Every write first reads the ticket through the scope's fence, so a foreign ticket is
//! `NotFound` before anything is checked; every mail goes to the outbox in the same transaction.

use std::collections::HashMap;

use portico_core::{
    Action, Actor, CompanyId, MessageId, PortalUserId, SiteId, StaffRole, StaffUserId, TicketId,
    TicketItem, TicketPriority, TicketStatus,
};

use crate::scoped::outbox;
use crate::scoped::routing::Candidate;
use crate::scoped::tickets::TicketSummary;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};
use crate::{StoreError, now};

const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 20_000;
const MAX_COMMENT: usize = 2_000;

/// Where links in mails point: base URLs built from the workspace's configured hostnames.
#[derive(Debug, Clone)]
pub struct Links {
    pub portal: String,
    pub console: String,
}

/// A ticket as submitted through the portal's form.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub title: String,
    pub description: String,
    pub category: String,
    pub priority: Option<TicketPriority>,
    pub site: Option<SiteId>,
    /// Custom-field answers by field id (several values only for multi-select fields).
    pub answers: HashMap<String, Vec<String>>,
    pub attachments: Vec<NewAttachment>,
}

/// A file already written to the blob store, to be recorded on a message.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub inline: bool,
}

/// The desk's changes to a ticket; unchanged values are left as they are.
#[derive(Debug, Clone)]
pub struct TicketChange {
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub assignee: Option<StaffUserId>,
}

/// Which ticket mails a portal user receives (P16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPreferences {
    pub ticket_updates: bool,
    pub ticket_resolved: bool,
    pub satisfaction_survey: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        NotificationPreferences {
            ticket_updates: true,
            ticket_resolved: true,
            satisfaction_survey: true,
        }
    }
}

/// A condition on portal users `u`: they could open ticket `ticket` (a placeholder) themselves
/// right now. Their home company or a current grant, the company's portal enabled, and a site
/// restriction (home company only) that includes the ticket's site. Mail and cc use it, so that
/// nobody hears of a ticket they may not read.
fn reads_ticket(ticket: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM tickets tk JOIN companies c ON c.workspace_id = tk.workspace_id \
         AND c.id = tk.company_id AND c.portal_enabled WHERE tk.id = {ticket} AND tk.workspace_id = u.workspace_id AND ( \
           (u.company_id = tk.company_id AND ( \
              NOT EXISTS (SELECT 1 FROM portal_user_sites ps WHERE ps.workspace_id = u.workspace_id AND ps.portal_user_id = u.id) \
              OR EXISTS (SELECT 1 FROM portal_user_sites ps WHERE ps.workspace_id = u.workspace_id AND ps.portal_user_id = u.id \
                         AND ps.site_id = tk.site_id))) \
           OR EXISTS (SELECT 1 FROM portal_user_companies g WHERE g.workspace_id = u.workspace_id AND g.portal_user_id = u.id \
                      AND g.company_id = tk.company_id)))"
    )
}

/// An active staff user considered for a company's tickets.
struct StaffCandidate {
    name: String,
    email: String,
    role: Option<StaffRole>,
    /// Assigned to the company in question.
    assigned: bool,
}

impl StaffCandidate {
    /// Owners work every company's tickets; technicians those of companies they are assigned.
    fn may_work(&self) -> bool {
        match self.role {
            Some(StaffRole::Owner) => true,
            Some(StaffRole::Technician) => self.assigned,
            _ => false,
        }
    }
}

/// What a client mail is about, to honour the recipient's preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientMail {
    Update,
    Resolved,
}

/// Trims and checks free text: present, not too long, no control characters beyond line breaks
/// and tabs when `multiline`.
fn clean_text(text: &str, max: usize, multiline: bool, what: &str) -> Result<String, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::Invalid(format!("{what} cannot be empty.")));
    }
    if text.chars().count() > max {
        return Err(StoreError::Invalid(format!(
            "{what} is longer than {max} characters."
        )));
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !text.chars().all(allowed) {
        return Err(StoreError::Invalid(format!(
            "{what} contains characters that cannot be stored."
        )));
    }
    Ok(text.to_owned())
}

/// A submission that passed every check.
struct CheckedTicket {
    title: String,
    description: String,
    priority: TicketPriority,
    category: String,
    /// (field id, label, value) of each answered custom field, in the form's order.
    answers: Vec<(String, String, String)>,
}

/// Collects a form's refusals, so that all of them are reported at once.
#[derive(Default)]
struct Refusals(Vec<(String, String)>);

impl Refusals {
    /// The value, or `None` with the refusal recorded against `field`.
    fn check<T>(&mut self, field: &str, result: Result<T, StoreError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(StoreError::Invalid(message)) => {
                self.0.push((field.to_owned(), message));
                None
            }
            Err(e) => {
                self.0.push((field.to_owned(), e.to_string()));
                None
            }
        }
    }

    fn refuse(&mut self, field: &str, message: &str) {
        self.0.push((field.to_owned(), message.to_owned()));
    }
}

/// A ticket staff log for a client, as from a phone call: the client is its requester, the
/// description its first public message.
#[derive(Debug, Clone, Default)]
pub struct LoggedTicket {
    pub requester: Option<PortalUserId>,
    pub title: String,
    pub description: String,
    pub priority: Option<TicketPriority>,
    pub category: String,
    pub site: Option<SiteId>,
    pub assignee: Option<StaffUserId>,
}

/// A ticket about to be written ([`ScopedTx::insert_ticket`]).
struct NewTicketRow<'a> {
    company: CompanyId,
    site: Option<SiteId>,
    requester: PortalUserId,
    title: &'a str,
    priority: TicketPriority,
    category: &'a str,
    /// `portal` or `staff`.
    source: &'static str,
    assignee: Option<StaffUserId>,
}

/// Why staff are mailed about a client's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StaffAlert {
    NewTicket,
    ClientActivity,
}

/// A service-level target as a person says it: "30 minutes", "4 hours", "2 days".
fn describe_minutes(minutes: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if minutes % (24 * 60) == 0 && minutes >= 24 * 60 {
        plural(minutes / (24 * 60), "day")
    } else if minutes % 60 == 0 && minutes >= 60 {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

impl ScopedTx<'_> {
    /// Checks a submission against `company`'s form without raising it: every refusal at once
    /// ([`StoreError::InvalidFields`]), for a form shown again with other problems of its own.
    pub async fn check_new_ticket(
        &mut self,
        company: CompanyId,
        new: &NewTicket,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ContributeTickets)?;
        self.visible_company(company).await?;
        self.check_ticket(company, new).await.map(|_| ())
    }

    /// Every check of a submission; all refusals together, each named by its field.
    async fn check_ticket(
        &mut self,
        company: CompanyId,
        new: &NewTicket,
    ) -> Result<CheckedTicket, StoreError> {
        let mut refusals = Refusals::default();
        let title = refusals.check(
            "title",
            clean_text(&new.title, MAX_TITLE, false, "The title"),
        );
        let form = self.ticket_form(company).await?;
        let category = new.category.trim();
        if (!form.categories.is_empty() && !form.categories.iter().any(|c| c == category))
            || (form.categories.is_empty() && !category.is_empty())
        {
            refusals.refuse("category", "Choose a category.");
        }
        // A role not shown priorities raises tickets at normal priority.
        let priority = if form.view.shows(TicketItem::Priority) {
            new.priority
        } else {
            Some(TicketPriority::Normal)
        };
        if priority.is_none() {
            refusals.refuse("priority", "Choose a priority.");
        }
        // A site-restricted user must file under one of their sites, or they could not see the
        // ticket they just raised.
        match (self.scope.sites(), new.site) {
            (Some(sites), Some(site)) if sites.contains(&site) => {}
            (Some(_), _) => refusals.refuse("site", "Choose one of your sites."),
            (None, Some(_)) if self.scope.requester().is_some() => {
                refusals.refuse("site", "Choose one of the listed sites.");
            }
            (None, Some(site)) => {
                let mut known = self.select("COUNT(*)", &fence::SITES, "s");
                known
                    .sql(" AND s.company_id = ")
                    .arg(company)
                    .sql(" AND s.id = ")
                    .arg(site);
                if self.tx.count(known).await? != 1 {
                    refusals.refuse("site", "Choose one of the listed sites.");
                }
            }
            (None, None) => {}
        }
        let description = refusals.check(
            "description",
            clean_text(&new.description, MAX_BODY, true, "The description"),
        );
        let mut answers = Vec::new();
        for field in &form.fields {
            let submitted: Vec<&str> = new
                .answers
                .get(&field.id)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default();
            match field.accept(&submitted) {
                Ok(value) if value.is_empty() => {}
                Ok(value) => answers.push((field.id.clone(), field.label.clone(), value)),
                Err(message) => refusals.refuse(&format!("field_{}", field.id), &message),
            }
        }
        match (title, description, priority) {
            (Some(title), Some(description), Some(priority)) if refusals.0.is_empty() => {
                Ok(CheckedTicket {
                    title,
                    description,
                    priority,
                    category: category.to_owned(),
                    answers,
                })
            }
            _ => Err(StoreError::InvalidFields(refusals.0)),
        }
    }

    /// Logs a ticket for one of `company`'s portal users, as staff taking a call: every field
    /// checked and every problem reported at once ([`StoreError::InvalidFields`]); the client
    /// gets the same receipt as for a ticket they raise, and an assignee other than the one
    /// logging it is told.
    pub async fn log_ticket(
        &mut self,
        company: CompanyId,
        new: &LoggedTicket,
        links: &Links,
    ) -> Result<TicketId, StoreError> {
        // Out of sight is missing, before it is forbidden.
        self.visible_company(company).await?;
        self.scope.may(Action::WorkTickets)?;
        let mut refusals = Refusals::default();
        let requester = match new.requester {
            Some(id) => {
                let mut query = self.select("u.id", &fence::PORTAL_USERS, "u");
                query
                    .sql(" AND u.company_id = ")
                    .arg(company)
                    .sql(" AND u.id = ")
                    .arg(id)
                    .sql(" AND NOT u.disabled");
                let found: Option<(String,)> = self.tx.optional(query).await?;
                if found.is_none() {
                    refusals.refuse("requester", "Choose one of the company's people.");
                }
                found.map(|_| id)
            }
            None => {
                refusals.refuse("requester", "Choose who the ticket is for.");
                None
            }
        };
        let title = refusals.check(
            "title",
            clean_text(&new.title, MAX_TITLE, false, "The title"),
        );
        let description = refusals.check(
            "description",
            clean_text(&new.description, MAX_BODY, true, "The description"),
        );
        if new.priority.is_none() {
            refusals.refuse("priority", "Choose a priority.");
        }
        let category = new.category.trim();
        if !category.is_empty()
            && !self
                .ticket_categories()
                .await?
                .iter()
                .any(|c| c == category)
        {
            refusals.refuse("category", "Choose one of the listed categories.");
        }
        if let Some(site) = new.site
            && !self
                .sites(company)
                .await?
                .iter()
                .any(|s| s.id == site.as_text())
        {
            refusals.refuse("site", "Choose one of the company's sites.");
        }
        if let Some(assignee) = new.assignee
            && !self
                .staff_candidate(company, assignee)
                .await?
                .is_some_and(|c| c.may_work())
        {
            refusals.refuse(
                "assignee",
                "Choose someone who works this company's tickets.",
            );
        }
        let (Some(requester), Some(title), Some(description), Some(priority)) =
            (requester, title, description, new.priority)
        else {
            return Err(StoreError::InvalidFields(refusals.0));
        };
        if !refusals.0.is_empty() {
            return Err(StoreError::InvalidFields(refusals.0));
        }
        let workspace = self.scope.workspace();
        let (id, number, at) = self
            .insert_ticket(NewTicketRow {
                company,
                site: new.site,
                requester,
                title: &title,
                priority,
                category,
                source: "staff",
                assignee: new.assignee,
            })
            .await?;
        self.insert_message(company, id, &description, false, &[], at)
            .await?;
        if let Some(assignee) = new.assignee
            && Actor::Staff(assignee) != self.scope.actor()
            && let Some(candidate) = self.staff_candidate(company, assignee).await?
        {
            let subject = format!("[#{number}] New ticket for you: {title}");
            let body = format!(
                "{} logged \"{title}\" for a client and assigned it to you, {} priority.\n\n{description}\n\nOpen it: {}/tickets/{id}\n",
                self.scope.actor_name(),
                priority.label().to_lowercase(),
                links.console
            );
            outbox::push(
                &mut self.tx,
                workspace,
                Some(company),
                &candidate.email,
                &subject,
                &body,
            )
            .await?;
        }
        self.acknowledge(company, requester, id, number, &title, priority, links)
            .await?;
        Ok(id)
    }

    /// Raises a ticket for `company` through its submission form, as the signed-in portal user.
    pub async fn submit_ticket(
        &mut self,
        company: CompanyId,
        new: &NewTicket,
        links: &Links,
    ) -> Result<TicketId, StoreError> {
        self.scope.may(Action::ContributeTickets)?;
        self.visible_company(company).await?;
        let Actor::Portal(requester) = self.scope.actor() else {
            return Err(StoreError::Forbidden);
        };
        let checked = self.check_ticket(company, new).await?;
        let (title, description, priority, category, answers) = (
            checked.title,
            checked.description,
            checked.priority,
            checked.category.as_str(),
            checked.answers,
        );
        // Routing: the first rule that matches sets assignee, priority and category.
        let answered: Vec<(String, String)> = answers
            .iter()
            .map(|(_, label, value)| (label.clone(), value.clone()))
            .collect();
        let candidate = Candidate {
            company,
            category,
            title: &title,
            description: &description,
            answers: &answered,
        };
        let rule = self
            .routing_rules()
            .await?
            .into_iter()
            .find(|r| r.matches(&candidate));
        let (priority, category, assignee) = match &rule {
            Some(rule) => {
                let assignee = match rule.set_assignee {
                    Some(a) => self.routable_assignee(company, a).await?,
                    None => None,
                };
                (
                    rule.set_priority.unwrap_or(priority),
                    if rule.set_category.is_empty() {
                        category.to_owned()
                    } else {
                        rule.set_category.clone()
                    },
                    assignee,
                )
            }
            None => (priority, category.to_owned(), None),
        };
        let workspace = self.scope.workspace();
        let (id, number, at) = self
            .insert_ticket(NewTicketRow {
                company,
                site: new.site,
                requester,
                title: &title,
                priority,
                category: &category,
                source: "portal",
                assignee: assignee.as_ref().map(|(a, _)| *a),
            })
            .await?;
        // Staff hear of it: the assignee the rules chose, else the company's technicians, each
        // as their own notification settings say.
        let company_name = self.company_name(company).await?;
        let routed_to = assignee.as_ref().map(|(a, _)| *a);
        let (subject, reason) = match (&assignee, &rule) {
            (Some(_), Some(rule)) => (
                format!("[#{number}] New ticket for you: {title}"),
                format!(" The routing rule \"{}\" assigned it to you.", rule.name),
            ),
            _ => (
                format!("[#{number}] New ticket from {company_name}: {title}"),
                String::new(),
            ),
        };
        let body = format!(
            "{} ({company_name}) raised \"{title}\", {} priority.{reason}\n\n{description}\n\nOpen it: {}/tickets/{id}\n",
            self.scope.actor_name(),
            priority.label().to_lowercase(),
            links.console
        );
        for email in self
            .staff_to_alert(company, routed_to, StaffAlert::NewTicket)
            .await?
        {
            outbox::push(
                &mut self.tx,
                workspace,
                Some(company),
                &email,
                &subject,
                &body,
            )
            .await?;
        }
        self.acknowledge(company, requester, id, number, &title, priority, links)
            .await?;
        self.insert_message(company, id, &description, false, &new.attachments, at)
            .await?;
        for (position, (field_id, label, value)) in answers.iter().enumerate() {
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_field_values (workspace_id, company_id, ticket_id, position, field_id, label, value) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    workspace,
                    company,
                    id,
                    position as i64,
                    field_id.as_str(),
                    label.as_str(),
                    value.as_str()
                ))
                .await?;
        }
        Ok(id)
    }

    async fn insert_message(
        &mut self,
        company: CompanyId,
        ticket: TicketId,
        body: &str,
        internal: bool,
        attachments: &[NewAttachment],
        at: i64,
    ) -> Result<(), StoreError> {
        let message = MessageId::new();
        let (staff, portal) = match self.scope.actor() {
            Actor::Staff(s) => (Some(s), None),
            Actor::Portal(p) => (None, Some(p)),
        };
        self.tx
            .exec(q!(
                "INSERT INTO ticket_messages (workspace_id, company_id, ticket_id, id, author_staff_id, author_portal_id, \
                 author_name, body, internal, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                                self.scope.workspace(),
                company,
                ticket,
                message,
                staff,
                portal,
                self.scope.actor_name(),
                body,
                internal,
                at
            ))
            .await?;
        for file in attachments {
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_attachments (workspace_id, company_id, ticket_id, message_id, id, blob_key, \
                     file_name, content_type, size, inline, internal, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    self.scope.workspace(),
                    company,
                    ticket,
                    message,
                    MessageId::new(),
                    file.blob_key.as_str(),
                    file.file_name.as_str(),
                    file.content_type.as_str(),
                    file.size,
                    file.inline,
                    internal,
                    at
                ))
                .await?;
        }
        Ok(())
    }

    async fn record_event(
        &mut self,
        ticket: &TicketSummary,
        kind: &str,
        old_value: &str,
        new_value: &str,
        public: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO ticket_events (workspace_id, company_id, ticket_id, id, kind, old_value, new_value, \
                 actor_name, public, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                self.scope.workspace(),
                ticket.company_id,
                ticket.id,
                MessageId::new(),
                kind,
                old_value,
                new_value,
                self.scope.actor_name(),
                public,
                at
            ))
            .await?;
        Ok(())
    }

    /// Writes a new ticket with the workspace's next number; returns its id, number and time.
    async fn insert_ticket(
        &mut self,
        row: NewTicketRow<'_>,
    ) -> Result<(TicketId, i64, i64), StoreError> {
        let id = TicketId::new();
        let at = now();
        let number = self.next_ticket_number().await?;
        let (first_due, resolution_due) = self
            .planned_due_times(row.company, row.priority, at)
            .await?;
        self.tx
            .exec(q!(
                "INSERT INTO tickets (workspace_id, company_id, id, site_id, requester_id, title, status, priority, \
                 created_at, updated_at, category, source, assignee_id, number, first_response_due_at, resolution_due_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8, $8, $9, $10, $11, $12, $13, $14)",
                self.scope.workspace(),
                row.company,
                id,
                row.site,
                row.requester,
                row.title,
                row.priority.as_str(),
                at,
                row.category,
                row.source,
                row.assignee,
                number,
                first_due,
                resolution_due
            ))
            .await?;
        Ok((id, number, at))
    }

    /// The workspace's next ticket number. The counter row's lock (PostgreSQL) or the write
    /// lock (SQLite) makes concurrent submissions take turns; a rolled-back one gives its
    /// number back.
    async fn next_ticket_number(&mut self) -> Result<i64, StoreError> {
        let mut query = self.update(&fence::TICKET_COUNTERS, |set| {
            set.sql("last_number = last_number + 1");
        });
        query.sql(" RETURNING last_number");
        let (number,): (i64,) = self.tx.one(query).await?;
        Ok(number)
    }

    /// `UPDATE tickets SET <set> WHERE <fence> AND id = <ticket>`.
    async fn update_ticket(
        &mut self,
        ticket: TicketId,
        set: impl FnOnce(&mut Q),
    ) -> Result<(), StoreError> {
        let mut query = self.update(&fence::TICKETS, set);
        query.sql(" AND id = ").arg(ticket);
        self.tx.exec(query).await?;
        Ok(())
    }

    /// Moves a ticket to `status`, keeping `resolved_at` and the timeline in step.
    async fn set_status(
        &mut self,
        ticket: &TicketSummary,
        status: TicketStatus,
        at: i64,
    ) -> Result<(), StoreError> {
        if status == ticket.status {
            return Ok(());
        }
        self.run_sla_clock(ticket.id, ticket.status, status, at)
            .await?;
        let resolved_at = if status.is_open() {
            None
        } else {
            Some(
                ticket
                    .resolved_at
                    .filter(|_| !ticket.status.is_open())
                    .unwrap_or(at),
            )
        };
        self.update_ticket(ticket.id, |set| {
            set.sql("status = ")
                .arg(status.as_str())
                .sql(", resolved_at = ")
                .arg(resolved_at)
                .sql(", updated_at = ")
                .arg(at);
        })
        .await?;
        self.record_event(
            ticket,
            "status",
            ticket.status.as_str(),
            status.as_str(),
            true,
            at,
        )
        .await
    }

    /// Adds a public reply (either surface) or an internal note (staff only), and for the desk
    /// perhaps a new status with it: the client hears of both in one mail.
    pub async fn reply(
        &mut self,
        id: TicketId,
        body: &str,
        internal: bool,
        attachments: &[NewAttachment],
        status: Option<TicketStatus>,
        links: &Links,
    ) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(if internal {
            Action::WorkTickets
        } else {
            Action::ContributeTickets
        })?;
        let status = status.filter(|s| *s != ticket.status);
        if status.is_some() {
            self.scope.may(Action::WorkTickets)?;
        }
        let body = clean_text(body, MAX_BODY, true, "The message")?;
        if ticket.status == TicketStatus::Closed {
            return Err(StoreError::Invalid(
                "This ticket is closed. Raise a new ticket to continue.".into(),
            ));
        }
        let portal = self.scope.is_portal();
        if portal && ticket.status == TicketStatus::Resolved {
            return Err(StoreError::Invalid(
                "This ticket is resolved. Reopen it to reply.".into(),
            ));
        }
        let at = now();
        self.insert_message(ticket.company_id, id, &body, internal, attachments, at)
            .await?;
        self.stop_replying(id).await?;
        if internal {
            // An internal note changes nothing the client can see, not even the update time;
            // a status set with it is news of its own.
            if let Some(status) = status {
                self.set_status(&ticket, status, at).await?;
                self.mail_status_change(&ticket, status, links).await?;
            }
            return Ok(());
        }
        if portal {
            self.update_ticket(id, |set| {
                set.sql("updated_at = ").arg(at);
            })
            .await?;
            if ticket.status == TicketStatus::AwaitingClient {
                self.set_status(&ticket, TicketStatus::Open, at).await?;
            }
            let subject = format!(
                "[#{}] New reply from {}: {}",
                ticket.number,
                self.scope.actor_name(),
                ticket.title
            );
            let mail = format!(
                "{} replied on \"{}\" ({}):\n\n{}\n\nOpen the ticket: {}/tickets/{}\n",
                self.scope.actor_name(),
                ticket.title,
                ticket.company_name,
                body,
                links.console,
                id
            );
            self.notify_assignee(&ticket, &subject, &mail).await?;
        } else {
            self.update_ticket(id, |set| {
                set.sql("updated_at = ")
                    .arg(at)
                    .sql(", first_response_at = COALESCE(first_response_at, ")
                    .arg(at)
                    .sql(")");
            })
            .await?;
            if let Some(status) = status {
                self.set_status(&ticket, status, at).await?;
            }
            let subject = match status {
                Some(status) => {
                    format!("[#{}] {}: {}", ticket.number, status.label(), ticket.title)
                }
                None => format!("[#{}] Re: {}", ticket.number, ticket.title),
            };
            let status_line = status
                .map(|s| format!("The status of your ticket is now: {}.\n\n", s.label()))
                .unwrap_or_default();
            let mail = format!(
                "{} replied to your ticket \"{}\":\n\n{}\n\n{status_line}View or answer it: {}/tickets/{}\n",
                self.scope.actor_name(),
                ticket.title,
                body,
                links.portal,
                id
            );
            let link = format!("{}/tickets/{id}", links.portal);
            let kind = if status == Some(TicketStatus::Resolved) {
                ClientMail::Resolved
            } else {
                ClientMail::Update
            };
            self.notify_client(&ticket, kind, &subject, &mail, &link)
                .await?;
        }
        Ok(())
    }

    /// The desk's status, priority and assignment changes, each recorded on the timeline.
    pub async fn change_ticket(
        &mut self,
        id: TicketId,
        change: &TicketChange,
        links: &Links,
    ) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::WorkTickets)?;
        let at = now();
        if change.assignee != ticket.assignee_id {
            let name = match change.assignee {
                Some(assignee) => Some(self.check_assignee(&ticket, assignee).await?),
                None => None,
            };
            self.update_ticket(id, |set| {
                set.sql("assignee_id = ").arg(change.assignee);
            })
            .await?;
            self.record_event(
                &ticket,
                "assignee",
                ticket.assignee_name.as_deref().unwrap_or(""),
                name.as_ref().map(|(n, _)| n.as_str()).unwrap_or(""),
                false,
                at,
            )
            .await?;
            if let (Some(assignee), Some((_, email))) = (change.assignee, &name)
                && Actor::Staff(assignee) != self.scope.actor()
            {
                let subject = format!("[#{}] Assigned to you: {}", ticket.number, ticket.title);
                let body = format!(
                    "{} assigned you the ticket \"{}\" ({}).\n\nOpen it: {}/tickets/{}\n",
                    self.scope.actor_name(),
                    ticket.title,
                    ticket.company_name,
                    links.console,
                    id
                );
                outbox::push(
                    &mut self.tx,
                    self.scope.workspace(),
                    Some(ticket.company_id),
                    email,
                    &subject,
                    &body,
                )
                .await?;
            }
        }
        if change.priority != ticket.priority {
            self.update_ticket(id, |set| {
                set.sql("priority = ")
                    .arg(change.priority.as_str())
                    .sql(", updated_at = ")
                    .arg(at);
            })
            .await?;
            self.recompute_ticket_due_times(id).await?;
            self.record_event(
                &ticket,
                "priority",
                ticket.priority.as_str(),
                change.priority.as_str(),
                true,
                at,
            )
            .await?;
        }
        if change.status != ticket.status {
            self.set_status(&ticket, change.status, at).await?;
            self.mail_status_change(&ticket, change.status, links)
                .await?;
        }
        Ok(())
    }

    /// A routing rule's assignee, if they may still work tickets of `company` (an owner, or a
    /// technician assigned to it, not disabled); otherwise the rule's assignment is skipped.
    async fn routable_assignee(
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
    async fn staff_candidate(
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

    /// Merges `source` into `target` (same company): messages and files move to the target,
    /// the source's requester and copied colleagues are copied on the target, and the source is
    /// closed with a public note saying where the conversation went.
    pub async fn merge_ticket(
        &mut self,
        source: TicketId,
        target: TicketId,
    ) -> Result<(), StoreError> {
        let from = self.ticket_summary(source).await?;
        self.scope.may(Action::WorkTickets)?;
        if source == target {
            return Err(StoreError::Invalid(
                "Choose another ticket to merge into.".into(),
            ));
        }
        let into = self
            .ticket_summary(target)
            .await
            .map_err(|_| StoreError::Invalid("Choose a ticket of the same company.".into()))?;
        if into.company_id != from.company_id {
            return Err(StoreError::Invalid(
                "Tickets of different companies cannot be merged.".into(),
            ));
        }
        // Site-restricted client users see one site's tickets: merging across sites would show
        // them another site's conversation.
        if into.site_id != from.site_id {
            return Err(StoreError::Invalid(
                "Tickets of different sites cannot be merged.".into(),
            ));
        }
        // A merge shows each ticket's conversation to the other's audience: refuse it unless the
        // two tickets are read by the same client users, or an own-tickets-only member (or a
        // user of another company copied in) would gain a ticket they were never part of.
        if self.ticket_specific_readers(&from).await? != self.ticket_specific_readers(&into).await?
        {
            return Err(StoreError::Invalid(
                "These tickets are seen by different people in the client's portal (a requester \
                 or a copied colleague who sees only their own tickets), so merging them would \
                 show one person's ticket to another. Copy the people on the ticket first, or \
                 reply on both."
                    .into(),
            ));
        }
        let (ws, company) = (self.scope.workspace(), from.company_id);
        for table in [&fence::TICKET_MESSAGES, &fence::TICKET_ATTACHMENTS] {
            let mut moved = self.update(table, |set| {
                set.sql("ticket_id = ").arg(target);
            });
            moved.sql(" AND ticket_id = ").arg(source);
            self.tx.exec(moved).await?;
        }
        let mut copied: Vec<PortalUserId> = Vec::new();
        let mut cc = self.select("x.portal_user_id", &fence::TICKET_CC, "x");
        cc.sql(" AND x.ticket_id = ").arg(source);
        let cc: Vec<(String,)> = self.tx.all(cc).await?;
        copied.extend(cc.iter().map(|(u,)| PortalUserId::from_stored(u)));
        // The source's requester keeps following the conversation, if they belong to this
        // company (a client-group user from another company cannot be copied).
        if let Some(requester) = from.requester_id {
            let mut same_company = self.select("COUNT(*)", &fence::PORTAL_USERS, "u");
            same_company
                .sql(" AND u.company_id = ")
                .arg(company)
                .sql(" AND u.id = ")
                .arg(requester);
            let same_company = self.tx.count(same_company).await?;
            if same_company == 1 {
                copied.push(requester);
            }
        }
        for user in copied {
            if Some(user) == into.requester_id {
                continue;
            }
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_cc (workspace_id, company_id, ticket_id, portal_user_id) \
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM ticket_cc WHERE ticket_id = $3 AND portal_user_id = $4)",
                    ws,
                    company,
                    target,
                    user
                ))
                .await?;
        }
        let at = now();
        self.insert_message(
            company,
            source,
            &format!(
                "This ticket was merged into \"{}\"; the conversation continues there.",
                into.title
            ),
            false,
            &[],
            at,
        )
        .await?;
        self.insert_message(
            company,
            target,
            &format!(
                "Merged with \"{}\": its messages now appear here.",
                from.title
            ),
            true,
            &[],
            at,
        )
        .await?;
        self.set_status(&from, TicketStatus::Closed, at).await?;
        self.update_ticket(target, |set| {
            set.sql("updated_at = ").arg(at);
        })
        .await?;
        Ok(())
    }

    /// The client users who read `ticket` because of who they are on it rather than because
    /// they see all of its company's tickets: its requester and everyone copied, less those who
    /// are plainly users of the ticket's company without the own-tickets restriction (they read
    /// both tickets of a merge anyway). Anyone the scope cannot see, or who reaches the company
    /// through a grant, stays in: the answer must not depend on who merges. Enabled or not (a
    /// disabled user may be enabled again); sorted, for comparison.
    async fn ticket_specific_readers(
        &mut self,
        ticket: &TicketSummary,
    ) -> Result<Vec<PortalUserId>, StoreError> {
        let mut cc = self.select("x.portal_user_id", &fence::TICKET_CC, "x");
        cc.sql(" AND x.ticket_id = ").arg(ticket.id);
        let cc: Vec<(String,)> = self.tx.all(cc).await?;
        let mut readers: Vec<PortalUserId> = cc
            .iter()
            .map(|(u,)| PortalUserId::from_stored(u))
            .chain(ticket.requester_id)
            .collect();
        if !readers.is_empty() {
            let mut broad = self.select("u.id", &fence::PORTAL_USERS, "u");
            broad
                .sql(" AND NOT u.own_only AND u.company_id = ")
                .arg(ticket.company_id)
                .sql(" AND ");
            broad.in_list("u.id", &readers);
            let broad: Vec<(String,)> = self.tx.all(broad).await?;
            readers.retain(|r| !broad.iter().any(|(b,)| *b == r.as_text()));
        }
        readers.sort_unstable_by_key(|r| r.as_text());
        readers.dedup();
        Ok(readers)
    }

    /// The assignee's name and address, if they may work this ticket: an owner, or a
    /// technician assigned to the ticket's company.
    async fn check_assignee(
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

    async fn mail_status_change(
        &mut self,
        ticket: &TicketSummary,
        status: TicketStatus,
        links: &Links,
    ) -> Result<(), StoreError> {
        let link = format!("{}/tickets/{}", links.portal, ticket.id);
        if status == TicketStatus::Resolved {
            let subject = format!("[#{}] Resolved: {}", ticket.number, ticket.title);
            let body = format!(
                "Your ticket \"{}\" has been resolved.\n\nIf it is not fixed, you can reopen it here: {link}\n",
                ticket.title
            );
            self.notify_client(ticket, ClientMail::Resolved, &subject, &body, &link)
                .await
        } else {
            let subject = format!("[#{}] {}: {}", ticket.number, status.label(), ticket.title);
            let body = format!(
                "The status of your ticket \"{}\" is now: {}.\n\nView it: {link}\n",
                ticket.title,
                status.label()
            );
            self.notify_client(ticket, ClientMail::Update, &subject, &body, &link)
                .await
        }
    }

    /// The client marks their ticket resolved.
    pub async fn resolve_ticket(&mut self, id: TicketId, links: &Links) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        if !ticket.status.is_open() {
            // Already resolved (a second click, another tab): nothing to do.
            return Ok(());
        }
        self.set_status(&ticket, TicketStatus::Resolved, now())
            .await?;
        let subject = format!(
            "[#{}] Resolved by the client: {}",
            ticket.number, ticket.title
        );
        let body = format!(
            "{} marked \"{}\" ({}) as resolved.\n\nOpen it: {}/tickets/{}\n",
            self.scope.actor_name(),
            ticket.title,
            ticket.company_name,
            links.console,
            id
        );
        self.notify_assignee(&ticket, &subject, &body).await
    }

    /// The client reopens a resolved ticket, within the workspace's reopen window.
    pub async fn reopen_ticket(&mut self, id: TicketId, links: &Links) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        if ticket.status.is_open() {
            // Already open again: nothing to do.
            return Ok(());
        }
        let (days,): (i64,) = self
            .tx
            .one(q!(
                "SELECT reopen_days FROM workspaces WHERE id = $1",
                self.scope.workspace()
            ))
            .await?;
        let at = now();
        let within = ticket
            .resolved_at
            .is_some_and(|resolved| at <= resolved + days * 24 * 3600);
        if ticket.status != TicketStatus::Resolved || !within {
            return Err(StoreError::Invalid(format!(
                "Only tickets resolved in the last {days} days can be reopened. Raise a new ticket instead."
            )));
        }
        self.set_status(&ticket, TicketStatus::Open, at).await?;
        let subject = format!(
            "[#{}] Reopened by the client: {}",
            ticket.number, ticket.title
        );
        let body = format!(
            "{} reopened \"{}\" ({}).\n\nOpen it: {}/tickets/{}\n",
            self.scope.actor_name(),
            ticket.title,
            ticket.company_name,
            links.console,
            id
        );
        self.notify_assignee(&ticket, &subject, &body).await
    }

    /// The client's satisfaction rating (1–5) of a resolved ticket; a later rating replaces it.
    pub async fn rate_ticket(
        &mut self,
        id: TicketId,
        score: i64,
        comment: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        if ticket.status.is_open() {
            return Err(StoreError::Invalid(
                "A ticket can be rated once it is resolved.".into(),
            ));
        }
        if !(1..=5).contains(&score) {
            return Err(StoreError::Invalid("Choose a rating from 1 to 5.".into()));
        }
        let comment = comment.trim();
        if comment.chars().count() > MAX_COMMENT {
            return Err(StoreError::Invalid(format!(
                "The comment is longer than {MAX_COMMENT} characters."
            )));
        }
        let at = now();
        let rated_by = match self.scope.actor() {
            Actor::Portal(user) => Some(user),
            Actor::Staff(_) => None,
        };
        self.update_ticket(id, |set| {
            set.sql("csat_rating = ")
                .arg(score)
                .sql(", csat_comment = ")
                .arg(comment)
                .sql(", csat_at = ")
                .arg(at)
                .sql(", csat_by = ")
                .arg(rated_by);
        })
        .await?;
        self.record_event(&ticket, "rating", "", &score.to_string(), true, at)
            .await
    }

    /// Colleagues who may be copied on tickets of `company`.
    pub async fn cc_candidates(
        &mut self,
        ticket: TicketId,
    ) -> Result<Vec<(PortalUserId, String)>, StoreError> {
        let ticket = self.ticket_summary(ticket).await?;
        let mut query = self.select("u.id, u.name", &fence::PORTAL_USERS, "u");
        query
            .sql(" AND NOT u.disabled AND u.company_id = ")
            .arg(ticket.company_id);
        let id = query.placeholder(ticket.id);
        query.sql(" AND ").sql(&reads_ticket(&id));
        query.sql(" ORDER BY u.name");
        let rows: Vec<(String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Some((PortalUserId::parse(&id)?, name)))
            .collect())
    }

    /// Replaces the colleagues copied on a ticket. Only active users of the ticket's company.
    pub async fn set_cc(&mut self, id: TicketId, users: &[PortalUserId]) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        let mut wanted: Vec<PortalUserId> = Vec::new();
        for user in users {
            if Some(*user) != ticket.requester_id && !wanted.contains(user) {
                wanted.push(*user);
            }
        }
        if wanted.len() > 50 {
            return Err(StoreError::Invalid("Copy at most 50 colleagues.".into()));
        }
        if !wanted.is_empty() {
            let mut check = self.select("COUNT(*)", &fence::PORTAL_USERS, "u");
            check
                .sql(" AND NOT u.disabled AND u.company_id = ")
                .arg(ticket.company_id);
            let id = check.placeholder(ticket.id);
            check.sql(" AND ").sql(&reads_ticket(&id));
            check.sql(" AND ");
            check.in_list("u.id", &wanted);
            if self.tx.count(check).await? as usize != wanted.len() {
                return Err(StoreError::Invalid(
                    "Choose colleagues from the list.".into(),
                ));
            }
        }
        let mut uncopy = self.delete(&fence::TICKET_CC);
        uncopy.sql(" AND ticket_id = ").arg(id);
        self.tx.exec(uncopy).await?;
        for user in wanted {
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_cc (workspace_id, company_id, ticket_id, portal_user_id) VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    ticket.company_id,
                    id,
                    user
                ))
                .await?;
        }
        Ok(())
    }

    /// Mails the requester and everyone copied, as their preferences allow; never the person
    /// who acted.
    async fn notify_client(
        &mut self,
        ticket: &TicketSummary,
        kind: ClientMail,
        subject: &str,
        body: &str,
        link: &str,
    ) -> Result<(), StoreError> {
        let mut query = self.select_joined(
            "u.id, u.email, COALESCE(p.ticket_updates, TRUE) AS updates, \
             COALESCE(p.ticket_resolved, TRUE) AS resolved, COALESCE(p.satisfaction_survey, TRUE) AS survey",
            &fence::PORTAL_USERS,
            "u",
            " LEFT JOIN notification_preferences p \
             ON p.workspace_id = u.workspace_id AND p.portal_user_id = u.id",
        );
        query
            .sql(" AND NOT u.disabled AND (u.id = ")
            .arg(ticket.requester_id);
        query
            .sql(" OR u.id IN (SELECT x.portal_user_id FROM ticket_cc x WHERE x.ticket_id = ")
            .arg(ticket.id)
            .sql("))");
        let id = query.placeholder(ticket.id);
        query.sql(" AND ").sql(&reads_ticket(&id));
        let recipients: Vec<(String, String, bool, bool, bool)> = self.tx.all(query).await?;
        for (id, email, updates, resolved, survey) in recipients {
            if Actor::Portal(PortalUserId::from_stored(&id)) == self.scope.actor() {
                continue;
            }
            let wanted = match kind {
                ClientMail::Update => updates,
                ClientMail::Resolved => resolved,
            };
            // One mail per event: the resolution carries the rating request with it.
            let survey = kind == ClientMail::Resolved && survey;
            let (subject, body) = match (wanted, survey) {
                (true, true) => (
                    subject.to_owned(),
                    format!(
                        "{body}\nHow did we do? Please rate our help from 1 to 5 on the ticket's page:\n\n{link}\n"
                    ),
                ),
                (true, false) => (subject.to_owned(), body.to_owned()),
                (false, true) => (
                    format!("[#{}] How did we do? {}", ticket.number, ticket.title),
                    format!(
                        "Your ticket \"{}\" was resolved. Please rate our help from 1 to 5 on the ticket's page:\n\n{link}\n",
                        ticket.title
                    ),
                ),
                (false, false) => continue,
            };
            outbox::push(
                &mut self.tx,
                self.scope.workspace(),
                Some(ticket.company_id),
                &email,
                &subject,
                &body,
            )
            .await?;
        }
        Ok(())
    }

    /// Mails the ticket's assignee, unless they are the one acting or nobody is assigned.
    async fn notify_assignee(
        &mut self,
        ticket: &TicketSummary,
        subject: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let Some(assignee) = ticket.assignee_id else {
            return Ok(());
        };
        if Actor::Staff(assignee) == self.scope.actor() {
            return Ok(());
        }
        // Only while they may still work this company's tickets (assignments change), and as
        // their notification settings say.
        for email in self
            .staff_to_alert(
                ticket.company_id,
                Some(assignee),
                StaffAlert::ClientActivity,
            )
            .await?
        {
            outbox::push(
                &mut self.tx,
                self.scope.workspace(),
                Some(ticket.company_id),
                &email,
                subject,
                body,
            )
            .await?;
        }
        Ok(())
    }

    /// The addresses of the staff to alert of a client's action on `company`'s ticket: the
    /// assignee if there is one, else, for a new ticket, the company's technicians; each only
    /// while active and allowed to work the company's tickets, and only if they want this kind
    /// of mail. Read as the system role on PostgreSQL, since a client's own transaction sees no
    /// staff user (see [`ScopedTx::staff_candidate`]).
    async fn staff_to_alert(
        &mut self,
        company: CompanyId,
        assignee: Option<StaffUserId>,
        alert: StaffAlert,
    ) -> Result<Vec<String>, StoreError> {
        let wanted = match alert {
            StaffAlert::NewTicket => "COALESCE(p.new_portal_tickets, TRUE)",
            StaffAlert::ClientActivity => "COALESCE(p.client_activity, TRUE)",
        };
        let mut query = self.select_joined(
            "u.email",
            &fence::STAFF_USERS,
            "u",
            " LEFT JOIN staff_notification_preferences p \
             ON p.workspace_id = u.workspace_id AND p.staff_user_id = u.id",
        );
        query.sql(" AND NOT u.disabled AND ").sql(wanted);
        let assigned = |query: &mut Q| {
            query
                .sql(
                    "EXISTS (SELECT 1 FROM staff_assignments s WHERE s.workspace_id = u.workspace_id \
                     AND s.staff_user_id = u.id AND s.company_id = ",
                )
                .arg(company)
                .sql(")");
        };
        match (assignee, alert) {
            (Some(assignee), _) => {
                query.sql(" AND u.id = ").arg(assignee);
                query.sql(" AND (u.role = 'owner' OR (u.role = 'technician' AND ");
                assigned(&mut query);
                query.sql("))");
            }
            (None, StaffAlert::NewTicket) => {
                query.sql(" AND u.role = 'technician' AND ");
                assigned(&mut query);
            }
            (None, StaffAlert::ClientActivity) => return Ok(Vec::new()),
        }
        query.sql(" ORDER BY u.email");
        let rows: Vec<(String,)> = match &mut self.system {
            Some(system) => system.all(query).await?,
            None => self.tx.all(query).await?,
        };
        Ok(rows.into_iter().map(|(email,)| email).collect())
    }

    /// Mails the client who raised a ticket its receipt: the number, and when to expect a
    /// first response (the workspace's target for its priority), unless they turned ticket
    /// mail off.
    #[allow(clippy::too_many_arguments)]
    async fn acknowledge(
        &mut self,
        company: CompanyId,
        requester: PortalUserId,
        id: TicketId,
        number: i64,
        title: &str,
        priority: TicketPriority,
        links: &Links,
    ) -> Result<(), StoreError> {
        let mut query = self.select_joined(
            "u.email, u.name, COALESCE(p.ticket_updates, TRUE)",
            &fence::PORTAL_USERS,
            "u",
            " LEFT JOIN notification_preferences p \
             ON p.workspace_id = u.workspace_id AND p.portal_user_id = u.id",
        );
        query.sql(" AND u.id = ").arg(requester);
        let Some((email, name, wanted)): Option<(String, String, bool)> =
            self.tx.optional(query).await?
        else {
            return Ok(());
        };
        if !wanted {
            return Ok(());
        }
        let target = self
            .stored_sla_targets()
            .await?
            .into_iter()
            .find(|t| t.priority == priority)
            .and_then(|t| t.first_response_minutes);
        let expect = match target {
            Some(minutes) => format!("We aim to respond within {}.", describe_minutes(minutes)),
            None => "We will be in touch as soon as we can.".to_owned(),
        };
        let subject = format!("[#{number}] We have your request: {title}");
        let body = format!(
            "Hello {name},\n\nThank you. We have your request \"{title}\" as ticket #{number}, {} priority. {expect}\n\nFollow it or add to it here: {}/tickets/{id}\n",
            priority.label().to_lowercase(),
            links.portal
        );
        outbox::push(
            &mut self.tx,
            self.scope.workspace(),
            Some(company),
            &email,
            &subject,
            &body,
        )
        .await
    }

    /// A company's name, inside the scope.
    async fn company_name(&mut self, company: CompanyId) -> Result<String, StoreError> {
        let mut query = self.select("c.name", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        let (name,): (String,) = self.tx.one(query).await?;
        Ok(name)
    }

    /// The signed-in portal user's e-mail preferences.
    pub async fn notification_preferences(
        &mut self,
    ) -> Result<NotificationPreferences, StoreError> {
        self.scope.may(Action::ManageOwnPreferences)?;
        let Actor::Portal(user) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        // The fence keeps the acting user's own row.
        let mut query = self.select(
            "p.ticket_updates, p.ticket_resolved, p.satisfaction_survey",
            &fence::NOTIFICATION_PREFERENCES,
            "p",
        );
        query.sql(" AND p.portal_user_id = ").arg(user);
        let row: Option<(bool, bool, bool)> = self.tx.optional(query).await?;
        Ok(
            row.map_or_else(NotificationPreferences::default, |(u, r, s)| {
                NotificationPreferences {
                    ticket_updates: u,
                    ticket_resolved: r,
                    satisfaction_survey: s,
                }
            }),
        )
    }

    pub async fn set_notification_preferences(
        &mut self,
        prefs: NotificationPreferences,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageOwnPreferences)?;
        let Actor::Portal(user) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        self.tx
            .exec(q!(
                "INSERT INTO notification_preferences (workspace_id, portal_user_id, ticket_updates, ticket_resolved, \
                 satisfaction_survey) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (portal_user_id) DO UPDATE SET \
                 ticket_updates = excluded.ticket_updates, ticket_resolved = excluded.ticket_resolved, \
                 satisfaction_survey = excluded.satisfaction_survey",
                self.scope.workspace(),
                user,
                prefs.ticket_updates,
                prefs.ticket_resolved,
                prefs.satisfaction_survey
            ))
            .await?;
        Ok(())
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
