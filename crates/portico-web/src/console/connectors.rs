//! The owners' connectors (I2): a vendor account's settings and credentials (the secret sealed,
//! never shown again), its tenants mapped to companies with suggestions by domain and name, a
//! sync asked for by hand, and each tenant's runs. The syncing is `portico-connectors`'.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{CompanyId, ConnectorId, TicketStatus};
use portico_store::StoreError;
use portico_store::scoped::connectors::{
    Connector, ConnectorKind, ConnectorRun, ConnectorSettings, ConnectorTenant,
    PSA_STATUS_MEANINGS, PsaStatus,
};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{DoneQuery, FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

fn settings_of(form: &FormData) -> ConnectorSettings {
    ConnectorSettings {
        name: form.get("name").to_owned(),
        auth_url: form.get("auth_url").to_owned(),
        api_url: form.get("api_url").to_owned(),
        home_tenant: form.get("home_tenant").to_owned(),
        client_id: form.get("client_id").to_owned(),
        secret: form.get("secret").to_owned(),
        sync_every_minutes: form.get("sync_every_minutes").to_owned(),
        inactive_after_days: form.get("inactive_after_days").to_owned(),
    }
}

fn blank_settings(kind: ConnectorKind) -> ConnectorSettings {
    let (auth_url, api_url) = kind.default_urls();
    ConnectorSettings {
        name: kind.label().to_owned(),
        auth_url: auth_url.to_owned(),
        api_url: api_url.to_owned(),
        sync_every_minutes: "60".into(),
        inactive_after_days: "30".into(),
        ..ConnectorSettings::default()
    }
}

fn settings_of_connector(c: &Connector) -> ConnectorSettings {
    ConnectorSettings {
        name: c.name.clone(),
        auth_url: c.auth_url.clone(),
        api_url: c.api_url.clone(),
        home_tenant: c.home_tenant.clone(),
        client_id: c.client_id.clone(),
        secret: String::new(),
        sync_every_minutes: c.sync_every_minutes.to_string(),
        inactive_after_days: c.inactive_after_days.to_string(),
    }
}

/// One "Connect …" form of the page: its vendor, what was typed, and its refusals.
struct NewForm {
    kind: ConnectorKind,
    settings: ConnectorSettings,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "console/connectors.html")]
struct ConnectorsPage {
    chrome: Chrome,
    connectors: Vec<Connector>,
    forms: Vec<NewForm>,
}

async fn connectors_page(
    state: &AppState,
    auth: &Auth,
    refused: Option<(ConnectorKind, ConnectorSettings, FieldErrors)>,
) -> Result<ConnectorsPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let connectors = tx.connectors().await?;
    tx.commit().await?;
    let mut refused = refused;
    let forms = ConnectorKind::ALL
        .iter()
        .map(|&kind| match refused.take_if(|(k, _, _)| *k == kind) {
            Some((kind, settings, errors)) => NewForm {
                kind,
                settings,
                errors,
            },
            None => NewForm {
                kind,
                settings: blank_settings(kind),
                errors: FieldErrors::default(),
            },
        })
        .collect();
    Ok(ConnectorsPage {
        chrome: Chrome::signed_in(auth, "Connectors", "/settings/connectors"),
        connectors,
        forms,
    })
}

pub(crate) async fn page(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    Ok(render::ok(&connectors_page(&state, &auth, None).await?))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let settings = settings_of(&form);
    let kind = ConnectorKind::parse(form.get("kind")).unwrap_or(ConnectorKind::Microsoft365);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.create_connector(kind, &settings).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(see_other(&format!("/settings/connectors/{id}?done=added")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            // The secret is never sent back into a page.
            let settings = ConnectorSettings {
                secret: String::new(),
                ..settings
            };
            let page =
                connectors_page(&state, &auth, Some((kind, settings, FieldErrors(errors)))).await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/connector.html")]
struct ConnectorPage {
    chrome: Chrome,
    connector: Connector,
    tenants: Vec<ConnectorTenant>,
    /// A PSA's ticket statuses, as its last run read them (empty for other kinds).
    statuses: Vec<PsaStatus>,
    /// The status form as it was sent, shown again when it was refused (`status_<id>`, value).
    typed_statuses: Vec<(String, String)>,
    runs: Vec<ConnectorRun>,
    companies: Vec<(String, String)>,
    settings: ConnectorSettings,
    errors: FieldErrors,
    notice: String,
}

impl ConnectorPage {
    /// The value the status form shows for `status`: what was sent, else the owner's choice
    /// (empty: by its name).
    fn status_value(&self, status: &PsaStatus) -> &str {
        let field = format!("status_{}", status.external_id);
        match self.typed_statuses.iter().find(|(name, _)| *name == field) {
            Some((_, value)) => value,
            None => status.chosen.map_or("", TicketStatus::as_str),
        }
    }

    fn unmapped(&self) -> usize {
        self.tenants.iter().filter(|t| t.company.is_none()).count()
    }
}

async fn connector_page(
    state: &AppState,
    auth: &Auth,
    id: ConnectorId,
    settings: Option<ConnectorSettings>,
    errors: FieldErrors,
    notice: String,
) -> Result<ConnectorPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let connector = tx.connector(id).await?;
    let tenants = tx.connector_tenants(id).await?;
    let statuses = if connector.kind == ConnectorKind::HaloPsa {
        tx.psa_statuses(id).await?
    } else {
        Vec::new()
    };
    let runs = tx.connector_runs(id).await?;
    let companies = tx
        .companies(false)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    tx.commit().await?;
    let title = format!("{} — Connectors", connector.name);
    Ok(ConnectorPage {
        chrome: Chrome::signed_in(auth, &title, "/settings/connectors"),
        settings: settings.unwrap_or_else(|| settings_of_connector(&connector)),
        connector,
        tenants,
        statuses,
        typed_statuses: Vec::new(),
        runs,
        companies,
        errors,
        notice,
    })
}

/// The connector's page again, refused, with `notice` saying why nothing changed and the
/// status form as it was sent (`typed_statuses`).
async fn refused_with(
    state: &AppState,
    auth: &Auth,
    id: ConnectorId,
    notice: String,
    typed_statuses: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let mut page = connector_page(state, auth, id, None, FieldErrors::default(), notice).await?;
    page.typed_statuses = typed_statuses;
    Ok(render::refused(&page))
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(done): axum::extract::Query<DoneQuery>,
    IdPath(id): IdPath<ConnectorId>,
) -> Result<Response, WebError> {
    let notice = match done.done.as_str() {
        "added" => {
            "The connector was added: its customers are being listed (this takes a minute), then map each to a company."
        }
        "saved" => "The settings were saved.",
        "on" => "The connector is switched on.",
        "off" => "The connector is switched off: nothing syncs until it is on again.",
        "discover" => "The customers are being listed again.",
        "mapped" => "The tenant was mapped: it syncs within a minute.",
        "unmapped" => "The tenant was unmapped: what it fed its company is marked retired there.",
        "sync" => "The tenant syncs within a minute.",
        "statuses" => "The statuses were saved: the next sync reads tickets by them.",
        _ => "",
    };
    Ok(render::ok(
        &connector_page(
            &state,
            &auth,
            id,
            None,
            FieldErrors::default(),
            notice.to_owned(),
        )
        .await?,
    ))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ConnectorId>,
) -> Result<Response, WebError> {
    let settings = settings_of(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.update_connector(id, &settings).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/settings/connectors/{id}?done=saved")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let settings = ConnectorSettings {
                secret: String::new(),
                ..settings
            };
            let page = connector_page(
                &state,
                &auth,
                id,
                Some(settings),
                FieldErrors(errors),
                String::new(),
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn switch(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ConnectorId>,
) -> Result<Response, WebError> {
    let enabled = form.get("enabled") == "1";
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_connector_enabled(id, enabled).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/settings/connectors/{id}?done={}",
        if enabled { "on" } else { "off" }
    )))
}

pub(crate) async fn discover(
    State(state): State<AppState>,
    SignedForm { auth, path: id, .. }: SignedForm<ConnectorId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.request_discovery(id).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/settings/connectors/{id}?done=discover"
    )))
}

pub(crate) async fn map(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ConnectorId>,
) -> Result<Response, WebError> {
    let company = match form.get("company") {
        "" => None,
        text => Some(CompanyId::parse(text).ok_or(WebError::NotFound)?),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .map_connector_tenant(id, form.get("tenant"), company)
        .await
    {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/settings/connectors/{id}?done={}",
                if company.is_some() {
                    "mapped"
                } else {
                    "unmapped"
                }
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let message = errors
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            refused_with(
                &state,
                &auth,
                id,
                format!("Not mapped: {message}"),
                Vec::new(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Saves what each of a PSA's statuses means (`status_<PSA id>`: a Portico status, or empty
/// to follow the status's name).
pub(crate) async fn statuses(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ConnectorId>,
) -> Result<Response, WebError> {
    let mut choices = Vec::new();
    let mut refused = None;
    for (name, value) in form.pairs() {
        let Some(external_id) = name.strip_prefix("status_") else {
            continue;
        };
        let meaning = match value {
            "" => None,
            text => match TicketStatus::parse(text) {
                Some(status) => Some(status),
                None => {
                    refused = Some(format!("“{text}” is not a ticket status."));
                    continue;
                }
            },
        };
        choices.push((external_id.to_owned(), meaning));
    }
    let outcome = match refused {
        Some(message) => Err(StoreError::Invalid(message)),
        None => {
            let mut tx = state.store.scoped_write(&auth.scope).await?;
            match tx.set_psa_status_meanings(id, &choices).await {
                Ok(()) => tx.commit().await,
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/settings/connectors/{id}?done=statuses"
        ))),
        Err(StoreError::Invalid(message)) => {
            let typed = form
                .pairs()
                .filter(|(name, _)| name.starts_with("status_"))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
            refused_with(
                &state,
                &auth,
                id,
                format!("Nothing was saved: {message}"),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn sync(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<ConnectorId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.sync_connector_tenant_now(id, form.get("tenant")).await?;
    tx.commit().await?;
    Ok(see_other(&format!("/settings/connectors/{id}?done=sync")))
}
