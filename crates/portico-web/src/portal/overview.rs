//! P1 Overview: ticket figures, plan and rates for billing-entitled users, recent tickets and the
//! workspace's welcome text.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, Principal, Section};
use portico_store::scoped::companies::Billing;
use portico_store::scoped::overview::OverviewFigures;
use portico_store::scoped::tickets::{
    PortalPage, PortalTicket, StatusFilter, TicketKpis, TicketQuery,
};

use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "portal/overview.html")]
struct OverviewPage<'a> {
    chrome: Chrome,
    heading: String,
    welcome: String,
    /// `None` when the Tickets section is off: the overview then says nothing about tickets.
    kpis: Option<TicketKpis>,
    recent: &'a [PortalTicket],
    tickets_label: String,
    /// Present only for billing-entitled users.
    plan: Option<(String, Option<Billing>)>,
    /// Devices, warranties, included hours and maintenance: each only with its section open.
    figures: OverviewFigures,
}

impl OverviewPage<'_> {
    fn hours(minutes: &i64) -> String {
        portico_store::scoped::companies::hours_text(*minutes)
    }

    fn has_figures(&self) -> bool {
        self.kpis.is_some()
            || self.figures.devices.is_some()
            || self.figures.included_used.is_some()
            || self.figures.open_changes.is_some()
            || !self.figures.compliance.is_empty()
            || self.figures.backup.is_some()
            || self.figures.open_alerts.is_some()
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    mut auth: Auth,
) -> Result<Response, WebError> {
    // Figures and recent tickets kept by this instance are served as of the versions read with
    // the session, both alike; when nothing changed the page reads nothing more.
    let versions = auth.fresh_versions();
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    // The portal's front door, where sign-in lands: with the Overview switched off it leads to
    // the first section the company has on (the profile is always on).
    if auth
        .scope
        .may(Action::ViewSection(Section::Overview))
        .is_err()
    {
        let first = portal
            .navigation()
            .find_map(|(section, _)| section.portal_path())
            .unwrap_or("/profile");
        return Ok(see_other(first));
    }
    let mut tx = state.store.scoped(&auth.scope).await?;
    let tickets_on = auth.scope.may(Action::ViewTickets).is_ok();
    let (kpis, recent) = if tickets_on {
        let kpis = tx.ticket_kpis(versions.as_ref()).await?;
        let recent = tx
            .portal_tickets(
                &TicketQuery {
                    status: StatusFilter::All,
                    company: None,
                    limit: 5,
                    offset: 0,
                    ..TicketQuery::default()
                },
                versions,
            )
            .await?;
        (Some(kpis), Some(recent))
    } else {
        (None, None)
    };
    let figures = tx
        .overview_figures(portal.company_id(), auth.principal.zone())
        .await?;
    let plan = if auth.scope.billing() {
        Some(tx.plan(portal.company_id()).await?)
    } else {
        None
    };
    tx.commit().await?;
    let heading = portal
        .section_label(Section::Overview)
        .unwrap_or("Overview")
        .to_owned();
    Ok(render::ok(&OverviewPage {
        chrome: Chrome::signed_in(&auth, &heading, "/"),
        heading,
        welcome: auth.site.branding.welcome_text.clone(),
        kpis,
        recent: recent.as_deref().map_or(&[], PortalPage::tickets),
        tickets_label: portal
            .section_label(Section::Tickets)
            .unwrap_or("Tickets")
            .to_owned(),
        plan,
        figures,
    }))
}
