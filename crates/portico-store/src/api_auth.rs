//! Resolving an API token to the scope its requests run in ([`crate::scoped::api_tokens`]
//! makes and lists them).

use std::sync::Arc;

use portico_core::{
    ApiTokenId, AuditAction, AuditTarget, CompanyId, Origin, Principal, Scope, StaffRole,
    StaffUserId,
};

use crate::auth::AuthTx;
use crate::principals::Basis;
use crate::scoped::api_tokens::{ApiAccess, TOKEN_PREFIX};
use crate::sql::q;
use crate::{StoreError, now, token};

/// A token's use is recorded (and its last use shown) at most this often.
const USE_RECORDED_EVERY_SECS: i64 = 60;

/// Who an API request acts for, and within what.
pub struct ApiCaller {
    pub token_id: ApiTokenId,
    pub name: String,
    pub company: Option<CompanyId>,
    pub access: ApiAccess,
    pub expires_at: i64,
    /// The owner who made the token.
    pub principal: Arc<Principal>,
    /// The owner's scope narrowed by the token: its company, read-only unless it may write.
    pub scope: Scope,
    last_used_at: Option<i64>,
}

impl ApiCaller {
    /// Whether this use is to be recorded ([`AuthTx::record_api_token_use`]): at most once a
    /// minute per token.
    pub fn use_due(&self) -> bool {
        self.last_used_at
            .is_none_or(|at| at + USE_RECORDED_EVERY_SECS <= now())
    }
}

struct TokenRow {
    id: String,
    name: String,
    company_id: Option<String>,
    access: String,
    created_by: String,
    expires_at: i64,
    last_used_at: Option<i64>,
    principal_version: i64,
}
crate::sql::db_row!(TokenRow {
    id,
    name,
    company_id,
    access,
    created_by,
    expires_at,
    last_used_at,
    principal_version
});

/// A live token's row by its hash, with the workspace's principal version.
fn token_lookup(token_hash: &str, workspace: portico_core::WorkspaceId, now: i64) -> crate::sql::Q {
    q!(
        "SELECT t.id, t.name, t.company_id, t.access, t.created_by, t.expires_at, t.last_used_at, \
         COALESCE((SELECT v.version FROM principal_versions v WHERE v.workspace_id = $2), 0) \
         AS principal_version FROM api_tokens t \
         WHERE t.token_hash = $1 AND t.workspace_id = $2 AND t.revoked_at IS NULL AND t.expires_at > $3",
        token_hash,
        workspace,
        now
    )
}

impl AuthTx {
    /// The caller behind a bearer token, if it is one of this workspace's, neither revoked nor
    /// expired, and its owner is still an enabled owner. Only reads: the token's row in one
    /// statement of its own when no transaction has begun (every request's case), then the
    /// owner's principal unless it is kept; the use is recorded apart
    /// ([`AuthTx::record_api_token_use`]) when [`ApiCaller::use_due`] says so.
    pub async fn resolve_api_token(
        &mut self,
        bearer: &str,
        origin: &Origin,
    ) -> Result<Option<ApiCaller>, StoreError> {
        let well_formed = bearer
            .strip_prefix(TOKEN_PREFIX)
            .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Ok(None);
        }
        let now = now();
        let token_hash = token::hash(bearer);
        let row: Option<TokenRow> = match (self.tx.unstarted_postgres(), self.tx.unstarted_sqlite())
        {
            // PostgreSQL, no transaction begun: one statement on a lookup connection, which
            // holds the sign-in fence already (`pg_lane`): one round trip (two when the connection
            // last served another workspace).
            (Some(lookups), _) => {
                lookups
                    .optional(
                        &self.workspace.as_text(),
                        &token_lookup(&token_hash, self.workspace, now),
                    )
                    .await?
            }
            // SQLite, no transaction begun: one statement is its own read transaction, which
            // saves a BEGIN and a COMMIT on every request (as a session's lookup). Building
            // the owner's principal, when it is not kept, begins the transaction then.
            (None, Some(pool)) => {
                crate::sql::Tx::SqliteAuto(pool.clone())
                    .optional(token_lookup(&token_hash, self.workspace, now))
                    .await?
            }
            (None, None) => {
                self.tx
                    .optional(token_lookup(&token_hash, self.workspace, now))
                    .await?
            }
        };
        let Some(row) = row else {
            return Ok(None);
        };
        // The owner's principal as sessions keep theirs: rebuilt only when the workspace's
        // principal version moved (a role, an assignment or the owner's account changed), so
        // that a request reads one row before its own work.
        let basis = Basis {
            version: row.principal_version,
            staff_user_id: Some(row.created_by.clone()),
            portal_user_id: None,
            company_id: None,
        };
        let principal = match self.principals.get(&token_hash, &basis) {
            Some(principal) => principal,
            None => match self
                .staff_principal(StaffUserId::from_stored(&row.created_by))
                .await?
            {
                Some(principal) => {
                    let principal = Arc::new(principal);
                    self.principals.put(&token_hash, basis, principal.clone());
                    principal
                }
                None => {
                    self.principals.forget(&token_hash);
                    return Ok(None);
                }
            },
        };
        let Principal::Staff(owner) = principal.as_ref() else {
            return Ok(None);
        };
        if owner.role() != StaffRole::Owner {
            return Ok(None);
        }
        let access = ApiAccess::parse(&row.access)
            .ok_or_else(|| StoreError::Corrupt(format!("token access {:?}", row.access)))?;
        let company = row.company_id.as_deref().map(CompanyId::from_stored);
        let scope = Scope::of(principal.as_ref())
            .from_origin(origin.clone())
            .through_api_token(&row.name, company, access == ApiAccess::Read);
        let token_id = ApiTokenId::from_stored(&row.id);
        Ok(Some(ApiCaller {
            token_id,
            name: row.name,
            company,
            access,
            expires_at: row.expires_at,
            principal,
            scope,
            last_used_at: row.last_used_at,
        }))
    }

    /// Records that `caller` used its token from `origin`: the time and address shown on the
    /// tokens page, and an entry in the audit log. Once a minute per token, however many
    /// instances race to record it.
    pub async fn record_api_token_use(
        &mut self,
        caller: &ApiCaller,
        origin: &Origin,
    ) -> Result<(), StoreError> {
        let now = now();
        let recorded = self
            .tx
            .exec(q!(
                "UPDATE api_tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3 AND workspace_id = $4 \
                 AND (last_used_at IS NULL OR last_used_at <= $5)",
                now,
                origin.ip.map(|ip| ip.to_string()).unwrap_or_default(),
                caller.token_id,
                self.workspace,
                now - USE_RECORDED_EVERY_SECS
            ))
            .await?;
        if recorded == 0 {
            return Ok(());
        }
        let entry = crate::audit::entry_of(
            &caller.scope,
            true,
            AuditAction::ApiTokenUsed,
            caller.company,
            AuditTarget::new("api_token", caller.token_id, caller.name.clone()),
            "",
        )?;
        crate::audit::append(&mut self.tx, &self.audit, &entry).await
    }
}
