//! Errors at the edge: typed failures from the store become pages with the right status.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use portico_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Absent, foreign, disabled or malformed: one answer for all.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request whose content is refused (422), for forms without a page of
    /// their own to show again.
    #[error("{0}")]
    Unprocessable(String),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Forbidden => {
                WebError::Forbidden("You do not have permission to do that.".into())
            }
            StoreError::Invalid(m) => WebError::BadRequest(m),
            e @ StoreError::InvalidFields(_) => WebError::BadRequest(e.to_string()),
            StoreError::Conflict(what) => {
                WebError::BadRequest(format!("That {what} is already in use."))
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<portico_core::Denied> for WebError {
    fn from(d: portico_core::Denied) -> Self {
        WebError::from(StoreError::from(d))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    /// The workspace's name, logo and stylesheet version; empty on a host no workspace serves.
    brand_name: &'a str,
    has_logo: bool,
    brand_version: &'a str,
    portal: bool,
}

/// What an error page says, kept on the response so that host dispatch, which knows the
/// workspace, can render it again in the workspace's brand ([`branded`]).
#[derive(Debug, Clone)]
pub(crate) struct ErrorContent {
    status: u16,
    title: &'static str,
    message: String,
}

/// The error page in `site`'s brand: its name, logo and colours, as every other page.
pub(crate) fn branded(site: &crate::Site, content: &ErrorContent) -> String {
    let page = ErrorPage {
        status: content.status,
        title: content.title,
        message: &content.message,
        brand_name: &site.branding.name,
        has_logo: site.branding.has_logo,
        brand_version: &site.brand_version,
        portal: site.surface == portico_store::SurfaceKind::Portal,
    };
    page.render().unwrap_or_else(|_| content.message.clone())
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing here, or it is not available to you.".to_owned(),
            ),
            WebError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.clone()),
            WebError::BadRequest(m) => {
                (StatusCode::BAD_REQUEST, "Something is not right", m.clone())
            }
            WebError::Unprocessable(m) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Something is not right",
                m.clone(),
            ),
            WebError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Please try again in a moment.".to_owned(),
                )
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message: &message,
            brand_name: "",
            has_logo: false,
            brand_version: "",
            portal: false,
        };
        let mut response = (
            status,
            Html(page.render().unwrap_or_else(|_| message.clone())),
        )
            .into_response();
        response.extensions_mut().insert(ErrorContent {
            status: status.as_u16(),
            title,
            message,
        });
        response
    }
}

pub(crate) async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    // A tool calling the API reads problem details, not a page.
    if uri.path().starts_with("/api/v1/") {
        crate::api::Problem::not_found().into_response()
    } else {
        WebError::NotFound.into_response()
    }
}
