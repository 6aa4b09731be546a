//! URL-encoded form bodies as ordered pairs, so repeated fields (checkbox lists) and fields
//! named after records (one per section) read the same way.

use axum::body::Bytes;
use axum::extract::Request;

use crate::error::WebError;

/// Largest form body accepted (logo uploads use multipart and their own limit).
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

#[derive(Debug, Default, Clone)]
pub(crate) struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// The first value of `name`, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of `name`, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every field in order, as sent.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether a checkbox named `name` was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// Fields read from a multipart body.
    pub(crate) fn from_pairs_owned(pairs: Vec<(String, String)>) -> Self {
        FormData { pairs }
    }

    /// A form of one field (fields read from a multipart body).
    pub(crate) fn single(name: &str, value: &str) -> Self {
        FormData {
            pairs: vec![(name.to_owned(), value.to_owned())],
        }
    }

    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        FormData {
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl FormData {
    /// Reads a URL-encoded body. Crate-private, and not an extractor: handlers receive forms
    /// only through extractors that check them first ([`crate::auth::SignedForm`],
    /// [`crate::auth::PublicForm`], [`crate::uploads::FormWithFiles`]).
    pub(crate) async fn read(req: Request) -> Result<FormData, WebError> {
        let is_form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(WebError::BadRequest("Send this form from its page.".into()));
        }
        // Read at most the form limit, whatever the app-wide body limit (raised for uploads).
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                WebError::BadRequest("The form is too large or could not be read.".into())
            })?;
        Ok(FormData {
            pairs: form_urlencoded::parse(&bytes).into_owned().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::FormData;

    #[test]
    fn repeated_fields_and_checkboxes_are_read_in_order() {
        let form = FormData::from_pairs(&[
            ("sites", "a"),
            ("name", "N"),
            ("sites", "b"),
            ("own_only", "1"),
        ]);
        assert_eq!(form.all("sites"), vec!["a", "b"]);
        assert_eq!(form.get("name"), "N");
        assert_eq!(form.get("missing"), "");
        assert!(form.checked("own_only"));
        assert!(!form.checked("billing_access"));
    }
}

/// The `?done=` a page is redirected to after a change, naming what was done so the page can
/// say so.
#[derive(serde::Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    pub(crate) done: String,
}

/// A form's refusals, field by field (the store's `InvalidFields`), for a page that shows each
/// beside its field.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldErrors(pub(crate) Vec<(String, String)>);

impl FieldErrors {
    pub(crate) fn error_for(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `field` is the first refused one (it takes the focus).
    pub(crate) fn is_first(&self, field: &str) -> bool {
        self.0.first().is_some_and(|(f, _)| f == field)
    }
}
