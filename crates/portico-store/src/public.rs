//! Lookups that happen before anyone is known: which workspace and surface a host serves, and
//! the workspace's branding (shown on sign-in pages, so it is not client data).

use portico_core::WorkspaceId;

use crate::StoreError;
use crate::sql::{Tx, q};

/// The two surfaces a hostname can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurfaceKind {
    Console,
    Portal,
}

impl SurfaceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SurfaceKind::Console => "console",
            SurfaceKind::Portal => "portal",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<SurfaceKind> {
        match s {
            "console" => Some(SurfaceKind::Console),
            "portal" => Some(SurfaceKind::Portal),
            _ => None,
        }
    }
}

/// What a request's host resolves to, with the workspace's branding.
#[derive(Debug, Clone)]
pub struct HostBinding {
    pub workspace_id: WorkspaceId,
    pub surface: SurfaceKind,
    pub branding: Branding,
}

/// A workspace's white-label settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub name: String,
    pub primary_color: String,
    pub secondary_color: String,
    pub welcome_text: String,
    pub has_logo: bool,
}

struct HostRow {
    workspace_id: String,
    surface: String,
    name: String,
    primary_color: String,
    secondary_color: String,
    welcome_text: String,
    has_logo: bool,
}
crate::sql::db_row!(HostRow {
    workspace_id,
    surface,
    name,
    primary_color,
    secondary_color,
    welcome_text,
    has_logo
});

pub struct PublicTx {
    pub(crate) tx: Tx,
}

impl PublicTx {
    /// The workspace and surface served on `hostname` (lowercase, without port).
    pub async fn resolve_host(mut self, hostname: &str) -> Result<Option<HostBinding>, StoreError> {
        let row: Option<HostRow> = self
            .tx
            .optional(q!(
                "SELECT h.workspace_id, h.surface, w.name, w.primary_color, w.secondary_color, w.welcome_text, \
                 (w.logo_data IS NOT NULL) AS has_logo \
                 FROM workspace_hostnames h JOIN workspaces w ON w.id = h.workspace_id WHERE h.hostname = $1",
                hostname
            ))
            .await?;
        self.tx.commit().await?;
        Ok(row.and_then(|r| {
            Some(HostBinding {
                workspace_id: WorkspaceId::parse(&r.workspace_id)?,
                surface: SurfaceKind::parse(&r.surface)?,
                branding: Branding {
                    name: r.name,
                    primary_color: r.primary_color,
                    secondary_color: r.secondary_color,
                    welcome_text: r.welcome_text,
                    has_logo: r.has_logo,
                },
            })
        }))
    }

    /// The uploaded logo: its media type and bytes.
    pub async fn logo(
        mut self,
        workspace: WorkspaceId,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> = self
            .tx
            .optional(q!(
                "SELECT logo_mime, logo_data FROM workspaces WHERE id = $1",
                workspace
            ))
            .await?;
        self.tx.commit().await?;
        Ok(match row {
            Some((Some(mime), Some(data))) => Some((mime, data)),
            _ => None,
        })
    }

    /// The hostname configured for a workspace's surface. Links in e-mails are built from this,
    /// never from the Host header of the request that caused them.
    pub async fn hostname(
        mut self,
        workspace: WorkspaceId,
        surface: SurfaceKind,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .tx
            .optional(q!(
                "SELECT hostname FROM workspace_hostnames WHERE workspace_id = $1 AND surface = $2 \
                 ORDER BY hostname LIMIT 1",
                workspace,
                surface.as_str()
            ))
            .await?;
        self.tx.commit().await?;
        Ok(row.map(|(h,)| h))
    }
}
