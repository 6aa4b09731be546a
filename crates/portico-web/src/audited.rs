//! What the web layer records in the audit log besides the changes the store records itself:
//! the records a person opened, the files they downloaded and the lists they exported (see
//! `portico_store::audit`). Queued, never a write of the request's own.

use portico_core::{AuditAction, AuditTarget, CompanyId};

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;

/// The company a request acts for on the portal; on the console, `company` as given.
fn company_of(auth: &Auth, company: Option<CompanyId>) -> Option<CompanyId> {
    match auth.scope.companies() {
        portico_core::CompanySet::Only(ids) if auth.scope.is_portal() => ids.first().copied(),
        _ => company,
    }
}

/// `auth` exported `what` (a list as CSV), filtered as `query` says.
pub(crate) fn exported(
    state: &AppState,
    auth: &Auth,
    company: Option<CompanyId>,
    what: &str,
    query: &str,
) -> Result<(), WebError> {
    state.store.audit_view(
        &auth.scope,
        AuditAction::Exported,
        company_of(auth, company),
        AuditTarget::new("export", "", what),
        query,
    )?;
    Ok(())
}

/// `auth` downloaded a file of a record (an invoice's PDF, an attachment).
pub(crate) fn downloaded(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    target: AuditTarget,
) -> Result<(), WebError> {
    state.store.audit_view(
        &auth.scope,
        AuditAction::Downloaded,
        Some(company),
        target,
        "",
    )?;
    Ok(())
}

/// `auth` opened a record's page.
pub(crate) fn viewed(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    target: AuditTarget,
) -> Result<(), WebError> {
    state.store.audit_view(
        &auth.scope,
        AuditAction::RecordViewed,
        Some(company),
        target,
        "",
    )?;
    Ok(())
}
