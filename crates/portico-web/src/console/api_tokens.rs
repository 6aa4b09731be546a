//! The owners' API tokens (C9): made for the workspace or one company, read or read-write,
//! with an expiry; shown once, listed with their last use, revoked at once.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use portico_core::{ApiTokenId, CompanyId};
use portico_store::StoreError;
use portico_store::scoped::api_tokens::{
    ApiAccess, ApiToken, ApiTokenQuery, ApiTokenState, LIFETIMES, NewApiToken,
};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/api_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<ApiToken>,
    /// The list's filter as asked (`state` is `active`, `ended` or `all`).
    search: String,
    state: &'static str,
    /// The query string of the next (older) page, when there may be one.
    older: Option<String>,
    /// Whether this page is a later one, and the link back to the newest of the same list.
    paged: bool,
    newest: String,
    /// This page's own query string.
    current: String,
    companies: Vec<(CompanyId, String)>,
    lifetimes: &'static [i64],
    now: i64,
    notice: &'static str,
    /// The form as typed (refused), or empty.
    name: String,
    company: String,
    access: String,
    lifetime: String,
    errors: FieldErrors,
    /// A token just made: shown this once.
    created: Option<String>,
    api_base: String,
}

/// How many companies the company picker offers at most.
const COMPANY_CHOICES: i64 = 2000;

/// Tokens a page lists.
const PAGE: i64 = 50;

/// The list's filter and page, from the query string.
#[derive(Default)]
struct ListParams {
    q: String,
    /// `active` (the default), `ended` or `all`.
    state: String,
    /// `<created_at>.<id>` of the last token of the previous page.
    before: String,
    /// After a revocation (the redirect's notice).
    revoked: bool,
}

impl ListParams {
    /// Read leniently, first value of each: a hand-edited link still shows a list.
    fn parse(query: Option<&str>) -> ListParams {
        let pairs = form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned();
        let form = FormData::from_pairs_owned(pairs.collect());
        ListParams {
            q: form.get("q").to_owned(),
            state: form.get("state").to_owned(),
            before: form.get("before").to_owned(),
            revoked: form.checked("revoked"),
        }
    }

    fn query(&self) -> ApiTokenQuery {
        // An unreadable cursor starts from the newest, as an unknown state shows those in
        // force: a hand-edited link still shows a list.
        let before = self
            .before
            .split_once('.')
            .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, ApiTokenId::parse(id)?)));
        ApiTokenQuery {
            state: ApiTokenState::parse(&self.state).unwrap_or_default(),
            search: self.q.chars().take(200).collect(),
            before,
            // One more than a page: whether an older page follows.
            limit: PAGE + 1,
        }
    }
}

async fn tokens_page(
    state: &AppState,
    auth: &Auth,
    list: &ListParams,
    form: Option<&FormData>,
    errors: FieldErrors,
    created: Option<String>,
    notice: &'static str,
) -> Result<TokensPage, WebError> {
    let filter = list.query();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mut tokens = tx.api_tokens(&filter).await?;
    let companies = tx.company_names(COMPANY_CHOICES).await?;
    tx.commit().await?;
    // The list's own query string, to which the older page adds where it starts.
    let newest = {
        let mut same_list = form_urlencoded::Serializer::new(String::new());
        if !filter.search.is_empty() {
            same_list.append_pair("q", &filter.search);
        }
        if filter.state != ApiTokenState::Active {
            same_list.append_pair("state", filter.state.as_str());
        }
        same_list.finish()
    };
    let more = tokens.len() as i64 > PAGE;
    tokens.truncate(PAGE as usize);
    let at = |before: &str| {
        let mut query = form_urlencoded::Serializer::new(newest.clone());
        query.append_pair("before", before);
        query.finish()
    };
    let older = match tokens.last() {
        Some(last) if more => Some(at(&format!("{}.{}", last.created_at, last.id))),
        _ => None,
    };
    // Where a revocation comes back to: this very page.
    let current = match filter.before {
        Some((created, id)) => at(&format!("{created}.{id}")),
        None => newest.clone(),
    };
    let links = crate::mail_links(state, auth.site.workspace_id).await?;
    let typed = |name: &str, default: &str| {
        form.map(|f| f.get(name).to_owned())
            .unwrap_or_else(|| default.to_owned())
    };
    Ok(TokensPage {
        chrome: Chrome::signed_in(auth, "API tokens", "/settings/api-tokens"),
        tokens,
        search: filter.search,
        state: filter.state.as_str(),
        older,
        paged: filter.before.is_some(),
        newest,
        current,
        companies,
        lifetimes: LIFETIMES,
        now: portico_store::now(),
        notice,
        name: typed("name", ""),
        company: typed("company", ""),
        access: typed("access", "read"),
        lifetime: typed("lifetime", "90"),
        errors,
        created,
        api_base: format!("{}/api/v1", links.console),
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let list = ListParams::parse(query.as_deref());
    let notice = if list.revoked {
        "The token was revoked: requests with it are refused from now on."
    } else {
        ""
    };
    Ok(render::ok(
        &tokens_page(
            &state,
            &auth,
            &list,
            None,
            FieldErrors::default(),
            None,
            notice,
        )
        .await?,
    ))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = match form.get("company") {
        "" => Ok(None),
        text => CompanyId::parse(text).map(Some).ok_or(()),
    };
    let new = NewApiToken {
        name: form.get("name"),
        // An unreadable company id is refused like a foreign one.
        company: company.unwrap_or(Some(CompanyId::new())),
        access: ApiAccess::parse(form.get("access")),
        lifetime_days: form.get("lifetime").parse().ok(),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.create_api_token(&new).await {
        Ok(secret) => {
            tx.commit().await?;
            let page = tokens_page(
                &state,
                &auth,
                &ListParams::default(),
                None,
                FieldErrors::default(),
                Some(secret),
                "",
            )
            .await?;
            Ok(render::secret_once(&page))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = tokens_page(
                &state,
                &auth,
                &ListParams::default(),
                Some(&form),
                FieldErrors(errors),
                None,
                "",
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    // An unreadable id is answered like a token of nobody's (after the permission check).
    let id = ApiTokenId::parse(form.get("token")).unwrap_or_default();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.revoke_api_token(id).await?;
    tx.commit().await?;
    // Back to the page the token was revoked from: its query read as a list's and written
    // again, so nothing but a list's own parameters goes into the address.
    let list = ListParams::parse(Some(form.get("list")));
    let mut back = form_urlencoded::Serializer::new(String::from("revoked"));
    for (key, value) in [
        ("q", &list.q),
        ("state", &list.state),
        ("before", &list.before),
    ] {
        if !value.is_empty() {
            back.append_pair(key, value);
        }
    }
    Ok(see_other(&format!(
        "/settings/api-tokens?{}",
        back.finish()
    )))
}
