//! The malformed-scenario corpus: every file in `tests/malformed/` is invalid, starts with
//! `# expect: LINE:COLUMN: SUBSTRING`, and must produce exactly one error at that position
//! whose `field: message` text contains the substring — without panicking.

use std::path::Path;

struct Case {
    name: String,
    text: String,
    line: usize,
    column: usize,
    substring: String,
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/malformed exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let header = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{name}: first line must be `# expect: L:C: text`"));
            let mut parts = header.splitn(3, ':');
            let line = parts.next().and_then(|v| v.parse().ok());
            let column = parts.next().and_then(|v| v.parse().ok());
            let substring = parts.next().map(|s| s.trim().to_string());
            let (Some(line), Some(column), Some(substring)) = (line, column, substring) else {
                panic!("{name}: malformed expect header {header:?}");
            };
            Case {
                name,
                text,
                line,
                column,
                substring,
            }
        })
        .collect()
}

#[test]
fn every_malformed_scenario_gets_one_located_error() {
    let cases = corpus();
    assert!(cases.len() >= 30, "the corpus has {} files", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let file = format!("malformed/{}", case.name);
        let outcome = std::panic::catch_unwind(|| scenarios::parse_str(&file, &case.text));
        let err = match outcome {
            Err(_) => {
                failures.push(format!("{}: PANICKED", case.name));
                continue;
            }
            Ok(Ok(_)) => {
                failures.push(format!("{}: parsed without error", case.name));
                continue;
            }
            Ok(Err(e)) => e,
        };
        let shown = err.to_string();
        let prefix = format!("{file}:{}:{}: ", case.line, case.column);
        if !shown.starts_with(&prefix) || !shown.contains(&case.substring) {
            failures.push(format!(
                "{}:\n  want {prefix}…{}…\n  got  {shown}",
                case.name, case.substring
            ));
        }
        assert_eq!((err.line, err.column), (case.line, case.column), "{shown}");
        assert!(!shown.contains('\n'), "one line: {shown}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn load_file_names_the_path() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed/role-unknown.toml");
    let err = scenarios::load_file(&path).unwrap_err();
    assert_eq!(err.file, path.display().to_string());
    assert_eq!(err.field, "group \"desktops\": roles");
    assert_eq!(err.path, "group.1.roles.0");
    assert!(err.to_string().ends_with(
        ": group \"desktops\": roles: unknown role \"relai\" (allowed: relay, store, filter, \
         lightpush, light)"
    ));
    let missing = scenarios::load_file("/nonexistent/x.toml").unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/x.toml:1:1: cannot read the file")
    );
}
