//! The rows of a subquery read as one JSON value, so that one statement reads a whole page:
//! on PostgreSQL one round trip instead of one per kind of record.

use crate::StoreError;

/// An aggregate of the rows of a subquery as one JSON array of arrays of `values`: `[]` when
/// there are none. The rows come in no particular order: the caller sorts them (an `ORDER BY`
/// inside the aggregate costs SQLite a temporary table per kind).
pub(crate) fn json_rows(postgres: bool, values: &str) -> String {
    if postgres {
        format!("COALESCE(json_agg(json_build_array({values})), '[]')::text")
    } else {
        format!("json_group_array(json_array({values}))")
    }
}

/// The rows of a [`json_rows`] aggregate.
pub(crate) fn parse_rows(
    text: &str,
    what: &str,
) -> Result<Vec<Vec<serde_json::Value>>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A field of a [`json_rows`] row, by position.
pub(crate) struct Cells<'a>(pub(crate) &'a [serde_json::Value]);

impl Cells<'_> {
    fn cell(&self, i: usize) -> Result<&serde_json::Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("a page row lacks column {i}")))
    }

    pub(crate) fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.cell(i)? {
            serde_json::Value::String(text) => Ok(text.clone()),
            serde_json::Value::Null => Ok(String::new()),
            other => Err(StoreError::Corrupt(format!("expected text, got {other}"))),
        }
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.cell(i)?
            .as_i64()
            .ok_or_else(|| StoreError::Corrupt(format!("expected an integer in column {i}")))
    }

    /// An integer, or `None` for NULL.
    pub(crate) fn optional_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            serde_json::Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// A boolean: `true`/`false` from PostgreSQL, `1`/`0` from SQLite.
    pub(crate) fn flag(&self, i: usize) -> Result<bool, StoreError> {
        match self.cell(i)? {
            serde_json::Value::Bool(b) => Ok(*b),
            serde_json::Value::Number(n) => Ok(n.as_i64() != Some(0)),
            other => Err(StoreError::Corrupt(format!(
                "expected a boolean, got {other}"
            ))),
        }
    }
}
