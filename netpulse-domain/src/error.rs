//! The validation error shared by every value type: which field, which value, what rule.

use std::fmt;

/// A value that breaks a rule of the domain. The message names the field and the bad value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// The field, as users name it (e.g. `tests_per_day`).
    pub field: &'static str,
    /// The rejected value, as text.
    pub value: String,
    /// The rule it breaks, e.g. `must be >= 1`.
    pub rule: String,
}

impl InvalidValue {
    /// A new validation error.
    pub fn new(field: &'static str, value: impl fmt::Display, rule: impl Into<String>) -> Self {
        Self {
            field,
            value: value.to_string(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}, got {:?}", self.field, self.rule, self.value)
    }
}

impl std::error::Error for InvalidValue {}
