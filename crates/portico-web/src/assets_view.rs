//! What both surfaces' asset lists share: reading the list's filters from the address, and the
//! list itself (one template, included by the portal's page and the console's).

use askama::Template;
use portico_core::{AssetField, AssetKind, SiteId, Zone};
use portico_store::scoped::assets::{AssetPage, AssetQuery, AssetSort, PAGE_SIZE, WarrantyFilter};
use serde::Deserialize;

use crate::error::WebError;

/// A list's filters as the address carries them.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct AssetListQuery {
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub kind: String,
    /// `30`, `60`, `90`, `365` (days ahead) or `ended`.
    #[serde(default)]
    pub warranty: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    /// From 1.
    #[serde(default)]
    pub page: String,
    /// The console's archived assets.
    #[serde(default)]
    pub archived: String,
}

/// The warranty choices a list offers: (value, label).
pub(crate) const WARRANTY_CHOICES: &[(&str, &str)] = &[
    ("30", "Ending within 30 days"),
    ("60", "Ending within 60 days"),
    ("90", "Ending within 90 days"),
    ("365", "Ending within a year"),
    ("ended", "Ended"),
];

impl AssetListQuery {
    /// The store's query, for a reader in `zone` at `now` (warranties count on their calendar).
    /// A filter that names nothing real is a bad request rather than a silently empty list.
    pub(crate) fn to_query(&self, zone: &Zone, now: i64) -> Result<AssetQuery, WebError> {
        let bad = |what: &str| WebError::BadRequest(format!("That {what} filter is not valid."));
        let site = match self.site.as_str() {
            "" => None,
            text => Some(SiteId::parse(text).ok_or_else(|| bad("site"))?),
        };
        let kind = match self.kind.as_str() {
            "" => None,
            text => Some(AssetKind::parse(text).ok_or_else(|| bad("type"))?),
        };
        let today = || zone.date_after(now, 0).ok_or_else(|| bad("warranty"));
        let warranty = match self.warranty.as_str() {
            "" => None,
            "ended" => Some(WarrantyFilter::Ended { today: today()? }),
            days => {
                let days: i64 = days
                    .parse()
                    .ok()
                    .filter(|d| WARRANTY_CHOICES.iter().any(|(v, _)| *v == days) && *d > 0)
                    .ok_or_else(|| bad("warranty"))?;
                Some(WarrantyFilter::EndingBy {
                    today: today()?,
                    until: zone.date_after(now, days).ok_or_else(|| bad("warranty"))?,
                })
            }
        };
        let sort = match self.sort.as_str() {
            "" => AssetSort::Name,
            text => AssetSort::parse(text).ok_or_else(|| bad("sort"))?,
        };
        let page = match self.page.as_str() {
            "" => 0,
            text => {
                text.parse::<i64>()
                    .ok()
                    .filter(|p| (1..=100_000).contains(p))
                    .ok_or_else(|| bad("page"))?
                    - 1
            }
        };
        Ok(AssetQuery {
            site,
            kind,
            warranty,
            search: self.q.chars().take(100).collect(),
            sort,
            page,
            archived: !self.archived.is_empty(),
        })
    }

    /// This list's address with another page (from 1), every filter kept.
    pub(crate) fn page_link(&self, base: &str, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (name, value) in [
            ("site", &self.site),
            ("kind", &self.kind),
            ("warranty", &self.warranty),
            ("q", &self.q),
            ("sort", &self.sort),
            ("archived", &self.archived),
        ] {
            if !value.is_empty() {
                pairs.push((name, value.clone()));
            }
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        if pairs.is_empty() {
            return base.to_owned();
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{base}?{query}")
    }
}

/// The list with its filters, included by both surfaces' pages.
#[derive(Template)]
#[template(path = "partials/asset_list.html")]
pub(crate) struct AssetList {
    /// The list's address (`/assets`, `/companies/<id>/assets`); an asset's is `<base>/<id>`.
    pub base: String,
    pub filters: AssetListQuery,
    pub list: AssetPage,
    pub sites: Vec<(String, String)>,
    pub zone: Zone,
    /// The page shown, from 1, and the last one.
    pub page: i64,
    pub pages: i64,
    pub kinds: &'static [AssetKind],
    pub sorts: [AssetSort; 5],
    pub warranties: &'static [(&'static str, &'static str)],
}

impl AssetList {
    pub(crate) fn new(
        base: String,
        filters: AssetListQuery,
        query: &AssetQuery,
        mut list: AssetPage,
        zone: Zone,
    ) -> AssetList {
        let sites = std::mem::take(&mut list.sites);
        let pages = ((list.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        AssetList {
            base,
            filters,
            page: query.page + 1,
            pages,
            list,
            sites,
            zone,
            kinds: AssetKind::ALL,
            sorts: AssetSort::ALL,
            warranties: WARRANTY_CHOICES,
        }
    }

    fn shows(&self, field: AssetField) -> bool {
        self.list.shown.shows(&field)
    }

    fn first_shown(&self) -> i64 {
        if self.list.total == 0 {
            0
        } else {
            (self.page - 1) * PAGE_SIZE + 1
        }
    }

    fn last_shown(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE + self.list.assets.len() as i64
    }

    fn link(&self, page: i64) -> String {
        self.filters.page_link(&self.base, page)
    }

    /// The list's matches as CSV: the same filters, every page.
    fn export_link(&self) -> String {
        self.filters.page_link(&format!("{}.csv", self.base), 1)
    }

    fn filtered(&self) -> bool {
        let f = &self.filters;
        !(f.site.is_empty() && f.kind.is_empty() && f.warranty.is_empty() && f.q.is_empty())
    }
}
