//! Every template renders with a fully populated context and with empty data (tera 2 fails on
//! anything undefined), and no template carries inline styles or event handlers (the CSP
//! would block them).
//!
//! One test renders every page template; its parts are grouped by area (`results`: the
//! measurement pages, `settings`: settings, accounts and access, `fleet`: fleet, outages and
//! errors), and [`Coverage`] checks at the end that no page template was left out.

mod fleet;
mod results;
mod settings;

use std::collections::BTreeSet;

use super::render::Templates;

/// The page templates rendered so far, and the checks every rendering gets.
#[derive(Default)]
struct Coverage {
    covered: BTreeSet<String>,
}

impl Coverage {
    /// Records `name` as rendered and checks its full rendering holds `needles`.
    // The call sites hand over pages they have just rendered.
    #[allow(clippy::needless_pass_by_value)]
    fn check(&mut self, name: &str, full: String, empty: String, needles: &[&str]) {
        self.covered.insert(name.to_owned());
        for n in needles {
            assert!(full.contains(n), "{name}: {n:?} missing from the full page");
        }
        assert!(
            full.contains("nonce=\"bm9uY2U=\""),
            "{name}: scripts carry the nonce"
        );
        assert!(!empty.is_empty());
        assert!(!full.contains("<script>\""), "{name}: output is escaped");
    }
}

#[test]
fn every_template_renders_full_and_empty() {
    let t = Templates::load().expect("templates parse");
    let mut cov = Coverage::default();
    results::render_all(&t, &mut cov);
    settings::render_all(&t, &mut cov);
    fleet::render_all(&t, &mut cov);
    let covered = cov.covered;
    let pages: BTreeSet<String> = t
        .names()
        .into_iter()
        .filter(|n| !n.starts_with('_') && n != "base.html")
        .collect();
    assert_eq!(
        covered, pages,
        "every page template is rendered by this test"
    );
}

#[test]
fn templates_have_no_inline_styles_or_handlers() {
    use rust_embed::RustEmbed;
    #[derive(RustEmbed)]
    #[folder = "templates/"]
    struct Files;
    for name in Files::iter() {
        let text = String::from_utf8(Files::get(&name).unwrap().data.into_owned()).unwrap();
        let lower = text.to_lowercase();
        assert!(!lower.contains(" style="), "{name} has an inline style");
        for handler in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " onchange=",
            " oninput=",
            "javascript:",
        ] {
            assert!(!lower.contains(handler), "{name} has {handler}");
        }
        assert!(!lower.contains("<style"), "{name} has a style element");
        // Every inline script carries the nonce.
        for (i, _) in lower.match_indices("<script") {
            assert!(
                lower[i..].split('>').next().unwrap().contains("nonce="),
                "{name}: a script without nonce"
            );
        }
    }
}
