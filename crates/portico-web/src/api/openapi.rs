//! The API's description, generated from the handlers and types themselves: served as OpenAPI
//! 3.1 JSON at `/api/v1/openapi.json`, and rendered for people on the console's API reference
//! page.

use std::sync::LazyLock;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{
    archiving, assets, backups, companies, company_records, licences, portal_users, records,
    security_alerts, tickets, work,
};
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico API",
        version = "1",
        description = "The records of the console, for the MSP's own tools. Every request carries an API token \
            (`Authorization: Bearer portico_…`) made by an owner under Settings → API tokens; it reaches what the \
            token reaches (every company, or one) and nothing else: another company's records answer 404, as \
            missing ones do. Lists page by cursor (`next_cursor`), every answer carries an `ETag` for \
            `If-None-Match`, a POST with an `Idempotency-Key` is carried out once, errors are problem details \
            (RFC 9457), and each token has a request budget (`429` with `Retry-After` when spent)."
    ),
    paths(
        super::token,
        companies::list,
        companies::one,
        companies::sites,
        companies::contacts,
        company_records::create_company,
        company_records::replace_company,
        company_records::create_site,
        company_records::replace_site,
        company_records::create_contact,
        company_records::replace_contact,
        archiving::archive_company,
        archiving::restore_company,
        archiving::archive_site,
        archiving::restore_site,
        archiving::archive_contact,
        archiving::restore_contact,
        companies::users,
        portal_users::invite,
        portal_users::disable,
        portal_users::enable,
        assets::list,
        assets::one,
        assets::create,
        assets::replace,
        archiving::archive_asset,
        archiving::restore_asset,
        tickets::list,
        tickets::create,
        tickets::one,
        tickets::change,
        tickets::reply,
        records::maintenance,
        records::maintenance_record,
        records::create_maintenance,
        records::replace_maintenance,
        records::invoices,
        records::invoice,
        records::create_invoice,
        records::replace_invoice,
        records::set_invoice_status,
        records::change_requests,
        records::change_request,
        records::assign_change_request,
        records::decide_change_request,
        licences::licences,
        licences::directory_users,
        licences::push_licences,
        licences::push_directory_users,
        security_alerts::list,
        security_alerts::push,
        backups::list,
        backups::push,
        work::month,
        work::log,
    ),
    modifiers(&BearerTokens, &ProblemDetails),
    tags(
        (name = "Token", description = "The token a request carries."),
        (name = "Companies", description = "The MSP's clients, their sites, contacts and portal users."),
        (name = "Assets", description = "Devices and other things the MSP looks after."),
        (name = "Tickets", description = "The service desk: tickets, replies and internal notes."),
        (name = "Records", description = "Maintenance, invoices, change requests, time, and what connectors read: licences and directory users."),
    )
)]
struct ApiDoc;

/// Declares the bearer tokens every operation names.
struct BearerTokens;

impl utoipa::Modify for BearerTokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token made by an owner: `portico_` and 64 hex digits.",
                    ))
                    .build(),
            ),
        );
    }
}

/// What every operation may answer, declared once: `304` to a read whose `ETag` matches, `401`
/// without a valid token, `429` once the token's budget is spent. And errors are problem
/// details (RFC 9457): every answer of 400 and above is declared as `application/problem+json`,
/// as it is sent.
struct ProblemDetails;

impl utoipa::Modify for ProblemDetails {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            for (read, op) in [
                (true, &mut item.get),
                (false, &mut item.post),
                (false, &mut item.put),
                (false, &mut item.patch),
                (false, &mut item.delete),
            ] {
                let Some(op) = op else {
                    continue;
                };
                let problem = |description: &str| {
                    utoipa::openapi::ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/problem+json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build()
                };
                let responses = &mut op.responses.responses;
                if read {
                    // Every read answers with an ETag.
                    responses.insert(
                        "304".to_owned(),
                        RefOr::T(
                            utoipa::openapi::ResponseBuilder::new()
                                .description("Unchanged since the `ETag` sent in `If-None-Match`")
                                .build(),
                        ),
                    );
                }
                responses.insert("401".to_owned(), RefOr::T(problem("No valid token")));
                responses.insert(
                    "429".to_owned(),
                    RefOr::T(problem("The token's request budget is spent")),
                );
                for (status, response) in op.responses.responses.iter_mut() {
                    if status.as_str() < "400" {
                        continue;
                    }
                    if let RefOr::T(response) = response
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert("application/problem+json".to_owned(), content);
                    }
                }
            }
        }
    }
}

/// The description as JSON, made once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

/// `GET /api/v1/openapi.json`: the same for every workspace, and no secret.
pub(crate) async fn document(headers: HeaderMap) -> Response {
    let etag = super::etag_of(DOCUMENT.as_bytes());
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if unchanged {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        DOCUMENT.as_str().into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Text from the description, its `code` spans apart so that the page can set them as code
/// (the template escapes both).
#[derive(Default)]
struct Prose(Vec<(bool, String)>);

impl Prose {
    fn of(text: &str) -> Prose {
        Prose(
            text.split('`')
                .enumerate()
                .filter(|(_, part)| !part.is_empty())
                .map(|(i, part)| (i % 2 == 1, part.to_owned()))
                .collect(),
        )
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One operation as the reference page shows it.
struct Operation {
    method: String,
    /// The path in pieces that each begin with `/`, so that a narrow screen breaks it there.
    path: Vec<String>,
    anchor: String,
    summary: Prose,
    description: Prose,
    params: Vec<Field>,
    body: Option<String>,
    responses: Vec<(String, Prose, Option<String>)>,
}

/// A parameter, or a property of a schema.
struct Field {
    name: String,
    place: String,
    kind: String,
    required: bool,
    description: Prose,
}

/// A schema as the reference page shows it.
struct Schema {
    name: String,
    description: Prose,
    fields: Vec<Field>,
}

struct Tag {
    name: String,
    description: Prose,
    operations: Vec<Operation>,
}

#[derive(Template)]
#[template(path = "console/api_reference.html")]
struct ReferencePage {
    chrome: Chrome,
    api_base: String,
    intro: Prose,
    tags: Vec<Tag>,
    schemas: Vec<Schema>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn prose(v: &Value, key: &str) -> Prose {
    Prose::of(v.get(key).and_then(Value::as_str).unwrap_or(""))
}

/// The name of a `$ref`'d schema, or a short description of an inline one.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let kinds: Vec<String> = options.iter().map(type_of).collect();
        return kinds.join(" or ");
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        Some(Value::String(kind)) => kind.clone(),
        _ => "any".to_owned(),
    };
    if kind.starts_with("array") {
        let items = schema.get("items").map(type_of).unwrap_or_default();
        return format!("array of {items}");
    }
    match schema.get("format").and_then(Value::as_str) {
        Some(format) => format!("{kind} ({format})"),
        None => kind,
    }
}

fn fields_of(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<Field> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| Field {
                    name: name.clone(),
                    place: String::new(),
                    kind: type_of(p),
                    required: required.contains(&name.as_str()),
                    description: prose(p, "description"),
                })
                .collect()
        })
        .unwrap_or_default();
    // A flattened type is written as `allOf` of its parts.
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            fields.extend(fields_of(part));
            if let Some(r) = part.get("$ref").and_then(Value::as_str) {
                fields.push(Field {
                    name: format!("(every field of {})", r.rsplit('/').next().unwrap_or(r)),
                    place: String::new(),
                    kind: String::new(),
                    required: false,
                    description: Prose::default(),
                });
            }
        }
    }
    fields
}

fn reference(doc: &Value) -> (Prose, Vec<Tag>, Vec<Schema>) {
    let intro = Prose::of(
        doc.pointer("/info/description")
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let mut tags: Vec<Tag> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| Tag {
                    name: text(t, "name"),
                    description: prose(t, "description"),
                    operations: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let tag = op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let params = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| Field {
                                name: text(p, "name"),
                                place: text(p, "in"),
                                kind: p.get("schema").map(type_of).unwrap_or_default(),
                                required: p.get("required").and_then(Value::as_bool) == Some(true),
                                description: prose(p, "description"),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = op
                    .pointer("/requestBody/content/application~1json/schema")
                    .map(type_of);
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|rs| {
                        rs.iter()
                            .map(|(status, r)| {
                                let schema = r
                                    .pointer("/content/application~1json/schema")
                                    .or_else(|| {
                                        r.pointer("/content/application~1problem+json/schema")
                                    })
                                    .map(type_of);
                                (status.clone(), prose(r, "description"), schema)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let (summary, description) = {
                    let summary = text(op, "summary");
                    let description = text(op, "description");
                    if summary.is_empty() {
                        (Prose::of(&description), Prose::default())
                    } else {
                        (Prose::of(&summary), Prose::of(&description))
                    }
                };
                let operation = Operation {
                    method: method.to_ascii_uppercase(),
                    anchor: format!(
                        "{method}-{}",
                        path.trim_start_matches('/')
                            .replace(['/', '{', '}'], "-")
                            .trim_end_matches('-')
                    ),
                    path: path.split_inclusive('/').map(str::to_owned).collect(),
                    summary,
                    description,
                    params,
                    body,
                    responses,
                };
                match tags.iter_mut().find(|t| t.name == tag) {
                    Some(t) => t.operations.push(operation),
                    None => tags.push(Tag {
                        name: tag,
                        description: Prose::default(),
                        operations: vec![operation],
                    }),
                }
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, s)| Schema {
                    name: name.clone(),
                    description: prose(s, "description"),
                    fields: fields_of(s),
                })
                .collect()
        })
        .unwrap_or_default();
    (intro, tags, schemas)
}

/// `GET /api`: the API's reference, for the workspace's staff.
pub(crate) async fn page(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let doc: Value = serde_json::from_str(&DOCUMENT)
        .map_err(|e| WebError::Internal(format!("the API description: {e}")))?;
    let (intro, tags, schemas) = reference(&doc);
    let links = crate::mail_links(&state, auth.scope.workspace()).await?;
    Ok(render::ok(&ReferencePage {
        chrome: Chrome::signed_in(&auth, "API reference", "/settings"),
        api_base: format!("{}/api/v1", links.console),
        intro,
        tags,
        schemas,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_openapi_3_1_with_every_operation_and_its_schemas() {
        let doc: Value = serde_json::from_str(&DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let (_, tags, schemas) = reference(&doc);
        let operations: usize = tags.iter().map(|t| t.operations.len()).sum();
        // Every route under /api/v1 is described, but the description itself.
        let routes = crate::registry::route_table()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/v1/") && r.path != "/api/v1/openapi.json")
            .count();
        assert_eq!(operations, routes);
        for name in ["Company", "TicketPage", "NewTicket", "Problem", "AssetBody"] {
            assert!(schemas.iter().any(|s| s.name == name), "{name}");
        }
        // Every operation needs a token, and says so.
        for tag in &tags {
            for op in &tag.operations {
                assert!(!op.summary.is_empty(), "{} {:?}", op.method, op.path);
            }
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
    }
}
