//! Forms that may carry files: the ticket submission and reply forms. Files are streamed into
//! the blob store's spool while the request is read, with the per-file, per-request and count
//! limits enforced as bytes arrive; nothing is stored for good until the handler commits.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use portico_core::Action;
use portico_files::{FileError, StoredFile, Upload};
use portico_store::scoped::ticket_workflow::NewAttachment;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::forms::{FormData, MAX_FORM_BYTES};
use crate::id_path::PathIds;

/// The form field that carries files.
const FILE_FIELD: &str = "attachments";

/// A submitted form with its staged files. `P` is the ids in the route's path, judged after
/// the form's CSRF token as [`crate::auth::SignedForm`] judges them.
pub(crate) struct FormWithFiles<P = ()> {
    pub form: FormData,
    pub path: P,
    /// Files staged in the spool; dropped (and deleted) unless committed.
    pub upload: Option<Upload>,
    pub files: Vec<StoredFile>,
    /// Why the files were refused (too large, too many), to show with the kept form.
    pub file_error: Option<String>,
}

impl<P> FormWithFiles<P> {
    /// The staged files as the store records them.
    pub fn attachments(&self) -> Vec<NewAttachment> {
        self.files
            .iter()
            .map(|f| NewAttachment {
                blob_key: f.key.as_str().to_owned(),
                file_name: f.file_name.clone(),
                content_type: f.content_type.clone(),
                size: f.size as i64,
                inline: f.inline,
            })
            .collect()
    }

    /// Moves the staged files into the blob store. Called before the database commits, so a
    /// failure here leaves no record pointing at a missing file.
    pub async fn commit_files(&mut self) -> Result<(), WebError> {
        if let Some(upload) = self.upload.take() {
            upload
                .commit()
                .await
                .map_err(|e| WebError::Internal(format!("storing attachments: {e}")))?;
        }
        Ok(())
    }
}

fn refusal(e: &FileError, limits: &portico_files::Limits) -> Option<String> {
    const MIB: u64 = 1024 * 1024;
    Some(match e {
        FileError::FileTooLarge { .. } => format!(
            "Each file may be at most {} MiB.",
            limits.max_file_bytes / MIB
        ),
        FileError::RequestTooLarge { .. } => format!(
            "Files may add up to at most {} MiB at a time.",
            limits.max_request_bytes / MIB
        ),
        FileError::TooManyFiles { .. } => {
            format!("Attach at most {} files at a time.", limits.max_files)
        }
        FileError::EmptyFile => "One of the files is empty.".to_owned(),
        _ => return None,
    })
}

impl<P: PathIds> FromRequest<AppState> for FormWithFiles<P> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let path = P::read(&mut parts).await?;
        let read = read_form(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        // Judged after the form's token, as `SignedForm` judges its path.
        let path = P::parse(path).ok_or_else(|| WebError::NotFound.into_response())?;
        Ok(FormWithFiles {
            form: read.form,
            path,
            upload: read.upload,
            files: read.files,
            file_error: read.file_error,
        })
    }
}

/// The form and its staged files, once its CSRF token is checked.
async fn read_form(req: Request, state: &AppState) -> Result<FormWithFiles, WebError> {
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| WebError::NotFound)?;
        let form = FormData::read(Request::from_parts(parts, body)).await?;
        auth.check_csrf(&form)?;
        return Ok(FormWithFiles {
            form,
            path: (),
            upload: None,
            files: Vec::new(),
            file_error: None,
        });
    }
    // Nothing is written to disk for someone who may not attach files, or before the form's
    // CSRF token (sent first by our forms) has been checked.
    let (mut parts, body) = req.into_parts();
    let auth = Auth::from_request_parts(&mut parts, state)
        .await
        .map_err(|_| WebError::NotFound)?;
    let may_attach = auth.scope.may(Action::ContributeTickets).is_ok();
    let mut csrf_checked = false;
    let req = Request::from_parts(parts, body);
    let unreadable = |_| WebError::BadRequest("The form could not be read.".into());
    let mut body = Multipart::from_request(req, state)
        .await
        .map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
    let limits = state.attachment_limits;
    let mut upload = Some(state.blobs.upload(limits));
    let mut pairs = Vec::new();
    let mut text_bytes = 0usize;
    let mut files = Vec::new();
    let mut file_error = None;
    while let Some(mut field) = body.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                // A file input left empty still sends a part with no name and no bytes.
                // Someone who may not attach gets the store's refusal (403), not a file error.
                if name == FILE_FIELD && !file_name.is_empty() && may_attach && !csrf_checked {
                    file_error.get_or_insert_with(|| {
                        "Send this form from its page to attach files.".to_owned()
                    });
                }
                let active = name == FILE_FIELD
                    && !file_name.is_empty()
                    && file_error.is_none()
                    && may_attach
                    && csrf_checked;
                let Some(up) = upload.as_mut().filter(|_| active) else {
                    while field.chunk().await.map_err(unreadable)?.is_some() {}
                    continue;
                };
                let result = async {
                    let mut writer = up.begin_file(&file_name).await?;
                    while let Some(chunk) = field.chunk().await.map_err(|_| FileError::Aborted)? {
                        writer.write(&chunk).await?;
                    }
                    writer.finish().await
                }
                .await;
                match result {
                    Ok(file) => files.push(file),
                    Err(e) => match refusal(&e, &limits) {
                        Some(message) => {
                            file_error = Some(message);
                            files.clear();
                            upload = None;
                            while field.chunk().await.map_err(unreadable)?.is_some() {}
                        }
                        None => return Err(WebError::BadRequest("The upload failed.".into())),
                    },
                }
            }
            None => {
                let value = field.text().await.map_err(unreadable)?;
                if name == "csrf" {
                    csrf_checked = auth.check_csrf(&FormData::single("csrf", &value)).is_ok();
                }
                text_bytes += name.len() + value.len();
                if text_bytes > MAX_FORM_BYTES {
                    return Err(WebError::BadRequest("The form is too large.".into()));
                }
                pairs.push((name, value));
            }
        }
    }
    let form = FormData::from_pairs_owned(pairs);
    // The handler gets no form whose token is not the session's, files or not.
    auth.check_csrf(&form)?;
    Ok(FormWithFiles {
        form,
        path: (),
        upload,
        files,
        file_error,
    })
}
