//! Turning a scenario argument into a validated [`Scenario`]: a path to an existing file wins,
//! otherwise a built-in name; `--set` overrides are applied to the text before it is parsed,
//! so every error is located in the user's file (or in the `--set` that caused it).

use std::path::Path;

use scenarios::{Scenario, builtin};

use super::CliError;
use super::args::Override;

/// Scenario text and the name errors give it.
pub(crate) struct Source {
    /// The file name in errors: the path as given, or `builtin/<name>.toml`.
    pub(crate) file: String,
    /// The TOML text.
    pub(crate) text: String,
}

/// Reads `arg` as a scenario file if one exists at that path, else as a built-in name.
pub(crate) fn resolve(arg: &str) -> Result<Source, CliError> {
    let path = Path::new(arg);
    if path.is_file() {
        return read_file(arg);
    }
    if let Some(text) = builtin::get(arg) {
        return Ok(Source {
            file: format!("builtin/{arg}.toml"),
            text: text.to_string(),
        });
    }
    let names: Vec<&str> = builtin::names().collect();
    let looks_like_path = arg.contains(['/', '\\']) || arg.ends_with(".toml") || path.is_absolute();
    if path.exists() {
        Err(CliError::input(format!(
            "{arg}: not a file (a scenario is a TOML file or a built-in name)"
        )))
    } else if looks_like_path {
        Err(CliError::input(format!("{arg}: no such scenario file")))
    } else {
        Err(CliError::input(format!(
            "no scenario file or built-in scenario named {arg:?} (built-ins: {}; \
             `wakusim list` describes them)",
            names.join(", ")
        )))
    }
}

fn read_file(arg: &str) -> Result<Source, CliError> {
    let path = Path::new(arg);
    let too_large = std::fs::metadata(path)
        .map(|m| m.len() > scenarios::MAX_SOURCE_BYTES as u64)
        .unwrap_or(false);
    let text = if too_large {
        None
    } else {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    };
    match text {
        Some(text) => Ok(Source {
            file: arg.to_string(),
            text,
        }),
        // The scenario crate's loader words (and locates) these errors.
        None => match scenarios::load_file(path) {
            Err(e) => Err(CliError::scenario(&e)),
            Ok(_) => Err(CliError::input(format!("{arg}: cannot read the file"))),
        },
    }
}

/// Resolves `arg`, applies the overrides, parses and validates.
pub(crate) fn load(arg: &str, sets: &[Override]) -> Result<Scenario, CliError> {
    let source = resolve(arg)?;
    let text = if sets.is_empty() {
        source.text
    } else {
        let pairs: Vec<(&str, &str)> = sets
            .iter()
            .map(|o| (o.key.as_str(), o.value.as_str()))
            .collect();
        scenarios::apply_overrides_in(&source.file, &source.text, &pairs)
            .map_err(|e| CliError::scenario(&e))?
    };
    scenarios::parse_str(&source.file, &text).map_err(|e| CliError::scenario(&e))
}
