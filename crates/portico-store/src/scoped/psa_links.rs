//! I2 PSA two-way, the desk's side: where a ticket stands with the MSP's PSA (its number there,
//! the last sync, a failure or a settled conflict), for the console's ticket page. The sync
//! itself is system work ([`crate::psa_sync`]).

use portico_core::{Action, TicketId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};

/// A ticket's counterpart in the PSA as the desk sees it.
#[derive(Debug, Clone)]
pub struct PsaLinkView {
    /// The PSA's name (`HaloPSA`).
    pub tool: String,
    /// The PSA's ticket id; `None` while it is not created there yet.
    pub external_id: Option<String>,
    pub psa_status_name: String,
    pub synced_at: Option<i64>,
    pub last_error: String,
    pub failures: i64,
    pub conflict: String,
    pub conflict_at: Option<i64>,
}

struct LinkRow {
    kind: String,
    external_id: Option<String>,
    psa_status_name: String,
    synced_at: Option<i64>,
    last_error: String,
    failures: i64,
    conflict: String,
    conflict_at: Option<i64>,
}
crate::sql::db_row!(LinkRow {
    kind,
    external_id,
    psa_status_name,
    synced_at,
    last_error,
    failures,
    conflict,
    conflict_at
});

impl ScopedTx<'_> {
    /// Ticket `ticket`'s link to the PSA, if it has one. Staff only: the portal never learns
    /// which tools the MSP runs.
    pub async fn psa_link(&mut self, ticket: TicketId) -> Result<Option<PsaLinkView>, StoreError> {
        if self.scope.is_portal() {
            return Err(StoreError::Forbidden);
        }
        self.scope.may(Action::WorkTickets)?;
        let mut query = self.select_joined(
            "c.kind, l.external_id, l.psa_status_name, l.synced_at, l.last_error, l.failures, \
             l.conflict, l.conflict_at",
            &fence::PSA_TICKET_LINKS,
            "l",
            " JOIN connectors c ON c.workspace_id = l.workspace_id AND c.id = l.connector_id",
        );
        query.sql(" AND l.ticket_id = ").arg(ticket);
        let row: Option<LinkRow> = self.tx.optional(query).await?;
        Ok(row.map(|r| PsaLinkView {
            tool: crate::scoped::connectors::ConnectorKind::parse(&r.kind)
                .map(|k| k.label().to_owned())
                .unwrap_or(r.kind),
            external_id: r.external_id,
            psa_status_name: r.psa_status_name,
            synced_at: r.synced_at,
            last_error: r.last_error,
            failures: r.failures,
            conflict: r.conflict,
            conflict_at: r.conflict_at,
        }))
    }
}
