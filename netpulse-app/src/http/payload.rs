//! A JSON request body that the OpenAPI document describes with the schema of `T`, but that
//! handlers receive as raw JSON and validate themselves: errors then name the exact field, and
//! one endpoint can accept more than one body shape (the PHP agent's). Only keys `T` declares are
//! accepted, and `null` only for a key it declares nullable ([`super::declared`]).

use std::marker::PhantomData;

use poem::{Request, RequestBody, Result};
use poem_openapi::error::ParseRequestPayloadError;
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde_json::{Map, Value};

use crate::error::AppError;

/// Raw JSON documented as `T`.
#[derive(Debug)]
pub struct JsonBody<T> {
    /// The parsed JSON.
    pub value: Value,
    _schema: PhantomData<fn() -> T>,
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// The largest JSON body of the REST API (1 MiB; agent results have their own,
/// [`crate::http::MAX_BODY_BYTES`]).
pub const MAX_JSON_BODY_BYTES: usize = 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the route's cap (413, `payload_too_large`).
    TooLarge {
        /// The cap, bytes.
        limit: usize,
    },
    /// Not readable, or not JSON (400, `invalid`, field `body`).
    Invalid(String),
}

impl BodyError {
    /// The message for people.
    pub fn message(&self) -> String {
        match self {
            Self::TooLarge { limit } => format!(
                "the request body is larger than {} KiB, the most this route accepts",
                limit / 1024
            ),
            Self::Invalid(why) => why.clone(),
        }
    }

    /// The JSON error body.
    pub fn problem(&self) -> poem_openapi::payload::Json<super::problem::Problem> {
        let code = match self {
            Self::TooLarge { .. } => "payload_too_large",
            Self::Invalid(_) => "invalid",
        };
        poem_openapi::payload::Json(super::problem::Problem {
            code: code.into(),
            message: self.message(),
            field: matches!(self, Self::Invalid(_)).then(|| "body".into()),
        })
    }
}

impl From<BodyError> for super::problem::ApiError {
    /// An unreadable body is 400 naming `body` (a too-large one needs the route's 413 answer).
    fn from(e: BodyError) -> Self {
        AppError::invalid("body", e.message()).into()
    }
}

impl From<BodyError> for poem::Error {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => {
                poem::Error::from_string(e.message(), poem::http::StatusCode::PAYLOAD_TOO_LARGE)
            }
            BodyError::Invalid(reason) => ParseRequestPayloadError { reason }.into(),
        }
    }
}

/// Reads `body` as JSON, at most `limit` bytes: a larger `Content-Length` is refused before
/// buffering, and the count is checked while streaming (nothing past the cap is kept; see
/// [`crate::body`] for how the refused rest is discarded).
pub async fn read_json(
    request: &Request,
    body: poem::Body,
    limit: usize,
) -> std::result::Result<Value, BodyError> {
    let data = crate::body::read_limited(request.headers(), body, limit)
        .await
        .map_err(|err| match err {
            crate::body::BodyReadError::TooLarge { limit } => BodyError::TooLarge { limit },
            other @ crate::body::BodyReadError::Unreadable(_) => {
                BodyError::Invalid(other.to_string())
            }
        })?;
    serde_json::from_slice(&data)
        .map_err(|err| BodyError::Invalid(format!("the body is not valid JSON: {err}")))
}

impl<T: Type> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        let value = read_json(request, body.take()?, MAX_JSON_BODY_BYTES).await?;
        // Declared keys only, `null` only where declared (see `super::declared`).
        super::declared::refuse_undeclared::<T>(&value).map_err(|e| {
            poem::Error::from_response(poem::IntoResponse::into_response(
                super::problem::ApiError::from(e),
            ))
        })?;
        Ok(Self {
            value,
            _schema: PhantomData,
        })
    }
}

/// Like [`JsonBody`] (same OpenAPI description), but not read before the handler runs: the
/// handler authenticates first, then calls [`DeferredJsonBody::read`] with the route's cap, so an
/// unauthenticated caller cannot make the server read a body.
#[derive(Debug)]
pub struct DeferredJsonBody<T> {
    body: poem::Body,
    _schema: PhantomData<fn() -> T>,
}

impl<T> DeferredJsonBody<T> {
    /// Reads the body as JSON, at most `limit` bytes (see [`read_json`]).
    pub async fn read(
        self,
        request: &Request,
        limit: usize,
    ) -> std::result::Result<Value, BodyError> {
        read_json(request, self.body, limit).await
    }
}

impl<T: Type> Payload for DeferredJsonBody<T> {
    const CONTENT_TYPE: &'static str = <JsonBody<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <JsonBody<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> ParsePayload for DeferredJsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> Result<Self> {
        Ok(Self {
            body: body.take()?,
            _schema: PhantomData,
        })
    }
}

impl<'a, T: Type> ApiExtractor<'a> for DeferredJsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        <JsonBody<T> as ApiExtractor<'a>>::request_meta()
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> Result<Self> {
        check_json_content_type(request)?;
        <Self as ParsePayload>::from_request(request, body).await
    }
}

fn is_json(content_type: &str) -> bool {
    matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application"
        && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
}

/// A missing content type is accepted (some old agents omit it); a wrong one is not.
fn check_json_content_type(request: &Request) -> Result<()> {
    if let Some(ct) = request.content_type()
        && !is_json(ct)
    {
        return Err(ParseRequestPayloadError {
            reason: format!("expected Content-Type application/json, got {ct}"),
        }
        .into());
    }
    Ok(())
}

impl<'a, T: Type> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> Result<Self> {
        check_json_content_type(request)?;
        <Self as ParsePayload>::from_request(request, body).await
    }
}

/// Typed access to the fields of a JSON object, with errors that name the field.
#[derive(Debug)]
pub struct Fields<'v> {
    map: &'v Map<String, Value>,
}

fn type_error(field: &str, want: &str, got: &Value) -> AppError {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    AppError::invalid(field, format!("must be {want}, got {kind}"))
}

impl<'v> Fields<'v> {
    /// The body must be an object.
    pub fn of(value: &'v Value) -> Result<Self, AppError> {
        value
            .as_object()
            .map(|map| Self { map })
            .ok_or_else(|| type_error("body", "a JSON object", value))
    }

    /// Rejects keys outside `allowed` (typos should not be silently ignored).
    pub fn only(&self, allowed: &[&str]) -> Result<(), AppError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(AppError::invalid(
                k.clone(),
                format!("is not a known field (known: {})", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// Whether a key is present (even with null).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A raw value.
    pub fn raw(&self, key: &str) -> Option<&'v Value> {
        self.map.get(key)
    }

    /// A required string.
    pub fn string(&self, key: &str) -> Result<&'v str, AppError> {
        self.opt_string(key)?
            .ok_or_else(|| AppError::invalid(key, "is required"))
    }

    /// An optional string (absent or null → `None`).
    pub fn opt_string(&self, key: &str) -> Result<Option<&'v str>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(type_error(key, "a string", other)),
        }
    }

    /// Absent → `None`; null → `Some(None)`; text → `Some(Some(text))`.
    pub fn nullable_string(&self, key: &str) -> Result<Option<Option<String>>, AppError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(other) => Err(type_error(key, "a string or null", other)),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(type_error(key, "true or false", other)),
        }
    }

    /// An optional non-negative integer that fits `u32`.
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>, AppError> {
        self.opt_u64(key)?
            .map(|v| {
                u32::try_from(v).map_err(|_| {
                    AppError::invalid(key, format!("must be <= {} (got {v})", u32::MAX))
                })
            })
            .transpose()
    }

    /// An optional non-negative integer.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                AppError::invalid(key, format!("must be a whole number >= 0 (got {n})"))
            }),
            Some(other) => Err(type_error(key, "a whole number", other)),
        }
    }

    /// Absent → `None`; null → `Some(None)`; a whole number → `Some(Some(n))`.
    pub fn nullable_u32(&self, key: &str) -> Result<Option<Option<u32>>, AppError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(_) => self.opt_u32(key).map(Some),
        }
    }

    /// An optional integer (may be negative).
    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| AppError::invalid(key, format!("must be a whole number (got {n})"))),
            Some(other) => Err(type_error(key, "a whole number", other)),
        }
    }

    /// An optional number.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(type_error(key, "a number", other)),
        }
    }

    /// A cap: absent → `None` (keep/default); null → `Some(None)` (disabled); number → set.
    pub fn cap(&self, key: &str) -> Result<Option<Option<f64>>, AppError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(_) => self.opt_f64(key).map(Some),
        }
    }

    /// An optional list of strings.
    pub fn opt_strings(&self, key: &str) -> Result<Option<Vec<String>>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(type_error(&format!("{key}[{i}]"), "a string", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(type_error(key, "an array of strings", other)),
        }
    }

    /// Optional labels as an object of strings, returned as `key=value` pairs.
    pub fn opt_labels(&self, key: &str) -> Result<Option<Vec<String>>, AppError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok(format!("{k}={s}")),
                    other => Err(type_error(&format!("{key}.{k}"), "a string", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(type_error(key, "an object of strings", other)),
        }
    }
}
