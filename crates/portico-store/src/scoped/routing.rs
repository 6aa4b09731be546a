//! Routing rules for tickets raised on the portal: conditions on company, category, keywords in
//! the title or description, and a custom-field answer; actions setting the assignee, priority
//! and category. Rules are evaluated in order and the first whose conditions all hold applies.

use portico_core::{Action, CompanyId, StaffUserId, TicketPriority};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};

/// A rule as stored and shown.
#[derive(Debug, Clone, Default)]
pub struct RoutingRule {
    pub id: String,
    pub position: i64,
    pub name: String,
    pub company: Option<CompanyId>,
    pub company_name: Option<String>,
    pub category: String,
    /// Any of these words (comma-separated) in the title or description.
    pub keywords: String,
    pub field_label: String,
    pub field_value: String,
    pub set_assignee: Option<StaffUserId>,
    pub set_assignee_name: Option<String>,
    pub set_priority: Option<TicketPriority>,
    pub set_category: String,
}

/// A rule as the console submits it.
#[derive(Debug, Clone, Default)]
pub struct NewRoutingRule {
    pub position: i64,
    pub name: String,
    pub company: Option<CompanyId>,
    pub category: String,
    pub keywords: String,
    pub field_label: String,
    pub field_value: String,
    pub set_assignee: Option<StaffUserId>,
    pub set_priority: Option<TicketPriority>,
    pub set_category: String,
}

/// A rule's texts after their checks.
struct CheckedRule {
    name: String,
    category: String,
    keywords: String,
    field_label: String,
    field_value: String,
    set_category: String,
}

/// What a new ticket looks like to the rules.
pub(crate) struct Candidate<'a> {
    pub company: CompanyId,
    pub category: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// (field label, stored answer)
    pub answers: &'a [(String, String)],
}

impl RoutingRule {
    pub(crate) fn matches(&self, t: &Candidate<'_>) -> bool {
        if self.company.is_some_and(|c| c != t.company) {
            return false;
        }
        if !self.category.is_empty() && !self.category.eq_ignore_ascii_case(t.category) {
            return false;
        }
        let words: Vec<String> = self
            .keywords
            .split(',')
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        if !words.is_empty() {
            let text = format!("{} {}", t.title, t.description).to_lowercase();
            if !words.iter().any(|w| text.contains(w.as_str())) {
                return false;
            }
        }
        if !self.field_label.is_empty() {
            let answered = t.answers.iter().any(|(label, value)| {
                label.eq_ignore_ascii_case(&self.field_label)
                    && (self.field_value.is_empty()
                        || value
                            .lines()
                            .any(|v| v.trim().eq_ignore_ascii_case(self.field_value.trim())))
            });
            if !answered {
                return false;
            }
        }
        true
    }
}

impl ScopedTx<'_> {
    /// The workspace's rules in evaluation order.
    pub async fn routing_rules(&mut self) -> Result<Vec<RoutingRule>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let mut query = self.select_joined(
            "r.id, r.position, r.name, r.company_id, c.name, r.category, r.keywords, r.field_label, \
             r.field_value, r.set_assignee_id, a.name, r.set_priority, r.set_category",
            &fence::ROUTING_RULES,
            "r",
            " LEFT JOIN companies c ON c.workspace_id = r.workspace_id AND c.id = r.company_id \
             LEFT JOIN staff_users a ON a.workspace_id = r.workspace_id AND a.id = r.set_assignee_id",
        );
        query.sql(" ORDER BY r.position, r.name");
        let rows: Vec<RawRule> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|r| RoutingRule {
                id: r.id,
                position: r.position,
                name: r.name,
                company: r.company_id.as_deref().and_then(CompanyId::parse),
                company_name: r.company_name,
                category: r.category,
                keywords: r.keywords,
                field_label: r.field_label,
                field_value: r.field_value,
                set_assignee: r.set_assignee_id.as_deref().and_then(StaffUserId::parse),
                set_assignee_name: r.assignee_name,
                set_priority: r.set_priority.as_deref().and_then(TicketPriority::parse),
                set_category: r.set_category.unwrap_or_default(),
            })
            .collect())
    }

    /// Every check of a rule: its texts, a category of the form's list, a visible company, and
    /// an assignee who may work that company's tickets.
    async fn check_rule(&mut self, rule: &NewRoutingRule) -> Result<CheckedRule, StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let one_line = |text: &str, max: usize, what: &str| -> Result<String, StoreError> {
            let text = text.trim();
            if text.chars().count() > max || text.chars().any(char::is_control) {
                return Err(StoreError::Invalid(format!(
                    "{what} must be one line of at most {max} characters."
                )));
            }
            Ok(text.to_owned())
        };
        let name = one_line(&rule.name, 80, "The name")?;
        if name.is_empty() {
            return Err(StoreError::Invalid("Give the rule a name.".into()));
        }
        let category = one_line(&rule.category, 80, "The category")?;
        let keywords = one_line(&rule.keywords, 500, "The keywords")?;
        let field_label = one_line(&rule.field_label, 80, "The field")?;
        let field_value = one_line(&rule.field_value, 200, "The answer")?;
        let set_category = one_line(&rule.set_category, 80, "The category to set")?;
        if rule.set_assignee.is_none() && rule.set_priority.is_none() && set_category.is_empty() {
            return Err(StoreError::Invalid(
                "A rule must set an assignee, a priority or a category.".into(),
            ));
        }
        if let Some(company) = rule.company {
            self.visible_company(company).await?;
        }
        if let Some(assignee) = rule.set_assignee {
            // Refused now rather than skipped later: a rule that names someone who may not work
            // the company's tickets would silently assign nobody.
            let mut query = Q::new(
                "SELECT u.name, u.role, (SELECT COUNT(*) FROM staff_assignments a \
                 WHERE a.workspace_id = u.workspace_id AND a.staff_user_id = u.id AND a.company_id = ",
            );
            query
                .arg(rule.company)
                .sql(") FROM staff_users u WHERE 1 = 1");
            self.fenced(&mut query, &fence::STAFF_USERS, "u");
            query
                .sql(" AND u.id = ")
                .arg(assignee)
                .sql(" AND NOT u.disabled");
            let row: Option<(String, String, i64)> = self.tx.optional(query).await?;
            match row {
                Some((_, role, _)) if role == "owner" => {}
                Some((name, role, assigned)) if role == "technician" => match rule.company {
                    None => {
                        return Err(StoreError::Invalid(format!(
                            "{name} is a technician and works only the companies assigned to them: \
                             choose one of those companies for this rule, or an owner."
                        )));
                    }
                    Some(_) if assigned == 0 => {
                        return Err(StoreError::Invalid(format!(
                            "{name} is not assigned to this company: assign them on the Staff page \
                             first, or choose someone who is."
                        )));
                    }
                    Some(_) => {}
                },
                _ => {
                    return Err(StoreError::Invalid(
                        "Tickets can only be routed to owners and technicians.".into(),
                    ));
                }
            }
        }
        let categories = self.ticket_categories().await?;
        for (value, what) in [(&category, "condition"), (&set_category, "category to set")] {
            if !value.is_empty() && !categories.iter().any(|c| c == value) {
                return Err(StoreError::Invalid(format!(
                    "Choose the {what} from the form's categories."
                )));
            }
        }
        Ok(CheckedRule {
            name,
            category,
            keywords,
            field_label,
            field_value,
            set_category,
        })
    }

    pub async fn add_routing_rule(&mut self, rule: &NewRoutingRule) -> Result<(), StoreError> {
        let c = self.check_rule(rule).await?;
        self.tx
            .exec(q!(
                "INSERT INTO routing_rules (workspace_id, id, position, name, company_id, category, keywords, field_label, \
                 field_value, set_assignee_id, set_priority, set_category) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                self.scope.workspace(),
                portico_core::MessageId::new().as_text(),
                rule.position.clamp(0, 1_000_000),
                c.name.as_str(),
                rule.company,
                c.category.as_str(),
                c.keywords.as_str(),
                c.field_label.as_str(),
                c.field_value.as_str(),
                rule.set_assignee,
                rule.set_priority.map(|p| p.as_str().to_owned()),
                (!c.set_category.is_empty()).then_some(c.set_category)
            ))
            .await?;
        Ok(())
    }

    /// Changes a rule in place; `NotFound` for anything but one of the workspace's rules.
    pub async fn update_routing_rule(
        &mut self,
        id: &str,
        rule: &NewRoutingRule,
    ) -> Result<(), StoreError> {
        let c = self.check_rule(rule).await?;
        let mut query = self.update(&fence::ROUTING_RULES, |set| {
            set.sql("position = ")
                .arg(rule.position.clamp(0, 1_000_000))
                .sql(", name = ")
                .arg(c.name.as_str())
                .sql(", company_id = ")
                .arg(rule.company)
                .sql(", category = ")
                .arg(c.category.as_str())
                .sql(", keywords = ")
                .arg(c.keywords.as_str())
                .sql(", field_label = ")
                .arg(c.field_label.as_str())
                .sql(", field_value = ")
                .arg(c.field_value.as_str())
                .sql(", set_assignee_id = ")
                .arg(rule.set_assignee)
                .sql(", set_priority = ")
                .arg(rule.set_priority.map(|p| p.as_str().to_owned()))
                .sql(", set_category = ")
                .arg((!c.set_category.is_empty()).then_some(c.set_category.clone()));
        });
        query.sql(" AND id = ").arg(id);
        match self.tx.exec(query).await? {
            1 => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Moves a rule one place earlier or later in the evaluation order; the rules are numbered
    /// 10, 20, 30… afresh in their new order.
    pub async fn move_routing_rule(&mut self, id: &str, earlier: bool) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let mut ids: Vec<String> = self
            .routing_rules()
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let at = ids
            .iter()
            .position(|r| r == id)
            .ok_or(StoreError::NotFound)?;
        let to = if earlier {
            at.checked_sub(1)
        } else {
            Some(at + 1).filter(|t| *t < ids.len())
        };
        if let Some(to) = to {
            ids.swap(at, to);
        }
        for (n, rule) in ids.iter().enumerate() {
            let mut query = self.update(&fence::ROUTING_RULES, |set| {
                set.sql("position = ").arg((n as i64 + 1) * 10);
            });
            query.sql(" AND id = ").arg(rule.as_str());
            self.tx.exec(query).await?;
        }
        Ok(())
    }

    pub async fn delete_routing_rule(&mut self, id: &str) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let mut delete = self.delete(&fence::ROUTING_RULES);
        delete.sql(" AND id = ").arg(id);
        let removed = self.tx.exec(delete).await?;
        if removed == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}

struct RawRule {
    id: String,
    position: i64,
    name: String,
    company_id: Option<String>,
    company_name: Option<String>,
    category: String,
    keywords: String,
    field_label: String,
    field_value: String,
    set_assignee_id: Option<String>,
    assignee_name: Option<String>,
    set_priority: Option<String>,
    set_category: Option<String>,
}

impl crate::sql::DbRow for RawRule {
    fn decode(row: &crate::sql::RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(RawRule {
            id: row.at(0)?,
            position: row.at(1)?,
            name: row.at(2)?,
            company_id: row.at(3)?,
            company_name: row.at(4)?,
            category: row.at(5)?,
            keywords: row.at(6)?,
            field_label: row.at(7)?,
            field_value: row.at(8)?,
            set_assignee_id: row.at(9)?,
            assignee_name: row.at(10)?,
            set_priority: row.at(11)?,
            set_category: row.at(12)?,
        })
    }
}
