//! Per-request CSP nonces and the security headers of every dashboard answer.

use base64::Engine as _;
use poem::Response;
use poem::http::HeaderValue;
use rand::RngCore;

/// A fresh nonce: 128 random bits, base64.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The Content-Security-Policy with a nonce. No `unsafe-inline`, no `unsafe-eval`: scripts
/// need the nonce or come from this origin; styles only from this origin (charts and Alpine set
/// styles through the CSSOM, which CSP allows).
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'; object-src 'none'"
    )
}

/// Adds the security headers (CSP with the nonce, framing, sniffing, referrer, permissions,
/// isolation; HSTS behind HTTPS: [`crate::respond::set_security_headers`]) and, for pages,
/// `Cache-Control: no-store`.
pub fn add_headers(resp: &mut Response, nonce: &str, behind_https: bool) {
    let page = !resp.headers().contains_key("Cache-Control");
    let h = resp.headers_mut();
    crate::respond::set_security_headers(h, &content_security_policy(nonce), behind_https);
    if page {
        h.insert("Cache-Control", HeaderValue::from_static("no-store"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonces_are_fresh_and_the_policy_is_strict() {
        let a = super::nonce();
        assert_ne!(a, super::nonce());
        let csp = super::content_security_policy(&a);
        assert!(csp.contains(&format!("'nonce-{a}'")));
        assert!(!csp.contains("unsafe"));
    }
}
