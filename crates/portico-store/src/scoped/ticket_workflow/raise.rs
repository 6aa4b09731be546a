//! Raising a ticket: a client's submission through their company's form (checked, routed,
//! staff told, the client sent a receipt), or staff logging one for a client, as from a call.

use std::collections::HashMap;

use portico_core::notice::{Notice, TicketRef};
use portico_core::{
    Action, Actor, AssetId, CompanyId, PortalUserId, SiteId, StaffUserId, TicketId, TicketItem,
    TicketPriority,
};

use crate::scoped::outbox;
use crate::scoped::routing::Candidate;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

use super::notifications::StaffAlert;
use super::writes::NewAttachment;
use super::{Links, MAX_BODY, clean_text};

const MAX_TITLE: usize = 200;

/// A ticket as submitted through the portal's form.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub title: String,
    pub description: String,
    pub category: String,
    pub priority: Option<TicketPriority>,
    pub site: Option<SiteId>,
    /// The asset the ticket is about ("Report an issue" on an asset's page).
    pub asset: Option<AssetId>,
    /// Custom-field answers by field id (several values only for multi-select fields).
    pub answers: HashMap<String, Vec<String>>,
    pub attachments: Vec<NewAttachment>,
}

/// A submission that passed every check.
struct CheckedTicket {
    title: String,
    description: String,
    priority: TicketPriority,
    category: String,
    /// (field id, label, value) of each answered custom field, in the form's order.
    answers: Vec<(String, String, String)>,
    asset: Option<AssetId>,
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
    asset: Option<AssetId>,
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
        // The asset is one the raiser sees, of this company.
        if let Some(asset) = new.asset {
            match self.asset_ref(asset).await {
                Ok((owner, _)) if owner == company => {}
                Ok(_) | Err(StoreError::NotFound) => {
                    refusals.refuse("asset", "That asset is not one of this company's.");
                }
                Err(e) => return Err(e),
            }
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
                    asset: new.asset,
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
                asset: None,
            })
            .await?;
        self.insert_message(company, id, &description, false, &[], at)
            .await?;
        if let Some(assignee) = new.assignee
            && Actor::Staff(assignee) != self.scope.actor()
            && let Some(candidate) = self.staff_candidate(company, assignee).await?
        {
            let notice = Notice::TicketLogged {
                ticket: TicketRef {
                    number,
                    title: title.clone(),
                    link: format!("{}/tickets/{id}", links.console),
                },
                actor: self.scope.actor_name().to_owned(),
                priority,
                description: description.clone(),
            };
            outbox::push_notice(
                &mut self.tx,
                workspace,
                Some(company),
                &candidate.email,
                &notice,
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
        let checked_asset = checked.asset;
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
                asset: checked_asset,
            })
            .await?;
        // Staff hear of it: the assignee the rules chose, else the company's technicians, each
        // as their own notification settings say.
        let company_name = self.company_name(company).await?;
        let routed_to = assignee.as_ref().map(|(a, _)| *a);
        let notice = Notice::TicketRaised {
            ticket: TicketRef {
                number,
                title: title.clone(),
                link: format!("{}/tickets/{id}", links.console),
            },
            actor: self.scope.actor_name().to_owned(),
            company: company_name,
            priority,
            description: description.clone(),
            routing_rule: match (&assignee, &rule) {
                (Some(_), Some(rule)) => Some(rule.name.clone()),
                _ => None,
            },
        };
        for email in self
            .staff_to_alert(company, routed_to, StaffAlert::NewTicket)
            .await?
        {
            outbox::push_notice(&mut self.tx, workspace, Some(company), &email, &notice).await?;
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
                 created_at, updated_at, category, source, assignee_id, number, first_response_due_at, resolution_due_at, asset_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8, $8, $9, $10, $11, $12, $13, $14, $15)",
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
                resolution_due,
                row.asset
            ))
            .await?;
        self.audit(
            portico_core::AuditAction::TicketCreated,
            Some(row.company),
            portico_core::AuditTarget::new("ticket", id, format!("#{number} {}", row.title)),
            match row.source {
                "portal" => "raised in the portal",
                "staff" => "logged by the desk",
                other => other,
            },
        )
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

    /// A company's name, inside the scope.
    pub(crate) async fn company_name(&mut self, company: CompanyId) -> Result<String, StoreError> {
        let mut query = self.select("c.name", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        let (name,): (String,) = self.tx.one(query).await?;
        Ok(name)
    }
}
