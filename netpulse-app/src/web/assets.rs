//! Static files (`/static/*`): the stylesheet, the dashboard's script, and the vendored
//! Alpine.js (CSP build) and uPlot with their licences, embedded in the binary. Answers carry
//! an ETag (SHA-256 of the content) and honour `If-None-Match`; text files are gzipped once
//! and sent gzipped to clients that accept it ([`crate::respond::Precompressed`]); vendored
//! files, whose names carry their version, are cached for a year, the others revalidated
//! (`no-cache`) by their ETag.

use std::collections::HashMap;
use std::sync::OnceLock;

use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, Request, Response};
use rust_embed::RustEmbed;

use crate::respond::{Precompressed, is_compressible};

/// The files.
#[derive(RustEmbed, Debug)]
#[folder = "static/"]
pub struct Files;

/// The endpoint serving them.
#[derive(Debug, Clone, Copy)]
pub struct StaticFiles;

/// Every file, precompressed, with its Content-Type (built on first use).
fn prepared() -> &'static HashMap<String, (Precompressed, String)> {
    static PREPARED: OnceLock<HashMap<String, (Precompressed, String)>> = OnceLock::new();
    PREPARED.get_or_init(|| {
        Files::iter()
            .filter_map(|path| {
                let file = Files::get(&path)?;
                let mime = file.metadata.mimetype();
                let compressible = is_compressible(mime);
                let mime = if mime.starts_with("text/") || mime.ends_with("javascript") {
                    format!("{mime}; charset=utf-8")
                } else {
                    mime.to_owned()
                };
                Some((
                    path.into_owned(),
                    (
                        Precompressed::new(file.data.into_owned(), compressible),
                        mime,
                    ),
                ))
            })
            .collect()
    })
}

impl Endpoint for StaticFiles {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req
            .uri()
            .path()
            .strip_prefix("/static/")
            .unwrap_or_default();
        let Some((body, mime)) = prepared().get(path).filter(|_| !path.contains("..")) else {
            return Ok(StatusCode::NOT_FOUND.into());
        };
        let cache = if path.starts_with("vendor/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let mut resp = body.respond(&req, mime, cache);
        resp.headers_mut().insert(
            "X-Content-Type-Options",
            HeaderValue::from_static("nosniff"),
        );
        Ok(resp)
    }
}
