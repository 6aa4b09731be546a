//! Lists as CSV (I3, C5): the same store reads as the pages, so an export holds exactly what its
//! list would show its reader (hidden fields are empty there, and absent here), streamed a page
//! of rows at a time so that an export of any size costs flat memory.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portico_core::{AssetField, AssetId, CompanyId, Scope, Zone};
use portico_store::scoped::assets::{Asset, AssetQuery, ShownFields};

use crate::AppState;

/// Rows read per statement while streaming.
const CHUNK: i64 = 500;

/// A cell as written: text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) is
/// prefixed with an apostrophe, so that opening an export never runs what someone typed.
pub(crate) fn cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One CSV record as bytes.
pub(crate) fn record<'a>(fields: impl IntoIterator<Item = Cow<'a, str>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(fields.into_iter().map(|f| f.into_owned()));
    writer.into_inner().unwrap_or_default()
}

/// An amount in cents as a spreadsheet reads it, without currency or grouping: `1234.50`.
fn plain_amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A CSV download named `filename` (letters, digits, `-` and `.` only).
pub(crate) fn download(filename: &str, body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// The built-in columns after name, type and site, those the reader is shown.
const ASSET_COLUMNS: &[AssetField] = &[
    AssetField::Manufacturer,
    AssetField::Model,
    AssetField::Serial,
    AssetField::Os,
    AssetField::WarrantyEnd,
    AssetField::PurchasedOn,
    AssetField::LastSeen,
    AssetField::AssignedUser,
    AssetField::Notes,
];

fn asset_header(shown: &ShownFields, sites: bool) -> Vec<u8> {
    let mut fields: Vec<Cow<str>> = vec!["Name".into(), "Type".into()];
    if sites {
        fields.push("Site".into());
    }
    fields.extend(
        ASSET_COLUMNS
            .iter()
            .filter(|f| shown.shows(f))
            .map(|f| Cow::Borrowed(f.label())),
    );
    record(fields)
}

fn asset_row(asset: &Asset, shown: &ShownFields, sites: bool, zone: &Zone) -> Vec<u8> {
    let mut fields: Vec<Cow<str>> = vec![cell(&asset.name), asset.kind.label().into()];
    if sites {
        fields.push(cell(asset.site_name.as_deref().unwrap_or("")));
    }
    for field in ASSET_COLUMNS.iter().filter(|f| shown.shows(f)) {
        let value: Cow<str> = match field {
            AssetField::Manufacturer => cell(&asset.manufacturer),
            AssetField::Model => cell(&asset.model),
            AssetField::Serial => cell(&asset.serial),
            AssetField::Os => cell(&asset.os),
            AssetField::WarrantyEnd => asset.warranty_end.as_deref().unwrap_or("").into(),
            AssetField::PurchasedOn => asset.purchased_on.as_deref().unwrap_or("").into(),
            AssetField::LastSeen => asset
                .last_seen_at
                .map(|at| zone.local_input(at).replace('T', " "))
                .unwrap_or_default()
                .into(),
            AssetField::AssignedUser => cell(&asset.assigned_user),
            AssetField::Notes => cell(&asset.notes),
        };
        fields.push(value);
    }
    record(fields)
}

/// A company's assets matching `query` as the reader's list would show them, streamed: each
/// chunk is read in its own short transaction through the reader's scope.
pub(crate) fn assets(
    state: &AppState,
    scope: Scope,
    company: CompanyId,
    query: AssetQuery,
    zone: Zone,
) -> Response {
    struct Cursor {
        after: Option<(String, AssetId)>,
        first: bool,
        done: bool,
    }
    let store = state.store.clone();
    // An own-tickets-only reader is shown no site, so the export has no such column.
    let sites = scope.requester().is_none();
    let start = Cursor {
        after: None,
        first: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, move |mut cursor| {
        let (store, scope, query, zone) =
            (store.clone(), scope.clone(), query.clone(), zone.clone());
        async move {
            if cursor.done {
                return None;
            }
            let read = async {
                let mut tx = store.scoped(&scope).await?;
                let after = cursor.after.as_ref().map(|(name, id)| (name.as_str(), *id));
                let page = tx.assets_after(company, &query, after, CHUNK).await?;
                tx.commit().await?;
                Ok::<_, portico_store::StoreError>(page)
            };
            let (assets, shown) = match read.await {
                Ok(page) => page,
                // The download stops short; the error is logged, never written into the file.
                Err(e) => {
                    tracing::warn!(error = %e, "asset export stopped");
                    return Some((
                        Err(std::io::Error::other("export failed")),
                        Cursor {
                            done: true,
                            ..cursor
                        },
                    ));
                }
            };
            let mut bytes = Vec::with_capacity(assets.len() * 96 + 128);
            if cursor.first {
                bytes.extend(asset_header(&shown, sites));
            }
            for asset in &assets {
                bytes.extend(asset_row(asset, &shown, sites, &zone));
            }
            cursor.first = false;
            cursor.done = (assets.len() as i64) < CHUNK;
            cursor.after = assets.last().map(|a| (a.name.clone(), a.id));
            Some((
                Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)),
                cursor,
            ))
        }
    });
    download("assets.csv", Body::from_stream(stream))
}

/// A company's contact roster (current contacts), as its reader's roster page shows it.
pub(crate) fn contacts(contacts: &[portico_store::scoped::companies::Contact]) -> Response {
    let mut bytes = record(["Name", "Title", "E-mail", "Phone", "Roles"].map(Cow::Borrowed));
    for c in contacts {
        let roles: Vec<&str> = c.roles.iter().map(|r| r.label()).collect();
        bytes.extend(record([
            cell(&c.name),
            cell(&c.title),
            cell(&c.email),
            cell(&c.phone),
            Cow::Owned(roles.join("; ")),
        ]));
    }
    download("contacts.csv", Body::from(bytes))
}

/// A company's invoices matching the list's filter, every page, latest first.
pub(crate) async fn invoices(
    state: &AppState,
    scope: &Scope,
    company: CompanyId,
    mut filter: portico_store::scoped::invoices::InvoiceFilter,
    zone: &Zone,
) -> Result<Response, crate::error::WebError> {
    let mut bytes = record(
        [
            "Invoice", "Date", "Due", "Status", "Currency", "Subtotal", "Tax", "Total",
        ]
        .map(Cow::Borrowed),
    );
    let amount = plain_amount;
    filter.page = 0;
    loop {
        let mut tx = state.store.scoped(scope).await?;
        let page = tx.invoices(company, &filter, zone).await?;
        tx.commit().await?;
        for i in &page.invoices {
            bytes.extend(record([
                Cow::Owned(i.number_text()),
                Cow::Borrowed(i.issued_on.as_str()),
                Cow::Borrowed(i.due_on.as_str()),
                Cow::Borrowed(i.status.label()),
                Cow::Borrowed(i.currency.as_str()),
                Cow::Owned(amount(i.subtotal_cents)),
                Cow::Owned(amount(i.tax_cents)),
                Cow::Owned(amount(i.total_cents)),
            ]));
        }
        if !page.more {
            break;
        }
        filter.page += 1;
    }
    Ok(download("invoices.csv", Body::from(bytes)))
}

/// A company's maintenance as its reader's page shows it: the planned windows, then every page
/// of the history (the page's kind filter applies to the history).
pub(crate) async fn maintenance(
    state: &AppState,
    scope: &Scope,
    company: CompanyId,
    mut filter: portico_store::scoped::maintenance::MaintenanceFilter,
    zone: &Zone,
) -> Result<Response, crate::error::WebError> {
    let mut bytes = record(
        [
            "Starts",
            "Ends",
            "Kind",
            "Outcome",
            "Title",
            "Summary",
            "Sites",
            "Assets",
            "Recorded by",
        ]
        .map(Cow::Borrowed),
    );
    let when = |at: i64| zone.local_input(at).replace('T', " ");
    filter.page = 0;
    loop {
        let mut tx = state.store.scoped(scope).await?;
        let list = tx.maintenance(company, &filter).await?;
        tx.commit().await?;
        let records = if filter.page == 0 {
            list.ahead
                .iter()
                .chain(list.history.iter())
                .collect::<Vec<_>>()
        } else {
            list.history.iter().collect()
        };
        for r in records {
            let sites: Vec<&str> = r.sites.iter().map(|(_, n)| n.as_str()).collect();
            let assets: Vec<&str> = r.assets.iter().map(|(_, n)| n.as_str()).collect();
            bytes.extend(record([
                Cow::Owned(when(r.starts_at)),
                Cow::Owned(r.ends_at.map(when).unwrap_or_default()),
                Cow::Borrowed(r.kind.label()),
                Cow::Borrowed(r.outcome.label()),
                cell(&r.title),
                cell(&r.summary),
                Cow::Owned(cell(&sites.join("; ")).into_owned()),
                Cow::Owned(cell(&assets.join("; ")).into_owned()),
                cell(&r.staff_name),
            ]));
        }
        if !list.more {
            break;
        }
        filter.page += 1;
    }
    Ok(download("maintenance.csv", Body::from(bytes)))
}

/// A company's month of work as its reader's Work page shows it (no amounts: those are the
/// page's, for billing readers).
pub(crate) fn work_month(month: &portico_store::scoped::time::WorkMonth) -> Response {
    let mut bytes =
        record(["Day", "Ticket", "By", "Minutes", "Counted as", "Note"].map(Cow::Borrowed));
    for e in &month.entries {
        let ticket = e
            .ticket
            .as_ref()
            .map(|(number, title)| format!("#{number} {title}"))
            .unwrap_or_default();
        bytes.extend(record([
            Cow::Borrowed(e.worked_on.as_str()),
            Cow::Owned(cell(&ticket).into_owned()),
            cell(&e.staff_name),
            Cow::Owned(e.minutes.to_string()),
            Cow::Borrowed(if e.billable { "Billable" } else { "Included" }),
            cell(&e.note),
        ]));
    }
    download(&format!("work-{}.csv", month.month), Body::from(bytes))
}

/// A staff member's month ("My time"): every company's entries, with the company.
pub(crate) fn my_time(month: &str, entries: &[portico_store::scoped::time::TimeEntry]) -> Response {
    let mut bytes =
        record(["Day", "Company", "Ticket", "Minutes", "Counted as", "Note"].map(Cow::Borrowed));
    for e in entries {
        let ticket = e
            .ticket
            .as_ref()
            .map(|(number, title)| format!("#{number} {title}"))
            .unwrap_or_default();
        bytes.extend(record([
            Cow::Borrowed(e.worked_on.as_str()),
            cell(&e.company_name),
            Cow::Owned(cell(&ticket).into_owned()),
            Cow::Owned(e.minutes.to_string()),
            Cow::Borrowed(if e.billable { "Billable" } else { "Included" }),
            cell(&e.note),
        ]));
    }
    download(&format!("my-time-{month}.csv"), Body::from(bytes))
}

/// Change requests matching a list's filter — the portal's list or the console's queue — every
/// page, each read in its own short transaction, as the reader's list shows them (the desk's
/// columns on the console only).
pub(crate) fn change_requests(
    state: &AppState,
    scope: Scope,
    filter: portico_store::scoped::change_requests::ChangeFilter,
    zone: Zone,
) -> Response {
    struct Cursor {
        page: i64,
        done: bool,
    }
    let store = state.store.clone();
    let console = !scope.is_portal();
    let stream = futures_util::stream::unfold(
        Cursor {
            page: 0,
            done: false,
        },
        move |cursor| {
            let (store, scope, zone) = (store.clone(), scope.clone(), zone.clone());
            let mut filter = filter.clone();
            async move {
                if cursor.done {
                    return None;
                }
                filter.page = cursor.page;
                let read = async {
                    let mut tx = store.scoped(&scope).await?;
                    let page = tx.change_requests(&filter).await?;
                    tx.commit().await?;
                    Ok::<_, portico_store::StoreError>(page)
                };
                let page = match read.await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::warn!(error = %e, "change request export stopped");
                        return Some((
                            Err(std::io::Error::other("export failed")),
                            Cursor {
                                done: true,
                                ..cursor
                            },
                        ));
                    }
                };
                let mut bytes = Vec::with_capacity(page.requests.len() * 200 + 160);
                if cursor.page == 0 {
                    let mut header: Vec<Cow<str>> = vec!["Raised".into()];
                    if console {
                        header.push("Company".into());
                    }
                    header.extend(
                        ["Kind", "About", "Title", "Status", "Raised by"].map(Cow::Borrowed),
                    );
                    if console {
                        header.push("Assigned to".into());
                    }
                    header.push("Note".into());
                    bytes.extend(record(header));
                }
                for r in &page.requests {
                    let mut row: Vec<Cow<str>> =
                        vec![zone.local_input(r.created_at).replace('T', " ").into()];
                    if console {
                        row.push(cell(&r.company_name));
                    }
                    row.push(r.kind.label().into());
                    row.push(if r.target_label.is_empty() {
                        r.target.label().into()
                    } else {
                        cell(&r.target_label)
                    });
                    row.push(cell(&r.title));
                    row.push(r.status.label().into());
                    row.push(cell(&r.requester_name));
                    if console {
                        row.push(cell(r.assignee.as_ref().map_or("", |(_, name)| name)));
                    }
                    row.push(cell(&r.decision_note));
                    bytes.extend(record(row));
                }
                let next = Cursor {
                    page: cursor.page + 1,
                    done: !page.more,
                };
                Some((
                    Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)),
                    next,
                ))
            }
        },
    );
    download("change-requests.csv", Body::from_stream(stream))
}

/// Tickets read per statement while streaming (the list's own limit).
const TICKET_CHUNK: i64 = 200;

/// Tickets matching a list's filter — the portal's list or the console's queue — every page, as
/// the reader's list shows them (the parts of a ticket the MSP hides from the reader's role are
/// not columns), streamed a chunk at a time, each read in its own short transaction. A search
/// pages by offset, as its list does; otherwise by the list's keyset.
pub(crate) fn tickets(
    state: &AppState,
    scope: Scope,
    query: portico_store::scoped::tickets::TicketQuery,
    zone: Zone,
) -> Response {
    use portico_core::TicketItem;
    struct Cursor {
        after: Option<(i64, portico_core::TicketId)>,
        offset: i64,
        first: bool,
        done: bool,
    }
    let store = state.store.clone();
    let view = scope.ticket_view().clone();
    let console = !scope.is_portal();
    let shows = move |item: TicketItem| view.shows(item);
    // An own-tickets-only reader is shown no site.
    let sites = shows(TicketItem::Site) && scope.requester().is_none();
    let columns = (
        shows(TicketItem::Priority),
        shows(TicketItem::Category),
        shows(TicketItem::Requester),
    );
    let start = Cursor {
        after: None,
        offset: 0,
        first: true,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, move |mut cursor| {
        let (store, scope, zone) = (store.clone(), scope.clone(), zone.clone());
        let mut page = query.clone();
        async move {
            if cursor.done {
                return None;
            }
            page.limit = TICKET_CHUNK;
            if page.search.is_empty() {
                page.after = cursor.after;
            } else {
                page.offset = cursor.offset;
            }
            let read = async {
                let mut tx = store.scoped(&scope).await?;
                let tickets = tx.tickets(&page).await?;
                tx.commit().await?;
                Ok::<_, portico_store::StoreError>(tickets)
            };
            let tickets = match read.await {
                Ok(tickets) => tickets,
                Err(e) => {
                    tracing::warn!(error = %e, "ticket export stopped");
                    return Some((
                        Err(std::io::Error::other("export failed")),
                        Cursor {
                            done: true,
                            ..cursor
                        },
                    ));
                }
            };
            let (priority, category, requester) = columns;
            let mut bytes = Vec::with_capacity(tickets.len() * 160 + 160);
            if cursor.first {
                let mut header: Vec<Cow<str>> = vec!["Number".into(), "Title".into()];
                if console {
                    header.push("Company".into());
                }
                header.push("Status".into());
                if priority {
                    header.push("Priority".into());
                }
                if category {
                    header.push("Category".into());
                }
                if sites {
                    header.push("Site".into());
                }
                if requester {
                    header.push("Raised by".into());
                }
                if console {
                    header.push("Assigned to".into());
                }
                header.extend(["Opened".into(), "Updated".into()]);
                bytes.extend(record(header));
            }
            for t in &tickets {
                let mut row: Vec<Cow<str>> = vec![format!("#{}", t.number).into(), cell(&t.title)];
                if console {
                    row.push(cell(&t.company_name));
                }
                row.push(t.status.label().into());
                if priority {
                    row.push(t.priority.label().into());
                }
                if category {
                    row.push(cell(&t.category));
                }
                if sites {
                    row.push(cell(t.site_name.as_deref().unwrap_or("")));
                }
                if requester {
                    row.push(cell(t.requester_name.as_deref().unwrap_or("")));
                }
                if console {
                    row.push(cell(t.assignee_name.as_deref().unwrap_or("")));
                }
                row.push(zone.local_input(t.created_at).replace('T', " ").into());
                row.push(zone.local_input(t.updated_at).replace('T', " ").into());
                bytes.extend(record(row));
            }
            cursor.first = false;
            cursor.done = (tickets.len() as i64) < TICKET_CHUNK;
            cursor.offset += tickets.len() as i64;
            cursor.after = tickets.last().map(|t| (t.updated_at, t.id));
            Some((
                Ok::<_, std::io::Error>(axum::body::Bytes::from(bytes)),
                cursor,
            ))
        }
    });
    download("tickets.csv", Body::from_stream(stream))
}

/// The console's company list as its reader sees it: plan rates only for billing readers.
pub(crate) fn companies(
    companies: &[portico_store::scoped::companies::CompanySummary],
    billing: bool,
) -> Response {
    let mut header: Vec<Cow<str>> = [
        "Company",
        "Plan",
        "Included hours a month",
        "Sites",
        "Open tickets",
        "Portal",
    ]
    .map(Cow::Borrowed)
    .to_vec();
    if billing {
        header.extend(["Monthly fee", "Hourly rate", "Currency"].map(Cow::Borrowed));
    }
    let mut bytes = record(header);
    let amount = |cents: Option<i64>| cents.map(plain_amount).unwrap_or_default();
    for c in companies {
        let mut row: Vec<Cow<str>> = vec![
            cell(&c.name),
            cell(&c.plan_name),
            // Whole hours as such, else to the hundredth (90 minutes: 1.50).
            c.included_minutes
                .map(|m| {
                    if m % 60 == 0 {
                        (m / 60).to_string()
                    } else {
                        format!("{:.2}", m as f64 / 60.0)
                    }
                })
                .unwrap_or_default()
                .into(),
            c.site_count.unwrap_or_default().to_string().into(),
            c.open_tickets.unwrap_or_default().to_string().into(),
            if c.portal_enabled { "On" } else { "Off" }.into(),
        ];
        if billing {
            let rates = c.billing.as_ref();
            row.push(amount(rates.and_then(|b| b.monthly_fee_cents)).into());
            row.push(amount(rates.and_then(|b| b.hourly_rate_cents)).into());
            row.push(rates.map_or("", |b| b.currency.as_str()).into());
        }
        bytes.extend(record(row));
    }
    download("companies.csv", Body::from(bytes))
}

/// The workspace's staff with the companies each looks after (by name).
pub(crate) fn staff(
    staff: &[portico_store::scoped::staff::StaffUser],
    companies: &[portico_store::scoped::companies::CompanySummary],
) -> Response {
    let mut bytes = record(["Name", "E-mail", "Role", "Status", "Companies"].map(Cow::Borrowed));
    for s in staff {
        let assigned: Vec<&str> = companies
            .iter()
            .filter(|c| s.assigned.contains(&c.id))
            .map(|c| c.name.as_str())
            .collect();
        bytes.extend(record([
            cell(&s.name),
            cell(&s.email),
            Cow::Borrowed(s.role.label()),
            Cow::Borrowed(if s.disabled { "Disabled" } else { "Active" }),
            Cow::Owned(cell(&assigned.join("; ")).into_owned()),
        ]));
    }
    download("staff.csv", Body::from(bytes))
}

/// A company's portal users, as the console's and the client admin's lists show them.
pub(crate) fn portal_users(
    users: &[portico_store::scoped::portal_users::PortalUser],
    sites: &[portico_store::scoped::companies::Site],
) -> Response {
    let mut bytes = record(
        [
            "Name",
            "E-mail",
            "Role",
            "Sites",
            "Own tickets only",
            "Billing access",
            "Status",
        ]
        .map(Cow::Borrowed),
    );
    let yes_no = |b: bool| Cow::Borrowed(if b { "Yes" } else { "No" });
    for u in users {
        let at: Vec<&str> = sites
            .iter()
            .filter(|s| u.sites.iter().any(|id| id.to_string() == s.id))
            .map(|s| s.name.as_str())
            .collect();
        let status = if u.disabled {
            "Disabled"
        } else if u.activated {
            "Active"
        } else {
            "Invited"
        };
        bytes.extend(record([
            cell(&u.name),
            cell(&u.email),
            Cow::Borrowed(u.role.label()),
            if u.sites.is_empty() {
                Cow::Borrowed("All sites")
            } else {
                Cow::Owned(cell(&at.join("; ")).into_owned())
            },
            yes_no(u.own_only),
            yes_no(u.billing_access),
            Cow::Borrowed(status),
        ]));
    }
    download("users.csv", Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_quotes_escaped() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("Laptop"), "Laptop");
        let row = record([cell("a,b"), cell("say \"hi\""), cell("@x")]);
        assert_eq!(
            String::from_utf8(row).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",'@x\n"
        );
    }
}
