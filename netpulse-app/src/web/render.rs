//! The templates (tera 2), embedded in the binary and parsed once at start-up. Tera 2 is strict:
//! an undefined variable is an error, so every page passes every key (with `null` for unknown
//! values) and a test renders each template with full and with empty data.

use rust_embed::RustEmbed;
use serde::Serialize;

/// The template files.
#[derive(RustEmbed, Debug)]
#[folder = "templates/"]
struct TemplateFiles;

/// The parsed templates.
#[derive(Debug)]
pub struct Templates {
    tera: tera::Tera,
}

impl Templates {
    /// Parses every embedded template.
    pub fn load() -> Result<Self, tera::Error> {
        let mut tera = tera::Tera::new();
        // Tera 2 needs filters, tests and functions registered before templates are added; the
        // pages use only built-in ones (every label is formatted in Rust).
        let files: Vec<(String, String)> = TemplateFiles::iter()
            .filter_map(|name| {
                let file = TemplateFiles::get(&name)?;
                let text = String::from_utf8(file.data.into_owned()).ok()?;
                Some((name.into_owned(), text))
            })
            .collect();
        tera.add_raw_templates(files)?;
        Ok(Self { tera })
    }

    /// Every template name (partials start with `_`).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tera.get_template_names().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// Renders a template with a serialisable context.
    pub fn render<T: Serialize>(&self, name: &str, context: &T) -> Result<String, tera::Error> {
        let ctx = tera::Context::from_serialize(context)?;
        self.tera.render(name, &ctx)
    }

    /// Renders one block of a template (for in-place refreshes).
    pub fn render_block<T: Serialize>(
        &self,
        name: &str,
        block: &str,
        context: &T,
    ) -> Result<String, tera::Error> {
        let ctx = tera::Context::from_serialize(context)?;
        self.tera.render_block(name, block, &ctx)
    }
}
