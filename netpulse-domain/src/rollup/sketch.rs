//! A mergeable quantile sketch with 1 % relative accuracy (DDSketch's logarithmic mapping:
//! Masson, Rim, Lee, Garofalakis, "DDSketch", VLDB 2019).

use std::collections::BTreeMap;

/// The relative accuracy α.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// Values at or below this are counted in the zero bucket (speeds and times are ≥ 0).
pub const MIN_INDEXABLE: f64 = 1e-9;
/// The most distinct buckets a sketch keeps; past it, the lowest buckets are collapsed into
/// one (bounded memory; with α = 1 % this covers values from 1e-9 to 1e30 without collapsing).
pub const MAX_BUCKETS: usize = 4096;
/// The format number written first by [`Sketch::encode`].
const FORMAT: u8 = 1;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
}

/// A DDSketch over non-negative values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sketch {
    zero: u64,
    bins: BTreeMap<i32, u64>,
}

/// Why stored sketch bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SketchDecodeError(pub &'static str);

impl std::fmt::Display for SketchDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the sketch bytes are not valid: {}", self.0)
    }
}

impl std::error::Error for SketchDecodeError {}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value (negative and non-finite values are ignored: the series here are
    /// speeds, times and ratios).
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        if value <= MIN_INDEXABLE {
            self.zero += 1;
        } else {
            *self.bins.entry(key(value)).or_insert(0) += 1;
            self.bound();
        }
    }

    /// How many values it holds.
    pub fn count(&self) -> u64 {
        self.zero + self.bins.values().sum::<u64>()
    }

    /// Adds every value of `other` (lossless; `a.merge(b)` equals `b.merge(a)`).
    pub fn merge(&mut self, other: &Self) {
        self.zero += other.zero;
        for (k, c) in &other.bins {
            *self.bins.entry(*k).or_insert(0) += c;
        }
        self.bound();
    }

    /// The `q` quantile (0 ≤ q ≤ 1) at rank ⌊q·(n−1)⌋ of the sorted values: a value within
    /// [`RELATIVE_ACCURACY`] of the value at that rank. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (n - 1) as f64).floor() as u64;
        if rank < self.zero {
            return Some(0.0);
        }
        let mut seen = self.zero;
        for (k, c) in &self.bins {
            seen += c;
            if seen > rank {
                return Some(value_of(*k));
            }
        }
        self.bins.keys().next_back().map(|k| value_of(*k))
    }

    /// The sketch as bytes: a format number, the zero count, then `(key delta, count)` pairs
    /// as LEB128 varints (zig-zag for keys).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        put_varint(&mut out, self.zero);
        put_varint(&mut out, self.bins.len() as u64);
        let mut prev = 0i64;
        for (k, c) in &self.bins {
            let delta = i64::from(*k) - prev;
            prev = i64::from(*k);
            put_varint(&mut out, zigzag(delta));
            put_varint(&mut out, *c);
        }
        out
    }

    /// Reads bytes written by [`Sketch::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, SketchDecodeError> {
        let (&format, mut rest) = bytes
            .split_first()
            .ok_or(SketchDecodeError("it is empty"))?;
        if format != FORMAT {
            return Err(SketchDecodeError("unknown format"));
        }
        let zero = get_varint(&mut rest)?;
        let len = get_varint(&mut rest)?;
        if len > MAX_BUCKETS as u64 {
            return Err(SketchDecodeError("too many buckets"));
        }
        let mut bins = BTreeMap::new();
        let mut prev = 0i64;
        for _ in 0..len {
            prev += unzigzag(get_varint(&mut rest)?);
            let k = i32::try_from(prev).map_err(|_| SketchDecodeError("key out of range"))?;
            bins.insert(k, get_varint(&mut rest)?);
        }
        if !rest.is_empty() {
            return Err(SketchDecodeError("trailing bytes"));
        }
        Ok(Self { zero, bins })
    }

    fn bound(&mut self) {
        while self.bins.len() > MAX_BUCKETS {
            let Some((k0, c0)) = self.bins.pop_first() else {
                return;
            };
            // Collapse the lowest bucket into the next one (never the last one left).
            if let Some(mut e) = self.bins.first_entry() {
                *e.get_mut() += c0;
            } else {
                self.bins.insert(k0, c0);
                return;
            }
        }
    }
}

/// ⌈log_γ x⌉.
fn key(x: f64) -> i32 {
    (x.ln() / gamma().ln()).ceil() as i32
}

/// The value a key stands for: 2γᵏ/(γ+1), within α of every value in (γᵏ⁻¹, γᵏ].
fn value_of(k: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(k) / (g + 1.0)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(input: &mut &[u8]) -> Result<u64, SketchDecodeError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first().ok_or(SketchDecodeError("truncated"))?;
        *input = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(SketchDecodeError("varint too long"))
}
