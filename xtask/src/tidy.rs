//! `cargo xtask tidy`: source checks that keep the simulation deterministic (DESIGN §3).
//!
//! In the `src/` trees of the simulation crates (sim-core, sim-net, waku, reliability,
//! scenarios, reports) it rejects wall-clock reads, thread or OS randomness, threads,
//! `HashMap`/`HashSet` without a `// tidy: unordered-ok (<reason>)` marker, `select!`
//! without `biased;`, and files that do not open with a `//!` module doc. In every `.rs` file
//! of the workspace it rejects trailing whitespace and tab indentation, and warns about files
//! longer than 1000 lines and about `#[should_panic]` / `#[ignore]` tests.
//!
//! Comments and the contents of string and char literals are blanked out before the rules
//! run, so a rule named in a doc comment or a string does not trip it. `generated/`
//! directories and `target/` are skipped.
//!
//! The unit test `tidy_passes_on_the_workspace` runs the whole check, so plain `cargo test`
//! enforces it too.

use anyhow::Context;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Crates whose `src/` trees must obey the determinism rules; missing ones are skipped.
const SIM_CRATES: &[&str] = &[
    "sim-core",
    "sim-net",
    "waku",
    "reliability",
    "scenarios",
    "reports",
];

/// Files longer than this many lines get a warning (the design aims for fewer than 800).
const MAX_LINES: usize = 1000;

/// The comment that allows a `HashMap`/`HashSet` on its line or the line below.
const UNORDERED_OK: &str = "tidy: unordered-ok";

const HINT_CLOCK: &str = "use the virtual clock (`SimTime`, the `now` the engine hands in); \
     wall time must never enter a run";
const HINT_RNG: &str = "draw from a seeded `SimRng` stream (`SimRng::stream(master_seed, \
     purpose, index)` or `fork`)";
const HINT_THREADS: &str = "one run is single-threaded; parallelise across runs (seeds, \
     variants, sweep points) in the driver";
const HINT_UNORDERED: &str = "use `BTreeMap`/`BTreeSet` or `IndexMap` (`shift_remove`), or, \
     if it is never iterated, mark it `// tidy: unordered-ok (<why>)` on the line or above";
const HINT_MARKER: &str = "give the reason: `// tidy: unordered-ok (lookup only, never iterated)`";
const HINT_SELECT: &str = "start the macro body with `biased;` so branches are polled in a \
     fixed order";
const HINT_TRAILING: &str = "remove the trailing whitespace";
const HINT_TAB: &str = "indent with spaces (run `cargo fmt`)";
const HINT_MODULE_DOC: &str = "open the file with a `//!` comment saying what the module is for";
const HINT_LENGTH: &str = "split the module; the design aims for fewer than 800 lines";
const HINT_TEST_ATTR: &str = "assert on the error value instead of `#[should_panic]`, and \
     delete or fix a test rather than `#[ignore]` it";

/// How bad a finding is: errors fail the check, warnings are only printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One problem in one line of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// The file, relative to the workspace root, with `/` separators.
    pub(crate) path: String,
    /// The 1-based line number.
    pub(crate) line: usize,
    /// A short rule name, such as `wall-clock`.
    pub(crate) rule: &'static str,
    /// The offending line, trimmed.
    pub(crate) text: String,
    /// What to do instead.
    pub(crate) hint: &'static str,
    pub(crate) severity: Severity,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        write!(
            f,
            "{}:{}: {}: {}",
            self.path, self.line, self.rule, self.text
        )?;
        write!(f, "\n    hint: {}", self.hint)
    }
}

/// A forbidden piece of code.
struct Pattern {
    needle: &'static str,
    /// Whether the match must not be glued to identifier characters on either side.
    word: bool,
    rule: &'static str,
    hint: &'static str,
}

const fn pattern(needle: &'static str, rule: &'static str, hint: &'static str) -> Pattern {
    Pattern {
        needle,
        word: true,
        rule,
        hint,
    }
}

const RULE_CLOCK: &str = "wall-clock";
const RULE_RNG: &str = "os-rng";
const RULE_THREADS: &str = "threads";
const RULE_UNORDERED: &str = "unordered-collection";

const FORBIDDEN: &[Pattern] = &[
    pattern("Instant::now", RULE_CLOCK, HINT_CLOCK),
    pattern("SystemTime::now", RULE_CLOCK, HINT_CLOCK),
    pattern("UNIX_EPOCH", RULE_CLOCK, HINT_CLOCK),
    pattern("Utc::now", RULE_CLOCK, HINT_CLOCK),
    pattern("Local::now", RULE_CLOCK, HINT_CLOCK),
    pattern("thread_rng", RULE_RNG, HINT_RNG),
    pattern("rand::rng(", RULE_RNG, HINT_RNG),
    pattern("rand::random", RULE_RNG, HINT_RNG),
    pattern("OsRng", RULE_RNG, HINT_RNG),
    pattern("SysRng", RULE_RNG, HINT_RNG),
    pattern("getrandom", RULE_RNG, HINT_RNG),
    pattern("from_entropy", RULE_RNG, HINT_RNG),
    pattern("from_os_rng", RULE_RNG, HINT_RNG),
    pattern("std::thread::spawn", RULE_THREADS, HINT_THREADS),
    pattern("thread::spawn", RULE_THREADS, HINT_THREADS),
    pattern("thread::scope", RULE_THREADS, HINT_THREADS),
    pattern("thread::Builder", RULE_THREADS, HINT_THREADS),
    pattern("thread::sleep", RULE_THREADS, HINT_THREADS),
    pattern("rayon", RULE_THREADS, HINT_THREADS),
    pattern("tokio::spawn", RULE_THREADS, HINT_THREADS),
    pattern("tokio::task::spawn", RULE_THREADS, HINT_THREADS),
    // `FxHashMap`, `AHashSet` and friends are just as unordered, so these match inside words.
    Pattern {
        needle: "HashMap",
        word: false,
        rule: RULE_UNORDERED,
        hint: HINT_UNORDERED,
    },
    Pattern {
        needle: "HashSet",
        word: false,
        rule: RULE_UNORDERED,
        hint: HINT_UNORDERED,
    },
];

/// Runs every check on the workspace at `root`, prints the findings and fails on any error.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let (files, findings) = check_workspace(root)?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    for finding in &findings {
        eprintln!("{finding}");
    }
    eprintln!("tidy: {files} files checked, {errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        anyhow::bail!("tidy found {errors} problem(s); see the list above");
    }
    Ok(())
}

/// Checks the workspace and returns the number of files read and every finding,
/// errors first, each group in path and line order.
fn check_workspace(root: &Path) -> anyhow::Result<(usize, Vec<Finding>)> {
    let sim_roots: Vec<PathBuf> = SIM_CRATES
        .iter()
        .map(|name| root.join(name).join("src"))
        .filter(|dir| dir.is_dir())
        .collect();
    let mut files = Vec::new();
    collect_rust_files(root, &mut files)?;
    files.sort();

    let mut findings = Vec::new();
    for file in &files {
        let text =
            fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let label = relative_label(root, file);
        if sim_roots.iter().any(|dir| file.starts_with(dir)) {
            findings.extend(scan_source(&label, &text));
        } else {
            findings.extend(scan_general(&label, &text));
        }
    }
    findings.sort_by(|a, b| {
        (a.severity, &a.path, a.line, a.rule).cmp(&(b.severity, &b.path, b.line, b.rule))
    });
    Ok((files.len(), findings))
}

/// Adds every `.rs` file below `dir` to `out`, skipping `target/`, `generated/` and hidden
/// directories.
fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name == "target" || name == "generated" || name.starts_with('.') {
                continue;
            }
            collect_rust_files(&path, out)?;
        } else if kind.is_file() && name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn relative_label(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// All checks for a file in a simulation crate's `src/` tree: the determinism rules, the
/// module doc, and the workspace-wide [`scan_general`] checks.
pub(crate) fn scan_source(path_label: &str, text: &str) -> Vec<Finding> {
    let raw = split_lines(text);
    let code = strip_comments_and_strings(text);
    let mut findings = Vec::new();
    let mut push = |line: usize, rule: &'static str, hint: &'static str| {
        findings.push(finding(path_label, &raw, line, rule, hint, Severity::Error));
    };

    for (index, code_line) in code.iter().enumerate() {
        let mut rules_hit: Vec<&'static str> = Vec::new();
        for pattern in FORBIDDEN {
            if rules_hit.contains(&pattern.rule) || !contains(code_line, pattern) {
                continue;
            }
            rules_hit.push(pattern.rule);
            if pattern.rule == RULE_UNORDERED {
                match unordered_marker(&raw, index) {
                    Marker::WithReason => {}
                    Marker::WithoutReason => push(index, "unordered-ok-reason", HINT_MARKER),
                    Marker::Missing => push(index, pattern.rule, pattern.hint),
                }
            } else {
                push(index, pattern.rule, pattern.hint);
            }
        }
    }
    for index in unbiased_selects(&code) {
        push(index, "unbiased-select", HINT_SELECT);
    }
    if let Some(index) = missing_module_doc(&raw) {
        push(index, "module-doc", HINT_MODULE_DOC);
    }

    findings.extend(scan_general(path_label, text));
    findings.sort_by_key(|f| f.line);
    findings
}

/// The checks for every `.rs` file in the workspace: trailing whitespace and tab indentation
/// (errors), and overlong files and `#[should_panic]` / `#[ignore]` (warnings).
pub(crate) fn scan_general(path_label: &str, text: &str) -> Vec<Finding> {
    let raw = split_lines(text);
    let code = strip_comments_and_strings(text);
    let mut findings = Vec::new();
    for (index, line) in raw.iter().enumerate() {
        if line.ends_with([' ', '\t']) {
            let f = finding(
                path_label,
                &raw,
                index,
                "trailing-whitespace",
                HINT_TRAILING,
                Severity::Error,
            );
            findings.push(f);
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        if indent.contains('\t') {
            let f = finding(
                path_label,
                &raw,
                index,
                "tab-indent",
                HINT_TAB,
                Severity::Error,
            );
            findings.push(f);
        }
    }
    for (index, line) in code.iter().enumerate() {
        let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        if ["#[should_panic", "#[ignore"]
            .iter()
            .any(|attr| contains(&squeezed, &pattern(attr, "", "")))
        {
            let f = finding(
                path_label,
                &raw,
                index,
                "test-attribute",
                HINT_TEST_ATTR,
                Severity::Warning,
            );
            findings.push(f);
        }
    }
    let lines = line_count(text);
    if lines > MAX_LINES {
        findings.push(Finding {
            path: path_label.to_owned(),
            line: lines,
            rule: "file-length",
            text: format!("{lines} lines (more than {MAX_LINES})"),
            hint: HINT_LENGTH,
            severity: Severity::Warning,
        });
    }
    findings.sort_by_key(|f| f.line);
    findings
}

fn finding(
    path_label: &str,
    raw: &[&str],
    index: usize,
    rule: &'static str,
    hint: &'static str,
    severity: Severity,
) -> Finding {
    Finding {
        path: path_label.to_owned(),
        line: index + 1,
        rule,
        text: raw.get(index).map_or("", |l| l.trim()).to_owned(),
        hint,
        severity,
    }
}

/// Splits into lines exactly as [`strip_comments_and_strings`] does, dropping a `\r` before
/// each `\n`.
fn split_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// The number of lines as an editor shows it (a final newline does not open a new line).
fn line_count(text: &str) -> usize {
    let newlines = text.matches('\n').count();
    if text.is_empty() || text.ends_with('\n') {
        newlines
    } else {
        newlines + 1
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `line` contains `pattern`, honouring its word boundaries.
fn contains(line: &str, pattern: &Pattern) -> bool {
    let needle = pattern.needle;
    line.match_indices(needle).any(|(start, _)| {
        if !pattern.word {
            return true;
        }
        let before = line[..start].chars().next_back();
        let after = line[start + needle.len()..].chars().next();
        let starts_word = needle.starts_with(is_ident_char);
        let ends_word = needle.ends_with(is_ident_char);
        let glued_before = starts_word && before.is_some_and(is_ident_char);
        let glued_after = ends_word && after.is_some_and(is_ident_char);
        !glued_before && !glued_after
    })
}

enum Marker {
    WithReason,
    WithoutReason,
    Missing,
}

/// Looks for the `unordered-ok` marker on line `index` and in the block of comment-only
/// lines directly above it.
fn unordered_marker(raw: &[&str], index: usize) -> Marker {
    let mut candidates = vec![raw[index]];
    candidates.extend(
        raw[..index]
            .iter()
            .rev()
            .take_while(|l| l.trim_start().starts_with("//"))
            .copied(),
    );
    let mut seen = false;
    for line in candidates {
        let Some(at) = line.find(UNORDERED_OK) else {
            continue;
        };
        // The marker must sit in a comment.
        if !line[..at].contains("//") {
            continue;
        }
        seen = true;
        let rest = line[at + UNORDERED_OK.len()..].trim_start();
        if let Some(reason) = rest.strip_prefix('(') {
            let reason = reason.split(')').next().unwrap_or("");
            if !reason.trim().is_empty() {
                return Marker::WithReason;
            }
        }
    }
    if seen {
        Marker::WithoutReason
    } else {
        Marker::Missing
    }
}

/// The 0-based lines holding a `select!` whose body does not begin with `biased;`.
fn unbiased_selects(code: &[String]) -> Vec<usize> {
    let joined = code.join("\n");
    let select = pattern("select!", "", "");
    let mut lines = Vec::new();
    for (index, line) in code.iter().enumerate() {
        if !contains(line, &select) {
            continue;
        }
        let line_start: usize = code[..index].iter().map(|l| l.len() + 1).sum();
        for (column, _) in line.match_indices("select!") {
            let before = line[..column].chars().next_back();
            if before.is_some_and(is_ident_char) {
                continue;
            }
            let rest = joined[line_start + column + "select!".len()..].trim_start();
            let Some(body) = rest.strip_prefix(['{', '(', '[']) else {
                // `select!` not followed by a body, e.g. a re-export: nothing to check.
                continue;
            };
            let biased = body
                .trim_start()
                .strip_prefix("biased")
                .is_some_and(|after| after.trim_start().starts_with(';'));
            if !biased {
                lines.push(index);
            }
        }
    }
    lines.dedup();
    lines
}

/// The 0-based line where a `//!` module doc should be but is not, if any. Blank lines and
/// attributes (also multi-line ones) may precede the doc.
fn missing_module_doc(raw: &[&str]) -> Option<usize> {
    let mut attribute_depth = 0usize;
    for (index, line) in raw.iter().enumerate() {
        let trimmed = line.trim();
        if attribute_depth > 0 || trimmed.starts_with("#!") || trimmed.starts_with("#[") {
            for c in trimmed.chars() {
                match c {
                    '[' => attribute_depth += 1,
                    ']' => attribute_depth = attribute_depth.saturating_sub(1),
                    _ => {}
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("//!") || trimmed.starts_with("/*!") {
            return None;
        }
        return Some(index);
    }
    Some(0)
}

/// Returns the lines of `text` with comments removed and the contents of string, byte-string,
/// raw-string and char literals replaced by spaces (the quotes stay). Line breaks are kept,
/// so line `i` of the result corresponds to line `i` of the input. A heuristic lexer, good
/// enough for well-formed Rust.
fn strip_comments_and_strings(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().filter(|&c| c != '\r').collect();
    let at = |i: usize| chars.get(i).copied();
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // `r`, the hashes and the opening quote.
            let open = 1 + hashes + 1;
            out.extend(&chars[i..i + open]);
            i += open;
            while i < chars.len() {
                let closes = chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == Some('#'));
                if closes {
                    out.extend(&chars[i..i + 1 + hashes]);
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => {
                        out.push(' ');
                        if let Some(escaped) = at(i + 1) {
                            out.push(blank(escaped));
                        }
                        i += 2;
                    }
                    '"' => {
                        out.push('"');
                        i += 1;
                        break;
                    }
                    other => {
                        out.push(blank(other));
                        i += 1;
                    }
                }
            }
        } else if c == '\'' {
            // A char literal (`'x'`, `'\n'`, `'\u{1F600}'`) or else a lifetime or label.
            let end = if at(i + 1) == Some('\\') {
                (i + 3..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
            } else if at(i + 2) == Some('\'') && at(i + 1) != Some('\n') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push('\'');
                    out.extend(std::iter::repeat_n(' ', end - i - 1));
                    out.push('\'');
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.split('\n').map(str::to_owned).collect()
}

/// If a raw string literal (`r"`, `r#"`, `br"`, `cr#"`…) starts at `i`, the number of `#`s.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    if chars[i] != 'r' {
        return None;
    }
    let prefix_start = match i.checked_sub(1).map(|p| chars[p]) {
        Some('b' | 'c') => i - 1,
        _ => i,
    };
    if prefix_start > 0 && is_ident_char(chars[prefix_start - 1]) {
        return None;
    }
    let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
    (chars.get(i + 1 + hashes) == Some(&'"')).then_some(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(usize, &'static str)> {
        scan_source("sim-core/src/x.rs", text)
            .iter()
            .map(|f| (f.line, f.rule))
            .collect()
    }

    const DOC: &str = "//! A module.\n";

    #[test]
    fn clean_source_passes() {
        let text = format!("{DOC}use std::collections::BTreeMap;\nfn f(now: SimTime) {{}}\n");
        assert_eq!(rules(&text), []);
    }

    #[test]
    fn wall_clock_rng_and_threads_are_found() {
        let text = format!(
            "{DOC}let t = std::time::Instant::now();\nlet s = SystemTime::now();\n\
             let e = UNIX_EPOCH;\nlet mut r = rand::thread_rng();\nlet r = rand::rng();\n\
             let x: u8 = rand::random();\nlet o = OsRng;\nChaCha8Rng::from_entropy();\n\
             std::thread::spawn(|| ());\nthread::sleep(d);\nuse rayon::prelude::*;\n\
             tokio::spawn(fut);\n"
        );
        assert_eq!(
            rules(&text),
            [
                (2, RULE_CLOCK),
                (3, RULE_CLOCK),
                (4, RULE_CLOCK),
                (5, RULE_RNG),
                (6, RULE_RNG),
                (7, RULE_RNG),
                (8, RULE_RNG),
                (9, RULE_RNG),
                (10, RULE_THREADS),
                (11, RULE_THREADS),
                (12, RULE_THREADS),
                (13, RULE_THREADS),
            ]
        );
    }

    #[test]
    fn word_boundaries_avoid_false_positives() {
        let text = format!("{DOC}let my_thread_rng_count = 1;\nlet rayonne = 2;\nfn rng() {{}}\n");
        assert_eq!(rules(&text), []);
    }

    #[test]
    fn comments_and_strings_are_ignored() {
        let text = format!(
            "{DOC}// Instant::now is forbidden.\n/// Never use thread_rng.\n\
             let s = \"HashMap and Instant::now\";\nlet r = r#\"SystemTime::now \"quoted\" \"#;\n\
             /* block\n   HashMap\n */\nlet c = '\"'; let h = HashSet::new();\n"
        );
        assert_eq!(rules(&text), [(9, RULE_UNORDERED)]);
    }

    #[test]
    fn lifetimes_do_not_confuse_the_lexer() {
        let text =
            format!("{DOC}fn f<'a>(x: &'a str) -> &'a str {{ x }}\nlet t = Instant::now();\n");
        assert_eq!(rules(&text), [(3, RULE_CLOCK)]);
    }

    #[test]
    fn finding_prints_path_line_rule_and_text() {
        let findings = scan_source(
            "waku/src/relay.rs",
            &format!("{DOC}  let t = Instant::now();\n"),
        );
        let printed = findings[0].to_string();
        assert!(printed.starts_with("waku/src/relay.rs:2: wall-clock: let t = Instant::now();\n"));
        assert!(printed.contains("hint: "));
    }

    #[test]
    fn unordered_collections_need_a_reasoned_marker() {
        let text = format!(
            "{DOC}use std::collections::HashMap;\n\
             let a: HashMap<u8, u8> = HashMap::new(); // tidy: unordered-ok (lookup only)\n\
             // tidy: unordered-ok (never iterated, keyed lookups)\n\
             let b: HashSet<u8> = HashSet::new();\n\
             // tidy: unordered-ok (the reason may\n\
             // run over several comment lines)\n\
             let c: FxHashMap<u8, u8> = FxHashMap::default();\n\
             let d: HashMap<u8, u8> = HashMap::new(); // tidy: unordered-ok ()\n\
             let e: HashMap<u8, u8> = HashMap::new(); // tidy: unordered-ok\n\
             // tidy: unordered-ok (above a code line it does not carry on)\n\
             let f = 1;\n\
             let g: HashSet<u8> = HashSet::new();\n"
        );
        assert_eq!(
            rules(&text),
            [
                (2, RULE_UNORDERED),
                (9, "unordered-ok-reason"),
                (10, "unordered-ok-reason"),
                (13, RULE_UNORDERED),
            ]
        );
    }

    #[test]
    fn select_needs_biased() {
        let text = format!(
            "{DOC}tokio::select! {{\n    biased;\n    _ = a => {{}}\n}}\n\
             tokio::select! {{\n    _ = a => {{}}\n}}\n\
             select! {{ biased ; _ = b => {{}} }}\n\
             futures::select_biased! {{ _ = c => {{}} }}\n\
             use tokio::select!;\n"
        );
        assert_eq!(rules(&text), [(6, "unbiased-select")]);
    }

    #[test]
    fn module_doc_is_required_after_optional_attributes() {
        assert_eq!(
            rules(
                "#![forbid(unsafe_code)]\n#![cfg_attr(\n    docsrs,\n    feature(x)\n)]\n\n//! Doc.\n"
            ),
            []
        );
        assert_eq!(rules("/*! Block doc. */\n"), []);
        assert_eq!(rules("// Plain comment.\nfn f() {}\n"), [(1, "module-doc")]);
        assert_eq!(rules("#![allow(x)]\nuse a::b;\n"), [(2, "module-doc")]);
        assert_eq!(rules(""), [(1, "module-doc")]);
    }

    #[test]
    fn whitespace_rules_apply_everywhere() {
        let text = "fn f() {  \n\tlet x = 1;\n    let y = 2;\t\n    let z = \"\\t\";\n}\n";
        let found: Vec<_> = scan_general("xtask/src/x.rs", text)
            .iter()
            .map(|f| (f.line, f.rule))
            .collect();
        assert_eq!(
            found,
            [
                (1, "trailing-whitespace"),
                (2, "tab-indent"),
                (3, "trailing-whitespace")
            ]
        );
    }

    #[test]
    fn test_attributes_and_long_files_only_warn() {
        let mut text = String::from("#[test]\n#[should_panic(expected = \"x\")]\nfn a() {}\n");
        text.push_str("#[ignore = \"slow\"]\nfn b() {}\n// #[ignore]\nlet s = \"#[ignore]\";\n");
        text.push_str(&"\n".repeat(MAX_LINES));
        let findings = scan_general("benches/src/lib.rs", &text);
        let found: Vec<_> = findings
            .iter()
            .map(|f| (f.line, f.rule, f.severity))
            .collect();
        assert_eq!(
            found,
            [
                (2, "test-attribute", Severity::Warning),
                (4, "test-attribute", Severity::Warning),
                (MAX_LINES + 7, "file-length", Severity::Warning),
            ]
        );
    }

    #[test]
    fn general_rules_skip_determinism_checks() {
        let text = "let t = Instant::now();\nlet m: HashMap<u8, u8> = HashMap::new();\n";
        assert_eq!(scan_general("xtask/src/x.rs", text), []);
    }

    #[test]
    fn stripping_keeps_line_structure() {
        let text = "a // c\n\"x\ny\" b\n/* p\nq */ r\n'\\n' s\nbr##\"t\"# \"## u\n";
        let stripped = strip_comments_and_strings(text);
        assert_eq!(
            stripped,
            [
                "a ",
                "\" ",
                " \" b",
                "",
                " r",
                "'  ' s",
                "br##\"    \"## u",
                ""
            ]
        );
    }

    #[test]
    fn workspace_walk_applies_sim_rules_only_to_sim_crate_sources() {
        let root = std::env::temp_dir().join(format!("xtask-tidy-walk-{}", std::process::id()));
        let write = |relative: &str, text: &str| {
            let path = root.join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        let clock = "//! Doc.\nlet t = Instant::now();\n";
        write("sim-core/src/lib.rs", clock);
        write(
            "sim-core/src/generated/msg.rs",
            "let t = Instant::now();  \n",
        );
        write("sim-core/tests/wall.rs", clock);
        write("xtask/src/main.rs", "let t = Instant::now();\n");
        write("target/debug/build/x.rs", "let t = Instant::now();  \n");
        write("src/main.rs", "fn main() {} \n");
        let (files, findings) = check_workspace(&root).unwrap();
        fs::remove_dir_all(&root).unwrap();
        let found: Vec<_> = findings
            .iter()
            .map(|f| (f.path.as_str(), f.line, f.rule))
            .collect();
        assert_eq!(files, 4);
        assert_eq!(
            found,
            [
                ("sim-core/src/lib.rs", 2, RULE_CLOCK),
                ("src/main.rs", 1, "trailing-whitespace"),
            ]
        );
    }

    /// The real tree must pass, so that `cargo test` enforces tidy as CI does.
    #[test]
    fn tidy_passes_on_the_workspace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives one level below the workspace root");
        run(root).unwrap();
    }
}
