//! API tokens (C9): an owner makes one for the workspace or one company, read or read-write,
//! with an expiry. The token is shown once and kept as its SHA-256 only; it acts for the owner
//! who made it, never beyond what they may do, and stops working when revoked, expired, or when
//! that owner is disabled or no longer an owner ([`crate::AuthTx::resolve_api_token`]).

use portico_core::{Action, ApiTokenId, AuditAction, AuditTarget, CompanyId};

use crate::scoped::{ScopedTx, fence};
use crate::{StoreError, now, token};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiAccess {
    Read,
    ReadWrite,
}

impl ApiAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiAccess::Read => "read",
            ApiAccess::ReadWrite => "read_write",
        }
    }
    pub fn parse(text: &str) -> Option<ApiAccess> {
        match text {
            "read" => Some(ApiAccess::Read),
            "read_write" => Some(ApiAccess::ReadWrite),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ApiAccess::Read => "Read only",
            ApiAccess::ReadWrite => "Read and write",
        }
    }
}

/// The lifetimes a token may be given, in days.
pub const LIFETIMES: &[i64] = &[7, 30, 90, 365];

/// Every token begins so, which lets secret scanners recognise a leaked one.
pub const TOKEN_PREFIX: &str = "portico_";

/// A token as the owners' list shows it (never the token itself).
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub company: Option<(CompanyId, String)>,
    pub access: ApiAccess,
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub last_used_ip: String,
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// In force: neither revoked nor expired.
    pub fn active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

struct Row {
    id: String,
    name: String,
    company_id: Option<String>,
    company_name: Option<String>,
    access: String,
    prefix: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    last_used_at: Option<i64>,
    last_used_ip: String,
    revoked_at: Option<i64>,
}
crate::sql::db_row!(Row {
    id,
    name,
    company_id,
    company_name,
    access,
    prefix,
    created_by,
    created_at,
    expires_at,
    last_used_at,
    last_used_ip,
    revoked_at
});

/// A new token's details, as an owner typed them.
pub struct NewApiToken<'a> {
    pub name: &'a str,
    pub company: Option<CompanyId>,
    pub access: Option<ApiAccess>,
    pub lifetime_days: Option<i64>,
}

/// Which of the workspace's tokens a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiTokenState {
    /// In force: neither revoked nor expired.
    #[default]
    Active,
    /// Revoked or expired: kept for the record.
    Ended,
    All,
}

impl ApiTokenState {
    pub fn parse(text: &str) -> Option<ApiTokenState> {
        match text {
            "active" => Some(ApiTokenState::Active),
            "ended" => Some(ApiTokenState::Ended),
            "all" => Some(ApiTokenState::All),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ApiTokenState::Active => "active",
            ApiTokenState::Ended => "ended",
            ApiTokenState::All => "all",
        }
    }
}

/// A page of tokens: which, matching what, and after which (keyset paging: `before` is the
/// creation time and id of the previous page's last token).
#[derive(Debug, Clone)]
pub struct ApiTokenQuery {
    pub state: ApiTokenState,
    /// Words that must each appear in the token's name or (four characters or more) its
    /// visible prefix.
    pub search: String,
    pub before: Option<(i64, ApiTokenId)>,
    pub limit: i64,
}

impl ScopedTx<'_> {
    /// A page of the workspace's tokens matching `filter`, newest first.
    pub async fn api_tokens(
        &mut self,
        filter: &ApiTokenQuery,
    ) -> Result<Vec<ApiToken>, StoreError> {
        self.scope.may(Action::ManageApiTokens)?;
        let mut query = self.select_joined(
            "t.id, t.name, t.company_id, c.name AS company_name, t.access, t.prefix, \
             s.name AS created_by, t.created_at, t.expires_at, t.last_used_at, t.last_used_ip, t.revoked_at",
            &fence::API_TOKENS,
            "t",
            " JOIN staff_users s ON s.workspace_id = t.workspace_id AND s.id = t.created_by \
             LEFT JOIN companies c ON c.workspace_id = t.workspace_id AND c.id = t.company_id",
        );
        let at = now();
        match filter.state {
            ApiTokenState::Active => {
                query
                    .sql(" AND t.revoked_at IS NULL AND t.expires_at > ")
                    .arg(at);
            }
            ApiTokenState::Ended => {
                query
                    .sql(" AND (t.revoked_at IS NOT NULL OR t.expires_at <= ")
                    .arg(at)
                    .sql(")");
            }
            ApiTokenState::All => {}
        }
        // Case-insensitive: SQLite's LIKE folds ASCII, PostgreSQL's ILIKE Unicode.
        let like = if self.tx.is_postgres() {
            " ILIKE "
        } else {
            " LIKE "
        };
        for word in filter.search.split_whitespace().take(5) {
            let pattern = query.placeholder(crate::scoped::contains_pattern(word));
            // The prefix is hex: a word too short to be pasted from one (a "5") would match
            // most of them.
            if word.chars().count() >= 4 {
                query.sql(&format!(
                    " AND (t.name{like}{pattern} ESCAPE '\\' OR t.prefix{like}{pattern} ESCAPE '\\')"
                ));
            } else {
                query.sql(&format!(" AND t.name{like}{pattern} ESCAPE '\\'"));
            }
        }
        if let Some((created, id)) = filter.before {
            query
                .sql(" AND (t.created_at < ")
                .arg(created)
                .sql(" OR (t.created_at = ")
                .arg(created)
                .sql(" AND t.id < ")
                .arg(id)
                .sql("))");
        }
        query
            .sql(" ORDER BY t.created_at DESC, t.id DESC LIMIT ")
            .arg(filter.limit.clamp(1, 200));
        let rows: Vec<Row> = self.tx.all(query).await?;
        rows.into_iter()
            .map(|r| {
                Ok(ApiToken {
                    id: ApiTokenId::from_stored(&r.id),
                    name: r.name,
                    company: r.company_id.map(|id| {
                        (
                            CompanyId::from_stored(&id),
                            r.company_name.unwrap_or_default(),
                        )
                    }),
                    access: ApiAccess::parse(&r.access).ok_or_else(|| {
                        StoreError::Corrupt(format!("token access {:?}", r.access))
                    })?,
                    prefix: r.prefix,
                    created_by: r.created_by,
                    created_at: r.created_at,
                    expires_at: r.expires_at,
                    last_used_at: r.last_used_at,
                    last_used_ip: r.last_used_ip,
                    revoked_at: r.revoked_at,
                })
            })
            .collect()
    }

    /// Makes a token and returns it: the only time it is ever seen.
    pub async fn create_api_token(&mut self, new: &NewApiToken<'_>) -> Result<String, StoreError> {
        self.scope.may(Action::ManageApiTokens)?;
        let portico_core::Actor::Staff(owner) = self.scope.actor() else {
            return Err(StoreError::Forbidden);
        };
        let mut errors = Vec::new();
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            errors.push((
                "name".to_owned(),
                "Name the token after what uses it (at most 80 characters), e.g. “Backup reports”."
                    .to_owned(),
            ));
        }
        if let Some(company) = new.company
            && self.visible_company(company).await.is_err()
        {
            errors.push((
                "company".to_owned(),
                "Choose a company of this workspace.".to_owned(),
            ));
        }
        if new.access.is_none() {
            errors.push((
                "access".to_owned(),
                "Choose what the token may do.".to_owned(),
            ));
        }
        let lifetime = new.lifetime_days.filter(|d| LIFETIMES.contains(d));
        if lifetime.is_none() {
            errors.push((
                "lifetime".to_owned(),
                "Choose when the token expires.".to_owned(),
            ));
        }
        let (Some(access), Some(days), true) = (new.access, lifetime, errors.is_empty()) else {
            return Err(StoreError::InvalidFields(errors));
        };
        let secret = format!("{TOKEN_PREFIX}{}", token::generate());
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let id = ApiTokenId::new();
        let now = now();
        self.tx
            .exec(crate::sql::q!(
                "INSERT INTO api_tokens (id, workspace_id, name, company_id, access, token_hash, prefix, created_by, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                id,
                self.scope.workspace(),
                name,
                new.company,
                access.as_str(),
                token::hash(&secret),
                &prefix,
                owner,
                now,
                now + days * 86_400
            ))
            .await?;
        self.audit(
            AuditAction::ApiTokenCreated,
            new.company,
            AuditTarget::new("api_token", id, name),
            &format!("{}, {} days, {prefix}…", access.label(), days),
        )
        .await?;
        Ok(secret)
    }

    /// Revokes a token at once; `NotFound` for one of another workspace or none.
    pub async fn revoke_api_token(&mut self, id: ApiTokenId) -> Result<(), StoreError> {
        self.scope.may(Action::ManageApiTokens)?;
        let mut query = self.select(
            "t.name, t.company_id, t.revoked_at",
            &fence::API_TOKENS,
            "t",
        );
        query.sql(" AND t.id = ").arg(id);
        let row: Option<(String, Option<String>, Option<i64>)> = self.tx.optional(query).await?;
        let Some((name, company, revoked)) = row else {
            return Err(StoreError::NotFound);
        };
        if revoked.is_some() {
            return Ok(());
        }
        let mut update = self.update(&fence::API_TOKENS, |set| {
            set.sql("revoked_at = ").arg(now());
        });
        update.sql(" AND id = ").arg(id);
        self.tx.exec(update).await?;
        self.audit(
            AuditAction::ApiTokenRevoked,
            company.as_deref().map(CompanyId::from_stored),
            AuditTarget::new("api_token", id, name),
            "",
        )
        .await
    }
}
