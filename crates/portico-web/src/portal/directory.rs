//! P19 Users, the directory half: the company's Microsoft 365 users as the connector last read
//! them (licences, MFA registration, last sign-in), each with *Request change* into the change
//! requests (add, remove, change licence, reset MFA: staff carry it out). Client admins only,
//! as the whole Users section.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, Section};
use portico_store::scoped::licences::{DirectoryPage, DirectoryShow};

use super::licences::heading;
use super::tickets::acting_company;
use crate::auth::{Auth, SignedForm};
use crate::console::licences::DirectoryQuery;
use crate::error::WebError;
use crate::licence_view::{FreshnessLine, refresh_done, refresh_notice};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "portal/directory.html")]
struct DirectoryUsersPage {
    chrome: Chrome,
    heading: String,
    page: DirectoryPage,
    fresh: FreshnessLine,
    base: String,
    q: String,
    show: DirectoryShow,
    shows: &'static [DirectoryShow],
    zone: portico_core::Zone,
    request_base: Option<String>,
    next_href: Option<String>,
    notice: &'static str,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DirectoryQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth, Section::Users)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx
        .directory_users(
            company,
            query.show(),
            &query.q,
            query.after(),
            portico_store::scoped::licences::DIRECTORY_PAGE,
        )
        .await?;
    let freshness = tx.connector_freshness(company, Section::Users).await?;
    tx.commit().await?;
    let title = format!("Microsoft 365 users — {heading}");
    let chrome = Chrome::signed_in(&auth, &title, "/users");
    let may_change = auth.scope.view_as().is_none();
    let base = "/users/directory".to_owned();
    let next_href = crate::licence_view::next_directory_page(&base, query.show(), &query.q, &page);
    Ok(render::ok(&DirectoryUsersPage {
        next_href,
        fresh: FreshnessLine::new(
            freshness,
            "/users/directory/refresh",
            &chrome,
            &auth,
            Section::Users,
        ),
        zone: chrome.zone.clone(),
        chrome,
        heading,
        page,
        base,
        show: query.show(),
        q: query.q.clone(),
        shows: DirectoryShow::ALL,
        request_base: (may_change && auth.scope.may(Action::RequestChanges).is_ok())
            .then(|| "/changes/new".to_owned()),
        notice: refresh_done(&query.done),
    }))
}

pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let outcome = tx.refresh_connector_data(company, Section::Users).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/users/directory?done={}",
        refresh_notice(outcome)
    )))
}
