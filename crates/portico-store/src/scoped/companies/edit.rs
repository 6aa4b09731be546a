//! Adding, editing, archiving and restoring companies and their service plans (C1). Owners
//! only; the plan's rates are written only by scopes with the billing entitlement, and left as
//! they are by everyone else. Nothing with history is ever deleted: an archived company keeps
//! its tickets and records, takes no new work and has no portal, and can be restored.

use portico_core::{Action, CompanyId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

use super::read::CompanySummary;

const MAX_NAME: usize = 120;
const MAX_PLAN: usize = 80;
/// More than any plan includes in a month (there are 744 hours in the longest).
const MAX_INCLUDED_HOURS: i64 = 744;
/// A hundred million in any currency: beyond a plan's fee or rate, short of any overflow.
const MAX_CENTS: i64 = 10_000_000_000;

/// A company as its form submits it: text, checked by [`ScopedTx::add_company`] and
/// [`ScopedTx::update_company`] field by field.
#[derive(Debug, Clone, Default)]
pub struct CompanyDraft {
    pub name: String,
    pub plan_name: String,
    /// Hours of work included each month, e.g. `7.5`; empty for none.
    pub included_hours: String,
    /// ISO 4217 code, e.g. `AUD`.
    pub currency: String,
    /// Amounts such as `1,200.00`; empty for none. Read only from billing-entitled scopes.
    pub monthly_fee: String,
    pub hourly_rate: String,
}

impl CompanyDraft {
    /// The form of an existing company, as its edit page starts.
    pub fn of(company: &CompanySummary) -> Self {
        let billing = company.billing.as_ref();
        CompanyDraft {
            name: company.name.clone(),
            plan_name: company.plan_name.clone(),
            included_hours: company.included_minutes.map(hours_text).unwrap_or_default(),
            currency: billing.map(|b| b.currency.clone()).unwrap_or_default(),
            monthly_fee: billing
                .and_then(|b| b.monthly_fee_cents)
                .map(amount_text)
                .unwrap_or_default(),
            hourly_rate: billing
                .and_then(|b| b.hourly_rate_cents)
                .map(amount_text)
                .unwrap_or_default(),
        }
    }
}

/// A draft that passed every check.
struct CheckedCompany {
    name: String,
    plan_name: String,
    included_minutes: Option<i64>,
    /// Present only when the caller may write rates.
    rates: Option<(String, Option<i64>, Option<i64>)>,
}

fn one_line(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control))
        .then(|| text.to_owned())
}

/// `1,200.50` → 120050. Commas group digits; at most two decimals; never negative.
pub(crate) fn parse_amount(text: &str) -> Option<i64> {
    let text: String = text.trim().chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || whole.len() > 12
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    let total = whole.checked_mul(100)?.checked_add(cents)?;
    (total <= MAX_CENTS).then_some(total)
}

/// 120050 → `1200.50`: what the form shows for an amount, which [`parse_amount`] reads back.
pub(crate) fn amount_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `7.5` → 450 minutes; whole minutes, at most [`MAX_INCLUDED_HOURS`].
pub(crate) fn parse_hours(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || whole.len() > 3
        || fraction.len() > 2
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let hundredths: i64 = format!("{fraction:0<2}").parse().ok()?;
    let minutes = whole * 60 + (hundredths * 60 + 50) / 100;
    (whole <= MAX_INCLUDED_HOURS && minutes <= MAX_INCLUDED_HOURS * 60).then_some(minutes)
}

/// 450 → `7.5`, 480 → `8`, 20 → `0.33`.
pub fn hours_text(minutes: i64) -> String {
    let hundredths = (minutes * 100 + 30) / 60;
    let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn check(draft: &CompanyDraft, billing: bool) -> Result<CheckedCompany, StoreError> {
    let mut refusals = Vec::new();
    let mut refuse = |field: &str, message: String| refusals.push((field.to_owned(), message));
    let name = one_line(&draft.name, MAX_NAME);
    if name.is_none() {
        refuse(
            "name",
            format!("Enter the company's name (one line, at most {MAX_NAME} characters)."),
        );
    }
    let plan_name = one_line(&draft.plan_name, MAX_PLAN);
    if plan_name.is_none() {
        refuse(
            "plan_name",
            format!("Name the service plan (one line, at most {MAX_PLAN} characters)."),
        );
    }
    let included_minutes = if draft.included_hours.trim().is_empty() {
        None
    } else {
        let minutes = parse_hours(&draft.included_hours);
        if minutes.is_none() {
            refuse(
                "included_hours",
                format!(
                    "Enter the hours included each month as a number such as 10 or 7.5 (at most {MAX_INCLUDED_HOURS}), or leave it empty."
                ),
            );
        }
        minutes
    };
    let rates = if billing {
        let currency = draft.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            refuse(
                "currency",
                "Enter the currency as its three-letter code, such as AUD or EUR.".to_owned(),
            );
        }
        let mut amount = |field: &str, text: &str, what: &str| {
            if text.trim().is_empty() {
                return None;
            }
            let cents = parse_amount(text);
            if cents.is_none() {
                refuse(
                    field,
                    format!(
                        "Enter the {what} as an amount such as 1200 or 1,200.50, or leave it empty."
                    ),
                );
            }
            cents
        };
        let fee = amount("monthly_fee", &draft.monthly_fee, "monthly fee");
        let rate = amount("hourly_rate", &draft.hourly_rate, "hourly rate");
        Some((currency, fee, rate))
    } else {
        None
    };
    match (name, plan_name) {
        (Some(name), Some(plan_name)) if refusals.is_empty() => Ok(CheckedCompany {
            name,
            plan_name,
            included_minutes,
            rates,
        }),
        _ => Err(StoreError::InvalidFields(refusals)),
    }
}

impl ScopedTx<'_> {
    /// Refuses a name another company of the workspace already has (archived ones included:
    /// restoring one must not make two).
    async fn company_name_free(
        &mut self,
        name: &str,
        except: Option<CompanyId>,
    ) -> Result<(), StoreError> {
        let mut query = self.select("c.id", &fence::COMPANIES, "c");
        query.sql(" AND lower(c.name) = lower(").arg(name).sql(")");
        if let Some(id) = except {
            query.sql(" AND c.id <> ").arg(id);
        }
        let taken: Option<(String,)> = self.tx.optional(query).await?;
        match taken {
            Some(_) => Err(StoreError::InvalidFields(vec![(
                "name".to_owned(),
                "Another company of the workspace has that name.".to_owned(),
            )])),
            None => Ok(()),
        }
    }

    /// Adds a client company (its portal off until switched on); owners only.
    pub async fn add_company(&mut self, draft: &CompanyDraft) -> Result<CompanyId, StoreError> {
        self.scope.may(Action::ManageCompanies)?;
        let checked = check(draft, self.scope.billing())?;
        self.company_name_free(&checked.name, None).await?;
        // Without the billing entitlement the plan starts without rates, in the workspace's
        // usual currency (its most used one), for billing staff to complete.
        let (currency, fee, rate) = match checked.rates {
            Some(rates) => rates,
            None => (self.usual_currency().await?, None, None),
        };
        let id = CompanyId::new();
        self.tx
            .exec(q!(
                "INSERT INTO companies (workspace_id, id, name, plan_name, monthly_fee_cents, hourly_rate_cents, \
                 currency, portal_enabled, included_minutes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $9)",
                self.scope.workspace(),
                id,
                checked.name.as_str(),
                checked.plan_name.as_str(),
                fee,
                rate,
                currency.as_str(),
                checked.included_minutes,
                now()
            ))
            .await?;
        self.audit(
            portico_core::AuditAction::RecordCreated,
            Some(id),
            portico_core::AuditTarget::new("company", id, checked.name.as_str()),
            "",
        )
        .await?;
        Ok(id)
    }

    /// The currency most of the workspace's companies are billed in (AUD for the first).
    pub async fn usual_currency(&mut self) -> Result<String, StoreError> {
        let mut query = self.select("c.currency", &fence::COMPANIES, "c");
        query.sql(" GROUP BY c.currency ORDER BY COUNT(*) DESC, c.currency LIMIT 1");
        let row: Option<(String,)> = self.tx.optional(query).await?;
        Ok(row.map_or_else(|| "AUD".to_owned(), |(c,)| c))
    }

    /// Rewrites a company's name and plan; owners only. Rates are left as they are unless the
    /// caller holds the billing entitlement.
    pub async fn update_company(
        &mut self,
        id: CompanyId,
        draft: &CompanyDraft,
    ) -> Result<(), StoreError> {
        // Not found before forbidden: a company out of scope is not confirmed to exist.
        self.company(id).await?;
        self.scope.may(Action::ManageCompanies)?;
        let checked = check(draft, self.scope.billing())?;
        self.company_name_free(&checked.name, Some(id)).await?;
        let mut update = self.update(&fence::COMPANIES, |set| {
            set.sql("name = ")
                .arg(checked.name.as_str())
                .sql(", plan_name = ")
                .arg(checked.plan_name.as_str())
                .sql(", included_minutes = ")
                .arg(checked.included_minutes);
            if let Some((currency, fee, rate)) = &checked.rates {
                set.sql(", currency = ")
                    .arg(currency.as_str())
                    .sql(", monthly_fee_cents = ")
                    .arg(*fee)
                    .sql(", hourly_rate_cents = ")
                    .arg(*rate);
            }
        });
        update.sql(" AND id = ").arg(id);
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::NotFound);
        }
        self.audit(
            portico_core::AuditAction::RecordUpdated,
            Some(id),
            portico_core::AuditTarget::new("company", id, checked.name.as_str()),
            "details and plan",
        )
        .await
    }

    /// Archives a company: it keeps its history, leaves pickers and the company list, and its
    /// portal is switched off (its users' sessions end with their principals' next check).
    pub async fn archive_company(&mut self, id: CompanyId) -> Result<(), StoreError> {
        self.company(id).await?;
        self.scope.may(Action::ManageCompanies)?;
        let at = now();
        let mut update = self.update(&fence::COMPANIES, |set| {
            set.sql("archived_at = ")
                .arg(at)
                .sql(", portal_enabled = FALSE");
        });
        update
            .sql(" AND id = ")
            .arg(id)
            .sql(" AND archived_at IS NULL");
        self.tx.exec(update).await?;
        self.audit(
            portico_core::AuditAction::RecordArchived,
            Some(id),
            portico_core::AuditTarget::new("company", id, ""),
            "",
        )
        .await
    }

    /// Restores an archived company; its portal stays off until an owner switches it on.
    pub async fn restore_company(&mut self, id: CompanyId) -> Result<(), StoreError> {
        self.company(id).await?;
        self.scope.may(Action::ManageCompanies)?;
        let mut update = self.update(&fence::COMPANIES, |set| {
            set.sql("archived_at = NULL");
        });
        update.sql(" AND id = ").arg(id);
        self.tx.exec(update).await?;
        self.audit(
            portico_core::AuditAction::RecordUpdated,
            Some(id),
            portico_core::AuditTarget::new("company", id, ""),
            "restored",
        )
        .await
    }

    /// A company in scope that takes work: archived ones answer a clear refusal.
    pub(crate) async fn company_taking_work(&mut self, id: CompanyId) -> Result<(), StoreError> {
        if self.company(id).await?.archived_at.is_some() {
            return Err(StoreError::Invalid(
                "The company is archived: restore it first.".to_owned(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_written() {
        assert_eq!(parse_amount("1,200.50"), Some(120_050));
        assert_eq!(parse_amount("1200"), Some(120_000));
        assert_eq!(parse_amount("0.5"), Some(50));
        assert_eq!(parse_amount(".75"), Some(75));
        assert_eq!(parse_amount("12."), Some(1_200));
        for bad in [
            "",
            ".",
            "-5",
            "1.234",
            "1e3",
            "12 00",
            "abc",
            "99999999999999",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
        assert_eq!(parse_amount(&amount_text(120_050)), Some(120_050));
        assert_eq!(amount_text(5), "0.05");
    }

    #[test]
    fn hours_read_as_written() {
        assert_eq!(parse_hours("7.5"), Some(450));
        assert_eq!(parse_hours("10"), Some(600));
        assert_eq!(parse_hours("0.25"), Some(15));
        assert_eq!(parse_hours("744"), Some(744 * 60));
        for bad in ["", "-1", "745", "1.234", "1,5", "x"] {
            assert_eq!(parse_hours(bad), None, "{bad:?}");
        }
        assert_eq!(hours_text(450), "7.5");
        assert_eq!(hours_text(480), "8");
        assert_eq!(hours_text(20), "0.33");
        assert_eq!(parse_hours(&hours_text(450)), Some(450));
    }
}
