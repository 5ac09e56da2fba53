//! The audit hash: a running fingerprint of every processed event.
//!
//! Two runs of the same (code, scenario, seed) must produce the same audit hash; the first
//! event at which two traces differ is where determinism broke. The hash is a fixed,
//! dependency-free 64-bit mix (not cryptographic: it detects accidents, not attacks) so that
//! its value is the same on every platform and every toolchain.

use crate::time::{SimDuration, SimTime};

/// Feeds the fields of an event into an [`AuditHasher`].
///
/// Implementations write every field that can influence behaviour, in a fixed order, using
/// explicitly sized integers.
pub trait Audit {
    /// Writes this value into the hasher.
    fn audit(&self, h: &mut AuditHasher);
}

/// A 64-bit running hash with a fixed, portable mixing function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditHasher {
    state: u64,
}

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl Default for AuditHasher {
    fn default() -> Self {
        AuditHasher::new()
    }
}

impl AuditHasher {
    /// A fresh hasher.
    pub const fn new() -> Self {
        AuditHasher {
            state: 0x243f_6a88_85a3_08d3,
        }
    }

    /// Mixes in one 64-bit word.
    #[inline]
    pub fn write_u64(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }

    /// Mixes in a 32-bit word.
    #[inline]
    pub fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    /// Mixes in a byte string (length first, so `"ab","c"` differs from `"a","bc"`).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_u64(bytes.len() as u64);
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    /// The hash so far, finalised (the running state is not changed).
    pub fn finish(&self) -> u64 {
        crate::rng::splitmix64(self.state)
    }
}

impl Audit for u64 {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(*self);
    }
}

impl Audit for u32 {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u32(*self);
    }
}

impl Audit for SimTime {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
    }
}

impl Audit for SimDuration {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.0);
    }
}

impl Audit for () {
    fn audit(&self, _h: &mut AuditHasher) {}
}

/// One checkpoint of an audit trace: after event number `index` (counting from zero), processed
/// at `time`, the running hash was `hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditPoint {
    /// Position of the event in processing order.
    pub index: u64,
    /// Simulated time at which it was processed.
    pub time: SimTime,
    /// Running hash after it.
    pub hash: u64,
}

/// Where two audit traces first differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divergence {
    /// The traces agree on every event both contain, but one is longer.
    Length {
        /// Events in the first trace.
        first: usize,
        /// Events in the second trace.
        second: usize,
    },
    /// Event `first.index` differs.
    Event {
        /// The checkpoint in the first trace.
        first: AuditPoint,
        /// The checkpoint in the second trace.
        second: AuditPoint,
    },
}

/// The first divergence between two traces, or `None` if they are identical.
pub fn first_divergence(a: &[AuditPoint], b: &[AuditPoint]) -> Option<Divergence> {
    if let Some((x, y)) = a.iter().zip(b).find(|(x, y)| x != y) {
        return Some(Divergence::Event {
            first: *x,
            second: *y,
        });
    }
    (a.len() != b.len()).then_some(Divergence::Length {
        first: a.len(),
        second: b.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_order_and_content() {
        let hash = |words: &[u64]| {
            let mut h = AuditHasher::new();
            words.iter().for_each(|w| h.write_u64(*w));
            h.finish()
        };
        assert_eq!(hash(&[1, 2]), hash(&[1, 2]));
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
        assert_ne!(hash(&[1, 2]), hash(&[1, 3]));
        let mut a = AuditHasher::new();
        a.write_bytes(b"ab");
        a.write_bytes(b"c");
        let mut b = AuditHasher::new();
        b.write_bytes(b"a");
        b.write_bytes(b"bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn finds_first_divergence() {
        let point = |index, hash| AuditPoint {
            index,
            time: SimTime(index * 10),
            hash,
        };
        let a = [point(0, 1), point(1, 2), point(2, 3)];
        let b = [point(0, 1), point(1, 9), point(2, 3)];
        assert_eq!(first_divergence(&a, &a), None);
        match first_divergence(&a, &b) {
            Some(Divergence::Event { first, .. }) => assert_eq!(first.index, 1),
            other => panic!("expected an event divergence, got {other:?}"),
        }
        assert_eq!(
            first_divergence(&a, &a[..2]),
            Some(Divergence::Length {
                first: 3,
                second: 2
            })
        );
    }
}
