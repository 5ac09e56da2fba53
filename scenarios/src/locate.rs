//! The source map of a scenario document: every key and value with its byte span, so that
//! any error — a TOML syntax error, a serde error (which carries a byte span) or a semantic
//! problem (which carries a key path) — can be reported as `file:line:column: field`.
//!
//! Built once per parse from `toml_edit`'s span-preserving document. Lookups are linear in
//! the document size and only happen when reporting an error.

use std::ops::Range;

use toml_edit::{Item, Value};

use crate::error::{Path, ScenarioError, Seg, dotted, humanize_serde};

/// One key or value of the document.
#[derive(Debug)]
pub(crate) struct Node {
    /// Where the key that names this node is (none for array elements and the root).
    key_span: Option<Range<usize>>,
    /// Where the value is (for `[table]` headers: the header).
    span: Option<Range<usize>>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Table(Vec<(String, Node)>),
    Array(Vec<Node>),
    /// A scalar's text: the string's contents for strings, the TOML repr otherwise.
    Scalar(String),
}

/// A parsed document's spans plus the text needed to turn offsets into lines and columns.
pub(crate) struct SourceMap<'a> {
    file: &'a str,
    text: &'a str,
    root: Node,
}

impl<'a> SourceMap<'a> {
    /// Parses `text`; a TOML syntax error is returned located.
    pub(crate) fn parse(file: &'a str, text: &'a str) -> Result<SourceMap<'a>, ScenarioError> {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            let (line, column) = line_column(text, at);
            ScenarioError {
                file: file.to_string(),
                line,
                column,
                field: String::new(),
                path: String::new(),
                message: format!("TOML syntax error: {}", e.message().trim()),
            }
        })?;
        let root = from_item(doc.as_item(), None).unwrap_or(Node {
            key_span: None,
            span: None,
            kind: Kind::Table(Vec::new()),
        });
        Ok(SourceMap { file, text, root })
    }

    /// The node at `path`, if the document has it.
    fn get(&self, path: &[Seg]) -> Option<&Node> {
        let mut node = &self.root;
        for seg in path {
            node = child(node, seg)?;
        }
        Some(node)
    }

    /// The keys of the table at `path`, in document order (serde may reorder them).
    pub(crate) fn keys(&self, path: &[Seg]) -> Vec<String> {
        match self.get(path).map(|n| &n.kind) {
            Some(Kind::Table(entries)) => entries.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The byte offset to report for `path`: the value of its deepest existing prefix (for a
    /// `[table]`, its header; else its key).
    fn anchor(&self, path: &[Seg]) -> usize {
        let mut node = &self.root;
        let mut best = node.span.as_ref().map_or(0, |s| s.start);
        for seg in path {
            let Some(next) = child(node, seg) else { break };
            node = next;
            if let Some(at) = anchor_of(node) {
                best = at;
            }
        }
        best
    }

    /// A located error for a semantic problem at `path`.
    pub(crate) fn error(&self, path: &[Seg], message: impl Into<String>) -> ScenarioError {
        self.error_at(self.anchor(path), path, message.into())
    }

    fn error_at(&self, at: usize, path: &[Seg], message: String) -> ScenarioError {
        let (line, column) = line_column(self.text, at);
        ScenarioError {
            file: self.file.to_string(),
            line,
            column,
            field: self.display_field(path),
            path: dotted(path),
            message,
        }
    }

    /// Converts a deserialization error (message plus byte span) into a located error,
    /// narrowing the span to the named key or value when serde reported a whole table.
    pub(crate) fn serde_error(&self, err: &toml::de::Error) -> ScenarioError {
        let raw = err.message().trim();
        let message = humanize_serde(raw);
        let Some(span) = err.span() else {
            return self.error_at(0, &[], message);
        };
        let (mut path, mut at) = self.deepest_at(span.start);
        let node = self.get(&path);
        let first = |marker: &str| -> Option<String> {
            let rest = raw.split_once(marker)?.1;
            Some(rest.split_once('`')?.0.to_string())
        };
        if let Some(name) = first("unknown field `") {
            if path.last() == Some(&Seg::Key(name.clone()))
                && let Some(key_at) = node.and_then(|n| n.key_span.as_ref()).map(|s| s.start)
            {
                return self.error_at(key_at, &path, message);
            }
            match node.and_then(|node| find_key(node, &name)) {
                Some((sub, key_at)) => {
                    path.extend(sub);
                    at = key_at;
                }
                None => path.push(Seg::Key(name)),
            }
            return self.error_at(at, &path, message);
        }
        if let Some(name) = first("missing field `") {
            path.push(Seg::Key(name));
            return self.error_at(at, &path, message);
        }
        if let Some(node) = node
            && matches!(node.kind, Kind::Table(_) | Kind::Array(_))
        {
            for token in quoted_tokens(raw) {
                if let Some((sub, value_at)) = find_scalar(node, &token) {
                    path.extend(sub);
                    at = value_at;
                    break;
                }
            }
        }
        self.error_at(at, &path, message)
    }

    /// The path of the most specific node whose key or value span contains `offset`, and
    /// where to point for it.
    fn deepest_at(&self, offset: usize) -> (Path, usize) {
        let mut best: (Path, usize, usize) = (Vec::new(), usize::MAX, 0);
        let mut path = Vec::new();
        visit(&self.root, &mut path, &mut |path, node| {
            for span in [&node.span, &node.key_span].into_iter().flatten() {
                let len = span.end.saturating_sub(span.start);
                let hit = (span.start <= offset && offset < span.end) || span.start == offset;
                if hit && len <= best.1 {
                    best = (path.to_vec(), len, anchor_of(node).unwrap_or(span.start));
                }
            }
        });
        let at = if best.1 == usize::MAX { offset } else { best.2 };
        // Point at the offending value itself when serde named one inside the node.
        let at = if best.1 != usize::MAX && self.get(&best.0).is_some_and(is_scalar) {
            offset
        } else {
            at
        };
        (best.0, at)
    }

    /// How a reader names the field: array elements with a `name` key are shown by name
    /// (`group "mobile": roles`), others by index (`fault[2].nodes`); a trailing index into a
    /// list of plain values is left out (the column points at it).
    pub(crate) fn display_field(&self, path: &[Seg]) -> String {
        let mut out = String::new();
        let mut node = Some(&self.root);
        let mut after_name = false;
        for (i, seg) in path.iter().enumerate() {
            let next = node.and_then(|n| child(n, seg));
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push_str(if after_name { ": " } else { "." });
                    }
                    if k.contains('.') || k.is_empty() {
                        out.push_str(&format!("{k:?}"));
                    } else {
                        out.push_str(k);
                    }
                    after_name = false;
                }
                Seg::Index(idx) => {
                    let name = next.and_then(|n| match &n.kind {
                        Kind::Table(entries) => entries.iter().find_map(|(k, v)| match &v.kind {
                            Kind::Scalar(s) if k == "name" => Some(s.clone()),
                            _ => None,
                        }),
                        _ => None,
                    });
                    let last = i + 1 == path.len();
                    match name {
                        Some(name) => {
                            out.push_str(&format!(" {name:?}"));
                            after_name = true;
                        }
                        None if next.is_none() || (last && next.is_some_and(is_scalar)) => {}
                        None => out.push_str(&format!("[{idx}]")),
                    }
                }
            }
            node = next;
        }
        out
    }
}

fn is_scalar(node: &Node) -> bool {
    matches!(node.kind, Kind::Scalar(_))
}

fn anchor_of(node: &Node) -> Option<usize> {
    node.span
        .as_ref()
        .or(node.key_span.as_ref())
        .map(|s| s.start)
}

fn child<'n>(node: &'n Node, seg: &Seg) -> Option<&'n Node> {
    match (&node.kind, seg) {
        (Kind::Table(entries), Seg::Key(k)) => {
            entries.iter().find(|(name, _)| name == k).map(|e| &e.1)
        }
        (Kind::Array(items), Seg::Index(i)) => items.get(*i),
        _ => None,
    }
}

fn visit<F: FnMut(&[Seg], &Node)>(node: &Node, path: &mut Path, f: &mut F) {
    f(path, node);
    match &node.kind {
        Kind::Table(entries) => {
            for (k, v) in entries {
                path.push(Seg::Key(k.clone()));
                visit(v, path, f);
                path.pop();
            }
        }
        Kind::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                visit(v, path, f);
                path.pop();
            }
        }
        Kind::Scalar(_) => {}
    }
}

/// The first key named `name` under `node` (document order): relative path and key offset.
fn find_key(node: &Node, name: &str) -> Option<(Path, usize)> {
    let mut found = None;
    visit(node, &mut Vec::new(), &mut |path, n| {
        if found.is_none()
            && path.last() == Some(&Seg::Key(name.to_string()))
            && let Some(span) = n.key_span.as_ref()
        {
            found = Some((path.to_vec(), span.start));
        }
    });
    found
}

/// The first scalar under `node` whose text is `text`: relative path and value offset.
fn find_scalar(node: &Node, text: &str) -> Option<(Path, usize)> {
    let mut found = None;
    visit(node, &mut Vec::new(), &mut |path, n| {
        if found.is_none()
            && matches!(&n.kind, Kind::Scalar(s) if s == text)
            && let Some(at) = anchor_of(n)
        {
            found = Some((path.to_vec(), at));
        }
    });
    found
}

/// Tokens quoted with backticks or double quotes in a message, in order.
fn quoted_tokens(message: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for quote in ['`', '"'] {
        let parts: Vec<&str> = message.split(quote).collect();
        for i in (1..parts.len().saturating_sub(1)).step_by(2) {
            tokens.push(parts[i].to_string());
        }
    }
    tokens
}

/// 1-based line and column (in characters) of byte `offset`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

fn from_item(item: &Item, key_span: Option<Range<usize>>) -> Option<Node> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(from_value(v, key_span)),
        Item::Table(t) => {
            let entries = t
                .iter()
                .filter_map(|(k, v)| {
                    let ks = t.key(k).and_then(|key| key.span());
                    from_item(v, ks).map(|n| (k.to_string(), n))
                })
                .collect();
            Some(Node {
                key_span,
                span: t.span(),
                kind: Kind::Table(entries),
            })
        }
        Item::ArrayOfTables(a) => {
            let items = a
                .iter()
                .filter_map(|t| from_item(&Item::Table(t.clone()), None))
                .collect();
            Some(Node {
                key_span,
                span: a.span(),
                kind: Kind::Array(items),
            })
        }
    }
}

fn from_value(value: &Value, key_span: Option<Range<usize>>) -> Node {
    let kind = match value {
        Value::String(s) => Kind::Scalar(s.value().clone()),
        Value::Array(a) => Kind::Array(a.iter().map(|v| from_value(v, None)).collect()),
        Value::InlineTable(t) => Kind::Table(
            t.iter()
                .map(|(k, v)| {
                    let ks = t.key(k).and_then(|key| key.span());
                    (k.to_string(), from_value(v, ks))
                })
                .collect(),
        ),
        other => Kind::Scalar(other.to_string().trim().to_string()),
    };
    Node {
        key_span,
        span: value.span(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path;

    const DOC: &str = "name = \"x\"\n\n[network]\nlink = { latency = { kind = \"constant\", value = \"5ms\" } }\n\n[[group]]\nname = \"mobile\"\nroles = [\"relai\"]\n";

    #[test]
    fn paths_are_located_and_named() {
        let map = SourceMap::parse("f.toml", DOC).unwrap();
        let e = map.error(&path!["group", [0], "roles", [0]], "bad");
        assert_eq!((e.line, e.column), (8, 10));
        assert_eq!(e.field, "group \"mobile\": roles");
        assert_eq!(e.path, "group.0.roles.0");
        assert_eq!(e.to_string(), "f.toml:8:10: group \"mobile\": roles: bad");
        let e = map.error(&path!["network", "link", "latency", "value"], "bad");
        assert_eq!((e.line, e.column), (4, 49));
        // A missing field points at its deepest existing parent.
        let e = map.error(&path!["network", "link", "loss", "p"], "bad");
        assert_eq!((e.line, e.column), (4, 8));
        let e = map.error(&path!["heal", "duration"], "bad");
        assert_eq!((e.line, e.column), (1, 1));
        assert_eq!(line_column("aé\nb", 4), (2, 1));
        assert_eq!(line_column("aé\nb", 3), (1, 3));
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = SourceMap::parse("f.toml", "a = 1\nb = = 2\n")
            .err()
            .unwrap();
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("TOML syntax error"), "{e}");
    }

    #[test]
    fn quoted_tokens_are_found() {
        assert_eq!(
            quoted_tokens("invalid duration \"5 parsecs\": x `y`"),
            ["y", "5 parsecs"]
        );
    }
}
