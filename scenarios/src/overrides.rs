//! Editing scenario text by key path (`--set key.path=value` and sweep points), and the
//! stable scenario hash.
//!
//! Paths are dotted keys; inside an array of tables (`[[group]]`) a segment is either a
//! 0-based index or the element's `name` (`group.mobiles.count` = `group.2.count`). A segment
//! with dots is written in double quotes. Edits keep the rest of the document byte for byte
//! (comments, layout), and a replaced value stays where it was, so later errors still point
//! at the user's own lines.
//!
//! [`scenario_hash`] is SHA-256 (the vetted `sha2` crate) over a canonical rendering of the
//! parsed document: keys sorted, whitespace, comments and key order ignored, numbers in a
//! fixed notation. Two files that mean the same TOML have the same hash on every machine.

use sha2::{Digest, Sha256};
use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use crate::error::{Path, ScenarioError, Seg, dotted};

/// Sets each `key.path` to `value` (a TOML value; text that is not valid TOML is taken as a
/// string, so `--set duration=10m` works). The parent of each path must exist in the
/// document (except under `reliability`, whose tables are created); a leaf may be new only
/// if the scenario format has that field. Errors name the
/// override as `--set:<n>:<column>` (n = 1-based position in `sets`).
pub fn apply_overrides(text: &str, sets: &[(&str, &str)]) -> Result<String, ScenarioError> {
    apply_overrides_in("<scenario>", text, sets)
}

/// Like [`apply_overrides`]; `file` names the scenario in TOML syntax errors.
pub fn apply_overrides_in(
    file: &str,
    text: &str,
    sets: &[(&str, &str)],
) -> Result<String, ScenarioError> {
    crate::locate::SourceMap::parse(file, text)?;
    let mut doc: DocumentMut = text.parse().map_err(|_| ScenarioError {
        file: file.to_string(),
        line: 1,
        column: 1,
        field: String::new(),
        path: String::new(),
        message: "the scenario is not valid TOML".to_string(),
    })?;
    let mut inserted: Vec<(usize, Path)> = Vec::new();
    for (n, (key, raw_value)) in sets.iter().enumerate() {
        let fail = |column: usize, field: &str, message: String| ScenarioError {
            file: "--set".to_string(),
            line: n + 1,
            column,
            field: field.to_string(),
            path: field.to_string(),
            message,
        };
        let segs = split_path(key).map_err(|(col, m)| fail(col + 1, key, m))?;
        let value = parse_value(raw_value);
        let (path, created) = set_path(doc.as_item_mut(), &segs, value).map_err(|(j, m)| {
            let column = segs[..j].iter().map(|s| s.1.len() + 1).sum::<usize>() + 1;
            let field: Vec<&str> = segs[..=j].iter().map(|s| s.1.as_str()).collect();
            fail(column, &field.join("."), m)
        })?;
        if created {
            inserted.push((n, path));
        }
    }
    let out = doc.to_string();
    if !inserted.is_empty() {
        let map = crate::locate::SourceMap::parse(file, &out)?;
        if let Err(e) = toml::from_str::<crate::scenario::ScenarioFile>(&out) {
            let located = map.serde_error(&e);
            if located.message.starts_with("unknown field")
                && let Some((n, path)) = inserted.iter().find(|(_, p)| dotted(p) == located.path)
            {
                let (key, _) = sets[*n];
                return Err(ScenarioError {
                    file: "--set".to_string(),
                    line: n + 1,
                    column: key.rfind('.').map_or(1, |i| i + 2),
                    field: key.to_string(),
                    path: dotted(path),
                    message: located.message,
                });
            }
        }
    }
    Ok(out)
}

/// TOML value text, or the text as a string when it is not a TOML value.
fn parse_value(text: &str) -> Value {
    text.trim()
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(text))
}

/// Splits `a.b."c.d".0` into segments with their text as written (for columns).
pub(crate) fn split_path(key: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut segs = Vec::new();
    let mut rest = key;
    let mut offset = 0;
    loop {
        let (seg, raw_len) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| (offset, format!("unclosed quote in path {key:?}")))?;
            (quoted[..end].to_string(), end + 2)
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            (rest[..end].trim().to_string(), end)
        };
        if seg.is_empty() {
            return Err((
                offset,
                format!("empty segment in path {key:?} (write e.g. network.link.loss.p)"),
            ));
        }
        segs.push((seg, rest[..raw_len].to_string()));
        rest = &rest[raw_len..];
        offset += raw_len;
        match rest.strip_prefix('.') {
            Some(next) => {
                rest = next;
                offset += 1;
            }
            None if rest.is_empty() => return Ok(segs),
            None => {
                return Err((
                    offset,
                    format!("expected '.' after a quoted segment in {key:?}"),
                ));
            }
        }
    }
}

type SetResult = Result<(Path, bool), (usize, String)>;

/// Sets the value at `segs` under `item`; returns the path with numeric indexes and whether
/// the leaf was created. The error carries the index of the failing segment.
pub(crate) fn set_path(item: &mut Item, segs: &[(String, String)], value: Value) -> SetResult {
    set_in_item(item, segs, 0, value, Vec::new())
}

fn set_in_item(
    item: &mut Item,
    segs: &[(String, String)],
    j: usize,
    value: Value,
    path: Path,
) -> SetResult {
    match item {
        Item::Table(t) => set_in_table(t, segs, j, value, path),
        Item::Value(v) => set_in_value(v, segs, j, value, path),
        Item::ArrayOfTables(a) => {
            let seg = &segs[j].0;
            let index = element_index(seg, a.len(), |i| {
                a.get(i).and_then(|t| t.get("name")).and_then(Item::as_str) == Some(seg)
            })
            .ok_or_else(|| (j, no_element(seg, a.len(), &path)))?;
            if j + 1 == segs.len() {
                return Err((
                    j,
                    "cannot replace a whole [[table]] element; set one of its fields".to_string(),
                ));
            }
            let mut path = path;
            path.push(Seg::Index(index));
            match a.get_mut(index) {
                Some(t) => set_in_table(t, segs, j + 1, value, path),
                None => Err((j, no_element(seg, 0, &[]))),
            }
        }
        Item::None => Err((j, "no such field".to_string())),
    }
}

fn set_in_table(
    t: &mut Table,
    segs: &[(String, String)],
    j: usize,
    value: Value,
    mut path: Path,
) -> SetResult {
    let seg = &segs[j].0;
    path.push(Seg::Key(seg.clone()));
    if j + 1 == segs.len() {
        return Ok(match t.get_mut(seg) {
            Some(Item::Value(old)) => {
                replace_keeping_decor(old, value);
                (path, false)
            }
            Some(old) => {
                *old = Item::Value(value);
                (path, false)
            }
            None => {
                t.insert(seg, Item::Value(value));
                (path, true)
            }
        });
    }
    if t.get(seg).is_none() && path.first() == Some(&Seg::Key("reliability".to_string())) {
        // `[reliability]` and its protocol tables are optional and free-form: create them.
        let mut table = Table::new();
        table.set_implicit(true);
        t.insert(seg, Item::Table(table));
    }
    let present: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    match t.get_mut(seg) {
        Some(child) => set_in_item(child, segs, j + 1, value, path),
        None => Err((j, missing(seg, &present, &path))),
    }
}

fn set_in_inline(
    t: &mut InlineTable,
    segs: &[(String, String)],
    j: usize,
    value: Value,
    mut path: Path,
) -> SetResult {
    let seg = &segs[j].0;
    path.push(Seg::Key(seg.clone()));
    if j + 1 == segs.len() {
        return Ok(match t.get_mut(seg) {
            Some(old) => {
                replace_keeping_decor(old, value);
                (path, false)
            }
            None => {
                t.insert(seg, value);
                (path, true)
            }
        });
    }
    let present: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    match t.get_mut(seg) {
        Some(child) => set_in_value(child, segs, j + 1, value, path),
        None => Err((j, missing(seg, &present, &path))),
    }
}

fn set_in_value(
    v: &mut Value,
    segs: &[(String, String)],
    j: usize,
    value: Value,
    mut path: Path,
) -> SetResult {
    match v {
        Value::InlineTable(t) => set_in_inline(t, segs, j, value, path),
        Value::Array(a) => {
            let seg = &segs[j].0;
            let index = element_index(seg, a.len(), |i| {
                a.get(i)
                    .and_then(Value::as_inline_table)
                    .and_then(|t| t.get("name"))
                    .and_then(Value::as_str)
                    == Some(seg)
            })
            .ok_or_else(|| (j, no_element(seg, a.len(), &path)))?;
            path.push(Seg::Index(index));
            if j + 1 == segs.len() {
                if let Some(old) = a.get_mut(index) {
                    replace_keeping_decor(old, value);
                }
                return Ok((path, false));
            }
            match a.get_mut(index) {
                Some(child) => set_in_value(child, segs, j + 1, value, path),
                None => Err((j, no_element(seg, 0, &[]))),
            }
        }
        _ => Err((
            j,
            format!(
                "{} is a plain value, it has no field {:?}",
                dotted(&path),
                segs[j].0
            ),
        )),
    }
}

fn replace_keeping_decor(old: &mut Value, mut value: Value) {
    let decor = old.decor().clone();
    *value.decor_mut() = decor;
    *old = value;
}

/// A numeric index below `len`, or the first element `named(i)` says is called `seg`.
fn element_index(seg: &str, len: usize, named: impl Fn(usize) -> bool) -> Option<usize> {
    match seg.parse::<usize>() {
        Ok(i) => (i < len).then_some(i),
        Err(_) => (0..len).find(|&i| named(i)),
    }
}

fn no_element(seg: &str, len: usize, path: &[Seg]) -> String {
    format!(
        "{} has no element {seg:?} (use an index 0..{len} or an element's name)",
        dotted(path)
    )
}

fn missing(seg: &str, present: &[String], path: &[Seg]) -> String {
    let parent = &path[..path.len().saturating_sub(1)];
    let here = if parent.is_empty() {
        "the scenario".to_string()
    } else {
        dotted(parent)
    };
    format!(
        "{seg:?} is not set in {here} (present: {}); only values whose parent table is \
         written in the file can be set; set the whole table instead",
        if present.is_empty() {
            "nothing".to_string()
        } else {
            present.join(", ")
        }
    )
}

/// Converts a parsed TOML value to an editable one (for sweep points).
pub(crate) fn to_edit_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::from(*d),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_edit_value).collect()),
        toml::Value::Table(t) => {
            let mut inline = InlineTable::new();
            for (k, v) in t {
                inline.insert(k, to_edit_value(v));
            }
            Value::InlineTable(inline)
        }
    }
}

/// A stable hash of the scenario's meaning: SHA-256, lowercase hex, over a canonical
/// rendering of the parsed TOML (sorted keys; comments, layout and key order ignored). Text
/// that is not TOML is hashed as it is, under a different prefix.
pub fn scenario_hash(text: &str) -> String {
    let mut hasher = Sha256::new();
    match text.parse::<toml::Table>() {
        Ok(table) => {
            let mut canonical = String::from("wakusim-scenario-v1\n");
            write_canonical(&mut canonical, &toml::Value::Table(table));
            hasher.update(canonical.as_bytes());
        }
        Err(_) => {
            hasher.update(b"wakusim-scenario-unparsed-v1\n");
            hasher.update(text.as_bytes());
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_canonical(out: &mut String, v: &toml::Value) {
    match v {
        toml::Value::String(s) => out.push_str(&format!("{s:?}")),
        toml::Value::Integer(i) => out.push_str(&i.to_string()),
        toml::Value::Float(f) => out.push_str(&format!("{f:?}")),
        toml::Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        toml::Value::Datetime(d) => out.push_str(&d.to_string()),
        toml::Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        toml::Value::Table(t) => {
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{k:?}="));
                if let Some(item) = t.get(k) {
                    write_canonical(out, item);
                }
            }
            out.push('}');
        }
    }
}
