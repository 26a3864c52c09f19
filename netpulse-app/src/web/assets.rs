//! Static files (`/static/*`): the stylesheet, the dashboard's script, and the vendored
//! Alpine.js (CSP build) and uPlot with their licences, embedded in the binary. Answers carry
//! an ETag (SHA-256 of the content) and honour `If-None-Match`; vendored files, whose names
//! carry their version, are cached for a year.

use poem::http::{StatusCode, header};
use poem::{Endpoint, Request, Response};
use rust_embed::RustEmbed;

/// The files.
#[derive(RustEmbed, Debug)]
#[folder = "static/"]
pub struct Files;

/// The endpoint serving them.
#[derive(Debug, Clone, Copy)]
pub struct StaticFiles;

fn etag(hash: &[u8; 32]) -> String {
    let hex = hash[..16]
        .iter()
        .fold(String::with_capacity(32), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        });
    format!("\"{hex}\"")
}

impl Endpoint for StaticFiles {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req
            .uri()
            .path()
            .strip_prefix("/static/")
            .unwrap_or_default()
            .to_owned();
        let Some(file) = Files::get(&path).filter(|_| !path.contains("..")) else {
            return Ok(StatusCode::NOT_FOUND.into());
        };
        let tag = etag(&file.metadata.sha256_hash());
        let cache = if path.starts_with("vendor/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let builder = Response::builder()
            .header(header::ETAG, tag.clone())
            .header(header::CACHE_CONTROL, cache)
            .header("X-Content-Type-Options", "nosniff");
        let unchanged = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
        if unchanged {
            return Ok(builder.status(StatusCode::NOT_MODIFIED).finish());
        }
        let mime = file.metadata.mimetype();
        let mime = if mime.starts_with("text/") || mime.ends_with("javascript") {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_owned()
        };
        Ok(builder.content_type(mime).body(file.data.into_owned()))
    }
}
