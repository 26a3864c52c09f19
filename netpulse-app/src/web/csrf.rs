//! CSRF protection. A signed-in session has its own random token (synchroniser pattern): forms
//! send it as `_csrf`, scripts as the `X-CSRF-Token` header. Before sign-in (the setup and
//! sign-in forms) a random `np_csrf` cookie is mirrored in the form (double submit). Tokens are
//! compared in constant time. SameSite=Lax cookies are a second line of defence.

use poem::Request;
use subtle::ConstantTimeEq;

/// The pre-session cookie.
pub const COOKIE: &str = "np_csrf";
/// The header scripts send.
pub const HEADER: &str = "X-CSRF-Token";
/// The form field.
pub const FIELD: &str = "_csrf";

/// Whether a method changes state.
pub fn is_unsafe(method: &poem::http::Method) -> bool {
    !matches!(
        *method,
        poem::http::Method::GET | poem::http::Method::HEAD | poem::http::Method::OPTIONS
    )
}

/// Whether two tokens are equal (constant time; empty never matches).
pub fn matches(given: &str, expected: &str) -> bool {
    !expected.is_empty() && given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The token in the `X-CSRF-Token` header.
pub fn from_header(req: &Request) -> Option<String> {
    req.headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The `_csrf` field of an url-encoded form body.
pub fn from_form(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abd", "abc"));
        assert!(!matches("", ""));
        assert!(!matches("abc", ""));
    }

    #[test]
    fn the_form_field_is_found() {
        assert_eq!(
            from_form(b"name=x&_csrf=a%2Bb&other=1").as_deref(),
            Some("a+b")
        );
        assert_eq!(from_form(b"name=x"), None);
        assert!(is_unsafe(&poem::http::Method::POST));
        assert!(!is_unsafe(&poem::http::Method::GET));
    }
}
