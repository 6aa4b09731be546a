//! Ticket attachments: streamed uploads with limits, content types sniffed from the bytes, and
//! blobs stored under content-derived names.
//!
//! Flow for one request: [`BlobStore::upload`] → for each file [`Upload::begin_file`],
//! [`FileWriter::write`] per chunk, [`FileWriter::finish`] → [`Upload::commit`]. Limits are checked
//! on every chunk, before it is written. Files are spooled until `commit`, so a request refused
//! half-way (dropped [`Upload`]) leaves nothing behind.
//!
//! Serving: send [`StoredFile::content_type`] with `X-Content-Type-Options: nosniff`, and the
//! header from [`content_disposition`] with [`StoredFile::inline`]. Only PNG, JPEG, GIF and WebP
//! are ever inline; everything else (SVG, HTML, PDF, text …) is a download, so an upload can never
//! run script on our origin.
//!
//! The store directory must not be served by anything else: blobs are reachable only through
//! a [`BlobKey`], which is validated so that a key read back from the database cannot name a path
//! outside the store.

mod key;
mod name;
mod sniff;
mod store;

pub use key::BlobKey;
pub use name::{content_disposition, sanitise_file_name};
pub use store::{BlobStore, FileWriter, Upload};

/// Upload limits for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_request_bytes: u64,
    pub max_files: usize,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    /// 10 MiB per file, 25 MiB per request, 5 files.
    fn default() -> Self {
        Limits {
            max_file_bytes: 10 * MIB,
            max_request_bytes: 25 * MIB,
            max_files: 5,
        }
    }
}

/// One uploaded file, as it should be recorded next to the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub key: BlobKey,
    pub size: u64,
    /// Sniffed from the bytes; `application/octet-stream` when unknown.
    pub content_type: String,
    /// Whether the browser may show it inline (raster images only).
    pub inline: bool,
    /// Sanitised display name, safe for headers and HTML.
    pub file_name: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("too many files: at most {max} per request")]
    TooManyFiles { max: usize },
    #[error("file too large: at most {max} bytes")]
    FileTooLarge { max: u64 },
    #[error("upload too large: at most {max} bytes per request")]
    RequestTooLarge { max: u64 },
    #[error("empty file")]
    EmptyFile,
    /// The upload or file already failed; nothing further is accepted.
    #[error("upload aborted after an earlier error")]
    Aborted,
    #[error("attachment not found")]
    NotFound,
    #[error("invalid attachment key")]
    InvalidKey,
    #[error("invalid attachment storage URL: {0}")]
    InvalidUrl(String),
    #[error("attachment spool: {0}")]
    Io(#[from] std::io::Error),
    #[error("attachment storage: {0}")]
    Store(#[source] object_store::Error),
}

impl From<object_store::Error> for FileError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => FileError::NotFound,
            e => FileError::Store(e),
        }
    }
}
