//! Cursor paging: a list answers a page and, when more follow, an opaque cursor that names
//! the last record given (its sort key), so that the next page starts after it and costs what
//! the first did, however deep.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::Problem;

/// Records a page holds unless the request asks for fewer (`limit`).
pub(crate) const DEFAULT_LIMIT: i64 = 50;
/// The most a page holds.
pub(crate) const MAX_LIMIT: i64 = 200;

/// The paging parameters every list takes (`limit`, `cursor`), from its query.
#[derive(Debug, Default)]
pub(crate) struct PageParams {
    limit: Option<i64>,
    cursor: Option<String>,
}

impl PageParams {
    pub(crate) fn new(limit: Option<i64>, cursor: Option<String>) -> PageParams {
        PageParams { limit, cursor }
    }

    pub(crate) fn limit(&self) -> Result<i64, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Problem::bad_request(format!(
                "`limit` is a number from 1 to {MAX_LIMIT}."
            ))),
        }
    }

    /// The position a cursor names, of the list it was given out for (`list`).
    pub(crate) fn after<K: for<'de> Deserialize<'de>>(
        &self,
        list: &str,
    ) -> Result<Option<K>, Problem> {
        let Some(text) = self.cursor.as_deref() else {
            return Ok(None);
        };
        let refused = refused_cursor;
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| refused())?;
        let cursor: Cursor<K> = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        if cursor.list != list {
            return Err(refused());
        }
        Ok(Some(cursor.after))
    }
}

/// The answer to a cursor this list did not give out (or whose record id does not parse).
pub(crate) fn refused_cursor() -> Problem {
    Problem::bad_request("`cursor` is not one this list gave out.")
}

/// What a cursor holds: the list it belongs to and the last position given.
#[derive(Serialize, Deserialize)]
struct Cursor<K> {
    list: String,
    after: K,
}

/// The cursor for the page after the one ending at `after`.
pub(crate) fn cursor<K: Serialize>(list: &str, after: K) -> String {
    let cursor = Cursor {
        list: list.to_owned(),
        after,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

/// A page of a list.
#[derive(Serialize)]
pub(crate) struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page of at most `limit` records from `rows`, read with one row more than the page
    /// holds so that whether another page follows is known without counting; `key` gives the
    /// cursor of a record.
    pub(crate) fn of<R, K: Serialize>(
        list: &str,
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> K,
        to: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_cursor = if more {
            rows.last().map(|last| cursor(list, key(last)))
        } else {
            None
        };
        Page {
            data: rows.into_iter().map(to).collect(),
            next_cursor,
        }
    }
}
