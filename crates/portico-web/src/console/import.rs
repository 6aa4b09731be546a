//! CSV import (I3, C5): upload a file of companies, sites, contacts or assets, see what it would
//! do row by row (with every row's problems), then apply it — all of it or nothing. The file is
//! kept between the two steps, so what is applied is exactly what was previewed; importing the
//! same file again changes nothing.

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, ImportColumn, ImportId, ImportKind};
use portico_store::StoreError;
use portico_store::scoped::imports::{ImportOutcome, ImportRow, ImportTable, MAX_ROWS};

use crate::auth::{Auth, SignedForm};
use crate::csv_export::download;
use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// Companies offered as the rows' company, at most.
const COMPANY_CHOICES: i64 = 2_000;

/// Reads a CSV file into a table: the first record is the header; every record keeps the line
/// it starts on, for the problems to point at. Rows of nothing but empty cells are skipped.
fn read_table(bytes: &[u8]) -> Result<ImportTable, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut table = ImportTable::default();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => format!(
                        "Line {line} is not UTF-8 text: save the file as \"CSV UTF-8\" and upload it again."
                    ),
                    _ => format!("The file could not be read as CSV near line {line}."),
                });
            }
        }
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if first {
            table.headers = cells;
            first = false;
            continue;
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if table.rows.len() == MAX_ROWS {
            return Err(format!(
                "A file may hold at most {MAX_ROWS} rows; split it in parts."
            ));
        }
        table.rows.push(ImportRow {
            line: record.position().map(|p| p.line()).unwrap_or(0),
            cells,
        });
    }
    if table.headers.iter().all(|h| h.trim().is_empty()) {
        return Err("The file is empty: its first line names the columns.".into());
    }
    Ok(table)
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    chrome: Chrome,
    kinds: Vec<(ImportKind, &'static [ImportColumn])>,
    custom_fields: Vec<String>,
    companies: Vec<(CompanyId, String)>,
    kind: String,
    company: String,
    error: String,
    notice: String,
}

async fn import_page(
    state: &AppState,
    auth: &Auth,
    kind: String,
    company: String,
    error: String,
    notice: String,
) -> Result<ImportPage, WebError> {
    auth.scope.may(Action::ManageCompanyRecords)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let companies = tx.company_names(COMPANY_CHOICES).await?;
    let custom_fields = tx
        .custom_asset_fields()
        .await?
        .into_iter()
        .map(|f| f.label)
        .collect();
    tx.commit().await?;
    let may_companies = auth.scope.may(Action::ManageCompanies).is_ok();
    Ok(ImportPage {
        chrome: Chrome::signed_in(auth, "Import", "/companies"),
        kinds: ImportKind::ALL
            .iter()
            .filter(|k| **k != ImportKind::Companies || may_companies)
            .map(|k| (*k, k.columns()))
            .collect(),
        custom_fields,
        companies,
        kind,
        company,
        error,
        notice,
    })
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct ImportQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    created: u64,
    #[serde(default)]
    updated: u64,
    #[serde(default)]
    unchanged: u64,
    #[serde(default)]
    kind: String,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ImportQuery>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_str() {
        "applied" => format!(
            "Imported: {} added, {} changed, {} already as the file says.",
            query.created, query.updated, query.unchanged
        ),
        "again" => "This file was applied already; nothing was changed again.".to_owned(),
        _ => String::new(),
    };
    let kind = if ImportKind::parse(&query.kind).is_some() {
        query.kind
    } else {
        ImportKind::Assets.as_str().to_owned()
    };
    Ok(render::ok(
        &import_page(&state, &auth, kind, String::new(), String::new(), notice).await?,
    ))
}

/// An empty file with the kind's columns, to fill in.
pub(crate) async fn template(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ImportQuery>,
) -> Result<Response, WebError> {
    let kind = if query.kind.is_empty() {
        ImportKind::Assets
    } else {
        ImportKind::parse(&query.kind)
            .ok_or_else(|| WebError::BadRequest("There is no such import.".into()))?
    };
    let mut tx = state.store.scoped(&auth.scope).await?;
    tx.may_import(kind)?;
    let mut headers: Vec<String> = kind.columns().iter().map(|c| c.header.to_owned()).collect();
    if kind == ImportKind::Assets {
        headers.extend(tx.custom_asset_fields().await?.into_iter().map(|f| f.label));
    }
    tx.commit().await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(&headers)
        .map_err(|e| WebError::Internal(format!("writing a CSV header: {e}")))?;
    let bytes = writer
        .into_inner()
        .map_err(|e| WebError::Internal(format!("writing a CSV header: {e}")))?;
    Ok(download(
        &format!("{}.csv", kind.as_str()),
        Body::from(bytes),
    ))
}

#[derive(Template)]
#[template(path = "console/import_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    import_id: ImportId,
    kind: ImportKind,
    file_name: String,
    company_name: Option<String>,
    outcome: ImportOutcome,
    /// Shown after an apply found the file no longer applies (the records changed meanwhile).
    applying: bool,
}

impl PreviewPage {
    fn more_problems(&self) -> u64 {
        self.outcome.problem_count - self.outcome.problems.len() as u64
    }
}

/// What running a kept file came to.
enum Ran {
    /// Applied and committed.
    Applied(ImportOutcome),
    /// Applied before (by an earlier click); nothing done.
    AppliedBefore,
    /// A preview, or a file that did not apply cleanly: nothing changed; the page says why.
    Shown(Box<PreviewPage>),
}

/// Runs a kept file: a preview (rolled back) or for good (committed only when clean).
async fn run(state: &AppState, auth: &Auth, id: ImportId, preview: bool) -> Result<Ran, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let pending = tx.pending_import(id).await?;
    tx.may_import(pending.kind)?;
    let company_name = match pending.company {
        Some(company) => Some(tx.company(company).await?.name),
        None => None,
    };
    // Claimed first, in this transaction: a second click waits here and finds it applied.
    if !preview && !tx.claim_import(id).await? {
        return Ok(Ran::AppliedBefore);
    }
    let outcome = match read_table(pending.content.as_bytes()) {
        Ok(table) => {
            tx.run_import(pending.kind, &table, pending.company, preview)
                .await?
        }
        Err(message) => ImportOutcome {
            problem_count: 1,
            problems: vec![portico_store::scoped::imports::RowProblem {
                line: 0,
                column: String::new(),
                message,
            }],
            ..ImportOutcome::default()
        },
    };
    if !preview && outcome.is_clean() {
        crate::user_admin::queue_imported_invitations(
            state,
            auth.into(),
            &mut tx,
            &outcome.invitations,
        )
        .await?;
        tx.commit().await?;
        return Ok(Ran::Applied(outcome));
    }
    // A preview, or a file that does not apply cleanly, changes nothing.
    drop(tx);
    Ok(Ran::Shown(Box::new(PreviewPage {
        chrome: Chrome::signed_in(auth, "Import preview", "/companies"),
        import_id: id,
        kind: pending.kind,
        file_name: pending.file_name,
        company_name,
        outcome,
        applying: !preview,
    })))
}

/// Takes an uploaded file, keeps it, and shows what it would do.
pub(crate) async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let unreadable = || WebError::BadRequest("The upload could not be read.".into());
    let (mut csrf, mut kind, mut company) = (String::new(), String::new(), String::new());
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(|_| unreadable())?,
            "kind" => kind = field.text().await.map_err(|_| unreadable())?,
            "company" => company = field.text().await.map_err(|_| unreadable())?,
            "file" => {
                let name = field.file_name().unwrap_or("import.csv").to_owned();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                    bytes.extend_from_slice(&chunk);
                }
                if !bytes.is_empty() {
                    file = Some((name, bytes));
                }
            }
            _ => {}
        }
    }
    auth.check_csrf(&FormData::single("csrf", &csrf))?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let refuse = |error: String| async {
        let page = import_page(
            &state,
            &auth,
            kind.clone(),
            company.clone(),
            error,
            String::new(),
        )
        .await?;
        Ok::<Response, WebError>(render::refused(&page))
    };
    let Some(import_kind) = ImportKind::parse(&kind) else {
        return refuse("Choose what the file imports.".into()).await;
    };
    let chosen = match company.as_str() {
        "" => None,
        text => match CompanyId::parse(text) {
            Some(id) => Some(id),
            None => return refuse("Choose one of the companies.".into()).await,
        },
    };
    let Some((file_name, bytes)) = file else {
        return refuse("Choose a CSV file to upload.".into()).await;
    };
    let content = match std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes)) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            return refuse(
                "The file is not UTF-8 text: save it as \"CSV UTF-8\" and upload it again.".into(),
            )
            .await;
        }
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    if let Some(company) = chosen {
        // A company out of scope is not found, as everywhere.
        tx.company(company).await?;
    }
    let id = match tx
        .keep_import(import_kind, chosen, &file_name, &content)
        .await
    {
        Ok(id) => id,
        Err(StoreError::Forbidden) => return Err(StoreError::Forbidden.into()),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    match run(&state, &auth, id, true).await? {
        Ran::Shown(page) if page.outcome.is_clean() => Ok(render::ok(page.as_ref())),
        Ran::Shown(page) => Ok(render::refused(page.as_ref())),
        Ran::Applied(_) | Ran::AppliedBefore => {
            Err(WebError::Internal("a preview was applied".into()))
        }
    }
}

/// Applies a previewed file: all of it, or nothing and its problems.
pub(crate) async fn apply(
    State(state): State<AppState>,
    SignedForm { auth, path: id, .. }: SignedForm<ImportId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let pending = tx.pending_import(id).await?;
    tx.may_import(pending.kind)?;
    tx.commit().await?;
    if pending.applied_at.is_some() {
        return Ok(see_other("/import?done=again"));
    }
    match run(&state, &auth, id, false).await? {
        Ran::AppliedBefore => Ok(see_other("/import?done=again")),
        Ran::Applied(outcome) => Ok(see_other(&format!(
            "/import?done=applied&kind={}&created={}&updated={}&unchanged={}",
            pending.kind.as_str(),
            outcome.created,
            outcome.updated,
            outcome.unchanged
        ))),
        Ran::Shown(page) => Ok(render::refused(page.as_ref())),
    }
}
