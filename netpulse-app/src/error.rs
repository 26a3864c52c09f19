//! The application layer's errors. HTTP status codes and exit statuses are chosen at the edges
//! (`http::problem`, `cli`), never here.

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

impl AppError {
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
