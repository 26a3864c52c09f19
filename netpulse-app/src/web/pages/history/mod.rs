//! History `/history`: filters (window, connection, server, status, verdict, scheduled or
//! run-now), the 12 sort orders, keyset pages, the detail view with the raw output, share links,
//! and the CSV export (streamed in chunks with no row cap: memory stays constant).
//!
//! The pages parse the query, call [`crate::service::measurements`] and render.

pub mod csv;
pub mod detail_view;
pub mod filters;
pub mod list;
pub mod share_links;

pub(crate) use self::csv::export;
pub use self::csv::{CSV_HEADER, EXPORT_CHUNK, csv_field, csv_line};
pub(crate) use self::detail_view::detail;
pub use self::detail_view::{DetailPage, Fact, ShareRow};
pub use self::filters::{HistoryQuery, PAGE_SIZES, filter_of, sort_label};
pub(crate) use self::list::show;
pub use self::list::{Column, HistoryPage, Opt, Row};
pub(crate) use self::share_links::{revoke, share};
