//! Quantities with explicit units: byte sizes (`"1KiB"`, `"10KB"`) and bandwidths
//! (`"10Mbit/s"`, `"1MiB/s"`, `"500KB/s"`, `"unlimited"`).
//!
//! Parsing is strict and exact: units are case-sensitive (`"10 mbps"` is rejected with a hint,
//! because `m` means milli), a bare number is rejected (its unit would be a guess), and decimal
//! fractions are computed in integer arithmetic so `"1.5KiB"` is exactly 1536 bytes on every
//! machine. Both types deserialize from strings only.

use std::fmt;

/// Byte-size units: (suffix, bytes).
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

/// Bandwidth units: (suffix, bits per second).
const RATE_UNITS: &[(&str, u64)] = &[
    ("bit/s", 1),
    ("kbit/s", 1_000),
    ("Mbit/s", 1_000_000),
    ("Gbit/s", 1_000_000_000),
    ("bps", 1),
    ("kbps", 1_000),
    ("Mbps", 1_000_000),
    ("Gbps", 1_000_000_000),
    ("B/s", 8),
    ("kB/s", 8_000),
    ("KB/s", 8_000),
    ("MB/s", 8_000_000),
    ("GB/s", 8_000_000_000),
    ("KiB/s", 8 << 10),
    ("MiB/s", 8 << 20),
    ("GiB/s", 8 << 30),
];

/// The size units, for error messages.
pub const SIZE_UNIT_NAMES: &str = "B, kB, KB, MB, GB, KiB, MiB, GiB";
/// The bandwidth units, for error messages.
pub const RATE_UNIT_NAMES: &str = "bit/s, kbit/s, Mbit/s, Gbit/s, bps, kbps, Mbps, Gbps, \
     B/s, kB/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s";

/// A number of bytes, written with a unit: `"512B"`, `"1KiB"`, `"10KB"`, `"1.5MiB"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `"<number>[ ]<unit>"` with a unit from [`SIZE_UNIT_NAMES`]; the result must be
    /// a whole number of bytes.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let (int, frac, unit) = split_quantity(text, SIZE_UNIT_NAMES, "1KiB")?;
        let per_unit = lookup(unit, SIZE_UNITS, SIZE_UNIT_NAMES, text)?;
        let bytes = scale(int, frac, per_unit)
            .ok_or_else(|| format!("byte size {text:?} is too large or malformed"))?;
        match bytes {
            Scaled::Exact(b) => Ok(ByteSize(b)),
            Scaled::Inexact => Err(format!("byte size {text:?} is not a whole number of bytes")),
        }
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that keeps the value exact: `1KiB`, `1536B`, `10MiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, unit) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if self.0 >= unit && self.0.is_multiple_of(unit) {
                return write!(f, "{}{name}", self.0 / unit);
            }
        }
        write!(f, "{}B", self.0)
    }
}

/// A link capacity: bytes per second, or unlimited (`0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bandwidth {
    /// Bytes per second; 0 means unlimited (as in [`sim_net::NodeNet`]).
    pub bytes_per_s: u64,
}

impl Bandwidth {
    /// No limit.
    pub const UNLIMITED: Bandwidth = Bandwidth { bytes_per_s: 0 };

    /// Parses `"unlimited"` or `"<number>[ ]<unit>"` with a unit from [`RATE_UNIT_NAMES`].
    /// Bit rates are converted to whole bytes per second, rounding down; the result must be
    /// at least 1 B/s (write `"unlimited"` for no limit).
    pub fn parse(text: &str) -> Result<Bandwidth, String> {
        if text.trim() == "unlimited" {
            return Ok(Bandwidth::UNLIMITED);
        }
        let (int, frac, unit) = split_quantity(text, RATE_UNIT_NAMES, "10Mbit/s")?;
        let bits_per_unit = lookup(unit, RATE_UNITS, RATE_UNIT_NAMES, text)?;
        // Work in milli-bits so fractions like "1.5kbit/s" stay exact.
        let milli_bits = scale(int, frac, bits_per_unit.saturating_mul(1000))
            .ok_or_else(|| format!("bandwidth {text:?} is too large or malformed"))?;
        let Scaled::Exact(milli_bits) = milli_bits else {
            return Err(format!(
                "bandwidth {text:?} has more precision than a milli-bit per second"
            ));
        };
        let bytes_per_s = milli_bits / 8000;
        if bytes_per_s == 0 {
            return Err(format!(
                "bandwidth {text:?} is below 1 byte per second (write \"unlimited\" for no limit)"
            ));
        }
        Ok(Bandwidth { bytes_per_s })
    }

    /// Whether there is no limit.
    pub const fn is_unlimited(self) -> bool {
        self.bytes_per_s == 0
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unlimited() {
            f.write_str("unlimited")
        } else {
            write!(f, "{}B/s", self.bytes_per_s)
        }
    }
}

/// Splits `"12.5 KiB"` into ("12", "5", "KiB"). One optional space between number and unit.
fn split_quantity<'a>(
    text: &'a str,
    units: &str,
    example: &str,
) -> Result<(&'a str, &'a str, &'a str), String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty quantity (write e.g. {example:?})"));
    }
    if s.starts_with('-') {
        return Err(format!(
            "{text:?} is negative; only positive values are allowed"
        ));
    }
    let number_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, rest) = s.split_at(number_len);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(format!(
            "{text:?} does not start with a number (write e.g. {example:?})"
        ));
    }
    let unit = rest.strip_prefix(' ').unwrap_or(rest);
    if unit.is_empty() {
        return Err(format!(
            "{text:?} has no unit (write e.g. {example:?}; units: {units})"
        ));
    }
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    Ok((int, frac, unit))
}

/// The unit's factor, or an error with a case hint ("mbps" → did you mean "Mbps"?).
fn lookup(unit: &str, table: &[(&str, u64)], names: &str, text: &str) -> Result<u64, String> {
    if let Some((_, factor)) = table.iter().find(|(name, _)| *name == unit) {
        return Ok(*factor);
    }
    let hints: Vec<String> = table
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    if hints.is_empty() {
        Err(format!(
            "unknown unit {unit:?} in {text:?} (allowed: {names})"
        ))
    } else {
        Err(format!(
            "unknown unit {unit:?} in {text:?}: units are case-sensitive, did you mean {}? \
             (allowed: {names})",
            hints.join(" or ")
        ))
    }
}

enum Scaled {
    Exact(u64),
    Inexact,
}

/// `int.frac × factor` in exact integer arithmetic; `None` on malformed input or overflow.
fn scale(int: &str, frac: &str, factor: u64) -> Option<Scaled> {
    if frac.len() > 9 || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int.checked_mul(u128::from(factor))?;
    if !frac.is_empty() {
        let numerator = frac.parse::<u128>().ok()? * u128::from(factor);
        let denominator = 10u128.pow(frac.len() as u32);
        if !numerator.is_multiple_of(denominator) {
            return Some(Scaled::Inexact);
        }
        total = total.checked_add(numerator / denominator)?;
    }
    u64::try_from(total).ok().map(Scaled::Exact)
}

/// Implements `Deserialize` from a string through `parse`, with an `expecting` text.
macro_rules! deserialize_from_str {
    ($ty:ty, $expecting:literal) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$ty, E> {
                        <$ty>::parse(text).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

deserialize_from_str!(
    ByteSize,
    "a byte size string with a unit, such as \"1KiB\" or \"10KB\""
);
deserialize_from_str!(
    Bandwidth,
    "a bandwidth string with a unit, such as \"10Mbit/s\" or \"1MiB/s\", or \"unlimited\""
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_parse_exactly() {
        let ok = [
            ("512B", 512),
            ("1KiB", 1024),
            ("1 KiB", 1024),
            ("10KB", 10_000),
            ("10kB", 10_000),
            ("1.5KiB", 1536),
            ("2MiB", 2 << 20),
            ("0.5MB", 500_000),
            ("0B", 0),
        ];
        for (text, bytes) in ok {
            assert_eq!(ByteSize::parse(text), Ok(ByteSize(bytes)), "{text}");
        }
        let bad = [
            ("1024", "no unit"),
            ("1kib", "case-sensitive, did you mean \"KiB\""),
            ("5 parsecs", "unknown unit"),
            ("-1KiB", "negative"),
            ("KiB", "does not start with a number"),
            ("0.3B", "whole number"),
            ("1.2.3KB", "does not start with a number"),
            ("99999999999999999999GiB", "too large"),
            ("", "empty"),
        ];
        for (text, want) in bad {
            let err = ByteSize::parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        assert_eq!(ByteSize(1024).to_string(), "1KiB");
        assert_eq!(ByteSize(1500).to_string(), "1500B");
    }

    #[test]
    fn bandwidths_parse_exactly() {
        let ok = [
            ("10Mbit/s", 1_250_000),
            ("83Mbps", 10_375_000),
            ("38 Mbit/s", 4_750_000),
            ("1kbit/s", 125),
            ("1.5kbit/s", 187),
            ("1MiB/s", 1 << 20),
            ("500KB/s", 500_000),
            ("8bit/s", 1),
            ("unlimited", 0),
        ];
        for (text, bps) in ok {
            assert_eq!(
                Bandwidth::parse(text),
                Ok(Bandwidth { bytes_per_s: bps }),
                "{text}"
            );
        }
        let bad = [
            ("10 mbps", "did you mean \"Mbps\""),
            ("10mbit/s", "did you mean \"Mbit/s\""),
            ("10", "no unit"),
            ("fast", "does not start with a number"),
            ("0Mbit/s", "below 1 byte per second"),
            ("1bit/s", "below 1 byte per second"),
            ("10 Mbit/h", "unknown unit"),
            ("-5Mbit/s", "negative"),
        ];
        for (text, want) in bad {
            let err = Bandwidth::parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
