//! Sign-in, sessions, one-time tokens and throttling within one workspace.

use portico_core::{
    CompanyId, PortalGrant, PortalPrincipal, PortalRole, PortalUserId, Principal, Section, SiteId,
    StaffPrincipal, StaffRole, StaffUserId, WorkspaceId, Zone,
};

use std::sync::Arc;

use crate::principals::{Basis, PrincipalCache};
use crate::public::SurfaceKind;
use crate::sql::{Q, Tx, q};
use crate::ticket_pages::Versions;
use crate::{StoreError, now, password, token};

/// Failed sign-ins allowed per account, and per client address, within one window.
pub const ACCOUNT_FAILURES: i64 = 5;
pub const ADDRESS_FAILURES: i64 = 30;
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUser {
    Staff(StaffUserId),
    Portal(PortalUserId),
}

/// What a sign-in attempt carries.
pub struct Credentials<'a> {
    pub surface: SurfaceKind,
    pub email: &'a str,
    pub password: &'a str,
    pub ip: &'a str,
    /// The token of this browser's remembered-device cookie, if any: a remembered browser
    /// skips the second step.
    pub remembered_device: Option<&'a str>,
    /// Where to go once signed in (kept with a second-step challenge).
    pub next: &'a str,
}

/// The result of a sign-in attempt. Unknown accounts and wrong passwords are the same outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    Success(SessionUser),
    /// The password was right; the second step comes next, under this challenge token.
    SecondFactor {
        user: SessionUser,
        challenge: String,
    },
    Invalid,
    Throttled,
    /// The password was right, but the user's company signs in through single sign-on only.
    SsoRequired,
}

/// Whether further attempts are allowed.
#[derive(Debug, PartialEq, Eq)]
pub enum ThrottleVerdict {
    Allowed,
    Throttled,
}

/// A session to open.
pub struct NewSession<'a> {
    pub surface: SurfaceKind,
    pub user: SessionUser,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// Absolute lifetime in seconds.
    pub lifetime_secs: i64,
}

/// A live session as listed on the profile page.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
}
crate::sql::db_row!(SessionInfo {
    id_hash,
    created_at,
    last_seen_at,
    ip,
    user_agent
});

/// The versions a client's kept list pages are checked against ([`crate::ticket_pages`]), read
/// with the session row: the session's company's list version and the workspace's principal
/// version. A list page shown by the same request, before it writes anything, needs no read of
/// its own when they match a page kept ([`crate::ScopedTx::portal_tickets`]). Neither `Clone`
/// nor `Copy`: they describe the moment the session was read, and are handed out once.
#[derive(Debug)]
pub struct SessionVersions {
    pub(crate) company: Option<CompanyId>,
    pub(crate) versions: Versions,
}

/// A resolved session: the principal and what the web layer needs to check requests.
pub struct ResolvedSession {
    pub principal: Arc<Principal>,
    pub versions: SessionVersions,
    pub csrf_token: String,
    pub id_hash: String,
    /// The session's last activity is old enough to be recorded ([`AuthTx::touch_session`]).
    pub stale: bool,
    /// A staff member viewing the portal as the session's user (read-only, see
    /// [`portico_core::Scope::viewed_by`]).
    pub view_as: Option<portico_core::ViewAs>,
}

/// What one-time token a link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimePurpose {
    Invite,
    Reset,
}

impl OneTimePurpose {
    fn as_str(self) -> &'static str {
        match self {
            OneTimePurpose::Invite => "invite",
            OneTimePurpose::Reset => "reset",
        }
    }
}

struct SessionRow {
    staff_user_id: Option<String>,
    portal_user_id: Option<String>,
    company_id: Option<String>,
    csrf_token: String,
    last_seen_at: i64,
    principal_version: i64,
    list_version: i64,
    view_as_staff_id: Option<String>,
    view_as_by: String,
    view_as_reason: String,
    expires_at: i64,
    /// Viewing as a role (no particular user): the role and the user settings chosen.
    view_as_role: Option<String>,
    view_as_own_only: bool,
    view_as_billing: bool,
}
crate::sql::db_row!(SessionRow {
    staff_user_id,
    portal_user_id,
    company_id,
    csrf_token,
    last_seen_at,
    principal_version,
    list_version,
    view_as_staff_id,
    view_as_by,
    view_as_reason,
    expires_at,
    view_as_role,
    view_as_own_only,
    view_as_billing
});

struct LoginRow {
    id: String,
    password_hash: Option<String>,
}
crate::sql::db_row!(LoginRow { id, password_hash });

struct PortalUserRow {
    company_id: String,
    role: String,
    own_only: bool,
    billing_access: bool,
    name: String,
    email: String,
    time_zone: Option<String>,
}
crate::sql::db_row!(PortalUserRow {
    company_id,
    role,
    own_only,
    billing_access,
    name,
    email,
    time_zone
});

/// Sign-in flows for one workspace. Commit to keep what a call wrote.
pub struct AuthTx {
    pub(crate) tx: Tx,
    pub(crate) workspace: WorkspaceId,
    pub(crate) principals: Arc<PrincipalCache>,
    pub(crate) audit: Arc<crate::audit::AuditLog>,
}

impl AuthTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }

    pub(crate) fn throttle_keys(
        &self,
        surface: SurfaceKind,
        email: &str,
        ip: &str,
    ) -> [(String, i64); 2] {
        [
            (
                token::hash(&format!(
                    "account:{}:{}:{}",
                    self.workspace,
                    surface.as_str(),
                    email.to_lowercase()
                )),
                ACCOUNT_FAILURES,
            ),
            (
                token::hash(&format!("address:{}:{ip}", self.workspace)),
                ADDRESS_FAILURES,
            ),
        ]
    }

    /// Counts an attempt against the account's and the address's throttle; `true` when either
    /// is past its limit. The upsert locks the counter row, so concurrent attempts on one
    /// account queue instead of all reading "under the limit".
    pub(crate) async fn count_attempt(
        &mut self,
        keys: &[(String, i64); 2],
    ) -> Result<bool, StoreError> {
        let now = now();
        let mut throttled = false;
        for (key, limit) in keys {
            let (attempts,): (i64,) = self
                .tx
                .one(q!(
                    "INSERT INTO login_throttle (key_hash, window_start, failures) VALUES ($1, $2, 1) \
                     ON CONFLICT (key_hash) DO UPDATE SET \
                     failures = CASE WHEN login_throttle.window_start + $3 > $2 THEN login_throttle.failures + 1 ELSE 1 END, \
                     window_start = CASE WHEN login_throttle.window_start + $3 > $2 THEN login_throttle.window_start ELSE $2 END \
                     RETURNING failures",
                    key,
                    now,
                    THROTTLE_WINDOW_SECS
                ))
                .await?;
            throttled |= attempts > *limit;
        }
        Ok(throttled)
    }

    /// Only failures count: a completed sign-in clears the account's counter and takes back the
    /// `attempts` it added to the address's, so that an office of thirty people signing in from
    /// one address never locks itself out.
    pub(crate) async fn clear_attempts(
        &mut self,
        keys: &[(String, i64); 2],
        attempts: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "DELETE FROM login_throttle WHERE key_hash = $1",
                keys[0].0.clone()
            ))
            .await?;
        self.tx
            .exec(q!(
                "UPDATE login_throttle SET failures = CASE WHEN failures > $2 THEN failures - $2 ELSE 0 END \
                 WHERE key_hash = $1",
                keys[1].0.clone(),
                attempts
            ))
            .await?;
        Ok(())
    }

    /// Checks credentials, counting failures per account and per address. Every miss answers
    /// [`SignInOutcome::Invalid`] after the same work, whether or not the account exists. A
    /// correct password of an account with a second factor answers
    /// [`SignInOutcome::SecondFactor`]; its attempt stays counted until the second step is
    /// passed ([`AuthTx::answer_challenge`]).
    pub async fn sign_in(&mut self, creds: &Credentials<'_>) -> Result<SignInOutcome, StoreError> {
        let keys = self.throttle_keys(creds.surface, creds.email, creds.ip);
        // Count the attempt before checking the password.
        if self.count_attempt(&keys).await? {
            password::verify_dummy_in_turn(creds.password).await;
            return Ok(SignInOutcome::Throttled);
        }
        let table = match creds.surface {
            SurfaceKind::Console => "staff_users",
            SurfaceKind::Portal => "portal_users",
        };
        let mut query = Q::new(&format!("SELECT u.id, u.password_hash FROM {table} u"));
        if creds.surface == SurfaceKind::Portal {
            query.sql(" JOIN companies c ON c.workspace_id = u.workspace_id AND c.id = u.company_id AND c.portal_enabled");
        }
        query.sql(" WHERE u.workspace_id = ").arg(self.workspace);
        query
            .sql(" AND lower(u.email) = ")
            .arg(creds.email.trim().to_lowercase());
        query.sql(" AND NOT u.disabled");
        let row: Option<LoginRow> = self.tx.optional(query).await?;
        let verified = match &row {
            Some(LoginRow {
                password_hash: Some(stored),
                ..
            }) => password::verify_in_turn(creds.password, stored).await,
            _ => {
                password::verify_dummy_in_turn(creds.password).await;
                false
            }
        };
        if verified && let Some(row) = row {
            // A hash made with earlier settings is made again with today's, from the password
            // just verified.
            if row
                .password_hash
                .as_deref()
                .is_some_and(password::needs_rehash)
            {
                let hash = password::hash_in_turn(creds.password).await?;
                self.tx
                    .exec(Q::with(
                        &format!(
                            "UPDATE {table} SET password_hash = $1 WHERE workspace_id = $2 AND id = $3"
                        ),
                        vec![hash.into(), self.workspace.into(), row.id.as_str().into()],
                    ))
                    .await?;
            }
            let user = match creds.surface {
                SurfaceKind::Console => SessionUser::Staff(StaffUserId::from_stored(&row.id)),
                SurfaceKind::Portal => SessionUser::Portal(PortalUserId::from_stored(&row.id)),
            };
            if let SessionUser::Portal(portal) = user
                && self.sso_required_for(portal).await?
            {
                self.clear_attempts(&keys, 1).await?;
                return Ok(SignInOutcome::SsoRequired);
            }
            if let Some(challenge) = self
                .second_step(creds.surface, user, creds.remembered_device, creds.next)
                .await?
            {
                return Ok(SignInOutcome::SecondFactor { user, challenge });
            }
            self.clear_attempts(&keys, 1).await?;
            return Ok(SignInOutcome::Success(user));
        }
        Ok(SignInOutcome::Invalid)
    }

    /// Opens a session and returns its token (for the cookie). The token is random and new at
    /// every sign-in, so a session id planted before sign-in is never promoted.
    pub async fn create_session(&mut self, new: &NewSession<'_>) -> Result<String, StoreError> {
        let token = token::generate();
        let now = now();
        let (staff, portal, company) = match new.user {
            SessionUser::Staff(id) => (Some(id), None, None),
            SessionUser::Portal(id) => {
                let (home,): (String,) = self
                    .tx
                    .one(q!(
                        "SELECT company_id FROM portal_users WHERE workspace_id = $1 AND id = $2",
                        self.workspace,
                        id
                    ))
                    .await?;
                (None, Some(id), Some(home))
            }
        };
        self.tx
            .exec(q!(
                "INSERT INTO sessions (id_hash, workspace_id, surface, staff_user_id, portal_user_id, company_id, \
                 csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
                token::hash(&token),
                self.workspace,
                new.surface.as_str(),
                staff,
                portal,
                company,
                token::generate(),
                now,
                now + new.lifetime_secs,
                new.ip,
                truncate(new.user_agent, 300)
            ))
            .await?;
        Ok(token)
    }

    /// A live session's row with the versions its caches are checked against.
    async fn session_row(
        &mut self,
        id_hash: &str,
        surface: SurfaceKind,
        now: i64,
        idle_timeout_secs: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let lookup = self.session_lookup(id_hash, surface, now, idle_timeout_secs);
        // SQLite, no transaction begun: the lookup is one statement, its own read transaction,
        // which saves a BEGIN and a COMMIT on every request. A principal built afterwards (on a
        // cache miss) begins the transaction then, as on PostgreSQL.
        match self.tx.unstarted_sqlite() {
            Some(pool) => {
                crate::sql::Tx::SqliteAuto(pool.clone())
                    .optional(lookup)
                    .await
            }
            None => self.tx.optional(lookup).await,
        }
    }

    /// The statement of [`AuthTx::session_row`]. The versions are scalar subqueries on the
    /// lookup's own arguments: PostgreSQL then plans a plain index scan for each (an outer
    /// join cost it a fifth more, migration 0078).
    fn session_lookup(
        &self,
        id_hash: &str,
        surface: SurfaceKind,
        now: i64,
        idle_timeout_secs: i64,
    ) -> crate::sql::Q {
        q!(
            "SELECT s.staff_user_id, s.portal_user_id, s.company_id, s.csrf_token, s.last_seen_at, \
             COALESCE((SELECT v.version FROM principal_versions v WHERE v.workspace_id = $2), 0) \
             AS principal_version, \
             COALESCE((SELECT l.version FROM ticket_list_versions l \
             WHERE l.company_id = s.company_id AND l.workspace_id = $2), 0) AS list_version, \
             s.view_as_staff_id, s.view_as_by, s.view_as_reason, s.expires_at, \
             s.view_as_role, s.view_as_own_only, s.view_as_billing \
             FROM sessions s \
             WHERE s.id_hash = $1 AND s.workspace_id = $2 AND s.surface = $3 AND s.expires_at > $4 \
             AND s.last_seen_at > $5",
            id_hash,
            self.workspace,
            surface.as_str(),
            now,
            now - idle_timeout_secs
        )
    }

    /// The principal behind a session token on `surface`, if the session is alive (within its
    /// absolute lifetime and idle timeout) and its user still enabled.
    pub async fn resolve_session(
        &mut self,
        token: &str,
        surface: SurfaceKind,
        idle_timeout_secs: i64,
    ) -> Result<Option<ResolvedSession>, StoreError> {
        let id_hash = token::hash(token);
        let now = now();
        let row: Option<SessionRow> = match self.tx.unstarted_postgres() {
            // PostgreSQL, no transaction begun: one statement on a lookup connection, which
            // holds the sign-in fence already (`pg_lane`): one round trip (two when the connection
            // last served another workspace).
            Some(lookups) => {
                lookups
                    .optional(
                        &self.workspace.as_text(),
                        &self.session_lookup(&id_hash, surface, now, idle_timeout_secs),
                    )
                    .await?
            }
            None => {
                self.session_row(&id_hash, surface, now, idle_timeout_secs)
                    .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        let basis = Basis {
            version: row.principal_version,
            staff_user_id: row.staff_user_id.clone(),
            portal_user_id: row.portal_user_id.clone(),
            company_id: row.company_id.clone(),
        };
        let principal = match self.principals.get(&id_hash, &basis) {
            Some(principal) => Some(principal),
            None => {
                let principal = self.build_principal(surface, &row).await?.map(Arc::new);
                match &principal {
                    Some(p) => self.principals.put(&id_hash, basis, p.clone()),
                    None => self.principals.forget(&id_hash),
                }
                principal
            }
        };
        let Some(principal) = principal else {
            return Ok(None);
        };
        let view_as = match row.view_as_staff_id.as_deref() {
            None => None,
            // A view lasts only while its staff member may still see the company, and shows
            // no more than they may see themselves.
            Some(staff) => match self.viewer(staff, row.company_id.as_deref()).await? {
                Some((billing, audit)) => Some(portico_core::ViewAs {
                    staff_id: StaffUserId::from_stored(staff),
                    staff_name: row.view_as_by.clone(),
                    reason: row.view_as_reason.clone(),
                    ends_at: row.expires_at,
                    billing,
                    audit,
                    role: row.view_as_role.as_deref().and_then(PortalRole::parse),
                }),
                None => return Ok(None),
            },
        };
        Ok(Some(ResolvedSession {
            view_as,
            // Touched at most once a minute: a write per request would serialise every page.
            stale: now - row.last_seen_at >= 60,
            versions: SessionVersions {
                company: row.company_id.as_deref().map(CompanyId::from_stored),
                versions: [row.list_version, row.principal_version],
            },
            principal,
            csrf_token: row.csrf_token,
            id_hash,
        }))
    }

    /// The principal a live session row stands for, from the user, company, grant, site and
    /// section tables (see [`crate::principals`] for when it is built).
    async fn build_principal(
        &mut self,
        surface: SurfaceKind,
        row: &SessionRow,
    ) -> Result<Option<Principal>, StoreError> {
        Ok(
            match (
                surface,
                &row.staff_user_id,
                &row.portal_user_id,
                &row.company_id,
            ) {
                (SurfaceKind::Console, Some(staff), None, _) => {
                    self.staff_principal(StaffUserId::from_stored(staff))
                        .await?
                }
                (SurfaceKind::Portal, None, Some(user), Some(company)) => {
                    self.portal_principal(
                        PortalUserId::from_stored(user),
                        CompanyId::from_stored(company),
                    )
                    .await?
                }
                (SurfaceKind::Portal, None, None, Some(company))
                    if row.view_as_staff_id.is_some() =>
                {
                    match row.view_as_role.as_deref().and_then(PortalRole::parse) {
                        Some(role) => {
                            self.role_principal(
                                CompanyId::from_stored(company),
                                role,
                                row.view_as_own_only,
                                row.view_as_billing,
                            )
                            .await?
                        }
                        None => None,
                    }
                }
                _ => None,
            },
        )
    }

    pub(crate) async fn staff_principal(
        &mut self,
        id: StaffUserId,
    ) -> Result<Option<Principal>, StoreError> {
        let row: Option<(String, String, String, String)> = self
            .tx
            .optional(q!(
                "SELECT s.role, s.name, s.email, COALESCE(s.time_zone, w.time_zone) FROM staff_users s \
                 JOIN workspaces w ON w.id = s.workspace_id \
                 WHERE s.workspace_id = $1 AND s.id = $2 AND NOT s.disabled",
                self.workspace,
                id
            ))
            .await?;
        let Some((role, name, email, zone)) = row else {
            return Ok(None);
        };
        let Some(role) = StaffRole::parse(&role) else {
            return Ok(None);
        };
        let assigned: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT company_id FROM staff_assignments WHERE workspace_id = $1 AND staff_user_id = $2",
                self.workspace,
                id
            ))
            .await?;
        let assigned = assigned
            .iter()
            .map(|(c,)| CompanyId::from_stored(c))
            .collect();
        Ok(Some(
            Principal::Staff(StaffPrincipal::new(
                id,
                self.workspace,
                role,
                assigned,
                name,
                email,
            ))
            .with_zone(Zone::stored(&zone)),
        ))
    }

    /// Builds a portal principal acting for `company`: the user's home company or one they were
    /// granted, and only while that company's portal is enabled.
    pub(crate) async fn portal_principal(
        &mut self,
        id: PortalUserId,
        company: CompanyId,
    ) -> Result<Option<Principal>, StoreError> {
        let user: Option<PortalUserRow> = self
            .tx
            .optional(q!(
                "SELECT company_id, role, own_only, billing_access, name, email, time_zone FROM portal_users \
                 WHERE workspace_id = $1 AND id = $2 AND NOT disabled",
                self.workspace,
                id
            ))
            .await?;
        let Some(mut user) = user else {
            return Ok(None);
        };
        let home = CompanyId::from_stored(&user.company_id);
        let switchable = self.switchable_companies(id, home).await?;
        let Some((_, company_name)) = switchable.iter().find(|(c, _)| *c == company).cloned()
        else {
            return Ok(None);
        };
        let (role, sites) = if company == home {
            let sites: Vec<(String,)> = self
                .tx
                .all(q!(
                    "SELECT site_id FROM portal_user_sites WHERE workspace_id = $1 AND portal_user_id = $2",
                    self.workspace,
                    id
                ))
                .await?;
            let sites: Vec<SiteId> = sites.iter().map(|(s,)| SiteId::from_stored(s)).collect();
            (user.role, if sites.is_empty() { None } else { Some(sites) })
        } else {
            // Role and billing visibility are those granted for this company, not the home one.
            let (role, billing): (String, bool) = self
                .tx
                .one(q!(
                    "SELECT role, billing_access FROM portal_user_companies WHERE workspace_id = $1 \
                     AND portal_user_id = $2 AND company_id = $3",
                    self.workspace,
                    id,
                    company
                ))
                .await?;
            user.billing_access = billing;
            (role, None)
        };
        let Some(role) = PortalRole::parse(&role) else {
            return Ok(None);
        };
        let grant = PortalGrant {
            user_id: id,
            workspace_id: self.workspace,
            company_id: company,
            role,
            sites,
            own_only: user.own_only,
            billing: user.billing_access,
            client_admin_edits: false,
            sections: Vec::new(),
            name: user.name,
            email: user.email,
            company_name,
            switchable,
        };
        self.with_company_settings(grant, user.time_zone.as_deref())
            .await
            .map(Some)
    }

    /// A portal principal standing for any user of `role` at `company` with these settings, for a
    /// staff member viewing the portal as a role (C6): no particular person, so it requested no
    /// ticket, is restricted to no site, and acts for this company alone.
    async fn role_principal(
        &mut self,
        company: CompanyId,
        role: PortalRole,
        own_only: bool,
        billing: bool,
    ) -> Result<Option<Principal>, StoreError> {
        let company_name: Option<(String,)> = self
            .tx
            .optional(q!(
                "SELECT name FROM companies WHERE workspace_id = $1 AND id = $2 AND portal_enabled",
                self.workspace,
                company
            ))
            .await?;
        let Some((company_name,)) = company_name else {
            return Ok(None);
        };
        let grant = PortalGrant {
            // The nil id names nobody: no ticket, session or setting is ever this user's.
            user_id: PortalUserId::from_stored(""),
            workspace_id: self.workspace,
            company_id: company,
            role,
            sites: None,
            own_only,
            billing,
            client_admin_edits: false,
            sections: Vec::new(),
            name: role_view_name(role, own_only, billing),
            email: String::new(),
            company_name: company_name.clone(),
            switchable: vec![(company, company_name)],
        };
        self.with_company_settings(grant, None).await.map(Some)
    }

    /// Completes a portal principal with what its company and workspace decide: the sections
    /// shown, whether client admins edit records, what of a ticket the role sees, and the time
    /// zone (the user's own, else the company's, else the workspace's).
    async fn with_company_settings(
        &mut self,
        mut grant: PortalGrant,
        user_zone: Option<&str>,
    ) -> Result<Principal, StoreError> {
        let company = grant.company_id;
        grant.sections = effective_sections(&mut self.tx, self.workspace, company).await?;
        let (zone, client_admin_edits): (String, bool) = self
            .tx
            .one(q!(
                "SELECT COALESCE(c.time_zone, w.time_zone), c.client_admin_edits FROM companies c \
                 JOIN workspaces w ON w.id = c.workspace_id WHERE c.workspace_id = $1 AND c.id = $2",
                self.workspace,
                company
            ))
            .await?;
        grant.client_admin_edits = client_admin_edits;
        let zone = Zone::stored(user_zone.unwrap_or(&zone));
        let hidden: Vec<(String, String)> = self
            .tx
            .all(q!(
                "SELECT item, hidden_from FROM ticket_visibility WHERE workspace_id = $1",
                self.workspace
            ))
            .await?;
        let ticket_view = crate::scoped::ticket_visibility::view_for(grant.role, &hidden);
        Ok(
            Principal::Portal(PortalPrincipal::new(grant).with_ticket_view(ticket_view))
                .with_zone(zone),
        )
    }

    /// The home company and every granted company whose portal is enabled, by name.
    async fn switchable_companies(
        &mut self,
        id: PortalUserId,
        home: CompanyId,
    ) -> Result<Vec<(CompanyId, String)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .tx
            .all(q!(
                // A UNION rather than OR, so both halves use an index instead of scanning companies.
                "SELECT c.id, c.name FROM companies c WHERE c.workspace_id = $1 AND c.id = $2 AND c.portal_enabled \
                 UNION SELECT c.id, c.name FROM portal_user_companies g JOIN companies c \
                 ON c.workspace_id = g.workspace_id AND c.id = g.company_id \
                 WHERE g.workspace_id = $1 AND g.portal_user_id = $3 AND c.portal_enabled ORDER BY 2",
                self.workspace,
                home,
                id
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(c, n)| (CompanyId::from_stored(&c), n))
            .collect())
    }

    /// Points a portal session at another company the user may act for.
    pub async fn switch_company(
        &mut self,
        token: &str,
        user: PortalUserId,
        company: CompanyId,
    ) -> Result<(), StoreError> {
        let (home,): (String,) = self
            .tx
            .one(q!(
                "SELECT company_id FROM portal_users WHERE workspace_id = $1 AND id = $2",
                self.workspace,
                user
            ))
            .await?;
        let allowed = self
            .switchable_companies(user, CompanyId::from_stored(&home))
            .await?;
        if !allowed.iter().any(|(c, _)| *c == company) {
            return Err(StoreError::NotFound);
        }
        self.tx
            .exec(q!(
                "UPDATE sessions SET company_id = $1 WHERE id_hash = $2 AND portal_user_id = $3",
                company,
                token::hash(token),
                user
            ))
            .await?;
        Ok(())
    }

    /// Records activity on a session (for the idle timeout and the session list).
    pub async fn touch_session(&mut self, id_hash: &str) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND workspace_id = $3",
                now(),
                id_hash,
                self.workspace
            ))
            .await?;
        Ok(())
    }

    pub async fn end_session(&mut self, token: &str) -> Result<(), StoreError> {
        let id_hash = token::hash(token);
        self.tx
            .exec(q!(
                "DELETE FROM sessions WHERE id_hash = $1 AND workspace_id = $2",
                &id_hash,
                self.workspace
            ))
            .await?;
        // Only frees memory: without its row the session resolves to nobody anyway.
        self.principals.forget(&id_hash);
        Ok(())
    }

    /// Ends one session of `user`, named by its id hash (as [`AuthTx::sessions_of`] lists it);
    /// `NotFound` if it is not theirs or already over.
    pub async fn end_session_of(
        &mut self,
        user: SessionUser,
        id_hash: &str,
    ) -> Result<(), StoreError> {
        let mut query = Q::new("DELETE FROM sessions WHERE workspace_id = ");
        query
            .arg(self.workspace)
            .sql(" AND id_hash = ")
            .arg(id_hash);
        user_predicate(&mut query, user);
        if self.tx.exec(query).await? == 0 {
            return Err(StoreError::NotFound);
        }
        self.principals.forget(id_hash);
        Ok(())
    }

    /// Ends every session of `user` but the one holding `keep` (a token hash).
    pub async fn end_other_sessions(
        &mut self,
        user: SessionUser,
        keep: &str,
    ) -> Result<u64, StoreError> {
        let mut query = Q::new("DELETE FROM sessions WHERE workspace_id = ");
        query.arg(self.workspace).sql(" AND id_hash <> ").arg(keep);
        user_predicate(&mut query, user);
        self.tx.exec(query).await
    }

    /// The user's live sessions, newest activity first.
    pub async fn sessions_of(&mut self, user: SessionUser) -> Result<Vec<SessionInfo>, StoreError> {
        let mut query = Q::new(
            "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions WHERE workspace_id = ",
        );
        query
            .arg(self.workspace)
            .sql(" AND expires_at > ")
            .arg(now());
        user_predicate(&mut query, user);
        query.sql(" ORDER BY last_seen_at DESC");
        self.tx.all(query).await
    }

    /// Changes the user's password after checking the current one.
    pub async fn change_password(
        &mut self,
        user: SessionUser,
        current: &str,
        new: &str,
    ) -> Result<(), StoreError> {
        self.check_password(user, current, "The current password is not correct.")
            .await?;
        password::check_strength(new).map_err(StoreError::Invalid)?;
        self.set_password(user, new).await
    }

    async fn set_password(&mut self, user: SessionUser, new: &str) -> Result<(), StoreError> {
        let (table, id) = user_table(user);
        let hash = password::hash_in_turn(new).await?;
        // Outstanding invitation and reset links stop working once a password is chosen.
        let mut revoke = Q::new("UPDATE one_time_tokens SET used_at = ");
        revoke
            .arg(now())
            .sql(" WHERE used_at IS NULL AND workspace_id = ")
            .arg(self.workspace);
        user_predicate(&mut revoke, user);
        self.tx.exec(revoke).await?;
        self.tx
            .exec(Q::with(
                &format!(
                    "UPDATE {table} SET password_hash = $1 WHERE workspace_id = $2 AND id = $3"
                ),
                vec![hash.into(), self.workspace.into(), id.into()],
            ))
            .await?;
        Ok(())
    }

    /// The user a still-valid one-time token belongs to, without using it up (to show the form).
    pub async fn peek_token(
        &mut self,
        token: &str,
        purpose: OneTimePurpose,
    ) -> Result<Option<SessionUser>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = self
            .tx
            .optional(q!(
                "SELECT staff_user_id, portal_user_id FROM one_time_tokens WHERE token_hash = $1 AND workspace_id = $2 \
                 AND purpose = $3 AND used_at IS NULL AND expires_at > $4",
                token::hash(token),
                self.workspace,
                purpose.as_str(),
                now()
            ))
            .await?;
        Ok(row.and_then(|(staff, portal)| match (staff, portal) {
            (Some(s), None) => Some(SessionUser::Staff(StaffUserId::from_stored(&s))),
            (None, Some(p)) => Some(SessionUser::Portal(PortalUserId::from_stored(&p))),
            _ => None,
        }))
    }

    /// Uses up a one-time token and sets the user's password. The password is checked first so
    /// that a refused password leaves the token usable; a token works once.
    pub async fn redeem_token(
        &mut self,
        token: &str,
        purpose: OneTimePurpose,
        new_password: &str,
    ) -> Result<SessionUser, StoreError> {
        password::check_strength(new_password).map_err(StoreError::Invalid)?;
        let user = self
            .peek_token(token, purpose)
            .await?
            .ok_or(StoreError::NotFound)?;
        let used = self
            .tx
            .exec(q!(
                "UPDATE one_time_tokens SET used_at = $1 WHERE token_hash = $2 AND workspace_id = $3 AND used_at IS NULL",
                now(),
                token::hash(token),
                self.workspace
            ))
            .await?;
        if used != 1 {
            return Err(StoreError::NotFound);
        }
        self.set_password(user, new_password).await?;
        // A password reset ends every session the old password opened.
        let mut query = Q::new("DELETE FROM sessions WHERE workspace_id = ");
        query.arg(self.workspace);
        user_predicate(&mut query, user);
        self.tx.exec(query).await?;
        Ok(user)
    }

    /// Starts a password reset for an enabled account with this e-mail on `surface`. Returns the
    /// token, address and name to write to, or `None` (the caller answers the same either way).
    ///
    /// Only for accounts that have a password: one still waiting on its invitation is taken up
    /// through the invitation alone, so that revoking an invitation cannot be routed around.
    pub async fn start_reset(
        &mut self,
        surface: SurfaceKind,
        email: &str,
        ttl_secs: i64,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        let table = match surface {
            SurfaceKind::Console => "staff_users",
            SurfaceKind::Portal => "portal_users",
        };
        let row: Option<(String, String, String)> = self
            .tx
            .optional(Q::with(
                &format!(
                    "SELECT id, email, name FROM {table} WHERE workspace_id = $1 AND lower(email) = $2 AND NOT disabled \
                     AND password_hash IS NOT NULL"
                ),
                vec![self.workspace.into(), email.trim().to_lowercase().into()],
            ))
            .await?;
        let Some((id, address, name)) = row else {
            return Ok(None);
        };
        let user = match surface {
            SurfaceKind::Console => SessionUser::Staff(StaffUserId::from_stored(&id)),
            SurfaceKind::Portal => SessionUser::Portal(PortalUserId::from_stored(&id)),
        };
        let token = issue_token(
            &mut self.tx,
            self.workspace,
            OneTimePurpose::Reset,
            user,
            ttl_secs,
        )
        .await?;
        Ok(Some((token, address, name)))
    }

    /// Queues an e-mail in the outbox.
    pub async fn queue_mail(
        &mut self,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        crate::scoped::outbox::push(&mut self.tx, self.workspace, None, to, subject, body).await
    }
}

pub(crate) fn user_table(user: SessionUser) -> (&'static str, String) {
    match user {
        SessionUser::Staff(id) => ("staff_users", id.as_text()),
        SessionUser::Portal(id) => ("portal_users", id.as_text()),
    }
}

pub(crate) fn user_predicate(query: &mut Q, user: SessionUser) {
    match user {
        SessionUser::Staff(id) => query.sql(" AND staff_user_id = ").arg(id),
        SessionUser::Portal(id) => query.sql(" AND portal_user_id = ").arg(id),
    };
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Writes a single-use token for `user` and returns it; only its hash is stored. Earlier
/// unused tokens of the same purpose for the same user stop working.
pub(crate) async fn issue_token(
    tx: &mut Tx,
    workspace: WorkspaceId,
    purpose: OneTimePurpose,
    user: SessionUser,
    ttl_secs: i64,
) -> Result<String, StoreError> {
    let now = now();
    let (staff, portal) = match user {
        SessionUser::Staff(id) => (Some(id), None),
        SessionUser::Portal(id) => (None, Some(id)),
    };
    let mut revoke = Q::new("UPDATE one_time_tokens SET used_at = ");
    revoke
        .arg(now)
        .sql(" WHERE used_at IS NULL AND workspace_id = ")
        .arg(workspace);
    revoke.sql(" AND purpose = ").arg(purpose.as_str());
    user_predicate(&mut revoke, user);
    tx.exec(revoke).await?;
    let token = token::generate();
    tx.exec(q!(
        "INSERT INTO one_time_tokens (token_hash, workspace_id, purpose, staff_user_id, portal_user_id, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        token::hash(&token),
        workspace,
        purpose.as_str(),
        staff,
        portal,
        now,
        now + ttl_secs
    ))
    .await?;
    Ok(token)
}

/// The sections enabled for a company with their effective labels: the company's override,
/// else the workspace default, else the product default. The caller has checked that the
/// company's portal is on (only such companies are among a user's switchable ones).
async fn effective_sections(
    tx: &mut Tx,
    workspace: WorkspaceId,
    company: CompanyId,
) -> Result<Vec<(Section, String)>, StoreError> {
    // Read while the principal is being built, before there is a scope to fence by.
    let query = q!(
        &format!(
            "SELECT {} FROM workspace_section_defaults d LEFT JOIN company_section_settings o \
             ON o.workspace_id = d.workspace_id AND o.company_id = $2 AND o.section = d.section \
             WHERE d.workspace_id = $1",
            crate::scoped::portal_settings::SECTION_COLUMNS
        ),
        workspace,
        company
    );
    let settings = crate::scoped::portal_settings::read_section_settings(tx, query).await?;
    Ok(settings
        .into_iter()
        .filter(|s| s.enabled)
        .map(|s| (s.section, s.label))
        .collect())
}

impl AuthTx {
    /// Issues an invitation link for a staff user (the command line's `user add`).
    pub async fn invite_staff(&mut self, user: StaffUserId) -> Result<String, StoreError> {
        issue_token(
            &mut self.tx,
            self.workspace,
            OneTimePurpose::Invite,
            SessionUser::Staff(user),
            crate::scoped::portal_users::INVITE_TTL_SECS,
        )
        .await
    }
}

/// The audit log of sign-in flows (A4): who signed in or out, failed, or changed their
/// password, on their company's chain for a portal user (its client admins see attempts on
/// their people's accounts) and on the workspace's for staff.
impl AuthTx {
    /// Records what `user` did, in this transaction.
    pub async fn audit_account(
        &mut self,
        user: SessionUser,
        action: portico_core::AuditAction,
        origin: &portico_core::Origin,
        detail: &str,
    ) -> Result<(), StoreError> {
        let (name, email, company) = self.account(user).await?;
        let actor = crate::audit::EntryActor {
            kind: match user {
                SessionUser::Staff(_) => "staff",
                SessionUser::Portal(_) => "portal",
            },
            id: user_table(user).1,
            name: name.clone(),
        };
        let target = portico_core::AuditTarget::new(
            match user {
                SessionUser::Staff(_) => "staff_user",
                SessionUser::Portal(_) => "portal_user",
            },
            user_table(user).1,
            email,
        );
        let entry = crate::audit::Pending::new(
            self.workspace,
            company,
            actor,
            action,
            target,
            detail,
            origin,
        );
        crate::audit::append(&mut self.tx, &self.audit, &entry).await
    }

    /// Records an attempt by someone not signed in (a failed sign-in, a reset asked for) at
    /// the address they typed: on the account's chain when the address is an account's.
    pub async fn audit_attempt(
        &mut self,
        surface: SurfaceKind,
        email: &str,
        action: portico_core::AuditAction,
        origin: &portico_core::Origin,
        detail: &str,
    ) -> Result<(), StoreError> {
        let typed = truncate(email.trim(), 200);
        let (table, company) = match surface {
            SurfaceKind::Console => ("staff_users", "NULL"),
            SurfaceKind::Portal => ("portal_users", "company_id"),
        };
        let mut query = Q::new(&format!(
            "SELECT id, {company} FROM {table} WHERE workspace_id = "
        ));
        query
            .arg(self.workspace)
            .sql(" AND lower(email) = ")
            .arg(typed.to_lowercase());
        let account: Option<(String, Option<String>)> = self.tx.optional(query).await?;
        let (target, company) = match account {
            Some((id, company)) => (
                portico_core::AuditTarget::new(
                    match surface {
                        SurfaceKind::Console => "staff_user",
                        SurfaceKind::Portal => "portal_user",
                    },
                    id,
                    typed.clone(),
                ),
                company.as_deref().map(CompanyId::from_stored),
            ),
            None => (
                portico_core::AuditTarget::new("address", "", typed.clone()),
                None,
            ),
        };
        let entry = crate::audit::Pending::new(
            self.workspace,
            company,
            crate::audit::EntryActor::anonymous(&typed),
            action,
            target,
            detail,
            origin,
        );
        crate::audit::append(&mut self.tx, &self.audit, &entry).await
    }

    /// The account's name, e-mail address and (portal users) company.
    pub(crate) async fn account(
        &mut self,
        user: SessionUser,
    ) -> Result<(String, String, Option<CompanyId>), StoreError> {
        let (table, id) = user_table(user);
        let company = match user {
            SessionUser::Staff(_) => "NULL",
            SessionUser::Portal(_) => "company_id",
        };
        let mut query = Q::new(&format!(
            "SELECT name, email, {company} FROM {table} WHERE workspace_id = "
        ));
        query.arg(self.workspace).sql(" AND id = ").arg(id.as_str());
        let (name, email, company): (String, String, Option<String>) =
            self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        Ok((name, email, company.as_deref().map(CompanyId::from_stored)))
    }
}

impl AuthTx {
    /// A viewing staff member's rights now: `None` when they are disabled or no longer serve
    /// `company`; else whether they see money and read the audit log (owners both).
    async fn viewer(
        &mut self,
        staff: &str,
        company: Option<&str>,
    ) -> Result<Option<(bool, bool)>, StoreError> {
        let row: Option<(String, bool)> = self
            .tx
            .optional(q!(
                "SELECT role, disabled FROM staff_users WHERE workspace_id = $1 AND id = $2",
                self.workspace,
                staff
            ))
            .await?;
        let Some((role, disabled)) = row else {
            return Ok(None);
        };
        let role = StaffRole::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("staff role {role:?}")))?;
        if disabled || !matches!(role, StaffRole::Owner | StaffRole::Technician) {
            return Ok(None);
        }
        if role == StaffRole::Technician {
            let assigned = self
                .tx
                .count(q!(
                    "SELECT COUNT(*) FROM staff_assignments \
                     WHERE workspace_id = $1 AND staff_user_id = $2 AND company_id = $3",
                    self.workspace,
                    staff,
                    company.unwrap_or("")
                ))
                .await?;
            if assigned == 0 {
                return Ok(None);
            }
        }
        let owner = role == StaffRole::Owner;
        Ok(Some((owner, owner)))
    }
}

/// The session a view-as hand-over opened.
pub struct ViewAsSession {
    /// For the portal's session cookie.
    pub token: String,
    pub company: CompanyId,
}

/// A view-as hand-over: of one portal user, or of a role with the user settings chosen.
struct HandoffRow {
    company_id: String,
    portal_user_id: Option<String>,
    role: Option<String>,
    own_only: bool,
    billing_access: bool,
    staff_user_id: String,
    staff_name: String,
    reason: String,
}
crate::sql::db_row!(HandoffRow {
    company_id,
    portal_user_id,
    role,
    own_only,
    billing_access,
    staff_user_id,
    staff_name,
    reason
});

/// How a role viewed as is named (the banner, the audit log): "any Member (own tickets only)".
pub(crate) fn role_view_name(role: PortalRole, own_only: bool, billing: bool) -> String {
    let mut settings = Vec::new();
    if own_only {
        settings.push("own tickets only");
    }
    if billing {
        settings.push("with plan and invoices");
    }
    if settings.is_empty() {
        format!("any {}", role.label())
    } else {
        format!("any {} ({})", role.label(), settings.join(", "))
    }
}

impl AuthTx {
    /// Redeems a view-as hand-over made on the console (once, within its minute): opens a
    /// read-only portal session of the user that names who is viewing and why, ending at the
    /// latest [`portico_core::ViewAs::MAX_SECS`] from now.
    pub async fn redeem_view_as(
        &mut self,
        handoff: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<ViewAsSession, StoreError> {
        let at = now();
        let row: Option<HandoffRow> = self
            .tx
            .optional(q!(
                "UPDATE view_as_handoffs SET used_at = $1 \
                 WHERE token_hash = $2 AND workspace_id = $3 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING company_id, portal_user_id, role, own_only, billing_access, staff_user_id, \
                 staff_name, reason",
                at,
                token::hash(handoff),
                self.workspace
            ))
            .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let token = token::generate();
        self.tx
            .exec(q!(
                "INSERT INTO sessions (id_hash, workspace_id, surface, staff_user_id, portal_user_id, company_id, \
                 csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, view_as_staff_id, \
                 view_as_by, view_as_reason, view_as_role, view_as_own_only, view_as_billing) \
                 VALUES ($1, $2, 'portal', NULL, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                token::hash(&token),
                self.workspace,
                row.portal_user_id.clone(),
                &row.company_id,
                token::generate(),
                at,
                at + portico_core::ViewAs::MAX_SECS,
                ip,
                truncate(user_agent, 300),
                &row.staff_user_id,
                &row.staff_name,
                &row.reason,
                row.role.clone(),
                row.own_only,
                row.billing_access
            ))
            .await?;
        Ok(ViewAsSession {
            token,
            company: CompanyId::from_stored(&row.company_id),
        })
    }
}
