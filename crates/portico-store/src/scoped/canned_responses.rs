//! C2 canned responses: replies the desk writes once and uses on many tickets, with
//! placeholders filled in from the ticket they are used on.

use portico_core::{Action, CannedResponseId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

const MAX_TITLE: usize = 100;
const MAX_BODY: usize = 5_000;

/// The placeholders a canned response may use, with what each stands for.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{client_name}", "the requester's name"),
    ("{client_first_name}", "the requester's first name"),
    ("{ticket_number}", "the ticket's number, e.g. #1042"),
    ("{ticket_title}", "the ticket's title"),
    ("{company_name}", "the client company's name"),
    ("{my_name}", "your name"),
];

#[derive(Debug, Clone)]
pub struct CannedResponse {
    pub id: CannedResponseId,
    pub title: String,
    pub body: String,
}

/// What a canned response's placeholders are filled with on one ticket.
#[derive(Debug, Clone, Default)]
pub struct Placeholders<'a> {
    pub client_name: &'a str,
    pub ticket_number: i64,
    pub ticket_title: &'a str,
    pub company_name: &'a str,
    pub my_name: &'a str,
}

/// `body` with its placeholders filled in; anything else in braces is left as written.
pub fn fill(body: &str, with: &Placeholders<'_>) -> String {
    let first_name = with
        .client_name
        .split_whitespace()
        .next()
        .unwrap_or(with.client_name);
    let number = format!("#{}", with.ticket_number);
    let values = [
        ("{client_name}", with.client_name),
        ("{client_first_name}", first_name),
        ("{ticket_number}", number.as_str()),
        ("{ticket_title}", with.ticket_title),
        ("{company_name}", with.company_name),
        ("{my_name}", with.my_name),
    ];
    // One pass, so that a value containing a placeholder's text is never expanded again.
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match values.iter().find(|(name, _)| tail.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &tail[name.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A form's refusals, field by field.
fn check(title: &str, body: &str) -> Result<(String, String), StoreError> {
    let mut refusals = Vec::new();
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE || title.chars().any(char::is_control)
    {
        refusals.push((
            "title".to_owned(),
            format!("Name the response (one line, at most {MAX_TITLE} characters)."),
        ));
    }
    let body = body.trim();
    let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    if body.is_empty() || body.chars().count() > MAX_BODY || !body.chars().all(allowed) {
        refusals.push((
            "body".to_owned(),
            format!("Write the response (at most {MAX_BODY} characters)."),
        ));
    }
    if refusals.is_empty() {
        Ok((title.to_owned(), body.to_owned()))
    } else {
        Err(StoreError::InvalidFields(refusals))
    }
}

impl ScopedTx<'_> {
    /// The workspace's canned responses, by title, for those who answer tickets.
    pub async fn canned_responses(&mut self) -> Result<Vec<CannedResponse>, StoreError> {
        self.scope.may(Action::WorkTickets)?;
        let mut query = self.select("r.id, r.title, r.body", &fence::CANNED_RESPONSES, "r");
        query.sql(" ORDER BY r.title");
        let rows: Vec<(String, String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, title, body)| {
                Some(CannedResponse {
                    id: CannedResponseId::parse(&id)?,
                    title,
                    body,
                })
            })
            .collect())
    }

    /// Adds a canned response (`id` none) or rewrites one; owners only.
    pub async fn save_canned_response(
        &mut self,
        id: Option<CannedResponseId>,
        title: &str,
        body: &str,
    ) -> Result<CannedResponseId, StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let (title, body) = check(title, body)?;
        let at = now();
        let result = match id {
            None => {
                let id = CannedResponseId::new();
                self.tx
                    .exec(q!(
                        "INSERT INTO canned_responses (workspace_id, id, title, body, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5)",
                        self.scope.workspace(),
                        id,
                        title.as_str(),
                        body.as_str(),
                        at
                    ))
                    .await
                    .map(|_| id)
            }
            Some(id) => {
                let mut query = self.update(&fence::CANNED_RESPONSES, |set| {
                    set.sql("title = ")
                        .arg(title.as_str())
                        .sql(", body = ")
                        .arg(body.as_str())
                        .sql(", updated_at = ")
                        .arg(at);
                });
                query.sql(" AND id = ").arg(id);
                match self.tx.exec(query).await {
                    Ok(1) => Ok(id),
                    Ok(_) => return Err(StoreError::NotFound),
                    Err(e) => Err(e),
                }
            }
        };
        result.map_err(|e| {
            if e.is_unique_violation() {
                StoreError::InvalidFields(vec![(
                    "title".to_owned(),
                    "Another canned response has that name.".to_owned(),
                )])
            } else {
                e
            }
        })
    }

    /// Removes a canned response; owners only.
    pub async fn delete_canned_response(&mut self, id: CannedResponseId) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        let mut delete = self.delete(&fence::CANNED_RESPONSES);
        delete.sql(" AND id = ").arg(id);
        if self.tx.exec(delete).await? == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_unknown_braces_kept() {
        let with = Placeholders {
            client_name: "Alice {ticket_number} Smith",
            ticket_number: 1042,
            ticket_title: "Printer",
            company_name: "Acme",
            my_name: "Tom",
        };
        assert_eq!(
            fill(
                "Hi {client_first_name}, about {ticket_number} ({ticket_title}) at {company_name}. {other} – {my_name}",
                &with
            ),
            "Hi Alice, about #1042 (Printer) at Acme. {other} – Tom"
        );
        assert_eq!(fill("{client_name}", &with), "Alice {ticket_number} Smith");
        assert_eq!(fill("{", &with), "{");
    }
}
