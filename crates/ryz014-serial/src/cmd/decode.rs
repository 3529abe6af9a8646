//! `ryz014 decode`: decodes a captured log or transcript offline, line by line.

use crate::cli::{CliError, Out};

/// Runs `decode` on a file, or standard input for `-`.
pub fn run(_file: &str, _out: &Out) -> Result<(), CliError> {
    Err(CliError::not_implemented("decode"))
}
