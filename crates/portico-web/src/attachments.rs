//! Downloading a ticket's attachment, on either surface. The file is found only through the
//! scoped store (a foreign or hidden one is 404 like a missing one) and is sent as a download;
//! only raster images, sniffed when uploaded, may be shown inline.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use portico_core::TicketId;
use portico_files::{BlobKey, FileError, content_disposition};

use crate::AppState;
use crate::auth::Auth;
use crate::console::path_id;
use crate::error::WebError;

pub(crate) async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path((ticket, attachment)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    let attachment = uuid_like(&attachment).ok_or(WebError::NotFound)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let file = tx.attachment(ticket, attachment).await?;
    tx.commit().await?;
    let key = BlobKey::parse(&file.blob_key).map_err(|_| WebError::NotFound)?;
    let bytes = state.blobs.get(&key).await.map_err(|e| match e {
        FileError::NotFound => WebError::NotFound,
        other => WebError::Internal(format!("reading attachment: {other}")),
    })?;
    let content_type = if file.inline {
        file.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(&file.file_name, file.inline),
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

/// Attachment ids are UUIDs; anything else is answered like a missing record.
fn uuid_like(text: &str) -> Option<&str> {
    (text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(text)
}
