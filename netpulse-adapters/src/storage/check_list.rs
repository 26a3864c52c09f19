//! Keyset pages of check results: newest round first, then check, then family (a total order).
//! A page is merged from one indexed range read per check (each at most `limit + 1` rows from
//! the primary key `(check_num, round_at, family)`), so a deep page costs what the first does
//! and no read scans another check's history. The cursor is opaque text
//! `<round ms>.<check num>.<family code>`.

use netpulse_domain::check::CheckMeasurement;
use netpulse_ports::storage::StorageError;
use sqlx::QueryBuilder;

use crate::storage::check_rows::family_code;
use crate::storage::rows::invalid;

/// Where a page ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    round_at: i64,
    num: i32,
    family: i16,
}

impl Cursor {
    pub(crate) fn after(num: i32, m: &CheckMeasurement) -> Self {
        Self {
            round_at: m.round_at.unix_millis(),
            num,
            family: family_code(m.family),
        }
    }

    pub(crate) fn encode(self) -> String {
        format!("{}.{}.{}", self.round_at, self.num, self.family)
    }

    pub(crate) fn decode(text: &str) -> Result<Self, StorageError> {
        let bad = || {
            invalid(
                "cursor",
                text,
                "is not a cursor of this list (request the first page again)",
            )
        };
        let mut parts = text.split('.');
        let (Some(r), Some(n), Some(f), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Self {
            round_at: r.parse().map_err(|_| bad())?,
            num: n.parse().map_err(|_| bad())?,
            family: f.parse().map_err(|_| bad())?,
        })
    }

    /// Appends `AND (rows of check `num` after this cursor)`: in the order (round DESC, num
    /// DESC, family DESC), a check before the cursor's continues at its round, the cursor's own
    /// check after its family, a later one below its round.
    pub(crate) fn push_condition<DB>(&self, q: &mut QueryBuilder<DB>, num: i32)
    where
        DB: sqlx::Database,
        i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i16: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        use std::cmp::Ordering;
        match num.cmp(&self.num) {
            Ordering::Less => {
                q.push(" AND r.round_at <= ").push_bind(self.round_at);
            }
            Ordering::Greater => {
                q.push(" AND r.round_at < ").push_bind(self.round_at);
            }
            Ordering::Equal => {
                q.push(" AND (r.round_at < ")
                    .push_bind(self.round_at)
                    .push(" OR (r.round_at = ")
                    .push_bind(self.round_at)
                    .push(" AND r.family < ")
                    .push_bind(self.family)
                    .push("))");
            }
        }
    }
}

/// Sorts rows (with their check num) in page order.
pub(crate) fn sort_newest_first(rows: &mut [(i32, CheckMeasurement)]) {
    rows.sort_by(|(na, a), (nb, b)| {
        (b.round_at, *nb, family_code(b.family)).cmp(&(a.round_at, *na, family_code(a.family)))
    });
}
