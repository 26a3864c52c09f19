//! `405 Method Not Allowed` answers of the API carry `Allow` (RFC 9110 §15.5.6): the methods the
//! OpenAPI document declares for the path, and `HEAD` where `GET` is declared (poem answers it).

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};
use serde_json::Value;

/// The methods of each path template of the document.
#[derive(Debug, Clone, Default)]
pub struct AllowTable {
    routes: Vec<(Vec<Segment>, HeaderValue)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl AllowTable {
    /// The table of `document` (the OpenAPI JSON; its paths are relative to the API's mount).
    pub fn of_document(document: &str) -> Self {
        let doc: Value = serde_json::from_str(document).unwrap_or_default();
        let mut routes = Vec::new();
        for (path, item) in doc
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let mut methods: Vec<String> = item
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .map(|m| m.to_ascii_uppercase())
                .collect();
            if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
                methods.push("HEAD".into());
            }
            methods.sort();
            let segments = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s.starts_with('{') {
                        Segment::Parameter
                    } else {
                        Segment::Literal(s.to_owned())
                    }
                })
                .collect();
            if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
                routes.push((segments, value));
            }
        }
        Self { routes }
    }

    /// The `Allow` value for a request path (the most literal matching template wins).
    pub fn allowed(&self, path: &str) -> Option<&HeaderValue> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Literal(l) => l == p,
                        Segment::Parameter => true,
                    })
            })
            .max_by_key(|(segments, _)| {
                segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            })
            .map(|(_, value)| value)
    }
}

/// Wraps the API endpoint: a 405 answer gets the `Allow` header of its path.
#[derive(Debug)]
pub struct WithAllow<E> {
    /// The API.
    pub inner: E,
    /// The methods per path.
    pub table: AllowTable,
}

impl<E: Endpoint> Endpoint for WithAllow<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_owned();
        let mut resp = self.inner.call(req).await?.into_response();
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.table.allowed(&path)
        {
            resp.headers_mut().insert(header::ALLOW, allow.clone());
        }
        Ok(resp)
    }
}

/// A route answering `GET` (and `HEAD`) only; any other method gets 405 with
/// `Allow: GET, HEAD` (for the routes outside the OpenAPI document: `/metrics`, the document
/// itself).
pub fn get_only<E: Endpoint + 'static>(endpoint: E) -> GetOnly {
    GetOnly(poem::get(endpoint.map_to_response()))
}

/// See [`get_only`].
pub struct GetOnly(poem::RouteMethod);

impl std::fmt::Debug for GetOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GetOnly")
    }
}

impl Endpoint for GetOnly {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match self.0.call(req).await {
            Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => {
                let mut resp = e.into_response();
                resp.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                Ok(resp)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_most_literal_template_gives_the_methods() {
        let doc = r#"{"paths": {
            "/v1/probes/{probe_id}": {"get": {}, "patch": {}, "delete": {}},
            "/v1/probes/{probe_id}/due": {"get": {}},
            "/v1/notifications/settings": {"get": {}, "patch": {}},
            "/v1/notifications/{x}": {"post": {}}
        }}"#;
        let table = super::AllowTable::of_document(doc);
        let allow = |p: &str| table.allowed(p).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            allow("/v1/probes/abc").as_deref(),
            Some("DELETE, GET, HEAD, PATCH")
        );
        assert_eq!(allow("/v1/probes/abc/due").as_deref(), Some("GET, HEAD"));
        assert_eq!(
            allow("/v1/notifications/settings").as_deref(),
            Some("GET, HEAD, PATCH")
        );
        assert_eq!(allow("/v1/notifications/other").as_deref(), Some("POST"));
        assert_eq!(allow("/v1/nothing"), None);
    }
}
