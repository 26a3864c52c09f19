//! Two-factor sign-in over HTTP, through the dashboard's forms: enrolment (the secret from the
//! page, codes computed here from it), confirmation, sign-in with a code, the replay guard,
//! recovery codes (single use), the shared throttle, an admin's reset and "require 2FA".

use netpulse_app::service::{two_factor, users};
use netpulse_domain::access::Role;
use netpulse_ports::clock::Clock;

use crate::helpers::TestApp;
use crate::web_auth::{EMAIL, PASSWORD, WebClient, csrf_of};

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    Some(&html[from..from + html[from..].find(end)?])
}

fn code_now(t: &TestApp, secret: &str) -> String {
    let now = u64::try_from(t.clock.now().unix_seconds()).unwrap();
    two_factor::code_at(secret, now).unwrap()
}

async fn post(w: &mut WebClient, path: &str, fields: &[(&str, &str)]) -> crate::web_auth::Answer {
    let token = w.csrf("/settings/two-factor").await;
    let mut all = vec![("_csrf", token.as_str())];
    all.extend_from_slice(fields);
    w.post_form(path, &all).await
}

async fn sign_out(w: &mut WebClient) {
    let token = w.csrf("/settings/two-factor").await;
    let a = w.post_form("/logout", &[("_csrf", &token)]).await;
    assert_eq!(a.status, 303);
}

/// The password step, then the code step with `code`: the status and location of the answer.
async fn sign_in_with(w: &mut WebClient, code: &str) -> (u16, Option<String>) {
    let a = w.login(EMAIL, PASSWORD).await;
    assert_eq!(
        (a.status, a.location.as_deref()),
        (303, Some("/login/two-factor")),
        "{}",
        a.body
    );
    assert!(w.cookies.contains_key("np_mfa"));
    assert!(!w.cookies.contains_key("np_session"));
    let page = w.get("/login/two-factor").await;
    assert_eq!(page.status, 200);
    let token = csrf_of(&page.body);
    let a = w
        .post_form("/login/two-factor", &[("_csrf", &token), ("code", code)])
        .await;
    (a.status, a.location)
}

pub(crate) async fn totp_enrolment_sign_in_replay_and_recovery(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    // Enrol: a pending secret shown as a QR code, the key and the otpauth URI.
    let a = post(&mut w, "/settings/two-factor/start", &[]).await;
    assert_eq!(a.status, 303);
    let page = w.get("/settings/two-factor").await.body;
    assert!(
        page.contains("data:image/png;base64,iVBORw0KGgo"),
        "a PNG QR code"
    );
    let secret = between(&page, "id=\"totp-secret\">", "<")
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base 32: {secret}");
    let uri = between(&page, "id=\"totp-uri\">", "<").map(|_| ());
    assert!(uri.is_some());
    assert!(
        page.contains("otpauth://totp/NetPulse:admin%40example.org?secret="),
        "{page}"
    );

    // A wrong code does not turn it on; the right one does and shows 10 recovery codes once.
    let first = code_now(t, &secret);
    let last = first.as_bytes()[5] - b'0';
    let wrong = format!("{}{}", &first[..5], (last + 1) % 10);
    let a = post(&mut w, "/settings/two-factor/confirm", &[("code", &wrong)]).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("does not match"), "{}", a.body);
    let a = post(&mut w, "/settings/two-factor/confirm", &[("code", &first)]).await;
    assert_eq!(
        a.location.as_deref(),
        Some("/settings/two-factor?done=enabled")
    );
    let page = w.get("/settings/two-factor").await.body;
    let codes: Vec<String> = page
        .split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{page}");
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
    );
    assert!(
        !w.get("/settings/two-factor").await.body.contains(&codes[0]),
        "shown once"
    );
    let stored = t
        .app
        .storage
        .recovery_codes(&users::by_email(&t.app, EMAIL).await.unwrap().unwrap().id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|c| c.digest.starts_with("$argon2id$")));

    // Sign-in asks for the code; the code used to confirm (same step) is a replay.
    sign_out(&mut w).await;
    assert_eq!(sign_in_with(&mut w, &first).await.0, 401);
    t.clock.advance_seconds(30);
    let next = code_now(t, &secret);
    assert_eq!(sign_in_with(&mut w, &next).await, (303, Some("/".into())));
    assert!(w.cookies.contains_key("np_session"));
    assert_eq!(w.get("/").await.status, 200);
    // The same code again, even in a new sign-in, is refused.
    sign_out(&mut w).await;
    assert_eq!(sign_in_with(&mut w, &next).await.0, 401);
    // A recovery code works once (typed in upper case, without the hyphen).
    let typed = codes[3].replace('-', "").to_uppercase();
    assert_eq!(sign_in_with(&mut w, &typed).await.0, 303);
    sign_out(&mut w).await;
    assert_eq!(sign_in_with(&mut w, &codes[3]).await.0, 401);
    let page_codes = {
        assert_eq!(sign_in_with(&mut w, &codes[4]).await.0, 303);
        w.get("/settings/two-factor").await.body
    };
    assert!(
        page_codes.contains("id=\"recovery-left\">8<"),
        "{page_codes}"
    );

    // Regenerating replaces them all: an old unused code stops working.
    let a = post(&mut w, "/settings/two-factor/recovery", &[]).await;
    assert_eq!(a.status, 303);
    let fresh = w.get("/settings/two-factor").await.body;
    assert!(fresh.contains("<li><code>"));
    sign_out(&mut w).await;
    assert_eq!(sign_in_with(&mut w, &codes[5]).await.0, 401);

    // Wrong codes share the sign-in throttle (5 failures lock the account).
    for _ in 0..4 {
        assert_eq!(sign_in_with(&mut w, "123-45x").await.0, 401);
    }
    assert_eq!(w.login(EMAIL, PASSWORD).await.status, 429);
    t.clock.advance_seconds(16 * 60);

    // An admin's reset turns it off: the password alone signs in again.
    let admin = users::by_email(&t.app, EMAIL).await.unwrap().unwrap();
    t.clock.advance_seconds(30);
    let code = code_now(t, &secret);
    assert_eq!(sign_in_with(&mut w, &code).await.0, 303);
    let a = post(
        &mut w,
        &format!("/settings/users/{}", admin.id),
        &[("action", "reset-2fa")],
    )
    .await;
    assert_eq!(a.location.as_deref(), Some("/settings/users?done=changed"));
    assert!(!two_factor::enabled(&t.app, &admin.id).await.unwrap());
    let audit = t.app.storage.audit_entries(None, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "user.2fa_on" && e.subject == "user:admin@example.org"),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|e| e.action == "user.2fa_reset" && e.subject == "user:admin@example.org"),
        "{audit:?}"
    );
    sign_out(&mut w).await;
    let a = w.login(EMAIL, PASSWORD).await;
    assert_eq!(a.location.as_deref(), Some("/"));
}

pub(crate) async fn required_two_factor_sends_users_to_enrol(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let a = post(
        &mut w,
        "/settings/two-factor-required",
        &[("required", "on")],
    )
    .await;
    assert_eq!(a.status, 303);
    assert!(two_factor::required(&t.app).await.unwrap());
    // The admin without 2FA is sent to enrol before anything else.
    assert_eq!(
        w.get("/").await.location.as_deref(),
        Some("/settings/two-factor")
    );
    assert_eq!(w.get("/settings/two-factor").await.status, 200);
    // A viewer too, and JSON callers get 403 naming the page.
    users::create_with_role(
        &t.app,
        "viewer@example.org".into(),
        PASSWORD.into(),
        Role::Viewer,
    )
    .await
    .unwrap();
    let mut v = WebClient::new(t);
    let a = v.login("viewer@example.org", PASSWORD).await;
    assert_eq!(a.location.as_deref(), Some("/"));
    assert_eq!(
        v.get("/history").await.location.as_deref(),
        Some("/settings/two-factor")
    );
    let (s, body) = v.get_json("/dashboard/cursor").await;
    assert_eq!(s, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/settings/two-factor")
    );
    // Once enrolled, the viewer goes on.
    let a = post(&mut v, "/settings/two-factor/start", &[]).await;
    assert_eq!(a.status, 303);
    let page = v.get("/settings/two-factor").await.body;
    let secret = between(&page, "id=\"totp-secret\">", "<")
        .unwrap()
        .to_owned();
    let code = code_now(t, &secret);
    let a = post(&mut v, "/settings/two-factor/confirm", &[("code", &code)]).await;
    assert_eq!(a.status, 303);
    assert_eq!(v.get("/history").await.status, 200);
    // Only admins may switch the requirement.
    let a = post(&mut v, "/settings/two-factor-required", &[]).await;
    assert_eq!(a.status, 403);
}

/// The whole 2FA flow in headless Chromium, with screenshots (1280 and 390 px, light and
/// dark): enrol from the QR page, sign in with a code, a wrong code, the audit page.
pub(crate) async fn two_factor_in_a_browser(t: &TestApp) {
    use crate::browser::Browser;
    let label = format!("{}-2fa", crate::web_browser::db_label());
    let b = Browser::start(&t.base, &label).await;
    b.watch_errors().await;
    b.goto("/setup").await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;

    b.goto("/settings/two-factor").await;
    b.screenshots_both("two-factor-off").await;
    b.click("form[action='/settings/two-factor/start'] button")
        .await;
    b.wait_until("the QR code", "!!document.querySelector('img.qr')")
        .await;
    let shown = b
        .eval("const i = document.querySelector('img.qr'); return i.complete && i.naturalWidth;")
        .await;
    assert!(
        shown.as_u64().unwrap_or(0) > 50,
        "the QR PNG decodes: {shown}"
    );
    b.screenshots_both("two-factor-enrol").await;
    b.fits(390).await;
    let secret = b.text("#totp-secret").await;
    b.fill("#code", &code_now(t, &secret)).await;
    b.click("form[action='/settings/two-factor/confirm'] button")
        .await;
    b.wait_until(
        "the recovery codes",
        "!!document.querySelector('#recovery-codes')",
    )
    .await;
    assert_eq!(b.count("#recovery-codes li").await, 10);
    b.screenshots_both("two-factor-codes").await;

    // Sign out, sign in: the code step; a wrong code is reported at the field.
    b.click("header form button[type=submit]").await;
    b.wait_until("the sign-in page", "location.pathname === '/login'")
        .await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the code step", "location.pathname === '/login/two-factor'")
        .await;
    b.screenshots_both("login-two-factor").await;
    let right = code_now(t, &secret);
    let wrong = format!("{}{}", &right[..5], (right.as_bytes()[5] - b'0' + 1) % 10);
    b.fill("#code", &wrong).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the error", "!!document.querySelector('#code-error')")
        .await;
    assert!(b.text("#code-error").await.contains("wrong"));
    b.screenshots_both("login-two-factor-wrong").await;
    t.clock.advance_seconds(30);
    b.fill("#code", &code_now(t, &secret)).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;

    b.goto("/settings/audit").await;
    assert!(b.text("main").await.contains("user.create"));
    b.screenshots_both("settings-audit").await;
    b.goto("/settings/users").await;
    b.screenshots_both("settings-users-2fa").await;
    assert!(b.errors().await.is_empty(), "{:?}", b.errors().await);
}
