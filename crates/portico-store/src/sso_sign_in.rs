//! Signing in through the workspace's OpenID Connect provider (A3), the store's part: the
//! provider's settings for the sign-in flow, the sign-in in flight, and the account a verified
//! e-mail address opens. The protocol itself (discovery, PKCE, the ID token's checks) is the web
//! layer's, through the `openidconnect` crate.

use portico_core::{CompanyId, PortalRole, PortalUserId, StaffUserId};

use crate::auth::{AuthTx, SessionUser};
use crate::public::SurfaceKind;
use crate::sql::q;
use crate::{StoreError, now, token};

/// How long a person may take at the provider.
pub const SSO_LOGIN_TTL_SECS: i64 = 10 * 60;

/// The provider as the sign-in flow needs it, secret opened.
#[derive(Clone)]
pub struct SsoProvider {
    pub display_name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for SsoProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoProvider")
            .field("display_name", &self.display_name)
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A sign-in in flight, taken back when the provider returns the person.
pub struct SsoLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

/// The account a verified address opens, or why none does.
#[derive(Debug, PartialEq, Eq)]
pub enum SsoAccount {
    User(SessionUser),
    /// A portal user made now, at a domain exactly one company that requires single sign-on
    /// owns.
    Created(SessionUser),
    /// No account, and (portal) no company owns the address's domain, or several do.
    NoAccount,
    /// The portal user's company does not own the address's domain.
    OtherDomain,
    Disabled,
}

impl AuthTx {
    /// The workspace's provider, if it serves `surface`.
    pub async fn sso_provider(
        &mut self,
        surface: SurfaceKind,
    ) -> Result<Option<SsoProvider>, StoreError> {
        let column = match surface {
            SurfaceKind::Console => "for_staff",
            SurfaceKind::Portal => "for_portal",
        };
        let row: Option<(String, String, String, String)> = self
            .tx
            .optional(q!(
                &format!(
                    "SELECT display_name, issuer_url, client_id, client_secret_sealed FROM sso_providers \
                     WHERE workspace_id = $1 AND {column}"
                ),
                self.workspace
            ))
            .await?;
        let Some((display_name, issuer_url, client_id, sealed)) = row else {
            return Ok(None);
        };
        let secret = self.audit.sealer().open(
            &crate::scoped::sso::secret_context(&self.workspace.as_text()),
            &sealed,
        )?;
        Ok(Some(SsoProvider {
            display_name,
            issuer_url,
            client_id,
            client_secret: String::from_utf8(secret)
                .map_err(|_| StoreError::Corrupt("an SSO client secret is not text".into()))?,
        }))
    }

    /// The name on the sign-in page's button, if the workspace's provider serves `surface`
    /// (read without opening the client secret: every sign-in page shows it).
    pub async fn sso_button(&mut self, surface: SurfaceKind) -> Result<Option<String>, StoreError> {
        let column = match surface {
            SurfaceKind::Console => "for_staff",
            SurfaceKind::Portal => "for_portal",
        };
        let row: Option<(String,)> = self
            .tx
            .optional(q!(
                &format!(
                    "SELECT display_name FROM sso_providers WHERE workspace_id = $1 AND {column}"
                ),
                self.workspace
            ))
            .await?;
        Ok(row.map(|(name,)| name))
    }

    fn login_context(&self, state: &str) -> String {
        format!("sso-login:{}:{}", self.workspace, token::hash(state))
    }

    /// Keeps a sign-in in flight under its `state` until the provider sends the person back.
    pub async fn begin_sso(
        &mut self,
        surface: SurfaceKind,
        state: &str,
        nonce: &str,
        pkce_verifier: &str,
        next: &str,
    ) -> Result<(), StoreError> {
        let context = self.login_context(state);
        let sealer = self.audit.sealer();
        let now = now();
        self.tx
            .exec(q!(
                "INSERT INTO sso_logins (state_hash, workspace_id, surface, nonce_sealed, pkce_verifier_sealed, next_path, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                token::hash(state),
                self.workspace,
                surface.as_str(),
                sealer.seal(&context, nonce.as_bytes()),
                sealer.seal(&context, pkce_verifier.as_bytes()),
                next.chars().take(500).collect::<String>(),
                now,
                now + SSO_LOGIN_TTL_SECS
            ))
            .await?;
        Ok(())
    }

    /// Takes the sign-in in flight under `state`: once, within its time, on its surface.
    pub async fn take_sso(
        &mut self,
        surface: SurfaceKind,
        state: &str,
    ) -> Result<Option<SsoLogin>, StoreError> {
        let now = now();
        let taken = self
            .tx
            .exec(q!(
                "UPDATE sso_logins SET used_at = $1 WHERE state_hash = $2 AND workspace_id = $3 AND surface = $4 \
                 AND used_at IS NULL AND expires_at > $1",
                now,
                token::hash(state),
                self.workspace,
                surface.as_str()
            ))
            .await?;
        if taken != 1 {
            return Ok(None);
        }
        let (nonce, verifier, next): (String, String, String) = self
            .tx
            .one(q!(
                "SELECT nonce_sealed, pkce_verifier_sealed, next_path FROM sso_logins \
                 WHERE state_hash = $1 AND workspace_id = $2",
                token::hash(state),
                self.workspace
            ))
            .await?;
        let context = self.login_context(state);
        let sealer = self.audit.sealer();
        let text = |sealed: &str| -> Result<String, StoreError> {
            String::from_utf8(sealer.open(&context, sealed)?)
                .map_err(|_| StoreError::Corrupt("a sealed SSO value is not text".into()))
        };
        Ok(Some(SsoLogin {
            nonce: text(&nonce)?,
            pkce_verifier: text(&verifier)?,
            next,
        }))
    }

    /// The account a verified e-mail address opens on `surface`. Staff: their account.
    /// Portal users: theirs when their company owns the address's domain; none yet, a new
    /// member (seeing their own tickets) of the one company that owns the domain and signs its
    /// people in through single sign-on (its portal on) — never an account at a domain no
    /// company owns, nor at one whose company did not choose single sign-on.
    pub async fn sso_account(
        &mut self,
        surface: SurfaceKind,
        email: &str,
        name: &str,
    ) -> Result<SsoAccount, StoreError> {
        let email = email.trim().to_lowercase();
        let Some((_, domain)) = email
            .rsplit_once('@')
            .filter(|(l, d)| !l.is_empty() && !d.is_empty())
        else {
            return Ok(SsoAccount::NoAccount);
        };
        if surface == SurfaceKind::Console {
            let row: Option<(String, bool)> = self
                .tx
                .optional(q!(
                    "SELECT id, disabled FROM staff_users WHERE workspace_id = $1 AND lower(email) = $2",
                    self.workspace,
                    &email
                ))
                .await?;
            return Ok(match row {
                None => SsoAccount::NoAccount,
                Some((_, true)) => SsoAccount::Disabled,
                Some((id, false)) => {
                    SsoAccount::User(SessionUser::Staff(StaffUserId::from_stored(&id)))
                }
            });
        }
        let row: Option<(String, String, bool)> = self
            .tx
            .optional(q!(
                "SELECT id, company_id, disabled FROM portal_users WHERE workspace_id = $1 AND lower(email) = $2",
                self.workspace,
                &email
            ))
            .await?;
        if let Some((id, company, disabled)) = row {
            if disabled {
                return Ok(SsoAccount::Disabled);
            }
            let owns = self
                .tx
                .count(q!(
                    "SELECT COUNT(*) FROM company_email_domains WHERE workspace_id = $1 AND company_id = $2 \
                     AND lower(domain) = $3",
                    self.workspace,
                    &company,
                    domain
                ))
                .await?;
            return Ok(if owns > 0 {
                SsoAccount::User(SessionUser::Portal(PortalUserId::from_stored(&id)))
            } else {
                SsoAccount::OtherDomain
            });
        }
        let owners: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT d.company_id FROM company_email_domains d JOIN companies c \
                 ON c.workspace_id = d.workspace_id AND c.id = d.company_id \
                 WHERE d.workspace_id = $1 AND lower(d.domain) = $2 AND c.portal_enabled AND c.sso_required \
                 AND c.archived_at IS NULL",
                self.workspace,
                domain
            ))
            .await?;
        let [(company,)] = owners.as_slice() else {
            return Ok(SsoAccount::NoAccount);
        };
        let id = PortalUserId::new();
        let display = if name.trim().is_empty() {
            email.clone()
        } else {
            name.trim().chars().take(120).collect()
        };
        self.tx
            .exec(q!(
                "INSERT INTO portal_users (workspace_id, company_id, id, email, name, phone, role, own_only, \
                 billing_access, disabled, created_at) VALUES ($1, $2, $3, $4, $5, '', $6, TRUE, FALSE, FALSE, $7)",
                self.workspace,
                CompanyId::from_stored(company),
                id,
                &email,
                display,
                PortalRole::Member.as_str(),
                now()
            ))
            .await?;
        Ok(SsoAccount::Created(SessionUser::Portal(id)))
    }

    /// Whether a portal user's company, or any company granted to them, requires single
    /// sign-on (their password is refused: it would open every company they may switch to).
    pub async fn sso_required_for(&mut self, user: PortalUserId) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .count(q!(
                "SELECT COUNT(*) FROM companies c WHERE c.workspace_id = $1 AND c.sso_required \
                 AND (c.id = (SELECT u.company_id FROM portal_users u WHERE u.workspace_id = $1 AND u.id = $2) \
                 OR c.id IN (SELECT g.company_id FROM portal_user_companies g \
                 WHERE g.workspace_id = $1 AND g.portal_user_id = $2))",
                self.workspace,
                user
            ))
            .await?
            > 0)
    }
}
