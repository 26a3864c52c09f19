//! Small validated values of probes and connections: names, labels, colours, expected speed.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::InvalidValue;

/// The longest connection ISP text, in characters.
pub const MAX_ISP_CHARS: usize = 255;
/// The longest source interface or source address, in characters.
pub const MAX_SOURCE_CHARS: usize = 64;
/// The most labels a probe or connection has.
pub const MAX_LABELS: usize = 32;
/// The longest label key, in characters.
pub const MAX_LABEL_KEY_CHARS: usize = 64;
/// The longest label value, in characters.
pub const MAX_LABEL_VALUE_CHARS: usize = 255;

/// At most the first 64 characters of a rejected value, for error messages (a value may be
/// megabytes long).
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Refuses a text of `field` longer than `max` characters.
pub fn check_length(field: &'static str, text: &str, max: usize) -> Result<(), InvalidValue> {
    if text.chars().count() > max {
        return Err(InvalidValue::new(
            field,
            shown(text),
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// A display name of a probe or connection: trimmed, 1 to 255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// Validates a name for `field` (e.g. `name`).
    pub fn parse(field: &'static str, text: &str) -> Result<Self, InvalidValue> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue::new(field, text, "must not be blank"));
        }
        check_length(field, trimmed, 255)?;
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                field,
                text,
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free-form `key=value` labels, at most [`MAX_LABELS`]. Keys follow Prometheus label-name rules
/// (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, at most [`MAX_LABEL_KEY_CHARS`]) so that
/// they can be exported; values are any text up to [`MAX_LABEL_VALUE_CHARS`] characters. The `site` label is exported with every metric.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    /// No labels.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates and adds one label (replacing an earlier value of the same key).
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), InvalidValue> {
        let valid_key = !key.is_empty()
            && !key.starts_with("__")
            && key.bytes().enumerate().all(|(i, b)| {
                b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit())
            });
        if !valid_key {
            return Err(InvalidValue::new(
                "labels",
                shown(key),
                "keys must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __",
            ));
        }
        if key.len() > MAX_LABEL_KEY_CHARS {
            return Err(InvalidValue::new(
                "labels",
                shown(key),
                format!("keys must be at most {MAX_LABEL_KEY_CHARS} characters"),
            ));
        }
        if value.chars().count() > MAX_LABEL_VALUE_CHARS {
            return Err(InvalidValue::new(
                "labels",
                shown(value),
                format!("values must be at most {MAX_LABEL_VALUE_CHARS} characters"),
            ));
        }
        if self.0.len() >= MAX_LABELS && !self.0.contains_key(key) {
            return Err(InvalidValue::new(
                "labels",
                shown(key),
                format!("at most {MAX_LABELS} labels"),
            ));
        }
        self.0.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    /// Reads one `key=value` pair as typed on a command line.
    pub fn insert_pair(&mut self, pair: &str) -> Result<(), InvalidValue> {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(InvalidValue::new(
                "labels",
                shown(pair),
                "must be written key=value",
            ));
        };
        self.insert(key.trim(), value.trim())
    }

    /// The value of a label.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All labels, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The accent colour of a connection in the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Colour {
    /// The theme's primary accent (default).
    #[default]
    Primary,
    /// Violet.
    Violet,
    /// Amber.
    Amber,
    /// Teal.
    Teal,
    /// Rose.
    Rose,
    /// Slate.
    Slate,
}

impl Colour {
    /// Every colour, in menu order.
    pub const ALL: [Self; 6] = [
        Self::Primary,
        Self::Violet,
        Self::Amber,
        Self::Teal,
        Self::Rose,
        Self::Slate,
    ];

    /// The colour's name as stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Violet => "violet",
            Self::Amber => "amber",
            Self::Teal => "teal",
            Self::Rose => "rose",
            Self::Slate => "slate",
        }
    }

    /// Reads a colour name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                InvalidValue::new(
                    "colour",
                    shown(text),
                    "must be one of primary, violet, amber, teal, rose, slate",
                )
            })
    }
}

/// The speed the plan promises, in bits per second; 0 means "unknown plan" and disables the
/// ratio checks for that direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpectedSpeed {
    /// Expected download, bits per second.
    pub download_bps: u64,
    /// Expected upload, bits per second.
    pub upload_bps: u64,
}

impl ExpectedSpeed {
    /// From whole megabits per second, as users type them.
    pub const fn from_mbps(download: u64, upload: u64) -> Self {
        Self {
            download_bps: download.saturating_mul(1_000_000),
            upload_bps: upload.saturating_mul(1_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_texts_are_capped() {
        let mut labels = Labels::new();
        for i in 0..MAX_LABELS {
            labels.insert(&format!("k{i}"), "v").unwrap();
        }
        // Replacing an existing key is fine; a new one is one too many.
        labels.insert("k0", "w").unwrap();
        let e = labels.insert("one_more", "v").unwrap_err();
        assert_eq!(e.field, "labels");
        assert!(e.rule.contains("at most 32 labels"), "{e}");
        let long_key = "k".repeat(MAX_LABEL_KEY_CHARS + 1);
        assert!(Labels::new().insert(&long_key, "v").is_err());
        let e = check_length("isp", &"x".repeat(1_000_000), MAX_ISP_CHARS).unwrap_err();
        assert_eq!(e.field, "isp");
        assert!(e.to_string().len() < 200, "the value is shown shortened");
        assert!(check_length("isp", &"é".repeat(MAX_ISP_CHARS), MAX_ISP_CHARS).is_ok());
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(Name::parse("name", "  wan1 ").unwrap().as_str(), "wan1");
        assert_eq!(
            Name::parse("name", "   ").unwrap_err().to_string(),
            "name must not be blank, got \"   \""
        );
        assert!(Name::parse("name", &"x".repeat(256)).is_err());
    }

    #[test]
    fn labels_follow_prometheus_rules() {
        let mut labels = Labels::new();
        labels.insert_pair("site=berlin").unwrap();
        labels.insert_pair(" rack = 4 ").unwrap();
        assert_eq!(labels.get("site"), Some("berlin"));
        assert_eq!(labels.get("rack"), Some("4"));
        assert!(labels.insert_pair("1abc=x").is_err());
        assert!(labels.insert_pair("__name__=x").is_err());
        assert_eq!(
            labels.insert_pair("novalue").unwrap_err().rule,
            "must be written key=value"
        );
    }

    #[test]
    fn colours_round_trip() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()).unwrap(), c);
        }
        assert!(Colour::parse("pink").is_err());
        assert_eq!(
            ExpectedSpeed::from_mbps(1000, 500).download_bps,
            1_000_000_000
        );
    }
}
