//! Portico's HTTP surfaces. The request's host decides the workspace and the surface (console or
//! portal); each surface is its own router, so a path means nothing on the other host.

mod api;
mod assets_view;
mod attachments;
mod audit_view;
mod audited;
pub mod auth;
mod backup_view;
mod brand;
mod change_view;
mod compliance_view;
mod csv_export;
mod domain_view;
mod second_factor;
mod sign_in;
mod sso;

pub mod console;
mod error;
mod forms;
mod headers;
mod hosts;
mod id_path;

mod invoice_view;
mod licence_view;
mod live;
mod local_time;
mod maintenance_view;

pub mod portal;
pub mod registry;
mod render;
mod session;
mod uploads;
mod user_admin;
mod view_as;
mod work_view;

mod svg;
mod ticket_form_fields;
mod timeline;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_core::WorkspaceId;
use portico_store::{Branding, HostBinding, Store, StoreError, SurfaceKind};
use tower::ServiceExt;

pub use error::WebError;
pub use registry::{Resource, RouteSpec};

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Scheme written into links in e-mails (`http` or `https`).
    pub public_scheme: String,
    /// Port written into links, `None` for the scheme's default.
    pub public_port: Option<u16>,
    /// Served over HTTPS: `Secure`, `__Host-` cookies and HSTS.
    pub secure_cookies: bool,
    pub session_idle_secs: i64,
    pub session_max_secs: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed for the client address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Limits on files attached to tickets.
    pub attachment_limits: portico_files::Limits,
    /// How often a live page's event stream checks for changes and for the session's end.
    pub live_poll: std::time::Duration,
    /// How long a hostname's workspace and branding are kept in memory (zero: read every time).
    /// Other instances see a branding change within this time.
    pub host_cache_ttl: std::time::Duration,
    /// Requests a minute each API token may make, on each instance.
    pub api_requests_per_minute: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_scheme: "http".into(),
            public_port: Some(8080),
            secure_cookies: false,
            session_idle_secs: 2 * 3600,
            session_max_secs: 12 * 3600,
            trusted_proxies: Vec::new(),
            attachment_limits: portico_files::Limits::default(),
            live_poll: std::time::Duration::from_secs(2),
            host_cache_ttl: std::time::Duration::from_secs(5),
            api_requests_per_minute: 600,
        }
    }
}

impl WebConfig {
    /// The base URL of a configured hostname, e.g. `http://portal.localhost:8080`.
    pub fn base_url(&self, hostname: &str) -> String {
        match self.public_port {
            Some(port) => format!("{}://{hostname}:{port}", self.public_scheme),
            None => format!("{}://{hostname}", self.public_scheme),
        }
    }
}

/// Shared state of both surfaces.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Store,
    pub(crate) blobs: portico_files::BlobStore,
    pub(crate) attachment_limits: portico_files::Limits,
    pub(crate) config: Arc<WebConfig>,
    /// Open live-update streams per session, to cap them.
    pub(crate) live_streams: live::StreamCounts,
    pub(crate) hosts: hosts::HostCache,
    /// Each API token's request budget.
    pub(crate) api_budget: Arc<api::RequestBudget>,
}

/// What the host of a request resolved to; inserted before a surface's router runs.
#[derive(Debug, Clone)]
pub struct Site {
    pub workspace_id: WorkspaceId,
    pub surface: SurfaceKind,
    /// Shared by the requests to a host while its binding is cached ([`hosts::HostCache`]).
    pub branding: Arc<Branding>,
    /// Changes whenever the colours do, so browsers refetch the brand stylesheet.
    pub brand_version: Arc<str>,
}

impl Site {
    pub(crate) fn of(binding: HostBinding) -> Site {
        let branding = binding.branding;
        let brand_version =
            format!("{}{}", branding.primary_color, branding.secondary_color).replace('#', "");
        Site {
            workspace_id: binding.workspace_id,
            surface: binding.surface,
            branding: Arc::new(branding),
            brand_version: Arc::from(brand_version),
        }
    }
}

#[derive(Clone)]
struct Surfaces {
    state: AppState,
    console: Router,
    portal: Router,
}

/// The whole application: host dispatch in front of the two surface routers.
pub fn app(store: Store, blobs: portico_files::BlobStore, config: WebConfig) -> Router {
    // Uploads are limited while streaming; the body limit only has to let them through.
    let body_limit = config.attachment_limits.max_request_bytes as usize + 1024 * 1024;
    let state = AppState {
        store,
        blobs,
        attachment_limits: config.attachment_limits,
        live_streams: live::StreamCounts::default(),
        hosts: hosts::HostCache::new(config.host_cache_ttl),
        api_budget: Arc::new(api::RequestBudget::per_minute(
            config.api_requests_per_minute,
        )),
        config: Arc::new(config),
    };
    let surfaces = Surfaces {
        console: registry::console_router().into_router(state.clone()),
        portal: registry::portal_router().into_router(state.clone()),
        state,
    };
    let secure = surfaces.state.config.secure_cookies;
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .fallback(dispatch)
        .with_state(surfaces)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(move |req, next| {
            headers::security_headers(secure, req, next)
        }))
}

async fn healthz() -> &'static str {
    "ok"
}

/// The hostname of a request without port, lowercased. Only used to *choose* a workspace; links
/// are never built from it.
fn request_host(req: &Request) -> Option<String> {
    let raw = req.headers().get(header::HOST)?.to_str().ok()?;
    let host = if raw.starts_with('[') {
        // An IPv6 literal keeps its brackets; only a port after them is dropped.
        raw.split_inclusive(']').next().unwrap_or(raw)
    } else {
        raw.split(':').next().unwrap_or(raw)
    };
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

async fn dispatch(State(surfaces): State<Surfaces>, mut req: Request) -> Response {
    let Some(host) = request_host(&req) else {
        return (StatusCode::BAD_REQUEST, "missing Host header").into_response();
    };
    let site = match surfaces.state.hosts.get(&host) {
        Some(cached) => Ok(Some(cached)),
        None => resolve_host(&surfaces.state, &host).await,
    };
    let site = match site {
        Ok(Some(site)) => site,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                "No Portico workspace is served on this host.",
            )
                .into_response();
        }
        Err(e) => return WebError::from(e).into_response(),
    };
    let surface = site.surface;
    req.extensions_mut().insert(site.clone());
    let router = match surface {
        SurfaceKind::Console => surfaces.console,
        SurfaceKind::Portal => surfaces.portal,
    };
    let mut response = match router.oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    // Error pages are made where the error happens, without the workspace at hand: dressed
    // here in its brand, so that a client never sees an unbranded page.
    if let Some(content) = response.extensions_mut().remove::<error::ErrorContent>() {
        response.headers_mut().remove(header::CONTENT_LENGTH);
        *response.body_mut() = axum::body::Body::from(error::branded(&site, &content));
    }
    response
}

/// Reads a host's binding from the database and keeps it in the cache.
async fn resolve_host(state: &AppState, host: &str) -> Result<Option<Site>, StoreError> {
    let binding = state.store.public().await?.resolve_host(host).await?;
    let site = binding.map(Site::of);
    if let Some(site) = &site {
        state.hosts.put(host, site);
    }
    Ok(site)
}

/// Shorthand used by handlers: a redirect after a successful form post.
pub(crate) fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .unwrap_or_default()
}

/// Base URLs for links in mails, built from the workspace's configured hostnames (never from
/// the request's Host header).
pub(crate) async fn mail_links(
    state: &AppState,
    workspace: portico_core::WorkspaceId,
) -> Result<portico_store::scoped::ticket_workflow::Links, WebError> {
    let base = |hostname: Option<String>| {
        hostname
            .map(|h| state.config.base_url(&h))
            .unwrap_or_default()
    };
    let portal = state
        .store
        .public()
        .await?
        .hostname(workspace, SurfaceKind::Portal)
        .await?;
    let console = state
        .store
        .public()
        .await?
        .hostname(workspace, SurfaceKind::Console)
        .await?;
    Ok(portico_store::scoped::ticket_workflow::Links {
        portal: base(portal),
        console: base(console),
    })
}
