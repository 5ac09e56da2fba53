//! The one error type of this crate: [`ScenarioError`], which names the file, line, column
//! and field of the problem and says what is allowed.
//!
//! Display shape (the same for syntax errors, serde errors and semantic validation):
//!
//! ```text
//! scenarios/x.toml:12:9: group "mobile": roles: unknown role "relai" (allowed: relay, store, filter, lightpush, light)
//! ```
//!
//! Semantic checks report a [`Problem`] (a key path plus a message); the parser turns it into
//! a [`ScenarioError`] by looking the path up in the document's source map (`locate.rs`).

use std::fmt;

/// One segment of a key path inside a scenario document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array position (0-based).
    Index(usize),
}

/// A key path such as `group[1].roles`, built with [`path!`](crate::path).
pub type Path = Vec<Seg>;

/// Builds a [`Path`]: string-like arguments become keys, `[i]` becomes an index.
#[macro_export]
#[doc(hidden)]
macro_rules! path {
    ($($seg:expr),* $(,)?) => {{
        let p: $crate::error::Path = vec![$($crate::error::IntoSeg::into_seg($seg)),*];
        p
    }};
}

/// What [`path!`](crate::path) accepts as a segment.
pub trait IntoSeg {
    /// The segment.
    fn into_seg(self) -> Seg;
}

impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        Seg::Key(self.to_string())
    }
}

impl IntoSeg for &String {
    fn into_seg(self) -> Seg {
        Seg::Key(self.clone())
    }
}

impl IntoSeg for [usize; 1] {
    fn into_seg(self) -> Seg {
        Seg::Index(self[0])
    }
}

/// Renders a path as dotted keys with numeric indexes: `group.1.roles` (the form `--set`
/// and sweep axes accept).
pub fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match seg {
            Seg::Key(k) if k.contains('.') || k.is_empty() => out.push_str(&format!("{k:?}")),
            Seg::Key(k) => out.push_str(k),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

/// A semantic problem found after deserialization: where (a key path) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The offending field (or the deepest existing table, for a missing one).
    pub path: Path,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: Path, message: impl Into<String>) -> Problem {
        Problem {
            path,
            message: message.into(),
        }
    }

    /// The same problem under a parent path (`prefix` goes first).
    pub fn under(mut self, prefix: &[Seg]) -> Problem {
        let mut path = prefix.to_vec();
        path.append(&mut self.path);
        self.path = path;
        self
    }
}

/// An invalid scenario: where and why. `Display` gives `file:line:column: field: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file name given to the parser (or `--set` for a bad override).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field as a reader sees it: `group "mobile": roles`, `network.link.loss.p`
    /// (empty for a syntax error outside any field).
    pub field: String,
    /// The field as a dotted key path with numeric indexes: `group.1.roles`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Rewrites serde's messages into the "… (allowed: a, b)" shape used everywhere else.
pub(crate) fn humanize_serde(message: &str) -> String {
    let allowed = |rest: &str| -> String {
        let rest = rest.trim();
        if rest.starts_with("there are no fields") {
            return "no fields are allowed here".to_string();
        }
        let list = rest
            .trim_start_matches("expected one of ")
            .trim_start_matches("expected ")
            .replace('`', "");
        format!("allowed: {list}")
    };
    for (prefix, noun) in [
        ("unknown field `", "unknown field"),
        ("unknown variant `", "unknown value"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((name, tail)) = rest.split_once('`')
        {
            let tail = tail.trim_start_matches(',');
            return format!("{noun} \"{name}\" ({})", allowed(tail));
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        return format!("missing field \"{name}\" (required)");
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let plain = message.replace('`', "");
        return [
            ("expected u16", "expected a whole number from 0 to 65535"),
            (
                "expected u32",
                "expected a whole number from 0 to 4294967295",
            ),
            (
                "expected u64",
                "expected a whole number from 0 to 18446744073709551615",
            ),
            ("expected i64", "expected a whole number"),
            ("expected f64", "expected a number"),
        ]
        .iter()
        .fold(plain, |m, (from, to)| m.replace(from, to));
    }
    message.replace('`', "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_get_the_allowed_shape() {
        assert_eq!(
            humanize_serde("unknown field `lnk`, expected one of `semantics`, `link`"),
            "unknown field \"lnk\" (allowed: semantics, link)"
        );
        assert_eq!(
            humanize_serde("unknown field `x`, expected `value`"),
            "unknown field \"x\" (allowed: value)"
        );
        assert_eq!(
            humanize_serde("unknown field `x`, there are no fields"),
            "unknown field \"x\" (no fields are allowed here)"
        );
        assert_eq!(
            humanize_serde("unknown variant `tcp`, expected `stream` or `datagram`"),
            "unknown value \"tcp\" (allowed: stream or datagram)"
        );
        assert_eq!(
            humanize_serde("missing field `duration`"),
            "missing field \"duration\" (required)"
        );
        assert_eq!(dotted(&path!["group", [1], "roles"]), "group.1.roles");
        assert_eq!(dotted(&path!["sweep", "a.b"]), "sweep.\"a.b\"");
    }
}
