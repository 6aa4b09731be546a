//! The owners' API tokens (C9): made for the workspace or one company, read or read-write,
//! with an expiry; shown once, listed with their last use, revoked at once.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{ApiTokenId, CompanyId};
use portico_store::StoreError;
use portico_store::scoped::api_tokens::{ApiAccess, ApiToken, LIFETIMES, NewApiToken};

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

async fn tokens_page(
    state: &AppState,
    auth: &Auth,
    form: Option<&FormData>,
    errors: FieldErrors,
    created: Option<String>,
    notice: &'static str,
) -> Result<TokensPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let tokens = tx.api_tokens().await?;
    let companies = tx.company_names(COMPANY_CHOICES).await?;
    tx.commit().await?;
    let links = crate::mail_links(state, auth.site.workspace_id).await?;
    let typed = |name: &str, default: &str| {
        form.map(|f| f.get(name).to_owned())
            .unwrap_or_else(|| default.to_owned())
    };
    Ok(TokensPage {
        chrome: Chrome::signed_in(auth, "API tokens", "/settings/api-tokens"),
        tokens,
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
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let notice = match query.as_deref() {
        Some("revoked") => "The token was revoked: requests with it are refused from now on.",
        _ => "",
    };
    Ok(render::ok(
        &tokens_page(&state, &auth, None, FieldErrors::default(), None, notice).await?,
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
            let page =
                tokens_page(&state, &auth, Some(&form), FieldErrors(errors), None, "").await?;
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
    Ok(see_other("/settings/api-tokens?revoked"))
}
