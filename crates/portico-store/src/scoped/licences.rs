//! P11 Licences & renewals and P19's directory users: what a connector read from the client's
//! tenant, through the same fence as everything else. The cost per user is the MSP's price
//! (billing fields): selected as empty for readers without billing rights, so no page or
//! export can show it.

use portico_core::{Action, AuditAction, AuditTarget, CompanyId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Both, Q};

/// Renewals within this many days are "upcoming".
pub const UPCOMING_RENEWAL_DAYS: i64 = 90;
/// Directory users per page of the pages: fifty, as the asset list shows.
pub const DIRECTORY_PAGE: i64 = 50;

/// One subscribed product of a company.
#[derive(Debug, Clone)]
pub struct Licence {
    pub external_tenant: String,
    pub sku_id: String,
    pub sku_part_number: String,
    pub product_name: String,
    /// The vendor's word for its state (`Enabled`, `Warning`, `Suspended`, `LockedOut`).
    pub capability_status: String,
    pub purchased: i64,
    pub assigned: i64,
    pub suspended: i64,
    pub warning: i64,
    pub unused_disabled: i64,
    pub unused_inactive: i64,
    /// The renewal date shown: staff's when entered, else the vendor's.
    pub renews_on: Option<String>,
    pub renewal_entered: bool,
    /// The MSP's price per user and month, in cents: billing readers only.
    pub monthly_cents: Option<i64>,
    pub currency: String,
    pub retired_at: Option<i64>,
    pub synced_at: i64,
}

impl Licence {
    pub fn available(&self) -> i64 {
        (self.purchased - self.assigned).max(0)
    }

    /// Licences paid for but doing nothing: never assigned, or assigned to someone who is
    /// disabled or gone quiet.
    pub fn unused(&self) -> i64 {
        self.available() + self.unused_disabled + self.unused_inactive
    }

    /// What the purchased licences cost a month, for billing readers.
    pub fn monthly_total(&self) -> Option<i64> {
        self.monthly_cents.map(|c| c * self.purchased)
    }
}

struct LicenceRow {
    external_tenant: String,
    sku_id: String,
    sku_part_number: String,
    product_name: String,
    capability_status: String,
    purchased: i64,
    assigned: i64,
    suspended: i64,
    warning: i64,
    unused_disabled: i64,
    unused_inactive: i64,
    renews_on: Option<String>,
    renews_on_entered: Option<String>,
    monthly_cents: Option<i64>,
    currency: Option<String>,
    retired_at: Option<i64>,
    synced_at: i64,
}
crate::sql::db_row!(LicenceRow {
    external_tenant,
    sku_id,
    sku_part_number,
    product_name,
    capability_status,
    purchased,
    assigned,
    suspended,
    warning,
    unused_disabled,
    unused_inactive,
    renews_on,
    renews_on_entered,
    monthly_cents,
    currency,
    retired_at,
    synced_at
});

/// A company's licences with their totals.
#[derive(Debug, Clone, Default)]
pub struct LicenceSummary {
    /// Current products first (by name), retired ones after.
    pub licences: Vec<Licence>,
    pub purchased: i64,
    pub assigned: i64,
    pub unused: i64,
    /// The month's cost of all current products, for billing readers (one currency per
    /// workspace price list; products without a price count nothing).
    pub monthly_total: Option<(i64, String)>,
}

impl LicenceSummary {
    /// Current products renewing within [`UPCOMING_RENEWAL_DAYS`] of `today`, soonest first.
    pub fn upcoming_renewals(&self, today: &str) -> Vec<&Licence> {
        let until = portico_core::parse_date(today)
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .and_then(|d| {
                d.checked_add(jiff::Span::new().days(UPCOMING_RENEWAL_DAYS))
                    .ok()
            })
            .map(|d| d.to_string())
            .unwrap_or_default();
        let mut soon: Vec<&Licence> = self
            .licences
            .iter()
            .filter(|l| l.retired_at.is_none())
            .filter(|l| {
                l.renews_on
                    .as_deref()
                    .is_some_and(|d| d >= today && d <= until.as_str())
            })
            .collect();
        soon.sort_by(|a, b| a.renews_on.cmp(&b.renews_on));
        soon
    }
}

/// A directory user of a company.
#[derive(Debug, Clone)]
pub struct DirectoryUser {
    pub external_tenant: String,
    pub external_id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub enabled: bool,
    /// Product names of the licences assigned.
    pub licences: Vec<String>,
    pub mfa_registered: Option<bool>,
    pub is_admin: bool,
    pub last_sign_in_at: Option<i64>,
    pub retired_at: Option<i64>,
}

struct DirectoryRow {
    external_tenant: String,
    external_id: String,
    display_name: String,
    user_principal_name: String,
    mail: String,
    enabled: bool,
    licence_skus: String,
    mfa_registered: Option<bool>,
    is_admin: bool,
    last_sign_in_at: Option<i64>,
    retired_at: Option<i64>,
}
crate::sql::db_row!(DirectoryRow {
    external_tenant,
    external_id,
    display_name,
    user_principal_name,
    mail,
    enabled,
    licence_skus,
    mfa_registered,
    is_admin,
    last_sign_in_at,
    retired_at
});

/// The company's directory totals, read beside each page's rows.
struct DirectoryCounts {
    users_total: i64,
    users_without_mfa: i64,
}
crate::sql::db_row!(DirectoryCounts {
    users_total,
    users_without_mfa
});

/// Which directory users a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DirectoryShow {
    /// Current users (not gone upstream).
    #[default]
    Current,
    /// Enabled users without a registered second factor.
    WithoutMfa,
    Disabled,
    /// Users removed upstream, kept for the record.
    Removed,
}

impl DirectoryShow {
    pub const ALL: &'static [DirectoryShow] = &[
        DirectoryShow::Current,
        DirectoryShow::WithoutMfa,
        DirectoryShow::Disabled,
        DirectoryShow::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryShow::Current => "current",
            DirectoryShow::WithoutMfa => "no-mfa",
            DirectoryShow::Disabled => "disabled",
            DirectoryShow::Removed => "removed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DirectoryShow::Current => "Current users",
            DirectoryShow::WithoutMfa => "Without MFA",
            DirectoryShow::Disabled => "Disabled",
            DirectoryShow::Removed => "Removed",
        }
    }

    pub fn parse(text: &str) -> Option<DirectoryShow> {
        Self::ALL.iter().copied().find(|s| s.as_str() == text)
    }
}

/// A page of directory users.
#[derive(Debug, Clone, Default)]
pub struct DirectoryPage {
    pub users: Vec<DirectoryUser>,
    /// The last user's id when more follow (the next page starts after it).
    pub next: Option<String>,
    pub total: i64,
    pub without_mfa: i64,
}

impl ScopedTx<'_> {
    /// `company`'s licences, with the MSP's prices for billing readers.
    pub async fn licences(&mut self, company: CompanyId) -> Result<LicenceSummary, StoreError> {
        self.scope.may(Action::ViewLicences)?;
        let billing = self.scope.billing();
        let price = if billing {
            "p.monthly_cents, p.currency"
        } else {
            "NULL AS monthly_cents, NULL AS currency"
        };
        let joins = if billing {
            " LEFT JOIN licence_prices p ON p.workspace_id = l.workspace_id \
             AND p.sku_part_number = l.sku_part_number"
        } else {
            ""
        };
        let mut query = self.select_joined(
            &format!(
                "l.external_tenant, l.sku_id, l.sku_part_number, l.product_name, l.capability_status, \
                 l.purchased, l.assigned, l.suspended, l.warning, l.unused_disabled, l.unused_inactive, \
                 l.renews_on, l.renews_on_entered, {price}, l.retired_at, l.synced_at"
            ),
            &fence::LICENCES,
            "l",
            joins,
        );
        query
            .sql(" AND l.company_id = ")
            .arg(company)
            .sql(" ORDER BY (l.retired_at IS NOT NULL), l.product_name, l.sku_id");
        let rows: Vec<LicenceRow> = self.tx.all(query).await?;
        let mut summary = LicenceSummary::default();
        let mut total: Option<(i64, String)> = None;
        for r in rows {
            let licence = Licence {
                renewal_entered: r.renews_on_entered.is_some(),
                renews_on: r.renews_on_entered.or(r.renews_on),
                external_tenant: r.external_tenant,
                sku_id: r.sku_id,
                sku_part_number: r.sku_part_number,
                product_name: r.product_name,
                capability_status: r.capability_status,
                purchased: r.purchased,
                assigned: r.assigned,
                suspended: r.suspended,
                warning: r.warning,
                unused_disabled: r.unused_disabled,
                unused_inactive: r.unused_inactive,
                monthly_cents: r.monthly_cents.filter(|_| billing),
                currency: r.currency.filter(|_| billing).unwrap_or_default(),
                retired_at: r.retired_at,
                synced_at: r.synced_at,
            };
            if licence.retired_at.is_none() {
                summary.purchased += licence.purchased;
                summary.assigned += licence.assigned;
                summary.unused += licence.unused();
                if let Some(cost) = licence.monthly_total() {
                    let sum = total.get_or_insert((0, licence.currency.clone()));
                    sum.0 += cost;
                }
            }
            summary.licences.push(licence);
        }
        summary.monthly_total = total.filter(|_| billing);
        Ok(summary)
    }

    /// Enters (or with `None` clears) the renewal date staff know for a product, which wins
    /// over the vendor's.
    pub async fn set_licence_renewal(
        &mut self,
        company: CompanyId,
        external_tenant: &str,
        sku_id: &str,
        renews_on: &str,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageCompanyRecords)?;
        let date = if renews_on.trim().is_empty() {
            None
        } else {
            Some(portico_core::parse_date(renews_on).ok_or_else(|| {
                StoreError::InvalidFields(vec![(
                    "renews_on".into(),
                    "Enter the renewal date as YYYY-MM-DD, or leave it empty for the vendor's."
                        .into(),
                )])
            })?)
        };
        let licence = self
            .licences(company)
            .await?
            .licences
            .into_iter()
            .find(|l| l.external_tenant == external_tenant && l.sku_id == sku_id)
            .ok_or(StoreError::NotFound)?;
        let mut query = self.update(&fence::LICENCES, |set| {
            set.sql("renews_on_entered = ").arg(date.clone());
        });
        query
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND external_tenant = ")
            .arg(external_tenant)
            .sql(" AND sku_id = ")
            .arg(sku_id);
        self.tx.exec(query).await?;
        self.audit(
            AuditAction::RecordUpdated,
            Some(company),
            AuditTarget::new("licence", sku_id, &licence.product_name),
            &match &date {
                Some(d) => format!("renewal date entered: {d}"),
                None => "entered renewal date cleared".to_owned(),
            },
        )
        .await
    }

    /// The MSP's price list: (product code, cents per user and month, currency).
    pub async fn licence_prices(&mut self) -> Result<Vec<(String, i64, String)>, StoreError> {
        self.scope.may(Action::ManageInvoices)?;
        let mut query = self.select(
            "p.sku_part_number, p.monthly_cents, p.currency",
            &fence::LICENCE_PRICES,
            "p",
        );
        query.sql(" ORDER BY p.sku_part_number");
        self.tx.all(query).await
    }

    /// Sets what the MSP charges per user and month for a product (an empty price removes it).
    pub async fn set_licence_price(
        &mut self,
        sku_part_number: &str,
        price: &str,
        currency: &str,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageInvoices)?;
        let code = sku_part_number.trim();
        if code.is_empty()
            || code.len() > 100
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(StoreError::NotFound);
        }
        let cents = if price.trim().is_empty() {
            None
        } else {
            Some(
                crate::scoped::companies::edit::parse_amount(price).ok_or_else(|| {
                    StoreError::InvalidFields(vec![(
                        "price".into(),
                        "Enter the price per user and month, such as 12.50.".into(),
                    )])
                })?,
            )
        };
        let currency = currency.trim().to_ascii_uppercase();
        if cents.is_some()
            && (currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()))
        {
            return Err(StoreError::InvalidFields(vec![(
                "currency".into(),
                "Enter the currency as three letters, such as AUD.".into(),
            )]));
        }
        let mut remove = self.delete(&fence::LICENCE_PRICES);
        remove.sql(" AND sku_part_number = ").arg(code);
        self.tx.exec(remove).await?;
        if let Some(cents) = cents {
            self.tx
                .exec(crate::sql::q!(
                    "INSERT INTO licence_prices (workspace_id, sku_part_number, monthly_cents, currency) \
                     VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    code,
                    cents,
                    &currency
                ))
                .await?;
        }
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("licence_price", code, code),
            &match cents {
                Some(c) => format!(
                    "price per user set to {}.{:02} {currency}",
                    c / 100,
                    c % 100
                ),
                None => "price per user removed".to_owned(),
            },
        )
        .await
    }

    /// A page of `limit` of `company`'s directory users by name, with words of `q` in the
    /// name or sign-in name, starting after the user `after`.
    pub async fn directory_users(
        &mut self,
        company: CompanyId,
        show: DirectoryShow,
        q: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<DirectoryPage, StoreError> {
        let limit = limit.clamp(1, 500);
        self.scope.may(Action::ViewDirectoryUsers)?;
        let mut names = self.select("l.sku_id, l.product_name", &fence::LICENCES, "l");
        names.sql(" AND l.company_id = ").arg(company);
        let names: Vec<(String, String)> = self.tx.all(names).await?;
        let mut query = Q::new(
            "SELECT u.external_tenant, u.external_id, u.display_name, u.user_principal_name, \
             u.mail, u.enabled, u.licence_skus, u.mfa_registered, u.is_admin, u.last_sign_in_at, \
             u.retired_at, ",
        );
        self.directory_counts(&mut query, company);
        self.push_fenced_from(&mut query, &fence::DIRECTORY_USERS, "u", "");
        query.sql(" AND u.company_id = ").arg(company);
        query.sql(match show {
            DirectoryShow::Current => " AND u.retired_at IS NULL",
            DirectoryShow::WithoutMfa => {
                " AND u.retired_at IS NULL AND u.enabled AND u.mfa_registered = false"
            }
            DirectoryShow::Disabled => " AND u.retired_at IS NULL AND NOT u.enabled",
            DirectoryShow::Removed => " AND u.retired_at IS NOT NULL",
        });
        for word in q.split_whitespace().take(5) {
            let pattern = crate::scoped::contains_pattern(word);
            query
                .sql(" AND (LOWER(u.display_name) LIKE ")
                .arg(pattern.clone())
                .sql(" ESCAPE '\\' OR LOWER(u.user_principal_name) LIKE ")
                .arg(pattern)
                .sql(" ESCAPE '\\')");
        }
        if let Some(after) = after {
            query
                .sql(
                    " AND (u.display_name, u.external_id) > (SELECT a.display_name, a.external_id \
                     FROM directory_users a WHERE a.company_id = u.company_id AND a.external_id = ",
                )
                .arg(after)
                .sql(")");
        }
        query
            .sql(" ORDER BY u.display_name, u.external_id LIMIT ")
            .arg(limit + 1);
        let rows: Vec<Both<DirectoryRow, DirectoryCounts>> = self.tx.all(query).await?;
        let (total, without_mfa) = match rows.first() {
            Some(Both(_, counts)) => (counts.users_total, counts.users_without_mfa),
            None => {
                let mut counts = Q::new("SELECT ");
                self.directory_counts(&mut counts, company);
                self.tx.one(counts).await?
            }
        };
        let mut rows: Vec<DirectoryRow> = rows.into_iter().map(|Both(row, _)| row).collect();
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = if more {
            rows.last().map(|r| r.external_id.clone())
        } else {
            None
        };
        let users = rows
            .into_iter()
            .map(|r| DirectoryUser {
                licences: r
                    .licence_skus
                    .split_whitespace()
                    .map(|sku| {
                        names
                            .iter()
                            .find(|(id, _)| id == sku)
                            .map(|(_, name)| name.clone())
                            .unwrap_or_else(|| "Unknown product".to_owned())
                    })
                    .collect(),
                external_tenant: r.external_tenant,
                external_id: r.external_id,
                display_name: r.display_name,
                user_principal_name: r.user_principal_name,
                mail: r.mail,
                enabled: r.enabled,
                mfa_registered: r.mfa_registered,
                is_admin: r.is_admin,
                last_sign_in_at: r.last_sign_in_at,
                retired_at: r.retired_at,
            })
            .collect();
        Ok(DirectoryPage {
            users,
            next,
            total,
            without_mfa,
        })
    }

    /// Appends the company's directory totals as two columns, `users_total` and
    /// `users_without_mfa`: kept by each run on its tenant (counting thousands of users per
    /// page was most of it), and constant, so that SQLite reads them once per statement.
    fn directory_counts(&self, query: &mut Q, company: CompanyId) {
        for (n, (sum, name)) in [
            ("t.users_total", "users_total"),
            ("t.users_without_mfa", "users_without_mfa"),
        ]
        .into_iter()
        .enumerate()
        {
            if n > 0 {
                query.sql(", ");
            }
            self.sub_select(
                query,
                &format!("CAST(COALESCE(SUM({sum}), 0) AS BIGINT)"),
                &fence::CONNECTOR_TENANTS,
                "t",
            );
            query
                .sql(" AND t.company_id = ")
                .arg(company)
                .sql(" AND t.kind = 'microsoft365') AS ")
                .sql(name);
        }
    }

    /// One directory user of `company` (for a change request about them).
    pub async fn directory_user(
        &mut self,
        company: CompanyId,
        external_id: &str,
    ) -> Result<DirectoryUser, StoreError> {
        self.scope.may(Action::ViewDirectoryUsers)?;
        let mut query = self.select(
            "u.external_tenant, u.external_id, u.display_name, u.user_principal_name, u.mail, u.enabled, \
             u.licence_skus, u.mfa_registered, u.is_admin, u.last_sign_in_at, u.retired_at",
            &fence::DIRECTORY_USERS,
            "u",
        );
        query
            .sql(" AND u.company_id = ")
            .arg(company)
            .sql(" AND u.external_id = ")
            .arg(external_id);
        let row: Option<DirectoryRow> = self.tx.optional(query).await?;
        let r = row.ok_or(StoreError::NotFound)?;
        Ok(DirectoryUser {
            licences: Vec::new(),
            external_tenant: r.external_tenant,
            external_id: r.external_id,
            display_name: r.display_name,
            user_principal_name: r.user_principal_name,
            mail: r.mail,
            enabled: r.enabled,
            mfa_registered: r.mfa_registered,
            is_admin: r.is_admin,
            last_sign_in_at: r.last_sign_in_at,
            retired_at: r.retired_at,
        })
    }
}
