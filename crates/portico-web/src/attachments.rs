//! Downloading a ticket's attachment or a penetration test's report, on either surface. The
//! file is found only through the scoped store (a foreign or hidden one is 404 like a missing
//! one) and is sent as a download; only raster images, sniffed when uploaded, may be shown
//! inline.

use axum::body::Body;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use portico_core::{CompanyId, PentestId, TicketId};
use portico_files::{BlobKey, FileError, content_disposition};

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::id_path::{self, IdPath, PathIds};

pub(crate) async fn download(
    State(state): State<AppState>,
    auth: Auth,
    IdPath((ticket, attachment)): IdPath<(TicketId, AttachmentId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let file = tx.attachment(ticket, &attachment.0).await?;
    tx.commit().await?;
    let content_type = if file.inline {
        file.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    send(
        &state,
        &file.blob_key,
        &file.file_name,
        content_type,
        file.inline,
    )
    .await
}

/// A penetration test's report (the store hides drafts from the portal, and audits the
/// download).
pub(crate) async fn pentest_report(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    id: PentestId,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let file = tx.pentest_report(company, id).await?;
    tx.commit().await?;
    send(
        state,
        &file.blob_key,
        &file.file_name,
        "application/octet-stream",
        false,
    )
    .await
}

/// Evidence staff attached to a compliance judgement (the console only).
pub(crate) async fn compliance_evidence(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    id: portico_core::AttestationId,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let file = tx.attestation_evidence(company, id).await?;
    tx.commit().await?;
    send(
        state,
        &file.blob_key,
        &file.file_name,
        "application/octet-stream",
        false,
    )
    .await
}

/// A stored file as a response.
async fn send(
    state: &AppState,
    blob_key: &str,
    file_name: &str,
    content_type: &str,
    inline: bool,
) -> Result<Response, WebError> {
    let key = BlobKey::parse(blob_key).map_err(|_| WebError::NotFound)?;
    let bytes = state.blobs.get(&key).await.map_err(|e| match e {
        FileError::NotFound => WebError::NotFound,
        other => WebError::Internal(format!("reading a stored file: {other}")),
    })?;
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(file_name, inline),
        )
        // Even if a browser were to render it, the file gets no script, no styles, no origin.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(Body::from(bytes))
        .map_err(|e| WebError::Internal(e.to_string()))
}

/// An attachment's id from the path. Attachments have no id type (the store compares their id
/// as text), so only its shape is checked: a UUID's length and characters; anything else is
/// answered like a missing record.
pub(crate) struct AttachmentId(String);

impl PathIds for AttachmentId {
    type Text = String;

    fn read(parts: &mut Parts) -> impl Future<Output = Result<String, Response>> + Send {
        id_path::segments(parts)
    }

    fn parse(text: String) -> Option<Self> {
        uuid_like(&text).is_some().then_some(AttachmentId(text))
    }
}

/// Attachment ids are UUIDs; anything else is answered like a missing record.
fn uuid_like(text: &str) -> Option<&str> {
    (text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(text)
}
