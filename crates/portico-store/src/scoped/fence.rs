//! The fence, built once. Every tenant table the scoped store touches is described here — its
//! workspace, company, site and requester columns — and [`ScopedTx`] writes the scope's
//! predicates into every SELECT, UPDATE and DELETE on it from that description. A store method
//! names the table it reads; it never writes `workspace_id = …` or a company list itself, so a
//! forgotten predicate has nowhere to come from. (PostgreSQL's row-level security is the second
//! fence, under this one.)

use portico_core::{Actor, CompanySet};

use crate::scoped::ScopedTx;
use crate::sql::Q;

/// How the rows of one tenant table are scoped.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) table: &'static str,
    /// The workspace column (`id` for the workspaces table itself).
    pub(crate) workspace: &'static str,
    pub(crate) company: Company,
    /// The column naming the site a row belongs to: site-restricted scopes see their sites'
    /// rows only.
    pub(crate) site: Option<&'static str>,
    /// For a row that may span several sites (maintenance): the table listing its sites, and
    /// that table's column naming the row. A site-restricted scope sees the row when it lists
    /// nothing (it concerns the whole company) or one of the scope's sites.
    pub(crate) sites_via: Option<(&'static str, &'static str)>,
    /// Rows the portal never sees: those whose column holds the value (draft invoices).
    pub(crate) portal_hides: Option<(&'static str, &'static str)>,
    pub(crate) own: Own,
}

/// Which company a row belongs to.
#[derive(Debug)]
pub(crate) enum Company {
    /// Workspace-level records (staff, settings): the workspace fence alone.
    None,
    /// A client's records: the scope's companies only.
    Column(&'static str),
    /// Records of one company or, with no company, of the whole workspace (a company's
    /// override of a workspace default): the scope's companies and the workspace's own.
    Optional(&'static str),
}

/// How own-tickets-only scopes (and per-person records) narrow a table.
#[derive(Debug)]
pub(crate) enum Own {
    /// Not ticket data: own-only scopes see it like their colleagues.
    Unrestricted,
    /// Tickets themselves: requested by, or copied to, the own-only user.
    Ticket {
        id: &'static str,
        requester: &'static str,
    },
    /// A ticket's messages, files, timeline and answers: visible when their ticket is, so
    /// site-restricted and own-only scopes see them through the ticket's fence.
    OfTicket { ticket: &'static str },
    /// One staff user's own records (saved views): the acting staff user's only.
    StaffUser(&'static str),
    /// One portal user's own records (notification preferences): the acting user's only.
    PortalUser(&'static str),
    /// Change requests: client admins (unless own-tickets-only) see all of their companies';
    /// other portal users those they raised, and purchases if they are the company's purchase
    /// approver (a current contact with that role at their e-mail address). Staff see all.
    ChangeRequester {
        requester: &'static str,
        kind: &'static str,
        /// The site a request is about, if any: a site-restricted reader sees requests about
        /// its sites, about none, and its own.
        site: &'static str,
    },
}

const fn client(table: &'static str) -> Tenant {
    Tenant {
        table,
        workspace: "workspace_id",
        company: Company::Column("company_id"),
        site: None,
        sites_via: None,
        portal_hides: None,
        own: Own::Unrestricted,
    }
}

const fn workspace_level(table: &'static str) -> Tenant {
    Tenant {
        table,
        workspace: "workspace_id",
        company: Company::None,
        site: None,
        sites_via: None,
        portal_hides: None,
        own: Own::Unrestricted,
    }
}

const fn of_ticket(table: &'static str) -> Tenant {
    Tenant {
        own: Own::OfTicket {
            ticket: "ticket_id",
        },
        ..client(table)
    }
}

pub(crate) const WORKSPACES: Tenant = Tenant {
    workspace: "id",
    ..workspace_level("workspaces")
};
pub(crate) const COMPANIES: Tenant = Tenant {
    company: Company::Column("id"),
    ..workspace_level("companies")
};
/// All of a company's sites, also to site-restricted users: the restriction applies to what
/// happens at a site (tickets, assets), not to the list of locations.
pub(crate) const SITES: Tenant = client("sites");
/// Assets are at a site: site-restricted users see their sites' only (and none without a site).
pub(crate) const ASSETS: Tenant = Tenant {
    site: Some("site_id"),
    ..client("assets")
};
/// The count of a company's assets per site, kind and archived or not (kept by triggers): the
/// same site fence as the assets, a tally without a site (`''`) matching no restricted reader.
pub(crate) const ASSET_TALLIES: Tenant = Tenant {
    site: Some("site_id"),
    ..client("asset_tallies")
};
pub(crate) const ASSET_FIELDS: Tenant = workspace_level("asset_fields");
/// Values of the workspace's own fields, fenced through their asset's company (an asset's
/// page reads them only after reading the asset itself through its site fence).
pub(crate) const ASSET_FIELD_VALUES: Tenant = client("asset_field_values");
/// The workspace's choice of shown fields (no company) and companies' own.
pub(crate) const ASSET_FIELD_VISIBILITY: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("asset_field_visibility")
};
pub(crate) const CONTACTS: Tenant = client("contacts");
pub(crate) const CONTACT_ROLES: Tenant = client("contact_roles");
pub(crate) const COMPANY_EMAIL_DOMAINS: Tenant = client("company_email_domains");
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const COMPANY_SECTION_SETTINGS: Tenant = client("company_section_settings");
pub(crate) const WORKSPACE_SECTION_DEFAULTS: Tenant = workspace_level("workspace_section_defaults");
pub(crate) const STAFF_USERS: Tenant = workspace_level("staff_users");
pub(crate) const STAFF_ASSIGNMENTS: Tenant = client("staff_assignments");
pub(crate) const PORTAL_USERS: Tenant = client("portal_users");
pub(crate) const PORTAL_USER_SITES: Tenant = client("portal_user_sites");
/// A portal user's grants to further companies (client groups), by granted company.
pub(crate) const PORTAL_USER_COMPANIES: Tenant = client("portal_user_companies");
pub(crate) const SESSIONS: Tenant = workspace_level("sessions");
pub(crate) const ONE_TIME_TOKENS: Tenant = workspace_level("one_time_tokens");
/// A user's second factor (and its recovery codes, sign-in challenges and remembered
/// browsers): read and written by the sign-in flows for the user they name; staff reach a
/// portal user's only after reading the user through its company's fence.
pub(crate) const MFA_TOTP: Tenant = workspace_level("mfa_totp");
pub(crate) const MFA_RECOVERY_CODES: Tenant = workspace_level("mfa_recovery_codes");
pub(crate) const MFA_CHALLENGES: Tenant = workspace_level("mfa_challenges");
pub(crate) const MFA_REMEMBERED_DEVICES: Tenant = workspace_level("mfa_remembered_devices");
/// The workspace's single sign-on provider and the sign-ins in flight through it.
pub(crate) const SSO_PROVIDERS: Tenant = workspace_level("sso_providers");
/// Written and taken by the sign-in flow (outside any scope) only.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const SSO_LOGINS: Tenant = workspace_level("sso_logins");
/// The workspace's webhook endpoints, their deliveries and each delivery's attempts (owners').
pub(crate) const WEBHOOK_ENDPOINTS: Tenant = workspace_level("webhook_endpoints");
pub(crate) const WEBHOOK_DELIVERIES: Tenant = workspace_level("webhook_deliveries");
pub(crate) const WEBHOOK_ATTEMPTS: Tenant = workspace_level("webhook_attempts");
/// Events written by the changes they tell of, read by the delivery worker alone.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const WEBHOOK_EVENTS: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("webhook_events")
};
/// The REST API's idempotency keys, under their token's company (none: every company).
pub(crate) const API_IDEMPOTENCY_KEYS: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("api_idempotency_keys")
};
/// The workspace's API tokens, each for every company (none named) or one.
pub(crate) const API_TOKENS: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("api_tokens")
};
pub(crate) const TICKETS: Tenant = Tenant {
    site: Some("site_id"),
    own: Own::Ticket {
        id: "id",
        requester: "requester_id",
    },
    ..client("tickets")
};
pub(crate) const TICKET_MESSAGES: Tenant = of_ticket("ticket_messages");
pub(crate) const TICKET_ATTACHMENTS: Tenant = of_ticket("ticket_attachments");
/// PostgreSQL's full-text documents, one per ticket and audience: fenced as a ticket's
/// messages are, by the workspace and company on the document itself, which are its ticket's
/// (migration 0021's triggers), so that a match reads the company's documents through their
/// index with no ticket looked up; for site-restricted and own-only scopes, through the
/// ticket. Not in `ALL`, which is held against the SQLite schema: SQLite's index is an FTS5
/// table that carries its fence as tokens (`tickets/search.rs`).
pub(crate) const TICKET_SEARCH: Tenant = of_ticket("ticket_search");
pub(crate) const TICKET_EVENTS: Tenant = of_ticket("ticket_events");
pub(crate) const TICKET_FIELD_VALUES: Tenant = of_ticket("ticket_field_values");
pub(crate) const TICKET_CC: Tenant = of_ticket("ticket_cc");
/// Who of the desk is writing a reply (staff only: the store refuses portal scopes).
pub(crate) const TICKET_PRESENCE: Tenant = of_ticket("ticket_presence");
/// Work logged on a company's tickets: the company's plan usage, fenced by company (the
/// ticket each names is read through the ticket's own fence).
pub(crate) const TIME_ENTRIES: Tenant = client("time_entries");
/// Maintenance done or planned: a company's, narrowed for site-restricted readers to the
/// records that touch one of their sites or concern the whole company.
pub(crate) const MAINTENANCE_RECORDS: Tenant = Tenant {
    sites_via: Some(("maintenance_targets", "record_id")),
    ..client("maintenance_records")
};
/// The sites and assets a record touched: a site-restricted reader sees its sites' only.
pub(crate) const MAINTENANCE_TARGETS: Tenant = Tenant {
    site: Some("site_id"),
    ..client("maintenance_targets")
};
/// A company's invoices for billing-entitled readers; drafts are the MSP's own.
pub(crate) const INVOICES: Tenant = Tenant {
    portal_hides: Some(("status", "draft")),
    ..client("invoices")
};
/// An invoice's lines, read only for invoices read through their own fence first.
pub(crate) const INVOICE_LINES: Tenant = client("invoice_lines");
/// Written only by an upsert naming the scope's workspace (no predicate to fence).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const INVOICE_COUNTERS: Tenant = workspace_level("invoice_counters");
pub(crate) const CHANGE_REQUESTS: Tenant = Tenant {
    own: Own::ChangeRequester {
        requester: "requested_by",
        kind: "kind",
        site: "site_id",
    },
    ..client("change_requests")
};
/// A request's history, read only for requests read through their own fence first.
pub(crate) const CHANGE_REQUEST_EVENTS: Tenant = client("change_request_events");
/// Edits of contacts, assets and portal users, read only for a record read through its own
/// fence first (an asset's history after the asset, through its site).
pub(crate) const RECORD_CHANGES: Tenant = client("record_changes");
/// CSV files uploaded for import: the uploading staff user's own.
pub(crate) const PENDING_IMPORTS: Tenant = Tenant {
    own: Own::StaffUser("staff_user_id"),
    ..workspace_level("pending_imports")
};
pub(crate) const TICKET_CATEGORIES: Tenant = workspace_level("ticket_categories");
pub(crate) const TICKET_COUNTERS: Tenant = workspace_level("ticket_counters");
pub(crate) const TICKET_FORM_FIELDS: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("ticket_form_fields")
};
pub(crate) const SLA_TARGETS: Tenant = workspace_level("sla_targets");
pub(crate) const TICKET_VISIBILITY: Tenant = workspace_level("ticket_visibility");
/// The workspace's business calendar (no company) and companies' own.
pub(crate) const BUSINESS_CALENDARS: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("business_calendars")
};
pub(crate) const CANNED_RESPONSES: Tenant = workspace_level("canned_responses");
pub(crate) const ROUTING_RULES: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("routing_rules")
};
pub(crate) const SAVED_VIEWS: Tenant = Tenant {
    own: Own::StaffUser("staff_user_id"),
    ..workspace_level("saved_views")
};
pub(crate) const STAFF_NOTIFICATION_PREFERENCES: Tenant = Tenant {
    own: Own::StaffUser("staff_user_id"),
    ..workspace_level("staff_notification_preferences")
};
pub(crate) const KEPT_UPLOADS: Tenant = Tenant {
    own: Own::PortalUser("portal_user_id"),
    ..workspace_level("kept_uploads")
};
pub(crate) const NOTIFICATION_PREFERENCES: Tenant = Tenant {
    own: Own::PortalUser("portal_user_id"),
    ..workspace_level("notification_preferences")
};
pub(crate) const OUTBOX: Tenant = Tenant {
    company: Company::Optional("company_id"),
    ..workspace_level("outbox")
};
/// The audit log: a company's chain is its own (its client admins read it); the workspace's
/// chain (no company) is read only by scopes that cover every company. Appended only by
/// `audit::append`, which names the scope's workspace and a company the scope covers.
pub(crate) const AUDIT_ENTRIES: Tenant = client("audit_entries");
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const AUDIT_HEADS: Tenant = client("audit_heads");
pub(crate) const AUDIT_CHECKPOINTS: Tenant = client("audit_checkpoints");
/// Hand-overs of view-as sessions: written by staff of the company, redeemed under the sign-in
/// fence (never read by a scope).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const VIEW_AS_HANDOFFS: Tenant = client("view_as_handoffs");
pub(crate) const TICKET_LIST_VERSIONS: Tenant = client("ticket_list_versions");
pub(crate) const PRINCIPAL_VERSIONS: Tenant = workspace_level("principal_versions");

/// Connectors are the workspace's administration (owners, by the store's check).
pub(crate) const CONNECTORS: Tenant = workspace_level("connectors");
/// A vendor tenant is its company's once mapped; an unmapped one (another organisation's name)
/// only workspace-wide staff see.
pub(crate) const CONNECTOR_TENANTS: Tenant = client("connector_tenants");
pub(crate) const CONNECTOR_RUNS: Tenant = client("connector_runs");
/// A PSA connector's ticket statuses and what each means (owners, by the store's check).
pub(crate) const PSA_STATUSES: Tenant = workspace_level("psa_statuses");
/// P11: a company's subscribed products, as the connector read them.
pub(crate) const LICENCES: Tenant = client("licences");
/// What the MSP charges per product (billing fields, by the store's check).
pub(crate) const LICENCE_PRICES: Tenant = workspace_level("licence_prices");
/// P19: a company's directory users, as the connector read them.
pub(crate) const DIRECTORY_USERS: Tenant = client("directory_users");
/// P5: security alerts a connector read.
pub(crate) const SECURITY_ALERTS: Tenant = client("security_alerts");
/// P5: the agents of a company's endpoint protection, as a connector read them.
pub(crate) const EDR_AGENTS: Tenant = client("edr_agents");
/// P5: an EDR tenant's coverage of its company's computers, as its last run computed it.
pub(crate) const EDR_COVERAGE: Tenant = client("edr_coverage");
/// P5: how many of a company's identities its identity threat detection watches.
pub(crate) const IDENTITY_PROTECTION: Tenant = client("identity_protection");
/// P5: penetration tests staff recorded; the portal sees published ones only.
pub(crate) const PENTESTS: Tenant = Tenant {
    portal_hides: Some(("state", "draft")),
    ..client("pentests")
};
/// P5: the health of a company's e-mail domains, as the worker last checked it.
pub(crate) const DOMAIN_HEALTH: Tenant = client("domain_health");
/// P5: the MSP's Have I Been Pwned key (owners, by the store's check).
pub(crate) const BREACH_MONITORING: Tenant = workspace_level("breach_monitoring");
/// P5: accounts of a company's domains found in breaches.
pub(crate) const BREACHED_ACCOUNTS: Tenant = client("breached_accounts");
/// P5: HIBP's descriptions of breaches, as each workspace's key read them.
pub(crate) const KNOWN_BREACHES: Tenant = workspace_level("known_breaches");
/// P7: a company's backup jobs, as its tools reported them.
pub(crate) const BACKUP_JOBS: Tenant = client("backup_jobs");
/// P6: staff's judgements of a company's compliance requirements, with their evidence. The
/// MSP's working papers: read by staff methods only (and hidden from portal scopes by the
/// PostgreSQL policy).
pub(crate) const COMPLIANCE_ATTESTATIONS: Tenant = client("compliance_attestations");
/// P6: a framework's scorecards for a company as staff recorded them.
pub(crate) const COMPLIANCE_ASSESSMENTS: Tenant = client("compliance_assessments");
/// P6: each requirement's standing in an assessment (the Compliance page reads the same from
/// the assessment's `findings` text, and these rows when it has none).
pub(crate) const COMPLIANCE_FINDINGS: Tenant = client("compliance_findings");
/// I2: an accounting tool's own PDF of an invoice it issued; read with the invoice.
pub(crate) const INVOICE_DOCUMENTS: Tenant = client("invoice_documents");
/// I2: a ticket's counterpart in the MSP's PSA, with its sync state. The desk's records: read by
/// staff methods only (and hidden from portal scopes by the PostgreSQL policy).
pub(crate) const PSA_TICKET_LINKS: Tenant = client("psa_ticket_links");
/// I2: which messages crossed to or from the PSA. Written by the sync and by a connector's
/// scope (a reply brought in, and the count of its action's files read since).
pub(crate) const PSA_MESSAGE_LINKS: Tenant = client("psa_message_links");
/// I2: which attachments crossed to or from the PSA. Read by the sync alone; written by it and
/// by a connector's scope (an INSERT, no predicate): described for the tests that hold the
/// schema to the fence.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const PSA_ATTACHMENT_LINKS: Tenant = client("psa_attachment_links");

/// Every description, for the tests that hold them against the schema.
#[cfg(test)]
pub(crate) const ALL: &[&Tenant] = &[
    &CONNECTORS,
    &CONNECTOR_TENANTS,
    &CONNECTOR_RUNS,
    &PSA_STATUSES,
    &LICENCES,
    &LICENCE_PRICES,
    &DIRECTORY_USERS,
    &SECURITY_ALERTS,
    &EDR_AGENTS,
    &EDR_COVERAGE,
    &IDENTITY_PROTECTION,
    &PENTESTS,
    &DOMAIN_HEALTH,
    &BREACH_MONITORING,
    &BREACHED_ACCOUNTS,
    &KNOWN_BREACHES,
    &BACKUP_JOBS,
    &COMPLIANCE_ATTESTATIONS,
    &COMPLIANCE_ASSESSMENTS,
    &COMPLIANCE_FINDINGS,
    &WORKSPACES,
    &COMPANIES,
    &SITES,
    &ASSETS,
    &ASSET_TALLIES,
    &ASSET_FIELDS,
    &ASSET_FIELD_VALUES,
    &ASSET_FIELD_VISIBILITY,
    &CONTACTS,
    &CONTACT_ROLES,
    &COMPANY_EMAIL_DOMAINS,
    &COMPANY_SECTION_SETTINGS,
    &WORKSPACE_SECTION_DEFAULTS,
    &STAFF_USERS,
    &STAFF_ASSIGNMENTS,
    &PORTAL_USERS,
    &PORTAL_USER_SITES,
    &PORTAL_USER_COMPANIES,
    &SESSIONS,
    &ONE_TIME_TOKENS,
    &MFA_TOTP,
    &MFA_RECOVERY_CODES,
    &MFA_CHALLENGES,
    &MFA_REMEMBERED_DEVICES,
    &API_TOKENS,
    &API_IDEMPOTENCY_KEYS,
    &WEBHOOK_ENDPOINTS,
    &WEBHOOK_DELIVERIES,
    &WEBHOOK_ATTEMPTS,
    &WEBHOOK_EVENTS,
    &SSO_PROVIDERS,
    &SSO_LOGINS,
    &PSA_TICKET_LINKS,
    &PSA_MESSAGE_LINKS,
    &PSA_ATTACHMENT_LINKS,
    &INVOICE_DOCUMENTS,
    &TICKETS,
    &TICKET_MESSAGES,
    &TICKET_ATTACHMENTS,
    &TICKET_EVENTS,
    &TICKET_FIELD_VALUES,
    &TICKET_CC,
    &TICKET_PRESENCE,
    &TIME_ENTRIES,
    &MAINTENANCE_RECORDS,
    &MAINTENANCE_TARGETS,
    &INVOICES,
    &INVOICE_LINES,
    &INVOICE_COUNTERS,
    &CHANGE_REQUESTS,
    &CHANGE_REQUEST_EVENTS,
    &RECORD_CHANGES,
    &PENDING_IMPORTS,
    &TICKET_CATEGORIES,
    &TICKET_COUNTERS,
    &TICKET_FORM_FIELDS,
    &SLA_TARGETS,
    &BUSINESS_CALENDARS,
    &TICKET_VISIBILITY,
    &CANNED_RESPONSES,
    &ROUTING_RULES,
    &SAVED_VIEWS,
    &NOTIFICATION_PREFERENCES,
    &STAFF_NOTIFICATION_PREFERENCES,
    &KEPT_UPLOADS,
    &AUDIT_ENTRIES,
    &AUDIT_HEADS,
    &AUDIT_CHECKPOINTS,
    &VIEW_AS_HANDOFFS,
    &OUTBOX,
    &TICKET_LIST_VERSIONS,
    &PRINCIPAL_VERSIONS,
];

impl ScopedTx<'_> {
    /// `SELECT <columns> FROM <table> <alias> WHERE <fence>`: the caller appends ` AND …`.
    pub(crate) fn select(&self, columns: &str, table: &Tenant, alias: &str) -> Q {
        self.select_joined(columns, table, alias, "")
    }

    /// The same with `joins` after the fenced table. Joined rows must be reached by key from
    /// the fenced row (its company's, its ticket's), so they are inside the fence with it.
    pub(crate) fn select_joined(
        &self,
        columns: &str,
        table: &Tenant,
        alias: &str,
        joins: &str,
    ) -> Q {
        let mut query = Q::new("SELECT ");
        query.sql(columns);
        self.push_fenced_from(&mut query, table, alias, joins);
        query
    }

    /// Appends ` FROM <table> <alias><joins> WHERE <fence>` to a query whose columns were
    /// written first (some of them subqueries with arguments of their own).
    pub(crate) fn push_fenced_from(&self, query: &mut Q, table: &Tenant, alias: &str, joins: &str) {
        query
            .sql(" FROM ")
            .sql(table.table)
            .sql(" ")
            .sql(alias)
            .sql(joins)
            .sql(" WHERE 1 = 1");
        self.fenced(query, table, alias);
    }

    /// Appends `(SELECT <columns> FROM <table> <alias> WHERE <fence>` to `query`, a subquery
    /// of a statement that reads several things at once: the caller appends ` AND …)`.
    pub(crate) fn sub_select(&self, query: &mut Q, columns: &str, table: &Tenant, alias: &str) {
        query.sql("(SELECT ").sql(columns);
        self.push_fenced_from(query, table, alias, "");
    }

    /// `UPDATE <table> SET <set, as written by the closure> WHERE <fence>`: the caller appends
    /// ` AND …` to pick rows.
    pub(crate) fn update(&self, table: &Tenant, set: impl FnOnce(&mut Q)) -> Q {
        let mut query = Q::new("UPDATE ");
        query.sql(table.table).sql(" SET ");
        set(&mut query);
        query.sql(" WHERE 1 = 1");
        self.fenced(&mut query, table, table.table);
        query
    }

    /// `DELETE FROM <table> WHERE <fence>`: the caller appends ` AND …` to pick rows.
    pub(crate) fn delete(&self, table: &Tenant) -> Q {
        let mut query = Q::new("DELETE FROM ");
        query.sql(table.table).sql(" WHERE 1 = 1");
        self.fenced(&mut query, table, table.table);
        query
    }

    /// Appends the scope's predicates for `table`'s rows under `alias`: workspace, companies,
    /// sites, own tickets, and the acting person for personal records.
    pub(crate) fn fenced(&self, query: &mut Q, table: &Tenant, alias: &str) {
        query
            .sql(" AND ")
            .sql(alias)
            .sql(".")
            .sql(table.workspace)
            .sql(" = ")
            .arg(self.scope.workspace());
        if let CompanySet::Only(ids) = self.scope.companies() {
            match table.company {
                Company::None => {}
                Company::Column(column) => {
                    query.sql(" AND ");
                    query.in_list(&format!("{alias}.{column}"), ids);
                }
                Company::Optional(column) => {
                    query.sql(&format!(" AND ({alias}.{column} IS NULL OR "));
                    query.in_list(&format!("{alias}.{column}"), ids);
                    query.sql(")");
                }
            }
        }
        if let (Some(column), Some(sites)) = (table.site, self.scope.sites()) {
            query.sql(" AND ");
            query.in_list(&format!("{alias}.{column}"), sites);
        }
        if let (Some((column, value)), true) = (table.portal_hides, self.scope.is_portal()) {
            // Both are constants of the description, never input.
            query.sql(&format!(" AND {alias}.{column} <> '{value}'"));
        }
        if let (Some((via, key)), Some(sites)) = (table.sites_via, self.scope.sites()) {
            // A row naming nothing concerns the whole company; one naming only things outside
            // the scope's sites (a site-less asset included) is not the scope's.
            query.sql(&format!(
                " AND (NOT EXISTS (SELECT 1 FROM {via} fv WHERE fv.{key} = {alias}.id) \
                 OR EXISTS (SELECT 1 FROM {via} fv WHERE fv.{key} = {alias}.id AND "
            ));
            query.in_list("fv.site_id", sites);
            query.sql("))");
        }
        match table.own {
            Own::Unrestricted => {}
            Own::Ticket { id, requester } => self.own_tickets(query, alias, id, requester),
            Own::OfTicket { ticket } => {
                // Unrestricted scopes see every ticket of their companies: no join needed.
                if self.scope.sites().is_some() || self.scope.requester().is_some() {
                    query.sql(&format!(
                        " AND EXISTS (SELECT 1 FROM tickets ft WHERE ft.id = {alias}.{ticket}"
                    ));
                    if let Some(sites) = self.scope.sites() {
                        query.sql(" AND ");
                        query.in_list("ft.site_id", sites);
                    }
                    self.own_tickets(query, "ft", "id", "requester_id");
                    query.sql(")");
                }
            }
            Own::StaffUser(column) => match self.scope.actor() {
                Actor::Staff(user) => {
                    query.sql(&format!(" AND {alias}.{column} = ")).arg(user);
                }
                Actor::Portal(_) => {
                    query.sql(" AND 1 = 0");
                }
            },
            Own::ChangeRequester {
                requester,
                kind,
                site,
            } => {
                let all_of_them = self.scope.portal_role()
                    == Some(portico_core::PortalRole::ClientAdmin)
                    && self.scope.requester().is_none();
                if let Actor::Portal(user) = self.scope.actor() {
                    let me = query.placeholder(user);
                    if !all_of_them {
                        query.sql(&format!(
                            " AND ({alias}.{requester} = {me} OR ({alias}.{kind} = 'purchase' AND EXISTS (\
                             SELECT 1 FROM contacts ct JOIN contact_roles cr ON cr.contact_id = ct.id AND cr.role = 'purchase_approver' \
                             JOIN portal_users pu ON pu.id = {me} AND lower(pu.email) = lower(ct.email) \
                             WHERE ct.company_id = {alias}.company_id AND ct.archived_at IS NULL)))"
                        ));
                    }
                    if let Some(sites) = self.scope.sites() {
                        query.sql(&format!(
                            " AND ({alias}.{requester} = {me} OR {alias}.{site} IS NULL OR "
                        ));
                        query.in_list(&format!("{alias}.{site}"), sites);
                        query.sql(")");
                    }
                }
            }
            Own::PortalUser(column) => match self.scope.actor() {
                Actor::Portal(user) => {
                    query.sql(&format!(" AND {alias}.{column} = ")).arg(user);
                }
                Actor::Staff(_) => {
                    query.sql(" AND 1 = 0");
                }
            },
        }
    }

    /// For own-tickets-only scopes: the ticket `alias` was requested by the user or copies them.
    fn own_tickets(&self, query: &mut Q, alias: &str, id: &str, requester: &str) {
        if let Some(user) = self.scope.requester() {
            query
                .sql(&format!(" AND ({alias}.{requester} = "))
                .arg(user)
                .sql(&format!(
                    " OR EXISTS (SELECT 1 FROM ticket_cc x WHERE x.ticket_id = {alias}.{id} AND x.portal_user_id = "
                ))
                .arg(user)
                .sql("))");
        }
    }
}

#[cfg(test)]
mod tests {
    /// The scoped modules, read as text: none writes a tenant predicate by hand.
    const SOURCES: &[(&str, &str)] = &[
        ("api_idempotency.rs", include_str!("api_idempotency.rs")),
        ("psa_links.rs", include_str!("psa_links.rs")),
        ("assets/edit.rs", include_str!("assets/edit.rs")),
        ("assets/fields.rs", include_str!("assets/fields.rs")),
        ("assets/mod.rs", include_str!("assets/mod.rs")),
        ("assets/read.rs", include_str!("assets/read.rs")),
        ("audit_log.rs", include_str!("audit_log.rs")),
        ("webhooks.rs", include_str!("webhooks.rs")),
        ("connectors.rs", include_str!("connectors.rs")),
        ("licences.rs", include_str!("licences.rs")),
        ("security_alerts.rs", include_str!("security_alerts.rs")),
        ("protection.rs", include_str!("protection.rs")),
        ("pentests.rs", include_str!("pentests.rs")),
        ("domain_health.rs", include_str!("domain_health.rs")),
        ("breaches.rs", include_str!("breaches.rs")),
        ("backups.rs", include_str!("backups.rs")),
        ("compliance.rs", include_str!("compliance.rs")),
        ("branding.rs", include_str!("branding.rs")),
        ("canned_responses.rs", include_str!("canned_responses.rs")),
        ("change_requests.rs", include_str!("change_requests.rs")),
        (
            "companies/contacts.rs",
            include_str!("companies/contacts.rs"),
        ),
        ("companies/edit.rs", include_str!("companies/edit.rs")),
        ("companies/mod.rs", include_str!("companies/mod.rs")),
        ("companies/read.rs", include_str!("companies/read.rs")),
        ("companies/sites.rs", include_str!("companies/sites.rs")),
        ("company_grants.rs", include_str!("company_grants.rs")),
        ("kept_uploads.rs", include_str!("kept_uploads.rs")),
        ("local_time.rs", include_str!("local_time.rs")),
        ("invoices.rs", include_str!("invoices.rs")),
        ("json_rows.rs", include_str!("json_rows.rs")),
        ("maintenance.rs", include_str!("maintenance.rs")),
        ("mod.rs", include_str!("mod.rs")),
        ("outbox.rs", include_str!("outbox.rs")),
        ("overview.rs", include_str!("overview.rs")),
        ("portal_settings.rs", include_str!("portal_settings.rs")),
        ("portal_users.rs", include_str!("portal_users.rs")),
        ("record_history.rs", include_str!("record_history.rs")),
        ("imports.rs", include_str!("imports.rs")),
        ("presence.rs", include_str!("presence.rs")),
        ("pushed_records.rs", include_str!("pushed_records.rs")),
        ("routing.rs", include_str!("routing.rs")),
        ("saved_views.rs", include_str!("saved_views.rs")),
        ("sla.rs", include_str!("sla.rs")),
        ("staff.rs", include_str!("staff.rs")),
        ("ticket_form.rs", include_str!("ticket_form.rs")),
        ("time.rs", include_str!("time.rs")),
        ("view_as.rs", include_str!("view_as.rs")),
        ("second_factor.rs", include_str!("second_factor.rs")),
        ("api_tokens.rs", include_str!("api_tokens.rs")),
        ("sso.rs", include_str!("sso.rs")),
        ("ticket_visibility.rs", include_str!("ticket_visibility.rs")),
        (
            "ticket_workflow/assignees.rs",
            include_str!("ticket_workflow/assignees.rs"),
        ),
        (
            "ticket_workflow/cc.rs",
            include_str!("ticket_workflow/cc.rs"),
        ),
        (
            "ticket_workflow/desk_changes.rs",
            include_str!("ticket_workflow/desk_changes.rs"),
        ),
        (
            "ticket_workflow/merge.rs",
            include_str!("ticket_workflow/merge.rs"),
        ),
        (
            "ticket_workflow/mod.rs",
            include_str!("ticket_workflow/mod.rs"),
        ),
        (
            "ticket_workflow/notifications.rs",
            include_str!("ticket_workflow/notifications.rs"),
        ),
        (
            "ticket_workflow/preferences.rs",
            include_str!("ticket_workflow/preferences.rs"),
        ),
        (
            "ticket_workflow/raise.rs",
            include_str!("ticket_workflow/raise.rs"),
        ),
        (
            "ticket_workflow/reply.rs",
            include_str!("ticket_workflow/reply.rs"),
        ),
        (
            "ticket_workflow/resolution.rs",
            include_str!("ticket_workflow/resolution.rs"),
        ),
        (
            "ticket_workflow/tool_sync.rs",
            include_str!("ticket_workflow/tool_sync.rs"),
        ),
        (
            "ticket_workflow/writes.rs",
            include_str!("ticket_workflow/writes.rs"),
        ),
        ("tickets/detail.rs", include_str!("tickets/detail.rs")),
        ("tickets/kpis.rs", include_str!("tickets/kpis.rs")),
        ("tickets/list.rs", include_str!("tickets/list.rs")),
        ("tickets/mod.rs", include_str!("tickets/mod.rs")),
        (
            "tickets/page_cache.rs",
            include_str!("tickets/page_cache.rs"),
        ),
        ("tickets/search.rs", include_str!("tickets/search.rs")),
        ("tickets/stamps.rs", include_str!("tickets/stamps.rs")),
    ];

    #[test]
    fn no_scoped_method_writes_a_tenant_predicate_by_hand() {
        let mut found = Vec::new();
        for (file, text) in SOURCES {
            for (n, line) in text.lines().enumerate() {
                // A workspace compared with a value rather than with another row's column
                // (`a.workspace_id = b.workspace_id` joins rows already fenced).
                let by_hand = line.match_indices("workspace_id = ").any(|(at, pattern)| {
                    let rest = &line[at + pattern.len()..];
                    rest.starts_with('$') || rest.starts_with('"') || rest.is_empty()
                });
                if by_hand {
                    found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "tenant predicates written by hand; use ScopedTx::select/update/delete/fenced:\n{}",
            found.join("\n")
        );
    }

    /// Each description names a table and columns that exist, and every table with a
    /// `workspace_id` column is described (but for the few read before anyone is known).
    #[test]
    fn every_tenant_table_is_described_once_and_matches_the_schema() {
        // Read by host name or by hashed key before a principal exists, never by a scope.
        const UNSCOPED: &[&str] = &["workspace_hostnames", "login_throttle"];
        let schema: String = crate::migrate::SQLITE
            .iter()
            .map(|(_, _, sql)| *sql)
            .collect::<Vec<_>>()
            .join("\n");
        let mut tables: Vec<(String, String)> = schema
            .split("CREATE TABLE ")
            .skip(1)
            .map(|block| {
                let name = block.split_whitespace().next().unwrap_or("").to_owned();
                let body = block.split(");").next().unwrap_or("").to_owned();
                (name, body)
            })
            .collect();
        // A table rebuilt (SQLite cannot alter a constraint) takes the old one's place.
        for statement in schema.split("ALTER TABLE ").skip(1) {
            let words: Vec<&str> = statement.split_whitespace().take(4).collect();
            if let [from, "RENAME", "TO", to] = words[..] {
                let to = to.trim_end_matches(';');
                tables.retain(|(name, _)| name != to);
                for (name, _) in tables.iter_mut().filter(|(name, _)| name == from) {
                    *name = to.to_owned();
                }
            }
        }
        let mut described: Vec<&str> = super::ALL.iter().map(|t| t.table).collect();
        described.sort_unstable();
        let before = described.len();
        described.dedup();
        assert_eq!(before, described.len(), "a table is described twice");
        for tenant in super::ALL {
            let (_, body) = tables
                .iter()
                .find(|(name, _)| name == tenant.table)
                .unwrap_or_else(|| panic!("{} is not a table", tenant.table));
            let mut columns = vec![tenant.workspace];
            match tenant.company {
                super::Company::None => {}
                super::Company::Column(c) | super::Company::Optional(c) => columns.push(c),
            }
            columns.extend(tenant.site);
            columns.extend(tenant.portal_hides.map(|(column, _)| column));
            if let Some((via, key)) = tenant.sites_via {
                let (_, via_body) = tables
                    .iter()
                    .find(|(name, _)| name == via)
                    .unwrap_or_else(|| panic!("{via} is not a table"));
                assert!(via_body.contains(&format!("{key} ")) && via_body.contains("site_id "));
            }
            match tenant.own {
                super::Own::Unrestricted => {}
                super::Own::Ticket { id, requester } => columns.extend([id, requester]),
                super::Own::OfTicket { ticket } => columns.push(ticket),
                super::Own::StaffUser(c) | super::Own::PortalUser(c) => columns.push(c),
                super::Own::ChangeRequester {
                    requester,
                    kind,
                    site,
                } => columns.extend([requester, kind, site]),
            }
            for column in columns {
                assert!(
                    body.contains(&format!("{column} ")),
                    "{}.{column} is not in the schema",
                    tenant.table
                );
            }
        }
        for (name, body) in &tables {
            if body.contains("workspace_id") && !UNSCOPED.contains(&name.as_str()) {
                assert!(
                    described.contains(&name.as_str()),
                    "{name} has a workspace_id but no description in fence.rs"
                );
            }
        }
    }

    #[test]
    fn every_scoped_module_is_checked() {
        let mut listed: Vec<&str> = SOURCES.iter().map(|(f, _)| *f).collect();
        listed.push("fence.rs");
        listed.sort_unstable();
        // Every file, in folders too, by its path from `scoped/` ("tickets/list.rs").
        fn files(dir: &std::path::Path, prefix: &str, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
                if entry.file_type().unwrap().is_dir() {
                    files(&entry.path(), &format!("{name}/"), found);
                } else {
                    found.push(name);
                }
            }
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scoped");
        let mut present = Vec::new();
        files(&dir, "", &mut present);
        present.sort_unstable();
        assert_eq!(present, listed, "add new scoped modules to SOURCES");
    }
}
