//! The packed layout of check results (migration 0013): one `check_result_blocks` row per
//! check, family and hour, whose `data` holds that hour's results in round order, each a few
//! varints. Storing ~60 results per row spreads the row's overhead (a PostgreSQL tuple header
//! and primary-key entry, a SQLite cell and record header) over all of them.
//!
//! # One result in `data`
//!
//! 1. the round as `zigzag(Δ − Δ_prev)` where `Δ` is its distance in ms from the previous
//!    round of the block (from the block's start for the first, whose `Δ_prev` is 0): a steady
//!    cadence costs one byte;
//! 2. a head varint: bits 0–1 the outcome code, 2–3 the flags `during_speed_test` and
//!    `degraded`, then one bit per present field (`PRESENT`), the address as two bits (none /
//!    the check's own host / octets follow), and bit 19 the flag `after_resume` (added after
//!    the first blocks were written: older blocks never set it, so they read unchanged);
//! 3. the present fields in `PRESENT` order: durations as whole microseconds — `rtt_min`,
//!    `rtt_max` and `ttfb` as zigzag distances from the latency when it is present —, loss in
//!    hundredths of a percent, the HTTP status as `zigzag(status − 200)`, codes as in
//!    `check_rows`, octets, message and DNS detail as a length and their bytes.
//!
//! The values are those of [`ResultValues`] exactly, so what a block holds reads back as the
//! narrow columns did.

use netpulse_ports::storage::StorageError;

use crate::storage::check_rows::ResultValues;
use crate::storage::rows::invalid;

/// The span of one block.
pub(crate) const BLOCK_MS: i64 = 3_600_000;

/// The start of the block holding `round_at`.
pub(crate) fn block_of(round_at: i64) -> i64 {
    round_at.saturating_sub(round_at.rem_euclid(BLOCK_MS))
}

// Bits of the head after outcome (0–1) and flags (2–3).
const LATENCY: u64 = 1 << 4;
const LOSS: u64 = 1 << 5;
const JITTER: u64 = 1 << 6;
const RTT_MIN: u64 = 1 << 7;
const RTT_MAX: u64 = 1 << 8;
const STDEV: u64 = 1 << 9;
const STATUS: u64 = 1 << 10;
const TTFB: u64 = 1 << 11;
/// Two bits: 0 no address, 1 the check's own host, 2 octets follow.
const ADDRESS_SHIFT: u32 = 12;
const CLASS: u64 = 1 << 14;
const MESSAGE: u64 = 1 << 15;
const PORT: u64 = 1 << 16;
const RATING: u64 = 1 << 17;
const DNS: u64 = 1 << 18;
/// The flag `after_resume` (flags bit 2, `check_rows::AFTER_RESUME`).
const AFTER_RESUME: u64 = 1 << 19;
const KNOWN: u64 = (1 << 20) - 1;

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A 32-bit value as its unsigned bits (non-negative values, the normal case, stay short).
fn put_u32(out: &mut Vec<u8>, v: i32) {
    put(out, u64::from(v as u32));
}

fn put_u16(out: &mut Vec<u8>, v: i16) {
    put(out, u64::from(v as u16));
}

/// Encodes `results` (one block: the same check and family, distinct rounds in
/// `[block_at, block_at + BLOCK_MS)`), sorting them by round.
pub(crate) fn encode(block_at: i64, results: &mut [ResultValues]) -> Result<Vec<u8>, StorageError> {
    results.sort_by_key(|v| v.round_at);
    let mut out = Vec::with_capacity(results.len() * 16);
    let (mut prev, mut prev_delta) = (block_at, 0i64);
    for v in results.iter() {
        if block_of(v.round_at) != block_at || v.round_at < prev {
            return Err(invalid("round_at", v.round_at, "is not in its block"));
        }
        if !(0..=3).contains(&v.outcome) || v.flags & !7 != 0 {
            return Err(invalid("outcome", v.outcome, "has no packed code"));
        }
        let delta = v.round_at - prev;
        put(&mut out, zigzag(delta - prev_delta));
        (prev, prev_delta) = (v.round_at, delta);
        let mut head = v.outcome as u64 | ((v.flags & 3) as u64) << 2;
        if v.flags & 4 != 0 {
            head |= AFTER_RESUME;
        }
        let bit = |present: bool, b: u64| if present { b } else { 0 };
        head |= bit(v.latency_us.is_some(), LATENCY)
            | bit(v.loss_bp.is_some(), LOSS)
            | bit(v.jitter_us.is_some(), JITTER)
            | bit(v.rtt_min_us.is_some(), RTT_MIN)
            | bit(v.rtt_max_us.is_some(), RTT_MAX)
            | bit(v.rtt_stdev_us.is_some(), STDEV)
            | bit(v.status.is_some(), STATUS)
            | bit(v.ttfb_us.is_some(), TTFB)
            | bit(v.failure_class.is_some(), CLASS)
            | bit(v.message.is_some(), MESSAGE)
            | bit(v.port_state.is_some(), PORT)
            | bit(v.dns_rating.is_some(), RATING)
            | bit(v.dns_detail.is_some(), DNS);
        head |= match &v.address {
            None => 0,
            Some(o) if o.is_empty() => 1,
            Some(_) => 2,
        } << ADDRESS_SHIFT;
        put(&mut out, head);
        let from_latency = |x: i32| match v.latency_us {
            Some(l) => zigzag(i64::from(l) - i64::from(x)),
            None => u64::from(x as u32),
        };
        if let Some(x) = v.latency_us {
            put_u32(&mut out, x);
        }
        if let Some(x) = v.loss_bp {
            put_u16(&mut out, x);
        }
        if let Some(x) = v.jitter_us {
            put_u32(&mut out, x);
        }
        if let Some(x) = v.rtt_min_us {
            put(&mut out, from_latency(x));
        }
        if let Some(x) = v.rtt_max_us {
            // Above the latency: the distance the other way keeps it positive.
            put(
                &mut out,
                match v.latency_us {
                    Some(l) => zigzag(i64::from(x) - i64::from(l)),
                    None => u64::from(x as u32),
                },
            );
        }
        if let Some(x) = v.rtt_stdev_us {
            put_u32(&mut out, x);
        }
        if let Some(x) = v.status {
            put(&mut out, zigzag(i64::from(x) - 200));
        }
        if let Some(x) = v.ttfb_us {
            put(&mut out, from_latency(x));
        }
        if let Some(o) = v.address.as_ref().filter(|o| !o.is_empty()) {
            put_bytes(&mut out, o);
        }
        if let Some(x) = v.failure_class {
            put_u16(&mut out, x);
        }
        if let Some(m) = &v.message {
            put_bytes(&mut out, m.as_bytes());
        }
        if let Some(x) = v.port_state {
            put_u16(&mut out, x);
        }
        if let Some(x) = v.dns_rating {
            put_u16(&mut out, x);
        }
        if let Some(d) = &v.dns_detail {
            put_bytes(&mut out, d.as_bytes());
        }
    }
    Ok(out)
}

/// Reads the varints of one block.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

fn corrupt(why: &str) -> StorageError {
    invalid("check_result_blocks.data", "(a packed block)", why)
}

impl Reader<'_> {
    fn next(&mut self) -> Result<u64, StorageError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .data
                .get(self.at)
                .ok_or_else(|| corrupt("ends inside a value"))?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("has a varint over 64 bits"))
    }

    fn u32(&mut self) -> Result<i32, StorageError> {
        let v = self.next()?;
        u32::try_from(v)
            .map(|v| v as i32)
            .map_err(|_| corrupt("has a 32-bit value out of range"))
    }

    fn u16(&mut self) -> Result<i16, StorageError> {
        let v = self.next()?;
        u16::try_from(v)
            .map(|v| v as i16)
            .map_err(|_| corrupt("has a 16-bit value out of range"))
    }

    fn signed(&mut self) -> Result<i64, StorageError> {
        Ok(unzigzag(self.next()?))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, StorageError> {
        let len = usize::try_from(self.next()?).map_err(|_| corrupt("has a bad length"))?;
        let end = self
            .at
            .checked_add(len)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| corrupt("ends inside a text"))?;
        let b = self.data[self.at..end].to_vec();
        self.at = end;
        Ok(b)
    }

    fn text(&mut self) -> Result<String, StorageError> {
        String::from_utf8(self.bytes()?).map_err(|_| corrupt("has a text that is not UTF-8"))
    }
}

fn narrow(v: i64) -> Result<i32, StorageError> {
    i32::try_from(v).map_err(|_| corrupt("has a duration out of range"))
}

/// The results of a block of `family` starting at `block_at`, in round order.
pub(crate) fn decode(
    block_at: i64,
    family: i16,
    data: &[u8],
) -> Result<Vec<ResultValues>, StorageError> {
    let mut r = Reader { data, at: 0 };
    let mut out = Vec::with_capacity(data.len() / 12);
    let (mut prev, mut prev_delta) = (block_at, 0i64);
    while r.at < data.len() {
        let delta = prev_delta
            .checked_add(r.signed()?)
            .ok_or_else(|| corrupt("has a round out of range"))?;
        prev = prev
            .checked_add(delta)
            .ok_or_else(|| corrupt("has a round out of range"))?;
        prev_delta = delta;
        let head = r.next()?;
        if head & !KNOWN != 0 || (head >> ADDRESS_SHIFT) & 3 == 3 {
            return Err(corrupt("has an unknown head"));
        }
        let has = |b: u64| head & b != 0;
        let latency_us = if has(LATENCY) { Some(r.u32()?) } else { None };
        let from_latency = |r: &mut Reader<'_>, sign: i64| -> Result<i32, StorageError> {
            match latency_us {
                Some(l) => narrow(
                    r.signed()?
                        .checked_mul(sign)
                        .and_then(|d| i64::from(l).checked_sub(d))
                        .ok_or_else(|| corrupt("has a duration out of range"))?,
                ),
                None => r.u32(),
            }
        };
        let loss_bp = if has(LOSS) { Some(r.u16()?) } else { None };
        let jitter_us = if has(JITTER) { Some(r.u32()?) } else { None };
        let rtt_min_us = if has(RTT_MIN) {
            Some(from_latency(&mut r, 1)?)
        } else {
            None
        };
        let rtt_max_us = if has(RTT_MAX) {
            Some(from_latency(&mut r, -1)?)
        } else {
            None
        };
        let rtt_stdev_us = if has(STDEV) { Some(r.u32()?) } else { None };
        let status = if has(STATUS) {
            Some(
                r.signed()?
                    .checked_add(200)
                    .and_then(|s| i16::try_from(s).ok())
                    .ok_or_else(|| corrupt("has a status out of range"))?,
            )
        } else {
            None
        };
        let ttfb_us = if has(TTFB) {
            Some(from_latency(&mut r, 1)?)
        } else {
            None
        };
        let address = match (head >> ADDRESS_SHIFT) & 3 {
            0 => None,
            1 => Some(Vec::new()),
            _ => Some(r.bytes()?),
        };
        let failure_class = if has(CLASS) { Some(r.u16()?) } else { None };
        let message = if has(MESSAGE) { Some(r.text()?) } else { None };
        let port_state = if has(PORT) { Some(r.u16()?) } else { None };
        let dns_rating = if has(RATING) { Some(r.u16()?) } else { None };
        let dns_detail = if has(DNS) { Some(r.text()?) } else { None };
        if block_of(prev) != block_at {
            return Err(corrupt("has a round outside its block"));
        }
        out.push(ResultValues {
            round_at: prev,
            family,
            outcome: (head & 3) as i16,
            failure_class,
            latency_us,
            loss_bp,
            jitter_us,
            rtt_min_us,
            rtt_max_us,
            rtt_stdev_us,
            status,
            ttfb_us,
            port_state,
            dns_rating,
            flags: ((head >> 2) & 3) as i16 | if head & AFTER_RESUME != 0 { 4 } else { 0 },
            address,
            message,
            dns_detail,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn opt<T: std::fmt::Debug + Clone>(
        s: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Option<T>> {
        proptest::option::of(s)
    }

    prop_compose! {
        fn values(block_at: i64)(
            offset in 0..BLOCK_MS,
            outcome in 0i16..4,
            flags in 0i16..8,
            ints in proptest::collection::vec(opt(any::<i32>()), 7),
            smalls in proptest::collection::vec(opt(any::<i16>()), 5),
            address in opt(prop_oneof![Just(Vec::new()), Just(vec![10, 0, 0, 1]), Just(vec![0xfd; 16])]),
            message in opt(".{0,40}"),
            dns_detail in opt("[a-z0-9.|;]{0,30}"),
        ) -> ResultValues {
            ResultValues {
                round_at: block_at + offset,
                family: 4,
                outcome,
                failure_class: smalls[0],
                latency_us: ints[0],
                loss_bp: smalls[1],
                jitter_us: ints[1],
                rtt_min_us: ints[2],
                rtt_max_us: ints[3],
                rtt_stdev_us: ints[4],
                status: smalls[2],
                ttfb_us: ints[5],
                port_state: smalls[3],
                dns_rating: smalls[4],
                flags,
                address,
                message,
                dns_detail,
            }
        }
    }

    fn key(v: &ResultValues) -> String {
        format!("{v:?}")
    }

    proptest! {
        #[test]
        fn any_block_decodes_to_what_was_encoded(
            hour in -1000i64..1_000_000,
            mut results in proptest::collection::vec(values(0), 0..80),
        ) {
            let block_at = hour * BLOCK_MS;
            for v in &mut results {
                v.round_at += block_at;
            }
            results.sort_by_key(|v| v.round_at);
            results.dedup_by_key(|v| v.round_at);
            let mut shuffled = results.clone();
            shuffled.reverse();
            let data = encode(block_at, &mut shuffled).unwrap();
            let back = decode(block_at, 4, &data).unwrap();
            prop_assert_eq!(back.iter().map(key).collect::<Vec<_>>(), results.iter().map(key).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_steady_icmp_result_takes_about_fourteen_bytes() {
        let mut results: Vec<ResultValues> = (0..60)
            .map(|i| ResultValues {
                round_at: 17_000 + i * 60_000,
                family: 6,
                outcome: 0,
                failure_class: None,
                latency_us: Some(14_210),
                loss_bp: Some(0),
                jitter_us: Some(830),
                rtt_min_us: Some(12_900),
                rtt_max_us: Some(16_400),
                rtt_stdev_us: Some(640),
                status: None,
                ttfb_us: None,
                port_state: None,
                dns_rating: None,
                flags: 0,
                address: Some(Vec::new()),
                message: None,
                dns_detail: None,
            })
            .collect();
        let data = encode(0, &mut results).unwrap();
        assert!(data.len() <= 60 * 15, "{} bytes", data.len());
        assert_eq!(decode(0, 6, &data).unwrap().len(), 60);
        // Damage is refused, never a panic.
        assert!(decode(0, 6, &data[..data.len() - 1]).is_err());
        assert!(decode(0, 6, &[0x80]).is_err());
        let mut late = results[..1].to_vec();
        assert!(encode(BLOCK_MS, &mut late).is_err());
    }
}
