//! TODO
use std::path::Path;
pub(crate) fn run(_root: &Path, _args: &[String]) -> anyhow::Result<()> { Ok(()) }
