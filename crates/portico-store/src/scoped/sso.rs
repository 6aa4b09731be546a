//! The owners' single sign-on settings (A3): the workspace's OpenID Connect provider, and
//! which companies require it of their portal users.

use portico_core::{Action, AuditAction, AuditTarget, CompanyId};

use crate::scoped::portal_settings::CompanyRequirement;
use crate::scoped::{ScopedTx, fence};
use crate::{StoreError, now};

/// The provider as the settings page shows it (the secret never leaves the store again).
#[derive(Debug, Clone, Default)]
pub struct SsoSettings {
    pub display_name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub has_secret: bool,
    pub for_staff: bool,
    pub for_portal: bool,
}

/// What an owner submits; an empty secret keeps the one stored.
pub struct SsoChange<'a> {
    pub display_name: &'a str,
    pub issuer_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub for_staff: bool,
    pub for_portal: bool,
}

/// The context a workspace's client secret is sealed for.
pub(crate) fn secret_context(workspace: &str) -> String {
    format!("sso-client-secret:{workspace}")
}

impl ScopedTx<'_> {
    /// The workspace's provider, if one is configured.
    pub async fn sso_settings(&mut self) -> Result<Option<SsoSettings>, StoreError> {
        self.scope.may(Action::ManageSingleSignOn)?;
        let query = self.select(
            "p.display_name, p.issuer_url, p.client_id, p.for_staff, p.for_portal",
            &fence::SSO_PROVIDERS,
            "p",
        );
        let row: Option<(String, String, String, bool, bool)> = self.tx.optional(query).await?;
        Ok(row.map(
            |(display_name, issuer_url, client_id, for_staff, for_portal)| SsoSettings {
                display_name,
                issuer_url,
                client_id,
                has_secret: true,
                for_staff,
                for_portal,
            },
        ))
    }

    /// Saves the provider after checking each field; every problem at once.
    pub async fn save_sso_settings(&mut self, change: &SsoChange<'_>) -> Result<(), StoreError> {
        self.scope.may(Action::ManageSingleSignOn)?;
        let existing = self.sso_settings().await?;
        let mut errors = Vec::new();
        let name = change.display_name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            errors.push((
                "display_name".to_owned(),
                "Name the provider as people know it (at most 60 characters), e.g. “Microsoft”."
                    .to_owned(),
            ));
        }
        let issuer = change.issuer_url.trim().trim_end_matches('/');
        let issuer_ok = url_like(issuer);
        if !issuer_ok {
            errors.push((
                "issuer_url".to_owned(),
                "Enter the https:// issuer URL the provider publishes, e.g. https://login.microsoftonline.com/<tenant>/v2.0.".to_owned(),
            ));
        }
        let client_id = change.client_id.trim();
        if client_id.is_empty() || client_id.len() > 255 || client_id.chars().any(char::is_control)
        {
            errors.push((
                "client_id".to_owned(),
                "Enter the client (application) id.".to_owned(),
            ));
        }
        let secret = change.client_secret.trim();
        if secret.is_empty() && existing.is_none() {
            errors.push((
                "client_secret".to_owned(),
                "Enter the client secret.".to_owned(),
            ));
        }
        if secret.len() > 1000 {
            errors.push((
                "client_secret".to_owned(),
                "That secret is too long.".to_owned(),
            ));
        }
        if !errors.is_empty() {
            return Err(StoreError::InvalidFields(errors));
        }
        let workspace = self.scope.workspace();
        if existing.is_none() {
            let sealed = self
                .audit
                .sealer()
                .seal(&secret_context(&workspace.as_text()), secret.as_bytes());
            self.tx
                .exec(crate::sql::q!(
                    "INSERT INTO sso_providers (workspace_id, display_name, issuer_url, client_id, client_secret_sealed, \
                     for_staff, for_portal, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    workspace,
                    name,
                    issuer,
                    client_id,
                    sealed,
                    change.for_staff,
                    change.for_portal,
                    now()
                ))
                .await?;
        } else {
            let sealed = (!secret.is_empty()).then(|| {
                self.audit
                    .sealer()
                    .seal(&secret_context(&workspace.as_text()), secret.as_bytes())
            });
            let query = self.update(&fence::SSO_PROVIDERS, |set| {
                set.sql("display_name = ")
                    .arg(name)
                    .sql(", issuer_url = ")
                    .arg(issuer)
                    .sql(", client_id = ")
                    .arg(client_id)
                    .sql(", for_staff = ")
                    .arg(change.for_staff)
                    .sql(", for_portal = ")
                    .arg(change.for_portal)
                    .sql(", updated_at = ")
                    .arg(now());
                if let Some(sealed) = sealed {
                    set.sql(", client_secret_sealed = ").arg(sealed);
                }
            });
            self.tx.exec(query).await?;
        }
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("single_sign_on", "", "Single sign-on"),
            &format!(
                "{name} at {issuer}; staff {}, portal {}{}",
                if change.for_staff { "on" } else { "off" },
                if change.for_portal { "on" } else { "off" },
                if secret.is_empty() {
                    ""
                } else {
                    "; client secret replaced"
                }
            ),
        )
        .await
    }

    /// Whether the company's portal users sign in only through single sign-on.
    pub async fn company_sso_required(&mut self, company: CompanyId) -> Result<bool, StoreError> {
        self.company_requires(company, CompanyRequirement::SingleSignOn)
            .await
    }

    /// Requires (or stops requiring) single sign-on of the company's portal users: their
    /// password no longer opens the portal.
    pub async fn set_company_sso_required(
        &mut self,
        company: CompanyId,
        required: bool,
    ) -> Result<(), StoreError> {
        if self.company_sso_required(company).await? == required {
            return Ok(());
        }
        if required
            && !self
                .sso_settings_unchecked()
                .await?
                .is_some_and(|s| s.for_portal)
        {
            return Err(StoreError::Invalid(
                "Set up single sign-on for the portal (Single sign-on page) before requiring it."
                    .into(),
            ));
        }
        let detail = if required {
            "portal users sign in through single sign-on only"
        } else {
            "portal users may sign in with a password"
        };
        self.set_company_requires(company, CompanyRequirement::SingleSignOn, required, detail)
            .await
    }

    /// The provider, for a check that does not show it (portal settings).
    async fn sso_settings_unchecked(&mut self) -> Result<Option<SsoSettings>, StoreError> {
        let query = self.select("p.for_portal", &fence::SSO_PROVIDERS, "p");
        let row: Option<(bool,)> = self.tx.optional(query).await?;
        Ok(row.map(|(for_portal,)| SsoSettings {
            for_portal,
            ..SsoSettings::default()
        }))
    }
}

/// An `https://host…` URL without spaces or control characters (plain `http://` only on the
/// loopback address, for a provider on this machine): keys, tokens and the client secret
/// travel over it.
fn url_like(text: &str) -> bool {
    let rest = text.strip_prefix("https://").or_else(|| {
        text.strip_prefix("http://").filter(|r| {
            r.starts_with("127.0.0.1:") || r.starts_with("localhost:") || r.starts_with("[::1]:")
        })
    });
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && r.len() < 500
            && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}
