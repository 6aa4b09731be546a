//! P8 Assets: the company's devices, with the fields its MSP chooses to show; filters by site,
//! type and warranty, search, sort and pages; each asset's page offers "Report an issue".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{AssetField, AssetId, Principal, Section};
use portico_store::scoped::assets::{Asset, ShownFields};

use super::tickets::acting_company;
use crate::AppState;
use crate::assets_view::{AssetList, AssetListQuery};
use crate::auth::Auth;
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};

fn heading(auth: &Auth) -> String {
    match &*auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Assets)
            .unwrap_or(Section::Assets.label())
            .to_owned(),
        Principal::Staff(_) => Section::Assets.label().to_owned(),
    }
}

#[derive(Template)]
#[template(path = "portal/assets.html")]
struct ListPage {
    chrome: Chrome,
    heading: String,
    list: AssetList,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(filters): Query<AssetListQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let zone = auth.principal.zone().clone();
    let mut query = filters.to_query(&zone, portico_store::now())?;
    query.archived = false;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.assets(company, &query).await?;
    // The sites the reader may filter by: a site-restricted user's own; none for an
    // own-tickets-only user, who is shown no site's name.
    let sites = if auth.scope.requester().is_some() {
        Vec::new()
    } else {
        tx.sites(company).await?
    };
    let sites = sites
        .into_iter()
        .filter(|s| {
            auth.scope
                .sites()
                .is_none_or(|mine| mine.iter().any(|m| m.to_string() == s.id))
        })
        .map(|s| (s.id, s.name))
        .collect();
    tx.commit().await?;
    let heading = heading(&auth);
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, &heading, "/assets"),
        heading,
        list: AssetList::new("/assets".into(), filters, &query, page, sites, zone),
    }))
}

/// The list's matches as CSV, with exactly the fields the list shows this reader.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(filters): Query<AssetListQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let zone = auth.principal.zone().clone();
    let mut query = filters.to_query(&zone, portico_store::now())?;
    query.archived = false;
    Ok(crate::csv_export::assets(
        &state,
        auth.scope.clone(),
        company,
        query,
        zone,
    ))
}

#[derive(Template)]
#[template(path = "portal/asset.html")]
struct AssetPage {
    chrome: Chrome,
    heading: String,
    asset: Asset,
    shown: ShownFields,
    can_report: bool,
    /// Change requests are on for the company and the reader may raise them.
    can_request_change: bool,
    /// The maintenance that touched it, latest first (`None` with the section off).
    maintenance: Option<Vec<portico_store::scoped::maintenance::MaintenanceRecord>>,
}

impl AssetPage {
    fn shows(&self, field: AssetField) -> bool {
        self.shown.shows(&field)
    }
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(id): IdPath<AssetId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let (asset, shown) = tx.asset_as_shown(company, id).await?;
    let maintenance = if auth
        .scope
        .may(portico_core::Action::ViewSection(
            portico_core::Section::Maintenance,
        ))
        .is_ok()
    {
        Some(tx.asset_maintenance(company, id).await?)
    } else {
        None
    };
    tx.commit().await?;
    let heading = heading(&auth);
    Ok(render::ok(&AssetPage {
        chrome: Chrome::signed_in(&auth, &asset.name, "/assets"),
        heading,
        can_report: auth
            .scope
            .may(portico_core::Action::ContributeTickets)
            .is_ok(),
        can_request_change: auth.scope.may(portico_core::Action::RequestChanges).is_ok(),
        maintenance,
        asset,
        shown,
    }))
}
