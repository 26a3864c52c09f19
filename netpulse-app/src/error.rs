//! The application layer's errors, and the one table that maps each to its HTTP status, its
//! stable machine-readable code and its command-line exit status ([`AppError::status`],
//! [`AppError::code`], [`AppError::exit_status`]). The edges render errors (JSON problem, HTML
//! page, CLI message) from this table; none of them chooses a status of its own. Causes are
//! kept as `#[source]` and logged by [`AppError::log`].

use netpulse_domain::InvalidValue;
use netpulse_ports::storage::StorageError;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input broke a rule; `field` names it as the caller wrote it.
    #[error("{field}: {message}")]
    Invalid {
        /// The field (JSON key or CLI flag name, without dashes).
        field: String,
        /// What is wrong, with the bad value.
        message: String,
    },
    /// The thing does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Missing or wrong credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The database (or another service the operation needs) is unreachable or failed.
    #[error("service unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// The cause, kept for logs.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl AppError {
    /// An input error naming its field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every row of the error table: `(status, code, exit status)` by kind.
const TABLE: [(ErrorKind, u16, &str, u8); 6] = [
    (ErrorKind::Invalid, 400, "invalid", 2),
    (ErrorKind::Unauthorized, 401, "unauthorized", 1),
    (ErrorKind::Forbidden, 403, "forbidden", 1),
    (ErrorKind::NotFound, 404, "not_found", 1),
    (ErrorKind::Conflict, 409, "conflict", 1),
    (ErrorKind::Unavailable, 503, "unavailable", 1),
];

/// The kind of an [`AppError`], without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Input broke a rule.
    Invalid,
    /// Missing or wrong credentials.
    Unauthorized,
    /// Authenticated, but not allowed.
    Forbidden,
    /// The thing does not exist.
    NotFound,
    /// Conflicts with the current state.
    Conflict,
    /// Something the operation needs failed.
    Unavailable,
}

impl AppError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unauthorized => ErrorKind::Unauthorized,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Unavailable { .. } => ErrorKind::Unavailable,
        }
    }

    fn row(&self) -> (u16, &'static str, u8) {
        let kind = self.kind();
        TABLE
            .iter()
            .find(|(k, ..)| *k == kind)
            .map(|&(_, status, code, exit)| (status, code, exit))
            .expect("every kind has a row")
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        self.row().0
    }

    /// The stable machine-readable code of JSON error bodies (`invalid`, `not_found`, …).
    pub fn code(&self) -> &'static str {
        self.row().1
    }

    /// The command line's exit status: 2 for invalid input, 1 for every other error.
    pub fn exit_status(&self) -> u8 {
        self.row().2
    }

    /// The field at fault, for [`AppError::Invalid`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The error and its causes, outermost first, joined by `: `.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            let more = c.to_string();
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            cause = c.source();
        }
        text
    }

    /// Logs an error the caller cannot fix (the service is unavailable) with its causes; other
    /// errors are answers, not incidents, and are not logged.
    pub fn log(&self, context: &str) {
        if self.kind() == ErrorKind::Unavailable {
            tracing::error!(error = %self.chain(), "{context}");
        }
    }

    /// A failure of something the operation needs, without an underlying error value.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// A failure of something the operation needs, caused by `source`.
    pub fn unavailable_from(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable {
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }
}

impl From<InvalidValue> for AppError {
    fn from(v: InvalidValue) -> Self {
        let message = format!("{} (got {:?})", v.rule, v.value);
        Self::Invalid {
            field: v.field.to_owned(),
            message,
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound { what, id } => Self::NotFound { what, id },
            StorageError::Conflict(m) => Self::Conflict(m),
            StorageError::Invalid(v) if v.field == "cursor" => Self::from(v),
            StorageError::Invalid(v) => Self::Unavailable {
                message: format!("stored data failed validation: {v}"),
                source: Some(Box::new(StorageError::Invalid(v))),
            },
            StorageError::Unavailable { message, source } => Self::Unavailable { message, source },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_kind_and_statuses_are_distinct() {
        let errors = [
            AppError::invalid("name", "is required"),
            AppError::Unauthorized,
            AppError::Forbidden("no".into()),
            AppError::NotFound {
                what: "probe",
                id: "x".into(),
            },
            AppError::Conflict("busy".into()),
            AppError::unavailable("down"),
        ];
        let statuses: Vec<u16> = errors.iter().map(AppError::status).collect();
        assert_eq!(statuses, [400, 401, 403, 404, 409, 503]);
        let codes: Vec<&str> = errors.iter().map(AppError::code).collect();
        assert_eq!(
            codes,
            [
                "invalid",
                "unauthorized",
                "forbidden",
                "not_found",
                "conflict",
                "unavailable"
            ]
        );
        assert_eq!(errors[0].exit_status(), 2);
        assert!(errors[1..].iter().all(|e| e.exit_status() == 1));
        assert_eq!(errors[0].field(), Some("name"));
    }

    #[test]
    fn storage_causes_are_kept() {
        let io = std::io::Error::other("socket closed");
        let e = AppError::from(StorageError::unavailable_with("query failed", io));
        assert_eq!(e.status(), 503);
        let source = std::error::Error::source(&e).expect("the cause is kept");
        assert_eq!(source.to_string(), "socket closed");
        assert!(e.chain().contains("query failed: socket closed"));
    }
}
