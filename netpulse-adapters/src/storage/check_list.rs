//! Keyset pages of check results: newest round first, then check, then family (a total order).
//! A page is merged from one range read per check (its packed blocks newest first from the
//! primary key `(check_num, family, block_at)`, whole hours at a time, until `limit + 1`
//! results), so a deep page costs what the first does and no read scans another check's
//! history. The cursor is opaque text
//! `<round ms>.<check num>.<family code>`.

use netpulse_domain::check::CheckMeasurement;
use netpulse_ports::storage::StorageError;

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

    /// The newest round a page after this cursor can hold.
    pub(crate) fn round_at(&self) -> i64 {
        self.round_at
    }

    /// Whether a result of check `num` comes after this cursor: in the order (round DESC, num
    /// DESC, family DESC), a check before the cursor's continues at its round, the cursor's own
    /// check after its family, a later one below its round.
    pub(crate) fn admits(&self, num: i32, round_at: i64, family: i16) -> bool {
        use std::cmp::Ordering;
        match num.cmp(&self.num) {
            Ordering::Less => round_at <= self.round_at,
            Ordering::Greater => round_at < self.round_at,
            Ordering::Equal => {
                round_at < self.round_at || (round_at == self.round_at && family < self.family)
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
