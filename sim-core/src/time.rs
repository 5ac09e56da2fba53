//! Virtual time: [`SimTime`] (an instant) and [`SimDuration`] (a span), both in nanoseconds.
//!
//! Waku timestamps are nanoseconds, so the engine uses the same unit. `u64` nanoseconds cover
//! about 584 years, far beyond any simulation. Arithmetic saturates at the ends instead of
//! wrapping: a timer set "forever" from now stays at the far end of time.
//!
//! Durations parse from and print to human strings: `"250ms"`, `"1.5s"`, `"30m"`, `"8h"`,
//! `"2d"`, `"1h30m"`. Parsing is exact decimal arithmetic (no floats), so `"0.1s"` is exactly
//! 100 000 000 ns on every machine.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per unit, for the suffixes this module accepts.
const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// A span of virtual time in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(pub u64);

/// An instant of virtual time: nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimDuration {
    /// The empty span.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// A span of `us` microseconds (saturating).
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(1_000))
    }
    /// A span of `ms` milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(1_000_000))
    }
    /// A span of `s` seconds (saturating).
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(1_000_000_000))
    }
    /// A span of `m` minutes (saturating).
    pub const fn from_mins(m: u64) -> Self {
        SimDuration(m.saturating_mul(60_000_000_000))
    }
    /// The span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span in whole milliseconds (truncated).
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }
    /// The span in seconds as a float, for reports only (never for decisions).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// The span in milliseconds as a float, for reports only (never for decisions).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// `self * k`, saturating.
    pub const fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }
    /// `self + other`, saturating.
    pub const fn saturating_add(self, other: SimDuration) -> Self {
        SimDuration(self.0.saturating_add(other.0))
    }
    /// `self - other`, or zero when `other` is longer.
    pub const fn saturating_sub(self, other: SimDuration) -> Self {
        SimDuration(self.0.saturating_sub(other.0))
    }

    /// Parses a human duration such as `"250ms"`, `"1.5s"`, `"8h"` or `"1h30m"`.
    ///
    /// Accepted units: ns, us (µs), ms, s, m, h, d. A bare `"0"` is zero. Each component is a
    /// decimal number (optionally with a fraction) followed by a unit; components add up.
    pub fn parse(text: &str) -> Result<Self, ParseDurationError> {
        let err = |reason: &'static str| ParseDurationError {
            text: text.to_string(),
            reason,
        };
        let s = text.trim();
        if s.is_empty() {
            return Err(err("empty duration"));
        }
        if s == "0" {
            return Ok(SimDuration::ZERO);
        }
        let mut total: u64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| err("missing unit (use ns, us, ms, s, m, h or d)"))?;
            if number_len == 0 {
                return Err(err("expected a number before the unit"));
            }
            let (number, tail) = rest.split_at(number_len);
            let unit_len = tail
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(tail.len());
            let (unit, next) = tail.split_at(unit_len);
            let unit_ns = UNITS
                .iter()
                .find(|(name, _)| *name == unit.trim())
                .map(|(_, ns)| *ns)
                .ok_or_else(|| err("unknown unit (use ns, us, ms, s, m, h or d)"))?;
            let part = scale_decimal(number, unit_ns).ok_or_else(|| {
                err("malformed or too large number (at most 9 fractional digits)")
            })?;
            total = total
                .checked_add(part)
                .ok_or_else(|| err("duration too large"))?;
            rest = next;
        }
        Ok(SimDuration(total))
    }
}

/// `number × unit_ns` in exact integer arithmetic; `None` on malformed input or overflow.
fn scale_decimal(number: &str, unit_ns: u64) -> Option<u64> {
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() || frac_part.len() > 9 || frac_part.contains('.')
    {
        return None;
    }
    let int: u64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut value = int.checked_mul(unit_ns)?;
    if !frac_part.is_empty() {
        let frac: u128 = frac_part.parse().ok()?;
        let denominator = 10u128.pow(frac_part.len() as u32);
        let frac_ns = frac * u128::from(unit_ns) / denominator;
        value = value.checked_add(u64::try_from(frac_ns).ok()?)?;
    }
    Some(value)
}

/// A duration string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid duration {:?}: {} (examples: \"250ms\", \"1.5s\", \"30m\", \"8h\")",
            self.text, self.reason
        )
    }
}

impl std::error::Error for ParseDurationError {}

impl fmt::Display for SimDuration {
    /// Prints the largest unit that keeps the value exact with at most three decimals,
    /// e.g. `250ms`, `1.5s`, `8h`, `1.25us`; `Display` output parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        for &(name, unit) in UNITS.iter().rev() {
            if name == "µs" || ns < unit {
                continue;
            }
            let whole = ns / unit;
            let rem = ns % unit;
            if rem == 0 {
                return write!(f, "{whole}{name}");
            }
            // Three decimals exactly, when the remainder allows it.
            if unit >= 1_000 && rem.is_multiple_of(unit / 1_000) {
                let millis = rem / (unit / 1_000);
                let frac = format!("{millis:03}");
                return write!(f, "{whole}.{}{name}", frac.trim_end_matches('0'));
            }
        }
        write!(f, "{ns}ns")
    }
}

impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The far end of time (used for "never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span from the start of the run to this instant.
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }
    /// `self - earlier`, or zero when `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// The instant `d` after this one, saturating at [`SimTime::MAX`].
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimTime {
    /// Prints `t=HH:MM:SS.mmm` (days are added when needed), the stamp used in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total_ms = self.0 / 1_000_000;
        let ms = total_ms % 1000;
        let s = (total_ms / 1000) % 60;
        let m = (total_ms / 60_000) % 60;
        let h = (total_ms / 3_600_000) % 24;
        let d = total_ms / 86_400_000;
        if d > 0 {
            write!(f, "t={d}d{h:02}:{m:02}:{s:02}.{ms:03}")
        } else {
            write!(f, "t={h:02}:{m:02}:{s:02}.{ms:03}")
        }
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ns", self.0)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        self.saturating_add(d)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// The span between two instants; panics in debug builds when `earlier` is later,
    /// which is always a bug in the caller.
    fn sub(self, earlier: SimTime) -> SimDuration {
        debug_assert!(
            earlier <= self,
            "time went backwards: {earlier:?} > {self:?}"
        );
        self.saturating_duration_since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, other: SimDuration) -> SimDuration {
        self.saturating_add(other)
    }
}

impl serde::Serialize for SimDuration {
    /// Serialises as the human string, e.g. `"250ms"`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SimDuration {
    /// Accepts a human string with an explicit unit (`"250ms"`, `"8h"`); bare numbers are
    /// rejected because their unit would be a guess.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"250ms\", \"1.5s\" or \"8h\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SimDuration, E> {
                SimDuration::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl<'de> serde::Deserialize<'de> for SimTime {
    /// An instant is written as the duration since the start of the run: `"90s"`, `"2h"`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SimDuration::deserialize(deserializer).map(|d| SimTime(d.0))
    }
}

impl serde::Serialize for SimTime {
    /// Serialises as the duration since the start of the run.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.since_start().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_units() {
        let cases = [
            ("250ms", 250_000_000),
            ("1.5s", 1_500_000_000),
            ("30m", 1_800_000_000_000),
            ("8h", 28_800_000_000_000),
            ("2d", 172_800_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("0", 0),
            ("0.1s", 100_000_000),
            ("10us", 10_000),
            ("10µs", 10_000),
            ("7ns", 7),
            (" 3s ", 3_000_000_000),
        ];
        for (text, ns) in cases {
            assert_eq!(SimDuration::parse(text), Ok(SimDuration(ns)), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_durations_with_reason() {
        for text in [
            "",
            "5",
            "ms",
            "5 parsecs",
            "1.2.3s",
            "-5s",
            "1.0000000001s",
            "99999999999d",
        ] {
            let e = SimDuration::parse(text).expect_err(text);
            assert!(!e.reason.is_empty());
            assert!(e.to_string().contains("invalid duration"), "{e}");
        }
    }

    #[test]
    fn display_round_trips() {
        for ns in [
            0,
            1,
            999,
            1_250,
            250_000_000,
            1_500_000_000,
            60_000_000_000,
            5_400_000_000_000,
            28_800_000_000_000,
            123_456_789,
        ] {
            let d = SimDuration(ns);
            let printed = d.to_string();
            assert_eq!(SimDuration::parse(&printed), Ok(d), "{printed}");
        }
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1.5s");
        assert_eq!(SimDuration::from_mins(90).to_string(), "1.5h");
    }

    #[test]
    fn time_prints_as_clock() {
        assert_eq!(SimTime(0).to_string(), "t=00:00:00.000");
        let t = SimTime::ZERO + SimDuration::from_secs(3_723) + SimDuration::from_millis(45);
        assert_eq!(t.to_string(), "t=01:02:03.045");
        let t = SimTime::ZERO + SimDuration::from_secs(90_000);
        assert_eq!(t.to_string(), "t=1d01:00:00.000");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(
            SimTime(5).saturating_duration_since(SimTime(9)),
            SimDuration::ZERO
        );
    }
}
