//! Answers shared by the edges: the security headers of HTML answers (the dashboard's pages and
//! Swagger UI), and precompressed static bodies (the embedded assets, Swagger UI) negotiated by
//! `Accept-Encoding`, with an ETag and `If-None-Match`.
//!
//! Text bodies are gzipped once, when first served (level 9), and kept; a client that does not
//! accept gzip gets the identity body. (Brotli would save another ~15 % on Swagger UI but
//! would add a large dependency; gzip is what every client accepts.)

use std::io::Write as _;
use std::sync::OnceLock;

use bytes::Bytes;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::{Request, Response};
use sha2::{Digest, Sha256};

/// Sets the security headers of an HTML answer: the given Content-Security-Policy, no framing,
/// no sniffing, same-origin referrers, no powerful features, cross-origin isolation of the
/// window and resources; `Strict-Transport-Security` behind HTTPS.
pub fn set_security_headers(headers: &mut HeaderMap, csp: &str, behind_https: bool) {
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("Content-Security-Policy", csp);
    set("X-Frame-Options", "DENY");
    set("X-Content-Type-Options", "nosniff");
    set("Referrer-Policy", "same-origin");
    set(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
    set("Cross-Origin-Opener-Policy", "same-origin");
    set("Cross-Origin-Resource-Policy", "same-origin");
    if behind_https {
        set(
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        );
    }
}

/// Bodies smaller than this are not compressed (the headers would cost more than they save).
const MIN_COMPRESSED: usize = 1024;

/// A static body with its gzip form (made on first use, so that building the routes costs
/// nothing) and its ETag.
#[derive(Debug, Clone)]
pub struct Precompressed {
    identity: Bytes,
    compressible: bool,
    gzip: OnceLock<Option<Bytes>>,
    etag: String,
}

/// Whether a MIME type is text worth compressing.
pub fn is_compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.contains("javascript")
        || mime.contains("json")
        || mime.contains("svg")
        || mime.contains("xml")
}

fn gzip(data: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::best(),
    );
    encoder.write_all(data).ok()?;
    encoder
        .finish()
        .ok()
        .filter(|z| z.len() < data.len())
        .map(Bytes::from)
}

impl Precompressed {
    /// `data`, to be gzipped when `compressible` and large enough to gain.
    pub fn new(data: impl Into<Bytes>, compressible: bool) -> Self {
        let identity: Bytes = data.into();
        let hash = Sha256::digest(&identity);
        let hex = hash[..16]
            .iter()
            .fold(String::with_capacity(32), |mut out, b| {
                use std::fmt::Write as _;
                let _ = write!(out, "{b:02x}");
                out
            });
        Self {
            compressible: compressible && identity.len() >= MIN_COMPRESSED,
            identity,
            gzip: OnceLock::new(),
            etag: format!("\"{hex}\""),
        }
    }

    fn gzipped(&self) -> Option<&Bytes> {
        if !self.compressible {
            return None;
        }
        self.gzip.get_or_init(|| gzip(&self.identity)).as_ref()
    }

    /// The ETag of the identity body (the gzip body's is the same with `-gz` before the
    /// closing quote).
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The identity body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.identity).into_owned()
    }

    fn gzip_etag(&self) -> String {
        format!("{}-gz\"", &self.etag[..self.etag.len() - 1])
    }

    /// The answer to `req`: `304` when `If-None-Match` names either form, else the gzip body
    /// when accepted, else the identity body; with `ETag`, `Vary: Accept-Encoding`,
    /// `cache_control` and `content_type`. Other headers are the caller's.
    pub fn respond(&self, req: &Request, content_type: &str, cache_control: &str) -> Response {
        let gzip = if accepts_gzip(req.headers()) {
            self.gzipped()
        } else {
            None
        };
        let etag = if gzip.is_some() {
            self.gzip_etag()
        } else {
            self.etag.clone()
        };
        let builder = Response::builder()
            .header(header::ETAG, etag)
            .header(header::CACHE_CONTROL, cache_control)
            .header(header::VARY, "Accept-Encoding");
        let gzip_etag = self.gzip_etag();
        let unchanged = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .map(str::trim)
                    .any(|t| t == self.etag || t == gzip_etag || t == "*")
            });
        if unchanged {
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        let builder = builder.content_type(content_type);
        match gzip {
            Some(z) => builder
                .header(header::CONTENT_ENCODING, "gzip")
                .body(z.clone()),
            None => builder.body(self.identity.clone()),
        }
    }
}

/// Whether `Accept-Encoding` accepts gzip (`gzip` or `*`, with a nonzero `q`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut star = None;
    for value in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for item in value.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .find_map(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q > 0.0),
                "*" => star = Some(q > 0.0),
                _ => {}
            }
        }
    }
    gzip.or(star).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        h
    }

    #[test]
    fn accept_encoding_is_negotiated_with_q_values() {
        assert!(accepts_gzip(&headers("gzip, deflate, br")));
        assert!(accepts_gzip(&headers("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&headers("*")));
        assert!(!accepts_gzip(&headers("gzip;q=0, *")));
        assert!(!accepts_gzip(&headers("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn bodies_are_gzipped_once_and_revalidated_by_etag() {
        let text = "body { color: red; }\n".repeat(200);
        let p = Precompressed::new(text.clone().into_bytes(), true);
        let req = |accept: &str, inm: Option<&str>| {
            let mut b = Request::builder().header(header::ACCEPT_ENCODING, accept);
            if let Some(t) = inm {
                b = b.header(header::IF_NONE_MATCH, t);
            }
            b.finish()
        };
        let zipped = p.respond(&req("gzip", None), "text/css", "no-cache");
        assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(zipped.headers()[header::VARY], "Accept-Encoding");
        let tag = zipped.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_ne!(tag, p.etag());
        let body = zipped.into_body().into_vec().await.unwrap();
        assert!(body.len() < text.len() / 10);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
            .unwrap();
        assert_eq!(out, text);
        let plain = p.respond(&req("identity", None), "text/css", "no-cache");
        assert!(!plain.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(plain.headers()[header::ETAG], p.etag());
        let again = p.respond(&req("gzip", Some(&tag)), "text/css", "no-cache");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(!again.headers().contains_key(header::CONTENT_ENCODING));
        // Small or binary bodies stay as they are.
        let small = Precompressed::new(&b"tiny"[..], true);
        let r = small.respond(&req("gzip", None), "text/css", "no-cache");
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
    }
}
