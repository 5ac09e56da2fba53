//! The bloom filter of received message ids that every non-ephemeral SDS message carries
//! (`reference/reliability.md` §2.5), written here from the published math so every
//! simulated node computes the same bits:
//!
//! - sizing ([`BloomParams::optimal`]): `bits_per_elem = ceil(−ln p / ln² 2)`,
//!   `k = round(ln 2 · bits_per_elem)`, `m_bits = capacity · bits_per_elem`, stored in
//!   `1 + floor(m_bits / 64)` 64-bit words — 18 752 bytes for 10 000 / 0.001;
//! - hashing ([`BloomKey`]): double hashing `h_i = (h_a + i·h_b) mod m_bits` with
//!   `h_a = |hash(id)| mod m`, `h_b = |hash(id ‖ " b")| mod m`, where `hash` is Nim's
//!   32-bit MurmurHash3 string hash over the id's UTF-8 bytes (js-waku ships a JS build of
//!   it, `nim_hashn.mjs`); it passes js-waku's 72 test vectors. The two raw hashes do not
//!   depend on `m`, so a key is computed once per id;
//! - bit `h` is bit `h mod 64` of word `h / 64`; [`BloomFilter::to_bytes`] writes the words
//!   big endian (js-waku), and [`BloomView`] tests membership directly on such bytes, so a
//!   received filter is never copied;
//! - [`RollingBloom`]: the local filter with nim-sds's rollover (or none, as js-waku).
//!
//! Bounds: a view accepts at most [`MAX_HASHES`] hash functions; a rolling filter keeps at
//! most `capacity·(100 + flex)/100 + 1` keys to rebuild from.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use sim_core::rng::{exp, ln};
use waku::Bytes;

use super::config::BloomRollover;

/// Most hash functions a received filter may ask for (a corrupt `k` cannot make a lookup
/// slow).
pub const MAX_HASHES: u32 = 64;

const LN_2: f64 = std::f64::consts::LN_2;

/// The shape of a bloom filter (nim-sds sends these with every filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BloomParams {
    /// Elements the filter was sized for.
    pub capacity: u64,
    /// Target false-positive rate in parts per million (nim-sds `errorRate · 10^6`).
    pub error_rate_ppm: u64,
    /// Hash functions.
    pub k: u32,
    /// Bits.
    pub m_bits: u64,
}

/// `ceil(−ln p / ln² 2)`: bits per element for false-positive rate `p` (at least 1).
pub fn bits_per_element(error_rate: f64) -> u64 {
    if !(error_rate > 0.0 && error_rate < 1.0) {
        return 1;
    }
    ((-ln(error_rate)) / (LN_2 * LN_2)).ceil().max(1.0) as u64
}

impl BloomParams {
    /// Optimal sizing for `capacity` elements at `error_rate_ppm` / 10^6.
    pub fn optimal(capacity: u64, error_rate_ppm: u64) -> Self {
        let bits = bits_per_element(error_rate_ppm as f64 / 1e6);
        let k = (LN_2 * bits as f64).round().max(1.0) as u32;
        BloomParams {
            capacity,
            error_rate_ppm,
            k,
            m_bits: capacity.saturating_mul(bits).max(1),
        }
    }

    /// 64-bit words holding the bits: `1 + floor(m_bits / 64)`.
    pub fn words(&self) -> usize {
        1 + (self.m_bits / 64) as usize
    }

    /// Encoded size of the bits.
    pub fn byte_len(&self) -> usize {
        self.words() * 8
    }

    /// Theoretical false-positive rate after `n` insertions, `(1 − e^(−k·n/m))^k`.
    pub fn false_positive_rate(&self, n: u64) -> f64 {
        let fill = 1.0 - exp(-(self.k as f64) * n as f64 / self.m_bits as f64);
        fill.powi(self.k as i32)
    }
}

/// Nim's `hash(string)`: 32-bit MurmurHash3 (seed 0) over `len` bytes (`byte(i)`), four at a
/// time read little endian, as a signed 32-bit value.
fn nim_murmur(len: usize, byte: impl Fn(usize) -> u8) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let blocks = len / 4;
    let mut h1: u32 = 0;
    for block in 0..blocks {
        let i = block * 4;
        let mut k1: u32 = 0;
        for j in (0..4).rev() {
            k1 = (k1 << 8) | u32::from(byte(i + j));
        }
        k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks * 4;
    let mut k1: u32 = 0;
    for j in (0..len % 4).rev() {
        k1 = (k1 << 8) | u32::from(byte(tail + j));
    }
    k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    h1 ^= k1;
    h1 ^= len as u32;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^= h1 >> 16;
    h1 as i32
}

/// The two raw hashes of an id, from which every bit position follows for any `m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BloomKey {
    a: u64,
    b: u64,
}

impl BloomKey {
    /// The key of message id `id`.
    pub fn of(id: &str) -> Self {
        const SUFFIX: &[u8; 2] = b" b";
        let bytes = id.as_bytes();
        let len = bytes.len();
        let a = nim_murmur(len, |i| bytes[i]).unsigned_abs();
        let b = nim_murmur(
            len + 2,
            |i| if i < len { bytes[i] } else { SUFFIX[i - len] },
        )
        .unsigned_abs();
        BloomKey {
            a: u64::from(a),
            b: u64::from(b),
        }
    }

    /// Bit position `i` in a filter of `m_bits` bits: `(h_a + i·h_b) mod m`.
    pub fn position(&self, i: u32, m_bits: u64) -> u64 {
        let m = m_bits.max(1);
        ((self.a % m) + u64::from(i) * (self.b % m)) % m
    }
}

/// A bloom filter held as words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BloomFilter {
    params: BloomParams,
    words: Vec<u64>,
}

impl BloomFilter {
    /// An empty filter of shape `params`.
    pub fn new(params: BloomParams) -> Self {
        BloomFilter {
            params,
            words: vec![0; params.words()],
        }
    }

    /// Its shape.
    pub fn params(&self) -> BloomParams {
        self.params
    }

    /// Sets the key's `k` bits.
    pub fn insert(&mut self, key: &BloomKey) {
        for i in 0..self.params.k {
            let h = key.position(i, self.params.m_bits);
            self.words[(h / 64) as usize] |= 1 << (h % 64);
        }
    }

    /// Whether all of the key's bits are set (never false for an inserted key).
    pub fn contains(&self, key: &BloomKey) -> bool {
        (0..self.params.k).all(|i| {
            let h = key.position(i, self.params.m_bits);
            self.words[(h / 64) as usize] & (1 << (h % 64)) != 0
        })
    }

    /// The words, big endian (js-waku `toBytes`).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(self.words.len() * 8);
        for w in &self.words {
            out.extend_from_slice(&w.to_be_bytes());
        }
        Bytes::from(out)
    }
}

/// Membership tests on a filter's big-endian bytes.
#[derive(Clone, Copy, Debug)]
pub struct BloomView<'a> {
    params: BloomParams,
    bytes: &'a [u8],
}

impl<'a> BloomView<'a> {
    /// A view of `bytes` as a filter of shape `params`, if the sizes agree and `k` is sane.
    pub fn new(params: BloomParams, bytes: &'a [u8]) -> Option<Self> {
        (params.m_bits > 0 && params.k <= MAX_HASHES && bytes.len() == params.byte_len())
            .then_some(BloomView { params, bytes })
    }

    /// Its shape.
    pub fn params(&self) -> BloomParams {
        self.params
    }

    /// Whether all of the key's bits are set.
    pub fn contains(&self, key: &BloomKey) -> bool {
        (0..self.params.k).all(|i| {
            let h = key.position(i, self.params.m_bits);
            let word = (h / 64) as usize;
            let bit = h % 64;
            let byte = word * 8 + 7 - (bit / 8) as usize;
            self.bytes[byte] & (1 << (bit % 8)) != 0
        })
    }
}

/// A filter as it travels inside a message: its words big endian, and its shape when the
/// wire says (nim-sds numbering does, the spec's does not: the receiver assumes its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BloomSnapshot {
    /// The shape, if the wire format carries it.
    pub params: Option<BloomParams>,
    /// `params.words()` 64-bit words, big endian.
    pub bytes: Bytes,
}

impl BloomSnapshot {
    /// A view with the carried shape, or else the first of `assumed` whose size matches.
    pub fn view(&self, assumed: &[BloomParams]) -> Option<BloomView<'_>> {
        match self.params {
            Some(params) => BloomView::new(params, &self.bytes),
            None => assumed
                .iter()
                .find_map(|&params| BloomView::new(params, &self.bytes)),
        }
    }
}

/// The local filter of received (and own) ids, with the configured rollover.
#[derive(Clone, Debug)]
pub struct RollingBloom {
    base: BloomParams,
    rollover: BloomRollover,
    filter: BloomFilter,
    /// Keys in insertion order, only kept to rebuild from (rolling filters).
    keys: VecDeque<BloomKey>,
    inserted: u64,
    rollovers: u64,
    encoded: Option<Bytes>,
}

impl RollingBloom {
    /// An empty filter for `capacity` ids at `error_rate_ppm`.
    pub fn new(capacity: u64, error_rate_ppm: u64, rollover: BloomRollover) -> Self {
        let base = BloomParams::optimal(capacity.max(1), error_rate_ppm);
        RollingBloom {
            base,
            rollover,
            filter: BloomFilter::new(base),
            keys: VecDeque::new(),
            inserted: 0,
            rollovers: 0,
            encoded: None,
        }
    }

    /// The shapes a filter sent by a participant with the same configuration can have
    /// (before and after a rollover), for wire formats that do not carry the shape.
    pub fn assumed_params(&self) -> Vec<BloomParams> {
        let mut shapes = vec![self.base];
        if let BloomRollover::Rolling { flex_percent } = self.rollover {
            let max = self.base.capacity * (100 + flex_percent) / 100;
            shapes.push(BloomParams::optimal(max, self.base.error_rate_ppm));
        }
        shapes
    }

    /// Inserts an id's key, rolling over if the filter is past its flexible capacity.
    pub fn insert(&mut self, key: BloomKey) {
        self.filter.insert(&key);
        self.inserted += 1;
        self.encoded = None;
        let BloomRollover::Rolling { flex_percent } = self.rollover else {
            return;
        };
        self.keys.push_back(key);
        let cap = self.base.capacity;
        let max = cap * (100 + flex_percent) / 100;
        if self.keys.len() as u64 <= max {
            return;
        }
        let keep = (cap * 100_u64.saturating_sub(flex_percent) / 100) as usize;
        while self.keys.len() > keep {
            self.keys.pop_front();
        }
        self.filter = BloomFilter::new(BloomParams::optimal(max, self.base.error_rate_ppm));
        for key in &self.keys {
            self.filter.insert(key);
        }
        self.rollovers += 1;
    }

    /// Whether the filter (possibly) holds the key.
    pub fn contains(&self, key: &BloomKey) -> bool {
        self.filter.contains(key)
    }

    /// The current shape.
    pub fn params(&self) -> BloomParams {
        self.filter.params()
    }

    /// The filter as sent: its shape and big-endian words (encoded once per change).
    pub fn snapshot(&mut self) -> BloomSnapshot {
        let bytes = self
            .encoded
            .get_or_insert_with(|| self.filter.to_bytes())
            .clone();
        BloomSnapshot {
            params: Some(self.filter.params()),
            bytes,
        }
    }

    /// Ids inserted since creation.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// Rollovers so far.
    pub fn rollovers(&self) -> u64 {
        self.rollovers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_n(key: &BloomKey, n: u32, max: u64) -> (u64, u64, u64) {
        (key.a % max, key.b % max, key.position(n, max))
    }

    #[test]
    fn sizing_matches_the_reference_numbers() {
        assert_eq!(bits_per_element(0.001), 15);
        let p = BloomParams::optimal(10_000, 1_000);
        assert_eq!(
            (p.k, p.m_bits, p.words(), p.byte_len()),
            (10, 150_000, 2_344, 18_752)
        );
        let fp = p.false_positive_rate(10_000);
        assert!((7.0e-4..7.8e-4).contains(&fp), "{fp}");
        assert_eq!(BloomParams::optimal(2, 1_000).m_bits, 30);
        assert_eq!(bits_per_element(1.5), 1);
    }

    #[test]
    fn nim_hash_matches_js_waku_test_vectors() {
        let cases: [(&str, u64, u64, u64, [u64; 4]); 10] = [
            ("hello", 100, 51, 74, [51, 25, 99, 21]),
            ("hello", 1_000, 351, 874, [351, 225, 99, 721]),
            ("hello", 10_000, 3_351, 874, [3_351, 4_225, 5_099, 7_721]),
            ("", 100, 0, 8, [0, 8, 16, 40]),
            ("", 10_000, 0, 6_008, [0, 6_008, 2_016, 40]),
            ("test123", 100, 27, 4, [27, 31, 35, 47]),
            ("test123", 10_000, 6_227, 4_404, [6_227, 631, 5_035, 8_247]),
            ("!@#$%^&*()", 1_000, 311, 172, [311, 483, 655, 171]),
            (
                "Lorem ipsum dolor sit amet",
                1_000,
                970,
                103,
                [970, 73, 176, 485],
            ),
            ("αβγδε", 10_000, 5_366, 6_613, [5_366, 1_979, 8_592, 8_431]),
        ];
        for (input, max, a, b, by_n) in cases {
            let key = BloomKey::of(input);
            for (n, want) in [0, 1, 2, 5].into_iter().zip(by_n) {
                assert_eq!(
                    hash_n(&key, n, max),
                    (a, b, want),
                    "{input:?} n={n} max={max}"
                );
            }
        }
    }

    #[test]
    fn no_false_negatives_and_false_positives_within_one_and_a_half_times_target() {
        let params = BloomParams::optimal(10_000, 1_000);
        let mut filter = BloomFilter::new(params);
        for i in 0..10_000 {
            filter.insert(&BloomKey::of(&format!("message-{i}")));
        }
        let bytes = filter.to_bytes();
        assert_eq!(bytes.len(), 18_752);
        let view = BloomView::new(params, &bytes).unwrap();
        for i in 0..10_000 {
            let key = BloomKey::of(&format!("message-{i}"));
            assert!(filter.contains(&key) && view.contains(&key));
        }
        let trials = 100_000;
        let hits = (0..trials)
            .filter(|i| view.contains(&BloomKey::of(&format!("absent-{i}"))))
            .count();
        let rate = hits as f64 / trials as f64;
        assert!(rate < 1.5 * 0.001, "false-positive rate {rate}");
    }

    #[test]
    fn views_reject_mismatched_shapes() {
        let params = BloomParams::optimal(100, 1_000);
        let bytes = BloomFilter::new(params).to_bytes();
        assert!(BloomView::new(params, &bytes[1..]).is_none());
        let greedy = BloomParams {
            k: MAX_HASHES + 1,
            ..params
        };
        assert!(BloomView::new(greedy, &bytes).is_none());
        let snapshot = BloomSnapshot {
            params: None,
            bytes: bytes.clone(),
        };
        let other = BloomParams::optimal(200, 1_000);
        assert_eq!(snapshot.view(&[other, params]).unwrap().params(), params);
        assert!(snapshot.view(&[other]).is_none());
    }

    #[test]
    fn rolling_filter_keeps_the_newest_ids_after_rollover() {
        let mut bloom = RollingBloom::new(10, 1_000, BloomRollover::Rolling { flex_percent: 20 });
        let keys: Vec<BloomKey> = (0..13).map(|i| BloomKey::of(&format!("id-{i}"))).collect();
        for key in &keys[..12] {
            bloom.insert(*key);
        }
        assert_eq!(bloom.rollovers(), 0);
        assert_eq!(bloom.params().capacity, 10);
        bloom.insert(keys[12]);
        assert_eq!(bloom.rollovers(), 1);
        assert_eq!(bloom.params(), BloomParams::optimal(12, 1_000));
        assert!(keys[5..].iter().all(|k| bloom.contains(k)));
        assert!(!bloom.contains(&keys[0]));
        assert_eq!(bloom.assumed_params().len(), 2);
        let snapshot = bloom.snapshot();
        assert_eq!(
            snapshot.bytes.len(),
            BloomParams::optimal(12, 1_000).byte_len()
        );
        // Without rollover the filter just saturates.
        let mut plain = RollingBloom::new(2, 1_000, BloomRollover::None);
        for key in &keys {
            plain.insert(*key);
        }
        assert!(keys.iter().all(|k| plain.contains(k)));
        assert_eq!((plain.rollovers(), plain.inserted()), (0, 13));
    }
}
