//! Full-text search of tickets: the words of a search, the database's index (SQLite FTS5,
//! PostgreSQL tsvector) and a searched ticket number. Whatever matches is fenced like any list.

use portico_core::CompanySet;

use crate::StoreError;
use crate::scoped::ScopedTx;
use crate::scoped::fence;
use crate::scoped::tickets::TicketQuery;
use crate::sql::{Q, q};

/// The words of a search: letters and digits only (everything else separates words, and no
/// character of the full-text query syntax survives), lower-cased, at most eight of 100
/// characters each.
pub(super) fn search_words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.chars().take(100).flat_map(char::to_lowercase).collect())
        .collect()
}

/// How many matching tickets a search ranks: on SQLite the newest of each rank
/// ([`ScopedTx::sqlite_search`]), on PostgreSQL the best ([`ScopedTx::postgres_search`]).
const SEARCH_MATCH_CAP: i64 = 1_000;

/// What a search matched ([`ScopedTx::search_matched`]), before the fence.
pub(super) enum Matched {
    /// SQLite: the index rows matched as `(row, rank)`, best first
    /// ([`ScopedTx::sqlite_search`]).
    Rows(Vec<(i64, u8)>),
    /// PostgreSQL: the ticket ids matched, best first, comma-separated
    /// ([`ScopedTx::postgres_search`]).
    Ids(String),
}

impl Matched {
    /// The argument of [`ScopedTx::search_matches`] for the `n` best matches: on SQLite a JSON
    /// array of `[row, rank]`; on PostgreSQL every id (its list is read whole).
    pub(super) fn best(&self, n: usize) -> String {
        match self {
            Matched::Rows(rows) => {
                let pairs: Vec<String> = rows
                    .iter()
                    .take(n)
                    .map(|(row, rank)| format!("[{row},{rank}]"))
                    .collect();
                format!("[{}]", pairs.join(","))
            }
            Matched::Ids(ids) => ids.clone(),
        }
    }
}

/// A ticket number the search may mean (`1042` or `#1042`): a search of that one word.
fn searched_number(search: &str) -> Option<i64> {
    let word = search.trim();
    word.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
}

/// The longest prefix the SQLite search index keeps (migration 0018's `prefix` option).
const INDEXED_PREFIX: usize = 6;

/// An FTS5 query (SQLite): every word, inside the given columns and inside the workspace and
/// companies, which each document carries as tokens, so that the index alone narrows the match
/// to the caller's companies. A word of two to six characters is matched as a prefix (one
/// lookup in the index's prefixes, read lazily like a word), as a word is typed; a longer one
/// as the word itself, stemmed ("printers" finds "printer"), since a longer prefix would gather
/// every matching word's documents in the database first; a single character as itself.
fn fts5_query(words: &[String], columns: &str, workspace: &str, companies: &[String]) -> String {
    let token = |id: &str| format!("\"{}\"", id.replace('-', ""));
    let mut query = if companies.is_empty() {
        format!("workspace : {}", token(workspace))
    } else {
        // Company ids are unique across workspaces: the company alone is the narrower fence.
        let list: Vec<String> = companies.iter().map(|c| token(c)).collect();
        format!("company : ({})", list.join(" OR "))
    };
    let terms: Vec<String> = words
        .iter()
        .map(|w| match w.chars().count() {
            2..=INDEXED_PREFIX => format!("\"{w}\"*"),
            _ => format!("\"{w}\""),
        })
        .collect();
    query.push_str(&format!(" AND {{{columns}}} : ({})", terms.join(" AND ")));
    query
}

/// A tsquery (PostgreSQL): every word as a prefix, all required. Words hold letters and
/// digits only, so nothing in them is tsquery syntax.
fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

impl ScopedTx<'_> {
    /// The tickets a search matches, as `(ticket_id, rank)` rows, the best the lowest rank:
    /// the database's full-text index over titles and public messages, and internal notes for
    /// staff (SQLite FTS5, PostgreSQL tsvector; stemmed, every word a prefix, all words
    /// required), plus the ticket whose number was searched. Whatever matches is then fenced
    /// like any list ([`ScopedTx::list_query`]); on SQLite the match itself is already narrowed
    /// to the caller's companies by the index.
    pub(super) fn search_matches(&self, query: &mut Q, filter: &TicketQuery, matched: &str) {
        let number = searched_number(&filter.search);
        // Rows of (ticket_id, rank, ord): the best rank first, then the lowest `ord`.
        if number.is_some() {
            query.sql("SELECT ticket_id, MIN(rank) AS rank, MIN(ord) AS ord FROM (");
        }
        if self.tx.is_postgres() {
            query
                .sql("SELECT m.ticket_id, m.rank, 0 AS ord FROM unnest(string_to_array(")
                .arg(matched)
                .sql(", ',')) WITH ORDINALITY AS m(ticket_id, rank)");
        } else {
            // `matched` holds the index rows [row, rank] found by `sqlite_search`.
            query
                .sql("SELECT r.ticket_id, json_extract(j.value, '$[1]') AS rank, -r.row AS ord FROM json_each(")
                .arg(matched)
                .sql(") j JOIN ticket_search_rows r ON r.row = json_extract(j.value, '$[0]')");
        }
        if let Some(number) = number {
            // The numbered ticket first, whether or not its text matches too.
            query.sql(" UNION ALL SELECT n.id, -1000000000, 0 FROM tickets n WHERE 1 = 1");
            self.fenced(query, &fence::TICKETS, "n");
            query
                .sql(" AND n.number = ")
                .arg(number)
                .sql(") g GROUP BY ticket_id");
        }
    }

    /// What a search matched, for [`ScopedTx::search_matches`] ([`Matched`]); nothing when not
    /// searching.
    pub(super) async fn search_matched(
        &mut self,
        filter: &TicketQuery,
    ) -> Result<Matched, StoreError> {
        if self.tx.is_postgres() {
            Ok(Matched::Ids(self.postgres_search(filter).await?))
        } else {
            Ok(Matched::Rows(self.sqlite_search(filter).await?))
        }
    }

    /// SQLite: the index rows a search matches, `(row, rank)` with rank 0 for a title match and
    /// 1 for the rest, at most the [`SEARCH_MATCH_CAP`] newest of each, best first (the lowest
    /// rank, then the newest).
    ///
    /// Title matches first, then the rest, each newest first: at most the cap of each, so a word
    /// in every one of a company's 100,000 tickets costs what a word in a thousand does (more is
    /// a search to narrow, not to page through). Not bm25: its weights count a word's documents
    /// in the whole database, other workspaces' too, which costs more than the search itself.
    /// "Newest" is the newest created (the index row), which needs no ticket row to sort by.
    ///
    /// Each match is read in the index's own (ascending) order first: FTS5 reads a term's
    /// documents backwards only by loading all of them, every tenant's (a common word's prefix
    /// is in tens of thousands of documents), which was half of a search. Only when a match
    /// passes the cap is it read again newest first, to keep the newest.
    async fn sqlite_search(&mut self, filter: &TicketQuery) -> Result<Vec<(i64, u8)>, StoreError> {
        let words = search_words(&filter.search);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let companies: Vec<String> = match (filter.company, self.scope.companies()) {
            (Some(company), _) => vec![company.as_text()],
            // A long list costs the index more than the fence on the tickets does.
            (None, CompanySet::Only(ids)) if ids.len() <= 64 => {
                ids.iter().map(|c| c.as_text()).collect()
            }
            (None, _) => Vec::new(),
        };
        let columns = if self.scope.is_portal() {
            "title public"
        } else {
            "title public internal"
        };
        let workspace = self.scope.workspace().as_text();
        let mut found: std::collections::BTreeMap<i64, u8> = std::collections::BTreeMap::new();
        for (rank, columns) in [(0u8, "title"), (1, columns)] {
            let expression = fts5_query(&words, columns, &workspace, &companies);
            let mut rows: Vec<(i64,)> = self
                .tx
                .all(q!(
                    "SELECT rowid FROM ticket_search WHERE ticket_search MATCH $1 LIMIT $2",
                    expression.as_str(),
                    SEARCH_MATCH_CAP + 1
                ))
                .await?;
            if rows.len() as i64 > SEARCH_MATCH_CAP {
                rows = self
                    .tx
                    .all(q!(
                        "SELECT rowid FROM ticket_search WHERE ticket_search MATCH $1 ORDER BY rowid DESC LIMIT $2",
                        expression.as_str(),
                        SEARCH_MATCH_CAP
                    ))
                    .await?;
            }
            for (row,) in rows {
                found.entry(row).or_insert(rank);
            }
        }
        let mut best_first: Vec<(i64, u8)> = found.into_iter().collect();
        best_first.sort_unstable_by_key(|&(row, rank)| (rank, std::cmp::Reverse(row)));
        Ok(best_first)
    }

    /// PostgreSQL: the tickets a search matches, best first (`ts_rank`, title words weighing
    /// most; the newest first among equals, as on SQLite: ids are time-ordered), at most
    /// [`SEARCH_MATCH_CAP`], as a comma-separated list of ids; empty when not searching.
    /// Matched as the system role, with the documents' fence ([`fence::TICKET_SEARCH`])
    /// written into the query: under row-level security PostgreSQL may not use the full-text
    /// index at all (the match operator is not leakproof, so it runs after the policy, on every
    /// row of every tenant: 200 ms at 100,000 tickets). The fence is on the documents
    /// themselves, which carry their ticket's workspace and company (migration 0021's triggers
    /// write them with the ticket and again when its company changes): an unrestricted scope
    /// looks no ticket up (with every match's ticket looked up, 0.73 against 0.45 ms for a
    /// member's company of 1,000 tickets). The page itself is then read in the caller's own
    /// transaction, under both fences.
    async fn postgres_search(&mut self, filter: &TicketQuery) -> Result<String, StoreError> {
        let words = search_words(&filter.search);
        if words.is_empty() {
            return Ok(String::new());
        }
        let mut query = Q::new("SELECT s.ticket_id FROM ticket_search s, to_tsquery('english', ");
        query.arg(tsquery(&words)).sql(") q(q) WHERE s.doc @@ q.q");
        if self.scope.is_portal() {
            query.sql(" AND s.audience = 'client'");
        }
        self.fenced(&mut query, &fence::TICKET_SEARCH, "s");
        if let Some(company) = filter.company {
            query.sql(" AND s.company_id = ").arg(company);
        }
        query
            .sql(" GROUP BY s.ticket_id ORDER BY MAX(ts_rank(s.doc, q.q)) DESC, s.ticket_id DESC LIMIT ")
            .arg(SEARCH_MATCH_CAP);
        let rows: Vec<(String,)> = match &mut self.system {
            Some(system) => system.all(query).await?,
            None => self.tx.all(query).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(id,)| id)
            .collect::<Vec<_>>()
            .join(","))
    }
}
