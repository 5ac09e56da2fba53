//! Deterministic number formatting for CSV cells and HTML.
//!
//! Times are integers (nanoseconds) printed as exact decimals in the column's unit
//! (`1500000` ns → `1.5` in an `_ms` column), never through floating point. Ratios and means
//! are printed with exactly six decimals. Sweep values use Rust's shortest round-trip form.
//! Missing or non-finite values become empty cells, which pandas reads as NaN.

use serde::{Serialize, Serializer};

/// Nanoseconds printed as milliseconds (exact decimal, trailing zeros trimmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ms(pub u64);

/// Nanoseconds printed as seconds (exact decimal, trailing zeros trimmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Secs(pub u64);

/// A ratio or mean printed with six decimals; non-finite values print as an empty cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct F6(pub f64);

/// A float printed in its shortest round-trip form (sweep values); non-finite → empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num(pub f64);

/// `value / scale` as an exact decimal; `scale` must be a power of ten.
fn decimal(value: u64, scale: u64) -> String {
    let int = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return int.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// Nanoseconds as milliseconds, exact.
pub fn ns_as_ms(ns: u64) -> String {
    decimal(ns, 1_000_000)
}

/// Nanoseconds as seconds, exact.
pub fn ns_as_s(ns: u64) -> String {
    decimal(ns, 1_000_000_000)
}

/// Six decimals, `-0` printed as `0`; `None` for NaN and infinities.
pub fn fixed6(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let s = format!("{x:.6}");
    if s.trim_start_matches('-')
        .trim_matches(|c| c == '0' || c == '.')
        .is_empty()
    {
        return Some("0.000000".to_string());
    }
    Some(s)
}

/// Shortest round-trip decimal; `None` for NaN and infinities.
pub fn shortest(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    if x == 0.0 {
        return Some("0".to_string());
    }
    Some(format!("{x}"))
}

impl Serialize for Ms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&ns_as_ms(self.0))
    }
}

impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&ns_as_s(self.0))
    }
}

impl Serialize for F6 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match fixed6(self.0) {
            Some(text) => s.serialize_str(&text),
            None => s.serialize_none(),
        }
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match shortest(self.0) {
            Some(text) => s.serialize_str(&text),
            None => s.serialize_none(),
        }
    }
}

/// `num / den` as a float, `None` when `den` is zero.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimals() {
        assert_eq!(ns_as_ms(1_500_000), "1.5");
        assert_eq!(ns_as_ms(2_000_000), "2");
        assert_eq!(ns_as_ms(1), "0.000001");
        assert_eq!(ns_as_s(90_250_000_000), "90.25");
        assert_eq!(ns_as_s(0), "0");
    }

    #[test]
    fn floats_are_fixed() {
        assert_eq!(fixed6(2.0 / 3.0).as_deref(), Some("0.666667"));
        assert_eq!(fixed6(-0.0).as_deref(), Some("0.000000"));
        assert_eq!(fixed6(-1e-9).as_deref(), Some("0.000000"));
        assert_eq!(fixed6(f64::NAN), None);
        assert_eq!(shortest(0.1).as_deref(), Some("0.1"));
        assert_eq!(shortest(1e-7).as_deref(), Some("0.0000001"));
        assert_eq!(shortest(-0.0).as_deref(), Some("0"));
    }
}
