//! Reading url-encoded forms into fields, and collecting errors next to the fields they concern.

use std::collections::BTreeMap;

use serde::Serialize;

/// The fields of a submitted form (repeated keys keep every value).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    values: Vec<(String, String)>,
}

/// The largest dashboard request body (every form, the dashboard's JSON calls): 64 KiB. The
/// guard refuses a larger one with 413 before any handler runs.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

impl FormData {
    /// Reads and parses a form body, at most [`MAX_FORM_BYTES`] (the guard has already refused
    /// larger ones; a body that cannot be read is an empty form).
    pub async fn read(body: poem::Body) -> Self {
        Self::parse(
            &body
                .into_bytes_limit(MAX_FORM_BYTES)
                .await
                .unwrap_or_default(),
        )
    }

    /// Parses an url-encoded body.
    pub fn parse(body: &[u8]) -> Self {
        Self {
            values: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// A field's first value, trimmed (empty when missing).
    pub fn get(&self, key: &str) -> String {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// A field's first value, untrimmed (passwords).
    pub fn raw(&self, key: &str) -> String {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, key: &str) -> bool {
        self.values.iter().any(|(k, v)| k == key && !v.is_empty())
    }

    /// The non-empty lines of a textarea, trimmed.
    pub fn lines(&self, key: &str) -> Vec<String> {
        self.raw(key)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Errors by field name (`_form` for the whole form).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    /// Adds an error (the first one of a field wins).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_lines_and_checkboxes() {
        let f = FormData::parse(
            b"name=+wan1+&cron=0+8%2C20+*+*+*%0D%0A%0D%0A*%2F5+*+*+*+*&on=1&pw=+a+",
        );
        assert_eq!(f.get("name"), "wan1");
        assert_eq!(f.lines("cron"), ["0 8,20 * * *", "*/5 * * * *"]);
        assert!(f.checked("on"));
        assert!(!f.checked("off"));
        assert_eq!(f.raw("pw"), " a ");
        let mut e = FieldErrors::default();
        e.add("name", "first");
        e.add("name", "second");
        assert_eq!(e.0["name"], "first");
    }
}
