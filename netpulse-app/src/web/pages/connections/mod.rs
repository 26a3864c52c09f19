//! Settings → Connections: everything `netpulse connection …` does, in a form whose errors sit
//! next to their fields. Cron expressions are entered one per line (never split on commas)
//! with a preview of the next five runs in the connection's time zone. The pages parse the form
//! and call [`crate::service::connections`].

pub mod actions;
pub mod cron;
pub mod form;
pub mod form_page;
pub mod listing;

pub(crate) use self::actions::act;
pub use self::cron::PreviewQuery;
pub(crate) use self::cron::cron_preview;
pub use self::form::ConnectionForm;
pub use self::form_page::{FormPage, NewQuery};
pub(crate) use self::form_page::{create, edit_form, new_form, update};
pub(crate) use self::listing::show;
pub use self::listing::{ConnectionRow, ConnectionsPage};
